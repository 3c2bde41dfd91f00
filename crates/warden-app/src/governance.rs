//! Residency (runs in zones against their inputs' residency, approved transfers, the
//! release gate's residency check) and deletion requests walked down the lineage graph.

use std::collections::BTreeSet;

use serde_json::json;
use warden_audit::{Category, ResourceRef};
use warden_core::{DatasetId, DeletionId, Principal, ProjectId, Role, TransferId};
use warden_lineage::Direction;
use warden_store::{DeletionRequestRecord, DeletionTaskRecord, TransferRecord};

use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

/// Most nodes a deletion request's walk downstream may reach.
const DELETION_REACH: usize = 100_000;

/// Data used outside its residency region without an approved transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The run (or the model version, for a release) that used it.
    pub user: String,
    pub job: Option<String>,
    pub zone: String,
    pub region: String,
    pub dataset: String,
    pub residency: String,
}

impl App {
    /// Datasets upstream of `node` (to any depth) whose residency differs from `zone`'s
    /// region and that have no approved transfer into the zone.
    pub(crate) async fn residency_breaches(
        &self,
        node: &str,
        zone: &str,
        depth: u32,
    ) -> Result<Vec<(String, String)>, AppError> {
        let policy = self.policy().await;
        let Some(region) = policy.document.zones.get(zone).map(|z| z.region.clone()) else { return Ok(Vec::new()) };
        let approved: BTreeSet<(DatasetId, String)> = self.store.approved_transfers().await?.into_iter().collect();
        let l = self.lineage().await?;
        let Some(walk) = l.graph.walk(node, Direction::Upstream, depth, DELETION_REACH) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for (n, _) in &walk.nodes {
            let Some(d) = l.datasets.get(n) else { continue };
            let Some(res) = &d.residency else { continue };
            if *res != region && !approved.contains(&(d.id.clone(), zone.to_string())) {
                out.push((n.clone(), res.clone()));
            }
        }
        Ok(out)
    }
}

/// Residency violations (runs in a zone reading data resident elsewhere without an
/// approved transfer) and unclassified data in use.
#[derive(Debug, Clone)]
pub struct Findings {
    pub residency: Vec<Violation>,
    pub unclassified_in_use: Vec<String>,
}

pub struct GetFindings;

impl Operation for GetFindings {
    type Output = Findings;
    const ACTION: Action = Action::FindingsRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let mut residency = Vec::new();
        for run in ctx.store().zoned_runs(10_000).await? {
            let Some(zone) = run.zone.clone() else { continue };
            let node = warden_lineage::run_node(&run.run_id);
            let region = ctx.app.policy().await.document.zones.get(&zone).map(|z| z.region.clone()).unwrap_or_default();
            for (dataset, res) in ctx.app.residency_breaches(&node, &zone, 1).await? {
                residency.push(Violation {
                    user: node.clone(),
                    job: Some(format!("{}/{}", run.job_namespace, run.job_name)),
                    zone: zone.clone(),
                    region: region.clone(),
                    dataset,
                    residency: res,
                });
            }
        }
        let l = ctx.app.lineage().await?;
        let mut unclassified: Vec<String> = Vec::new();
        let mut page = warden_store::Page::first(500);
        loop {
            let batch = ctx.store().list_datasets(None, true, &page).await?;
            for d in &batch {
                let node = warden_lineage::dataset_node(&d.namespace, &d.name);
                if l.graph.contains(&node) {
                    unclassified.push(node);
                }
            }
            match batch.last() {
                Some(last) if batch.len() == 500 => page.after = Some(last.id.to_string()),
                _ => break,
            }
        }
        Ok(Findings { residency, unclassified_in_use: unclassified })
    }
}

/// Asks to use a dataset in a zone outside its residency region.
pub struct RequestTransfer {
    pub project: ProjectId,
    pub dataset: DatasetId,
    pub to_zone: String,
    pub reason: String,
}

impl Operation for RequestTransfer {
    type Output = TransferRecord;
    const ACTION: Action = Action::TransferRequest;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if self.reason.trim().is_empty() {
            return Err(AppError::Invalid("`reason` is required and kept on record".into()));
        }
        crate::text::text_ok("reason", &self.reason, 2000)?;
        ctx.app.policy().await.zone_declared(&self.to_zone)?;
        ctx.store()
            .get_dataset(&self.dataset)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("dataset {}", self.dataset)))?;
        let t = TransferRecord {
            id: TransferId::generate(ctx.now().0),
            project: self.project,
            dataset: self.dataset,
            to_zone: self.to_zone,
            reason: self.reason,
            status: "pending".into(),
            requested_by: ctx.principal.id.clone(),
            requested_at: ctx.now(),
            decided_by: None,
            decided_at: None,
        };
        ctx.store().create_transfer(&t).await?;
        Ok(t)
    }
}

/// Approves or rejects a transfer, as a release approval: the approver role in the
/// project, MFA (Cedar), and never the requester.
pub struct DecideTransfer {
    pub project: ProjectId,
    pub id: TransferId,
    pub approve: bool,
}

impl Operation for DecideTransfer {
    type Output = TransferRecord;
    const ACTION: Action = Action::TransferApprove;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let t = ctx
            .store()
            .get_transfer(&self.id)
            .await?
            .filter(|t| t.project == self.project)
            .ok_or_else(|| AppError::NotFound(format!("transfer {}", self.id)))?;
        if !ctx.project_roles(&self.project).await?.contains(&Role::Approver) {
            return Err(AppError::rule(403, "transfers.approver_role", "deciding transfers needs the `approver` role"));
        }
        if t.requested_by == ctx.principal.id {
            return Err(AppError::rule(
                403,
                "transfers.separation-of-duties",
                "separation of duties: the requester of a transfer cannot decide it",
            ));
        }
        let status = if self.approve { "approved" } else { "rejected" };
        if !ctx.store().decide_transfer(&t.id, status, &ctx.principal.id, ctx.now()).await? {
            return Err(AppError::rule(409, "transfers.state", format!("transfer {} is already {}", t.id, t.status)));
        }
        let mut e = ctx.app.event(Category::Change, &format!("transfer.{status}"), "success", ctx.principal, ctx.meta);
        e.project = Some(self.project.to_string());
        e.resource = Some(ResourceRef { type_: "transfer".into(), uid: t.id.to_string() });
        e.reason = Some(t.reason.clone());
        e.detail = json!({"dataset": t.dataset, "to_zone": t.to_zone, "mfa": ctx.principal.mfa});
        ctx.app.record(&e).await?;
        ctx.store().get_transfer(&t.id).await?.ok_or_else(|| AppError::Internal("transfer vanished".into()))
    }
}

pub struct ListTransfers {
    pub project: ProjectId,
}

impl Operation for ListTransfers {
    type Output = Vec<TransferRecord>;
    const ACTION: Action = Action::TransferRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_transfers(&self.project).await?)
    }
}

/// A deletion request: walks the lineage downstream of each dataset and opens one task
/// per dataset and model version that may hold the data. A legal hold on any of them
/// refuses the whole request (nothing is created) and says which.
pub struct RequestDeletion {
    pub datasets: Vec<DatasetId>,
    pub subject_ref: String,
    pub reason: String,
    pub due_in_days: u32,
}

impl Operation for RequestDeletion {
    type Output = (DeletionRequestRecord, Vec<DeletionTaskRecord>);
    const ACTION: Action = Action::DeletionRequest;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if self.datasets.is_empty() || self.datasets.len() > 100 {
            return Err(AppError::Invalid("`datasets` needs 1 to 100 datasets".into()));
        }
        for (field, v) in [("subject_ref", &self.subject_ref), ("reason", &self.reason)] {
            if v.trim().is_empty() {
                return Err(AppError::Invalid(format!("`{field}` is required")));
            }
            crate::text::text_ok(field, v, 1000)?;
        }
        if self.due_in_days == 0 || self.due_in_days > 365 {
            return Err(AppError::Invalid("`due_in_days` must be 1 to 365".into()));
        }
        let mut roots = Vec::new();
        for id in &self.datasets {
            let d = ctx.store().get_dataset(id).await?.ok_or_else(|| {
                AppError::rule(422, "deletion.known-datasets", format!("dataset {id} is not in the catalog"))
            })?;
            roots.push(warden_lineage::dataset_node(&d.namespace, &d.name));
        }
        let now = ctx.now();
        let due = now.plus_seconds(i64::from(self.due_in_days) * 86_400);
        let l = ctx.app.lineage().await?;
        let mut targets: Vec<String> = Vec::new();
        for root in &roots {
            targets.push(root.clone());
            if let Some(w) = l.graph.walk(root, Direction::Downstream, u32::MAX, DELETION_REACH) {
                targets.extend(w.nodes.into_iter().map(|(n, _)| n));
            }
        }
        let mut seen = BTreeSet::new();
        let mut tasks = Vec::new();
        for t in targets.into_iter().filter(|t| !t.starts_with("run:")) {
            if !seen.insert(t.clone()) {
                continue;
            }
            let facts = l.datasets.get(&t);
            if let Some(hold) = facts.and_then(|f| f.legal_hold.as_ref()) {
                return Err(AppError::rule(
                    409,
                    "datasets.legal-hold",
                    format!("{t} is under a legal hold ({hold}); no deletion may start while it holds"),
                ));
            }
            let kind = if t.starts_with("model:") { "model-version" } else { "dataset" };
            tasks.push(DeletionTaskRecord {
                seq: tasks.len() as u64 + 1,
                project: facts.and_then(|f| f.project.clone()),
                owner: facts.and_then(|f| f.owner.clone()),
                target: t,
                kind: kind.into(),
                due_at: due,
                status: "open".into(),
                evidence: None,
                closed_by: None,
                closed_at: None,
            });
        }
        // Stores Warden keeps that may hold the data too: gateway payload logs, when a
        // class the data carries turns payload logging on.
        let classes: BTreeSet<String> =
            tasks.iter().filter_map(|t| l.classes.get(&t.target)).flatten().cloned().collect();
        drop(l);
        let policy = ctx.app.policy().await;
        let logged: Vec<&String> = classes
            .iter()
            .filter(|c| policy.document.data_classes.get(*c).is_some_and(|d| d.payload_logging))
            .collect();
        if !logged.is_empty() {
            tasks.push(DeletionTaskRecord {
                seq: tasks.len() as u64 + 1,
                target: format!(
                    "store:warden-payload-logs ({})",
                    logged.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                ),
                kind: "store".into(),
                project: None,
                owner: Some("platform".into()),
                due_at: due,
                status: "open".into(),
                evidence: None,
                closed_by: None,
                closed_at: None,
            });
        }
        // A model version's project, for its task's owner.
        for t in tasks.iter_mut().filter(|t| t.kind == "model-version") {
            t.project = model_project(&ctx, &t.target).await?;
        }
        let request = DeletionRequestRecord {
            id: DeletionId::generate(now.0),
            subject_ref: self.subject_ref,
            reason: self.reason,
            datasets: self.datasets,
            requested_by: ctx.principal.id.clone(),
            requested_at: now,
            due_at: due,
        };
        ctx.store().create_deletion(&request, &tasks).await?;
        let mut e = ctx.app.event(Category::Change, "deletion.requested", "success", ctx.principal, ctx.meta);
        e.resource = Some(ResourceRef { type_: "deletion".into(), uid: request.id.to_string() });
        e.reason = Some(request.reason.clone());
        // References only: the ledger never holds the subject's data.
        e.detail = json!({"tasks": tasks.len(), "datasets": request.datasets, "due_at": due.0});
        ctx.app.record(&e).await?;
        Ok((request, tasks))
    }
}

/// The project of `model:<id>@<n>`, found through the projects' models.
async fn model_project(ctx: &Authorized<'_>, node: &str) -> Result<Option<ProjectId>, AppError> {
    let Some(id) = node.strip_prefix("model:").and_then(|r| r.split('@').next()) else { return Ok(None) };
    let mut page = warden_store::Page::first(500);
    loop {
        let projects = ctx.store().list_projects(&page).await?;
        for p in &projects {
            let mut mp = warden_store::Page::first(500);
            loop {
                let models = ctx.store().list_models(&p.id, &mp).await?;
                if models.iter().any(|m| m.id.as_str() == id) {
                    return Ok(Some(p.id.clone()));
                }
                match models.last() {
                    Some(last) if models.len() == 500 => mp.after = Some(last.id.to_string()),
                    _ => break,
                }
            }
        }
        match projects.last() {
            Some(last) if projects.len() == 500 => page.after = Some(last.id.to_string()),
            _ => return Ok(None),
        }
    }
}

pub struct GetDeletion {
    pub id: DeletionId,
}

impl Operation for GetDeletion {
    type Output = (DeletionRequestRecord, Vec<DeletionTaskRecord>);
    const ACTION: Action = Action::DeletionRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.store()
            .get_deletion(&self.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("deletion request {}", self.id)))
    }
}

/// Outstanding deletion tasks, soonest due first (auditor question 7).
pub struct DeletionReport;

impl Operation for DeletionReport {
    type Output = Vec<(DeletionId, DeletionTaskRecord)>;
    const ACTION: Action = Action::DeletionRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().open_deletion_tasks(10_000).await?)
    }
}

/// Closes a task with evidence; by the writers of the task's project.
pub struct CloseDeletionTask {
    pub id: DeletionId,
    pub seq: u64,
    pub evidence: String,
}

impl Operation for CloseDeletionTask {
    type Output = DeletionTaskRecord;
    const ACTION: Action = Action::DeletionClose;
    async fn target(&self, app: &App, _: &Principal) -> Result<Target, AppError> {
        let project = app
            .store()
            .get_deletion(&self.id)
            .await?
            .and_then(|(_, tasks)| tasks.into_iter().find(|t| t.seq == self.seq))
            .and_then(|t| t.project);
        Ok(Target::of(project.map_or(Resource::Organisation, Resource::Project)))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if self.evidence.trim().is_empty() {
            return Err(AppError::Invalid("`evidence` is required: say what was deleted and how".into()));
        }
        crate::text::text_ok("evidence", &self.evidence, 4000)?;
        let Some((_, tasks)) = ctx.store().get_deletion(&self.id).await? else {
            return Err(AppError::NotFound(format!("deletion request {}", self.id)));
        };
        let Some(task) = tasks.iter().find(|t| t.seq == self.seq) else {
            return Err(AppError::NotFound(format!("task {} of {}", self.seq, self.id)));
        };
        if !ctx.store().close_deletion_task(&self.id, self.seq, &self.evidence, &ctx.principal.id, ctx.now()).await? {
            return Err(AppError::rule(409, "deletion.task-state", format!("task {} is already closed", self.seq)));
        }
        let open = tasks.iter().filter(|t| t.status == "open" && t.seq != self.seq).count();
        let mut e = ctx.app.event(Category::Change, "deletion.task-closed", "success", ctx.principal, ctx.meta);
        e.project = task.project.as_ref().map(|p| p.to_string());
        e.resource = Some(ResourceRef { type_: "deletion".into(), uid: self.id.to_string() });
        e.detail = json!({"task": self.seq, "target": task.target, "open_tasks": open, "complete": open == 0});
        ctx.app.record(&e).await?;
        let tasks = ctx.store().get_deletion(&self.id).await?.map(|(_, t)| t).unwrap_or_default();
        tasks.into_iter().find(|t| t.seq == self.seq).ok_or_else(|| AppError::Internal("task vanished".into()))
    }
}
