//! A value as the shape of its column type ([`coerce`]), a value in a message ([`describe`]),
//! and the values a target would store as other values ([`target_changes`]).

use godwit_core::{Backend, ColumnType};
use sea_query::Value;
use sea_query::value::prelude::{BigDecimal, Uuid, serde_json};
use sqlx::error::BoxDynError;
use time::PrimitiveDateTime;

use super::{decimal_of_f64, is_null, null_of, parse_decimal, utc, with_scale};

/// `v` as the value shape of `ty`, when that changes nothing: an integer of another width that
/// fits, MySQL's `binary(16)` as a uuid, MariaDB's JSON text as JSON, ...
pub(crate) fn coerce(v: Value, ty: &ColumnType) -> Result<Value, BoxDynError> {
    if is_null(&v) {
        return Ok(null_of(ty));
    }
    let mismatch =
        |v: &Value| -> BoxDynError { format!("{} is not a {}", describe(v), ty.describe()).into() };
    Ok(match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => {
            let n: i128 = match &v {
                Value::TinyInt(Some(n)) => i128::from(*n),
                Value::SmallInt(Some(n)) => i128::from(*n),
                Value::Int(Some(n)) => i128::from(*n),
                Value::BigInt(Some(n)) => i128::from(*n),
                Value::TinyUnsigned(Some(n)) => i128::from(*n),
                Value::SmallUnsigned(Some(n)) => i128::from(*n),
                Value::Unsigned(Some(n)) => i128::from(*n),
                Value::BigUnsigned(Some(n)) => i128::from(*n),
                Value::Bool(Some(b)) => i128::from(*b),
                _ => return Err(mismatch(&v)),
            };
            let out_of_range = || -> BoxDynError {
                format!("{n} is out of the range of a {}", ty.describe()).into()
            };
            match ty {
                ColumnType::SmallInt => {
                    Value::SmallInt(Some(i16::try_from(n).map_err(|_| out_of_range())?))
                }
                ColumnType::Integer => {
                    Value::Int(Some(i32::try_from(n).map_err(|_| out_of_range())?))
                }
                _ => Value::BigInt(Some(i64::try_from(n).map_err(|_| out_of_range())?)),
            }
        }
        ColumnType::String(_) | ColumnType::Text | ColumnType::Enum(_) => match v {
            Value::String(_) => v,
            Value::Char(Some(c)) => Value::String(Some(c.to_string())),
            Value::Json(Some(j)) => Value::String(Some(j.to_string())),
            Value::Bytes(Some(b)) => Value::String(Some(
                String::from_utf8(b)
                    .map_err(|_| "bytes that are not UTF-8 text are not a string")?,
            )),
            other => return Err(mismatch(&other)),
        },
        ColumnType::Boolean => match v {
            Value::Bool(_) => v,
            Value::TinyInt(Some(n @ (0 | 1))) => Value::Bool(Some(n == 1)),
            Value::SmallInt(Some(n @ (0 | 1))) => Value::Bool(Some(n == 1)),
            Value::Int(Some(n @ (0 | 1))) => Value::Bool(Some(n == 1)),
            Value::BigInt(Some(n @ (0 | 1))) => Value::Bool(Some(n == 1)),
            Value::TinyUnsigned(Some(n @ (0 | 1))) => Value::Bool(Some(n == 1)),
            other => return Err(mismatch(&other)),
        },
        ColumnType::Float => match v {
            Value::Float(_) => v,
            Value::Double(Some(f)) if f64::from(f as f32) == f || f.is_nan() => {
                Value::Float(Some(f as f32))
            }
            other => return Err(mismatch(&other)),
        },
        ColumnType::Double => match v {
            Value::Double(_) => v,
            Value::Float(Some(f)) => Value::Double(Some(f64::from(f))),
            other => return Err(mismatch(&other)),
        },
        ColumnType::Decimal(_, scale) => {
            let d = match &v {
                Value::BigDecimal(Some(d)) => (**d).clone(),
                Value::TinyInt(Some(n)) => BigDecimal::from(*n),
                Value::SmallInt(Some(n)) => BigDecimal::from(*n),
                Value::Int(Some(n)) => BigDecimal::from(*n),
                Value::BigInt(Some(n)) => BigDecimal::from(*n),
                Value::String(Some(s)) => parse_decimal(s).ok_or_else(|| mismatch(&v))?,
                Value::Double(Some(f)) => decimal_of_f64(*f).ok_or_else(|| mismatch(&v))?,
                _ => return Err(mismatch(&v)),
            };
            Value::BigDecimal(Some(Box::new(with_scale(d, *scale))))
        }
        ColumnType::Date => match v {
            Value::TimeDate(_) => v,
            other => return Err(mismatch(&other)),
        },
        ColumnType::Time => match v {
            Value::TimeTime(_) => v,
            other => return Err(mismatch(&other)),
        },
        ColumnType::Timestamp => match v {
            Value::TimeDateTime(_) => v,
            Value::TimeDateTimeWithTimeZone(Some(t)) => {
                let t = utc(t);
                Value::TimeDateTime(Some(PrimitiveDateTime::new(t.date(), t.time())))
            }
            other => return Err(mismatch(&other)),
        },
        ColumnType::TimestampTz => match v {
            Value::TimeDateTimeWithTimeZone(Some(t)) => {
                Value::TimeDateTimeWithTimeZone(Some(utc(t)))
            }
            Value::TimeDateTime(Some(t)) => Value::TimeDateTimeWithTimeZone(Some(t.assume_utc())),
            other => return Err(mismatch(&other)),
        },
        ColumnType::Uuid => match v {
            Value::Uuid(_) => v,
            Value::Bytes(Some(b)) => Value::Uuid(Some(
                Uuid::from_slice(&b).map_err(|_| "bytes that are not 16 long are not a uuid")?,
            )),
            Value::String(Some(s)) => Value::Uuid(Some(
                Uuid::try_parse(s.trim()).map_err(|_| format!("the text {s:?} is not a uuid"))?,
            )),
            other => return Err(mismatch(&other)),
        },
        ColumnType::Json => match v {
            Value::Json(_) => v,
            Value::String(Some(s)) => Value::Json(Some(Box::new(
                serde_json::from_str(&s).map_err(|e| format!("the text is not JSON: {e}"))?,
            ))),
            Value::Bytes(Some(b)) => Value::Json(Some(Box::new(
                serde_json::from_slice(&b).map_err(|e| format!("the bytes are not JSON: {e}"))?,
            ))),
            other => return Err(mismatch(&other)),
        },
        ColumnType::Binary => match v {
            Value::Bytes(_) => v,
            Value::String(Some(s)) => Value::Bytes(Some(s.into_bytes())),
            other => return Err(mismatch(&other)),
        },
    })
}

/// `the integer 5`, `the text "x"`: a value in a message.
pub(crate) fn describe(v: &Value) -> String {
    let shown = match v {
        Value::String(Some(s)) => {
            let short: String = s.chars().take(40).collect();
            let more = if short.len() < s.len() { "..." } else { "" };
            return format!("the text {short:?}{more}");
        }
        Value::Bytes(Some(b)) => return format!("{} byte(s)", b.len()),
        Value::Json(Some(j)) => {
            let text = j.to_string();
            let short: String = text.chars().take(40).collect();
            return format!("the JSON {short}");
        }
        Value::BigDecimal(Some(d)) => return format!("the decimal {}", d.to_plain_string()),
        other => format!("{other:?}"),
    };
    // `BigInt(Some(5))` -> `the value 5`.
    let inner = shown
        .split_once("(Some(")
        .map(|(_, rest)| rest.trim_end_matches(')').to_string())
        .unwrap_or(shown);
    format!("the value {inner}")
}

/// Why `backend` would store `v` (a value of `ty`) as something else, or `None` when it keeps
/// it as it is. `live` is the target column's type as its catalog spells it (normalized), when
/// known: a database created by an older godwit may have columns of another type than the model
/// gives today.
///
/// - SQLite: a `decimal` column (NUMERIC affinity) makes a decimal an INTEGER or a REAL, which
///   keeps 15 to 17 significant digits; a `decimal_text` column (TEXT affinity, for precisions
///   past 15) keeps its digits.
/// - MySQL/MariaDB: `datetime(6)` and `time(6)` keep microseconds (and years 1 to 9999, see
///   [`out_of_range`]); a
///   `datetime`, `time` or `timestamp` without a precision keeps whole seconds, and a
///   `timestamp` ends in 2038.
/// - PostgreSQL: times keep microseconds.
pub(crate) fn target_changes(
    backend: Backend,
    ty: &ColumnType,
    live: Option<&str>,
    v: &Value,
) -> Option<String> {
    match backend {
        Backend::Sqlite => sqlite_changes(ty, live, v),
        Backend::MySql => mysql_changes(ty, live, v),
        Backend::Postgres => sub_microsecond(v).map(|d| {
            format!("PostgreSQL would round {d} to the microsecond: its times keep microseconds")
        }),
    }
}

/// The year of a date or time value (in UTC for one with a time zone).
pub(crate) fn year_of(v: &Value) -> Option<i32> {
    match v {
        Value::TimeDateTime(Some(t)) => Some(t.year()),
        Value::TimeDateTimeWithTimeZone(Some(t)) => Some(utc(*t).year()),
        Value::TimeDate(Some(d)) => Some(d.year()),
        _ => None,
    }
}

/// Why `backend` cannot store `v` at all, in a column whose catalog type is `live`: a date out
/// of the range of MySQL/MariaDB's `date` and `datetime(6)` (the years 1 to 9999) or of an older
/// godwit's `timestamp` column (1970 to 2038). The server would refuse it, or, in a session
/// that is not strict, store a zero date.
pub(crate) fn out_of_range(backend: Backend, live: Option<&str>, v: &Value) -> Option<String> {
    if backend != Backend::MySql {
        return None;
    }
    let year = year_of(v)?;
    let live = live.unwrap_or("datetime(6)");
    // MySQL documents 1000 to 9999; both servers store and return the years from 1.
    let (first, last) = if live.starts_with("timestamp") {
        (1970, 2037)
    } else {
        (1, 9999)
    };
    (!(first..=last).contains(&year)).then(|| {
        format!(
            "MySQL/MariaDB cannot store {}: its `{live}` column holds the years {first} to {last}",
            describe(v)
        )
    })
}

/// What SQLite's NUMERIC affinity does to a decimal (see [`target_changes`]).
pub(crate) fn sqlite_changes(ty: &ColumnType, live: Option<&str>, v: &Value) -> Option<String> {
    let (ColumnType::Decimal(p, _), Value::BigDecimal(Some(d))) = (ty, v) else {
        return None;
    };
    let text_affinity = match live {
        Some(live) => live.contains("text"),
        None => *p > godwit_core::render::SQLITE_REAL_DIGITS,
    };
    // TEXT affinity keeps the digits; SQLite keeps a whole number that fits an i64 as an
    // INTEGER, exactly.
    if text_affinity || (d.is_integer() && d.digits() <= 18) {
        return None;
    }
    let text = d.to_plain_string();
    let back = text.parse::<f64>().ok().and_then(decimal_of_f64);
    match back {
        Some(b) if b == **d => None,
        Some(b) => Some(format!(
            "SQLite would store the decimal {text} as {}: this decimal column keeps about 15 \
             significant digits (a column made by godwit today for more than 15 digits keeps them)",
            b.to_plain_string()
        )),
        None => Some(format!(
            "SQLite cannot store the decimal {text} as a number"
        )),
    }
}

/// A time with a fraction finer than a microsecond, described.
fn sub_microsecond(v: &Value) -> Option<String> {
    let nanos = match v {
        Value::TimeDateTime(Some(t)) => t.nanosecond(),
        Value::TimeDateTimeWithTimeZone(Some(t)) => t.nanosecond(),
        Value::TimeTime(Some(t)) => t.nanosecond(),
        _ => return None,
    };
    (nanos % 1000 != 0).then(|| describe(v))
}

fn mysql_changes(ty: &ColumnType, live: Option<&str>, v: &Value) -> Option<String> {
    if !matches!(
        ty,
        ColumnType::Timestamp | ColumnType::TimestampTz | ColumnType::Time
    ) {
        return None;
    }
    let nanos = match v {
        Value::TimeDateTime(Some(t)) => t.nanosecond(),
        Value::TimeDateTimeWithTimeZone(Some(t)) => t.nanosecond(),
        Value::TimeTime(Some(t)) => t.nanosecond(),
        _ => return None,
    };
    let live = live.unwrap_or("(6)");
    if live.ends_with("(6)") {
        return (nanos % 1000 != 0).then(|| {
            format!(
                "MySQL/MariaDB would round {} to the microsecond",
                describe(v)
            )
        });
    }
    (nanos != 0).then(|| {
        format!(
            "MySQL/MariaDB would drop the fractional seconds of {}: this `{live}` column keeps \
             whole seconds (a column made by godwit today keeps microseconds)",
            describe(v)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_cannot_keep_long_decimals() {
        let ty = ColumnType::Decimal(38, 10);
        let keep = |s: &str| Value::BigDecimal(Some(Box::new(parse_decimal(s).unwrap())));
        let numeric = Some("decimal(38,10)");
        assert_eq!(sqlite_changes(&ty, numeric, &keep("12.5000000000")), None);
        assert_eq!(
            sqlite_changes(&ty, numeric, &keep("-922337203685477580")),
            None
        );
        assert_eq!(
            sqlite_changes(&ty, numeric, &keep("99999999999999.9")),
            None
        );
        let long = keep("1234567890123456789.0123456789");
        let changed = sqlite_changes(&ty, numeric, &long).unwrap();
        assert!(changed.contains("15 significant digits"), "{changed}");
        // What godwit creates today for 38 digits has TEXT affinity, and keeps them.
        assert_eq!(
            sqlite_changes(&ty, Some("decimal_text(38,10)"), &long),
            None
        );
        assert_eq!(sqlite_changes(&ty, None, &long), None);
    }

    #[test]
    fn coercion_keeps_values_and_refuses_what_does_not_fit() {
        assert_eq!(
            coerce(Value::BigInt(Some(7)), &ColumnType::SmallInt).unwrap(),
            Value::SmallInt(Some(7))
        );
        let err = coerce(Value::BigInt(Some(70_000)), &ColumnType::SmallInt).unwrap_err();
        assert_eq!(err.to_string(), "70000 is out of the range of a smallint");
        assert_eq!(
            coerce(Value::Bytes(Some(vec![0; 16])), &ColumnType::Uuid).unwrap(),
            Value::Uuid(Some(Uuid::nil()))
        );
        assert_eq!(
            coerce(Value::String(Some("{\"a\":[1]}".into())), &ColumnType::Json).unwrap(),
            Value::Json(Some(Box::new(serde_json::json!({"a": [1]}))))
        );
        assert_eq!(
            coerce(Value::Int(None), &ColumnType::Text).unwrap(),
            Value::String(None)
        );
        let err = coerce(Value::String(Some("x".into())), &ColumnType::Date).unwrap_err();
        assert_eq!(err.to_string(), "the text \"x\" is not a date");
    }
}
