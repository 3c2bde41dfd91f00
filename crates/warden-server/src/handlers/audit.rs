//! The audit ledger: its key, checkpoints, entries, proofs and the event stream.

use super::*;

// ---------------------------------------------------------------- audit ledger

fn entry_view(e: ops::LedgerEntry) -> api::AuditEntry {
    api::AuditEntry {
        index: e.index,
        leaf: warden_tlog::b64(&e.leaf),
        leaf_hash: warden_tlog::b64(&e.leaf_hash),
        event: serde_json::to_value(&e.event).unwrap_or_default(),
    }
}

fn proof_view(hashes: Vec<warden_tlog::Hash>) -> api::AuditProof {
    api::AuditProof { hashes: hashes.iter().map(|h| warden_tlog::b64(h)).collect() }
}

fn bounded(limit: Option<u32>) -> Result<u32> {
    let l = limit.unwrap_or(100);
    if !(1..=1000).contains(&l) {
        return Err(ApiError::new(ProblemType::InvalidParameter, "`limit` must be between 1 and 1000"));
    }
    Ok(l)
}

/// The checkpoint verifier key, `<name>+<hex key id>+<base64(0x01 || key)>`. Public.
#[utoipa::path(get, path = "/api/v1/audit/public-key", tag = "audit", security(()),
    responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn audit_public_key(State(s): State<AppState>) -> impl IntoResponse {
    text(format!("{}\n", s.app.ledger().verifier()))
}

/// The latest signed checkpoint (C2SP tlog-checkpoint in a signed note).
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit",
    responses((status = 200, body = String, content_type = "text/plain"), Problems))]
pub async fn audit_checkpoint(State(s): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let c = s.app.dispatch(&caller.principal, &caller.meta, ops::LatestCheckpoint).await?;
    Ok(text(c.note))
}

/// The latest checkpoint the log's witnesses cosigned, with their cosignature lines
/// (C2SP tlog-cosignature); 404 when none is configured or none has answered yet.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint/cosigned", tag = "audit",
    responses((status = 200, body = String, content_type = "text/plain"), Problems))]
pub async fn audit_cosigned_checkpoint(State(s): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let (_, note) = s.app.dispatch(&caller.principal, &caller.meta, ops::CosignedCheckpoint).await?;
    Ok(text(note))
}

/// Stored signed checkpoints, smallest tree size first.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit", params(api::CheckpointsQuery),
    responses((status = 200, body = [api::AuditCheckpoint]), Problems))]
pub async fn audit_checkpoints(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::CheckpointsQuery>,
) -> Result<Json<Vec<api::AuditCheckpoint>>> {
    let op = ops::ListCheckpoints { from_size: q.from_size.unwrap_or(0), limit: bounded(q.limit)? };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| api::AuditCheckpoint { tree_size: c.tree_size, note: c.note, created_at: c::time(c.created_at) })
            .collect(),
    ))
}

/// One ledger entry by index.
#[utoipa::path(get, path = "/api/v1/audit/entries/{index}", tag = "audit", params(("index" = u64, Path)),
    responses((status = 200, body = api::AuditEntry), Problems))]
pub async fn audit_entry(
    State(s): State<AppState>,
    caller: Caller,
    Path(index): Path<u64>,
) -> Result<Json<api::AuditEntry>> {
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ReadAuditEntries { from: index, limit: 1 }).await?;
    let e = rows.into_iter().next().filter(|e| e.index == index);
    e.map(|e| Json(entry_view(e)))
        .ok_or_else(|| ApiError::new(ProblemType::NotFound, format!("the ledger has no entry {index}")))
}

/// A run of ledger entries from an index, for verifiers.
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", params(api::EntriesQuery),
    responses((status = 200, body = [api::AuditEntry]), Problems))]
pub async fn audit_entries(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EntriesQuery>,
) -> Result<Json<Vec<api::AuditEntry>>> {
    let op = ops::ReadAuditEntries { from: q.from, limit: bounded(q.limit)? };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(rows.into_iter().map(entry_view).collect()))
}

/// RFC 9162 inclusion proof.
#[utoipa::path(get, path = "/api/v1/audit/proof/inclusion", tag = "audit", params(api::InclusionQuery),
    responses((status = 200, body = api::AuditProof), Problems))]
pub async fn audit_inclusion(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::InclusionQuery>,
) -> Result<Json<api::AuditProof>> {
    let op = ops::InclusionProof { index: q.index, tree_size: q.tree_size };
    Ok(Json(proof_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// RFC 9162 consistency proof.
#[utoipa::path(get, path = "/api/v1/audit/proof/consistency", tag = "audit", params(api::ConsistencyQuery),
    responses((status = 200, body = api::AuditProof), Problems))]
pub async fn audit_consistency(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::ConsistencyQuery>,
) -> Result<Json<api::AuditProof>> {
    let op = ops::ConsistencyProof { from: q.from, to: q.to };
    Ok(Json(proof_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// The log as C2SP tlog-tiles, so that standard tools can mirror it and compute any
/// proof themselves: `tile/<L>/<N>[.p/<W>]` is a tile of hashes (level 0: leaf hashes),
/// `tile/entries/<N>[.p/<W>]` the entries a level-0 tile hashes (each a big-endian u16
/// length and the entry's canonical JSON); `<N>` in groups of three digits, all but the
/// last after an `x`. With `/api/v1/audit/checkpoint`, `/api/v1/audit` is the prefix.
/// Full tiles never change; partial ones (`.p/<W>`) exist up to the current size.
#[utoipa::path(get, path = "/api/v1/audit/tile/{path}", tag = "audit",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, slashes included")),
    responses((status = 200, content_type = "application/octet-stream", body = String), Problems))]
pub async fn audit_tile(
    State(s): State<AppState>,
    caller: Caller,
    Path(path): Path<String>,
) -> Result<impl IntoResponse> {
    let (tile, bytes) = s.app.dispatch(&caller.principal, &caller.meta, ops::ReadTile(path)).await?;
    let partial = matches!(
        tile,
        warden_tlog::tiles::TilePath::Hashes { width: Some(_), .. }
            | warden_tlog::tiles::TilePath::Entries { width: Some(_), .. }
    );
    let cache = if partial { "private, no-cache" } else { "private, max-age=31536000, immutable" };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/octet-stream"), (axum::http::header::CACHE_CONTROL, cache)],
        bytes,
    ))
}

/// A resource as the ledger names it, `TYPE:ID`; a bare id (`rel_…`, `dst_…`, `usr_…`)
/// gets the type its prefix names. A bare value with no known prefix is refused rather
/// than matching nothing.
fn resource_filter(r: String) -> Result<String> {
    if r.contains(':') {
        return Ok(r);
    }
    let Some(kind) = warden_app::ops::resource_type_of(&r) else {
        return Err(ApiError::new(
            ProblemType::InvalidParameter,
            format!("`resource`: `{r}` is not an id Warden issues; write TYPE:ID (`release:rel_…`, `zone:hipaa-ai`)"),
        ));
    };
    Ok(format!("{kind}:{r}"))
}

/// Searches the ledger by time range, actor, action, resource, outcome and project.
/// Reading it is itself recorded.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(api::AuditQuery),
    responses((status = 200, body = api::Paged<api::AuditEntry>), Problems))]
pub async fn audit_events(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::AuditQuery>,
) -> Result<Json<api::Paged<api::AuditEntry>>> {
    if q.cursor.as_deref().is_some_and(|c| c.parse::<u64>().is_err()) {
        return Err(ApiError::new(ProblemType::InvalidParameter, "`cursor`: not a cursor returned by this API"));
    }
    let page = c::page(q.cursor, q.limit)?;
    let filter = AuditFilter {
        category: q.category,
        action: q.action,
        actor: q.actor,
        resource: q.resource.map(resource_filter).transpose()?,
        outcome: q.outcome,
        project: q.project,
        since: q.since.as_deref().map(|t| c::parse_time("since", t)).transpose()?,
        until: q.until.as_deref().map(|t| c::parse_time("until", t)).transpose()?,
    };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::SearchAudit { filter, page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |e| e.index.to_string(), entry_view)))
}
