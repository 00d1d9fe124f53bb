//! What a [`Runner`](crate::Runner) is asked to do: its settings ([`Options`]) and the requests
//! of `up` ([`Up`]) and `down` ([`Down`], [`DownTarget`]). Plain data, no IO.

use std::time::Duration;

use godwit_core::Timeouts;

/// Settings of a [`Runner`](crate::Runner).
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
    /// Under this many rows, a change whose risk grows with the table (a scan, a rewrite, a
    /// copy under a lock) is a note for `up`, `plan` and `lint --live`, not a refusal
    /// (default 10,000).
    pub small_table_rows: u64,
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
            history_table: crate::history::DEFAULT_TABLE.to_string(),
            deploy_lock_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            timeouts: Timeouts {
                lock: Some(DEFAULT_LOCK_TIMEOUT),
                statement: Some(DEFAULT_STATEMENT_TIMEOUT),
                lock_retries: Some(DEFAULT_LOCK_RETRIES),
            },
            retry_backoff: Duration::from_secs(1),
            small_table_rows: godwit_core::lint::DEFAULT_SMALL_TABLE_ROWS,
        }
    }
}

impl Options {
    /// The history table's name.
    pub fn history_table(mut self, name: impl Into<String>) -> Self {
        self.history_table = name.into();
        self
    }
    /// How long to wait for another runner's migration lock.
    pub fn deploy_lock_timeout(mut self, timeout: Duration) -> Self {
        self.deploy_lock_timeout = timeout;
        self
    }
    /// Migrations' default timeouts: the fields set in `timeouts` replace the current ones.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts.or(self.timeouts);
        self
    }
    /// The row count under which a change whose risk grows with the table is a note, not a
    /// refusal.
    pub fn small_table_rows(mut self, rows: u64) -> Self {
        self.small_table_rows = rows;
        self
    }
    /// The pause before the first retry after a lock timeout; it doubles for each next one.
    pub fn retry_backoff(mut self, pause: Duration) -> Self {
        self.retry_backoff = pause;
        self
    }
    /// How long connecting may take.
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
    /// Run even though an applied migration's code changed since it ran.
    pub fn allow_changed(mut self, yes: bool) -> Self {
        self.allow_changed = yes;
        self
    }
    /// Run even though history holds migrations that are not in the code.
    pub fn allow_missing(mut self, yes: bool) -> Self {
        self.allow_missing = yes;
        self
    }
    /// Apply pending migrations older than the newest applied one.
    pub fn allow_out_of_order(mut self, yes: bool) -> Self {
        self.allow_out_of_order = yes;
        self
    }
    /// Run migrations even when lint finds operations in them unsafe on the backend and no
    /// `s.allow(..)` allows them.
    pub fn allow_unsafe(mut self, yes: bool) -> Self {
        self.allow_unsafe = yes;
        self
    }
    /// Stop after this version (it must exist); `None` applies every pending migration.
    pub fn to(mut self, version: Option<u64>) -> Self {
        self.to = version;
        self
    }
    /// All pending migrations in one transaction (PostgreSQL, SQLite).
    pub fn single_transaction(mut self, yes: bool) -> Self {
        self.single_transaction = yes;
        self
    }
    /// Return the SQL instead of running it.
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
    /// How many migrations to roll back.
    pub target: DownTarget,
    /// Return the SQL instead of running it.
    pub dry_run: bool,
}

impl Down {
    /// Roll back as far as `target` says (not a dry run).
    pub fn new(target: DownTarget) -> Self {
        Down {
            target,
            dry_run: false,
        }
    }
    /// Return the SQL instead of running it.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
}
