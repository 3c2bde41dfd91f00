use async_trait::async_trait;
use warden_core::{ModelId, ProjectId, ReleaseId, SubjectId, Timestamp};

use crate::*;

#[async_trait]
pub trait ReleaseStore: Send + Sync {
    // The policy document's versions.
    /// Adds `version` if it is exactly one past the latest; false when another version
    /// got there first (nothing written).
    async fn add_policy_version(&self, version: &PolicyVersionRecord) -> Result<bool>;
    async fn latest_policy(&self) -> Result<Option<PolicyVersionRecord>>;
    async fn get_policy_version(&self, version: u64) -> Result<Option<PolicyVersionRecord>>;
    /// Newest first.
    async fn list_policy_versions(&self, limit: u32) -> Result<Vec<PolicyVersionRecord>>;
    // Evaluations and releases.
    /// Attaches evaluation evidence to a version (which must exist); `seq` is assigned.
    async fn add_evaluation(&self, evaluation: &EvaluationRecord) -> Result<EvaluationRecord>;
    async fn list_evaluations(&self, model: &ModelId, version: u64) -> Result<Vec<EvaluationRecord>>;
    async fn create_release(&self, release: &ReleaseRecord) -> Result<()>;
    async fn get_release(&self, project: &ProjectId, id: &ReleaseId) -> Result<Option<ReleaseRecord>>;
    /// Newest first.
    async fn list_releases(&self, project: &ProjectId, page: &Page) -> Result<Vec<ReleaseRecord>>;
    async fn list_approvals(&self, release: &ReleaseId) -> Result<Vec<ApprovalRecord>>;
    /// Records an approval or a rejection (which ends the release) while the release is
    /// pending. False when it is not pending; `Conflict` when the approver already has
    /// a standing decision on it. Serialised with deploys by the release row.
    async fn decide_release(&self, release: &ReleaseId, approval: &ApprovalRecord) -> Result<bool>;
    /// Withdraws a standing approval while the release is pending; false otherwise.
    async fn withdraw_approval(&self, release: &ReleaseId, approver: &SubjectId, at: Timestamp) -> Result<bool>;
    /// Deploys: if the release is pending, its standing approvals are exactly
    /// `approvers` (ignored for break-glass), and the zone's history for the model
    /// ends at `after_seq`, marks it deployed with its manifest and appends to the
    /// history, in one transaction. False (nothing written) when a precondition failed.
    async fn deploy_release(&self, deployment: &Deployment) -> Result<bool>;
    /// Marks a release that failed its gate (`failed`) or was superseded; only from pending.
    async fn close_release(&self, release: &ReleaseId, status: &str) -> Result<bool>;
    /// Marks a flagged (break-glass) release reviewed.
    async fn review_release(&self, release: &ReleaseId, by: &SubjectId, at: Timestamp) -> Result<bool>;
    /// The zone's history for one model, oldest first.
    async fn zone_history(&self, zone: &str, model: &ModelId) -> Result<Vec<DeploymentRecord>>;
    /// For every model (of `project`, when given) deployed in the zone at or before
    /// `at`: the latest deployment.
    async fn active_in_zone(
        &self,
        zone: &str,
        project: Option<&ProjectId>,
        at: Timestamp,
    ) -> Result<Vec<DeploymentRecord>>;
    /// Every deployment to the zone (any project, any model) in `[from, to]`, in order.
    async fn zone_deployments_between(
        &self,
        zone: &str,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<DeploymentRecord>>;
    /// Every deployment of one model version, to any zone, in order.
    async fn version_deployments(&self, model: &ModelId, version: u64) -> Result<Vec<DeploymentRecord>>;
    /// Break-glass releases not yet reviewed, in a project.
    async fn unreviewed_releases(&self, project: &ProjectId) -> Result<Vec<ReleaseRecord>>;
}

/// One version of the policy document. Versions are never changed; a rollback adds a
/// new version with an earlier one's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRecord {
    pub version: u64,
    /// The YAML as applied.
    pub document: String,
    /// `sha256:<hex>` of the document's bytes.
    pub digest: String,
    pub comment: String,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
    /// For a rollback: the version whose text this is.
    pub restored_from: Option<u64>,
}

/// Evaluation evidence attached to a model version (immutable).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRecord {
    pub model: ModelId,
    pub version: u64,
    pub seq: u64,
    /// Metric name → value.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// `sha256:<hex>` of a report blob in the project, when one was attached.
    pub report: Option<String>,
    pub dataset: Option<String>,
    pub added_by: SubjectId,
    pub added_at: Timestamp,
}

/// A release of a model version to a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRecord {
    pub id: warden_core::ReleaseId,
    pub project: ProjectId,
    pub model: ModelId,
    pub version: u64,
    pub zone: String,
    /// `release`, `rollback` or `break-glass`.
    pub kind: String,
    pub reason: String,
    /// `pending`, `rejected`, `deployed` or `failed` (the gate refused it).
    pub status: String,
    /// JSON: the automated gate's checks and result.
    pub gate: String,
    /// Approvals the release needs and the role that may give them.
    pub approvals_required: u32,
    pub approver_role: String,
    pub policy_version: u64,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
    pub deployed_by: Option<SubjectId>,
    pub deployed_at: Option<Timestamp>,
    /// The release active in the zone (for the model) before this one was deployed.
    pub previous: Option<warden_core::ReleaseId>,
    /// The signed release manifest (JSON), once deployed.
    pub manifest: Option<String>,
    /// Break-glass deploys stay flagged until someone reviews them.
    pub needs_review: bool,
    pub reviewed_by: Option<SubjectId>,
    pub reviewed_at: Option<Timestamp>,
}

/// An approver's decision on a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub approver: SubjectId,
    /// `approve` or `reject`.
    pub decision: String,
    pub comment: String,
    pub mfa: bool,
    pub at: Timestamp,
    pub withdrawn_at: Option<Timestamp>,
}

/// What a deploy writes, under its preconditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub release: warden_core::ReleaseId,
    pub project: ProjectId,
    pub zone: String,
    pub model: ModelId,
    pub version: u64,
    /// The approvers whose standing approvals the manifest lists; the deploy fails if
    /// the standing approvals differ when it commits.
    pub approvers: Vec<SubjectId>,
    /// The zone history's sequence number this deploy follows (0: the first).
    pub after_seq: u64,
    pub previous: Option<warden_core::ReleaseId>,
    pub manifest: String,
    pub by: SubjectId,
    pub at: Timestamp,
    /// Break-glass: no approvals required, flagged for review.
    pub break_glass: bool,
}

/// One entry of a zone's deployment history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    pub zone: String,
    pub project: ProjectId,
    pub model: ModelId,
    pub seq: u64,
    pub release: warden_core::ReleaseId,
    pub version: u64,
    pub deployed_at: Timestamp,
}
