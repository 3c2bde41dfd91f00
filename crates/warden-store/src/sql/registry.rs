use super::*;

const ARTIFACT_COLS: &str = "id, project_id, kind, name, manifest, manifest_digest, total_size, verdict, \
     evidence, expires_at, created_by, created_at";

fn artifact(row: &dyn Columns) -> Result<ArtifactRecord> {
    let id: String = row.col("id")?;
    let project: String = row.col("project_id")?;
    let by: String = row.col("created_by")?;
    let size: i64 = row.col("total_size")?;
    let evidence: String = row.col("evidence")?;
    Ok(ArtifactRecord {
        id: ArtifactId::parse(&id).map_err(|e| bad("artifact", e))?,
        project: ProjectId::parse(&project).map_err(|e| bad("artifact", e))?,
        kind: row.col("kind")?,
        name: row.col("name")?,
        manifest: row.col("manifest")?,
        manifest_digest: row.col("manifest_digest")?,
        total_size: u64::try_from(size).map_err(|e| bad("artifact", e))?,
        verdict: row.col("verdict")?,
        evidence: serde_json::from_str(&evidence).map_err(|e| bad("artifact", e))?,
        expires_at: row.col("expires_at")?,
        created_by: SubjectId::parse(&by).map_err(|e| bad("artifact", e))?,
        created_at: row.col("created_at")?,
    })
}

fn model(row: &dyn Columns) -> Result<ModelRecord> {
    let id: String = row.col("id")?;
    let project: String = row.col("project_id")?;
    let by: String = row.col("created_by")?;
    Ok(ModelRecord {
        id: ModelId::parse(&id).map_err(|e| bad("model", e))?,
        project: ProjectId::parse(&project).map_err(|e| bad("model", e))?,
        name: row.col("name")?,
        created_by: SubjectId::parse(&by).map_err(|e| bad("model", e))?,
        created_at: row.col("created_at")?,
    })
}

const VERSION_COLS: &str = "model_id, version, artifact_id, lineage, created_by, created_at";

fn model_version(row: &dyn Columns) -> Result<ModelVersionRecord> {
    let model: String = row.col("model_id")?;
    let artifact: String = row.col("artifact_id")?;
    let by: String = row.col("created_by")?;
    let version: i64 = row.col("version")?;
    Ok(ModelVersionRecord {
        model: ModelId::parse(&model).map_err(|e| bad("model version", e))?,
        version: u64::try_from(version).map_err(|e| bad("model version", e))?,
        artifact: ArtifactId::parse(&artifact).map_err(|e| bad("model version", e))?,
        lineage: serde_json::from_str(&row.col::<String>("lineage")?).map_err(|e| bad("model version", e))?,
        created_by: SubjectId::parse(&by).map_err(|e| bad("model version", e))?,
        created_at: row.col("created_at")?,
    })
}

const SIGNER_COLS: &str =
    "id, project_id, name, algorithm, public_key, not_before, not_after, revoked_at, created_by, created_at";

fn signer(row: &dyn Columns) -> Result<SignerRecord> {
    let id: String = row.col("id")?;
    let project: Option<String> = row.col("project_id")?;
    let by: String = row.col("created_by")?;
    Ok(SignerRecord {
        id: SignerId::parse(&id).map_err(|e| bad("signer", e))?,
        project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad("signer", e))?,
        name: row.col("name")?,
        algorithm: row.col("algorithm")?,
        public_key: row.col("public_key")?,
        not_before: row.col("not_before")?,
        not_after: row.col("not_after")?,
        revoked_at: row.col("revoked_at")?,
        created_by: SubjectId::parse(&by).map_err(|e| bad("signer", e))?,
        created_at: row.col("created_at")?,
    })
}

#[async_trait]
impl<E, DB> crate::RegistryStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn record_blob(
        &self,
        project: &ProjectId,
        digest: &str,
        size: u64,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query::<DB>(
            "INSERT INTO blobs (digest, size, created_at, created_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .arg(digest)
        .arg(i64_of(size)?)
        .arg(at.0)
        .arg(by.as_str())
        .run(&mut *tx)
        .await
        .map_err(map_err("blob"))?;
        sqlx::query::<DB>(
            "INSERT INTO project_blobs (project_id, digest, added_at, added_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project_id, digest) DO NOTHING",
        )
        .arg(project.as_str())
        .arg(digest)
        .arg(at.0)
        .arg(by.as_str())
        .run(&mut *tx)
        .await
        .map_err(map_err("project blob"))?;
        tx.commit().await.map_err(map_err("blob"))?;
        Ok(())
    }

    async fn project_blob(&self, project: &ProjectId, digest: &str) -> Result<Option<u64>> {
        let row = sqlx::query::<DB>(
            "SELECT b.size FROM project_blobs p JOIN blobs b ON b.digest = p.digest \
             WHERE p.project_id = $1 AND p.digest = $2",
        )
        .arg(project.as_str())
        .arg(digest)
        .maybe(&self.pool)
        .await
        .map_err(map_err("blob"))?;
        match row {
            None => Ok(None),
            Some(r) => {
                let v: i64 = r.col("size")?;
                Ok(Some(u64::try_from(v).map_err(|e| bad("blob", e))?))
            }
        }
    }

    async fn create_artifact(&self, a: &ArtifactRecord) -> Result<()> {
        sqlx::query::<DB>(&format!(
            "INSERT INTO artifacts ({ARTIFACT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)"
        ))
        .arg(a.id.as_str())
        .arg(a.project.as_str())
        .arg(&a.kind)
        .arg(&a.name)
        .arg(&a.manifest)
        .arg(&a.manifest_digest)
        .arg(i64_of(a.total_size)?)
        .arg(&a.verdict)
        .arg(a.evidence.to_string())
        .arg(a.expires_at.map(|t| t.0))
        .arg(a.created_by.as_str())
        .arg(a.created_at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("artifact"))?;
        Ok(())
    }

    async fn get_artifact(&self, project: &ProjectId, id: &ArtifactId) -> Result<Option<ArtifactRecord>> {
        sqlx::query::<DB>(&format!("SELECT {ARTIFACT_COLS} FROM artifacts WHERE project_id = $1 AND id = $2"))
            .arg(project.as_str())
            .arg(id.as_str())
            .maybe(&self.pool)
            .await
            .map_err(map_err("artifact"))?
            .as_ref()
            .map(|r| artifact(r))
            .transpose()
    }

    async fn list_artifacts(&self, project: &ProjectId, page: &Page) -> Result<Vec<ArtifactRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {ARTIFACT_COLS} FROM artifacts WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .arg(project.as_str())
        .arg(page.after_str())
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("artifacts"))?;
        collect(rows, artifact)
    }

    async fn dataset_artifacts(&self, limit: u32) -> Result<Vec<ArtifactRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {ARTIFACT_COLS} FROM artifacts a WHERE verdict = 'admitted' \
             AND evidence LIKE '%\"dataset\":\"dst\\_%' ESCAPE '\\' \
             AND NOT EXISTS (SELECT 1 FROM artifact_purges p WHERE p.artifact_id = a.id) \
             ORDER BY created_at, id LIMIT $1"
        ))
        .arg(i64::from(limit))
        .all(&self.pool)
        .await
        .map_err(map_err("artifacts"))?;
        collect(rows, artifact)
    }

    async fn purge_artifact(
        &self,
        a: &ArtifactRecord,
        digests: &[String],
        reason: &str,
        at: Timestamp,
    ) -> Result<Option<Vec<String>>> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query::<DB>(
            "INSERT INTO artifact_purges (artifact_id, purged_at, reason) VALUES ($1, $2, $3) \
             ON CONFLICT (artifact_id) DO NOTHING",
        )
        .arg(a.id.as_str())
        .arg(at.0)
        .arg(reason)
        .run(&mut *tx)
        .await
        .map_err(map_err("artifact purge"))?;
        if E::rows_affected(&r) != 1 {
            return Ok(None);
        }
        let mut orphans = Vec::new();
        for d in digests {
            // Another admitted, unpurged artifact of the project may share the blob.
            let shared = sqlx::query::<DB>(
                "SELECT COUNT(*) AS n FROM artifacts x WHERE x.project_id = $1 AND x.id <> $2 \
                 AND x.verdict = 'admitted' AND x.manifest LIKE $3 \
                 AND NOT EXISTS (SELECT 1 FROM artifact_purges p WHERE p.artifact_id = x.id)",
            )
            .arg(a.project.as_str())
            .arg(a.id.as_str())
            .arg(format!("%\"{d}\"%"))
            .one(&mut *tx)
            .await
            .map_err(map_err("artifact purge"))?;
            let n: i64 = shared.col("n")?;
            if n > 0 {
                continue;
            }
            sqlx::query::<DB>("DELETE FROM project_blobs WHERE project_id = $1 AND digest = $2")
                .arg(a.project.as_str())
                .arg(d)
                .run(&mut *tx)
                .await
                .map_err(map_err("artifact purge"))?;
            let left = sqlx::query::<DB>("SELECT COUNT(*) AS n FROM project_blobs WHERE digest = $1")
                .arg(d)
                .one(&mut *tx)
                .await
                .map_err(map_err("artifact purge"))?;
            let n: i64 = left.col("n")?;
            if n == 0 {
                sqlx::query::<DB>("DELETE FROM blobs WHERE digest = $1")
                    .arg(d)
                    .run(&mut *tx)
                    .await
                    .map_err(map_err("artifact purge"))?;
                orphans.push(d.clone());
            }
        }
        tx.commit().await.map_err(map_err("artifact purge"))?;
        Ok(Some(orphans))
    }

    async fn artifacts_with_blob(&self, project: &ProjectId, digest: &str) -> Result<Vec<ArtifactRecord>> {
        // Manifests are canonical JSON: a file's digest appears as `"sha256:…"`.
        // Digests are hex, so the pattern holds no LIKE wildcards.
        if !digest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':') {
            return Ok(Vec::new());
        }
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {ARTIFACT_COLS} FROM artifacts WHERE project_id = $1 AND verdict = 'admitted' \
             AND manifest LIKE $2 ORDER BY id"
        ))
        .arg(project.as_str())
        .arg(format!("%\"{digest}\"%"))
        .all(&self.pool)
        .await
        .map_err(map_err("artifacts"))?;
        collect(rows, artifact)
    }

    async fn versions_of_artifact(&self, a: &ArtifactId) -> Result<Vec<(ModelId, u64)>> {
        let rows = sqlx::query::<DB>(
            "SELECT model_id, version FROM model_versions WHERE artifact_id = $1 ORDER BY model_id, version",
        )
        .arg(a.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("model versions"))?;
        collect(rows, |r| {
            let m: String = r.col("model_id")?;
            Ok((ModelId::parse(&m).map_err(|e| bad("model version", e))?, u64_of(r.col("version")?, "model version")?))
        })
    }

    async fn ensure_model(&self, m: &ModelRecord) -> Result<ModelRecord> {
        sqlx::query::<DB>(
            "INSERT INTO models (id, project_id, name, created_by, created_at) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT (project_id, name) DO NOTHING",
        )
        .arg(m.id.as_str())
        .arg(m.project.as_str())
        .arg(&m.name)
        .arg(m.created_by.as_str())
        .arg(m.created_at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("model"))?;
        self.get_model(&m.project, &m.name).await?.ok_or_else(|| StoreError::Internal("model vanished".into()))
    }

    async fn get_model(&self, project: &ProjectId, name: &str) -> Result<Option<ModelRecord>> {
        sqlx::query::<DB>(
            // By name, or by id (`mdl_…`) for those who give that.
            "SELECT id, project_id, name, created_by, created_at FROM models \
             WHERE project_id = $1 AND (name = $2 OR id = $2)",
        )
        .arg(project.as_str())
        .arg(name)
        .maybe(&self.pool)
        .await
        .map_err(map_err("model"))?
        .as_ref()
        .map(|r| model(r))
        .transpose()
    }

    async fn list_models(&self, project: &ProjectId, page: &Page) -> Result<Vec<ModelRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT id, project_id, name, created_by, created_at FROM models \
             WHERE project_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .arg(project.as_str())
        .arg(page.after_str())
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("models"))?;
        collect(rows, model)
    }

    async fn add_model_version(
        &self,
        m: &ModelId,
        a: &ArtifactId,
        lineage: &VersionLineage,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<ModelVersionRecord> {
        let lineage = serde_json::to_string(lineage).map_err(|e| StoreError::Internal(e.to_string()))?;
        // The primary key makes a concurrent duplicate fail; the caller retries.
        let row = sqlx::query::<DB>(&format!(
            "INSERT INTO model_versions ({VERSION_COLS}) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5 FROM model_versions WHERE model_id = $1 \
             RETURNING {VERSION_COLS}"
        ))
        .arg(m.as_str())
        .arg(a.as_str())
        .arg(lineage)
        .arg(by.as_str())
        .arg(at.0)
        .one(&self.pool)
        .await
        .map_err(map_err("model version"))?;
        model_version(&row)
    }

    async fn list_model_versions(&self, m: &ModelId) -> Result<Vec<ModelVersionRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {VERSION_COLS} FROM model_versions WHERE model_id = $1 ORDER BY version"
        ))
        .arg(m.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("model versions"))?;
        collect(rows, model_version)
    }

    async fn set_model_alias(&self, m: &ModelId, x: &ModelAliasRecord) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO model_aliases (model_id, alias, version, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model_id, alias) \
             DO UPDATE SET version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .arg(m.as_str())
        .arg(&x.alias)
        .arg(i64_of(x.version)?)
        .arg(x.updated_by.as_str())
        .arg(x.updated_at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("model alias"))?;
        Ok(())
    }

    async fn delete_model_alias(&self, m: &ModelId, alias: &str) -> Result<bool> {
        let r = sqlx::query::<DB>("DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2")
            .arg(m.as_str())
            .arg(alias)
            .run(&self.pool)
            .await
            .map_err(map_err("model alias"))?;
        Ok(E::rows_affected(&r) > 0)
    }

    async fn list_model_aliases(&self, m: &ModelId) -> Result<Vec<ModelAliasRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT alias, version, updated_by, updated_at FROM model_aliases WHERE model_id = $1 ORDER BY alias",
        )
        .arg(m.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("model aliases"))?;
        collect(rows, |row| {
            let by: String = row.col("updated_by")?;
            Ok(ModelAliasRecord {
                alias: row.col("alias")?,
                version: u64::try_from(row.col::<i64>("version")?).map_err(|e| bad("model alias", e))?,
                updated_by: SubjectId::parse(&by).map_err(|e| bad("model alias", e))?,
                updated_at: row.col("updated_at")?,
            })
        })
    }

    async fn set_model_tag(&self, m: &ModelId, x: &ModelTagRecord) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO model_tags (model_id, version, key, value, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (model_id, version, key) \
             DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .arg(m.as_str())
        .arg(i64_of(x.version)?)
        .arg(&x.key)
        .arg(&x.value)
        .arg(x.updated_by.as_str())
        .arg(x.updated_at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("model tag"))?;
        Ok(())
    }

    async fn delete_model_tag(&self, m: &ModelId, version: u64, key: &str) -> Result<bool> {
        let r = sqlx::query::<DB>("DELETE FROM model_tags WHERE model_id = $1 AND version = $2 AND key = $3")
            .arg(m.as_str())
            .arg(i64_of(version)?)
            .arg(key)
            .run(&self.pool)
            .await
            .map_err(map_err("model tag"))?;
        Ok(E::rows_affected(&r) > 0)
    }

    async fn list_model_tags(&self, m: &ModelId) -> Result<Vec<ModelTagRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT version, key, value, updated_by, updated_at FROM model_tags WHERE model_id = $1 \
             ORDER BY version, key",
        )
        .arg(m.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("model tags"))?;
        collect(rows, |row| {
            let by: String = row.col("updated_by")?;
            Ok(ModelTagRecord {
                version: u64::try_from(row.col::<i64>("version")?).map_err(|e| bad("model tag", e))?,
                key: row.col("key")?,
                value: row.col("value")?,
                updated_by: SubjectId::parse(&by).map_err(|e| bad("model tag", e))?,
                updated_at: row.col("updated_at")?,
            })
        })
    }

    async fn create_upload(&self, x: &UploadRecord) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO blob_uploads (id, project_id, created_by, created_at, expires_at, size) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .arg(x.id.as_str())
        .arg(x.project.as_str())
        .arg(x.created_by.as_str())
        .arg(x.created_at.0)
        .arg(x.expires_at.0)
        .arg(i64_of(x.size)?)
        .run(&self.pool)
        .await
        .map_err(map_err("upload"))?;
        Ok(())
    }

    async fn get_upload(&self, id: &UploadId) -> Result<Option<UploadRecord>> {
        let row = sqlx::query::<DB>(
            "SELECT id, project_id, created_by, created_at, expires_at, size FROM blob_uploads WHERE id = $1",
        )
        .arg(id.as_str())
        .maybe(&self.pool)
        .await
        .map_err(map_err("upload"))?;
        let Some(row) = row else { return Ok(None) };
        let (id, project, by): (String, String, String) =
            (row.col("id")?, row.col("project_id")?, row.col("created_by")?);
        Ok(Some(UploadRecord {
            id: UploadId::parse(&id).map_err(|e| bad("upload", e))?,
            project: ProjectId::parse(&project).map_err(|e| bad("upload", e))?,
            created_by: SubjectId::parse(&by).map_err(|e| bad("upload", e))?,
            created_at: row.col("created_at")?,
            expires_at: row.col("expires_at")?,
            size: u64::try_from(row.col::<i64>("size")?).map_err(|e| bad("upload", e))?,
        }))
    }

    async fn add_upload_part(&self, id: &UploadId, p: &UploadPartRecord) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query::<DB>("UPDATE blob_uploads SET size = size + $1 WHERE id = $2 AND size = $3")
            .arg(i64_of(p.size)?)
            .arg(id.as_str())
            .arg(i64_of(p.offset)?)
            .run(&mut *tx)
            .await
            .map_err(map_err("upload"))?;
        if E::rows_affected(&moved) == 0 {
            return Ok(false);
        }
        sqlx::query::<DB>(
            "INSERT INTO blob_upload_parts (upload_id, \"offset\", size, object) VALUES ($1, $2, $3, $4)",
        )
        .arg(id.as_str())
        .arg(i64_of(p.offset)?)
        .arg(i64_of(p.size)?)
        .arg(&p.object)
        .run(&mut *tx)
        .await
        .map_err(map_err("upload part"))?;
        tx.commit().await.map_err(map_err("upload part"))?;
        Ok(true)
    }

    async fn list_upload_parts(&self, id: &UploadId) -> Result<Vec<UploadPartRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT \"offset\", size, object FROM blob_upload_parts WHERE upload_id = $1 ORDER BY \"offset\"",
        )
        .arg(id.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("upload parts"))?;
        collect(rows, |row| {
            Ok(UploadPartRecord {
                offset: u64::try_from(row.col::<i64>("offset")?).map_err(|e| bad("upload part", e))?,
                size: u64::try_from(row.col::<i64>("size")?).map_err(|e| bad("upload part", e))?,
                object: row.col("object")?,
            })
        })
    }

    async fn delete_upload(&self, id: &UploadId) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query::<DB>("DELETE FROM blob_upload_parts WHERE upload_id = $1 RETURNING object")
            .arg(id.as_str())
            .all(&mut *tx)
            .await
            .map_err(map_err("upload parts"))?;
        sqlx::query::<DB>("DELETE FROM blob_uploads WHERE id = $1")
            .arg(id.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("upload"))?;
        tx.commit().await.map_err(map_err("upload"))?;
        rows.iter().map(|r| r.col("object")).collect()
    }

    async fn expired_uploads(&self, now: Timestamp, limit: u32) -> Result<Vec<UploadId>> {
        let rows = sqlx::query::<DB>("SELECT id FROM blob_uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2")
            .arg(now.0)
            .arg(i64::from(limit))
            .all(&self.pool)
            .await
            .map_err(map_err("uploads"))?;
        rows.iter()
            .map(|r| {
                let id: String = r.col("id")?;
                UploadId::parse(&id).map_err(|e| bad("upload", e))
            })
            .collect()
    }

    async fn create_signer(&self, x: &SignerRecord) -> Result<()> {
        sqlx::query::<DB>(&format!("INSERT INTO signers ({SIGNER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"))
            .arg(x.id.as_str())
            .arg(x.project.as_ref().map(|p| p.as_str()))
            .arg(&x.name)
            .arg(&x.algorithm)
            .arg(&x.public_key)
            .arg(x.not_before.map(|t| t.0))
            .arg(x.not_after.map(|t| t.0))
            .arg(x.revoked_at.map(|t| t.0))
            .arg(x.created_by.as_str())
            .arg(x.created_at.0)
            .run(&self.pool)
            .await
            .map_err(map_err("signer"))?;
        Ok(())
    }

    async fn get_signer(&self, id: &SignerId) -> Result<Option<SignerRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {SIGNER_COLS} FROM signers WHERE id = $1"),
            id.as_str(),
            signer,
            "signer",
        )
        .await
    }

    async fn list_signers(&self, project: Option<&ProjectId>) -> Result<Vec<SignerRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {SIGNER_COLS} FROM signers WHERE project_id IS NULL OR project_id = $1 ORDER BY id"
        ))
        .arg(project.map(|p| p.as_str()).unwrap_or(""))
        .all(&self.pool)
        .await
        .map_err(map_err("signers"))?;
        collect(rows, signer)
    }

    async fn revoke_signer(&self, id: &SignerId, at: Timestamp) -> Result<bool> {
        let r = sqlx::query::<DB>("UPDATE signers SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .arg(id.as_str())
            .arg(at.0)
            .run(&self.pool)
            .await
            .map_err(map_err("signer"))?;
        Ok(E::rows_affected(&r) == 1)
    }
}
