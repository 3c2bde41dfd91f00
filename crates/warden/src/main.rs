//! `warden`: the server (`warden serve`) and the command-line client of its API.

#![forbid(unsafe_code)]

mod audit_cli;
mod catalog_cli;
mod cli;
mod config;
mod credentials;
mod evidence_cli;
mod model_cli;
mod output;
mod pins;
mod redact_cli;
mod release_cli;
mod scan_cli;
mod serve;
mod witness;

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: cli::Args) -> anyhow::Result<()> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    match args.command {
        cli::Command::Serve(flags) => {
            init_tracing();
            let config = config::Config::load(&flags, &env)?;
            serve::run(config, env.get("WARDEN_BOOTSTRAP_TOKEN").cloned().filter(|t| !t.is_empty())).await
        }
        cli::Command::Config { command: cli::ConfigCommand::Show(flags) } => {
            let config = config::Config::load(&flags, &env)?;
            print!("{}", config.show());
            Ok(())
        }
        cli::Command::Witness { command: cli::WitnessCommand::Serve(flags) } => {
            init_tracing();
            witness::serve(flags).await
        }
        other => cli::run(other, args.global).await,
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
