//! Rust code in migrations: `s.run(name, code)`, and the connection the code gets, [`Db`].
//!
//! ```
//! use godwit_core::prelude::*; // in a migrations crate: `use godwit::prelude::*;`
//! use godwit_runner::RunCode;
//! use sea_query::Query;
//!
//! struct LowercaseEmails;
//! impl Migration for LowercaseEmails {
//!     fn up(&self, s: &mut Schema) {
//!         s.run("lowercase emails", |db| Box::pin(async move {
//!             let select = Query::select().columns(["id", "email"]).from("users").to_owned();
//!             for row in db.fetch_all(&select).await? {
//!                 let (id, email): (i64, String) = (row.get("id")?, row.get("email")?);
//!                 let update = Query::update()
//!                     .table("users")
//!                     .value("email", email.to_lowercase())
//!                     .and_where(Expr::col("id").eq(id))
//!                     .to_owned();
//!                 db.execute(&update).await?;
//!             }
//!             Ok(())
//!         }));
//!     }
//!     fn down(&self, s: &mut Schema) {
//!         s.irreversible("the original casing of emails is gone");
//!     }
//! }
//! ```
//!
//! **Invariant:** the code runs on the migration's own connection, inside its transaction where
//! the backend has one (PostgreSQL, SQLite; MySQL/MariaDB commit DDL implicitly), so a failure
//! rolls back the code's changes together with the migration's schema changes. Values are
//! always bound, never written into the SQL text.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use godwit_core::render::query;
use godwit_core::{Backend, Code, Schema};
use sea_query::{QueryStatementWriter, Value, ValueType};

use crate::connect::Conn;
use crate::error::{Timeout, db_reason, timeout_kind};

/// The error a migration's Rust code returns: anything, through `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The future a migration's Rust code returns: `Box::pin(async move { .. })`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The type of a migration's Rust code, as the runner stores and calls it.
type CodeFn =
    dyn for<'a, 'c> Fn(&'a mut Db<'c>) -> BoxFuture<'a, Result<(), BoxError>> + Send + Sync;

/// `s.run(..)`: record Rust code in a migration.
pub trait RunCode {
    /// Run `code` against the database when the migration runs, inside its transaction:
    /// `s.run("lowercase emails", |db| Box::pin(async move { ...; Ok(()) }))`. `sql` and
    /// `--dry-run` show it as a named step. Without a `down` that undoes it, the migration
    /// cannot be rolled back.
    fn run<F>(&mut self, name: impl Into<String>, code: F)
    where
        F: for<'a, 'c> Fn(&'a mut Db<'c>) -> BoxFuture<'a, Result<(), BoxError>>
            + Send
            + Sync
            + 'static;
}

impl RunCode for Schema {
    fn run<F>(&mut self, name: impl Into<String>, code: F)
    where
        F: for<'a, 'c> Fn(&'a mut Db<'c>) -> BoxFuture<'a, Result<(), BoxError>>
            + Send
            + Sync
            + 'static,
    {
        let code: Box<CodeFn> = Box::new(code);
        self.run_code(name, Code(Arc::new(code)));
    }
}

/// Call the code `code` holds on `conn`.
pub(crate) async fn call(code: &Code, conn: &mut Conn) -> Result<(), BoxError> {
    let Some(f) = code.0.downcast_ref::<Box<CodeFn>>() else {
        return Err("this Rust code was recorded by another version of godwit: rebuild the migrations binary".into());
    };
    let mut db = Db { conn };
    f(&mut db).await
}

/// Why Rust code failed, for the runner's message; a lock timeout is recognized so that the
/// migration can be tried again.
pub(crate) fn describe(e: &BoxError) -> (String, Option<Timeout>) {
    match e.downcast_ref::<DataError>() {
        Some(DataError::Database { reason, timeout }) => (reason.clone(), *timeout),
        _ => (e.to_string(), None),
    }
}

/// An error of [`Db`] or [`Row`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The database refused the statement.
    #[error("{reason}")]
    Database {
        /// The database's error: its message and code when it answered.
        reason: String,
        #[doc(hidden)]
        timeout: Option<Timeout>,
    },
    /// [`Row::get`] or [`Row::value`] asked for a column the row does not have.
    #[error("the row has no column `{column}` (it has {columns}): select it, or fix the name")]
    NoColumn {
        /// The column asked for.
        column: String,
        /// The row's columns, each in backticks, separated by `, `.
        columns: String,
    },
    /// [`Row::get`] asked for a type the column's value cannot be read as.
    #[error("column `{column}` holds {value}, which is not a {wanted}: read it as its own type")]
    WrongType {
        /// The column.
        column: String,
        /// The value, as sea-query's `Value` debug-prints it.
        value: String,
        /// The Rust type asked for, by its full path.
        wanted: &'static str,
    },
    /// [`Db::fetch_one`] found no row.
    #[error("the query returned no row, where one was expected")]
    NoRow,
}

impl From<sqlx::Error> for DataError {
    fn from(e: sqlx::Error) -> Self {
        DataError::Database {
            reason: db_reason(&e),
            timeout: timeout_kind(&e),
        }
    }
}

/// The migration's connection, as its Rust code sees it: sea-query statements in, rows out.
pub struct Db<'c> {
    conn: &'c mut Conn,
}

impl std::fmt::Debug for Db<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.backend())
    }
}

impl Db<'_> {
    /// The backend the migration runs on, for code that must differ per backend.
    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    /// Run an `INSERT`, `UPDATE` or `DELETE` built with sea-query; returns the rows it changed.
    pub fn execute<S: QueryStatementWriter>(
        &mut self,
        statement: &S,
    ) -> impl Future<Output = Result<u64, DataError>> + Send + '_ {
        let st = exact(self.backend(), query(self.backend(), statement));
        async move { Ok(self.conn.execute_rows(&st).await?) }
    }

    /// Run a `SELECT` built with sea-query; returns every row.
    pub fn fetch_all<S: QueryStatementWriter>(
        &mut self,
        statement: &S,
    ) -> impl Future<Output = Result<Vec<Row>, DataError>> + Send + '_ {
        let st = exact(self.backend(), query(self.backend(), statement));
        async move {
            let (columns, rows) = crate::values::fetch_values(self.conn, &st, None).await?;
            let columns: Arc<[String]> = columns.into();
            Ok(rows
                .into_iter()
                .map(|values| Row {
                    columns: columns.clone(),
                    values,
                })
                .collect())
        }
    }

    /// Run a `SELECT` that returns exactly one row.
    pub fn fetch_one<S: QueryStatementWriter>(
        &mut self,
        statement: &S,
    ) -> impl Future<Output = Result<Row, DataError>> + Send + '_ {
        let rows = self.fetch_all(statement);
        async move { rows.await?.into_iter().next().ok_or(DataError::NoRow) }
    }
}

/// `st` with its values as `backend` keeps them exactly: a decimal as the text of its digits on
/// MySQL/MariaDB and SQLite (see [`godwit_core::render::stored_value`]).
fn exact(backend: Backend, mut st: godwit_core::Statement) -> godwit_core::Statement {
    st.values.0 = std::mem::take(&mut st.values.0)
        .into_iter()
        .map(|v| godwit_core::render::stored_value(backend, v))
        .collect();
    st
}

/// One row a query returned: its values by column name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// The value of `column` as `T` (`i64`, `String`, `Option<String>`, `bool`, ...).
    pub fn get<T: ValueType>(&self, column: &str) -> Result<T, DataError> {
        let value = self.value(column)?;
        if let Ok(v) = <T as ValueType>::try_from(value.clone()) {
            return Ok(v);
        }
        // An integer or float of another width: backends report `integer` as 32 bits, `count(*)`
        // as 64, ... Each width it fits is tried.
        widths(value)
            .into_iter()
            .find_map(|v| <T as ValueType>::try_from(v).ok())
            .ok_or_else(|| DataError::WrongType {
                column: column.to_string(),
                value: format!("{value:?}"),
                wanted: std::any::type_name::<T>(),
            })
    }

    /// The value of `column` as it came from the database.
    pub fn value(&self, column: &str) -> Result<&Value, DataError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| DataError::NoColumn {
                column: column.to_string(),
                columns: self
                    .columns
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The column names, in the query's order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// `value` in every other width of its kind that holds it exactly.
fn widths(value: &Value) -> Vec<Value> {
    let int = match value {
        Value::TinyInt(Some(n)) => Some(i64::from(*n)),
        Value::SmallInt(Some(n)) => Some(i64::from(*n)),
        Value::Int(Some(n)) => Some(i64::from(*n)),
        Value::BigInt(Some(n)) => Some(*n),
        Value::TinyUnsigned(Some(n)) => Some(i64::from(*n)),
        Value::SmallUnsigned(Some(n)) => Some(i64::from(*n)),
        Value::Unsigned(Some(n)) => Some(i64::from(*n)),
        Value::BigUnsigned(Some(n)) => <i64 as TryFrom<_>>::try_from(*n).ok(),
        _ => None,
    };
    if let Some(n) = int {
        let mut out = vec![Value::BigInt(Some(n))];
        out.extend(
            <i32 as TryFrom<_>>::try_from(n)
                .ok()
                .map(|n| Value::Int(Some(n))),
        );
        out.extend(
            <i16 as TryFrom<_>>::try_from(n)
                .ok()
                .map(|n| Value::SmallInt(Some(n))),
        );
        out.extend(
            <i8 as TryFrom<_>>::try_from(n)
                .ok()
                .map(|n| Value::TinyInt(Some(n))),
        );
        out.extend(
            <u64 as TryFrom<_>>::try_from(n)
                .ok()
                .map(|n| Value::BigUnsigned(Some(n))),
        );
        out.extend(
            <u32 as TryFrom<_>>::try_from(n)
                .ok()
                .map(|n| Value::Unsigned(Some(n))),
        );
        // SQLite and MySQL have no boolean type: 0 and 1 are read as booleans too.
        if n == 0 || n == 1 {
            out.push(Value::Bool(Some(n == 1)));
        }
        return out;
    }
    match value {
        Value::Float(Some(f)) => vec![Value::Double(Some(f64::from(*f)))],
        _ => Vec::new(),
    }
}
