//! Submitting the log's checkpoints to witnesses (C2SP tlog-witness): each new signed
//! checkpoint goes to every configured witness with a consistency proof from the size the
//! witness last cosigned; the cosignatures that come back are kept with the checkpoint
//! and served with it. A witness that is down never stops the log: submission retries
//! with back-off, and how far behind each witness is can be read.

use std::sync::Arc;
use std::time::Duration;

use warden_tlog::cosign::CosignatureVerifier;

use crate::ledger::Ledger;

/// One witness: where it listens (`…` before `/add-checkpoint`) and its cosigning key.
#[derive(Debug, Clone)]
pub struct Witness {
    pub url: String,
    pub key: CosignatureVerifier,
}

impl Witness {
    /// Parses `URL VKEY`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (url, key) =
            s.trim().split_once(' ').ok_or_else(|| format!("`{s}`: write URL, a space, the witness key"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`{url}` is not an http(s) URL"));
        }
        let key = CosignatureVerifier::parse(key.trim()).map_err(|e| format!("witness key `{key}`: {e}"))?;
        Ok(Self { url: url.trim_end_matches('/').to_string(), key })
    }
}

/// Runs one submitter per witness until the process ends.
pub fn spawn(ledger: Arc<Ledger>, witnesses: Vec<Witness>, every: Duration) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
    for w in witnesses {
        ledger.expect_witness(&w.key.name);
        let (ledger, http) = (ledger.clone(), http.clone());
        tokio::spawn(async move {
            // The size this witness last cosigned, as far as the log knows (a 409 says).
            let mut known = 0u64;
            let mut backoff = every;
            loop {
                match submit(&ledger, &w, &http, &mut known).await {
                    Ok(()) => backoff = every,
                    Err(e) => {
                        tracing::warn!(witness = %w.url, error = %e, "could not get a cosignature; will retry");
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
                tokio::time::sleep(backoff).await;
            }
        });
    }
}

/// Submits the latest checkpoint if this witness has not cosigned it yet.
async fn submit(ledger: &Ledger, w: &Witness, http: &reqwest::Client, known: &mut u64) -> Result<(), String> {
    for _ in 0..3 {
        let Some(cp) = ledger.store().latest_checkpoint().await.map_err(|e| e.to_string())? else { return Ok(()) };
        if ledger.cosigned_by(&w.key.name).is_some_and(|s| s >= cp.tree_size) {
            return Ok(());
        }
        if *known > cp.tree_size {
            return Err(format!(
                "the witness has cosigned {known} entries but the log's latest checkpoint covers {}: the log went back",
                cp.tree_size
            ));
        }
        let mut body = format!("old {known}\n");
        if *known > 0 && *known < cp.tree_size {
            for h in ledger.consistency_proof(*known, cp.tree_size).await.map_err(|e| e.to_string())? {
                body.push_str(&warden_tlog::b64(&h));
                body.push('\n');
            }
        }
        body.push('\n');
        body.push_str(&cp.note);
        let res = http
            .post(format!("{}/add-checkpoint", w.url))
            .body(body)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| e.without_url().to_string())?;
        match status {
            200 => {
                let cosigned = format!("{}{text}", cp.note);
                if w.key.verify(&cosigned).is_none() {
                    return Err("the witness answered without a valid cosignature by its key".into());
                }
                let line = text.lines().find(|l| l.contains(&format!(" {} ", w.key.name))).unwrap_or("");
                ledger.add_cosignature(&w.key.name, cp.tree_size, &cp.note, line);
                *known = cp.tree_size;
                return Ok(());
            }
            409 => {
                *known = text.trim().parse().map_err(|_| format!("the witness answered 409 with `{}`", text.trim()))?;
            }
            s => return Err(format!("HTTP {s}: {}", text.trim())),
        }
    }
    Err("the witness kept answering 409".into())
}
