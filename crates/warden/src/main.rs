//! `warden`: the server (`warden serve`) and the command-line client of its API.

#![forbid(unsafe_code)]

mod audit_cli;
mod catalog_cli;
mod cli;
mod config;
mod credentials;
mod demo;
mod doctor;
mod evidence_cli;
mod model_cli;
mod output;
mod pins;
mod progress;
mod redact_cli;
mod release_cli;
mod scan_cli;
mod serve;
mod witness;

use std::collections::BTreeMap;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the gateway's request path allocates
/// and frees many small objects across threads, where glibc's malloc spent about 15% of
/// the server's CPU (measured with perf at concurrency 64; see bench/gateway.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::parse();
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
        cli::Command::Serve(cli::ServeArgs { mut flags, demo }) => {
            init_tracing();
            let demo = if demo { Some(demo::Demo::prepare(&mut flags, &env)?) } else { None };
            let config = config::Config::load(&flags, &env)?;
            // Checked before anything is created (keys, database, checkpoints).
            let bootstrap = env.get("WARDEN_BOOTSTRAP_TOKEN").cloned().filter(|t| !t.is_empty());
            if let Some(t) = &bootstrap {
                let min = warden_authn::token::MIN_BOOTSTRAP_LEN;
                if t.len() < min {
                    anyhow::bail!(
                        "WARDEN_BOOTSTRAP_TOKEN must be at least {min} characters (it is {}); nothing was created",
                        t.len()
                    );
                }
            }
            let bootstrap = bootstrap.or_else(|| demo.as_ref().and_then(demo::Demo::bootstrap_token));
            let tour = demo.map(|d| -> Box<dyn FnOnce(std::net::SocketAddr) + Send> {
                Box::new(move |addr| {
                    tokio::spawn(d.run(format!("http://{addr}")));
                })
            });
            serve::run(config, bootstrap, tour).await
        }
        cli::Command::Config { command: cli::ConfigCommand::Show(flags) } => {
            let config = config::Config::load(&flags, &env)?;
            print!("{}", config.show());
            Ok(())
        }
        cli::Command::Doctor(flags) => doctor::run(&flags, &env).await,
        cli::Command::Witness { command: cli::WitnessCommand::Serve(flags) } => {
            init_tracing();
            witness::serve(flags).await
        }
        other => cli::run(other, args.global).await,
    }
}

/// Logs to standard error: coloured only on a terminal; one JSON object per line with
/// `WARDEN_LOG_FORMAT=json` (for log shippers); the level from `WARDEN_LOG`.
fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("WARDEN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().with_ansi(false).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}
