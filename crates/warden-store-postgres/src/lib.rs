//! Warden's store on PostgreSQL through sqlx. Several stateless Warden replicas may share
//! one database; migrations serialise on an advisory lock.

#![forbid(unsafe_code)]

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};
use warden_store::sql::{map_err, Engine, SqlStore, AUDIT_COLS};
use warden_store::{AuditLeaf, StoreError};

/// Migrations in order. Every migration exists for both engines (a tidy test checks).
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "identity", include_str!("../migrations/0001_identity.sql")),
    (2, "audit", include_str!("../migrations/0002_audit.sql")),
    (3, "blobs", include_str!("../migrations/0003_blobs.sql")),
    (4, "registry", include_str!("../migrations/0004_registry.sql")),
    (5, "signers", include_str!("../migrations/0005_signers.sql")),
    (6, "audit_index", include_str!("../migrations/0006_audit_index.sql")),
    (7, "model_links", include_str!("../migrations/0007_model_links.sql")),
    (8, "uploads", include_str!("../migrations/0008_uploads.sql")),
    (9, "token_class", include_str!("../migrations/0009_token_class.sql")),
    (10, "gateway_switches", include_str!("../migrations/0010_gateway_switches.sql")),
    (11, "gateway_budgets", include_str!("../migrations/0011_gateway_budgets.sql")),
    (12, "policy_releases", include_str!("../migrations/0012_policy_releases.sql")),
    (13, "token_zone", include_str!("../migrations/0013_token_zone.sql")),
    (14, "catalog_lineage", include_str!("../migrations/0014_catalog_lineage.sql")),
    (15, "residency_deletion", include_str!("../migrations/0015_residency_deletion.sql")),
    (16, "payload_logs", include_str!("../migrations/0016_payload_logs.sql")),
    (17, "dataset_proposals", include_str!("../migrations/0017_dataset_proposals.sql")),
    (18, "cost_budgets", include_str!("../migrations/0018_cost_budgets.sql")),
    (19, "artifact_purges", include_str!("../migrations/0019_artifact_purges.sql")),
    (20, "gateway_providers", include_str!("../migrations/0020_gateway_providers.sql")),
    (21, "audit_index_blocks", include_str!("../migrations/0021_audit_index_blocks.sql")),
    (22, "token_parents", include_str!("../migrations/0022_token_parents.sql")),
    (23, "dataset_published", include_str!("../migrations/0023_dataset_published.sql")),
    (24, "audit_tiles", include_str!("../migrations/0024_audit_tiles.sql")),
    (25, "access_history", include_str!("../migrations/0025_access_history.sql")),
    (26, "quarantines", include_str!("../migrations/0026_quarantines.sql")),
];

/// Arbitrary constant naming Warden's migration lock.
const MIGRATION_LOCK: i64 = 0x5741_5244_454e; // "WARDEN"

/// PostgreSQL as a [`warden_store::Store`] engine.
pub struct PostgresEngine;

/// Warden's store on PostgreSQL.
pub type PostgresStore = SqlStore<PostgresEngine>;

impl Engine for PostgresEngine {
    type Db = Postgres;
    const NAME: &'static str = "postgres";

    /// One statement whatever the batch: each column travels as one array and
    /// `UNNEST` turns the arrays back into rows, so there is one prepared shape and no
    /// limit on parameters.
    async fn insert_audit(
        tx: &mut Transaction<'static, Postgres>,
        first: i64,
        leaves: &[AuditLeaf],
    ) -> Result<(), StoreError> {
        let text = |f: fn(&AuditLeaf) -> &str| leaves.iter().map(f).collect::<Vec<_>>();
        let opt = |f: fn(&AuditLeaf) -> Option<&str>| leaves.iter().map(f).collect::<Vec<_>>();
        let end = first + i64::try_from(leaves.len()).map_err(|e| StoreError::Internal(e.to_string()))?;
        sqlx::query(&format!(
            "INSERT INTO audit_log ({AUDIT_COLS}) SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], \
             $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])"
        ))
        .bind((first..end).collect::<Vec<i64>>())
        .bind(leaves.iter().map(|l| l.time.0).collect::<Vec<i64>>())
        .bind(text(|l| &l.category))
        .bind(text(|l| &l.action))
        .bind(opt(|l| l.actor.as_deref()))
        .bind(opt(|l| l.resource.as_deref()))
        .bind(text(|l| &l.outcome))
        .bind(opt(|l| l.project.as_deref()))
        .bind(opt(|l| l.request_id.as_deref()))
        .bind(text(|l| &l.event))
        .bind(leaves.iter().map(|l| l.leaf_hash.as_slice()).collect::<Vec<&[u8]>>())
        .execute(&mut **tx)
        .await
        .map_err(map_err("audit entry"))?;
        Ok(())
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// Connects to a `postgres://` URL and applies pending migrations. `acquire_timeout`
/// bounds how long a request waits for the database before answering 503. Write
/// transactions take connections from the same pool (row locks order them).
pub async fn connect(url: &str, acquire_timeout: Duration) -> Result<PostgresStore, StoreError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(acquire_timeout)
        .connect_with(options)
        .await
        .map_err(map_err("connection"))?;
    migrate(&pool).await?;
    Ok(SqlStore::new(pool.clone(), pool))
}

async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let err = map_err("migration");
    let mut tx = pool.begin().await.map_err(&err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await.map_err(&err)?;
    sqlx::query(
            "CREATE TABLE IF NOT EXISTS warden_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM warden_migrations")
        .fetch_one(&mut *tx)
        .await
        .map_err(&err)?
        .try_get("v")
        .map_err(&err)?;
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(&err)?;
        sqlx::query("INSERT INTO warden_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
    }
    tx.commit().await.map_err(&err)?;
    Ok(())
}

/// Test support: a fresh schema per test on the server named by `WARDEN_TEST_POSTGRES`.
pub mod testing {
    use super::*;

    /// The URL of the test server, or `None` when `WARDEN_TEST_POSTGRES` is unset. Tests
    /// that need it are `#[ignore]`d and expect it: run with `--ignored` and no server
    /// named, they fail; with one named, they fail (not skip) if it is unreachable.
    pub fn test_url() -> Option<String> {
        std::env::var("WARDEN_TEST_POSTGRES").ok().filter(|s| !s.is_empty())
    }

    /// Creates a new empty schema and returns a URL whose connections use it.
    pub async fn fresh_schema(base_url: &str, label: &str) -> Result<String, StoreError> {
        let schema = format!(
            "warden_test_{}_{}_{}",
            label,
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        );
        let pool =
            PgPoolOptions::new().max_connections(1).connect(base_url).await.map_err(map_err("test connection"))?;
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.map_err(map_err("test schema"))?;
        pool.close().await;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        Ok(format!("{base_url}{sep}options=-c%20search_path%3D{schema}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[ignore = "needs WARDEN_TEST_POSTGRES (a PostgreSQL server URL); .ci/run sets it and runs ignored tests"]
    async fn shared_suite() {
        let base = testing::test_url().expect("WARDEN_TEST_POSTGRES must name a PostgreSQL server for this test");
        let url = testing::fresh_schema(&base, "suite").await.expect("PostgreSQL must be reachable");
        let store = connect(&url, Duration::from_secs(5)).await.unwrap();
        warden_store::suite::run(&store).await;
        // Connecting again (a second replica) applies nothing twice.
        let again = connect(&url, Duration::from_secs(5)).await.unwrap();
        use warden_store::IdentityStore;
        assert!(again.count_subjects().await.unwrap() > 0);
    }
}
