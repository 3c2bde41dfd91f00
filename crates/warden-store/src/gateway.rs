use async_trait::async_trait;
use warden_core::{ProjectId, SubjectId, Timestamp};

use crate::*;

#[async_trait]
pub trait GatewayStore: Send + Sync {
    // Gateway payload logs.
    async fn add_payload_log(&self, log: &PayloadLogRecord) -> Result<()>;
    async fn get_payload_log(&self, project: &ProjectId, id: &str) -> Result<Option<PayloadLogRecord>>;
    /// Deletes up to `limit` logs expired at `now`, in one transaction; returns what was
    /// deleted (without the payloads).
    async fn expire_payload_logs(&self, now: Timestamp, limit: u32) -> Result<Vec<PayloadLogRecord>>;
    // Gateway kill switches.
    /// Turns a switch on (again: the reason and time are replaced).
    async fn set_switch(&self, switch: &SwitchRecord) -> Result<()>;
    /// Turns a switch off; false when it was not on.
    async fn clear_switch(&self, target: &str) -> Result<bool>;
    async fn list_switches(&self) -> Result<Vec<SwitchRecord>>;
    // Gateway providers added through the API.
    /// Creates (`record.revision == 1`) or replaces the provider whose stored revision is
    /// `record.revision - 1`; false when the name is taken (create) or the stored
    /// revision is another (replace): someone else changed it first.
    async fn put_provider(&self, record: &ProviderRecord) -> Result<bool>;
    /// False when there was no such provider.
    async fn delete_provider(&self, name: &str) -> Result<bool>;
    /// Every stored provider, by name.
    async fn list_providers(&self) -> Result<Vec<ProviderRecord>>;
    // Gateway budgets and counters.
    /// Sets (or with `tokens: None` removes) a project's budget for `period` (`day` or
    /// `month`).
    async fn set_budget(
        &self,
        project: &ProjectId,
        period: &str,
        tokens: Option<i64>,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<()>;
    /// A project's budgets: (period, tokens).
    async fn budgets(&self, project: &ProjectId) -> Result<Vec<(String, i64)>>;
    /// Adds `amount` to the counter (`scope`, `window`) if the result stays within
    /// `limit`; false (and nothing changes) otherwise. Atomic across replicas.
    async fn reserve(&self, scope: &str, window: i64, amount: i64, limit: i64) -> Result<bool>;
    /// Adds `delta` (possibly negative: returning an unused reservation).
    async fn adjust(&self, scope: &str, window: i64, delta: i64) -> Result<()>;
    async fn counter(&self, scope: &str, window: i64) -> Result<i64>;
}

/// A gateway kill switch that is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchRecord {
    /// `external`, `provider:<name>` or `region:<name>`.
    pub target: String,
    pub reason: String,
    pub set_by: SubjectId,
    pub set_at: Timestamp,
}

/// An LLM provider added through the API. `prices` is JSON (model to price); the
/// credential, when there is one, is sealed by the application and opaque here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub name: String,
    pub base_url: String,
    pub region: String,
    pub external: bool,
    pub models: Vec<String>,
    pub prices: String,
    pub key_nonce: Option<Vec<u8>>,
    pub key_sealed: Option<Vec<u8>>,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
    pub updated_by: SubjectId,
    pub updated_at: Timestamp,
    /// 1 when created, one more on every change.
    pub revision: i64,
}

/// One encrypted gateway payload (request as sent, answer as received).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadLogRecord {
    pub id: String,
    pub project: ProjectId,
    /// The gateway key (token id) the call was made with.
    pub key: Option<String>,
    pub zone: String,
    pub class: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
