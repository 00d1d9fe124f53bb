//! The live schema of a PostgreSQL database, from `pg_catalog`.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgConnection;

use godwit_runner::introspect::normalize_type;

use crate::live::shape::{Column, ForeignKey, Index, Table};

/// The columns of `$key` (an `int2[]` of attribute numbers) of relation `$rel`, in order.
macro_rules! attnames {
    ($rel:literal, $key:literal) => {
        concat!(
            "ARRAY(SELECT a.attname::text FROM unnest(",
            $key,
            ") WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = ",
            $rel,
            " AND a.attnum = k.num ORDER BY k.ord)"
        )
    };
}

/// A relation's name: bare in `public`, `schema.name` in another schema.
macro_rules! qname {
    ($ns:literal, $name:literal) => {
        concat!(
            "(CASE WHEN ",
            $ns,
            ".nspname = 'public' THEN ",
            $name,
            "::text ELSE ",
            $ns,
            ".nspname || '.' || ",
            $name,
            " END)"
        )
    };
}

/// Every schema of the (scratch) database but the server's own.
macro_rules! user_schemas {
    ($ns:literal) => {
        concat!(
            "(",
            $ns,
            ".nspname <> 'information_schema' AND left(",
            $ns,
            ".nspname, 3) <> 'pg_')"
        )
    };
}

const TABLES: &str = concat!(
    "SELECT ",
    qname!("n", "c.relname"),
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    user_schemas!("n"),
    " AND c.relkind IN ('r', 'p')"
);

const COLUMNS: &str = concat!(
    "SELECT ",
    qname!("n", "c.relname"),
    ", a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
            pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text \
     FROM pg_attribute a \
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE ",
    user_schemas!("n"),
    " AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY 1, a.attnum"
);

const INDEXES: &str = concat!(
    "SELECT ",
    qname!("n", "t.relname"),
    ", i.relname::text, x.indisunique, x.indisprimary, x.indpred IS NOT NULL, x.indisvalid, ",
    attnames!("x.indrelid", "x.indkey::int2[]"),
    " FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
      JOIN pg_namespace n ON n.oid = t.relnamespace WHERE ",
    user_schemas!("n")
);

const CONSTRAINTS: &str = concat!(
    "SELECT ",
    qname!("n", "t.relname"),
    ", c.conname::text, c.contype::text, ",
    attnames!("c.conrelid", "c.conkey"),
    ", ",
    qname!("rn", "r.relname"),
    ", ",
    attnames!("c.confrelid", "c.confkey"),
    ", c.confdeltype::text, c.confupdtype::text \
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
      LEFT JOIN pg_class r ON r.oid = c.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace \
      WHERE ",
    user_schemas!("n"),
    " AND c.contype IN ('p', 'f', 'c')"
);

fn action(code: &str) -> String {
    match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        other => other,
    }
    .to_string()
}

/// Views, triggers and functions: `(kind, name, table of a trigger)`.
pub const OBJECTS: &str = concat!(
    "SELECT 'view', ",
    qname!("n", "c.relname"),
    ", NULL::text FROM pg_class c \
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ",
    user_schemas!("n"),
    " \
     UNION SELECT 'materialized view', ",
    qname!("n", "c.relname"),
    ", NULL::text FROM pg_class c \
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'm' AND ",
    user_schemas!("n"),
    " \
     UNION SELECT 'trigger', trigger_name::text, \
         CASE WHEN event_object_schema = 'public' THEN event_object_table::text \
         ELSE event_object_schema || '.' || event_object_table END \
       FROM information_schema.triggers \
       WHERE event_object_schema <> 'information_schema' AND left(event_object_schema, 3) <> 'pg_' \
     UNION SELECT 'function', ",
    qname!("n", "p.proname"),
    ", NULL::text FROM pg_proc p \
       JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ",
    user_schemas!("n"),
    " AND p.prokind IN ('f', 'p') \
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') \
     UNION SELECT 'extension', extname::text, NULL::text FROM pg_extension WHERE extname <> 'plpgsql' \
     UNION SELECT 'enum', ",
    qname!("n", "t.typname"),
    " || ' (' || string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) || ')', NULL::text \
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace \
       WHERE ",
    user_schemas!("n"),
    " GROUP BY n.nspname, t.typname \
     UNION SELECT 'comment', 'on table ' || obj_description(c.oid, 'pg_class'), ",
    qname!("n", "c.relname"),
    " FROM pg_class c \
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    user_schemas!("n"),
    " AND c.relkind = 'r' \
         AND obj_description(c.oid, 'pg_class') IS NOT NULL \
     UNION SELECT 'comment', 'on column ' || a.attname || ' ' || col_description(c.oid, a.attnum), ",
    qname!("n", "c.relname"),
    " \
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 \
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    user_schemas!("n"),
    " AND c.relkind = 'r' \
         AND col_description(c.oid, a.attnum) IS NOT NULL \
     UNION SELECT 'schema', nspname::text, NULL::text FROM pg_namespace n \
       WHERE ",
    user_schemas!("n"),
    " AND nspname <> 'public'"
);

pub async fn introspect(conn: &mut PgConnection) -> Result<Vec<Table>, sqlx::Error> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in sqlx::query(TABLES).fetch_all(&mut *conn).await? {
        let name: String = row.get(0);
        tables.insert(
            name.clone(),
            Table {
                name,
                ..Table::default()
            },
        );
    }
    for row in sqlx::query(COLUMNS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let default: Option<String> = row.get(4);
        let identity: String = row.get(5);
        let generated = (row.get::<String, _>(6) == "s").then_some(true);
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        t.columns.push(Column {
            name: row.get(1),
            ty: normalize_type(&row.get::<String, _>(2)),
            nullable: !row.get::<bool, _>(3),
            has_default: default.is_some() && !serial && generated.is_none(),
            auto_increment: serial || !identity.is_empty(),
            generated,
        });
    }
    for row in sqlx::query(INDEXES).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        if row.get::<bool, _>(3) {
            continue; // the primary key's index
        }
        let mut name: String = row.get(1);
        if !row.get::<bool, _>(5) {
            name.push_str(" (INVALID)");
        }
        t.indexes.push(Index {
            name,
            columns: row.get(6),
            unique: row.get(2),
            partial: row.get(4),
        });
    }
    for row in sqlx::query(CONSTRAINTS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let columns: Vec<String> = row.get(3);
        match row.get::<String, _>(2).as_str() {
            "p" => t.primary_key = columns,
            "c" => t.checks.push(name),
            _ => t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                ref_table: row.get::<Option<String>, _>(4).unwrap_or_default(),
                ref_columns: row.get(5),
                on_delete: action(&row.get::<String, _>(6)),
                on_update: action(&row.get::<String, _>(7)),
            }),
        }
    }
    Ok(tables.into_values().collect())
}
