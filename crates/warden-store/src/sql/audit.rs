use super::*;

/// The audit log's columns, in the order [`Engine::insert_audit`] writes them.
pub const AUDIT_COLS: &str =
    "idx, time, category, action, actor, resource, outcome, project_id, request_id, event, leaf_hash";

/// Search-index terms: prefix and the audit_log column it indexes, as
/// `AuditLeaf::terms` makes them (the suite checks the two agree).
const AUDIT_TERMS: [(&str, &str); 5] = [
    ("actor:", "actor"),
    ("resource:", "resource"),
    ("project:", "project_id"),
    ("action:", "action"),
    ("outcome:", "outcome"),
];

/// Entries per search-index block (`crate::AUDIT_BLOCK`).
const AUDIT_BLOCK: i64 = crate::AUDIT_BLOCK as i64;

/// Runs of consecutive numbers in ascending `blocks`, as inclusive (first, last).
fn block_runs(blocks: &[i64]) -> Vec<(i64, i64)> {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &b in blocks {
        match runs.last_mut() {
            Some(run) if run.1 + 1 == b => run.1 = b,
            _ => runs.push((b, b)),
        }
    }
    runs
}

/// The filter's conditions on audit_log `l`; `bind_filter` binds $2..$10.
const AUDIT_WHERE: &str = "(CAST($2 AS TEXT) IS NULL OR l.category = $2) \
    AND (CAST($3 AS TEXT) IS NULL OR l.action = $3) \
    AND (CAST($4 AS TEXT) IS NULL OR l.actor = $4) \
    AND (CAST($5 AS TEXT) IS NULL OR l.resource = $5) \
    AND (CAST($6 AS TEXT) IS NULL OR l.outcome = $6) \
    AND (CAST($7 AS TEXT) IS NULL OR l.project_id = $7) \
    AND (CAST($8 AS BIGINT) IS NULL OR l.time >= $8) \
    AND (CAST($9 AS BIGINT) IS NULL OR l.time < $9)";

fn audit_entry(row: &dyn Columns) -> Result<AuditEntry> {
    let idx: i64 = row.col("idx")?;
    Ok(AuditEntry {
        index: u64::try_from(idx).map_err(|e| bad("audit", e))?,
        leaf: AuditLeaf {
            time: row.col("time")?,
            category: row.col("category")?,
            action: row.col("action")?,
            actor: row.col("actor")?,
            resource: row.col("resource")?,
            outcome: row.col("outcome")?,
            project: row.col("project_id")?,
            request_id: row.col("request_id")?,
            event: row.col("event")?,
            leaf_hash: row.col("leaf_hash")?,
        },
    })
}

fn audit_tile(row: &dyn Columns) -> Result<AuditTile> {
    let level: i64 = row.col("level")?;
    let idx: i64 = row.col("idx")?;
    Ok(AuditTile {
        level: u32::try_from(level).map_err(|e| bad("audit tile", e))?,
        index: u64::try_from(idx).map_err(|e| bad("audit tile", e))?,
        hashes: row.col("hashes")?,
    })
}

fn checkpoint(row: &dyn Columns) -> Result<CheckpointRecord> {
    let size: i64 = row.col("tree_size")?;
    Ok(CheckpointRecord {
        tree_size: u64::try_from(size).map_err(|e| bad("checkpoint", e))?,
        note: row.col("note")?,
        created_at: row.col("created_at")?,
    })
}

impl<E, DB> SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    /// Locks the audit search index's head row (serialising indexers across
    /// replicas) and returns it: entries `[0, head)` are indexed.
    async fn lock_index_head(tx: &mut sqlx::Transaction<'static, DB>) -> Result<i64> {
        let row = sqlx::query::<DB>("UPDATE audit_index_head SET size = size WHERE id = 1 RETURNING size")
            .one(&mut **tx)
            .await
            .map_err(map_err("audit index"))?;
        row.col("size")
    }

    /// Moves the index head to `to` and commits what was indexed with it.
    async fn move_index_head(mut tx: sqlx::Transaction<'static, DB>, to: i64) -> Result<()> {
        sqlx::query::<DB>("UPDATE audit_index_head SET size = $1 WHERE id = 1")
            .arg(to)
            .run(&mut *tx)
            .await
            .map_err(map_err("audit index"))?;
        tx.commit().await.map_err(map_err("audit index"))
    }

    /// Stores full tiles in `tx`, leaving any already stored as they were.
    async fn insert_tiles(tx: &mut sqlx::Transaction<'static, DB>, tiles: &[AuditTile]) -> Result<()> {
        for chunk in tiles.chunks(64) {
            let sql = format!(
                "INSERT INTO audit_tiles (level, idx, hashes) VALUES {} ON CONFLICT (level, idx) DO NOTHING",
                placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query::<DB>(&sql);
            for t in chunk {
                if t.hashes.len() != crate::AUDIT_TILE_BYTES {
                    return Err(StoreError::OutOfRange(format!(
                        "an audit tile of {} bytes (a full one has {})",
                        t.hashes.len(),
                        crate::AUDIT_TILE_BYTES
                    )));
                }
                q = q.arg(i64::from(t.level)).arg(i64_of(t.index)?).arg(t.hashes.as_slice());
            }
            q.run(&mut **tx).await.map_err(map_err("audit tiles"))?;
        }
        Ok(())
    }

    fn bind_filter<'q>(q: Query<'q, DB>, after: i64, f: &'q AuditFilter, limit: i64) -> Query<'q, DB> {
        q.arg(after)
            .arg(&f.category)
            .arg(&f.action)
            .arg(&f.actor)
            .arg(&f.resource)
            .arg(&f.outcome)
            .arg(&f.project)
            .arg(f.since.map(|t| t.0))
            .arg(f.until.map(|t| t.0))
            .arg(limit)
    }
}

#[async_trait]
impl<E, DB> crate::AuditStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn append_audit_with_tiles(&self, leaves: &[AuditLeaf], tiles: &[AuditTile]) -> Result<u64> {
        if leaves.is_empty() {
            self.put_audit_tiles(tiles).await?;
            return self.audit_size().await;
        }
        if tiles.is_empty() {
            if let Some(done) = E::append_audit_at_once(&self.writer, leaves).await {
                return done;
            }
        }
        let n = i64::try_from(leaves.len()).map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        Self::insert_tiles(&mut tx, tiles).await?;
        // Taking the head row first serialises appenders (row lock on
        // PostgreSQL, the write lock on SQLite): indexes never gap or repeat.
        let row = sqlx::query::<DB>("UPDATE audit_head SET size = size + $1 WHERE id = 1 RETURNING size")
            .arg(n)
            .one(&mut *tx)
            .await
            .map_err(map_err("audit head"))?;
        let end: i64 = row.col("size")?;
        let first = end - n;
        E::insert_audit(&mut tx, first, leaves).await?;
        tx.commit().await.map_err(map_err("audit append"))?;
        u64::try_from(first).map_err(|e| bad("audit head", e))
    }

    async fn index_audit(&self, max: u64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let from = Self::lock_index_head(&mut tx).await?;
        // Entries below the log's head are committed (they commit with it).
        let row = sqlx::query::<DB>("SELECT size FROM audit_head WHERE id = 1")
            .one(&mut *tx)
            .await
            .map_err(map_err("audit head"))?;
        let size: i64 = row.col("size")?;
        let to = size.min(from.saturating_add(i64_of(max)?));
        if to <= from {
            return u64::try_from(from).map_err(|e| bad("audit index", e));
        }
        // One row per distinct term per block; a block indexed in part before
        // (the appends paused inside it) gains only the terms it lacked.
        for (prefix, column) in AUDIT_TERMS {
            sqlx::query::<DB>(&format!(
                "INSERT INTO audit_index (term, block) SELECT DISTINCT '{prefix}' || {column}, idx / {AUDIT_BLOCK} \
                 FROM audit_log WHERE idx >= $1 AND idx < $2 AND {column} IS NOT NULL \
                 ON CONFLICT (term, block) DO NOTHING"
            ))
            .arg(from)
            .arg(to)
            .run(&mut *tx)
            .await
            .map_err(map_err("audit index"))?;
        }
        Self::move_index_head(tx, to).await?;
        u64::try_from(to).map_err(|e| bad("audit index", e))
    }

    async fn index_audit_terms(&self, from: u64, to: u64, terms: &[(String, u64)]) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let head = Self::lock_index_head(&mut tx).await?;
        if head != i64_of(from)? {
            return Ok(false);
        }
        for chunk in terms.chunks(512) {
            let sql = format!(
                "INSERT INTO audit_index (term, block) VALUES {} ON CONFLICT (term, block) DO NOTHING",
                placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query::<DB>(&sql);
            for (term, block) in chunk {
                q = q.arg(term.as_str()).arg(i64_of(*block)?);
            }
            q.run(&mut *tx).await.map_err(map_err("audit index"))?;
        }
        Self::move_index_head(tx, i64_of(to)?).await?;
        Ok(true)
    }

    async fn put_audit_tiles(&self, tiles: &[AuditTile]) -> Result<()> {
        if tiles.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::insert_tiles(&mut tx, tiles).await?;
        tx.commit().await.map_err(map_err("audit tiles"))
    }

    async fn audit_tiles(&self, level: u32, from: u64, to: u64) -> Result<Vec<AuditTile>> {
        let rows = sqlx::query::<DB>(
            "SELECT level, idx, hashes FROM audit_tiles WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
        )
        .arg(i64::from(level))
        .arg(i64_of(from)?)
        .arg(i64_of(to)?)
        .all(&self.pool)
        .await
        .map_err(map_err("audit tiles"))?;
        collect(rows, audit_tile)
    }

    async fn audit_tiles_at(&self, at: &[(u32, u64)]) -> Result<Vec<AuditTile>> {
        let mut out = Vec::with_capacity(at.len());
        for chunk in at.chunks(32) {
            let wanted: Vec<String> =
                (0..chunk.len()).map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2)).collect();
            let sql = format!("SELECT level, idx, hashes FROM audit_tiles WHERE {}", wanted.join(" OR "));
            let mut q = sqlx::query::<DB>(&sql);
            for (level, index) in chunk {
                q = q.arg(i64::from(*level)).arg(i64_of(*index)?);
            }
            out.extend(collect(q.all(&self.pool).await.map_err(map_err("audit tiles"))?, audit_tile)?);
        }
        Ok(out)
    }

    async fn audit_size(&self) -> Result<u64> {
        let row = sqlx::query::<DB>("SELECT size FROM audit_head WHERE id = 1")
            .one(&self.pool)
            .await
            .map_err(map_err("audit head"))?;
        let size: i64 = row.col("size")?;
        u64::try_from(size).map_err(|e| bad("audit head", e))
    }

    async fn audit_leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
        let rows = sqlx::query::<DB>("SELECT leaf_hash FROM audit_log WHERE idx >= $1 AND idx < $2 ORDER BY idx")
            .arg(i64_of(from)?)
            .arg(i64_of(to)?)
            .all(&self.pool)
            .await
            .map_err(map_err("audit hashes"))?;
        rows.iter().map(|r| r.col("leaf_hash")).collect()
    }

    async fn audit_entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows =
            sqlx::query::<DB>(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE idx >= $1 ORDER BY idx LIMIT $2"))
                .arg(i64_of(from)?)
                .arg(i64::from(limit))
                .all(&self.pool)
                .await
                .map_err(map_err("audit entries"))?;
        collect(rows, audit_entry)
    }

    async fn audit_index_at(&self, time: Timestamp) -> Result<Option<u64>> {
        let row = sqlx::query::<DB>("SELECT idx FROM audit_log WHERE time >= $1 ORDER BY time, idx LIMIT 1")
            .arg(time.0)
            .maybe(&self.pool)
            .await
            .map_err(map_err("audit entries"))?;
        row.map(|r| r.col::<i64>("idx").map(|i| i as u64)).transpose()
    }

    async fn search_audit(&self, f: &AuditFilter, page: &Page) -> Result<Vec<AuditEntry>> {
        let after: i64 = match page.after.as_deref() {
            None => -1,
            Some(c) => c.parse().map_err(|_| StoreError::OutOfRange(format!("the audit cursor `{c}`")))?,
        };
        let limit = page.limit_i64();
        // The most selective term the filter names, if any.
        let term = [
            ("actor:", &f.actor),
            ("resource:", &f.resource),
            ("project:", &f.project),
            ("action:", &f.action),
            ("outcome:", &f.outcome),
        ]
        .into_iter()
        .find_map(|(prefix, v)| v.as_ref().map(|v| format!("{prefix}{v}")));
        let mut found = Vec::new();
        // Entries below the index head come through the index, in index order;
        // the tail above it (a few thousand at most) is scanned.
        let mut tail_after = after;
        if let Some(term) = &term {
            let row = sqlx::query::<DB>("SELECT size FROM audit_index_head WHERE id = 1")
                .one(&self.pool)
                .await
                .map_err(map_err("audit index"))?;
            let indexed: i64 = row.col("size")?;
            // The blocks the term occurs in, a few dozen at a time; runs of
            // consecutive blocks are read as one range of entries, filtered.
            let in_range = format!(
                "SELECT {AUDIT_COLS} FROM audit_log l WHERE l.idx > $1 AND l.idx < $11 AND {AUDIT_WHERE} ORDER BY l.idx LIMIT $10"
            );
            let mut next_block = (after + 1) / AUDIT_BLOCK;
            let last_block = (indexed - 1) / AUDIT_BLOCK;
            while after + 1 < indexed && next_block <= last_block {
                let rows = sqlx::query::<DB>(
                    "SELECT block FROM audit_index WHERE term = $1 AND block >= $2 AND block <= $3 ORDER BY block LIMIT 64",
                )
                .arg(term)
                .arg(next_block)
                .arg(last_block)
                .all(&self.pool)
                .await
                .map_err(map_err("audit index"))?;
                let blocks: Vec<i64> = collect(rows, |r| r.col("block"))?;
                let Some(&last) = blocks.last() else { break };
                for (lo, hi) in block_runs(&blocks) {
                    let below = (lo * AUDIT_BLOCK).max(after + 1) - 1;
                    let above = ((hi + 1) * AUDIT_BLOCK).min(indexed);
                    let rows = Self::bind_filter(sqlx::query::<DB>(&in_range), below, f, limit - found.len() as i64)
                        .arg(above);
                    found.extend(collect(rows.all(&self.pool).await.map_err(map_err("audit search"))?, audit_entry)?);
                    if found.len() as i64 >= limit {
                        return Ok(found);
                    }
                }
                next_block = last + 1;
            }
            tail_after = after.max(indexed - 1);
        }
        let sql =
            format!("SELECT {AUDIT_COLS} FROM audit_log l WHERE l.idx > $1 AND {AUDIT_WHERE} ORDER BY l.idx LIMIT $10");
        let rows = Self::bind_filter(sqlx::query::<DB>(&sql), tail_after, f, limit - found.len() as i64);
        found.extend(collect(rows.all(&self.pool).await.map_err(map_err("audit search"))?, audit_entry)?);
        Ok(found)
    }

    async fn put_checkpoint(&self, c: &CheckpointRecord) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO audit_checkpoints (tree_size, note, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (tree_size) DO NOTHING",
        )
        .arg(i64_of(c.tree_size)?)
        .arg(&c.note)
        .arg(c.created_at.0)
        .run(&self.writer)
        .await
        .map_err(map_err("checkpoint"))?;
        Ok(())
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
        sqlx::query::<DB>("SELECT tree_size, note, created_at FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1")
            .maybe(&self.pool)
            .await
            .map_err(map_err("checkpoint"))?
            .as_ref()
            .map(|r| checkpoint(r))
            .transpose()
    }

    async fn list_checkpoints(&self, from_size: u64, limit: u32) -> Result<Vec<CheckpointRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT tree_size, note, created_at FROM audit_checkpoints WHERE tree_size >= $1 \
             ORDER BY tree_size LIMIT $2",
        )
        .arg(i64_of(from_size)?)
        .arg(i64::from(limit))
        .all(&self.pool)
        .await
        .map_err(map_err("checkpoints"))?;
        collect(rows, checkpoint)
    }

    async fn checkpoint_covering(&self, size: u64) -> Result<Option<CheckpointRecord>> {
        Ok(self.list_checkpoints(size, 1).await?.into_iter().next())
    }

    async fn export_cursor(&self, name: &str) -> Result<u64> {
        let row = sqlx::query::<DB>("SELECT next_index FROM audit_export_cursors WHERE name = $1")
            .arg(name)
            .maybe(&self.pool)
            .await
            .map_err(map_err("export cursor"))?;
        match row {
            None => Ok(0),
            Some(r) => {
                let v: i64 = r.col("next_index")?;
                u64::try_from(v).map_err(|e| bad("export cursor", e))
            }
        }
    }

    async fn set_export_cursor(&self, name: &str, next_index: u64, at: Timestamp) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO audit_export_cursors (name, next_index, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET next_index = excluded.next_index, updated_at = excluded.updated_at",
        )
        .arg(name)
        .arg(i64_of(next_index)?)
        .arg(at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("export cursor"))?;
        Ok(())
    }
}
