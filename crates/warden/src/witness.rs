//! `warden witness serve`: a transparency-log witness (C2SP tlog-witness) with its own
//! key and state, meant to run apart from the log (another machine, another team or
//! organisation). It cosigns a log's checkpoint only if it extends the last one it
//! cosigned for that log (a consistency proof from that size), so a log that shrinks or
//! forks cannot collect its cosignature.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use warden_tlog::cosign::Cosigner;
use warden_tlog::note::{Checkpoint, SigningKey, VerifierKey};
use warden_tlog::Hash;

#[derive(Debug, clap::Args)]
pub struct WitnessFlags {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8480")]
    listen: String,
    /// The witness's own folder: its key (`witness.key`) and what it cosigned (`state/`).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The witness's name (its key is created with it on first start).
    #[arg(long, default_value = "warden/witness")]
    name: String,
    /// A log's checkpoint verifier key (`warden audit public-key`); repeatable. Only these
    /// logs are cosigned.
    #[arg(long = "log", value_name = "VKEY", required = true)]
    logs: Vec<String>,
}

struct Witness {
    cosigner: Cosigner,
    logs: BTreeMap<String, VerifierKey>,
    state: PathBuf,
    /// Checking the old size and recording the new checkpoint happen under this lock.
    lock: tokio::sync::Mutex<()>,
}

/// Loads the witness key from `dir/witness.key`, creating it (0600) on first use.
fn witness_key(dir: &Path, name: &str) -> anyhow::Result<SigningKey> {
    let path = dir.join("witness.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        return SigningKey::from_private_string(text.trim()).map_err(|e| anyhow!("{}: {e}", path.display()));
    }
    let key = SigningKey::generate(name).map_err(|e| anyhow!("{e}"))?;
    crate::serve::write_new_private(&path, key.to_private_string().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key)
}

pub async fn serve(flags: WitnessFlags) -> anyhow::Result<()> {
    std::fs::create_dir_all(flags.data_dir.join("state"))
        .with_context(|| format!("cannot create {}", flags.data_dir.display()))?;
    let key = witness_key(&flags.data_dir, &flags.name)?;
    let mut logs = BTreeMap::new();
    for l in &flags.logs {
        let v = VerifierKey::parse(l).map_err(|e| anyhow!("--log {l}: {e}"))?;
        logs.insert(v.name.clone(), v);
    }
    let cosigner = Cosigner::new(key);
    println!("witness key: {}", cosigner.vkey());
    let witness = Arc::new(Witness { cosigner, logs, state: flags.data_dir.join("state"), lock: Default::default() });
    let app = axum::Router::new().route("/add-checkpoint", post(add_checkpoint)).with_state(witness);
    let listener = tokio::net::TcpListener::bind(&flags.listen)
        .await
        .with_context(|| format!("cannot listen on {}", flags.listen))?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

fn refuse(status: StatusCode, why: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{}\n", why.into())).into_response()
}

/// A request body: the old size, the consistency proof, the checkpoint note.
struct Submission {
    old: u64,
    proof: Vec<Hash>,
    note: String,
}

fn parse(body: &str) -> Result<Submission, String> {
    let (head, note) = body.split_once("\n\n").ok_or("no blank line before the checkpoint")?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| *n == "0" || !n.starts_with('0'))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or("the first line must be `old <size>`")?;
    let proof: Vec<Hash> = lines
        .map(|l| warden_tlog::hash_from_b64(l).ok_or(format!("`{l}` is not a base64 hash")))
        .collect::<Result<_, _>>()?;
    if proof.len() > 63 {
        return Err("more than 63 consistency proof lines".into());
    }
    Ok(Submission { old, proof, note: note.to_string() })
}

/// The last checkpoint cosigned for `origin`: (size, root), or (0, empty tree).
fn load_state(dir: &Path, origin: &str) -> std::io::Result<(u64, Hash)> {
    match std::fs::read_to_string(state_file(dir, origin)) {
        Ok(text) => {
            let mut l = text.lines();
            let size = l.next().and_then(|s| s.parse().ok());
            let root = l.next().and_then(warden_tlog::hash_from_b64);
            match (size, root) {
                (Some(s), Some(r)) => Ok((s, r)),
                _ => Err(std::io::Error::other("the witness state is damaged")),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, warden_tlog::empty_root())),
        Err(e) => Err(e),
    }
}

fn state_file(dir: &Path, origin: &str) -> PathBuf {
    use sha2::Digest;
    dir.join(format!("{}.state", hex::encode(sha2::Sha256::digest(origin.as_bytes()))))
}

fn save_state(dir: &Path, origin: &str, size: u64, root: &Hash) -> std::io::Result<()> {
    let state = format!("{size}\n{}\n", warden_tlog::b64(root));
    warden_audit::pin::write_durably(&state_file(dir, origin), state.as_bytes())
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let Ok(body) = std::str::from_utf8(&body) else { return refuse(StatusCode::BAD_REQUEST, "the body is not UTF-8") };
    let s = match parse(body) {
        Ok(s) => s,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let origin = s.note.lines().next().unwrap_or("");
    let Some(key) = w.logs.get(origin) else {
        return refuse(StatusCode::NOT_FOUND, format!("this witness does not follow the log `{origin}`"));
    };
    let cp = match Checkpoint::open(&s.note, key) {
        Ok(cp) => cp,
        Err(e) => return refuse(StatusCode::FORBIDDEN, format!("the checkpoint is not signed by the log's key: {e}")),
    };
    if s.old > cp.size {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("old size {} is larger than the checkpoint's {}", s.old, cp.size),
        );
    }
    let _guard = w.lock.lock().await;
    let (size, root) = match load_state(&w.state, origin) {
        Ok(x) => x,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot read the witness state: {e}")),
    };
    if s.old != size {
        return (StatusCode::CONFLICT, [(header::CONTENT_TYPE, "text/x.tlog.size")], format!("{size}\n"))
            .into_response();
    }
    let consistent = if cp.size == 0 {
        cp.root == warden_tlog::empty_root()
    } else if s.old == 0 {
        s.proof.is_empty()
    } else if s.old == cp.size {
        s.proof.is_empty() && cp.root == root
    } else {
        warden_tlog::proof::verify_consistency(s.old, cp.size, &root, &cp.root, &s.proof).is_ok()
    };
    if !consistent {
        tracing::warn!(
            origin,
            old = s.old,
            size = cp.size,
            "refused a checkpoint that does not extend the last one cosigned"
        );
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the checkpoint for {} entries does not extend the one cosigned for {size} entries", cp.size),
        );
    }
    if let Err(e) = save_state(&w.state, origin, cp.size, &cp.root) {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot record the checkpoint: {e}"));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_secs().max(1));
    let Some(body) = s.note.get(..s.note.rfind("\n\n").map_or(0, |i| i + 1)) else {
        return refuse(StatusCode::BAD_REQUEST, "malformed note");
    };
    (StatusCode::OK, w.cosigner.cosign(body, now)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submissions_parse_as_the_spec_writes_them() {
        let body = "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} x y\n";
        let s = parse(body).unwrap();
        assert_eq!((s.old, s.proof.len()), (20852014, 2));
        assert!(s.note.starts_with("example.com/behind-the-sofa\n"));
        for bad in ["old 01\n\nx", "new 1\n\nx", "old 1\nnot-base64!\n\nx", "old 1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let long = format!("old 1\n{}\nx", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(64));
        assert!(parse(&long).is_err());
    }
}
