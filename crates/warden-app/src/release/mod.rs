//! Change management for models: evaluation evidence, releases to zones with an
//! automated gate, approvals under separation of duties, serialised deploys with signed
//! manifests, rollback, break-glass and the zone history.
//!
//! Who may act at all is Cedar's decision in dispatch (`release.*` actions). The rules
//! that depend on the release itself (the approver role of the release rule, separation
//! of duties, the state of the release) are checked here, each failure naming its rule
//! and recorded in the audit ledger.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use warden_audit::{Category, ResourceRef};
use warden_core::{Principal, ProjectId, ReleaseId, Role, Timestamp};
use warden_policy::Placement;
use warden_store::{
    ApprovalRecord, ArtifactRecord, Deployment, EvaluationRecord, ModelRecord, ModelVersionRecord, Page, ReleaseRecord,
};

use crate::policy::{explain, ActivePolicy, Explanation};
use crate::text::rfc3339;
use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

mod gate;

pub use gate::*;

const MAX_METRICS: usize = 100;

// ------------------------------------------------------------------ evaluations

/// Attaches evaluation evidence (metrics, optionally a report blob) to a version.
pub struct AddEvaluation {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
    pub metrics: BTreeMap<String, f64>,
    pub report: Option<String>,
    pub dataset: Option<String>,
}

impl Operation for AddEvaluation {
    type Output = EvaluationRecord;
    const ACTION: Action = Action::ModelEvaluationAdd;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if self.metrics.is_empty() || self.metrics.len() > MAX_METRICS {
            return Err(AppError::Invalid(format!("`metrics` needs 1 to {MAX_METRICS} entries")));
        }
        for (k, v) in &self.metrics {
            if k.is_empty() || k.len() > 64 || !k.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c)) {
                return Err(AppError::Invalid(format!("metric name `{k}`: use letters, digits, `_`, `-`, `.`, `@`")));
            }
            if !v.is_finite() {
                return Err(AppError::Invalid(format!("metric `{k}` must be a finite number")));
            }
        }
        if let Some(r) = &self.report {
            if ctx.store().project_blob(&self.project, r).await?.is_none() {
                return Err(AppError::Invalid(format!("report {r} is not a blob of this project; upload it first")));
            }
        }
        let f = version_facts(&ctx, &self.project, &self.model, self.version).await?;
        // The dataset it was evaluated on: a catalogued one (id or NAMESPACE/NAME),
        // recorded by name and linked to the version in the lineage graph.
        let dataset = match &self.dataset {
            Some(d) => {
                crate::text::text_ok("dataset", d, 512)?;
                crate::named_data::resolve_datasets(ctx.app, &self.project, std::slice::from_ref(d)).await?.pop()
            }
            None => None,
        };
        let e = ctx
            .store()
            .add_evaluation(&EvaluationRecord {
                model: f.model.id,
                version: self.version,
                seq: 0,
                metrics: self.metrics,
                report: self.report,
                dataset: dataset.as_ref().map(|d| format!("{}/{}", d.namespace, d.name)),
                added_by: ctx.principal.id.clone(),
                added_at: ctx.now(),
            })
            .await?;
        if let Some(d) = &dataset {
            crate::named_data::link_version(ctx.app, &e.model, e.version, &[], std::slice::from_ref(d)).await?;
        }
        Ok(e)
    }

    fn recorded(e: &EvaluationRecord) -> serde_json::Value {
        // Canonical JSON (RFC 8785) in the ledger has integers only: metrics are
        // written as their decimal text, as in the release manifest.
        let metrics: BTreeMap<&str, String> = e.metrics.iter().map(|(k, v)| (k.as_str(), v.to_string())).collect();
        json!({"model": e.model, "version": e.version, "evaluation": e.seq, "metrics": metrics,
               "dataset": e.dataset, "report": e.report})
    }

    fn recorded_resource(e: &EvaluationRecord) -> Option<warden_audit::ResourceRef> {
        Some(crate::evidence::version_resource(&e.model, e.version))
    }
}

/// A version's evaluations, oldest first.
pub struct ListEvaluations {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
}

impl Operation for ListEvaluations {
    type Output = Vec<EvaluationRecord>;
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let f = version_facts(&ctx, &self.project, &self.model, self.version).await?;
        Ok(ctx.store().list_evaluations(&f.model.id, self.version).await?)
    }
}

// ------------------------------------------------------------------ releases

/// A release with its approvals, as readers see it.
#[derive(Debug, Clone)]
pub struct ReleaseView {
    pub release: ReleaseRecord,
    pub model: String,
    pub approvals: Vec<ApprovalRecord>,
    /// What the release is now: `pending` until it has its approvals, then
    /// `approved`; `deployed` while it is the zone's active release of its model,
    /// `superseded` once another took its place; `failed` or `superseded` when closed
    /// without deploying.
    pub status: String,
}

async fn view(ctx: &Authorized<'_>, r: ReleaseRecord) -> Result<ReleaseView, AppError> {
    let approvals = ctx.store().list_approvals(&r.id).await?;
    let model = model_name(ctx, &r.project, &r.model).await?;
    let status = match r.status.as_str() {
        "pending" if standing(&approvals).len() >= r.approvals_required as usize => "approved".to_string(),
        "deployed" => {
            let history = ctx.store().zone_history(&r.zone, &r.model).await?;
            if history.last().is_some_and(|d| d.release != r.id) {
                "superseded".to_string()
            } else {
                r.status.clone()
            }
        }
        other => other.to_string(),
    };
    Ok(ReleaseView { release: r, model, approvals, status })
}

pub(crate) async fn model_name(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    id: &warden_core::ModelId,
) -> Result<String, AppError> {
    let mut page = Page::first(500);
    loop {
        let batch = ctx.store().list_models(project, &page).await?;
        if let Some(m) = batch.iter().find(|m| &m.id == id) {
            return Ok(m.name.clone());
        }
        match batch.last() {
            Some(last) if batch.len() == 500 => page.after = Some(last.id.to_string()),
            _ => return Err(AppError::Internal(format!("release names a missing model {id}"))),
        }
    }
}

async fn project_name(ctx: &Authorized<'_>, project: &ProjectId) -> Result<String, AppError> {
    Ok(ctx.store().get_project(project).await?.ok_or_else(|| AppError::NotFound(format!("project {project}")))?.name)
}

async fn release_of(ctx: &Authorized<'_>, project: &ProjectId, id: &ReleaseId) -> Result<ReleaseRecord, AppError> {
    ctx.store().get_release(project, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id}")))
}

fn not_pending(r: &ReleaseRecord) -> AppError {
    AppError::rule(
        409,
        "releases.state",
        format!("release {} is {}; only a pending release can change", r.id, r.status),
    )
}

/// `warden release create`: runs the gate and, when it passes, records a pending
/// release that needs the rule's approvals. A failing gate changes nothing and is
/// recorded with its checks.
pub struct CreateRelease {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
    pub zone: String,
    pub reason: String,
}

impl Operation for CreateRelease {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        reason_ok("reason", &self.reason, 1)?;
        let policy = ctx.app.policy().await;
        let (facts, pname, g) =
            gated(&ctx, &policy, &self.project, &self.model, self.version, &self.zone, true).await?;
        let (_, rule) = rule_for(&policy, &pname);
        let r = Pending {
            project: &self.project,
            model: &facts.model.id,
            version: self.version,
            zone: &self.zone,
            kind: "release",
            reason: self.reason,
            gate: json!({"passed": true, "checks": g.checks}),
            policy_version: policy.version,
        }
        .record(
            &ctx,
            rule.map_or(1, |r| r.approvals),
            rule.map_or_else(|| Role::Approver.as_str().to_string(), |r| r.approver_role.clone()),
        );
        ctx.store().create_release(&r).await?;
        release_event(
            &ctx,
            "release.created",
            "success",
            &self.project,
            Some(&r.id),
            Some(r.reason.clone()),
            json!({"model": facts.model.name, "version": r.version, "zone": r.zone, "gate": g.checks,
                   "approvals_required": r.approvals_required, "approver_role": r.approver_role}),
        )
        .await?;
        view(&ctx, r).await
    }
}

pub struct GetRelease {
    pub project: ProjectId,
    pub id: ReleaseId,
}

impl Operation for GetRelease {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let r = release_of(&ctx, &self.project, &self.id).await?;
        view(&ctx, r).await
    }
}

/// Releases of a project, newest first; `unreviewed` lists only break-glass deploys
/// nobody has reviewed yet.
pub struct ListReleases {
    pub project: ProjectId,
    pub page: Page,
    pub unreviewed: bool,
}

impl Operation for ListReleases {
    type Output = Vec<ReleaseView>;
    const ACTION: Action = Action::ReleaseRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let rs = if self.unreviewed {
            ctx.store().unreviewed_releases(&self.project).await?
        } else {
            ctx.store().list_releases(&self.project, &self.page).await?
        };
        let mut out = Vec::with_capacity(rs.len());
        for r in rs {
            out.push(view(&ctx, r).await?);
        }
        Ok(out)
    }
}

/// An approver's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Withdraw,
}

/// Approve, reject or withdraw an approval. The caller must hold the release rule's
/// approver role in the project (Cedar has already required MFA), and may not be the
/// author of the release or of the model version.
pub struct DecideRelease {
    pub project: ProjectId,
    pub id: ReleaseId,
    pub decision: Decision,
    pub comment: String,
}

impl Operation for DecideRelease {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseApprove;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        crate::text::text_ok("comment", &self.comment, 2000)?;
        let verb = match self.decision {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
            Decision::Withdraw => "approval-withdrawn",
        };
        let action = format!("release.{verb}");
        if let Err((status, rule, message)) = self.decide(&ctx).await? {
            release_event(
                &ctx,
                &action,
                "failure",
                &self.project,
                Some(&self.id),
                Some(message.clone()),
                json!({"rule": rule}),
            )
            .await?;
            return Err(AppError::rule(status, rule, message));
        }
        release_event(
            &ctx,
            &action,
            "success",
            &self.project,
            Some(&self.id),
            Some(self.comment.clone()).filter(|c| !c.is_empty()),
            json!({"mfa": ctx.principal.mfa}),
        )
        .await?;
        let r = release_of(&ctx, &self.project, &self.id).await?;
        view(&ctx, r).await
    }
}

/// A refusal: status, rule, message.
type Refusal = (u16, String, String);

impl DecideRelease {
    async fn decide(&self, ctx: &Authorized<'_>) -> Result<Result<(), Refusal>, AppError> {
        let r = release_of(ctx, &self.project, &self.id).await?;
        let state = |r: &ReleaseRecord| Err((409, "releases.state".to_string(), not_pending(r).to_string()));
        if r.status != "pending" {
            return Ok(state(&r));
        }
        if self.decision == Decision::Withdraw {
            if !ctx.store().withdraw_approval(&r.id, &ctx.principal.id, ctx.now()).await? {
                return Ok(Err((
                    409,
                    "releases.state".into(),
                    "you have no standing approval on this release to withdraw".into(),
                )));
            }
            return Ok(Ok(()));
        }
        let pname = project_name(ctx, &self.project).await?;
        let (rule_name, _) = rule_for(&*ctx.app.policy().await, &pname);
        let roles = ctx.project_roles(&self.project).await?;
        if !roles.iter().any(|role| role.as_str() == r.approver_role) {
            return Ok(Err((
                403,
                format!("releases.{rule_name}.approver_role"),
                format!("approving releases in this project needs the `{}` role", r.approver_role),
            )));
        }
        let model = model_name(ctx, &r.project, &r.model).await?;
        let version = version_facts(ctx, &self.project, &model, r.version).await?.version;
        if r.created_by == ctx.principal.id || version.created_by == ctx.principal.id {
            return Ok(Err((
                403,
                "releases.separation-of-duties".into(),
                "separation of duties: the author of a release or of its model version cannot approve or reject it"
                    .into(),
            )));
        }
        let a = ApprovalRecord {
            approver: ctx.principal.id.clone(),
            decision: if self.decision == Decision::Approve { "approve" } else { "reject" }.into(),
            comment: self.comment.clone(),
            mfa: ctx.principal.mfa,
            at: ctx.now(),
            withdrawn_at: None,
        };
        match ctx.store().decide_release(&r.id, &a).await {
            Ok(true) => Ok(Ok(())),
            Ok(false) => Ok(state(&release_of(ctx, &self.project, &self.id).await?)),
            Err(warden_store::StoreError::Conflict(_)) => Ok(Err((
                409,
                "releases.one-decision-per-approver".into(),
                "you already have a standing decision on this release (withdraw an approval to change it)".into(),
            ))),
            Err(e) => Err(e.into()),
        }
    }
}

/// What the manifest and the deploy need: the current end of the zone's history.
struct ZoneEnd {
    seq: u64,
    release: Option<ReleaseRecord>,
}

async fn zone_end(ctx: &Authorized<'_>, zone: &str, r: &ReleaseRecord) -> Result<ZoneEnd, AppError> {
    let history = ctx.store().zone_history(zone, &r.model).await?;
    let Some(last) = history.last() else { return Ok(ZoneEnd { seq: 0, release: None }) };
    let prev = ctx.store().get_release(&last.project, &last.release).await?;
    Ok(ZoneEnd { seq: last.seq, release: prev })
}

/// Builds, signs and stores the deploy; records it. Shared by deploy, rollback and
/// break-glass.
async fn deploy(
    ctx: &Authorized<'_>,
    r: &ReleaseRecord,
    facts: &VersionFacts,
    g: &Gate,
    approvals: &[ApprovalRecord],
    break_glass: bool,
) -> Result<ReleaseRecord, AppError> {
    let end = zone_end(ctx, &r.zone, r).await?;
    let now = ctx.now();
    let files: Value = serde_json::from_str(&facts.artifact.manifest).unwrap_or(Value::Null);
    let manifest = json!({
        "kind": "warden.release-manifest/v1",
        "release": r.id,
        "release_kind": r.kind,
        "project": r.project,
        "model": {"id": facts.model.id, "name": facts.model.name},
        "version": r.version,
        "zone": r.zone,
        "reason": r.reason,
        "artifact": {
            "id": facts.artifact.id,
            "manifest_digest": facts.artifact.manifest_digest,
            "files": files,
        },
        "data_classes": g.placement.facts.classes,
        "gate": g.checks,
        "evaluation": g.evaluation.as_ref().map(|e| json!({
            // As decimal strings: canonical JSON here carries only integers.
            "seq": e.seq, "metrics": e.metrics.iter().map(|(k, v)| (k.clone(), v.to_string())).collect::<BTreeMap<_, _>>(),
            "report": e.report, "dataset": e.dataset,
            "added_by": e.added_by, "added_at": rfc3339(e.added_at),
        })),
        "approvals": approvals.iter().map(|a| json!({
            "approver": a.approver, "at": rfc3339(a.at), "mfa": a.mfa, "comment": a.comment,
        })).collect::<Vec<_>>(),
        "break_glass": break_glass,
        "previous": end.release.as_ref().map(|p| json!({"release": p.id, "version": p.version})),
        "policy_version": r.policy_version,
        "created_by": r.created_by,
        "deployed_by": ctx.principal.id,
        "deployed_at": rfc3339(now),
    });
    let canonical = warden_tlog::jcs::canonicalize(&manifest).map_err(|e| AppError::Internal(e.to_string()))?;
    let text = String::from_utf8(canonical).map_err(|e| AppError::Internal(e.to_string()))?;
    let signed = ctx.app.ledger().sign_note(&format!("{text}\n")).map_err(AppError::from)?;
    let d = Deployment {
        release: r.id.clone(),
        project: r.project.clone(),
        zone: r.zone.clone(),
        model: r.model.clone(),
        version: r.version,
        approvers: approvals.iter().map(|a| a.approver.clone()).collect(),
        after_seq: end.seq,
        previous: end.release.as_ref().map(|p| p.id.clone()),
        manifest: signed.clone(),
        by: ctx.principal.id.clone(),
        at: now,
        break_glass,
    };
    if !ctx.store().deploy_release(&d).await? {
        return Err(AppError::rule(
            409,
            "releases.serialised",
            "the release, its approvals or the zone changed while deploying; nothing was deployed, try again",
        ));
    }
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(signed.as_bytes()));
    release_event(
        ctx,
        if break_glass { "release.break-glass" } else { "release.deployed" },
        "success",
        &r.project,
        Some(&r.id),
        Some(r.reason.clone()),
        json!({"zone": r.zone, "model": facts.model.name, "version": r.version,
               "previous": manifest.get("previous"), "manifest_digest": format!("sha256:{digest}"), "manifest": manifest}),
    )
    .await?;
    release_of(ctx, &r.project, &r.id).await
}

fn standing(approvals: &[ApprovalRecord]) -> Vec<ApprovalRecord> {
    approvals.iter().filter(|a| a.decision == "approve" && a.withdrawn_at.is_none()).cloned().collect()
}

/// Deploys a pending release that has its approvals, after running the gate again
/// (the policy, expiry dates and evidence may have changed since it was created).
pub struct DeployRelease {
    pub project: ProjectId,
    pub id: ReleaseId,
}

impl Operation for DeployRelease {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseDeploy;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let r = release_of(&ctx, &self.project, &self.id).await?;
        if r.status != "pending" {
            return Err(not_pending(&r));
        }
        let model = model_name(&ctx, &r.project, &r.model).await?;
        let facts = version_facts(&ctx, &self.project, &model, r.version).await?;
        let policy = ctx.app.policy().await;
        let pname = project_name(&ctx, &self.project).await?;
        let g = gate(&ctx, &policy, &facts, &pname, &r.zone, true).await?;
        if !g.passed {
            return Err(refuse_gate(&ctx, &self.project, Some(&r.id), &g).await);
        }
        let approvals = standing(&ctx.store().list_approvals(&r.id).await?);
        if approvals.len() < r.approvals_required as usize {
            let (rule_name, _) = rule_for(&policy, &pname);
            let message = format!(
                "release {} needs {} approval{} from the `{}` role and has {}",
                r.id,
                r.approvals_required,
                if r.approvals_required == 1 { "" } else { "s" },
                r.approver_role,
                approvals.len()
            );
            release_event(
                &ctx,
                "release.deployed",
                "failure",
                &self.project,
                Some(&r.id),
                Some(message.clone()),
                json!({"rule": format!("releases.{rule_name}.approvals")}),
            )
            .await?;
            return Err(AppError::rule(409, format!("releases.{rule_name}.approvals"), message));
        }
        let done = deploy(&ctx, &r, &facts, &g, &approvals, false).await?;
        view(&ctx, done).await
    }
}

/// What every new release starts from: pending, no approvals yet, nothing deployed.
struct Pending<'a> {
    project: &'a ProjectId,
    model: &'a warden_core::ModelId,
    version: u64,
    zone: &'a str,
    kind: &'a str,
    reason: String,
    gate: Value,
    policy_version: u64,
}

impl Pending<'_> {
    fn record(self, ctx: &Authorized<'_>, approvals_required: u32, approver_role: String) -> ReleaseRecord {
        let now = ctx.now();
        ReleaseRecord {
            id: ReleaseId::generate(now.0),
            project: self.project.clone(),
            model: self.model.clone(),
            version: self.version,
            zone: self.zone.to_string(),
            kind: self.kind.into(),
            reason: self.reason,
            status: "pending".into(),
            gate: self.gate.to_string(),
            approvals_required,
            approver_role,
            policy_version: self.policy_version,
            created_by: ctx.principal.id.clone(),
            created_at: now,
            deployed_by: None,
            deployed_at: None,
            previous: None,
            manifest: None,
            needs_review: false,
            reviewed_by: None,
            reviewed_at: None,
        }
    }
}

/// Records a release that deploys at once (rollback, break-glass); if the deploy does
/// not happen, the record is closed as superseded.
async fn record_and_deploy(
    ctx: &Authorized<'_>,
    r: ReleaseRecord,
    facts: &VersionFacts,
    g: &Gate,
    break_glass: bool,
) -> Result<ReleaseView, AppError> {
    ctx.store().create_release(&r).await?;
    match deploy(ctx, &r, facts, g, &[], break_glass).await {
        Ok(done) => view(ctx, done).await,
        Err(e) => {
            ctx.store().close_release(&r.id, "superseded").await?;
            Err(e)
        }
    }
}

/// Returns a zone to the release that was active before the current one, as a release
/// of its own (kind `rollback`). The target was approved for this zone before, so it
/// needs no new approvals, but the gate runs again.
pub struct RollbackRelease {
    pub project: ProjectId,
    pub zone: String,
    pub model: String,
    pub reason: String,
}

impl Operation for RollbackRelease {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseRollback;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        reason_ok("reason", &self.reason, 1)?;
        let m = ctx
            .store()
            .get_model(&self.project, &self.model)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("model `{}`", self.model)))?;
        let history = ctx.store().zone_history(&self.zone, &m.id).await?;
        let Some(current) = history.last() else {
            return Err(AppError::rule(
                409,
                "releases.rollback-target",
                format!("model `{}` has never been deployed to zone `{}`", self.model, self.zone),
            ));
        };
        let current = release_of(&ctx, &self.project, &current.release).await?;
        let Some(target_id) = current.previous.clone() else {
            return Err(AppError::rule(
                409,
                "releases.rollback-target",
                format!(
                    "release {} was the first in zone `{}`; there is nothing to roll back to",
                    current.id, self.zone
                ),
            ));
        };
        let target = release_of(&ctx, &self.project, &target_id).await?;
        let facts = version_facts(&ctx, &self.project, &self.model, target.version).await?;
        let policy = ctx.app.policy().await;
        let pname = project_name(&ctx, &self.project).await?;
        let g = gate(&ctx, &policy, &facts, &pname, &self.zone, false).await?;
        if !g.passed {
            return Err(refuse_gate(&ctx, &self.project, None, &g).await);
        }
        let gate = json!({"passed": true, "checks": g.checks, "rolls_back": current.id, "restores": target.id});
        let r = Pending {
            project: &self.project,
            model: &m.id,
            version: target.version,
            zone: &self.zone,
            kind: "rollback",
            reason: self.reason,
            gate,
            policy_version: policy.version,
        }
        .record(&ctx, 0, target.approver_role.clone());
        record_and_deploy(&ctx, r, &facts, &g, false).await
    }
}

/// An emergency deploy: needs a justification, skips approvals (and, flagged, the
/// evaluation threshold) but never placement; flagged for review until someone other
/// than its author reviews it.
pub struct BreakGlass {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
    pub zone: String,
    pub justification: String,
}

impl Operation for BreakGlass {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseBreakGlass;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        reason_ok("justification", &self.justification, 20)?;
        let policy = ctx.app.policy().await;
        let (facts, _, g) = gated(&ctx, &policy, &self.project, &self.model, self.version, &self.zone, false).await?;
        let r = Pending {
            project: &self.project,
            model: &facts.model.id,
            version: self.version,
            zone: &self.zone,
            kind: "break-glass",
            reason: self.justification,
            gate: json!({"passed": true, "checks": g.checks}),
            policy_version: policy.version,
        }
        .record(&ctx, 0, Role::Approver.as_str().into());
        record_and_deploy(&ctx, r, &facts, &g, true).await
    }
}

/// Clears the review flag of a break-glass deploy; not by its author.
pub struct ReviewRelease {
    pub project: ProjectId,
    pub id: ReleaseId,
    pub comment: String,
}

impl Operation for ReviewRelease {
    type Output = ReleaseView;
    const ACTION: Action = Action::ReleaseReview;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        reason_ok("comment", &self.comment, 1)?;
        let r = release_of(&ctx, &self.project, &self.id).await?;
        if r.created_by == ctx.principal.id {
            return Err(AppError::rule(
                403,
                "releases.separation-of-duties",
                "separation of duties: the author of a break-glass deploy cannot review it",
            ));
        }
        if !ctx.store().review_release(&r.id, &ctx.principal.id, ctx.now()).await? {
            return Err(AppError::rule(409, "releases.state", format!("release {} is not awaiting review", r.id)));
        }
        release_event(&ctx, "release.reviewed", "success", &self.project, Some(&r.id), Some(self.comment), json!({}))
            .await?;
        let r = release_of(&ctx, &self.project, &self.id).await?;
        view(&ctx, r).await
    }
}

/// One model's active version in a zone at a moment.
#[derive(Debug, Clone)]
pub struct ActiveView {
    pub model: String,
    pub deployment: warden_store::DeploymentRecord,
    pub release: ReleaseRecord,
}

/// Which version of each of the project's models was active in a zone at `at`.
pub struct ActiveReleases {
    pub project: ProjectId,
    pub zone: String,
    pub at: Timestamp,
}

impl Operation for ActiveReleases {
    type Output = Vec<ActiveView>;
    const ACTION: Action = Action::ReleaseRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let mut out = Vec::new();
        for d in ctx.store().active_in_zone(&self.zone, Some(&self.project), self.at).await? {
            let release = release_of(&ctx, &self.project, &d.release).await?;
            out.push(ActiveView { model: model_name(&ctx, &self.project, &d.model).await?, deployment: d, release });
        }
        Ok(out)
    }
}
