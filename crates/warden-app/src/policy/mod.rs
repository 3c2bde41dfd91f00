//! The policy document in force: loading, applying (validated, atomic, versioned,
//! audited), rolling back, and asking it placement questions.
//!
//! Every replica keeps the active document and its compiled engine in memory and checks
//! the store for a newer version at most once a second (at once after a local change),
//! so a change applied on one replica reaches the others within that time.

use std::sync::Arc;

use serde_json::json;
use warden_audit::{Category, ResourceRef};
use warden_core::{Principal, ProjectId};
use warden_policy::Facts;
use warden_policy_doc::Document;
use warden_store::{Page, PolicyVersionRecord};

pub(crate) mod active;

pub use active::*;

use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

/// Largest document accepted.
const MAX_DOCUMENT: usize = 256 * 1024;

impl std::fmt::Debug for ActivePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivePolicy").field("version", &self.version).field("digest", &self.digest).finish()
    }
}

impl App {
    /// The policy in force. When this replica's copy is more than a second old, a
    /// refresh from the store starts in the background; the caller does not wait for it.
    pub async fn policy(&self) -> Arc<ActivePolicy> {
        warden_store::fresh::in_background(
            &self.policies,
            |p| &p.refresh,
            "the policy document",
            |p| async move { p.reload().await.map(drop) },
        );
        self.policies.now()
    }

    /// The latest stored version, loaded now (after a change, or to decide on it).
    async fn reload_policy(&self) -> Result<Arc<ActivePolicy>, AppError> {
        self.policies.reload().await
    }

    /// On a store without a policy document, stores the shipped default as version 1
    /// (by the first administrator) and records it; then loads what is in force.
    pub async fn ensure_policy(&self) -> Result<(), AppError> {
        if self.store.latest_policy().await?.is_none() {
            let Some(admin) = self.store.get_subject_by_name(&self.config.bootstrap_admin).await? else {
                tracing::warn!("no administrator to attribute the default policy to; using it unstored");
                return Ok(());
            };
            let record = PolicyVersionRecord {
                version: 1,
                document: warden_policy_doc::DEFAULT.to_string(),
                digest: digest(warden_policy_doc::DEFAULT),
                comment: "the default policy, loaded on a new data directory".into(),
                created_by: admin.id,
                created_at: self.now(),
                restored_from: None,
            };
            // Another replica starting at the same time may store it first: fine.
            if self.store.add_policy_version(&record).await? {
                let mut e = warden_audit::AuditEvent::new(self.now(), Category::Change, "policy.change", "success");
                e.reason = Some(record.comment.clone());
                e.resource = Some(ResourceRef { type_: "policy".into(), uid: "v1".into() });
                e.detail = json!({"version": 1, "digest": record.digest});
                self.record(&e).await?;
            }
        }
        self.reload_policy().await?;
        Ok(())
    }
}

/// Reads and checks a document: syntax, schema, references and contradictions, and the
/// projects its release rules name. Every problem is reported, each with its location.
async fn validate(app: &App, text: &str) -> Result<Document, AppError> {
    if text.len() > MAX_DOCUMENT {
        return Err(AppError::Invalid(format!("the document exceeds {} KiB", MAX_DOCUMENT / 1024)));
    }
    let doc = Document::parse(text).map_err(document_error)?;
    let mut unknown = Vec::new();
    let named: Vec<(String, warden_policy_doc::Pos)> =
        doc.release_projects().map(|(n, p)| (n.to_string(), p)).collect();
    if !named.is_empty() {
        let projects = all_project_names(app).await?;
        for (name, _) in named {
            if !projects.contains(&name) {
                unknown.push(doc.problem_at(
                    &format!("releases.{name}"),
                    format!("no project is named `{name}`; release rules are keyed by project name or `default`"),
                ));
            }
        }
    }
    if !unknown.is_empty() {
        return Err(document_error(warden_policy_doc::Problems(unknown)));
    }
    doc.engine().map_err(|e| AppError::Internal(format!("a valid document did not compile: {e}")))?;
    Ok(doc)
}

async fn all_project_names(app: &App) -> Result<std::collections::BTreeSet<String>, AppError> {
    let mut names = std::collections::BTreeSet::new();
    let mut page = Page::first(500);
    loop {
        let batch = app.store.list_projects(&page).await?;
        let Some(last) = batch.last() else { break };
        page.after = Some(last.id.to_string());
        let full = batch.len() == 500;
        names.extend(batch.into_iter().map(|p| p.name));
        if !full {
            break;
        }
    }
    Ok(names)
}

fn document_error(p: warden_policy_doc::Problems) -> AppError {
    let n = p.0.len();
    AppError::Document {
        summary: format!(
            "the policy document has {n} problem{}: {}",
            if n == 1 { "" } else { "s" },
            p.0.first().map(|p| p.to_string()).unwrap_or_default()
        ),
        errors: p.0,
    }
}

/// The policy document in force.
pub struct GetPolicy;

/// A stored version, or the built-in default before any is stored.
#[derive(Debug, Clone)]
pub struct PolicyView {
    pub record: Option<PolicyVersionRecord>,
    pub active: Arc<ActivePolicy>,
}

impl Operation for GetPolicy {
    type Output = PolicyView;
    const ACTION: Action = Action::PolicyRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let active = ctx.app.reload_policy().await?;
        let record = match active.version {
            0 => None,
            v => ctx.store().get_policy_version(v).await?,
        };
        Ok(PolicyView { record, active })
    }
}

/// Every stored version, newest first.
pub struct ListPolicyVersions {
    pub limit: u32,
}

impl Operation for ListPolicyVersions {
    type Output = Vec<PolicyVersionRecord>;
    const ACTION: Action = Action::PolicyRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_policy_versions(self.limit.clamp(1, 1000)).await?)
    }
}

/// One stored version, with its text.
pub struct GetPolicyVersion {
    pub version: u64,
}

impl Operation for GetPolicyVersion {
    type Output = PolicyVersionRecord;
    const ACTION: Action = Action::PolicyRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.store()
            .get_policy_version(self.version)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("policy version {}", self.version)))
    }
}

/// What applying (or a dry run) did.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    /// The new version; `None` for a dry run or when nothing changed.
    pub version: Option<u64>,
    /// The version in force before.
    pub previous: u64,
    /// One line per changed setting (`+`, `-`, `~`).
    pub changes: Vec<String>,
}

/// Validates and applies a document as the next version (or, with `dry_run`, only
/// reports what would change). Atomic: a concurrent apply on any replica makes this one
/// fail with a conflict rather than both landing.
pub struct ApplyPolicy {
    pub document: String,
    pub comment: String,
    pub dry_run: bool,
}

/// Writes `text` as the version after `base`, records the change and makes it active.
async fn store_version(
    ctx: &Authorized<'_>,
    base: &ActivePolicy,
    text: String,
    doc: Document,
    comment: String,
    restored_from: Option<u64>,
) -> Result<ApplyOutcome, AppError> {
    let changes = base.document.diff(&doc);
    let record = PolicyVersionRecord {
        version: base.version + 1,
        digest: digest(&text),
        document: text,
        comment,
        created_by: ctx.principal.id.clone(),
        created_at: ctx.now(),
        restored_from,
    };
    if !ctx.store().add_policy_version(&record).await? {
        return Err(AppError::rule(
            409,
            "policy.versions",
            format!("the policy changed since version {} was loaded; fetch it and apply again", base.version),
        ));
    }
    let mut e = ctx.app.event(Category::Change, "policy.change", "success", ctx.principal, ctx.meta);
    e.reason = Some(record.comment.clone()).filter(|c| !c.is_empty());
    e.resource = Some(ResourceRef { type_: "policy".into(), uid: format!("v{}", record.version) });
    e.detail = json!({
        "version": record.version,
        "previous": base.version,
        "digest": record.digest,
        "restored_from": restored_from,
        "changes": changes,
    });
    ctx.app.record(&e).await?;
    let engine = doc.engine().map_err(|e| AppError::Internal(e.to_string()))?;
    ctx.app.policies.set(Arc::new(ActivePolicy {
        version: record.version,
        digest: record.digest,
        text: record.document,
        document: doc,
        engine,
    }));
    Ok(ApplyOutcome { version: Some(record.version), previous: base.version, changes })
}

fn comment_ok(comment: &str) -> Result<(), AppError> {
    crate::text::text_ok("comment", comment, 1000)
}

impl Operation for ApplyPolicy {
    type Output = ApplyOutcome;
    const ACTION: Action = Action::PolicyApply;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        comment_ok(&self.comment)?;
        let doc = validate(ctx.app, &self.document).await?;
        let base = ctx.app.reload_policy().await?;
        let changes = base.document.diff(&doc);
        if self.dry_run || (changes.is_empty() && base.version > 0) {
            return Ok(ApplyOutcome { version: None, previous: base.version, changes });
        }
        store_version(&ctx, &base, self.document, doc, self.comment, None).await
    }
}

/// Makes an earlier version's text the next version (history is never rewritten).
pub struct RollbackPolicy {
    pub version: u64,
    pub comment: String,
}

impl Operation for RollbackPolicy {
    type Output = ApplyOutcome;
    const ACTION: Action = Action::PolicyRollback;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        comment_ok(&self.comment)?;
        let base = ctx.app.reload_policy().await?;
        if self.version == base.version {
            return Err(AppError::rule(
                409,
                "policy.versions",
                format!("version {} is already in force", self.version),
            ));
        }
        let Some(old) = ctx.store().get_policy_version(self.version).await? else {
            return Err(AppError::NotFound(format!("policy version {}", self.version)));
        };
        // The text must still hold today (e.g. a project it names may be gone).
        let doc = validate(ctx.app, &old.document).await?;
        store_version(&ctx, &base, old.document, doc, self.comment, Some(self.version)).await
    }
}

/// `warden policy explain --action A --subject S [--project P]`: whether a subject may
/// perform an action, and which rule decides. Asking about someone else reads their
/// roles, so it needs `user.get` (auditors, administrators).
pub struct ExplainAccess {
    pub subject: String,
    pub action: String,
    pub project: Option<ProjectId>,
    /// Answer as if the subject's credential were verified with a second factor.
    pub mfa: bool,
}

/// The answer to an access question.
#[derive(Debug, Clone)]
pub struct AccessExplanation {
    pub allowed: bool,
    pub rules: Vec<String>,
    pub explanation: String,
    pub org_roles: Vec<String>,
    pub project_roles: Vec<String>,
}

impl Operation for ExplainAccess {
    type Output = AccessExplanation;
    const ACTION: Action = Action::PolicyExplain;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let Some(action) = Action::parse(&self.action).filter(|a| *a != Action::ModelPlace) else {
            return Err(AppError::Invalid(format!("`{}` is not an action", self.action)));
        };
        let subject = match warden_core::SubjectId::parse(&self.subject) {
            Ok(id) => ctx.store().get_subject(&id).await?,
            Err(_) => ctx.store().get_subject_by_name(&self.subject).await?,
        }
        .ok_or_else(|| AppError::NotFound(format!("subject `{}`", self.subject)))?;
        if subject.id != ctx.principal.id && !ctx.may(Action::UserGet, &Resource::Organisation) {
            return Err(AppError::Forbidden("explaining another subject's access needs `user.get`".into()));
        }
        let who = Principal {
            org_roles: ctx.store().org_roles(&subject.id).await?,
            id: subject.id,
            name: subject.name,
            kind: subject.kind,
            method: warden_core::AuthMethod::Token,
            mfa: self.mfa,
            totp_enrolled: subject.totp_enrolled,
            scope: None,
        };
        let (resource, project_roles) = match &self.project {
            Some(p) => (Resource::Project(p.clone()), ctx.store().project_roles(p, &who.id).await?),
            None if matches!(
                action,
                Action::Whoami
                    | Action::TotpEnrol
                    | Action::TotpConfirm
                    | Action::SessionStepUp
                    | Action::TokenList
                    | Action::TokenRevoke
            ) =>
            {
                (Resource::Subject(who.id.clone()), Default::default())
            }
            None => (Resource::Organisation, Default::default()),
        };
        let facts = Facts { project_roles: project_roles.clone(), ..Facts::default() };
        let d = ctx.app.policy().await.engine.decide(&who, action, &resource, &facts);
        Ok(AccessExplanation {
            allowed: d.allowed,
            explanation: d.explain(action),
            rules: d.policies,
            org_roles: who.org_roles.iter().map(|r| r.as_str().to_string()).collect(),
            project_roles: project_roles.iter().map(|r| r.as_str().to_string()).collect(),
        })
    }
}
