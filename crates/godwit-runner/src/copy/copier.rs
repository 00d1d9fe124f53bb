//! One run of a copy: each table's batches read from the source and written to the target, the
//! target's foreign-key checks, its sequences, and the row counts compared.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use godwit_core::{Backend, ColumnType};
use sea_query as sq;
use sea_query::{ExprTrait as _, Value};

use crate::connect::Conn;
use crate::error::{Error, db_reason};
use crate::event::Event;
use crate::url::DatabaseUrl;
use crate::values::{self};

use super::plan::Plan;
use super::progress::{Progress, key_text, parse_key};
#[cfg(feature = "postgres")]
use super::write::copy_in;
use super::write::{Failure, insert_rows, is_foreign_key_violation};
use super::{
    CopiedTable, CopyOptions, PROGRESS_TABLE, build, count, exec, has_rows, quote, show_key,
};

/// A batch read from the source.
pub(super) struct Batch {
    pub(super) rows: Vec<Vec<Value>>,
    /// The last row's key, as the source stores it (to walk on from).
    pub(super) last_key: Vec<Value>,
}

/// One run of a copy: the tables' batches, the sequences, the counts.
pub(super) struct Copier<'a> {
    pub(super) from: &'a DatabaseUrl,
    pub(super) to: &'a DatabaseUrl,
    pub(super) options: &'a CopyOptions,
    /// The runner's history table, left out when the target's schema is read.
    pub(super) history_table: &'a str,
    /// The PostgreSQL schemas the migrations name, read with the target's.
    pub(super) schemas: Vec<String>,
    /// The target's schema, read when the copy starts: the types its columns have.
    pub(super) target: std::sync::OnceLock<crate::introspect::LiveSchema>,
}

impl Copier<'_> {
    pub(super) fn source_backend(&self) -> Backend {
        self.from.backend()
    }

    pub(super) fn target_backend(&self) -> Backend {
        self.to.backend()
    }

    /// A failed statement on the target, outside a table's batches.
    pub(super) fn target_failed(&self, action: &str, e: &sqlx::Error) -> Error {
        Error::Database {
            backend: self.target_backend(),
            action: action.to_string(),
            reason: self.to.scrub(&db_reason(e)),
        }
    }

    pub(super) fn source_failed(&self, action: &str, e: &sqlx::Error) -> Error {
        Error::Database {
            backend: self.source_backend(),
            action: action.to_string(),
            reason: self.from.scrub(&db_reason(e)),
        }
    }

    pub(super) async fn run(
        &self,
        src: &mut Conn,
        dst: &mut Conn,
        plans: &[Plan],
    ) -> Result<Vec<CopiedTable>, Error> {
        if self.target_backend() == Backend::MySql {
            // A key of 0 is copied as 0, not replaced by the next AUTO_INCREMENT value.
            dst.batch(
                "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')",
            )
            .await
            .map_err(|e| self.target_failed("setting the session's sql_mode", &e))?;
        }
        let schema = crate::introspect::introspect(dst, self.history_table, &self.schemas)
            .await
            .map_err(|e| self.target_failed("reading the target's column types", &e))?;
        let _ = self.target.set(schema);
        let mut progress = if self.progress_exists(dst).await? {
            self.read_progress(dst).await?
        } else {
            BTreeMap::new()
        };

        // Refuse what would duplicate rows before copying anything.
        for p in plans {
            match progress.get(&p.name) {
                Some(row) if row.source != self.from.redacted() => {
                    return Err(Error::CopyRefused {
                        table: p.name.clone(),
                        reason: format!(
                            "{PROGRESS_TABLE} in the target records a copy of it from {}, not from {}: \
                             finish that copy (run it again with --from {}), or empty the target table and \
                             delete its row from {PROGRESS_TABLE}",
                            row.source,
                            self.from.redacted(),
                            row.source
                        ),
                    });
                }
                Some(row) if !row.finished => {
                    let rows = count(dst, &p.name).await.map_err(|e| {
                        self.target_failed(&format!("counting the rows of {}", p.name), &e)
                    })?;
                    if rows != row.rows_done {
                        return Err(Error::CopyRefused {
                            table: p.name.clone(),
                            reason: format!(
                                "{PROGRESS_TABLE} says an earlier copy committed {} row(s) of it, but the \
                                 target table holds {rows}: rows were written to it since; empty it and \
                                 delete its row from {PROGRESS_TABLE}, then copy again",
                                row.rows_done
                            ),
                        });
                    }
                }
                Some(_) => {}
                None => {
                    let full = has_rows(dst, &p.name)
                        .await
                        .map_err(|e| self.target_failed(&format!("looking into {}", p.name), &e))?;
                    if full {
                        return Err(Error::CopyRefused {
                            table: p.name.clone(),
                            reason: format!(
                                "the target table already has rows, and no copy into it is in progress \
                                 ({PROGRESS_TABLE} has no row for it), so copying would duplicate them: \
                                 empty it first (or `fresh` then `up` the target), or leave it out with --tables"
                            ),
                        });
                    }
                }
            }
        }

        dst.batch(&self.progress_create_sql())
            .await
            .map_err(|e| self.target_failed(&format!("creating {PROGRESS_TABLE}"), &e))?;
        let mut copied = Vec::new();
        for p in plans {
            let before = progress.remove(&p.name);
            copied.push(self.copy_table(src, dst, p, before).await?);
        }

        if self.target_backend() == Backend::Postgres {
            for (p, c) in plans.iter().zip(copied.iter_mut()) {
                c.sequences = self.advance_sequences(dst, p).await?;
            }
        }

        let mut mismatches = Vec::new();
        for c in &mut copied {
            c.source_rows = count(src, &c.table).await.map_err(|e| {
                self.source_failed(&format!("counting the rows of {}", c.table), &e)
            })?;
            c.target_rows = count(dst, &c.table).await.map_err(|e| {
                self.target_failed(&format!("counting the rows of {}", c.table), &e)
            })?;
            if c.source_rows != c.target_rows {
                mismatches.push(format!(
                    "  {}: {} in the source, {} in the target",
                    c.table, c.source_rows, c.target_rows
                ));
            }
        }
        if !mismatches.is_empty() {
            return Err(Error::CopyCounts {
                count: mismatches.len(),
                tables: mismatches.join("\n"),
            });
        }
        self.forget_progress(dst, plans).await?;
        Ok(copied)
    }

    /// Copy one table, batch by batch, from where `before` says an earlier run stopped.
    pub(super) async fn copy_table(
        &self,
        src: &mut Conn,
        dst: &mut Conn,
        plan: &Plan,
        before: Option<Progress>,
    ) -> Result<CopiedTable, Error> {
        let started = Instant::now();
        let task = format!("copy \"{}\"", plan.name);
        let done_before = before.as_ref().map_or(0, |p| p.rows_done);
        let mut table = CopiedTable {
            table: plan.name.clone(),
            source_rows: 0,
            target_rows: 0,
            copied: 0,
            copied_before: done_before,
            elapsed: Duration::ZERO,
            checks_off: false,
            sequences: Vec::new(),
        };
        if before.as_ref().is_some_and(|p| p.finished) {
            return Ok(table);
        }
        let total = count(src, &plan.name)
            .await
            .map_err(|e| self.source_failed(&format!("counting the rows of {}", plan.name), &e))?;
        let mut last_key = match &before {
            None => {
                self.start_progress(dst, plan).await?;
                None
            }
            Some(p) => match &p.last_key {
                None => None,
                Some(text) => Some(parse_key(text).ok_or_else(|| Error::CopyRefused {
                    table: plan.name.clone(),
                    reason: format!(
                        "its row in {PROGRESS_TABLE} holds a last key godwit cannot read ({text}): empty the \
                         target table and delete that row, then copy again"
                    ),
                })?),
            },
        };
        let checks = self.checks_off(dst, plan).await?;
        table.checks_off = checks.is_ok();
        let result = async {
            let mut done = done_before;
            let size = std::cmp::max(self.options.batch_size, 1);
            let mut next = Some(
                self.read_batch(src, plan, last_key.as_deref(), size)
                    .await?,
            );
            while let Some(batch) = next.take() {
                if batch.rows.is_empty() {
                    self.finish_progress(dst, plan, done).await?;
                    break;
                }
                // A short batch is the last: it marks the table finished.
                let last = batch.rows.len() < size as usize;
                let after = done + batch.rows.len() as u64;
                let key = batch.last_key.clone();
                if last {
                    self.write_batch(dst, plan, batch, after, true, &checks, last_key.as_deref())
                        .await?;
                } else {
                    let (written, read) = tokio::join!(
                        self.write_batch(
                            dst,
                            plan,
                            batch,
                            after,
                            false,
                            &checks,
                            last_key.as_deref()
                        ),
                        self.read_batch(src, plan, Some(&key), size),
                    );
                    written?;
                    next = Some(read?);
                }
                done = after;
                last_key = Some(key);
                table.copied = done - done_before;
                self.options.observer.event(&Event::Batch {
                    task: &task,
                    done,
                    done_before,
                    total: Some(std::cmp::max(total, done)),
                    elapsed: started.elapsed(),
                });
            }
            Ok::<_, Error>(())
        }
        .await;
        self.checks_on(dst, plan, &checks).await;
        result?;
        table.elapsed = started.elapsed();
        self.options.observer.event(&Event::BatchDone {
            task: &task,
            done: done_before + table.copied,
            elapsed: table.elapsed,
        });
        Ok(table)
    }

    /// Turn the target's foreign-key checks off for `plan` when it needs that: `Ok(())` when
    /// they are off, `Err(why not)` when they stay on.
    pub(super) async fn checks_off(
        &self,
        dst: &mut Conn,
        plan: &Plan,
    ) -> Result<Result<(), String>, Error> {
        if !plan.checks_off {
            return Ok(Err(String::new()));
        }
        let sql = match self.target_backend() {
            Backend::Postgres => "SET session_replication_role = replica",
            Backend::MySql => "SET FOREIGN_KEY_CHECKS = 0",
            Backend::Sqlite => "PRAGMA foreign_keys = OFF",
        };
        match dst.batch(sql).await {
            Ok(()) => Ok(Ok(())),
            Err(e) if self.target_backend() == Backend::Postgres => Ok(Err(db_reason(&e))),
            Err(e) => Err(self.target_failed(
                &format!("turning foreign-key checks off to copy {}", plan.name),
                &e,
            )),
        }
    }

    pub(super) async fn checks_on(&self, dst: &mut Conn, plan: &Plan, checks: &Result<(), String>) {
        if !plan.checks_off || checks.is_err() {
            return;
        }
        let sql = match self.target_backend() {
            Backend::Postgres => "RESET session_replication_role",
            Backend::MySql => "SET FOREIGN_KEY_CHECKS = 1",
            Backend::Sqlite => "PRAGMA foreign_keys = ON",
        };
        let _ = dst.batch(sql).await;
    }

    /// The rows after `after` (from the start when `None`), at most `size`, in key order.
    pub(super) async fn read_batch(
        &self,
        src: &mut Conn,
        plan: &Plan,
        after: Option<&[Value]>,
        size: u32,
    ) -> Result<Batch, Error> {
        let backend = self.source_backend();
        // SQLite keeps whatever storage class was written: the key is also read as stored, so
        // that the next batch compares like with like (a uuid stored as text, not as a blob).
        let raw_keys = backend == Backend::Sqlite;
        let mut stmt = sq::Query::select();
        stmt.columns(plan.columns.iter().cloned())
            .from(godwit_core::render::table_ref(&plan.name));
        if raw_keys {
            for (i, k) in plan.key.iter().enumerate() {
                stmt.expr_as(
                    sq::Expr::col(plan.columns[*k].clone()),
                    format!("godwit_key_{i}"),
                );
            }
        }
        if let Some(after) = after {
            let mut any = sq::Cond::any();
            for j in 0..plan.key.len() {
                let mut all = sq::Cond::all();
                for (i, k) in plan.key.iter().enumerate().take(j) {
                    all = all.add(sq::Expr::col(plan.columns[*k].clone()).eq(after[i].clone()));
                }
                all =
                    all.add(sq::Expr::col(plan.columns[plan.key[j]].clone()).gt(after[j].clone()));
                any = any.add(all);
            }
            stmt.cond_where(any);
        }
        for k in &plan.key {
            stmt.order_by(plan.columns[*k].clone(), sq::Order::Asc);
        }
        stmt.limit(u64::from(size));
        let (sql, values) = build(backend, &stmt);
        let mut types: Vec<Option<ColumnType>> = plan.types.iter().cloned().map(Some).collect();
        if raw_keys {
            types.extend(plan.key.iter().map(|_| None));
        }
        let (_, mut rows) = values::fetch_rows(src, sql, values, Some(&types))
            .await
            .map_err(|e| Error::CopyStopped {
                table: plan.name.clone(),
                at: match after {
                    Some(k) => format!("reading the source after key {}", show_key(k)),
                    None => "reading the source".to_string(),
                },
                reason: self.from.scrub(&db_reason(&e)),
                outcome: self.outcome(plan),
            })?;
        let last_key = match rows.last_mut() {
            None => Vec::new(),
            Some(row) if raw_keys => row.split_off(plan.columns.len()),
            Some(row) => plan.key.iter().map(|k| row[*k].clone()).collect(),
        };
        if raw_keys {
            for row in &mut rows {
                row.truncate(plan.columns.len());
            }
        }
        Ok(Batch { rows, last_key })
    }

    /// What a stop in `plan` keeps, and what to do.
    pub(super) fn outcome(&self, plan: &Plan) -> String {
        format!(
            "the batches of `{}` before it are committed in the target and recorded in {PROGRESS_TABLE}; \
             fix the cause and run the same copy again: it continues after them",
            plan.name
        )
    }

    /// Write one batch and its progress in one transaction on the target.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write_batch(
        &self,
        dst: &mut Conn,
        plan: &Plan,
        batch: Batch,
        done: u64,
        finished: bool,
        checks: &Result<(), String>,
        after: Option<&[Value]>,
    ) -> Result<(), Error> {
        let backend = self.target_backend();
        let at = match after {
            Some(k) => format!("at the rows after key {}", show_key(k)),
            None => "at its first rows".to_string(),
        };
        let rows = self.check_values(plan, batch.rows, &at)?;
        let key = key_text(&batch.last_key).ok_or_else(|| Error::CopyStopped {
            table: plan.name.clone(),
            at: at.clone(),
            reason: format!("its key {} cannot be recorded", show_key(&batch.last_key)),
            outcome: self.outcome(plan),
        })?;
        let stopped = |reason: String| Error::CopyStopped {
            table: plan.name.clone(),
            at: at.clone(),
            reason,
            outcome: self.outcome(plan),
        };
        let begin = if backend == Backend::Sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        dst.batch(begin)
            .await
            .map_err(|e| stopped(self.to.scrub(&db_reason(&e))))?;
        let written = async {
            match dst {
                #[cfg(feature = "postgres")]
                Conn::Postgres(c) => copy_in(c, plan, &rows).await?,
                _ => insert_rows(dst, plan, rows).await?,
            }
            let (sql, values) = self.progress_update(plan, Some(key), done, finished);
            exec(dst, sql, values).await.map_err(Failure::Database)?;
            dst.batch("COMMIT").await.map_err(Failure::Database)
        }
        .await;
        match written {
            Ok(()) => Ok(()),
            Err(failure) => {
                let _ = dst.batch("ROLLBACK").await;
                let mut reason = match failure {
                    Failure::Database(e) => self.to.scrub(&db_reason(&e)),
                    Failure::Value(why) => why,
                };
                if let Err(why) = checks
                    && plan.checks_off
                    && is_foreign_key_violation(&reason)
                {
                    reason.push_str(&format!(
                        " (`{}` references itself or is in a cycle of foreign keys, so its rows cannot be \
                         copied in an order that satisfies them, and turning PostgreSQL's checks off for the \
                         copy was refused: {why}; copy as a superuser, who may set session_replication_role)",
                        plan.name
                    ));
                }
                Err(stopped(reason))
            }
        }
    }

    /// `rows` made ready for the target: decimals as their text where the encoder needs it, and
    /// an error for a value the target would store as another, unless rounding is allowed.
    pub(super) fn check_values(
        &self,
        plan: &Plan,
        mut rows: Vec<Vec<Value>>,
        at: &str,
    ) -> Result<Vec<Vec<Value>>, Error> {
        let backend = self.target_backend();
        let watched: Vec<usize> = (0..plan.types.len())
            .filter(|i| {
                matches!(
                    (backend, &plan.types[*i]),
                    (Backend::Sqlite, ColumnType::Decimal(..))
                        | (
                            Backend::MySql | Backend::Postgres,
                            ColumnType::Timestamp | ColumnType::TimestampTz | ColumnType::Time
                        )
                )
            })
            .collect();
        // The target's own column types: a database made by an older godwit may keep less.
        let live: Vec<Option<String>> = plan
            .columns
            .iter()
            .map(|c| {
                let table = self.target.get()?.tables.get(&plan.name)?;
                Some(crate::introspect::normalize_type(&table.column(c)?.ty))
            })
            .collect();
        if backend == Backend::MySql {
            for row in &rows {
                for (i, ty) in plan.types.iter().enumerate() {
                    if !matches!(
                        ty,
                        ColumnType::Date | ColumnType::Timestamp | ColumnType::TimestampTz
                    ) {
                        continue;
                    }
                    if let Some(why) = values::out_of_range(backend, live[i].as_deref(), &row[i]) {
                        let key: Vec<Value> = plan.key.iter().map(|k| row[*k].clone()).collect();
                        return Err(Error::CopyStopped {
                            table: plan.name.clone(),
                            at: at.to_string(),
                            reason: format!(
                                "the row with key {} holds in `{}` a value the target cannot store: \
                                 {why}; change the value in the source, or copy to another backend",
                                show_key(&key),
                                plan.columns[i]
                            ),
                            outcome: self.outcome(plan),
                        });
                    }
                }
            }
        }
        if !self.options.allow_rounding {
            for row in &rows {
                for i in &watched {
                    if let Some(why) = values::target_changes(
                        backend,
                        &plan.types[*i],
                        live[*i].as_deref(),
                        &row[*i],
                    ) {
                        let key: Vec<Value> = plan.key.iter().map(|k| row[*k].clone()).collect();
                        return Err(Error::CopyStopped {
                            table: plan.name.clone(),
                            at: at.to_string(),
                            reason: format!(
                                "the row with key {} holds in `{}` a value the target cannot keep: {why}; \
                                 copy with --allow-rounding to store it as the target can, or change the \
                                 column's type",
                                show_key(&key),
                                plan.columns[*i]
                            ),
                            outcome: self.outcome(plan),
                        });
                    }
                }
            }
        }
        if matches!(backend, Backend::MySql | Backend::Sqlite)
            && plan
                .types
                .iter()
                .any(|t| matches!(t, ColumnType::Decimal(..)))
        {
            for row in &mut rows {
                for v in row.iter_mut() {
                    if matches!(v, Value::BigDecimal(_)) {
                        *v = values::for_target(backend, std::mem::replace(v, Value::Int(None)));
                    }
                }
            }
        }
        Ok(rows)
    }

    /// PostgreSQL: set every sequence a column of `plan` owns (identity or serial) past the
    /// largest value copied into it.
    pub(super) async fn advance_sequences(
        &self,
        dst: &mut Conn,
        plan: &Plan,
    ) -> Result<Vec<String>, Error> {
        let mut advanced = Vec::new();
        let table = quote(Backend::Postgres, &plan.name);
        for (column, ty) in plan.columns.iter().zip(&plan.types) {
            if !matches!(
                ty,
                ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
            ) {
                continue;
            }
            let sql = format!(
                "SELECT s.seq, setval(s.seq, GREATEST(COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, 1), false) \
                 FROM (SELECT pg_get_serial_sequence($1, $2) AS seq) s WHERE s.seq IS NOT NULL",
                col = quote(Backend::Postgres, column),
            );
            let values = sq::Values(vec![
                Value::String(Some(table.clone())),
                Value::String(Some(column.clone())),
            ]);
            let (_, rows) = values::fetch_rows(dst, sql, values, None)
                .await
                .map_err(|e| {
                    self.target_failed(
                        &format!("setting the sequence of {}.{column}", plan.name),
                        &e,
                    )
                })?;
            for row in rows {
                if let Some(Value::String(Some(seq))) = row.first() {
                    advanced.push(seq.clone());
                }
            }
        }
        Ok(advanced)
    }
}
