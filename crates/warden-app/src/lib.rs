//! Warden's application layer: every API operation is a type implementing [`Operation`]
//! with its declared [`Action`]; [`App::dispatch`] is the one place that authorises an
//! operation (Cedar, deny by default), records the decision and runs it.
//!
//! An operation cannot run without going through dispatch: its `execute` takes an
//! [`Authorized`] value, which only this crate can construct.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod authn;
pub mod catalog;
mod error;
pub mod evidence;
pub mod gateway;
pub mod governance;
mod guard;
mod named_data;
pub mod ops;
pub mod payload;
pub mod policy;
pub mod providers;
pub mod quarantine;
mod recent;
mod refusals;
pub mod release;
mod text;

use std::future::Future;
use std::sync::Arc;

use serde_json::json;
use warden_audit::{Actor, AuditEvent, Category, Ledger, ResourceRef};
use warden_core::{AuthMethod, Principal, Role, Timestamp};
use warden_policy::Facts;
use warden_store::Store;

pub use authn::{LoginInput, LoginOutput};
pub use error::AppError;
pub use refusals::RefusalLimits;
pub use warden_core::Clock;
pub use warden_crypto::MasterKey;
pub use warden_policy::{Action, Placement, Resource};

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

/// Security settings the application enforces.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Failed sign-ins before the account locks.
    pub max_failed_attempts: i64,
    /// How long a lock lasts.
    pub lockout_seconds: i64,
    /// Lifetime of session tokens minted by a password sign-in.
    pub session_ttl_seconds: i64,
    /// Upper bound on any API token's lifetime.
    pub max_token_ttl_seconds: i64,
    /// Bad tokens one source address may present before it is locked out for
    /// `lockout_seconds`.
    pub max_bad_tokens_per_source: i64,
    /// How many refused authentications are recorded one by one (the rest are summarised).
    pub refusals: RefusalLimits,
    /// Largest blob an upload may carry.
    pub max_blob_bytes: u64,
    /// Name of the administrator created on first start.
    pub bootstrap_admin: String,
    /// LLM providers besides the built-in `mock`, in routing order.
    pub providers: Vec<warden_llm::ProviderConfig>,
    /// How long the gateway waits for a provider: to connect, and for the whole answer
    /// (a stream included).
    pub llm_timeout_seconds: u64,
    /// Bounds on a provider's answers (the longest streamed event).
    pub llm_limits: warden_llm::Limits,
    /// Whether a gateway answer waits until its audit record is durable (the default).
    /// Off, the record is queued before the answer leaves and committed with the next
    /// group commit (milliseconds later); calls stop while the ledger fails.
    pub gateway_wait_for_audit: bool,
    /// Per gateway key, per minute (0: no limit).
    pub key_requests_per_minute: i64,
    pub key_tokens_per_minute: i64,
    /// The installation's master secret.
    pub master_key: MasterKey,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            max_failed_attempts: 5,
            lockout_seconds: 900,
            session_ttl_seconds: 12 * 3600,
            max_token_ttl_seconds: 365 * 24 * 3600,
            max_bad_tokens_per_source: 20,
            refusals: RefusalLimits::default(),
            max_blob_bytes: 64 << 30,
            bootstrap_admin: "admin".into(),
            providers: Vec::new(),
            llm_timeout_seconds: 60,
            llm_limits: warden_llm::Limits::default(),
            key_requests_per_minute: 0,
            gateway_wait_for_audit: true,
            key_tokens_per_minute: 0,
            master_key: MasterKey::random(),
        }
    }
}

/// Facts about the HTTP request that events record.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub source: Option<String>,
}

/// What an operation acts on, and the role it would confer (tokens, grants).
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: Resource,
    pub requested_role: Option<Role>,
    /// The data class a credential being minted would carry (`Some("")`: none).
    pub requested_class: Option<String>,
    /// The resource is published to the whole organisation (a published dataset).
    pub resource_public: bool,
    /// Whom a membership or role change is about: recorded with the decision and the
    /// change, so who held which role when can be rebuilt from the ledger alone.
    pub member: Option<String>,
}

impl Target {
    pub fn organisation() -> Self {
        Self::of(Resource::Organisation)
    }
    pub fn of(resource: Resource) -> Self {
        Self { resource, requested_role: None, requested_class: None, resource_public: false, member: None }
    }
    /// A question about minting a credential with `role` and `class`.
    pub fn minting(resource: Resource, role: Option<Role>, class: Option<&str>) -> Self {
        Self {
            resource,
            requested_role: role,
            requested_class: Some(class.unwrap_or_default().to_string()),
            resource_public: false,
            member: None,
        }
    }
}

/// What would let the caller act, when no policy permits it now: the project roles
/// (or organisation roles) that would, found by asking the same engine with each; and
/// for a request on the organisation that a project's token could make, that binding.
fn remedy(
    engine: &warden_policy::Engine,
    principal: &Principal,
    action: Action,
    resource: &Resource,
    facts: &Facts,
) -> String {
    // Asked as if the caller had verified a second factor: MFA is its own remedy, which
    // the policies that need it already name.
    let verified = Principal { mfa: true, totp_enrolled: true, ..principal.clone() };
    let roles = |scope: warden_core::RoleScope| -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|r| r.scope() == scope)
            .filter(|r| match scope {
                warden_core::RoleScope::Project => {
                    let f = Facts { project_roles: [*r].into_iter().collect(), ..facts.clone() };
                    engine.decide(&verified, action, resource, &f).allowed
                }
                warden_core::RoleScope::Organisation => {
                    let p = Principal { org_roles: [*r].into_iter().collect(), ..verified.clone() };
                    engine.decide(&p, action, resource, facts).allowed
                }
            })
            .collect()
    };
    let names = |rs: &[Role]| rs.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(" or ");
    let mut out = String::new();
    if let Some(project) = resource.project() {
        let rs = roles(warden_core::RoleScope::Project);
        if !rs.is_empty() {
            out.push_str(&format!(
                ". It needs the role {} in project {project} (a project owner adds it: `warden project add-member {project} --member {} --role …`)",
                names(&rs),
                principal.id
            ));
        }
    } else if matches!(resource, Resource::Organisation) {
        let rs = roles(warden_core::RoleScope::Organisation);
        if !rs.is_empty() {
            out.push_str(&format!(". It needs the organisation role {}", names(&rs)));
        }
        if matches!(action, Action::LineageWrite) {
            out.push_str(
                "; a pipeline sends lineage with a token bound to its project instead \
                 (`warden token create --project PROJECT --role data-scientist`)",
            );
        }
    }
    out
}

/// The detail a decision or a change records about whom it concerns and the role.
fn subject_of_change(role: Option<Role>, member: Option<&str>) -> serde_json::Value {
    let mut d = serde_json::Map::new();
    if let Some(r) = role {
        d.insert("requested_role".into(), json!(r.as_str()));
    }
    if let Some(m) = member {
        d.insert("member".into(), json!(m));
    }
    if d.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(d)
    }
}

/// Proof that dispatch authorised the operation. `non_exhaustive` means only this crate
/// can construct it, so no caller can run an operation without dispatch.
#[non_exhaustive]
pub struct Authorized<'a> {
    pub app: &'a App,
    pub principal: &'a Principal,
    pub meta: &'a RequestMeta,
}

impl Authorized<'_> {
    pub fn now(&self) -> Timestamp {
        self.app.clock.now()
    }
    pub fn store(&self) -> &dyn Store {
        self.app.store.as_ref()
    }
    /// Asks the policy a follow-up question inside an authorised operation (e.g. whether
    /// a listing may include everything). Never writes.
    pub fn may(&self, action: Action, resource: &Resource) -> bool {
        self.app.policies.now().engine.decide(self.principal, action, resource, &Facts::default()).allowed
    }

    /// The caller's roles in a project, narrowed by its credential.
    pub async fn project_roles(
        &self,
        project: &warden_core::ProjectId,
    ) -> Result<std::collections::BTreeSet<Role>, AppError> {
        let roles = self.app.stored_project_roles(project, &self.principal.id).await?;
        Ok(self.principal.narrow_project_roles(project, roles))
    }

    /// A follow-up question about a target of another action (e.g. whether each item of
    /// a listing may be read), with the caller's roles in the target's project.
    pub async fn may_with(&self, action: Action, target: &Target) -> Result<bool, AppError> {
        let project_roles = match target.resource.project() {
            Some(p) => self.project_roles(p).await?,
            None => Default::default(),
        };
        let facts = Facts { project_roles, resource_public: target.resource_public, ..Facts::default() };
        Ok(self.app.policies.now().engine.decide(self.principal, action, &target.resource, &facts).allowed)
    }

    /// A follow-up question about another project (e.g. reading its registry).
    pub async fn may_in(&self, action: Action, project: &warden_core::ProjectId) -> Result<bool, AppError> {
        let facts = Facts { project_roles: self.project_roles(project).await?, ..Facts::default() };
        let resource = Resource::Project(project.clone());
        Ok(self.app.policies.now().engine.decide(self.principal, action, &resource, &facts).allowed)
    }
}

/// One API operation.
pub trait Operation: Send + Sized {
    type Output: Send;
    const ACTION: Action;
    /// The resource the operation acts on. May read the store, never writes.
    fn target(&self, app: &App, principal: &Principal) -> impl Future<Output = Result<Target, AppError>> + Send;
    fn execute(self, ctx: Authorized<'_>) -> impl Future<Output = Result<Self::Output, AppError>> + Send;
    /// What a successful change records besides its resource (never secrets or
    /// payloads): an evaluation's metrics and dataset, for example.
    fn recorded(_output: &Self::Output) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// The object a successful change made or changed, when it is narrower than the
    /// target dispatch authorised on (a model version inside a project): the change
    /// event names it, so that evidence about that object finds the event by its
    /// resource.
    fn recorded_resource(_output: &Self::Output) -> Option<ResourceRef> {
        None
    }
}

pub struct App {
    store: Arc<dyn Store>,
    ledger: Arc<Ledger>,
    blobs: warden_blob::BlobStore,
    policies: Arc<policy::active::PolicyState>,
    clock: Arc<dyn Clock>,
    config: AppConfig,
    oidc: Option<warden_authn::OidcVerifier>,
    /// The built-in `mock` provider, the configured ones, then the stored ones.
    providers: Arc<warden_gateway::Providers>,
    switches: Arc<warden_gateway::Switches>,
    bad_tokens: guard::SourceGuard,
    refusals: refusals::Refusals,
    keys: MasterKey,
    lineage: catalog::graph::LineageCache,
    recent: recent::Recent,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        ledger: Arc<Ledger>,
        blobs: warden_blob::BlobStore,
        clock: Arc<dyn Clock>,
        config: AppConfig,
        oidc: Option<warden_authn::OidcVerifier>,
    ) -> Result<Self, AppError> {
        let policies = Arc::new(policy::active::PolicyState::new(store.clone())?);
        let timeout = std::time::Duration::from_secs(config.llm_timeout_seconds.max(1));
        let providers = Arc::new(warden_gateway::Providers::new(
            store.clone(),
            &config.master_key,
            timeout,
            config.llm_limits,
            &config.providers,
        )?);
        let switches = Arc::new(warden_gateway::Switches::new(store.clone()));
        let keys = config.master_key.clone();
        Ok(Self {
            store,
            ledger,
            blobs,
            policies,
            clock,
            config,
            oidc,
            providers,
            switches,
            bad_tokens: Default::default(),
            refusals: Default::default(),
            keys,
            lineage: Default::default(),
            recent: Default::default(),
        })
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The gateway's providers in routing order (refreshed in the background).
    pub(crate) fn providers(&self) -> Arc<Vec<Arc<warden_llm::Provider>>> {
        self.providers.current()
    }

    pub fn blobs(&self) -> &warden_blob::BlobStore {
        &self.blobs
    }

    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Waits (up to `within`) for records still being written after their answers, so
    /// a clean shutdown loses none of them.
    pub async fn drain(&self, within: std::time::Duration) {
        let left = self.ledger.drain(within).await;
        if left > 0 {
            tracing::error!(left, "stopping with gateway call records not yet written");
        }
    }

    /// How far the check of the stored audit entries has got: (checked, of).
    pub fn audit_scrubbed(&self) -> (u64, u64) {
        self.ledger.scrubbed()
    }

    /// Readiness: the database answers, and the audit log still extends the last
    /// checkpoint this installation signed (else nothing is signed, and it says why).
    /// Answers each configured witness's lag: (name, size it cosigned, entries behind).
    pub async fn ready(&self) -> Result<Vec<(String, u64, u64)>, AppError> {
        self.store.ping().await.map_err(AppError::from)?;
        if let Some(why) = self.ledger.halted() {
            return Err(AppError::rule(503, "audit.signed-checkpoint-regression", why.to_string()));
        }
        let latest = self.store.latest_checkpoint().await?.map_or(0, |c| c.tree_size);
        Ok(self
            .ledger
            .witnesses()
            .into_iter()
            .map(|(name, cosigned)| {
                let behind = latest.saturating_sub(cosigned);
                (name, cosigned, behind)
            })
            .collect())
    }

    /// The one authorisation point: decide, record, run.
    pub async fn dispatch<O: Operation>(
        &self,
        principal: &Principal,
        meta: &RequestMeta,
        op: O,
    ) -> Result<O::Output, AppError> {
        let target = op.target(self, principal).await?;
        let member = target.member.clone();
        let project_roles = match target.resource.project() {
            Some(p) => principal.narrow_project_roles(p, self.stored_project_roles(p, &principal.id).await?),
            None => Default::default(),
        };
        let policy = self.policy().await;
        let facts = Facts {
            project_roles,
            requested_role: target.requested_role,
            requested_class: target.requested_class,
            classes_within_credential: warden_gateway::classes_within_credential(&policy.document, principal),
            resource_public: target.resource_public,
            placement: None,
        };
        let decision = policy.engine.decide(principal, O::ACTION, &target.resource, &facts);
        for e in &decision.errors {
            tracing::warn!(action = O::ACTION.as_str(), error = %e, "policy evaluation error (treated as deny)");
        }
        // Every decision on a change, every denial, and every sensitive read (the ledger, pulls) is
        // evidence. It must be durable before anything runs (fail closed).
        let resource = ResourceRef { type_: target.resource.type_name().into(), uid: target.resource.id() };
        let project = target.resource.project().map(|p| p.to_string());
        let record_decision = O::ACTION.is_mutation() || !decision.allowed || O::ACTION.is_sensitive_read();
        if record_decision {
            let mut e = self.event(
                Category::Authorization,
                O::ACTION.as_str(),
                if decision.allowed { "allow" } else { "deny" },
                principal,
                meta,
            );
            e.reason = Some(decision.explain(O::ACTION));
            e.resource = Some(resource.clone());
            e.project = project.clone();
            e.policies = decision.policies.clone();
            e.detail = subject_of_change(facts.requested_role, member.as_deref());
            self.record(&e).await?;
        }
        if !decision.allowed {
            let mut message = decision.explain(O::ACTION);
            if decision.unpermitted {
                message.push_str(&remedy(&policy.engine, principal, O::ACTION, &target.resource, &facts));
            }
            return Err(AppError::Forbidden(message));
        }
        let result = op.execute(Authorized { app: self, principal, meta }).await;
        if O::ACTION.is_mutation() {
            // Whatever changed, this replica's copies of identities, roles and budgets
            // may now be stale.
            self.recent.forget();
        }
        // The result of every change, so the record shows what happened, not only what
        // was allowed.
        if O::ACTION.is_mutation() {
            let (outcome, reason) = match &result {
                Ok(_) => ("success", None),
                Err(e) => ("failure", Some(e.to_string())),
            };
            let mut e = self.event(Category::Change, O::ACTION.as_str(), outcome, principal, meta);
            e.reason = reason;
            e.resource = Some(result.as_ref().ok().and_then(O::recorded_resource).unwrap_or(resource));
            e.project = project;
            e.detail = subject_of_change(facts.requested_role, member.as_deref());
            if let Some(serde_json::Value::Object(extra)) = result.as_ref().ok().map(O::recorded) {
                match &mut e.detail {
                    serde_json::Value::Object(d) => d.extend(extra),
                    other => *other = serde_json::Value::Object(extra),
                }
            }
            if let Err(err) = self.record(&e).await {
                tracing::error!(error = %err, action = O::ACTION.as_str(), "could not record the result of a change");
            }
        }
        result
    }

    /// A subject's roles in a project as the store says (or said within a second).
    async fn stored_project_roles(
        &self,
        project: &warden_core::ProjectId,
        subject: &warden_core::SubjectId,
    ) -> Result<std::collections::BTreeSet<Role>, AppError> {
        let key = (project.clone(), subject.clone());
        self.recent
            .project_roles
            .get_or_load(key, || async { Ok(self.store.project_roles(project, subject).await?) })
            .await
    }

    /// An event about `principal` acting in this request.
    pub(crate) fn event(
        &self,
        category: Category,
        action: &str,
        outcome: &str,
        principal: &Principal,
        meta: &RequestMeta,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(self.now(), category, action, outcome);
        e.actor = Actor {
            uid: Some(principal.id.to_string()),
            name: Some(principal.name.clone()),
            kind: Some(principal.kind.as_str().to_string()),
            auth_method: Some(match principal.method {
                AuthMethod::Token => "token".to_string(),
                AuthMethod::Oidc => "oidc".to_string(),
            }),
            mfa: Some(principal.mfa),
        };
        e.request_id = Some(meta.request_id.clone()).filter(|r| !r.is_empty());
        e.src_ip = meta.source.clone();
        e
    }

    pub(crate) async fn record(&self, event: &AuditEvent) -> Result<(), AppError> {
        self.ledger.append(event).await.map(|_| ()).map_err(AppError::from)
    }
}
