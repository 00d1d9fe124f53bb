//! [`Runner`]: apply and roll back migrations on a database, as a library.
//!
//! Every command follows the same steps: connect; read history (without creating it); work out
//! what to run; take the [lock](crate::lock); read history **again** (another deploy may have
//! run migrations while this one waited); render every migration to run, so that nothing starts
//! when one cannot be rendered; then run a *script* of steps, per migration:
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
//! A dry run prints the same script as SQL instead of running it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use godwit_core::{
    Backend, Catalog, DataStep, Migration, MigrationId, RenderedMigration, Statement, Timeouts,
};
use sqlx::Row;
use time::OffsetDateTime;

use crate::connect::{Conn, Purpose, connect};
use crate::error::{Error, Timeout, db_reason, timeout_kind};
use crate::history::{self, History, HistoryRow, RowStatus};
use crate::lock::{self, Lock};
use crate::url::DatabaseUrl;

/// What the runner tells whoever watches it: the CLI prints these and drives its progress bar.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Another runner holds the lock; this one waits up to `timeout`.
    WaitingForLock { holder: &'a str, timeout: Duration },
    /// `total` migrations are about to run in `direction`.
    Plan {
        direction: &'static str,
        total: usize,
    },
    /// A migration starts.
    Started {
        id: &'a MigrationId,
        direction: &'static str,
    },
    /// A migration timed out waiting for a lock and nothing of the try stays applied: it is
    /// tried again after `pause` (try `attempt` + 1 of `retries` + 1).
    Retrying {
        id: &'a MigrationId,
        direction: &'static str,
        attempt: u32,
        retries: u32,
        pause: Duration,
        /// The database's error.
        reason: &'a str,
    },
    /// A migration's statements and history write are done (committed, unless the whole run is
    /// one transaction).
    Finished {
        id: &'a MigrationId,
        direction: &'static str,
        elapsed: Duration,
    },
    /// A batched task (a backfill, `copy_rows`, a table of `copy`) committed a batch: `done`
    /// rows so far of about `total` (when known), `elapsed` since this run of it began, of
    /// which `done_before` rows were done by an earlier, interrupted run.
    Batch {
        task: &'a str,
        done: u64,
        done_before: u64,
        total: Option<u64>,
        elapsed: Duration,
    },
    /// A batched task finished: `done` rows in all, `elapsed` in this run.
    BatchDone {
        task: &'a str,
        done: u64,
        elapsed: Duration,
    },
}

/// Watches a [`Runner`]. Every method has a default that does nothing.
pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>) {
        let _ = event;
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;
impl Observer for Quiet {}

/// Settings of a [`Runner`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The history table's name (default `godwit_migrations`).
    pub history_table: String,
    /// How long to wait for another runner's migration lock (default 60 s).
    pub deploy_lock_timeout: Duration,
    /// How long connecting may take (default 10 s).
    pub connect_timeout: Duration,
    /// The lock timeout, statement timeout and lock retries of migrations that do not set their
    /// own (defaults: 5 s, 1 hour, 3 retries). Every field is set.
    pub timeouts: Timeouts,
    /// The pause before the first retry after a lock timeout; it doubles for each next one
    /// (default 1 s).
    pub retry_backoff: Duration,
}

/// The default lock timeout of a migration's statements.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// The default statement timeout.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(3600);
/// The default number of retries after a lock timeout.
pub const DEFAULT_LOCK_RETRIES: u32 = 3;

impl Default for Options {
    fn default() -> Self {
        Options {
            history_table: history::DEFAULT_TABLE.to_string(),
            deploy_lock_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            timeouts: Timeouts {
                lock: Some(DEFAULT_LOCK_TIMEOUT),
                statement: Some(DEFAULT_STATEMENT_TIMEOUT),
                lock_retries: Some(DEFAULT_LOCK_RETRIES),
            },
            retry_backoff: Duration::from_secs(1),
        }
    }
}

impl Options {
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.history_table = name.into();
        self
    }
    pub fn deploy_lock_timeout(mut self, timeout: Duration) -> Self {
        self.deploy_lock_timeout = timeout;
        self
    }
    /// Migrations' default timeouts: the fields set in `timeouts` replace the current ones.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts.or(self.timeouts);
        self
    }
    pub fn retry_backoff(mut self, pause: Duration) -> Self {
        self.retry_backoff = pause;
        self
    }
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// What `up` should do.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Up {
    /// Stop after this version (it must exist).
    pub to: Option<u64>,
    /// All pending migrations in one transaction (PostgreSQL, SQLite).
    pub single_transaction: bool,
    /// Return the SQL instead of running it.
    pub dry_run: bool,
    /// Run even though an applied migration's code changed since it ran.
    pub allow_changed: bool,
    /// Run even though history holds migrations that are not in the code.
    pub allow_missing: bool,
    /// Apply pending migrations older than the newest applied one.
    pub allow_out_of_order: bool,
    /// Run migrations even when lint finds operations in them unsafe on the backend and no
    /// `s.allow(..)` allows them.
    pub allow_unsafe: bool,
}

impl Up {
    pub fn allow_changed(mut self, yes: bool) -> Self {
        self.allow_changed = yes;
        self
    }
    pub fn allow_missing(mut self, yes: bool) -> Self {
        self.allow_missing = yes;
        self
    }
    pub fn allow_out_of_order(mut self, yes: bool) -> Self {
        self.allow_out_of_order = yes;
        self
    }
    pub fn allow_unsafe(mut self, yes: bool) -> Self {
        self.allow_unsafe = yes;
        self
    }
    pub fn to(mut self, version: Option<u64>) -> Self {
        self.to = version;
        self
    }
    pub fn single_transaction(mut self, yes: bool) -> Self {
        self.single_transaction = yes;
        self
    }
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
}

/// How far `down` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// The newest `n` applied migrations.
    Steps(usize),
    /// Every applied migration newer than this version (which stays applied).
    To(u64),
    /// Every applied migration.
    All,
}

/// What `down` should do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Down {
    pub target: DownTarget,
    pub dry_run: bool,
}

impl Down {
    pub fn new(target: DownTarget) -> Self {
        Down {
            target,
            dry_run: false,
        }
    }
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
}

/// A migration whose recorded checksum `repair` replaced.
#[derive(Debug, Clone)]
pub struct Repaired {
    pub id: MigrationId,
    /// The checksum history had.
    pub recorded: String,
    /// The checksum of its code now, recorded instead.
    pub current: String,
}

/// One migration that ran.
#[derive(Debug, Clone)]
pub struct Ran {
    pub id: MigrationId,
    pub direction: &'static str,
    pub elapsed: Duration,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Report {
    pub backend: Backend,
    /// The migrations that ran, in order.
    pub ran: Vec<Ran>,
    /// For a dry run: the exact SQL that would run, history writes included.
    pub sql: Option<String>,
}

/// Where one migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    Applied,
    Pending,
    /// `up` stopped part-way; see the row's `statement` and `error`.
    Partial,
    /// `down` stopped part-way.
    PartialDown,
    /// In history, but this binary has no migration with that version: missing from the code.
    Missing,
    /// Applied, but what it does now differs from what ran: its checksum changed.
    Changed,
    /// Pending, but older than the newest applied migration (merged from another branch).
    OutOfOrder,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Partial => "partial",
            State::PartialDown => "partial_down",
            State::Missing => "missing",
            State::Changed => "changed",
            State::OutOfOrder => "out_of_order",
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: u64,
    pub name: String,
    pub state: State,
    /// Its history row, when it has one.
    pub row: Option<HistoryRow>,
    /// The checksum of its code now, when it is applied and in the binary (it differs from the
    /// row's when the state is `Changed`).
    pub current_checksum: Option<String>,
}

/// Every migration, applied or not.
#[derive(Debug, Clone)]
pub struct Status {
    pub backend: Backend,
    /// The database URL, redacted.
    pub database: String,
    pub history_table: String,
    /// False when the history table does not exist yet (nothing was ever applied).
    pub history_exists: bool,
    /// By version; migrations in history but not in the binary too.
    pub migrations: Vec<MigrationStatus>,
}

impl Status {
    /// How many migrations are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.migrations.iter().filter(|m| m.state == state).count()
    }
    /// Whether every migration is applied as it is in the code: nothing pending, half-applied,
    /// changed, missing or out of order.
    pub fn is_up_to_date(&self) -> bool {
        self.migrations.iter().all(|m| m.state == State::Applied)
    }
}

/// `2026-11-20 09:00:00 UTC`.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Applies and rolls back migrations on one database.
///
/// ```no_run
/// # async fn start() -> Result<(), godwit_runner::Error> {
/// # let migrations: Vec<(godwit_core::MigrationId, &'static dyn godwit_core::Migration)> = Vec::new();
/// use godwit_runner::{DatabaseUrl, Runner, Up};
/// let url: DatabaseUrl = "postgres://app@localhost/blog".parse()?;
/// let report = Runner::new(url, migrations).up(&Up::default()).await?;
/// println!("{} migrations applied", report.ran.len());
/// # Ok(()) }
/// ```
pub struct Runner {
    url: DatabaseUrl,
    catalog: Catalog,
    options: Options,
    observer: Arc<dyn Observer>,
    /// Whether a MySQL-protocol server is MariaDB (their statement timeouts differ), once asked.
    mariadb: std::sync::OnceLock<bool>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("url", &self.url)
            .field("migrations", &self.catalog.entries().len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The direction a script runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Up,
    Down,
}

impl Dir {
    fn as_str(self) -> &'static str {
        match self {
            Dir::Up => "up",
            Dir::Down => "down",
        }
    }
}

/// One step of a script; `m` indexes the script's migrations, `i` is a 1-based statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
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
const RECORDS_PER_STATEMENT: usize = 500;

/// With `--single-transaction`, how many migrations go to the server in one round trip.
const MIGRATIONS_PER_BATCH: usize = 50;

/// How long since the current migration started.
fn elapsed_since(current: Option<(usize, Instant)>) -> Duration {
    current.map(|(_, t)| t.elapsed()).unwrap_or_default()
}

/// The steps that run a list of rendered migrations in one direction.
struct Script<'a> {
    dir: Dir,
    migrations: &'a [RenderedMigration],
    /// One unit per transaction (or per statement-by-statement migration).
    units: Vec<Unit>,
    /// Per migration: whether it has batched steps, and so runs in parts (see `script`).
    segmented: Vec<bool>,
    /// Per migration: the statement (1-based) it resumes at, when an earlier run stopped in it.
    resume: Vec<Option<usize>>,
    /// Per migration: when it started, once it has (a migration in parts spans several units).
    begun: std::sync::Mutex<Vec<Option<Instant>>>,
}

impl Script<'_> {
    /// When migration `m` started, and whether that is now.
    fn begin(&self, m: usize) -> (Instant, bool) {
        let mut begun = self.begun.lock().unwrap_or_else(|e| e.into_inner());
        match begun.get_mut(m) {
            Some(Some(t)) => (*t, false),
            Some(slot) => (*slot.insert(Instant::now()), true),
            None => (Instant::now(), true),
        }
    }
}

/// Whether a migration has batched steps (`backfill`, `copy_rows`).
fn has_batched(m: &RenderedMigration) -> bool {
    m.statements.iter().any(is_batched)
}

fn is_batched(st: &Statement) -> bool {
    matches!(st.data, Some(DataStep::Batched(_)))
}

struct Unit {
    transactional: bool,
    /// The whole run in one transaction.
    single: bool,
    steps: Vec<Step>,
}

impl Runner {
    /// A runner for `url` and every migration the binary has (as `godwit::registrations`
    /// resolves them).
    pub fn new<'a>(
        url: DatabaseUrl,
        migrations: impl IntoIterator<Item = (MigrationId, &'a dyn Migration)>,
    ) -> Runner {
        Runner {
            url,
            catalog: Catalog::new(migrations),
            options: Options::default(),
            observer: Arc::new(Quiet),
            mariadb: std::sync::OnceLock::new(),
        }
    }

    pub fn with_options(mut self, options: Options) -> Runner {
        self.options = options;
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Runner {
        self.observer = observer;
        self
    }

    /// Every migration of the runner, recorded.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The same migrations and options on another database, unobserved.
    pub(crate) fn on(&self, url: DatabaseUrl) -> Runner {
        Runner {
            url,
            catalog: self.catalog.clone(),
            options: self.options.clone(),
            observer: Arc::new(Quiet),
            mariadb: std::sync::OnceLock::new(),
        }
    }

    /// Record `migrations` as applied without running them (`baseline`), under the lock, in one
    /// transaction; refused when history has rows already.
    pub(crate) async fn record_applied(
        &self,
        migrations: &[RenderedMigration],
        at: OffsetDateTime,
    ) -> Result<Vec<MigrationId>, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let lock = self.lock().await?;
            let result = async {
                let (_, rows) = self.read(&mut conn, &history).await?;
                if !rows.is_empty() {
                    return Err(Error::Baseline {
                        table: history.table.clone(),
                        rows: rows.len(),
                    });
                }
                history.create(&mut conn).await?;
                let fail = |e: sqlx::Error| Error::Database {
                    backend: self.backend(),
                    action: format!("recording the baseline in {}", history.table),
                    reason: db_reason(&e),
                };
                conn.batch("BEGIN").await.map_err(fail)?;
                for m in migrations {
                    let st = history.insert(m, RowStatus::Applied, at, 0);
                    if let Err(e) = conn.execute(&st).await {
                        let _ = conn.batch("ROLLBACK").await;
                        return Err(fail(e));
                    }
                }
                conn.batch("COMMIT").await.map_err(fail)?;
                Ok(migrations.iter().map(|m| m.id.clone()).collect())
            }
            .await;
            release(lock, result).await
        }
        .await;
        conn.close().await;
        result
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The progress table of batched steps, named after the history table.
    fn progress(&self) -> crate::batch::Progress {
        crate::batch::Progress::new(&self.options.history_table, self.backend())
    }

    fn history(&self) -> Result<History, Error> {
        history::check_table_name(&self.options.history_table)?;
        if self.backend() == Backend::Sqlite && self.url.sqlite_file().is_none() {
            return Err(Error::InMemory);
        }
        Ok(History {
            table: self.options.history_table.clone(),
            backend: self.backend(),
        })
    }

    async fn connect(&self, purpose: Purpose) -> Result<Conn, Error> {
        connect(
            &self.url,
            purpose,
            self.options.connect_timeout,
            self.options.deploy_lock_timeout,
        )
        .await
    }

    async fn lock(&self) -> Result<Lock, Error> {
        lock::acquire(
            &self.url,
            &self.options.history_table,
            self.options.deploy_lock_timeout,
            self.options.connect_timeout,
            &*self.observer,
        )
        .await
    }

    fn versions(&self) -> impl Iterator<Item = &MigrationId> {
        self.catalog.entries().iter().map(|e| &e.id)
    }

    /// An error unless `version` is a migration of this binary (or, for `down --to`, in history).
    fn check_known(&self, version: u64, rows: &[HistoryRow]) -> Result<(), Error> {
        if self.versions().any(|id| id.version == version)
            || rows.iter().any(|r| r.version == version)
        {
            return Ok(());
        }
        let ids: Vec<&MigrationId> = self.versions().collect();
        let known = match (ids.first(), ids.last()) {
            (Some(first), Some(last)) => format!(
                "the {} migrations run from {} to {}",
                ids.len(),
                first.version,
                last.version
            ),
            _ => "there are no migrations".to_string(),
        };
        Err(Error::UnknownVersion { version, known })
    }

    /// What the next run must do by hand before anything else can run.
    fn check_half_applied(&self, rows: &[HistoryRow]) -> Result<(), Error> {
        self.check_half_applied_but(rows, &BTreeMap::new())
    }

    /// [`check_half_applied`](Self::check_half_applied), except for the migrations `up` resumes.
    fn check_half_applied_but(
        &self,
        rows: &[HistoryRow],
        resumed: &BTreeMap<u64, usize>,
    ) -> Result<(), Error> {
        match rows
            .iter()
            .find(|r| r.status != RowStatus::Applied && !resumed.contains_key(&r.version))
        {
            None => Ok(()),
            Some(r) => Err(Error::HalfApplied {
                id: MigrationId {
                    version: r.version,
                    name: r.name.clone(),
                },
                version: r.version,
                direction: if r.status == RowStatus::PartialDown {
                    "down"
                } else {
                    "up"
                },
                statement: r.statement.unwrap_or(1),
                error: r
                    .error
                    .as_deref()
                    .map(|e| format!(" (error: {e})"))
                    .unwrap_or_default(),
                backend_arg: self.backend().as_str(),
                down_flag: if r.status == RowStatus::PartialDown {
                    " --down"
                } else {
                    ""
                },
                table: self.options.history_table.clone(),
            }),
        }
    }

    /// Read history, or nothing when the table does not exist.
    async fn read(
        &self,
        conn: &mut Conn,
        history: &History,
    ) -> Result<(bool, Vec<HistoryRow>), Error> {
        if history.exists(conn).await? {
            Ok((true, history.read(conn).await?))
        } else {
            Ok((false, Vec::new()))
        }
    }

    /// The versions `up` would apply, oldest first, and where it resumes those an earlier run
    /// stopped in: a migration that runs in parts (it has batched steps) resumes at the start
    /// of the part it stopped in, where that part ran in a transaction or is a batched step.
    fn pending_resumed(
        &self,
        rows: &[HistoryRow],
        to: Option<u64>,
    ) -> Result<(Vec<u64>, BTreeMap<u64, usize>), Error> {
        let mut resumed = BTreeMap::new();
        for r in rows.iter().filter(|r| r.status == RowStatus::Partial) {
            if to.is_some_and(|to| r.version > to)
                || !self.versions().any(|id| id.version == r.version)
            {
                continue;
            }
            let Ok(rendered) = self.catalog.render_up(self.backend(), Some(&[r.version])) else {
                continue;
            };
            let Some(rm) = rendered.first() else { continue };
            let at = r.statement.unwrap_or(1);
            // Where it stopped, nothing of the part it stopped in stayed applied: a part in a
            // transaction, a batched step (its batches commit with their progress), or, on
            // MySQL, Rust code (in a transaction of its own there).
            let resumable = at >= 1
                && at <= rm.statements.len()
                && ((has_batched(rm) && self.backend() != Backend::MySql)
                    || rm.statements[at - 1].data.is_some());
            if resumable {
                resumed.insert(r.version, at);
            }
        }
        self.check_half_applied_but(rows, &resumed)?;
        let mut versions: Vec<u64> = resumed.keys().copied().collect();
        versions.extend(self.pending_unchecked(rows, to));
        versions.sort_unstable();
        Ok((versions, resumed))
    }

    /// Whether history, read without the lock, may need work under it: a `partial` row may be
    /// another runner's migration in progress, and is judged only under the lock.
    fn needs_lock(&self, rows: &[HistoryRow], to: Option<u64>) -> bool {
        rows.iter().any(|r| r.status != RowStatus::Applied)
            || !self.pending_unchecked(rows, to).is_empty()
    }

    fn pending_unchecked(&self, rows: &[HistoryRow], to: Option<u64>) -> Vec<u64> {
        let applied: BTreeSet<u64> = rows.iter().map(|r| r.version).collect();
        self.versions()
            .map(|id| id.version)
            .filter(|v| !applied.contains(v) && to.is_none_or(|to| *v <= to))
            .collect()
    }

    /// The versions `down` would roll back, newest first.
    fn to_roll_back(&self, rows: &[HistoryRow], target: DownTarget) -> Result<Vec<u64>, Error> {
        self.check_half_applied(rows)?;
        let mut applied: Vec<u64> = rows.iter().map(|r| r.version).collect();
        applied.sort_unstable_by(|a, b| b.cmp(a));
        let chosen: Vec<u64> = match target {
            DownTarget::Steps(n) => applied.into_iter().take(n).collect(),
            DownTarget::To(to) => {
                self.check_known(to, rows)?;
                applied.into_iter().take_while(|v| *v > to).collect()
            }
            DownTarget::All => applied,
        };
        for v in &chosen {
            if !self.versions().any(|id| id.version == *v) {
                return Err(Error::NotInBinary {
                    version: *v,
                    table: self.options.history_table.clone(),
                });
            }
        }
        Ok(chosen)
    }

    /// Where every migration stands. Read-only: never creates the history table, takes no lock,
    /// and opens an SQLite file read-only (a missing file means nothing is applied).
    pub async fn status(&self) -> Result<Status, Error> {
        let history = self.history()?;
        let (exists, rows) = self.read_only(&history).await?;
        let current = self.current_checksums(&rows);
        let newest = rows.iter().map(|r| r.version).max();
        let by_version: std::collections::BTreeMap<u64, &HistoryRow> =
            rows.iter().map(|r| (r.version, r)).collect();
        let mut migrations: Vec<MigrationStatus> = self
            .versions()
            .map(|id| {
                let row = by_version.get(&id.version).map(|r| (*r).clone());
                let current_checksum = current.get(&id.version).cloned();
                let state = match row.as_ref() {
                    None if newest.is_some_and(|n| id.version < n) => State::OutOfOrder,
                    None => State::Pending,
                    Some(r) => match r.status {
                        RowStatus::Applied
                            if current_checksum.as_ref().is_some_and(|c| *c != r.checksum) =>
                        {
                            State::Changed
                        }
                        RowStatus::Applied => State::Applied,
                        RowStatus::Partial => State::Partial,
                        RowStatus::PartialDown => State::PartialDown,
                    },
                };
                MigrationStatus {
                    version: id.version,
                    name: id.name.clone(),
                    state,
                    row,
                    current_checksum,
                }
            })
            .collect();
        let known: BTreeSet<u64> = self.versions().map(|id| id.version).collect();
        for r in &rows {
            if !known.contains(&r.version) {
                migrations.push(MigrationStatus {
                    version: r.version,
                    name: r.name.clone(),
                    state: State::Missing,
                    row: Some(r.clone()),
                    current_checksum: None,
                });
            }
        }
        migrations.sort_by_key(|m| m.version);
        Ok(Status {
            backend: self.backend(),
            database: self.url.redacted().to_string(),
            history_table: self.options.history_table.clone(),
            history_exists: exists,
            migrations,
        })
    }

    /// The checksums, as their code renders now, of the applied migrations that are in the
    /// binary. Empty when the migrations do not render (running them says why).
    fn current_checksums(&self, rows: &[HistoryRow]) -> std::collections::BTreeMap<u64, String> {
        let known: BTreeSet<u64> = self.versions().map(|id| id.version).collect();
        let versions: Vec<u64> = rows
            .iter()
            .filter(|r| r.status == RowStatus::Applied && known.contains(&r.version))
            .map(|r| r.version)
            .collect();
        if versions.is_empty() {
            return Default::default();
        }
        self.catalog
            .render_up(self.backend(), Some(&versions))
            .map(|ms| {
                ms.iter()
                    .map(|m| (m.id.version, history::checksum(m)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Refuse to run when history and the code disagree, unless `up` allows the case: an
    /// applied migration whose code changed, an applied one missing from the code, a pending one
    /// older than the newest applied (to run as `pending`).
    fn check_history(&self, rows: &[HistoryRow], pending: &[u64], up: &Up) -> Result<(), Error> {
        let mut problems = Vec::new();
        if !up.allow_changed {
            let current = self.current_checksums(rows);
            for r in rows {
                if let Some(now) = current.get(&r.version).filter(|c| **c != r.checksum) {
                    problems.push(format!(
                        "changed: {} {} differs from what ran (history has checksum {}, its code now {now}); \
                         undo the edit and write a new migration for the change, or, once the edit is reviewed \
                         and the database matches it, run `repair` to record the new checksum \
                         (`up --allow-changed` runs anyway)",
                        r.version, r.name, r.checksum
                    ));
                }
            }
        }
        if !up.allow_missing {
            let known: BTreeSet<u64> = self.versions().map(|id| id.version).collect();
            for r in rows.iter().filter(|r| !known.contains(&r.version)) {
                problems.push(format!(
                    "missing: {} {} is applied but not in the code; restore its file (a merge may have \
                     lost it), or, if it was removed on purpose, run `up --allow-missing`",
                    r.version, r.name
                ));
            }
        }
        if !up.allow_out_of_order
            && let Some(newest) = rows.iter().max_by_key(|r| r.version)
        {
            for v in pending.iter().filter(|v| **v < newest.version) {
                let name = self
                    .versions()
                    .find(|id| id.version == *v)
                    .map(|id| id.name.as_str())
                    .unwrap_or_default();
                problems.push(format!(
                    "out of order: {v} {name} is pending but older than {} {}, the newest applied \
                     (it probably comes from a branch merged late); give it a version newer than {} \
                     (rename its file), or apply it as it is with `up --allow-out-of-order`",
                    newest.version, newest.name, newest.version
                ));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::History {
            count: problems.len(),
            problems: problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }

    /// Record the current checksum (and name) of every applied migration whose code changed
    /// since it ran, after a person reviewed the change: what `status` calls `changed` becomes
    /// `applied`. Nothing else changes. Returns what it recorded.
    pub async fn repair(&self) -> Result<Vec<Repaired>, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let (exists, _) = self.read(&mut conn, &history).await?;
            if !exists {
                return Ok(Vec::new());
            }
            let lock = self.lock().await?;
            let result = async {
                let (_, rows) = self.read(&mut conn, &history).await?;
                let current = self.current_checksums(&rows);
                let mut repaired = Vec::new();
                for r in &rows {
                    let Some(id) = self.versions().find(|id| id.version == r.version) else {
                        continue;
                    };
                    let Some(now) = current.get(&r.version) else {
                        continue;
                    };
                    if *now != r.checksum || id.name != r.name {
                        repaired.push(Repaired {
                            id: id.clone(),
                            recorded: r.checksum.clone(),
                            current: now.clone(),
                        });
                    }
                }
                if repaired.is_empty() {
                    return Ok(repaired);
                }
                let fail = |e: sqlx::Error| Error::Database {
                    backend: self.backend(),
                    action: format!("recording checksums in {}", history.table),
                    reason: db_reason(&e),
                };
                conn.batch("BEGIN").await.map_err(fail)?;
                for r in &repaired {
                    let st = history.set_checksum(r.id.version, &r.id.name, &r.current);
                    if let Err(e) = conn.execute(&st).await {
                        let _ = conn.batch("ROLLBACK").await;
                        return Err(fail(e));
                    }
                }
                conn.batch("COMMIT").await.map_err(fail)?;
                Ok(repaired)
            }
            .await;
            release(lock, result).await
        }
        .await;
        conn.close().await;
        result
    }

    /// History, read without changing anything: an SQLite file is opened read-only, and a
    /// missing one is not created (nothing is applied to it).
    async fn read_only(&self, history: &History) -> Result<(bool, Vec<HistoryRow>), Error> {
        if self.url.sqlite_file().is_some_and(|f| !f.exists()) {
            return Ok((false, Vec::new()));
        }
        let mut conn = self.connect(Purpose::ReadOnly).await?;
        let read = self.read(&mut conn, history).await;
        self.detect_flavor(&mut conn).await;
        conn.close().await;
        read
    }

    /// Apply pending migrations, oldest first, up to `up.to`.
    pub async fn up(&self, up: &Up) -> Result<Report, Error> {
        let history = self.history()?;
        if let Some(to) = up.to {
            self.check_known(to, &[])?;
        }
        if up.single_transaction && self.backend() == Backend::MySql {
            return Err(Error::SingleTransactionUnsupported {
                backend: self.backend(),
            });
        }
        if up.dry_run {
            let (exists, rows) = self.read_only(&history).await?;
            let (versions, resumed) = self.pending_resumed(&rows, up.to)?;
            self.check_history(&rows, &versions, up)?;
            let rendered = self.render(Dir::Up, &versions)?;
            let script = self.script(Dir::Up, &rendered, up.single_transaction, &resumed)?;
            let mut report = self.dry_run_report(&history, exists, &script);
            if !up.allow_unsafe
                && let Err(Error::Unsafe { count, .. }) = self.check_safety(&versions)
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
            return Ok(report);
        }
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = self.up_on(&mut conn, &history, up).await;
        conn.close().await;
        result
    }

    async fn up_on(&self, conn: &mut Conn, history: &History, up: &Up) -> Result<Report, Error> {
        let (_, rows) = self.read(conn, history).await?;
        if !self.needs_lock(&rows, up.to) {
            // Nothing runs: missing migrations are still refused, but checksums are not
            // recomputed (rendering every applied migration would triple the cost of a no-op
            // `up`); `status` and an `up` with work to do compare them.
            self.check_history(&rows, &[], &up.clone().allow_changed(true))?;
            return Ok(self.report(Vec::new()));
        }
        let lock = self.lock().await?;
        let result = async {
            let (_, rows) = self.read(conn, history).await?;
            let (versions, resumed) = self.pending_resumed(&rows, up.to)?;
            self.check_history(&rows, &versions, up)?;
            if !up.allow_unsafe {
                self.check_safety(&versions)?;
            }
            self.apply_resumed(conn, history, &versions, up.single_transaction, &resumed)
                .await
        }
        .await;
        release(lock, result).await.map(|ran| self.report(ran))
    }

    /// Refuse `versions` when lint finds an operation in them unsafe on this backend that no
    /// `s.allow(..)` allows.
    fn check_safety(&self, versions: &[u64]) -> Result<(), Error> {
        if versions.is_empty() {
            return Ok(());
        }
        let findings = self.catalog.lint(self.backend(), Some(versions))?;
        let unsafe_ones: Vec<String> = findings
            .iter()
            .filter(|f| f.allowed.is_none())
            .map(|f| {
                f.to_string()
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        if unsafe_ones.is_empty() {
            return Ok(());
        }
        Err(Error::Unsafe {
            backend: self.backend(),
            count: unsafe_ones.len(),
            findings: unsafe_ones.join("\n"),
        })
    }

    /// Roll back applied migrations, newest first.
    pub async fn down(&self, down: &Down) -> Result<Report, Error> {
        let history = self.history()?;
        if down.dry_run {
            let (exists, rows) = self.read_only(&history).await?;
            let versions = self.to_roll_back(&rows, down.target)?;
            let rendered = self.render(Dir::Down, &versions)?;
            let script = self.script(Dir::Down, &rendered, false, &BTreeMap::new())?;
            return Ok(self.dry_run_report(&history, exists, &script));
        }
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = self.down_on(&mut conn, &history, down).await;
        conn.close().await;
        result
    }

    async fn down_on(
        &self,
        conn: &mut Conn,
        history: &History,
        down: &Down,
    ) -> Result<Report, Error> {
        let (_, rows) = self.read(conn, history).await?;
        if let DownTarget::To(to) = down.target {
            self.check_known(to, &rows)?;
        }
        if rows.is_empty() {
            return Ok(self.report(Vec::new()));
        }
        let lock = self.lock().await?;
        let result = async {
            let (_, rows) = self.read(conn, history).await?;
            let versions = self.to_roll_back(&rows, down.target)?;
            self.apply(conn, history, Dir::Down, &versions, false).await
        }
        .await;
        release(lock, result).await.map(|ran| self.report(ran))
    }

    /// Roll back the newest `steps` migrations and apply them again, under one lock.
    pub async fn redo(&self, steps: usize) -> Result<Report, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let (_, rows) = self.read(&mut conn, &history).await?;
            if rows.is_empty() || steps == 0 {
                return Ok(Vec::new());
            }
            let lock = self.lock().await?;
            let result = async {
                let (_, rows) = self.read(&mut conn, &history).await?;
                let versions = self.to_roll_back(&rows, DownTarget::Steps(steps))?;
                // Render both directions before anything runs.
                self.render(Dir::Up, &versions)?;
                let mut ran = self
                    .apply(&mut conn, &history, Dir::Down, &versions, false)
                    .await?;
                let mut again = versions.clone();
                again.reverse();
                ran.extend(
                    self.apply(&mut conn, &history, Dir::Up, &again, false)
                        .await?,
                );
                Ok(ran)
            }
            .await;
            release(lock, result).await
        }
        .await;
        conn.close().await;
        result.map(|ran| self.report(ran))
    }

    /// Drop every table and view of the database (history included), then apply every
    /// migration, under one lock.
    pub async fn fresh(&self) -> Result<Report, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let all: Vec<u64> = self.versions().map(|id| id.version).collect();
            self.render(Dir::Up, &all)?;
            let lock = self.lock().await?;
            let result = async {
                drop_everything(&mut conn).await?;
                self.apply(&mut conn, &history, Dir::Up, &all, false).await
            }
            .await;
            release(lock, result).await
        }
        .await;
        conn.close().await;
        result.map(|ran| self.report(ran))
    }

    fn report(&self, ran: Vec<Ran>) -> Report {
        Report {
            backend: self.backend(),
            ran,
            sql: None,
        }
    }

    /// A migration's timeouts, the runner's defaults filling in what it does not set.
    fn timeouts_of(&self, m: &RenderedMigration) -> Timeouts {
        m.timeouts.or(self.options.timeouts)
    }

    /// The SQL that sets the session's timeouts to migration `m`'s. SQLite's statement timeout
    /// is not SQL: [`Conn::set_sqlite_statement_timeout`] sets it.
    fn timeouts_sql(&self, m: &RenderedMigration) -> String {
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

    /// Find out, once, whether a MySQL-protocol server is MariaDB.
    async fn detect_flavor(&self, conn: &mut Conn) {
        if self.backend() != Backend::MySql || self.mariadb.get().is_some() {
            return;
        }
        if let Ok(version) = conn.strings("SELECT VERSION()").await
            && let Some(v) = version.first()
        {
            let _ = self.mariadb.set(v.to_ascii_lowercase().contains("mariadb"));
        }
    }

    fn render(&self, dir: Dir, versions: &[u64]) -> Result<Vec<RenderedMigration>, Error> {
        if versions.is_empty() {
            return Ok(Vec::new());
        }
        Ok(match dir {
            Dir::Up => self.catalog.render_up(self.backend(), Some(versions))?,
            Dir::Down => self.catalog.render_down(self.backend(), Some(versions))?,
        })
    }

    /// The steps that run `migrations`: one transaction each where the backend allows it, one
    /// for all with `single`, statement by statement otherwise.
    fn script<'a>(
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
    fn segments(
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
    fn step_sql(
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

    fn unit_of<'s>(&self, script: &'s Script<'_>, m: usize) -> Option<&'s Unit> {
        script.units.iter().find(|u| {
            u.steps
                .iter()
                .any(|s| matches!(s, Step::Record { m: x } if *x == m))
        })
    }

    /// The script as SQL, for a dry run.
    fn dry_run_report(&self, history: &History, exists: bool, script: &Script<'_>) -> Report {
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
        for unit in &script.units {
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
                let _ = writeln!(out, "{sql};");
            }
        }
        Report {
            backend: self.backend(),
            ran: Vec::new(),
            sql: Some(out),
        }
    }

    /// Render and run `versions` in `dir`.
    async fn apply(
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
    async fn apply_resumed(
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

    async fn apply_script(
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
        for unit in &script.units {
            // A transactional unit that timed out waiting for a lock was rolled back whole: it
            // is tried again from its start. (Statement by statement, the statement that timed
            // out is tried again in place: see `run_unit`.)
            let retries = self.retries_of(&script, unit);
            let mut attempt = 0;
            loop {
                let before = ran.len();
                let tries = Tries { attempt, retries };
                match self
                    .run_unit(conn, history, &script, unit, &mut ran, &mut times, tries)
                    .await
                {
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
        Ok(ran)
    }

    /// How often the migrations of `unit` are tried again after a lock timeout.
    fn retries_of(&self, script: &Script<'_>, unit: &Unit) -> u32 {
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
    async fn pause_before_retry(
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

    /// What to tell a person whose migration ran out of time, after `tries` tries.
    fn timeout_hint(&self, rm: &RenderedMigration, kind: Timeout, tries: u32) -> String {
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

    #[allow(clippy::too_many_arguments)]
    async fn run_unit(
        &self,
        conn: &mut Conn,
        history: &History,
        script: &Script<'_>,
        unit: &Unit,
        ran: &mut Vec<Ran>,
        times: &mut [u64],
        tries: Tries,
    ) -> Result<(), Failed> {
        // Statement by statement, the retries spent on this unit's statements.
        let mut spent = 0;
        let mut in_tx = false;
        let mut fk_off = false;
        let mut current: Option<(usize, Instant)> = None;
        let direction = script.dir.as_str();
        let steps = &unit.steps;
        let mut k = 0;
        while k < steps.len() {
            let step = steps[k];
            k += 1;
            if let Some(m) = step_migration(step)
                && current.is_none_or(|(c, _)| c != m)
            {
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
                current = group.last().map(|m| (*m, Instant::now()));
                continue;
            }
            match step {
                Step::Statement { m, i } => {
                    let st = &script.migrations[m].statements[i - 1];
                    if let Err(e) = self.run_statement(conn, script, (m, i), st).await {
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
                    if let Err(e) = conn.execute(&st).await {
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
    async fn run_statement(
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
    fn finish_step(
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

    /// A batch of statements failed: the unit's transaction is rolled back. To say which
    /// statement failed, the unit's statements run again one at a time in a transaction that is
    /// rolled back too.
    #[allow(clippy::too_many_arguments)]
    async fn replay_failed(
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
        let what = match unit_migration(unit) {
            Some(m) if !unit.single => format!("migration {}", script.migrations[m].id),
            _ => "--single-transaction".to_string(),
        };
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
    async fn statement_failed(
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

/// Why a statement, Rust code or batched step failed.
#[derive(Debug)]
struct StepFailure {
    /// The database's error, or the code's.
    reason: String,
    timeout: Option<Timeout>,
    /// A batched step: the rows it had done, in batches that stay committed.
    batch_done: Option<u64>,
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

/// The migration a step belongs to, if it belongs to one.
fn step_migration(step: Step) -> Option<usize> {
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
fn batchable(script: &Script<'_>, rest: &[Step], m: usize) -> Option<usize> {
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
fn unit_first(unit: &Unit) -> Option<usize> {
    unit.steps.iter().find_map(|s| step_migration(*s))
}

/// Which try of a unit this is, of how many.
#[derive(Debug, Clone, Copy)]
struct Tries {
    /// 0 for the first try.
    attempt: u32,
    /// Retries allowed after the first try.
    retries: u32,
}

impl Tries {
    /// Whether another try may follow this one.
    fn left(self) -> bool {
        self.attempt < self.retries
    }
}

/// Why a unit stopped.
enum Failed {
    /// It timed out waiting for a lock and nothing of it stays applied: try it again.
    Retry {
        m: usize,
        reason: String,
    },
    Fatal(Error),
}

/// The migration of a unit that runs one migration.
fn unit_migration(unit: &Unit) -> Option<usize> {
    unit.steps.iter().find_map(|s| step_migration(*s))
}

/// Release the lock after `result`: the result's error wins over a failure to release (the
/// connection closes either way, which releases the lock too).
async fn release<T>(lock: Lock, result: Result<T, Error>) -> Result<T, Error> {
    let released = lock.release().await;
    let value = result?;
    released?;
    Ok(value)
}

/// Roll back an open transaction and turn foreign keys back on, ignoring errors: this runs on
/// the error path, and the connection is closed afterwards anyway.
async fn abort(conn: &mut Conn, in_tx: bool, fk_off: bool) {
    if in_tx {
        let _ = conn.batch("ROLLBACK").await;
    }
    if fk_off {
        let _ = conn.batch("PRAGMA foreign_keys = ON").await;
    }
}

/// `PRAGMA foreign_key_check`, one line per violation.
async fn foreign_key_violations(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
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

/// Drop every table, view and sequence of the database (PostgreSQL: of its current schema).
async fn drop_everything(conn: &mut Conn) -> Result<(), Error> {
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

/// A duration in its largest whole unit: `(5, "s")`, `(1, "h")`, `(250, "ms")`.
fn in_unit(d: Duration) -> (u128, &'static str) {
    let ms = d.as_millis();
    match ms {
        0 => (0, "ms"),
        ms if ms % 3_600_000 == 0 => (ms / 3_600_000, "h"),
        ms if ms % 60_000 == 0 => (ms / 60_000, "min"),
        ms if ms % 1000 == 0 => (ms / 1000, "s"),
        ms => (ms, "ms"),
    }
}

/// A duration as PostgreSQL reads it in `SET lock_timeout`: `5s`, `1h`, `250ms`; `0` for none.
fn pg_interval(d: Duration) -> String {
    match in_unit(d) {
        (0, _) => "0".to_string(),
        (n, unit) => format!("{n}{unit}"),
    }
}

/// A duration for messages: `5 s`, `1 h`, `250 ms`; `no limit` for zero.
pub fn human_duration(d: Duration) -> String {
    match in_unit(d) {
        (0, _) => "no limit".to_string(),
        (n, unit) => format!("{n} {unit}"),
    }
}
