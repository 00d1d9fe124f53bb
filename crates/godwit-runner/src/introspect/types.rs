//! Each column type as a backend spells it in its catalog, and back.

use godwit_core::{Backend, ColumnType};

/// How `backend` spells godwit's `ty` in its catalog (PostgreSQL's `format_type`,
/// MySQL/MariaDB's `COLUMN_TYPE`, SQLite's declared type), normalized by [`normalize_type`].
pub fn catalog_type(backend: Backend, ty: &ColumnType) -> String {
    use ColumnType::*;
    match backend {
        Backend::Postgres => match ty {
            SmallInt => "smallint".into(),
            Integer => "integer".into(),
            BigInt => "bigint".into(),
            String(n) => format!("character varying({n})"),
            Text => "text".into(),
            Boolean => "boolean".into(),
            Float => "real".into(),
            Double => "double precision".into(),
            Decimal(p, s) => format!("numeric({p},{s})"),
            Date => "date".into(),
            Time => "time without time zone".into(),
            Timestamp => "timestamp without time zone".into(),
            TimestampTz => "timestamp with time zone".into(),
            Uuid => "uuid".into(),
            Json => "jsonb".into(),
            Binary => "bytea".into(),
            // `format_type` names the type, quoted when it must be.
            Enum(e) => normalize_type(&pg_type_name(&e.name)),
        },
        Backend::MySql => match ty {
            SmallInt => "smallint".into(),
            Integer => "int".into(),
            BigInt => "bigint".into(),
            String(n) => format!("varchar({n})"),
            Text => "text".into(),
            Boolean => "tinyint(1)".into(),
            Float => "float".into(),
            Double => "double".into(),
            Decimal(p, s) => format!("decimal({p},{s})"),
            Date => "date".into(),
            Time => "time(6)".into(),
            // A `timestamp_tz` is a `datetime(6)` in UTC there.
            Timestamp | TimestampTz => "datetime(6)".into(),
            Uuid => "binary(16)".into(),
            // MariaDB's JSON is LONGTEXT with a json_valid check.
            Json => "longtext".into(),
            Binary => "blob".into(),
            Enum(e) => normalize_type(&format!(
                "enum({})",
                e.values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        },
        Backend::Sqlite => match ty {
            SmallInt => "smallint".into(),
            Integer | BigInt => "integer".into(),
            String(n) => format!("varchar({n})"),
            Text => "text".into(),
            Boolean => "boolean".into(),
            Float => "float".into(),
            Double => "double".into(),
            // Past 15 digits, TEXT affinity keeps the digits written (NUMERIC would make a REAL).
            Decimal(p, s) if *p > 15 => format!("decimal_text({p},{s})"),
            Decimal(p, s) => format!("decimal({p},{s})"),
            Date => "date_text".into(),
            Time => "time_text".into(),
            Timestamp => "datetime_text".into(),
            TimestampTz => "timestamp_with_timezone_text".into(),
            Uuid => "uuid_text".into(),
            Json => "json_text".into(),
            Binary => "blob".into(),
            // Text, its values checked by the column's CHECK.
            Enum(_) => "text".into(),
        },
    }
}

/// A type's name as PostgreSQL's `format_type` writes it: quoted unless it is lowercase letters,
/// digits and underscores, not starting with a digit.
fn pg_type_name(name: &str) -> String {
    // `format_type` writes the schema of a type outside the search path, each part quoted
    // alone.
    if let (Some(schema), bare) = godwit_core::types::split_schema(name) {
        return format!("{}.{}", pg_type_name(schema), pg_type_name(bare));
    }
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A catalog's type text, lowercase, without spaces after commas, and without the display
/// width of MySQL integers (`int(11)` is `int`; `tinyint(1)` stays, it is a boolean).
pub fn normalize_type(ty: &str) -> String {
    let ty = ty.trim().to_ascii_lowercase().replace(", ", ",");
    for int in ["smallint", "int", "bigint"] {
        if let Some(rest) = ty.strip_prefix(int).and_then(|r| r.strip_prefix('('))
            && let Some(digits) = rest.strip_suffix(')')
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return int.to_string();
        }
    }
    ty
}

/// The godwit type a catalog type text is on `backend`, if godwit creates that type there. On
/// MySQL/MariaDB a `datetime(6)` reads as a `timestamp` (a `timestamp_tz` is one too, in UTC).
pub fn parse_type(backend: Backend, ty: &str) -> Option<ColumnType> {
    use ColumnType::*;
    let ty = normalize_type(ty);
    let fixed = [
        SmallInt,
        Integer,
        BigInt,
        Text,
        Boolean,
        Float,
        Double,
        Date,
        Time,
        Timestamp,
        TimestampTz,
        Uuid,
        Json,
        Binary,
    ];
    if let Some(t) = fixed.into_iter().find(|t| catalog_type(backend, t) == ty) {
        return Some(t);
    }
    let args = |prefix: &str| -> Option<Vec<u32>> {
        let inner = ty
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    let (string, decimal) = match backend {
        Backend::Postgres => ("character varying", "numeric"),
        Backend::MySql | Backend::Sqlite => ("varchar", "decimal"),
    };
    if let Some([n]) = args(string).as_deref() {
        return Some(String(*n));
    }
    if let Some([p, s]) = args(decimal).as_deref() {
        return Some(Decimal(*p, *s));
    }
    if backend == Backend::Sqlite
        && let Some([p, s]) = args("decimal_text").as_deref()
    {
        return Some(Decimal(*p, *s));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_catalog_types_back() {
        let cases = [
            (
                Backend::Postgres,
                "character varying(50)",
                Some(ColumnType::String(50)),
            ),
            (
                Backend::Postgres,
                "numeric(10,2)",
                Some(ColumnType::Decimal(10, 2)),
            ),
            (
                Backend::Postgres,
                "timestamp with time zone",
                Some(ColumnType::TimestampTz),
            ),
            (Backend::Postgres, "tsvector", None),
            (Backend::MySql, "int(11)", Some(ColumnType::Integer)),
            (Backend::MySql, "tinyint(1)", Some(ColumnType::Boolean)),
            (Backend::MySql, "tinyint(4)", None),
            (
                Backend::MySql,
                "decimal(10, 2)",
                Some(ColumnType::Decimal(10, 2)),
            ),
            (Backend::Sqlite, "INTEGER", Some(ColumnType::Integer)),
            (Backend::Sqlite, "varchar(x)", None),
            (Backend::Sqlite, "", None),
        ];
        for (backend, text, expected) in cases {
            assert_eq!(parse_type(backend, text), expected, "{backend}: {text}");
        }
    }
}
