//! Routes for the policy document (zones, data classes, release rules) and for releases.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use warden_api as api;
use warden_api::ProblemType;
use warden_app::policy as pol;
use warden_app::release::{self as rel, Decision};
use warden_app::release::{ExplainPlacement, PlacementQuestion};
use warden_core::ReleaseId;

use crate::convert as c;
use crate::error::ApiError;
use crate::error::Problems;
use crate::extract::{Body, Caller, Path, Query};
use crate::AppState;

type Result<T> = std::result::Result<T, ApiError>;

fn policy_version(x: warden_store::PolicyVersionRecord, with_text: bool) -> api::PolicyVersion {
    api::PolicyVersion {
        version: x.version,
        digest: x.digest,
        comment: x.comment,
        created_by: Some(x.created_by.to_string()),
        created_at: Some(c::time(x.created_at)),
        restored_from: x.restored_from,
        document: with_text.then_some(x.document),
        compiled: None,
    }
}

/// The policy document in force, with the Cedar policies compiled from it.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy",
    responses((status = 200, body = api::PolicyVersion), Problems))]
pub async fn get_policy(State(s): State<AppState>, caller: Caller) -> Result<Json<api::PolicyVersion>> {
    let v = s.app.dispatch(&caller.principal, &caller.meta, pol::GetPolicy).await?;
    let compiled = Some(v.active.document.compile());
    let out = match v.record {
        Some(r) => api::PolicyVersion { compiled, ..policy_version(r, true) },
        None => api::PolicyVersion {
            version: 0,
            digest: v.active.digest.clone(),
            comment: "the built-in default (not stored yet)".into(),
            created_by: None,
            created_at: None,
            restored_from: None,
            document: Some(v.active.text.clone()),
            compiled,
        },
    };
    Ok(Json(out))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplyQuery {
    /// With a YAML body: validate and show the changes without applying.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// With a YAML body: why the change is made.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Validates and applies a policy document as the next version: every problem is
/// reported with its line and column, nothing is applied unless all of it is valid, and
/// the change is recorded. Send JSON (`ApplyPolicyRequest`) or the YAML itself
/// (`Content-Type: application/yaml`, with `dry_run` and `comment` in the query).
#[utoipa::path(put, path = "/api/v1/policy", tag = "policy", params(ApplyQuery),
    request_body(content(
        (api::ApplyPolicyRequest = "application/json"),
        (String = "application/yaml"),
    )),
    responses((status = 200, body = api::ApplyPolicyResult), Problems))]
pub async fn apply_policy(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ApplyQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<api::ApplyPolicyResult>> {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let yaml = ["application/yaml", "application/x-yaml", "text/yaml"].iter().any(|t| ctype.starts_with(t));
    let req = if yaml {
        let document = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::new(ProblemType::BadRequest, "the document is not UTF-8"))?;
        api::ApplyPolicyRequest {
            document,
            comment: q.comment.unwrap_or_default(),
            dry_run: q.dry_run.unwrap_or(false),
        }
    } else if ctype.starts_with("application/json") {
        if q.dry_run.is_some() || q.comment.is_some() {
            return Err(ApiError::new(
                ProblemType::InvalidParameter,
                "with a JSON body, `dry_run` and `comment` go in the body",
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ProblemType::BadRequest, format!("invalid body: {e}")))?
    } else {
        return Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            "send the document as `application/yaml`, or JSON with `document`",
        ));
    };
    let dry_run = req.dry_run;
    let op = pol::ApplyPolicy { document: req.document, comment: req.comment, dry_run };
    let out = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(api::ApplyPolicyResult { version: out.version, previous: out.previous, dry_run, changes: out.changes }))
}

/// Every stored version of the policy document, newest first.
#[utoipa::path(get, path = "/api/v1/policy/versions", tag = "policy",
    responses((status = 200, body = [api::PolicyVersion]), Problems))]
pub async fn list_policy_versions(State(s): State<AppState>, caller: Caller) -> Result<Json<Vec<api::PolicyVersion>>> {
    let rows = s.app.dispatch(&caller.principal, &caller.meta, pol::ListPolicyVersions { limit: 1000 }).await?;
    Ok(Json(rows.into_iter().map(|r| policy_version(r, false)).collect()))
}

/// One stored version, with its text.
#[utoipa::path(get, path = "/api/v1/policy/versions/{version}", tag = "policy",
    params(("version" = u64, Path)), responses((status = 200, body = api::PolicyVersion), Problems))]
pub async fn get_policy_version(
    State(s): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
) -> Result<Json<api::PolicyVersion>> {
    let version = c::version_number("version", &version)?;
    let r = s.app.dispatch(&caller.principal, &caller.meta, pol::GetPolicyVersion { version }).await?;
    Ok(Json(policy_version(r, true)))
}

/// Makes an earlier version's text the next version (the history is kept).
#[utoipa::path(post, path = "/api/v1/policy/rollback", tag = "policy",
    request_body = api::RollbackPolicyRequest, responses((status = 200, body = api::ApplyPolicyResult), Problems))]
pub async fn rollback_policy(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::RollbackPolicyRequest>,
) -> Result<Json<api::ApplyPolicyResult>> {
    let op = pol::RollbackPolicy { version: req.version, comment: req.comment };
    let out = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(api::ApplyPolicyResult {
        version: out.version,
        previous: out.previous,
        dry_run: false,
        changes: out.changes,
    }))
}

/// Which rule allows or denies placing a model version (or a described one) in a zone.
#[utoipa::path(post, path = "/api/v1/policy/explain", tag = "policy",
    request_body = api::ExplainRequest, responses((status = 200, body = api::Explanation), Problems))]
pub async fn explain_placement(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::ExplainRequest>,
) -> Result<Json<api::Explanation>> {
    let invalid = |m: &str| ApiError::new(ProblemType::ValidationFailed, m.to_string());
    if let Some(action) = req.action {
        let Some(subject) = req.subject else { return Err(invalid("an access question needs `subject`")) };
        if !req.zone.is_empty() || req.model.is_some() || !req.classes.is_empty() {
            return Err(invalid("ask about access (`action`, `subject`) or placement (`zone`, …), not both"));
        }
        let project = req.project.as_deref().map(|p| c::project_id("project", p)).transpose()?;
        let op = pol::ExplainAccess { subject, action, project, mfa: req.mfa.unwrap_or(false) };
        let e = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
        let version = s.app.policy().await.version;
        return Ok(Json(api::Explanation {
            allowed: e.allowed,
            rules: e.rules,
            reasons: Vec::new(),
            explanation: e.explanation,
            facts: None,
            org_roles: Some(e.org_roles),
            project_roles: Some(e.project_roles),
            policy_version: version,
        }));
    }
    if req.zone.is_empty() {
        return Err(invalid("a placement question needs `zone`"));
    }
    let question = match (req.project, req.model, req.version) {
        (Some(p), Some(model), Some(version)) => {
            if !req.classes.is_empty() || req.signed.is_some() || req.scan_verdict.is_some() || req.expired.is_some() {
                return Err(invalid("name a model version or give the facts, not both"));
            }
            PlacementQuestion::Version { project: c::project_id("project", &p)?, model, version, zone: req.zone }
        }
        (None, None, None) => PlacementQuestion::Facts(warden_app::Placement {
            permitted_zones: req.permitted_zones.unwrap_or_else(|| vec![req.zone.clone()]).into_iter().collect(),
            zone: req.zone,
            classes: req.classes.into_iter().collect(),
            signed: req.signed.unwrap_or(false),
            scan_verdict: req.scan_verdict.unwrap_or_else(|| "safe".into()),
            expired: req.expired.unwrap_or(false),
        }),
        _ => return Err(invalid("a model version needs `project`, `model` and `version` together")),
    };
    let e = s.app.dispatch(&caller.principal, &caller.meta, ExplainPlacement { question }).await?;
    Ok(Json(api::Explanation {
        allowed: e.allowed,
        rules: e.rules,
        reasons: e.reasons,
        explanation: e.explanation,
        facts: Some(api::PlacementFacts {
            zone: e.facts.zone,
            classes: e.facts.classes.into_iter().collect(),
            signed: e.facts.signed,
            scan_verdict: e.facts.scan_verdict,
            expired: e.facts.expired,
            permitted_zones: e.facts.permitted_zones.into_iter().collect(),
        }),
        org_roles: None,
        project_roles: None,
        policy_version: e.policy_version,
    }))
}

/// Attaches evaluation evidence (metrics, a report blob) to a model version.
#[utoipa::path(post, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/evaluations", tag = "releases",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path)),
    request_body = api::AddEvaluationRequest, responses((status = 201, body = api::Evaluation), Problems))]
pub async fn add_evaluation(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name, version)): Path<(String, String, String)>,
    Body(req): Body<api::AddEvaluationRequest>,
) -> Result<(StatusCode, Json<api::Evaluation>)> {
    let project = c::project_id("id", &id)?;
    let version = c::version_number("version", &version)?;
    let op = rel::AddEvaluation {
        project,
        model: name.clone(),
        version,
        metrics: req.metrics,
        report: req.report,
        dataset: req.dataset,
    };
    let e = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(evaluation(&name, e))))
}

fn evaluation(model: &str, e: warden_store::EvaluationRecord) -> api::Evaluation {
    api::Evaluation {
        model: model.to_string(),
        version: e.version,
        seq: e.seq,
        metrics: e.metrics,
        report: e.report,
        dataset: e.dataset,
        added_by: e.added_by.to_string(),
        added_at: c::time(e.added_at),
    }
}

/// A model version's evaluations, oldest first: metrics, the dataset, the report blob.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/evaluations", tag = "releases",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path)),
    responses((status = 200, body = Vec<api::Evaluation>), Problems))]
pub async fn list_evaluations(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name, version)): Path<(String, String, String)>,
) -> Result<Json<Vec<api::Evaluation>>> {
    let op = rel::ListEvaluations {
        project: c::project_id("id", &id)?,
        model: name.clone(),
        version: c::version_number("version", &version)?,
    };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(rows.into_iter().map(|e| evaluation(&name, e)).collect()))
}

fn release(v: rel::ReleaseView) -> api::Release {
    let r = v.release;
    api::Release {
        id: r.id.to_string(),
        project: r.project.to_string(),
        model: v.model,
        version: r.version,
        zone: r.zone,
        kind: r.kind,
        reason: r.reason,
        status: v.status,
        gate: serde_json::from_str(&r.gate).unwrap_or(serde_json::Value::Null),
        approvals_required: r.approvals_required,
        approver_role: r.approver_role,
        approvals: v
            .approvals
            .into_iter()
            .map(|a| api::Approval {
                approver: a.approver.to_string(),
                decision: a.decision,
                comment: a.comment,
                mfa: a.mfa,
                at: c::time(a.at),
                withdrawn_at: a.withdrawn_at.map(c::time),
            })
            .collect(),
        policy_version: r.policy_version,
        created_by: r.created_by.to_string(),
        created_at: c::time(r.created_at),
        deployed_by: r.deployed_by.map(|s| s.to_string()),
        deployed_at: r.deployed_at.map(c::time),
        previous: r.previous.map(|p| p.to_string()),
        manifest: r.manifest,
        needs_review: r.needs_review,
        reviewed_by: r.reviewed_by.map(|s| s.to_string()),
        reviewed_at: r.reviewed_at.map(c::time),
    }
}

fn release_id(s: &str) -> Result<ReleaseId> {
    ReleaseId::parse(s).map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`release`: {e}")))
}

/// Proposes a model version for a zone: runs the automated gate (placement, signatures,
/// scan, expiry, evaluation thresholds) and records a pending release that needs the
/// project's approvals. A failing gate is answered 422 naming the rule and changes nothing.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases", tag = "releases",
    params(("id" = String, Path)), request_body = api::CreateReleaseRequest,
    responses((status = 201, body = api::Release), Problems))]
pub async fn create_release(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::CreateReleaseRequest>,
) -> Result<(StatusCode, Json<api::Release>)> {
    let op = rel::CreateRelease {
        project: c::project_id("id", &id)?,
        model: req.model,
        version: req.version,
        zone: req.zone,
        reason: req.reason,
    };
    let v = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(release(v))))
}

/// A project's releases, newest first (`unreviewed=true`: break-glass deploys awaiting review).
#[utoipa::path(get, path = "/api/v1/projects/{id}/releases", tag = "releases",
    params(("id" = String, Path), api::ReleaseQuery), responses((status = 200, body = [api::Release]), Problems))]
pub async fn list_releases(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<api::ReleaseQuery>,
) -> Result<Json<Vec<api::Release>>> {
    let op = rel::ListReleases {
        project: c::project_id("id", &id)?,
        page: c::page(q.cursor, q.limit)?,
        unreviewed: q.unreviewed.unwrap_or(false),
    };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(rows.into_iter().map(release).collect()))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/releases/{release}", tag = "releases",
    params(("id" = String, Path), ("release" = String, Path)), responses((status = 200, body = api::Release), Problems))]
pub async fn get_release(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Json<api::Release>> {
    let op = rel::GetRelease { project: c::project_id("id", &id)?, id: release_id(&rid)? };
    Ok(Json(release(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

async fn decide(
    s: &AppState,
    caller: &Caller,
    id: &str,
    rid: &str,
    decision: Decision,
    comment: String,
) -> Result<Json<api::Release>> {
    let op = rel::DecideRelease { project: c::project_id("id", id)?, id: release_id(rid)?, decision, comment };
    Ok(Json(release(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Approves a pending release: the caller needs the release rule's approver role in the
/// project and MFA, and may not be the author of the release or of the model version.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/{release}/approve", tag = "releases",
    params(("id" = String, Path), ("release" = String, Path)), request_body = api::ReleaseDecisionRequest,
    responses((status = 200, body = api::Release), Problems))]
pub async fn approve_release(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
    Body(req): Body<api::ReleaseDecisionRequest>,
) -> Result<Json<api::Release>> {
    decide(&s, &caller, &id, &rid, Decision::Approve, req.comment).await
}

/// Rejects a pending release, which ends it. Same rules as approving.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/{release}/reject", tag = "releases",
    params(("id" = String, Path), ("release" = String, Path)), request_body = api::ReleaseDecisionRequest,
    responses((status = 200, body = api::Release), Problems))]
pub async fn reject_release(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
    Body(req): Body<api::ReleaseDecisionRequest>,
) -> Result<Json<api::Release>> {
    decide(&s, &caller, &id, &rid, Decision::Reject, req.comment).await
}

/// Withdraws the caller's approval of a release that is not deployed yet.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/{release}/withdraw", tag = "releases",
    params(("id" = String, Path), ("release" = String, Path)), request_body = api::ReleaseDecisionRequest,
    responses((status = 200, body = api::Release), Problems))]
pub async fn withdraw_approval(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
    Body(req): Body<api::ReleaseDecisionRequest>,
) -> Result<Json<api::Release>> {
    decide(&s, &caller, &id, &rid, Decision::Withdraw, req.comment).await
}

/// Deploys an approved release: the gate runs again, the release manifest is signed
/// with the instance key and recorded, and the version becomes active in the zone.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/{release}/deploy", tag = "releases",
    params(("id" = String, Path), ("release" = String, Path)), responses((status = 200, body = api::Release), Problems))]
pub async fn deploy_release(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> Result<Json<api::Release>> {
    let op = rel::DeployRelease { project: c::project_id("id", &id)?, id: release_id(&rid)? };
    Ok(Json(release(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Marks a break-glass deploy reviewed (not by its author).
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/{release}/review", tag = "releases",
    params(("id" = String, Path), ("release" = String, Path)), request_body = api::ReleaseDecisionRequest,
    responses((status = 200, body = api::Release), Problems))]
pub async fn review_release(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
    Body(req): Body<api::ReleaseDecisionRequest>,
) -> Result<Json<api::Release>> {
    let op = rel::ReviewRelease { project: c::project_id("id", &id)?, id: release_id(&rid)?, comment: req.comment };
    Ok(Json(release(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Returns a zone to the release active before the current one, as a release of its own.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/rollback", tag = "releases",
    params(("id" = String, Path)), request_body = api::RollbackReleaseRequest,
    responses((status = 201, body = api::Release), Problems))]
pub async fn rollback_release(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::RollbackReleaseRequest>,
) -> Result<(StatusCode, Json<api::Release>)> {
    let op = rel::RollbackRelease {
        project: c::project_id("id", &id)?,
        zone: req.zone,
        model: req.model,
        reason: req.reason,
    };
    Ok((StatusCode::CREATED, Json(release(s.app.dispatch(&caller.principal, &caller.meta, op).await?))))
}

/// Emergency deploy: skips approvals, never placement; flagged until reviewed.
#[utoipa::path(post, path = "/api/v1/projects/{id}/releases/break-glass", tag = "releases",
    params(("id" = String, Path)), request_body = api::BreakGlassRequest,
    responses((status = 201, body = api::Release), Problems))]
pub async fn break_glass(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::BreakGlassRequest>,
) -> Result<(StatusCode, Json<api::Release>)> {
    let op = rel::BreakGlass {
        project: c::project_id("id", &id)?,
        model: req.model,
        version: req.version,
        zone: req.zone,
        justification: req.justification,
    };
    Ok((StatusCode::CREATED, Json(release(s.app.dispatch(&caller.principal, &caller.meta, op).await?))))
}

/// Which version of each model was active in a zone at a moment (default: now).
#[utoipa::path(get, path = "/api/v1/projects/{id}/releases/active", tag = "releases",
    params(("id" = String, Path), api::ActiveQuery), responses((status = 200, body = [api::ActiveRelease]), Problems))]
pub async fn active_releases(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<api::ActiveQuery>,
) -> Result<Json<Vec<api::ActiveRelease>>> {
    let at = match q.at.as_deref() {
        Some(t) => c::parse_time("at", t)?,
        None => s.app.now(),
    };
    let op = rel::ActiveReleases { project: c::project_id("id", &id)?, zone: q.zone, at };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| api::ActiveRelease {
                zone: a.deployment.zone,
                model: a.model,
                version: a.deployment.version,
                release: a.deployment.release.to_string(),
                kind: a.release.kind,
                deployed_at: c::time(a.deployment.deployed_at),
                deployed_by: a.release.deployed_by.map(|s| s.to_string()),
            })
            .collect(),
    ))
}
