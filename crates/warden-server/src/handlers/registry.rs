//! The registry: blobs and uploads, intake, models, trusted signers.

use super::*;

// ---------------------------------------------------------------- blobs

fn digest(field: &str, s: &str) -> Result<warden_blob::Digest> {
    warden_blob::Digest::parse(s).map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`{field}`: {e}")))
}

/// Streams content into the project's content-addressed store. The body is hashed as
/// it arrives; unless its SHA-256 equals `digest`, nothing is stored.
#[utoipa::path(put, path = "/api/v1/projects/{id}/blobs/{digest}", tag = "artifacts",
    params(("id" = String, Path), ("digest" = String, Path, description = "sha256:<64 hex>")),
    request_body(content = String, content_type = "application/octet-stream", description = "The content"),
    responses((status = 201, body = api::BlobStored), Problems))]
pub async fn upload_blob(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, d)): Path<(String, String)>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<api::BlobStored>)> {
    use futures_util::TryStreamExt;
    let project = c::project_id("id", &id)?;
    let digest = digest("digest", &d)?;
    let stream = body.into_data_stream().map_err(|e| std::io::Error::other(e.to_string()));
    let op = ops::UploadBlob { project, digest, body: std::sync::Mutex::new(Box::new(stream)) };
    let stored = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(api::BlobStored { digest: stored.digest.to_string(), size: stored.size, created: stored.created }),
    ))
}

fn upload_id(field: &str, s: &str) -> Result<warden_core::UploadId> {
    warden_core::UploadId::parse(s).map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`{field}`: {e}")))
}

fn upload_view(u: warden_store::UploadRecord) -> api::Upload {
    api::Upload {
        id: u.id.to_string(),
        project: u.project.to_string(),
        offset: u.size,
        expires_at: c::time(u.expires_at),
    }
}

/// Starts a chunked upload for content too large to send in one request. Send parts
/// with PATCH at the session's `offset`; after an interruption, GET the session for
/// the offset to resume from; finish with PUT and the whole content's digest.
#[utoipa::path(post, path = "/api/v1/projects/{id}/uploads", tag = "artifacts", params(("id" = String, Path)),
    responses((status = 201, body = api::Upload), Problems))]
pub async fn create_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<api::Upload>)> {
    let op = ops::CreateUpload { project: c::project_id("id", &id)? };
    let u = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(upload_view(u))))
}

/// An upload session: how many bytes it holds, so a client knows where to resume.
#[utoipa::path(get, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path)),
    responses((status = 200, body = api::Upload), Problems))]
pub async fn get_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
) -> Result<Json<api::Upload>> {
    let op = ops::GetUpload { project: c::project_id("id", &id)?, id: upload_id("upload", &upload)? };
    Ok(Json(upload_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Appends the body as the part starting at `offset` (the session's current size, or
/// 409 naming it). A part cut off mid-way is discarded whole.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path), api::UploadPartQuery),
    request_body(content = String, content_type = "application/octet-stream", description = "The part"),
    responses((status = 200, body = api::Upload), Problems))]
pub async fn append_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
    Query(q): Query<api::UploadPartQuery>,
    body: axum::body::Body,
) -> Result<Json<api::Upload>> {
    use futures_util::TryStreamExt;
    let stream = body.into_data_stream().map_err(|e| std::io::Error::other(e.to_string()));
    let op = ops::AppendUpload {
        project: c::project_id("id", &id)?,
        id: upload_id("upload", &upload)?,
        offset: q.offset,
        body: std::sync::Mutex::new(Box::new(stream)),
    };
    Ok(Json(upload_view(s.app.dispatch(&caller.principal, &caller.meta, op).await?)))
}

/// Completes an upload: the parts become one blob if, and only if, the whole content's
/// SHA-256 is `digest`. The session ends either way.
#[utoipa::path(put, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path), api::CompleteUploadQuery),
    responses((status = 201, body = api::BlobStored), Problems))]
pub async fn complete_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
    Query(q): Query<api::CompleteUploadQuery>,
) -> Result<(StatusCode, Json<api::BlobStored>)> {
    let op = ops::CompleteUpload {
        project: c::project_id("id", &id)?,
        id: upload_id("upload", &upload)?,
        digest: digest("digest", &q.digest)?,
    };
    let stored = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(api::BlobStored { digest: stored.digest.to_string(), size: stored.size, created: stored.created }),
    ))
}

/// Abandons an upload and deletes what it received.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/uploads/{upload}", tag = "artifacts",
    params(("id" = String, Path), ("upload" = String, Path)),
    responses((status = 204), Problems))]
pub async fn abort_upload(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, upload)): Path<(String, String)>,
) -> Result<StatusCode> {
    let op = ops::AbortUpload { project: c::project_id("id", &id)?, id: upload_id("upload", &upload)? };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams a blob the project holds. Every read is recorded.
#[utoipa::path(get, path = "/api/v1/projects/{id}/blobs/{digest}", tag = "artifacts",
    params(("id" = String, Path), ("digest" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = String), Problems))]
pub async fn download_blob(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, d)): Path<(String, String)>,
) -> Result<axum::response::Response> {
    let project = c::project_id("id", &id)?;
    let digest = digest("digest", &d)?;
    let (size, stream) = s.app.dispatch(&caller.principal, &caller.meta, ops::ReadBlob { project, digest }).await?;
    let mut res = axum::body::Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/octet-stream"));
    h.insert(axum::http::header::CONTENT_LENGTH, axum::http::HeaderValue::from(size));
    if let Ok(v) = axum::http::HeaderValue::from_str(&digest.to_string()) {
        h.insert("docker-content-digest", v);
    }
    Ok(res)
}

// ---------------------------------------------------------------- intake and registry

/// Intake: records an artifact made of blobs already uploaded to the project. Every
/// file is scanned without being executed; unsafe content is rejected (422) and the
/// rejection recorded.
#[utoipa::path(post, path = "/api/v1/projects/{id}/artifacts", tag = "artifacts", params(("id" = String, Path)),
    request_body = api::CreateArtifactRequest, responses((status = 201, body = api::Artifact), Problems))]
pub async fn create_artifact(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(req): Body<api::CreateArtifactRequest>,
) -> Result<(StatusCode, Json<api::Artifact>)> {
    let project = c::project_id("id", &id)?;
    let metadata = ops::ArtifactMetadata {
        source_uri: req.source_uri,
        licence: req.licence,
        model_card: req.model_card,
        permitted_zones: req.permitted_zones,
        review_at: req.review_date.as_deref().map(|t| c::body_time("review_date", t)).transpose()?.map(|t| t.0),
        expires_at: req.expiry_date.as_deref().map(|t| c::body_time("expiry_date", t)).transpose()?.map(|t| t.0),
        dataset: req.dataset,
    };
    let files = req
        .files
        .into_iter()
        .map(|f| warden_intake::manifest::FileEntry { path: f.path, digest: f.digest, size: f.size })
        .collect();
    let signatures =
        req.signatures
            .into_iter()
            .map(|x| {
                let signer =
                    x.signer.as_deref().map(warden_core::SignerId::parse).transpose().map_err(|e| {
                        ApiError::new(ProblemType::ValidationFailed, format!("`signatures.signer`: {e}"))
                    })?;
                Ok(ops::ManifestSignature { signer, signature: x.signature })
            })
            .collect::<Result<Vec<_>>>()?;
    let model_signing_bundle = req.model_signing_bundle.map(|b| b.to_string().into_bytes());
    let op = ops::CreateArtifact {
        project,
        kind: req.kind,
        name: req.name,
        files,
        image: req.image,
        metadata,
        signatures,
        model_signing_bundle,
    };
    let a = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::artifact(a))))
}

/// One intake record with its evidence.
#[utoipa::path(get, path = "/api/v1/projects/{id}/artifacts/{artifact}", tag = "artifacts",
    params(("id" = String, Path), ("artifact" = String, Path)), responses((status = 200, body = api::Artifact), Problems))]
pub async fn get_artifact(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, artifact)): Path<(String, String)>,
) -> Result<Json<api::Artifact>> {
    let project = c::project_id("id", &id)?;
    let id = warden_core::ArtifactId::parse(&artifact)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`artifact`: {e}")))?;
    let a = s.app.dispatch(&caller.principal, &caller.meta, ops::GetArtifact { project, id }).await?;
    Ok(Json(c::artifact(a)))
}

/// Registers an admitted artifact as the next version of a model.
#[utoipa::path(post, path = "/api/v1/projects/{id}/models/{name}/versions", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path)), request_body = api::CreateModelVersionRequest,
    responses((status = 201, body = api::ModelVersion), Problems))]
pub async fn create_model_version(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    Body(req): Body<api::CreateModelVersionRequest>,
) -> Result<(StatusCode, Json<api::ModelVersion>)> {
    let project = c::project_id("id", &id)?;
    let artifact = warden_core::ArtifactId::parse(&req.artifact)
        .map_err(|e| ApiError::new(ProblemType::ValidationFailed, format!("`artifact`: {e}")))?;
    let lineage =
        warden_store::VersionLineage { runs: req.runs, datasets: req.datasets, data_classes: req.data_classes };
    let op = ops::AddModelVersion { project, model: name, artifact, lineage };
    let (m, version, artifact) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let view = ops::VersionView { version, artifact, aliases: Vec::new(), tags: Default::default() };
    Ok((StatusCode::CREATED, Json(c::model_version(&m, view))))
}

/// One version of a model, named by number, by alias, or `latest`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models/{name}/versions/{version}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path),
        ("version" = String, Path, description = "a version number, an alias, or `latest`")),
    responses((status = 200, body = api::ModelVersion), Problems))]
pub async fn get_model_version(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name, reference)): Path<(String, String, String)>,
) -> Result<Json<api::ModelVersion>> {
    let op = ops::GetModelVersion { project: c::project_id("id", &id)?, name, reference };
    let (m, v) = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(Json(c::model_version(&m, v)))
}

/// Points an alias (`champion`, `production`, …) at a version of the model.
#[utoipa::path(put, path = "/api/v1/projects/{id}/models/{name}/aliases/{alias}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("alias" = String, Path)),
    request_body = api::SetModelAliasRequest,
    responses((status = 200, body = api::ModelAlias), Problems))]
pub async fn set_model_alias(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, alias)): Path<(String, String, String)>,
    Body(req): Body<api::SetModelAliasRequest>,
) -> Result<Json<api::ModelAlias>> {
    let op = ops::SetModelAlias { project: c::project_id("id", &id)?, model, alias, version: Some(req.version) };
    let name = op.model.clone();
    let record = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let record = record.ok_or_else(|| ApiError::new(ProblemType::Internal, "the alias was not recorded"))?;
    Ok(Json(c::model_alias(&name, record)))
}

/// Removes an alias.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/models/{name}/aliases/{alias}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("alias" = String, Path)),
    responses((status = 204), Problems))]
pub async fn delete_model_alias(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, alias)): Path<(String, String, String)>,
) -> Result<StatusCode> {
    let op = ops::SetModelAlias { project: c::project_id("id", &id)?, model, alias, version: None };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a tag on a version of the model.
#[utoipa::path(put, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/tags/{key}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path), ("key" = String, Path)),
    request_body = api::SetModelTagRequest,
    responses((status = 200, body = api::ModelTag), Problems))]
pub async fn set_model_tag(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, version, key)): Path<(String, String, String, String)>,
    Body(req): Body<api::SetModelTagRequest>,
) -> Result<Json<api::ModelTag>> {
    let version = c::version_number("version", &version)?;
    let op = ops::SetModelTag { project: c::project_id("id", &id)?, model, version, key, value: Some(req.value) };
    let name = op.model.clone();
    let record = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    let record = record.ok_or_else(|| ApiError::new(ProblemType::Internal, "the tag was not recorded"))?;
    Ok(Json(c::model_tag(&name, record)))
}

/// Removes a tag from a version.
#[utoipa::path(delete, path = "/api/v1/projects/{id}/models/{name}/versions/{version}/tags/{key}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path), ("version" = u64, Path), ("key" = String, Path)),
    responses((status = 204), Problems))]
pub async fn delete_model_tag(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, model, version, key)): Path<(String, String, String, String)>,
) -> Result<StatusCode> {
    let version = c::version_number("version", &version)?;
    let op = ops::SetModelTag { project: c::project_id("id", &id)?, model, version, key, value: None };
    s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Models of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models", tag = "artifacts", params(("id" = String, Path), api::PageQuery),
    responses((status = 200, body = api::Paged<api::Model>), Problems))]
pub async fn list_models(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<api::PageQuery>,
) -> Result<Json<api::Paged<api::Model>>> {
    let project = c::project_id("id", &id)?;
    let page = c::page(q.cursor, q.limit)?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListModels { project, page: page.clone() }).await?;
    Ok(Json(c::paged(rows, &page, |m| m.id.to_string(), |m| c::model(&m))))
}

/// A model with every version and its artifact.
#[utoipa::path(get, path = "/api/v1/projects/{id}/models/{name}", tag = "artifacts",
    params(("id" = String, Path), ("name" = String, Path)), responses((status = 200, body = api::Model), Problems))]
pub async fn get_model(
    State(s): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<api::Model>> {
    let project = c::project_id("id", &id)?;
    let view = s.app.dispatch(&caller.principal, &caller.meta, ops::GetModel { project, name }).await?;
    let mut out = c::model(&view.model);
    out.versions = Some(view.versions.into_iter().map(|v| c::model_version(&view.model, v)).collect());
    Ok(Json(out))
}

// ---------------------------------------------------------------- trusted signers

/// Registers a public key whose manifest signatures intake trusts.
#[utoipa::path(post, path = "/api/v1/signers", tag = "artifacts", request_body = api::CreateSignerRequest,
    responses((status = 201, body = api::Signer), Problems))]
pub async fn create_signer(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<api::CreateSignerRequest>,
) -> Result<(StatusCode, Json<api::Signer>)> {
    let op = ops::CreateSigner {
        name: req.name,
        algorithm: req.algorithm,
        public_key: req.public_key,
        project: req.project.as_deref().map(|p| c::body_project("project", p)).transpose()?,
        not_before: req.not_before.as_deref().map(|t| c::body_time("not_before", t)).transpose()?,
        not_after: req.not_after.as_deref().map(|t| c::body_time("not_after", t)).transpose()?,
    };
    let x = s.app.dispatch(&caller.principal, &caller.meta, op).await?;
    Ok((StatusCode::CREATED, Json(c::signer(x))))
}

/// Trusted signers: organisation-wide, plus a project's when asked.
#[utoipa::path(get, path = "/api/v1/signers", tag = "artifacts", params(api::SignerQuery),
    responses((status = 200, body = [api::Signer]), Problems))]
pub async fn list_signers(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<api::SignerQuery>,
) -> Result<Json<Vec<api::Signer>>> {
    let project = q.project.as_deref().map(|p| c::project_id("project", p)).transpose()?;
    let rows = s.app.dispatch(&caller.principal, &caller.meta, ops::ListSigners { project }).await?;
    Ok(Json(rows.into_iter().map(c::signer).collect()))
}

/// Revokes a signer: its signatures stop being accepted from now on.
#[utoipa::path(post, path = "/api/v1/signers/{id}/revoke", tag = "artifacts", params(("id" = String, Path)),
    responses((status = 204), Problems))]
pub async fn revoke_signer(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let id = warden_core::SignerId::parse(&id)
        .map_err(|e| ApiError::new(ProblemType::InvalidParameter, format!("`id`: {e}")))?;
    s.app.dispatch(&caller.principal, &caller.meta, ops::RevokeSigner { id }).await?;
    Ok(StatusCode::NO_CONTENT)
}
