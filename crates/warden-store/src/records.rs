//! Rows as the domain sees them.

use warden_core::{
    ArtifactId, GroupId, ModelId, PrincipalKind, ProjectId, Role, SignerId, SubjectId, Timestamp, TokenId,
};

/// Cursor pagination over ids (which sort by creation time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Return rows whose id sorts after this one.
    pub after: Option<String>,
    pub limit: u32,
}

impl Page {
    pub const MAX: u32 = 500;
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit: limit.clamp(1, Self::MAX) }
    }
    pub fn limit_i64(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX))
    }
    pub fn limit_usize(&self) -> usize {
        usize::try_from(self.limit.clamp(1, Self::MAX)).unwrap_or(1)
    }
    pub fn after_str(&self) -> &str {
        self.after.as_deref().unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    pub id: SubjectId,
    pub kind: PrincipalKind,
    pub name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// argon2id PHC string; services and OIDC-only people have none.
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_enrolled: bool,
    pub totp_last_step: Option<i64>,
    pub failed_attempts: i64,
    pub locked_until: Option<Timestamp>,
    pub disabled: bool,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub created_at: Timestamp,
}

impl SubjectRecord {
    pub fn new(id: SubjectId, kind: PrincipalKind, name: &str, now: Timestamp) -> Self {
        Self {
            id,
            kind,
            name: name.to_string(),
            display_name: None,
            email: None,
            password_hash: None,
            totp_secret: None,
            totp_enrolled: false,
            totp_last_step: None,
            failed_attempts: 0,
            locked_until: None,
            disabled: false,
            oidc_issuer: None,
            oidc_subject: None,
            created_at: now,
        }
    }

    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub subject: SubjectId,
    pub name: String,
    /// Hex SHA-256 of the token string.
    pub hash: String,
    pub project: Option<ProjectId>,
    pub role: Option<Role>,
    /// For gateway keys: the data class whose rules apply to every call.
    pub data_class: Option<String>,
    /// A workload identity's zone: pulls get only artifacts permitted there.
    pub zone: Option<String>,
    /// Minted by a sign-in that verified a second factor.
    pub mfa: bool,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// The token this one was minted with; revoking it revokes this one too.
    pub parent: Option<TokenId>,
}

impl TokenRecord {
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub cost_centre: Option<String>,
    pub created_at: Timestamp,
    pub created_by: SubjectId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
}

/// Who a membership or a grant is for: one subject, or every member of a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberRef {
    Subject(SubjectId),
    Group(GroupId),
}

impl MemberRef {
    pub fn parse(s: &str) -> Option<Self> {
        if let Ok(g) = GroupId::parse(s) {
            return Some(MemberRef::Group(g));
        }
        SubjectId::parse(s).ok().map(MemberRef::Subject)
    }
    pub fn as_str(&self) -> &str {
        match self {
            MemberRef::Subject(s) => s.as_str(),
            MemberRef::Group(g) => g.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub project: ProjectId,
    pub member: MemberRef,
    pub role: Role,
    pub added_at: Timestamp,
    pub added_by: SubjectId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrantRecord {
    pub member: MemberRef,
    pub role: Role,
    pub granted_at: Timestamp,
    pub granted_by: Option<SubjectId>,
}

/// One audit ledger entry as stored: the leaf (canonical JSON of the event), its leaf
/// hash, and copies of the fields searches filter on. Never holds secrets or payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLeaf {
    pub time: Timestamp,
    pub category: String,
    pub action: String,
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub outcome: String,
    pub project: Option<String>,
    pub request_id: Option<String>,
    /// The event's RFC 8785 canonical JSON: the Merkle leaf.
    pub event: String,
    /// SHA-256(0x00 || event).
    pub leaf_hash: Vec<u8>,
}

/// Entries per search-index block: the search index records in which blocks of this
/// many consecutive entries a term occurs.
pub const AUDIT_BLOCK: u64 = 256;

impl AuditLeaf {
    /// The search-index terms of this entry: `actor:`, `resource:`, `project:`, `action:`
    /// and `outcome:` followed by the field (the category follows from the action).
    pub fn terms(&self) -> impl Iterator<Item = String> + '_ {
        self.term_parts().into_iter().map(|(prefix, v)| format!("{prefix}{v}"))
    }

    /// [`AuditLeaf::terms`] as (prefix, value) pairs, for callers that build them into
    /// buffers of their own.
    pub fn term_parts(&self) -> impl IntoIterator<Item = (&'static str, &str)> {
        [
            ("actor:", self.actor.as_deref()),
            ("resource:", self.resource.as_deref()),
            ("project:", self.project.as_deref()),
            ("action:", Some(self.action.as_str())),
            ("outcome:", Some(self.outcome.as_str())),
        ]
        .into_iter()
        .filter_map(|(prefix, v)| v.map(|v| (prefix, v)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub index: u64,
    pub leaf: AuditLeaf,
}

/// Search over the ledger. Every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub category: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub resource: Option<String>,
    pub outcome: Option<String>,
    pub project: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub tree_size: u64,
    /// The C2SP signed note.
    pub note: String,
    pub created_at: Timestamp,
}

/// An intake record: immutable once written.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactRecord {
    pub id: ArtifactId,
    pub project: ProjectId,
    pub kind: String,
    pub name: String,
    /// RFC 8785 JSON of the manifest.
    pub manifest: String,
    /// `sha256:<hex>` of `manifest`.
    pub manifest_digest: String,
    pub total_size: u64,
    /// `admitted` or `rejected`.
    pub verdict: String,
    /// Reasons, scan reports, signature checks and metadata.
    pub evidence: serde_json::Value,
    pub expires_at: Option<Timestamp>,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRecord {
    pub id: ModelId,
    pub project: ProjectId,
    pub name: String,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersionRecord {
    pub model: ModelId,
    pub version: u64,
    pub artifact: ArtifactId,
    pub lineage: VersionLineage,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
}

/// What a model version was made from, when known: training runs (run ids, e.g.
/// OpenLineage or MLflow run ids) and datasets (catalog names or URIs). Recorded with the
/// version and immutable like it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VersionLineage {
    #[serde(default)]
    pub runs: Vec<String>,
    #[serde(default)]
    pub datasets: Vec<String>,
    /// Data classes declared on the version by its author.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_classes: Vec<String>,
}

/// A named pointer to one version of a model (`champion`, `production`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAliasRecord {
    pub alias: String,
    pub version: u64,
    pub updated_by: SubjectId,
    pub updated_at: Timestamp,
}

/// A key/value label on a model version. Tags change; the version they label does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTagRecord {
    pub version: u64,
    pub key: String,
    pub value: String,
    pub updated_by: SubjectId,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerRecord {
    pub id: SignerId,
    /// `None`: trusted for every project.
    pub project: Option<ProjectId>,
    pub name: String,
    /// `ed25519`, `ecdsa-p256` or `ecdsa-p384`.
    pub algorithm: String,
    /// PEM SubjectPublicKeyInfo.
    pub public_key: String,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
}

impl SignerRecord {
    /// Trusted for `project` at `now`: in scope, within its dates, not revoked.
    pub fn trusted_for(&self, project: &ProjectId, now: Timestamp) -> bool {
        self.project.as_ref().is_none_or(|p| p == project)
            && self.not_before.is_none_or(|t| t <= now)
            && self.not_after.is_none_or(|t| now < t)
            && self.revoked_at.is_none_or(|t| now < t)
    }
}

/// A gateway kill switch that is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchRecord {
    /// `external`, `provider:<name>` or `region:<name>`.
    pub target: String,
    pub reason: String,
    pub set_by: SubjectId,
    pub set_at: Timestamp,
}

/// An LLM provider added through the API. `prices` is JSON (model to price); the
/// credential, when there is one, is sealed by the application and opaque here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub name: String,
    pub base_url: String,
    pub region: String,
    pub external: bool,
    pub models: Vec<String>,
    pub prices: String,
    pub key_nonce: Option<Vec<u8>>,
    pub key_sealed: Option<Vec<u8>>,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
    pub updated_by: SubjectId,
    pub updated_at: Timestamp,
    /// 1 when created, one more on every change.
    pub revision: i64,
}

/// A chunked upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    pub id: warden_core::UploadId,
    pub project: ProjectId,
    pub created_by: SubjectId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Bytes received so far; the next part starts here.
    pub size: u64,
}

/// One received part of an upload: `size` bytes at `offset`, held in blob-store
/// object `object`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPartRecord {
    pub offset: u64,
    pub size: u64,
    pub object: String,
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

/// A column of a dataset, with the classes of its values.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnRecord {
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

/// A dataset in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRecord {
    pub id: warden_core::DatasetId,
    pub namespace: String,
    pub name: String,
    /// The owning project; none for a dataset only lineage has named so far.
    pub project: Option<ProjectId>,
    pub location: Option<String>,
    /// `raw`, `curated` or `workspace`.
    pub layer: Option<String>,
    pub classes: Vec<String>,
    pub columns: Vec<ColumnRecord>,
    /// The region the data must stay in.
    pub residency: Option<String>,
    pub owner: Option<String>,
    pub retention_days: Option<u32>,
    pub tags: std::collections::BTreeMap<String, String>,
    /// False while nobody has described it (created from a lineage event).
    pub classified: bool,
    /// Why deletion is blocked, while a legal hold is on.
    pub legal_hold: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Its owners published it to the organisation's catalog (shown there only when
    /// every class it carries allows that).
    pub published: bool,
}

impl DatasetRecord {
    /// Its classes and its columns' classes.
    pub fn all_classes(&self) -> std::collections::BTreeSet<String> {
        self.classes.iter().chain(self.columns.iter().flat_map(|c| c.classes.iter())).cloned().collect()
    }
}

/// One OpenLineage event as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageEventRecord {
    pub run_id: Option<String>,
    pub event_type: String,
    pub event_time: Timestamp,
    pub producer: String,
    pub received_at: Timestamp,
    pub received_by: SubjectId,
    /// The event's JSON, as sent.
    pub event: String,
}

/// A run's latest known state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageRunRecord {
    pub run_id: String,
    pub job_namespace: String,
    pub job_name: String,
    pub state: String,
    pub parent_run: Option<String>,
    /// The zone the run ran in, when known (from the sender's zone-bound token).
    pub zone: Option<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// Everything one event changes, written in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageWrite {
    pub event: LineageEventRecord,
    pub run: Option<LineageRunRecord>,
    /// Datasets the event names; created (unclassified) when the catalog lacks them.
    pub datasets: Vec<DatasetRecord>,
    pub edges: Vec<(String, String)>,
}

/// A transfer of a dataset's data into a zone outside its residency region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub id: warden_core::TransferId,
    pub project: ProjectId,
    pub dataset: warden_core::DatasetId,
    pub to_zone: String,
    pub reason: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub requested_by: SubjectId,
    pub requested_at: Timestamp,
    pub decided_by: Option<SubjectId>,
    pub decided_at: Option<Timestamp>,
}

/// A deletion request: the data of `subject_ref` in these datasets, and everywhere it
/// went downstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRequestRecord {
    pub id: warden_core::DeletionId,
    pub subject_ref: String,
    pub reason: String,
    pub datasets: Vec<warden_core::DatasetId>,
    pub requested_by: SubjectId,
    pub requested_at: Timestamp,
    pub due_at: Timestamp,
}

/// One place a deletion must reach, with an owner and a due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionTaskRecord {
    pub seq: u64,
    /// The graph node: `dataset:…`, `model:…@n`.
    pub target: String,
    /// `dataset`, `model-version` or `store`.
    pub kind: String,
    pub project: Option<ProjectId>,
    pub owner: Option<String>,
    pub due_at: Timestamp,
    /// `open` or `done`.
    pub status: String,
    pub evidence: Option<String>,
    pub closed_by: Option<SubjectId>,
    pub closed_at: Option<Timestamp>,
}

/// One encrypted gateway payload (request as sent, answer as received).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadLogRecord {
    pub id: String,
    pub project: ProjectId,
    /// The gateway key (token id) the call was made with.
    pub key: Option<String>,
    pub zone: String,
    pub class: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Column classes proposed from a scan of a sample (counts, never values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    pub id: String,
    pub dataset: warden_core::DatasetId,
    pub project: ProjectId,
    /// JSON: rows scanned and, per column, the kinds found with counts and the proposed classes.
    pub body: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    pub proposed_by: SubjectId,
    pub proposed_at: Timestamp,
    pub decided_by: Option<SubjectId>,
    pub decided_at: Option<Timestamp>,
}
