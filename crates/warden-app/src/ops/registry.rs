//! The registry: blobs and chunked uploads, intake, models and their versions, trusted signers.

use super::*;

// ---------------------------------------------------------------- blobs

/// An upload body: chunks as they arrive.
pub type BlobBody = Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + Unpin>;

/// Streams content into the project's blob store under its declared digest. The body is
/// read only after the upload is authorised.
pub struct UploadBlob {
    pub project: ProjectId,
    pub digest: warden_blob::Digest,
    /// In a mutex only to make the operation `Sync`; it is taken once.
    pub body: std::sync::Mutex<BlobBody>,
}

impl Operation for UploadBlob {
    type Output = warden_blob::Stored;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<warden_blob::Stored, AppError> {
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        let body = self.body.into_inner().map_err(|_| AppError::Internal("upload body poisoned".into()))?;
        let stored = ctx.app.blobs().put(Some(self.digest), ctx.app.config().max_blob_bytes, body).await?;
        ctx.store()
            .record_blob(&self.project, &stored.digest.to_string(), stored.size, &ctx.principal.id, ctx.now())
            .await?;
        Ok(stored)
    }
}

// Chunked, resumable uploads: a session takes parts at consecutive offsets (a part
// cut off mid-way is discarded, and the client asks for the offset and carries on),
// then completes with the whole content's digest, which is verified before anything is
// published. Only the session's creator sees it; sessions expire after a day.

/// How long an upload session stays open.
pub const UPLOAD_TTL_SECONDS: i64 = 24 * 3600;

pub struct CreateUpload {
    pub project: ProjectId,
}

impl Operation for CreateUpload {
    type Output = warden_store::UploadRecord;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        // Sessions nobody finished go when new ones start.
        for id in ctx.store().expired_uploads(ctx.now(), 100).await? {
            let parts = ctx.store().delete_upload(&id).await?;
            ctx.app.blobs().delete_parts(&parts).await;
        }
        let now = ctx.now();
        let record = warden_store::UploadRecord {
            id: warden_core::UploadId::generate(now.0),
            project: self.project,
            created_by: ctx.principal.id.clone(),
            created_at: now,
            expires_at: now.plus_seconds(UPLOAD_TTL_SECONDS),
            size: 0,
        };
        ctx.store().create_upload(&record).await?;
        Ok(record)
    }
}

/// The caller's own, unexpired session in this project; anything else is not found.
async fn own_upload(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    id: &warden_core::UploadId,
) -> Result<warden_store::UploadRecord, AppError> {
    match ctx.store().get_upload(id).await? {
        Some(u) if u.project == *project && u.created_by == ctx.principal.id && u.expires_at > ctx.now() => Ok(u),
        _ => Err(AppError::NotFound(format!("upload `{id}`"))),
    }
}

async fn discard_upload(ctx: &Authorized<'_>, id: &warden_core::UploadId) -> Result<(), AppError> {
    let parts = ctx.store().delete_upload(id).await?;
    ctx.app.blobs().delete_parts(&parts).await;
    Ok(())
}

pub struct GetUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
}

impl Operation for GetUpload {
    type Output = warden_store::UploadRecord;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        own_upload(&ctx, &self.project, &self.id).await
    }
}

/// Appends a part at `offset`, which must be the session's current size.
pub struct AppendUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
    pub offset: u64,
    /// In a mutex only to make the operation `Sync`; it is taken once.
    pub body: std::sync::Mutex<BlobBody>,
}

impl Operation for AppendUpload {
    type Output = warden_store::UploadRecord;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let u = own_upload(&ctx, &self.project, &self.id).await?;
        let stale = |size: u64| {
            AppError::WrongState(format!(
                "upload `{}` holds {size} bytes; send the next part at offset {size}, not {}",
                self.id, self.offset
            ))
        };
        if u.size != self.offset {
            return Err(stale(u.size));
        }
        let room = ctx.app.config().max_blob_bytes.saturating_sub(u.size);
        let body = self.body.into_inner().map_err(|_| AppError::Internal("upload body poisoned".into()))?;
        let (object, size) = ctx.app.blobs().put_part(self.id.as_str(), self.offset, room, body).await?;
        let part = warden_store::UploadPartRecord { offset: self.offset, size, object };
        if size == 0 {
            ctx.app.blobs().delete_parts(&[part.object]).await;
            return Ok(u);
        }
        if !ctx.store().add_upload_part(&self.id, &part).await? {
            // Another request for the same offset landed first.
            ctx.app.blobs().delete_parts(&[part.object]).await;
            let now = own_upload(&ctx, &self.project, &self.id).await?;
            return Err(stale(now.size));
        }
        Ok(warden_store::UploadRecord { size: u.size + size, ..u })
    }
}

/// Verifies the whole content against `digest` and publishes it as a blob of the
/// project. The session ends either way: a mismatch stores nothing.
pub struct CompleteUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
    pub digest: warden_blob::Digest,
}

impl Operation for CompleteUpload {
    type Output = warden_blob::Stored;
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        own_upload(&ctx, &self.project, &self.id).await?;
        let parts: Vec<String> = ctx.store().list_upload_parts(&self.id).await?.into_iter().map(|p| p.object).collect();
        let assembled = ctx.app.blobs().assemble(self.digest, ctx.app.config().max_blob_bytes, &parts).await;
        let stored = match assembled {
            Ok(stored) => stored,
            Err(e @ (warden_blob::BlobError::DigestMismatch { .. } | warden_blob::BlobError::TooLarge(_))) => {
                discard_upload(&ctx, &self.id).await?;
                return Err(e.into());
            }
            // Storage trouble: keep the session so the client can try again.
            Err(e) => return Err(e.into()),
        };
        ctx.store()
            .record_blob(&self.project, &stored.digest.to_string(), stored.size, &ctx.principal.id, ctx.now())
            .await?;
        discard_upload(&ctx, &self.id).await?;
        Ok(stored)
    }
}

pub struct AbortUpload {
    pub project: ProjectId,
    pub id: warden_core::UploadId,
}

impl Operation for AbortUpload {
    type Output = ();
    const ACTION: Action = Action::BlobUpload;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        own_upload(&ctx, &self.project, &self.id).await?;
        discard_upload(&ctx, &self.id).await
    }
}

/// Reads a blob the project holds.
pub struct ReadBlob {
    pub project: ProjectId,
    pub digest: warden_blob::Digest,
}

pub type BlobStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, warden_blob::BlobError>> + Send>>;

impl Operation for ReadBlob {
    type Output = (u64, BlobStream);
    const ACTION: Action = Action::BlobRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let Some(size) = ctx.store().project_blob(&self.project, &self.digest.to_string()).await? else {
            return Err(AppError::NotFound(format!("blob {} in project `{}`", self.digest, self.project)));
        };
        if let Some(zone) = ctx.principal.scope.as_ref().and_then(|s| s.zone.clone()) {
            crate::release::pull_into_zone(&ctx, &self.project, &self.digest.to_string(), &zone).await?;
        }
        crate::quarantine::refuse_held_pull(&ctx, &self.project, &self.digest.to_string()).await?;
        let stream = ctx.app.blobs().get(&self.digest).await?;
        Ok((size, Box::pin(stream)))
    }
}

// ---------------------------------------------------------------- intake and registry

/// Descriptive metadata recorded with an artifact.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ArtifactMetadata {
    pub source_uri: Option<String>,
    pub licence: Option<String>,
    pub model_card: Option<String>,
    pub permitted_zones: Vec<String>,
    /// Milliseconds since the epoch.
    pub review_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The catalog dataset whose data the artifact holds (an evaluation dataset, say):
    /// retention removes its content when the dataset's (or its classes') days are up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
}

pub const ARTIFACT_KINDS: &[&str] = &[
    "model",
    "container-image",
    "tokenizer",
    "prompt-template",
    "feature-definition",
    "evaluation-dataset",
    "policy-bundle",
];

/// Intake: checks the manifest against the project's uploaded blobs, scans every file
/// without executing it, and records the verdict (admitted or rejected) with its
/// evidence. A rejection is recorded too, and answered as 422.
pub struct CreateArtifact {
    pub project: ProjectId,
    pub kind: String,
    pub name: String,
    pub files: Vec<warden_intake::manifest::FileEntry>,
    /// For `container-image` artifacts: the image by digest (no files, no blobs).
    pub image: Option<String>,
    pub metadata: ArtifactMetadata,
    /// Detached signatures over the manifest's canonical JSON.
    pub signatures: Vec<ManifestSignature>,
    /// An OpenSSF model-signing bundle (JSON) covering the artifact's files.
    pub model_signing_bundle: Option<Vec<u8>>,
}

/// A signature over a manifest, by a named signer or by any trusted one.
#[derive(Debug, Clone)]
pub struct ManifestSignature {
    pub signer: Option<warden_core::SignerId>,
    pub signature: String,
}

impl Operation for CreateArtifact {
    type Output = warden_store::ArtifactRecord;
    const ACTION: Action = Action::ArtifactCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        if !ARTIFACT_KINDS.contains(&self.kind.as_str()) {
            return Err(AppError::Invalid(format!("`kind` must be one of {}", ARTIFACT_KINDS.join(", "))));
        }
        name_ok(&self.name)?;
        let m = &self.metadata;
        for (field, v) in [("source_uri", &m.source_uri), ("licence", &m.licence)] {
            if let Some(v) = v {
                text_ok(field, v, 2000)?;
            }
        }
        if let Some(card) = &m.model_card {
            text_ok("model_card", card, 200_000)?;
        }
        if m.expires_at.is_some_and(|e| e <= ctx.now().0) {
            return Err(AppError::Invalid("`expires_at` is in the past".into()));
        }
        if let Some(d) = &m.dataset {
            let id = warden_core::DatasetId::parse(d).map_err(|e| AppError::Invalid(format!("`dataset`: {e}")))?;
            let held = ctx.store().get_dataset(&id).await?.is_some_and(|d| d.project.as_ref() == Some(&self.project));
            if !held {
                return Err(AppError::Invalid(format!("`dataset`: {d} is not a dataset of this project")));
            }
        }
        ctx.store()
            .get_project(&self.project)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project `{}`", self.project)))?;
        let manifest = match (self.kind.as_str(), &self.image) {
            ("container-image", Some(image)) if self.files.is_empty() => {
                warden_intake::manifest::Manifest::image(image)
            }
            ("container-image", _) => {
                return Err(AppError::Invalid(
                    "a container-image artifact names `image` by digest and has no files".into(),
                ))
            }
            (_, Some(_)) => return Err(AppError::Invalid("`image` is only for container-image artifacts".into())),
            (_, None) => warden_intake::manifest::Manifest::new(self.files),
        }
        .map_err(|e| AppError::Invalid(e.to_string()))?;
        for f in &manifest.files {
            match ctx.store().project_blob(&self.project, &f.digest).await? {
                Some(size) if size == f.size => {}
                Some(size) => {
                    return Err(AppError::Invalid(format!(
                        "file `{}`: declared {} bytes, the blob has {size}",
                        f.path, f.size
                    )))
                }
                None => {
                    return Err(AppError::Invalid(format!(
                        "file `{}`: blob {} was not uploaded to this project",
                        f.path, f.digest
                    )))
                }
            }
        }
        // Scan each file from a private spool copy; nothing is ever loaded.
        let spool = ctx.app.blobs().spool_dir()?;
        let mut reasons = Vec::new();
        let mut scans = serde_json::Map::new();
        for (i, f) in manifest.files.iter().enumerate() {
            let digest = warden_blob::Digest::parse(&f.digest)?;
            let name = format!("{i}-{}", f.path.rsplit('/').next().unwrap_or("file"));
            let local = spool.copy(ctx.app.blobs(), &digest, &name).await?;
            let report = tokio::task::spawn_blocking(move || {
                warden_intake::scan_file(&local, &warden_intake::Limits::default())
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(format!("scan of `{}`: {e}", f.path)))?;
            if report.verdict == warden_intake::Verdict::Unsafe {
                reasons.extend(report.reasons.iter().map(|r| format!("{}: {r}", f.path)));
            }
            scans.insert(f.path.clone(), serde_json::to_value(&report).unwrap_or_default());
        }
        // Signatures: each must verify with a signer trusted for this project now.
        let now = ctx.now();
        let canonical = manifest.canonical();
        let trusted: Vec<_> = ctx
            .store()
            .list_signers(Some(&self.project))
            .await?
            .into_iter()
            .filter(|x| x.trusted_for(&self.project, now))
            .collect();
        let mut signatures = Vec::new();
        for sig in &self.signatures {
            let candidates: Vec<_> =
                trusted.iter().filter(|x| sig.signer.as_ref().is_none_or(|id| *id == x.id)).collect();
            let verified = candidates.iter().find(|x| {
                warden_intake::signature::Algorithm::parse(&x.algorithm)
                    .and_then(|a| warden_intake::signature::PublicKey::from_pem(a, &x.public_key).ok())
                    .is_some_and(|k| k.verify(canonical.as_bytes(), &sig.signature).is_ok())
            });
            match verified {
                Some(x) => signatures.push(
                    serde_json::json!({"signer": x.id, "name": x.name, "algorithm": x.algorithm, "verified": true}),
                ),
                None => {
                    let who = sig.signer.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "any trusted signer".into());
                    reasons.push(format!("manifest signature does not verify with {who} (unknown, untrusted, expired or revoked key, or wrong signature)"));
                    signatures.push(serde_json::json!({"signer": sig.signer, "verified": false}));
                }
            }
        }
        let mut model_signing = serde_json::Value::Null;
        if let Some(bundle) = &self.model_signing_bundle {
            let keys: Vec<(usize, warden_intake::signature::PublicKey)> = trusted
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    warden_intake::signature::Algorithm::parse(&x.algorithm)
                        .and_then(|a| warden_intake::signature::PublicKey::from_pem(a, &x.public_key).ok())
                        .map(|k| (i, k))
                })
                .collect();
            let only_keys: Vec<_> = keys.iter().map(|(_, k)| k.clone()).collect();
            match warden_intake::model_signing::verify(bundle, &only_keys) {
                Ok(signed) => {
                    let problems = warden_intake::model_signing::compare(&signed, &manifest);
                    let signer = keys.get(signed.key).and_then(|(i, _)| trusted.get(*i));
                    model_signing = serde_json::json!({
                        "verified": problems.is_empty(),
                        "signer": signer.map(|x| x.id.to_string()),
                        "signer_name": signer.map(|x| x.name.clone()),
                        "subject": signed.subject,
                        "files": signed.files.len(),
                        "problems": problems,
                    });
                    reasons.extend(problems.into_iter().map(|p| format!("model-signing bundle: {p}")));
                }
                Err(e) => {
                    model_signing = serde_json::json!({"verified": false, "error": e.to_string()});
                    reasons.push(format!("model-signing bundle: {e}"));
                }
            }
        }
        let verdict = if reasons.is_empty() { "admitted" } else { "rejected" };
        let record = warden_store::ArtifactRecord {
            id: warden_core::ArtifactId::generate(now.0),
            project: self.project,
            kind: self.kind,
            name: self.name,
            manifest: manifest.canonical(),
            manifest_digest: manifest.digest(),
            total_size: manifest.total_size(),
            verdict: verdict.into(),
            evidence: serde_json::json!({
                "reasons": reasons,
                "scans": scans,
                "signatures": signatures,
                "model_signing": model_signing,
                "metadata": m,
            }),
            expires_at: m.expires_at.map(Timestamp),
            created_by: ctx.principal.id.clone(),
            created_at: now,
        };
        ctx.store().create_artifact(&record).await?;
        if verdict == "rejected" {
            return Err(AppError::Invalid(format!("intake rejected artifact {}: {}", record.id, reasons.join("; "))));
        }
        Ok(record)
    }
}

pub struct GetArtifact {
    pub project: ProjectId,
    pub id: warden_core::ArtifactId,
}

impl Operation for GetArtifact {
    type Output = warden_store::ArtifactRecord;
    const ACTION: Action = Action::ArtifactRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        ctx.store()
            .get_artifact(&self.project, &self.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("artifact `{}`", self.id)))
    }
}

/// Registers an admitted, unexpired artifact as the next version of a model (created on
/// its first version), with the training runs and datasets it came from when known.
/// Versions are immutable.
pub struct AddModelVersion {
    pub project: ProjectId,
    pub model: String,
    pub artifact: warden_core::ArtifactId,
    pub lineage: warden_store::VersionLineage,
}

/// Most runs or datasets one version may name, and the longest reference.
const MAX_LINEAGE: usize = 64;
const MAX_REFERENCE: usize = 512;

fn lineage_ok(l: &mut warden_store::VersionLineage) -> Result<(), AppError> {
    for (field, refs) in [("runs", &mut l.runs), ("datasets", &mut l.datasets), ("data_classes", &mut l.data_classes)] {
        if refs.len() > MAX_LINEAGE {
            return Err(AppError::Invalid(format!("`{field}` names more than {MAX_LINEAGE} references")));
        }
        for r in refs.iter() {
            if r.trim().is_empty() {
                return Err(AppError::Invalid(format!("`{field}` holds an empty reference")));
            }
            text_ok(field, r, MAX_REFERENCE)?;
        }
        refs.sort();
        refs.dedup();
    }
    Ok(())
}

impl Operation for AddModelVersion {
    type Output = (warden_store::ModelRecord, warden_store::ModelVersionRecord, warden_store::ArtifactRecord);
    const ACTION: Action = Action::ModelVersionCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(mut self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        name_ok(&self.model)?;
        lineage_ok(&mut self.lineage)?;
        ctx.app.policy().await.classes_declared(&self.lineage.data_classes)?;
        let a = ctx
            .store()
            .get_artifact(&self.project, &self.artifact)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("artifact `{}`", self.artifact)))?;
        if a.verdict != "admitted" {
            return Err(AppError::Invalid(format!("artifact {} was rejected at intake", a.id)));
        }
        if a.expires_at.is_some_and(|e| e <= ctx.now()) {
            return Err(AppError::Invalid(format!("artifact {} has expired", a.id)));
        }
        // Datasets are named by id or NAMESPACE/NAME and recorded as NAMESPACE/NAME.
        let datasets = crate::named_data::resolve_datasets(ctx.app, &self.project, &self.lineage.datasets).await?;
        self.lineage.datasets = datasets.iter().map(|d| format!("{}/{}", d.namespace, d.name)).collect();
        self.lineage.datasets.sort();
        self.lineage.datasets.dedup();
        // Held data (quarantined, or awaiting deletion) trains nothing new.
        let nodes: Vec<String> = datasets.iter().map(|d| warden_lineage::dataset_node(&d.namespace, &d.name)).collect();
        ctx.app.refuse_held(&nodes, "register a version trained on held data").await?;
        let now = ctx.now();
        let model = ctx
            .store()
            .ensure_model(&warden_store::ModelRecord {
                id: warden_core::ModelId::generate(now.0),
                project: self.project,
                name: self.model,
                created_by: ctx.principal.id.clone(),
                created_at: now,
            })
            .await?;
        // Two concurrent registrations may pick the same number; the loser retries.
        let mut tries = 0;
        loop {
            match ctx.store().add_model_version(&model.id, &a.id, &self.lineage, &ctx.principal.id, now).await {
                Ok(v) => {
                    crate::named_data::link_version(ctx.app, &model.id, v.version, &self.lineage.runs, &datasets)
                        .await?;
                    return Ok((model, v, a));
                }
                Err(warden_store::StoreError::Conflict(_)) if tries < 3 => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The version registered, what it was made from and the artifact it rests on.
    fn recorded((m, v, a): &Self::Output) -> serde_json::Value {
        serde_json::json!({"model": m.id, "name": m.name, "version": v.version, "artifact": a.id,
            "datasets": v.lineage.datasets, "runs": v.lineage.runs, "declared_classes": v.lineage.data_classes})
    }

    fn recorded_resource((m, v, _): &Self::Output) -> Option<warden_audit::ResourceRef> {
        Some(crate::evidence::version_resource(&m.id, v.version))
    }
}

/// One version as a reader sees it: its artifact, the aliases pointing at it and its tags.
#[derive(Debug, Clone)]
pub struct VersionView {
    pub version: warden_store::ModelVersionRecord,
    pub artifact: warden_store::ArtifactRecord,
    pub aliases: Vec<String>,
    pub tags: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ModelView {
    pub model: warden_store::ModelRecord,
    pub versions: Vec<VersionView>,
}

async fn model_named(
    ctx: &Authorized<'_>,
    project: &ProjectId,
    name: &str,
) -> Result<warden_store::ModelRecord, AppError> {
    ctx.store().get_model(project, name).await?.ok_or_else(|| AppError::NotFound(format!("model `{name}`")))
}

/// Every version of a model with its artifact, aliases and tags.
async fn model_view(ctx: &Authorized<'_>, m: warden_store::ModelRecord) -> Result<ModelView, AppError> {
    let aliases = ctx.store().list_model_aliases(&m.id).await?;
    let tags = ctx.store().list_model_tags(&m.id).await?;
    let mut versions = Vec::new();
    for v in ctx.store().list_model_versions(&m.id).await? {
        let artifact = ctx
            .store()
            .get_artifact(&m.project, &v.artifact)
            .await?
            .ok_or_else(|| AppError::Internal(format!("version {} names a missing artifact", v.version)))?;
        versions.push(VersionView {
            aliases: aliases.iter().filter(|a| a.version == v.version).map(|a| a.alias.clone()).collect(),
            tags: tags.iter().filter(|t| t.version == v.version).map(|t| (t.key.clone(), t.value.clone())).collect(),
            artifact,
            version: v,
        });
    }
    Ok(ModelView { model: m, versions })
}

/// A model with its versions and each version's artifact.
pub struct GetModel {
    pub project: ProjectId,
    pub name: String,
}

impl Operation for GetModel {
    type Output = ModelView;
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let m = model_named(&ctx, &self.project, &self.name).await?;
        model_view(&ctx, m).await
    }
}

/// The computed alias every model has: its highest version.
pub const LATEST: &str = "latest";

/// One version, named by number, by alias, or `latest`.
pub struct GetModelVersion {
    pub project: ProjectId,
    pub name: String,
    pub reference: String,
}

impl Operation for GetModelVersion {
    type Output = (warden_store::ModelRecord, VersionView);
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        let m = model_named(&ctx, &self.project, &self.name).await?;
        let view = model_view(&ctx, m).await?;
        let found = if let Ok(n) = self.reference.parse::<u64>() {
            view.versions.into_iter().find(|v| v.version.version == n)
        } else if self.reference == LATEST {
            view.versions.into_iter().next_back()
        } else {
            view.versions.into_iter().find(|v| v.aliases.contains(&self.reference))
        };
        let v = found.ok_or_else(|| {
            AppError::NotFound(format!("model `{}` has no version or alias `{}`", self.name, self.reference))
        })?;
        Ok((view.model, v))
    }
}

/// Alias names: a lowercase letter, then lowercase letters, digits, `-` and `_`; never
/// all digits (those are version numbers) and never `latest` (computed).
fn alias_ok(alias: &str) -> Result<(), AppError> {
    let mut chars = alias.chars();
    let good = alias.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !good {
        return Err(AppError::Invalid(format!(
            "alias `{alias}`: use 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter"
        )));
    }
    if alias == LATEST {
        return Err(AppError::Invalid("`latest` always means the highest version; it cannot be set".into()));
    }
    Ok(())
}

/// Points an alias at a version, or removes it (`version: None`).
pub struct SetModelAlias {
    pub project: ProjectId,
    pub model: String,
    pub alias: String,
    pub version: Option<u64>,
}

impl Operation for SetModelAlias {
    type Output = Option<warden_store::ModelAliasRecord>;
    const ACTION: Action = Action::ModelAliasSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        alias_ok(&self.alias)?;
        let m = model_named(&ctx, &self.project, &self.model).await?;
        let Some(version) = self.version else {
            if !ctx.store().delete_model_alias(&m.id, &self.alias).await? {
                return Err(AppError::NotFound(format!("alias `{}` of model `{}`", self.alias, self.model)));
            }
            return Ok(None);
        };
        if !ctx.store().list_model_versions(&m.id).await?.iter().any(|v| v.version == version) {
            return Err(AppError::NotFound(format!("version {version} of model `{}`", self.model)));
        }
        let record = warden_store::ModelAliasRecord {
            alias: self.alias,
            version,
            updated_by: ctx.principal.id.clone(),
            updated_at: ctx.now(),
        };
        ctx.store().set_model_alias(&m.id, &record).await?;
        Ok(Some(record))
    }
}

fn tag_ok(key: &str, value: Option<&str>) -> Result<(), AppError> {
    let good =
        !key.is_empty() && key.len() <= 128 && key.chars().all(|c| c.is_ascii_alphanumeric() || "_.-:/".contains(c));
    if !good {
        return Err(AppError::Invalid(format!(
            "tag key `{key}`: use 1 to 128 letters, digits, `_`, `.`, `-`, `:` or `/`"
        )));
    }
    if let Some(v) = value {
        text_ok("value", v, 1024)?;
    }
    Ok(())
}

/// Sets a tag on a version, or removes it (`value: None`).
pub struct SetModelTag {
    pub project: ProjectId,
    pub model: String,
    pub version: u64,
    pub key: String,
    pub value: Option<String>,
}

impl Operation for SetModelTag {
    type Output = Option<warden_store::ModelTagRecord>;
    const ACTION: Action = Action::ModelTagSet;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        tag_ok(&self.key, self.value.as_deref())?;
        let m = model_named(&ctx, &self.project, &self.model).await?;
        let Some(value) = self.value else {
            if !ctx.store().delete_model_tag(&m.id, self.version, &self.key).await? {
                return Err(AppError::NotFound(format!(
                    "tag `{}` on version {} of model `{}`",
                    self.key, self.version, self.model
                )));
            }
            return Ok(None);
        };
        if !ctx.store().list_model_versions(&m.id).await?.iter().any(|v| v.version == self.version) {
            return Err(AppError::NotFound(format!("version {} of model `{}`", self.version, self.model)));
        }
        let record = warden_store::ModelTagRecord {
            version: self.version,
            key: self.key,
            value,
            updated_by: ctx.principal.id.clone(),
            updated_at: ctx.now(),
        };
        ctx.store().set_model_tag(&m.id, &record).await?;
        Ok(Some(record))
    }
}

pub struct ListModels {
    pub project: ProjectId,
    pub page: Page,
}

impl Operation for ListModels {
    type Output = Vec<warden_store::ModelRecord>;
    const ACTION: Action = Action::ModelRead;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::of(Resource::Project(self.project.clone())))
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_models(&self.project, &self.page).await?)
    }
}

// ---------------------------------------------------------------- trusted signers

pub struct CreateSigner {
    pub name: String,
    pub algorithm: String,
    pub public_key: String,
    pub project: Option<ProjectId>,
    pub not_before: Option<Timestamp>,
    pub not_after: Option<Timestamp>,
}

impl Operation for CreateSigner {
    type Output = warden_store::SignerRecord;
    const ACTION: Action = Action::SignerCreate;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        name_ok(&self.name)?;
        let alg = warden_intake::signature::Algorithm::parse(&self.algorithm)
            .ok_or_else(|| AppError::Invalid("`algorithm` must be ed25519, ecdsa-p256 or ecdsa-p384".into()))?;
        warden_intake::signature::PublicKey::from_pem(alg, &self.public_key)
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        if let (Some(a), Some(b)) = (self.not_before, self.not_after) {
            if b <= a {
                return Err(AppError::Invalid("`not_after` must be later than `not_before`".into()));
            }
        }
        if let Some(p) = &self.project {
            ctx.store().get_project(p).await?.ok_or_else(|| AppError::NotFound(format!("project `{p}`")))?;
        }
        let now = ctx.now();
        let record = warden_store::SignerRecord {
            id: warden_core::SignerId::generate(now.0),
            project: self.project,
            name: self.name,
            algorithm: alg.as_str().into(),
            public_key: self.public_key,
            not_before: self.not_before,
            not_after: self.not_after,
            revoked_at: None,
            created_by: ctx.principal.id.clone(),
            created_at: now,
        };
        ctx.store().create_signer(&record).await?;
        Ok(record)
    }
}

pub struct ListSigners {
    pub project: Option<ProjectId>,
}

impl Operation for ListSigners {
    type Output = Vec<warden_store::SignerRecord>;
    const ACTION: Action = Action::SignerList;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<Self::Output, AppError> {
        Ok(ctx.store().list_signers(self.project.as_ref()).await?)
    }
}

pub struct RevokeSigner {
    pub id: warden_core::SignerId,
}

impl Operation for RevokeSigner {
    type Output = ();
    const ACTION: Action = Action::SignerRevoke;
    async fn target(&self, _: &App, _: &Principal) -> Result<Target, AppError> {
        Ok(Target::organisation())
    }
    async fn execute(self, ctx: Authorized<'_>) -> Result<(), AppError> {
        if !ctx.store().revoke_signer(&self.id, ctx.now()).await? {
            return Err(AppError::NotFound(format!("unrevoked signer `{}`", self.id)));
        }
        Ok(())
    }
}
