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

const TABLES: &str = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')";

const COLUMNS: &str = "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
            pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text \
     FROM pg_attribute a \
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY c.relname, a.attnum";

const INDEXES: &str = concat!(
    "SELECT t.relname::text, i.relname::text, x.indisunique, x.indisprimary, x.indpred IS NOT NULL, x.indisvalid, ",
    attnames!("x.indrelid", "x.indkey::int2[]"),
    " FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
      JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'"
);

const CONSTRAINTS: &str = concat!(
    "SELECT t.relname::text, c.conname::text, c.contype::text, ",
    attnames!("c.conrelid", "c.conkey"),
    ", r.relname::text, ",
    attnames!("c.confrelid", "c.confkey"),
    ", c.confdeltype::text, c.confupdtype::text \
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
      LEFT JOIN pg_class r ON r.oid = c.confrelid \
      WHERE n.nspname = 'public' AND c.contype IN ('p', 'f', 'c')"
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
pub const OBJECTS: &str = "SELECT 'view', viewname::text, NULL::text FROM pg_views WHERE schemaname = current_schema() \
     UNION SELECT 'materialized view', matviewname::text, NULL::text FROM pg_matviews WHERE schemaname = current_schema() \
     UNION SELECT 'trigger', trigger_name::text, event_object_table::text FROM information_schema.triggers \
       WHERE trigger_schema = current_schema() \
     UNION SELECT 'function', routine_name::text, NULL::text FROM information_schema.routines \
       WHERE routine_schema = current_schema() AND routine_name NOT IN \
         (SELECT p.proname FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e') \
     UNION SELECT 'extension', extname::text, NULL::text FROM pg_extension WHERE extname <> 'plpgsql' \
     UNION SELECT 'enum', t.typname || ' (' || string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) || ')', NULL::text \
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
       WHERE t.typnamespace = current_schema()::regnamespace GROUP BY t.typname \
     UNION SELECT 'comment', 'on table ' || obj_description(c.oid, 'pg_class'), c.relname::text FROM pg_class c \
       WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' \
         AND obj_description(c.oid, 'pg_class') IS NOT NULL \
     UNION SELECT 'comment', 'on column ' || a.attname || ' ' || col_description(c.oid, a.attnum), c.relname::text \
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 \
       WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' \
         AND col_description(c.oid, a.attnum) IS NOT NULL";

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
