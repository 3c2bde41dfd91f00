//! `warden serve --demo`: a server in its own data directory, seeded with an example
//! organisation so that a newcomer sees every feature in five minutes: people with
//! roles and TOTP, a project, a policy document with a regulated zone, a classified
//! dataset, a signed and evaluated model, a release waiting for its approver, and a
//! gateway key for the built-in mock provider.
//!
//! The seed is made the way a person would make it: by running this binary's own CLI
//! against the server once it listens, each person signed in under a CLI profile of
//! their own (kept in the demo directory's `cli/`, never in the user's own
//! configuration). Everything seeded is therefore in the ledger, by whom it was done.
//! A second start on the same directory seeds nothing and prints the tour again.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;

use crate::config::ServeFlags;

/// The data directory `--demo` uses when none is given.
pub const DEFAULT_DIR: &str = "warden-demo";
const PROJECT: &str = "fraud-detection";
const MODEL: &str = "fraud-scorer";
const DATASET_NS: &str = "s3://demo-bank/curated";
const DATASET: &str = "card-transactions";

/// The example organisation's policy: a zone for experiments and a regulated one for
/// production, classes that say where models trained on them may run, and a release
/// rule (one approver other than the author, an evaluation with AUC ≥ 0.8).
const POLICY: &str = "\
zones:
  dev:
    region: eu-west
    ingress: public
    egress: {default: allow}
    description: notebooks and experiments
  prod-eu:
    region: eu-west
    ingress: private_only
    egress: {default: deny}
    require_signed_artifacts: true
    description: production scoring of EU card payments
data_classes:
  public:
    allowed_zones: [dev, prod-eu]
    llm_redaction: none
  personal_data:
    allowed_zones: [dev, prod-eu]
    regions: [eu-west]
    llm_redaction: mask
  cardholder_data:
    allowed_zones: [prod-eu]
    regions: [eu-west]
    require_private_ingress: true
    require_network_segmentation: true
    prohibit_external_llm_calls: true
    llm_redaction: mask
    description: card numbers and what identifies a card holder (PCI DSS)
releases:
  default:
    approvals: 1
    approver_role: approver
    require_evaluation: true
    evaluation: {auc: '>= 0.8'}
";

/// The people of the example organisation: name, display name, what they do.
const PEOPLE: &[(&str, &str, &str)] = &[
    ("alice", "Alice Moreau", "data scientist in fraud-detection: pushes models, asks for releases"),
    ("bob", "Bob Okafor", "approver in fraud-detection: approves releases (needs his TOTP)"),
    ("carol", "Carol Jensen", "auditor: reads the ledger and asks the auditor's seven questions"),
];

/// What `--demo` starts from.
pub struct Demo {
    dir: PathBuf,
    /// The administrator's token, when the directory is new and is seeded now.
    bootstrap: Option<String>,
}

impl Demo {
    /// Chooses the demo's data directory (`warden-demo` unless `--data-dir` says
    /// otherwise) and whether it is seeded now. Refuses a database URL and a directory
    /// that holds an instance `--demo` did not make.
    pub fn prepare(flags: &mut ServeFlags, env: &std::collections::BTreeMap<String, String>) -> anyhow::Result<Demo> {
        if flags.database_url.is_some() || env.contains_key("WARDEN_DATABASE_URL") {
            bail!("--demo runs on the embedded store in a directory of its own; drop --database-url / WARDEN_DATABASE_URL");
        }
        let dir = flags.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
        flags.data_dir = Some(dir.clone());
        if tour_file(&dir).exists() {
            return Ok(Demo { dir, bootstrap: None });
        }
        let used = std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(false);
        if used {
            bail!(
                "{} already holds a Warden instance that --demo did not make (or a demo whose seeding failed); \
                 choose another directory with --data-dir, or remove it",
                dir.display()
            );
        }
        let token = format!("{}{}", warden_authn::totp::generate_secret(), warden_authn::totp::generate_secret());
        Ok(Demo { dir, bootstrap: Some(token) })
    }

    /// The bootstrap token for a new demo (the administrator's first token).
    pub fn bootstrap_token(&self) -> Option<String> {
        self.bootstrap.clone()
    }

    /// Once the server listens: seeds a new demo and prints the tour (or prints the
    /// tour of one seeded before).
    pub async fn run(self, url: String) {
        let done = match &self.bootstrap {
            Some(token) => seed(&self.dir, &url, token).await,
            // The profiles follow the server if it now listens elsewhere.
            None => crate::credentials::repoint(&self.dir.join("cli"), "demo-", &url)
                .and_then(|()| Ok(std::fs::read_to_string(tour_file(&self.dir))?)),
        };
        match done {
            Ok(tour) => println!("{}", tour.replace("{URL}", &url)),
            Err(e) => {
                eprintln!(
                    "error: the demo could not be seeded: {e:#}\nthe server runs on; remove {} to start the demo afresh",
                    self.dir.display()
                )
            }
        }
    }
}

fn tour_file(dir: &Path) -> PathBuf {
    dir.join("demo").join("tour.txt")
}

/// This binary's CLI, run as one profile against the demo server.
struct Cli {
    exe: PathBuf,
    config_dir: PathBuf,
    url: String,
}

impl Cli {
    async fn run(&self, profile: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        use tokio::io::AsyncWriteExt;
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.args(["--profile", profile])
            .args(args)
            .env("WARDEN_CONFIG_DIR", &self.config_dir)
            .env_remove("WARDEN_URL")
            .env_remove("WARDEN_TOKEN")
            .env_remove("WARDEN_PROFILE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().context("cannot run the warden CLI")?;
        if let Some(mut input) = child.stdin.take() {
            if let Some(s) = stdin {
                input.write_all(s.as_bytes()).await?;
            }
        }
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            bail!("`warden {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    async fn json(&self, profile: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Value> {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.run(profile, &all, stdin).await?;
        serde_json::from_str(&out).with_context(|| format!("`warden {}` did not answer JSON", args.join(" ")))
    }

    /// Signs `profile` in (by token, or by name and password), enrols TOTP and keeps
    /// the session the confirmation gives (verified with the second factor).
    async fn sign_in(&self, profile: &str, login: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let mut args = vec!["login", "--url", self.url.as_str()];
        args.extend(login);
        self.run(profile, &args, stdin).await?;
        let enrolment = self.json(profile, &["totp", "enrol"], None).await?;
        let secret = enrolment["secret"].as_str().ok_or_else(|| anyhow!("TOTP enrolment gave no secret"))?.to_string();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let code = warden_authn::totp::code_at(&secret, now).map_err(|e| anyhow!("{e}"))?;
        self.run(profile, &["totp", "confirm", &code], None).await?;
        Ok(secret)
    }
}

/// A password for a demo person (printed in the tour; the demo is not for real data).
fn password(name: &str) -> String {
    format!("demo password of {name}")
}

async fn seed(dir: &Path, url: &str, token: &str) -> anyhow::Result<String> {
    let files = dir.join("demo");
    std::fs::create_dir_all(&files).with_context(|| format!("cannot create {}", files.display()))?;
    let cli = Cli {
        exe: std::env::current_exe().context("cannot find this program")?,
        config_dir: dir.join("cli"),
        url: url.to_string(),
    };
    let admin = "demo-admin";
    let mut secrets = vec![("admin".to_string(), cli.sign_in(admin, &["--token", token], None).await?)];

    // The organisation: its policy, people, and a project with their roles.
    let policy = files.join("policy.yaml");
    std::fs::write(&policy, POLICY)?;
    let policy = policy.to_string_lossy().into_owned();
    cli.run(admin, &["apply", "-f", &policy, "--comment", "the demo organisation's policy"], None).await?;
    for (name, display, _) in PEOPLE {
        let email = format!("{name}@demo-bank.example");
        let args = ["user", "create", name, "--display-name", display, "--email", &email, "--password-stdin"];
        cli.run(admin, &args, Some(&password(name))).await?;
    }
    cli.run(admin, &["user", "grant", "carol", "auditor"], None).await?;
    let about = "card-fraud scoring for EU payments";
    cli.run(admin, &["project", "create", PROJECT, "--description", about, "--cost-centre", "CC-4711"], None).await?;
    for (member, role) in [("alice", "data-scientist"), ("bob", "approver")] {
        cli.run(admin, &["project", "add-member", PROJECT, "--member", member, "--role", role], None).await?;
    }
    for (name, _, _) in PEOPLE {
        let profile = format!("demo-{name}");
        let secret = cli.sign_in(&profile, &["--username", name], Some(&password(name))).await?;
        secrets.push((name.to_string(), secret));
    }

    // A classified dataset, a signing key, and a signed, evaluated model trained on it.
    let alice = "demo-alice";
    cli.run(
        alice,
        &[
            "dataset",
            "create",
            DATASET_NS,
            DATASET,
            "--project",
            PROJECT,
            "--class",
            "cardholder_data",
            "--residency",
            "eu-west",
            "--layer",
            "curated",
        ],
        None,
    )
    .await?;
    let key = files.join("signing-key.pem");
    let public = files.join("signing-key.pub.pem");
    write_signing_key(&key, &public)?;
    cli.run(admin, &["signer", "add", "demo-release-signing", "--key", &public.to_string_lossy()], None).await?;
    let model_dir = files.join(MODEL);
    write_model(&model_dir)?;
    let dataset = format!("{DATASET_NS}/{DATASET}");
    cli.run(
        alice,
        &[
            "model",
            "push",
            &model_dir.to_string_lossy(),
            "--name",
            MODEL,
            "--project",
            PROJECT,
            "--licence",
            "apache-2.0",
            "--sign",
            &key.to_string_lossy(),
            "--dataset",
            &dataset,
            "--zone",
            "prod-eu",
        ],
        None,
    )
    .await?;
    let version = format!("{MODEL}@1");
    let eval = ["model", "evaluate", &version, "--metric", "auc=0.91", "--dataset", &dataset, "--project", PROJECT];
    cli.run(alice, &eval, None).await?;

    // A release to the regulated zone, waiting for Bob.
    let release = cli
        .json(
            alice,
            &[
                "release",
                "create",
                "--model",
                &version,
                "--zone",
                "prod-eu",
                "--reason",
                "Q4 model: better recall on card-not-present fraud",
                "--project",
                PROJECT,
            ],
            None,
        )
        .await?;
    let release = release["id"].as_str().ok_or_else(|| anyhow!("the release has no id: {release}"))?.to_string();

    // A gateway key for an assistant that may send personal data (masked on the way).
    cli.run(admin, &["service", "create", "claims-assistant", "--description", "drafts replies to card holders"], None)
        .await?;
    cli.run(admin, &["project", "add-member", PROJECT, "--member", "claims-assistant", "--role", "service"], None)
        .await?;
    let key = cli
        .json(
            admin,
            &[
                "service",
                "token",
                "claims-assistant",
                "--project",
                PROJECT,
                "--role",
                "service",
                "--name",
                "demo-gateway-key",
                "--data-class",
                "personal_data",
            ],
            None,
        )
        .await?;
    let gateway_key = key["secret"].as_str().ok_or_else(|| anyhow!("the gateway key has no secret"))?.to_string();

    let tour = tour(&cli.config_dir, &secrets, &release, &gateway_key);
    std::fs::write(tour_file(dir), &tour)?;
    Ok(tour)
}

/// An Ed25519 key pair in PEM (PKCS#8 and SPKI), the private half 0600.
fn write_signing_key(private: &Path, public: &Path) -> anyhow::Result<()> {
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| anyhow!("{e}"))?;
    crate::serve::write_new_private(private, pem.as_bytes())?;
    let public_pem = key.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| anyhow!("{e}"))?;
    std::fs::write(public, public_pem)?;
    Ok(())
}

/// A small model as safetensors, with its card.
fn write_model(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let header = r#"{"weights":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    for w in [0.42f32, -1.3, 0.07, 2.5] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    std::fs::write(dir.join("model.safetensors"), bytes)?;
    std::fs::write(
        dir.join("README.md"),
        "# Card fraud scorer\n\nScores card-not-present payments for fraud. Trained on \
         s3://demo-bank/curated/card-transactions (cardholder data, EU-resident).\n\n\
         Intended use: scoring in zone prod-eu only. AUC 0.91 on the October hold-out.\n",
    )?;
    Ok(())
}

fn tour(config_dir: &Path, secrets: &[(String, String)], release: &str, gateway_key: &str) -> String {
    let people: String = PEOPLE
        .iter()
        .map(|(name, display, role)| {
            let secret = secrets.iter().find(|(n, _)| n == name).map_or("", |(_, s)| s.as_str());
            format!(
                "  demo-{name:<6} {display}, {role}\n           password \"{}\", TOTP secret {secret}\n",
                password(name)
            )
        })
        .collect();
    let admin_secret = secrets.iter().find(|(n, _)| n == "admin").map_or("", |(_, s)| s.as_str());
    format!(
        "\
== Warden demo: an example organisation is ready at {{URL}} ==

Each person is signed in under a CLI profile (sessions verified with TOTP, 12 h):
  demo-admin  the platform administrator, TOTP secret {admin_secret}
{people}
Point the CLI at those profiles first:
  export WARDEN_CONFIG_DIR={config}

1. What was set up (policy, model, dataset):
  warden --profile demo-alice policy show
  warden --profile demo-alice model show {MODEL} --project {PROJECT}
  warden --profile demo-alice model classes {MODEL}@1 --project {PROJECT}
  warden --profile demo-alice lineage graph dataset:{DATASET_NS}/{DATASET} --direction downstream

2. Release {MODEL}@1 to the regulated zone prod-eu: Alice asked, Bob approves, Alice deploys.
  warden --profile demo-bob release list --project {PROJECT}
  warden --profile demo-alice release approve {release} --project {PROJECT}   # refused: Alice is no approver (and authors never approve)
  warden --profile demo-bob release approve {release} --project {PROJECT} --comment \"checked the evaluation\"
  warden --profile demo-alice release deploy {release} --project {PROJECT}
  warden --profile demo-alice release show {release} --project {PROJECT}

3. The LLM gateway, with personal data masked before it leaves (built-in mock provider):
  curl -s {{URL}}/v1/chat/completions -H 'authorization: Bearer {gateway_key}' \\
    -H 'content-type: application/json' \\
    -d '{{\"model\":\"mock\",\"messages\":[{{\"role\":\"user\",\"content\":\"Reply to jane.doe@example.com about card 4111 1111 1111 1111\"}}]}}'

4. The auditor's questions, answered from the ledger with proofs that verify offline:
  warden --profile demo-carol audit verify
  warden --profile demo-carol evidence change {release} --project {PROJECT} --out change.json
  warden --profile demo-carol audit search --project {PROJECT} --limit 20

Signing in again later: warden login --profile demo-bob --url {{URL}} --username bob --totp CODE
(the password on standard input; CODE from an authenticator holding the TOTP secret above).
This is a demo: its passwords and keys are printed here and kept in this directory. Stop with Ctrl-C;
start it again with the same command to continue where you left off.
",
        config = config_dir.canonicalize().unwrap_or_else(|_| config_dir.to_path_buf()).display(),
    )
}
