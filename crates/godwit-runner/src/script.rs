//! What will run: a run compiled into a [`Script`] of steps, and the dry-run report that prints
//! it. `execute` runs the same script, so the SQL a dry run shows is the SQL that runs.
//!
//! Per migration, the script is one of:
//!
//! - **transactional** (PostgreSQL and SQLite, unless the migration opts out): `BEGIN` (SQLite:
//!   `BEGIN IMMEDIATE`, its write lock), the statements, the history write, `COMMIT`. A failure
//!   rolls the migration back whole. SQLite table rebuilds run with `PRAGMA foreign_keys = OFF`
//!   around the transaction, and `PRAGMA foreign_key_check` must find nothing before `COMMIT`.
//! - **statement by statement** (MySQL/MariaDB, whose DDL commits implicitly, and migrations that
//!   cannot run in a transaction, such as `CREATE INDEX CONCURRENTLY`): a `partial` history row
//!   first, its statement number updated before each statement, `applied` at the end. A failure
//!   leaves history saying where it stopped, and the next run refuses to go on until a person
//!   has resolved it.
//! - **in parts** (a migration with batched steps, `backfill` and `copy_rows`): a `partial`
//!   history row first; each batched step outside any transaction, batch by batch, each batch
//!   committed with its progress (see [`crate::batch`]); the statements between them in one
//!   transaction each where the backend has transactional DDL. A run that stops in such a
//!   migration (killed, timed out, failed) is resumed by the next `up` at the start of the part
//!   it stopped in, and a batched step after its last committed batch.
//!
//! **Invariant:** a script is built without a connection: nothing here is async or does IO.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use godwit_core::{Backend, DataStep, RenderedMigration, Statement, Timeouts};
use time::OffsetDateTime;

use crate::error::Error;
use crate::event::in_unit;
use crate::history::{History, RowStatus};
use crate::lock;
use crate::options::{DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Up};
use crate::report::Report;
use crate::runner::Runner;

/// The direction a script runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Up,
    Down,
}

impl Dir {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Dir::Up => "up",
            Dir::Down => "down",
        }
    }
}

/// One step of a script; `m` indexes the script's migrations, `i` is a 1-based statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    ForeignKeysOff,
    Begin,
    /// In a transaction, before and after a migration's statements (no SQL of their own): the
    /// statements between them may go to the server as one batch.
    Start {
        m: usize,
    },
    Done {
        m: usize,
    },
    /// `--single-transaction`: the history rows of migrations `from..to`, in one statement.
    RecordMany {
        from: usize,
        to: usize,
    },
    /// The session's lock and statement timeouts, set to migration `m`'s before it runs (only
    /// where they differ from the previous migration's).
    Timeouts {
        m: usize,
    },
    /// Statement by statement: the `partial` row, before the first statement.
    RecordStart {
        m: usize,
    },
    /// A migration with batched steps starts afresh: forget the progress of an earlier run.
    ResetProgress {
        m: usize,
    },
    /// Statement by statement: history says statement `i` is next.
    Progress {
        m: usize,
        i: usize,
    },
    Statement {
        m: usize,
        i: usize,
    },
    /// The history write that completes a migration: insert (or finish) the row for `up`,
    /// delete it for `down`.
    Record {
        m: usize,
    },
    ForeignKeyCheck {
        m: usize,
    },
    Commit,
    ForeignKeysOn,
}

/// History rows written by one statement with `--single-transaction` (7 values each: well
/// within every backend's limit on bound values).
pub(crate) const RECORDS_PER_STATEMENT: usize = 500;

/// With `--single-transaction`, how many migrations go to the server in one round trip.
pub(crate) const MIGRATIONS_PER_BATCH: usize = 50;

/// The steps that run a list of rendered migrations in one direction.
pub(crate) struct Script<'a> {
    pub(crate) dir: Dir,
    pub(crate) migrations: &'a [RenderedMigration],
    /// One unit per transaction (or per statement-by-statement migration).
    pub(crate) units: Vec<Unit>,
    /// Per migration: whether it has batched steps, and so runs in parts (see `script`).
    pub(crate) segmented: Vec<bool>,
    /// Per migration: the statement (1-based) it resumes at, when an earlier run stopped in it.
    pub(crate) resume: Vec<Option<usize>>,
    /// Per migration: when it started, once it has (a migration in parts spans several units).
    pub(crate) begun: std::sync::Mutex<Vec<Option<Instant>>>,
    /// What a SQLite rebuild keeps of a table between its two steps, by table.
    pub(crate) kept: std::sync::Mutex<BTreeMap<String, crate::rebuild::Kept>>,
}

impl Script<'_> {
    /// When migration `m` started, and whether that is now.
    pub(crate) fn begin(&self, m: usize) -> (Instant, bool) {
        let mut begun = self.begun.lock().unwrap_or_else(|e| e.into_inner());
        match begun.get_mut(m) {
            Some(Some(t)) => (*t, false),
            Some(slot) => (*slot.insert(Instant::now()), true),
            None => (Instant::now(), true),
        }
    }
}

/// Whether a migration has batched steps (`backfill`, `copy_rows`).
pub(crate) fn has_batched(m: &RenderedMigration) -> bool {
    m.statements.iter().any(is_batched)
}

pub(crate) fn is_batched(st: &Statement) -> bool {
    matches!(st.data, Some(DataStep::Batched(_)))
}

pub(crate) struct Unit {
    pub(crate) transactional: bool,
    /// The whole run in one transaction.
    pub(crate) single: bool,
    pub(crate) steps: Vec<Step>,
}

/// The migration a step belongs to, if it belongs to one.
pub(crate) fn step_migration(step: Step) -> Option<usize> {
    match step {
        Step::Timeouts { m }
        | Step::Statement { m, .. }
        | Step::RecordStart { m }
        | Step::ResetProgress { m }
        | Step::Progress { m, .. }
        | Step::Record { m }
        | Step::Start { m }
        | Step::Done { m } => Some(m),
        _ => None,
    }
}

/// How many steps after migration `m`'s savepoint run as one batch (its statements and the
/// release), or `None` when one of them binds values (they run one by one then).
pub(crate) fn batchable(script: &Script<'_>, rest: &[Step], m: usize) -> Option<usize> {
    let rm = &script.migrations[m];
    let len = rm.statements.len() + 1;
    let all_plain = rm
        .statements
        .iter()
        .all(|st| st.values.0.is_empty() && st.data.is_none());
    let shaped = rest.get(rm.statements.len()) == Some(&Step::Done { m })
        && rest[..rm.statements.len()]
            .iter()
            .all(|s| matches!(s, Step::Statement { m: x, .. } if *x == m));
    (all_plain && shaped).then_some(len)
}

/// The first migration a unit runs.
pub(crate) fn unit_first(unit: &Unit) -> Option<usize> {
    unit.steps.iter().find_map(|s| step_migration(*s))
}

/// The migration of a unit that runs one migration.
pub(crate) fn unit_migration(unit: &Unit) -> Option<usize> {
    unit.steps.iter().find_map(|s| step_migration(*s))
}

/// A duration as PostgreSQL reads it in `SET lock_timeout`: `5s`, `1h`, `250ms`; `0` for none.
pub(crate) fn pg_interval(d: Duration) -> String {
    match in_unit(d) {
        (0, _) => "0".to_string(),
        (n, unit) => format!("{n}{unit}"),
    }
}

/// Whether `backend` takes `d` as a timeout (0 is no limit): PostgreSQL counts whole
/// milliseconds up to 2^31 - 1 (a shorter one would be 0, no limit; a longer one is refused),
/// MySQL/MariaDB seconds up to a year, SQLite's busy timeout milliseconds up to 2^31 - 1.
pub(crate) fn check_timeout(backend: Backend, what: &str, d: Duration) -> Result<(), String> {
    if d.is_zero() {
        return Ok(());
    }
    let (min, max, range) = match backend {
        Backend::Postgres => (
            Duration::from_millis(1),
            Duration::from_millis(i32::MAX as u64),
            "0.001 to 2147483.647 seconds (about 596 hours) on PostgreSQL",
        ),
        Backend::MySql => (
            Duration::from_millis(1),
            Duration::from_secs(31_536_000),
            "0.001 to 31536000 seconds (a year) on MySQL/MariaDB",
        ),
        Backend::Sqlite => (
            Duration::from_millis(1),
            Duration::from_millis(i32::MAX as u64),
            "0.001 to 2147483.647 seconds on SQLite",
        ),
    };
    if d < min || d > max {
        return Err(format!(
            "{what} of {} seconds is out of range: it must be {range}, or 0 for no limit",
            d.as_secs_f64()
        ));
    }
    Ok(())
}

impl Runner {
    /// A migration's timeouts, the runner's defaults filling in what it does not set.
    pub(crate) fn timeouts_of(&self, m: &RenderedMigration) -> Timeouts {
        m.timeouts.or(self.options.timeouts)
    }

    /// The SQL that sets the session's timeouts to migration `m`'s. SQLite's statement timeout
    /// is not SQL: [`Conn::set_sqlite_statement_timeout`] sets it.
    pub(crate) fn timeouts_sql(&self, m: &RenderedMigration) -> String {
        let t = self.timeouts_of(m);
        let lock = t.lock.unwrap_or(DEFAULT_LOCK_TIMEOUT);
        let statement = t.statement.unwrap_or(DEFAULT_STATEMENT_TIMEOUT);
        match self.backend() {
            Backend::Postgres => format!(
                "SET lock_timeout = '{}'; SET statement_timeout = '{}'",
                pg_interval(lock),
                pg_interval(statement)
            ),
            Backend::MySql => {
                // Whole seconds, at least one; zero (no limit) is a year, their maximum.
                let lock = if lock.is_zero() {
                    31_536_000
                } else {
                    lock.as_secs_f64().ceil().max(1.0) as u64
                };
                let statement = if *self.mariadb.get().unwrap_or(&true) {
                    format!("max_statement_time = {}", statement.as_secs_f64())
                } else {
                    format!("max_execution_time = {}", statement.as_millis())
                };
                format!(
                    "SET SESSION lock_wait_timeout = {lock}, SESSION innodb_lock_wait_timeout = {lock}, SESSION {statement}"
                )
            }
            Backend::Sqlite => format!(
                "PRAGMA busy_timeout = {}",
                if lock.is_zero() {
                    i64::from(i32::MAX)
                } else {
                    i64::try_from(lock.as_millis())
                        .unwrap_or(i64::from(i32::MAX))
                        .clamp(1, i64::from(i32::MAX))
                }
            ),
        }
    }

    pub(crate) fn render(
        &self,
        dir: Dir,
        versions: &[u64],
    ) -> Result<Vec<RenderedMigration>, Error> {
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        let rendered = match dir {
            Dir::Up => self.catalog().render_up(self.backend(), Some(versions))?,
            Dir::Down => self.catalog().render_down(self.backend(), Some(versions))?,
        };
        for m in &rendered {
            let t = self.timeouts_of(m);
            let whose = |what: &str| {
                let set_by_migration = match what {
                    "lock timeout" => m.timeouts.lock.is_some(),
                    _ => m.timeouts.statement.is_some(),
                };
                if set_by_migration {
                    format!("the {what} of migration {}", m.id)
                } else {
                    format!("the {what}")
                }
            };
            for (what, d) in [("lock timeout", t.lock), ("statement timeout", t.statement)] {
                if let Some(d) = d {
                    check_timeout(self.backend(), &whose(what), d)
                        .map_err(|reason| Error::InvalidTimeout { reason })?;
                }
            }
        }
        Ok(rendered)
    }

    /// The steps that run `migrations`: one transaction each where the backend allows it, one
    /// for all with `single`, statement by statement otherwise.
    pub(crate) fn script<'a>(
        &self,
        dir: Dir,
        migrations: &'a [RenderedMigration],
        single: bool,
        resume: &BTreeMap<u64, usize>,
    ) -> Result<Script<'a>, Error> {
        let segmented: Vec<bool> = migrations.iter().map(has_batched).collect();
        let resume: Vec<Option<usize>> = migrations
            .iter()
            .map(|m| resume.get(&m.id.version).copied())
            .collect();
        let backend = self.backend();
        let sqlite = backend == Backend::Sqlite;
        let transactional = |m: &RenderedMigration| m.transactional && backend != Backend::MySql;
        let mut units = Vec::new();
        // The session's timeouts before the next migration: set where they change.
        let mut session: Option<Timeouts> = None;
        let mut set_timeouts = |steps: &mut Vec<Step>, m: usize| {
            let wanted = self.timeouts_of(&migrations[m]);
            if session != Some(wanted) {
                steps.push(Step::Timeouts { m });
                session = Some(wanted);
            }
        };
        if single && !migrations.is_empty() {
            if let Some(m) = migrations.iter().find(|m| !transactional(m)) {
                return Err(Error::NotTransactional { id: m.id.clone() });
            }
            if let Some(m) = migrations.iter().find(|m| has_batched(m)) {
                return Err(Error::Batched { id: m.id.clone() });
            }
            let fk_off = sqlite && migrations.iter().any(|m| m.foreign_keys_off);
            let mut steps = Vec::new();
            // The first migration's timeouts hold from the start (SQLite's busy timeout is the
            // wait of `BEGIN IMMEDIATE`).
            set_timeouts(&mut steps, 0);
            if fk_off {
                steps.push(Step::ForeignKeysOff);
            }
            steps.push(Step::Begin);
            for (m, rm) in migrations.iter().enumerate() {
                set_timeouts(&mut steps, m);
                steps.push(Step::Start { m });
                steps.extend((1..=rm.statements.len()).map(|i| Step::Statement { m, i }));
                steps.push(Step::Done { m });
            }
            for from in (0..migrations.len()).step_by(RECORDS_PER_STATEMENT) {
                let to = (from + RECORDS_PER_STATEMENT).min(migrations.len());
                steps.push(Step::RecordMany { from, to });
            }
            if fk_off {
                steps.push(Step::ForeignKeyCheck {
                    m: migrations.len() - 1,
                });
            }
            steps.push(Step::Commit);
            if fk_off {
                steps.push(Step::ForeignKeysOn);
            }
            units.push(Unit {
                transactional: true,
                single: true,
                steps,
            });
        } else {
            for (m, rm) in migrations.iter().enumerate() {
                let mut steps = Vec::new();
                set_timeouts(&mut steps, m);
                if segmented[m] {
                    units.extend(self.segments(rm, m, steps, resume[m], transactional(rm)));
                    continue;
                }
                if transactional(rm) {
                    let fk_off = sqlite && rm.foreign_keys_off;
                    if fk_off {
                        steps.push(Step::ForeignKeysOff);
                    }
                    steps.push(Step::Begin);
                    steps.push(Step::Start { m });
                    steps.extend((1..=rm.statements.len()).map(|i| Step::Statement { m, i }));
                    steps.push(Step::Done { m });
                    if fk_off {
                        steps.push(Step::ForeignKeyCheck { m });
                    }
                    steps.push(Step::Record { m });
                    steps.push(Step::Commit);
                    if fk_off {
                        steps.push(Step::ForeignKeysOn);
                    }
                } else {
                    steps.push(Step::RecordStart { m });
                    for i in 1..=rm.statements.len() {
                        if i > 1 {
                            steps.push(Step::Progress { m, i });
                        }
                        steps.push(Step::Statement { m, i });
                    }
                    steps.push(Step::Record { m });
                }
                units.push(Unit {
                    transactional: transactional(rm),
                    single: false,
                    steps,
                });
            }
        }
        Ok(Script {
            dir,
            migrations,
            units,
            begun: std::sync::Mutex::new(vec![None; migrations.len()]),
            kept: Default::default(),
            segmented,
            resume,
        })
    }

    /// The units of migration `m`, which has batched steps, run in parts from statement
    /// `resume` (from the start when `None`): the `partial` history row first; each batched
    /// step on its own, outside any transaction (its batches commit one by one); and, where the
    /// backend has transactional DDL, the statements between batched steps in one transaction
    /// each that also moves history's statement past them. An interrupted run so resumes at the
    /// start of the part it stopped in. Without transactional DDL (MySQL), statement by
    /// statement as any migration there.
    pub(crate) fn segments(
        &self,
        rm: &RenderedMigration,
        m: usize,
        mut first: Vec<Step>,
        resume: Option<usize>,
        transactional: bool,
    ) -> Vec<Unit> {
        let sqlite = self.backend() == Backend::Sqlite;
        let n = rm.statements.len();
        let start = resume.unwrap_or(1);
        if resume.is_none() {
            first.push(Step::RecordStart { m });
            first.push(Step::ResetProgress { m });
        }
        let mut units = vec![Unit {
            transactional: false,
            single: false,
            steps: first,
        }];
        // After statements up to `last`: history moves on, or the migration is done.
        let next = |last: usize| {
            if last == n {
                Step::Record { m }
            } else {
                Step::Progress { m, i: last + 1 }
            }
        };
        let mut i = start;
        while i <= n {
            if is_batched(&rm.statements[i - 1]) || !transactional {
                units.push(Unit {
                    transactional: false,
                    single: false,
                    steps: vec![Step::Statement { m, i }, next(i)],
                });
                i += 1;
                continue;
            }
            let mut j = i;
            while j < n && !is_batched(&rm.statements[j]) {
                j += 1;
            }
            // Statements i..=j run in one transaction.
            let fk_off = sqlite && rm.foreign_keys_off;
            let mut steps = Vec::new();
            if fk_off {
                steps.push(Step::ForeignKeysOff);
            }
            steps.push(Step::Begin);
            steps.extend((i..=j).map(|i| Step::Statement { m, i }));
            if fk_off {
                steps.push(Step::ForeignKeyCheck { m });
            }
            steps.push(next(j));
            steps.push(Step::Commit);
            if fk_off {
                steps.push(Step::ForeignKeysOn);
            }
            units.push(Unit {
                transactional: true,
                single: false,
                steps,
            });
            i = j + 1;
        }
        units
    }

    /// The SQL of a step other than a migration statement; `at` and `ms` are the history row's.
    pub(crate) fn step_sql(
        &self,
        history: &History,
        script: &Script<'_>,
        step: Step,
        at: OffsetDateTime,
        times: &[u64],
    ) -> Option<Statement> {
        let ms = |m: usize| times.get(m).copied().unwrap_or(0);
        let ddl = |sql: &str| {
            Some(Statement {
                sql: sql.to_string(),
                values: sea_query::Values(Vec::new()),
                preview: sql.to_string(),
                data: None,
            })
        };
        let version = |m: usize| script.migrations[m].id.version;
        match (step, script.dir) {
            (Step::Timeouts { m }, _) => ddl(&self.timeouts_sql(&script.migrations[m])),
            (Step::ForeignKeysOff, _) => ddl("PRAGMA foreign_keys = OFF"),
            (Step::ForeignKeysOn, _) => ddl("PRAGMA foreign_keys = ON"),
            (Step::Begin, _) if self.backend() == Backend::Sqlite => ddl("BEGIN IMMEDIATE"),
            (Step::Begin, _) => ddl("BEGIN"),
            (Step::Commit, _) => ddl("COMMIT"),
            (Step::Start { .. } | Step::Done { .. }, _) => None,
            (Step::RecordMany { from, to }, _) => Some(
                history.insert_many(
                    &(from..to)
                        .map(|m| (&script.migrations[m], ms(m)))
                        .collect::<Vec<_>>(),
                    at,
                ),
            ),
            (Step::ForeignKeyCheck { .. }, _) => ddl("PRAGMA foreign_key_check"),
            (Step::Statement { .. }, _) => None,
            (Step::RecordStart { m }, Dir::Up) => {
                Some(history.insert(&script.migrations[m], RowStatus::Partial, at, 0))
            }
            (Step::ResetProgress { m }, dir) => {
                Some(self.progress().reset(version(m), dir.as_str()))
            }
            (Step::RecordStart { m }, Dir::Down) => {
                Some(history.progress(version(m), RowStatus::PartialDown, Some(1), None))
            }
            (Step::Progress { m, i }, Dir::Up) => {
                Some(history.progress(version(m), RowStatus::Partial, Some(i), None))
            }
            (Step::Progress { m, i }, Dir::Down) => {
                Some(history.progress(version(m), RowStatus::PartialDown, Some(i), None))
            }
            (Step::Record { m }, Dir::Up) => {
                if !script.segmented[m] && self.unit_of(script, m).is_some_and(|u| u.transactional)
                {
                    Some(history.insert(&script.migrations[m], RowStatus::Applied, at, ms(m)))
                } else {
                    Some(history.finish(version(m), at, ms(m)))
                }
            }
            (Step::Record { m }, Dir::Down) => Some(history.delete(version(m))),
        }
    }

    pub(crate) fn unit_of<'s>(&self, script: &'s Script<'_>, m: usize) -> Option<&'s Unit> {
        script.units.iter().find(|u| {
            u.steps
                .iter()
                .any(|s| matches!(s, Step::Record { m: x } if *x == m))
        })
    }

    /// Whether the history write that ends unit `u` (migration `m`'s: the `applied` row, or on
    /// the way down the removal of its row) goes with the next unit's first, and so its `Some(m)`.
    ///
    /// On MySQL/MariaDB, each migration runs statement by statement, each committed as it runs,
    /// and history is written before each statement and after the last. Every write is a commit,
    /// and with `innodb_flush_log_at_trx_commit = 1` a flush of the redo log: the writes cost
    /// more than the round trips. Between one migration's last write and the next one's first,
    /// nothing runs, so both go in one transaction (`START TRANSACTION; <done>; <started>;
    /// COMMIT;`), sent with the next migration's first statement: one commit where there were
    /// two. Only when the next unit begins with its `partial` row and a plain statement; else, and
    /// whenever the next unit stops before sending it, the write goes alone.
    pub(crate) fn record_carried(&self, script: &Script<'_>, u: usize) -> Option<usize> {
        if self.backend() != Backend::MySql {
            return None;
        }
        let unit = &script.units[u];
        let next = script.units.get(u + 1)?;
        if unit.transactional || unit.single || next.transactional || next.single {
            return None;
        }
        let &Step::Record { m } = unit.steps.last()? else {
            return None;
        };
        let first = next
            .steps
            .iter()
            .position(|s| !matches!(s, Step::Timeouts { .. }))?;
        let start = next.steps[first];
        (matches!(start, Step::RecordStart { .. })
            && crate::execute::along_with(self.backend(), script, start, next.steps.get(first + 1))
                .is_some())
        .then_some(m)
    }

    /// The script as SQL, for a dry run.
    pub(crate) fn dry_run_report(
        &self,
        history: &History,
        exists: bool,
        script: &Script<'_>,
    ) -> Report {
        let mut out = String::new();
        let n = script.migrations.len();
        let _ = writeln!(
            out,
            "-- dry run: {n} migration{} {} on {} ({}); nothing was run",
            if n == 1 { "" } else { "s" },
            script.dir.as_str(),
            self.backend(),
            self.url.redacted()
        );
        if n > 0 {
            let _ = writeln!(
                out,
                "-- history rows get applied_at and execution_ms (here now and 0) when they run"
            );
        }
        let lock = match self.backend() {
            Backend::Postgres => format!(
                "SELECT pg_try_advisory_lock({})",
                lock::postgres_key(&history.table)
            ),
            Backend::MySql => format!(
                "SELECT GET_LOCK('{}', <timeout>)",
                lock::mysql_name("<database>", &history.table)
            ),
            Backend::Sqlite => format!(
                "an exclusive lock on the file {}",
                self.url
                    .sqlite_file()
                    .map(|f| lock::sqlite_lock_file(&f).display().to_string())
                    .unwrap_or_default()
            ),
        };
        if n > 0 {
            let _ = writeln!(out, "-- the lock, held for the run: {lock}");
            if !exists && script.dir == Dir::Up {
                let _ = writeln!(out, "{};", history.create_sql());
            }
        }
        let now = OffsetDateTime::now_utc();
        let mut current = None;
        // A unit's last history write, printed where it is sent: with the next unit's first.
        let mut carried: Option<String> = None;
        for (u, unit) in script.units.iter().enumerate() {
            let carries = self.record_carried(script, u).is_some();
            if unit.single {
                let _ = writeln!(out, "\n-- every migration in one transaction");
            }
            for step in &unit.steps {
                // A migration's header goes before its unit's first step, or, in one transaction
                // for all, before its first statement.
                let m = match step_migration(*step) {
                    Some(m) => Some(m),
                    None if !unit.single => unit_migration(unit),
                    None => None,
                };
                if let Some(m) = m
                    && current != Some(m)
                {
                    current = Some(m);
                    let rm = &script.migrations[m];
                    let _ = writeln!(
                        out,
                        "\n-- {} {} ({})",
                        rm.id.version, rm.id.name, rm.direction
                    );
                    if script.segmented[m] {
                        let _ = writeln!(
                            out,
                            "-- in parts: each batched step outside any transaction, batch by batch, {}",
                            if self.backend() == Backend::MySql {
                                "the other statements one by one, each committed as it runs"
                            } else {
                                "the statements between them in one transaction each"
                            }
                        );
                        if let Some(at) = script.resume[m] {
                            let _ = writeln!(
                                out,
                                "-- resumed at statement {at}, where an earlier run stopped"
                            );
                        }
                    } else if !unit.transactional {
                        let _ =
                            writeln!(out, "-- statement by statement, each committed as it runs");
                    }
                    for w in &rm.warnings {
                        let _ = writeln!(out, "-- warning: {w}");
                    }
                }
                let sql = match *step {
                    Step::Statement { m, i } => {
                        script.migrations[m].statements[i - 1].preview.clone()
                    }
                    other => match self.step_sql(history, script, other, now, &[]) {
                        Some(st) => st.preview,
                        None => continue,
                    },
                };
                let sql = sql.trim_end();
                let sql = sql.strip_suffix(';').unwrap_or(sql);
                if carries && matches!(step, Step::Record { .. }) {
                    let _ = writeln!(
                        out,
                        "-- its history row is written with the next migration's first, in one \
                         transaction"
                    );
                    carried = Some(sql.to_string());
                    continue;
                }
                if let (Step::RecordStart { .. }, Some(before)) = (step, carried.take()) {
                    let _ = writeln!(out, "START TRANSACTION;\n{before};\n{sql};\nCOMMIT;");
                    continue;
                }
                let _ = writeln!(out, "{sql};");
            }
        }
        Report {
            backend: self.backend(),
            ran: Vec::new(),
            sql: Some(out),
        }
    }

    /// A dry run of `versions` in `dir` (with `up`'s `single_transaction`), resuming those in
    /// `resume`: the script rendered and printed, nothing run.
    pub(crate) fn dry_run(
        &self,
        history: &History,
        exists: bool,
        dir: Dir,
        versions: &[u64],
        up: &Up,
        resume: &BTreeMap<u64, usize>,
    ) -> Result<Report, Error> {
        let rendered = self.render(dir, versions)?;
        let script = self.script(dir, &rendered, up.single_transaction, resume)?;
        Ok(self.dry_run_report(history, exists, &script))
    }

    /// Head a dry run of `versions` with what `up` would say of their unsafe operations.
    pub(crate) fn note_unsafe(&self, versions: &[u64], report: &mut Report) {
        if let Err(Error::Unsafe { count, .. }) = self.check_safety(versions, None)
            && let Some(sql) = &mut report.sql
        {
            sql.insert_str(
                0,
                &format!(
                    "-- `up` would refuse to run this: {count} operation(s) are unsafe on {} \
                     (`lint` shows them); `up --allow-unsafe` runs them anyway\n",
                    self.backend()
                ),
            );
        }
    }
}
