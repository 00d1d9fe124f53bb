//! Foreign keys on PostgreSQL and MySQL/MariaDB, from sea-schema's discovery (constraint name,
//! columns, referenced table and columns, actions). SQLite's come from its pragmas.

use std::collections::BTreeMap;

use godwit_core::Backend;

use super::LiveForeignKey;
use crate::error::{Error, db_reason};
use crate::url::DatabaseUrl;

/// Foreign keys by table, from sea-schema's discovery, on PostgreSQL and MySQL/MariaDB.
pub(super) async fn discover_foreign_keys(
    url: &DatabaseUrl,
) -> Result<BTreeMap<String, Vec<LiveForeignKey>>, Error> {
    let backend = url.backend();
    let fail = |reason: String| Error::Database {
        backend,
        action: "discovering foreign keys".into(),
        reason: url.scrub(&reason),
    };
    let raw = url.expose();
    fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
        sqlx::pool::PoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(10))
    }
    let task = match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let pool: sqlx::PgPool = pool_options()
                .connect(&raw)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                .fetch_one(&pool)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            tokio::spawn(async move {
                use sea_schema::postgres::discovery::SchemaDiscovery;
                let found = SchemaDiscovery::new(pool.clone(), &schema).discover().await;
                pool.close().await;
                found.map(|s| {
                    s.tables
                        .into_iter()
                        .map(|t| {
                            let fks = t
                                .reference_constraints
                                .into_iter()
                                .map(|r| LiveForeignKey {
                                    name: Some(r.name),
                                    columns: r.columns,
                                    ref_table: r.table,
                                    ref_columns: r.foreign_columns,
                                    on_delete: pg_action(r.on_delete),
                                    on_update: pg_action(r.on_update),
                                })
                                .collect();
                            (t.info.name, fks)
                        })
                        .collect::<BTreeMap<_, _>>()
                })
            })
        }
        #[cfg(feature = "mysql")]
        Backend::MySql => {
            let pool: sqlx::MySqlPool = pool_options()
                .connect(&raw)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            let schema: String = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
                .fetch_one(&pool)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            tokio::spawn(async move {
                use sea_schema::mysql::discovery::SchemaDiscovery;
                let found = SchemaDiscovery::new(pool.clone(), &schema).discover().await;
                pool.close().await;
                found.map(|s| {
                    s.tables
                        .into_iter()
                        .map(|t| {
                            let fks = t
                                .foreign_keys
                                .into_iter()
                                .map(|k| LiveForeignKey {
                                    name: Some(k.name),
                                    columns: k.columns,
                                    ref_table: k.referenced_table,
                                    ref_columns: k.referenced_columns,
                                    on_delete: mysql_action(k.on_delete),
                                    on_update: mysql_action(k.on_update),
                                })
                                .collect();
                            (t.info.name, fks)
                        })
                        .collect::<BTreeMap<_, _>>()
                })
            })
        }
        // SQLite's come from its pragmas; a backend not built in never connects.
        _ => return Ok(BTreeMap::new()),
    };
    match task.await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => Err(fail(db_reason(&e))),
        Err(e) => Err(fail(format!("the schema discovery failed: {e}"))),
    }
}

#[cfg(feature = "postgres")]
fn pg_action(a: Option<sea_schema::postgres::def::ForeignKeyAction>) -> String {
    use sea_schema::postgres::def::ForeignKeyAction as A;
    match a {
        Some(A::Cascade) => "CASCADE",
        Some(A::SetNull) => "SET NULL",
        Some(A::SetDefault) => "SET DEFAULT",
        Some(A::Restrict) => "RESTRICT",
        Some(A::NoAction) | None => "NO ACTION",
    }
    .to_string()
}

#[cfg(feature = "mysql")]
fn mysql_action(a: sea_schema::mysql::def::ForeignKeyAction) -> String {
    use sea_schema::mysql::def::ForeignKeyAction as A;
    match a {
        A::Cascade => "CASCADE",
        A::SetNull => "SET NULL",
        A::SetDefault => "SET DEFAULT",
        A::Restrict => "RESTRICT",
        A::NoAction => "NO ACTION",
    }
    .to_string()
}
