//! `fresh`: what it drops before applying every migration again.

use godwit_core::Backend;

use crate::connect::Conn;
use crate::error::{Error, db_reason};
#[cfg(feature = "postgres")]
use sqlx::AssertSqlSafe;

/// Drop every table, view and sequence of the database, and the history table wherever it
/// lives. PostgreSQL: of its current schema; the schemas the migrations make are dropped whole;
/// in a schema made outside them (by a DBA), only the tables, views and types the migrations
/// name there.
pub(crate) async fn drop_everything(
    conn: &mut Conn,
    names: &godwit_core::SchemaNames,
    history_table: &str,
) -> Result<(), Error> {
    let backend = conn.backend();
    let fail = |what: &str, e: sqlx::Error| Error::Database {
        backend,
        action: format!("fresh: {what}"),
        reason: db_reason(&e),
    };
    match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let crate::connect::Conn::Postgres(c) = conn else {
                unreachable!("a PostgreSQL connection")
            };
            let in_schemas = "(n.nspname = current_schema() OR n.nspname = ANY($1) \
                              OR n.nspname || '.' || c.relname = ANY($2))";
            let qualified = "CASE WHEN n.nspname = current_schema() THEN '' ELSE quote_ident(n.nspname) || '.' END";
            let objects: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' \
                 WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END || ' IF EXISTS ' || {qualified} || quote_ident(c.relname) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {in_schemas} AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
                 ORDER BY c.relkind DESC, c.relname"
            )))
            .bind(&names.created)
            .bind(&names.qualified)
            .fetch_all(&mut *c)
            .await
            .map_err(|e| fail("listing tables", e))?;
            let history = godwit_core::render::quote(backend, history_table);
            let progress = godwit_core::render::quote(
                backend,
                &crate::batch::Progress::new(history_table, backend).table,
            );
            let objects = objects.into_iter().chain([
                format!("TABLE IF EXISTS {history}"),
                format!("TABLE IF EXISTS {progress}"),
            ]);
            for object in objects {
                conn.batch(&format!("DROP {object} CASCADE"))
                    .await
                    .map_err(|e| fail(&format!("DROP {object}"), e))?;
            }
            let crate::connect::Conn::Postgres(c) = conn else {
                unreachable!("a PostgreSQL connection")
            };
            let types: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT {qualified} || quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE {} AND t.typtype = 'e'",
                in_schemas.replace("c.relname", "t.typname")
            )))
            .bind(&names.created)
            .bind(&names.qualified)
            .fetch_all(&mut *c)
            .await
            .map_err(|e| fail("listing enum types", e))?;
            for ty in types {
                conn.batch(&format!("DROP TYPE IF EXISTS {ty} CASCADE"))
                    .await
                    .map_err(|e| fail(&format!("DROP TYPE {ty}"), e))?;
            }
            for schema in &names.created {
                let schema = godwit_core::render::quote(backend, schema);
                conn.batch(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .map_err(|e| fail(&format!("DROP SCHEMA {schema}"), e))?;
            }
        }
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => {
            let _ = (names, history_table);
        }
        Backend::MySql => {
            let objects = conn
                .strings(
                    "SELECT CONCAT(IF(table_type = 'VIEW', 'VIEW', 'TABLE'), ' IF EXISTS `', \
                     REPLACE(table_name, '`', '``'), '`') FROM information_schema.tables \
                     WHERE table_schema = DATABASE() ORDER BY table_type DESC",
                )
                .await
                .map_err(|e| fail("listing tables", e))?;
            conn.batch("SET FOREIGN_KEY_CHECKS = 0")
                .await
                .map_err(|e| fail("SET FOREIGN_KEY_CHECKS = 0", e))?;
            let mut result = Ok(());
            for object in objects {
                if let Err(e) = conn.batch(&format!("DROP {object}")).await {
                    result = Err(fail(&format!("DROP {object}"), e));
                    break;
                }
            }
            let on = conn.batch("SET FOREIGN_KEY_CHECKS = 1").await;
            result?;
            on.map_err(|e| fail("SET FOREIGN_KEY_CHECKS = 1", e))?;
        }
        Backend::Sqlite => {
            let objects = conn
                .strings(
                    "SELECT upper(type) || ' IF EXISTS \"' || replace(name, '\"', '\"\"') || '\"' \
                     FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' \
                     ORDER BY type DESC",
                )
                .await
                .map_err(|e| fail("listing tables", e))?;
            conn.batch("PRAGMA foreign_keys = OFF")
                .await
                .map_err(|e| fail("PRAGMA foreign_keys = OFF", e))?;
            let mut result = Ok(());
            for object in objects {
                if let Err(e) = conn.batch(&format!("DROP {object}")).await {
                    result = Err(fail(&format!("DROP {object}"), e));
                    break;
                }
            }
            let on = conn.batch("PRAGMA foreign_keys = ON").await;
            result?;
            on.map_err(|e| fail("PRAGMA foreign_keys = ON", e))?;
        }
    }
    Ok(())
}
