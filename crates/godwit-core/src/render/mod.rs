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
    Backend, ColumnType, CurrentTimestamp, DefaultValue, ReferentialAction, SqlExpr, in_schema_of,
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
pub(crate) use sql::{expr_sql, query_names_table, rename_identifier, rename_table_in_query};
pub use sql::{quote, table_ref};

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
        Op::CreateSchema { name } => vec![name],
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
        && let Some(name) = new_identifiers(op)
            .into_iter()
            .flat_map(|n| n.split('.'))
            .find(|n| len(n) > max)
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
    // The DSL names an enum column's type; the model knows its values.
    let resolved;
    let op = match with_enum_values(after, op) {
        Some(o) => {
            resolved = o;
            &resolved
        }
        None => op,
    };
    check_schemas(backend, before, op)?;
    check_views(backend, before, op)?;
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
            vec![schema_sql(
                backend,
                sq::Table::drop().table(table_ref(table)),
            )]
        }
        Op::RenameTable { from, to } => rename_table_sql(backend, before, from, to)?,
        Op::AddColumn { table, column } => {
            check_column(backend, table, column)?;
            check_generated_on_key(backend, &table_before(table), column)?;
            let mut out = vec![alter(backend, table, |a| {
                a.add_column(sea_column(backend, column, false));
            })];
            if let Some(comment) = &column.comment
                && backend == Backend::Postgres
            {
                out.push(comment_on_column(table, &column.name, Some(comment)));
            }
            out
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
                    // No cast goes from one enum to another, nor from an enum to most types:
                    // through text, which every type reads.
                    let from_enum = before
                        .tables
                        .get(table)
                        .and_then(|t| t.column(column))
                        .is_some_and(|c| matches!(c.ty, ColumnType::Enum(_)));
                    let via = if from_enum { "::text" } else { "" };
                    let change = format!(
                        "{alter_column} TYPE {ty_sql} USING {}{via}::{ty_sql}",
                        q(column)
                    );
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
        Op::SetNotNull { table, column } | Op::DropNotNull { table, column }
            if backend == Backend::MySql
                && before
                    .tables
                    .get(table)
                    .and_then(|t| t.column(column))
                    .is_some_and(|c| c.generated.is_some()) =>
        {
            return Err(RenderError::Unsupported {
                backend,
                what: format!(
                    "change whether `{table}.{column}` allows NULL: MariaDB takes no `NULL` or `NOT NULL` on a generated column"
                ),
                fix: "leave it as it is on MySQL/MariaDB; a check (`s.add_check(..)`) can refuse NULL there".into(),
            });
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
                    vec![format!(
                        "DROP INDEX CONCURRENTLY {}",
                        q(&in_schema_of(table, name))
                    )]
                }
                _ => vec![drop_index_sql(backend, table, name)],
            }
        }
        Op::RenameIndex { table, from, to } => match backend {
            Backend::Postgres => vec![format!(
                "ALTER INDEX {} RENAME TO {}",
                q(&in_schema_of(table, from)),
                q(to)
            )],
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
        // An empty text leaves this backend out on purpose.
        Op::Sql(raw) => {
            let text = raw_text(backend, &raw.up)?;
            if text.trim().is_empty() {
                vec![]
            } else {
                vec![text]
            }
        }
        Op::CreateObject(o) => create_object(backend, o)?,
        Op::DropObject { kind, name } => {
            let object = before
                .declared(*kind, name)
                .cloned()
                .unwrap_or_else(|| DeclaredObject {
                    kind: *kind,
                    name: name.clone(),
                    tables: Vec::new(),
                    definition: None,
                });
            only_on(backend, &object)?;
            if left_out(backend, &object) {
                vec![]
            } else {
                vec![raw_text(backend, &drop_declared(&object, false))?]
            }
        }
        Op::RefreshMaterializedView { name } => {
            let object = DeclaredObject {
                kind: ObjectKind::MaterializedView,
                name: name.clone(),
                tables: Vec::new(),
                definition: None,
            };
            only_on(backend, &object)?;
            vec![format!("REFRESH MATERIALIZED VIEW {}", q(name))]
        }
        Op::ReplaceView { name, query } => {
            let query = raw_text(backend, query)?;
            // PostgreSQL's `CREATE OR REPLACE VIEW` cannot drop, rename or retype a column:
            // the view is made again, in the migration's transaction, unless another view
            // reads it (then the server's rule stands).
            let read_by_view = before.objects.iter().any(|o| {
                matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView)
                    && o.tables.iter().any(|t| t == name)
            });
            let remake = match backend {
                // SQLite has no `CREATE OR REPLACE VIEW`; in the migration's transaction, no
                // one sees the view missing.
                Backend::Sqlite => true,
                Backend::Postgres => !read_by_view,
                Backend::MySql => false,
            };
            if remake {
                let mut out = RenderedOp::ddl(vec![
                    format!("DROP VIEW {}", q(name)),
                    format!("CREATE VIEW {} AS {query}", q(name)),
                ]);
                if backend == Backend::Postgres {
                    out.warnings.push(format!(
                        "view `{name}` is dropped and made again (`CREATE OR REPLACE VIEW` cannot drop or change a column): the privileges granted on it and its comment go with it; grant them again in this migration (`s.sql(\"GRANT SELECT ON {name} TO ..\")`)"
                    ));
                }
                return Ok(out);
            }
            vec![format!("CREATE OR REPLACE VIEW {} AS {query}", q(name))]
        }
        Op::CreateEnum { name, values } => {
            for v in values {
                check_literal(backend, &format!("the value `{v}` of enum `{name}`"), v)?;
            }
            match backend {
                Backend::Postgres => vec![format!(
                    "CREATE TYPE {} AS ENUM ({})",
                    q(name),
                    enum_values_sql(backend, values)
                )],
                _ => vec![],
            }
        }
        Op::AddEnumValue { name, value } => {
            check_literal(
                backend,
                &format!("the value `{value}` of enum `{name}`"),
                value,
            )?;
            match backend {
                Backend::Postgres => vec![format!(
                    "ALTER TYPE {} ADD VALUE {}",
                    q(name),
                    string_literal(backend, value)
                )],
                _ => modify_enum_columns(after, name)?,
            }
        }
        Op::RemoveEnumValue { name, .. } => match backend {
            Backend::Postgres => recreate_enum(before, after, name),
            _ => modify_enum_columns(after, name)?,
        },
        Op::DropEnum { name } => match backend {
            Backend::Postgres => vec![format!("DROP TYPE {}", q(name))],
            _ => vec![],
        },
        Op::CreateSchema { name } | Op::DropSchema { name } => match backend {
            Backend::Postgres => vec![format!(
                "{} SCHEMA {}",
                if matches!(op, Op::CreateSchema { .. }) {
                    "CREATE"
                } else {
                    "DROP"
                },
                q(name)
            )],
            // Refused above.
            _ => vec![],
        },
        Op::CommentOnTable { table, comment } => {
            if let Some(c) = comment {
                check_literal(backend, &format!("the comment of `{table}`"), c)?;
            }
            match backend {
                Backend::Postgres => vec![format!(
                    "COMMENT ON TABLE {} IS {}",
                    q(table),
                    comment
                        .as_deref()
                        .map_or("NULL".into(), |c| string_literal(backend, c))
                )],
                Backend::MySql => vec![format!(
                    "ALTER TABLE {} COMMENT = {}",
                    q(table),
                    string_literal(backend, comment.as_deref().unwrap_or(""))
                )],
                Backend::Sqlite => vec![],
            }
        }
        Op::CommentOnColumn {
            table,
            column,
            comment,
        } => {
            if let Some(c) = comment {
                check_literal(backend, &format!("the comment of `{table}.{column}`"), c)?;
            }
            match backend {
                Backend::Postgres => vec![comment_on_column(table, column, comment.as_deref())],
                Backend::MySql => vec![mysql_modify(after, table, column)?],
                Backend::Sqlite => vec![],
            }
        }
        Op::Insert(i) => {
            let t = table_before(&i.table);
            let mut stmt = sq::Query::insert();
            stmt.into_table(table_ref(&i.table))
                .columns(i.columns.clone());
            for row in &i.rows {
                let values: Vec<sq::Expr> = row
                    .iter()
                    .zip(&i.columns)
                    .map(|(v, c)| {
                        enum_cast(
                            backend,
                            &t,
                            c,
                            sq::Expr::val(stored_value(backend, v.clone())),
                        )
                    })
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
            let t = table_before(&u.table);
            let mut stmt = sq::Query::update();
            stmt.table(table_ref(&u.table));
            for (c, v) in &u.sets {
                stmt.value(c.clone(), enum_cast(backend, &t, c, v.clone()));
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
                    sets: b
                        .sets
                        .iter()
                        .map(|(c, v)| (c.clone(), enum_cast(backend, &t, c, v.clone())))
                        .collect(),
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
            let columns: Vec<(String, sq::Expr)> = columns
                .into_iter()
                .map(|(n, e)| {
                    let e = enum_cast(backend, &to, &n, e);
                    (n, e)
                })
                .collect();
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
            stmt.from_table(table_ref(&d.table));
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

/// PostgreSQL takes a bound text into an enum column only cast to the enum's type.
pub(crate) fn enum_cast(backend: Backend, t: &TableDef, column: &str, value: sq::Expr) -> sq::Expr {
    use sea_query::ExprTrait as _;
    match t.column(column).map(|c| &c.ty) {
        // `cast_as` writes the type as given: quoted, as `CREATE TYPE` made it.
        Some(ColumnType::Enum(e)) if backend == Backend::Postgres => {
            value.cast_as(sq::Alias::new(quote(backend, &e.name)))
        }
        _ => value,
    }
}

/// `op` with the values of the enumerated types its columns use, from the model after it;
/// `None` when it has no enum column to fill in.
fn with_enum_values(after: &SchemaModel, op: &Op) -> Option<Op> {
    let unresolved = |ty: &ColumnType| matches!(ty, ColumnType::Enum(e) if e.values.is_empty());
    match op {
        Op::CreateTable(t) if t.columns.iter().any(|c| unresolved(&c.ty)) => {
            let mut t = t.clone();
            let resolved = after.tables.get(&t.name)?;
            for c in &mut t.columns {
                if let Some(r) = resolved.column(&c.name) {
                    c.ty = r.ty.clone();
                }
            }
            Some(Op::CreateTable(t))
        }
        Op::AddColumn { table, column } if unresolved(&column.ty) => {
            let mut column = column.clone();
            column.ty = after.tables.get(table)?.column(&column.name)?.ty.clone();
            Some(Op::AddColumn {
                table: table.clone(),
                column,
            })
        }
        Op::ChangeColumnType { table, column, ty } if unresolved(ty) => {
            Some(Op::ChangeColumnType {
                table: table.clone(),
                column: column.clone(),
                ty: after.tables.get(table)?.column(column)?.ty.clone(),
            })
        }
        _ => None,
    }
}

/// What a view made by the DSL would not survive on `backend`, refused before anything runs
/// with the way that works: drop the view, make the change, create the view again.
/// Every table, view, type or function name `op` uses that names a PostgreSQL schema (for
/// `create_schema` and `drop_schema`, the schema).
pub(crate) fn names_in_schemas(op: &Op) -> Vec<&str> {
    let mut names = crate::plan::op_tables(op);
    match op {
        Op::CreateTable(t) => names.extend(t.foreign_keys.iter().map(|f| f.ref_table.as_str())),
        Op::CreateObject(o) => {
            names.push(&o.name);
            names.extend(o.tables.iter().map(String::as_str));
        }
        Op::DropObject { name, .. }
        | Op::ReplaceView { name, .. }
        | Op::RefreshMaterializedView { name }
        | Op::CreateEnum { name, .. }
        | Op::AddEnumValue { name, .. }
        | Op::RemoveEnumValue { name, .. }
        | Op::DropEnum { name } => names.push(name),
        Op::CreateSchema { name } | Op::DropSchema { name } => {
            return vec![name];
        }
        Op::Sql(raw) => names.extend(
            raw.creates
                .iter()
                .chain(&raw.drops)
                .map(|o| o.name.as_str()),
        ),
        _ => {}
    }
    names.retain(|n| n.contains('.'));
    names
}

/// MySQL/MariaDB and SQLite have no schemas inside a database: a name with one is refused.
fn check_schemas(backend: Backend, before: &SchemaModel, op: &Op) -> Result<(), RenderError> {
    if backend == Backend::Postgres {
        return Ok(());
    }
    // What is left out on this backend on purpose (an empty text) names nothing here.
    let left_out = match op {
        Op::Sql(raw) => raw
            .up
            .for_backend(backend)
            .is_some_and(|t| t.trim().is_empty()),
        Op::CreateObject(o) => o.left_out_on(backend),
        Op::DropObject { kind, name } => before
            .declared(*kind, name)
            .is_some_and(|o| o.left_out_on(backend)),
        _ => false,
    };
    if left_out {
        return Ok(());
    }
    match names_in_schemas(op).first() {
        None => Ok(()),
        Some(name) if matches!(op, Op::CreateSchema { .. } | Op::DropSchema { .. }) => {
            Err(RenderError::Unsupported {
                backend,
                what: format!("create or drop the schema `{name}`: only PostgreSQL has schemas inside a database"),
                fix: "keep the project's tables in the database the URL names on this backend (without `create_schema`), or run it on PostgreSQL".into(),
            })
        }
        Some(name) => Err(RenderError::Unsupported {
            backend,
            what: format!(
                "use `{name}`, a name in the PostgreSQL schema `{}` (in `{}`): only PostgreSQL has schemas inside a database",
                crate::types::split_schema(name).0.unwrap_or_default(),
                op.describe()
            ),
            fix: format!(
                "name it `{}`, without the schema, for a project that runs on this backend, or run it on PostgreSQL",
                crate::types::bare_name(name)
            ),
        }),
    }
}

/// `ALTER TABLE .. RENAME TO ..`. On PostgreSQL the new name is the table's own (without the
/// schema), and a table moves to another schema with `SET SCHEMA`; its indexes, constraints
/// and sequences move with it. Moved and renamed, it is renamed first where its schema has room
/// for the new name, else moved first.
fn rename_table_sql(
    backend: Backend,
    before: &SchemaModel,
    from: &str,
    to: &str,
) -> Result<Vec<String>, RenderError> {
    if backend != Backend::Postgres {
        return Ok(vec![schema_sql(
            backend,
            sq::Table::rename().table(from.to_string(), to.to_string()),
        )]);
    }
    let q = |s: &str| quote(backend, s);
    let (from_schema, from_bare) = crate::types::split_schema(from);
    let (to_schema, to_bare) = crate::types::split_schema(to);
    let in_schema = |schema: Option<&str>, bare: &str| match schema {
        Some(s) => format!("{s}.{bare}"),
        None => bare.to_string(),
    };
    // A table's name is taken by a table, a view or a type (PostgreSQL makes a type of the
    // same name for every table).
    let taken = |name: &str| {
        before.tables.contains_key(name)
            || before.enums.contains_key(name)
            || before.objects.iter().any(|o| {
                matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView) && o.name == name
            })
    };
    let rename = |now: &str| format!("ALTER TABLE {} RENAME TO {}", q(now), q(to_bare));
    let moved = |now_schema: Option<&str>, bare: &str| match to_schema {
        Some(schema) => format!(
            "ALTER TABLE {} SET SCHEMA {}",
            q(&in_schema(now_schema, bare)),
            q(schema)
        ),
        // Back into the connection's schema, whichever it is: its name is the server's.
        None => {
            let (schema, bare) = (
                string_literal(backend, now_schema.unwrap_or_default()),
                string_literal(backend, bare),
            );
            // A dollar quote's tag that the names do not hold.
            let mut tag = "godwit".to_string();
            while schema.contains(&format!("${tag}$")) || bare.contains(&format!("${tag}$")) {
                tag.push('_');
            }
            format!(
                "DO ${tag}$ BEGIN EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', {schema}, {bare}, current_schema()); END ${tag}$"
            )
        }
    };
    if from_schema == to_schema {
        return Ok(if from_bare == to_bare {
            vec![]
        } else {
            vec![rename(from)]
        });
    }
    if from_bare == to_bare {
        return Ok(vec![moved(from_schema, from_bare)]);
    }
    if !taken(&in_schema(from_schema, to_bare)) {
        return Ok(vec![rename(from), moved(from_schema, to_bare)]);
    }
    if !taken(&in_schema(to_schema, from_bare)) {
        return Ok(vec![
            moved(from_schema, from_bare),
            rename(&in_schema(to_schema, from_bare)),
        ]);
    }
    Err(RenderError::Unsupported {
        backend,
        what: format!(
            "move `{from}` to `{to}`: `{}` and `{}` are taken, so it can neither be renamed before the move nor after it",
            in_schema(from_schema, to_bare),
            in_schema(to_schema, from_bare)
        ),
        fix: format!(
            "rename it in its schema first to a name free in both (`s.rename_table(\"{from}\", \"{}\")`), then move it",
            in_schema(from_schema, &format!("{to_bare}_moving"))
        ),
    })
}

fn check_views(backend: Backend, before: &SchemaModel, op: &Op) -> Result<(), RenderError> {
    let (table, column, doing, server) = match (backend, op) {
        (Backend::Postgres, Op::ChangeColumnType { table, column, .. }) => (
            table.as_str(),
            Some(column.as_str()),
            format!("change the type of `{table}.{column}`"),
            "PostgreSQL refuses to change the type of a column a view reads",
        ),
        (Backend::MySql, Op::RenameTable { from, .. }) => (
            from.as_str(),
            None,
            format!("rename table `{from}`"),
            "MySQL/MariaDB would leave the view naming a table that is gone, failing on every query",
        ),
        (Backend::Postgres, Op::RenameTable { from, to })
            if from.contains('.') || to.contains('.') =>
        {
            (
                from.as_str(),
                None,
                format!("rename or move table `{from}` to `{to}`"),
                "godwit cannot follow a name with a schema through the view's query, so its kept query would name a table that is gone",
            )
        }
        (Backend::Postgres, Op::RemoveEnumValue { name, .. }) => {
            for (table, column) in before.enum_columns(name) {
                let t = &before.tables[&table];
                let blocker = t
                    .checks
                    .iter()
                    .find(|c| {
                        c.column.as_deref() == Some(column.as_str()) || c.expr.mentions(&column)
                    })
                    .map(|c| format!("check `{}`", c.name))
                    .or_else(|| {
                        t.indexes
                            .iter()
                            .find(|i| i.predicate.as_ref().is_some_and(|p| p.mentions(&column)))
                            .map(|i| format!("partial index `{}`", i.name))
                    });
                if let Some(blocker) = blocker {
                    return Err(RenderError::Unsupported {
                        backend,
                        what: format!(
                            "remove a value from enum `{name}` while {blocker} on `{table}` compares `{column}` with its values (PostgreSQL makes the type again, and cannot carry the comparison over)"
                        ),
                        fix: format!(
                            "in the same migration, drop the {blocker} first and add it again after the removal"
                        ),
                    });
                }
                if let Some(v) = before.views_reading(&table, Some(&column)).next() {
                    return Err(view_in_the_way(
                        backend,
                        &format!(
                            "remove a value from enum `{name}`, the type of `{table}.{column}`"
                        ),
                        "PostgreSQL refuses to change the type of a column a view reads",
                        v,
                    ));
                }
            }
            return Ok(());
        }
        _ => return Ok(()),
    };
    match before.views_reading(table, column).next() {
        Some(v) => Err(view_in_the_way(backend, &doing, server, v)),
        None => Ok(()),
    }
}

fn view_in_the_way(
    backend: Backend,
    doing: &str,
    server: &str,
    view: &DeclaredObject,
) -> RenderError {
    let m = view.kind.method();
    RenderError::Unsupported {
        backend,
        what: format!(
            "{doing} while {} `{}` reads it ({server})",
            view.kind.name(),
            view.name
        ),
        fix: format!(
            "in the same migration, drop the view first and create it again after: `s.drop_{m}(\"{v}\");`, the change, then `s.create_{m}(\"{v}\", \"SELECT ...\");`",
            v = view.name
        ),
    }
}

/// `text` for `backend`, or the error that it has none.
pub fn raw_text_for(backend: Backend, text: &SqlText) -> Result<String, RenderError> {
    raw_text(backend, text)
}

/// Whether a function or trigger is left out on `backend` on purpose: its text there is empty.
fn left_out(backend: Backend, o: &DeclaredObject) -> bool {
    o.left_out_on(backend)
}

/// An object's kind that only PostgreSQL has, refused elsewhere.
fn only_on(backend: Backend, o: &DeclaredObject) -> Result<(), RenderError> {
    if left_out(backend, o) {
        return Ok(());
    }
    let refused = match o.kind {
        ObjectKind::MaterializedView | ObjectKind::Extension => backend != Backend::Postgres,
        ObjectKind::Function => backend == Backend::Sqlite,
        _ => false,
    };
    if refused {
        return Err(RenderError::Unsupported {
            backend,
            what: format!("create or drop {}: {backend} has none", o.describe()),
            fix: match o.kind {
                ObjectKind::MaterializedView => {
                    "use a plain view (`s.create_view`), or a table kept up to date".into()
                }
                ObjectKind::Function => {
                    "SQLite has no SQL functions: give it an empty text (`sqlite: Some(\"\")`) to leave the function out there, and do the work in a trigger's body".into()
                }
                _ => format!(
                    "extensions are PostgreSQL's alone; a project that runs on other backends too enables it with raw SQL that is empty elsewhere: `s.sql_per_backend(PerBackend {{ postgres: Some(\"CREATE EXTENSION IF NOT EXISTS {}\"), mysql: Some(\"\"), sqlite: Some(\"\") }})`",
                    o.name
                ),
            },
        });
    }
    Ok(())
}

fn create_object(backend: Backend, o: &DeclaredObject) -> Result<Vec<String>, RenderError> {
    only_on(backend, o)?;
    if left_out(backend, o) {
        return Ok(vec![]);
    }
    let q = |s: &str| quote(backend, s);
    let definition = || match &o.definition {
        Some(d) => raw_text(backend, d).map_err(|_| RenderError::Unsupported {
            backend,
            what: format!("create {}: it has no text for this backend", o.describe()),
            fix: format!(
                "set `{}: Some(\"...\")` in its `PerBackend`",
                backend.as_str()
            ),
        }),
        None => Err(RenderError::Unsupported {
            backend,
            what: format!("create {}: it has no definition", o.describe()),
            fix: "this is a bug in the DSL: please report it".into(),
        }),
    };
    Ok(vec![match o.kind {
        ObjectKind::View => format!("CREATE VIEW {} AS {}", q(&o.name), definition()?),
        ObjectKind::MaterializedView => {
            format!(
                "CREATE MATERIALIZED VIEW {} AS {}",
                q(&o.name),
                definition()?
            )
        }
        ObjectKind::Extension => format!("CREATE EXTENSION IF NOT EXISTS {}", q(&o.name)),
        ObjectKind::Trigger | ObjectKind::Function | ObjectKind::Index => definition()?,
    }])
}

fn comment_on_column(table: &str, column: &str, comment: Option<&str>) -> String {
    let b = Backend::Postgres;
    format!(
        "COMMENT ON COLUMN {}.{} IS {}",
        quote(b, table),
        quote(b, column),
        comment.map_or("NULL".into(), |c| string_literal(b, c))
    )
}

/// MySQL/MariaDB: every column of enum `name` modified to its values after the change.
fn modify_enum_columns(after: &SchemaModel, name: &str) -> Result<Vec<String>, RenderError> {
    after
        .enum_columns(name)
        .iter()
        .map(|(table, column)| mysql_modify(after, table, column))
        .collect()
}

/// PostgreSQL cannot remove a value from an enum: the type is made again under its name, every
/// column of it converted through text (a row holding the removed value fails the cast, and
/// the migration with it), and the old type dropped.
fn recreate_enum(before: &SchemaModel, after: &SchemaModel, name: &str) -> Vec<String> {
    let b = Backend::Postgres;
    let q = |s: &str| quote(b, s);
    // Renamed in its schema: the new name is the type's own.
    let mut renamed = format!("{}_godwit_old", crate::types::bare_name(name));
    while renamed.len() > 63 {
        renamed.remove(0);
    }
    let old = in_schema_of(name, &renamed);
    let values = after.enums.get(name).cloned().unwrap_or_default();
    let mut out = vec![
        format!("ALTER TYPE {} RENAME TO {}", q(name), q(&renamed)),
        format!(
            "CREATE TYPE {} AS ENUM ({})",
            q(name),
            enum_values_sql(b, &values)
        ),
    ];
    for (table, column) in before.enum_columns(name) {
        let alter = format!("ALTER TABLE {} ALTER COLUMN {}", q(&table), q(&column));
        let default = before.tables[&table]
            .column(&column)
            .and_then(|c| c.default.clone());
        if default.is_some() {
            out.push(format!("{alter} DROP DEFAULT"));
        }
        out.push(format!(
            "{alter} TYPE {} USING {}::text::{}",
            q(name),
            q(&column),
            q(name)
        ));
        if let Some(d) = default {
            out.push(format!("{alter} SET DEFAULT {}", default_sql(b, &d)));
        }
    }
    out.push(format!("DROP TYPE {}", q(&old)));
    out
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
