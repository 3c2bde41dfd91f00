//! The SQL both engines share, in plain Rust generic over the sqlx database.
//!
//! [`SqlStore`] implements every repository trait once, for any engine whose database
//! is a [`SqlDb`] (sqlx's bounds, written once in `db.rs`). Rows are read through
//! [`Columns`], implemented once for every sqlx row, so the row decoders are plain
//! functions. An engine crate names its database and its audit group commit through
//! [`Engine`].

mod audit;
mod catalog;
mod columns;
mod db;
mod gateway;
mod identity;
mod registry;
mod release;

use std::collections::BTreeSet;
use std::future::Future;
use std::marker::PhantomData;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::{Database, Pool, Transaction};
use warden_core::{
    ArtifactId, DatasetId, DeletionId, GroupId, ModelId, PrincipalKind, ProjectId, ReleaseId, Role, SignerId,
    SubjectId, Timestamp, TokenId, TransferId, UploadId,
};

pub use self::audit::AUDIT_COLS;
pub use self::columns::{Columns, ColumnsExt, FromColumn};
pub use self::db::{Arg, Bind, On, Query, QueryExt, SqlDb};
use crate::*;

/// What differs between engines.
pub trait Engine: Send + Sync + 'static {
    /// The sqlx database.
    type Db: SqlDb;
    /// The engine's name, for logs and `config show`.
    const NAME: &'static str;

    /// The audit group commit's writes: `leaves` as entries `first, first + 1, …` in
    /// [`AUDIT_COLS`] order, inside `tx`, which already holds the log's head row. The one
    /// statement where the engines are allowed to differ: it is the ledger's hot path.
    fn insert_audit(
        tx: &mut Transaction<'static, Self::Db>,
        first: i64,
        leaves: &[AuditLeaf],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &<Self::Db as Database>::QueryResult) -> u64;

    /// The whole group commit of `leaves` (no tiles) in one call to the database, where
    /// the engine can: it returns the first entry's index, or `None` to take the
    /// generic path (a transaction of several statements). The same rows either way.
    fn append_audit_at_once(
        writer: &Pool<Self::Db>,
        leaves: &[AuditLeaf],
    ) -> impl Future<Output = Option<Result<u64>>> + Send {
        let _ = (writer, leaves);
        async { None }
    }
}

/// Every repository over one database: reads go to `pool`, write transactions to
/// `writer` (SQLite: one connection, which queues writers; PostgreSQL: the same pool).
pub struct SqlStore<E: Engine> {
    pool: Pool<E::Db>,
    writer: Pool<E::Db>,
    /// The engine's background work (SQLite's WAL checkpoints), stopped with the store.
    tasks: Vec<AbortOnDrop>,
    engine: PhantomData<fn() -> E>,
}

/// A task that ends when its owner is dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<E: Engine> SqlStore<E> {
    /// A store over pools the engine has opened and migrated.
    pub fn new(pool: Pool<E::Db>, writer: Pool<E::Db>) -> Self {
        Self { pool, writer, tasks: Vec::new(), engine: PhantomData }
    }

    /// Keeps `task` running for as long as the store lives.
    pub fn with_task(mut self, task: tokio::task::JoinHandle<()>) -> Self {
        self.tasks.push(AbortOnDrop(task.abort_handle()));
        self
    }

    async fn begin_write(&self) -> Result<Transaction<'static, E::Db>> {
        self.writer.begin().await.map_err(map_err("transaction"))
    }
}

#[async_trait]
impl<E, DB> Store for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    fn engine(&self) -> &'static str {
        E::NAME
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query::<DB>("SELECT 1").run(&self.pool).await.map_err(map_err("ping"))?;
        Ok(())
    }
}

pub fn map_err(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.to_string()),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::Missing(format!("a record referenced by {what}"))
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Tls(e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::PoolTimedOut => StoreError::Unavailable("timed out waiting for a connection".into()),
        sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".into()),
        sqlx::Error::WorkerCrashed => StoreError::Unavailable("the database worker stopped".into()),
        other => StoreError::Internal(other.to_string()),
    }
}

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("corrupt {what} row: {e}"))
}

fn u64_of(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|e| bad(what, e))
}

fn subject_of(s: &str, what: &str) -> Result<SubjectId> {
    SubjectId::parse(s).map_err(|e| bad(what, e))
}

fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::OutOfRange(v.to_string()))
}

/// `rows` groups of `cols` placeholders for a multi-row VALUES: `($1,$2),($3,$4)`.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

fn collect<R: Columns, T>(rows: Vec<R>, f: fn(&dyn Columns) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(|r| f(r)).collect()
}

impl<E, DB> SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    /// One row by a single text key, decoded, or none.
    async fn optional<T>(
        pool: &sqlx::Pool<DB>,
        sql: &str,
        key: &str,
        decode: fn(&dyn Columns) -> Result<T>,
        what: &str,
    ) -> Result<Option<T>> {
        sqlx::query::<DB>(sql)
            .arg(key)
            .maybe(pool)
            .await
            .map_err(map_err(what))?
            .as_ref()
            .map(|r| decode(r))
            .transpose()
    }
}
