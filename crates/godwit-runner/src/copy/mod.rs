//! `copy`: every table's rows from one database to another, between PostgreSQL, MySQL/MariaDB
//! and SQLite in any direction, for moving an application to another platform.
//!
//! ```text
//! source ──keyset SELECT, batch n+1──▶ values (typed by the schema model) ──▶ target
//!                                     batch n: BEGIN; COPY or INSERT; progress row; COMMIT
//! ```
//!
//! - **Same migrations.** Both databases must have the same migrations applied (read from their
//!   history tables); the target is migrated with `up` first. The tables, their columns and
//!   types come from the schema model at the newest of them, so that each value is decoded by
//!   its column's [`ColumnType`] and arrives as the same value on another backend (see
//!   `values/mod.rs`). The history table is never copied.
//! - **Foreign-key order.** Parents first. A table that references itself, and one table of
//!   each cycle of foreign keys (the first by name), are copied with the target's foreign-key
//!   checks off, since no order of their rows is sure to satisfy them: `SET FOREIGN_KEY_CHECKS
//!   = 0` on MySQL, `PRAGMA foreign_keys = OFF` on SQLite, `session_replication_role =
//!   replica` on PostgreSQL, which needs a superuser; without one the rows go in key order with
//!   the checks on (enough when parents have smaller keys than their children), and a batch
//!   that breaks a key fails with a message that says so. The source's rows satisfied the keys,
//!   so turning the checks off lets nothing in that was not already consistent.
//! - **Batches.** Each table is walked by its primary key (a unique key on NOT NULL columns
//!   when it has none; a table without either is refused), `WHERE key > last ORDER BY key
//!   LIMIT n`, never `OFFSET`. Each batch is one transaction on the target: the rows (PostgreSQL:
//!   `COPY ... FROM STDIN`; MySQL and SQLite: multi-row `INSERT`s under each backend's limit of
//!   bound values) and the table's row in the progress table. While a batch is written, the
//!   next one is read.
//! - **Resumable.** The progress table (`godwit_copy_progress`, in the target) holds, per
//!   table, the source, the last key copied, the rows done and whether it is finished, written
//!   in the same transaction as each batch: a copy that stopped (killed, failed) continues after
//!   the last committed batch when run again, and copies no row twice. A target table that has
//!   rows but no progress row is refused before anything is copied, as is a progress row of
//!   another source. The target's migration lock is held for the whole copy, so that neither a
//!   deploy nor another copy writes to it meanwhile.
//! - **Values a target cannot keep.** SQLite's decimal columns keep about 15 significant
//!   digits, and godwit's MySQL/MariaDB `datetime`, `timestamp` and `time` columns whole
//!   seconds: a value that would be stored as another value stops the copy, naming the table,
//!   the row's key and the column, unless rounding is allowed
//!   ([`CopyOptions::allow_rounding`]).
//! - **Sequences.** On a PostgreSQL target, every sequence owned by a copied column (identity
//!   and serial) is set past the largest copied value. MySQL's `AUTO_INCREMENT` and SQLite's
//!   rowid (and `sqlite_sequence`) follow inserted keys by themselves; MySQL sessions also set
//!   `NO_AUTO_VALUE_ON_ZERO`, so that a key of 0 is copied as 0.
//! - **Checked.** Last, every copied table's rows are counted in both databases: a difference
//!   (rows written to either while copying) is an error naming each table and both counts. The
//!   progress rows are deleted once the counts match.
//!
//! The SQL here is built with sea-query, except what has no sea-query form: `COPY`, the
//! progress table's `CREATE TABLE` and the query for whether it exists, the per-backend session
//! settings, and PostgreSQL's `setval`.
//!
//! The files: `plan` (which tables, in which order, walked by which key), `copier` (the run:
//! batches read and written, the target's checks, sequences, the counts), `progress` (the
//! progress table), `write` (a batch into the target: `COPY` or `INSERT`s).

mod copier;
mod plan;
mod progress;
mod write;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use godwit_core::{Backend, ColumnType, MigrationId};
use sea_query as sq;
use sea_query::{ExprTrait as _, QueryStatementWriter, Value};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use crate::connect::{Conn, Purpose, connect, on_conn};
use crate::error::Error;
use crate::event::{Observer, Quiet};
use crate::lock;
use crate::runner::Runner;
use crate::status::{State, Status};
use crate::url::DatabaseUrl;
use crate::values;
use copier::Copier;
use plan::plan;

/// The table in the target that holds each table's progress.
pub const PROGRESS_TABLE: &str = "godwit_copy_progress";

/// Rows per batch unless told otherwise.
pub const DEFAULT_BATCH_SIZE: u32 = 10_000;

/// What to copy and how; [`Runner::copy_to`] takes it.
#[derive(Clone)]
#[non_exhaustive]
pub struct CopyOptions {
    /// Only these tables (all of the schema when `None`), still in foreign-key order.
    pub tables: Option<Vec<String>>,
    /// Rows per batch (and per target transaction); default 10,000.
    pub batch_size: u32,
    /// Store values the target cannot keep exactly as it can (see the module's documentation)
    /// instead of stopping.
    pub allow_rounding: bool,
    /// Receives the target's lock wait and each table's progress ([`Event::Batch`](crate::Event::Batch),
    /// [`Event::BatchDone`](crate::Event::BatchDone)).
    pub observer: Arc<dyn Observer>,
}

impl std::fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOptions")
            .field("tables", &self.tables)
            .field("batch_size", &self.batch_size)
            .field("allow_rounding", &self.allow_rounding)
            .finish_non_exhaustive()
    }
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            tables: None,
            batch_size: DEFAULT_BATCH_SIZE,
            allow_rounding: false,
            observer: Arc::new(Quiet),
        }
    }
}

impl CopyOptions {
    /// Only these tables (all of the schema when `None`), still in foreign-key order.
    pub fn tables(mut self, tables: Option<Vec<String>>) -> Self {
        self.tables = tables;
        self
    }
    /// Rows per batch (and per target transaction); 0 counts as 1.
    pub fn batch_size(mut self, rows: u32) -> Self {
        self.batch_size = std::cmp::max(rows, 1);
        self
    }
    /// Round values the target cannot keep exactly, instead of stopping the copy.
    pub fn allow_rounding(mut self, yes: bool) -> Self {
        self.allow_rounding = yes;
        self
    }
    /// Where the target's lock wait and each table's progress are reported.
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }
}

/// One copied table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    /// The table's name.
    pub table: String,
    /// Rows in the source and in the target once the copy ended (equal: they are checked).
    pub source_rows: u64,
    /// Rows in the target once the copy ended.
    pub target_rows: u64,
    /// Rows this run copied.
    pub copied: u64,
    /// Rows an earlier run, which stopped, had copied.
    pub copied_before: u64,
    /// This run's time on the table.
    pub elapsed: Duration,
    /// Whether the target's foreign-key checks were off while it was copied (it references
    /// itself or is in a cycle of foreign keys).
    pub checks_off: bool,
    /// PostgreSQL: the sequences set past the copied keys.
    pub sequences: Vec<String>,
}

/// What `copy` did.
#[derive(Debug, Clone)]
pub struct Copied {
    /// Both redacted.
    pub from: String,
    /// The target database's URL, redacted too.
    pub to: String,
    /// The newest migration applied to both.
    pub version: MigrationId,
    /// In the order they were copied.
    pub tables: Vec<CopiedTable>,
    /// How long the whole copy took.
    pub elapsed: Duration,
}

impl Copied {
    /// Rows this run copied.
    pub fn copied(&self) -> u64 {
        self.tables.iter().map(|t| t.copied).sum()
    }
}

/// [`Runner::copy_to`].
pub(crate) async fn copy_to(
    runner: &Runner,
    to: &DatabaseUrl,
    options: &CopyOptions,
) -> Result<Copied, Error> {
    let started = Instant::now();
    let target = runner.on(to.clone());
    let source_status = runner.status().await?;
    let target_status = target.status().await?;
    let version = same_migrations(runner, &source_status, &target_status)?;
    let model = runner.catalog().model(Some(version.version))?;
    let plans = plan(&model, options.tables.as_deref(), &version)?;

    let opts = runner.options();
    let mut src = connect(
        runner.url(),
        Purpose::ReadOnly,
        opts.connect_timeout,
        opts.deploy_lock_timeout,
    )
    .await?;
    let mut dst = match connect(
        to,
        Purpose::Migrate,
        opts.connect_timeout,
        opts.deploy_lock_timeout,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            src.close().await;
            return Err(e);
        }
    };
    let result = async {
        let held = lock::acquire(
            to,
            &opts.history_table,
            opts.deploy_lock_timeout,
            opts.connect_timeout,
            &*options.observer,
        )
        .await?;
        let copier = Copier {
            from: runner.url(),
            to,
            options,
            history_table: &opts.history_table,
            schemas: runner.catalog().schema_names().named,
            target: Default::default(),
        };
        let result = copier.run(&mut src, &mut dst, &plans).await;
        let released = held.release().await;
        let tables = result?;
        released?;
        Ok::<_, Error>(tables)
    }
    .await;
    src.close().await;
    dst.close().await;
    Ok(Copied {
        from: runner.url().redacted().to_string(),
        to: to.redacted().to_string(),
        version,
        tables: result?,
        elapsed: started.elapsed(),
    })
}

/// [`Runner::table_rows`].
pub(crate) async fn table_rows(
    runner: &Runner,
    table: &str,
) -> Result<(Vec<String>, Vec<Vec<Value>>), Error> {
    let status = runner.status().await?;
    let version = same_migrations(runner, &status, &status)?;
    let model = runner.catalog().model(Some(version.version))?;
    let plans = plan(&model, Some(&[table.to_string()]), &version)?;
    let Some(p) = plans.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let opts = runner.options();
    let mut conn = connect(
        runner.url(),
        Purpose::ReadOnly,
        opts.connect_timeout,
        opts.deploy_lock_timeout,
    )
    .await?;
    let defaults = CopyOptions::default();
    let reader = Copier {
        from: runner.url(),
        to: runner.url(),
        options: &defaults,
        history_table: &opts.history_table,
        schemas: runner.catalog().schema_names().named,
        target: Default::default(),
    };
    let result = async {
        let mut rows = Vec::new();
        let mut after: Option<Vec<Value>> = None;
        loop {
            let batch = reader
                .read_batch(&mut conn, p, after.as_deref(), DEFAULT_BATCH_SIZE)
                .await?;
            let n = batch.rows.len();
            rows.extend(batch.rows);
            if n < DEFAULT_BATCH_SIZE as usize {
                return Ok((p.columns.clone(), rows));
            }
            after = Some(batch.last_key);
        }
    }
    .await;
    conn.close().await;
    result
}

/// The newest migration applied to both, when both have the same ones applied, none of them
/// half-applied, and every older migration of the code applied too.
fn same_migrations(
    runner: &Runner,
    source: &Status,
    target: &Status,
) -> Result<MigrationId, Error> {
    let fail = |problems: String| Error::CopyVersions {
        from: source.database.clone(),
        to: target.database.clone(),
        problems,
    };
    for (status, which) in [(source, "the source"), (target, "the target")] {
        for m in &status.migrations {
            let problem = match m.state {
                State::Partial | State::PartialDown => format!(
                    "{which} has migration {} {} half-applied: resolve it first (`status --database-url {}` \
                     says how)",
                    m.version, m.name, status.database
                ),
                State::Missing => format!(
                    "{which} has migration {} {} applied, which this binary does not have: run the copy with \
                     the binary built from the code that applied it",
                    m.version, m.name
                ),
                _ => continue,
            };
            return Err(fail(problem));
        }
    }
    let applied = |s: &Status| -> BTreeMap<u64, String> {
        s.migrations
            .iter()
            .filter(|m| matches!(m.state, State::Applied | State::Changed))
            .map(|m| (m.version, m.name.clone()))
            .collect()
    };
    let (on_source, on_target) = (applied(source), applied(target));
    let list = |vs: Vec<(&u64, &String)>| {
        let shown: Vec<String> = vs.iter().take(5).map(|(v, n)| format!("{v} {n}")).collect();
        let more = vs.len().saturating_sub(5);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let Some((&newest, newest_name)) = on_source.iter().next_back() else {
        return Err(fail(format!(
            "no migration is applied to the source, so it has no tables to copy{}",
            if on_target.is_empty() {
                ""
            } else {
                " (the target has some)"
            }
        )));
    };
    let behind: Vec<(&u64, &String)> = on_source
        .iter()
        .filter(|(v, _)| !on_target.contains_key(v))
        .collect();
    let ahead: Vec<(&u64, &String)> = on_target
        .iter()
        .filter(|(v, _)| !on_source.contains_key(v))
        .collect();
    let mut problems = Vec::new();
    if !behind.is_empty() {
        problems.push(format!(
            "the target lacks {} migration(s) applied to the source ({}): migrate it first with \
             `up --to {newest} --database-url {}`",
            behind.len(),
            list(behind),
            target.database
        ));
    }
    if !ahead.is_empty() {
        problems.push(format!(
            "the target has {} migration(s) the source has not ({}): roll them back on the target with \
             `down --to {newest} --database-url {}`, or apply them to the source",
            ahead.len(),
            list(ahead),
            target.database
        ));
    }
    if !problems.is_empty() {
        return Err(fail(problems.join("; ")));
    }
    let skipped: Vec<(&u64, &String)> = runner
        .catalog()
        .entries()
        .iter()
        .filter(|e| e.id.version < newest && !on_source.contains_key(&e.id.version))
        .map(|e| (&e.id.version, &e.id.name))
        .collect();
    if !skipped.is_empty() {
        return Err(fail(format!(
            "older migrations than the newest applied ({newest} {newest_name}) are pending on both ({}): \
             apply them to both with `up --allow-out-of-order`, so that the schema is the one the \
             migrations build",
            list(skipped)
        )));
    }
    Ok(MigrationId {
        version: newest,
        name: newest_name.clone(),
    })
}

pub(super) use godwit_core::render::quote;

/// The SQL and bound values of `stmt` for `backend`.
pub(super) fn build(backend: Backend, stmt: &impl QueryStatementWriter) -> (String, sq::Values) {
    match backend {
        Backend::Postgres => stmt.build(sq::PostgresQueryBuilder),
        Backend::MySql => stmt.build(sq::MysqlQueryBuilder),
        Backend::Sqlite => stmt.build(sq::SqliteQueryBuilder),
    }
}

/// Run a statement that returns no rows; the rows it affected.
pub(super) async fn exec(
    conn: &mut Conn,
    sql: String,
    values: sq::Values,
) -> Result<u64, sqlx::Error> {
    let sql = AssertSqlSafe(sql);
    let values = SqlxValues(values);
    on_conn!(conn, c => sqlx::query_with(sql, values)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

/// `SELECT COUNT(*) FROM table`.
pub(super) async fn count(conn: &mut Conn, table: &str) -> Result<u64, sqlx::Error> {
    let mut stmt = sq::Query::select();
    stmt.expr(sq::Expr::col(sq::Asterisk).count())
        .from(godwit_core::render::table_ref(table));
    let st = godwit_core::render::query(conn.backend(), &stmt);
    let (_, rows) = values::fetch_values(conn, &st, Some(&[ColumnType::BigInt])).await?;
    Ok(match rows.first().and_then(|r| r.first()) {
        Some(Value::BigInt(Some(n))) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    })
}

/// Whether `table` has a row.
pub(super) async fn has_rows(conn: &mut Conn, table: &str) -> Result<bool, sqlx::Error> {
    let mut stmt = sq::Query::select();
    stmt.expr(sq::Expr::val(1))
        .from(godwit_core::render::table_ref(table))
        .limit(1);
    let st = godwit_core::render::query(conn.backend(), &stmt);
    let (_, rows) = values::fetch_values(conn, &st, None).await?;
    Ok(!rows.is_empty())
}

/// `(5)`, `(5, 'a')`: a key in a message.
pub(super) fn show_key(key: &[Value]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|v| {
            values::describe(v)
                .trim_start_matches("the value ")
                .trim_start_matches("the text ")
                .to_string()
        })
        .collect();
    format!("({})", parts.join(", "))
}
