//! MySQL's and MariaDB's schema from `information_schema` (`COLUMN_TYPE` for each type's exact
//! spelling).

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::mysql::MySqlConnection;

use super::{LiveCheck, LiveColumn, LiveForeignKey, LiveIndex, LiveTable, new_table};

const MY_TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";

const MY_COLUMNS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
            CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR) \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION";

const MY_INDEXES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
            CAST(COLUMN_NAME AS CHAR) \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const MY_FOREIGN_KEYS: &str = "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
            CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), \
            CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR) \
     FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
       ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const MY_CHECKS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
     FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2";

/// Views, triggers, and functions and procedures.
pub(super) const MY_OBJECTS: &str = "SELECT 'view', CAST(TABLE_NAME AS CHAR), CAST(NULL AS CHAR), CAST(VIEW_DEFINITION AS CHAR) \
     FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() \
     UNION ALL SELECT 'trigger', CAST(TRIGGER_NAME AS CHAR), CAST(EVENT_OBJECT_TABLE AS CHAR), CAST(NULL AS CHAR) \
     FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
     UNION ALL SELECT 'function', CAST(ROUTINE_NAME AS CHAR), CAST(NULL AS CHAR), CAST(NULL AS CHAR) \
     FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()";

/// The comments of tables (no column) and columns.
pub(super) const MY_COMMENTS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(NULL AS CHAR), CAST(TABLE_COMMENT AS CHAR) \
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_COMMENT <> '' \
     UNION ALL SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_COMMENT AS CHAR) \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_COMMENT <> ''";

pub(super) async fn introspect(
    conn: &mut MySqlConnection,
) -> Result<BTreeMap<String, LiveTable>, sqlx::Error> {
    let mut tables: BTreeMap<String, LiveTable> = sqlx::query(MY_TABLES)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| new_table(row.get(0)))
        .collect();
    for row in sqlx::query(MY_COLUMNS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        // MariaDB reports the implicit default of a nullable column as the text `NULL`.
        let default: Option<String> = row.get(4);
        let extra: String = row.get::<Option<String>, _>(5).unwrap_or_default();
        let generated = match extra.to_ascii_uppercase() {
            e if e.contains("STORED GENERATED") => Some(true),
            e if e.contains("VIRTUAL GENERATED") => Some(false),
            _ => None,
        };
        t.columns.push(LiveColumn {
            comment: None,
            generated,
            name: row.get(1),
            ty: row.get(2),
            nullable: row.get::<String, _>(3) == "YES",
            default: default.filter(|d| d != "NULL"),
            auto_increment: extra.to_ascii_lowercase().contains("auto_increment"),
        });
    }
    for row in sqlx::query(MY_FOREIGN_KEYS).fetch_all(&mut *conn).await? {
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
            None => t.foreign_keys.push(LiveForeignKey {
                name: Some(name),
                columns: vec![column],
                ref_table: row.get(3),
                ref_columns: vec![ref_column],
                on_delete: row.get(5),
                on_update: row.get(6),
            }),
        }
    }
    for row in sqlx::query(MY_INDEXES).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let column = row
            .get::<Option<String>, _>(3)
            .unwrap_or_else(|| "<expression>".into());
        if name == "PRIMARY" {
            t.primary_key.push(column);
            continue;
        }
        match t.indexes.iter_mut().find(|i| i.name == name) {
            Some(index) => index.columns.push(column),
            None => t.indexes.push(LiveIndex {
                name,
                columns: vec![column],
                unique: row.get::<i64, _>(2) == 0,
                predicate: None,
                constraint: false,
                valid: true,
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
    for row in sqlx::query(MY_CHECKS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let (name, clause): (String, String) = (row.get(1), row.get(2));
        // MariaDB's JSON columns come with a `json_valid` check named after the column.
        if clause.starts_with("json_valid(") && t.columns.iter().any(|c| c.name == name) {
            continue;
        }
        t.checks.push(LiveCheck {
            name,
            expr: clause,
            valid: true,
        });
    }
    Ok(tables)
}
