use super::*;

const DATASET_COLS: &str = "id, namespace, name, project_id, location, layer, classes, columns, residency, \
    owner, retention_days, tags, classified, created_at, updated_at, legal_hold, published";

fn dataset(row: &dyn Columns) -> Result<DatasetRecord> {
    let w = "dataset";
    let id: String = row.col("id")?;
    let project: Option<String> = row.col("project_id")?;
    let retention: Option<i64> = row.col("retention_days")?;
    let classified: i64 = row.col("classified")?;
    let published: i64 = row.col("published")?;
    let json = |col: &str| -> Result<String> { row.col::<String>(col) };
    Ok(DatasetRecord {
        id: DatasetId::parse(&id).map_err(|e| bad(w, e))?,
        namespace: row.col("namespace")?,
        name: row.col("name")?,
        project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad(w, e))?,
        location: row.col("location")?,
        layer: row.col("layer")?,
        classes: serde_json::from_str(&json("classes")?).map_err(|e| bad(w, e))?,
        columns: serde_json::from_str(&json("columns")?).map_err(|e| bad(w, e))?,
        residency: row.col("residency")?,
        owner: row.col("owner")?,
        retention_days: retention.map(u32::try_from).transpose().map_err(|e| bad(w, e))?,
        tags: serde_json::from_str(&json("tags")?).map_err(|e| bad(w, e))?,
        classified: classified != 0,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
        legal_hold: row.col("legal_hold")?,
        published: published != 0,
    })
}

fn dataset_json(d: &DatasetRecord) -> Result<(String, String, String)> {
    let e = |e: serde_json::Error| StoreError::Internal(e.to_string());
    Ok((
        serde_json::to_string(&d.classes).map_err(e)?,
        serde_json::to_string(&d.columns).map_err(e)?,
        serde_json::to_string(&d.tags).map_err(e)?,
    ))
}

const RUN_COLS: &str = "run_id, job_namespace, job_name, state, parent_run, started_at, ended_at, updated_at, zone";

fn lineage_run(row: &dyn Columns) -> Result<LineageRunRecord> {
    Ok(LineageRunRecord {
        run_id: row.col("run_id")?,
        job_namespace: row.col("job_namespace")?,
        job_name: row.col("job_name")?,
        state: row.col("state")?,
        parent_run: row.col("parent_run")?,
        started_at: row.col("started_at")?,
        ended_at: row.col("ended_at")?,
        updated_at: row.col("updated_at")?,
        zone: row.col("zone")?,
    })
}

const TRANSFER_COLS: &str = "id, project_id, dataset_id, to_zone, reason, status, requested_by, requested_at, \
    decided_by, decided_at";

fn transfer(row: &dyn Columns) -> Result<TransferRecord> {
    let w = "transfer";
    let s = |col: &str| -> Result<String> { row.col::<String>(col) };
    let by: Option<String> = row.col("decided_by")?;
    Ok(TransferRecord {
        id: TransferId::parse(&s("id")?).map_err(|e| bad(w, e))?,
        project: ProjectId::parse(&s("project_id")?).map_err(|e| bad(w, e))?,
        dataset: DatasetId::parse(&s("dataset_id")?).map_err(|e| bad(w, e))?,
        to_zone: s("to_zone")?,
        reason: s("reason")?,
        status: s("status")?,
        requested_by: subject_of(&s("requested_by")?, w)?,
        requested_at: row.col("requested_at")?,
        decided_by: by.map(|b| subject_of(&b, w)).transpose()?,
        decided_at: row.col("decided_at")?,
    })
}

const PROPOSAL_COLS: &str =
    "id, dataset_id, project_id, body, status, proposed_by, proposed_at, decided_by, decided_at";

fn proposal(row: &dyn Columns) -> Result<ProposalRecord> {
    let w = "proposal";
    let s = |col: &str| -> Result<String> { row.col::<String>(col) };
    let by: Option<String> = row.col("decided_by")?;
    Ok(ProposalRecord {
        id: s("id")?,
        dataset: DatasetId::parse(&s("dataset_id")?).map_err(|e| bad(w, e))?,
        project: ProjectId::parse(&s("project_id")?).map_err(|e| bad(w, e))?,
        body: s("body")?,
        status: s("status")?,
        proposed_by: subject_of(&s("proposed_by")?, w)?,
        proposed_at: row.col("proposed_at")?,
        decided_by: by.map(|b| subject_of(&b, w)).transpose()?,
        decided_at: row.col("decided_at")?,
    })
}

const TASK_COLS: &str = "seq, target, kind, project_id, owner, due_at, status, evidence, closed_by, closed_at";

/// A task row with the id of its request (`request_id` selected before the task's
/// columns).
fn request_task(r: &dyn Columns) -> Result<(DeletionId, DeletionTaskRecord)> {
    let id: String = r.col("request_id")?;
    Ok((DeletionId::parse(&id).map_err(|e| bad("deletion task", e))?, deletion_task(r)?))
}

const QUARANTINE_COLS: &str = "id, target, project_id, reason, placed_by, placed_at, lifted_by, lifted_at, lift_reason";

fn quarantine(row: &dyn Columns) -> Result<QuarantineRecord> {
    let w = "quarantine";
    let id: String = row.col("id")?;
    let project: String = row.col("project_id")?;
    let placed_by: String = row.col("placed_by")?;
    let lifted_by: Option<String> = row.col("lifted_by")?;
    Ok(QuarantineRecord {
        id: warden_core::QuarantineId::parse(&id).map_err(|e| bad(w, e))?,
        target: row.col("target")?,
        project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
        reason: row.col("reason")?,
        placed_by: subject_of(&placed_by, w)?,
        placed_at: row.col("placed_at")?,
        lifted_by: lifted_by.map(|b| subject_of(&b, w)).transpose()?,
        lifted_at: row.col("lifted_at")?,
        lift_reason: row.col("lift_reason")?,
    })
}

fn deletion_task(row: &dyn Columns) -> Result<DeletionTaskRecord> {
    let w = "deletion task";
    let project: Option<String> = row.col("project_id")?;
    let by: Option<String> = row.col("closed_by")?;
    Ok(DeletionTaskRecord {
        seq: u64_of(row.col("seq")?, w)?,
        target: row.col("target")?,
        kind: row.col("kind")?,
        project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad(w, e))?,
        owner: row.col("owner")?,
        due_at: row.col("due_at")?,
        status: row.col("status")?,
        evidence: row.col("evidence")?,
        closed_by: by.map(|b| subject_of(&b, w)).transpose()?,
        closed_at: row.col("closed_at")?,
    })
}

impl<E, DB> SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    /// Inserts a dataset (or, with `ignore_existing`, nothing when the name is
    /// taken); true when a row was written.
    async fn insert_dataset<'e>(ex: impl Into<On<'e, DB>>, d: &DatasetRecord, ignore_existing: bool) -> Result<bool> {
        let (classes, columns, tags) = dataset_json(d)?;
        let tail = if ignore_existing { " ON CONFLICT (namespace, name) DO NOTHING" } else { "" };
        let r = sqlx::query::<DB>(&format!(
            "INSERT INTO datasets ({DATASET_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17){tail}"
        ))
        .arg(d.id.as_str())
        .arg(&d.namespace)
        .arg(&d.name)
        .arg(d.project.as_ref().map(ProjectId::as_str))
        .arg(d.location.as_deref())
        .arg(d.layer.as_deref())
        .arg(classes)
        .arg(columns)
        .arg(d.residency.as_deref())
        .arg(d.owner.as_deref())
        .arg(d.retention_days.map(i64::from))
        .arg(tags)
        .arg(i64::from(d.classified))
        .arg(d.created_at.0)
        .arg(d.updated_at.0)
        .arg(d.legal_hold.as_deref())
        .arg(i64::from(d.published))
        .run(ex)
        .await
        .map_err(map_err("a dataset with this namespace and name"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    /// Decides a pending row of `table` (transfers, proposals): once, and only from
    /// `pending`.
    async fn decide_pending(
        pool: &sqlx::Pool<DB>,
        table: &str,
        id: &str,
        status: &str,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query::<DB>(&format!(
            "UPDATE {table} SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND status = 'pending'"
        ))
        .arg(id)
        .arg(status)
        .arg(by.as_str())
        .arg(at.0)
        .run(pool)
        .await
        .map_err(map_err(table))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn bump_catalog<'e>(ex: impl Into<On<'e, DB>>) -> Result<()> {
        sqlx::query::<DB>("UPDATE catalog_head SET version = version + 1 WHERE id = 1")
            .run(ex)
            .await
            .map_err(map_err("catalog head"))?;
        Ok(())
    }

    /// Numbers and inserts edges under the head row's lock (taken by the caller's
    /// transaction with this very update).
    async fn insert_edges(tx: &mut sqlx::Transaction<'static, DB>, edges: &[(String, String)]) -> Result<()> {
        let n = i64::try_from(edges.len()).map_err(|e| bad("lineage", e))?;
        let row = sqlx::query::<DB>("UPDATE lineage_head SET next = next + $1 WHERE id = 1 RETURNING next")
            .arg(n)
            .one(&mut **tx)
            .await
            .map_err(map_err("lineage head"))?;
        let end: i64 = row.col("next")?;
        let first = end - n + 1;
        for (c, chunk) in edges.chunks(300).enumerate() {
            let base = first + (c * 300) as i64;
            let sql = format!(
                "INSERT INTO lineage_edges (id, from_node, to_node) VALUES {} ON CONFLICT (from_node, to_node) DO NOTHING",
                placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query::<DB>(&sql);
            for (i, (from, to)) in chunk.iter().enumerate() {
                q = q.arg(base + i as i64).arg(from.as_str()).arg(to.as_str());
            }
            q.run(&mut **tx).await.map_err(map_err("lineage edge"))?;
        }
        Ok(())
    }
}

#[async_trait]
impl<E, DB> crate::CatalogStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn create_dataset(&self, d: &DatasetRecord) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::insert_dataset(&mut *tx, d, false).await?;
        Self::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(map_err("dataset"))?;
        Ok(())
    }

    async fn update_dataset(&self, d: &DatasetRecord) -> Result<bool> {
        let (classes, columns, tags) = dataset_json(d)?;
        let mut tx = self.begin_write().await?;
        let r = sqlx::query::<DB>(
            "UPDATE datasets SET project_id = $2, location = $3, layer = $4, classes = $5, columns = $6, \
             residency = $7, owner = $8, retention_days = $9, tags = $10, classified = $11, updated_at = $12, \
             legal_hold = $13, published = $14 WHERE id = $1",
        )
        .arg(d.id.as_str())
        .arg(d.project.as_ref().map(ProjectId::as_str))
        .arg(d.location.as_deref())
        .arg(d.layer.as_deref())
        .arg(classes)
        .arg(columns)
        .arg(d.residency.as_deref())
        .arg(d.owner.as_deref())
        .arg(d.retention_days.map(i64::from))
        .arg(tags)
        .arg(i64::from(d.classified))
        .arg(d.updated_at.0)
        .arg(d.legal_hold.as_deref())
        .arg(i64::from(d.published))
        .run(&mut *tx)
        .await
        .map_err(map_err("dataset"))?;
        if E::rows_affected(&r) != 1 {
            return Ok(false);
        }
        Self::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(map_err("dataset"))?;
        Ok(true)
    }

    async fn delete_dataset(&self, id: &DatasetId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        for table in ["dataset_proposals", "transfers"] {
            sqlx::query::<DB>(&format!("DELETE FROM {table} WHERE dataset_id = $1"))
                .arg(id.as_str())
                .run(&mut *tx)
                .await
                .map_err(map_err("dataset"))?;
        }
        let r = sqlx::query::<DB>("DELETE FROM datasets WHERE id = $1")
            .arg(id.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("dataset"))?;
        if E::rows_affected(&r) != 1 {
            return Ok(false);
        }
        Self::bump_catalog(&mut *tx).await?;
        tx.commit().await.map_err(map_err("dataset"))?;
        Ok(true)
    }

    async fn get_dataset(&self, id: &DatasetId) -> Result<Option<DatasetRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {DATASET_COLS} FROM datasets WHERE id = $1"),
            id.as_str(),
            dataset,
            "dataset",
        )
        .await
    }

    async fn find_dataset(&self, namespace: &str, name: &str) -> Result<Option<DatasetRecord>> {
        let row = sqlx::query::<DB>(&format!("SELECT {DATASET_COLS} FROM datasets WHERE namespace = $1 AND name = $2"))
            .arg(namespace)
            .arg(name)
            .maybe(&self.pool)
            .await
            .map_err(map_err("dataset"))?;
        row.as_ref().map(|r| dataset(r)).transpose()
    }

    async fn list_datasets(
        &self,
        project: Option<&ProjectId>,
        unclassified: bool,
        page: &Page,
    ) -> Result<Vec<DatasetRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {DATASET_COLS} FROM datasets WHERE ($1 = '' OR project_id = $1) AND ($2 = 0 OR classified = 0) \
             AND id > $3 ORDER BY id LIMIT $4"
        ))
        .arg(project.map(ProjectId::as_str).unwrap_or(""))
        .arg(i64::from(unclassified))
        .arg(page.after_str())
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("datasets"))?;
        collect(rows, dataset)
    }

    async fn catalog_version(&self) -> Result<u64> {
        let row = sqlx::query::<DB>("SELECT version FROM catalog_head WHERE id = 1")
            .one(&self.pool)
            .await
            .map_err(map_err("catalog head"))?;
        u64_of(row.col("version")?, "catalog head")
    }

    async fn write_lineage(&self, w: &LineageWrite) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // The head row first: it orders every lineage write (events and edges).
        Self::insert_edges(&mut tx, &w.edges).await?;
        let e = &w.event;
        sqlx::query::<DB>(
            "INSERT INTO lineage_events (seq, run_id, event_type, event_time, producer, received_at, received_by, event) \
             SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM lineage_events",
        )
        .arg(e.run_id.as_deref())
        .arg(&e.event_type)
        .arg(e.event_time.0)
        .arg(&e.producer)
        .arg(e.received_at.0)
        .arg(e.received_by.as_str())
        .arg(&e.event)
        .run(&mut *tx)
        .await
        .map_err(map_err("lineage event"))?;
        if let Some(r) = &w.run {
            // A finished run stays finished when a late START or RUNNING arrives.
            sqlx::query::<DB>(&format!(
                "INSERT INTO lineage_runs ({RUN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (run_id) DO UPDATE SET \
                 state = CASE WHEN lineage_runs.state IN ('COMPLETE', 'FAIL', 'ABORT') \
                              AND excluded.state IN ('START', 'RUNNING', 'OTHER') \
                         THEN lineage_runs.state ELSE excluded.state END, \
                 parent_run = COALESCE(excluded.parent_run, lineage_runs.parent_run), \
                 started_at = COALESCE(lineage_runs.started_at, excluded.started_at), \
                 ended_at = COALESCE(excluded.ended_at, lineage_runs.ended_at), \
                 zone = COALESCE(excluded.zone, lineage_runs.zone), \
                 updated_at = excluded.updated_at"
            ))
            .arg(&r.run_id)
            .arg(&r.job_namespace)
            .arg(&r.job_name)
            .arg(&r.state)
            .arg(r.parent_run.as_deref())
            .arg(r.started_at.map(|t| t.0))
            .arg(r.ended_at.map(|t| t.0))
            .arg(r.updated_at.0)
            .arg(r.zone.as_deref())
            .run(&mut *tx)
            .await
            .map_err(map_err("lineage run"))?;
        }
        let mut added = false;
        for d in &w.datasets {
            added |= Self::insert_dataset(&mut *tx, d, true).await?;
        }
        if added {
            Self::bump_catalog(&mut *tx).await?;
        }
        tx.commit().await.map_err(map_err("lineage"))?;
        Ok(())
    }

    async fn add_lineage_edges(&self, edges: &[(String, String)]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::insert_edges(&mut tx, edges).await?;
        tx.commit().await.map_err(map_err("lineage"))?;
        Ok(())
    }

    async fn lineage_edges_since(&self, after: u64, limit: u32) -> Result<Vec<(u64, String, String)>> {
        let rows =
            sqlx::query::<DB>("SELECT id, from_node, to_node FROM lineage_edges WHERE id > $1 ORDER BY id LIMIT $2")
                .arg(i64_of(after)?)
                .arg(i64::from(limit))
                .all(&self.pool)
                .await
                .map_err(map_err("lineage edges"))?;
        rows.iter()
            .map(|r| Ok((u64_of(r.col("id")?, "lineage edge")?, r.col("from_node")?, r.col("to_node")?)))
            .collect()
    }

    async fn zoned_runs(&self, limit: u32) -> Result<Vec<LineageRunRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {RUN_COLS} FROM lineage_runs WHERE zone IS NOT NULL ORDER BY updated_at DESC LIMIT $1"
        ))
        .arg(i64::from(limit))
        .all(&self.pool)
        .await
        .map_err(map_err("lineage runs"))?;
        collect(rows, lineage_run)
    }

    async fn create_transfer(&self, x: &TransferRecord) -> Result<()> {
        sqlx::query::<DB>(&format!("INSERT INTO transfers ({TRANSFER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"))
            .arg(x.id.as_str())
            .arg(x.project.as_str())
            .arg(x.dataset.as_str())
            .arg(&x.to_zone)
            .arg(&x.reason)
            .arg(&x.status)
            .arg(x.requested_by.as_str())
            .arg(x.requested_at.0)
            .arg(x.decided_by.as_ref().map(SubjectId::as_str))
            .arg(x.decided_at.map(|t| t.0))
            .run(&self.writer)
            .await
            .map_err(map_err("transfer"))?;
        Ok(())
    }

    async fn get_transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {TRANSFER_COLS} FROM transfers WHERE id = $1"),
            id.as_str(),
            transfer,
            "transfer",
        )
        .await
    }

    async fn decide_transfer(&self, id: &TransferId, status: &str, by: &SubjectId, at: Timestamp) -> Result<bool> {
        Self::decide_pending(&self.writer, "transfers", id.as_str(), status, by, at).await
    }

    async fn list_transfers(&self, project: &ProjectId) -> Result<Vec<TransferRecord>> {
        let rows =
            sqlx::query::<DB>(&format!("SELECT {TRANSFER_COLS} FROM transfers WHERE project_id = $1 ORDER BY id DESC"))
                .arg(project.as_str())
                .all(&self.pool)
                .await
                .map_err(map_err("transfers"))?;
        collect(rows, transfer)
    }

    async fn approved_transfers(&self) -> Result<Vec<(DatasetId, String)>> {
        let rows = sqlx::query::<DB>("SELECT dataset_id, to_zone FROM transfers WHERE status = 'approved'")
            .all(&self.pool)
            .await
            .map_err(map_err("transfers"))?;
        rows.iter()
            .map(|r| {
                let d: String = r.col("dataset_id")?;
                Ok((DatasetId::parse(&d).map_err(|e| bad("transfer", e))?, r.col("to_zone")?))
            })
            .collect()
    }

    async fn create_proposal(&self, x: &ProposalRecord) -> Result<()> {
        sqlx::query::<DB>(&format!(
            "INSERT INTO dataset_proposals ({PROPOSAL_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
        ))
        .arg(&x.id)
        .arg(x.dataset.as_str())
        .arg(x.project.as_str())
        .arg(&x.body)
        .arg(&x.status)
        .arg(x.proposed_by.as_str())
        .arg(x.proposed_at.0)
        .arg(x.decided_by.as_ref().map(SubjectId::as_str))
        .arg(x.decided_at.map(|t| t.0))
        .run(&self.writer)
        .await
        .map_err(map_err("proposal"))?;
        Ok(())
    }

    async fn get_proposal(&self, id: &str) -> Result<Option<ProposalRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {PROPOSAL_COLS} FROM dataset_proposals WHERE id = $1"),
            id,
            proposal,
            "proposal",
        )
        .await
    }

    async fn decide_proposal(&self, id: &str, status: &str, by: &SubjectId, at: Timestamp) -> Result<bool> {
        Self::decide_pending(&self.writer, "dataset_proposals", id, status, by, at).await
    }

    async fn list_proposals(&self, dataset: &DatasetId) -> Result<Vec<ProposalRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {PROPOSAL_COLS} FROM dataset_proposals WHERE dataset_id = $1 ORDER BY id"
        ))
        .arg(dataset.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("proposals"))?;
        collect(rows, proposal)
    }

    async fn create_deletion(&self, x: &DeletionRequestRecord, tasks: &[DeletionTaskRecord]) -> Result<()> {
        let datasets: Vec<&str> = x.datasets.iter().map(DatasetId::as_str).collect();
        let datasets = serde_json::to_string(&datasets).map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query::<DB>(
            "INSERT INTO deletion_requests (id, subject_ref, reason, datasets, requested_by, requested_at, due_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .arg(x.id.as_str())
        .arg(&x.subject_ref)
        .arg(&x.reason)
        .arg(datasets)
        .arg(x.requested_by.as_str())
        .arg(x.requested_at.0)
        .arg(x.due_at.0)
        .run(&mut *tx)
        .await
        .map_err(map_err("deletion request"))?;
        for t in tasks {
            sqlx::query::<DB>(&format!(
                "INSERT INTO deletion_tasks (request_id, {TASK_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
            ))
            .arg(x.id.as_str())
            .arg(i64_of(t.seq)?)
            .arg(&t.target)
            .arg(&t.kind)
            .arg(t.project.as_ref().map(ProjectId::as_str))
            .arg(t.owner.as_deref())
            .arg(t.due_at.0)
            .arg(&t.status)
            .arg(t.evidence.as_deref())
            .arg(t.closed_by.as_ref().map(SubjectId::as_str))
            .arg(t.closed_at.map(|t| t.0))
            .run(&mut *tx)
            .await
            .map_err(map_err("deletion task"))?;
        }
        tx.commit().await.map_err(map_err("deletion request"))?;
        Ok(())
    }

    async fn get_deletion(&self, id: &DeletionId) -> Result<Option<(DeletionRequestRecord, Vec<DeletionTaskRecord>)>> {
        let Some(row) = sqlx::query::<DB>(
            "SELECT id, subject_ref, reason, datasets, requested_by, requested_at, due_at FROM deletion_requests WHERE id = $1",
        )
        .arg(id.as_str())
        .maybe(&self.pool)
        .await
        .map_err(map_err("deletion request"))?
        else {
            return Ok(None);
        };
        let w = "deletion request";
        let datasets: Vec<String> = serde_json::from_str(&row.col::<String>("datasets")?).map_err(|e| bad(w, e))?;
        let request = DeletionRequestRecord {
            id: id.clone(),
            subject_ref: row.col("subject_ref")?,
            reason: row.col("reason")?,
            datasets: datasets
                .iter()
                .map(|d| DatasetId::parse(d))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad(w, e))?,
            requested_by: subject_of(&row.col::<String>("requested_by")?, w)?,
            requested_at: row.col("requested_at")?,
            due_at: row.col("due_at")?,
        };
        let rows =
            sqlx::query::<DB>(&format!("SELECT {TASK_COLS} FROM deletion_tasks WHERE request_id = $1 ORDER BY seq"))
                .arg(id.as_str())
                .all(&self.pool)
                .await
                .map_err(map_err("deletion tasks"))?;
        Ok(Some((request, collect(rows, deletion_task)?)))
    }

    async fn close_deletion_task(
        &self,
        id: &DeletionId,
        seq: u64,
        evidence: &str,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query::<DB>(
            "UPDATE deletion_tasks SET status = 'done', evidence = $3, closed_by = $4, closed_at = $5 \
             WHERE request_id = $1 AND seq = $2 AND status = 'open'",
        )
        .arg(id.as_str())
        .arg(i64_of(seq)?)
        .arg(evidence)
        .arg(by.as_str())
        .arg(at.0)
        .run(&self.writer)
        .await
        .map_err(map_err("deletion task"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn open_deletion_tasks_on(&self, target: &str) -> Result<Vec<(DeletionId, DeletionTaskRecord)>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT request_id, {TASK_COLS} FROM deletion_tasks WHERE status = 'open' AND target = $1 \
             ORDER BY due_at, request_id, seq LIMIT 100"
        ))
        .arg(target)
        .all(&self.pool)
        .await
        .map_err(map_err("deletion tasks"))?;
        rows.iter().map(|r| request_task(r)).collect()
    }

    async fn place_quarantine(&self, q: &QuarantineRecord) -> Result<bool> {
        let res = sqlx::query::<DB>(&format!(
            "INSERT INTO quarantines ({QUARANTINE_COLS}) VALUES ($1,$2,$3,$4,$5,$6,NULL,NULL,NULL)"
        ))
        .arg(q.id.as_str())
        .arg(&q.target)
        .arg(q.project.as_str())
        .arg(&q.reason)
        .arg(q.placed_by.as_str())
        .arg(q.placed_at.0)
        .run(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) => match map_err("quarantine")(e) {
                StoreError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn lift_quarantine(
        &self,
        target: &str,
        by: &SubjectId,
        at: Timestamp,
        reason: &str,
    ) -> Result<Option<QuarantineRecord>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query::<DB>(&format!(
            "SELECT {QUARANTINE_COLS} FROM quarantines WHERE target = $1 AND lifted_at IS NULL"
        ))
        .arg(target)
        .maybe(&mut *tx)
        .await
        .map_err(map_err("quarantine"))?;
        let Some(row) = row else { return Ok(None) };
        let mut q = quarantine(&row)?;
        sqlx::query::<DB>(
            "UPDATE quarantines SET lifted_by = $1, lifted_at = $2, lift_reason = $3 WHERE id = $4 AND lifted_at IS NULL",
        )
        .arg(by.as_str())
        .arg(at.0)
        .arg(reason)
        .arg(q.id.as_str())
        .run(&mut *tx)
        .await
        .map_err(map_err("quarantine"))?;
        tx.commit().await.map_err(map_err("quarantine"))?;
        q.lifted_by = Some(by.clone());
        q.lifted_at = Some(at);
        q.lift_reason = Some(reason.to_string());
        Ok(Some(q))
    }

    async fn open_quarantines(&self, targets: &[String]) -> Result<Vec<QuarantineRecord>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        // Few are open at any time: read them all and keep those asked about.
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {QUARANTINE_COLS} FROM quarantines WHERE lifted_at IS NULL ORDER BY target LIMIT 100000"
        ))
        .all(&self.pool)
        .await
        .map_err(map_err("quarantines"))?;
        let wanted: BTreeSet<&str> = targets.iter().map(String::as_str).collect();
        let all = collect(rows, quarantine)?;
        Ok(all.into_iter().filter(|q| wanted.contains(q.target.as_str())).collect())
    }

    async fn list_quarantines(&self, p: &ProjectId) -> Result<Vec<QuarantineRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {QUARANTINE_COLS} FROM quarantines WHERE project_id = $1 ORDER BY placed_at DESC, id DESC LIMIT 500"
        ))
        .arg(p.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("quarantines"))?;
        collect(rows, quarantine)
    }

    async fn quarantines_on(&self, target: &str) -> Result<Vec<QuarantineRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {QUARANTINE_COLS} FROM quarantines WHERE target = $1 ORDER BY placed_at, id LIMIT 1000"
        ))
        .arg(target)
        .all(&self.pool)
        .await
        .map_err(map_err("quarantines"))?;
        collect(rows, quarantine)
    }

    async fn deletions_for_subject(&self, subject_ref: &str) -> Result<Vec<DeletionId>> {
        let rows = sqlx::query::<DB>("SELECT id FROM deletion_requests WHERE subject_ref = $1 ORDER BY id LIMIT 500")
            .arg(subject_ref)
            .all(&self.pool)
            .await
            .map_err(map_err("deletion requests"))?;
        collect(rows, |r| {
            let id: String = r.col("id")?;
            DeletionId::parse(&id).map_err(|e| StoreError::Internal(e.to_string()))
        })
    }

    async fn deletion_tasks_on(&self, target: &str) -> Result<Vec<(DeletionId, DeletionTaskRecord)>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT request_id, {TASK_COLS} FROM deletion_tasks WHERE target = $1 ORDER BY request_id, seq LIMIT 500"
        ))
        .arg(target)
        .all(&self.pool)
        .await
        .map_err(map_err("deletion tasks"))?;
        rows.iter().map(|r| request_task(r)).collect()
    }

    async fn open_deletion_tasks(&self, limit: u32) -> Result<Vec<(DeletionId, DeletionTaskRecord)>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT request_id, {TASK_COLS} FROM deletion_tasks WHERE status = 'open' ORDER BY due_at, request_id, seq LIMIT $1"
        ))
        .arg(i64::from(limit))
        .all(&self.pool)
        .await
        .map_err(map_err("deletion tasks"))?;
        rows.iter().map(|r| request_task(r)).collect()
    }

    async fn get_lineage_run(&self, run_id: &str) -> Result<Option<LineageRunRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {RUN_COLS} FROM lineage_runs WHERE run_id = $1"),
            run_id,
            lineage_run,
            "lineage run",
        )
        .await
    }
}
