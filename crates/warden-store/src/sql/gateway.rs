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
        created_at: Timestamp(row.col("created_at")?),
        expires_at: Timestamp(row.col("expires_at")?),
    })
}

#[async_trait]
impl<E, DB> crate::GatewayStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: Columns,
    i64: Bind<DB>,
    Option<i64>: Bind<DB>,
    bool: Bind<DB>,
    String: Bind<DB>,
    Option<String>: Bind<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q [u8]>: Encode<'q, DB>,
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
            Some(t) => sqlx::query(
                "INSERT INTO gateway_budgets (project_id, period, tokens, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (project_id, period) DO UPDATE SET tokens = excluded.tokens, \
                 set_by = excluded.set_by, set_at = excluded.set_at",
            )
            .bind(project.as_str())
            .bind(period)
            .bind(t)
            .bind(by.as_str())
            .bind(at.0)
            .execute(&self.pool)
            .await
            .map_err(map_err("budget"))?,
            None => sqlx::query("DELETE FROM gateway_budgets WHERE project_id = $1 AND period = $2")
                .bind(project.as_str())
                .bind(period)
                .execute(&self.pool)
                .await
                .map_err(map_err("budget"))?,
        };
        Ok(())
    }

    async fn budgets(&self, project: &ProjectId) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT period, tokens FROM gateway_budgets WHERE project_id = $1 ORDER BY period")
            .bind(project.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err("budgets"))?;
        rows.iter().map(|r| Ok((r.col("period")?, r.col("tokens")?))).collect()
    }

    async fn reserve(&self, scope: &str, window: i64, amount: i64, limit: i64) -> Result<bool> {
        sqlx::query(
            "INSERT INTO gateway_counters (scope, window_start, used) VALUES ($1, $2, 0) \
             ON CONFLICT (scope, window_start) DO NOTHING",
        )
        .bind(scope)
        .bind(window)
        .execute(&self.pool)
        .await
        .map_err(map_err("counter"))?;
        let r = sqlx::query(
            "UPDATE gateway_counters SET used = used + $3 \
             WHERE scope = $1 AND window_start = $2 AND used + $3 <= $4",
        )
        .bind(scope)
        .bind(window)
        .bind(amount)
        .bind(limit)
        .execute(&self.pool)
        .await
        .map_err(map_err("counter"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn adjust(&self, scope: &str, window: i64, delta: i64) -> Result<()> {
        sqlx::query("UPDATE gateway_counters SET used = used + $3 WHERE scope = $1 AND window_start = $2")
            .bind(scope)
            .bind(window)
            .bind(delta)
            .execute(&self.pool)
            .await
            .map_err(map_err("counter"))?;
        Ok(())
    }

    async fn counter(&self, scope: &str, window: i64) -> Result<i64> {
        let row = sqlx::query("SELECT used FROM gateway_counters WHERE scope = $1 AND window_start = $2")
            .bind(scope)
            .bind(window)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err("counter"))?;
        match row {
            Some(r) => r.col("used"),
            None => Ok(0),
        }
    }

    async fn add_payload_log(&self, x: &PayloadLogRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO payload_logs ({PAYLOAD_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"))
            .bind(&x.id)
            .bind(x.project.as_str())
            .bind(x.key.as_deref())
            .bind(&x.zone)
            .bind(&x.class)
            .bind(x.nonce.as_slice())
            .bind(x.ciphertext.as_slice())
            .bind(x.created_at.0)
            .bind(x.expires_at.0)
            .execute(&self.writer)
            .await
            .map_err(map_err("payload log"))?;
        Ok(())
    }

    async fn get_payload_log(&self, project: &ProjectId, id: &str) -> Result<Option<PayloadLogRecord>> {
        let row = sqlx::query(&format!("SELECT {PAYLOAD_COLS} FROM payload_logs WHERE id = $1 AND project_id = $2"))
            .bind(id)
            .bind(project.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err("payload log"))?;
        row.as_ref().map(|r| payload_log(r)).transpose()
    }

    async fn expire_payload_logs(&self, now: Timestamp, limit: u32) -> Result<Vec<PayloadLogRecord>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "SELECT {PAYLOAD_COLS} FROM payload_logs WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2"
        ))
        .bind(now.0)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err("payload logs"))?;
        let mut gone = collect(rows, payload_log)?;
        for p in &mut gone {
            sqlx::query("DELETE FROM payload_logs WHERE id = $1")
                .bind(&p.id)
                .execute(&mut *tx)
                .await
                .map_err(map_err("payload log"))?;
            p.ciphertext.clear();
            p.nonce.clear();
        }
        tx.commit().await.map_err(map_err("payload logs"))?;
        Ok(gone)
    }

    async fn set_switch(&self, x: &SwitchRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO gateway_switches (target, reason, set_by, set_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (target) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by, \
             set_at = excluded.set_at",
        )
        .bind(&x.target)
        .bind(&x.reason)
        .bind(x.set_by.as_str())
        .bind(x.set_at.0)
        .execute(&self.pool)
        .await
        .map_err(map_err("switch"))?;
        Ok(())
    }

    async fn clear_switch(&self, target: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM gateway_switches WHERE target = $1")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(map_err("switch"))?;
        Ok(E::rows_affected(&r) > 0)
    }

    async fn list_switches(&self) -> Result<Vec<SwitchRecord>> {
        let rows = sqlx::query("SELECT target, reason, set_by, set_at FROM gateway_switches ORDER BY target")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err("switches"))?;
        collect(rows, |row| {
            let by: String = row.col("set_by")?;
            Ok(SwitchRecord {
                target: row.col("target")?,
                reason: row.col("reason")?,
                set_by: SubjectId::parse(&by).map_err(|e| bad("switch", e))?,
                set_at: Timestamp(row.col("set_at")?),
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
        let r = sqlx::query(q)
            .bind(&x.name)
            .bind(&x.base_url)
            .bind(&x.region)
            .bind(x.external)
            .bind(models)
            .bind(&x.prices)
            .bind(x.key_nonce.as_deref())
            .bind(x.key_sealed.as_deref())
            .bind(x.created_by.as_str())
            .bind(x.created_at.0)
            .bind(x.updated_by.as_str())
            .bind(x.updated_at.0)
            .bind(x.revision)
            .execute(&self.writer)
            .await
            .map_err(map_err("provider"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn delete_provider(&self, name: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM gateway_providers WHERE name = $1")
            .bind(name)
            .execute(&self.writer)
            .await
            .map_err(map_err("provider"))?;
        Ok(E::rows_affected(&r) > 0)
    }

    async fn list_providers(&self) -> Result<Vec<ProviderRecord>> {
        let rows = sqlx::query(
            "SELECT name, base_url, region, external, models, prices, key_nonce, key_sealed, created_by, \
             created_at, updated_by, updated_at, revision FROM gateway_providers ORDER BY name",
        )
        .fetch_all(&self.pool)
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
                created_at: Timestamp(row.col("created_at")?),
                updated_by: subject("updated_by")?,
                updated_at: Timestamp(row.col("updated_at")?),
                revision: row.col("revision")?,
            })
        })
    }
}
