//! The command-line client: every command is a call to the API.

use std::io::BufRead;

use anyhow::{anyhow, bail};
use clap::{Parser, Subcommand};
use warden_api as api;
use warden_client::Client;

pub mod common;
mod identity;

pub use common::*;
use identity::{group, project, user};

use crate::config::ServeFlags;
use crate::credentials::{self, Credentials};
use crate::output::{fields, json, opt, table, Format};

#[derive(Debug, Parser)]
#[command(name = "warden", version, about = "Warden: control plane for AI in regulated industries")]
pub struct Args {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    ///
    /// On first start it creates the administrator and prints a token for them; set
    /// WARDEN_BOOTSTRAP_TOKEN (at least 32 characters) to choose that token instead.
    /// WARDEN_LOG sets the log level (e.g. `info,sqlx=warn`), WARDEN_LOG_FORMAT=json
    /// writes one JSON object per line; colours only on a terminal.
    Serve(ServeArgs),
    /// Run a transparency-log witness (C2SP tlog-witness) for Warden audit logs.
    Witness {
        #[command(subcommand)]
        command: WitnessCommand,
    },
    /// Inspect the server configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Save a server URL and credentials for later commands, under a profile
    /// (`--profile NAME`; default: the current profile, else `default`).
    Login {
        /// Sign in as this user with a password read from standard input.
        #[arg(long)]
        username: Option<String>,
        /// Current TOTP code (with --username, once TOTP is enrolled; with --step-up).
        #[arg(long)]
        totp: Option<String>,
        /// Step up the current login with --totp CODE: saves a session verified with the
        /// second factor, which organisation-wide changes and approvals need.
        #[arg(long, requires = "totp", conflicts_with = "username")]
        step_up: bool,
    },
    /// Forget the saved credentials (of --profile NAME, else the current profile).
    Logout,
    /// Saved logins: list them, or choose the one used when --profile is not given.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Show who the saved credentials belong to.
    Whoami,
    /// Projects (data products).
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// People.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Service identities for pipelines and workloads.
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Your API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Groups of people and services.
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Your second factor.
    Totp {
        #[command(subcommand)]
        command: TotpCommand,
    },
    /// Content-addressed blobs in a project.
    Blob {
        #[command(subcommand)]
        command: BlobCommand,
    },
    /// The model registry: push a directory through intake, list, show, pull.
    Model {
        #[command(subcommand)]
        command: crate::model_cli::ModelCommand,
    },
    /// Trusted signers: keys whose manifest signatures intake accepts.
    Signer {
        #[command(subcommand)]
        command: SignerCommand,
    },
    /// Model artifacts.
    Artifact {
        #[command(subcommand)]
        command: ArtifactCommand,
    },
    /// Find personal data and secrets in local text: redact stdin, or score a corpus.
    Redact(crate::redact_cli::RedactArgs),
    /// The LLM gateway's kill switches.
    Gateway {
        #[command(subcommand)]
        command: GatewayCommand,
    },
    /// The tamper-evident audit ledger: search, verify, prove.
    Audit {
        #[command(subcommand)]
        command: crate::audit_cli::AuditCommand,
    },
    /// The auditor's seven questions, answered with proofs that verify offline.
    Evidence {
        #[command(subcommand)]
        command: crate::evidence_cli::EvidenceCommand,
    },
    /// Validate and apply a policy document (zones, data classes, release rules).
    Apply(crate::release_cli::ApplyArgs),
    /// The policy document: show, history, rollback, explain, check, test cases.
    Policy {
        #[command(subcommand)]
        command: crate::release_cli::PolicyCommand,
    },
    /// Releases of model versions to zones: create, approve, deploy, roll back.
    Release {
        #[command(subcommand)]
        command: crate::release_cli::ReleaseCommand,
    },
    /// The data catalog: datasets, their classes, residency and retention.
    Dataset {
        #[command(subcommand)]
        command: crate::catalog_cli::DatasetCommand,
    },
    /// Lineage: the graph around a dataset, run or model version; send events.
    Lineage {
        #[command(subcommand)]
        command: crate::catalog_cli::LineageCommand,
    },
    /// Residency violations and unclassified data in use.
    Findings,
    /// Transfers of data into zones outside its residency region.
    Transfer {
        #[command(subcommand)]
        command: crate::catalog_cli::TransferCommand,
    },
    /// Deletion requests (GDPR Art. 17, purges) and their tasks.
    Deletion {
        #[command(subcommand)]
        command: crate::catalog_cli::DeletionCommand,
    },
    /// Check what `warden serve` with these settings would meet (configuration, data
    /// directory, keys, database, blob store, checkpoint pin, clock, witnesses) and say
    /// what to fix; exits 1 when something would stop the server.
    Doctor(crate::config::ServeFlags),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell), e.g.
    /// `warden completions bash > /etc/bash_completion.d/warden`.
    Completions { shell: clap_complete::Shell },
    /// Write man pages (roff) for warden and every subcommand into a directory.
    Man {
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    /// Retention: apply it now, or see what is still due (and what holds it).
    Retention {
        #[command(subcommand)]
        command: crate::catalog_cli::RetentionCommand,
    },
    /// Hold a dataset or a model version back (no release, pull, gateway call or new
    /// training use) until someone else lifts it.
    Quarantine {
        #[command(subcommand)]
        command: crate::catalog_cli::QuarantineCommand,
    },
}

/// The global flags that only a client uses.
const CLIENT_FLAGS: &[&str] = &["url", "token", "output", "profile"];
/// Commands that run or check a server (or a witness) rather than call one: their help
/// does not list the client flags, and they refuse them on the command line.
const SERVER_SIDE: &[&[&str]] = &[&["serve"], &["doctor"], &["witness", "serve"], &["config", "show"]];

/// The command line: the derived definition, with the client flags hidden where they
/// mean nothing.
pub fn command() -> clap::Command {
    fn hide(cmd: clap::Command, path: &[&str], hidden: &[clap::Arg]) -> clap::Command {
        match path.split_first() {
            None => hidden.iter().fold(cmd, |c, a| c.arg(a.clone())),
            Some((first, rest)) => cmd.mut_subcommand(*first, |s| hide(s, rest, hidden)),
        }
    }
    let cmd = <Args as clap::CommandFactory>::command();
    // A subcommand that has its own argument of a global's name does not get the
    // global: give these commands hidden, local copies.
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| CLIENT_FLAGS.contains(&a.get_id().as_str()))
        .map(|a| a.clone().global(false).hide(true))
        .collect();
    SERVER_SIDE.iter().fold(cmd, |c, path| hide(c, path, &hidden))
}

/// Parses the command line; a client flag given to a server-side command is an error.
pub fn parse() -> Args {
    use clap::FromArgMatches;
    let mut cmd = command();
    let matches = cmd.get_matches_mut();
    for path in SERVER_SIDE {
        let mut m = Some(&matches);
        for name in *path {
            m = m.and_then(|m| m.subcommand_matches(name));
        }
        let Some(m) = m else { continue };
        for flag in CLIENT_FLAGS {
            if m.value_source(flag) == Some(clap::parser::ValueSource::CommandLine) {
                cmd.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!("--{flag} is a client flag; `warden {}` does not use it", path.join(" ")),
                )
                .exit();
            }
        }
    }
    Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub flags: ServeFlags,
    /// Start with an example organisation (people with TOTP, a project, a policy with a
    /// regulated zone, a signed and evaluated model, a release waiting for approval, a
    /// gateway key for the mock provider) in ./warden-demo (or --data-dir), and print
    /// a tour. Not for real data: its passwords and keys are printed.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// The saved profiles, their servers and which is current.
    List,
    /// Use this profile when --profile is not given.
    Use { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, secrets masked.
    Show(ServeFlags),
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        cost_centre: Option<String>,
        /// Subject id to make project owner.
        #[arg(long)]
        owner: Option<String>,
    },
    List,
    Show {
        id: String,
    },
    Members {
        id: String,
    },
    /// Give a user, service or group a role in the project.
    AddMember {
        id: String,
        /// A user, service (usr_…, svc_…) or group (grp_…).
        #[arg(long)]
        member: String,
        #[arg(long, value_parser = ["project-owner", "data-scientist", "approver", "service"])]
        role: String,
    },
    RemoveMember {
        id: String,
        #[arg(long)]
        member: String,
        #[arg(long, value_parser = ["project-owner", "data-scientist", "approver", "service"])]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    Create {
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read an initial password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    List {
        /// `human` or `service`.
        #[arg(long)]
        kind: Option<String>,
    },
    Show {
        id: String,
    },
    Disable {
        id: String,
    },
    Enable {
        id: String,
    },
    Unlock {
        id: String,
    },
    /// Grant an organisation role.
    Grant {
        id: String,
        #[arg(value_parser = ["platform-admin", "auditor"])]
        role: String,
    },
    /// Revoke an organisation role.
    Revoke {
        id: String,
        #[arg(value_parser = ["platform-admin", "auditor"])]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Mint a token for a service, bound to a project and a role it holds there.
    Token {
        id: String,
        #[arg(long)]
        project: String,
        #[arg(long, value_parser = ["project-owner", "data-scientist", "approver", "service"])]
        role: String,
        #[arg(long, default_value = "pipeline")]
        name: String,
        #[arg(long)]
        expires_in: Option<i64>,
        /// Make it a gateway key for this data class (public, personal_data, ephi,
        /// cardholder_data): use it as the OpenAI API key against /v1.
        #[arg(long)]
        data_class: Option<String>,
        /// Bind it to a zone: a workload there pulls only artifacts permitted in it.
        #[arg(long)]
        zone: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// The kill switches that are on.
    Switches,
    /// Switch off `external` (all external egress), `provider:NAME` or `region:NAME`:
    /// matching calls are refused and running streams cut.
    Off {
        target: String,
        #[arg(long)]
        reason: String,
    },
    /// Switch a target back on.
    On { target: String },
    /// The providers: built in, from warden.toml, and those added here.
    Providers,
    /// Add a provider, or replace its description (the stored key is kept unless
    /// --api-key-env, --api-key-stdin or --clear-api-key says otherwise).
    SetProvider {
        name: String,
        /// OpenAI-compatible base URL, up to and including /v1.
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        region: String,
        /// Calls leave the organisation (a transfer to an external destination).
        #[arg(long)]
        external: bool,
        /// A model it offers (repeat).
        #[arg(long = "model", required = true)]
        models: Vec<String>,
        /// USD per million tokens: MODEL=INPUT/OUTPUT, `*` for the rest (repeat).
        #[arg(long = "price")]
        prices: Vec<String>,
        /// Read the API key from this environment variable (never from the command
        /// line, where other users could see it).
        #[arg(long, conflicts_with_all = ["api_key_stdin", "clear_api_key"])]
        api_key_env: Option<String>,
        /// Read the API key from the first line of standard input.
        #[arg(long, conflicts_with = "clear_api_key")]
        api_key_stdin: bool,
        #[arg(long)]
        clear_api_key: bool,
    },
    /// Remove a provider added through the API.
    RemoveProvider { name: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Lifetime in seconds.
        #[arg(long)]
        expires_in: Option<i64>,
        /// Make it a gateway key for this data class (needs --project).
        #[arg(long)]
        data_class: Option<String>,
        /// Bind it to a zone (needs --project).
        #[arg(long)]
        zone: Option<String>,
    },
    List,
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    List,
    Show {
        id: String,
    },
    Add {
        group: String,
        subject: String,
    },
    Remove {
        group: String,
        subject: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BlobCommand {
    /// Upload a file (streamed; its SHA-256 is computed first and verified by the server).
    Push {
        file: std::path::PathBuf,
        #[arg(long)]
        project: String,
        /// Files larger than this many bytes go up in parts of this size through a
        /// resumable upload session.
        #[arg(long, value_name = "BYTES", default_value_t = warden_client::DEFAULT_CHUNK_SIZE)]
        chunk_size: u64,
    },
    /// Download a blob by digest.
    Pull {
        digest: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SignerCommand {
    /// Register a public key (PEM SubjectPublicKeyInfo, or a PKCS#8 private key whose
    /// public half is sent).
    Add {
        name: String,
        #[arg(long, value_name = "FILE")]
        key: std::path::PathBuf,
        /// Trust it for this project only.
        #[arg(long)]
        project: Option<String>,
        /// RFC 3339.
        #[arg(long)]
        not_before: Option<String>,
        /// RFC 3339.
        #[arg(long)]
        not_after: Option<String>,
    },
    List {
        #[arg(long)]
        project: Option<String>,
    },
    Revoke {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Check a model file locally, without uploading it: pickles (plain, PyTorch
    /// archives, joblib) are walked opcode by opcode, never loaded; safetensors headers
    /// are validated. Exit status: 0 safe, 1 unsafe, 2 not a format Warden checks.
    Scan {
        file: std::path::PathBuf,
        /// Also allow this import (`module.name`); repeatable.
        #[arg(long = "allow", value_name = "MODULE.NAME")]
        allow: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Serve `POST /add-checkpoint`: cosign each checkpoint that extends the last one.
    Serve(crate::witness::WitnessFlags),
}

#[derive(Debug, Subcommand)]
pub enum TotpCommand {
    /// Start enrolment: prints the secret and the otpauth URI.
    Enrol,
    /// Confirm enrolment with a code from the authenticator.
    Confirm { code: String },
}

/// `MODEL=INPUT/OUTPUT` in USD per million tokens.
fn parse_price(s: &str) -> anyhow::Result<(String, api::ProviderPrice)> {
    let bad = || anyhow!("--price {s:?}: use MODEL=INPUT/OUTPUT in USD per million tokens, e.g. '*=0.15/0.6'");
    let (model, rest) = s.split_once('=').ok_or_else(bad)?;
    let (input, output) = rest.split_once('/').ok_or_else(bad)?;
    let input: f64 = input.trim().parse().map_err(|_| bad())?;
    let output: f64 = output.trim().parse().map_err(|_| bad())?;
    Ok((model.trim().to_string(), api::ProviderPrice { input, output }))
}

fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\n', '\r']).to_string();
    if line.is_empty() {
        bail!("expected the {what} on standard input");
    }
    Ok(line)
}

fn print_token(t: &api::Token) -> Vec<String> {
    vec![
        t.id.clone(),
        t.name.clone(),
        opt(&t.project),
        opt(&t.role),
        t.expires_at.as_deref().map(short).unwrap_or_else(|| "never".into()),
        t.revoked_at.as_deref().map(|_| "revoked".to_string()).unwrap_or_else(|| "active".into()),
        t.last_used_at.as_deref().map(short).unwrap_or_else(|| "-".into()),
    ]
}

fn print_created_token(t: &api::CreatedToken, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(t);
    }
    fields(vec![
        ("id", t.token.id.clone()),
        ("name", t.token.name.clone()),
        ("project", opt(&t.token.project)),
        ("role", opt(&t.token.role)),
        ("expires", opt(&t.token.expires_at)),
        ("token", t.secret.clone()),
    ]);
    eprintln!("the token is shown once; store it now");
    Ok(())
}

fn print_user(u: &api::User, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(u);
    }
    fields(vec![
        ("id", u.id.clone()),
        ("name", u.name.clone()),
        ("kind", u.kind.clone()),
        ("email", opt(&u.email)),
        ("roles", u.roles.as_ref().map(|r| r.join(", ")).unwrap_or_default()),
        ("totp", u.totp_enrolled.to_string()),
        ("disabled", u.disabled.to_string()),
        ("locked", u.locked.to_string()),
        ("created", u.created_at.clone()),
    ]);
    Ok(())
}

fn print_project(p: &api::Project, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return json(p);
    }
    fields(vec![
        ("id", p.id.clone()),
        ("name", p.name.clone()),
        ("description", p.description.clone()),
        ("cost centre", opt(&p.cost_centre)),
        ("created", p.created_at.clone()),
        ("created by", p.created_by.clone()),
    ]);
    Ok(())
}

pub async fn run(command: Command, g: Global) -> anyhow::Result<()> {
    let f = g.output;
    match command {
        Command::Serve(_) | Command::Config { .. } | Command::Witness { .. } | Command::Doctor(_) => {
            unreachable_command()
        }
        Command::Login { step_up: true, totp, .. } => {
            let c = client(&g)?;
            let code = totp.ok_or_else(|| anyhow!("--step-up needs --totp CODE"))?;
            let s = c.step_up(&code).await?;
            let url = c.base().to_string();
            let (path, _) = credentials::save(g.profile.as_deref(), &Credentials { url, token: s.token })?;
            println!(
                "stepped up: a session verified with your second factor, until {}; saved in {}",
                s.expires_at,
                path.display()
            );
            Ok(())
        }
        Command::Login { username, totp, .. } => {
            let url = g.url.clone().ok_or_else(|| anyhow!("--url is required"))?;
            let token = match (username, g.token.clone()) {
                (Some(user), _) => {
                    let password = read_stdin_line("password")?;
                    let c = Client::new(&url, None);
                    c.login(&api::LoginRequest { username: user, password, totp }).await?.token
                }
                (None, Some(t)) => t,
                (None, None) => bail!("give --token TOKEN, or --username NAME with the password on standard input"),
            };
            let who = Client::new(&url, Some(token.clone())).whoami().await?;
            let (path, profile) = credentials::save(g.profile.as_deref(), &Credentials { url, token })?;
            println!("logged in as {} ({}); saved as profile `{profile}` in {}", who.name, who.id, path.display());
            Ok(())
        }
        Command::Logout => {
            if credentials::remove(g.profile.as_deref())? {
                println!("logged out");
            } else {
                println!("no saved credentials");
            }
            Ok(())
        }
        Command::Profile { command: ProfileCommand::List } => {
            let saved = credentials::load_all()?;
            let current = saved.chosen(None);
            if f == Format::Json {
                let rows: Vec<serde_json::Value> = saved
                    .profiles
                    .iter()
                    .map(|(n, c)| serde_json::json!({"name": n, "url": c.url, "current": *n == current}))
                    .collect();
                return json(&rows);
            }
            table(
                &["profile", "server", "current"],
                saved
                    .profiles
                    .iter()
                    .map(|(n, c)| {
                        vec![n.clone(), c.url.clone(), if *n == current { "*".into() } else { String::new() }]
                    })
                    .collect(),
            );
            Ok(())
        }
        Command::Profile { command: ProfileCommand::Use { name } } => {
            credentials::set_current(&name)?;
            println!("profile `{name}` is used when --profile is not given");
            Ok(())
        }
        Command::Whoami => {
            let w = client(&g)?.whoami().await?;
            if f == Format::Json {
                return json(&w);
            }
            fields(vec![
                ("id", w.id.clone()),
                ("name", w.name.clone()),
                ("kind", w.kind.clone()),
                ("roles", w.org_roles.join(", ")),
                (
                    "projects",
                    w.projects
                        .iter()
                        .map(|p| format!("{} ({})", p.project_name, p.roles.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                ("auth", w.auth_method.clone()),
                ("mfa", w.mfa.to_string()),
                ("totp enrolled", w.totp_enrolled.to_string()),
            ]);
            Ok(())
        }
        Command::Project { command } => project(command, &g).await,
        Command::User { command } => user(command, &g).await,
        Command::Service { command } => {
            let c = client(&g)?;
            match command {
                ServiceCommand::Create { name, description } => {
                    let u = c.create_service(&api::CreateServiceRequest { name, description }).await?;
                    print_user(&u, f)
                }
                ServiceCommand::Token { id, project, role, name, expires_in, data_class, zone } => {
                    let id = c.principal_id(&id, &["service"]).await?;
                    let req = api::CreateServiceTokenRequest {
                        name,
                        project,
                        role,
                        expires_in_seconds: expires_in,
                        data_class,
                        zone,
                    };
                    let t = c.create_service_token(&id, &req).await?;
                    print_created_token(&t, f)
                }
            }
        }
        Command::Token { command } => {
            let c = client(&g)?;
            match command {
                TokenCommand::Create { name, project, role, expires_in, data_class, zone } => {
                    let req = api::CreateTokenRequest {
                        name,
                        project,
                        role,
                        expires_in_seconds: expires_in,
                        data_class,
                        zone,
                    };
                    let t = c.create_token(&req).await?;
                    print_created_token(&t, f)
                }
                TokenCommand::List => {
                    let page = c.list_tokens(None, Some(500)).await?;
                    if f == Format::Json {
                        return json(&page);
                    }
                    table(
                        &["id", "name", "project", "role", "expires", "state", "last used"],
                        page.items.iter().map(print_token).collect(),
                    );
                    Ok(())
                }
                TokenCommand::Revoke { id } => {
                    c.revoke_token(&id).await?;
                    println!("revoked {id}");
                    Ok(())
                }
            }
        }
        Command::Group { command } => group(command, &g).await,
        Command::Totp { command } => {
            let c = client(&g)?;
            match command {
                TotpCommand::Enrol => {
                    let e = c.totp_enrol().await?;
                    if f == Format::Json {
                        return json(&e);
                    }
                    fields(vec![("secret", e.secret.clone()), ("uri", e.uri.clone())]);
                    eprintln!("add the secret to your authenticator, then run `warden totp confirm CODE`");
                    Ok(())
                }
                TotpCommand::Confirm { code } => {
                    let s = c.totp_confirm(&code).await?;
                    println!("TOTP enrolled");
                    // The confirmation proved the second factor: keep the session it gave
                    // when the saved login was the one used.
                    if g.token.is_none() {
                        if let Some(saved) = credentials::load(g.profile.as_deref())? {
                            let (path, _) = credentials::save(
                                g.profile.as_deref(),
                                &Credentials { url: saved.url, token: s.token },
                            )?;
                            println!(
                                "saved a session verified with it (until {}) in {}; organisation-wide changes need one",
                                s.expires_at,
                                path.display()
                            );
                        }
                    }
                    Ok(())
                }
            }
        }
        Command::Audit { command } => crate::audit_cli::run(command, &g).await,
        Command::Evidence { command } => crate::evidence_cli::run(command, &g).await,
        Command::Apply(args) => crate::release_cli::apply(args, &g).await,
        Command::Policy { command } => crate::release_cli::policy(command, &g).await,
        Command::Release { command } => crate::release_cli::release(command, &g).await,
        Command::Dataset { command } => crate::catalog_cli::dataset(command, &g).await,
        Command::Lineage { command } => crate::catalog_cli::lineage(command, &g).await,
        Command::Findings => crate::catalog_cli::findings(&g).await,
        Command::Transfer { command } => crate::catalog_cli::transfer(command, &g).await,
        Command::Deletion { command } => crate::catalog_cli::deletion(command, &g).await,
        Command::Quarantine { command } => crate::catalog_cli::quarantine(command, &g).await,
        Command::Retention { command } => crate::catalog_cli::retention(command, &g).await,
        Command::Completions { shell } => {
            use std::io::Write as _;
            let mut cmd = self::command();
            // Into memory first: the generator panics on a failed write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "warden", &mut script);
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow!("cannot write: {e}")),
                _ => Ok(()),
            }
        }
        Command::Man { out } => {
            std::fs::create_dir_all(&out).map_err(|e| anyhow!("cannot create {}: {e}", out.display()))?;
            let cmd = self::command();
            clap_mangen::generate_to(cmd, &out).map_err(|e| anyhow!("cannot write the man pages: {e}"))?;
            println!("man pages written to {}", out.display());
            Ok(())
        }
        Command::Model { command } => crate::model_cli::run(command, &g).await,
        Command::Signer { command } => {
            let c = client(&g)?;
            match command {
                SignerCommand::Add { name, key, project, not_before, not_after } => {
                    let pem =
                        std::fs::read_to_string(&key).map_err(|e| anyhow!("cannot read {}: {e}", key.display()))?;
                    let (algorithm, public_key) = match warden_intake::signature::public_pem(&pem) {
                        Ok((a, p)) => (a, p),
                        Err(_) => {
                            let a = [
                                warden_intake::signature::Algorithm::Ed25519,
                                warden_intake::signature::Algorithm::EcdsaP256,
                                warden_intake::signature::Algorithm::EcdsaP384,
                            ]
                            .into_iter()
                            .find(|a| warden_intake::signature::PublicKey::from_pem(*a, &pem).is_ok())
                            .ok_or_else(|| anyhow!("{} holds no Ed25519, P-256 or P-384 key in PEM", key.display()))?;
                            (a, pem)
                        }
                    };
                    let req = api::CreateSignerRequest {
                        name,
                        algorithm: algorithm.as_str().into(),
                        public_key,
                        project,
                        not_before,
                        not_after,
                    };
                    let x = c.create_signer(&req).await?;
                    if f == Format::Json {
                        return json(&x);
                    }
                    println!("registered signer {} ({}, {})", x.id, x.name, x.algorithm);
                    Ok(())
                }
                SignerCommand::List { project } => {
                    let rows = c.list_signers(project.as_deref()).await?;
                    if f == Format::Json {
                        return json(&rows);
                    }
                    table(
                        &["id", "name", "algorithm", "project", "state"],
                        rows.iter()
                            .map(|x| {
                                let state = if x.revoked_at.is_some() { "revoked" } else { "active" };
                                vec![x.id.clone(), x.name.clone(), x.algorithm.clone(), opt(&x.project), state.into()]
                            })
                            .collect(),
                    );
                    Ok(())
                }
                SignerCommand::Revoke { id } => {
                    c.revoke_signer(&id).await?;
                    println!("revoked {id}");
                    Ok(())
                }
            }
        }
        Command::Blob { command: BlobCommand::Push { file, project, chunk_size } } => {
            if chunk_size == 0 {
                bail!("--chunk-size must be at least 1 byte");
            }
            let c = client(&g)?.with_chunk_size(chunk_size);
            let (digest, size) =
                c.digest_file(&file).await.map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
            let stored = c.upload_blob(&project, &digest, &file).await?;
            if f == Format::Json {
                return json(&stored);
            }
            let how = if stored.created { "stored" } else { "already stored" };
            println!("{} ({size} bytes) {how}", stored.digest);
            Ok(())
        }
        Command::Blob { command: BlobCommand::Pull { digest, project, out } } => {
            let c = client(&g)?;
            let size = c.download_blob(&project, &digest, &out).await?;
            let (got, _) = c.digest_file(&out).await?;
            if got != digest {
                let _ = std::fs::remove_file(&out);
                bail!("downloaded content has digest {got}, not {digest}; removed {}", out.display());
            }
            println!("wrote {size} bytes to {} (digest verified)", out.display());
            Ok(())
        }
        Command::Redact(args) => crate::redact_cli::run(args),
        Command::Gateway { command } => {
            let c = client(&g)?;
            match command {
                GatewayCommand::Switches => {
                    let rows = c.list_switches().await?;
                    if f == Format::Json {
                        return json(&rows);
                    }
                    table(
                        &["target", "reason", "by", "since"],
                        rows.iter()
                            .map(|s| vec![s.target.clone(), s.reason.clone(), s.set_by.clone(), short(&s.set_at)])
                            .collect(),
                    );
                    Ok(())
                }
                GatewayCommand::Off { target, reason } => {
                    let s = c.set_switch(&target, &reason).await?;
                    if f == Format::Json {
                        return json(&s);
                    }
                    println!("{} switched off: {}", s.target, s.reason);
                    Ok(())
                }
                GatewayCommand::On { target } => {
                    c.clear_switch(&target).await?;
                    println!("{target} switched back on");
                    Ok(())
                }
                GatewayCommand::Providers => {
                    let rows = c.list_providers().await?;
                    if f == Format::Json {
                        return json(&rows);
                    }
                    table(
                        &["name", "source", "region", "external", "models", "key", "url"],
                        rows.iter()
                            .map(|p| {
                                vec![
                                    p.name.clone(),
                                    p.source.clone(),
                                    p.region.clone(),
                                    p.external.to_string(),
                                    p.models.join(","),
                                    match (p.has_api_key, p.usable) {
                                        (true, true) => "sealed".into(),
                                        (true, false) => "UNREADABLE".into(),
                                        (false, _) => "-".into(),
                                    },
                                    p.base_url.clone().unwrap_or_default(),
                                ]
                            })
                            .collect(),
                    );
                    Ok(())
                }
                GatewayCommand::SetProvider {
                    name,
                    base_url,
                    region,
                    external,
                    models,
                    prices,
                    api_key_env,
                    api_key_stdin,
                    clear_api_key,
                } => {
                    let api_key = match (api_key_env, api_key_stdin) {
                        (Some(var), _) => {
                            Some(std::env::var(&var).map_err(|_| anyhow!("environment variable {var} is not set"))?)
                        }
                        (None, true) => Some(read_stdin_line("API key")?),
                        (None, false) => None,
                    };
                    let prices = prices.iter().map(|p| parse_price(p)).collect::<anyhow::Result<_>>()?;
                    let req =
                        api::PutProviderRequest { base_url, region, external, models, prices, api_key, clear_api_key };
                    let p = c.put_provider(&name, &req).await?;
                    if f == Format::Json {
                        return json(&p);
                    }
                    println!(
                        "provider {} (revision {}): {} in {}, key {}",
                        p.name,
                        p.revision.unwrap_or(0),
                        p.models.join(", "),
                        p.region,
                        if p.has_api_key { "sealed" } else { "none" }
                    );
                    Ok(())
                }
                GatewayCommand::RemoveProvider { name } => {
                    c.delete_provider(&name).await?;
                    println!("provider {name} removed");
                    Ok(())
                }
            }
        }
        Command::Artifact { command: ArtifactCommand::Scan { file, allow } } => {
            let limits = warden_intake::Limits { extra_allowed: allow, ..Default::default() };
            let report =
                warden_intake::scan_file(&file, &limits).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
            if f == Format::Json {
                json(&report)?;
            } else {
                let verdict = match report.verdict {
                    warden_intake::Verdict::Safe => "safe",
                    warden_intake::Verdict::Unsafe => "UNSAFE",
                    warden_intake::Verdict::Unknown => "unknown",
                };
                fields(vec![
                    ("file", file.display().to_string()),
                    ("format", serde_json::to_value(report.format)?.as_str().unwrap_or("").to_string()),
                    ("verdict", verdict.to_string()),
                    ("imports", report.imports.iter().cloned().collect::<Vec<_>>().join(", ")),
                ]);
                for r in &report.reasons {
                    println!("  reason: {r}");
                }
                for n in &report.notes {
                    println!("  note:   {n}");
                }
            }
            match report.verdict {
                warden_intake::Verdict::Safe => Ok(()),
                warden_intake::Verdict::Unsafe => {
                    Err(anyhow!("{} is unsafe: {}", file.display(), report.reasons.join("; ")))
                }
                warden_intake::Verdict::Unknown => {
                    eprintln!("{}: not a format Warden checks", file.display());
                    std::process::exit(2)
                }
            }
        }
    }
}

fn unreachable_command() -> anyhow::Result<()> {
    Err(anyhow!("this command is handled before the client starts"))
}
