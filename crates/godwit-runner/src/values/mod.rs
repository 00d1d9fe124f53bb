//! Rows as [`sea_query::Value`]s: what `copy` and data migrations read from a database, decoded
//! either by the column types of the schema model (*typed*) or by what the database says each
//! column is (*untyped*, for the rows of arbitrary queries).
//!
//! **Typed** decoding gives every [`ColumnType`] one value shape, whatever the backend, so that
//! a value read from one backend and written to another is the same value:
//!
//! | type | value | PostgreSQL | MySQL/MariaDB | SQLite holds |
//! |---|---|---|---|---|
//! | `SmallInt`, `Integer`, `BigInt` | `SmallInt`, `Int`, `BigInt` | int2/4/8 | smallint, int, bigint | INTEGER |
//! | `String(n)`, `Text` | `String` | varchar, text | varchar, text | TEXT |
//! | `Boolean` | `Bool` | bool | tinyint(1) | INTEGER 0/1 (also TEXT `true`/`false`) |
//! | `Float`, `Double` | `Float`, `Double` | real, double precision | float, double | REAL (INTEGER when whole) |
//! | `Decimal(p, s)` | `BigDecimal` | numeric | decimal | INTEGER or REAL (NUMERIC affinity); past 15 digits TEXT |
//! | `Date`, `Time` | `TimeDate`, `TimeTime` | date, time | date, time(6) | TEXT `2026-11-20`, `09:00:00.500000` |
//! | `Timestamp` | `TimeDateTime` | timestamp | datetime(6) | TEXT `2026-11-20 09:00:00.500000` (or unix seconds) |
//! | `TimestampTz` | `TimeDateTimeWithTimeZone`, in UTC | timestamptz | datetime(6) in UTC | TEXT in UTC, as `Timestamp` (also RFC 3339, unix seconds) |
//! | `Uuid` | `Uuid` | uuid | binary(16) | BLOB of 16 bytes (also TEXT, hyphenated or not) |
//! | `Json` | `Json` | jsonb | json (MariaDB: longtext) | TEXT |
//! | `Binary` | `Bytes` | bytea | blob | BLOB |
//!
//! SQLite's column holds whatever storage class was written: typed decoding accepts each form a
//! value of the type can take there (the table's right column, which includes what other tools
//! write), and godwit writes one form per type whatever the path
//! (`godwit_core::render::stored_value`): a uuid as 16 bytes, a time as text without a fraction
//! of a second when there is none, a `timestamp_tz` in UTC.
//!
//! **Decimals** are `Value::BigDecimal` (sea-query's, sqlx's and sea-query-sqlx's `bigdecimal`
//! features): an arbitrary-precision number, so `DECIMAL(38, 10)` and wider round-trip exactly,
//! which `rust_decimal` (28 digits) cannot, and which stays a number for every encoder
//! (PostgreSQL's binary `numeric`, MySQL's decimal text), unlike text that would need a cast in
//! every statement that binds it. SQLite has no decimal type: its `decimal(p, s)` column has
//! NUMERIC affinity, which turns the text of a decimal into a REAL (15 significant digits) or an
//! INTEGER; see [`target_changes`] for the values it cannot keep.
//!
//! **Untyped** decoding goes by `TypeInfo::name()`: PostgreSQL's and MySQL's types map to the
//! value of the same width (`INT4` to `Int`, `TINYINT UNSIGNED` to `TinyUnsigned`, `NUMERIC`
//! to `BigDecimal`, a MySQL blob type to `Bytes` in the `binary` character set and to `String`
//! in any other, ...); SQLite's by the column's declared type when it is `BOOLEAN`, `DATE`,
//! `TIME` or `DATETIME`, else by each value's storage class (a NULL by the declared type's
//! affinity). A type with no value shape
//! (PostgreSQL `inet`, `interval`, arrays, ...) is an error that says to cast it to text.

use godwit_core::{ColumnType, Statement};
use sea_query::Value;
use sea_query::value::prelude::{BigDecimal, Json, Uuid, serde_json};
use sea_query_sqlx::SqlxValues;
use sqlx::error::BoxDynError;
#[cfg(feature = "mysql")]
use sqlx::mysql::{MySql, MySqlRow, MySqlValueRef};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgRow, PgValueRef, Postgres};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{Sqlite, SqliteRow, SqliteValueRef};
use sqlx::{
    AssertSqlSafe, Column, Decode, Executor, Row, SqlSafeStr, Statement as _, TypeInfo, ValueRef,
};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::connect::Conn;

mod convert;
mod write;

pub(crate) use convert::{coerce, describe, out_of_range, target_changes, year_of};
pub(crate) use write::{copy_text, for_target, key_from_json, key_to_json};

/// Column names and rows.
pub(crate) type Rows = (Vec<String>, Vec<Vec<Value>>);

/// Run `st` (binding its values) and return its column names and every row's values, decoded
/// by `types` (one per column, the schema model's) when given, else by the types the database
/// reports.
pub(crate) async fn fetch_values(
    conn: &mut Conn,
    st: &Statement,
    types: Option<&[ColumnType]>,
) -> Result<Rows, sqlx::Error> {
    let types: Option<Vec<Option<ColumnType>>> =
        types.map(|t| t.iter().cloned().map(Some).collect());
    fetch_rows(conn, st.sql.clone(), st.values.clone(), types.as_deref()).await
}

/// Run `sql` with `values` bound; each column is decoded by its type in `types` when it has
/// one (`Some`), else by the type the database reports for it (also for every column when
/// `types` is `None`).
pub(crate) async fn fetch_rows(
    conn: &mut Conn,
    sql: String,
    values: sea_query::Values,
    types: Option<&[Option<ColumnType>]>,
) -> Result<Rows, sqlx::Error> {
    crate::connect::encodable(conn.backend(), &values)?;
    let values = SqlxValues(values);
    let ty = |i: usize| types.and_then(|t| t.get(i)).and_then(Option::as_ref);
    macro_rules! run {
        ($c:expr, $typed:ident, $untyped:ident) => {{
            let rows = sqlx::query_with(AssertSqlSafe(sql.clone()), values)
                .fetch_all(&mut *$c)
                .await?;
            let names = match rows.first() {
                Some(r) => names_of(r.columns()),
                None => names_of(
                    (&mut *$c)
                        .prepare(AssertSqlSafe(sql).into_sql_str())
                        .await?
                        .columns(),
                ),
            };
            check_types(&names, types)?;
            let rows = decode_rows(&rows, &names, |row, i| match ty(i) {
                Some(t) => $typed(row, i, t),
                None => $untyped(row, i),
            })?;
            Ok((names, rows))
        }};
    }
    match conn {
        #[cfg(feature = "postgres")]
        Conn::Postgres(c) => run!(c, postgres_typed, postgres_untyped),
        #[cfg(feature = "mysql")]
        Conn::MySql(c) => run!(c, mysql_typed, mysql_untyped),
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(c, _) => run!(c, sqlite_typed, sqlite_untyped),
    }
}

fn names_of<C: Column>(columns: &[C]) -> Vec<String> {
    columns.iter().map(|c| c.name().to_string()).collect()
}

fn check_types<T>(names: &[String], types: Option<&[T]>) -> Result<(), sqlx::Error> {
    match types {
        Some(t) if t.len() != names.len() => Err(sqlx::Error::Protocol(format!(
            "the query returns {} column(s) ({}) but {} type(s) were given to decode them",
            names.len(),
            names.join(", "),
            t.len()
        ))),
        _ => Ok(()),
    }
}

/// Decode every value of `rows` with `decode`; an error names the column.
fn decode_rows<R>(
    rows: &[R],
    names: &[String],
    decode: impl Fn(&R, usize) -> Result<Value, BoxDynError>,
) -> Result<Vec<Vec<Value>>, sqlx::Error> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let value = decode(row, i).map_err(|source| sqlx::Error::ColumnDecode {
                index: format!("`{name}`"),
                source,
            })?;
            values.push(value);
        }
        out.push(values);
    }
    Ok(out)
}

/// The NULL of `ty`'s value shape.
pub(crate) fn null_of(ty: &ColumnType) -> Value {
    match ty {
        ColumnType::SmallInt => Value::SmallInt(None),
        ColumnType::Integer => Value::Int(None),
        ColumnType::BigInt => Value::BigInt(None),
        ColumnType::String(_) | ColumnType::Text | ColumnType::Enum(_) => Value::String(None),
        ColumnType::Boolean => Value::Bool(None),
        ColumnType::Float => Value::Float(None),
        ColumnType::Double => Value::Double(None),
        ColumnType::Decimal(..) => Value::BigDecimal(None),
        ColumnType::Date => Value::TimeDate(None),
        ColumnType::Time => Value::TimeTime(None),
        ColumnType::Timestamp => Value::TimeDateTime(None),
        ColumnType::TimestampTz => Value::TimeDateTimeWithTimeZone(None),
        ColumnType::Uuid => Value::Uuid(None),
        ColumnType::Json => Value::Json(None),
        ColumnType::Binary => Value::Bytes(None),
    }
}

/// Whether `v` is a NULL, of whatever shape.
pub(crate) fn is_null(v: &Value) -> bool {
    match v {
        Value::Bool(x) => x.is_none(),
        Value::TinyInt(x) => x.is_none(),
        Value::SmallInt(x) => x.is_none(),
        Value::Int(x) => x.is_none(),
        Value::BigInt(x) => x.is_none(),
        Value::TinyUnsigned(x) => x.is_none(),
        Value::SmallUnsigned(x) => x.is_none(),
        Value::Unsigned(x) => x.is_none(),
        Value::BigUnsigned(x) => x.is_none(),
        Value::Float(x) => x.is_none(),
        Value::Double(x) => x.is_none(),
        Value::String(x) => x.is_none(),
        Value::Char(x) => x.is_none(),
        Value::Bytes(x) => x.is_none(),
        Value::Json(x) => x.is_none(),
        Value::TimeDate(x) => x.is_none(),
        Value::TimeTime(x) => x.is_none(),
        Value::TimeDateTime(x) => x.is_none(),
        Value::TimeDateTimeWithTimeZone(x) => x.is_none(),
        Value::Uuid(x) => x.is_none(),
        Value::BigDecimal(x) => x.is_none(),
        _ => false,
    }
}

/// `t` in UTC: every `TimestampTz` value is, so that values compare and print alike.
fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

#[cfg(feature = "postgres")]
fn postgres_untyped(row: &PgRow, i: usize) -> Result<Value, BoxDynError> {
    let raw = row.try_get_raw(i)?;
    let name = raw.type_info().name().to_string();
    postgres_value(raw, &name)
}

#[cfg(feature = "postgres")]
fn postgres_value(raw: PgValueRef<'_>, name: &str) -> Result<Value, BoxDynError> {
    fn get<'r, T: Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Result<Option<T>, BoxDynError> {
        if raw.is_null() {
            return Ok(None);
        }
        T::decode(raw).map(Some)
    }
    Ok(match name {
        "BOOL" => Value::Bool(get(raw)?),
        "\"CHAR\"" => Value::TinyInt(get(raw)?),
        "INT2" => Value::SmallInt(get(raw)?),
        "INT4" => Value::Int(get(raw)?),
        "INT8" => Value::BigInt(get(raw)?),
        "OID" => Value::Unsigned(get::<sqlx::postgres::types::Oid>(raw)?.map(|o| o.0)),
        "FLOAT4" => Value::Float(get(raw)?),
        "FLOAT8" => Value::Double(get(raw)?),
        "NUMERIC" => Value::BigDecimal(get::<BigDecimal>(raw)?.map(Box::new)),
        "TEXT" | "VARCHAR" | "CHAR" | "NAME" | "UNKNOWN" | "CITEXT" => Value::String(get(raw)?),
        "UUID" => Value::Uuid(get(raw)?),
        "JSON" | "JSONB" => Value::Json(get::<Json>(raw)?.map(Box::new)),
        "BYTEA" => Value::Bytes(get(raw)?),
        "DATE" => Value::TimeDate(get(raw)?),
        "TIME" => Value::TimeTime(get(raw)?),
        "TIMESTAMP" => Value::TimeDateTime(get(raw)?),
        "TIMESTAMPTZ" => Value::TimeDateTimeWithTimeZone(get(raw)?.map(utc)),
        "VOID" => Value::String(None),
        other => {
            return Err(format!(
                "godwit reads no values of PostgreSQL type {other}: cast the column to text in the \
                 query (`column::text`)"
            )
            .into());
        }
    })
}

#[cfg(feature = "postgres")]
fn postgres_typed(row: &PgRow, i: usize, ty: &ColumnType) -> Result<Value, BoxDynError> {
    let value = postgres_untyped(row, i)?;
    coerce(value, ty)
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB

#[cfg(feature = "mysql")]
fn mysql_untyped(row: &MySqlRow, i: usize) -> Result<Value, BoxDynError> {
    let raw = row.try_get_raw(i)?;
    let (name, text) = {
        let info = raw.type_info();
        // Text in a binary collation (`utf8mb4_bin`, MariaDB's json) is reported as a blob;
        // only the `binary` character set holds bytes.
        (
            info.name().to_string(),
            <str as sqlx::Type<MySql>>::compatible(&info),
        )
    };
    mysql_value(raw, &name, text)
}

#[cfg(feature = "mysql")]
/// A MySQL value of the type called `name`; `text`: a string type in a character set other
/// than `binary`.
fn mysql_value(raw: MySqlValueRef<'_>, name: &str, text: bool) -> Result<Value, BoxDynError> {
    fn get<'r, T: Decode<'r, MySql>>(raw: MySqlValueRef<'r>) -> Result<Option<T>, BoxDynError> {
        if raw.is_null() {
            return Ok(None);
        }
        T::decode(raw).map(Some)
    }
    Ok(match name {
        "BOOLEAN" => Value::Bool(get(raw)?),
        "TINYINT" => Value::TinyInt(get(raw)?),
        "SMALLINT" => Value::SmallInt(get(raw)?),
        "INT" | "MEDIUMINT" => Value::Int(get(raw)?),
        "BIGINT" => Value::BigInt(get(raw)?),
        "TINYINT UNSIGNED" => Value::TinyUnsigned(get(raw)?),
        "SMALLINT UNSIGNED" | "YEAR" => Value::SmallUnsigned(get(raw)?),
        "INT UNSIGNED" | "MEDIUMINT UNSIGNED" => Value::Unsigned(get(raw)?),
        "BIGINT UNSIGNED" => Value::BigUnsigned(get(raw)?),
        "FLOAT" => Value::Float(get(raw)?),
        "DOUBLE" => Value::Double(get(raw)?),
        "DECIMAL" => Value::BigDecimal(get::<BigDecimal>(raw)?.map(Box::new)),
        "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" => {
            Value::String(get(raw)?)
        }
        "JSON" => match get::<String>(raw)? {
            None => Value::Json(None),
            Some(text) => Value::Json(Some(Box::new(serde_json::from_str(&text)?))),
        },
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" if text => {
            Value::String(get(raw)?)
        }
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT"
        | "GEOMETRY" => Value::Bytes(get(raw)?),
        "DATE" => Value::TimeDate(get(raw)?),
        "TIME" => Value::TimeTime(get(raw)?),
        "DATETIME" => Value::TimeDateTime(get(raw)?),
        // A `timestamp` is read in the session's time zone, which sqlx sets to UTC.
        "TIMESTAMP" => Value::TimeDateTimeWithTimeZone(get(raw)?.map(utc)),
        "NULL" => Value::String(None),
        other => {
            return Err(format!(
                "godwit reads no values of MySQL type {other}: cast the column to a string in the \
                 query (`CAST(column AS CHAR)`)"
            )
            .into());
        }
    })
}

#[cfg(feature = "mysql")]
fn mysql_typed(row: &MySqlRow, i: usize, ty: &ColumnType) -> Result<Value, BoxDynError> {
    let value = mysql_untyped(row, i)?;
    coerce(value, ty)
}

// ---------------------------------------------------------------------------------------------
// SQLite

#[cfg(feature = "sqlite")]
/// SQLite's storage classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Null,
    Integer,
    Real,
    Text,
    Blob,
}

#[cfg(feature = "sqlite")]
fn storage(raw: &SqliteValueRef<'_>) -> Storage {
    if raw.is_null() {
        return Storage::Null;
    }
    match raw.type_info().name() {
        "INTEGER" | "BOOLEAN" => Storage::Integer,
        "REAL" => Storage::Real,
        "BLOB" => Storage::Blob,
        _ => Storage::Text,
    }
}

#[cfg(feature = "sqlite")]
/// Decode a SQLite value as `T`.
fn lite<'r, T: Decode<'r, Sqlite>>(raw: SqliteValueRef<'r>) -> Result<T, BoxDynError> {
    T::decode(raw)
}

#[cfg(feature = "sqlite")]
fn sqlite_untyped(row: &SqliteRow, i: usize) -> Result<Value, BoxDynError> {
    let declared = row.column(i).type_info().name().to_string();
    let raw = row.try_get_raw(i)?;
    let class = storage(&raw);
    // The declared type, for the storage classes a value of it takes; a value that does not
    // read as that type is returned as it is stored.
    let typed = match (declared.as_str(), class) {
        ("BOOLEAN", Storage::Integer | Storage::Null) => Some(ColumnType::Boolean),
        ("DATE", Storage::Text | Storage::Null) => Some(ColumnType::Date),
        ("TIME", Storage::Text | Storage::Null) => Some(ColumnType::Time),
        ("DATETIME", Storage::Text | Storage::Integer | Storage::Null) => {
            Some(ColumnType::Timestamp)
        }
        _ => None,
    };
    if let Some(ty) = typed {
        if class == Storage::Null {
            return Ok(null_of(&ty));
        }
        if let Ok(v) = sqlite_value(row.try_get_raw(i)?, class, &ty) {
            return Ok(v);
        }
    }
    Ok(match class {
        Storage::Null => match declared.as_str() {
            "INTEGER" => Value::BigInt(None),
            "REAL" => Value::Double(None),
            "BLOB" => Value::Bytes(None),
            _ => Value::String(None),
        },
        Storage::Integer => Value::BigInt(Some(lite::<i64>(raw)?)),
        Storage::Real => Value::Double(Some(lite::<f64>(raw)?)),
        Storage::Text => Value::String(Some(lite::<String>(raw)?)),
        Storage::Blob => Value::Bytes(Some(lite::<Vec<u8>>(raw)?)),
    })
}

#[cfg(feature = "sqlite")]
fn sqlite_typed(row: &SqliteRow, i: usize, ty: &ColumnType) -> Result<Value, BoxDynError> {
    let raw = row.try_get_raw(i)?;
    let class = storage(&raw);
    if class == Storage::Null {
        return Ok(null_of(ty));
    }
    sqlite_value(raw, class, ty)
}

#[cfg(feature = "sqlite")]
/// A non-NULL SQLite value of storage class `class` as a value of `ty`.
fn sqlite_value(
    raw: SqliteValueRef<'_>,
    class: Storage,
    ty: &ColumnType,
) -> Result<Value, BoxDynError> {
    let unexpected = |what: &str| -> BoxDynError {
        format!("SQLite holds {what} where a {} is expected", ty.describe()).into()
    };
    let class_name = match class {
        Storage::Null => "NULL",
        Storage::Integer => "an INTEGER",
        Storage::Real => "a REAL",
        Storage::Text => "a TEXT",
        Storage::Blob => "a BLOB",
    };
    Ok(match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => {
            let n = match class {
                Storage::Integer => lite::<i64>(raw)?,
                Storage::Real => {
                    let f = lite::<f64>(raw)?;
                    whole(f).ok_or_else(|| unexpected(&format!("the fraction {f}")))?
                }
                Storage::Text => {
                    let s = lite::<String>(raw)?;
                    s.trim()
                        .parse()
                        .map_err(|_| unexpected(&format!("the text {s:?}")))?
                }
                _ => return Err(unexpected(class_name)),
            };
            coerce(Value::BigInt(Some(n)), ty)?
        }
        ColumnType::String(_) | ColumnType::Text | ColumnType::Enum(_) => match class {
            Storage::Text => Value::String(Some(lite::<String>(raw)?)),
            Storage::Integer => Value::String(Some(lite::<i64>(raw)?.to_string())),
            Storage::Real => Value::String(Some(lite::<f64>(raw)?.to_string())),
            _ => Value::String(Some(
                String::from_utf8(lite::<Vec<u8>>(raw)?)
                    .map_err(|_| unexpected("a BLOB that is not UTF-8 text"))?,
            )),
        },
        ColumnType::Boolean => match class {
            Storage::Integer => match lite::<i64>(raw)? {
                0 => Value::Bool(Some(false)),
                1 => Value::Bool(Some(true)),
                n => return Err(unexpected(&format!("the integer {n}"))),
            },
            Storage::Text => match lite::<String>(raw)?.to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Value::Bool(Some(true)),
                "false" | "f" | "0" => Value::Bool(Some(false)),
                other => return Err(unexpected(&format!("the text {other:?}"))),
            },
            _ => return Err(unexpected(class_name)),
        },
        ColumnType::Float | ColumnType::Double => {
            let f = match class {
                Storage::Integer | Storage::Real => lite::<f64>(raw)?,
                Storage::Text => {
                    let s = lite::<String>(raw)?;
                    s.trim()
                        .parse()
                        .map_err(|_| unexpected(&format!("the text {s:?}")))?
                }
                _ => return Err(unexpected(class_name)),
            };
            coerce(Value::Double(Some(f)), ty)?
        }
        ColumnType::Decimal(_, scale) => {
            let d = match class {
                Storage::Integer => BigDecimal::from(lite::<i64>(raw)?),
                Storage::Real => {
                    let f = lite::<f64>(raw)?;
                    decimal_of_f64(f).ok_or_else(|| unexpected(&format!("the REAL {f}")))?
                }
                Storage::Text => {
                    let s = lite::<String>(raw)?;
                    parse_decimal(&s).ok_or_else(|| unexpected(&format!("the text {s:?}")))?
                }
                _ => return Err(unexpected(class_name)),
            };
            Value::BigDecimal(Some(Box::new(with_scale(d, *scale))))
        }
        ColumnType::Date => Value::TimeDate(Some(lite::<Date>(raw)?)),
        ColumnType::Time => Value::TimeTime(Some(lite::<Time>(raw)?)),
        ColumnType::Timestamp => Value::TimeDateTime(Some(lite::<PrimitiveDateTime>(raw)?)),
        ColumnType::TimestampTz => {
            Value::TimeDateTimeWithTimeZone(Some(utc(lite::<OffsetDateTime>(raw)?)))
        }
        ColumnType::Uuid => match class {
            Storage::Blob => Value::Uuid(Some(
                Uuid::from_slice(&lite::<Vec<u8>>(raw)?)
                    .map_err(|_| unexpected("a BLOB that is not 16 bytes long"))?,
            )),
            Storage::Text => {
                let s = lite::<String>(raw)?;
                Value::Uuid(Some(
                    Uuid::try_parse(s.trim())
                        .map_err(|_| unexpected(&format!("the text {s:?}")))?,
                ))
            }
            _ => return Err(unexpected(class_name)),
        },
        ColumnType::Json => {
            let text = match class {
                Storage::Text => lite::<String>(raw)?,
                Storage::Integer => lite::<i64>(raw)?.to_string(),
                Storage::Real => lite::<f64>(raw)?.to_string(),
                _ => return Err(unexpected(class_name)),
            };
            Value::Json(Some(Box::new(serde_json::from_str(&text).map_err(
                |e| unexpected(&format!("text that is not JSON ({e})")),
            )?)))
        }
        ColumnType::Binary => match class {
            Storage::Blob => Value::Bytes(Some(lite::<Vec<u8>>(raw)?)),
            Storage::Text => Value::Bytes(Some(lite::<String>(raw)?.into_bytes())),
            _ => return Err(unexpected(class_name)),
        },
    })
}

/// `f` when it is a whole number an `i64` holds.
fn whole(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f))
        .then_some(f as i64)
}

/// The decimal `f` stands for: the shortest decimal that reads back as `f`, which is the text
/// SQLite was given whenever it had 15 significant digits or fewer.
fn decimal_of_f64(f: f64) -> Option<BigDecimal> {
    if !f.is_finite() {
        return None;
    }
    // Rust prints the shortest round-tripping digits, without an exponent.
    parse_decimal(&format!("{f}"))
}

/// A decimal from text (`-12.50`, `1e-3`), without any rounding.
pub(crate) fn parse_decimal(s: &str) -> Option<BigDecimal> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
    {
        return None;
    }
    s.parse().ok()
}

/// `d` written with `scale` decimals when that loses nothing (`12.5` in a `decimal(10, 2)` is
/// `12.50`, as MySQL returns it; sqlx reads PostgreSQL's `numeric` in groups of four digits,
/// `12.5000` there); otherwise as it is.
fn with_scale(d: BigDecimal, scale: u32) -> BigDecimal {
    let scale = i64::from(scale);
    if d.fractional_digit_count() == scale {
        return d;
    }
    let scaled = d.with_scale(scale);
    if scaled == d { scaled } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_without_rounding() {
        let d = parse_decimal("1234567890123456789012345678.1234567890").unwrap();
        assert_eq!(
            d.to_plain_string(),
            "1234567890123456789012345678.1234567890"
        );
        assert_eq!(
            parse_decimal("-0.0000000001").unwrap().to_plain_string(),
            "-0.0000000001"
        );
        assert!(parse_decimal("12 apples").is_none());
        assert!(parse_decimal("").is_none());
        assert!(parse_decimal("NaN").is_none());
    }

    #[test]
    fn a_real_reads_back_as_the_decimal_sqlite_was_given() {
        for text in ["0.1", "12.5", "-0.0000000001", "123456789012.345", "1e20"] {
            let f: f64 = text.parse().unwrap();
            let d = decimal_of_f64(f).unwrap();
            assert_eq!(d, parse_decimal(text).unwrap(), "{text}");
        }
        assert_eq!(
            with_scale(decimal_of_f64(12.5).unwrap(), 2).to_plain_string(),
            "12.50"
        );
    }
}
