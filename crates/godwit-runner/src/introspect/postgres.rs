//! PostgreSQL's schema from `pg_catalog`: `format_type` for each type's exact spelling,
//! `pg_get_expr` for defaults and partial index predicates, `pg_get_constraintdef` for checks.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::postgres::PgConnection;

use super::{LiveCheck, LiveColumn, LiveForeignKey, LiveIndex, LiveTable, new_table};

/// The columns of `$key` (an `int2[]` of attribute numbers) of relation `$rel`, in order.
macro_rules! attnames {
    ($rel:literal, $key:literal) => {
        concat!(
            "ARRAY(SELECT COALESCE(a.attname::text, '<expression>') FROM unnest(",
            $key,
            ") WITH ORDINALITY k(num, ord) LEFT JOIN pg_attribute a ON a.attrelid = ",
            $rel,
            " AND a.attnum = k.num ORDER BY k.ord)"
        )
    };
}

/// The name of relation `$rel` in namespace `$ns`: bare in the connection's schema,
/// `schema.name` in another.
macro_rules! qname {
    ($ns:literal, $name:literal) => {
        concat!(
            "(CASE WHEN ",
            $ns,
            ".nspname = current_schema() THEN ",
            $name,
            "::text ELSE ",
            $ns,
            ".nspname || '.' || ",
            $name,
            " END)"
        )
    };
}

/// The connection's schema and the schemas in `$1` (those the migrations name).
macro_rules! in_schemas {
    ($ns:literal) => {
        concat!(
            "(",
            $ns,
            ".nspname = current_schema() OR ",
            $ns,
            ".nspname = ANY($1))"
        )
    };
}

const PG_TABLES: &str = concat!(
    "SELECT ",
    qname!("n", "c.relname"),
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    in_schemas!("n"),
    " AND c.relkind IN ('r', 'p')"
);

const PG_COLUMNS: &str = concat!(
    "SELECT ",
    qname!("n", "c.relname"),
    // An enumerated type of another schema is named with it, whether or not the search path
    // finds it (`format_type` leaves out a schema the search path has).
    ", a.attname::text, CASE WHEN ty.typtype = 'e' THEN \
            (CASE WHEN tn.nspname = current_schema() THEN quote_ident(ty.typname) \
             ELSE quote_ident(tn.nspname) || '.' || quote_ident(ty.typname) END) \
            ELSE format_type(a.atttypid, a.atttypmod) END, a.attnotnull, \
            pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text \
     FROM pg_attribute a \
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     JOIN pg_type ty ON ty.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = ty.typnamespace \
     WHERE ",
    in_schemas!("n"),
    " AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY 1, a.attnum"
);

const PG_INDEXES: &str = concat!(
    "SELECT ",
    qname!("n", "t.relname"),
    ", i.relname::text, x.indisunique, x.indisprimary, pg_get_expr(x.indpred, x.indrelid), \
     x.indisvalid, EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u'), ",
    attnames!("x.indrelid", "x.indkey::int2[]"),
    " FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
      JOIN pg_namespace n ON n.oid = t.relnamespace WHERE ",
    in_schemas!("n"),
    " ORDER BY 1, 2"
);

const PG_CONSTRAINTS: &str = concat!(
    "SELECT ",
    qname!("n", "t.relname"),
    ", c.conname::text, c.contype::text, ",
    attnames!("c.conrelid", "c.conkey"),
    ", ",
    qname!("rn", "r.relname"),
    ", ",
    attnames!("c.confrelid", "c.confkey"),
    ", c.confdeltype::text, c.confupdtype::text, pg_get_constraintdef(c.oid), c.convalidated \
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
      LEFT JOIN pg_class r ON r.oid = c.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace \
      WHERE ",
    in_schemas!("n"),
    " AND c.contype IN ('p', 'f', 'c') ORDER BY 1, 2"
);

/// Views (and materialized views, with their queries), triggers, functions and procedures in
/// the current schema, and extensions; what an extension brought is left out.
pub(super) const PG_OBJECTS: &str = concat!(
    "SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, ",
    qname!("n", "c.relname"),
    ", NULL::text, pg_get_viewdef(c.oid) FROM pg_class c \
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    in_schemas!("n"),
    " AND c.relkind IN ('v', 'm') AND NOT EXISTS \
       (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
     UNION ALL SELECT 'trigger', t.tgname::text, ",
    qname!("n", "c.relname"),
    ", NULL::text FROM pg_trigger t \
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ",
    in_schemas!("n"),
    " AND NOT t.tgisinternal \
     UNION ALL SELECT 'function', ",
    qname!("n", "p.proname"),
    ", NULL::text, NULL::text FROM pg_proc p \
       JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ",
    in_schemas!("n"),
    " AND p.prokind IN ('f', 'p') AND NOT EXISTS \
       (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') \
     UNION ALL SELECT 'extension', extname::text, NULL::text, NULL::text FROM pg_extension WHERE extname <> 'plpgsql'"
);

/// The values of each enumerated type in those schemas (not an extension's), in order.
pub(super) const PG_ENUMS: &str = concat!(
    "SELECT ",
    qname!("n", "t.typname"),
    ", e.enumlabel::text FROM pg_type t \
       JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ",
    in_schemas!("n"),
    " AND NOT EXISTS \
       (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') \
     ORDER BY 1, e.enumsortorder"
);

/// The comments of tables (no column) and columns in those schemas.
pub(super) const PG_COMMENTS: &str = concat!(
    "SELECT ",
    qname!("n", "c.relname"),
    ", a.attname::text, d.description FROM pg_description d \
       JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace \
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 \
     WHERE d.classoid = 'pg_class'::regclass AND ",
    in_schemas!("n"),
    " AND c.relkind IN ('r', 'p') \
       AND (d.objsubid = 0 OR a.attname IS NOT NULL)"
);

fn pg_action_code(code: &str) -> String {
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

/// The tables of the connection's schema and of `schemas`; a table of another schema is named
/// `schema.table`.
pub(super) async fn introspect(
    conn: &mut PgConnection,
    schemas: &[String],
) -> Result<BTreeMap<String, LiveTable>, sqlx::Error> {
    let mut tables: BTreeMap<String, LiveTable> = sqlx::query(PG_TABLES)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| new_table(row.get(0)))
        .collect();
    for row in sqlx::query(PG_COLUMNS)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?
    {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let default: Option<String> = row.get(4);
        let identity: String = row.get(5);
        // A generated column's expression is where a default would be.
        let generated = (row.get::<String, _>(6) == "s").then_some(true);
        let default = default.filter(|_| generated.is_none());
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        t.columns.push(LiveColumn {
            comment: None,
            generated,
            name: row.get(1),
            ty: row.get(2),
            nullable: !row.get::<bool, _>(3),
            default: default.filter(|_| !serial),
            auto_increment: serial || !identity.is_empty(),
        });
    }
    for row in sqlx::query(PG_INDEXES)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?
    {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        if row.get::<bool, _>(3) {
            continue; // the primary key's index
        }
        t.indexes.push(LiveIndex {
            name: row.get(1),
            columns: row.get(7),
            unique: row.get(2),
            predicate: row.get(4),
            constraint: row.get(6),
            valid: row.get(5),
        });
    }
    for row in sqlx::query(PG_CONSTRAINTS)
        .bind(schemas)
        .fetch_all(&mut *conn)
        .await?
    {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let columns: Vec<String> = row.get(3);
        match row.get::<String, _>(2).as_str() {
            "p" => t.primary_key = columns,
            "c" => t.checks.push(LiveCheck {
                name,
                expr: row.get(8),
                valid: row.get(9),
            }),
            "f" if !row.get::<bool, _>(9) => {
                t.foreign_keys_not_valid.push(name.clone());
                t.foreign_keys.push(LiveForeignKey {
                    name: Some(name),
                    columns,
                    ref_table: row.get::<Option<String>, _>(4).unwrap_or_default(),
                    ref_columns: row.get(5),
                    on_delete: pg_action_code(&row.get::<String, _>(6)),
                    on_update: pg_action_code(&row.get::<String, _>(7)),
                });
            }
            _ => t.foreign_keys.push(LiveForeignKey {
                name: Some(name),
                columns,
                ref_table: row.get::<Option<String>, _>(4).unwrap_or_default(),
                ref_columns: row.get(5),
                on_delete: pg_action_code(&row.get::<String, _>(6)),
                on_update: pg_action_code(&row.get::<String, _>(7)),
            }),
        }
    }
    Ok(tables)
}
