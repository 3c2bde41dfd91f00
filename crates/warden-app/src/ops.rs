//! Every API operation. Each declares its action and its target; none checks
//! permissions itself (dispatch does, before `execute` can run).

use std::collections::BTreeSet;

use warden_audit::AuditEvent;
use warden_authn::{password, token, totp};
use warden_core::{
    validate_name, GroupId, Principal, PrincipalKind, ProjectId, Role, RoleScope, SubjectId, Timestamp, TokenId,
};
use warden_ledger::Hash;
use warden_store::{
    AuditFilter, CheckpointRecord, GroupRecord, MemberRef, MembershipRecord, Page, ProjectRecord, RoleGrantRecord,
    SubjectRecord, TokenRecord,
};

use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

fn own(principal: &Principal) -> Target {
    Target::of(Resource::Subject(principal.id.clone()))
}

fn name_ok(name: &str) -> Result<(), AppError> {
    validate_name(name).map_err(AppError::Invalid)
}

pub(crate) fn text_ok(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() > max || value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::Invalid(format!(
            "`{field}` must be at most {max} characters without control characters"
        )));
    }
    Ok(())
}

fn role_in_scope(role: Role, scope: RoleScope) -> Result<(), AppError> {
    if role.scope() == scope {
        return Ok(());
    }
    Err(AppError::Invalid(match scope {
        RoleScope::Organisation => {
            format!("`{role}` is a project role; organisation roles are platform-admin and auditor")
        }
        RoleScope::Project => format!(
            "`{role}` is an organisation role; project roles are project-owner, data-scientist, approver and service"
        ),
    }))
}

/// A new token's expiry: the requested lifetime (90 days by default) within the
/// configured maximum, and never after the credential that mints it. Without an
/// explicit lifetime the token ends with its parent; asking for more is refused.
fn token_expiry(ctx: &Authorized<'_>, ttl_seconds: Option<i64>, minted: bool) -> Result<Option<Timestamp>, AppError> {
    let now = ctx.now();
    let max = ctx.app.config().max_token_ttl_seconds;
    let ttl = ttl_seconds.unwrap_or_else(|| (90 * 24 * 3600).min(max));
    if ttl <= 0 || ttl > max {
        return Err(AppError::Invalid(format!("`expires_in_seconds` must be between 1 and {max}")));
    }
    let wanted = now.plus_seconds(ttl);
    match ctx.principal.scope.as_ref().and_then(|s| s.expires_at).filter(|_| minted) {
        Some(parent) if wanted > parent && ttl_seconds.is_some() => Err(AppError::rule(
            422,
            "tokens.never-outlive-their-parent",
            format!(
                "a token may not outlive the credential that mints it: this credential expires in {} s; \
                 ask for at most that, or mint from a longer-lived credential",
                (parent.0 - now.0).max(0) / 1000
            ),
        )),
        Some(parent) if wanted > parent => Ok(Some(parent)),
        _ => Ok(Some(wanted)),
    }
}

async fn subject_exists(ctx: &Authorized<'_>, id: &SubjectId) -> Result<SubjectRecord, AppError> {
    ctx.store().get_subject(id).await?.ok_or_else(|| AppError::NotFound(format!("subject `{id}`")))
}

async fn member_exists(ctx: &Authorized<'_>, member: &MemberRef) -> Result<(), AppError> {
    match member {
        MemberRef::Subject(s) => subject_exists(ctx, s).await.map(|_| ()),
        MemberRef::Group(g) => match ctx.store().get_group(g).await? {
            Some(_) => Ok(()),
            None => Err(AppError::NotFound(format!("group `{g}`"))),
        },
    }
}

// ---------------------------------------------------------------- self-service

/// Who am I: the principal and its roles in each of its projects.
pub struct Whoami;

pub struct WhoamiView {
    pub principal: Principal,
    pub projects: Vec<(ProjectRecord, BTreeSet<Role>)>,
}

impl Operation for Whoami {
    type Output = WhoamiView;
    const ACTION: Action = Action::Whoami;
    async fn target(&self, _: &App, p: &Principal) -> Result<Target, AppError> {
        Ok(own(p))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<WhoamiView, AppError> {
        let mut projects = Vec::new();
        for project in ctx.store().list_projects_of(&ctx.principal.id, &Page::first(Page::MAX)).await? {
            let roles = ctx
                .principal
                .narrow_project_roles(&project.id, ctx.store().project_roles(&project.id, &ctx.principal.id).await?);
            if !roles.is_empty() {
                projects.push((project, roles));
            }
        }
        Ok(WhoamiView { principal: ctx.principal.clone(), projects })
    }
}

/// Starts TOTP enrolment: a new secret, pending until confirmed with a code.
pub struct TotpEnrol;

pub struct TotpEnrolment {
    pub secret: String,
    pub uri: String,
}

impl Operation for TotpEnrol {
    type Output = TotpEnrolment;
    const ACTION: Action = Action::TotpEnrol;
    async fn target(&self, _: &App, p: &Principal) -> Result<Target, AppError> {
        Ok(own(p))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<TotpEnrolment, AppError> {
        if subject_exists(&ctx, &ctx.principal.id).await?.totp_enrolled {
            return Err(AppError::Conflict("a confirmed TOTP enrolment".into()));
        }
        let secret = totp::generate_secret();
        let sealed = ctx.app.seal_totp(&ctx.principal.id, &secret)?;
        ctx.store().set_totp_pending(&ctx.principal.id, &sealed).await?;
        let uri = totp::provisioning_uri(&secret, "Warden", &ctx.principal.name);
        Ok(TotpEnrolment { secret, uri })
    }
}

/// Confirms enrolment with a current code; from then on sign-ins need a code.
pub struct TotpConfirm {
    pub code: String,
}

impl Operation for TotpConfirm {
    /// Confirming proves the second factor: the answer is a session verified with it.
    type Output = crate::LoginOutput;
    const ACTION: Action = Action::TotpConfirm;
    async fn target(&self, _: &App, p: &Principal) -> Result<Target, AppError> {
        Ok(own(p))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<crate::LoginOutput, AppError> {
        let s = subject_exists(&ctx, &ctx.principal.id).await?;
        if s.totp_secret.is_none() || s.totp_enrolled {
            return Err(AppError::Invalid("no TOTP enrolment is pending; start one first".into()));
        }
        let secret = ctx.app.totp_secret(&s).await?;
        let step = totp::verify(&secret, &self.code, ctx.now().0 / 1000, None)
            .map_err(|e| AppError::Internal(e.to_string()))?
            .ok_or_else(|| AppError::Invalid("the TOTP code is wrong or expired".into()))?;
        ctx.store().confirm_totp(&ctx.principal.id, step).await?;
        ctx.app.second_factor_session(ctx.principal, ctx.meta).await
    }
}

/// Steps up: a current TOTP code on an authenticated request gives a session verified
/// with a second factor (what organisation-wide changes and approvals need), minted
/// from the caller's credential.
pub struct StepUp {
    pub code: String,
}

impl Operation for StepUp {
    type Output = crate::LoginOutput;
    const ACTION: Action = Action::SessionStepUp;
    async fn target(&self, _: &App, p: &Principal) -> Result<Target, AppError> {
        Ok(own(p))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<crate::LoginOutput, AppError> {
        let s = subject_exists(&ctx, &ctx.principal.id).await?;
        ctx.app.verify_totp(&s, &self.code, ctx.meta).await?;
        ctx.app.second_factor_session(ctx.principal, ctx.meta).await
    }
}

/// The caller's own tokens.
pub struct ListTokens {
    pub page: Page,
}

impl Operation for ListTokens {
    type Output = Vec<TokenRecord>;
    const ACTION: Action = Action::TokenList;
    async fn target(&self, _: &App, p: &Principal) -> Result<Target, AppError> {
        Ok(own(p))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<TokenRecord>, AppError> {
        Ok(ctx.store().list_tokens(&ctx.principal.id, &self.page).await?)
    }
}

/// A new token for the caller, never wider than the caller's own roles.
pub struct CreateToken {
    pub name: String,
    pub project: Option<ProjectId>,
    pub role: Option<Role>,
    pub expires_in_seconds: Option<i64>,
    /// Makes the token a gateway key for this data class (needs a project).
    pub data_class: Option<String>,
    /// Binds the token to a zone: a workload identity there (needs a project).
    pub zone: Option<String>,
}

/// A gateway key's class must be one the gateway knows, and the key bound to a project.
async fn gateway_class_ok(
    app: &App,
    class: Option<String>,
    project: Option<&ProjectId>,
) -> Result<Option<String>, AppError> {
    let Some(class) = class else { return Ok(None) };
    if project.is_none() {
        return Err(AppError::Invalid("a gateway key (`data_class`) must also be bound to a `project`".into()));
    }
    app.policy().await.classes_declared(std::slice::from_ref(&class))?;
    Ok(Some(class))
}

/// A zone binding must name a zone of the policy in force, inside a project; and a
/// credential bound to a zone mints only tokens bound to the same zone.
async fn zone_ok(
    ctx: &Authorized<'_>,
    zone: Option<String>,
    project: Option<&ProjectId>,
) -> Result<Option<String>, AppError> {
    let inherited = ctx.principal.scope.as_ref().and_then(|s| s.zone.clone());
    if let Some(mine) = &inherited {
        if zone.as_ref() != Some(mine) {
            return Err(AppError::rule(
                403,
                "tokens.zone-never-widens",
                format!("a credential bound to zone `{mine}` may only mint tokens bound to `{mine}`"),
            ));
        }
    }
    let Some(zone) = zone else { return Ok(None) };
    if project.is_none() {
        return Err(AppError::Invalid("a token bound to a `zone` must also be bound to a `project`".into()));
    }
    ctx.app.policy().await.zone_declared(&zone)?;
    Ok(Some(zone))
}

/// A token record and its secret (shown once).
pub struct NewToken {
    pub record: TokenRecord,
    pub secret: String,
}

fn mint_record(
    ctx: &Authorized<'_>,
    child: bool,
    subject: &SubjectId,
    name: &str,
    (project, role, data_class, zone): (Option<ProjectId>, Option<Role>, Option<String>, Option<String>),
    expires_at: Option<Timestamp>,
) -> NewToken {
    let now = ctx.now();
    let id = TokenId::generate(now.0);
    let minted = token::mint(id.as_str().trim_start_matches("tok_"));
    NewToken {
        record: TokenRecord {
            id,
            subject: subject.clone(),
            name: name.to_string(),
            hash: minted.hash,
            project,
            role,
            mfa: false,
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            data_class,
            zone,
            // The credential that minted it (none for an OIDC caller: the IdP's session).
            parent: ctx.principal.scope.as_ref().map(|s| s.token_id.clone()).filter(|_| child),
        },
        secret: minted.secret,
    }
}

impl Operation for CreateToken {
    type Output = NewToken;
    const ACTION: Action = Action::TokenCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        let resource = match &self.project {
            Some(p) => Resource::Project(p.clone()),
            None => Resource::Organisation,
        };
        Ok(Target::minting(resource, self.role, self.data_class.as_deref()))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<NewToken, AppError> {
        text_ok("name", &self.name, 100)?;
        if let Some(role) = self.role {
            role_in_scope(role, if self.project.is_some() { RoleScope::Project } else { RoleScope::Organisation })?;
        }
        if let Some(p) = &self.project {
            ctx.store().get_project(p).await?.ok_or_else(|| AppError::NotFound(format!("project `{p}`")))?;
        }
        let expires = token_expiry(&ctx, self.expires_in_seconds, true)?;
        let class = gateway_class_ok(ctx.app, self.data_class, self.project.as_ref()).await?;
        let zone = zone_ok(&ctx, self.zone, self.project.as_ref()).await?;
        let t = mint_record(&ctx, true, &ctx.principal.id, &self.name, (self.project, self.role, class, zone), expires);
        ctx.store().create_token(&t.record).await?;
        Ok(t)
    }
}

/// Revokes a token: one's own, or anyone's for an administrator.
pub struct RevokeToken {
    pub id: TokenId,
}

impl Operation for RevokeToken {
    type Output = ();
    const ACTION: Action = Action::TokenRevoke;
    async fn target(&self, app: &App, p: &Principal) -> Result<Target, AppError> {
        // The resource is the token's owner; an unknown token is judged as one's own
        // (so the answer is 404, not a hint about other people's tokens).
        let owner = app.store().get_token(&self.id).await?.map(|t| t.subject).unwrap_or_else(|| p.id.clone());
        Ok(Target::of(Resource::Subject(owner)))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if ctx.store().get_token(&self.id).await?.is_none() {
            return Err(AppError::NotFound(format!("token `{}`", self.id)));
        }
        ctx.store().revoke_token(&self.id, ctx.now()).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------- projects

/// Projects the caller may see: all of them for administrators and auditors, otherwise
/// only those where the caller holds a role.
pub struct ListProjects {
    pub page: Page,
}

impl Operation for ListProjects {
    type Output = Vec<ProjectRecord>;
    const ACTION: Action = Action::ProjectList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<ProjectRecord>, AppError> {
        if ctx.may(Action::ProjectListAll, &Resource::Organisation) {
            return Ok(ctx.store().list_projects(&self.page).await?);
        }
        let mut out = ctx.store().list_projects_of(&ctx.principal.id, &self.page).await?;
        // A project-scoped token sees only its project.
        if let Some(only) = ctx.principal.scope.as_ref().and_then(|s| s.project.as_ref()) {
            out.retain(|p| &p.id == only);
        }
        Ok(out)
    }
}

pub struct CreateProject {
    pub name: String,
    pub description: String,
    pub cost_centre: Option<String>,
    /// Becomes the project owner; defaults to nobody (administrators add members).
    pub owner: Option<SubjectId>,
}

impl Operation for CreateProject {
    type Output = ProjectRecord;
    const ACTION: Action = Action::ProjectCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<ProjectRecord, AppError> {
        name_ok(&self.name)?;
        text_ok("description", &self.description, 2000)?;
        if let Some(c) = &self.cost_centre {
            text_ok("cost_centre", c, 100)?;
        }
        let now = ctx.now();
        let project = ProjectRecord {
            id: ProjectId::generate(now.0),
            name: self.name,
            description: self.description,
            cost_centre: self.cost_centre,
            created_at: now,
            created_by: ctx.principal.id.clone(),
        };
        let mut members = Vec::new();
        if let Some(owner) = self.owner {
            subject_exists(&ctx, &owner).await?;
            members.push(MembershipRecord {
                project: project.id.clone(),
                member: MemberRef::Subject(owner),
                role: Role::ProjectOwner,
                added_at: now,
                added_by: ctx.principal.id.clone(),
            });
        }
        ctx.store().create_project(&project, &members).await?;
        Ok(project)
    }
}

pub struct GetProject {
    pub id: ProjectId,
}

impl Operation for GetProject {
    type Output = ProjectRecord;
    const ACTION: Action = Action::ProjectGet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.id.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<ProjectRecord, AppError> {
        ctx.store().get_project(&self.id).await?.ok_or_else(|| AppError::NotFound(format!("project `{}`", self.id)))
    }
}

pub struct ListMembers {
    pub project: ProjectId,
}

impl Operation for ListMembers {
    type Output = Vec<MembershipRecord>;
    const ACTION: Action = Action::ProjectMemberList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<MembershipRecord>, AppError> {
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        Ok(ctx.store().list_members(&self.project).await?)
    }
}

pub struct AddMember {
    pub project: ProjectId,
    pub member: MemberRef,
    pub role: Role,
}

impl Operation for AddMember {
    type Output = MembershipRecord;
    const ACTION: Action = Action::ProjectMemberAdd;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target { requested_role: Some(self.role), ..Target::of(Resource::Project(self.project.clone())) })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<MembershipRecord, AppError> {
        role_in_scope(self.role, RoleScope::Project)?;
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        member_exists(&ctx, &self.member).await?;
        let m = MembershipRecord {
            project: self.project,
            member: self.member,
            role: self.role,
            added_at: ctx.now(),
            added_by: ctx.principal.id.clone(),
        };
        ctx.store().add_member(&m).await?;
        Ok(m)
    }
}

pub struct RemoveMember {
    pub project: ProjectId,
    pub member: MemberRef,
    pub role: Role,
}

impl Operation for RemoveMember {
    type Output = ();
    const ACTION: Action = Action::ProjectMemberRemove;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target { requested_role: Some(self.role), ..Target::of(Resource::Project(self.project.clone())) })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if !ctx.store().remove_member(&self.project, &self.member, self.role).await? {
            return Err(AppError::NotFound(format!("membership of `{}` as `{}`", self.member.as_str(), self.role)));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- users and services

pub struct ListUsers {
    pub kind: Option<PrincipalKind>,
    pub page: Page,
}

impl Operation for ListUsers {
    type Output = Vec<SubjectRecord>;
    const ACTION: Action = Action::UserList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<SubjectRecord>, AppError> {
        Ok(ctx.store().list_subjects(self.kind, &self.page).await?)
    }
}

pub struct GetUser {
    pub id: SubjectId,
}

impl Operation for GetUser {
    type Output = (SubjectRecord, Vec<RoleGrantRecord>);
    const ACTION: Action = Action::UserGet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let s = subject_exists(&ctx, &self.id).await?;
        let grants = ctx.store().list_role_grants(&MemberRef::Subject(self.id)).await?;
        Ok((s, grants))
    }
}

pub struct CreateUser {
    pub name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

impl Operation for CreateUser {
    type Output = SubjectRecord;
    const ACTION: Action = Action::UserCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<SubjectRecord, AppError> {
        name_ok(&self.name)?;
        if let Some(d) = &self.display_name {
            text_ok("display_name", d, 200)?;
        }
        if let Some(e) = &self.email {
            text_ok("email", e, 320)?;
            if !e.contains('@') {
                return Err(AppError::Invalid("`email` is not an email address".into()));
            }
        }
        let hash = match self.password {
            Some(pw) => Some(
                tokio::task::spawn_blocking(move || password::hash(&pw))
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))?
                    .map_err(|e| AppError::Invalid(e.to_string()))?,
            ),
            None => None,
        };
        let now = ctx.now();
        let mut s = SubjectRecord::new(SubjectId::generate_user(now.0), PrincipalKind::Human, &self.name, now);
        s.display_name = self.display_name;
        s.email = self.email;
        s.password_hash = hash;
        ctx.store().create_subject(&s).await?;
        Ok(s)
    }
}

pub struct SetUserDisabled {
    pub id: SubjectId,
    pub disabled: bool,
}

impl Operation for SetUserDisabled {
    type Output = ();
    const ACTION: Action = Action::UserDisable;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if self.disabled && self.id == ctx.principal.id {
            return Err(AppError::Invalid("you cannot disable your own account".into()));
        }
        if !ctx.store().set_disabled(&self.id, self.disabled).await? {
            return Err(AppError::NotFound(format!("subject `{}`", self.id)));
        }
        Ok(())
    }
}

pub struct UnlockUser {
    pub id: SubjectId,
}

impl Operation for UnlockUser {
    type Output = ();
    const ACTION: Action = Action::UserUnlock;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        subject_exists(&ctx, &self.id).await?;
        ctx.store().reset_failures(&self.id).await?;
        Ok(())
    }
}

pub struct CreateService {
    pub name: String,
    pub description: Option<String>,
}

impl Operation for CreateService {
    type Output = SubjectRecord;
    const ACTION: Action = Action::ServiceCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<SubjectRecord, AppError> {
        name_ok(&self.name)?;
        if let Some(d) = &self.description {
            text_ok("description", d, 2000)?;
        }
        let now = ctx.now();
        let mut s = SubjectRecord::new(SubjectId::generate_service(now.0), PrincipalKind::Service, &self.name, now);
        s.display_name = self.description;
        ctx.store().create_subject(&s).await?;
        Ok(s)
    }
}

/// A token for a service identity, bound to one project and one role the service holds
/// there. Project owners may mint them for their project.
pub struct CreateServiceToken {
    pub service: SubjectId,
    pub project: ProjectId,
    pub role: Role,
    pub name: String,
    pub expires_in_seconds: Option<i64>,
    pub data_class: Option<String>,
    pub zone: Option<String>,
}

impl Operation for CreateServiceToken {
    type Output = NewToken;
    const ACTION: Action = Action::ServiceTokenCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::minting(Resource::Project(self.project.clone()), Some(self.role), self.data_class.as_deref()))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<NewToken, AppError> {
        text_ok("name", &self.name, 100)?;
        role_in_scope(self.role, RoleScope::Project)?;
        let s = subject_exists(&ctx, &self.service).await?;
        if s.kind != PrincipalKind::Service {
            return Err(AppError::Invalid(format!("`{}` is a person, not a service identity", self.service)));
        }
        if !ctx.store().project_roles(&self.project, &self.service).await?.contains(&self.role) {
            return Err(AppError::Invalid(format!(
                "service `{}` does not hold `{}` in project `{}`; add it as a member first",
                s.name, self.role, self.project
            )));
        }
        // A service identity's token is issued, not minted from the caller's credential:
        // it belongs to the service and lives its own lifetime (the issuer needs a
        // credential that is not narrowed; policy `service-tokens-need-an-unnarrowed-credential`).
        let expires = token_expiry(&ctx, self.expires_in_seconds, false)?;
        let class = gateway_class_ok(ctx.app, self.data_class, Some(&self.project)).await?;
        let zone = zone_ok(&ctx, self.zone, Some(&self.project)).await?;
        let binding = (Some(self.project), Some(self.role), class, zone);
        let t = mint_record(&ctx, false, &self.service, &self.name, binding, expires);
        ctx.store().create_token(&t.record).await?;
        Ok(t)
    }
}

// ---------------------------------------------------------------- organisation roles

pub struct GrantRole {
    pub member: MemberRef,
    pub role: Role,
}

impl Operation for GrantRole {
    type Output = RoleGrantRecord;
    const ACTION: Action = Action::RoleGrant;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target { requested_role: Some(self.role), ..Target::organisation() })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<RoleGrantRecord, AppError> {
        role_in_scope(self.role, RoleScope::Organisation)?;
        member_exists(&ctx, &self.member).await?;
        let g = RoleGrantRecord {
            member: self.member,
            role: self.role,
            granted_at: ctx.now(),
            granted_by: Some(ctx.principal.id.clone()),
        };
        ctx.store().grant_role(&g).await?;
        Ok(g)
    }
}

pub struct RevokeRole {
    pub member: MemberRef,
    pub role: Role,
}

impl Operation for RevokeRole {
    type Output = ();
    const ACTION: Action = Action::RoleRevoke;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target { requested_role: Some(self.role), ..Target::organisation() })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if self.member == MemberRef::Subject(ctx.principal.id.clone()) && self.role == Role::PlatformAdmin {
            return Err(AppError::Invalid("you cannot revoke your own platform-admin role".into()));
        }
        if !ctx.store().revoke_role(&self.member, self.role).await? {
            return Err(AppError::NotFound(format!("grant of `{}` to `{}`", self.role, self.member.as_str())));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- groups

pub struct ListGroups {
    pub page: Page,
}

impl Operation for ListGroups {
    type Output = Vec<GroupRecord>;
    const ACTION: Action = Action::GroupList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<GroupRecord>, AppError> {
        Ok(ctx.store().list_groups(&self.page).await?)
    }
}

pub struct CreateGroup {
    pub name: String,
    pub description: String,
}

impl Operation for CreateGroup {
    type Output = GroupRecord;
    const ACTION: Action = Action::GroupCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<GroupRecord, AppError> {
        name_ok(&self.name)?;
        text_ok("description", &self.description, 2000)?;
        let now = ctx.now();
        let g = GroupRecord {
            id: GroupId::generate(now.0),
            name: self.name,
            description: self.description,
            created_at: now,
        };
        ctx.store().create_group(&g).await?;
        Ok(g)
    }
}

pub struct GetGroup {
    pub id: GroupId,
}

impl Operation for GetGroup {
    type Output = (GroupRecord, Vec<SubjectId>, Vec<RoleGrantRecord>);
    const ACTION: Action = Action::GroupGet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let g =
            ctx.store().get_group(&self.id).await?.ok_or_else(|| AppError::NotFound(format!("group `{}`", self.id)))?;
        let members = ctx.store().list_group_members(&self.id).await?;
        let grants = ctx.store().list_role_grants(&MemberRef::Group(self.id)).await?;
        Ok((g, members, grants))
    }
}

pub struct AddGroupMember {
    pub group: GroupId,
    pub subject: SubjectId,
}

impl Operation for AddGroupMember {
    type Output = ();
    const ACTION: Action = Action::GroupMemberAdd;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        ctx.store()
            .get_group(&self.group)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("group `{}`", self.group)))?;
        subject_exists(&ctx, &self.subject).await?;
        ctx.store().add_group_member(&self.group, &self.subject, ctx.now()).await?;
        Ok(())
    }
}

pub struct RemoveGroupMember {
    pub group: GroupId,
    pub subject: SubjectId,
}

impl Operation for RemoveGroupMember {
    type Output = ();
    const ACTION: Action = Action::GroupMemberRemove;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if !ctx.store().remove_group_member(&self.group, &self.subject).await? {
            return Err(AppError::NotFound(format!("membership of `{}` in `{}`", self.subject, self.group)));
        }
        Ok(())
    }
}

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

// ---------------------------------------------------------------- blobs

/// An upload body: chunks as they arrive.
pub type BlobBody = Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + Unpin>;

/// Streams content into the project's blob store under its declared digest. The body is
/// read only after the upload is authorised.
pub struct UploadBlob {
    pub project: ProjectId,
    pub digest: warden_blob::Digest,
    /// In a mutex only to make the operation `Sync`; it is taken once.
    pub body: std::sync::Mutex<BlobBody>,
}

impl Operation for UploadBlob {
    type Output = warden_blob::Stored;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<warden_blob::Stored, AppError> {
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        let body = self.body.into_inner().map_err(|_| AppError::Internal("upload body poisoned".into()))?;
        let stored = ctx.app.blobs().put(Some(self.digest), ctx.app.config().max_blob_bytes, body).await?;
        ctx.store()
            .record_blob(&self.project, &stored.digest.to_string(), stored.size, &ctx.principal.id, ctx.now())
            .await?;
        Ok(stored)
    }
}

// Chunked, resumable uploads: a session takes parts at consecutive offsets (a part
// cut off mid-way is discarded, and the client asks for the offset and carries on),
// then completes with the whole content's digest, which is verified before anything is
// published. Only the session's creator sees it; sessions expire after a day.

/// How long an upload session stays open.
pub const UPLOAD_TTL_SECONDS: i64 = 24 * 3600;

pub struct CreateUpload {
    pub project: ProjectId,
}

impl Operation for CreateUpload {
    type Output = warden_store::UploadRecord;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        // Sessions nobody finished go when new ones start.
        for id in ctx.store().expired_uploads(ctx.now(), 100).await? {
            let parts = ctx.store().delete_upload(&id).await?;
            ctx.app.blobs().delete_parts(&parts).await;
        }
        let now = ctx.now();
        let record = warden_store::UploadRecord {
            id: warden_core::UploadId::generate(now.0),
            project: self.project,
            created_by: ctx.principal.id.clone(),
            created_at: now,
            expires_at: now.plus_seconds(UPLOAD_TTL_SECONDS),
            size: 0,
        };
        ctx.store().create_upload(&record).await?;
        Ok(record)
    }
}

/// The caller's own, unexpired session in this project; anything else is not found.
async fn own_upload(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    id: &warden_core::UploadId,
) -> Result<warden_store::UploadRecord, AppError> {
    match ctx.store().get_upload(id).await? {
        Some(u) if u.project == *project && u.created_by == ctx.principal.id && u.expires_at > ctx.now() => Ok(u),
        _ => Err(AppError::NotFound(format!("upload `{id}`"))),
    }
}

async fn discard_upload(ctx: &Authorized<'_>, id: &warden_core::UploadId) -> Result<(), AppError> {
    let parts = ctx.store().delete_upload(id).await?;
    ctx.app.blobs().delete_parts(&parts).await;
    Ok(())
}

pub struct GetUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
}

impl Operation for GetUpload {
    type Output = warden_store::UploadRecord;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        own_upload(&ctx, &self.project, &self.id).await
    }
}

/// Appends a part at `offset`, which must be the session's current size.
pub struct AppendUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
    pub offset: u64,
    /// In a mutex only to make the operation `Sync`; it is taken once.
    pub body: std::sync::Mutex<BlobBody>,
}

impl Operation for AppendUpload {
    type Output = warden_store::UploadRecord;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let u = own_upload(&ctx, &self.project, &self.id).await?;
        let stale = |size: u64| {
            AppError::WrongState(format!(
                "upload `{}` holds {size} bytes; send the next part at offset {size}, not {}",
                self.id, self.offset
            ))
        };
        if u.size != self.offset {
            return Err(stale(u.size));
        }
        let room = ctx.app.config().max_blob_bytes.saturating_sub(u.size);
        let body = self.body.into_inner().map_err(|_| AppError::Internal("upload body poisoned".into()))?;
        let (object, size) = ctx.app.blobs().put_part(self.id.as_str(), self.offset, room, body).await?;
        let part = warden_store::UploadPartRecord { offset: self.offset, size, object };
        if size == 0 {
            ctx.app.blobs().delete_parts(&[part.object]).await;
            return Ok(u);
        }
        if !ctx.store().add_upload_part(&self.id, &part).await? {
            // Another request for the same offset landed first.
            ctx.app.blobs().delete_parts(&[part.object]).await;
            let now = own_upload(&ctx, &self.project, &self.id).await?;
            return Err(stale(now.size));
        }
        Ok(warden_store::UploadRecord { size: u.size + size, ..u })
    }
}

/// Verifies the whole content against `digest` and publishes it as a blob of the
/// project. The session ends either way: a mismatch stores nothing.
pub struct CompleteUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
    pub digest: warden_blob::Digest,
}

impl Operation for CompleteUpload {
    type Output = warden_blob::Stored;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        own_upload(&ctx, &self.project, &self.id).await?;
        let parts: Vec<String> = ctx.store().list_upload_parts(&self.id).await?.into_iter().map(|p| p.object).collect();
        let assembled = ctx.app.blobs().assemble(self.digest, ctx.app.config().max_blob_bytes, &parts).await;
        let stored = match assembled {
            Ok(stored) => stored,
            Err(e @ (warden_blob::BlobError::DigestMismatch { .. } | warden_blob::BlobError::TooLarge(_))) => {
                discard_upload(&ctx, &self.id).await?;
                return Err(e.into());
            }
            // Storage trouble: keep the session so the client can try again.
            Err(e) => return Err(e.into()),
        };
        ctx.store()
            .record_blob(&self.project, &stored.digest.to_string(), stored.size, &ctx.principal.id, ctx.now())
            .await?;
        discard_upload(&ctx, &self.id).await?;
        Ok(stored)
    }
}

pub struct AbortUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
}

impl Operation for AbortUpload {
    type Output = ();
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        own_upload(&ctx, &self.project, &self.id).await?;
        discard_upload(&ctx, &self.id).await
    }
}

/// Reads a blob the project holds.
pub struct ReadBlob {
    pub project: ProjectId,
    pub digest: warden_blob::Digest,
}

pub type BlobStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, warden_blob::BlobError>> + Send>>;

impl Operation for ReadBlob {
    type Output = (u64, BlobStream);
    const ACTION: Action = Action::BlobRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let Some(size) = ctx.store().project_blob(&self.project, &self.digest.to_string()).await? else {
            return Err(AppError::NotFound(format!("blob {} in project `{}`", self.digest, self.project)));
        };
        if let Some(zone) = ctx.principal.scope.as_ref().and_then(|s| s.zone.clone()) {
            crate::release::pull_into_zone(&ctx, &self.project, &self.digest.to_string(), &zone).await?;
        }
        let stream = ctx.app.blobs().get(&self.digest).await?;
        Ok((size, Box::pin(stream)))
    }
}

// ---------------------------------------------------------------- intake and registry

/// Descriptive metadata recorded with an artifact.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ArtifactMetadata {
    pub source_uri: Option<String>,
    pub licence: Option<String>,
    pub model_card: Option<String>,
    pub permitted_zones: Vec<String>,
    /// Milliseconds since the epoch.
    pub review_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The catalog dataset whose data the artifact holds (an evaluation dataset, say):
    /// retention removes its content when the dataset's (or its classes') days are up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
}

pub const ARTIFACT_KINDS: &[&str] = &[
    "model",
    "container-image",
    "tokenizer",
    "prompt-template",
    "feature-definition",
    "evaluation-dataset",
    "policy-bundle",
];

/// Intake: checks the manifest against the project's uploaded blobs, scans every file
/// without executing it, and records the verdict (admitted or rejected) with its
/// evidence. A rejection is recorded too, and answered as 422.
pub struct CreateArtifact {
    pub project: ProjectId,
    pub kind: String,
    pub name: String,
    pub files: Vec<warden_intake::manifest::FileEntry>,
    /// For `container-image` artifacts: the image by digest (no files, no blobs).
    pub image: Option<String>,
    pub metadata: ArtifactMetadata,
    /// Detached signatures over the manifest's canonical JSON.
    pub signatures: Vec<ManifestSignature>,
    /// An OpenSSF model-signing bundle (JSON) covering the artifact's files.
    pub model_signing_bundle: Option<Vec<u8>>,
}

/// A signature over a manifest, by a named signer or by any trusted one.
#[derive(Debug, Clone)]
pub struct ManifestSignature {
    pub signer: Option<warden_core::SignerId>,
    pub signature: String,
}

impl Operation for CreateArtifact {
    type Output = warden_store::ArtifactRecord;
    const ACTION: Action = Action::ArtifactCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if !ARTIFACT_KINDS.contains(&self.kind.as_str()) {
            return Err(AppError::Invalid(format!("`kind` must be one of {}", ARTIFACT_KINDS.join(", "))));
        }
        name_ok(&self.name)?;
        let m = &self.metadata;
        for (field, v) in [("source_uri", &m.source_uri), ("licence", &m.licence)] {
            if let Some(v) = v {
                text_ok(field, v, 2000)?;
            }
        }
        if let Some(card) = &m.model_card {
            text_ok("model_card", card, 200_000)?;
        }
        if m.expires_at.is_some_and(|e| e <= ctx.now().0) {
            return Err(AppError::Invalid("`expires_at` is in the past".into()));
        }
        if let Some(d) = &m.dataset {
            let id = warden_core::DatasetId::parse(d).map_err(|e| AppError::Invalid(format!("`dataset`: {e}")))?;
            let held = ctx.store().get_dataset(&id).await?.is_some_and(|d| d.project.as_ref() == Some(&self.project));
            if !held {
                return Err(AppError::Invalid(format!("`dataset`: {d} is not a dataset of this project")));
            }
        }
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        let manifest = match (self.kind.as_str(), &self.image) {
            ("container-image", Some(image)) if self.files.is_empty() => {
                warden_intake::manifest::Manifest::image(image)
            }
            ("container-image", _) => {
                return Err(AppError::Invalid(
                    "a container-image artifact names `image` by digest and has no files".into(),
                ))
            }
            (_, Some(_)) => return Err(AppError::Invalid("`image` is only for container-image artifacts".into())),
            (_, None) => warden_intake::manifest::Manifest::new(self.files),
        }
        .map_err(|e| AppError::Invalid(e.to_string()))?;
        for f in &manifest.files {
            match ctx.store().project_blob(&self.project, &f.digest).await? {
                Some(size) if size == f.size => {}
                Some(size) => {
                    return Err(AppError::Invalid(format!(
                        "file `{}`: declared {} bytes, the blob has {size}",
                        f.path, f.size
                    )))
                }
                None => {
                    return Err(AppError::Invalid(format!(
                        "file `{}`: blob {} was not uploaded to this project",
                        f.path, f.digest
                    )))
                }
            }
        }
        // Scan each file from a private spool copy; nothing is ever loaded.
        let dir = tempfile::tempdir().map_err(|e| AppError::Internal(e.to_string()))?;
        let mut reasons = Vec::new();
        let mut scans = serde_json::Map::new();
        for (i, f) in manifest.files.iter().enumerate() {
            let digest = warden_blob::Digest::parse(&f.digest)?;
            let local = dir.path().join(format!("{i}-{}", f.path.rsplit('/').next().unwrap_or("file")));
            ctx.app.blobs().spool(&digest, &local).await?;
            let report = tokio::task::spawn_blocking(move || {
                warden_intake::scan_file(&local, &warden_intake::Limits::default())
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(format!("scan of `{}`: {e}", f.path)))?;
            if report.verdict == warden_intake::Verdict::Unsafe {
                reasons.extend(report.reasons.iter().map(|r| format!("{}: {r}", f.path)));
            }
            scans.insert(f.path.clone(), serde_json::to_value(&report).unwrap_or_default());
        }
        // Signatures: each must verify with a signer trusted for this project now.
        let now = ctx.now();
        let canonical = manifest.canonical();
        let trusted: Vec<_> = ctx
            .store()
            .list_signers(Some(&self.project))
            .await?
            .into_iter()
            .filter(|x| x.trusted_for(&self.project, now))
            .collect();
        let mut signatures = Vec::new();
        for sig in &self.signatures {
            let candidates: Vec<_> =
                trusted.iter().filter(|x| sig.signer.as_ref().is_none_or(|id| *id == x.id)).collect();
            let verified = candidates.iter().find(|x| {
                warden_intake::signature::Algorithm::parse(&x.algorithm)
                    .and_then(|a| warden_intake::signature::PublicKey::from_pem(a, &x.public_key).ok())
                    .is_some_and(|k| k.verify(canonical.as_bytes(), &sig.signature).is_ok())
            });
            match verified {
                Some(x) => signatures.push(
                    serde_json::json!({"signer": x.id, "name": x.name, "algorithm": x.algorithm, "verified": true}),
                ),
                None => {
                    let who = sig.signer.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "any trusted signer".into());
                    reasons.push(format!("manifest signature does not verify with {who} (unknown, untrusted, expired or revoked key, or wrong signature)"));
                    signatures.push(serde_json::json!({"signer": sig.signer, "verified": false}));
                }
            }
        }
        let mut model_signing = serde_json::Value::Null;
        if let Some(bundle) = &self.model_signing_bundle {
            let keys: Vec<(usize, warden_intake::signature::PublicKey)> = trusted
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    warden_intake::signature::Algorithm::parse(&x.algorithm)
                        .and_then(|a| warden_intake::signature::PublicKey::from_pem(a, &x.public_key).ok())
                        .map(|k| (i, k))
                })
                .collect();
            let only_keys: Vec<_> = keys.iter().map(|(_, k)| k.clone()).collect();
            match warden_intake::model_signing::verify(bundle, &only_keys) {
                Ok(signed) => {
                    let problems = warden_intake::model_signing::compare(&signed, &manifest);
                    let signer = keys.get(signed.key).and_then(|(i, _)| trusted.get(*i));
                    model_signing = serde_json::json!({
                        "verified": problems.is_empty(),
                        "signer": signer.map(|x| x.id.to_string()),
                        "signer_name": signer.map(|x| x.name.clone()),
                        "subject": signed.subject,
                        "files": signed.files.len(),
                        "problems": problems,
                    });
                    reasons.extend(problems.into_iter().map(|p| format!("model-signing bundle: {p}")));
                }
                Err(e) => {
                    model_signing = serde_json::json!({"verified": false, "error": e.to_string()});
                    reasons.push(format!("model-signing bundle: {e}"));
                }
            }
        }
        let verdict = if reasons.is_empty() { "admitted" } else { "rejected" };
        let record = warden_store::ArtifactRecord {
            id: warden_core::ArtifactId::generate(now.0),
            project: self.project,
            kind: self.kind,
            name: self.name,
            manifest: manifest.canonical(),
            manifest_digest: manifest.digest(),
            total_size: manifest.total_size(),
            verdict: verdict.into(),
            evidence: serde_json::json!({
                "reasons": reasons,
                "scans": scans,
                "signatures": signatures,
                "model_signing": model_signing,
                "metadata": m,
            }),
            expires_at: m.expires_at.map(Timestamp),
            created_by: ctx.principal.id.clone(),
            created_at: now,
        };
        ctx.store().create_artifact(&record).await?;
        if verdict == "rejected" {
            return Err(AppError::Invalid(format!("intake rejected artifact {}: {}", record.id, reasons.join("; "))));
        }
        Ok(record)
    }
}

pub struct GetArtifact {
    pub project: ProjectId,
    pub id: warden_core::ArtifactId,
}

impl Operation for GetArtifact {
    type Output = warden_store::ArtifactRecord;
    const ACTION: Action = Action::ArtifactRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.store()
            .get_artifact(&self.project, &self.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("artifact `{}`", self.id)))
    }
}

/// Registers an admitted, unexpired artifact as the next version of a model (created on
/// its first version), with the training runs and datasets it came from when known.
/// Versions are immutable.
pub struct AddModelVersion {
    pub project: ProjectId,
    pub model: String,
    pub artifact: warden_core::ArtifactId,
    pub lineage: warden_store::VersionLineage,
}

/// Most runs or datasets one version may name, and the longest reference.
const MAX_LINEAGE: usize = 64;
const MAX_REFERENCE: usize = 512;

fn lineage_ok(l: &mut warden_store::VersionLineage) -> Result<(), AppError> {
    for (field, refs) in [("runs", &mut l.runs), ("datasets", &mut l.datasets), ("data_classes", &mut l.data_classes)] {
        if refs.len() > MAX_LINEAGE {
            return Err(AppError::Invalid(format!("`{field}` names more than {MAX_LINEAGE} references")));
        }
        for r in refs.iter() {
            if r.trim().is_empty() {
                return Err(AppError::Invalid(format!("`{field}` holds an empty reference")));
            }
            text_ok(field, r, MAX_REFERENCE)?;
        }
        refs.sort();
        refs.dedup();
    }
    Ok(())
}

impl Operation for AddModelVersion {
    type Output = (warden_store::ModelRecord, warden_store::ModelVersionRecord, warden_store::ArtifactRecord);
    const ACTION: Action = Action::ModelVersionCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(mut self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        name_ok(&self.model)?;
        lineage_ok(&mut self.lineage)?;
        ctx.app.policy().await.classes_declared(&self.lineage.data_classes)?;
        let a = ctx
            .store()
            .get_artifact(&self.project, &self.artifact)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("artifact `{}`", self.artifact)))?;
        if a.verdict != "admitted" {
            return Err(AppError::Invalid(format!("artifact {} was rejected at intake", a.id)));
        }
        if a.expires_at.is_some_and(|e| e <= ctx.now()) {
            return Err(AppError::Invalid(format!("artifact {} has expired", a.id)));
        }
        let now = ctx.now();
        let model = ctx
            .store()
            .ensure_model(&warden_store::ModelRecord {
                id: warden_core::ModelId::generate(now.0),
                project: self.project,
                name: self.model,
                created_by: ctx.principal.id.clone(),
                created_at: now,
            })
            .await?;
        // Two concurrent registrations may pick the same number; the loser retries.
        let mut tries = 0;
        loop {
            match ctx.store().add_model_version(&model.id, &a.id, &self.lineage, &ctx.principal.id, now).await {
                Ok(v) => {
                    crate::catalog::link_version(ctx.app, &model.project, &model.id, v.version, &self.lineage).await?;
                    return Ok((model, v, a));
                }
                Err(warden_store::StoreError::Conflict(_)) if tries < 3 => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// One version as a reader sees it: its artifact, the aliases pointing at it and its tags.
#[derive(Debug, Clone)]
pub struct VersionView {
    pub version: warden_store::ModelVersionRecord,
    pub artifact: warden_store::ArtifactRecord,
    pub aliases: Vec<String>,
    pub tags: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ModelView {
    pub model: warden_store::ModelRecord,
    pub versions: Vec<VersionView>,
}

async fn model_named(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    name: &str,
) -> Result<warden_store::ModelRecord, AppError> {
    ctx.store().get_model(project, name).await?.ok_or_else(|| AppError::NotFound(format!("model `{name}`")))
}

/// Every version of a model with its artifact, aliases and tags.
async fn model_view(ctx: &Authorized<'_>, m: warden_store::ModelRecord) -> Result<ModelView, AppError> {
    let aliases = ctx.store().list_model_aliases(&m.id).await?;
    let tags = ctx.store().list_model_tags(&m.id).await?;
    let mut versions = Vec::new();
    for v in ctx.store().list_model_versions(&m.id).await? {
        let artifact = ctx
            .store()
            .get_artifact(&m.project, &v.artifact)
            .await?
            .ok_or_else(|| AppError::Internal(format!("version {} names a missing artifact", v.version)))?;
        versions.push(VersionView {
            aliases: aliases.iter().filter(|a| a.version == v.version).map(|a| a.alias.clone()).collect(),
            tags: tags.iter().filter(|t| t.version == v.version).map(|t| (t.key.clone(), t.value.clone())).collect(),
            artifact,
            version: v,
        });
    }
    Ok(ModelView { model: m, versions })
}

/// A model with its versions and each version's artifact.
pub struct GetModel {
    pub project: ProjectId,
    pub name: String,
}

impl Operation for GetModel {
    type Output = ModelView;
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let m = model_named(&ctx, &self.project, &self.name).await?;
        model_view(&ctx, m).await
    }
}

/// The computed alias every model has: its highest version.
pub const LATEST: &str = "latest";

/// One version, named by number, by alias, or `latest`.
pub struct GetModelVersion {
    pub project: ProjectId,
    pub name: String,
    pub reference: String,
}

impl Operation for GetModelVersion {
    type Output = (warden_store::ModelRecord, VersionView);
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let m = model_named(&ctx, &self.project, &self.name).await?;
        let view = model_view(&ctx, m).await?;
        let found = if let Ok(n) = self.reference.parse::<u64>() {
            view.versions.into_iter().find(|v| v.version.version == n)
        } else if self.reference == LATEST {
            view.versions.into_iter().next_back()
        } else {
            view.versions.into_iter().find(|v| v.aliases.contains(&self.reference))
        };
        let v = found.ok_or_else(|| {
            AppError::NotFound(format!("model `{}` has no version or alias `{}`", self.name, self.reference))
        })?;
        Ok((view.model, v))
    }
}

/// Alias names: a lowercase letter, then lowercase letters, digits, `-` and `_`; never
/// all digits (those are version numbers) and never `latest` (computed).
fn alias_ok(alias: &str) -> Result<(), AppError> {
    let mut chars = alias.chars();
    let good = alias.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !good {
        return Err(AppError::Invalid(format!(
            "alias `{alias}`: use 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter"
        )));
    }
    if alias == LATEST {
        return Err(AppError::Invalid("`latest` always means the highest version; it cannot be set".into()));
    }
    Ok(())
}

/// Points an alias at a version, or removes it (`version: None`).
pub struct SetModelAlias {
    pub project: ProjectId,
    pub model: String,
    pub alias: String,
    pub version: Option<u64>,
}

impl Operation for SetModelAlias {
    type Output = Option<warden_store::ModelAliasRecord>;
    const ACTION: Action = Action::ModelAliasSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        alias_ok(&self.alias)?;
        let m = model_named(&ctx, &self.project, &self.model).await?;
        let Some(version) = self.version else {
            if !ctx.store().delete_model_alias(&m.id, &self.alias).await? {
                return Err(AppError::NotFound(format!("alias `{}` of model `{}`", self.alias, self.model)));
            }
            return Ok(None);
        };
        if !ctx.store().list_model_versions(&m.id).await?.iter().any(|v| v.version == version) {
            return Err(AppError::NotFound(format!("version {version} of model `{}`", self.model)));
        }
        let record = warden_store::ModelAliasRecord {
            alias: self.alias,
            version,
            updated_by: ctx.principal.id.clone(),
            updated_at: ctx.now(),
        };
        ctx.store().set_model_alias(&m.id, &record).await?;
        Ok(Some(record))
    }
}

fn tag_ok(key: &str, value: Option<&str>) -> Result<(), AppError> {
    let good =
        !key.is_empty() && key.len() <= 128 && key.chars().all(|c| c.is_ascii_alphanumeric() || "_.-:/".contains(c));
    if !good {
        return Err(AppError::Invalid(format!(
            "tag key `{key}`: use 1 to 128 letters, digits, `_`, `.`, `-`, `:` or `/`"
        )));
    }
    if let Some(v) = value {
        text_ok("value", v, 1024)?;
    }
    Ok(())
}

/// Sets a tag on a version, or removes it (`value: None`).
pub struct SetModelTag {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
    pub key: String,
    pub value: Option<String>,
}

impl Operation for SetModelTag {
    type Output = Option<warden_store::ModelTagRecord>;
    const ACTION: Action = Action::ModelTagSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        tag_ok(&self.key, self.value.as_deref())?;
        let m = model_named(&ctx, &self.project, &self.model).await?;
        let Some(value) = self.value else {
            if !ctx.store().delete_model_tag(&m.id, self.version, &self.key).await? {
                return Err(AppError::NotFound(format!(
                    "tag `{}` on version {} of model `{}`",
                    self.key, self.version, self.model
                )));
            }
            return Ok(None);
        };
        if !ctx.store().list_model_versions(&m.id).await?.iter().any(|v| v.version == self.version) {
            return Err(AppError::NotFound(format!("version {} of model `{}`", self.version, self.model)));
        }
        let record = warden_store::ModelTagRecord {
            version: self.version,
            key: self.key,
            value,
            updated_by: ctx.principal.id.clone(),
            updated_at: ctx.now(),
        };
        ctx.store().set_model_tag(&m.id, &record).await?;
        Ok(Some(record))
    }
}

pub struct ListModels {
    pub project: ProjectId,
    pub page: Page,
}

impl Operation for ListModels {
    type Output = Vec<warden_store::ModelRecord>;
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_models(&self.project, &self.page).await?)
    }
}

// ---------------------------------------------------------------- trusted signers

pub struct CreateSigner {
    pub name: String,
    pub algorithm: String,
    pub public_key: String,
    pub project: Option<ProjectId>,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
}

impl Operation for CreateSigner {
    type Output = warden_store::SignerRecord;
    const ACTION: Action = Action::SignerCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        name_ok(&self.name)?;
        let alg = warden_intake::signature::Algorithm::parse(&self.algorithm)
            .ok_or_else(|| AppError::Invalid("`algorithm` must be ed25519, ecdsa-p256 or ecdsa-p384".into()))?;
        warden_intake::signature::PublicKey::from_pem(alg, &self.public_key)
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        if let (Some(a), Some(b)) = (self.not_before, self.not_after) {
            if b <= a {
                return Err(AppError::Invalid("`not_after` must be later than `not_before`".into()));
            }
        }
        if let Some(p) = &self.project {
            ctx.store().get_project(p).await?.ok_or_else(|| AppError::NotFound(format!("project `{p}`")))?;
        }
        let now = ctx.now();
        let record = warden_store::SignerRecord {
            id: warden_core::SignerId::generate(now.0),
            project: self.project,
            name: self.name,
            algorithm: alg.as_str().into(),
            public_key: self.public_key,
            not_before: self.not_before,
            not_after: self.not_after,
            revoked_at: None,
            created_by: ctx.principal.id.clone(),
            created_at: now,
        };
        ctx.store().create_signer(&record).await?;
        Ok(record)
    }
}

pub struct ListSigners {
    pub project: Option<ProjectId>,
}

impl Operation for ListSigners {
    type Output = Vec<warden_store::SignerRecord>;
    const ACTION: Action = Action::SignerList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_signers(self.project.as_ref()).await?)
    }
}

pub struct RevokeSigner {
    pub id: warden_core::SignerId,
}

impl Operation for RevokeSigner {
    type Output = ();
    const ACTION: Action = Action::SignerRevoke;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if !ctx.store().revoke_signer(&self.id, ctx.now()).await? {
            return Err(AppError::NotFound(format!("unrevoked signer `{}`", self.id)));
        }
        Ok(())
    }
}
