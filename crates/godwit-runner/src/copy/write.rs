//! A batch into the target: PostgreSQL through `COPY ... FROM STDIN`, MySQL and SQLite through
//! multi-row `INSERT`s under the backend's limits.

use godwit_core::Backend;
use sea_query as sq;
use sea_query::Value;

use crate::connect::Conn;
use crate::values::{self};

use super::plan::Plan;
use super::{build, exec, quote};

/// Bound values one statement may carry: PostgreSQL's and MySQL's limit is 65,535, SQLite's
/// 32,766 (since 3.32).
pub(super) fn max_bound_values(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 32_766,
        Backend::Postgres | Backend::MySql => 65_535,
    }
}

/// About how many bytes of values one `INSERT` carries, well under MySQL's default
/// `max_allowed_packet` (16 MiB on MariaDB, 64 MiB on MySQL 8).
pub(super) const INSERT_BYTES: usize = 4 << 20;

/// How much `COPY` data is sent to PostgreSQL at a time.
pub(super) const COPY_CHUNK: usize = 1 << 20;

/// Why writing a batch failed.
pub(super) enum Failure {
    Database(sqlx::Error),
    /// A value that cannot be written.
    Value(String),
}

pub(super) fn is_foreign_key_violation(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("foreign key") || r.contains("23503")
}

/// PostgreSQL: the rows through `COPY ... FROM STDIN`, in text format.
#[cfg(feature = "postgres")]
pub(super) async fn copy_in(
    c: &mut sqlx::postgres::PgConnection,
    plan: &Plan,
    rows: &[Vec<Value>],
) -> Result<(), Failure> {
    let columns: Vec<String> = plan
        .columns
        .iter()
        .map(|c| quote(Backend::Postgres, c))
        .collect();
    let statement = format!(
        "COPY {} ({}) FROM STDIN",
        quote(Backend::Postgres, &plan.name),
        columns.join(", ")
    );
    let mut copy = c.copy_in_raw(&statement).await.map_err(Failure::Database)?;
    let mut buf = String::with_capacity(COPY_CHUNK + COPY_CHUNK / 4);
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            if let Err(why) = values::copy_text(&mut buf, v) {
                let _ = copy.abort(why.clone()).await;
                return Err(Failure::Value(format!(
                    "column `{}`: {why}",
                    plan.columns[i]
                )));
            }
        }
        buf.push('\n');
        if buf.len() >= COPY_CHUNK {
            copy.send(buf.as_bytes()).await.map_err(Failure::Database)?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.map_err(Failure::Database)?;
    }
    copy.finish().await.map(drop).map_err(Failure::Database)
}

/// MySQL and SQLite: the rows as multi-row `INSERT`s, each under the backend's limit of bound
/// values and about [`INSERT_BYTES`].
pub(super) async fn insert_rows(
    dst: &mut Conn,
    plan: &Plan,
    rows: Vec<Vec<Value>>,
) -> Result<(), Failure> {
    let backend = dst.backend();
    let per_statement = (max_bound_values(backend) / plan.columns.len().max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut stmt = sq::Query::insert();
        stmt.into_table(godwit_core::render::table_ref(&plan.name))
            .columns(plan.columns.iter().cloned());
        let (mut n, mut bytes) = (0, 0);
        while n < per_statement && bytes < INSERT_BYTES {
            let Some(row) = rows.next() else { break };
            bytes += row.iter().map(value_size).sum::<usize>();
            stmt.values(row.into_iter().map(sq::Expr::val))
                .map_err(|e| Failure::Value(e.to_string()))?;
            n += 1;
        }
        let (sql, values) = build(backend, &stmt);
        exec(dst, sql, values).await.map_err(Failure::Database)?;
    }
    Ok(())
}

/// About how many bytes `v` takes in a statement.
pub(super) fn value_size(v: &Value) -> usize {
    match v {
        Value::String(Some(s)) => s.len() + 8,
        Value::Bytes(Some(b)) => b.len() + 8,
        Value::Json(Some(j)) => j.to_string().len() + 8,
        _ => 16,
    }
}
