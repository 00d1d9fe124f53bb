//! Data migrations: Rust code a migration runs, and batched backfills and row copies.
//!
//! **Invariant:** this module only describes data steps and renders their SQL; it runs nothing.
//! Rust code is held type-erased ([`Code`]): godwit-core neither knows its signature nor calls it;
//! the runner does. A batched step ([`Batched`]) renders each batch's statements on demand, from
//! the key the runner read last, so that every statement still comes from this renderer.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sea_query as sq;
use sea_query::{Expr, ExprTrait as _, Value};

use crate::render::{Statement, query};
use crate::types::{Backend, ColumnType};

/// Rows a batch walks by default: large enough that committing each batch costs little, small
/// enough that a batch holds its row locks for well under 100 ms.
pub const DEFAULT_BATCH_SIZE: u32 = 10_000;

/// Rust code a migration runs, type-erased: the runner knows its type and calls it.
#[derive(Clone)]
pub struct Code(pub Arc<dyn Any + Send + Sync>);

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<rust code>")
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A named step of Rust code, run inside the migration's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCode {
    /// The step's name, which `sql` and `--dry-run` show in place of SQL.
    pub name: String,
    /// The function the runner calls.
    pub code: Code,
}

/// How a batched step walks its table and what it waits between batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Rows of the walked table per batch (by primary key).
    pub size: u32,
    /// The pause after each batch, to leave the database room for other work.
    pub pause: Duration,
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            size: DEFAULT_BATCH_SIZE,
            pause: Duration::ZERO,
        }
    }
}

/// `backfill(table)`: an `UPDATE` run in batches walked by primary key, each batch in its own
/// short transaction, outside the migration's schema transaction, and resumed where it stopped
/// if it is interrupted.
#[derive(Debug, Clone, PartialEq)]
pub struct Backfill {
    /// The table updated, walked by its primary key.
    pub table: String,
    /// Each column set and the value or expression of the row it gets, in order.
    pub sets: Vec<(String, Expr)>,
    /// The condition a row must match to be updated; the batches still walk every key.
    pub filter: Option<Expr>,
    /// The batch size and the pause after each batch.
    pub batching: Batching,
}

impl Backfill {
    /// Set `column` to a value or an expression of the row (`Expr::col("email").lower()`...).
    pub fn set(&mut self, column: impl Into<String>, value: impl Into<Expr>) -> &mut Self {
        self.sets.push((column.into(), value.into()));
        self
    }

    /// Only update rows matching `condition`; the batches still walk every key.
    pub fn filter(&mut self, condition: impl Into<Expr>) -> &mut Self {
        self.filter = Some(condition.into());
        self
    }

    /// Rows per batch (default [`DEFAULT_BATCH_SIZE`]).
    pub fn batch_size(&mut self, rows: u32) -> &mut Self {
        self.batching.size = rows;
        self
    }

    /// Wait this long after each batch (default none).
    pub fn pause(&mut self, pause: Duration) -> &mut Self {
        self.batching.pause = pause;
        self
    }
}

/// `copy_rows(from, to)`: `INSERT INTO to (..) SELECT .. FROM from` in batches walked by the
/// source's primary key, each batch in its own transaction, resumable like a backfill.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyRows {
    /// The source table, walked by its primary key.
    pub from: String,
    /// The target table the rows are inserted into.
    pub to: String,
    /// Target column and the expression of the source row it gets; empty: every column of
    /// `to` that `from` has too, by name.
    pub columns: Vec<(String, Expr)>,
    /// The condition a source row must match to be copied.
    pub filter: Option<Expr>,
    /// The batch size (in source rows) and the pause after each batch.
    pub batching: Batching,
}

impl CopyRows {
    /// Copy source column `from` into target column `to`.
    pub fn map(&mut self, to: impl Into<String>, from: impl Into<String>) -> &mut Self {
        self.columns
            .push((to.into(), Expr::col(sq::Alias::new(from.into()))));
        self
    }

    /// Copy the source columns `names` into the target columns of the same names.
    pub fn columns<I, S>(&mut self, names: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for name in names {
            let name = name.into();
            self.columns
                .push((name.clone(), Expr::col(sq::Alias::new(name))));
        }
        self
    }

    /// Fill target column `to` with an expression of the source row: the transform
    /// (`Expr::col("first_name").concat(" ").concat(Expr::col("last_name"))`, a constant...).
    pub fn set(&mut self, to: impl Into<String>, value: impl Into<Expr>) -> &mut Self {
        self.columns.push((to.into(), value.into()));
        self
    }

    /// Only copy source rows matching `condition`.
    pub fn filter(&mut self, condition: impl Into<Expr>) -> &mut Self {
        self.filter = Some(condition.into());
        self
    }

    /// Source rows per batch (default [`DEFAULT_BATCH_SIZE`]).
    pub fn batch_size(&mut self, rows: u32) -> &mut Self {
        self.batching.size = rows;
        self
    }

    /// Wait this long after each batch (default none).
    pub fn pause(&mut self, pause: Duration) -> &mut Self {
        self.batching.pause = pause;
        self
    }
}

/// A step of a rendered migration that is not one SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum DataStep {
    /// Rust code, run in the migration's transaction.
    Code(RunCode),
    /// A batched backfill or copy, run outside the schema transaction.
    Batched(Box<Batched>),
    /// SQLite, before a table rebuild drops the table: read what the database has on it that
    /// the migrations do not know (indexes and triggers made with raw SQL, not named in
    /// `known`) and its `AUTOINCREMENT` counter, to be put back by [`DataStep::Restore`].
    Keep {
        /// The table rebuilt.
        table: String,
        /// The indexes the rebuild drops or creates itself, by the schema model.
        known: Vec<String>,
    },
    /// SQLite, after a table rebuild: create again what [`DataStep::Keep`] read, and set the
    /// `AUTOINCREMENT` counter back, so that no id is handed out twice.
    Restore {
        /// The table rebuilt.
        table: String,
    },
}

/// What each batch of a batched step does.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchAction {
    /// `UPDATE` the batch's rows of the walked table (a backfill).
    Update {
        /// Each column set and the value or expression of the row it gets, in order.
        sets: Vec<(String, Expr)>,
    },
    /// `INSERT INTO .. SELECT` the batch's rows of the walked table into another (a row copy).
    Insert {
        /// The target table.
        into: String,
        /// Each target column and the expression of the source row it gets, in order.
        columns: Vec<(String, Expr)>,
    },
}

/// A batched step rendered for one backend: the table it walks, its key, and the statements of
/// one batch, built from the last key done.
#[derive(Debug, Clone, PartialEq)]
pub struct Batched {
    /// What progress bars and messages call it: `backfill("users")`.
    pub label: String,
    /// The backend the statements are rendered for.
    pub backend: Backend,
    /// The table walked.
    pub table: String,
    /// Its primary key, and the key columns' types.
    pub key: Vec<String>,
    /// The types of the `key` columns, in the same order.
    pub key_types: Vec<ColumnType>,
    /// The condition a row must match to be acted on; the batches still walk every key.
    pub filter: Option<Expr>,
    /// What each batch does with its rows.
    pub action: BatchAction,
    /// The batch size and the pause after each batch.
    pub batching: Batching,
    /// Run in the last batch's transaction: PostgreSQL moves the target's identity sequence
    /// past the keys `copy_rows` copied into it.
    pub finish: Option<Statement>,
}

impl Batched {
    fn key_expr(&self) -> Expr {
        match self.key.as_slice() {
            [one] => Expr::col(sq::Alias::new(one.clone())),
            many => Expr::tuple(
                many.iter()
                    .map(|k| Expr::col(sq::Alias::new(k.clone())))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    fn key_value(values: &[Value]) -> Expr {
        match values {
            [one] => Expr::val(one.clone()),
            many => Expr::tuple(many.iter().cloned().map(Expr::val).collect::<Vec<_>>()),
        }
    }

    /// The rows of one batch: after key `after` (from the start when `None`) up to and
    /// including `upto` (to the end when `None`), and matching the filter.
    fn range(&self, after: Option<Expr>, upto: Option<Expr>) -> Option<Expr> {
        let mut parts = Vec::new();
        if let Some(after) = after {
            parts.push(self.key_expr().gt(after));
        }
        if let Some(upto) = upto {
            parts.push(self.key_expr().lte(upto));
        }
        if let Some(f) = &self.filter {
            parts.push(f.clone());
        }
        parts.into_iter().reduce(|a, b| a.and(b))
    }

    /// `SELECT <key> FROM <table> WHERE <key> > after ORDER BY <key> LIMIT 1 OFFSET size - 1`:
    /// the last key of the next batch, or no row when fewer than a batch remain.
    pub fn next_bound(&self, after: Option<&[Value]>) -> Statement {
        let mut select = sq::Query::select();
        select.from(crate::render::table_ref(&self.table));
        for k in &self.key {
            select
                .column(sq::Alias::new(k.clone()))
                .order_by(sq::Alias::new(k.clone()), sq::Order::Asc);
        }
        if let Some(after) = after {
            select.and_where(self.key_expr().gt(Self::key_value(after)));
        }
        select
            .limit(1)
            .offset(u64::from(Ord::max(self.batching.size, 1) - 1));
        query(self.backend, &select)
    }

    /// The rows left to do after `after`, for progress: `SELECT COUNT(*) ...`.
    pub fn count(&self, after: Option<&[Value]>) -> Statement {
        let mut select = sq::Query::select();
        select
            .expr(Expr::col(sq::Asterisk).count())
            .from(crate::render::table_ref(&self.table));
        if let Some(cond) = self.range(after.map(Self::key_value), None) {
            select.and_where(cond);
        }
        query(self.backend, &select)
    }

    /// The statement of one batch: the rows after `after` up to and including `upto`.
    pub fn batch(&self, after: Option<&[Value]>, upto: Option<&[Value]>) -> Statement {
        self.batch_in(self.range(after.map(Self::key_value), upto.map(Self::key_value)))
    }

    fn batch_in(&self, cond: Option<Expr>) -> Statement {
        match &self.action {
            BatchAction::Update { sets } => {
                let mut update = sq::Query::update();
                update.table(crate::render::table_ref(&self.table));
                for (c, v) in sets {
                    update.value(sq::Alias::new(c.clone()), v.clone());
                }
                if let Some(cond) = cond {
                    update.and_where(cond);
                }
                query(self.backend, &update)
            }
            BatchAction::Insert { into, columns } => {
                let mut select = sq::Query::select();
                select.from(crate::render::table_ref(&self.table));
                for (_, e) in columns {
                    select.expr(e.clone());
                }
                if let Some(cond) = cond {
                    select.and_where(cond);
                }
                let mut insert = sq::Query::insert();
                insert
                    .into_table(crate::render::table_ref(into))
                    .columns(columns.iter().map(|(c, _)| sq::Alias::new(c.clone())));
                // Both come from the model: the select has one expression per column.
                let _ = insert.select_from(select);
                query(self.backend, &insert)
            }
        }
    }

    /// What `sql` and `--dry-run` show: a comment saying how it runs in batches, and the one
    /// statement that does what all the batches do together, which runs as printed in each
    /// database's client.
    pub fn preview(&self) -> String {
        if crate::render::rendering_before_exact_values() {
            return self.preview_one_batch();
        }
        let mut all = self.batch(None, None).preview;
        if let Some(finish) = &self.finish {
            all.push_str(";\n");
            all.push_str(&finish.preview);
        }
        format!(
            "{}. All the batches together, as one statement:\n{all}",
            self.how_it_runs()
        )
    }

    /// `-- backfill("posts"): in batches of 1000 rows by (id), ...`: how the step runs.
    fn how_it_runs(&self) -> String {
        let pause = if self.batching.pause.is_zero() {
            String::new()
        } else {
            format!(
                ", pausing {} ms after each",
                self.batching.pause.as_millis()
            )
        };
        format!(
            "-- {}: in batches of {} rows by ({}), each in its own transaction outside the \
             migration's{pause}; resumed where it stopped if interrupted",
            self.label,
            self.batching.size,
            self.key.join(", ")
        )
    }

    /// The preview before it ran as printed: one batch, with the key range as `:last_id` and
    /// `:upto_id` (for the checksums recorded then, see
    /// [`crate::Catalog::render_up_earlier`]).
    fn preview_one_batch(&self) -> String {
        // Placeholder values, written as `:last_id` and `:upto_id` once rendered. Plain ASCII,
        // so that no backend escapes them (PostgreSQL writes control characters as `E'\001'`).
        let marker = |name: &str| -> Vec<Value> {
            self.key
                .iter()
                .map(|k| Value::String(Some(format!("@@{name}_{k}@@"))))
                .collect()
        };
        let (last, upto) = (marker("last"), marker("upto"));
        let mut one = self.batch(Some(&last), Some(&upto)).preview;
        for v in last.iter().chain(&upto) {
            if let Value::String(Some(m)) = v {
                one = one.replace(&format!("'{m}'"), &format!(":{}", m.trim_matches('@')));
            }
        }
        if let Some(finish) = &self.finish {
            one.push_str(";\n-- with the last batch:\n");
            one.push_str(&finish.preview);
        }
        format!("{}\n{one}", self.how_it_runs())
    }
}

/// What `sql` and `--dry-run` show for Rust code: its name, not SQL that cannot be known.
pub fn code_preview(backend: Backend, name: &str) -> String {
    let tx = match backend {
        // MySQL/MariaDB commit DDL as it runs: the code gets a transaction of its own.
        Backend::MySql => "in a transaction of its own",
        _ => "in the migration's transaction",
    };
    format!("-- run \"{name}\" (Rust code, {tx})")
}

/// The columns of `to` that `from` has too, in `to`'s order: what `copy_rows` copies when it
/// is given no columns.
pub(crate) fn shared_columns(from: &crate::op::TableDef, to: &crate::op::TableDef) -> Vec<String> {
    to.columns
        .iter()
        // A generated column computes its own value.
        .filter(|c| c.generated.is_none() && from.column(&c.name).is_some())
        .map(|c| c.name.clone())
        .collect()
}
