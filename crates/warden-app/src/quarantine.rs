//! Quarantine: a dataset or a model version held back — not released, pulled, used
//! through the gateway or used to train a new version — until someone other than who
//! placed it lifts it. An open deletion task holds its target the same way until it is
//! closed with evidence. Every refusal names the hold.

use serde_json::json;
use warden_audit::ResourceRef;
use warden_core::{Principal, ProjectId, QuarantineId};
use warden_store::QuarantineRecord;

use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

/// What holds a lineage node back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub target: String,
    pub by: HeldBy,
}

/// A quarantine, or a deletion request's open task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldBy {
    Quarantine { id: QuarantineId, reason: String },
    Deletion { request: warden_core::DeletionId, task: u64 },
}

impl std::fmt::Display for HeldBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeldBy::Quarantine { id, reason } => write!(f, "quarantine {id} ({reason})"),
            HeldBy::Deletion { request, task } => write!(f, "deletion request {request} task {task}"),
        }
    }
}

impl App {
    /// The holds on any of `targets` (lineage nodes): open quarantines and open
    /// deletion tasks.
    pub(crate) async fn holds_on(&self, targets: &[String]) -> Result<Vec<Hold>, AppError> {
        let mut out: Vec<Hold> = self
            .store
            .open_quarantines(targets)
            .await?
            .into_iter()
            .map(|q| Hold { by: HeldBy::Quarantine { id: q.id, reason: q.reason }, target: q.target })
            .collect();
        for t in targets {
            for (id, task) in self.store.open_deletion_tasks_on(t).await? {
                out.push(Hold { target: t.clone(), by: HeldBy::Deletion { request: id, task: task.seq } });
            }
        }
        Ok(out)
    }

    /// A lineage node and every dataset upstream of it.
    pub(crate) async fn with_upstream_data(&self, node: &str) -> Result<Vec<String>, AppError> {
        let mut out = vec![node.to_string()];
        let l = self.lineage().await?;
        if let Some(walk) = l.graph.walk(node, warden_lineage::Direction::Upstream, 64, 100_000) {
            out.extend(walk.nodes.into_iter().map(|(n, _)| n).filter(|n| n.starts_with("dataset:")));
        }
        Ok(out)
    }

    /// Refuses when anything in `targets` is held: 409 `quarantine.active`, naming each.
    pub(crate) async fn refuse_held(&self, targets: &[String], doing: &str) -> Result<(), AppError> {
        let holds = self.holds_on(targets).await?;
        if holds.is_empty() {
            return Ok(());
        }
        Err(AppError::rule(409, "quarantine.active", describe(&holds, doing)))
    }
}

/// "cannot … : X is held by …; Y is held by …".
pub(crate) fn describe(holds: &[Hold], doing: &str) -> String {
    let list: Vec<String> = holds.iter().map(|h| format!("{} is held by {}", h.target, h.by)).collect();
    format!("cannot {doing}: {}; it stays held until the hold is lifted or the task closed", list.join("; "))
}

/// A pull of a blob the project holds: refused when every model version made from an
/// artifact holding it is held (a blob no version uses, or one a free version shares,
/// may be read). The refusal is recorded.
pub(crate) async fn refuse_held_pull(ctx: &Authorized<'_>, project: &ProjectId, digest: &str) -> Result<(), AppError> {
    let mut versions = Vec::new();
    for a in ctx.store().artifacts_with_blob(project, digest).await? {
        versions.extend(
            ctx.store()
                .versions_of_artifact(&a.id)
                .await?
                .into_iter()
                .map(|(m, v)| warden_lineage::model_node(m.as_str(), v)),
        );
    }
    if versions.is_empty() {
        return Ok(());
    }
    let holds = ctx.app.holds_on(&versions).await?;
    let held: std::collections::BTreeSet<&str> = holds.iter().map(|h| h.target.as_str()).collect();
    if versions.iter().any(|v| !held.contains(v.as_str())) {
        return Ok(());
    }
    let message = describe(&holds, &format!("pull blob {digest}"));
    let detail = json!({"rule": "quarantine.active"});
    Err(crate::release::refuse_pull(ctx, project, digest, 409, "quarantine.active", message, detail).await?)
}

/// What is quarantined: a catalogued dataset of the project (id or NAMESPACE/NAME) or
/// one of its model versions.
#[derive(Debug, Clone)]
pub enum QuarantineTarget {
    Dataset(String),
    Version { model: String, version: u64 },
}

async fn node_of(ctx: &Authorized<'_>, project: &ProjectId, t: &QuarantineTarget) -> Result<String, AppError> {
    match t {
        QuarantineTarget::Dataset(reference) => {
            crate::text::text_ok("dataset", reference, 512)?;
            let d = crate::named_data::resolve_datasets(ctx.app, project, std::slice::from_ref(reference))
                .await?
                .pop()
                .ok_or_else(|| AppError::NotFound(format!("dataset `{reference}`")))?;
            Ok(warden_lineage::dataset_node(&d.namespace, &d.name))
        }
        QuarantineTarget::Version { model, version } => {
            let f = crate::release::version_facts(ctx, project, model, *version).await?;
            Ok(warden_lineage::model_node(f.model.id.as_str(), *version))
        }
    }
}

fn resource(q: &QuarantineRecord) -> Option<ResourceRef> {
    Some(ResourceRef { type_: "quarantine".into(), uid: q.id.to_string() })
}

fn recorded(q: &QuarantineRecord) -> serde_json::Value {
    json!({"target": q.target, "reason": q.reason, "placed_by": q.placed_by,
           "lifted_by": q.lifted_by, "lift_reason": q.lift_reason})
}

/// Places a quarantine (project owners; administrators).
pub struct PlaceQuarantine {
    pub project: ProjectId,
    pub target: QuarantineTarget,
    pub reason: String,
}

impl Operation for PlaceQuarantine {
    type Output = QuarantineRecord;
    const ACTION: Action = Action::QuarantinePlace;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<QuarantineRecord, AppError> {
        crate::release::reason_ok("reason", &self.reason, 1)?;
        let target = node_of(&ctx, &self.project, &self.target).await?;
        let q = QuarantineRecord {
            id: QuarantineId::generate(ctx.now().0),
            target,
            project: self.project,
            reason: self.reason,
            placed_by: ctx.principal.id.clone(),
            placed_at: ctx.now(),
            lifted_by: None,
            lifted_at: None,
            lift_reason: None,
        };
        if !ctx.store().place_quarantine(&q).await? {
            let open = ctx.store().open_quarantines(std::slice::from_ref(&q.target)).await?;
            let by = open.first().map(|o| format!("{} ({})", o.id, o.reason)).unwrap_or_default();
            return Err(AppError::rule(
                409,
                "quarantine.already-placed",
                format!("{} is already quarantined: {by}", q.target),
            ));
        }
        Ok(q)
    }
    fn recorded(q: &QuarantineRecord) -> serde_json::Value {
        recorded(q)
    }
    fn recorded_resource(q: &QuarantineRecord) -> Option<ResourceRef> {
        resource(q)
    }
}

/// Lifts a quarantine: someone other than who placed it, with a second factor.
pub struct LiftQuarantine {
    pub project: ProjectId,
    pub target: QuarantineTarget,
    pub reason: String,
}

impl Operation for LiftQuarantine {
    type Output = QuarantineRecord;
    const ACTION: Action = Action::QuarantineLift;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<QuarantineRecord, AppError> {
        crate::release::reason_ok("reason", &self.reason, 1)?;
        let target = node_of(&ctx, &self.project, &self.target).await?;
        let open = ctx.store().open_quarantines(std::slice::from_ref(&target)).await?;
        let Some(q) = open.into_iter().find(|q| q.project == self.project) else {
            return Err(AppError::NotFound(format!("an open quarantine on {target} in project `{}`", self.project)));
        };
        if q.placed_by == ctx.principal.id {
            return Err(AppError::rule(
                403,
                "quarantine.lifted-by-someone-else",
                format!("{} placed quarantine {}; someone else must lift it", q.placed_by, q.id),
            ));
        }
        ctx.store().lift_quarantine(&target, &ctx.principal.id, ctx.now(), &self.reason).await?.ok_or_else(|| {
            AppError::rule(409, "quarantine.lifted", format!("quarantine {} was lifted meanwhile", q.id))
        })
    }
    fn recorded(q: &QuarantineRecord) -> serde_json::Value {
        recorded(q)
    }
    fn recorded_resource(q: &QuarantineRecord) -> Option<ResourceRef> {
        resource(q)
    }
}

/// A project's quarantines, open and lifted, newest first.
pub struct ListQuarantines {
    pub project: ProjectId,
}

impl Operation for ListQuarantines {
    type Output = Vec<QuarantineRecord>;
    const ACTION: Action = Action::QuarantineList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_quarantines(&self.project).await?)
    }
}
