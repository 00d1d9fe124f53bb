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
        ColumnType::String(_) | ColumnType::Text => match v {
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
/// it as it is.
///
/// - SQLite: a decimal column has NUMERIC affinity, so a decimal becomes an INTEGER or a REAL,
///   which keeps 15 to 17 significant digits: a decimal that does not read back the same is
///   changed.
/// - MySQL/MariaDB: godwit's `datetime`, `timestamp` and `time` columns keep whole seconds, so
///   fractional seconds are lost; a float (`float`, single precision) keeps what an `f32` does.
pub(crate) fn target_changes(backend: Backend, ty: &ColumnType, v: &Value) -> Option<String> {
    match backend {
        Backend::Sqlite => sqlite_changes(ty, v),
        Backend::MySql => mysql_changes(ty, v),
        Backend::Postgres => None,
    }
}

/// What SQLite's NUMERIC affinity does to a decimal (see [`target_changes`]).
pub(crate) fn sqlite_changes(ty: &ColumnType, v: &Value) -> Option<String> {
    let (ColumnType::Decimal(..), Value::BigDecimal(Some(d))) = (ty, v) else {
        return None;
    };
    // SQLite keeps a whole number that fits an i64 as an INTEGER, exactly.
    if d.is_integer() && d.digits() <= 18 {
        return None;
    }
    let text = d.to_plain_string();
    let back = text.parse::<f64>().ok().and_then(decimal_of_f64);
    match back {
        Some(b) if b == **d => None,
        Some(b) => Some(format!(
            "SQLite would store the decimal {text} as {}: its decimal columns keep about 15 \
             significant digits",
            b.to_plain_string()
        )),
        None => Some(format!(
            "SQLite cannot store the decimal {text} as a number"
        )),
    }
}

fn mysql_changes(ty: &ColumnType, v: &Value) -> Option<String> {
    let nanos = match (ty, v) {
        (ColumnType::Timestamp, Value::TimeDateTime(Some(t))) => t.nanosecond(),
        (ColumnType::TimestampTz, Value::TimeDateTimeWithTimeZone(Some(t))) => t.nanosecond(),
        (ColumnType::Time, Value::TimeTime(Some(t))) => t.nanosecond(),
        _ => return None,
    };
    (nanos != 0).then(|| {
        format!(
            "MySQL/MariaDB would drop the fractional seconds of {}: godwit's {} columns there keep \
             whole seconds",
            describe(v),
            ty.describe()
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
        assert_eq!(sqlite_changes(&ty, &keep("12.5000000000")), None);
        assert_eq!(sqlite_changes(&ty, &keep("-922337203685477580")), None);
        assert_eq!(sqlite_changes(&ty, &keep("99999999999999.9")), None);
        let changed = sqlite_changes(&ty, &keep("1234567890123456789.0123456789")).unwrap();
        assert!(changed.contains("15 significant digits"), "{changed}");
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
