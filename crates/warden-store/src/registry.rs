use async_trait::async_trait;
use warden_core::{ArtifactId, ModelId, ProjectId, SignerId, SubjectId, Timestamp, UploadId};

use crate::*;

#[async_trait]
pub trait RegistryStore: Send + Sync {
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
    /// The model versions registered from an artifact: (model, version).
    async fn versions_of_artifact(&self, artifact: &ArtifactId) -> Result<Vec<(ModelId, u64)>>;
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
