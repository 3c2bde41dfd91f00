//! Routes for the data catalog and lineage.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use warden_api as api;
use warden_api::ProblemType;
use warden_app::catalog as cat;
use warden_core::DatasetId;
use warden_store::{ColumnRecord, DatasetRecord};

use crate::convert as c;
use crate::error::ApiError;
use crate::error::Problems;
use crate::extract::{Body, Caller, Path, Query};
use crate::AppState;

type Result<T> = std::result::Result<T, ApiError>;

fn dataset(d: DatasetRecord) -> api::Dataset {
    api::Dataset {
        node: warden_lineage_node(&d.namespace, &d.name),
        id: d.id.to_string(),
        namespace: d.namespace,
        name: d.name,
        project: d.project.map(|p| p.to_string()),
        location: d.location,
        layer: d.layer,
        classes: d.classes,
        columns: d
            .columns
            .into_iter()
            .map(|c| api::Column { name: c.name, type_: c.type_, classes: c.classes })
            .collect(),
        residency: d.residency,
        owner: d.owner,
        retention_days: d.retention_days,
        tags: d.tags,
        classified: d.classified,
        published: d.published,
        legal_hold: d.legal_hold,
        created_at: c::time(d.created_at),
        updated_at: c::time(d.updated_at),
    }
}

fn warden_lineage_node(namespace: &str, name: &str) -> String {
    format!("dataset:{namespace}/{name}")
}

fn spec(r: api::DatasetRequest) -> cat::DatasetSpec {
    cat::DatasetSpec {
        location: r.location,
        layer: r.layer,
        classes: r.classes,
        columns: r
            .columns
            .into_iter()
            .map(|c| ColumnRecord { name: c.name, type_: c.type_, classes: c.classes })
            .collect(),
        residency: r.residency,
        owner: r.owner,
        retention_days: r.retention_days,
        tags: r.tags,
        legal_hold: r.legal_hold,
        published: r.published,
    }
}

fn dataset_id(s: &str) -> Result<DatasetId> {
    DatasetId::parse(s).map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`dataset`: {e}")))
}

/// Registers a dataset in a project (or describes one lineage named first).
#[utoipa::path(post, path = "/api/v1/projects/{id}/datasets", tag = "catalog",
    params(("id" = String, Path)), request_body = api::DatasetRequest,
    responses((status = 201, body = api::Dataset), Problems))]
pub async fn create_dataset(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(mut req): Body<api::DatasetRequest>,
) -> Result<(StatusCode, Json<api::Dataset>)> {
    let need = |v: Option<String>, f: &str| {
        v.ok_or_else(|| ApiError::new(ProblemType::ValidationFailed, format!("`{f}` is required")))
    };
    let namespace = need(req.namespace.take(), "namespace")?;
    let name = need(req.name.take(), "name")?;
    let op = cat::CreateDataset { project: c::project_id("id", &id)?, namespace, name, spec: spec(req) };
    let d = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(dataset(d))))
}

/// Replaces a dataset's description; classification changes are recorded.
#[utoipa::path(put, path = "/api/v1/projects/{id}/datasets/{dataset}", tag = "catalog",
    params(("id" = String, Path), ("dataset" = String, Path)), request_body = api::DatasetRequest,
    responses((status = 200, body = api::Dataset), Problems))]
pub async fn update_dataset(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, did)): Path<(String, String)>,
    Body(req): Body<api::DatasetRequest>,
) -> Result<Json<api::Dataset>> {
    if req.namespace.is_some() || req.name.is_some() {
        return Err(ApiError::new(ProblemType::ValidationFailed, "a dataset's namespace and name do not change"));
    }
    let op = cat::UpdateDataset { project: c::project_id("id", &id)?, id: dataset_id(&did)?, spec: spec(req) };
    Ok(Json(dataset(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Changes only the fields present (JSON merge patch); `null` clears one. A change of
/// classes is recorded as a classification event, a hold as a hold event.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/datasets/{dataset}", tag = "catalog",
    params(("id" = String, Path), ("dataset" = String, Path)), request_body = api::DatasetPatch,
    responses((status = 200, body = api::Dataset), Problems))]
pub async fn patch_dataset(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, did)): Path<(String, String)>,
    Body(p): Body<api::DatasetPatch>,
) -> Result<Json<api::Dataset>> {
    let change = cat::DatasetChange {
        location: p.location,
        layer: p.layer,
        classes: p.classes,
        columns: p.columns.map(|cs| {
            cs.into_iter().map(|c| ColumnRecord { name: c.name, type_: c.type_, classes: c.classes }).collect()
        }),
        residency: p.residency,
        owner: p.owner,
        retention_days: p.retention_days,
        tags: p.tags,
        legal_hold: p.legal_hold,
        published: p.published,
    };
    let op = cat::PatchDataset { project: c::project_id("id", &id)?, id: dataset_id(&did)?, change };
    Ok(Json(dataset(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// The catalog (`unclassified=true`: data lineage saw that nobody described).
#[utoipa::path(get, path = "/api/v1/datasets", tag = "catalog", params(api::DatasetQuery),
    responses((status = 200, body = api::Paged<api::Dataset>), Problems))]
pub async fn list_datasets(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::DatasetQuery>,
) -> Result<Json<api::Paged<api::Dataset>>> {
    let page = c::page(q.cursor, q.limit)?;
    let project = q.project.as_deref().map(|p| c::project_id("project", p)).transpose()?;
    let op = cat::ListDatasets { project, unclassified: q.unclassified.unwrap_or(false), page: page.clone() };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(c::paged(rows, &page, |d| d.id.to_string(), dataset)))
}

/// One dataset, by id (`dst_…`) or by `NAMESPACE/NAME` (percent-encoded).
#[utoipa::path(get, path = "/api/v1/datasets/{dataset}", tag = "catalog", params(("dataset" = String, Path)),
    responses((status = 200, body = api::Dataset), Problems))]
pub async fn get_dataset(
    State(s): State<AppState>,
    caller: Caller,
    Path(did): Path<String>,
) -> Result<Json<api::Dataset>> {
    let op = cat::GetDataset { reference: cat::DatasetRef::parse(&did)? };
    Ok(Json(dataset(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Accepts one OpenLineage event (RunEvent or DatasetEvent) as Marquez does; events
/// missing required fields get 400 with the reason. Point an OpenLineage HTTP transport
/// at Warden's base URL with endpoint `api/v1/lineage` and a Warden token as API key.
#[utoipa::path(post, path = "/api/v1/lineage", tag = "catalog", request_body = Object,
    responses((status = 201), Problems))]
pub async fn post_lineage(State(s): State<AppState>, caller: Caller, Body(event): Body<Value>) -> Result<StatusCode> {
    s.app.dispatch(&caller.principal, &caller.meta, cat::IngestLineage { event }).await?;
    Ok(StatusCode::CREATED)
}

/// The graph upstream or downstream of a node, to a depth, with datasets' classes.
#[utoipa::path(get, path = "/api/v1/lineage", tag = "catalog", params(api::LineageQuery),
    responses((status = 200, body = api::LineageGraph), Problems))]
pub async fn get_lineage(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::LineageQuery>,
) -> Result<Json<api::LineageGraph>> {
    let direction = match q.direction.as_deref().unwrap_or("upstream") {
        "upstream" => warden_lineage_dir(true),
        "downstream" => warden_lineage_dir(false),
        other => {
            return Err(ApiError::new(
                ProblemType::InvalidParameter,
                format!("`direction` `{other}`: use upstream or downstream"),
            ))
        }
    };
    let op = cat::LineageGraph { node: q.node, direction, depth: q.depth.unwrap_or(10) };
    let g = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let name = |i: u32| g.walk.nodes.get(i as usize).map(|(n, _)| n.clone()).unwrap_or_default();
    let edges = g.walk.edges.iter().map(|&(a, b)| [name(a), name(b)]).collect();
    Ok(Json(api::LineageGraph {
        nodes: g
            .walk
            .nodes
            .into_iter()
            .map(|(node, depth)| api::LineageNode {
                classes: g.classes.get(&node).cloned().unwrap_or_default(),
                node,
                depth,
            })
            .collect(),
        edges,
        edge_kinds: g.edge_kinds.iter().map(|k| k.to_string()).collect(),
        cycle: g.walk.cycle,
        truncated: g.walk.truncated,
    }))
}

fn warden_lineage_dir(upstream: bool) -> warden_app::catalog::Direction {
    if upstream {
        warden_app::catalog::Direction::Upstream
    } else {
        warden_app::catalog::Direction::Downstream
    }
}

/// A model version's effective classes: declared, and those of every upstream dataset,
/// each with the path that brought it in.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/classes", tag = "catalog",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path)),
    responses((status = 200, body = [api::EffectiveClass]), Problems))]
pub async fn version_classes(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name, version)): Path<(String, String, String)>,
) -> Result<Json<Vec<api::EffectiveClass>>> {
    let op = cat::VersionClasses {
        project: c::project_id("id", &id)?,
        model: name,
        version: c::version_number("version", &version)?,
    };
    let classes = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(classes.into_iter().map(|(class, path)| api::EffectiveClass { class, path }).collect()))
}

/// Residency violations and unclassified data in use.
#[utoipa::path(get, path = "/api/v1/findings", tag = "catalog", responses((status = 200, body = api::Findings), Problems))]
pub async fn findings(State(s): State<AppState>, caller: Caller) -> Result<Json<api::Findings>> {
    let f = s.app.dispatch(&caller.principal, &caller.meta, warden_app::governance::GetFindings).await?;
    Ok(Json(api::Findings {
        residency_violations: f
            .residency
            .into_iter()
            .map(|v| api::ResidencyViolation {
                run: v.user,
                job: v.job,
                zone: v.zone,
                region: v.region,
                dataset: v.dataset,
                residency: v.residency,
            })
            .collect(),
        unclassified_in_use: f.unclassified_in_use,
    }))
}

fn transfer(t: warden_store::TransferRecord) -> api::Transfer {
    api::Transfer {
        id: t.id.to_string(),
        project: t.project.to_string(),
        dataset: t.dataset.to_string(),
        to_zone: t.to_zone,
        reason: t.reason,
        status: t.status,
        requested_by: t.requested_by.to_string(),
        requested_at: c::time(t.requested_at),
        decided_by: t.decided_by.map(|s| s.to_string()),
        decided_at: t.decided_at.map(c::time),
    }
}

/// Asks to use a dataset in a zone outside its residency region.
#[utoipa::path(post, path = "/api/v1/projects/{id}/transfers", tag = "catalog", params(("id" = String, Path)),
    request_body = api::TransferRequest, responses((status = 201, body = api::Transfer), Problems))]
pub async fn request_transfer(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::TransferRequest>,
) -> Result<(StatusCode, Json<api::Transfer>)> {
    let op = warden_app::governance::RequestTransfer {
        project: c::project_id("id", &id)?,
        dataset: dataset_id(&req.dataset)?,
        to_zone: req.to_zone,
        reason: req.reason,
    };
    Ok((StatusCode::CREATED, Json(transfer(s.app.dispatch(&caller.principal, &caller.meta, op).await?))))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/transfers", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = [api::Transfer]), Problems))]
pub async fn list_transfers(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<api::Transfer>>> {
    let op = warden_app::governance::ListTransfers { project: c::project_id("id", &id)? };
    Ok(Json(s.app.dispatch(&caller.principal, &caller.meta, op).await?.into_iter().map(transfer).collect()))
}

fn transfer_id(s: &str) -> Result<warden_core::TransferId> {
    warden_core::TransferId::parse(s)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`transfer`: {e}")))
}

async fn decide_transfer(
    s: &AppState,
    caller: &Caller,
    id: &str,
    tid: &str,
    approve: bool,
) -> Result<Json<api::Transfer>> {
    let op =
        warden_app::governance::DecideTransfer { project: c::project_id("id", id)?, id: transfer_id(tid)?, approve };
    Ok(Json(transfer(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Approves a transfer (approver role, MFA, not the requester).
#[utoipa::path(post, path = "/api/v1/projects/{id}/transfers/{transfer}/approve", tag = "catalog",
    params(("id" = String, Path), ("transfer" = String, Path)), responses((status = 200, body = api::Transfer), Problems))]
pub async fn approve_transfer(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(String, String)>,
) -> Result<Json<api::Transfer>> {
    decide_transfer(&s, &caller, &id, &tid, true).await
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/transfers/{transfer}/reject", tag = "catalog",
    params(("id" = String, Path), ("transfer" = String, Path)), responses((status = 200, body = api::Transfer), Problems))]
pub async fn reject_transfer(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(String, String)>,
) -> Result<Json<api::Transfer>> {
    decide_transfer(&s, &caller, &id, &tid, false).await
}

fn deletion(
    r: warden_store::DeletionRequestRecord,
    tasks: Vec<warden_store::DeletionTaskRecord>,
) -> api::DeletionRequest {
    let id = r.id.to_string();
    api::DeletionRequest {
        complete: tasks.iter().all(|t| t.status == "done"),
        tasks: tasks.into_iter().map(|t| task(&id, t)).collect(),
        id,
        subject_ref: r.subject_ref,
        reason: r.reason,
        datasets: r.datasets.iter().map(|d| d.to_string()).collect(),
        requested_by: r.requested_by.to_string(),
        requested_at: c::time(r.requested_at),
        due_at: c::time(r.due_at),
    }
}

fn task(request: &str, t: warden_store::DeletionTaskRecord) -> api::DeletionTask {
    api::DeletionTask {
        request: request.to_string(),
        seq: t.seq,
        target: t.target,
        kind: t.kind,
        project: t.project.map(|p| p.to_string()),
        owner: t.owner,
        due_at: c::time(t.due_at),
        status: t.status,
        evidence: t.evidence,
        closed_by: t.closed_by.map(|s| s.to_string()),
        closed_at: t.closed_at.map(c::time),
    }
}

fn deletion_id(s: &str) -> Result<warden_core::DeletionId> {
    warden_core::DeletionId::parse(s)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`request`: {e}")))
}

/// Registers a deletion request: one task per dataset and model version downstream of
/// the named datasets; refused while any of them is under a legal hold.
#[utoipa::path(post, path = "/api/v1/deletion-requests", tag = "catalog", request_body = api::DeletionRequestBody,
    responses((status = 201, body = api::DeletionRequest), Problems))]
pub async fn request_deletion(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::DeletionRequestBody>,
) -> Result<(StatusCode, Json<api::DeletionRequest>)> {
    let datasets = req.datasets.iter().map(|d| dataset_id(d)).collect::<Result<Vec<_>>>()?;
    let op = warden_app::governance::RequestDeletion {
        datasets,
        subject_ref: req.subject_ref,
        reason: req.reason,
        due_in_days: req.due_in_days.unwrap_or(30),
    };
    let (r, tasks) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(deletion(r, tasks))))
}

#[utoipa::path(get, path = "/api/v1/deletion-requests/{request}", tag = "catalog", params(("request" = String, Path)),
    responses((status = 200, body = api::DeletionRequest), Problems))]
pub async fn get_deletion(
    State(s): State<AppState>,
    caller: Caller,
    Path(rid): Path<String>,
) -> Result<Json<api::DeletionRequest>> {
    let op = warden_app::governance::GetDeletion { id: deletion_id(&rid)? };
    let (r, tasks) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(deletion(r, tasks)))
}

/// Outstanding deletion tasks, soonest due first.
#[utoipa::path(get, path = "/api/v1/deletion-report", tag = "catalog",
    responses((status = 200, body = [api::DeletionTask]), Problems))]
pub async fn deletion_report(State(s): State<AppState>, caller: Caller) -> Result<Json<Vec<api::DeletionTask>>> {
    let rows = s.app.dispatch(&caller.principal, &caller.meta, warden_app::governance::DeletionReport).await?;
    Ok(Json(rows.into_iter().map(|(id, t)| task(id.as_str(), t)).collect()))
}

/// Closes a deletion task with evidence (the task's project's writers).
#[utoipa::path(post, path = "/api/v1/deletion-requests/{request}/tasks/{seq}/close", tag = "catalog",
    params(("request" = String, Path), ("seq" = u64, Path)), request_body = api::CloseTaskRequest,
    responses((status = 200, body = api::DeletionTask), Problems))]
pub async fn close_deletion_task(
    State(s): State<AppState>,
    caller: Caller,
    Path((rid, seq)): Path<(String, String)>,
    Body(req): Body<api::CloseTaskRequest>,
) -> Result<Json<api::DeletionTask>> {
    let id = deletion_id(&rid)?;
    let seq = c::version_number("seq", &seq)?;
    let op = warden_app::governance::CloseDeletionTask { id: id.clone(), seq, evidence: req.evidence };
    let t = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(task(id.as_str(), t)))
}

/// Opens one gateway payload log (administrators; the read is recorded).
#[utoipa::path(get, path = "/api/v1/projects/{id}/payload-logs/{log}", tag = "gateway",
    params(("id" = String, Path), ("log" = String, Path)), responses((status = 200, body = api::PayloadLog), Problems))]
pub async fn read_payload_log(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, log)): Path<(String, String)>,
) -> Result<Json<api::PayloadLog>> {
    let op = warden_app::payload::ReadPayloadLog { project: c::project_id("id", &id)?, id: log };
    let (r, payload) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(api::PayloadLog {
        id: r.id,
        project: r.project.to_string(),
        key: r.key,
        zone: r.zone,
        class: r.class,
        created_at: c::time(r.created_at),
        expires_at: c::time(r.expires_at),
        payload,
    }))
}

/// Applies retention now (it also runs every minute): expired payload logs are deleted,
/// each deletion recorded.
#[utoipa::path(post, path = "/api/v1/retention/run", tag = "catalog",
    responses((status = 200, body = api::RetentionRun), Problems))]
pub async fn run_retention(State(s): State<AppState>, caller: Caller) -> Result<Json<api::RetentionRun>> {
    let n = s.app.dispatch(&caller.principal, &caller.meta, warden_app::payload::RunRetention).await?;
    Ok(Json(api::RetentionRun { deleted: n as u64 }))
}

/// What retention and deletion still have to remove, soonest first, with what holds
/// each (auditors and administrators).
#[utoipa::path(get, path = "/api/v1/retention/status", tag = "catalog",
    responses((status = 200, body = [api::RetentionItem]), Problems))]
pub async fn retention_status(State(s): State<AppState>, caller: Caller) -> Result<Json<Vec<api::RetentionItem>>> {
    let rows = s.app.dispatch(&caller.principal, &caller.meta, warden_app::payload::RetentionStatus).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| api::RetentionItem {
                kind: r.kind.to_string(),
                project: r.project.map(|p| p.to_string()),
                subject: r.subject,
                item: r.item,
                due: c::time(r.due),
                held_by: r.held_by,
                overdue: r.overdue,
            })
            .collect(),
    ))
}

fn proposal(p: warden_store::ProposalRecord) -> api::Proposal {
    let body: Value = serde_json::from_str(&p.body).unwrap_or(Value::Null);
    api::Proposal {
        id: p.id,
        dataset: p.dataset.to_string(),
        status: p.status,
        rows: body.get("rows").and_then(Value::as_u64).unwrap_or(0),
        columns: body.get("columns").and_then(|c| serde_json::from_value(c.clone()).ok()).unwrap_or_default(),
        proposed_by: p.proposed_by.to_string(),
        proposed_at: c::time(p.proposed_at),
        decided_by: p.decided_by.map(|s| s.to_string()),
    }
}

/// Proposes column classes from a local scan of a sample (kinds and counts only).
#[utoipa::path(post, path = "/api/v1/projects/{id}/datasets/{dataset}/proposals", tag = "catalog",
    params(("id" = String, Path), ("dataset" = String, Path)), request_body = api::ProposalRequest,
    responses((status = 201, body = api::Proposal), Problems))]
pub async fn propose_classes(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, did)): Path<(String, String)>,
    Body(req): Body<api::ProposalRequest>,
) -> Result<(StatusCode, Json<api::Proposal>)> {
    let op = cat::ProposeClasses {
        project: c::project_id("id", &id)?,
        dataset: dataset_id(&did)?,
        rows: req.rows,
        columns: req
            .columns
            .into_iter()
            .map(|c| cat::ProposedColumn { name: c.name, counts: c.counts, classes: c.classes })
            .collect(),
    };
    Ok((StatusCode::CREATED, Json(proposal(s.app.dispatch(&caller.principal, &caller.meta, op).await?))))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/datasets/{dataset}/proposals", tag = "catalog",
    params(("id" = String, Path), ("dataset" = String, Path)), responses((status = 200, body = [api::Proposal]), Problems))]
pub async fn list_proposals(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, did)): Path<(String, String)>,
) -> Result<Json<Vec<api::Proposal>>> {
    let op = cat::ListProposals { project: c::project_id("id", &id)?, dataset: dataset_id(&did)? };
    Ok(Json(s.app.dispatch(&caller.principal, &caller.meta, op).await?.into_iter().map(proposal).collect()))
}

async fn decide_proposal(
    s: &AppState,
    caller: &Caller,
    id: &str,
    pid: String,
    accept: bool,
) -> Result<Json<api::Proposal>> {
    let op = cat::DecideProposal { project: c::project_id("id", id)?, id: pid, accept };
    let (p, _) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(proposal(p)))
}

/// Accepts a proposal: its classes join the dataset's columns (project owners).
#[utoipa::path(post, path = "/api/v1/projects/{id}/proposals/{proposal}/accept", tag = "catalog",
    params(("id" = String, Path), ("proposal" = String, Path)), responses((status = 200, body = api::Proposal), Problems))]
pub async fn accept_proposal(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Json<api::Proposal>> {
    decide_proposal(&s, &caller, &id, pid, true).await
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/proposals/{proposal}/reject", tag = "catalog",
    params(("id" = String, Path), ("proposal" = String, Path)), responses((status = 200, body = api::Proposal), Problems))]
pub async fn reject_proposal(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Json<api::Proposal>> {
    decide_proposal(&s, &caller, &id, pid, false).await
}

/// Removes a dataset from the catalog (project owners; refused under a legal hold).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/datasets/{dataset}", tag = "catalog",
    params(("id" = String, Path), ("dataset" = String, Path)), responses((status = 204), Problems))]
pub async fn delete_dataset(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, did)): Path<(String, String)>,
) -> Result<StatusCode> {
    let op = cat::DeleteDataset { project: c::project_id("id", &id)?, id: dataset_id(&did)? };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn quarantine_view(q: warden_store::QuarantineRecord) -> api::Quarantine {
    api::Quarantine {
        id: q.id.to_string(),
        target: q.target,
        project: q.project.to_string(),
        reason: q.reason,
        placed_by: q.placed_by.to_string(),
        placed_at: c::time(q.placed_at),
        lifted_by: q.lifted_by.map(|s| s.to_string()),
        lifted_at: q.lifted_at.map(c::time),
        lift_reason: q.lift_reason,
    }
}

fn quarantine_target(req: &api::QuarantineRequest) -> Result<warden_app::quarantine::QuarantineTarget> {
    use warden_app::quarantine::QuarantineTarget as T;
    match (&req.dataset, &req.model, req.version) {
        (Some(d), None, None) => Ok(T::Dataset(d.clone())),
        (None, Some(m), Some(v)) if v > 0 => Ok(T::Version { model: m.clone(), version: v }),
        _ => Err(ApiError::new(
            ProblemType::ValidationFailed,
            "name either `dataset`, or `model` with `version` (1, 2, …), to quarantine",
        )),
    }
}

/// Quarantines a dataset or a model version: it cannot be released, pulled, called
/// through the gateway or used to train a new version until someone else lifts it.
#[utoipa::path(post, path = "/api/v1/projects/{id}/quarantines", tag = "catalog",
    params(("id" = String, Path)), request_body = api::QuarantineRequest,
    responses((status = 201, body = api::Quarantine), Problems))]
pub async fn place_quarantine(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::QuarantineRequest>,
) -> Result<(StatusCode, Json<api::Quarantine>)> {
    let op = warden_app::quarantine::PlaceQuarantine {
        project: c::project_id("id", &id)?,
        target: quarantine_target(&req)?,
        reason: req.reason,
    };
    Ok((StatusCode::CREATED, Json(quarantine_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?))))
}

/// Lifts a quarantine: someone other than who placed it, with a second factor.
#[utoipa::path(post, path = "/api/v1/projects/{id}/quarantines/lift", tag = "catalog",
    params(("id" = String, Path)), request_body = api::QuarantineRequest,
    responses((status = 200, body = api::Quarantine), Problems))]
pub async fn lift_quarantine(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::QuarantineRequest>,
) -> Result<Json<api::Quarantine>> {
    let op = warden_app::quarantine::LiftQuarantine {
        project: c::project_id("id", &id)?,
        target: quarantine_target(&req)?,
        reason: req.reason,
    };
    Ok(Json(quarantine_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// A project's quarantines, open and lifted, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/quarantines", tag = "catalog",
    params(("id" = String, Path)), responses((status = 200, body = [api::Quarantine]), Problems))]
pub async fn list_quarantines(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<api::Quarantine>>> {
    let op = warden_app::quarantine::ListQuarantines { project: c::project_id("id", &id)? };
    Ok(Json(s.app.dispatch(&caller.principal, &caller.meta, op).await?.into_iter().map(quarantine_view).collect()))
}
