//! Request and response bodies. Requests reject unknown fields.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A page of results and the cursor for the next one (absent on the last page).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1-500 (default 50).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `human` or `service`.
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Index cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `authentication`, `authorization`, `change` or `system`.
    pub category: Option<String>,
    /// An action, e.g. `project.create` or `password`.
    pub action: Option<String>,
    /// Subject id of the actor.
    pub actor: Option<String>,
    /// `type:id`, e.g. `project:prj_…`.
    pub resource: Option<String>,
    /// `success`, `failure`, `allow` or `deny`.
    pub outcome: Option<String>,
    /// Project id.
    pub project: Option<String>,
    /// RFC 3339 time, inclusive.
    pub since: Option<String>,
    /// RFC 3339 time, exclusive.
    pub until: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// First index.
    pub from: u64,
    /// At most this many (1-1000, default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    pub index: u64,
    pub tree_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    pub from: u64,
    pub to: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckpointsQuery {
    /// Smallest tree size (default 0).
    pub from_size: Option<u64>,
    /// At most this many (1-1000, default 100).
    pub limit: Option<u32>,
}

/// One ledger entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub index: u64,
    /// Base64 of the leaf: the event's RFC 8785 canonical JSON.
    pub leaf: String,
    /// Base64 of the leaf hash the server recorded, SHA-256(0x00 || leaf).
    pub leaf_hash: String,
    pub event: serde_json::Value,
}

/// An RFC 9162 proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditProof {
    /// Base64 SHA-256 hashes, in RFC 9162 order.
    pub hashes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditCheckpoint {
    pub tree_size: u64,
    /// The C2SP signed note.
    pub note: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The current TOTP code, required once TOTP is enrolled.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// A session token. Shown once.
    pub token: String,
    pub token_id: String,
    pub expires_at: String,
    /// A second factor was verified.
    pub mfa: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectRoles {
    pub project_id: String,
    pub project_name: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Whoami {
    pub id: String,
    pub name: String,
    /// `human` or `service`.
    pub kind: String,
    pub org_roles: Vec<String>,
    pub projects: Vec<ProjectRoles>,
    /// `token` or `oidc`.
    pub auth_method: String,
    pub mfa: bool,
    pub totp_enrolled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_role: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret for the authenticator app. Shown once.
    pub secret: String,
    /// `otpauth://` URI (for a QR code).
    pub uri: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmRequest {
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// Bind the token to one project.
    #[serde(default)]
    pub project: Option<String>,
    /// Bind the token to one role (which the caller must hold).
    #[serde(default)]
    pub role: Option<String>,
    /// Lifetime in seconds (default 90 days).
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// Make it a gateway key for this data class (needs `project`).
    #[serde(default)]
    pub data_class: Option<String>,
    /// Bind it to a zone of the policy (a workload identity there; needs `project`):
    /// pulls with it get only artifacts permitted in that zone, never expired ones.
    #[serde(default)]
    pub zone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceTokenRequest {
    pub name: String,
    pub project: String,
    pub role: String,
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// Make it a gateway key for this data class.
    #[serde(default)]
    pub data_class: Option<String>,
    /// Bind it to a zone of the policy (a workload identity there).
    #[serde(default)]
    pub zone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Gateway keys: the data class whose rules apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_class: Option<String>,
    /// Workload identities: the zone the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: Token,
    /// The token itself. Shown once; only its hash is stored.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub cost_centre: Option<String>,
    /// Subject id to make project owner.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_centre: Option<String>,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// A subject id (`usr_`, `svc_`) or a group id (`grp_`).
    pub member: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub member: String,
    pub role: String,
    pub added_at: String,
    pub added_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Initial password (12+ characters). Without one the user signs in by OIDC or token.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub totp_enrolled: bool,
    pub disabled: bool,
    pub locked: bool,
    pub sso: bool,
    pub created_at: String,
    /// Organisation roles granted directly (present on single-user reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrantRequest {
    /// A subject id or a group id.
    pub member: String,
    /// `platform-admin` or `auditor`.
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    pub member: String,
    pub role: String,
    pub granted_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// An exact name to look up among people, services and groups.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    pub name: String,
}

/// One person, service or group an exact name names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DirectoryMatch {
    pub id: String,
    /// `user`, `service` or `group`.
    pub kind: String,
    pub name: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DirectoryAnswer {
    /// Empty when the name names nothing; more than one when a person or service and a
    /// group share it.
    pub matches: Vec<DirectoryMatch>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// For each configured witness: the largest checkpoint it cosigned and how many
    /// entries the log's latest checkpoint is ahead of it (a witness that is down never
    /// stops the log; this says how far behind cosigning is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<WitnessLag>,
    /// How far the check of every stored audit entry against the tree (run after each
    /// start, in the background) has got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_scrub: Option<AuditScrub>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditScrub {
    /// Entries checked so far.
    pub checked: u64,
    /// Entries the log held at start.
    pub of: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WitnessLag {
    pub witness: String,
    pub cosigned: u64,
    pub behind: u64,
}

/// A stored blob.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlobStored {
    /// `sha256:<hex>`.
    pub digest: String,
    pub size: u64,
    /// False when the content was already stored (deduplicated).
    pub created: bool,
}

/// A project's gateway token budget for a day or a month (UTC).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    /// `day` or `month`.
    pub period: String,
    /// `tokens`, or `usd` for a cost budget (then `tokens` and `used` are micro-USD).
    #[serde(default = "tokens_unit")]
    pub unit: String,
    pub tokens: i64,
    /// Used in the current window, including calls in flight.
    pub used: i64,
    pub window_start: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudgetRequest {
    /// A token budget.
    #[serde(default)]
    pub tokens: Option<i64>,
    /// Or a cost budget in USD (models are counted at their providers' highest price).
    #[serde(default)]
    pub usd: Option<f64>,
}

fn tokens_unit() -> String {
    "tokens".into()
}

/// A gateway kill switch that is on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Switch {
    /// `external`, `provider:<name>` or `region:<name>`.
    pub target: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSwitchRequest {
    /// Why the switch is turned on (recorded).
    pub reason: String,
}

/// What a model costs, in USD per million tokens.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderPrice {
    pub input: f64,
    pub output: f64,
}

/// An LLM provider behind the gateway. Its credential is never shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Provider {
    pub name: String,
    /// `builtin` (the offline mock), `config` (warden.toml) or `api` (stored; changed
    /// through this API).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    pub region: String,
    /// Whether calls leave the organisation.
    pub external: bool,
    pub models: Vec<String>,
    /// By model, `*` for the rest.
    pub prices: std::collections::BTreeMap<String, ProviderPrice>,
    pub has_api_key: bool,
    /// False when the stored credential does not open with this installation's master
    /// key: the provider is not used until its key is set again.
    pub usable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
}

/// A provider as an administrator describes it. The whole description is replaced;
/// the credential is kept unless `api_key` or `clear_api_key` says otherwise.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutProviderRequest {
    /// The OpenAI-compatible base URL, up to and including `/v1`.
    pub base_url: String,
    /// Where the provider processes data.
    pub region: String,
    pub external: bool,
    pub models: Vec<String>,
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, ProviderPrice>,
    /// The bearer key; stored encrypted, never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(default)]
    pub clear_api_key: bool,
}

/// A chunked upload session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Upload {
    /// `upl_…`.
    pub id: String,
    pub project: String,
    /// Bytes received so far: where the next part starts.
    pub offset: u64,
    pub expires_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadPartQuery {
    /// Where this part starts: the session's current `offset`.
    pub offset: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompleteUploadQuery {
    /// The whole content's `sha256:<64 hex>`.
    pub digest: String,
}

/// One file of an artifact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactFile {
    /// Relative path inside the artifact, `/`-separated.
    pub path: String,
    /// `sha256:<hex>` of a blob already uploaded to the project.
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArtifactRequest {
    /// `model`, `container-image`, `tokenizer`, `prompt-template`, `feature-definition`,
    /// `evaluation-dataset` or `policy-bundle`.
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub files: Vec<ArtifactFile>,
    /// For `container-image`: the image by digest, `registry/repository@sha256:<hex>`.
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub source_uri: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
    /// Markdown.
    #[serde(default)]
    pub model_card: Option<String>,
    #[serde(default)]
    pub permitted_zones: Vec<String>,
    /// RFC 3339.
    #[serde(default)]
    pub review_date: Option<String>,
    /// RFC 3339; an expired artifact cannot become a model version.
    #[serde(default)]
    pub expiry_date: Option<String>,
    /// A catalog dataset (`dst_…`) whose data the artifact holds: retention removes the
    /// content when the dataset's or its classes' retention ends.
    #[serde(default)]
    pub dataset: Option<String>,
    /// Detached signatures over the manifest's canonical JSON.
    #[serde(default)]
    pub signatures: Vec<ArtifactSignature>,
    /// An OpenSSF model-signing bundle (the JSON the `model-signing` package writes)
    /// that must cover exactly these files, signed by a registered key.
    #[serde(default)]
    pub model_signing_bundle: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactSignature {
    /// A signer id; without one, any signer trusted for the project may match.
    #[serde(default)]
    pub signer: Option<String>,
    /// Base64: raw Ed25519, or DER ECDSA.
    pub signature: String,
}

/// An intake record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Artifact {
    pub id: String,
    pub project: String,
    pub kind: String,
    pub name: String,
    pub manifest_digest: String,
    pub files: Vec<ArtifactFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub total_size: u64,
    /// `admitted` or `rejected`.
    pub verdict: String,
    /// Reasons, per-file scan reports, signature checks and metadata.
    pub evidence: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateModelVersionRequest {
    /// An admitted artifact of the project.
    pub artifact: String,
    /// Training runs that produced the version (run ids), when known.
    #[serde(default)]
    pub runs: Vec<String>,
    /// Datasets it was trained or evaluated on (catalog names or URIs), when known.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// Data classes the version carries, declared by its author (classes of the policy
    /// document); placement requires every one of them to allow the zone.
    #[serde(default)]
    pub data_classes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelVersion {
    pub model: String,
    pub version: u64,
    pub artifact: Artifact,
    #[serde(default)]
    pub runs: Vec<String>,
    #[serde(default)]
    pub datasets: Vec<String>,
    #[serde(default)]
    pub data_classes: Vec<String>,
    /// Aliases pointing at this version.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetModelAliasRequest {
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelAlias {
    pub model: String,
    pub alias: String,
    pub version: u64,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetModelTagRequest {
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelTag {
    pub model: String,
    pub version: u64,
    pub key: String,
    pub value: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub project: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<ModelVersion>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSignerRequest {
    pub name: String,
    /// `ed25519`, `ecdsa-p256` or `ecdsa-p384`.
    pub algorithm: String,
    /// PEM SubjectPublicKeyInfo.
    pub public_key: String,
    /// Trust the key for one project only.
    #[serde(default)]
    pub project: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub not_before: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub not_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Signer {
    pub id: String,
    pub name: String,
    pub algorithm: String,
    pub public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignerQuery {
    /// Also list the signers of this project.
    pub project: Option<String>,
}

/// A version of the policy document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyVersion {
    /// 0 for the built-in default before any version is stored.
    pub version: u64,
    pub digest: String,
    pub comment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// For a rollback: the version whose text this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<u64>,
    /// The YAML (only when one version is asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The Cedar policies compiled from it (only for the version in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyPolicyRequest {
    /// The whole document, YAML.
    pub document: String,
    #[serde(default)]
    pub comment: String,
    /// Validate and show the changes without applying.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplyPolicyResult {
    /// The new version; absent for a dry run or when nothing changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub previous: u64,
    pub dry_run: bool,
    /// One line per changed setting: `+ path: value`, `- path: value`, `~ path: old -> new`.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackPolicyRequest {
    pub version: u64,
    #[serde(default)]
    pub comment: String,
}

/// A placement question: name a model version (`project`, `model`, `version`) or give
/// the facts (`classes`, `signed`, …), with `zone`. Or an access question: `action` and
/// `subject` (id or name), with `project` for project actions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    #[serde(default)]
    pub zone: String,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    /// For an access question: answer as if the credential had MFA.
    #[serde(default)]
    pub mfa: Option<bool>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub signed: Option<bool>,
    #[serde(default)]
    pub scan_verdict: Option<String>,
    #[serde(default)]
    pub expired: Option<bool>,
    /// Defaults to the zone itself.
    #[serde(default)]
    pub permitted_zones: Option<Vec<String>>,
}

/// The facts a placement was decided on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlacementFacts {
    pub zone: String,
    pub classes: Vec<String>,
    pub signed: bool,
    pub scan_verdict: String,
    pub expired: bool,
    pub permitted_zones: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    pub allowed: bool,
    /// The rules that decided: the forbids that denied, or the permit that allowed.
    pub rules: Vec<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    pub explanation: String,
    /// For a placement question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<PlacementFacts>,
    /// For an access question: the subject's roles the answer used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_roles: Option<Vec<String>>,
    pub policy_version: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddEvaluationRequest {
    /// Metric name → value, e.g. `{"auc": 0.91}`.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// `sha256:<hex>` of a report uploaded as a blob of the project.
    #[serde(default)]
    pub report: Option<String>,
    /// The evaluation dataset (catalog name or URI).
    #[serde(default)]
    pub dataset: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    pub model: String,
    pub version: u64,
    pub seq: u64,
    pub metrics: std::collections::BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    pub added_by: String,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReleaseRequest {
    pub model: String,
    pub version: u64,
    pub zone: String,
    /// Why: kept on record.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    pub model: String,
    pub version: u64,
    pub zone: String,
    /// Mandatory (at least 20 characters); the deploy stays flagged until reviewed.
    pub justification: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackReleaseRequest {
    pub zone: String,
    pub model: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDecisionRequest {
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub approver: String,
    /// `approve` or `reject`.
    pub decision: String,
    pub comment: String,
    pub mfa: bool,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Release {
    pub id: String,
    pub project: String,
    pub model: String,
    pub version: u64,
    pub zone: String,
    /// `release`, `rollback` or `break-glass`.
    pub kind: String,
    pub reason: String,
    /// `pending`, `rejected`, `deployed` or `superseded`.
    pub status: String,
    /// The automated gate's checks.
    pub gate: serde_json::Value,
    pub approvals_required: u32,
    pub approver_role: String,
    pub approvals: Vec<Approval>,
    pub policy_version: u64,
    pub created_by: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The release manifest as a C2SP signed note (canonical JSON, then the signature
    /// by the instance key; verify with `GET /api/v1/audit/public-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    pub needs_review: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReleaseQuery {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only break-glass deploys not yet reviewed.
    #[serde(default)]
    pub unreviewed: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActiveQuery {
    pub zone: String,
    /// RFC 3339; defaults to now.
    #[serde(default)]
    pub at: Option<String>,
}

/// A model's active version in a zone at a moment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActiveRelease {
    pub zone: String,
    pub model: String,
    pub version: u64,
    pub release: String,
    pub kind: String,
    pub deployed_at: String,
    pub deployed_by: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Classes of the column's values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

/// A dataset's description (create: with `namespace` and `name`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetRequest {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Where it lives, e.g. `s3://lake/claims/`.
    #[serde(default)]
    pub location: Option<String>,
    /// `raw`, `curated` or `workspace`.
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub columns: Vec<Column>,
    /// The region the data must stay in.
    #[serde(default)]
    pub residency: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub retention_days: Option<u32>,
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// A legal hold and its reason: deletion requests touching the dataset are refused.
    #[serde(default)]
    pub legal_hold: Option<String>,
    /// Show it in the whole organisation's catalog (only if every class it carries
    /// allows that: `catalog: organisation` in the policy document). Default false:
    /// visible to its project, auditors and administrators.
    #[serde(default)]
    pub published: bool,
}

/// A change to a dataset's description (JSON merge patch, RFC 7396): only the fields
/// present change; `null` clears one (`"legal_hold": null` lifts a hold).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub layer: Option<Option<String>>,
    /// Replaces the dataset's own classes (a classification event when they change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Replaces the columns and their classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<Column>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub residency: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>)]
    pub retention_days: Option<Option<u32>>,
    /// Replaces the tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    /// A legal hold's reason; `null` lifts the hold.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub legal_hold: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<bool>,
}

/// A field that is present, even as `null` (absent fields stay `None` by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Dataset {
    pub id: String,
    pub namespace: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    pub classes: Vec<String>,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    pub tags: std::collections::BTreeMap<String, String>,
    /// False for a dataset lineage named that nobody has described yet.
    pub classified: bool,
    /// Its owners published it to the organisation's catalog.
    pub published: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<String>,
    /// Its graph node, for lineage queries.
    pub node: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DatasetQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// Only datasets of this project.
    pub project: Option<String>,
    /// Only datasets lineage named that nobody has described.
    pub unclassified: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LineageQuery {
    /// A node: `dataset:<namespace>/<name>`, `run:<uuid>` or `model:<model id>@<version>`.
    pub node: String,
    /// `upstream` (default) or `downstream`.
    pub direction: Option<String>,
    /// 1-100 (default 10).
    pub depth: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LineageNode {
    pub node: String,
    pub depth: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LineageGraph {
    pub nodes: Vec<LineageNode>,
    /// `[from, to]` pairs.
    pub edges: Vec<[String; 2]>,
    /// What each edge is, in the order of `edges`: `training` or `evaluation` (data or a
    /// run into a model version), `inference` (a version read by a run), `input` (data
    /// read by a run) or `output` (data a run wrote).
    #[serde(default)]
    pub edge_kinds: Vec<String>,
    /// The walk met a cycle (it still visits each node once).
    pub cycle: bool,
    /// The answer stopped at its node limit.
    pub truncated: bool,
}

/// One class of a model version and the path of nodes that brought it in, from the
/// version to the dataset carrying it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EffectiveClass {
    pub class: String,
    pub path: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResidencyViolation {
    /// The run (node) that used the data.
    pub run: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    pub zone: String,
    pub region: String,
    pub dataset: String,
    pub residency: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Findings {
    /// Runs in a zone that read data resident elsewhere without an approved transfer.
    pub residency_violations: Vec<ResidencyViolation>,
    /// Datasets lineage saw in use that nobody has classified.
    pub unclassified_in_use: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub dataset: String,
    pub to_zone: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transfer {
    pub id: String,
    pub project: String,
    pub dataset: String,
    pub to_zone: String,
    pub reason: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletionRequestBody {
    /// Dataset ids (`dst_…`) the subject's data is in.
    pub datasets: Vec<String>,
    /// A reference to the data subject (never the data itself).
    pub subject_ref: String,
    pub reason: String,
    /// Default 30.
    #[serde(default)]
    pub due_in_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletionTask {
    pub request: String,
    pub seq: u64,
    pub target: String,
    /// `dataset`, `model-version`, or `store` (a store Warden keeps, such as payload logs).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub due_at: String,
    /// `open` or `done`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletionRequest {
    pub id: String,
    pub subject_ref: String,
    pub reason: String,
    pub datasets: Vec<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub due_at: String,
    /// Complete when every task is done.
    pub complete: bool,
    pub tasks: Vec<DeletionTask>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseTaskRequest {
    /// What was deleted, where and how (kept on record).
    pub evidence: String,
}

/// One gateway call's payloads, opened.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayloadLog {
    pub id: String,
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub zone: String,
    pub class: String,
    pub created_at: String,
    pub expires_at: String,
    /// `{"request": …, "response": …}` as sent to and received from the provider.
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RetentionRun {
    /// Items deleted (each recorded in the audit ledger).
    pub deleted: u64,
}

/// One thing retention or a deletion request still has to remove.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RetentionItem {
    /// `dataset-content` or `deletion-task`.
    pub kind: String,
    pub project: Option<String>,
    /// The dataset (`NAMESPACE/NAME (id)`), or the deletion task's target.
    pub subject: String,
    /// The artifact holding the content, or `del_… task N`.
    pub item: String,
    pub due: String,
    /// What keeps it past its date (a legal hold), if anything.
    pub held_by: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedColumn {
    pub name: String,
    /// Detector kinds found in the sample and how often (never the values).
    #[serde(default)]
    pub counts: std::collections::BTreeMap<String, u64>,
    /// Classes proposed for the column.
    #[serde(default)]
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalRequest {
    /// Rows scanned.
    pub rows: u64,
    pub columns: Vec<ProposedColumn>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Proposal {
    pub id: String,
    pub dataset: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    pub rows: u64,
    pub columns: Vec<ProposedColumn>,
    pub proposed_by: String,
    pub proposed_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

// ------------------------------------------------------------------ evidence

/// One auditor question answered with the ledger entries it rests on, each with its
/// inclusion proof into `checkpoint`, and the log key's signature over the whole
/// (`warden-evidence/v1`). `warden evidence verify` checks it with the public key alone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// `warden-evidence/v1`.
    pub format: String,
    /// `data-access`, `locations`, `access`, `active`, `change`, `log` or `data-handling`.
    pub question: String,
    /// What was asked about, and when.
    #[schema(value_type = Object)]
    pub subject: serde_json::Value,
    pub answered_at: String,
    /// The answer; each row cites ledger entries as `"evidence": [index, …]`.
    #[schema(value_type = Object)]
    pub answer: serde_json::Value,
    pub entries: Vec<EvidenceEntry>,
    pub tree_size: u64,
    /// The signed checkpoint (C2SP signed note) the entries prove into.
    pub checkpoint: String,
    /// A signed note by the log key over the RFC 8785 form of the rest.
    pub signature: String,
}

/// A ledger entry with its RFC 9162 inclusion proof (base64 hashes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceEntry {
    pub index: u64,
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    pub inclusion: Vec<String>,
}

/// A model version as evidence is asked about it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceVersionQuery {
    pub project: String,
    pub model: String,
    pub version: u64,
}

/// A zone at a moment (`at`, default now), or its deployments in `[from, to]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceActiveQuery {
    pub zone: String,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// A project or a zone, at a moment (default now).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceAccessQuery {
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceChangeQuery {
    pub project: String,
    pub release: String,
}

/// A window of the log (RFC 3339; `to` defaults to now) and, optionally, a subject
/// whose events to reconstruct (`usr_…`, `prj_…`, `TYPE:ID` or a bare id).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceLogQuery {
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

/// A dataset (id or `NAMESPACE/NAME`) or a data subject (as deletion requests name it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvidenceDataQuery {
    #[serde(default)]
    pub dataset: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

// ------------------------------------------------------------------ quarantine

/// What to quarantine (or lift): a catalogued dataset of the project, or one of its
/// model versions, and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuarantineRequest {
    /// A dataset id or `NAMESPACE/NAME`.
    #[serde(default)]
    pub dataset: Option<String>,
    /// A model name, with `version`.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
    pub reason: String,
}

/// A quarantine: what it holds, who placed it and why, and (once lifted) who lifted it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Quarantine {
    pub id: String,
    /// The lineage node held: `dataset:NAMESPACE/NAME` or `model:<id>@<version>`.
    pub target: String,
    pub project: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<String>,
    pub lift_reason: Option<String>,
}
