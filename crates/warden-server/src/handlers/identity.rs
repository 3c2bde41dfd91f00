//! Identities: self-service, tokens, projects, users and services, roles, groups.

use super::*;

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

// ---------------------------------------------------------------- directory

/// Who an exact name names: the person or service and the group of that name, if any.
/// Open to every signed-in caller (a project owner adds a colleague by name); listing
/// people stays with administrators and auditors.
#[utoipa::path(get, path = "/api/v1/directory", tag = "identity", params(api::DirectoryQuery),
    responses((status = 200, body = api::DirectoryAnswer), Problems))]
pub async fn lookup_name(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::DirectoryQuery>,
) -> Result<Json<api::DirectoryAnswer>> {
    let found = s.app.dispatch(&caller.principal, &caller.meta, ops::LookupName { name: q.name }).await?;
    let matches = found
        .into_iter()
        .map(|m| api::DirectoryMatch { id: m.id, kind: m.kind.to_string(), name: m.name, disabled: m.disabled })
        .collect();
    Ok(Json(api::DirectoryAnswer { matches }))
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
