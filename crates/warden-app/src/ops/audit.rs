//! Reading the audit ledger: search, entries, proofs, checkpoints.

use super::*;

// ---------------------------------------------------------------- audit ledger

/// An entry of the ledger: its index, its leaf bytes and the event they encode.
pub struct LedgerEntry {
    pub index: u64,
    pub leaf: Vec<u8>,
    pub event: AuditEvent,
    pub leaf_hash: Vec<u8>,
}

fn entry(e: warden_store::AuditEntry) -> Result<LedgerEntry, AppError> {
    let event = serde_json::from_str(&e.leaf.event)
        .map_err(|_| AppError::Internal(format!("ledger entry {} does not parse", e.index)))?;
    Ok(LedgerEntry { index: e.index, leaf: e.leaf.event.into_bytes(), event, leaf_hash: e.leaf.leaf_hash })
}

/// The ledger's resource type for a bare id Warden issues, by its prefix (`rel_…` is a
/// `release`); `None` for a value no prefix names. Audit search and evidence read bare
/// ids the same way.
pub fn resource_type_of(id: &str) -> Option<&'static str> {
    Some(match id.split_once('_').map(|(p, _)| p)? {
        "prj" => "project",
        "grp" => "group",
        "tok" => "token",
        "art" => "artifact",
        "sig" => "signer",
        "mdl" => "model",
        "upl" => "upload",
        "rel" => "release",
        "dst" => "dataset",
        "trf" => "transfer",
        "del" => "deletion",
        "usr" | "svc" => "subject",
        _ => return None,
    })
}

/// Searches the ledger. Each search is itself recorded.
pub struct SearchAudit {
    pub filter: AuditFilter,
    pub page: Page,
}

impl Operation for SearchAudit {
    type Output = Vec<LedgerEntry>;
    const ACTION: Action = Action::AuditRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<LedgerEntry>, AppError> {
        ctx.store().search_audit(&self.filter, &self.page).await?.into_iter().map(entry).collect()
    }
}

/// Entries by index: one (`limit` 1) or a run of them, for verification and export.
pub struct ReadAuditEntries {
    pub from: u64,
    pub limit: u32,
}

impl Operation for ReadAuditEntries {
    type Output = Vec<LedgerEntry>;
    const ACTION: Action = Action::AuditRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<LedgerEntry>, AppError> {
        ctx.store().audit_entries(self.from, self.limit).await?.into_iter().map(entry).collect()
    }
}

/// RFC 9162 inclusion proof of entry `index` in the tree of `tree_size` entries.
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
}

impl Operation for InclusionProof {
    type Output = Vec<Hash>;
    const ACTION: Action = Action::AuditRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<Hash>, AppError> {
        Ok(ctx.app.ledger().inclusion_proof(self.index, self.tree_size).await?)
    }
}

/// RFC 9162 consistency proof between tree sizes `from` and `to`.
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
}

impl Operation for ConsistencyProof {
    type Output = Vec<Hash>;
    const ACTION: Action = Action::AuditRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<Hash>, AppError> {
        Ok(ctx.app.ledger().consistency_proof(self.from, self.to).await?)
    }
}

/// A resource of the log in the C2SP tlog-tiles layout, by its path after `tile/`: a
/// tile of hashes or the entries of a level-0 tile (for mirrors and tlog-tiles
/// clients). The path is read once the caller is authorised.
pub struct ReadTile(pub String);

impl Operation for ReadTile {
    type Output = (warden_tlog::tiles::TilePath, Vec<u8>);
    const ACTION: Action = Action::AuditRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let path = warden_tlog::tiles::TilePath::parse(&self.0).map_err(AppError::BadParameter)?;
        Ok((path, ctx.app.ledger().tile_resource(path).await?))
    }
}

/// Stored checkpoints from `from_size` on (for verifiers).
pub struct ListCheckpoints {
    pub from_size: u64,
    pub limit: u32,
}

impl Operation for ListCheckpoints {
    type Output = Vec<CheckpointRecord>;
    const ACTION: Action = Action::AuditRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<CheckpointRecord>, AppError> {
        Ok(ctx.store().list_checkpoints(self.from_size, self.limit).await?)
    }
}

/// The latest signed checkpoint: size and root only, for every authenticated caller
/// (witnesses and monitors).
pub struct LatestCheckpoint;

impl Operation for LatestCheckpoint {
    type Output = CheckpointRecord;
    const ACTION: Action = Action::AuditCheckpoint;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    /// The latest checkpoint, with the witnesses' cosignatures when they cosigned it.
    async fn execute(self, ctx: Authorized<'_>) -> Result<CheckpointRecord, AppError> {
        let mut cp = ctx.app.ledger().checkpoint(ctx.now()).await?;
        if let Some(note) = ctx.app.ledger().cosigned_note(cp.tree_size) {
            cp.note = note;
        }
        Ok(cp)
    }
}

/// The latest checkpoint the configured witnesses cosigned (the note with their
/// cosignature lines), for clients that require them.
pub struct CosignedCheckpoint;

impl Operation for CosignedCheckpoint {
    type Output = (u64, String);
    const ACTION: Action = Action::AuditCheckpoint;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(u64, String), AppError> {
        ctx.app.ledger().latest_cosigned().ok_or_else(|| {
            AppError::NotFound("a checkpoint cosigned by witnesses (none is configured, or none answered yet)".into())
        })
    }
}
