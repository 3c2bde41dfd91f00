//! Reading a row's columns by name, once for every sqlx row.

use sqlx::{ColumnIndex, Decode, Row, Type};
use warden_core::Timestamp;

use crate::{Result, StoreError};

/// A row read by column name, in the four types Warden stores. `None` is SQL NULL.
pub trait Columns {
    fn text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<Option<i64>>;
    fn flag(&self, col: &str) -> Result<Option<bool>>;
    fn bytes(&self, col: &str) -> Result<Option<Vec<u8>>>;
}

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("corrupt row: column `{col}`: {e}"))
}

impl<R> Columns for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, col: &str) -> Result<Option<String>> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn int(&self, col: &str) -> Result<Option<i64>> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn flag(&self, col: &str) -> Result<Option<bool>> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
    fn bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        self.try_get(col).map_err(|e| corrupt(col, e))
    }
}

/// A Rust value read from one column.
pub trait FromColumn: Sized {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self>;
}

/// `row.col::<T>("name")` for every [`Columns`], the type usually inferred.
pub trait ColumnsExt: Columns {
    fn col<T: FromColumn>(&self, col: &str) -> Result<T> {
        T::read(self, col)
    }
}

impl<C: Columns + ?Sized> ColumnsExt for C {}

fn present<T>(v: Option<T>, col: &str) -> Result<T> {
    v.ok_or_else(|| corrupt(col, "NULL where a value is required"))
}

impl FromColumn for Option<String> {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        row.text(col)
    }
}
impl FromColumn for String {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        present(row.text(col)?, col)
    }
}
impl FromColumn for Option<i64> {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        row.int(col)
    }
}
impl FromColumn for i64 {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        present(row.int(col)?, col)
    }
}
impl FromColumn for bool {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        present(row.flag(col)?, col)
    }
}
impl FromColumn for Vec<u8> {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        present(row.bytes(col)?, col)
    }
}
impl FromColumn for Timestamp {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        i64::read(row, col).map(Timestamp)
    }
}
impl FromColumn for Option<Timestamp> {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        Ok(row.int(col)?.map(Timestamp))
    }
}
impl FromColumn for Option<Vec<u8>> {
    fn read<C: Columns + ?Sized>(row: &C, col: &str) -> Result<Self> {
        row.bytes(col)
    }
}
