//! The live schema of a SQLite database, from `sqlite_master` and the schema pragmas.
//!
//! SQLite does not keep the names of constraints anywhere but in the `CREATE TABLE` text, so
//! check and unique constraint names are read from it.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

use godwit_runner::introspect::{normalize_type, parse_sqlite_create_table};

use crate::live::shape::{Column, ForeignKey, Index, Table};

/// Views and triggers: `(kind, name, table of a trigger)`.
pub const OBJECTS: &str = "SELECT type, name, CASE WHEN type = 'trigger' THEN tbl_name END FROM sqlite_master \
     WHERE type IN ('view', 'trigger')";

pub async fn introspect(conn: &mut SqliteConnection) -> Result<Vec<Table>, sqlx::Error> {
    let rows = sqlx::query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    let mut tables = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let sql: String = row.get(1);
        let parsed = parse_sqlite_create_table(&sql);
        let mut t = Table {
            name: name.clone(),
            ..Table::default()
        };

        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) \
             WHERE hidden <> 1 ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?
        {
            let column: String = c.get(0);
            let pk_pos: i64 = c.get(4);
            if pk_pos > 0 {
                pk.push((pk_pos, column.clone()));
            }
            let auto_increment = parsed.autoincrement.as_deref() == Some(column.as_str());
            t.columns.push(Column {
                ty: normalize_type(&c.get::<String, _>(1)),
                nullable: c.get::<i64, _>(2) == 0 && !auto_increment,
                has_default: c.get::<Option<String>, _>(3).is_some(),
                auto_increment,
                generated: match c.get::<i64, _>(5) {
                    2 => Some(false),
                    3 => Some(true),
                    _ => None,
                },
                name: column,
            });
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();

        for i in sqlx::query("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?
        {
            let index_name: String = i.get(0);
            let origin: String = i.get(2);
            if origin == "pk" {
                continue;
            }
            let columns: Vec<String> =
                sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&index_name)
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| {
                        r.get::<Option<String>, _>(0)
                            .unwrap_or_else(|| "<expression>".into())
                    })
                    .collect();
            // A UNIQUE constraint's index is `sqlite_autoindex_<table>_<n>`: name it after the
            // constraint.
            let index_name = if origin == "u" {
                parsed
                    .uniques
                    .iter()
                    .find(|(_, cols)| *cols == columns)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_else(|| format!("<unnamed unique constraint {index_name}>"))
            } else {
                index_name
            };
            t.indexes.push(Index {
                name: index_name,
                columns,
                unique: i.get::<i64, _>(1) != 0,
                partial: i.get::<i64, _>(3) != 0,
            });
        }

        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for f in sqlx::query(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?
        {
            let fk = fks.entry(f.get(0)).or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                ref_table: f.get(1),
                ref_columns: Vec::new(),
                on_delete: f.get(5),
                on_update: f.get(4),
            });
            fk.columns.push(f.get(2));
            fk.ref_columns.push(f.get::<Option<String>, _>(3).unwrap_or_else(|| "<primary key>".into()));
        }
        t.foreign_keys = fks.into_values().collect();
        t.checks = parsed.checks;
        tables.push(t);
    }
    Ok(tables)
}
