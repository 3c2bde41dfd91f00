//! One handler per route: parse the wire request, build the operation, dispatch it,
//! convert the result. Permissions are decided in dispatch, never here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use warden_api as api;
use warden_api::ProblemType;
use warden_app::ops;
use warden_core::PrincipalKind;
use warden_store::AuditFilter;

use crate::convert as c;
use crate::error::ApiError;
use crate::extract::{Body, Caller, Meta, Path, Query};
use crate::openapi::Problems;
use crate::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// Routes that need no authentication: health, readiness, metrics.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

fn text(body: String) -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}

async fn healthz() -> Json<api::Health> {
    Json(api::Health { status: "ok".into(), witnesses: Vec::new() })
}

async fn readyz(State(s): State<AppState>) -> Result<Json<api::Health>> {
    let lags = s.app.ready().await?;
    let witnesses =
        lags.into_iter().map(|(witness, cosigned, behind)| api::WitnessLag { witness, cosigned, behind }).collect();
    Ok(Json(api::Health { status: "ready".into(), witnesses }))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.encode())
}

// ---------------------------------------------------------------- sign-in

/// Signs in with a password (and TOTP code once enrolled); returns a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", security(()),
    request_body = api::LoginRequest,
    responses((status = 200, body = api::LoginResponse), Problems))]
pub async fn login(
    State(s): State<AppState>,
    Meta(meta): Meta,
    Body(req): Body<api::LoginRequest>,
) -> Result<Json<api::LoginResponse>> {
    let out = s
        .app
        .login(warden_app::LoginInput { username: req.username, password: req.password, totp: req.totp }, &meta)
        .await?;
    Ok(Json(session(out)))
}

// ---------------------------------------------------------------- self-service

/// Who the caller is, with roles and projects.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "identity", responses((status = 200, body = api::Whoami), Problems))]
pub async fn whoami(State(s): State<AppState>, caller: Caller) -> Result<Json<api::Whoami>> {
    let v = s.app.dispatch(&caller.principal, &caller.meta, ops::Whoami).await?;
    let p = v.principal;
    Ok(Json(api::Whoami {
        id: p.id.to_string(),
        name: p.name,
        kind: p.kind.as_str().into(),
        org_roles: p.org_roles.iter().map(|r| r.to_string()).collect(),
        projects: v
            .projects
            .into_iter()
            .map(|(proj, roles)| api::ProjectRoles {
                project_id: proj.id.to_string(),
                project_name: proj.name,
                roles: roles.iter().map(|r| r.to_string()).collect(),
            })
            .collect(),
        auth_method: match p.method {
            warden_core::AuthMethod::Token => "token".into(),
            warden_core::AuthMethod::Oidc => "oidc".into(),
        },
        mfa: p.mfa,
        totp_enrolled: p.totp_enrolled,
        token_id: p.scope.as_ref().map(|s| s.token_id.to_string()),
        token_project: p.scope.as_ref().and_then(|s| s.project.as_ref().map(|x| x.to_string())),
        token_role: p.scope.as_ref().and_then(|s| s.role.map(|r| r.to_string())),
    }))
}

/// Starts TOTP enrolment for the caller; confirm it with a code.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "identity", responses((status = 201, body = api::TotpEnrolment), Problems))]
pub async fn totp_enrol(State(s): State<AppState>, caller: Caller) -> Result<(StatusCode, Json<api::TotpEnrolment>)> {
    let e = s.app.dispatch(&caller.principal, &caller.meta, ops::TotpEnrol).await?;
    Ok((StatusCode::CREATED, Json(api::TotpEnrolment { secret: e.secret, uri: e.uri })))
}

/// Confirms TOTP enrolment with a current code. The code proves the second factor, so
/// the answer is a session verified with it (minted from the caller's credential).
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "identity", request_body = api::TotpConfirmRequest,
    responses((status = 200, body = api::LoginResponse), Problems))]
pub async fn totp_confirm(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::TotpConfirmRequest>,
) -> Result<Json<api::LoginResponse>> {
    let out = s.app.dispatch(&caller.principal, &caller.meta, ops::TotpConfirm { code: req.code }).await?;
    Ok(Json(session(out)))
}

/// Steps up with a current TOTP code: a session verified with a second factor (what
/// organisation-wide changes and approvals need), minted from the caller's credential.
#[utoipa::path(post, path = "/api/v1/auth/step-up", tag = "identity", request_body = api::TotpConfirmRequest,
    responses((status = 200, body = api::LoginResponse), Problems))]
pub async fn step_up(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::TotpConfirmRequest>,
) -> Result<Json<api::LoginResponse>> {
    let out = s.app.dispatch(&caller.principal, &caller.meta, ops::StepUp { code: req.code }).await?;
    Ok(Json(session(out)))
}

fn session(out: warden_app::LoginOutput) -> api::LoginResponse {
    api::LoginResponse {
        token: out.token,
        token_id: out.token_id.to_string(),
        expires_at: c::time(out.expires_at),
        mfa: out.mfa,
    }
}

/// The caller's tokens (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity", params(api::PageQuery),
    responses((status = 200, body = api::Paged<api::Token>), Problems))]
pub async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::PageQuery>,
) -> Result<Json<api::Paged<api::Token>>> {
    let page = c::page(q.cursor, q.limit)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListTokens { page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |t| t.id.to_string(), c::token)))
}

/// Creates a token for the caller, optionally bound to a project and a role.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", request_body = api::CreateTokenRequest,
    responses((status = 201, body = api::CreatedToken), Problems))]
pub async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateTokenRequest>,
) -> Result<(StatusCode, Json<api::CreatedToken>)> {
    let op = ops::CreateToken {
        name: req.name,
        project: req.project.as_deref().map(|p| c::body_project("project", p)).transpose()?,
        role: req.role.as_deref().map(|r| c::body_role("role", r)).transpose()?,
        expires_in_seconds: req.expires_in_seconds,
        data_class: req.data_class,
        zone: req.zone,
    };
    let t = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(api::CreatedToken { token: c::token(t.record), secret: t.secret })))
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 204), Problems))]
pub async fn revoke_token(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let id = c::token_id("id", &id)?;
    s.app.dispatch(&caller.principal, &caller.meta, ops::RevokeToken { id }).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- projects

/// Projects the caller may see.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(api::PageQuery),
    responses((status = 200, body = api::Paged<api::Project>), Problems))]
pub async fn list_projects(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::PageQuery>,
) -> Result<Json<api::Paged<api::Project>>> {
    let page = c::page(q.cursor, q.limit)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListProjects { page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |p| p.id.to_string(), c::project)))
}

/// Creates a project (data product).
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = api::CreateProjectRequest,
    responses((status = 201, body = api::Project), Problems))]
pub async fn create_project(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateProjectRequest>,
) -> Result<(StatusCode, Json<api::Project>)> {
    let op = ops::CreateProject {
        name: req.name,
        description: req.description,
        cost_centre: req.cost_centre,
        owner: req.owner.as_deref().map(|o| c::body_subject("owner", o)).transpose()?,
    };
    let p = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::project(p))))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = api::Project), Problems))]
pub async fn get_project(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<api::Project>> {
    let id = c::project_id("id", &id)?;
    let p = s.app.dispatch(&caller.principal, &caller.meta, ops::GetProject { id }).await?;
    Ok(Json(c::project(p)))
}

/// Members of a project and their roles.
#[utoipa::path(get, path = "/api/v1/projects/{id}/members", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = [api::Member]), Problems))]
pub async fn list_members(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<api::Member>>> {
    let project = c::project_id("id", &id)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListMembers { project }).await?;
    Ok(Json(rows.into_iter().map(c::member_view).collect()))
}

/// Gives a subject or a group a role in a project.
#[utoipa::path(post, path = "/api/v1/projects/{id}/members", tag = "projects", params(("id" = String, Path)),
    request_body = api::AddMemberRequest, responses((status = 201, body = api::Member), Problems))]
pub async fn add_member(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::AddMemberRequest>,
) -> Result<(StatusCode, Json<api::Member>)> {
    let project = c::project_id("id", &id)?;
    let op = ops::AddMember {
        project,
        member: c::member("member", &req.member, true)?,
        role: c::body_role("role", &req.role)?,
    };
    let m = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::member_view(m))))
}

/// Takes a role in a project away from a subject or a group.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/members/{member}/{role}", tag = "projects",
    params(("id" = String, Path), ("member" = String, Path), ("role" = String, Path)),
    responses((status = 204), Problems))]
pub async fn remove_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, member, role)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    let op = ops::RemoveMember {
        project: c::project_id("id", &id)?,
        member: c::member("member", &member, false)?,
        role: c::role("role", &role)?,
    };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- users and services

/// People and service identities.
#[utoipa::path(get, path = "/api/v1/users", tag = "identity", params(api::UserQuery),
    responses((status = 200, body = api::Paged<api::User>), Problems))]
pub async fn list_users(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::UserQuery>,
) -> Result<Json<api::Paged<api::User>>> {
    let page = c::page(q.cursor, q.limit)?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some("human") => Some(PrincipalKind::Human),
        Some("service") => Some(PrincipalKind::Service),
        Some(other) => {
            return Err(ApiError::new(
                ProblemType::InvalidParameter,
                format!("`kind`: `{other}` is not `human` or `service`"),
            ))
        }
    };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListUsers { kind, page: page.clone() }).await?;
    let now = s.app.now();
    Ok(Json(c::paged(rows, &page, |u| u.id.to_string(), |u| c::user(u, now, None))))
}

/// Creates a person with an optional password.
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", request_body = api::CreateUserRequest,
    responses((status = 201, body = api::User), Problems))]
pub async fn create_user(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateUserRequest>,
) -> Result<(StatusCode, Json<api::User>)> {
    let op =
        ops::CreateUser { name: req.name, display_name: req.display_name, email: req.email, password: req.password };
    let u = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::user(u, s.app.now(), Some(Vec::new())))))
}

/// One person or service identity, with its organisation roles.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 200, body = api::User), Problems))]
pub async fn get_user(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<api::User>> {
    let id = c::subject_id("id", &id)?;
    let (u, grants) = s.app.dispatch(&caller.principal, &caller.meta, ops::GetUser { id }).await?;
    let roles = grants.into_iter().map(|g| g.role.to_string()).collect();
    Ok(Json(c::user(u, s.app.now(), Some(roles))))
}

/// Disables an account: its tokens and sign-ins stop working.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "identity", params(("id" = String, Path)),
    responses((status = 204), Problems))]
pub async fn disable_user(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let id = c::subject_id("id", &id)?;
    s.app.dispatch(&caller.principal, &caller.meta, ops::SetUserDisabled { id, disabled: true }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a disabled account.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "identity", params(("id" = String, Path)),
    responses((status = 204), Problems))]
pub async fn enable_user(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let id = c::subject_id("id", &id)?;
    s.app.dispatch(&caller.principal, &caller.meta, ops::SetUserDisabled { id, disabled: false }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clears a lockout after failed sign-ins.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "identity", params(("id" = String, Path)),
    responses((status = 204), Problems))]
pub async fn unlock_user(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let id = c::subject_id("id", &id)?;
    s.app.dispatch(&caller.principal, &caller.meta, ops::UnlockUser { id }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a service identity (for pipelines and workloads).
#[utoipa::path(post, path = "/api/v1/services", tag = "identity", request_body = api::CreateServiceRequest,
    responses((status = 201, body = api::User), Problems))]
pub async fn create_service(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateServiceRequest>,
) -> Result<(StatusCode, Json<api::User>)> {
    let u = s
        .app
        .dispatch(&caller.principal, &caller.meta, ops::CreateService { name: req.name, description: req.description })
        .await?;
    Ok((StatusCode::CREATED, Json(c::user(u, s.app.now(), Some(Vec::new())))))
}

/// Mints a token for a service identity, bound to a project and a role it holds there.
#[utoipa::path(post, path = "/api/v1/services/{id}/tokens", tag = "identity", params(("id" = String, Path)),
    request_body = api::CreateServiceTokenRequest, responses((status = 201, body = api::CreatedToken), Problems))]
pub async fn create_service_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::CreateServiceTokenRequest>,
) -> Result<(StatusCode, Json<api::CreatedToken>)> {
    let op = ops::CreateServiceToken {
        service: c::subject_id("id", &id)?,
        project: c::body_project("project", &req.project)?,
        role: c::body_role("role", &req.role)?,
        name: req.name,
        expires_in_seconds: req.expires_in_seconds,
        data_class: req.data_class,
        zone: req.zone,
    };
    let t = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(api::CreatedToken { token: c::token(t.record), secret: t.secret })))
}

// ---------------------------------------------------------------- organisation roles

/// Grants an organisation role (platform-admin, auditor) to a subject or a group.
#[utoipa::path(post, path = "/api/v1/role-grants", tag = "identity", request_body = api::RoleGrantRequest,
    responses((status = 201, body = api::RoleGrant), Problems))]
pub async fn grant_role(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::RoleGrantRequest>,
) -> Result<(StatusCode, Json<api::RoleGrant>)> {
    let op = ops::GrantRole { member: c::member("member", &req.member, true)?, role: c::body_role("role", &req.role)? };
    let g = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::grant(g))))
}

/// Revokes an organisation role.
#[utoipa::path(delete, path = "/api/v1/role-grants/{member}/{role}", tag = "identity",
    params(("member" = String, Path), ("role" = String, Path)), responses((status = 204), Problems))]
pub async fn revoke_role(
    State(s): State<AppState>,
    caller: Caller,
    Path((member, role)): Path<(String, String)>,
) -> Result<StatusCode> {
    let op = ops::RevokeRole { member: c::member("member", &member, false)?, role: c::role("role", &role)? };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- groups

/// Groups.
#[utoipa::path(get, path = "/api/v1/groups", tag = "identity", params(api::PageQuery),
    responses((status = 200, body = api::Paged<api::Group>), Problems))]
pub async fn list_groups(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::PageQuery>,
) -> Result<Json<api::Paged<api::Group>>> {
    let page = c::page(q.cursor, q.limit)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListGroups { page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |g| g.id.to_string(), c::group)))
}

/// Creates a group.
#[utoipa::path(post, path = "/api/v1/groups", tag = "identity", request_body = api::CreateGroupRequest,
    responses((status = 201, body = api::Group), Problems))]
pub async fn create_group(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateGroupRequest>,
) -> Result<(StatusCode, Json<api::Group>)> {
    let g = s
        .app
        .dispatch(&caller.principal, &caller.meta, ops::CreateGroup { name: req.name, description: req.description })
        .await?;
    Ok((StatusCode::CREATED, Json(c::group(g))))
}

/// One group with its members and organisation roles.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 200, body = api::Group), Problems))]
pub async fn get_group(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<api::Group>> {
    let id = c::group_id("id", &id)?;
    let (g, members, grants) = s.app.dispatch(&caller.principal, &caller.meta, ops::GetGroup { id }).await?;
    let mut view = c::group(g);
    view.members = Some(members.into_iter().map(|m| m.to_string()).collect());
    view.roles = Some(grants.into_iter().map(|g| g.role.to_string()).collect());
    Ok(Json(view))
}

/// Adds a subject to a group.
#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{subject}", tag = "identity",
    params(("id" = String, Path), ("subject" = String, Path)), responses((status = 204), Problems))]
pub async fn add_group_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, subject)): Path<(String, String)>,
) -> Result<StatusCode> {
    let op = ops::AddGroupMember { group: c::group_id("id", &id)?, subject: c::subject_id("subject", &subject)? };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a subject from a group.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{subject}", tag = "identity",
    params(("id" = String, Path), ("subject" = String, Path)), responses((status = 204), Problems))]
pub async fn remove_group_member(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, subject)): Path<(String, String)>,
) -> Result<StatusCode> {
    let op = ops::RemoveGroupMember { group: c::group_id("id", &id)?, subject: c::subject_id("subject", &subject)? };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- audit ledger

fn entry_view(e: ops::LedgerEntry) -> api::AuditEntry {
    api::AuditEntry {
        index: e.index,
        leaf: warden_ledger::b64(&e.leaf),
        leaf_hash: warden_ledger::b64(&e.leaf_hash),
        event: serde_json::to_value(&e.event).unwrap_or_default(),
    }
}

fn proof_view(hashes: Vec<warden_ledger::Hash>) -> api::AuditProof {
    api::AuditProof { hashes: hashes.iter().map(|h| warden_ledger::b64(h)).collect() }
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
        resource: q.resource,
        outcome: q.outcome,
        project: q.project,
        since: q.since.as_deref().map(|t| c::parse_time("since", t)).transpose()?,
        until: q.until.as_deref().map(|t| c::parse_time("until", t)).transpose()?,
    };
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::SearchAudit { filter, page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |e| e.index.to_string(), entry_view)))
}

// ---------------------------------------------------------------- blobs

fn digest(field: &str, s: &str) -> Result<warden_blob::Digest> {
    warden_blob::Digest::parse(s).map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`{field}`: {e}")))
}

/// Streams content into the project's content-addressed store. The body is hashed as
/// it arrives; unless its SHA-256 equals `digest`, nothing is stored.
#[utoipa::path(put, path = "/api/v1/projects/{id}/blobs/{digest}", tag = "artifacts",
    params(("id" = String, Path), ("digest" = String, Path, description = "sha256:<64 hex>")),
    request_body(content = String, content_type = "application/octet-stream", description = "The content"),
    responses((status = 201, body = api::BlobStored), Problems))]
pub async fn upload_blob(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, d)): Path<(String, String)>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<api::BlobStored>)> {
    use futures_util::TryStreamExt;
    let project = c::project_id("id", &id)?;
    let digest = digest("digest", &d)?;
    let stream = body.into_data_stream().map_err(|e| std::io::Error::other(e.to_string()));
    let op = ops::UploadBlob { project, digest, body: std::sync::Mutex::new(Box::new(stream)) };
    let stored = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(api::BlobStored { digest: stored.digest.to_string(), size: stored.size, created: stored.created }),
    ))
}

fn upload_id(field: &str, s: &str) -> Result<warden_core::UploadId> {
    warden_core::UploadId::parse(s).map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`{field}`: {e}")))
}

fn upload_view(u: warden_store::UploadRecord) -> api::Upload {
    api::Upload {
        id: u.id.to_string(),
        project: u.project.to_string(),
        offset: u.size,
        expires_at: c::time(u.expires_at),
    }
}

/// Starts a chunked upload for content too large to send in one request. Send parts
/// with PATCH at the session's `offset`; after an interruption, GET the session for
/// the offset to resume from; finish with PUT and the whole content's digest.
#[utoipa::path(post, path = "/api/v1/projects/{id}/uploads", tag = "artifacts", params(("id" = String, Path)),
    responses((status = 201, body = api::Upload), Problems))]
pub async fn create_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<api::Upload>)> {
    let op = ops::CreateUpload { project: c::project_id("id", &id)? };
    let u = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(upload_view(u))))
}

/// An upload session: how many bytes it holds, so a client knows where to resume.
#[utoipa::path(get, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path)),
    responses((status = 200, body = api::Upload), Problems))]
pub async fn get_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
) -> Result<Json<api::Upload>> {
    let op = ops::GetUpload { project: c::project_id("id", &id)?, id: upload_id("upload", &upload)? };
    Ok(Json(upload_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Appends the body as the part starting at `offset` (the session's current size, or
/// 409 naming it). A part cut off mid-way is discarded whole.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path), api::UploadPartQuery),
    request_body(content = String, content_type = "application/octet-stream", description = "The part"),
    responses((status = 200, body = api::Upload), Problems))]
pub async fn append_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
    Query(q): Query<api::UploadPartQuery>,
    body: axum::body::Body,
) -> Result<Json<api::Upload>> {
    use futures_util::TryStreamExt;
    let stream = body.into_data_stream().map_err(|e| std::io::Error::other(e.to_string()));
    let op = ops::AppendUpload {
        project: c::project_id("id", &id)?,
        id: upload_id("upload", &upload)?,
        offset: q.offset,
        body: std::sync::Mutex::new(Box::new(stream)),
    };
    Ok(Json(upload_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Completes an upload: the parts become one blob if, and only if, the whole content's
/// SHA-256 is `digest`. The session ends either way.
#[utoipa::path(put, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path), api::CompleteUploadQuery),
    responses((status = 201, body = api::BlobStored), Problems))]
pub async fn complete_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
    Query(q): Query<api::CompleteUploadQuery>,
) -> Result<(StatusCode, Json<api::BlobStored>)> {
    let op = ops::CompleteUpload {
        project: c::project_id("id", &id)?,
        id: upload_id("upload", &upload)?,
        digest: digest("digest", &q.digest)?,
    };
    let stored = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(api::BlobStored { digest: stored.digest.to_string(), size: stored.size, created: stored.created }),
    ))
}

/// Abandons an upload and deletes what it received.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path)),
    responses((status = 204), Problems))]
pub async fn abort_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
) -> Result<StatusCode> {
    let op = ops::AbortUpload { project: c::project_id("id", &id)?, id: upload_id("upload", &upload)? };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams a blob the project holds. Every read is recorded.
#[utoipa::path(get, path = "/api/v1/projects/{id}/blobs/{digest}", tag = "artifacts",
    params(("id" = String, Path), ("digest" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = String), Problems))]
pub async fn download_blob(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, d)): Path<(String, String)>,
) -> Result<axum::response::Response> {
    let project = c::project_id("id", &id)?;
    let digest = digest("digest", &d)?;
    let (size, stream) = s.app.dispatch(&caller.principal, &caller.meta, ops::ReadBlob { project, digest }).await?;
    let mut res = axum::body::Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/octet-stream"));
    h.insert(axum::http::header::CONTENT_LENGTH, axum::http::HeaderValue::from(size));
    if let Ok(v) = axum::http::HeaderValue::from_str(&digest.to_string()) {
        h.insert("docker-content-digest", v);
    }
    Ok(res)
}

// ---------------------------------------------------------------- intake and registry

/// Intake: records an artifact made of blobs already uploaded to the project. Every
/// file is scanned without being executed; unsafe content is rejected (422) and the
/// rejection recorded.
#[utoipa::path(post, path = "/api/v1/projects/{id}/artifacts", tag = "artifacts", params(("id" = String, Path)),
    request_body = api::CreateArtifactRequest, responses((status = 201, body = api::Artifact), Problems))]
pub async fn create_artifact(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::CreateArtifactRequest>,
) -> Result<(StatusCode, Json<api::Artifact>)> {
    let project = c::project_id("id", &id)?;
    let metadata = ops::ArtifactMetadata {
        source_uri: req.source_uri,
        licence: req.licence,
        model_card: req.model_card,
        permitted_zones: req.permitted_zones,
        review_at: req.review_date.as_deref().map(|t| c::body_time("review_date", t)).transpose()?.map(|t| t.0),
        expires_at: req.expiry_date.as_deref().map(|t| c::body_time("expiry_date", t)).transpose()?.map(|t| t.0),
        dataset: req.dataset,
    };
    let files = req
        .files
        .into_iter()
        .map(|f| warden_intake::manifest::FileEntry { path: f.path, digest: f.digest, size: f.size })
        .collect();
    let signatures =
        req.signatures
            .into_iter()
            .map(|x| {
                let signer =
                    x.signer.as_deref().map(warden_core::SignerId::parse).transpose().map_err(|e| {
                        ApiError::new(ProblemType::ValidationFailed, format!("`signatures.signer`: {e}"))
                    })?;
                Ok(ops::ManifestSignature { signer, signature: x.signature })
            })
            .collect::<Result<Vec<_>>>()?;
    let model_signing_bundle = req.model_signing_bundle.map(|b| b.to_string().into_bytes());
    let op = ops::CreateArtifact {
        project,
        kind: req.kind,
        name: req.name,
        files,
        image: req.image,
        metadata,
        signatures,
        model_signing_bundle,
    };
    let a = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::artifact(a))))
}

/// One intake record with its evidence.
#[utoipa::path(get, path = "/api/v1/projects/{id}/artifacts/{artifact}", tag = "artifacts",
    params(("id" = String, Path), ("artifact" = String, Path)), responses((status = 200, body = api::Artifact), Problems))]
pub async fn get_artifact(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, artifact)): Path<(String, String)>,
) -> Result<Json<api::Artifact>> {
    let project = c::project_id("id", &id)?;
    let id = warden_core::ArtifactId::parse(&artifact)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`artifact`: {e}")))?;
    let a = s.app.dispatch(&caller.principal, &caller.meta, ops::GetArtifact { project, id }).await?;
    Ok(Json(c::artifact(a)))
}

/// Registers an admitted artifact as the next version of a model.
#[utoipa::path(post, path = "/api/v1/projects/{id}/models/{name}/versions", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path)), request_body = api::CreateModelVersionRequest,
    responses((status = 201, body = api::ModelVersion), Problems))]
pub async fn create_model_version(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    Body(req): Body<api::CreateModelVersionRequest>,
) -> Result<(StatusCode, Json<api::ModelVersion>)> {
    let project = c::project_id("id", &id)?;
    let artifact = warden_core::ArtifactId::parse(&req.artifact)
        .map_err(|e| ApiError::new(ProblemType::ValidationFailed, format!("`artifact`: {e}")))?;
    let lineage =
        warden_store::VersionLineage { runs: req.runs, datasets: req.datasets, data_classes: req.data_classes };
    let op = ops::AddModelVersion { project, model: name, artifact, lineage };
    let (m, version, artifact) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let view = ops::VersionView { version, artifact, aliases: Vec::new(), tags: Default::default() };
    Ok((StatusCode::CREATED, Json(c::model_version(&m, view))))
}

/// One version of a model, named by number, by alias, or `latest`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models/{name}/versions/{version}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path),
        ("version" = String, Path, description = "a version number, an alias, or `latest`")),
    responses((status = 200, body = api::ModelVersion), Problems))]
pub async fn get_model_version(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name, reference)): Path<(String, String, String)>,
) -> Result<Json<api::ModelVersion>> {
    let op = ops::GetModelVersion { project: c::project_id("id", &id)?, name, reference };
    let (m, v) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(c::model_version(&m, v)))
}

/// Points an alias (`champion`, `production`, …) at a version of the model.
#[utoipa::path(put, path = "/api/v1/projects/{id}/models/{name}/aliases/{alias}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("alias" = String, Path)),
    request_body = api::SetModelAliasRequest,
    responses((status = 200, body = api::ModelAlias), Problems))]
pub async fn set_model_alias(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, alias)): Path<(String, String, String)>,
    Body(req): Body<api::SetModelAliasRequest>,
) -> Result<Json<api::ModelAlias>> {
    let op = ops::SetModelAlias { project: c::project_id("id", &id)?, model, alias, version: Some(req.version) };
    let name = op.model.clone();
    let record = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let record = record.ok_or_else(|| ApiError::new(ProblemType::Internal, "the alias was not recorded"))?;
    Ok(Json(c::model_alias(&name, record)))
}

/// Removes an alias.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/models/{name}/aliases/{alias}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("alias" = String, Path)),
    responses((status = 204), Problems))]
pub async fn delete_model_alias(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, alias)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    let op = ops::SetModelAlias { project: c::project_id("id", &id)?, model, alias, version: None };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a tag on a version of the model.
#[utoipa::path(put, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/tags/{key}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path), ("key" = String, Path)),
    request_body = api::SetModelTagRequest,
    responses((status = 200, body = api::ModelTag), Problems))]
pub async fn set_model_tag(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, version, key)): Path<(String, String, String, String)>,
    Body(req): Body<api::SetModelTagRequest>,
) -> Result<Json<api::ModelTag>> {
    let version = c::version_number("version", &version)?;
    let op = ops::SetModelTag { project: c::project_id("id", &id)?, model, version, key, value: Some(req.value) };
    let name = op.model.clone();
    let record = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let record = record.ok_or_else(|| ApiError::new(ProblemType::Internal, "the tag was not recorded"))?;
    Ok(Json(c::model_tag(&name, record)))
}

/// Removes a tag from a version.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/tags/{key}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path), ("key" = String, Path)),
    responses((status = 204), Problems))]
pub async fn delete_model_tag(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, version, key)): Path<(String, String, String, String)>,
) -> Result<StatusCode> {
    let version = c::version_number("version", &version)?;
    let op = ops::SetModelTag { project: c::project_id("id", &id)?, model, version, key, value: None };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Models of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models", tag = "artifacts", params(("id" = String, Path), api::PageQuery),
    responses((status = 200, body = api::Paged<api::Model>), Problems))]
pub async fn list_models(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<api::PageQuery>,
) -> Result<Json<api::Paged<api::Model>>> {
    let project = c::project_id("id", &id)?;
    let page = c::page(q.cursor, q.limit)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListModels { project, page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |m| m.id.to_string(), |m| c::model(&m))))
}

/// A model with every version and its artifact.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models/{name}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path)), responses((status = 200, body = api::Model), Problems))]
pub async fn get_model(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<api::Model>> {
    let project = c::project_id("id", &id)?;
    let view = s.app.dispatch(&caller.principal, &caller.meta, ops::GetModel { project, name }).await?;
    let mut out = c::model(&view.model);
    out.versions = Some(view.versions.into_iter().map(|v| c::model_version(&view.model, v)).collect());
    Ok(Json(out))
}

// ---------------------------------------------------------------- trusted signers

/// Registers a public key whose manifest signatures intake trusts.
#[utoipa::path(post, path = "/api/v1/signers", tag = "artifacts", request_body = api::CreateSignerRequest,
    responses((status = 201, body = api::Signer), Problems))]
pub async fn create_signer(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateSignerRequest>,
) -> Result<(StatusCode, Json<api::Signer>)> {
    let op = ops::CreateSigner {
        name: req.name,
        algorithm: req.algorithm,
        public_key: req.public_key,
        project: req.project.as_deref().map(|p| c::body_project("project", p)).transpose()?,
        not_before: req.not_before.as_deref().map(|t| c::body_time("not_before", t)).transpose()?,
        not_after: req.not_after.as_deref().map(|t| c::body_time("not_after", t)).transpose()?,
    };
    let x = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::signer(x))))
}

/// Trusted signers: organisation-wide, plus a project's when asked.
#[utoipa::path(get, path = "/api/v1/signers", tag = "artifacts", params(api::SignerQuery),
    responses((status = 200, body = [api::Signer]), Problems))]
pub async fn list_signers(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::SignerQuery>,
) -> Result<Json<Vec<api::Signer>>> {
    let project = q.project.as_deref().map(|p| c::project_id("project", p)).transpose()?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListSigners { project }).await?;
    Ok(Json(rows.into_iter().map(c::signer).collect()))
}

/// Revokes a signer: its signatures stop being accepted from now on.
#[utoipa::path(post, path = "/api/v1/signers/{id}/revoke", tag = "artifacts", params(("id" = String, Path)),
    responses((status = 204), Problems))]
pub async fn revoke_signer(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let id = warden_core::SignerId::parse(&id)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`id`: {e}")))?;
    s.app.dispatch(&caller.principal, &caller.meta, ops::RevokeSigner { id }).await?;
    Ok(StatusCode::NO_CONTENT)
}
