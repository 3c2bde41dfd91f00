//! The auditor's seven questions, each answered from Warden's records with the ledger
//! entries the answer rests on, their inclusion proofs and a signed checkpoint, so the
//! answer verifies offline with the log's public key alone
//! ([`warden_tlog::evidence`]).
//!
//! Store state says what is true now (or, with `at`, at a moment: deployments and
//! grants keep their history); the ledger entries cited beside each row are the record
//! of how it came to be. Entries are found through the ledger's search index by
//! resource, never by replaying the log.

// Answers read ledger events as JSON: `value["key"]` on a `serde_json::Value` returns
// `Null` for a missing key or a non-object and never panics (only `IndexMut` does).
#![allow(clippy::indexing_slicing)]

mod access;
mod change;
mod data;
mod log;

pub use access::AccessScope;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use warden_audit::ResourceRef;
use warden_core::{ModelId, Principal, ProjectId, ReleaseId, Timestamp};
use warden_store::{AuditEntry, AuditFilter, CheckpointRecord, Page};
use warden_tlog::evidence::{EvidenceBundle, ProvenEntry, MAX_ENTRIES};

use crate::text::rfc3339;
use crate::{Action, App, AppError, Authorized, Operation, Target};

/// What is asked.
#[derive(Debug, Clone)]
pub enum Question {
    /// 1. Every dataset a model version touched: training, evaluation, inference.
    DataAccess { project: ProjectId, model: String, version: u64 },
    /// 2. Where that data is stored and where it was processed.
    Locations { project: ProjectId, model: String, version: u64 },
    /// 3. Who could act in a project or a zone at a moment.
    Access { scope: AccessScope, at: Timestamp },
    /// 4. What was active in a zone at a moment, across projects; or the zone's
    ///    deployments in a window.
    Active { zone: String, at: Timestamp, window: Option<(Timestamp, Timestamp)> },
    /// 5. How a release came to be deployed.
    Change { project: ProjectId, release: ReleaseId },
    /// 6. Completeness of the log in a window, and the events touching a subject.
    Log { from: Timestamp, to: Timestamp, subject: Option<String> },
    /// 7. Retention, holds and deletion for a dataset (id or `NAMESPACE/NAME`) or a
    ///    data subject (the reference deletion requests name).
    DataHandling { dataset: Option<String>, subject: Option<String> },
}

impl Question {
    pub fn name(&self) -> &'static str {
        match self {
            Question::DataAccess { .. } => "data-access",
            Question::Locations { .. } => "locations",
            Question::Access { .. } => "access",
            Question::Active { .. } => "active",
            Question::Change { .. } => "change",
            Question::Log { .. } => "log",
            Question::DataHandling { .. } => "data-handling",
        }
    }

    fn subject(&self) -> Value {
        match self {
            Question::DataAccess { project, model, version } | Question::Locations { project, model, version } => {
                json!({"project": project, "model": model, "version": version})
            }
            Question::Access { scope: AccessScope::Project(p), at } => json!({"project": p, "at": rfc3339(*at)}),
            Question::Access { scope: AccessScope::Zone(z), at } => json!({"zone": z, "at": rfc3339(*at)}),
            Question::Active { zone, at, window: None } => json!({"zone": zone, "at": rfc3339(*at)}),
            Question::Active { zone, window: Some((from, to)), .. } => {
                json!({"zone": zone, "from": rfc3339(*from), "to": rfc3339(*to)})
            }
            Question::Change { project, release } => json!({"project": project, "release": release}),
            Question::Log { from, to, subject } => {
                json!({"from": rfc3339(*from), "to": rfc3339(*to), "subject": subject})
            }
            Question::DataHandling { dataset, subject } => json!({"dataset": dataset, "subject": subject}),
        }
    }
}

/// Answers one question with its proofs. Auditors and administrators may ask; asking
/// is itself recorded (a sensitive read) and changes nothing else.
pub struct Evidence(pub Question);

impl Operation for Evidence {
    type Output = EvidenceBundle;
    const ACTION: Action = Action::EvidenceRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<EvidenceBundle, AppError> {
        let q = self.0;
        let mut cites = Cites::default();
        // The log question chains checkpoints up to the one the answer proves into, so
        // it takes that checkpoint first and answers only for entries below it.
        let pinned = match q {
            Question::Log { .. } => Some(ctx.app.ledger().checkpoint(ctx.now()).await?),
            _ => None,
        };
        let answer = match &q {
            Question::DataAccess { project, model, version } => {
                data::data_access(&ctx, project, model, *version, &mut cites).await?
            }
            Question::Locations { project, model, version } => {
                data::locations(&ctx, project, model, *version, &mut cites).await?
            }
            Question::Access { scope, at } => access::access(&ctx, scope, *at, &mut cites).await?,
            Question::Active { zone, at, window } => change::active(&ctx, zone, *at, *window, &mut cites).await?,
            Question::Change { project, release } => change::change(&ctx, project, release, &mut cites).await?,
            Question::Log { from, to, subject } => {
                let cp = pinned.as_ref().ok_or_else(|| AppError::Internal("no checkpoint".into()))?;
                log::log(&ctx, *from, *to, subject.as_deref(), cp, &mut cites).await?
            }
            Question::DataHandling { dataset, subject } => {
                data::data_handling(&ctx, dataset.as_deref(), subject.as_deref(), &mut cites).await?
            }
        };
        prove(&ctx, q.name(), q.subject(), answer, cites, pinned).await
    }
}

/// The resource a model version's events name: `model:<id>@<version>`, as its lineage
/// node does.
pub(crate) fn version_resource(model: &ModelId, version: u64) -> ResourceRef {
    ResourceRef { type_: "model".into(), uid: format!("{model}@{version}") }
}

/// The ledger entries an answer cites, by index (their leaves as stored).
#[derive(Default)]
pub(crate) struct Cites(BTreeMap<u64, String>);

impl Cites {
    /// Cites `e`; answers its index for the row's `evidence`.
    pub(crate) fn cite(&mut self, e: &AuditEntry) -> u64 {
        self.0.insert(e.index, e.leaf.event.clone());
        e.index
    }
}

/// The entries matching `filter`, oldest first, at most `max`.
pub(crate) async fn find(ctx: &Authorized<'_>, filter: &AuditFilter, max: usize) -> Result<Vec<AuditEntry>, AppError> {
    let mut out: Vec<AuditEntry> = Vec::new();
    let mut page = Page::first(500);
    loop {
        let batch = ctx.store().search_audit(filter, &page).await?;
        let full = batch.len() == 500;
        out.extend(batch);
        if !full || out.len() >= max {
            out.truncate(max);
            return Ok(out);
        }
        page.after = out.last().map(|e| e.index.to_string());
    }
}

/// The entries about one resource (`type:uid`), optionally only those of some actions.
pub(crate) async fn about(
    ctx: &Authorized<'_>,
    resource: &str,
    actions: &[&str],
    max: usize,
) -> Result<Vec<AuditEntry>, AppError> {
    let filter = AuditFilter { resource: Some(resource.to_string()), ..AuditFilter::default() };
    let mut all = find(ctx, &filter, max).await?;
    if !actions.is_empty() {
        all.retain(|e| actions.contains(&e.leaf.action.as_str()));
    }
    Ok(all)
}

/// An entry's event as JSON (the leaf parses: the ledger wrote it).
pub(crate) fn event_of(e: &AuditEntry) -> Value {
    serde_json::from_str(&e.leaf.event).unwrap_or(Value::Null)
}

/// The time of an entry, as RFC 3339.
pub(crate) fn when(e: &AuditEntry) -> String {
    rfc3339(e.leaf.time)
}

/// Builds the bundle: a checkpoint covering every cited entry, each entry's inclusion
/// proof (checked here too: an entry edited in the database is refused, never served
/// as evidence), and the log key's signature over the whole.
async fn prove(
    ctx: &Authorized<'_>,
    question: &str,
    subject: Value,
    answer: Value,
    cites: Cites,
    pinned: Option<CheckpointRecord>,
) -> Result<EvidenceBundle, AppError> {
    if cites.0.len() > MAX_ENTRIES {
        return Err(AppError::BadParameter(format!(
            "the answer rests on {} ledger entries, more than one answer carries ({MAX_ENTRIES}); narrow the question (a shorter window)",
            cites.0.len()
        )));
    }
    let ledger = ctx.app.ledger();
    let cp = match pinned {
        Some(cp) => cp,
        None => ledger.checkpoint(ctx.now()).await?,
    };
    let key = ledger.verifier();
    let signed = warden_tlog::note::Checkpoint::open(&cp.note, &key)
        .map_err(|e| AppError::Internal(format!("the latest checkpoint does not verify: {e}")))?;
    let mut bundle = EvidenceBundle::new(question, subject, rfc3339(ctx.now()), answer);
    bundle.tree_size = cp.tree_size;
    bundle.checkpoint = cp.note;
    for (index, leaf) in cites.0 {
        if index >= cp.tree_size {
            return Err(AppError::Unavailable(format!("ledger entry {index} is not yet under a signed checkpoint")));
        }
        let event: Value = serde_json::from_str(&leaf)
            .map_err(|_| AppError::Internal(format!("ledger entry {index} does not parse")))?;
        let proof = ledger.inclusion_proof(index, cp.tree_size).await?;
        let canonical = warden_tlog::jcs::canonicalize(&event)
            .map_err(|_| AppError::Internal(format!("ledger entry {index} cannot be canonicalised")))?;
        if warden_tlog::proof::verify_inclusion(
            index,
            cp.tree_size,
            &warden_tlog::leaf_hash(&canonical),
            &proof,
            &signed.root,
        )
        .is_err()
        {
            tracing::error!(index, "a ledger entry an answer rests on does not prove into the signed checkpoint");
            return Err(AppError::rule(
                503,
                "audit.entry-does-not-prove",
                format!(
                    "ledger entry {index} does not prove into the signed checkpoint: the database was changed \
                     after the entry was written; run `warden audit verify`"
                ),
            ));
        }
        bundle.entries.push(ProvenEntry {
            index,
            event,
            inclusion: proof.iter().map(|h| warden_tlog::b64(h)).collect(),
        });
    }
    bundle
        .sign_with(|text| ledger.sign_note(text).ok())
        .map_err(|e| AppError::Internal(format!("signing the answer: {e}")))?;
    Ok(bundle)
}
