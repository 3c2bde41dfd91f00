//! `warden doctor`: what a server started with these settings would meet, checked
//! without starting it: the configuration, the data directory, the keys, the database
//! (reached and its schema brought up to date, as `serve` does), the blob store, the
//! signed-checkpoint pin, the clock against the log, and the witnesses. Prints what to
//! fix; exits 1 when something would stop the server.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{Config, ServeFlags};
use crate::output::table;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    /// Not a fault now (created at first start, say), but worth knowing.
    Note,
    Fail,
}

struct Report(Vec<(String, Status, String)>);

impl Report {
    fn add(&mut self, check: &str, status: Status, detail: impl Into<String>) {
        self.0.push((check.to_string(), status, detail.into()));
    }
}

/// Whether only the owner may read `path` (Unix; elsewhere, yes).
fn private(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o077 == 0).unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

/// `http://host:port/…` → `host:port` (port 80 or 443 by scheme when absent).
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let default = if scheme == "https" { 443 } else { 80 };
    Some(if authority.contains(':') { authority.to_string() } else { format!("{authority}:{default}") })
}

pub async fn run(flags: &ServeFlags, env: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let mut r = Report(Vec::new());
    let config = match Config::load(flags, env) {
        Ok(c) => {
            r.add("configuration", Status::Ok, "loaded (`warden config show` prints it, secrets masked)");
            c
        }
        Err(e) => {
            r.add("configuration", Status::Fail, format!("{e:#}"));
            return finish(r);
        }
    };
    if let Some(t) = env.get("WARDEN_BOOTSTRAP_TOKEN").filter(|t| !t.is_empty()) {
        let min = warden_authn::token::MIN_BOOTSTRAP_LEN;
        if t.len() < min {
            r.add("bootstrap token", Status::Fail, format!("WARDEN_BOOTSTRAP_TOKEN must be at least {min} characters"));
        } else {
            r.add("bootstrap token", Status::Ok, "long enough");
        }
    }

    // The data directory: there and writable, or made at first start.
    let dir = &config.data_dir;
    if dir.is_dir() {
        let probe = dir.join(".warden-doctor");
        match std::fs::write(&probe, b"") {
            Ok(()) => {
                let _ = std::fs::remove_file(&probe);
                r.add("data directory", Status::Ok, format!("{} is writable", dir.display()));
            }
            Err(e) => r.add("data directory", Status::Fail, format!("{} is not writable: {e}", dir.display())),
        }
    } else {
        r.add(
            "data directory",
            Status::Note,
            format!("{} does not exist yet: the first start creates it", dir.display()),
        );
    }

    // The keys: readable, well-formed, the checkpoint key named for this log, private.
    let signing = &config.audit.signing_key_file;
    let mut verifier = None;
    if signing.exists() {
        match std::fs::read_to_string(signing)
            .map_err(|e| e.to_string())
            .and_then(|t| warden_audit::SigningKey::from_private_string(&t).map_err(|e| e.to_string()))
        {
            Ok(k) if k.name() != config.audit.origin => r.add(
                "checkpoint key",
                Status::Fail,
                format!(
                    "{} is named `{}` but the audit origin is `{}`",
                    signing.display(),
                    k.name(),
                    config.audit.origin
                ),
            ),
            Ok(_) if !private(signing) => r.add(
                "checkpoint key",
                Status::Fail,
                format!("{} is readable by others: `chmod 600` it", signing.display()),
            ),
            Ok(k) => {
                r.add("checkpoint key", Status::Ok, format!("{}", k.verifier()));
                verifier = Some(k.verifier());
            }
            Err(e) => r.add("checkpoint key", Status::Fail, format!("{}: {e}", signing.display())),
        }
    } else {
        r.add("checkpoint key", Status::Note, format!("{} is created at first start", signing.display()));
    }
    let master = &config.master_key_file;
    if master.exists() {
        let ok = std::fs::read_to_string(master).ok().and_then(|t| warden_app::MasterKey::from_hex(&t)).is_some();
        if !ok {
            r.add("master key", Status::Fail, format!("{} must hold 32 bytes as 64 hex digits", master.display()));
        } else if !private(master) {
            r.add("master key", Status::Fail, format!("{} is readable by others: `chmod 600` it", master.display()));
        } else {
            r.add("master key", Status::Ok, format!("{}", master.display()));
        }
    } else {
        r.add("master key", Status::Note, format!("{} is created at first start", master.display()));
    }

    // The database, as serve opens it (schema brought up to date).
    let embedded = config.database_url.is_none();
    if embedded && !dir.join("warden.db").exists() {
        r.add("database", Status::Note, "no embedded database yet: the first start creates it");
    } else {
        let opened = tokio::time::timeout(
            Duration::from_secs(config.database_timeout_seconds.max(1) + 5),
            crate::serve::open_store(&config),
        )
        .await;
        match opened {
            Ok(Ok(store)) => {
                r.add("database", Status::Ok, format!("{} reached; schema up to date", store.engine()));
                // The clock against the log: a checkpoint from the future means this
                // machine's clock is behind what signed it.
                match store.latest_checkpoint().await {
                    Ok(Some(cp)) => {
                        let now = warden_app::Clock::now(&warden_app::SystemClock);
                        let ahead = (cp.created_at.0 - now.0) / 1000;
                        if ahead > 5 {
                            r.add(
                                "clock",
                                Status::Fail,
                                format!("the latest checkpoint was signed {ahead} s in this clock's future"),
                            );
                        } else {
                            r.add(
                                "clock",
                                Status::Ok,
                                format!("not behind the log (latest checkpoint: {} entries)", cp.tree_size),
                            );
                        }
                    }
                    Ok(None) => r.add("clock", Status::Note, "no checkpoint signed yet"),
                    Err(e) => r.add("clock", Status::Fail, format!("cannot read the checkpoints: {e}")),
                }
            }
            Ok(Err(e)) => r.add("database", Status::Fail, format!("{e:#}")),
            Err(_) => r.add("database", Status::Fail, "no answer in time: is the server reachable from here?"),
        }
    }

    // The blob store: reached (a head of an object that is never there).
    let blobs = match &config.blob_url {
        Some(url) => warden_blob::BlobStore::from_url(url),
        None if dir.join("blobs").is_dir() => warden_blob::BlobStore::local(&dir.join("blobs")),
        None => {
            r.add("blob store", Status::Note, "the local blob folder is created at first start");
            return finish_with(r, &config, verifier).await;
        }
    };
    let probe = warden_blob::Digest::parse(&format!("sha256:{}", "0".repeat(64)));
    match (blobs, probe) {
        (Ok(b), Ok(d)) => match tokio::time::timeout(Duration::from_secs(10), b.size(&d)).await {
            Ok(Ok(_)) => r.add("blob store", Status::Ok, config.blob_url.clone().unwrap_or_else(|| "local".into())),
            Ok(Err(e)) => r.add("blob store", Status::Fail, format!("{e}")),
            Err(_) => r.add("blob store", Status::Fail, "no answer in 10 s"),
        },
        (Err(e), _) | (_, Err(e)) => r.add("blob store", Status::Fail, format!("{e}")),
    }
    finish_with(r, &config, verifier).await
}

/// The pin and the witnesses, then the report.
async fn finish_with(
    mut r: Report,
    config: &Config,
    verifier: Option<warden_audit::VerifierKey>,
) -> anyhow::Result<()> {
    let pin = config.data_dir.join("keys").join("audit-checkpoint.last");
    match (std::fs::read_to_string(&pin), verifier) {
        (Ok(note), Some(key)) => match warden_tlog::note::Checkpoint::open(&note, &key) {
            Ok(cp) => r.add("checkpoint pin", Status::Ok, format!("the log has signed {} entries", cp.size)),
            Err(e) => {
                r.add("checkpoint pin", Status::Fail, format!("{} does not verify with the key: {e}", pin.display()))
            }
        },
        (Ok(_), None) => r.add("checkpoint pin", Status::Fail, "a pin without its checkpoint key"),
        (Err(_), _) => r.add("checkpoint pin", Status::Note, "nothing signed yet"),
    }
    for w in &config.audit.witnesses {
        let Some(addr) = host_port(&w.url) else {
            r.add("witness", Status::Fail, format!("{}: not a URL", w.url));
            continue;
        };
        match tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(&addr)).await {
            Ok(Ok(_)) => r.add("witness", Status::Ok, format!("{} reachable", w.url)),
            Ok(Err(e)) => {
                r.add("witness", Status::Fail, format!("{}: {e} (checkpoints queue until it answers)", w.url))
            }
            Err(_) => r.add("witness", Status::Fail, format!("{}: no answer in 5 s", w.url)),
        }
    }
    finish(r)
}

fn finish(r: Report) -> anyhow::Result<()> {
    let failed = r.0.iter().filter(|(_, s, _)| *s == Status::Fail).count();
    table(
        &["check", "status", "detail"],
        r.0.into_iter()
            .map(|(c, s, d)| {
                let s = match s {
                    Status::Ok => "ok",
                    Status::Note => "note",
                    Status::Fail => "FAIL",
                };
                vec![c, s.to_string(), d]
            })
            .collect(),
    );
    if failed > 0 {
        anyhow::bail!("{failed} check(s) failed: fix them before `warden serve`");
    }
    Ok(())
}
