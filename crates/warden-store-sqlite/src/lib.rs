//! Warden's embedded store: SQLite through sqlx, in WAL mode with `synchronous=FULL`, so
//! a commit is on disk before it is acknowledged.

#![forbid(unsafe_code)]

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
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

/// Creates the file readable and writable by its owner only (0600), or narrows an
/// existing one to that: the database holds password hashes and the audit ledger.
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |e: std::io::Error| StoreError::Unavailable(format!("cannot create {}: {e}", path.display()));
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// SQLite as a [`warden_store::Store`] engine.
pub struct SqliteEngine;

/// Warden's store on SQLite.
pub type SqliteStore = SqlStore<SqliteEngine>;

/// Rows in the next audit INSERT: the largest power of two up to 256 that fits what is
/// left.
fn audit_chunk(left: usize) -> usize {
    1 << (usize::BITS - 1 - left.min(256).leading_zeros())
}

impl Engine for SqliteEngine {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";

    /// Multi-row INSERTs in power-of-two chunks: a handful of statement shapes, each
    /// prepared once and cached, instead of a new statement for every batch size.
    async fn insert_audit(
        tx: &mut Transaction<'static, Sqlite>,
        first: i64,
        leaves: &[AuditLeaf],
    ) -> Result<(), StoreError> {
        let mut at = 0usize;
        while at < leaves.len() {
            let len = audit_chunk(leaves.len() - at);
            let chunk = &leaves[at..at + len];
            let base = first + at as i64;
            at += len;
            let mut qb = sqlx::QueryBuilder::<Sqlite>::new(format!("INSERT INTO audit_log ({AUDIT_COLS}) "));
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, l)| {
                b.push_bind(base + i as i64)
                    .push_bind(l.time.0)
                    .push_bind(l.category.as_str())
                    .push_bind(l.action.as_str())
                    .push_bind(l.actor.as_deref())
                    .push_bind(l.resource.as_deref())
                    .push_bind(l.outcome.as_str())
                    .push_bind(l.project.as_deref())
                    .push_bind(l.request_id.as_deref())
                    .push_bind(l.event.as_str())
                    .push_bind(l.leaf_hash.as_slice());
            });
            qb.build().execute(&mut **tx).await.map_err(map_err("audit entry"))?;
        }
        Ok(())
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    /// A lone writer's commit (a batch of one entry) as one multi-statement call:
    /// `BEGIN IMMEDIATE`, the head moved, the row inserted below it, `COMMIT`. The
    /// generic path makes each of those a round trip to the connection's thread
    /// (measured at concurrency 1: 8 context switches per commit). Larger batches keep
    /// the generic path, which measured faster for them (at concurrency 64).
    async fn append_audit_at_once(writer: &SqlitePool, leaves: &[AuditLeaf]) -> Option<Result<u64, StoreError>> {
        match leaves {
            [leaf] => Some(append_at_once(writer, leaf).await),
            _ => None,
        }
    }
}

/// A lone writer's commit: `?1`… the entry's ten values, at the index below the head
/// it moved.
fn at_once_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "BEGIN IMMEDIATE;
             UPDATE audit_head SET size = size + 1 WHERE id = 1 RETURNING size;
             INSERT INTO audit_log ({AUDIT_COLS})
             SELECT size - 1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 FROM audit_head WHERE id = 1;
             COMMIT;"
        )
    })
}

async fn append_at_once(writer: &SqlitePool, l: &AuditLeaf) -> Result<u64, StoreError> {
    let mut conn = writer.acquire().await.map_err(map_err("transaction"))?;
    let q = sqlx::query::<Sqlite>(at_once_sql())
        .bind(l.time.0)
        .bind(l.category.as_str())
        .bind(l.action.as_str())
        .bind(l.actor.as_deref())
        .bind(l.resource.as_deref())
        .bind(l.outcome.as_str())
        .bind(l.project.as_deref())
        .bind(l.request_id.as_deref())
        .bind(l.event.as_str())
        .bind(l.leaf_hash.as_slice());
    match q.fetch_all(&mut *conn).await {
        Ok(rows) => {
            let end: i64 = rows
                .first()
                .ok_or_else(|| StoreError::Internal("the audit head returned no size".into()))?
                .try_get("size")
                .map_err(map_err("audit head"))?;
            u64::try_from(end - 1).map_err(|e| StoreError::Internal(format!("audit head: {e}")))
        }
        Err(e) => {
            // Whatever statement failed, nothing of the batch stays: roll back what
            // the call began, and let the pool replace the connection.
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            conn.close_on_drop();
            Err(map_err("audit append")(e))
        }
    }
}

/// Opens (creating if needed) the database file and applies pending migrations.
pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
    owner_only(path)?;
    let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
    let store = connect(options).await?;
    // SQLite gives the write-ahead log and shared-memory files the database's mode;
    // those left by an older version are narrowed too.
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if Path::new(&p).exists() {
            owner_only(Path::new(&p))?;
        }
    }
    Ok(store)
}

/// Opens a `sqlite:` URL.
pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad sqlite URL: {e}")))?
        .create_if_missing(true);
    connect(options).await
}

async fn connect(options: SqliteConnectOptions) -> Result<SqliteStore, StoreError> {
    let options = options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Small page caches on the reading connections (1 MB): each of the eight keeps
        // its own, and a long read (the audit scrub, a full export) spread over them
        // held 128 MB at 16 MB each. The operating system caches the file anyway.
        .pragma("cache_size", "-1024")
        // No commit runs a WAL checkpoint (one that did held its caller for tens of
        // milliseconds); `checkpoints` runs them beside the commits instead. Durability
        // is unchanged: a commit is durable once its WAL frames are synced.
        .pragma("wal_autocheckpoint", "0")
        // When the log starts again, its file is cut back to 64 MB.
        .pragma("journal_size_limit", "67108864");
    // A connection to a local file does not go stale as a network connection can: no
    // ping before each use (sqlx's default), which cost every query a second round trip
    // to the connection's thread (measured: two context switches per query).
    let pool = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
        .map_err(map_err("connection"))?;
    // One connection for write transactions. SQLite admits one writer at a time
    // anyway; keeping them on one connection keeps its page cache warm (a connection
    // drops its whole cache when it sees another connection's commit) and queues
    // writers in the pool instead of in busy-retry loops. It keeps a larger page
    // cache (16 MB): the hot pages of the audit log and its indexes stay in it.
    let writer = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.pragma("cache_size", "-16384"))
        .await
        .map_err(map_err("connection"))?;
    migrate(&pool).await?;
    let checkpoints = tokio::spawn(checkpoints(pool.clone(), writer.clone()));
    Ok(SqlStore::new(pool, writer).with_task(checkpoints))
}

/// How often the WAL is copied back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A write-ahead log longer than this many pages (64 MB of 4 KB pages) after a
/// checkpoint has its last frames copied from the writer's connection, so that it
/// starts again from the beginning.
const WAL_RESTART_FRAMES: i64 = if cfg!(test) { 256 } else { 16_384 };

/// Copies the write-ahead log back into the database file every second, PASSIVE: on a
/// reading connection, without waiting for readers or holding up writers, so that no
/// commit pays for a checkpoint. The next writer restarts the log once a checkpoint has
/// copied all of it; under steady appends that never happens (each commit adds frames
/// while the checkpoint copies), and the log grew to the size of the database (6 GB
/// for a 10M-entry audit log). So once the log is long, the few frames left are copied
/// from the writer's own connection, between two commits: a pause of milliseconds once
/// in a while, and the log starts again (`journal_size_limit` then trims the file).
async fn checkpoints(pool: SqlitePool, writer: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await {
            Ok(row) => {
                let log: i64 = row.try_get(1).unwrap_or(0);
                if log >= WAL_RESTART_FRAMES {
                    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&writer).await {
                        tracing::warn!(error = %e, "could not checkpoint the SQLite write-ahead log");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not checkpoint the SQLite write-ahead log"),
        }
    }
}

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let err = map_err("migration");
    let mut conn = pool.acquire().await.map_err(&err)?;
    // One writer at a time: IMMEDIATE takes the write lock before reading the version.
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(&err)?;
    let result = async {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS warden_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
            )
            .execute(&mut *conn)
            .await?;
            let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM warden_migrations")
                .fetch_one(&mut *conn)
                .await?
                .try_get("v")?;
            for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
                sqlx::raw_sql(sql).execute(&mut *conn).await?;
                sqlx::query("INSERT INTO warden_migrations (version, name, applied_at) VALUES ($1, $2, strftime('%s','now'))")
                    .bind(version)
                    .bind(name)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
    match result {
        Ok(()) => {
            sqlx::query("COMMIT").execute(&mut *conn).await.map_err(&err)?;
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(err(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shared_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("warden.db")).await.unwrap();
        warden_store::suite::run(&store).await;
    }

    /// Commits never checkpoint (`wal_autocheckpoint = 0`); the store's own task copies
    /// the log back into the database file within a couple of seconds.
    #[tokio::test]
    async fn the_write_ahead_log_is_checkpointed_beside_the_commits() {
        use warden_store::AuditStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warden.db");
        let store = open(&path).await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        for b in 0..20u64 {
            let leaves: Vec<AuditLeaf> = (0..100u64)
                .map(|i| AuditLeaf {
                    time: warden_core::Timestamp((b * 100 + i) as i64),
                    category: "system".into(),
                    action: "test.event".into(),
                    actor: Some(format!("usr_{i}")),
                    resource: None,
                    outcome: "success".into(),
                    project: None,
                    request_id: None,
                    event: format!("{{\"i\":{}}}", b * 100 + i),
                    leaf_hash: vec![0; 32],
                })
                .collect();
            store.append_audit(&leaves).await.unwrap();
        }
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() <= before {
            assert!(std::time::Instant::now() < until, "the log was never checkpointed into the database file");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Under appends that never pause, the write-ahead log still starts again from its
    /// beginning (it grew without end before): the checkpoint sequence number in its
    /// header (bytes 12 to 16) counts the restarts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_write_ahead_log_starts_again_under_appends_that_never_pause() {
        use warden_store::AuditStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warden.db");
        let store = open(&path).await.unwrap();
        let wal = dir.path().join("warden.db-wal");
        let restarts = || {
            let header = std::fs::read(&wal).unwrap_or_default();
            header.get(12..16).map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap()))
        };
        let leaves: Vec<AuditLeaf> = (0..200)
            .map(|i| AuditLeaf {
                time: warden_core::Timestamp(i as i64),
                category: "system".into(),
                action: "test.event".into(),
                actor: Some(format!("usr_{}", i % 37)),
                resource: None,
                outcome: "success".into(),
                project: None,
                request_id: Some(format!("req_{i:020}")),
                event: format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(300)),
                leaf_hash: vec![0; 32],
            })
            .collect();
        // Three writers, so that one always waits for the write lock: no moment between
        // commits for a checkpoint on the side to catch up.
        let store = std::sync::Arc::new(store);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let (store, stop, leaves) = (store.clone(), stop.clone(), leaves.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        store.append_audit(&leaves).await.unwrap();
                        n += leaves.len() as u64;
                    }
                    n
                })
            })
            .collect();
        let start = std::time::Instant::now();
        while restarts() < 2 && start.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut n = 0;
        for w in writers {
            n += w.await.unwrap();
        }
        assert!(restarts() >= 2, "the log never started again in {:?}", start.elapsed());
        assert_eq!(store.audit_size().await.unwrap(), n, "every append kept");
    }

    fn test_leaf(i: u64, action: &str) -> AuditLeaf {
        AuditLeaf {
            time: warden_core::Timestamp(i as i64),
            category: "system".into(),
            action: action.into(),
            actor: Some(format!("usr_{i}")),
            resource: None,
            outcome: "success".into(),
            project: None,
            request_id: None,
            event: format!("{{\"i\":{i}}}"),
            leaf_hash: vec![i as u8; 32],
        }
    }

    /// A group commit fails whole, in one call (a lone entry) as in several (a batch):
    /// a row the database refuses leaves neither the head moved nor any row of it, the
    /// connection is usable afterwards, and the next entries continue the log without a
    /// gap, by either path.
    #[tokio::test]
    async fn a_refused_group_commit_leaves_nothing_and_the_log_continues() {
        use warden_store::AuditStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warden.db");
        let store = open(&path).await.unwrap();
        assert_eq!(store.append_audit(&[test_leaf(0, "ok")]).await.unwrap(), 0);
        // Another connection makes the database refuse entries of action `boom`.
        let other = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON audit_log WHEN NEW.action = 'boom' \
             BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
        )
        .execute(&other)
        .await
        .unwrap();
        for batch in [vec![test_leaf(1, "boom")], vec![test_leaf(1, "ok"), test_leaf(2, "boom")]] {
            assert!(store.append_audit(&batch).await.is_err(), "{batch:?}");
            assert_eq!(store.audit_size().await.unwrap(), 1, "the head did not move");
            assert_eq!(store.audit_entries(0, 10).await.unwrap().len(), 1, "no row of the batch stayed");
        }
        sqlx::query("DROP TRIGGER refuse_boom").execute(&other).await.unwrap();
        assert_eq!(store.append_audit(&[test_leaf(1, "ok")]).await.unwrap(), 1);
        assert_eq!(store.append_audit(&[test_leaf(2, "ok"), test_leaf(3, "ok")]).await.unwrap(), 2);
        assert_eq!(store.append_audit(&[4, 5, 6].map(|i| test_leaf(i, "ok"))).await.unwrap(), 4);
        let entries = store.audit_entries(0, 10).await.unwrap();
        assert_eq!(entries.iter().map(|e| e.index).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
        assert!(entries.iter().all(|e| e.leaf.leaf_hash == vec![e.index as u8; 32]), "each row where it belongs");
    }

    #[tokio::test]
    async fn migrations_are_idempotent_and_data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warden.db");
        {
            let store = open(&path).await.unwrap();
            warden_store::suite::run(&store).await;
        }
        let store = open(&path).await.unwrap();
        use warden_store::IdentityStore;
        assert!(store.count_subjects().await.unwrap() > 0);
    }
}
