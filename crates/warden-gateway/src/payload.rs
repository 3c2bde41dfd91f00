//! Payload logs: sealed under the zone's key, kept as long as the class says.

use serde_json::{json, Value};
use warden_core::{ProjectId, Timestamp};
use warden_crypto::MasterKey;
use warden_store::PayloadLogRecord;

use crate::*;

fn zone_key(keys: &MasterKey, zone: &str) -> [u8; 32] {
    keys.derive(&format!("payload:{zone}"))
}

/// Seals `plain` for `zone`; returns (nonce, ciphertext).
pub fn seal(keys: &MasterKey, zone: &str, id: &str, plain: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    warden_crypto::seal(&zone_key(keys, zone), id.as_bytes(), plain)
        .map_err(|_| Error::Internal("payload encryption failed".into()))
}

pub fn open(keys: &MasterKey, log: &PayloadLogRecord) -> Result<Vec<u8>, Error> {
    warden_crypto::open(&zone_key(keys, &log.zone), log.id.as_bytes(), &log.nonce, &log.ciphertext)
        .map_err(|_| Error::Internal(format!("payload log {} does not open with its zone's key", log.id)))
}

/// Whose payloads, sealed for which zone, kept how long.
pub struct PayloadTarget {
    pub project: ProjectId,
    pub key: Option<String>,
    pub zone: String,
    pub class: String,
    pub retention_days: u32,
}

/// A streamed call's payloads, gathered while it runs and kept when it ends.
pub struct StreamPayload {
    pub store: std::sync::Arc<dyn warden_store::Store>,
    pub keys: MasterKey,
    pub clock: std::sync::Arc<dyn warden_core::Clock>,
    pub target: PayloadTarget,
    pub request: Value,
    /// The upstream's events, as received.
    pub chunks: Vec<Value>,
}

impl StreamPayload {
    /// Seals and stores what the stream carried; returns the log's id.
    pub async fn keep(self) -> Result<String, Error> {
        let response = json!({"stream": self.chunks});
        store_payload(self.store.as_ref(), &self.keys, self.clock.now(), &self.target, &self.request, &response).await
    }
}

pub async fn store_payload(
    store: &dyn warden_store::Store,
    keys: &MasterKey,
    now: Timestamp,
    t: &PayloadTarget,
    request: &Value,
    response: &Value,
) -> Result<String, Error> {
    let id = format!("pl_{}", warden_core::EventId::generate(now.0).as_str().trim_start_matches("evt_"));
    let plain = serde_json::to_vec(&json!({"request": request, "response": response}))
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (nonce, ciphertext) = seal(keys, &t.zone, &id, &plain)?;
    store
        .add_payload_log(&PayloadLogRecord {
            id: id.clone(),
            project: t.project.clone(),
            key: t.key.clone(),
            zone: t.zone.clone(),
            class: t.class.clone(),
            nonce,
            ciphertext,
            created_at: now,
            expires_at: now.plus_seconds(i64::from(t.retention_days) * 86_400),
        })
        .await?;
    Ok(id)
}
