//! The live schema of a MariaDB (or MySQL) database, from `information_schema`.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::mysql::MySqlConnection;

use godwit_runner::introspect::normalize_type;

use crate::live::shape::{Column, ForeignKey, Index, Table};

const TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";

const COLUMNS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
            CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR) \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION";

const INDEXES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
            CAST(COLUMN_NAME AS CHAR) \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const FOREIGN_KEYS: &str = "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
            CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), \
            CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR) \
     FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
       ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const CHECKS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
     FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";

/// Views, triggers and functions: `(kind, name, table of a trigger)`.
pub const OBJECTS: &str = "SELECT 'view', CAST(TABLE_NAME AS CHAR), CAST(NULL AS CHAR) FROM information_schema.TABLES \
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'VIEW' \
     UNION SELECT 'trigger', CAST(TRIGGER_NAME AS CHAR), CAST(EVENT_OBJECT_TABLE AS CHAR) FROM information_schema.TRIGGERS \
       WHERE TRIGGER_SCHEMA = DATABASE() \
     UNION SELECT 'function', CAST(ROUTINE_NAME AS CHAR), CAST(NULL AS CHAR) FROM information_schema.ROUTINES \
       WHERE ROUTINE_SCHEMA = DATABASE() \
     UNION SELECT 'comment', CONCAT('on table ', TABLE_COMMENT), CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_COMMENT <> '' \
     UNION SELECT 'comment', CONCAT('on column ', COLUMN_NAME, ' ', COLUMN_COMMENT), CAST(TABLE_NAME AS CHAR) \
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_COMMENT <> ''";

pub async fn introspect(conn: &mut MySqlConnection) -> Result<Vec<Table>, sqlx::Error> {
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
        // MariaDB reports the implicit default of a nullable column as the text `NULL`.
        let default: Option<String> = row.get(4);
        let extra: String = row.get::<Option<String>, _>(5).unwrap_or_default();
        t.columns.push(Column {
            name: row.get(1),
            ty: normalize_type(&row.get::<String, _>(2)),
            nullable: row.get::<String, _>(3) == "YES",
            has_default: default.is_some_and(|d| d != "NULL"),
            auto_increment: extra.contains("auto_increment"),
            generated: if extra.contains("STORED GENERATED") {
                Some(true)
            } else if extra.contains("VIRTUAL GENERATED") {
                Some(false)
            } else {
                None
            },
        });
    }
    for row in sqlx::query(FOREIGN_KEYS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let (column, ref_column): (String, String) = (row.get(2), row.get(4));
        match t
            .foreign_keys
            .iter_mut()
            .find(|f| f.name.as_deref() == Some(name.as_str()))
        {
            Some(fk) => {
                fk.columns.push(column);
                fk.ref_columns.push(ref_column);
            }
            None => t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns: vec![column],
                ref_table: row.get(3),
                ref_columns: vec![ref_column],
                on_delete: row.get(5),
                on_update: row.get(6),
            }),
        }
    }
    for row in sqlx::query(INDEXES).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let (name, column): (String, String) = (row.get(1), row.get(3));
        if name == "PRIMARY" {
            t.primary_key.push(column);
            continue;
        }
        match t.indexes.iter_mut().find(|i| i.name == name) {
            Some(index) => index.columns.push(column),
            None => t.indexes.push(Index {
                name,
                columns: vec![column],
                unique: row.get::<i64, _>(2) == 0,
                partial: false,
            }),
        }
    }
    // The index MySQL creates by itself for a foreign key is named after the constraint.
    for t in tables.values_mut() {
        let fk_names: Vec<String> = t
            .foreign_keys
            .iter()
            .filter_map(|f| f.name.clone())
            .collect();
        t.indexes
            .retain(|i| i.unique || !fk_names.contains(&i.name));
    }
    for row in sqlx::query(CHECKS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let (name, clause): (String, String) = (row.get(1), row.get(2));
        // MariaDB's JSON columns come with a `json_valid` check named after the column.
        if clause.starts_with("json_valid(") && t.columns.iter().any(|c| c.name == name) {
            continue;
        }
        t.checks.push(name);
    }
    Ok(tables.into_values().collect())
}
