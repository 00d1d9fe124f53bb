//! Rendering operations into SQL for each backend, through sea-query.
//!
//! **Invariant:** an operation a backend cannot express is a [`RenderError`] before anything
//! runs; nothing is silently dropped. SQLite's missing `ALTER`s go through the table rebuild in
//! [`sqlite`].

mod sqlite;

use sea_query as sq;
use sea_query::{
    ConditionalStatement, MysqlQueryBuilder, PostgresQueryBuilder, QueryStatementWriter,
    SchemaStatementBuilder, SqliteQueryBuilder, TableBuilder as _,
};

use crate::column::ColumnDef;
use crate::error::RenderError;
use crate::model::SchemaModel;
use crate::op::{ForeignKeyDef, IndexDef, Op, SqlText, TableDef, UniqueDef};
use crate::types::{Backend, ColumnType, DefaultValue, ReferentialAction};

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

// ----- sea-query plumbing ------------------------------------------------------------------

fn schema_sql(backend: Backend, stmt: &impl SchemaStatementBuilder) -> String {
    match backend {
        Backend::Postgres => stmt.to_string(PostgresQueryBuilder),
        Backend::MySql => stmt.to_string(MysqlQueryBuilder),
        Backend::Sqlite => stmt.to_string(SqliteQueryBuilder),
    }
}

/// A sea-query query built for `backend`: placeholders and bound values, and a preview with the
/// values inline.
pub fn query(backend: Backend, stmt: &impl QueryStatementWriter) -> Statement {
    let ((sql, values), preview) = match backend {
        Backend::Postgres => (
            stmt.build(PostgresQueryBuilder),
            stmt.to_string(PostgresQueryBuilder),
        ),
        Backend::MySql => (
            stmt.build(MysqlQueryBuilder),
            stmt.to_string(MysqlQueryBuilder),
        ),
        Backend::Sqlite => (
            stmt.build(SqliteQueryBuilder),
            stmt.to_string(SqliteQueryBuilder),
        ),
    };
    Statement {
        sql,
        values,
        preview,
        data: None,
    }
}

/// A SQL expression, written inline for `backend`.
pub(crate) fn expr_sql(backend: Backend, expr: &sq::Expr) -> String {
    let select = sq::Query::select().expr(expr.clone()).to_owned();
    let sql = query(backend, &select).preview;
    sql.strip_prefix("SELECT ")
        .map(str::to_string)
        .unwrap_or(sql)
}

/// `sql` with every mention of identifier `from` (bare, case-insensitively, or quoted, exactly)
/// replaced by `to`, quoted; string literals are left alone. Also says whether it found one.
pub(crate) fn rename_identifier(
    backend: Backend,
    sql: &str,
    from: &str,
    to: &str,
) -> (String, bool) {
    let quote_char = if backend == Backend::MySql { '`' } else { '"' };
    let chars: Vec<char> = sql.chars().collect();
    let (mut out, mut found, mut i) = (String::with_capacity(sql.len()), false, 0);
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || (c == '"' && backend == Backend::MySql) {
            // A string literal: copy it through, doubled quotes included.
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
        } else if c == quote_char {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && chars[end] != quote_char {
                end += 1;
            }
            let ident: String = chars[start..end].iter().collect();
            if ident == from {
                found = true;
                out.push_str(&quote(backend, to));
            } else {
                out.extend(&chars[i..(end + 1).min(chars.len())]);
            }
            i = end + 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.eq_ignore_ascii_case(from) {
                found = true;
                out.push_str(&quote(backend, to));
            } else {
                out.push_str(&word);
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out, found)
}

/// An identifier, quoted for `backend`.
pub(crate) fn quote(backend: Backend, ident: &str) -> String {
    match backend {
        Backend::MySql => format!("`{}`", ident.replace('`', "``")),
        Backend::Postgres | Backend::Sqlite => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

fn quote_list(backend: Backend, idents: &[String]) -> String {
    idents
        .iter()
        .map(|i| quote(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sea_type(backend: Backend, ty: &ColumnType) -> sq::ColumnType {
    use sq::ColumnType as S;
    match ty {
        ColumnType::SmallInt => S::SmallInteger,
        ColumnType::Integer => S::Integer,
        ColumnType::BigInt => S::BigInteger,
        ColumnType::String(n) => S::String(sq::StringLen::N(*n)),
        ColumnType::Text => S::Text,
        ColumnType::Boolean => S::Boolean,
        ColumnType::Float => S::Float,
        ColumnType::Double => S::Double,
        // sea-query writes `real(p, s)` on SQLite; `decimal` keeps NUMERIC affinity there.
        ColumnType::Decimal(p, s) if backend == Backend::Sqlite => {
            S::custom(format!("decimal({p}, {s})"))
        }
        ColumnType::Decimal(p, s) => S::Decimal(Some((*p, *s))),
        ColumnType::Date => S::Date,
        ColumnType::Time => S::Time,
        ColumnType::Timestamp => S::DateTime,
        ColumnType::TimestampTz => S::TimestampWithTimeZone,
        ColumnType::Uuid => S::Uuid,
        ColumnType::Json if backend == Backend::Postgres => S::JsonBinary,
        ColumnType::Json => S::Json,
        ColumnType::Binary => S::Blob,
    }
}

/// The type as the backend spells it (`bigint`, `varchar(50)`, ...).
pub(crate) fn type_sql(backend: Backend, ty: &ColumnType) -> String {
    let ty = sea_type(backend, ty);
    let mut s = String::new();
    match backend {
        Backend::Postgres => PostgresQueryBuilder.prepare_column_type(&ty, &mut s),
        Backend::MySql => MysqlQueryBuilder.prepare_column_type(&ty, &mut s),
        Backend::Sqlite => SqliteQueryBuilder.prepare_column_type(&ty, &mut s),
    }
    s
}

fn default_expr(backend: Backend, default: &DefaultValue) -> sq::Expr {
    match default {
        DefaultValue::Value(v) => sq::Expr::val(v.clone()),
        DefaultValue::Expr(e) => e.expr(backend),
    }
}

fn default_sql(backend: Backend, default: &DefaultValue) -> String {
    expr_sql(backend, &default_expr(backend, default))
}

/// The sea-query definition of a column. `inline_pk` writes `PRIMARY KEY` on the column itself
/// (an auto-increment key: SQLite only accepts `AUTOINCREMENT` there).
fn sea_column(backend: Backend, def: &ColumnDef, inline_pk: bool) -> sq::ColumnDef {
    let mut c = sq::ColumnDef::new_with_type(def.name.clone(), sea_type(backend, &def.ty));
    if def.nullable {
        c.null();
    } else {
        c.not_null();
    }
    if let Some(d) = &def.default {
        if mysql_parenthesized_default(backend, &def.ty, d) {
            c.default(sq::Expr::cust(default_sql(backend, d)));
        } else {
            c.default(default_expr(backend, d));
        }
    }
    if def.auto_increment {
        c.auto_increment();
    }
    if inline_pk {
        c.primary_key();
    }
    c
}

/// MySQL 8 takes a literal default on a text, json or blob column only as an expression in
/// parentheses (MariaDB takes both); sea-query writes a raw expression inside parentheses.
fn mysql_parenthesized_default(backend: Backend, ty: &ColumnType, default: &DefaultValue) -> bool {
    backend == Backend::MySql
        && matches!(default, DefaultValue::Value(_))
        && matches!(ty, ColumnType::Text | ColumnType::Json | ColumnType::Binary)
}

/// What a column definition cannot be on `backend`, before any SQL is written.
fn check_column(backend: Backend, table: &str, def: &ColumnDef) -> Result<(), RenderError> {
    if backend != Backend::MySql {
        return Ok(());
    }
    if let ColumnType::String(n) = def.ty
        && n > MYSQL_MAX_VARCHAR
    {
        return Err(RenderError::Unsupported {
            backend,
            what: format!(
                "make `{table}.{}` a varchar({n}): with utf8mb4 the longest is varchar({MYSQL_MAX_VARCHAR})",
                def.name
            ),
            fix: "use `text` for long strings".into(),
        });
    }
    if def.ty == ColumnType::Uuid && matches!(def.default, Some(DefaultValue::Value(_))) {
        return Err(RenderError::Unsupported {
            backend,
            what: format!(
                "give `{table}.{}` a literal uuid default: a uuid is binary(16) there",
                def.name
            ),
            fix: "set the default with a SQL expression per backend, or in the application".into(),
        });
    }
    Ok(())
}

/// The longest `varchar` MySQL/MariaDB accept with the utf8mb4 character set.
const MYSQL_MAX_VARCHAR: u32 = 16383;

fn action(a: ReferentialAction) -> sq::ForeignKeyAction {
    match a {
        ReferentialAction::Cascade => sq::ForeignKeyAction::Cascade,
        ReferentialAction::SetNull => sq::ForeignKeyAction::SetNull,
        ReferentialAction::SetDefault => sq::ForeignKeyAction::SetDefault,
        ReferentialAction::Restrict => sq::ForeignKeyAction::Restrict,
        ReferentialAction::NoAction => sq::ForeignKeyAction::NoAction,
    }
}

fn sea_foreign_key(table: &str, fk: &ForeignKeyDef) -> sq::ForeignKeyCreateStatement {
    let mut f = sq::ForeignKey::create();
    f.name(fk.name.clone())
        .from_tbl(table.to_string())
        .to_tbl(fk.ref_table.clone());
    for c in &fk.columns {
        f.from_col(c.clone());
    }
    for c in &fk.ref_columns {
        f.to_col(c.clone());
    }
    if let Some(a) = fk.on_delete {
        f.on_delete(action(a));
    }
    if let Some(a) = fk.on_update {
        f.on_update(action(a));
    }
    f
}

fn mysql_indexable(
    backend: Backend,
    table: &TableDef,
    columns: &[String],
    what: &str,
) -> Result<(), RenderError> {
    if backend != Backend::MySql {
        return Ok(());
    }
    for c in columns {
        if let Some(col) = table.column(c).filter(|col| !col.ty.mysql_indexable()) {
            return Err(RenderError::Unsupported {
                backend,
                what: format!(
                    "put {what} on `{}.{c}`, a {} column, without a prefix length",
                    table.name,
                    col.ty.describe()
                ),
                fix: "index a `string(len)` column instead (change the type, or add one holding the key)".into(),
            });
        }
    }
    Ok(())
}

fn create_index(
    backend: Backend,
    table: &TableDef,
    index: &IndexDef,
) -> Result<String, RenderError> {
    mysql_indexable(backend, table, &index.columns, "an index")?;
    let mut i = sq::Index::create();
    i.name(index.name.clone()).table(table.name.clone());
    for c in &index.columns {
        i.col(c.clone());
    }
    if index.is_unique {
        i.unique();
    }
    if index.is_concurrent && backend == Backend::Postgres {
        i.concurrently();
    }
    if let Some(p) = &index.predicate {
        if backend == Backend::MySql {
            return Err(RenderError::Unsupported {
                backend,
                what: format!("create the partial index `{}` (an index with `where_`)", index.name),
                fix: "drop the `.where_(..)` for MySQL, or index a generated column holding the condition".into(),
            });
        }
        i.and_where(p.expr(backend));
    }
    Ok(schema_sql(backend, &i))
}

/// A unique constraint added to an existing table (SQLite: a unique index, which it is there).
fn add_unique(
    backend: Backend,
    table: &TableDef,
    unique: &UniqueDef,
) -> Result<String, RenderError> {
    mysql_indexable(backend, table, &unique.columns, "a unique constraint")?;
    Ok(match backend {
        Backend::Sqlite => format!(
            "CREATE UNIQUE INDEX {} ON {} ({})",
            quote(backend, &unique.name),
            quote(backend, &table.name),
            quote_list(backend, &unique.columns)
        ),
        _ => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
            quote(backend, &table.name),
            quote(backend, &unique.name),
            quote_list(backend, &unique.columns)
        ),
    })
}

/// `CREATE TABLE` for `table` under the name `name`, then its indexes (and, on SQLite, its
/// unique constraints as unique indexes).
pub(crate) fn create_table(
    backend: Backend,
    table: &TableDef,
    name: &str,
) -> Result<Vec<String>, RenderError> {
    for c in &table.columns {
        check_column(backend, &table.name, c)?;
    }
    let mut t = sq::Table::create();
    t.table(name.to_string());
    let inline_pk = table.primary_key.len() == 1
        && table
            .column(&table.primary_key[0])
            .is_some_and(|c| c.auto_increment);
    for c in &table.columns {
        t.col(sea_column(
            backend,
            c,
            inline_pk && c.name == table.primary_key[0],
        ));
    }
    if !table.primary_key.is_empty() && !inline_pk {
        let mut pk = sq::Index::create();
        for c in &table.primary_key {
            pk.col(c.clone());
        }
        t.primary_key(&mut pk);
    }
    if backend != Backend::Sqlite {
        for u in &table.uniques {
            mysql_indexable(backend, table, &u.columns, "a unique constraint")?;
            let mut i = sq::Index::create();
            i.name(u.name.clone()).unique();
            for c in &u.columns {
                i.col(c.clone());
            }
            t.index(&mut i);
        }
    }
    for fk in &table.foreign_keys {
        t.foreign_key(&mut sea_foreign_key(name, fk));
    }
    for ck in &table.checks {
        t.check(sq::Check::named(ck.name.clone(), ck.expr.expr(backend)));
    }
    let mut out = vec![schema_sql(backend, &t)];
    if backend == Backend::Sqlite {
        for u in &table.uniques {
            out.push(add_unique(backend, table, u)?);
        }
    }
    for index in &table.indexes {
        out.push(create_index(backend, table, index)?);
    }
    Ok(out)
}

fn alter(backend: Backend, table: &str, f: impl FnOnce(&mut sq::TableAlterStatement)) -> String {
    let mut a = sq::Table::alter();
    a.table(table.to_string());
    f(&mut a);
    schema_sql(backend, &a)
}

fn drop_index_sql(backend: Backend, table: &str, name: &str) -> String {
    match backend {
        Backend::MySql => format!(
            "DROP INDEX {} ON {}",
            quote(backend, name),
            quote(backend, table)
        ),
        _ => format!("DROP INDEX {}", quote(backend, name)),
    }
}

fn drop_constraint_sql(backend: Backend, table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        quote(backend, table),
        quote(backend, name)
    )
}

/// MySQL/MariaDB: `MODIFY COLUMN` with the column's whole new definition.
fn mysql_modify(after: &SchemaModel, table: &str, column: &str) -> Result<String, RenderError> {
    let def = after
        .tables
        .get(table)
        .and_then(|t| t.column(column))
        .ok_or_else(|| RenderError::Unsupported {
            backend: Backend::MySql,
            what: format!("find `{table}.{column}` to modify it"),
            fix: "this is a bug in the schema model: please report it".into(),
        })?;
    Ok(alter(Backend::MySql, table, |a| {
        a.modify_column(sea_column(Backend::MySql, def, false));
    }))
}

fn raw_text(backend: Backend, text: &SqlText) -> Result<String, RenderError> {
    match text {
        SqlText::All(sql) => Ok(sql.clone()),
        SqlText::PerBackend {
            postgres,
            mysql,
            sqlite,
        } => {
            let sql = match backend {
                Backend::Postgres => postgres,
                Backend::MySql => mysql,
                Backend::Sqlite => sqlite,
            };
            sql.clone().ok_or_else(|| RenderError::Unsupported {
                backend,
                what: "run this raw SQL: it has no text for this backend".into(),
                fix: format!(
                    "set `{}: Some(\"...\")` in its `PerBackend`",
                    backend.as_str()
                ),
            })
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
            mysql_fk_keeps_index(backend, after, table, &format!("drop column `{column}`"))?;
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
        Op::DropIndex { table, name } => {
            mysql_fk_keeps_index(backend, after, table, &format!("drop index `{name}`"))?;
            vec![drop_index_sql(backend, table, name)]
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
                after,
                table,
                &format!("drop unique constraint `{name}`"),
            )?;
            vec![drop_unique_sql(backend, table, name)]
        }
        Op::Sql(raw) => vec![raw_text(backend, &raw.up)?],
        Op::Insert(i) => {
            let mut stmt = sq::Query::insert();
            stmt.into_table(i.table.clone()).columns(i.columns.clone());
            for row in &i.rows {
                let values: Vec<sq::Expr> = row.iter().cloned().map(sq::Expr::val).collect();
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

/// `NOT VALID` after a constraint added on PostgreSQL; the other backends have no such state.
fn not_valid(backend: Backend, sql: String, not_valid: bool) -> String {
    if not_valid && backend == Backend::Postgres {
        format!("{sql} NOT VALID")
    } else {
        sql
    }
}

/// Whether an index, unique constraint or the primary key of `table` starts with `columns`, so
/// that MySQL enforces a foreign key on them without creating an index of its own.
fn mysql_fk_index_covered(table: &TableDef, columns: &[String]) -> bool {
    let covers = |cols: &[String]| cols.len() >= columns.len() && &cols[..columns.len()] == columns;
    covers(&table.primary_key)
        || table
            .indexes
            .iter()
            .any(|i| i.predicate.is_none() && covers(&i.columns))
        || table.uniques.iter().any(|u| covers(&u.columns))
}

/// MySQL refuses to drop the last index a foreign key is enforced through: `after` is the table
/// as the operation leaves it.
fn mysql_fk_keeps_index(
    backend: Backend,
    after: &SchemaModel,
    table: &str,
    what: &str,
) -> Result<(), RenderError> {
    let Some(t) = after
        .tables
        .get(table)
        .filter(|_| backend == Backend::MySql)
    else {
        return Ok(());
    };
    match t
        .foreign_keys
        .iter()
        .find(|f| !mysql_fk_index_covered(t, &f.columns))
    {
        Some(fk) => Err(RenderError::Unsupported {
            backend,
            what: format!("{what}: foreign key `{}` is enforced through it", fk.name),
            fix: "add another index on the foreign key's columns first, or drop the foreign key"
                .into(),
        }),
        None => Ok(()),
    }
}

fn drop_foreign_key_sql(backend: Backend, table: &str, name: &str) -> String {
    match backend {
        Backend::MySql => {
            format!(
                "ALTER TABLE {} DROP FOREIGN KEY {}",
                quote(backend, table),
                quote(backend, name)
            )
        }
        _ => drop_constraint_sql(backend, table, name),
    }
}

fn drop_unique_sql(backend: Backend, table: &str, name: &str) -> String {
    match backend {
        Backend::Postgres => drop_constraint_sql(backend, table, name),
        Backend::MySql => format!(
            "ALTER TABLE {} DROP INDEX {}",
            quote(backend, table),
            quote(backend, name)
        ),
        Backend::Sqlite => drop_index_sql(backend, table, name),
    }
}
