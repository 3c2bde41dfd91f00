//! Question 6: is the log complete and untampered over a window, and what happened to
//! one subject in it?

use serde_json::{json, Value};
use warden_core::Timestamp;
use warden_store::{AuditFilter, CheckpointRecord};

use super::{event_of, find, when, Cites};
use crate::text::rfc3339;
use crate::{AppError, Authorized};

/// Most checkpoints one answer chains (evenly spaced when the window holds more).
const CHAIN: usize = 64;
/// Most stored checkpoints checked against the log per answer.
const CHECKED: usize = 10_000;
/// Most events a reconstruction returns.
const STORY: usize = 2_000;

pub(super) async fn log(
    ctx: &Authorized<'_>,
    from: Timestamp,
    to: Timestamp,
    subject: Option<&str>,
    answer_cp: &CheckpointRecord,
    cites: &mut Cites,
) -> Result<Value, AppError> {
    if to < from {
        return Err(AppError::BadParameter("`to` is before `from`".into()));
    }
    let ledger = ctx.app.ledger();
    // Everything is answered as of the answer's checkpoint.
    let size = answer_cp.tree_size;
    let first = ctx.store().audit_index_at(from).await?.unwrap_or(size).min(size);
    let end = ctx.store().audit_index_at(Timestamp(to.0.saturating_add(1))).await?.unwrap_or(size).min(size);

    // The signed checkpoints inside the window, chained by consistency proofs: each
    // tree extends the one before, up to the checkpoint the answer proves into (the
    // verifier checks every link with the log key alone).
    let mut stored = Vec::new();
    let mut from_size = first.max(1);
    loop {
        let batch = ctx.store().list_checkpoints(from_size, 500).await?;
        let Some(last) = batch.last().map(|c| c.tree_size) else { break };
        let full = batch.len() == 500;
        stored.extend(batch.into_iter().filter(|c| c.tree_size <= end.max(first)));
        if !full || last > end || stored.len() > 100_000 {
            break;
        }
        from_size = last + 1;
    }
    // Every stored checkpoint in the window is checked here against the tree the
    // answer proves into (its signature, and its root at its size); the answer carries
    // an evenly spaced chain of them for the offline check.
    let key = ledger.verifier();
    let mut forks = Vec::new();
    for c in stored.iter().take(CHECKED) {
        let ok = match warden_tlog::note::Checkpoint::open(&c.note, &key) {
            Ok(cp) => ledger.root(cp.size).await? == cp.root,
            Err(_) => false,
        };
        if !ok {
            forks.push(c.tree_size);
        }
    }
    let in_window = stored.len();
    let checked = in_window.min(CHECKED);
    // The chain carries only checkpoints that check (the others are findings).
    let stored: Vec<_> = stored.into_iter().filter(|c| !forks.contains(&c.tree_size)).collect();
    let step = stored.len().div_ceil(CHAIN).max(1);
    let mut chosen: Vec<_> = stored.iter().step_by(step).cloned().collect();
    if let (Some(l), Some(c)) = (stored.last(), chosen.last()) {
        if l.tree_size != c.tree_size {
            chosen.push(l.clone());
        }
    }
    let mut chain = Vec::new();
    for (i, c) in chosen.iter().enumerate() {
        // Each link goes to the next checkpoint; the last to the answer's own.
        let next = chosen.get(i + 1).map_or(size, |n| n.tree_size);
        let consistency =
            if next > c.tree_size { ledger.consistency_proof(c.tree_size, next).await? } else { Vec::new() };
        chain.push(json!({
            "size": c.tree_size,
            "created_at": rfc3339(c.created_at),
            "note": c.note,
            "next_size": next,
            "consistency_to_next": consistency.iter().map(|h| warden_tlog::b64(h)).collect::<Vec<_>>(),
        }));
    }
    let (scrubbed, of) = ctx.app.audit_scrubbed();
    let halted = ledger.halted().map(|r| r.to_string());
    let witnesses: Vec<Value> =
        ledger.witnesses().into_iter().map(|(name, size)| json!({"witness": name, "cosigned": size})).collect();
    let mut findings = Vec::new();
    for size in &forks {
        findings.push(format!(
            "the checkpoint stored for {size} entries does not match the log (not signed by this log's key, or a fork)"
        ));
    }
    if in_window > CHECKED {
        findings.push(format!("{in_window} checkpoints fall in the window; the first {CHECKED} were checked"));
    }
    if let Some(h) = &halted {
        findings.push(format!("signing is halted: {h}"));
    }
    if chain.is_empty() && end > first {
        findings
            .push("no signed checkpoint falls inside the window; the entries are covered by the answer's own".into());
    }

    let story = match subject {
        Some(s) => {
            let mut filter = subject_filter(s)?;
            filter.since = Some(from);
            filter.until = Some(to);
            let found = find(ctx, &filter, STORY + 1).await?;
            if found.len() > STORY {
                findings.push(format!("more than {STORY} events touch the subject; the reconstruction stops there"));
            }
            found
                .iter()
                .filter(|e| e.index < size)
                .take(STORY)
                .map(|e| {
                    let ev = event_of(e);
                    json!({
                        "index": e.index, "at": when(e), "category": e.leaf.category, "action": e.leaf.action,
                        "outcome": e.leaf.outcome, "actor": e.leaf.actor, "resource": e.leaf.resource,
                        "reason": ev.get("reason"), "request_id": e.leaf.request_id,
                        "evidence": [cites.cite(e)],
                    })
                })
                .collect::<Vec<_>>()
        }
        None => Vec::new(),
    };
    Ok(json!({
        "window": {"first_index": first, "end_index": end, "entries": end.saturating_sub(first)},
        // Indexes are consecutive by construction (each append takes the next under
        // the head row's lock); the checkpoints below commit to every one of them.
        "checkpoints": chain,
        "checkpoints_checked": checked,
        "scrub": {"checked": scrubbed, "of": of},
        "signing_halted": halted,
        "witnesses": witnesses,
        "events": story,
        "findings": findings,
    }))
}

/// A subject as a search: an actor (`usr_…`, `svc_…`), a project (`prj_…`), a
/// resource (`TYPE:ID`, or a bare id whose prefix names its type, as audit search reads
/// it).
pub(crate) fn subject_filter(s: &str) -> Result<AuditFilter, AppError> {
    let mut f = AuditFilter::default();
    if s.contains(':') {
        f.resource = Some(s.to_string());
    } else if s.starts_with("usr_") || s.starts_with("svc_") {
        f.actor = Some(s.to_string());
    } else if s.starts_with("prj_") {
        f.project = Some(s.to_string());
    } else if let Some(kind) = crate::ops::resource_type_of(s) {
        f.resource = Some(format!("{kind}:{s}"));
    } else {
        return Err(AppError::BadParameter(format!(
            "subject `{s}`: name a person or service (usr_…, svc_…), a project (prj_…) or a resource (TYPE:ID)"
        )));
    }
    Ok(f)
}
