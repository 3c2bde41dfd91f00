//! What the shared SQL needs of a database, as one bound: [`SqlDb`].
//!
//! sqlx is generic over databases through bounds on each value type and on each
//! executor. They are written once here, on a blanket impl, and the shared SQL asks only
//! `DB: SqlDb`: it binds values with [`QueryExt::arg`] and runs statements with
//! [`QueryExt::run`], [`QueryExt::one`], [`QueryExt::maybe`] and [`QueryExt::all`] on a
//! pool or a transaction's connection ([`On`]).

use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;
use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};

use super::Columns;

/// A statement with its arguments.
pub type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// Where a statement runs: the pool, or the connection of a transaction.
pub enum On<'e, DB: Database> {
    Pool(&'e Pool<DB>),
    Conn(&'e mut DB::Connection),
}

impl<'e, DB: Database> From<&'e Pool<DB>> for On<'e, DB> {
    fn from(p: &'e Pool<DB>) -> Self {
        On::Pool(p)
    }
}

impl<'e, DB: Database> From<&'e mut DB::Connection> for On<'e, DB> {
    fn from(c: &'e mut DB::Connection) -> Self {
        On::Conn(c)
    }
}

/// A value the code binds as a query parameter.
pub trait Bind<DB: Database>: for<'q> Encode<'q, DB> + Type<DB> {}
impl<DB: Database, T: for<'q> Encode<'q, DB> + Type<DB>> Bind<DB> for T {}

/// A sqlx database that runs Warden's shared SQL: it executes statements on pools and
/// connections, binds Warden's value types, and its rows are read through [`Columns`].
pub trait SqlDb: Database<Row: Columns> {
    fn run<'f, 'c: 'f, 'q: 'f>(q: Query<'q, Self>, on: On<'c, Self>) -> BoxFuture<'f, sqlx::Result<Self::QueryResult>>;
    fn one<'f, 'c: 'f, 'q: 'f>(q: Query<'q, Self>, on: On<'c, Self>) -> BoxFuture<'f, sqlx::Result<Self::Row>>;
    fn maybe<'f, 'c: 'f, 'q: 'f>(
        q: Query<'q, Self>,
        on: On<'c, Self>,
    ) -> BoxFuture<'f, sqlx::Result<Option<Self::Row>>>;
    fn all<'f, 'c: 'f, 'q: 'f>(q: Query<'q, Self>, on: On<'c, Self>) -> BoxFuture<'f, sqlx::Result<Vec<Self::Row>>>;
    fn int(q: Query<'_, Self>, v: Option<i64>) -> Query<'_, Self>;
    fn flag(q: Query<'_, Self>, v: bool) -> Query<'_, Self>;
    fn owned_text(q: Query<'_, Self>, v: Option<String>) -> Query<'_, Self>;
    fn text<'q>(q: Query<'q, Self>, v: Option<&'q str>) -> Query<'q, Self>;
    fn bytes<'q>(q: Query<'q, Self>, v: Option<&'q [u8]>) -> Query<'q, Self>;
}

impl<DB> SqlDb for DB
where
    DB: Database<Row: Columns>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    Option<i64>: Bind<DB>,
    bool: Bind<DB>,
    Option<String>: Bind<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q [u8]>: Encode<'q, DB> + Type<DB>,
{
    fn run<'f, 'c: 'f, 'q: 'f>(q: Query<'q, Self>, on: On<'c, Self>) -> BoxFuture<'f, sqlx::Result<Self::QueryResult>> {
        match on {
            On::Pool(p) => q.execute(p).boxed(),
            On::Conn(c) => q.execute(c).boxed(),
        }
    }
    fn one<'f, 'c: 'f, 'q: 'f>(q: Query<'q, Self>, on: On<'c, Self>) -> BoxFuture<'f, sqlx::Result<Self::Row>> {
        match on {
            On::Pool(p) => q.fetch_one(p).boxed(),
            On::Conn(c) => q.fetch_one(c).boxed(),
        }
    }
    fn maybe<'f, 'c: 'f, 'q: 'f>(
        q: Query<'q, Self>,
        on: On<'c, Self>,
    ) -> BoxFuture<'f, sqlx::Result<Option<Self::Row>>> {
        match on {
            On::Pool(p) => q.fetch_optional(p).boxed(),
            On::Conn(c) => q.fetch_optional(c).boxed(),
        }
    }
    fn all<'f, 'c: 'f, 'q: 'f>(q: Query<'q, Self>, on: On<'c, Self>) -> BoxFuture<'f, sqlx::Result<Vec<Self::Row>>> {
        match on {
            On::Pool(p) => q.fetch_all(p).boxed(),
            On::Conn(c) => q.fetch_all(c).boxed(),
        }
    }
    fn int(q: Query<'_, Self>, v: Option<i64>) -> Query<'_, Self> {
        q.bind(v)
    }
    fn flag(q: Query<'_, Self>, v: bool) -> Query<'_, Self> {
        q.bind(v)
    }
    fn owned_text(q: Query<'_, Self>, v: Option<String>) -> Query<'_, Self> {
        q.bind(v)
    }
    fn text<'q>(q: Query<'q, Self>, v: Option<&'q str>) -> Query<'q, Self> {
        q.bind(v)
    }
    fn bytes<'q>(q: Query<'q, Self>, v: Option<&'q [u8]>) -> Query<'q, Self> {
        q.bind(v)
    }
}

/// A value bound as a parameter: integers, flags, text and bytes, each maybe NULL.
pub trait Arg<'q>: 'q {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB>;
}

impl<'q> Arg<'q> for i64 {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::int(q, Some(self))
    }
}
impl<'q> Arg<'q> for Option<i64> {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::int(q, self)
    }
}
impl<'q> Arg<'q> for bool {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::flag(q, self)
    }
}
impl<'q> Arg<'q> for String {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::owned_text(q, Some(self))
    }
}
impl<'q> Arg<'q> for Option<String> {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::owned_text(q, self)
    }
}
impl<'q> Arg<'q> for &'q str {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::text(q, Some(self))
    }
}
impl<'q> Arg<'q> for Option<&'q str> {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::text(q, self)
    }
}
impl<'q> Arg<'q> for &'q String {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::text(q, Some(self.as_str()))
    }
}
impl<'q> Arg<'q> for &'q Option<String> {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::text(q, self.as_deref())
    }
}
impl<'q> Arg<'q> for &'q [u8] {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::bytes(q, Some(self))
    }
}
impl<'q> Arg<'q> for Option<&'q [u8]> {
    fn bind_to<DB: SqlDb>(self, q: Query<'q, DB>) -> Query<'q, DB> {
        DB::bytes(q, self)
    }
}

/// Binding and running a statement over any [`SqlDb`].
pub trait QueryExt<'q, DB: SqlDb>: Sized {
    /// Binds the next parameter.
    fn arg(self, v: impl Arg<'q>) -> Self;
    fn run<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<DB::QueryResult>>
    where
        'q: 'f;
    fn one<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<DB::Row>>
    where
        'q: 'f;
    fn maybe<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<Option<DB::Row>>>
    where
        'q: 'f;
    fn all<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<Vec<DB::Row>>>
    where
        'q: 'f;
}

impl<'q, DB: SqlDb> QueryExt<'q, DB> for Query<'q, DB> {
    fn arg(self, v: impl Arg<'q>) -> Self {
        v.bind_to(self)
    }
    fn run<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<DB::QueryResult>>
    where
        'q: 'f,
    {
        DB::run(self, on.into())
    }
    fn one<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<DB::Row>>
    where
        'q: 'f,
    {
        DB::one(self, on.into())
    }
    fn maybe<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<Option<DB::Row>>>
    where
        'q: 'f,
    {
        DB::maybe(self, on.into())
    }
    fn all<'f, 'c: 'f>(self, on: impl Into<On<'c, DB>>) -> BoxFuture<'f, sqlx::Result<Vec<DB::Row>>>
    where
        'q: 'f,
    {
        DB::all(self, on.into())
    }
}
