//! Rendering operations into SQL for each backend, through sea-query.
//!
//! **Invariant:** an operation a backend cannot express is a [`RenderError`] before anything
//! runs; nothing is silently dropped. SQLite's missing `ALTER`s go through the table rebuild in
//! `sqlite.rs`.
//!
//! This file renders each operation ([`render_op`]) from the pieces in `sql.rs` (sea-query
//! plumbing, quoting), `column.rs` (types, defaults, column definitions) and `table.rs`
//! (tables, foreign keys, indexes, unique and check constraints).

mod column;
mod sql;
pub(crate) mod sqlite;
mod table;

use sea_query as sq;
use sea_query::{
    ConditionalStatement, MysqlQueryBuilder, PostgresQueryBuilder, QueryStatementWriter,
    SchemaStatementBuilder, SqliteQueryBuilder, TableBuilder as _,
};

use crate::column::ColumnDef;
use crate::error::RenderError;
use crate::model::SchemaModel;
use crate::op::{
    DeclaredObject, ForeignKeyDef, IndexDef, ObjectKind, Op, SqlText, TableDef, UniqueDef,
};
use crate::types::{
    Backend, ColumnType, CurrentTimestamp, DefaultValue, ReferentialAction, SqlExpr,
};

use column::*;
use table::*;

pub use column::{SQLITE_REAL_DIGITS, stored_value};
pub use table::drop_declared;

/// How an earlier godwit rendered, to recognise the checksums history recorded then: a
/// migration whose code did not change stays `applied` when its checksum is that of one of
/// these ([`crate::Catalog::render_up_earlier`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EarlierRendering {
    /// MySQL/MariaDB indexes dropped with `DROP INDEX .. ON ..`, without the migration's
    /// `ALGORITHM` and `LOCK`.
    DropIndexOn,
    /// String literals as sea-query writes them: escaped with backslashes on MySQL/MariaDB,
    /// bytes as plain `'\x..'` literals on PostgreSQL.
    BackslashEscapedLiterals,
    /// Also: SQLite, a table rebuilt once per operation that needs it, however many operations of a
    /// migration rebuild the same table.
    RebuildPerOperation,
    /// Also: MySQL/MariaDB `time`, `datetime` and `timestamp` columns without microseconds,
    /// SQLite `decimal` columns of NUMERIC affinity whatever their precision, values written
    /// inline as given, and SQLite rebuilds without the steps that keep raw-SQL indexes and
    /// triggers.
    BeforeExactValues,
}

impl EarlierRendering {
    /// Every earlier rendering, newest first.
    pub const ALL: [EarlierRendering; 4] = [
        EarlierRendering::DropIndexOn,
        EarlierRendering::BackslashEscapedLiterals,
        EarlierRendering::RebuildPerOperation,
        EarlierRendering::BeforeExactValues,
    ];
}

thread_local! {
    /// Set while [`earlier`] renders.
    static EARLIER: std::cell::Cell<Option<EarlierRendering>> = const { std::cell::Cell::new(None) };
}

/// Render inside `f` as godwit did in `rendering`.
pub(crate) fn earlier<T>(rendering: EarlierRendering, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<EarlierRendering>);
    impl Drop for Reset {
        fn drop(&mut self) {
            EARLIER.with(|b| b.set(self.0));
        }
    }
    let _reset = Reset(EARLIER.with(|b| b.replace(Some(rendering))));
    f()
}

/// Whether [`EarlierRendering::BeforeExactValues`] is rendering.
pub(crate) fn rendering_before_exact_values() -> bool {
    EARLIER.with(|b| b.get()) >= Some(EarlierRendering::BeforeExactValues)
}

/// Whether an earlier rendering that wrote string literals as sea-query does is rendering.
pub(crate) fn rendering_escaped_literals() -> bool {
    EARLIER.with(|b| b.get()) >= Some(EarlierRendering::BackslashEscapedLiterals)
}

/// Whether an earlier rendering that dropped MySQL indexes with `DROP INDEX .. ON ..` is
/// rendering.
pub(crate) fn drop_index_on() -> bool {
    EARLIER.with(|b| b.get()).is_some()
}

/// Whether an earlier rendering that rebuilt a SQLite table once per operation is rendering.
pub(crate) fn rendering_rebuild_per_operation() -> bool {
    EARLIER.with(|b| b.get()) >= Some(EarlierRendering::RebuildPerOperation)
}

pub use sql::query;
use sql::*;
pub(crate) use sql::{expr_sql, quote, rename_identifier};

/// One SQL statement, with its bound values.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL with placeholders (`$1` on PostgreSQL, `?` elsewhere) where `values` go.
    pub sql: String,
    /// Values bound to the placeholders; empty for DDL.
    pub values: sq::Values,
    /// The statement with values written inline, for previews.
    pub preview: String,
    /// Not SQL but Rust code or a batched step: `sql` and `preview` then only describe it.
    pub data: Option<crate::data::DataStep>,
}

impl Statement {
    pub(crate) fn ddl(sql: impl Into<String>) -> Self {
        let sql = sql.into();
        Statement {
            preview: sql.clone(),
            sql,
            values: sq::Values(Vec::new()),
            data: None,
        }
    }
}

/// What one operation renders to.
#[derive(Debug, Clone, Default)]
pub struct RenderedOp {
    /// The statements, in the order they run.
    pub statements: Vec<Statement>,
    /// A SQLite table rebuild: foreign key enforcement must be off while it runs.
    pub foreign_keys_off: bool,
    /// What a reviewer should know about these statements.
    pub warnings: Vec<String>,
}

impl RenderedOp {
    fn ddl(statements: Vec<String>) -> Self {
        RenderedOp {
            statements: statements.into_iter().map(Statement::ddl).collect(),
            foreign_keys_off: false,
            warnings: Vec::new(),
        }
    }
}

/// Every identifier `op` introduces, to check against the backend's length limit.
fn new_identifiers(op: &Op) -> Vec<&str> {
    match op {
        Op::CreateTable(t) => std::iter::once(t.name.as_str())
            .chain(t.columns.iter().map(|c| c.name.as_str()))
            .chain(t.indexes.iter().map(|i| i.name.as_str()))
            .chain(t.uniques.iter().map(|u| u.name.as_str()))
            .chain(t.foreign_keys.iter().map(|f| f.name.as_str()))
            .chain(t.checks.iter().map(|c| c.name.as_str()))
            .collect(),
        Op::RenameTable { to, .. } | Op::RenameColumn { to, .. } | Op::RenameIndex { to, .. } => {
            vec![to]
        }
        Op::AddColumn { column, .. } => vec![&column.name],
        Op::CreateIndex { index, .. } => vec![&index.name],
        Op::AddForeignKey { foreign_key, .. } => vec![&foreign_key.name],
        Op::AddCheck { check, .. } => vec![&check.name],
        Op::AddUnique { unique, .. } => vec![&unique.name],
        _ => vec![],
    }
}

/// Render `op` for `backend`. `before` is the schema it applies to (already validated against
/// it), `after` the schema it leaves.
pub fn render_op(
    backend: Backend,
    before: &SchemaModel,
    after: &SchemaModel,
    op: &Op,
) -> Result<RenderedOp, RenderError> {
    // Every path below avoids the statements sea-query panics on; should one be missed, it
    // becomes an error naming the operation rather than a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render_op_inner(backend, before, after, op)
    })).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown reason".into());
        Err(RenderError::Unsupported {
            backend,
            what: format!("render `{}` ({why})", op.describe()),
            fix: "an expression in it uses something this backend lacks (a PostgreSQL-only function, ANY/ALL on SQLite, a `?` without its value): write it for this backend with `Sql(..)`/`sql_per_backend`".into(),
        })
    })
}

fn render_op_inner(
    backend: Backend,
    before: &SchemaModel,
    after: &SchemaModel,
    op: &Op,
) -> Result<RenderedOp, RenderError> {
    // PostgreSQL counts bytes (and would silently truncate), MySQL counts characters.
    let len = |n: &str| match backend {
        Backend::Postgres => n.len(),
        _ => n.chars().count(),
    };
    if let Some(max) = backend.max_identifier_len()
        && let Some(name) = new_identifiers(op).into_iter().find(|n| len(n) > max)
    {
        return Err(RenderError::IdentifierTooLong {
            name: name.to_string(),
            len: len(name),
            unit: if backend == Backend::Postgres {
                "bytes"
            } else {
                "characters"
            },
            max,
            backend,
        });
    }
    if backend == Backend::Sqlite
        && let Some(rendered) = sqlite::render(before, after, op)?
    {
        return Ok(rendered);
    }
    let q = |s: &str| quote(backend, s);
    let table_before = |name: &str| before.tables.get(name).cloned().unwrap_or_default();
    let statements = match op {
        Op::CreateTable(t) => create_table(backend, t, &t.name)?,
        Op::DropTable { table } => {
            vec![schema_sql(backend, sq::Table::drop().table(table.clone()))]
        }
        Op::RenameTable { from, to } => {
            vec![schema_sql(
                backend,
                sq::Table::rename().table(from.clone(), to.clone()),
            )]
        }
        Op::AddColumn { table, column } => {
            check_column(backend, table, column)?;
            vec![alter(backend, table, |a| {
                a.add_column(sea_column(backend, column, false));
            })]
        }
        Op::DropColumn { table, column } => {
            mysql_fk_keeps_index(
                backend,
                before,
                after,
                table,
                &format!("drop column `{column}`"),
            )?;
            let t = table_before(table);
            let mut out = Vec::new();
            for ck in t
                .checks
                .iter()
                .filter(|c| c.column.as_ref() == Some(column))
            {
                out.push(drop_constraint_sql(backend, table, &ck.name));
            }
            for fk in t.foreign_keys.iter().filter(|f| f.columns.contains(column)) {
                out.push(drop_foreign_key_sql(backend, table, &fk.name));
            }
            for u in t.uniques.iter().filter(|u| u.columns.contains(column)) {
                out.push(drop_unique_sql(backend, table, &u.name));
            }
            for i in t.indexes.iter().filter(|i| i.columns.contains(column)) {
                out.push(drop_index_sql(backend, table, &i.name));
            }
            out.push(alter(backend, table, |a| {
                a.drop_column(column.clone());
            }));
            out
        }
        Op::RenameColumn { table, from, to } => {
            vec![alter(backend, table, |a| {
                a.rename_column(from.clone(), to.clone());
            })]
        }
        Op::ChangeColumnType { table, column, ty } => {
            let t = after.tables.get(table).cloned().unwrap_or_default();
            if let Some(def) = t.column(column) {
                check_column(backend, table, def)?;
            }
            let keyed = t.primary_key.contains(column)
                || t.indexes.iter().any(|i| i.columns.contains(column))
                || t.uniques.iter().any(|u| u.columns.contains(column));
            if keyed {
                mysql_indexable(backend, &t, std::slice::from_ref(column), "a key or index")?;
            }
            match backend {
                Backend::Postgres => {
                    let ty_sql = type_sql(backend, ty);
                    let default = t.column(column).and_then(|c| c.default.clone());
                    let alter_column =
                        format!("ALTER TABLE {} ALTER COLUMN {}", q(table), q(column));
                    let change =
                        format!("{alter_column} TYPE {ty_sql} USING {}::{ty_sql}", q(column));
                    match default {
                        // The old default may not cast to the new type by itself: set it again.
                        Some(d) => vec![
                            format!("{alter_column} DROP DEFAULT"),
                            change,
                            format!("{alter_column} SET DEFAULT {}", default_sql(backend, &d)),
                        ],
                        None => vec![change],
                    }
                }
                _ => vec![mysql_modify(after, table, column)?],
            }
        }
        Op::SetDefault {
            table,
            column,
            default,
        } => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
            q(table),
            q(column),
            {
                let ty = &after
                    .tables
                    .get(table)
                    .and_then(|t| t.column(column))
                    .map(|c| c.ty.clone());
                let default = &column_default(backend, ty.as_ref(), default);
                let parenthesized = match (backend, default) {
                    // MySQL/MariaDB take expressions as defaults only in parentheses.
                    (Backend::MySql, DefaultValue::Expr(_)) => true,
                    _ => ty
                        .as_ref()
                        .is_some_and(|ty| mysql_parenthesized_default(backend, ty, default)),
                };
                if parenthesized {
                    format!("({})", default_sql(backend, default))
                } else {
                    default_sql(backend, default)
                }
            }
        )],
        Op::DropDefault { table, column } => {
            vec![format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                q(table),
                q(column)
            )]
        }
        Op::SetNotNull { table, column } | Op::DropNotNull { table, column } => match backend {
            Backend::Postgres => vec![format!(
                "ALTER TABLE {} ALTER COLUMN {} {} NOT NULL",
                q(table),
                q(column),
                if matches!(op, Op::SetNotNull { .. }) {
                    "SET"
                } else {
                    "DROP"
                }
            )],
            _ => vec![mysql_modify(after, table, column)?],
        },
        Op::CreateIndex { table, index } => {
            vec![create_index(backend, &table_before(table), index)?]
        }
        Op::DropIndex {
            table,
            name,
            concurrently,
        } => {
            mysql_fk_keeps_index(
                backend,
                before,
                after,
                table,
                &format!("drop index `{name}`"),
            )?;
            match backend {
                Backend::Postgres if *concurrently => {
                    vec![format!("DROP INDEX CONCURRENTLY {}", q(name))]
                }
                _ => vec![drop_index_sql(backend, table, name)],
            }
        }
        Op::RenameIndex { table, from, to } => match backend {
            Backend::Postgres => vec![format!("ALTER INDEX {} RENAME TO {}", q(from), q(to))],
            _ => vec![format!(
                "ALTER TABLE {} RENAME INDEX {} TO {}",
                q(table),
                q(from),
                q(to)
            )],
        },
        Op::AddForeignKey { table, foreign_key } => {
            let sql = schema_sql(backend, &sea_foreign_key(table, foreign_key));
            vec![not_valid(backend, sql, foreign_key.not_valid)]
        }
        Op::ValidateConstraint { table, name } => match backend {
            Backend::Postgres => vec![format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                q(table),
                q(name)
            )],
            // MySQL and SQLite checked the rows when the constraint was added.
            _ => vec![],
        },
        Op::DropForeignKey { table, name } => {
            let mut out = vec![drop_foreign_key_sql(backend, table, name)];
            let t = table_before(table);
            if backend == Backend::MySql
                && let Some(fk) = t.foreign_keys.iter().find(|f| &f.name == name)
                && !mysql_fk_index_covered(&t, &fk.columns)
            {
                // MySQL created an index named after the key to enforce it; it outlives the key.
                out.push(drop_index_sql(backend, table, name));
            }
            out
        }
        Op::AddCheck { table, check } => {
            let sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
                q(table),
                q(&check.name),
                check.expr.sql(backend)
            );
            vec![not_valid(backend, sql, check.not_valid)]
        }
        Op::DropCheck { table, name } => vec![drop_constraint_sql(backend, table, name)],
        Op::AddUnique { table, unique } => vec![add_unique(backend, &table_before(table), unique)?],
        Op::DropUnique { table, name } => {
            mysql_fk_keeps_index(
                backend,
                before,
                after,
                table,
                &format!("drop unique constraint `{name}`"),
            )?;
            vec![drop_unique_sql(backend, table, name)]
        }
        // MySQL/MariaDB and SQLite: the unique index is the unique constraint already.
        Op::AddUniqueUsingIndex { table, index } => match backend {
            Backend::Postgres => vec![format!(
                "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}",
                q(table),
                q(index),
                q(index)
            )],
            _ => vec![],
        },
        Op::Sql(raw) => vec![raw_text(backend, &raw.up)?],
        Op::Insert(i) => {
            let mut stmt = sq::Query::insert();
            stmt.into_table(i.table.clone()).columns(i.columns.clone());
            for row in &i.rows {
                let values: Vec<sq::Expr> = row
                    .iter()
                    .map(|v| sq::Expr::val(stored_value(backend, v.clone())))
                    .collect();
                stmt.values(values).map_err(|e| RenderError::Unsupported {
                    backend,
                    what: format!("build the insert into `{}`", i.table),
                    fix: format!("give one value per column ({e})"),
                })?;
            }
            return Ok(RenderedOp {
                statements: vec![query(backend, &stmt)],
                foreign_keys_off: false,
                warnings: Vec::new(),
            });
        }
        Op::Update(u) => {
            let mut stmt = sq::Query::update();
            stmt.table(u.table.clone());
            for (c, v) in &u.sets {
                stmt.value(c.clone(), v.clone());
            }
            if let Some(f) = &u.filter {
                stmt.and_where(f.clone());
            }
            return Ok(RenderedOp {
                statements: vec![query(backend, &stmt)],
                foreign_keys_off: false,
                warnings: Vec::new(),
            });
        }
        Op::Run(r) => {
            let text = crate::data::code_preview(backend, &r.name);
            return Ok(RenderedOp {
                statements: vec![Statement {
                    sql: text.clone(),
                    values: sq::Values(Vec::new()),
                    preview: text,
                    data: Some(crate::data::DataStep::Code(r.clone())),
                }],
                foreign_keys_off: false,
                warnings: Vec::new(),
            });
        }
        Op::Backfill(b) => {
            let t = table_before(&b.table);
            return Ok(batched(
                backend,
                &t,
                format!("backfill(\"{}\")", b.table),
                b.filter.clone(),
                crate::data::BatchAction::Update {
                    sets: b.sets.clone(),
                },
                b.batching,
                None,
            ));
        }
        Op::CopyRows(c) => {
            let from = table_before(&c.from);
            let to = table_before(&c.to);
            let columns: Vec<(String, sq::Expr)> = if c.columns.is_empty() {
                crate::data::shared_columns(&from, &to)
                    .into_iter()
                    .map(|n| (n.clone(), sq::Expr::col(sq::Alias::new(n))))
                    .collect()
            } else {
                c.columns.clone()
            };
            // PostgreSQL: explicit values in an identity column leave its sequence behind;
            // the last batch moves it past the largest key, as MySQL and SQLite do themselves.
            let identity = to
                .columns
                .iter()
                .find(|col| col.auto_increment && columns.iter().any(|(n, _)| *n == col.name));
            let finish = match (backend, identity) {
                (Backend::Postgres, Some(col)) => Some(Statement::ddl(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                     COALESCE(MAX({q_column}), 0) + 1, false) FROM {q_table}",
                    table = quote(backend, &c.to).replace('\'', "''"),
                    column = col.name.replace('\'', "''"),
                    q_column = quote(backend, &col.name),
                    q_table = quote(backend, &c.to),
                ))),
                _ => None,
            };
            return Ok(batched(
                backend,
                &from,
                format!("copy_rows(\"{}\", \"{}\")", c.from, c.to),
                c.filter.clone(),
                crate::data::BatchAction::Insert {
                    into: c.to.clone(),
                    columns,
                },
                c.batching,
                finish,
            ));
        }
        Op::Delete(d) => {
            let mut stmt = sq::Query::delete();
            stmt.from_table(d.table.clone());
            if let Some(f) = &d.filter {
                stmt.and_where(f.clone());
            }
            return Ok(RenderedOp {
                statements: vec![query(backend, &stmt)],
                foreign_keys_off: false,
                warnings: Vec::new(),
            });
        }
    };
    Ok(RenderedOp::ddl(statements))
}

/// A batched step over table `t` (as it stands before the step), walked by its primary key.
fn batched(
    backend: Backend,
    t: &TableDef,
    label: String,
    filter: Option<sq::Expr>,
    action: crate::data::BatchAction,
    batching: crate::data::Batching,
    finish: Option<Statement>,
) -> RenderedOp {
    let step = crate::data::Batched {
        label,
        backend,
        table: t.name.clone(),
        key: t.primary_key.clone(),
        key_types: t
            .primary_key
            .iter()
            .map(|k| {
                t.column(k)
                    .map(|c| c.ty.clone())
                    .unwrap_or(ColumnType::BigInt)
            })
            .collect(),
        filter,
        action,
        batching,
        finish,
    };
    // Building one batch here renders every expression once: one this backend cannot express
    // fails now, naming the operation, rather than half-way through the run.
    let preview = step.preview();
    RenderedOp {
        statements: vec![Statement {
            sql: preview.clone(),
            values: sq::Values(Vec::new()),
            preview,
            data: Some(crate::data::DataStep::Batched(Box::new(step))),
        }],
        foreign_keys_off: false,
        warnings: Vec::new(),
    }
}
