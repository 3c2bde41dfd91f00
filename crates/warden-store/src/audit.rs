use async_trait::async_trait;
use warden_core::Timestamp;

use crate::*;

#[async_trait]
pub trait AuditStore: Send + Sync {
    // The audit ledger. Append-only: there is no update or delete method.
    /// Appends entries with consecutive indexes in one transaction (durable when it
    /// returns) and returns the index of the first.
    async fn append_audit(&self, leaves: &[AuditLeaf]) -> Result<u64> {
        self.append_audit_with_tiles(leaves, &[]).await
    }
    /// [`AuditStore::append_audit`], storing `tiles` in the same transaction (as
    /// [`AuditStore::put_audit_tiles`] does): tiles filled by earlier appends ride along
    /// with the next instead of costing a commit of their own.
    async fn append_audit_with_tiles(&self, leaves: &[AuditLeaf], tiles: &[AuditTile]) -> Result<u64>;
    /// Stores full tiles of the audit tree; one already stored is left as it was.
    async fn put_audit_tiles(&self, tiles: &[AuditTile]) -> Result<()>;
    /// The stored tiles of `level` with an index in `[from, to)`, in index order (those
    /// not stored are simply absent).
    async fn audit_tiles(&self, level: u32, from: u64, to: u64) -> Result<Vec<AuditTile>>;
    /// The stored tiles among `at` (level, index), in one read (a proof needs a few).
    async fn audit_tiles_at(&self, at: &[(u32, u64)]) -> Result<Vec<AuditTile>>;
    async fn audit_size(&self) -> Result<u64>;
    /// Adds the search terms of up to `max` entries past the search index's head, in
    /// one transaction, and returns the new head (entries `[0, head)` are indexed).
    /// Searches are exact whatever the head: they scan the unindexed tail.
    async fn index_audit(&self, max: u64) -> Result<u64>;
    /// Records `terms` (term, block of [`AUDIT_BLOCK`] entries) as the search index of
    /// entries `[from, to)`, for an appender that kept its own entries' terms, and moves
    /// the head to `to`. Only if the head stands at `from`: otherwise (another replica
    /// indexed meanwhile) it writes nothing and returns false.
    async fn index_audit_terms(&self, from: u64, to: u64, terms: &[(String, u64)]) -> Result<bool>;
    /// Leaf hashes of entries `[from, to)`, in order.
    async fn audit_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>>;
    /// Up to `limit` entries from index `from` on, in order.
    async fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>>;
    /// Entries matching `filter` whose index is after the page cursor, in index order.
    /// The first entry at or after `time` (entries are in time order to within the
    /// group commit), if any.
    async fn audit_index_at(&self, time: Timestamp) -> Result<Option<u64>>;
    async fn search_audit(&self, filter: &AuditFilter, page: &Page) -> Result<Vec<AuditEntry>>;
    /// Stores a signed checkpoint; a second one for the same size is ignored.
    async fn put_checkpoint(&self, checkpoint: &CheckpointRecord) -> Result<()>;
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>>;
    /// Checkpoints with `tree_size >= from_size`, smallest first.
    async fn list_checkpoints(&self, from_size: u64, limit: u32) -> Result<Vec<CheckpointRecord>>;
    /// The smallest checkpoint covering at least `size` entries.
    async fn checkpoint_covering(&self, size: u64) -> Result<Option<CheckpointRecord>>;
    /// The next index an exporter should send; 0 when it has none.
    async fn export_cursor(&self, name: &str) -> Result<u64>;
    async fn set_export_cursor(&self, name: &str, next_index: u64, at: Timestamp) -> Result<()>;
}

/// One audit ledger entry as stored: the leaf (canonical JSON of the event), its leaf
/// hash, and copies of the fields searches filter on. Never holds secrets or payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLeaf {
    pub time: Timestamp,
    pub category: String,
    pub action: String,
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub outcome: String,
    pub project: Option<String>,
    pub request_id: Option<String>,
    /// The event's RFC 8785 canonical JSON: the Merkle leaf.
    pub event: String,
    /// SHA-256(0x00 || event).
    pub leaf_hash: Vec<u8>,
}

/// Entries per search-index block: the search index records in which blocks of this
/// many consecutive entries a term occurs.
pub const AUDIT_BLOCK: u64 = 256;

impl AuditLeaf {
    /// The search-index terms of this entry: `actor:`, `resource:`, `project:`, `action:`
    /// and `outcome:` followed by the field (the category follows from the action).
    pub fn terms(&self) -> impl Iterator<Item = String> + '_ {
        self.term_parts().into_iter().map(|(prefix, v)| format!("{prefix}{v}"))
    }

    /// [`AuditLeaf::terms`] as (prefix, value) pairs, for callers that build them into
    /// buffers of their own.
    pub fn term_parts(&self) -> impl IntoIterator<Item = (&'static str, &str)> {
        [
            ("actor:", self.actor.as_deref()),
            ("resource:", self.resource.as_deref()),
            ("project:", self.project.as_deref()),
            ("action:", Some(self.action.as_str())),
            ("outcome:", Some(self.outcome.as_str())),
        ]
        .into_iter()
        .filter_map(|(prefix, v)| v.map(|v| (prefix, v)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub index: u64,
    pub leaf: AuditLeaf,
}

/// Search over the ledger. Every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub category: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub outcome: Option<String>,
    pub project: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// A full tile of the audit tree (C2SP tlog-tiles): the 256 hashes of height
/// `8 · level` from `index · 256` on, concatenated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTile {
    pub level: u32,
    pub index: u64,
    pub hashes: Vec<u8>,
}

/// The bytes of a full tile.
pub const AUDIT_TILE_BYTES: usize = 256 * 32;

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub tree_size: u64,
    /// The C2SP signed note.
    pub note: String,
    pub created_at: Timestamp,
}
