//! Columns: each type, default and column definition as a backend spells it, and what a
//! backend refuses of a column.

use super::*;

pub(super) fn sea_type(backend: Backend, ty: &ColumnType) -> sq::ColumnType {
    use sq::ColumnType as S;
    let exact = !rendering_before_exact_values();
    match ty {
        ColumnType::SmallInt => S::SmallInteger,
        ColumnType::Integer => S::Integer,
        ColumnType::BigInt => S::BigInteger,
        ColumnType::String(n) => S::String(sq::StringLen::N(*n)),
        ColumnType::Text => S::Text,
        ColumnType::Boolean => S::Boolean,
        ColumnType::Float => S::Float,
        ColumnType::Double => S::Double,
        // sea-query writes `real(p, s)` on SQLite; `decimal` keeps NUMERIC affinity there, which
        // stores a decimal as a REAL (15 significant digits) or an INTEGER. Past 15 digits,
        // `decimal_text` has TEXT affinity, which keeps the digits as written.
        ColumnType::Decimal(p, s)
            if exact && backend == Backend::Sqlite && *p > SQLITE_REAL_DIGITS =>
        {
            S::custom(format!("decimal_text({p}, {s})"))
        }
        ColumnType::Decimal(p, s) if backend == Backend::Sqlite => {
            S::custom(format!("decimal({p}, {s})"))
        }
        ColumnType::Decimal(p, s) => S::Decimal(Some((*p, *s))),
        ColumnType::Date => S::Date,
        // MySQL/MariaDB keep whole seconds unless told the precision, and their `timestamp`
        // ends in 2038: `datetime(6)` holds years 1000 to 9999 with microseconds, and a
        // `timestamp_tz` is stored there in UTC (the runner's sessions are in UTC).
        ColumnType::Time if exact && backend == Backend::MySql => S::custom("time(6)"),
        ColumnType::Timestamp | ColumnType::TimestampTz if exact && backend == Backend::MySql => {
            S::custom("datetime(6)")
        }
        ColumnType::Time => S::Time,
        ColumnType::Timestamp => S::DateTime,
        ColumnType::TimestampTz => S::TimestampWithTimeZone,
        ColumnType::Uuid => S::Uuid,
        ColumnType::Json if backend == Backend::Postgres => S::JsonBinary,
        ColumnType::Json => S::Json,
        ColumnType::Binary => S::Blob,
        // PostgreSQL: the type made by `CREATE TYPE`; MySQL/MariaDB: the values in the column
        // type; SQLite: text, its values checked by the column's `CHECK` (`sea_column`).
        ColumnType::Enum(e) => match backend {
            Backend::Postgres => S::custom(quote(backend, &e.name)),
            Backend::MySql => S::custom(format!("enum({})", enum_values_sql(backend, &e.values))),
            Backend::Sqlite => S::Text,
        },
    }
}

/// An enum's values as a list of string literals: `'draft', 'published'`.
pub(crate) fn enum_values_sql(backend: Backend, values: &[String]) -> String {
    values
        .iter()
        .map(|v| string_literal(backend, v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` as a string literal that reads the same whatever the session's settings
/// (PostgreSQL's `standard_conforming_strings`; on MySQL/MariaDB a text with a backslash, a NUL
/// or a Ctrl-Z is refused before, by `check_literal`).
pub(crate) fn string_literal(backend: Backend, text: &str) -> String {
    let plain = format!("'{}'", text.replace('\'', "''"));
    match backend {
        Backend::Postgres => portable_postgres_literals(&plain),
        _ => plain,
    }
}

/// MySQL/MariaDB read a backslash in a literal as an escape or not depending on `sql_mode`, and
/// where a string literal is the only thing allowed (a comment, an `ENUM` value) no other
/// spelling reads the same in every mode.
pub(crate) fn check_literal(backend: Backend, what: &str, text: &str) -> Result<(), RenderError> {
    if backend == Backend::MySql && text.chars().any(|c| matches!(c, '\\' | '\0' | '\x1a')) {
        return Err(RenderError::Unsupported {
            backend,
            what: format!(
                "write {what}: it holds a backslash, a NUL or a Ctrl-Z, which MySQL/MariaDB read differently under each `sql_mode`"
            ),
            fix: "leave those characters out of it".into(),
        });
    }
    Ok(())
}

/// The significant digits every decimal keeps through SQLite's REAL: a decimal column of that
/// precision or less has NUMERIC affinity there, a wider one TEXT affinity.
pub const SQLITE_REAL_DIGITS: u32 = 15;

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
    let sql = expr_sql(backend, &default_expr(backend, default));
    // A MySQL/MariaDB string with a backslash is written with `CHAR(92 ..)` (see
    // `portable_mysql_literals`), an expression, which a default takes in parentheses.
    if backend == Backend::MySql && (sql.starts_with("CONCAT(") || sql.starts_with("CHAR(")) {
        format!("({sql})")
    } else {
        sql
    }
}

/// The default of a column of type `ty` as `backend` writes it. On MySQL/MariaDB,
/// `CurrentTimestamp` keeps the microseconds of its `datetime(6)` column
/// (`CURRENT_TIMESTAMP(6)`), and on a `timestamp_tz` column is the time in UTC
/// (`UTC_TIMESTAMP(6)`) whatever the time zone of the session that inserts the row.
pub(super) fn column_default(
    backend: Backend,
    ty: Option<&ColumnType>,
    default: &DefaultValue,
) -> DefaultValue {
    if rendering_before_exact_values() {
        return default.clone();
    }
    if let DefaultValue::Value(v) = default {
        return DefaultValue::Value(stored_value(backend, v.clone()));
    }
    if backend != Backend::MySql || *default != DefaultValue::from(CurrentTimestamp) {
        return default.clone();
    }
    match ty {
        Some(ColumnType::TimestampTz) => SqlExpr::raw("UTC_TIMESTAMP(6)").into(),
        Some(ColumnType::Timestamp) => SqlExpr::raw("CURRENT_TIMESTAMP(6)").into(),
        _ => default.clone(),
    }
}

/// A value as `backend` is given it, bound or written inline, so that what a preview prints is
/// what is bound and the server stores it exactly:
///
/// - on MySQL/MariaDB and SQLite a decimal goes as the text of its digits (`'0.0000000001'`,
///   never `1E-10`), which the server converts to the column's type exactly, where a number
///   literal would be read as a double first; on SQLite a decimal column of TEXT affinity keeps
///   that text as written;
/// - on MySQL/MariaDB a time with a time zone goes as its UTC date and time (a `timestamp_tz`
///   is a `datetime(6)` in UTC there, and the server refuses a literal with an offset);
/// - on SQLite times are text in one form whatever the path that writes them, the form of
///   `CURRENT_TIMESTAMP`, which sorts as the times do: `2026-11-20 09:00:00`, with
///   `.123456` when there is a fraction of a second, a `timestamp_tz` in UTC;
/// - on MySQL/MariaDB and SQLite a uuid goes as its 16 bytes (a `binary(16)` column there, a
///   BLOB here), as a literal too.
pub fn stored_value(backend: Backend, v: sq::Value) -> sq::Value {
    use sq::Value as V;
    use sq::value::prelude::time::{PrimitiveDateTime, UtcOffset};
    if rendering_before_exact_values() {
        return v;
    }
    let utc = |t: sq::value::prelude::time::OffsetDateTime| {
        let t = t.to_offset(UtcOffset::UTC);
        PrimitiveDateTime::new(t.date(), t.time())
    };
    match (backend, v) {
        (Backend::Postgres, v) => v,
        (_, V::BigDecimal(d)) => V::String(d.map(|d| d.to_plain_string())),
        (_, V::Uuid(u)) => V::Bytes(u.map(|u| u.as_bytes().to_vec())),
        (Backend::MySql, V::TimeDateTimeWithTimeZone(t)) => V::TimeDateTime(t.map(utc)),
        (Backend::Sqlite, V::TimeDateTimeWithTimeZone(t)) => {
            V::String(t.map(|t| sqlite_datetime(utc(t))))
        }
        (Backend::Sqlite, V::TimeDateTime(t)) => V::String(t.map(sqlite_datetime)),
        (Backend::Sqlite, V::TimeTime(t)) => V::String(t.map(sqlite_time)),
        (_, v) => v,
    }
}

/// `2026-11-20 09:00:00`, `2026-11-20 09:00:00.500000`: SQLite's form of a date and time.
fn sqlite_datetime(t: sq::value::prelude::time::PrimitiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        sqlite_time(t.time())
    )
}

/// `09:00:00`, `09:00:00.500000` (nine digits for a fraction finer than a microsecond).
fn sqlite_time(t: sq::value::prelude::time::Time) -> String {
    let nanos = t.nanosecond();
    let fraction = match nanos {
        0 => String::new(),
        n if n % 1000 == 0 => format!(".{:06}", n / 1000),
        n => format!(".{n:09}"),
    };
    format!(
        "{:02}:{:02}:{:02}{fraction}",
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The sea-query definition of a column. `inline_pk` writes `PRIMARY KEY` on the column itself
/// (an auto-increment key: SQLite only accepts `AUTOINCREMENT` there).
pub(super) fn sea_column(backend: Backend, def: &ColumnDef, inline_pk: bool) -> sq::ColumnDef {
    // `GENERATED ALWAYS AS (..)` right after the type: MySQL/MariaDB take it nowhere else.
    let ty = match &def.generated {
        Some(g) => sq::ColumnType::custom(format!(
            "{} GENERATED ALWAYS AS ({}) {}",
            type_sql(backend, &def.ty),
            g.expr.sql(backend),
            if g.stored { "STORED" } else { "VIRTUAL" }
        )),
        None => sea_type(backend, &def.ty),
    };
    let mut c = sq::ColumnDef::new_with_type(def.name.clone(), ty);
    if def.generated.is_some() && backend == Backend::MySql {
        // MariaDB takes neither `NULL` nor `NOT NULL` on a generated column.
    } else if def.nullable {
        c.null();
    } else {
        c.not_null();
    }
    if let Some(d) = &def.default {
        let d = &column_default(backend, Some(&def.ty), d);
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
    if let ColumnType::Enum(e) = &def.ty
        && backend == Backend::Sqlite
    {
        c.extra(format!(
            "CHECK ({} IN ({}))",
            quote(backend, &def.name),
            enum_values_sql(backend, &e.values)
        ));
    }
    if let Some(comment) = &def.comment
        && backend == Backend::MySql
    {
        c.comment(comment.clone());
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
    if backend == Backend::Postgres
        && let ColumnType::String(n) = def.ty
        && n > POSTGRES_MAX_VARCHAR
    {
        return Err(RenderError::Unsupported {
            backend,
            what: format!(
                "make `{table}.{}` a varchar({n}): the longest is varchar({POSTGRES_MAX_VARCHAR})",
                def.name
            ),
            fix: "use `text` for long strings".into(),
        });
    }
    if let Some(comment) = &def.comment {
        check_literal(
            backend,
            &format!("the comment of `{table}.{}`", def.name),
            comment,
        )?;
    }
    if def.generated.as_ref().is_some_and(|g| !g.stored) && backend == Backend::Postgres {
        return Err(RenderError::Unsupported {
            backend,
            what: format!(
                "make `{table}.{}` a virtual generated column: PostgreSQL before 18 only stores them",
                def.name
            ),
            fix: "use `.generated(..)`, which stores it, on every backend".into(),
        });
    }
    if let ColumnType::Enum(e) = &def.ty {
        for v in &e.values {
            check_literal(backend, &format!("the value `{v}` of enum `{}`", e.name), v)?;
        }
    }
    if backend != Backend::MySql {
        return Ok(());
    }
    if let ColumnType::Decimal(p, _) = def.ty
        && p > MYSQL_MAX_DECIMAL_PRECISION
    {
        return Err(RenderError::Unsupported {
            backend,
            what: format!(
                "make `{table}.{}` a decimal of precision {p}: the most is {MYSQL_MAX_DECIMAL_PRECISION} digits",
                def.name
            ),
            fix: format!(
                "use at most decimal({MYSQL_MAX_DECIMAL_PRECISION}, ..), or store the digits as a string"
            ),
        });
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

/// MySQL/MariaDB refuse a generated column computed from the auto-increment key.
pub(super) fn check_generated_on_key(
    backend: Backend,
    table: &TableDef,
    def: &ColumnDef,
) -> Result<(), RenderError> {
    let Some(g) = &def.generated else {
        return Ok(());
    };
    match table
        .columns
        .iter()
        .find(|c| c.auto_increment && g.expr.mentions(&c.name))
    {
        Some(key) if backend == Backend::MySql => Err(RenderError::Unsupported {
            backend,
            what: format!(
                "compute `{}.{}` from `{}`, the auto-increment key: MySQL/MariaDB refuse it",
                table.name, def.name, key.name
            ),
            fix: "compute it from other columns, or in the application".into(),
        }),
        _ => Ok(()),
    }
}

/// The longest `varchar` PostgreSQL accepts.
pub(super) const POSTGRES_MAX_VARCHAR: u32 = 10_485_760;

/// The most digits a MySQL/MariaDB `decimal` holds.
pub(super) const MYSQL_MAX_DECIMAL_PRECISION: u32 = 65;

/// The longest `varchar` MySQL/MariaDB accept with the utf8mb4 character set.
pub(super) const MYSQL_MAX_VARCHAR: u32 = 16383;
