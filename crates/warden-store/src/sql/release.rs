use super::*;

const POLICY_COLS: &str = "version, document, digest, comment, created_by, created_at, restored_from";

fn policy_version(row: &dyn Columns) -> Result<PolicyVersionRecord> {
    let restored: Option<i64> = row.col("restored_from")?;
    Ok(PolicyVersionRecord {
        version: u64_of(row.col("version")?, "policy version")?,
        document: row.col("document")?,
        digest: row.col("digest")?,
        comment: row.col("comment")?,
        created_by: subject_of(&row.col::<String>("created_by")?, "policy version")?,
        created_at: row.col("created_at")?,
        restored_from: restored.map(|v| u64_of(v, "policy version")).transpose()?,
    })
}

const EVALUATION_COLS: &str = "model_id, version, seq, metrics, report, dataset, added_by, added_at";

fn evaluation(row: &dyn Columns) -> Result<EvaluationRecord> {
    let model: String = row.col("model_id")?;
    Ok(EvaluationRecord {
        model: ModelId::parse(&model).map_err(|e| bad("evaluation", e))?,
        version: u64_of(row.col("version")?, "evaluation")?,
        seq: u64_of(row.col("seq")?, "evaluation")?,
        metrics: serde_json::from_str(&row.col::<String>("metrics")?).map_err(|e| bad("evaluation", e))?,
        report: row.col("report")?,
        dataset: row.col("dataset")?,
        added_by: subject_of(&row.col::<String>("added_by")?, "evaluation")?,
        added_at: row.col("added_at")?,
    })
}

const RELEASE_COLS: &str = "id, project_id, model_id, version, zone, kind, reason, status, gate, \
    approvals_required, approver_role, policy_version, created_by, created_at, deployed_by, deployed_at, \
    previous, manifest, needs_review, reviewed_by, reviewed_at";

fn release(row: &dyn Columns) -> Result<ReleaseRecord> {
    let w = "release";
    let _g = |e: sqlx::Error| bad(w, e);
    let opt_subject = |col: &str| -> Result<Option<SubjectId>> {
        let s: Option<String> = row.col(col)?;
        s.map(|s| subject_of(&s, w)).transpose()
    };
    let id: String = row.col("id")?;
    let project: String = row.col("project_id")?;
    let model: String = row.col("model_id")?;
    let previous: Option<String> = row.col("previous")?;
    let required: i64 = row.col("approvals_required")?;
    let needs_review: i64 = row.col("needs_review")?;
    Ok(ReleaseRecord {
        id: ReleaseId::parse(&id).map_err(|e| bad(w, e))?,
        project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
        model: ModelId::parse(&model).map_err(|e| bad(w, e))?,
        version: u64_of(row.col("version")?, w)?,
        zone: row.col("zone")?,
        kind: row.col("kind")?,
        reason: row.col("reason")?,
        status: row.col("status")?,
        gate: row.col("gate")?,
        approvals_required: u32::try_from(required).map_err(|e| bad(w, e))?,
        approver_role: row.col("approver_role")?,
        policy_version: u64_of(row.col("policy_version")?, w)?,
        created_by: subject_of(&row.col::<String>("created_by")?, w)?,
        created_at: row.col("created_at")?,
        deployed_by: opt_subject("deployed_by")?,
        deployed_at: row.col("deployed_at")?,
        previous: previous.map(|p| ReleaseId::parse(&p).map_err(|e| bad(w, e))).transpose()?,
        manifest: row.col("manifest")?,
        needs_review: needs_review != 0,
        reviewed_by: opt_subject("reviewed_by")?,
        reviewed_at: row.col("reviewed_at")?,
    })
}

fn approval(row: &dyn Columns) -> Result<ApprovalRecord> {
    let mfa: i64 = row.col("mfa")?;
    Ok(ApprovalRecord {
        approver: subject_of(&row.col::<String>("approver")?, "approval")?,
        decision: row.col("decision")?,
        comment: row.col("comment")?,
        mfa: mfa != 0,
        at: row.col("at")?,
        withdrawn_at: row.col("withdrawn_at")?,
    })
}

const DEPLOYMENT_COLS: &str = "zone, model_id, seq, project_id, release_id, version, deployed_at";

fn deployment(row: &dyn Columns) -> Result<DeploymentRecord> {
    let w = "deployment";
    let _g = |e: sqlx::Error| bad(w, e);
    let model: String = row.col("model_id")?;
    let project: String = row.col("project_id")?;
    let release: String = row.col("release_id")?;
    Ok(DeploymentRecord {
        zone: row.col("zone")?,
        project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
        model: ModelId::parse(&model).map_err(|e| bad(w, e))?,
        seq: u64_of(row.col("seq")?, w)?,
        release: ReleaseId::parse(&release).map_err(|e| bad(w, e))?,
        version: u64_of(row.col("version")?, w)?,
        deployed_at: row.col("deployed_at")?,
    })
}

#[async_trait]
impl<E, DB> crate::ReleaseStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn add_policy_version(&self, x: &PolicyVersionRecord) -> Result<bool> {
        let r = sqlx::query::<DB>(&format!(
            "INSERT INTO policy_versions ({POLICY_COLS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS \
             (SELECT 1 FROM policy_versions WHERE version >= $1) AND \
             (SELECT COALESCE(MAX(version), 0) FROM policy_versions) = $1 - 1"
        ))
        .arg(i64_of(x.version)?)
        .arg(&x.document)
        .arg(&x.digest)
        .arg(&x.comment)
        .arg(x.created_by.as_str())
        .arg(x.created_at.0)
        .arg(x.restored_from.map(i64_of).transpose()?)
        .run(&self.writer)
        .await;
        match r {
            Ok(r) => Ok(E::rows_affected(&r) == 1),
            // Two replicas applying at once: the primary key keeps one.
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
            Err(e) => Err(map_err("policy version")(e)),
        }
    }

    async fn latest_policy(&self) -> Result<Option<PolicyVersionRecord>> {
        let row =
            sqlx::query::<DB>(&format!("SELECT {POLICY_COLS} FROM policy_versions ORDER BY version DESC LIMIT 1"))
                .maybe(&self.pool)
                .await
                .map_err(map_err("policy version"))?;
        row.as_ref().map(|r| policy_version(r)).transpose()
    }

    async fn get_policy_version(&self, version: u64) -> Result<Option<PolicyVersionRecord>> {
        let row = sqlx::query::<DB>(&format!("SELECT {POLICY_COLS} FROM policy_versions WHERE version = $1"))
            .arg(i64_of(version)?)
            .maybe(&self.pool)
            .await
            .map_err(map_err("policy version"))?;
        row.as_ref().map(|r| policy_version(r)).transpose()
    }

    async fn list_policy_versions(&self, limit: u32) -> Result<Vec<PolicyVersionRecord>> {
        let rows =
            sqlx::query::<DB>(&format!("SELECT {POLICY_COLS} FROM policy_versions ORDER BY version DESC LIMIT $1"))
                .arg(i64::from(limit))
                .all(&self.pool)
                .await
                .map_err(map_err("policy versions"))?;
        collect(rows, policy_version)
    }

    async fn add_evaluation(&self, x: &EvaluationRecord) -> Result<EvaluationRecord> {
        let metrics = serde_json::to_string(&x.metrics).map_err(|e| StoreError::Internal(e.to_string()))?;
        let row = sqlx::query::<DB>(&format!(
            "INSERT INTO model_evaluations ({EVALUATION_COLS}) \
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7 FROM model_evaluations \
             WHERE model_id = $1 AND version = $2 RETURNING {EVALUATION_COLS}"
        ))
        .arg(x.model.as_str())
        .arg(i64_of(x.version)?)
        .arg(metrics)
        .arg(x.report.as_deref())
        .arg(x.dataset.as_deref())
        .arg(x.added_by.as_str())
        .arg(x.added_at.0)
        .one(&self.writer)
        .await
        .map_err(map_err("evaluation"))?;
        evaluation(&row)
    }

    async fn list_evaluations(&self, m: &ModelId, version: u64) -> Result<Vec<EvaluationRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {EVALUATION_COLS} FROM model_evaluations WHERE model_id = $1 AND version = $2 ORDER BY seq"
        ))
        .arg(m.as_str())
        .arg(i64_of(version)?)
        .all(&self.pool)
        .await
        .map_err(map_err("evaluations"))?;
        collect(rows, evaluation)
    }

    async fn create_release(&self, x: &ReleaseRecord) -> Result<()> {
        sqlx::query::<DB>(&format!(
            "INSERT INTO releases ({RELEASE_COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        ))
        .arg(x.id.as_str())
        .arg(x.project.as_str())
        .arg(x.model.as_str())
        .arg(i64_of(x.version)?)
        .arg(&x.zone)
        .arg(&x.kind)
        .arg(&x.reason)
        .arg(&x.status)
        .arg(&x.gate)
        .arg(i64::from(x.approvals_required))
        .arg(&x.approver_role)
        .arg(i64_of(x.policy_version)?)
        .arg(x.created_by.as_str())
        .arg(x.created_at.0)
        .arg(x.deployed_by.as_ref().map(SubjectId::as_str))
        .arg(x.deployed_at.map(|t| t.0))
        .arg(x.previous.as_ref().map(ReleaseId::as_str))
        .arg(x.manifest.as_deref())
        .arg(i64::from(x.needs_review))
        .arg(x.reviewed_by.as_ref().map(SubjectId::as_str))
        .arg(x.reviewed_at.map(|t| t.0))
        .run(&self.writer)
        .await
        .map_err(map_err("release"))?;
        Ok(())
    }

    async fn get_release(&self, project: &ProjectId, id: &ReleaseId) -> Result<Option<ReleaseRecord>> {
        let row = sqlx::query::<DB>(&format!("SELECT {RELEASE_COLS} FROM releases WHERE id = $1 AND project_id = $2"))
            .arg(id.as_str())
            .arg(project.as_str())
            .maybe(&self.pool)
            .await
            .map_err(map_err("release"))?;
        row.as_ref().map(|r| release(r)).transpose()
    }

    async fn list_releases(&self, project: &ProjectId, page: &Page) -> Result<Vec<ReleaseRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {RELEASE_COLS} FROM releases WHERE project_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .arg(project.as_str())
        .arg(page.after.as_deref().unwrap_or(""))
        .arg(i64::from(page.limit))
        .all(&self.pool)
        .await
        .map_err(map_err("releases"))?;
        collect(rows, release)
    }

    async fn list_approvals(&self, id: &ReleaseId) -> Result<Vec<ApprovalRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT approver, decision, comment, mfa, at, withdrawn_at FROM release_approvals \
             WHERE release_id = $1 ORDER BY at, approver",
        )
        .arg(id.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("approvals"))?;
        collect(rows, approval)
    }

    async fn decide_release(&self, id: &ReleaseId, a: &ApprovalRecord) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        // The release row is the lock that orders decisions and deploys.
        let pending = sqlx::query::<DB>("UPDATE releases SET status = status WHERE id = $1 AND status = 'pending'")
            .arg(id.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("release"))?;
        if E::rows_affected(&pending) != 1 {
            return Ok(false);
        }
        // A withdrawn approval may be given again; a standing one may not.
        let r = sqlx::query::<DB>(
            "INSERT INTO release_approvals (release_id, approver, decision, comment, mfa, at, withdrawn_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL) ON CONFLICT (release_id, approver) DO UPDATE SET \
             decision = excluded.decision, comment = excluded.comment, mfa = excluded.mfa, at = excluded.at, \
             withdrawn_at = NULL WHERE release_approvals.withdrawn_at IS NOT NULL",
        )
        .arg(id.as_str())
        .arg(a.approver.as_str())
        .arg(&a.decision)
        .arg(&a.comment)
        .arg(i64::from(a.mfa))
        .arg(a.at.0)
        .run(&mut *tx)
        .await
        .map_err(map_err("approval"))?;
        if E::rows_affected(&r) != 1 {
            return Err(StoreError::Conflict("a decision by this approver on this release".into()));
        }
        if a.decision == "reject" {
            sqlx::query::<DB>("UPDATE releases SET status = 'rejected' WHERE id = $1")
                .arg(id.as_str())
                .run(&mut *tx)
                .await
                .map_err(map_err("release"))?;
        }
        tx.commit().await.map_err(map_err("approval"))?;
        Ok(true)
    }

    async fn withdraw_approval(&self, id: &ReleaseId, approver: &SubjectId, at: Timestamp) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let pending = sqlx::query::<DB>("UPDATE releases SET status = status WHERE id = $1 AND status = 'pending'")
            .arg(id.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("release"))?;
        if E::rows_affected(&pending) != 1 {
            return Ok(false);
        }
        let r = sqlx::query::<DB>(
            "UPDATE release_approvals SET withdrawn_at = $3 WHERE release_id = $1 AND approver = $2 \
             AND decision = 'approve' AND withdrawn_at IS NULL",
        )
        .arg(id.as_str())
        .arg(approver.as_str())
        .arg(at.0)
        .run(&mut *tx)
        .await
        .map_err(map_err("approval"))?;
        tx.commit().await.map_err(map_err("approval"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn deploy_release(&self, d: &Deployment) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let pending = sqlx::query::<DB>("UPDATE releases SET status = status WHERE id = $1 AND status = 'pending'")
            .arg(d.release.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("release"))?;
        if E::rows_affected(&pending) != 1 {
            return Ok(false);
        }
        if !d.break_glass {
            let rows = sqlx::query::<DB>(
                "SELECT approver FROM release_approvals WHERE release_id = $1 AND decision = 'approve' \
                 AND withdrawn_at IS NULL ORDER BY approver",
            )
            .arg(d.release.as_str())
            .all(&mut *tx)
            .await
            .map_err(map_err("approvals"))?;
            let standing: Vec<String> = rows
                .iter()
                .map(|r| r.col("approver"))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad("approvals", e))?;
            let mut expected: Vec<String> = d.approvers.iter().map(|a| a.as_str().to_string()).collect();
            expected.sort();
            if standing != expected {
                return Ok(false);
            }
        }
        let row = sqlx::query::<DB>(
            "SELECT COALESCE(MAX(seq), 0) AS seq FROM zone_deployments WHERE zone = $1 AND model_id = $2",
        )
        .arg(&d.zone)
        .arg(d.model.as_str())
        .one(&mut *tx)
        .await
        .map_err(map_err("deployment"))?;
        let last: i64 = row.col("seq")?;
        if last != i64_of(d.after_seq)? {
            return Ok(false);
        }
        let inserted = sqlx::query::<DB>(&format!(
            "INSERT INTO zone_deployments ({DEPLOYMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .arg(&d.zone)
        .arg(d.model.as_str())
        .arg(last + 1)
        .arg(d.project.as_str())
        .arg(d.release.as_str())
        .arg(i64_of(d.version)?)
        .arg(d.at.0)
        .run(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Another replica deployed to the same place in the history first.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(false),
            Err(e) => return Err(map_err("deployment")(e)),
        }
        sqlx::query::<DB>(
            "UPDATE releases SET status = 'deployed', deployed_by = $2, deployed_at = $3, previous = $4, \
             manifest = $5, needs_review = $6 WHERE id = $1",
        )
        .arg(d.release.as_str())
        .arg(d.by.as_str())
        .arg(d.at.0)
        .arg(d.previous.as_ref().map(ReleaseId::as_str))
        .arg(&d.manifest)
        .arg(i64::from(d.break_glass))
        .run(&mut *tx)
        .await
        .map_err(map_err("release"))?;
        tx.commit().await.map_err(map_err("deployment"))?;
        Ok(true)
    }

    async fn close_release(&self, id: &ReleaseId, status: &str) -> Result<bool> {
        let r = sqlx::query::<DB>("UPDATE releases SET status = $2 WHERE id = $1 AND status = 'pending'")
            .arg(id.as_str())
            .arg(status)
            .run(&self.writer)
            .await
            .map_err(map_err("release"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn review_release(&self, id: &ReleaseId, by: &SubjectId, at: Timestamp) -> Result<bool> {
        let r = sqlx::query::<DB>(
            "UPDATE releases SET needs_review = 0, reviewed_by = $2, reviewed_at = $3 \
             WHERE id = $1 AND needs_review = 1",
        )
        .arg(id.as_str())
        .arg(by.as_str())
        .arg(at.0)
        .run(&self.writer)
        .await
        .map_err(map_err("release"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn zone_history(&self, zone: &str, m: &ModelId) -> Result<Vec<DeploymentRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {DEPLOYMENT_COLS} FROM zone_deployments WHERE zone = $1 AND model_id = $2 ORDER BY seq"
        ))
        .arg(zone)
        .arg(m.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("deployments"))?;
        collect(rows, deployment)
    }

    async fn active_in_zone(
        &self,
        zone: &str,
        project: Option<&ProjectId>,
        at: Timestamp,
    ) -> Result<Vec<DeploymentRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {DEPLOYMENT_COLS} FROM zone_deployments d WHERE zone = $1 AND deployed_at <= $2 \
             AND ($3 = '' OR project_id = $3) AND seq = (SELECT MAX(seq) FROM zone_deployments e \
             WHERE e.zone = d.zone AND e.model_id = d.model_id AND e.deployed_at <= $2) ORDER BY model_id"
        ))
        .arg(zone)
        .arg(at.0)
        .arg(project.map(ProjectId::as_str).unwrap_or(""))
        .all(&self.pool)
        .await
        .map_err(map_err("deployments"))?;
        collect(rows, deployment)
    }

    async fn zone_deployments_between(
        &self,
        zone: &str,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<DeploymentRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {DEPLOYMENT_COLS} FROM zone_deployments WHERE zone = $1 AND deployed_at >= $2 AND deployed_at <= $3 \
             ORDER BY deployed_at, model_id, seq LIMIT $4"
        ))
        .arg(zone)
        .arg(from.0)
        .arg(to.0)
        .arg(i64::from(limit))
        .all(&self.pool)
        .await
        .map_err(map_err("deployments"))?;
        collect(rows, deployment)
    }

    async fn version_deployments(&self, m: &ModelId, version: u64) -> Result<Vec<DeploymentRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {DEPLOYMENT_COLS} FROM zone_deployments WHERE model_id = $1 AND version = $2 ORDER BY deployed_at, seq"
        ))
        .arg(m.as_str())
        .arg(i64_of(version)?)
        .all(&self.pool)
        .await
        .map_err(map_err("deployments"))?;
        collect(rows, deployment)
    }

    async fn unreviewed_releases(&self, project: &ProjectId) -> Result<Vec<ReleaseRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {RELEASE_COLS} FROM releases WHERE project_id = $1 AND needs_review = 1 ORDER BY id"
        ))
        .arg(project.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("releases"))?;
        collect(rows, release)
    }
}
