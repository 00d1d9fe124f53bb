//! Batched steps (`backfill`, `copy_rows`): run batch by batch, each in its own short
//! transaction, with their progress kept in the database so that an interrupted step resumes
//! where it stopped.
//!
//! ```text
//! godwit_migrations_batches        (the history table's name + `_batches`)
//!   version     bigint       the migration
//!   direction   varchar(4)   up | down
//!   statement   integer      the step's statement (1-based) in the migration
//!   last_key    text         JSON array of the last primary key done; NULL before the first
//!   done_rows   bigint       rows changed so far
//!   finished    integer      1 once the last batch committed
//! ```
//!
//! **Invariant:** a batch's statement and the progress row that records it commit in the same
//! transaction, so a row is never updated twice by a step that is interrupted and resumed:
//! after a crash, the progress row says exactly which keys are done.

use std::time::{Duration, Instant};

use godwit_core::data::{BatchAction, Batched};
use godwit_core::{Backend, ColumnType, Statement};
use sea_query as sq;
use sea_query::{ExprTrait as _, QueryStatementWriter, Value};
use sqlx::Row as _;

use crate::connect::Conn;
use crate::error::{Timeout, db_reason, timeout_kind};
use crate::event::{Event, Observer};

/// The progress table of one database.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    pub table: String,
    pub backend: Backend,
}

/// Where a step stands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Position {
    pub last_key: Option<Vec<Value>>,
    pub done: u64,
    pub finished: bool,
}

/// Which step of which migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepId<'a> {
    pub version: u64,
    pub direction: &'a str,
    pub statement: usize,
}

/// Why a batched step stopped.
#[derive(Debug)]
pub(crate) struct BatchError {
    pub reason: String,
    pub timeout: Option<Timeout>,
    /// Rows done (in all runs) when it stopped.
    pub done: u64,
}

impl BatchError {
    fn db(e: &sqlx::Error, done: u64) -> Self {
        BatchError {
            reason: db_reason(e),
            timeout: timeout_kind(e),
            done,
        }
    }
}

impl Progress {
    /// The progress table that goes with history table `history_table`.
    pub fn new(history_table: &str, backend: Backend) -> Progress {
        Progress {
            table: format!("{history_table}{}", crate::history::PROGRESS_SUFFIX),
            backend,
        }
    }

    fn quoted(&self) -> String {
        crate::history::quote_table(self.backend, &self.table)
    }

    fn build(&self, stmt: &impl QueryStatementWriter) -> Statement {
        godwit_core::render::query(self.backend, stmt)
    }

    fn key(&self, step: StepId<'_>) -> sq::Expr {
        sq::Expr::col("version")
            .eq(step.version as i64)
            .and(sq::Expr::col("direction").eq(step.direction))
            .and(sq::Expr::col("statement").eq(step.statement as i64))
    }

    /// `CREATE TABLE IF NOT EXISTS ...`.
    pub fn create_sql(&self) -> String {
        let version = match self.backend {
            Backend::Sqlite => "integer",
            _ => "bigint",
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (version {version} NOT NULL, direction varchar(4) NOT NULL, \
             statement integer NOT NULL, last_key text NULL, done_rows bigint NOT NULL, \
             finished integer NOT NULL, PRIMARY KEY (version, direction, statement))",
            self.quoted()
        )
    }

    /// Forget every step of `version` in `direction`: the migration starts afresh.
    pub fn reset(&self, version: u64, direction: &str) -> Statement {
        let mut stmt = sq::Query::delete();
        stmt.from_table(crate::history::table_ref(&self.table))
            .and_where(
                sq::Expr::col("version")
                    .eq(version as i64)
                    .and(sq::Expr::col("direction").eq(direction)),
            );
        self.build(&stmt)
    }

    fn start(&self, step: StepId<'_>) -> Statement {
        let mut stmt = sq::Query::insert();
        stmt.into_table(crate::history::table_ref(&self.table))
            .columns([
                "version",
                "direction",
                "statement",
                "last_key",
                "done_rows",
                "finished",
            ])
            .values_panic([
                sq::Expr::val(step.version as i64),
                sq::Expr::val(step.direction),
                sq::Expr::val(step.statement as i64),
                sq::Expr::val(Value::String(None)),
                sq::Expr::val(0i64),
                sq::Expr::val(0i32),
            ]);
        self.build(&stmt)
    }

    fn advance(&self, step: StepId<'_>, position: &Position) -> Statement {
        let mut stmt = sq::Query::update();
        stmt.table(crate::history::table_ref(&self.table))
            .value(
                "last_key",
                Value::String(position.last_key.as_deref().map(key_text)),
            )
            .value("done_rows", position.done as i64)
            .value("finished", i32::from(position.finished))
            .and_where(self.key(step));
        self.build(&stmt)
    }

    /// Where `step` stands, or `None` when it never started.
    async fn read(
        &self,
        conn: &mut Conn,
        step: StepId<'_>,
        key_types: &[ColumnType],
    ) -> Result<Option<Position>, String> {
        let mut select = sq::Query::select();
        select
            .columns(["last_key", "done_rows", "finished"])
            .from(crate::history::table_ref(&self.table))
            .and_where(self.key(step));
        let st = self.build(&select);
        let sql = sqlx::AssertSqlSafe(st.sql.clone());
        let values = sea_query_sqlx::SqlxValues(st.values.clone());
        let row: Option<(Option<String>, i64, i64)> = crate::connect::on_conn!(conn, c => {
            sqlx::query_with(sql, values)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| db_reason(&e))?
                .map(|r| {
                    let finished: i64 = r
                        .try_get::<i32, _>(2)
                        .map(i64::from)
                        .or_else(|_| r.try_get::<i64, _>(2))
                        .unwrap_or(0);
                    (r.try_get(0).unwrap_or(None), r.try_get(1).unwrap_or(0), finished)
                })
        });
        let Some((last_key, done, finished)) = row else {
            return Ok(None);
        };
        let last_key = match last_key {
            None => None,
            Some(text) => Some(parse_key(&text, key_types).ok_or_else(|| {
                format!(
                    "the progress table {} holds a last key `{text}` that does not fit the key's types: \
                     delete its row for version {} to start the step again",
                    self.table, step.version
                )
            })?),
        };
        Ok(Some(Position {
            last_key,
            done: u64::try_from(done).unwrap_or(0),
            finished: finished != 0,
        }))
    }
}

/// A key as JSON text: integers as numbers, everything else as strings (bytes in hex).
fn key_text(key: &[Value]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|v| match v {
            Value::TinyInt(Some(n)) => n.to_string(),
            Value::SmallInt(Some(n)) => n.to_string(),
            Value::Int(Some(n)) => n.to_string(),
            Value::BigInt(Some(n)) => n.to_string(),
            Value::TinyUnsigned(Some(n)) => n.to_string(),
            Value::SmallUnsigned(Some(n)) => n.to_string(),
            Value::Unsigned(Some(n)) => n.to_string(),
            Value::BigUnsigned(Some(n)) => n.to_string(),
            Value::String(Some(s)) => json_string(s),
            Value::Uuid(Some(u)) => json_string(&u.to_string()),
            Value::Bytes(Some(b)) => {
                json_string(&b.iter().map(|x| format!("{x:02x}")).collect::<String>())
            }
            _ => "null".to_string(),
        })
        .collect();
    format!("[{}]", parts.join(","))
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A key read back from [`key_text`], typed by the key's columns.
fn parse_key(text: &str, types: &[ColumnType]) -> Option<Vec<Value>> {
    let parts: Vec<serde_json::Value> = serde_json::from_str(text).ok()?;
    if parts.len() != types.len() {
        return None;
    }
    parts
        .iter()
        .zip(types)
        .map(|(p, ty)| match (ty, p) {
            (
                ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt,
                serde_json::Value::Number(n),
            ) => n.as_i64().map(|n| Value::BigInt(Some(n))),
            (ColumnType::Uuid, serde_json::Value::String(s)) => {
                s.parse().ok().map(|u| Value::Uuid(Some(u)))
            }
            (ColumnType::Binary, serde_json::Value::String(s)) => {
                hex(s).map(|b| Value::Bytes(Some(b)))
            }
            (_, serde_json::Value::String(s)) => Some(Value::String(Some(s.clone()))),
            _ => None,
        })
        .collect()
}

fn hex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// The key of the row `st` returns, if it returns one, decoded by the key's column types as
/// `copy` decodes values (so it binds back as the same value).
async fn fetch_key(
    conn: &mut Conn,
    st: &Statement,
    types: &[ColumnType],
) -> Result<Option<Vec<Value>>, sqlx::Error> {
    conn.start_statement_clock();
    let result = crate::values::fetch_values(conn, st, Some(types)).await;
    conn.stop_statement_clock();
    Ok(result?.1.into_iter().next())
}

/// How a batched step runs: the settings of the run around it.
pub(crate) struct Run<'a> {
    pub progress: &'a Progress,
    pub observer: &'a dyn Observer,
    /// Retries of a batch that timed out waiting for a lock, and the first pause.
    pub lock_retries: u32,
    pub retry_backoff: Duration,
    /// Asks whether the runner still holds the migration lock, before each batch.
    pub lock: Option<std::sync::Arc<crate::lock::Probe>>,
}

impl Run<'_> {
    /// Run `step` from where its progress row says it stopped, batch by batch, each batch and
    /// its progress in one transaction. Returns the rows it changed in all runs.
    pub async fn run(
        &self,
        conn: &mut Conn,
        step_id: StepId<'_>,
        step: &Batched,
    ) -> Result<u64, BatchError> {
        let position = self
            .progress
            .read(conn, step_id, &step.key_types)
            .await
            .map_err(|reason| BatchError {
                reason,
                timeout: None,
                done: 0,
            })?;
        let mut position = match position {
            Some(p) => p,
            None => {
                conn.execute(&self.progress.start(step_id))
                    .await
                    .map_err(|e| BatchError::db(&e, 0))?;
                Position {
                    last_key: None,
                    done: 0,
                    finished: false,
                }
            }
        };
        if position.finished {
            return Ok(position.done);
        }
        let done_before = position.done;
        // The rows left, for the bar's length and ETA: one count, before the first batch.
        let left = conn
            .scalar_i64_with(&step.count(position.last_key.as_deref()))
            .await
            .map_err(|e| BatchError::db(&e, position.done))?;
        let started = Instant::now();
        let total = position.done + u64::try_from(left).unwrap_or(0);
        let begin = if conn.backend() == Backend::Sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        loop {
            if let Some(probe) = &self.lock {
                probe.check().await.map_err(|e| BatchError {
                    reason: e.to_string(),
                    timeout: None,
                    done: position.done,
                })?;
            }
            let mut attempt = 0;
            let (upto, changed) = loop {
                match self.batch(conn, step_id, step, &position, begin).await {
                    Ok(done) => break done,
                    Err(e)
                        if timeout_kind(&e) == Some(Timeout::Lock)
                            && attempt < self.lock_retries =>
                    {
                        attempt += 1;
                        let pause = self.retry_backoff * 2u32.saturating_pow(attempt - 1);
                        tokio::time::sleep(pause).await;
                    }
                    Err(e) => return Err(BatchError::db(&e, position.done)),
                }
            };
            position.done += changed;
            position.finished = upto.is_none();
            position.last_key = upto.or(position.last_key.take());
            self.observer.event(&Event::Batch {
                task: &step.label,
                done: position.done,
                done_before,
                total: Some(total),
                elapsed: started.elapsed(),
            });
            if position.finished {
                break;
            }
            if !step.batching.pause.is_zero() {
                tokio::time::sleep(step.batching.pause).await;
            }
        }
        self.observer.event(&Event::BatchDone {
            task: &step.label,
            done: position.done,
            elapsed: started.elapsed(),
        });
        Ok(position.done)
    }

    /// One batch, in its own transaction: the next bound, the batch's statement, the progress
    /// row. Returns the batch's last key (`None` for the last batch) and the rows it changed;
    /// on an error the transaction is rolled back and `position` still holds.
    async fn batch(
        &self,
        conn: &mut Conn,
        step_id: StepId<'_>,
        step: &Batched,
        position: &Position,
        begin: &str,
    ) -> Result<(Option<Vec<Value>>, u64), sqlx::Error> {
        conn.batch(begin).await?;
        let result = async {
            let after = position.last_key.as_deref();
            let upto = fetch_key(conn, &step.next_bound(after), &step.key_types).await?;
            let changed = conn
                .execute_rows(&step.batch(after, upto.as_deref()))
                .await?;
            let next = Position {
                last_key: upto.clone().or_else(|| position.last_key.clone()),
                done: position.done + changed,
                finished: upto.is_none(),
            };
            if next.finished
                && let Some(finish) = &step.finish
            {
                conn.execute(finish).await?;
            }
            conn.execute(&self.progress.advance(step_id, &next)).await?;
            conn.batch("COMMIT").await?;
            Ok((upto, changed))
        }
        .await;
        if result.is_err() {
            let _ = conn.batch("ROLLBACK").await;
        }
        result
    }
}

/// What the step changes, for messages: `rows of "users" updated`.
pub(crate) fn what_it_does(step: &Batched) -> String {
    match &step.action {
        BatchAction::Update { .. } => format!("rows of {} updated", step.table),
        BatchAction::Insert { into, .. } => format!("rows copied into {into}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_text() {
        let cases: Vec<(Vec<Value>, Vec<ColumnType>)> = vec![
            (vec![Value::BigInt(Some(-42))], vec![ColumnType::BigInt]),
            (
                vec![
                    Value::BigInt(Some(7)),
                    Value::String(Some("a\"b\\c".into())),
                ],
                vec![ColumnType::Integer, ColumnType::String(20)],
            ),
            (
                vec![Value::Uuid(Some(
                    "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap(),
                ))],
                vec![ColumnType::Uuid],
            ),
            (
                vec![Value::Bytes(Some(vec![0, 255, 16]))],
                vec![ColumnType::Binary],
            ),
        ];
        for (key, types) in cases {
            let text = key_text(&key);
            assert_eq!(parse_key(&text, &types), Some(key), "{text}");
        }
        assert_eq!(parse_key("[1,2]", &[ColumnType::BigInt]), None);
        assert_eq!(parse_key("not json", &[ColumnType::BigInt]), None);
    }
}
