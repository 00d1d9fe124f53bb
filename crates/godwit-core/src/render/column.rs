//! Columns: each type, default and column definition as a backend spells it, and what a
//! backend refuses of a column.

use super::*;

pub(super) fn sea_type(backend: Backend, ty: &ColumnType) -> sq::ColumnType {
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

pub(super) fn default_expr(backend: Backend, default: &DefaultValue) -> sq::Expr {
    match default {
        DefaultValue::Value(v) => sq::Expr::val(v.clone()),
        DefaultValue::Expr(e) => e.expr(backend),
    }
}

pub(super) fn default_sql(backend: Backend, default: &DefaultValue) -> String {
    expr_sql(backend, &default_expr(backend, default))
}

/// The sea-query definition of a column. `inline_pk` writes `PRIMARY KEY` on the column itself
/// (an auto-increment key: SQLite only accepts `AUTOINCREMENT` there).
pub(super) fn sea_column(backend: Backend, def: &ColumnDef, inline_pk: bool) -> sq::ColumnDef {
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
pub(super) fn mysql_parenthesized_default(
    backend: Backend,
    ty: &ColumnType,
    default: &DefaultValue,
) -> bool {
    backend == Backend::MySql
        && matches!(default, DefaultValue::Value(_))
        && matches!(ty, ColumnType::Text | ColumnType::Json | ColumnType::Binary)
}

/// What a column definition cannot be on `backend`, before any SQL is written.
pub(super) fn check_column(
    backend: Backend,
    table: &str,
    def: &ColumnDef,
) -> Result<(), RenderError> {
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
pub(super) const MYSQL_MAX_VARCHAR: u32 = 16383;
