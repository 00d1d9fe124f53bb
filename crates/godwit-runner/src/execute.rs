//! Running a [`Script`]: its units one after the other, each in its transaction (or statement
//! by statement), a migration's plain statements in one round trip, Rust code and batched steps
//! on the migration's connection, history writes as the script has them (on MySQL, each in the
//! same round trip as the statement it records, ahead of it), and retries of a unit that timed
//! out waiting for a lock. What a failure leaves is `failure`'s.
//!
//! **Invariant:** only this file and `failure` send a script's steps to the database, and they
//! send nothing the script does not have.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use godwit_core::{Backend, DataStep, Statement};
use sqlx::Row;
use time::OffsetDateTime;

use crate::connect::Conn;
use crate::error::{Error, Timeout, db_reason, timeout_kind};
use crate::event::Event;
use crate::failure::StepFailure;
use crate::history::History;
use crate::options::DEFAULT_LOCK_RETRIES;
use crate::report::Ran;
use crate::runner::Runner;
use crate::script::{
    Dir, MIGRATIONS_PER_BATCH, Script, Step, Unit, batchable, step_migration, unit_first,
};

impl Runner {
    /// Render and run `versions` in `dir`.
    pub(crate) async fn apply(
        &self,
        conn: &mut Conn,
        history: &History,
        dir: Dir,
        versions: &[u64],
        single: bool,
    ) -> Result<Vec<Ran>, Error> {
        self.apply_script(conn, history, dir, versions, single, &BTreeMap::new())
            .await
    }

    /// Apply `versions`, resuming those in `resumed` at their statement.
    pub(crate) async fn apply_resumed(
        &self,
        conn: &mut Conn,
        history: &History,
        versions: &[u64],
        single: bool,
        resumed: &BTreeMap<u64, usize>,
    ) -> Result<Vec<Ran>, Error> {
        self.apply_script(conn, history, Dir::Up, versions, single, resumed)
            .await
    }

    pub(crate) async fn apply_script(
        &self,
        conn: &mut Conn,
        history: &History,
        dir: Dir,
        versions: &[u64],
        single: bool,
        resumed: &BTreeMap<u64, usize>,
    ) -> Result<Vec<Ran>, Error> {
        let rendered = self.render(dir, versions)?;
        let script = self.script(dir, &rendered, single, resumed)?;
        if rendered.is_empty() {
            return Ok(Vec::new());
        }
        if dir == Dir::Up {
            history.create(conn).await?;
        }
        if script.segmented.iter().any(|s| *s) {
            let progress = self.progress();
            conn.batch(&progress.create_sql())
                .await
                .map_err(|e| Error::Database {
                    backend: self.backend(),
                    action: format!("creating the progress table {}", progress.table),
                    reason: db_reason(&e),
                })?;
        }
        self.detect_flavor(conn).await;
        self.observer.event(&Event::Plan {
            direction: dir.as_str(),
            total: rendered.len(),
        });
        let mut ran = Vec::new();
        let mut times = vec![0; rendered.len()];
        // A unit's last history write, held to go with the next unit's first (see
        // `Runner::record_carried`).
        let mut carried: Option<Carried> = None;
        for (u, unit) in script.units.iter().enumerate() {
            // A transactional unit that timed out waiting for a lock was rolled back whole: it
            // is tried again from its start. (Statement by statement, the statement that timed
            // out is tried again in place: see `run_unit`.)
            let retries = self.retries_of(&script, unit);
            let carries = self.record_carried(&script, u).is_some();
            let mut attempt = 0;
            loop {
                let before = ran.len();
                let tries = Tries { attempt, retries };
                let result = self
                    .run_unit(
                        conn,
                        history,
                        &script,
                        (unit, carries, &mut carried),
                        &mut ran,
                        &mut times,
                        tries,
                    )
                    .await;
                if result.is_err() {
                    // What the unit before finished is recorded, whatever stopped this one.
                    let _ = self
                        .write_carried(conn, history, &script, &mut carried, &mut ran, &mut times)
                        .await;
                }
                match result {
                    Ok(()) => break,
                    Err(Failed::Fatal(e)) => return Err(e),
                    Err(Failed::Retry { m, reason }) => {
                        ran.truncate(before);
                        attempt += 1;
                        self.pause_before_retry(&script, m, attempt, retries, &reason)
                            .await;
                    }
                }
            }
        }
        self.write_carried(conn, history, &script, &mut carried, &mut ran, &mut times)
            .await?;
        Ok(ran)
    }

    /// Write the history row held back by the last unit (when the next did not take it along).
    async fn write_carried(
        &self,
        conn: &mut Conn,
        history: &History,
        script: &Script<'_>,
        carried: &mut Option<Carried>,
        ran: &mut Vec<Ran>,
        times: &mut [u64],
    ) -> Result<(), Error> {
        let Some(c) = carried.take() else {
            return Ok(());
        };
        let id = &script.migrations[c.m].id;
        conn.batch(&c.sql).await.map_err(|e| Error::Database {
            backend: self.backend(),
            action: format!(
                "migration {id} ({}): recording it in the history table {}",
                script.dir.as_str(),
                history.table
            ),
            reason: db_reason(&e),
        })?;
        self.finished(script, c.m, c.elapsed, ran, times);
        Ok(())
    }

    /// How often the migrations of `unit` are tried again after a lock timeout.
    pub(crate) fn retries_of(&self, script: &Script<'_>, unit: &Unit) -> u32 {
        unit.steps
            .iter()
            .filter_map(|s| step_migration(*s))
            .map(|m| {
                self.timeouts_of(&script.migrations[m])
                    .lock_retries
                    .unwrap_or(DEFAULT_LOCK_RETRIES)
            })
            .max()
            .unwrap_or(0)
    }

    /// Say that migration `m` is tried again, and wait: the pause doubles with each attempt.
    pub(crate) async fn pause_before_retry(
        &self,
        script: &Script<'_>,
        m: usize,
        attempt: u32,
        retries: u32,
        reason: &str,
    ) {
        let pause = self
            .options
            .retry_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(Duration::from_secs(300));
        self.observer.event(&Event::Retrying {
            id: &script.migrations[m].id,
            direction: script.dir.as_str(),
            attempt,
            retries,
            pause,
            reason,
        });
        tokio::time::sleep(pause).await;
    }

    /// Run `unit`; with `carries`, its last history write is not sent but left in `carried`
    /// for the next unit to take along with its first (see `Runner::record_carried`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_unit(
        &self,
        conn: &mut Conn,
        history: &History,
        script: &Script<'_>,
        (unit, carries, carried): (&Unit, bool, &mut Option<Carried>),
        ran: &mut Vec<Ran>,
        times: &mut [u64],
        tries: Tries,
    ) -> Result<(), Failed> {
        // Statement by statement, the retries spent on this unit's statements.
        let mut spent = 0;
        let mut in_tx = false;
        let mut fk_off = false;
        let mut current: Option<(usize, Instant)> = None;
        // The result of a statement already sent along with the history write before it.
        let mut sent_along: Option<Result<(), StepFailure>> = None;
        let direction = script.dir.as_str();
        let steps = &unit.steps;
        let mut k = 0;
        while k < steps.len() {
            let step = steps[k];
            k += 1;
            if let Some(m) = step_migration(step)
                && current.is_none_or(|(c, _)| c != m)
            {
                // Before each migration: is the migration lock still this runner's?
                if let Err(e) = self.check_lock().await {
                    abort(conn, in_tx, fk_off).await;
                    return Err(Failed::Fatal(e));
                }
                let (started, now) = script.begin(m);
                if now {
                    self.observer.event(&Event::Started {
                        id: &script.migrations[m].id,
                        direction,
                    });
                }
                current = Some((m, started));
            }
            let elapsed = elapsed_since(current);
            // A migration whose statements bind no values goes to the server in one round trip,
            // between its savepoint and the release; in one transaction for all, up to
            // MIGRATIONS_PER_BATCH such migrations go together.
            if let Step::Start { m } = step
                && let Some(len) = batchable(script, &steps[k..], m)
            {
                let mut group = vec![m];
                k += len;
                while unit.single && group.len() < MIGRATIONS_PER_BATCH {
                    match steps.get(k) {
                        Some(&Step::Start { m }) => match batchable(script, &steps[k + 1..], m) {
                            Some(len) => {
                                group.push(m);
                                k += 1 + len;
                            }
                            None => break,
                        },
                        _ => break,
                    }
                }
                let mut sql = String::new();
                for &m in &group {
                    for st in &script.migrations[m].statements {
                        let text = st.sql.trim_end();
                        sql.push_str(text.strip_suffix(';').unwrap_or(text));
                        sql.push_str(";\n");
                    }
                }
                if let Err(batch_error) = conn.batch(&sql).await {
                    if timeout_kind(&batch_error) == Some(Timeout::Lock) && tries.left() {
                        abort(conn, true, fk_off).await;
                        return Err(Failed::Retry {
                            m,
                            reason: db_reason(&batch_error),
                        });
                    }
                    return Err(Failed::Fatal(
                        self.replay_failed(conn, history, script, unit, batch_error, fk_off, tries)
                            .await,
                    ));
                }
                // Each migration of a group is given an equal share of the group's time.
                let share = elapsed_since(current) / group.len() as u32;
                for (n, &m) in group.iter().enumerate() {
                    if n > 0 {
                        self.observer.event(&Event::Started {
                            id: &script.migrations[m].id,
                            direction,
                        });
                    }
                    self.finish_step(script, unit, Step::Done { m }, share, ran, times);
                }
                // The last one's time goes on from its share: its history row is written next,
                // and the time recorded there is the migration's (it read 0 ms when the clock
                // started again here).
                current = group.last().map(|m| {
                    let now = Instant::now();
                    (*m, now.checked_sub(share).unwrap_or(now))
                });
                continue;
            }
            match step {
                Step::Statement { m, i } => {
                    let st = &script.migrations[m].statements[i - 1];
                    let result = match sent_along.take() {
                        Some(result) => result,
                        None => self.run_statement(conn, script, (m, i), st).await,
                    };
                    if let Err(e) = result {
                        if e.timeout == Some(Timeout::Lock) {
                            if unit.transactional && tries.left() {
                                abort(conn, in_tx, fk_off).await;
                                return Err(Failed::Retry {
                                    m,
                                    reason: e.reason,
                                });
                            }
                            // Outside a transaction a statement that timed out waiting for its
                            // lock did nothing, and is tried again in place; except a
                            // `CONCURRENTLY` index, which can leave an invalid index behind. A
                            // batched step resumes after its last committed batch.
                            if !unit.transactional
                                && spent < tries.retries
                                && !st.sql.contains("CONCURRENTLY")
                            {
                                spent += 1;
                                self.pause_before_retry(script, m, spent, tries.retries, &e.reason)
                                    .await;
                                k -= 1;
                                continue;
                            }
                        }
                        let tries_made = tries.attempt.max(spent) + 1;
                        return Err(Failed::Fatal(
                            self.statement_failed(
                                conn,
                                history,
                                script,
                                unit,
                                (m, i),
                                e,
                                (in_tx, fk_off),
                                tries_made,
                            )
                            .await,
                        ));
                    }
                }
                Step::ForeignKeyCheck { m } => {
                    let violations = foreign_key_violations(conn).await;
                    let violations = match violations {
                        Ok(v) if v.is_empty() => continue,
                        Ok(v) => v.join("; "),
                        Err(e) => format!("PRAGMA foreign_key_check failed: {}", db_reason(&e)),
                    };
                    abort(conn, in_tx, fk_off).await;
                    return Err(Failed::Fatal(Error::ForeignKeys {
                        id: script.migrations[m].id.clone(),
                        direction,
                        violations,
                    }));
                }
                other => {
                    // And before a commit: a transaction whose lock was lost is rolled back.
                    if other == Step::Commit
                        && let Err(e) = self.check_lock().await
                    {
                        abort(conn, in_tx, fk_off).await;
                        return Err(Failed::Fatal(e));
                    }
                    if let Step::Record { m } = other {
                        times[m] = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
                    }
                    let Some(st) =
                        self.step_sql(history, script, other, OffsetDateTime::now_utc(), times)
                    else {
                        // A marker: a migration that ran statement by statement may be done.
                        self.finish_step(script, unit, other, elapsed, ran, times);
                        continue;
                    };
                    if let Step::Timeouts { m } = other {
                        let statement = self.timeouts_of(&script.migrations[m]).statement;
                        conn.set_sqlite_statement_timeout(statement);
                    }
                    if carries
                        && k == steps.len()
                        && let Step::Record { m } = other
                    {
                        // Sent with the next unit's first write (or alone after this unit).
                        *carried = Some(Carried {
                            m,
                            sql: st.preview,
                            elapsed,
                        });
                        continue;
                    }
                    let along = along_with(self.backend(), script, other, steps.get(k));
                    let result = match along {
                        // Both in one round trip; the server runs the statement only once the
                        // history write committed, and stops at the first that fails.
                        Some(next) => {
                            // The unit before's last write goes too, in one transaction with
                            // this one: one commit for both.
                            let before = match other {
                                Step::RecordStart { .. } => carried.take(),
                                _ => None,
                            };
                            let (sql, writes) = match &before {
                                Some(c) => (
                                    format!(
                                        "START TRANSACTION;\n{};\n{};\nCOMMIT;\n{}",
                                        c.sql, st.preview, next.sql
                                    ),
                                    4,
                                ),
                                None => (format!("{};\n{}", st.preview, next.sql), 1),
                            };
                            match conn.batch_counted(&sql).await {
                                Ok(_) => {
                                    if let Some(c) = before {
                                        self.finished(script, c.m, c.elapsed, ran, times);
                                    }
                                    sent_along = Some(Ok(()));
                                    Ok(())
                                }
                                Err((done, e)) if done < writes => {
                                    if before.is_some() {
                                        // Neither write stays; the one before is tried alone.
                                        let _ = conn.batch("ROLLBACK").await;
                                        *carried = before;
                                    }
                                    Err(e)
                                }
                                Err((_, e)) => {
                                    if let Some(c) = before {
                                        self.finished(script, c.m, c.elapsed, ran, times);
                                    }
                                    sent_along = Some(Err(StepFailure::from(&e)));
                                    Ok(())
                                }
                            }
                        }
                        None => conn.execute(&st).await,
                    };
                    if let Err(e) = result {
                        abort(conn, in_tx, fk_off).await;
                        // SQLite's `BEGIN IMMEDIATE` waits for the write lock: nothing ran yet.
                        if other == Step::Begin
                            && timeout_kind(&e) == Some(Timeout::Lock)
                            && tries.left()
                            && let Some(m) = current.map(|(m, _)| m).or(unit_first(unit))
                        {
                            return Err(Failed::Retry {
                                m,
                                reason: db_reason(&e),
                            });
                        }
                        let what = match other {
                            Step::Timeouts { .. } => {
                                "setting its lock and statement timeouts".to_string()
                            }
                            Step::Begin => "starting a transaction".to_string(),
                            Step::Commit => "committing".to_string(),
                            Step::Start { .. } | Step::Done { .. } => {
                                "setting a savepoint".to_string()
                            }
                            Step::ForeignKeysOff | Step::ForeignKeysOn => {
                                "setting PRAGMA foreign_keys".to_string()
                            }
                            _ => format!("recording it in the history table {}", history.table),
                        };
                        let id = match other {
                            Step::RecordMany { .. } | Step::Commit if unit.single => {
                                "--single-transaction".to_string()
                            }
                            _ => current
                                .map(|(m, _)| format!("migration {}", script.migrations[m].id))
                                .unwrap_or_else(|| "the run".to_string()),
                        };
                        let mut reason = db_reason(&e);
                        if let (Some(kind), Some(m)) = (
                            timeout_kind(&e),
                            current.map(|(m, _)| m).or(unit_first(unit)),
                        ) {
                            reason = format!(
                                "{reason}; {}",
                                self.timeout_hint(&script.migrations[m], kind, tries.attempt + 1)
                            );
                        }
                        return Err(Failed::Fatal(Error::Database {
                            backend: self.backend(),
                            action: format!("{id} ({direction}): {what}"),
                            reason,
                        }));
                    }
                    match other {
                        Step::Begin => in_tx = true,
                        Step::Commit => in_tx = false,
                        Step::ForeignKeysOff => fk_off = true,
                        Step::ForeignKeysOn => fk_off = false,
                        _ => self.finish_step(script, unit, other, elapsed, ran, times),
                    }
                }
            }
        }
        Ok(())
    }

    /// Run statement `i` of migration `m`: SQL, Rust code, or a batched step.
    pub(crate) async fn run_statement(
        &self,
        conn: &mut Conn,
        script: &Script<'_>,
        (m, i): (usize, usize),
        st: &Statement,
    ) -> Result<(), StepFailure> {
        match &st.data {
            None => conn.execute(st).await.map_err(|e| StepFailure::from(&e)),
            Some(DataStep::Code(code)) => {
                let failed = |reason: String, timeout| StepFailure {
                    reason: format!("Rust code \"{}\" failed: {reason}", code.name),
                    timeout,
                    batch_done: None,
                };
                // MySQL/MariaDB run a migration statement by statement (their DDL commits
                // implicitly): the code gets a transaction of its own there, so that a failure
                // leaves none of its changes and the next `up` can run it again.
                let own_tx = self.backend() == Backend::MySql;
                if own_tx {
                    conn.batch("BEGIN")
                        .await
                        .map_err(|e| StepFailure::from(&e))?;
                }
                match crate::data::call(&code.code, conn).await {
                    Ok(()) if own_tx => conn
                        .batch("COMMIT")
                        .await
                        .map_err(|e| StepFailure::from(&e)),
                    Ok(()) => Ok(()),
                    Err(e) => {
                        if own_tx {
                            let _ = conn.batch("ROLLBACK").await;
                        }
                        let (reason, timeout) = crate::data::describe(&e);
                        Err(failed(reason, timeout))
                    }
                }
            }
            Some(DataStep::Keep { table, known }) => {
                let kept = crate::rebuild::keep(conn, table, known)
                    .await
                    .map_err(|e| StepFailure::from(&e))?;
                script
                    .kept
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(table.clone(), kept);
                Ok(())
            }
            Some(DataStep::Restore { table }) => {
                let kept = script
                    .kept
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(table)
                    .unwrap_or_default();
                crate::rebuild::restore(conn, table, &kept)
                    .await
                    .map_err(|reason| StepFailure {
                        reason,
                        timeout: None,
                        batch_done: None,
                    })
            }
            Some(DataStep::Batched(step)) => {
                let rm = &script.migrations[m];
                let run = crate::batch::Run {
                    progress: &self.progress(),
                    observer: self.observer.as_ref(),
                    lock_retries: self
                        .timeouts_of(rm)
                        .lock_retries
                        .unwrap_or(DEFAULT_LOCK_RETRIES),
                    retry_backoff: self.options.retry_backoff,
                    lock: self.held_lock(),
                };
                let id = crate::batch::StepId {
                    version: rm.id.version,
                    direction: script.dir.as_str(),
                    statement: i,
                };
                run.run(conn, id, step)
                    .await
                    .map(drop)
                    .map_err(|e| StepFailure {
                        reason: format!(
                            "{} stopped after {} {}: {}",
                            step.label,
                            e.done,
                            crate::batch::what_it_does(step),
                            e.reason
                        ),
                        timeout: e.timeout,
                        batch_done: Some(e.done),
                    })
            }
        }
    }

    /// After `step`: a migration is done when its history row is written, or, in one
    /// transaction for all, when its savepoint is released (its row is written at the end).
    pub(crate) fn finish_step(
        &self,
        script: &Script<'_>,
        unit: &Unit,
        step: Step,
        elapsed: Duration,
        ran: &mut Vec<Ran>,
        times: &mut [u64],
    ) {
        let m = match step {
            Step::Record { m } if !unit.single => m,
            Step::Done { m } if unit.single => m,
            _ => return,
        };
        self.finished(script, m, elapsed, ran, times);
    }

    /// Migration `m` is done: its history row is written.
    fn finished(
        &self,
        script: &Script<'_>,
        m: usize,
        elapsed: Duration,
        ran: &mut Vec<Ran>,
        times: &mut [u64],
    ) {
        times[m] = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let id = &script.migrations[m].id;
        let direction = script.dir.as_str();
        self.observer.event(&Event::Finished {
            id,
            direction,
            elapsed,
        });
        ran.push(Ran {
            id: id.clone(),
            direction,
            elapsed,
        });
    }
}

/// A unit's last history write (a migration's `applied` row, or the removal of its row), held
/// back to be sent with the next unit's first in one transaction.
pub(crate) struct Carried {
    m: usize,
    /// The write, values inline.
    sql: String,
    /// How long the migration took.
    elapsed: Duration,
}

/// How long since the current migration started.
pub(crate) fn elapsed_since(current: Option<(usize, Instant)>) -> Duration {
    current.map(|(_, t)| t.elapsed()).unwrap_or_default()
}

/// Which try of a unit this is, of how many.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tries {
    /// 0 for the first try.
    pub(crate) attempt: u32,
    /// Retries allowed after the first try.
    pub(crate) retries: u32,
}

impl Tries {
    /// Whether another try may follow this one.
    pub(crate) fn left(self) -> bool {
        self.attempt < self.retries
    }
}

/// Why a unit stopped.
pub(crate) enum Failed {
    /// It timed out waiting for a lock and nothing of it stays applied: try it again.
    Retry {
        m: usize,
        reason: String,
    },
    Fatal(Error),
}

/// Roll back an open transaction and turn foreign keys back on, ignoring errors: this runs on
/// the error path, and the connection is closed afterwards anyway.
pub(crate) async fn abort(conn: &mut Conn, in_tx: bool, fk_off: bool) {
    if in_tx {
        let _ = conn.batch("ROLLBACK").await;
    }
    if fk_off {
        let _ = conn.batch("PRAGMA foreign_keys = ON").await;
    }
}

/// `PRAGMA foreign_key_check`, one line per violation.
#[cfg(not(feature = "sqlite"))]
pub(crate) async fn foreign_key_violations(_conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    Ok(Vec::new())
}

/// `PRAGMA foreign_key_check`, one line per violation.
#[cfg(feature = "sqlite")]
pub(crate) async fn foreign_key_violations(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    let Conn::Sqlite(c, _) = conn else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *c)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            format!(
                "{} row {} references {}",
                r.try_get::<String, _>(0).unwrap_or_default(),
                r.try_get::<Option<i64>, _>(1)
                    .ok()
                    .flatten()
                    .map_or("?".to_string(), |v| v.to_string()),
                r.try_get::<String, _>(2).unwrap_or_default()
            )
        })
        .collect())
}

/// The statement that goes to the server with the history write `step`, in the same round trip:
/// on MySQL, where a migration runs statement by statement and each commits on its own, the
/// write that records the statement about to run (the `partial` row, or the statement's number)
/// and that statement, when it is plain SQL without values. History still records the
/// statement before it runs; what is saved is a round trip per statement.
pub(crate) fn along_with<'s>(
    backend: Backend,
    script: &'s Script<'_>,
    step: Step,
    next: Option<&Step>,
) -> Option<&'s Statement> {
    if backend != Backend::MySql {
        return None;
    }
    match (step, next) {
        (
            Step::RecordStart { m } | Step::Progress { m, .. },
            Some(&Step::Statement { m: n, i }),
        ) if n == m => {
            let st = &script.migrations[m].statements[i - 1];
            (st.data.is_none() && st.values.0.is_empty()).then_some(st)
        }
        _ => None,
    }
}
