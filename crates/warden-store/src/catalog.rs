use async_trait::async_trait;
use warden_core::{DatasetId, DeletionId, ProjectId, SubjectId, Timestamp, TransferId};

use crate::*;

#[async_trait]
pub trait CatalogStore: Send + Sync {
    // The data catalog.
    /// Creates a dataset; `Conflict` when its namespace and name are taken.
    async fn create_dataset(&self, dataset: &DatasetRecord) -> Result<()>;
    /// Replaces a dataset's description; false when it does not exist.
    async fn update_dataset(&self, dataset: &DatasetRecord) -> Result<bool>;
    async fn get_dataset(&self, id: &DatasetId) -> Result<Option<DatasetRecord>>;
    /// Removes a catalog entry (its proposals and transfers too); false when absent.
    /// Lineage keeps naming it, so it comes back unclassified if events do.
    async fn delete_dataset(&self, id: &DatasetId) -> Result<bool>;
    async fn find_dataset(&self, namespace: &str, name: &str) -> Result<Option<DatasetRecord>>;
    /// Datasets (of one project, when given; only unclassified ones, when asked), by id.
    async fn list_datasets(
        &self,
        project: Option<&ProjectId>,
        unclassified: bool,
        page: &Page,
    ) -> Result<Vec<DatasetRecord>>;
    /// Bumped by every catalog write.
    async fn catalog_version(&self) -> Result<u64>;
    // Lineage.
    /// Stores an event, its run, the datasets it names and its edges, in one transaction.
    async fn write_lineage(&self, write: &LineageWrite) -> Result<()>;
    /// Adds edges (repeats are ignored).
    async fn add_lineage_edges(&self, edges: &[(String, String)]) -> Result<()>;
    /// Edges numbered after `after`, in order: (number, from, to).
    async fn lineage_edges_since(&self, after: u64, limit: u32) -> Result<Vec<(u64, String, String)>>;
    async fn get_lineage_run(&self, run_id: &str) -> Result<Option<LineageRunRecord>>;
    /// Runs that recorded the zone they ran in.
    async fn zoned_runs(&self, limit: u32) -> Result<Vec<LineageRunRecord>>;
    // Residency transfers.
    async fn create_transfer(&self, transfer: &TransferRecord) -> Result<()>;
    async fn get_transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>>;
    /// Approves or rejects a pending transfer; false when it is not pending.
    async fn decide_transfer(&self, id: &TransferId, status: &str, by: &SubjectId, at: Timestamp) -> Result<bool>;
    /// Transfers of a project, newest first.
    async fn list_transfers(&self, project: &ProjectId) -> Result<Vec<TransferRecord>>;
    /// Zones each dataset has an approved transfer into.
    async fn approved_transfers(&self) -> Result<Vec<(DatasetId, String)>>;
    // Classification proposals.
    async fn create_proposal(&self, proposal: &ProposalRecord) -> Result<()>;
    async fn get_proposal(&self, id: &str) -> Result<Option<ProposalRecord>>;
    /// Accepts or rejects a pending proposal; false when it is not pending.
    async fn decide_proposal(&self, id: &str, status: &str, by: &SubjectId, at: Timestamp) -> Result<bool>;
    async fn list_proposals(&self, dataset: &DatasetId) -> Result<Vec<ProposalRecord>>;
    // Deletion requests.
    /// Stores a request and its tasks in one transaction.
    async fn create_deletion(&self, request: &DeletionRequestRecord, tasks: &[DeletionTaskRecord]) -> Result<()>;
    async fn get_deletion(&self, id: &DeletionId) -> Result<Option<(DeletionRequestRecord, Vec<DeletionTaskRecord>)>>;
    /// Closes an open task with its evidence; false when it is not open.
    async fn close_deletion_task(
        &self,
        id: &DeletionId,
        seq: u64,
        evidence: &str,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<bool>;
    /// Open tasks on one graph node (`model:…@n`, `dataset:…`), any request.
    async fn open_deletion_tasks_on(&self, target: &str) -> Result<Vec<(DeletionId, DeletionTaskRecord)>>;
    /// Places a quarantine; false when the target already has an open one.
    async fn place_quarantine(&self, q: &QuarantineRecord) -> Result<bool>;
    /// Lifts the open quarantine on `target`; the lifted record, or none when none was open.
    async fn lift_quarantine(
        &self,
        target: &str,
        by: &SubjectId,
        at: Timestamp,
        reason: &str,
    ) -> Result<Option<QuarantineRecord>>;
    /// The open quarantine on each of `targets` that has one.
    async fn open_quarantines(&self, targets: &[String]) -> Result<Vec<QuarantineRecord>>;
    /// A project's quarantines, open and lifted, newest first (at most 500).
    async fn list_quarantines(&self, project: &ProjectId) -> Result<Vec<QuarantineRecord>>;
    /// Every quarantine ever placed on `target`, oldest first.
    async fn quarantines_on(&self, target: &str) -> Result<Vec<QuarantineRecord>>;
    /// The deletion requests naming one data subject, oldest first (at most 500).
    async fn deletions_for_subject(&self, subject_ref: &str) -> Result<Vec<DeletionId>>;
    /// Every task on one graph node, open or closed, oldest request first (at most 500).
    async fn deletion_tasks_on(&self, target: &str) -> Result<Vec<(DeletionId, DeletionTaskRecord)>>;
    /// Open tasks of every request, soonest due first.
    async fn open_deletion_tasks(&self, limit: u32) -> Result<Vec<(DeletionId, DeletionTaskRecord)>>;
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
    /// A dataset the catalog learns of by its use (lineage, a model version's link):
    /// new, unclassified, unpublished, with nothing known but its name.
    pub fn unclassified(namespace: &str, name: &str, project: Option<ProjectId>, now: Timestamp) -> Self {
        DatasetRecord {
            id: DatasetId::generate(now.0),
            namespace: namespace.to_string(),
            name: name.to_string(),
            project,
            location: None,
            layer: None,
            classes: Vec::new(),
            columns: Vec::new(),
            residency: None,
            owner: None,
            retention_days: None,
            tags: std::collections::BTreeMap::new(),
            classified: false,
            created_at: now,
            updated_at: now,
            legal_hold: None,
            published: false,
        }
    }

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

/// A dataset or a model version held back until someone else lifts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRecord {
    pub id: warden_core::QuarantineId,
    /// The lineage node: `dataset:NAMESPACE/NAME` or `model:<id>@<version>`.
    pub target: String,
    pub project: ProjectId,
    pub reason: String,
    pub placed_by: SubjectId,
    pub placed_at: Timestamp,
    pub lifted_by: Option<SubjectId>,
    pub lifted_at: Option<Timestamp>,
    pub lift_reason: Option<String>,
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
