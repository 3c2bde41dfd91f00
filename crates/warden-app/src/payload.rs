//! Gateway payload logs: kept only for classes whose policy turns `payload_logging` on,
//! sealed with AES-256-GCM under the zone's key (derived from the master key, the log's
//! id as associated data), and deleted by retention when the class's days are up.

use serde_json::{json, Value};
use warden_audit::{Category, ResourceRef};
use warden_core::{Principal, ProjectId, Timestamp};
use warden_store::PayloadLogRecord;

use warden_gateway::{open, store_payload, PayloadTarget, StreamPayload};

use crate::{Action, App, AppError, Authorized, Operation, Resource, Target};

impl App {
    /// Where a call's payloads go, if its class keeps them: sealed for the key's zone
    /// (or the class's first zone), for the class's retention.
    pub(crate) fn payload_target(
        &self,
        principal: &Principal,
        project: &ProjectId,
        class: &warden_gateway::DataClass,
    ) -> Option<PayloadTarget> {
        let retention_days = class.payload_retention_days?;
        let scope = principal.scope.as_ref();
        let zone = scope.and_then(|s| s.zone.clone()).or_else(|| class.home_zone.clone())?;
        Some(PayloadTarget {
            project: project.clone(),
            key: scope.map(|s| s.token_id.to_string()),
            zone,
            class: class.name.clone(),
            retention_days,
        })
    }

    /// Stores one call's payloads, sealed for the target's zone.
    pub(crate) async fn log_payload(
        &self,
        target: &PayloadTarget,
        request: &Value,
        response: &Value,
    ) -> Result<String, AppError> {
        Ok(store_payload(self.store.as_ref(), &self.keys, self.now(), target, request, response).await?)
    }

    /// What a streamed call needs to keep its payloads when it ends.
    pub(crate) fn stream_payload(&self, target: PayloadTarget, request: &Value) -> StreamPayload {
        StreamPayload {
            store: self.store.clone(),
            keys: self.keys.clone(),
            clock: self.clock.clone(),
            target,
            request: request.clone(),
            chunks: Vec::new(),
        }
    }
}

/// A catalog dataset's retention in days: the shortest of its classes', and the shorter
/// of that and its own (what retention applies), when either is set.
pub(crate) fn retention_days(
    policy: &crate::policy::ActivePolicy,
    d: &warden_store::DatasetRecord,
) -> (Option<u32>, Option<u32>) {
    let class_days = d.all_classes().iter().filter_map(|c| policy.document.data_classes.get(c)?.retention_days).min();
    (class_days, [d.retention_days, class_days].into_iter().flatten().min())
}

/// The catalog dataset whose content an artifact holds (its intake metadata names it).
pub(crate) fn artifact_dataset(a: &warden_store::ArtifactRecord) -> Option<warden_core::DatasetId> {
    a.evidence
        .pointer("/metadata/dataset")
        .and_then(Value::as_str)
        .and_then(|id| warden_core::DatasetId::parse(id).ok())
}

/// When content held since an artifact's intake must be gone, `days` later.
pub(crate) fn delete_by(a: &warden_store::ArtifactRecord, days: u32) -> Timestamp {
    a.created_at.plus_seconds(i64::from(days) * 86_400)
}

impl App {
    /// The content Warden holds for catalog datasets (not purged yet), each artifact
    /// with the dataset it holds.
    async fn dataset_content(
        &self,
    ) -> Result<Vec<(warden_store::ArtifactRecord, warden_store::DatasetRecord)>, AppError> {
        let mut out = Vec::new();
        for a in self.store.dataset_artifacts(1000).await? {
            let Some(id) = artifact_dataset(&a) else { continue };
            if let Some(d) = self.store.get_dataset(&id).await? {
                out.push((a, d));
            }
        }
        Ok(out)
    }

    /// Applies retention to what Warden holds: deletes expired payload logs and records
    /// each deletion in the audit ledger (a reference, never the payload). Returns how
    /// many were deleted.
    pub async fn apply_retention(&self, now: Timestamp) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let gone = self.store.expire_payload_logs(now, 1000).await?;
            for p in &gone {
                let mut e = warden_audit::AuditEvent::new(now, Category::Change, "retention.delete", "success");
                e.project = Some(p.project.to_string());
                e.resource = Some(ResourceRef { type_: "payload_log".into(), uid: p.id.clone() });
                e.data_classes = vec![p.class.clone()];
                e.reason = Some(format!("the retention of class `{}` ended", p.class));
                e.detail = json!({"zone": p.zone, "created_at": p.created_at.0, "expires_at": p.expires_at.0});
                self.record(&e).await?;
            }
            total += gone.len();
            if gone.len() < 1000 {
                break;
            }
        }
        Ok(total + self.purge_dataset_content(now).await?)
    }

    /// Content Warden holds for catalog datasets (artifacts that name one): removed when
    /// the shorter of the dataset's retention and its classes' has passed since intake.
    async fn purge_dataset_content(&self, now: Timestamp) -> Result<usize, AppError> {
        let policy = self.policy().await;
        let mut purged = 0;
        for (a, d) in self.dataset_content().await? {
            let Some(days) = retention_days(&policy, &d).1 else { continue };
            if delete_by(&a, days) > now || d.legal_hold.is_some() {
                continue;
            }
            let digests: Vec<String> = serde_json::from_str::<Value>(&a.manifest)
                .ok()
                .and_then(|m| m.get("files").cloned())
                .and_then(|f| f.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|f| f.get("digest").and_then(Value::as_str).map(str::to_string))
                .collect();
            let reason = format!("retention of dataset {} ({days} days) ended", d.id);
            let Some(orphans) = self.store.purge_artifact(&a, &digests, &reason, now).await? else { continue };
            for o in &orphans {
                if let Ok(digest) = warden_blob::Digest::parse(o) {
                    self.blobs.delete(&digest).await?;
                }
            }
            let mut e = warden_audit::AuditEvent::new(now, Category::Change, "retention.delete", "success");
            e.project = Some(a.project.to_string());
            e.resource = Some(ResourceRef { type_: "artifact".into(), uid: a.id.to_string() });
            e.data_classes = d.all_classes().into_iter().collect();
            e.reason = Some(reason);
            e.detail = json!({"dataset": d.id, "blobs_deleted": orphans, "blobs": digests});
            self.record(&e).await?;
            purged += 1;
        }
        Ok(purged)
    }
}

/// Opens one payload log (administrators; recorded as a sensitive read).
pub struct ReadPayloadLog {
    pub project: ProjectId,
    pub id: String,
}

impl Operation for ReadPayloadLog {
    type Output = (PayloadLogRecord, Value);
    const ACTION: Action = Action::PayloadRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let log = ctx
            .store()
            .get_payload_log(&self.project, &self.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("payload log `{}`", self.id)))?;
        let plain = open(&ctx.app.keys, &log)?;
        let v = serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((log, v))
    }
}

/// Runs retention now (it also runs every minute in `warden serve`).
pub struct RunRetention;

impl Operation for RunRetention {
    type Output = usize;
    const ACTION: Action = Action::RetentionRun;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Organisation))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.app.apply_retention(ctx.now()).await
    }
}

/// One item retention will delete (or would, but for a hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionItem {
    /// `dataset-content` (an artifact holding a catalog dataset's data) or
    /// `deletion-task` (an open deletion task, by its due date).
    pub kind: &'static str,
    pub project: Option<ProjectId>,
    /// The dataset, or the deletion task's target.
    pub subject: String,
    /// The artifact or the deletion request.
    pub item: String,
    /// When it is due.
    pub due: Timestamp,
    /// What keeps it (a legal hold), if anything.
    pub held_by: Option<String>,
    pub overdue: bool,
}

/// What retention and deletion still have to remove, soonest first: catalog dataset
/// content with its deadline (the shorter of the dataset's and its classes' retention,
/// from intake) and open deletion tasks with their due dates, each with what holds it.
/// Read by auditors and administrators (`deletion.read`).
pub struct RetentionStatus;

impl Operation for RetentionStatus {
    type Output = Vec<RetentionItem>;
    const ACTION: Action = Action::DeletionRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let now = ctx.now();
        let policy = ctx.app.policy().await;
        let mut out = Vec::new();
        for (a, d) in ctx.app.dataset_content().await? {
            let Some(days) = retention_days(&policy, &d).1 else { continue };
            let due = delete_by(&a, days);
            out.push(RetentionItem {
                kind: "dataset-content",
                project: Some(a.project.clone()),
                subject: format!("{}/{} ({})", d.namespace, d.name, d.id),
                item: a.id.to_string(),
                due,
                held_by: d.legal_hold.as_ref().map(|h| format!("legal hold: {h}")),
                overdue: due <= now,
            });
        }
        for (id, t) in ctx.store().open_deletion_tasks(1000).await? {
            out.push(RetentionItem {
                kind: "deletion-task",
                project: t.project.clone(),
                subject: t.target.clone(),
                item: format!("{id} task {}", t.seq),
                due: t.due_at,
                held_by: None,
                overdue: t.due_at <= now,
            });
        }
        out.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.item.cmp(&b.item)));
        Ok(out)
    }
}
