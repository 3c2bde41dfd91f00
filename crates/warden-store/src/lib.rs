//! Warden's state, cut by aggregate: each module holds one aggregate's records and its
//! repository trait ([`IdentityStore`], [`RegistryStore`], [`ReleaseStore`],
//! [`CatalogStore`], [`GatewayStore`], [`AuditStore`]); [`Store`] is all of them, so
//! callers hold one `Arc<dyn Store>`.
//!
//! [`sql::SqlStore`] implements every trait once, in plain Rust generic over the sqlx
//! database: PostgreSQL and SQLite both take `$N` placeholders, `RETURNING`, `ON
//! CONFLICT` and `CAST(... AS ...)`, so one SQL text serves both. What differs between
//! them (connection setup, durability settings, migrations' column types, the audit
//! group commit) lives in each engine's crate, behind [`sql::Engine`]. [`suite`] is the
//! behaviour every engine must pass.

#![forbid(unsafe_code)]

mod audit;
mod catalog;
pub mod fresh;
mod gateway;
mod identity;
mod registry;
mod release;
pub mod sql;
pub mod suite;

use async_trait::async_trait;

pub use audit::*;
pub use catalog::*;
pub use gateway::*;
pub use identity::*;
pub use registry::*;
pub use release::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (a name already taken, a duplicate membership).
    #[error("{0} already exists")]
    Conflict(String),
    /// A referenced row does not exist (foreign key).
    #[error("{0} does not exist")]
    Missing(String),
    /// A number given by the caller is beyond what the database can hold (no row can
    /// have it).
    #[error("{0} is out of range")]
    OutOfRange(String),
    /// The database cannot be reached or did not answer in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Cursor pagination over ids (which sort by creation time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Return rows whose id sorts after this one.
    pub after: Option<String>,
    pub limit: u32,
}

impl Page {
    pub const MAX: u32 = 500;
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit: limit.clamp(1, Self::MAX) }
    }
    pub fn limit_i64(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX))
    }
    pub fn limit_usize(&self) -> usize {
        usize::try_from(self.limit.clamp(1, Self::MAX)).unwrap_or(1)
    }
    pub fn after_str(&self) -> &str {
        self.after.as_deref().unwrap_or("")
    }
}

/// Every aggregate's repository, and what a whole database answers.
#[async_trait]
pub trait Store:
    IdentityStore + RegistryStore + ReleaseStore + CatalogStore + GatewayStore + AuditStore + Send + Sync + 'static
{
    /// Engine name for logs and `config show`.
    fn engine(&self) -> &'static str;
    /// Cheap round trip to the database (readiness).
    async fn ping(&self) -> Result<()>;
}
