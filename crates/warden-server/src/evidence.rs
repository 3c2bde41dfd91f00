//! The auditor's questions under `/api/v1/evidence/…`: each answer carries the ledger
//! entries it rests on with their proofs, signed, so it verifies offline.

use axum::extract::State;
use axum::Json;
use warden_api as api;
use warden_api::ProblemType;
use warden_app::evidence::{AccessScope, Evidence, Question};
use warden_core::ReleaseId;

use crate::convert as c;
use crate::error::{ApiError, Problems};
use crate::extract::{Caller, Query};
use crate::AppState;

type Result<T> = std::result::Result<T, ApiError>;

async fn answer(s: &AppState, caller: &Caller, q: Question) -> Result<Json<api::Evidence>> {
    let bundle = s.app.dispatch(&caller.principal, &caller.meta, Evidence(q)).await?;
    // The bundle and the wire type are the same JSON (`warden-evidence/v1`).
    let wire = serde_json::to_value(bundle)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::new(ProblemType::Internal, format!("evidence: {e}")))?;
    Ok(Json(wire))
}

fn version(q: api::EvidenceVersionQuery) -> Result<(warden_core::ProjectId, String, u64)> {
    if q.version == 0 {
        return Err(ApiError::new(ProblemType::InvalidParameter, "`version` must be a version number (1, 2, …)"));
    }
    Ok((c::project_id("project", &q.project)?, q.model, q.version))
}

/// Question 1: every dataset a model version touched (training, evaluation,
/// inference), with its classes and the lineage path that brought each.
#[utoipa::path(get, path = "/api/v1/evidence/data-access", tag = "evidence",
    params(api::EvidenceVersionQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_data_access(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceVersionQuery>,
) -> Result<Json<api::Evidence>> {
    let (project, model, version) = version(q)?;
    answer(&s, &caller, Question::DataAccess { project, model, version }).await
}

/// Question 2: where a model version's data is stored and everywhere it was processed,
/// with residency findings.
#[utoipa::path(get, path = "/api/v1/evidence/locations", tag = "evidence",
    params(api::EvidenceVersionQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_locations(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceVersionQuery>,
) -> Result<Json<api::Evidence>> {
    let (project, model, version) = version(q)?;
    answer(&s, &caller, Question::Locations { project, model, version }).await
}

/// Question 3: who could act in a project or a zone at a moment (default now): people
/// and services through project roles, groups and organisation roles, each grant with
/// who gave it, and the tokens live then.
#[utoipa::path(get, path = "/api/v1/evidence/access", tag = "evidence",
    params(api::EvidenceAccessQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_access(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceAccessQuery>,
) -> Result<Json<api::Evidence>> {
    let at = q.at.as_deref().map(|t| c::parse_time("at", t)).transpose()?.unwrap_or_else(|| s.app.now());
    let scope = match (q.project, q.zone) {
        (Some(p), None) => AccessScope::Project(c::project_id("project", &p)?),
        (None, Some(z)) if !z.is_empty() && z.len() <= 200 => AccessScope::Zone(z),
        _ => return Err(ApiError::new(ProblemType::InvalidParameter, "give exactly one of `project` and `zone`")),
    };
    answer(&s, &caller, Question::Access { scope, at }).await
}

/// Question 4: what was active in a zone at a moment, across projects; or with `from`
/// and `to`, the zone's deployments in that window.
#[utoipa::path(get, path = "/api/v1/evidence/active", tag = "evidence",
    params(api::EvidenceActiveQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_active(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceActiveQuery>,
) -> Result<Json<api::Evidence>> {
    let now = s.app.now();
    let at = q.at.as_deref().map(|t| c::parse_time("at", t)).transpose()?.unwrap_or(now);
    let window = match (q.from.as_deref(), q.to.as_deref()) {
        (None, None) => None,
        (Some(f), t) if q.at.is_none() => {
            Some((c::parse_time("from", f)?, t.map(|t| c::parse_time("to", t)).transpose()?.unwrap_or(now)))
        }
        _ => {
            return Err(ApiError::new(
                ProblemType::InvalidParameter,
                "give `at` (what was active then) or `from` with an optional `to` (the zone's history), not both",
            ))
        }
    };
    answer(&s, &caller, Question::Active { zone: q.zone, at, window }).await
}

/// Question 5: how a release came to be: proposer, approvers with MFA, gate, evaluation,
/// policy version, deploy and the signed manifest.
#[utoipa::path(get, path = "/api/v1/evidence/change", tag = "evidence",
    params(api::EvidenceChangeQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_change(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceChangeQuery>,
) -> Result<Json<api::Evidence>> {
    let project = c::project_id("project", &q.project)?;
    let release = ReleaseId::parse(&q.release)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`release`: {e}")))?;
    answer(&s, &caller, Question::Change { project, release }).await
}

/// Question 6: the log's completeness over a window (checkpoints chained by
/// consistency proofs) and the events touching a subject, in order.
#[utoipa::path(get, path = "/api/v1/evidence/log", tag = "evidence",
    params(api::EvidenceLogQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_log(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceLogQuery>,
) -> Result<Json<api::Evidence>> {
    let from = c::parse_time("from", &q.from)?;
    let to = q.to.as_deref().map(|t| c::parse_time("to", t)).transpose()?.unwrap_or_else(|| s.app.now());
    if let Some(sub) = &q.subject {
        if sub.is_empty() || sub.len() > 200 {
            return Err(ApiError::new(ProblemType::InvalidParameter, "`subject` must be 1 to 200 characters"));
        }
    }
    answer(&s, &caller, Question::Log { from, to, subject: q.subject }).await
}

/// Question 7: retention, legal holds and deletion requests (with their tasks and
/// evidence) for a dataset or a data subject.
#[utoipa::path(get, path = "/api/v1/evidence/data-handling", tag = "evidence",
    params(api::EvidenceDataQuery), responses((status = 200, body = api::Evidence), Problems))]
pub async fn evidence_data_handling(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::EvidenceDataQuery>,
) -> Result<Json<api::Evidence>> {
    if q.dataset.is_some() == q.subject.is_some() {
        return Err(ApiError::new(ProblemType::InvalidParameter, "give exactly one of `dataset` and `subject`"));
    }
    for v in [&q.dataset, &q.subject].into_iter().flatten() {
        if v.is_empty() || v.len() > 512 {
            return Err(ApiError::new(
                ProblemType::InvalidParameter,
                "`dataset` and `subject` are 1 to 512 characters",
            ));
        }
    }
    answer(&s, &caller, Question::DataHandling { dataset: q.dataset, subject: q.subject }).await
}
