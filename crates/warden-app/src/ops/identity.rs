//! Identities: self-service, projects and members, users and services, organisation roles, groups.

use super::*;

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
        Ok(Target {
            requested_role: Some(self.role),
            member: Some(self.member.as_str().to_string()),
            ..Target::of(Resource::Project(self.project.clone()))
        })
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
        Ok(Target {
            requested_role: Some(self.role),
            member: Some(self.member.as_str().to_string()),
            ..Target::of(Resource::Project(self.project.clone()))
        })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if !ctx.store().remove_member(&self.project, &self.member, self.role, ctx.now(), &ctx.principal.id).await? {
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
        Ok(Target {
            requested_role: Some(self.role),
            member: Some(self.member.as_str().to_string()),
            ..Target::organisation()
        })
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
        Ok(Target {
            requested_role: Some(self.role),
            member: Some(self.member.as_str().to_string()),
            ..Target::organisation()
        })
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if self.member == MemberRef::Subject(ctx.principal.id.clone()) && self.role == Role::PlatformAdmin {
            return Err(AppError::Invalid("you cannot revoke your own platform-admin role".into()));
        }
        if !ctx.store().revoke_role(&self.member, self.role, ctx.now(), &ctx.principal.id).await? {
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

/// Who or what an exact name names: people, services and groups (names are unique
/// within each kind, so at most one of each). Any signed-in caller may ask, so that a
/// project owner can add a colleague by name; listing stays with administrators and
/// auditors.
pub struct LookupName {
    pub name: String,
}

/// One thing a name names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMatch {
    pub id: String,
    /// `user`, `service` or `group`.
    pub kind: &'static str,
    pub name: String,
    pub disabled: bool,
}

impl Operation for LookupName {
    type Output = Vec<NameMatch>;
    const ACTION: Action = Action::DirectoryLookup;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Vec<NameMatch>, AppError> {
        let mut found = Vec::new();
        if let Some(s) = ctx.store().get_subject_by_name(&self.name).await? {
            let kind = if s.kind == PrincipalKind::Service { "service" } else { "user" };
            found.push(NameMatch { id: s.id.to_string(), kind, name: s.name, disabled: s.disabled });
        }
        if let Some(g) = ctx.store().get_group_by_name(&self.name).await? {
            found.push(NameMatch { id: g.id.to_string(), kind: "group", name: g.name, disabled: false });
        }
        Ok(found)
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

/// A group membership change names the member (with the decision and the change); the
/// change's resource is the group.
fn group_change(subject: &SubjectId) -> Target {
    Target { member: Some(subject.to_string()), ..Target::organisation() }
}

fn group_resource(group: &GroupId) -> Option<warden_audit::ResourceRef> {
    Some(warden_audit::ResourceRef { type_: "group".into(), uid: group.to_string() })
}

impl Operation for AddGroupMember {
    type Output = GroupId;
    const ACTION: Action = Action::GroupMemberAdd;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(group_change(&self.subject))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<GroupId, AppError> {
        ctx.store()
            .get_group(&self.group)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("group `{}`", self.group)))?;
        subject_exists(&ctx, &self.subject).await?;
        ctx.store().add_group_member(&self.group, &self.subject, ctx.now(), &ctx.principal.id).await?;
        Ok(self.group)
    }
    fn recorded_resource(g: &GroupId) -> Option<warden_audit::ResourceRef> {
        group_resource(g)
    }
}

pub struct RemoveGroupMember {
    pub group: GroupId,
    pub subject: SubjectId,
}

impl Operation for RemoveGroupMember {
    type Output = GroupId;
    const ACTION: Action = Action::GroupMemberRemove;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(group_change(&self.subject))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<GroupId, AppError> {
        if !ctx.store().remove_group_member(&self.group, &self.subject, ctx.now(), &ctx.principal.id).await? {
            return Err(AppError::NotFound(format!("membership of `{}` in `{}`", self.subject, self.group)));
        }
        Ok(self.group)
    }
    fn recorded_resource(g: &GroupId) -> Option<warden_audit::ResourceRef> {
        group_resource(g)
    }
}
