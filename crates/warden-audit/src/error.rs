//! What the ledger's operations can fail with.

use warden_store::StoreError;
use warden_tlog::tree::TreeError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the audit ledger could not record the event: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Event(String),
    #[error("{0}")]
    Tree(#[from] TreeError),
    #[error("the audit ledger has stopped")]
    Stopped,
    #[error("the log holds a corrupt leaf hash at index {0}")]
    Corrupt(u64),
    /// A tile or entry bundle beyond the tree as it stands.
    #[error("{0}")]
    NoSuchTile(String),
    /// The tree in the database does not extend the last checkpoint this installation
    /// signed: nothing is signed until that is resolved.
    #[error("{0}")]
    Regression(#[from] crate::pin::Regression),
}
