//! Repository traits and records for Warden's state, and the suite every engine passes.
//!
//! Two engines implement [`Store`]: `warden-store-sqlite` (the embedded default) and
//! `warden-store-postgres`. They share their SQL text through [`sql_store_impl!`] (both
//! accept `$N` placeholders); what differs between them (connection setup, durability
//! settings, migrations' column types, locking) lives in each engine's crate.

#![forbid(unsafe_code)]

mod records;
pub mod suite;
#[macro_use]
mod sql;

use std::collections::BTreeSet;

use async_trait::async_trait;
use warden_core::{
    ArtifactId, DatasetId, DeletionId, GroupId, ModelId, PrincipalKind, ProjectId, ReleaseId, Role, SignerId,
    SubjectId, Timestamp, TokenId, TransferId, UploadId,
};

pub use records::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (a name already taken, a duplicate membership).
    #[error("{0} already exists")]
    Conflict(String),
    /// A referenced row does not exist (foreign key).
    #[error("{0} does not exist")]
    Missing(String),
    /// A number given by the caller is beyond what the database can hold (no row can
    /// have it).
    #[error("{0} is out of range")]
    OutOfRange(String),
    /// The database cannot be reached or did not answer in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Internal(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything Warden persists. Every method is one transaction: it happens completely
/// or not at all.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Engine name for logs and `config show`.
    fn engine(&self) -> &'static str;
    /// Cheap round trip to the database (readiness).
    async fn ping(&self) -> Result<()>;

    // Subjects (people and service identities).
    async fn count_subjects(&self) -> Result<i64>;
    /// Creates the first administrator with a role grant and a token, only if no subject
    /// exists yet. Returns false (and writes nothing) when the store is not empty.
    async fn bootstrap(&self, admin: &SubjectRecord, grant: &RoleGrantRecord, token: &TokenRecord) -> Result<bool>;
    async fn create_subject(&self, subject: &SubjectRecord) -> Result<()>;
    async fn get_subject(&self, id: &SubjectId) -> Result<Option<SubjectRecord>>;
    async fn get_subject_by_name(&self, name: &str) -> Result<Option<SubjectRecord>>;
    async fn get_subject_by_oidc(&self, issuer: &str, subject: &str) -> Result<Option<SubjectRecord>>;
    async fn list_subjects(&self, kind: Option<PrincipalKind>, page: &Page) -> Result<Vec<SubjectRecord>>;
    async fn set_disabled(&self, id: &SubjectId, disabled: bool) -> Result<bool>;
    /// Stores a pending TOTP secret (not yet enrolled).
    async fn set_totp_pending(&self, id: &SubjectId, secret: &str) -> Result<bool>;
    /// Subjects whose stored TOTP secret is not sealed (`sealed:` prefix), with it.
    async fn totp_secrets_in_clear(&self) -> Result<Vec<(SubjectId, String)>>;
    /// Replaces a subject's TOTP secret if it is still `old` (compare-and-set).
    async fn replace_totp_secret(&self, id: &SubjectId, old: &str, new: &str) -> Result<bool>;
    /// Marks the pending secret enrolled and records the step used to confirm it.
    async fn confirm_totp(&self, id: &SubjectId, step: i64) -> Result<bool>;
    /// Records the TOTP step just used, refusing (false) if it is not newer than the last.
    async fn use_totp_step(&self, id: &SubjectId, step: i64) -> Result<bool>;
    /// Atomically counts a failed sign-in; locks the subject until `lock_until` once the
    /// count reaches `max_attempts`. Returns the new count.
    async fn record_failure(&self, id: &SubjectId, max_attempts: i64, lock_until: Timestamp) -> Result<i64>;
    /// Clears the failed-attempt counter and any lock.
    async fn reset_failures(&self, id: &SubjectId) -> Result<()>;

    // Tokens.
    async fn create_token(&self, token: &TokenRecord) -> Result<()>;
    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>>;
    async fn find_token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;
    async fn list_tokens(&self, subject: &SubjectId, page: &Page) -> Result<Vec<TokenRecord>>;
    /// Revokes the token and every token minted from it (transitively); answers how many
    /// tokens this revoked (0 when all of them already were).
    async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<u64>;
    async fn touch_token(&self, id: &TokenId, at: Timestamp) -> Result<()>;

    // Projects and their members.
    /// Creates the project and its initial members together.
    async fn create_project(&self, project: &ProjectRecord, members: &[MembershipRecord]) -> Result<()>;
    async fn get_project(&self, id: &ProjectId) -> Result<Option<ProjectRecord>>;
    async fn list_projects(&self, page: &Page) -> Result<Vec<ProjectRecord>>;
    /// Projects where the subject, or one of its groups, holds any role.
    async fn list_projects_of(&self, subject: &SubjectId, page: &Page) -> Result<Vec<ProjectRecord>>;
    async fn add_member(&self, membership: &MembershipRecord) -> Result<()>;
    async fn remove_member(&self, project: &ProjectId, member: &MemberRef, role: Role) -> Result<bool>;
    async fn list_members(&self, project: &ProjectId) -> Result<Vec<MembershipRecord>>;
    /// The subject's roles in the project, directly or through its groups.
    async fn project_roles(&self, project: &ProjectId, subject: &SubjectId) -> Result<BTreeSet<Role>>;

    // Groups and organisation roles.
    async fn create_group(&self, group: &GroupRecord) -> Result<()>;
    async fn get_group(&self, id: &GroupId) -> Result<Option<GroupRecord>>;
    async fn list_groups(&self, page: &Page) -> Result<Vec<GroupRecord>>;
    async fn add_group_member(&self, group: &GroupId, subject: &SubjectId, at: Timestamp) -> Result<()>;
    async fn remove_group_member(&self, group: &GroupId, subject: &SubjectId) -> Result<bool>;
    async fn list_group_members(&self, group: &GroupId) -> Result<Vec<SubjectId>>;
    async fn grant_role(&self, grant: &RoleGrantRecord) -> Result<()>;
    async fn revoke_role(&self, member: &MemberRef, role: Role) -> Result<bool>;
    /// The subject's organisation roles, directly or through its groups.
    async fn org_roles(&self, subject: &SubjectId) -> Result<BTreeSet<Role>>;
    async fn list_role_grants(&self, member: &MemberRef) -> Result<Vec<RoleGrantRecord>>;

    // Blobs.
    /// Records that `project` holds the blob `digest` of `size` bytes (the blob row is
    /// created once, the project link once per project).
    async fn record_blob(
        &self,
        project: &ProjectId,
        digest: &str,
        size: u64,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<()>;
    /// The size of a blob the project holds, or `None`.
    async fn project_blob(&self, project: &ProjectId, digest: &str) -> Result<Option<u64>>;

    // Intake records and the model registry. Records and versions are immutable.
    async fn create_artifact(&self, artifact: &ArtifactRecord) -> Result<()>;
    async fn get_artifact(&self, project: &ProjectId, id: &ArtifactId) -> Result<Option<ArtifactRecord>>;
    async fn list_artifacts(&self, project: &ProjectId, page: &Page) -> Result<Vec<ArtifactRecord>>;
    /// Admitted artifacts whose content belongs to a catalog dataset (their metadata
    /// names one) and that retention has not purged yet.
    async fn dataset_artifacts(&self, limit: u32) -> Result<Vec<ArtifactRecord>>;
    /// Records that retention removed an artifact's content, and drops the project's
    /// hold on each of its blobs, in one transaction; returns the digests no project
    /// holds any more (whose objects may now be deleted). False-y (`None`) when the
    /// artifact was purged already.
    async fn purge_artifact(
        &self,
        artifact: &ArtifactRecord,
        digests: &[String],
        reason: &str,
        at: Timestamp,
    ) -> Result<Option<Vec<String>>>;
    /// Admitted artifacts of the project whose manifest holds the blob `digest`.
    async fn artifacts_with_blob(&self, project: &ProjectId, digest: &str) -> Result<Vec<ArtifactRecord>>;
    /// The model named `name` in the project, created from `model` if it does not exist.
    async fn ensure_model(&self, model: &ModelRecord) -> Result<ModelRecord>;
    async fn get_model(&self, project: &ProjectId, name: &str) -> Result<Option<ModelRecord>>;
    async fn list_models(&self, project: &ProjectId, page: &Page) -> Result<Vec<ModelRecord>>;
    /// Adds the next version (1, 2, …) of a model.
    async fn add_model_version(
        &self,
        model: &ModelId,
        artifact: &ArtifactId,
        lineage: &VersionLineage,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<ModelVersionRecord>;
    async fn list_model_versions(&self, model: &ModelId) -> Result<Vec<ModelVersionRecord>>;
    /// Points `alias` at `version` (which must exist), replacing where it pointed.
    async fn set_model_alias(&self, model: &ModelId, alias: &ModelAliasRecord) -> Result<()>;
    /// Removes an alias; false when the model had none by that name.
    async fn delete_model_alias(&self, model: &ModelId, alias: &str) -> Result<bool>;
    async fn list_model_aliases(&self, model: &ModelId) -> Result<Vec<ModelAliasRecord>>;
    /// Sets a tag on a version (which must exist), replacing its value.
    async fn set_model_tag(&self, model: &ModelId, tag: &ModelTagRecord) -> Result<()>;
    /// Removes a tag; false when the version had no such tag.
    async fn delete_model_tag(&self, model: &ModelId, version: u64, key: &str) -> Result<bool>;
    async fn list_model_tags(&self, model: &ModelId) -> Result<Vec<ModelTagRecord>>;

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
    /// Break-glass releases not yet reviewed, in a project.
    async fn unreviewed_releases(&self, project: &ProjectId) -> Result<Vec<ReleaseRecord>>;

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

    // Gateway payload logs.
    async fn add_payload_log(&self, log: &PayloadLogRecord) -> Result<()>;
    async fn get_payload_log(&self, project: &ProjectId, id: &str) -> Result<Option<PayloadLogRecord>>;
    /// Deletes up to `limit` logs expired at `now`, in one transaction; returns what was
    /// deleted (without the payloads).
    async fn expire_payload_logs(&self, now: Timestamp, limit: u32) -> Result<Vec<PayloadLogRecord>>;

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
    /// Open tasks of every request, soonest due first.
    async fn open_deletion_tasks(&self, limit: u32) -> Result<Vec<(DeletionId, DeletionTaskRecord)>>;

    // Gateway kill switches.
    /// Turns a switch on (again: the reason and time are replaced).
    async fn set_switch(&self, switch: &SwitchRecord) -> Result<()>;
    /// Turns a switch off; false when it was not on.
    async fn clear_switch(&self, target: &str) -> Result<bool>;
    async fn list_switches(&self) -> Result<Vec<SwitchRecord>>;

    // Gateway providers added through the API.
    /// Creates (`record.revision == 1`) or replaces the provider whose stored revision is
    /// `record.revision - 1`; false when the name is taken (create) or the stored
    /// revision is another (replace): someone else changed it first.
    async fn put_provider(&self, record: &ProviderRecord) -> Result<bool>;
    /// False when there was no such provider.
    async fn delete_provider(&self, name: &str) -> Result<bool>;
    /// Every stored provider, by name.
    async fn list_providers(&self) -> Result<Vec<ProviderRecord>>;

    // Gateway budgets and counters.
    /// Sets (or with `tokens: None` removes) a project's budget for `period` (`day` or
    /// `month`).
    async fn set_budget(
        &self,
        project: &ProjectId,
        period: &str,
        tokens: Option<i64>,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<()>;
    /// A project's budgets: (period, tokens).
    async fn budgets(&self, project: &ProjectId) -> Result<Vec<(String, i64)>>;
    /// Adds `amount` to the counter (`scope`, `window`) if the result stays within
    /// `limit`; false (and nothing changes) otherwise. Atomic across replicas.
    async fn reserve(&self, scope: &str, window: i64, amount: i64, limit: i64) -> Result<bool>;
    /// Adds `delta` (possibly negative: returning an unused reservation).
    async fn adjust(&self, scope: &str, window: i64, delta: i64) -> Result<()>;
    async fn counter(&self, scope: &str, window: i64) -> Result<i64>;

    // Chunked uploads.
    async fn create_upload(&self, upload: &UploadRecord) -> Result<()>;
    async fn get_upload(&self, id: &UploadId) -> Result<Option<UploadRecord>>;
    /// Records a part at `offset` if the upload has exactly `offset` bytes so far (a
    /// compare-and-set, so concurrent writers cannot both land); false otherwise.
    async fn add_upload_part(&self, id: &UploadId, part: &UploadPartRecord) -> Result<bool>;
    async fn list_upload_parts(&self, id: &UploadId) -> Result<Vec<UploadPartRecord>>;
    /// Deletes the session and its parts' records; returns the parts' objects so the
    /// caller can delete them (none when the session did not exist).
    async fn delete_upload(&self, id: &UploadId) -> Result<Vec<String>>;
    /// Sessions whose expiry has passed, oldest first.
    async fn expired_uploads(&self, now: Timestamp, limit: u32) -> Result<Vec<UploadId>>;

    // Trusted signers.
    async fn create_signer(&self, signer: &SignerRecord) -> Result<()>;
    async fn get_signer(&self, id: &SignerId) -> Result<Option<SignerRecord>>;
    /// Organisation-wide signers and, when given, those of one project.
    async fn list_signers(&self, project: Option<&ProjectId>) -> Result<Vec<SignerRecord>>;
    async fn revoke_signer(&self, id: &SignerId, at: Timestamp) -> Result<bool>;

    // The audit ledger. Append-only: there is no update or delete method.
    /// Appends entries with consecutive indexes in one transaction (durable when it
    /// returns) and returns the index of the first.
    async fn append_audit(&self, leaves: &[AuditLeaf]) -> Result<u64>;
    async fn audit_size(&self) -> Result<u64>;
    /// Adds the search terms of up to `max` entries past the search index's head, in
    /// one transaction, and returns the new head (entries `[0, head)` are indexed).
    /// Searches are exact whatever the head: they scan the unindexed tail.
    async fn index_audit(&self, max: u64) -> Result<u64>;
    /// Records `terms` (term, block of [`AUDIT_BLOCK`] entries) as the search index of
    /// entries `[from, to)`, for an appender that kept its own entries' terms, and moves
    /// the head to `to`. Only if the head stands at `from`: otherwise (another replica
    /// indexed meanwhile) it writes nothing and returns false.
    async fn index_audit_terms(&self, from: u64, to: u64, terms: &[(String, u64)]) -> Result<bool>;
    /// Leaf hashes of entries `[from, to)`, in order.
    async fn audit_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>>;
    /// Up to `limit` entries from index `from` on, in order.
    async fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>>;
    /// Entries matching `filter` whose index is after the page cursor, in index order.
    async fn search_audit(&self, filter: &AuditFilter, page: &Page) -> Result<Vec<AuditEntry>>;
    /// Stores a signed checkpoint; a second one for the same size is ignored.
    async fn put_checkpoint(&self, checkpoint: &CheckpointRecord) -> Result<()>;
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>>;
    /// Checkpoints with `tree_size >= from_size`, smallest first.
    async fn list_checkpoints(&self, from_size: u64, limit: u32) -> Result<Vec<CheckpointRecord>>;
    /// The smallest checkpoint covering at least `size` entries.
    async fn checkpoint_covering(&self, size: u64) -> Result<Option<CheckpointRecord>>;
    /// The next index an exporter should send; 0 when it has none.
    async fn export_cursor(&self, name: &str) -> Result<u64>;
    async fn set_export_cursor(&self, name: &str, next_index: u64, at: Timestamp) -> Result<()>;
}
