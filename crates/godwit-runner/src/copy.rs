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
//!   `values.rs`). The history table is never copied.
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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use godwit_core::{Backend, ColumnType, MigrationId, SchemaModel, TableDef};
use sea_query as sq;
use sea_query::{ExprTrait as _, QueryStatementWriter, Value};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use crate::connect::{Conn, Purpose, connect, on_conn};
use crate::error::{Error, db_reason};
use crate::event::{Event, Observer, Quiet};
use crate::lock;
use crate::runner::Runner;
use crate::status::{State, Status};
use crate::url::DatabaseUrl;
use crate::values::{self, key_from_json, key_to_json};

/// The table in the target that holds each table's progress.
pub const PROGRESS_TABLE: &str = "godwit_copy_progress";

/// Rows per batch unless told otherwise.
pub const DEFAULT_BATCH_SIZE: u32 = 10_000;

/// Bound values one statement may carry: PostgreSQL's and MySQL's limit is 65,535, SQLite's
/// 32,766 (since 3.32).
fn max_bound_values(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 32_766,
        Backend::Postgres | Backend::MySql => 65_535,
    }
}

/// About how many bytes of values one `INSERT` carries, well under MySQL's default
/// `max_allowed_packet` (16 MiB on MariaDB, 64 MiB on MySQL 8).
const INSERT_BYTES: usize = 4 << 20;

/// How much `COPY` data is sent to PostgreSQL at a time.
const COPY_CHUNK: usize = 1 << 20;

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
    /// Receives the target's lock wait and each table's progress ([`Event::Batch`],
    /// [`Event::BatchDone`]).
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
    pub fn tables(mut self, tables: Option<Vec<String>>) -> Self {
        self.tables = tables;
        self
    }
    pub fn batch_size(mut self, rows: u32) -> Self {
        self.batch_size = std::cmp::max(rows, 1);
        self
    }
    pub fn allow_rounding(mut self, yes: bool) -> Self {
        self.allow_rounding = yes;
        self
    }
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }
}

/// One copied table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: String,
    /// Rows in the source and in the target once the copy ended (equal: they are checked).
    pub source_rows: u64,
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
    pub to: String,
    /// The newest migration applied to both.
    pub version: MigrationId,
    /// In the order they were copied.
    pub tables: Vec<CopiedTable>,
    pub elapsed: Duration,
}

impl Copied {
    /// Rows this run copied.
    pub fn copied(&self) -> u64 {
        self.tables.iter().map(|t| t.copied).sum()
    }
}

/// A table to copy.
#[derive(Debug, Clone)]
struct Plan {
    name: String,
    columns: Vec<String>,
    types: Vec<ColumnType>,
    /// Indexes into `columns`.
    key: Vec<usize>,
    /// It references itself or closes a cycle: copied with the target's checks off.
    checks_off: bool,
}

/// One row of the progress table.
#[derive(Debug, Clone)]
struct Progress {
    source: String,
    last_key: Option<String>,
    rows_done: u64,
    finished: bool,
}

/// A batch read from the source.
struct Batch {
    rows: Vec<Vec<Value>>,
    /// The last row's key, as the source stores it (to walk on from).
    last_key: Vec<Value>,
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

/// The tables to copy, parents first.
fn plan(
    model: &SchemaModel,
    only: Option<&[String]>,
    version: &MigrationId,
) -> Result<Vec<Plan>, Error> {
    let chosen: BTreeSet<String> = match only {
        None => model.tables.keys().cloned().collect(),
        Some(names) => {
            for name in names {
                if !model.tables.contains_key(name) {
                    let known: Vec<&str> = model.tables.keys().map(String::as_str).collect();
                    return Err(Error::CopyRefused {
                        table: name.clone(),
                        reason: format!(
                            "the schema at migration {version} has no such table (it has {}); check --tables",
                            known.join(", ")
                        ),
                    });
                }
            }
            names.iter().cloned().collect()
        }
    };
    let mut plans = Vec::new();
    for (name, checks_off) in foreign_key_order(model, &chosen) {
        let table = &model.tables[&name];
        let key_columns = walk_key(table).ok_or_else(|| Error::CopyRefused {
            table: name.clone(),
            reason:
                "it has no primary key, nor a unique key on NOT NULL columns, to walk it by in \
                     batches: add one in a migration, or leave the table out with --tables"
                    .to_string(),
        })?;
        let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let key = key_columns
            .iter()
            .filter_map(|k| columns.iter().position(|c| c == k))
            .collect();
        plans.push(Plan {
            types: table.columns.iter().map(|c| c.ty.clone()).collect(),
            columns,
            key,
            checks_off,
            name,
        });
    }
    Ok(plans)
}

/// The columns a table is walked by: its primary key, else its first unique key (constraint
/// or index, not partial) on NOT NULL columns.
fn walk_key(table: &TableDef) -> Option<Vec<String>> {
    if !table.primary_key.is_empty() {
        return Some(table.primary_key.clone());
    }
    let not_null = |cols: &[String]| {
        !cols.is_empty()
            && cols
                .iter()
                .all(|c| table.column(c).is_some_and(|c| !c.nullable))
    };
    table
        .uniques
        .iter()
        .map(|u| &u.columns)
        .chain(
            table
                .indexes
                .iter()
                .filter(|i| i.is_unique && i.predicate.is_none())
                .map(|i| &i.columns),
        )
        .find(|cols| not_null(cols))
        .cloned()
}

/// `chosen` tables parents first (by name among equals), each with whether it must be copied
/// with foreign-key checks off: it references itself, or it was taken first to break a cycle.
fn foreign_key_order(model: &SchemaModel, chosen: &BTreeSet<String>) -> Vec<(String, bool)> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut self_referencing = BTreeSet::new();
    for name in chosen {
        let set = parents.entry(name.as_str()).or_default();
        if let Some(t) = model.tables.get(name) {
            for fk in &t.foreign_keys {
                if fk.ref_table == *name {
                    self_referencing.insert(name.as_str());
                } else if chosen.contains(&fk.ref_table) {
                    set.insert(fk.ref_table.as_str());
                }
            }
        }
    }
    let mut order = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < parents.len() {
        let ready = parents
            .iter()
            .find(|(name, ps)| !done.contains(*name) && ps.iter().all(|p| done.contains(p)))
            .map(|(name, _)| *name);
        let (next, breaks_cycle) = match ready {
            Some(name) => (name, false),
            // Every remaining table waits for another: a cycle. Take the first by name.
            None => match parents.keys().find(|name| !done.contains(*name)) {
                Some(name) => (*name, true),
                None => break,
            },
        };
        done.insert(next);
        order.push((
            next.to_string(),
            breaks_cycle || self_referencing.contains(next),
        ));
    }
    order
}

/// `ident` quoted for `backend`.
fn quote(backend: Backend, ident: &str) -> String {
    match backend {
        Backend::MySql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

/// The SQL and bound values of `stmt` for `backend`.
fn build(backend: Backend, stmt: &impl QueryStatementWriter) -> (String, sq::Values) {
    match backend {
        Backend::Postgres => stmt.build(sq::PostgresQueryBuilder),
        Backend::MySql => stmt.build(sq::MysqlQueryBuilder),
        Backend::Sqlite => stmt.build(sq::SqliteQueryBuilder),
    }
}

/// Run a statement that returns no rows; the rows it affected.
async fn exec(conn: &mut Conn, sql: String, values: sq::Values) -> Result<u64, sqlx::Error> {
    let sql = AssertSqlSafe(sql);
    let values = SqlxValues(values);
    on_conn!(conn, c => sqlx::query_with(sql, values)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
}

/// `SELECT COUNT(*) FROM table`.
async fn count(conn: &mut Conn, table: &str) -> Result<u64, sqlx::Error> {
    let mut stmt = sq::Query::select();
    stmt.expr(sq::Expr::col(sq::Asterisk).count())
        .from(table.to_string());
    let st = godwit_core::render::query(conn.backend(), &stmt);
    let (_, rows) = values::fetch_values(conn, &st, Some(&[ColumnType::BigInt])).await?;
    Ok(match rows.first().and_then(|r| r.first()) {
        Some(Value::BigInt(Some(n))) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    })
}

/// Whether `table` has a row.
async fn has_rows(conn: &mut Conn, table: &str) -> Result<bool, sqlx::Error> {
    let mut stmt = sq::Query::select();
    stmt.expr(sq::Expr::val(1)).from(table.to_string()).limit(1);
    let st = godwit_core::render::query(conn.backend(), &stmt);
    let (_, rows) = values::fetch_values(conn, &st, None).await?;
    Ok(!rows.is_empty())
}

/// `(5)`, `(5, 'a')`: a key in a message.
fn show_key(key: &[Value]) -> String {
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

/// One run of a copy: the tables' batches, the sequences, the counts.
struct Copier<'a> {
    from: &'a DatabaseUrl,
    to: &'a DatabaseUrl,
    options: &'a CopyOptions,
}

impl Copier<'_> {
    fn source_backend(&self) -> Backend {
        self.from.backend()
    }

    fn target_backend(&self) -> Backend {
        self.to.backend()
    }

    /// A failed statement on the target, outside a table's batches.
    fn target_failed(&self, action: &str, e: &sqlx::Error) -> Error {
        Error::Database {
            backend: self.target_backend(),
            action: action.to_string(),
            reason: self.to.scrub(&db_reason(e)),
        }
    }

    fn source_failed(&self, action: &str, e: &sqlx::Error) -> Error {
        Error::Database {
            backend: self.source_backend(),
            action: action.to_string(),
            reason: self.from.scrub(&db_reason(e)),
        }
    }

    async fn run(
        &self,
        src: &mut Conn,
        dst: &mut Conn,
        plans: &[Plan],
    ) -> Result<Vec<CopiedTable>, Error> {
        if self.target_backend() == Backend::MySql {
            // A key of 0 is copied as 0, not replaced by the next AUTO_INCREMENT value.
            dst.batch(
                "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')",
            )
            .await
            .map_err(|e| self.target_failed("setting the session's sql_mode", &e))?;
        }
        let mut progress = if self.progress_exists(dst).await? {
            self.read_progress(dst).await?
        } else {
            BTreeMap::new()
        };

        // Refuse what would duplicate rows before copying anything.
        for p in plans {
            match progress.get(&p.name) {
                Some(row) if row.source != self.from.redacted() => {
                    return Err(Error::CopyRefused {
                        table: p.name.clone(),
                        reason: format!(
                            "{PROGRESS_TABLE} in the target records a copy of it from {}, not from {}: \
                             finish that copy (run it again with --from {}), or empty the target table and \
                             delete its row from {PROGRESS_TABLE}",
                            row.source,
                            self.from.redacted(),
                            row.source
                        ),
                    });
                }
                Some(row) if !row.finished => {
                    let rows = count(dst, &p.name).await.map_err(|e| {
                        self.target_failed(&format!("counting the rows of {}", p.name), &e)
                    })?;
                    if rows != row.rows_done {
                        return Err(Error::CopyRefused {
                            table: p.name.clone(),
                            reason: format!(
                                "{PROGRESS_TABLE} says an earlier copy committed {} row(s) of it, but the \
                                 target table holds {rows}: rows were written to it since; empty it and \
                                 delete its row from {PROGRESS_TABLE}, then copy again",
                                row.rows_done
                            ),
                        });
                    }
                }
                Some(_) => {}
                None => {
                    let full = has_rows(dst, &p.name)
                        .await
                        .map_err(|e| self.target_failed(&format!("looking into {}", p.name), &e))?;
                    if full {
                        return Err(Error::CopyRefused {
                            table: p.name.clone(),
                            reason: format!(
                                "the target table already has rows, and no copy into it is in progress \
                                 ({PROGRESS_TABLE} has no row for it), so copying would duplicate them: \
                                 empty it first (or `fresh` then `up` the target), or leave it out with --tables"
                            ),
                        });
                    }
                }
            }
        }

        dst.batch(&self.progress_create_sql())
            .await
            .map_err(|e| self.target_failed(&format!("creating {PROGRESS_TABLE}"), &e))?;
        let mut copied = Vec::new();
        for p in plans {
            let before = progress.remove(&p.name);
            copied.push(self.copy_table(src, dst, p, before).await?);
        }

        if self.target_backend() == Backend::Postgres {
            for (p, c) in plans.iter().zip(copied.iter_mut()) {
                c.sequences = self.advance_sequences(dst, p).await?;
            }
        }

        let mut mismatches = Vec::new();
        for c in &mut copied {
            c.source_rows = count(src, &c.table).await.map_err(|e| {
                self.source_failed(&format!("counting the rows of {}", c.table), &e)
            })?;
            c.target_rows = count(dst, &c.table).await.map_err(|e| {
                self.target_failed(&format!("counting the rows of {}", c.table), &e)
            })?;
            if c.source_rows != c.target_rows {
                mismatches.push(format!(
                    "  {}: {} in the source, {} in the target",
                    c.table, c.source_rows, c.target_rows
                ));
            }
        }
        if !mismatches.is_empty() {
            return Err(Error::CopyCounts {
                count: mismatches.len(),
                tables: mismatches.join("\n"),
            });
        }
        self.forget_progress(dst, plans).await?;
        Ok(copied)
    }

    fn progress_create_sql(&self) -> String {
        let b = self.target_backend();
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({} varchar(255) NOT NULL PRIMARY KEY, {} text NOT NULL, \
             {} text NULL, {} bigint NOT NULL, {} boolean NOT NULL)",
            quote(b, PROGRESS_TABLE),
            quote(b, "table_name"),
            quote(b, "source"),
            quote(b, "last_key"),
            quote(b, "rows_done"),
            quote(b, "finished"),
        )
    }

    async fn progress_exists(&self, dst: &mut Conn) -> Result<bool, Error> {
        let sql = match self.target_backend() {
            Backend::Postgres => format!(
                "SELECT count(*)::int8 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '{PROGRESS_TABLE}'"
            ),
            Backend::MySql => format!(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = '{PROGRESS_TABLE}'"
            ),
            Backend::Sqlite => format!(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{PROGRESS_TABLE}'"
            ),
        };
        dst.scalar_i64(&sql)
            .await
            .map(|n| n > 0)
            .map_err(|e| self.target_failed(&format!("looking for {PROGRESS_TABLE}"), &e))
    }

    async fn read_progress(&self, dst: &mut Conn) -> Result<BTreeMap<String, Progress>, Error> {
        let mut stmt = sq::Query::select();
        stmt.columns(["table_name", "source", "last_key", "rows_done", "finished"])
            .from(PROGRESS_TABLE);
        let (sql, values) = build(self.target_backend(), &stmt);
        let types = [
            Some(ColumnType::Text),
            Some(ColumnType::Text),
            Some(ColumnType::Text),
            Some(ColumnType::BigInt),
            Some(ColumnType::Boolean),
        ];
        let (_, rows) = values::fetch_rows(dst, sql, values, Some(&types))
            .await
            .map_err(|e| self.target_failed(&format!("reading {PROGRESS_TABLE}"), &e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            if let [
                Value::String(Some(table)),
                Value::String(Some(source)),
                Value::String(last_key),
                Value::BigInt(Some(rows_done)),
                Value::Bool(Some(finished)),
            ] = row.as_slice()
            {
                out.insert(
                    table.clone(),
                    Progress {
                        source: source.clone(),
                        last_key: last_key.clone(),
                        rows_done: u64::try_from(*rows_done).unwrap_or(0),
                        finished: *finished,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Once every count matches: the progress rows of `plans` go, and the table with them when
    /// nothing else is in it.
    async fn forget_progress(&self, dst: &mut Conn, plans: &[Plan]) -> Result<(), Error> {
        let b = self.target_backend();
        let mut stmt = sq::Query::delete();
        stmt.from_table(PROGRESS_TABLE)
            .and_where(sq::Expr::col("table_name").is_in(plans.iter().map(|p| p.name.clone())));
        let (sql, values) = build(b, &stmt);
        let fail =
            |e: sqlx::Error| self.target_failed(&format!("cleaning up {PROGRESS_TABLE}"), &e);
        exec(dst, sql, values).await.map_err(fail)?;
        if count(dst, PROGRESS_TABLE).await.map_err(fail)? == 0 {
            dst.batch(&format!("DROP TABLE {}", quote(b, PROGRESS_TABLE)))
                .await
                .map_err(fail)?;
        }
        Ok(())
    }

    /// Copy one table, batch by batch, from where `before` says an earlier run stopped.
    async fn copy_table(
        &self,
        src: &mut Conn,
        dst: &mut Conn,
        plan: &Plan,
        before: Option<Progress>,
    ) -> Result<CopiedTable, Error> {
        let started = Instant::now();
        let task = format!("copy \"{}\"", plan.name);
        let done_before = before.as_ref().map_or(0, |p| p.rows_done);
        let mut table = CopiedTable {
            table: plan.name.clone(),
            source_rows: 0,
            target_rows: 0,
            copied: 0,
            copied_before: done_before,
            elapsed: Duration::ZERO,
            checks_off: false,
            sequences: Vec::new(),
        };
        if before.as_ref().is_some_and(|p| p.finished) {
            return Ok(table);
        }
        let total = count(src, &plan.name)
            .await
            .map_err(|e| self.source_failed(&format!("counting the rows of {}", plan.name), &e))?;
        let mut last_key = match &before {
            None => {
                self.start_progress(dst, plan).await?;
                None
            }
            Some(p) => match &p.last_key {
                None => None,
                Some(text) => Some(parse_key(text).ok_or_else(|| Error::CopyRefused {
                    table: plan.name.clone(),
                    reason: format!(
                        "its row in {PROGRESS_TABLE} holds a last key godwit cannot read ({text}): empty the \
                         target table and delete that row, then copy again"
                    ),
                })?),
            },
        };
        let checks = self.checks_off(dst, plan).await?;
        table.checks_off = checks.is_ok();
        let result = async {
            let mut done = done_before;
            let size = std::cmp::max(self.options.batch_size, 1);
            let mut next = Some(
                self.read_batch(src, plan, last_key.as_deref(), size)
                    .await?,
            );
            while let Some(batch) = next.take() {
                if batch.rows.is_empty() {
                    self.finish_progress(dst, plan, done).await?;
                    break;
                }
                // A short batch is the last: it marks the table finished.
                let last = batch.rows.len() < size as usize;
                let after = done + batch.rows.len() as u64;
                let key = batch.last_key.clone();
                if last {
                    self.write_batch(dst, plan, batch, after, true, &checks, last_key.as_deref())
                        .await?;
                } else {
                    let (written, read) = tokio::join!(
                        self.write_batch(
                            dst,
                            plan,
                            batch,
                            after,
                            false,
                            &checks,
                            last_key.as_deref()
                        ),
                        self.read_batch(src, plan, Some(&key), size),
                    );
                    written?;
                    next = Some(read?);
                }
                done = after;
                last_key = Some(key);
                table.copied = done - done_before;
                self.options.observer.event(&Event::Batch {
                    task: &task,
                    done,
                    done_before,
                    total: Some(std::cmp::max(total, done)),
                    elapsed: started.elapsed(),
                });
            }
            Ok::<_, Error>(())
        }
        .await;
        self.checks_on(dst, plan, &checks).await;
        result?;
        table.elapsed = started.elapsed();
        self.options.observer.event(&Event::BatchDone {
            task: &task,
            done: done_before + table.copied,
            elapsed: table.elapsed,
        });
        Ok(table)
    }

    /// Turn the target's foreign-key checks off for `plan` when it needs that: `Ok(())` when
    /// they are off, `Err(why not)` when they stay on.
    async fn checks_off(&self, dst: &mut Conn, plan: &Plan) -> Result<Result<(), String>, Error> {
        if !plan.checks_off {
            return Ok(Err(String::new()));
        }
        let sql = match self.target_backend() {
            Backend::Postgres => "SET session_replication_role = replica",
            Backend::MySql => "SET FOREIGN_KEY_CHECKS = 0",
            Backend::Sqlite => "PRAGMA foreign_keys = OFF",
        };
        match dst.batch(sql).await {
            Ok(()) => Ok(Ok(())),
            Err(e) if self.target_backend() == Backend::Postgres => Ok(Err(db_reason(&e))),
            Err(e) => Err(self.target_failed(
                &format!("turning foreign-key checks off to copy {}", plan.name),
                &e,
            )),
        }
    }

    async fn checks_on(&self, dst: &mut Conn, plan: &Plan, checks: &Result<(), String>) {
        if !plan.checks_off || checks.is_err() {
            return;
        }
        let sql = match self.target_backend() {
            Backend::Postgres => "RESET session_replication_role",
            Backend::MySql => "SET FOREIGN_KEY_CHECKS = 1",
            Backend::Sqlite => "PRAGMA foreign_keys = ON",
        };
        let _ = dst.batch(sql).await;
    }

    /// The rows after `after` (from the start when `None`), at most `size`, in key order.
    async fn read_batch(
        &self,
        src: &mut Conn,
        plan: &Plan,
        after: Option<&[Value]>,
        size: u32,
    ) -> Result<Batch, Error> {
        let backend = self.source_backend();
        // SQLite keeps whatever storage class was written: the key is also read as stored, so
        // that the next batch compares like with like (a uuid stored as text, not as a blob).
        let raw_keys = backend == Backend::Sqlite;
        let mut stmt = sq::Query::select();
        stmt.columns(plan.columns.iter().cloned())
            .from(plan.name.clone());
        if raw_keys {
            for (i, k) in plan.key.iter().enumerate() {
                stmt.expr_as(
                    sq::Expr::col(plan.columns[*k].clone()),
                    format!("godwit_key_{i}"),
                );
            }
        }
        if let Some(after) = after {
            let mut any = sq::Cond::any();
            for j in 0..plan.key.len() {
                let mut all = sq::Cond::all();
                for (i, k) in plan.key.iter().enumerate().take(j) {
                    all = all.add(sq::Expr::col(plan.columns[*k].clone()).eq(after[i].clone()));
                }
                all =
                    all.add(sq::Expr::col(plan.columns[plan.key[j]].clone()).gt(after[j].clone()));
                any = any.add(all);
            }
            stmt.cond_where(any);
        }
        for k in &plan.key {
            stmt.order_by(plan.columns[*k].clone(), sq::Order::Asc);
        }
        stmt.limit(u64::from(size));
        let (sql, values) = build(backend, &stmt);
        let mut types: Vec<Option<ColumnType>> = plan.types.iter().cloned().map(Some).collect();
        if raw_keys {
            types.extend(plan.key.iter().map(|_| None));
        }
        let (_, mut rows) = values::fetch_rows(src, sql, values, Some(&types))
            .await
            .map_err(|e| Error::CopyStopped {
                table: plan.name.clone(),
                at: match after {
                    Some(k) => format!("reading the source after key {}", show_key(k)),
                    None => "reading the source".to_string(),
                },
                reason: self.from.scrub(&db_reason(&e)),
                outcome: self.outcome(plan),
            })?;
        let last_key = match rows.last_mut() {
            None => Vec::new(),
            Some(row) if raw_keys => row.split_off(plan.columns.len()),
            Some(row) => plan.key.iter().map(|k| row[*k].clone()).collect(),
        };
        if raw_keys {
            for row in &mut rows {
                row.truncate(plan.columns.len());
            }
        }
        Ok(Batch { rows, last_key })
    }

    /// What a stop in `plan` keeps, and what to do.
    fn outcome(&self, plan: &Plan) -> String {
        format!(
            "the batches of `{}` before it are committed in the target and recorded in {PROGRESS_TABLE}; \
             fix the cause and run the same copy again: it continues after them",
            plan.name
        )
    }

    /// Insert `plan`'s progress row: nothing copied yet.
    async fn start_progress(&self, dst: &mut Conn, plan: &Plan) -> Result<(), Error> {
        let mut stmt = sq::Query::insert();
        stmt.into_table(PROGRESS_TABLE)
            .columns(["table_name", "source", "last_key", "rows_done", "finished"])
            .values_panic([
                sq::Expr::val(plan.name.clone()),
                sq::Expr::val(self.from.redacted().to_string()),
                sq::Expr::val(Value::String(None)),
                sq::Expr::val(0i64),
                sq::Expr::val(false),
            ]);
        let (sql, values) = build(self.target_backend(), &stmt);
        exec(dst, sql, values).await.map(drop).map_err(|e| {
            self.target_failed(
                &format!("recording the copy of {} in {PROGRESS_TABLE}", plan.name),
                &e,
            )
        })
    }

    fn progress_update(
        &self,
        plan: &Plan,
        key: Option<String>,
        done: u64,
        finished: bool,
    ) -> (String, sq::Values) {
        let mut stmt = sq::Query::update();
        stmt.table(PROGRESS_TABLE);
        if let Some(key) = key {
            stmt.value("last_key", key);
        }
        stmt.value("rows_done", i64::try_from(done).unwrap_or(i64::MAX))
            .value("finished", finished)
            .and_where(sq::Expr::col("table_name").eq(plan.name.clone()));
        build(self.target_backend(), &stmt)
    }

    /// Mark `plan` finished after its last batch was empty.
    async fn finish_progress(&self, dst: &mut Conn, plan: &Plan, done: u64) -> Result<(), Error> {
        let (sql, values) = self.progress_update(plan, None, done, true);
        exec(dst, sql, values).await.map(drop).map_err(|e| {
            self.target_failed(
                &format!("recording the end of {} in {PROGRESS_TABLE}", plan.name),
                &e,
            )
        })
    }

    /// Write one batch and its progress in one transaction on the target.
    #[allow(clippy::too_many_arguments)]
    async fn write_batch(
        &self,
        dst: &mut Conn,
        plan: &Plan,
        batch: Batch,
        done: u64,
        finished: bool,
        checks: &Result<(), String>,
        after: Option<&[Value]>,
    ) -> Result<(), Error> {
        let backend = self.target_backend();
        let at = match after {
            Some(k) => format!("at the rows after key {}", show_key(k)),
            None => "at its first rows".to_string(),
        };
        let rows = self.check_values(plan, batch.rows, &at)?;
        let key = key_text(&batch.last_key).ok_or_else(|| Error::CopyStopped {
            table: plan.name.clone(),
            at: at.clone(),
            reason: format!("its key {} cannot be recorded", show_key(&batch.last_key)),
            outcome: self.outcome(plan),
        })?;
        let stopped = |reason: String| Error::CopyStopped {
            table: plan.name.clone(),
            at: at.clone(),
            reason,
            outcome: self.outcome(plan),
        };
        let begin = if backend == Backend::Sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        dst.batch(begin)
            .await
            .map_err(|e| stopped(self.to.scrub(&db_reason(&e))))?;
        let written = async {
            match dst {
                Conn::Postgres(c) => copy_in(c, plan, &rows).await?,
                _ => insert_rows(dst, plan, rows).await?,
            }
            let (sql, values) = self.progress_update(plan, Some(key), done, finished);
            exec(dst, sql, values).await.map_err(Failure::Database)?;
            dst.batch("COMMIT").await.map_err(Failure::Database)
        }
        .await;
        match written {
            Ok(()) => Ok(()),
            Err(failure) => {
                let _ = dst.batch("ROLLBACK").await;
                let mut reason = match failure {
                    Failure::Database(e) => self.to.scrub(&db_reason(&e)),
                    Failure::Value(why) => why,
                };
                if let Err(why) = checks
                    && plan.checks_off
                    && is_foreign_key_violation(&reason)
                {
                    reason.push_str(&format!(
                        " (`{}` references itself or is in a cycle of foreign keys, so its rows cannot be \
                         copied in an order that satisfies them, and turning PostgreSQL's checks off for the \
                         copy was refused: {why}; copy as a superuser, who may set session_replication_role)",
                        plan.name
                    ));
                }
                Err(stopped(reason))
            }
        }
    }

    /// `rows` made ready for the target: decimals as their text where the encoder needs it, and
    /// an error for a value the target would store as another, unless rounding is allowed.
    fn check_values(
        &self,
        plan: &Plan,
        mut rows: Vec<Vec<Value>>,
        at: &str,
    ) -> Result<Vec<Vec<Value>>, Error> {
        let backend = self.target_backend();
        let watched: Vec<usize> = (0..plan.types.len())
            .filter(|i| {
                matches!(
                    (backend, &plan.types[*i]),
                    (Backend::Sqlite, ColumnType::Decimal(..))
                        | (
                            Backend::MySql,
                            ColumnType::Timestamp | ColumnType::TimestampTz | ColumnType::Time
                        )
                )
            })
            .collect();
        if !self.options.allow_rounding {
            for row in &rows {
                for i in &watched {
                    if let Some(why) = values::target_changes(backend, &plan.types[*i], &row[*i]) {
                        let key: Vec<Value> = plan.key.iter().map(|k| row[*k].clone()).collect();
                        return Err(Error::CopyStopped {
                            table: plan.name.clone(),
                            at: at.to_string(),
                            reason: format!(
                                "the row with key {} holds in `{}` a value the target cannot keep: {why}; \
                                 copy with --allow-rounding to store it as the target can, or change the \
                                 column's type",
                                show_key(&key),
                                plan.columns[*i]
                            ),
                            outcome: self.outcome(plan),
                        });
                    }
                }
            }
        }
        if matches!(backend, Backend::MySql | Backend::Sqlite)
            && plan
                .types
                .iter()
                .any(|t| matches!(t, ColumnType::Decimal(..)))
        {
            for row in &mut rows {
                for v in row.iter_mut() {
                    if matches!(v, Value::BigDecimal(_)) {
                        *v = values::for_target(backend, std::mem::replace(v, Value::Int(None)));
                    }
                }
            }
        }
        Ok(rows)
    }

    /// PostgreSQL: set every sequence a column of `plan` owns (identity or serial) past the
    /// largest value copied into it.
    async fn advance_sequences(&self, dst: &mut Conn, plan: &Plan) -> Result<Vec<String>, Error> {
        let mut advanced = Vec::new();
        let table = quote(Backend::Postgres, &plan.name);
        for (column, ty) in plan.columns.iter().zip(&plan.types) {
            if !matches!(
                ty,
                ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
            ) {
                continue;
            }
            let sql = format!(
                "SELECT s.seq, setval(s.seq, GREATEST(COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, 1), false) \
                 FROM (SELECT pg_get_serial_sequence($1, $2) AS seq) s WHERE s.seq IS NOT NULL",
                col = quote(Backend::Postgres, column),
            );
            let values = sq::Values(vec![
                Value::String(Some(table.clone())),
                Value::String(Some(column.clone())),
            ]);
            let (_, rows) = values::fetch_rows(dst, sql, values, None)
                .await
                .map_err(|e| {
                    self.target_failed(
                        &format!("setting the sequence of {}.{column}", plan.name),
                        &e,
                    )
                })?;
            for row in rows {
                if let Some(Value::String(Some(seq))) = row.first() {
                    advanced.push(seq.clone());
                }
            }
        }
        Ok(advanced)
    }
}

/// Why writing a batch failed.
enum Failure {
    Database(sqlx::Error),
    /// A value that cannot be written.
    Value(String),
}

fn is_foreign_key_violation(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("foreign key") || r.contains("23503")
}

/// A key as the progress table records it: a JSON array of tagged values.
fn key_text(key: &[Value]) -> Option<String> {
    let parts: Option<Vec<_>> = key.iter().map(key_to_json).collect();
    Some(sq::value::prelude::serde_json::Value::Array(parts?).to_string())
}

fn parse_key(text: &str) -> Option<Vec<Value>> {
    let json: sq::value::prelude::Json = sq::value::prelude::serde_json::from_str(text).ok()?;
    json.as_array()?.iter().map(key_from_json).collect()
}

/// PostgreSQL: the rows through `COPY ... FROM STDIN`, in text format.
async fn copy_in(
    c: &mut sqlx::postgres::PgConnection,
    plan: &Plan,
    rows: &[Vec<Value>],
) -> Result<(), Failure> {
    let columns: Vec<String> = plan
        .columns
        .iter()
        .map(|c| quote(Backend::Postgres, c))
        .collect();
    let statement = format!(
        "COPY {} ({}) FROM STDIN",
        quote(Backend::Postgres, &plan.name),
        columns.join(", ")
    );
    let mut copy = c.copy_in_raw(&statement).await.map_err(Failure::Database)?;
    let mut buf = String::with_capacity(COPY_CHUNK + COPY_CHUNK / 4);
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            if let Err(why) = values::copy_text(&mut buf, v) {
                let _ = copy.abort(why.clone()).await;
                return Err(Failure::Value(format!(
                    "column `{}`: {why}",
                    plan.columns[i]
                )));
            }
        }
        buf.push('\n');
        if buf.len() >= COPY_CHUNK {
            copy.send(buf.as_bytes()).await.map_err(Failure::Database)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.map_err(Failure::Database)?;
    }
    copy.finish().await.map(drop).map_err(Failure::Database)
}

/// MySQL and SQLite: the rows as multi-row `INSERT`s, each under the backend's limit of bound
/// values and about [`INSERT_BYTES`].
async fn insert_rows(dst: &mut Conn, plan: &Plan, rows: Vec<Vec<Value>>) -> Result<(), Failure> {
    let backend = dst.backend();
    let per_statement = (max_bound_values(backend) / plan.columns.len().max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut stmt = sq::Query::insert();
        stmt.into_table(plan.name.clone())
            .columns(plan.columns.iter().cloned());
        let (mut n, mut bytes) = (0, 0);
        while n < per_statement && bytes < INSERT_BYTES {
            let Some(row) = rows.next() else { break };
            bytes += row.iter().map(value_size).sum::<usize>();
            stmt.values(row.into_iter().map(sq::Expr::val))
                .map_err(|e| Failure::Value(e.to_string()))?;
            n += 1;
        }
        let (sql, values) = build(backend, &stmt);
        exec(dst, sql, values).await.map_err(Failure::Database)?;
    }
    Ok(())
}

/// About how many bytes `v` takes in a statement.
fn value_size(v: &Value) -> usize {
    match v {
        Value::String(Some(s)) => s.len() + 8,
        Value::Bytes(Some(b)) => b.len() + 8,
        Value::Json(Some(j)) => j.to_string().len() + 8,
        _ => 16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use godwit_core::{Catalog, Migration, Schema};

    struct Tables;
    impl Migration for Tables {
        fn up(&self, s: &mut Schema) {
            s.create_table("users", |t| {
                t.id();
            });
            s.create_table("posts", |t| {
                t.id();
                t.references("users");
            });
            s.create_table("comments", |t| {
                t.id();
                t.references("posts");
                t.references_as("parent_id", "comments").nullable();
            });
            s.create_table("tags", |t| {
                t.id();
            });
        }
    }

    #[test]
    fn tables_are_copied_parents_first_and_self_references_with_checks_off() {
        let id = MigrationId {
            version: 20260101000000,
            name: "tables".into(),
        };
        let catalog = Catalog::new([(id.clone(), &Tables as &dyn Migration)]);
        let model = catalog.model(None).unwrap();
        let plans = plan(&model, None, &id).unwrap();
        let order: Vec<(&str, bool)> = plans
            .iter()
            .map(|p| (p.name.as_str(), p.checks_off))
            .collect();
        assert_eq!(
            order,
            [
                ("tags", false),
                ("users", false),
                ("posts", false),
                ("comments", true)
            ]
        );
        let err = plan(&model, Some(&["nope".to_string()]), &id).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot copy table `nope`: the schema at migration"),
            "{err}"
        );
    }
}
