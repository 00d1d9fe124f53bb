//! `fresh`: what it drops before applying every migration again.

use godwit_core::Backend;

use crate::connect::Conn;
use crate::error::{Error, db_reason};

/// Drop every table, view and sequence of the database (PostgreSQL: of its current schema).
pub(crate) async fn drop_everything(conn: &mut Conn) -> Result<(), Error> {
    let backend = conn.backend();
    let fail = |what: &str, e: sqlx::Error| Error::Database {
        backend,
        action: format!("fresh: {what}"),
        reason: db_reason(&e),
    };
    match backend {
        Backend::Postgres => {
            let objects = conn
                .strings(
                    "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' \
                     WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END || ' IF EXISTS ' || quote_ident(c.relname) \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
                     ORDER BY c.relkind DESC, c.relname",
                )
                .await
                .map_err(|e| fail("listing tables", e))?;
            for object in objects {
                conn.batch(&format!("DROP {object} CASCADE"))
                    .await
                    .map_err(|e| fail(&format!("DROP {object}"), e))?;
            }
            let types = conn
                .strings(
                    "SELECT quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                     WHERE n.nspname = current_schema() AND t.typtype = 'e'",
                )
                .await
                .map_err(|e| fail("listing enum types", e))?;
            for ty in types {
                conn.batch(&format!("DROP TYPE IF EXISTS {ty} CASCADE"))
                    .await
                    .map_err(|e| fail(&format!("DROP TYPE {ty}"), e))?;
            }
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
