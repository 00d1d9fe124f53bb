//! What a failed step leaves, and the error that says so: the transaction rolled back (and,
//! after a batch of statements failed, replayed one by one to name the statement), history
//! recording where a migration that commits as it goes stopped, and what to do next.

use std::time::Duration;

use godwit_core::{Backend, DataStep, RenderedMigration};

use crate::connect::Conn;
use crate::error::{Error, Exhausted, Timeout, db_reason, exhausted, timeout_kind};
use crate::event::human_duration;
use crate::execute::{Tries, abort};
use crate::history::{History, RowStatus};
use crate::options::{DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT};
use crate::runner::Runner;
use crate::script::{Dir, Script, Step, Unit, unit_migration};

/// Why a statement, Rust code or batched step failed.
#[derive(Debug)]
pub(crate) struct StepFailure {
    /// The database's error, or the code's.
    pub(crate) reason: String,
    pub(crate) timeout: Option<Timeout>,
    /// A batched step: the rows it had done, in batches that stay committed.
    pub(crate) batch_done: Option<u64>,
}

impl From<&sqlx::Error> for StepFailure {
    fn from(e: &sqlx::Error) -> Self {
        StepFailure {
            reason: db_reason(e),
            timeout: timeout_kind(e),
            batch_done: None,
        }
    }
}

impl Runner {
    /// What to tell a person whose migration ran out of time, after `tries` tries.
    pub(crate) fn timeout_hint(&self, rm: &RenderedMigration, kind: Timeout, tries: u32) -> String {
        let t = self.timeouts_of(rm);
        match kind {
            Timeout::Lock => {
                let holder = match self.backend() {
                    Backend::Postgres => "pg_stat_activity and pg_locks show it",
                    Backend::MySql => "SHOW PROCESSLIST shows it",
                    Backend::Sqlite => "another connection writing to the file",
                };
                format!(
                    "it waited longer than its lock timeout ({}) for a lock{}: find the session \
                     that holds it ({holder}) and run again when it is done, or raise the timeout \
                     with `s.lock_timeout(..)` in the migration or `--lock-timeout`",
                    match (self.backend(), t.lock.unwrap_or(DEFAULT_LOCK_TIMEOUT)) {
                        // MySQL counts whole seconds.
                        (Backend::MySql, lock) if !lock.is_zero() => human_duration(
                            Duration::from_secs(lock.as_secs_f64().ceil().max(1.0) as u64)
                        ),
                        (_, lock) => human_duration(lock),
                    },
                    if tries > 1 {
                        format!(", {tries} times")
                    } else {
                        String::new()
                    }
                )
            }
            Timeout::Statement => format!(
                "it ran longer than its statement timeout ({}): raise it for this migration with \
                 `s.statement_timeout(..)`, or run with `--statement-timeout`",
                human_duration(t.statement.unwrap_or(DEFAULT_STATEMENT_TIMEOUT))
            ),
        }
    }

    /// A batch of statements failed: the unit's transaction is rolled back. To say which
    /// statement failed, the unit's statements run again one at a time in a transaction that is
    /// rolled back too.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn replay_failed(
        &self,
        conn: &mut Conn,
        history: &History,
        script: &Script<'_>,
        unit: &Unit,
        batch_error: sqlx::Error,
        fk_off: bool,
        tries: Tries,
    ) -> Error {
        abort(conn, true, fk_off).await;
        let what = match unit_migration(unit) {
            Some(m) if !unit.single => format!("migration {}", script.migrations[m].id),
            _ => "--single-transaction".to_string(),
        };
        // The server ran out of something the whole transaction holds (locks, memory, disk):
        // replaying it would take as long and end the same way, at a statement that is not the
        // cause. Say so at once, with the server's hint and the way out.
        if let Some(exhausted) = exhausted(&batch_error) {
            let way_out = if unit.single {
                format!(
                    "run without --single-transaction (one transaction per migration), or in \
                     parts with `up --to VERSION`{}",
                    match exhausted {
                        Exhausted::Locks =>
                            ", or raise the server's max_locks_per_transaction \
                                             (PostgreSQL; it takes a restart)",
                        Exhausted::Other => "",
                    }
                )
            } else {
                match exhausted {
                    Exhausted::Locks => "raise the server's max_locks_per_transaction \
                                         (PostgreSQL; it takes a restart), or split the \
                                         migration"
                        .to_string(),
                    Exhausted::Other => {
                        "free the resource on the server, or split the migration".to_string()
                    }
                }
            };
            return Error::Database {
                backend: self.backend(),
                action: format!("{what} ({})", script.dir.as_str()),
                reason: format!(
                    "{}; it was rolled back: nothing of it is applied; the server ran out of \
                     what the whole transaction holds, not of what one statement needs: {way_out}",
                    db_reason(&batch_error)
                ),
            };
        }
        let fk = fk_off && conn.batch("PRAGMA foreign_keys = OFF").await.is_ok();
        let begin = match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            _ => "BEGIN",
        };
        if conn.batch(begin).await.is_ok() {
            for m in unit.steps.iter().filter_map(|s| match s {
                Step::Start { m } => Some(*m),
                _ => None,
            }) {
                for (i, st) in script.migrations[m].statements.iter().enumerate() {
                    if let Err(e) = conn.execute(st).await {
                        return self
                            .statement_failed(
                                conn,
                                history,
                                script,
                                unit,
                                (m, i + 1),
                                StepFailure::from(&e),
                                (true, fk),
                                tries.attempt + 1,
                            )
                            .await;
                    }
                }
            }
        }
        abort(conn, true, fk).await;
        Error::Database {
            backend: self.backend(),
            action: format!("{what} ({})", script.dir.as_str()),
            reason: format!(
                "{}; it was rolled back: nothing of it is applied",
                db_reason(&batch_error)
            ),
        }
    }

    /// Clean up after statement `i` of migration `m` failed, and say what happened.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn statement_failed(
        &self,
        conn: &mut Conn,
        history: &History,
        script: &Script<'_>,
        unit: &Unit,
        (m, i): (usize, usize),
        e: StepFailure,
        (in_tx, fk_off): (bool, bool),
        tries: u32,
    ) -> Error {
        let rm = &script.migrations[m];
        let reason = e.reason.clone();
        let backend = self.backend();
        let dir = script.dir;
        let status = match dir {
            Dir::Up => RowStatus::Partial,
            Dir::Down => RowStatus::PartialDown,
        };
        // Record where a migration that runs in parts stopped, and say so.
        let record_at =
            |at: usize| history.progress(rm.id.version, status, Some(at), Some(&reason));
        let outcome = if let Some(done) = e.batch_done {
            let recorded = match conn.execute(&record_at(i)).await {
                Ok(()) => format!("history records it as {} at statement {i}", status.as_str()),
                Err(e2) => format!(
                    "history still says statement {i} was running (recording the error failed: {})",
                    db_reason(&e2)
                ),
            };
            let label = match &rm.statements[i - 1].data {
                Some(DataStep::Batched(b)) => b.label.clone(),
                _ => "the step".to_string(),
            };
            format!(
                "{done} row(s) were done in batches that stay committed, their progress kept in {}; \
                 {recorded}; fix the cause and run `{}` again: {label} resumes after its last committed batch",
                self.progress().table,
                dir.as_str()
            )
        } else if unit.transactional && script.segmented[m] && !unit.single {
            abort(conn, in_tx, fk_off).await;
            let first = unit
                .steps
                .iter()
                .find_map(|s| match s {
                    Step::Statement { i, .. } => Some(*i),
                    _ => None,
                })
                .unwrap_or(i);
            let undo = if first == 1 && dir == Dir::Up {
                history.delete(rm.id.version)
            } else {
                record_at(first)
            };
            match (conn.execute(&undo).await, first) {
                (Ok(()), 1) if dir == Dir::Up => {
                    "it was rolled back: nothing of it is applied; fix it and run `up` again"
                        .to_string()
                }
                (Ok(()), _) => format!(
                    "statements {first} to {i} were rolled back; statements 1 to {} ran before, in parts around its batched steps, \
                     and stay committed; history records it as {} at statement {first}; fix the cause and run `{}` again: it resumes at statement {first}",
                    first - 1,
                    status.as_str(),
                    dir.as_str()
                ),
                (Err(e2), _) => format!(
                    "statements {first} to {i} were rolled back, but history could not record where it stopped ({}); run `status`",
                    db_reason(&e2)
                ),
            }
        } else if unit.transactional {
            abort(conn, in_tx, fk_off).await;
            match (unit.single, dir) {
                (true, _) => "the whole run was rolled back (--single-transaction): no migration of it is applied; fix it and run again".to_string(),
                (false, Dir::Up) => "it was rolled back: nothing of it is applied and the migrations before it stay applied; fix it and run `up` again".to_string(),
                (false, Dir::Down) => "it was rolled back: the migration stays applied; fix its down and run `down` again".to_string(),
            }
        } else if i == 1 {
            // Nothing of the migration ran: put history back as it was.
            let undo = match dir {
                Dir::Up => history.delete(rm.id.version),
                Dir::Down => history.progress(rm.id.version, RowStatus::Applied, None, None),
            };
            match conn.execute(&undo).await {
                Ok(()) => match dir {
                    Dir::Up => "nothing of it ran and history has no row for it; fix it and run `up` again".to_string(),
                    Dir::Down => "nothing of its down ran and it stays applied; fix its down and run `down` again".to_string(),
                },
                Err(e2) => format!(
                    "nothing of it ran, but history could not be put back ({}); run `status`",
                    db_reason(&e2)
                ),
            }
        } else {
            let recorded = match conn.execute(&record_at(i)).await {
                Ok(()) => format!("history records it as {} at statement {i}", status.as_str()),
                Err(e2) => format!(
                    "history still says statement {i} was running (recording the error failed: {})",
                    db_reason(&e2)
                ),
            };
            format!(
                "statements 1 to {} ran and stay committed ({} commits each as it runs); {recorded}; \
                 the next run stops here and says how to resolve it",
                i - 1,
                if backend == Backend::MySql {
                    "MySQL/MariaDB DDL"
                } else {
                    "a migration outside a transaction"
                }
            )
        };
        let sql = rm.statements[i - 1].preview.trim().to_string();
        let sql = if sql.chars().count() > 300 {
            format!("{}...", sql.chars().take(300).collect::<String>())
        } else {
            sql
        };
        let outcome = match e.timeout {
            Some(kind) => format!("{outcome}\n  {}", self.timeout_hint(rm, kind, tries)),
            None => outcome,
        };
        Error::Statement {
            id: rm.id.clone(),
            direction: dir.as_str(),
            backend,
            statement: i,
            of: rm.statements.len(),
            sql,
            reason,
            outcome,
        }
    }
}
