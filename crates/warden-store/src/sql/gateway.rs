use super::*;

const PAYLOAD_COLS: &str = "id, project_id, key_id, zone, class, nonce, ciphertext, created_at, expires_at";

fn payload_log(row: &dyn Columns) -> Result<PayloadLogRecord> {
    let w = "payload log";
    let _g = |e: sqlx::Error| bad(w, e);
    let project: String = row.col("project_id")?;
    Ok(PayloadLogRecord {
        id: row.col("id")?,
        project: ProjectId::parse(&project).map_err(|e| bad(w, e))?,
        key: row.col("key_id")?,
        zone: row.col("zone")?,
        class: row.col("class")?,
        nonce: row.col("nonce")?,
        ciphertext: row.col("ciphertext")?,
        created_at: row.col("created_at")?,
        expires_at: row.col("expires_at")?,
    })
}

#[async_trait]
impl<E, DB> crate::GatewayStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn set_budget(
        &self,
        project: &ProjectId,
        period: &str,
        tokens: Option<i64>,
        by: &SubjectId,
        at: Timestamp,
    ) -> Result<()> {
        match tokens {
            Some(t) => sqlx::query::<DB>(
                "INSERT INTO gateway_budgets (project_id, period, tokens, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (project_id, period) DO UPDATE SET tokens = excluded.tokens, \
                 set_by = excluded.set_by, set_at = excluded.set_at",
            )
            .arg(project.as_str())
            .arg(period)
            .arg(t)
            .arg(by.as_str())
            .arg(at.0)
            .run(&self.pool)
            .await
            .map_err(map_err("budget"))?,
            None => sqlx::query::<DB>("DELETE FROM gateway_budgets WHERE project_id = $1 AND period = $2")
                .arg(project.as_str())
                .arg(period)
                .run(&self.pool)
                .await
                .map_err(map_err("budget"))?,
        };
        Ok(())
    }

    async fn budgets(&self, project: &ProjectId) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query::<DB>("SELECT period, tokens FROM gateway_budgets WHERE project_id = $1 ORDER BY period")
                .arg(project.as_str())
                .all(&self.pool)
                .await
                .map_err(map_err("budgets"))?;
        rows.iter().map(|r| Ok((r.col("period")?, r.col("tokens")?))).collect()
    }

    async fn reserve(&self, scope: &str, window: i64, amount: i64, limit: i64) -> Result<bool> {
        sqlx::query::<DB>(
            "INSERT INTO gateway_counters (scope, window_start, used) VALUES ($1, $2, 0) \
             ON CONFLICT (scope, window_start) DO NOTHING",
        )
        .arg(scope)
        .arg(window)
        .run(&self.pool)
        .await
        .map_err(map_err("counter"))?;
        let r = sqlx::query::<DB>(
            "UPDATE gateway_counters SET used = used + $3 \
             WHERE scope = $1 AND window_start = $2 AND used + $3 <= $4",
        )
        .arg(scope)
        .arg(window)
        .arg(amount)
        .arg(limit)
        .run(&self.pool)
        .await
        .map_err(map_err("counter"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn adjust(&self, scope: &str, window: i64, delta: i64) -> Result<()> {
        sqlx::query::<DB>("UPDATE gateway_counters SET used = used + $3 WHERE scope = $1 AND window_start = $2")
            .arg(scope)
            .arg(window)
            .arg(delta)
            .run(&self.pool)
            .await
            .map_err(map_err("counter"))?;
        Ok(())
    }

    async fn counter(&self, scope: &str, window: i64) -> Result<i64> {
        let row = sqlx::query::<DB>("SELECT used FROM gateway_counters WHERE scope = $1 AND window_start = $2")
            .arg(scope)
            .arg(window)
            .maybe(&self.pool)
            .await
            .map_err(map_err("counter"))?;
        match row {
            Some(r) => r.col("used"),
            None => Ok(0),
        }
    }

    async fn add_payload_log(&self, x: &PayloadLogRecord) -> Result<()> {
        sqlx::query::<DB>(&format!("INSERT INTO payload_logs ({PAYLOAD_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"))
            .arg(&x.id)
            .arg(x.project.as_str())
            .arg(x.key.as_deref())
            .arg(&x.zone)
            .arg(&x.class)
            .arg(x.nonce.as_slice())
            .arg(x.ciphertext.as_slice())
            .arg(x.created_at.0)
            .arg(x.expires_at.0)
            .run(&self.writer)
            .await
            .map_err(map_err("payload log"))?;
        Ok(())
    }

    async fn get_payload_log(&self, project: &ProjectId, id: &str) -> Result<Option<PayloadLogRecord>> {
        let row =
            sqlx::query::<DB>(&format!("SELECT {PAYLOAD_COLS} FROM payload_logs WHERE id = $1 AND project_id = $2"))
                .arg(id)
                .arg(project.as_str())
                .maybe(&self.pool)
                .await
                .map_err(map_err("payload log"))?;
        row.as_ref().map(|r| payload_log(r)).transpose()
    }

    async fn expire_payload_logs(&self, now: Timestamp, limit: u32) -> Result<Vec<PayloadLogRecord>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {PAYLOAD_COLS} FROM payload_logs WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2"
        ))
        .arg(now.0)
        .arg(i64::from(limit))
        .all(&mut *tx)
        .await
        .map_err(map_err("payload logs"))?;
        let mut gone = collect(rows, payload_log)?;
        for p in &mut gone {
            sqlx::query::<DB>("DELETE FROM payload_logs WHERE id = $1")
                .arg(&p.id)
                .run(&mut *tx)
                .await
                .map_err(map_err("payload log"))?;
            p.ciphertext.clear();
            p.nonce.clear();
        }
        tx.commit().await.map_err(map_err("payload logs"))?;
        Ok(gone)
    }

    async fn set_switch(&self, x: &SwitchRecord) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO gateway_switches (target, reason, set_by, set_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (target) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by, \
             set_at = excluded.set_at",
        )
        .arg(&x.target)
        .arg(&x.reason)
        .arg(x.set_by.as_str())
        .arg(x.set_at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("switch"))?;
        Ok(())
    }

    async fn clear_switch(&self, target: &str) -> Result<bool> {
        let r = sqlx::query::<DB>("DELETE FROM gateway_switches WHERE target = $1")
            .arg(target)
            .run(&self.pool)
            .await
            .map_err(map_err("switch"))?;
        Ok(E::rows_affected(&r) > 0)
    }

    async fn list_switches(&self) -> Result<Vec<SwitchRecord>> {
        let rows = sqlx::query::<DB>("SELECT target, reason, set_by, set_at FROM gateway_switches ORDER BY target")
            .all(&self.pool)
            .await
            .map_err(map_err("switches"))?;
        collect(rows, |row| {
            let by: String = row.col("set_by")?;
            Ok(SwitchRecord {
                target: row.col("target")?,
                reason: row.col("reason")?,
                set_by: SubjectId::parse(&by).map_err(|e| bad("switch", e))?,
                set_at: row.col("set_at")?,
            })
        })
    }

    async fn put_provider(&self, x: &ProviderRecord) -> Result<bool> {
        let models = serde_json::to_string(&x.models).map_err(|e| bad("provider", e))?;
        let q = if x.revision == 1 {
            "INSERT INTO gateway_providers (name, base_url, region, external, models, prices, key_nonce, \
             key_sealed, created_by, created_at, updated_by, updated_at, revision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (name) DO NOTHING"
        } else {
            "UPDATE gateway_providers SET base_url = $2, region = $3, external = $4, models = $5, prices = $6, \
             key_nonce = $7, key_sealed = $8, updated_by = $11, updated_at = $12, revision = $13 \
             WHERE name = $1 AND revision = $13 - 1 AND created_by = $9 AND created_at = $10"
        };
        let r = sqlx::query::<DB>(q)
            .arg(&x.name)
            .arg(&x.base_url)
            .arg(&x.region)
            .arg(x.external)
            .arg(models)
            .arg(&x.prices)
            .arg(x.key_nonce.as_deref())
            .arg(x.key_sealed.as_deref())
            .arg(x.created_by.as_str())
            .arg(x.created_at.0)
            .arg(x.updated_by.as_str())
            .arg(x.updated_at.0)
            .arg(x.revision)
            .run(&self.writer)
            .await
            .map_err(map_err("provider"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn delete_provider(&self, name: &str) -> Result<bool> {
        let r = sqlx::query::<DB>("DELETE FROM gateway_providers WHERE name = $1")
            .arg(name)
            .run(&self.writer)
            .await
            .map_err(map_err("provider"))?;
        Ok(E::rows_affected(&r) > 0)
    }

    async fn list_providers(&self) -> Result<Vec<ProviderRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT name, base_url, region, external, models, prices, key_nonce, key_sealed, created_by, \
             created_at, updated_by, updated_at, revision FROM gateway_providers ORDER BY name",
        )
        .all(&self.pool)
        .await
        .map_err(map_err("providers"))?;
        collect(rows, |row| {
            let subject = |col: &str| subject_of(&row.col::<String>(col)?, "provider");
            Ok(ProviderRecord {
                name: row.col("name")?,
                base_url: row.col("base_url")?,
                region: row.col("region")?,
                external: row.col("external")?,
                models: serde_json::from_str(&row.col::<String>("models")?).map_err(|e| bad("provider", e))?,
                prices: row.col("prices")?,
                key_nonce: row.col("key_nonce")?,
                key_sealed: row.col("key_sealed")?,
                created_by: subject("created_by")?,
                created_at: row.col("created_at")?,
                updated_by: subject("updated_by")?,
                updated_at: row.col("updated_at")?,
                revision: row.col("revision")?,
            })
        })
    }
}
