//! The history table: which migrations ran, when, how long they took, and whether one stopped
//! part-way.
//!
//! ```text
//! godwit_migrations
//!   version       bigint        primary key: 20261120090000
//!   name          varchar(255)  create_tags
//!   checksum      varchar(80)   v1:<sha256 of the rendered SQL>
//!   status        varchar(16)   applied | partial | partial_down
//!   statement     integer       partial: the statement (1-based) that did not complete
//!   error         text          partial: the database's error, when there was one
//!   applied_at    timestamp     UTC
//!   execution_ms  bigint
//! ```
//!
//! **Invariant:** reading history never creates the table (`status` is read-only); the runner
//! creates it, under the lock, on the first `up`.

use godwit_core::{Backend, RenderedMigration, Statement};
use sea_query as sq;
use sea_query::{ExprTrait, QueryStatementWriter};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::connect::Conn;
use crate::error::{Error, db_reason};

/// The default name of the history table.
pub const DEFAULT_TABLE: &str = "godwit_migrations";

/// What history says of one migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// The migration ran to the end.
    Applied,
    /// `up` stopped part-way (a backend without transactional DDL, or a migration that runs
    /// outside a transaction).
    Partial,
    /// `down` stopped part-way.
    PartialDown,
}

impl RowStatus {
    /// The status as the history table stores it: `applied`, `partial` or `partial_down`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Applied => "applied",
            RowStatus::Partial => "partial",
            RowStatus::PartialDown => "partial_down",
        }
    }

    fn parse(s: &str) -> Option<RowStatus> {
        match s {
            "applied" => Some(RowStatus::Applied),
            "partial" => Some(RowStatus::Partial),
            "partial_down" => Some(RowStatus::PartialDown),
            _ => None,
        }
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// The migration's version: `20261120090000`.
    pub version: u64,
    /// The migration's name when it was recorded.
    pub name: String,
    /// The [`checksum`] of the migration's statements when it was recorded.
    pub checksum: String,
    /// Whether it is applied, or stopped part-way up or down.
    pub status: RowStatus,
    /// For a partial migration: the statement (1-based) that did not complete.
    pub statement: Option<usize>,
    /// For a partial migration: the database's error, when there was one.
    pub error: Option<String>,
    /// When it was recorded, in UTC: when it finished, or for a partial one when it started.
    pub applied_at: OffsetDateTime,
    /// How long it ran, in milliseconds (0 when it was recorded by `baseline` or is partial).
    pub execution_ms: u64,
}

/// `v1:` and the SHA-256 of the migration's rendered statements (values written inline), one
/// per line.
pub fn checksum(m: &RenderedMigration) -> String {
    let mut hasher = Sha256::new();
    for st in &m.statements {
        hasher.update(st.preview.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hasher.finalize();
    let mut out = String::with_capacity(3 + 64);
    out.push_str("v1:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What godwit adds to the history table's name for the progress of batched steps.
pub(crate) const PROGRESS_SUFFIX: &str = "_batches";

/// The history table's name must be a plain identifier, on PostgreSQL optionally after a schema's
/// (`ops.godwit_migrations`), (so that it can be written unquoted in
/// the messages that tell users what SQL to run), and it and the names godwit derives
/// from it (`<name>_batches`) must fit `backend`'s identifier limit: PostgreSQL would cut a
/// longer one short, silently, to the history table's own name.
pub(crate) fn check_table_name(full: &str, backend: Backend) -> Result<(), Error> {
    let bad = |reason: &str| {
        Err(Error::HistoryTableName {
            name: full.to_string(),
            reason: reason.to_string(),
        })
    };
    // PostgreSQL: `schema.table` puts it in another schema than the connection's.
    let (schema, name) = split_schema(full);
    if let Some(schema) = schema {
        if backend != Backend::Postgres {
            return bad(&format!(
                "a schema for the history table (`{schema}.`) is PostgreSQL's: on {backend} give the table's name alone"
            ));
        }
        if name.contains('.') {
            return bad("give at most one schema: `schema.table`");
        }
        let mut chars = schema.chars();
        if !chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return bad(&format!(
                "its schema `{schema}` must be letters, digits and `_`, starting with a letter or `_`"
            ));
        }
    }
    let mut chars = name.chars();
    match chars.next() {
        None => return bad("it is empty"),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return bad("it must start with a letter or `_`");
        }
        _ => {}
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return bad("use letters, digits and `_` only");
    }
    if let Some(max) = backend.max_identifier_len() {
        let longest = name.len() + PROGRESS_SUFFIX.len();
        if longest > max {
            return bad(&format!(
                "it is {} characters long, and godwit also makes `{name}{PROGRESS_SUFFIX}` (the \
                 progress of batched steps), {longest} characters, over {backend}'s limit of {max}: \
                 use at most {} characters",
                name.len(),
                max - PROGRESS_SUFFIX.len()
            ));
        }
    }
    Ok(())
}

pub(crate) use godwit_core::render::{quote as quote_table, table_ref};
pub(crate) use godwit_core::types::split_schema;

/// The history table of one database.
#[derive(Debug, Clone)]
pub(crate) struct History {
    pub table: String,
    pub backend: Backend,
}

impl History {
    fn quoted(&self) -> String {
        quote_table(self.backend, &self.table)
    }

    fn fail(&self, action: &str, e: &sqlx::Error) -> Error {
        Error::Database {
            backend: self.backend,
            action: format!("{action} the history table {}", self.table),
            reason: db_reason(e),
        }
    }

    /// `CREATE TABLE IF NOT EXISTS ...`.
    pub fn create_sql(&self) -> String {
        let (timestamp, text, version) = match self.backend {
            Backend::Postgres => ("timestamptz", "text", "bigint"),
            Backend::MySql => ("datetime(6)", "text", "bigint"),
            Backend::Sqlite => ("text", "text", "integer"),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version {version} NOT NULL PRIMARY KEY, \
             name varchar(255) NOT NULL, checksum varchar(80) NOT NULL, status varchar(16) NOT NULL, \
             statement integer NULL, error {text} NULL, applied_at {timestamp} NOT NULL, \
             execution_ms bigint NOT NULL)",
            self.quoted()
        )
    }

    pub async fn create(&self, conn: &mut Conn) -> Result<(), Error> {
        if let (Some(schema), _) = split_schema(&self.table) {
            conn.batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await
                .map_err(|e| self.fail("creating the schema of", &e))?;
        }
        conn.batch(&self.create_sql())
            .await
            .map_err(|e| self.fail("creating", &e))
    }

    /// Whether the table exists, without creating it.
    pub async fn exists(&self, conn: &mut Conn) -> Result<bool, Error> {
        let sql = match self.backend {
            Backend::Postgres => {
                let (schema, table) = split_schema(&self.table);
                let schema = schema.map_or("current_schema()".to_string(), |s| format!("'{s}'"));
                format!(
                    "SELECT count(*)::bigint FROM information_schema.tables \
                     WHERE table_schema = {schema} AND table_name = '{table}'"
                )
            }
            Backend::MySql => format!(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = '{}'",
                self.table
            ),
            Backend::Sqlite => format!(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{}'",
                self.table
            ),
        };
        conn.scalar_i64(&sql)
            .await
            .map(|n| n > 0)
            .map_err(|e| self.fail("looking for", &e))
    }

    /// Every row, by version.
    pub async fn read(&self, conn: &mut Conn) -> Result<Vec<HistoryRow>, Error> {
        let sql = AssertSqlSafe(format!(
            "SELECT version, name, checksum, status, statement, error, applied_at, execution_ms \
             FROM {} ORDER BY version",
            self.quoted()
        ));
        let decode = |e: sqlx::Error| self.fail("reading", &e);
        let mut out = Vec::new();
        macro_rules! rows {
            ($c:expr, $at:expr) => {{
                let rows = sqlx::query(sql).fetch_all(&mut *$c).await.map_err(decode)?;
                for r in rows {
                    let applied_at: OffsetDateTime = $at(&r).map_err(decode)?;
                    let status: String = r.try_get(3).map_err(decode)?;
                    let version: i64 = r.try_get(0).map_err(decode)?;
                    out.push(HistoryRow {
                        version: u64::try_from(version).unwrap_or(0),
                        name: r.try_get(1).map_err(decode)?,
                        checksum: r.try_get(2).map_err(decode)?,
                        status: RowStatus::parse(&status).ok_or_else(|| Error::Database {
                            backend: self.backend,
                            action: format!("reading the history table {}", self.table),
                            reason: format!(
                                "version {version} has the unknown status `{status}` \
                                 (expected applied, partial or partial_down)"
                            ),
                        })?,
                        statement: r
                            .try_get::<Option<i32>, _>(4)
                            .map_err(decode)?
                            .map(|s| usize::try_from(s).unwrap_or(0)),
                        error: r.try_get(5).map_err(decode)?,
                        applied_at,
                        execution_ms: u64::try_from(r.try_get::<i64, _>(7).map_err(decode)?)
                            .unwrap_or(0),
                    });
                }
            }};
        }
        match conn {
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => rows!(c, |r: &sqlx::postgres::PgRow| r.try_get(6)),
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => rows!(c, |r: &sqlx::mysql::MySqlRow| r
                .try_get::<time::PrimitiveDateTime, _>(6)
                .map(|t| t.assume_utc())),
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c, _) => rows!(c, |r: &sqlx::sqlite::SqliteRow| r.try_get(6)),
        }
        Ok(out)
    }

    fn at(&self, t: OffsetDateTime) -> sq::Value {
        let t = t.to_offset(time::UtcOffset::UTC);
        match self.backend {
            Backend::MySql => {
                sq::Value::TimeDateTime(Some(time::PrimitiveDateTime::new(t.date(), t.time())))
            }
            _ => sq::Value::TimeDateTimeWithTimeZone(Some(t)),
        }
    }

    fn build(&self, stmt: &impl QueryStatementWriter) -> Statement {
        godwit_core::render::query(self.backend, stmt)
    }

    /// Insert the row of a migration: `applied`, or `partial` at statement 1 before a
    /// migration that runs statement by statement.
    pub fn insert(
        &self,
        m: &RenderedMigration,
        status: RowStatus,
        at: OffsetDateTime,
        execution_ms: u64,
    ) -> Statement {
        let statement = match status {
            RowStatus::Applied => sq::Value::Int(None),
            _ => sq::Value::Int(Some(1)),
        };
        let mut stmt = sq::Query::insert();
        stmt.into_table(table_ref(&self.table))
            .columns([
                "version",
                "name",
                "checksum",
                "status",
                "statement",
                "applied_at",
                "execution_ms",
            ])
            .values_panic([
                sq::Expr::val(m.id.version as i64),
                sq::Expr::val(m.id.name.clone()),
                sq::Expr::val(checksum(m)),
                sq::Expr::val(status.as_str()),
                sq::Expr::val(statement),
                sq::Expr::val(self.at(at)),
                sq::Expr::val(execution_ms as i64),
            ]);
        self.build(&stmt)
    }

    /// Insert the `applied` rows of several migrations, with their execution times, in one
    /// statement (`--single-transaction`).
    pub fn insert_many(&self, rows: &[(&RenderedMigration, u64)], at: OffsetDateTime) -> Statement {
        let mut stmt = sq::Query::insert();
        stmt.into_table(table_ref(&self.table)).columns([
            "version",
            "name",
            "checksum",
            "status",
            "statement",
            "applied_at",
            "execution_ms",
        ]);
        for (m, ms) in rows {
            stmt.values_panic([
                sq::Expr::val(m.id.version as i64),
                sq::Expr::val(m.id.name.clone()),
                sq::Expr::val(checksum(m)),
                sq::Expr::val(RowStatus::Applied.as_str()),
                sq::Expr::val(sq::Value::Int(None)),
                sq::Expr::val(self.at(at)),
                sq::Expr::val(*ms as i64),
            ]);
        }
        self.build(&stmt)
    }

    /// Record that `version` is now in `status`, at `statement` (1-based), with `error`.
    pub fn progress(
        &self,
        version: u64,
        status: RowStatus,
        statement: Option<usize>,
        error: Option<&str>,
    ) -> Statement {
        let mut stmt = sq::Query::update();
        stmt.table(table_ref(&self.table))
            .value("status", status.as_str())
            .value(
                "statement",
                sq::Value::Int(statement.map(|s| i32::try_from(s).unwrap_or(i32::MAX))),
            )
            .value("error", sq::Value::String(error.map(str::to_string)))
            .and_where(sq::Expr::col("version").eq(version as i64));
        self.build(&stmt)
    }

    /// Mark `version` applied after it ran statement by statement.
    pub fn finish(&self, version: u64, at: OffsetDateTime, execution_ms: u64) -> Statement {
        let mut stmt = sq::Query::update();
        stmt.table(table_ref(&self.table))
            .value("status", RowStatus::Applied.as_str())
            .value("statement", sq::Value::Int(None))
            .value("error", sq::Value::String(None))
            .value("applied_at", self.at(at))
            .value("execution_ms", execution_ms as i64)
            .and_where(sq::Expr::col("version").eq(version as i64));
        self.build(&stmt)
    }

    /// Record `version`'s current name and checksum (`repair`, after a reviewed change).
    pub fn set_checksum(&self, version: u64, name: &str, checksum: &str) -> Statement {
        let mut stmt = sq::Query::update();
        stmt.table(table_ref(&self.table))
            .value("name", name)
            .value("checksum", checksum)
            .and_where(sq::Expr::col("version").eq(version as i64));
        self.build(&stmt)
    }

    /// Forget `version` (its `down` ran).
    pub fn delete(&self, version: u64) -> Statement {
        let mut stmt = sq::Query::delete();
        stmt.from_table(table_ref(&self.table))
            .and_where(sq::Expr::col("version").eq(version as i64));
        self.build(&stmt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for backend in Backend::ALL {
            assert!(check_table_name("godwit_migrations", backend).is_ok());
            assert!(check_table_name("_h2", backend).is_ok());
            for bad in ["", "2x", "a b", "a\"b", "a.b.c", "2s.t", "s.", ".t"] {
                assert!(check_table_name(bad, backend).is_err(), "{bad}");
            }
            // A schema of its own: PostgreSQL only.
            assert_eq!(
                check_table_name("ops.migrations", backend).is_ok(),
                backend == Backend::Postgres,
                "{backend}"
            );
        }
        // `<name>_batches` must fit too: 55 bytes on PostgreSQL, 56 characters on MySQL.
        assert!(check_table_name(&"x".repeat(55), Backend::Postgres).is_ok());
        let err = check_table_name(&"x".repeat(56), Backend::Postgres)
            .unwrap_err()
            .to_string();
        assert!(err.contains("use at most 55 characters"), "{err}");
        assert!(check_table_name(&"x".repeat(56), Backend::MySql).is_ok());
        assert!(check_table_name(&"x".repeat(57), Backend::MySql).is_err());
        assert!(check_table_name(&"x".repeat(200), Backend::Sqlite).is_ok());
    }
}
