//! What the live database tells the safety rules: each table's rows and bytes, from the
//! catalog (`pg_class`, `information_schema.TABLES`, SQLite's `dbstat`), and PostgreSQL's
//! version. Read before `up` checks the pending migrations, and by `plan` and `lint --live`.
//!
//! The catalogs' row counts are estimates (PostgreSQL's `reltuples` after the last `ANALYZE`,
//! InnoDB's sampled `TABLE_ROWS`), so a table under [`EXACT_BELOW_BYTES`] is counted exactly:
//! that is where the rules' threshold between a note and a refusal lies. A larger table that
//! PostgreSQL never analyzed has no size: its findings stay refusals.

use std::collections::BTreeMap;

use godwit_core::{Backend, LiveContext, TableSize};
use sqlx::{AssertSqlSafe, Row};

use crate::connect::Conn;

/// Tables smaller than this are counted with `count(*)`; the larger keep the catalog's estimate.
pub const EXACT_BELOW_BYTES: u64 = 64 * 1024 * 1024;

use godwit_core::render::quote;

/// The live context, or the error that kept it from being read. On PostgreSQL the tables of
/// the connection's schema and of `schemas` (those the migrations name) are read.
pub(crate) async fn read(
    conn: &mut Conn,
    small_table_rows: u64,
    schemas: &[String],
) -> Result<LiveContext, sqlx::Error> {
    #[cfg(not(feature = "postgres"))]
    let _ = schemas;
    // (name, estimated rows or -1 when unknown, bytes)
    let mut not_volatile = std::collections::BTreeSet::new();
    let (backend, tables, postgres_version): (Backend, Vec<(String, i64, i64)>, Option<u32>) =
        match conn {
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => {
                let rows = sqlx::query(
                    "SELECT CASE WHEN n.nspname = current_schema() THEN c.relname::text \
                     ELSE n.nspname || '.' || c.relname END, c.reltuples::int8, \
                     pg_total_relation_size(c.oid)::int8 FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p') \
                     AND (n.nspname = current_schema() OR n.nspname = ANY($1))",
                )
                .bind(schemas)
                .fetch_all(&mut *c)
                .await?;
                let version: String = sqlx::query_scalar("SHOW server_version_num")
                    .fetch_one(&mut *c)
                    .await?;
                // A name with one volatile overload stays volatile.
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT lower(proname::text) FROM pg_proc GROUP BY lower(proname::text) \
                     HAVING bool_and(provolatile <> 'v')",
                )
                .fetch_all(&mut *c)
                .await?;
                not_volatile.extend(names);
                (
                    Backend::Postgres,
                    rows.iter()
                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                        .collect::<Result<_, sqlx::Error>>()?,
                    version.trim().parse().ok(),
                )
            }
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => {
                let rows = sqlx::query(
                    "SELECT CAST(TABLE_NAME AS CHAR), CAST(COALESCE(TABLE_ROWS, 0) AS SIGNED), \
                     CAST(COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS SIGNED) \
                     FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
                )
                .fetch_all(&mut *c)
                .await?;
                (
                    Backend::MySql,
                    rows.iter()
                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                        .collect::<Result<_, sqlx::Error>>()?,
                    None,
                )
            }
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c, _) => {
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                )
                .fetch_all(&mut *c)
                .await?;
                let mut tables = Vec::new();
                for name in names {
                    // `dbstat` is there when SQLite was built with it; without it, the bytes
                    // are unknown (0) and the table is counted.
                    let bytes: i64 = sqlx::query_scalar(
                        "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ?",
                    )
                    .bind(&name)
                    .fetch_one(&mut *c)
                    .await
                    .unwrap_or(0);
                    tables.push((name, -1, bytes));
                }
                (Backend::Sqlite, tables, None)
            }
        };
    let mut sizes = BTreeMap::new();
    for (name, estimate, bytes) in tables {
        let bytes = u64::try_from(bytes).unwrap_or(0);
        let rows = if bytes < EXACT_BELOW_BYTES || backend == Backend::Sqlite {
            let sql = AssertSqlSafe(format!("SELECT COUNT(*) FROM {}", quote(backend, &name)));
            let count: i64 = match conn {
                #[cfg(feature = "postgres")]
                Conn::Postgres(c) => sqlx::query_scalar(sql).fetch_one(&mut *c).await?,
                #[cfg(feature = "mysql")]
                Conn::MySql(c) => sqlx::query_scalar(sql).fetch_one(&mut *c).await?,
                #[cfg(feature = "sqlite")]
                Conn::Sqlite(c, _) => sqlx::query_scalar(sql).fetch_one(&mut *c).await?,
            };
            count
        } else if estimate >= 0 {
            estimate
        } else {
            continue;
        };
        sizes.insert(
            name,
            TableSize {
                rows: u64::try_from(rows).unwrap_or(0),
                bytes,
            },
        );
    }
    Ok(LiveContext {
        sizes,
        small_table_rows,
        postgres_version,
        not_volatile,
    })
}
