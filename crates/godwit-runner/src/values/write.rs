//! Values as a target is given them: decimals as text where the encoder would change them,
//! PostgreSQL's `COPY` text format, and keys as the progress tables record them (JSON).

use godwit_core::Backend;
use sea_query::Value;
use sea_query::value::prelude::{Json, Uuid, serde_json};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{describe, is_null, parse_decimal, utc};

/// `v` as a value the target's encoder writes as it is: a decimal becomes its plain text on
/// MySQL/MariaDB and SQLite (the server converts it exactly; sqlx would write `1E-10` for
/// some), everything else is unchanged.
pub(crate) fn for_target(backend: Backend, v: Value) -> Value {
    godwit_core::render::stored_value(backend, v)
}

/// Append `v` to `out` in PostgreSQL's `COPY ... FROM STDIN` text format (`\N` for NULL,
/// backslash escapes, bytea as `\\x` and hex, timestamps with their nanoseconds, in UTC).
pub(crate) fn copy_text(out: &mut String, v: &Value) -> Result<(), String> {
    use std::fmt::Write as _;
    if is_null(v) {
        out.push_str("\\N");
        return Ok(());
    }
    let float = |out: &mut String, f: f64| {
        if f.is_nan() {
            out.push_str("NaN");
        } else if f.is_infinite() {
            out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
        } else {
            let _ = write!(out, "{f}");
        }
    };
    match v {
        Value::Bool(Some(b)) => out.push(if *b { 't' } else { 'f' }),
        Value::TinyInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::SmallInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::Int(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::BigInt(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::TinyUnsigned(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::SmallUnsigned(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::Unsigned(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::BigUnsigned(Some(n)) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(Some(f)) => float(out, f64::from(*f)),
        Value::Double(Some(f)) => float(out, *f),
        Value::String(Some(text)) => escape_copy(out, text),
        Value::Char(Some(c)) => escape_copy(out, c.encode_utf8(&mut [0; 4])),
        Value::Json(Some(j)) => escape_copy(out, &j.to_string()),
        Value::Bytes(Some(bytes)) => {
            out.reserve(3 + 2 * bytes.len());
            out.push_str("\\\\x");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
        Value::Uuid(Some(u)) => {
            let _ = write!(out, "{}", u.hyphenated());
        }
        Value::BigDecimal(Some(d)) => {
            let _ = d.write_plain_string(out);
        }
        Value::TimeDate(Some(d)) => write_date(out, *d),
        Value::TimeTime(Some(t)) => write_time(out, *t),
        Value::TimeDateTime(Some(t)) => {
            write_date(out, t.date());
            out.push(' ');
            write_time(out, t.time());
        }
        Value::TimeDateTimeWithTimeZone(Some(t)) => {
            let t = utc(*t);
            write_date(out, t.date());
            out.push(' ');
            write_time(out, t.time());
            out.push_str("+00");
        }
        other => return Err(format!("{} cannot be written by COPY", describe(other))),
    }
    Ok(())
}

fn escape_copy(out: &mut String, text: &str) {
    out.reserve(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}

fn write_date(out: &mut String, d: Date) {
    use std::fmt::Write as _;
    let (year, bc) = match d.year() {
        y if y <= 0 => (1 - y, " BC"),
        y => (y, ""),
    };
    let _ = write!(out, "{year:04}-{:02}-{:02}", u8::from(d.month()), d.day());
    out.push_str(bc);
}

fn write_time(out: &mut String, t: Time) {
    use std::fmt::Write as _;
    let _ = write!(out, "{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    if t.nanosecond() != 0 {
        let _ = write!(out, ".{:09}", t.nanosecond());
    }
}

/// A key value as JSON, tagged with its shape so that it comes back as the same value (the same
/// SQLite storage class too): `["i64", 5]`, `["text", "a"]`, `["bytes", "00ff"]`, ...
pub(crate) fn key_to_json(v: &Value) -> Option<Json> {
    use serde_json::json;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let fmt = |r: Result<String, time::error::Format>| r.ok();
    use time::format_description::well_known::Rfc3339;
    Some(match v {
        Value::Bool(Some(b)) => json!(["bool", b]),
        Value::TinyInt(Some(n)) => json!(["i64", n]),
        Value::SmallInt(Some(n)) => json!(["i64", n]),
        Value::Int(Some(n)) => json!(["i64", n]),
        Value::BigInt(Some(n)) => json!(["i64", n]),
        Value::TinyUnsigned(Some(n)) => json!(["u64", n]),
        Value::SmallUnsigned(Some(n)) => json!(["u64", n]),
        Value::Unsigned(Some(n)) => json!(["u64", n]),
        Value::BigUnsigned(Some(n)) => json!(["u64", n]),
        Value::Float(Some(f)) => json!(["f32", f]),
        Value::Double(Some(f)) => json!(["f64", f]),
        Value::String(Some(s)) => json!(["text", s]),
        Value::Char(Some(c)) => json!(["text", c.to_string()]),
        Value::Bytes(Some(b)) => json!(["bytes", hex(b)]),
        Value::Uuid(Some(u)) => json!(["uuid", u.hyphenated().to_string()]),
        Value::BigDecimal(Some(d)) => json!(["decimal", d.to_plain_string()]),
        Value::TimeDate(Some(d)) => json!(["date", d.to_julian_day()]),
        Value::TimeTime(Some(t)) => {
            json!(["time", (t.hour(), t.minute(), t.second(), t.nanosecond())])
        }
        Value::TimeDateTime(Some(t)) => json!(["datetime", fmt(t.assume_utc().format(&Rfc3339))?]),
        Value::TimeDateTimeWithTimeZone(Some(t)) => {
            json!(["datetimetz", fmt(utc(*t).format(&Rfc3339))?])
        }
        Value::Json(Some(j)) => json!(["json", j]),
        _ => return None,
    })
}

/// The value [`key_to_json`] wrote.
pub(crate) fn key_from_json(j: &Json) -> Option<Value> {
    use time::format_description::well_known::Rfc3339;
    let pair = j.as_array().filter(|a| a.len() == 2)?;
    let (tag, v) = (pair[0].as_str()?, &pair[1]);
    Some(match tag {
        "bool" => Value::Bool(Some(v.as_bool()?)),
        "i64" => Value::BigInt(Some(v.as_i64()?)),
        "u64" => Value::BigUnsigned(Some(v.as_u64()?)),
        "f32" => Value::Float(Some(v.as_f64()? as f32)),
        "f64" => Value::Double(Some(v.as_f64()?)),
        "text" => Value::String(Some(v.as_str()?.to_string())),
        "bytes" => {
            let s = v.as_str()?;
            let bytes: Option<Vec<u8>> = (0..s.len())
                .step_by(2)
                .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect();
            Value::Bytes(Some(bytes?))
        }
        "uuid" => Value::Uuid(Some(Uuid::try_parse(v.as_str()?).ok()?)),
        "decimal" => Value::BigDecimal(Some(Box::new(parse_decimal(v.as_str()?)?))),
        "date" => Value::TimeDate(Some(
            Date::from_julian_day(i32::try_from(v.as_i64()?).ok()?).ok()?,
        )),
        "time" => {
            let t = v.as_array().filter(|a| a.len() == 4)?;
            let part = |i: usize| t[i].as_u64().and_then(|n| u8::try_from(n).ok());
            let nanos = u32::try_from(t[3].as_u64()?).ok()?;
            Value::TimeTime(Some(
                Time::from_hms_nano(part(0)?, part(1)?, part(2)?, nanos).ok()?,
            ))
        }
        "datetime" => {
            let t = OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok()?;
            Value::TimeDateTime(Some(PrimitiveDateTime::new(t.date(), t.time())))
        }
        "datetimetz" => Value::TimeDateTimeWithTimeZone(Some(
            OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok()?,
        )),
        "json" => Value::Json(Some(Box::new(v.clone()))),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_formats() {
        let mut out = String::new();
        let t = time::macros::datetime!(2026-11-20 09:00:00.000123 +02:00);
        for v in [
            Value::String(Some("a\tb\\c\nd".into())),
            Value::Bytes(Some(vec![0, 255])),
            Value::Int(None),
            Value::TimeDateTimeWithTimeZone(Some(t)),
            Value::TimeDate(Some(time::macros::date!(-0044 - 03 - 15))),
            Value::Double(Some(f64::NEG_INFINITY)),
            Value::BigDecimal(Some(Box::new(parse_decimal("-1e-10").unwrap()))),
        ] {
            copy_text(&mut out, &v).unwrap();
            out.push('|');
        }
        assert_eq!(
            out,
            "a\\tb\\\\c\\nd|\\\\x00ff|\\N|2026-11-20 07:00:00.000123000+00|0045-03-15 BC|-Infinity|-0.0000000001|"
        );
    }

    #[test]
    fn keys_come_back_from_json_as_the_same_values() {
        let values = [
            Value::BigInt(Some(-5)),
            Value::String(Some("clé".into())),
            Value::Bytes(Some(vec![0, 1, 254])),
            Value::Uuid(Some(Uuid::from_u128(0x1234))),
            Value::BigDecimal(Some(Box::new(parse_decimal("12.50").unwrap()))),
            Value::TimeDate(Some(time::macros::date!(2026 - 11 - 20))),
            Value::TimeTime(Some(time::macros::time!(23:59:59.999999))),
            Value::TimeDateTime(Some(time::macros::datetime!(2026-11-20 09:00:00.5))),
            Value::TimeDateTimeWithTimeZone(Some(
                time::macros::datetime!(2026-11-20 09:00:00.5 UTC),
            )),
            Value::Bool(Some(true)),
        ];
        for v in values {
            let j = key_to_json(&v).unwrap();
            let text = j.to_string();
            let back = key_from_json(&serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(back, v, "{text}");
        }
    }
}
