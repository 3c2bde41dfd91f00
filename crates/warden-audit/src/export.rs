//! Export to SIEMs: OCSF JSON Lines appended to a file, or pushed to a Splunk HTTP Event
//! Collector. Each exporter keeps a cursor in the store, advanced only after delivery
//! (the file synced, the collector answering 2xx): at least once, no gaps, and it resumes
//! where it stopped after a restart.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use warden_core::Timestamp;

use crate::event::AuditEvent;
use crate::ledger::Ledger;

/// Where events go.
#[derive(Clone)]
pub enum Sink {
    /// Append OCSF JSON Lines to this file (`-` for standard output).
    File(PathBuf),
    /// POST to a Splunk HEC-compatible collector (`…/services/collector/event`).
    Hec { url: String, token: String, client: reqwest::Client },
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::File(p) => write!(f, "File({})", p.display()),
            Sink::Hec { url, .. } => write!(f, "Hec({url}, token: [redacted])"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("store: {0}")]
    Store(#[from] warden_store::StoreError),
    #[error("file: {0}")]
    File(#[from] std::io::Error),
    #[error("collector: {0}")]
    Http(String),
    #[error("entry {0} is not a valid event")]
    Corrupt(u64),
}

impl Sink {
    pub fn hec(url: &str, token: &str) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default();
        Sink::Hec { url: url.to_string(), token: token.to_string(), client }
    }

    async fn deliver(&self, records: &[(u64, serde_json::Value)]) -> Result<(), ExportError> {
        match self {
            Sink::File(path) => {
                let mut buf = Vec::new();
                for (_, r) in records {
                    serde_json::to_writer(&mut buf, r).map_err(|e| ExportError::Http(e.to_string()))?;
                    buf.push(b'\n');
                }
                if path.as_os_str() == "-" {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&buf)?;
                    out.flush()?;
                    return Ok(());
                }
                let path = path.clone();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
                    f.write_all(&buf)?;
                    f.sync_data()
                })
                .await
                .map_err(|e| ExportError::Http(e.to_string()))??;
                Ok(())
            }
            Sink::Hec { url, token, client } => {
                let mut body = String::new();
                for (_, r) in records {
                    let time = r["time"].as_i64().unwrap_or(0) as f64 / 1000.0;
                    let wrapped =
                        serde_json::json!({"time": time, "source": "warden", "sourcetype": "ocsf", "event": r});
                    body.push_str(&wrapped.to_string());
                    body.push('\n');
                }
                let res = client
                    .post(url)
                    .header("Authorization", format!("Splunk {token}"))
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| ExportError::Http(e.without_url().to_string()))?;
                if !res.status().is_success() {
                    return Err(ExportError::Http(format!("HTTP {}", res.status())));
                }
                Ok(())
            }
        }
    }
}

/// Sends everything from the cursor on, in batches; returns how many were sent. Each
/// record carries its entry's leaf hash, and each batch is followed by the latest signed
/// checkpoint it reaches: a copy outside the database that `warden audit verify
/// --against` compares the log with, entry by entry.
pub async fn export_once(ledger: &Ledger, name: &str, sink: &Sink, now: Timestamp) -> Result<u64, ExportError> {
    let store = ledger.store();
    let mut sent = 0;
    loop {
        let from = store.export_cursor(name).await?;
        let entries = store.audit_entries(from, 500).await?;
        let Some(last) = entries.last().map(|e| e.index) else { return Ok(sent) };
        let mut records = Vec::with_capacity(entries.len() + 1);
        for e in &entries {
            let event: AuditEvent = serde_json::from_str(&e.leaf.event).map_err(|_| ExportError::Corrupt(e.index))?;
            let hash = warden_tlog::leaf_hash(e.leaf.event.as_bytes());
            records.push((e.index, crate::ocsf::record_with_hash(e.index, ledger.origin(), &event, &hash)));
        }
        if let Some(cp) = store.latest_checkpoint().await?.filter(|c| c.tree_size > 0 && c.tree_size <= last + 1) {
            records.push((cp.tree_size, crate::ocsf::checkpoint_record(ledger.origin(), cp.tree_size, &cp.note, now)));
        }
        // The latest digest goes with the batch that holds its last entry.
        if let Some((d, note)) = ledger.latest_digest().filter(|(d, _)| d.to > from && d.to <= last + 1) {
            records.push((d.to, crate::ocsf::digest_record(ledger.origin(), d.from, d.to, &note, now)));
        }
        sink.deliver(&records).await?;
        store.set_export_cursor(name, last + 1, now).await?;
        sent += entries.len() as u64;
    }
}

/// Runs an exporter until the process ends, retrying with back-off on failure.
pub fn spawn(
    ledger: Arc<Ledger>,
    name: String,
    sink: Sink,
    every: Duration,
    clock: impl Fn() -> Timestamp + Send + 'static,
) {
    tokio::spawn(async move {
        let mut backoff = every;
        loop {
            match export_once(&ledger, &name, &sink, clock()).await {
                Ok(n) => {
                    if n > 0 {
                        tracing::debug!(exporter = %name, events = n, "exported audit events");
                    }
                    backoff = every;
                }
                Err(e) => {
                    tracing::warn!(exporter = %name, error = %e, "audit export failed; will retry");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
            tokio::time::sleep(backoff).await;
        }
    });
}
