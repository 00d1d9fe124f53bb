//! What can go wrong when applying migrations. Every message is one lowercase line that names
//! the migration (and statement) concerned, the database's own error, and what to do.
//!
//! **Invariant:** no message holds a password: URLs are shown redacted and connection errors are
//! scrubbed (see [`DatabaseUrl::scrub`](crate::DatabaseUrl::scrub)).

use std::time::Duration;

use godwit_core::{Backend, MigrationId};

/// An error of the runner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database URL is empty, malformed, or names a backend that is not compiled in.
    #[error("{source_name} is not a usable database URL{url}: {reason}")]
    InvalidUrl {
        /// `` (`the URL, redacted`)``, or empty when the text is not shaped like a URL at all
        /// (it could be anything, a password included).
        url: String,
        /// Where it came from: `--database-url`, `DATABASE_URL`, ...
        source_name: String,
        /// What is wrong with it and how to write it, with any password scrubbed.
        reason: String,
    },

    /// No database was given, and the default one (an SQLite file) is not built in.
    #[error(
        "no database given: pass --database-url, or set DATABASE_URL (in the environment or a \
         .env file); the default, the SQLite file `{default}`, needs the `{feature}` feature, \
         and this migrations binary was built for {built} only"
    )]
    NoDatabase {
        /// The default URL, redacted.
        default: String,
        /// The feature the default needs.
        feature: &'static str,
        /// The backends this build has, in words.
        built: String,
    },

    /// A `.env` file that was searched for `DATABASE_URL` cannot be read or parsed.
    #[error("cannot read `{path}`: {reason}")]
    DotEnv {
        /// The `.env` file's path.
        path: String,
        /// Why it cannot be read, or where a line fails to parse (the line itself is not
        /// shown, as it may hold a password).
        reason: String,
    },

    /// Connecting to the database failed.
    #[error("cannot connect to {backend} at {url}: {reason}; {fix}")]
    Connect {
        /// The backend the URL names.
        backend: Backend,
        /// Redacted.
        url: String,
        /// The driver's or the server's error, with any password scrubbed.
        reason: String,
        /// What to check: the path, the user name and password, the database name, or the server
        /// and host.
        fix: String,
    },

    /// A query the runner needed failed (reading or writing history, taking or releasing the lock,
    /// `fresh`, ...).
    #[error("{action} failed on {backend}: {reason}")]
    Database {
        /// The backend it ran on.
        backend: Backend,
        /// What the runner was doing: `reading the history table godwit_migrations`.
        action: String,
        /// The database's error: its message and code when it answered.
        reason: String,
    },

    /// A migration's statement failed: nothing of it stays applied where the backend has
    /// transactional DDL; elsewhere `outcome` says what history holds.
    #[error(
        "migration {id} ({direction}) failed at statement {statement} of {of} on {backend}: {reason}\n  \
         statement: {sql}\n  {outcome}"
    )]
    Statement {
        /// The migration.
        id: MigrationId,
        /// `up` or `down`.
        direction: &'static str,
        /// The backend it ran on.
        backend: Backend,
        /// 1-based.
        statement: usize,
        /// How many statements the migration has in this direction.
        of: usize,
        /// The statement as the dry run prints it, cut after 300 characters.
        sql: String,
        /// The database's error.
        reason: String,
        /// What was kept and what to do next.
        outcome: String,
    },

    /// SQLite: a migration that ran with foreign keys off leaves rows that break them, so it was
    /// rolled back.
    #[error(
        "migration {id} ({direction}) leaves foreign keys violated on SQLite ({violations}); \
         nothing of it was kept: fix the data it moves, or the rows that break the keys, and run again"
    )]
    ForeignKeys {
        /// The migration.
        id: MigrationId,
        /// `up` or `down`.
        direction: &'static str,
        /// The violations `PRAGMA foreign_key_check` found, separated by `; ` (or why it failed).
        violations: String,
    },

    /// A migration stopped part-way on a backend without transactional DDL.
    #[error(
        "migration {id} is half-applied: {direction} stopped at statement {statement}{error}; \
         {before}. Print its SQL with `sql --backend {backend_arg}{down_flag} {version}`, \
         undo or finish those statements by hand, then record the result in {table}: \
         `DELETE FROM {table} WHERE version = {version}` when the migration is now fully undone, \
         or `UPDATE {table} SET status = 'applied', statement = NULL, error = NULL WHERE version = {version}` \
         when it is now fully applied"
    )]
    HalfApplied {
        /// The migration.
        id: MigrationId,
        /// Its version, for the commands the message shows.
        version: u64,
        /// `up` or `down`: the direction that stopped.
        direction: &'static str,
        /// The statement it stopped at (1-based), as history has it.
        statement: usize,
        /// `` (error: ...)`` or empty.
        error: String,
        /// What ran before it, in words.
        before: String,
        /// The backend's name as `sql --backend` takes it.
        backend_arg: &'static str,
        /// ` --down` when the down direction stopped, else empty.
        down_flag: &'static str,
        /// The history table, in which the result is to be recorded.
        table: String,
    },

    /// MySQL/MariaDB: the statement a killed runner stopped at still runs on the server.
    #[error(
        "migration {id} stopped at statement {statement}, which the server is still running in \
         connection {connection}, left by a runner that was killed: wait for it to finish (or \
         `KILL` it), then run `up` again, which says what to do about the half-applied migration"
    )]
    StillRunning {
        /// The migration.
        id: MigrationId,
        /// The statement (1-based) the server still runs.
        statement: usize,
        /// The server's connection running it: its id and how long it has run.
        connection: String,
    },

    /// The migration lock was lost while this runner migrated.
    #[error(
        "the migration lock was lost ({reason}), so this runner stopped: another deploy may be \
         migrating now; what was in a transaction was rolled back where the backend has \
         transactional DDL; run `status` to see where things stand, then `up` again"
    )]
    LockLost {
        /// How it was lost: the server no longer counts this runner as the holder, or the
        /// connection that held it failed or stopped answering.
        reason: String,
    },

    /// The migration lock was not free within the deploy lock timeout.
    #[error(
        "timed out after {waited:?} waiting for the migration lock on {url}, held by {holder}: \
         another deploy is migrating this database; wait for it to finish, or raise --deploy-lock-timeout"
    )]
    LockTimeout {
        /// How long this runner waited.
        waited: Duration,
        /// Who holds the lock: the backend's session or connection, or the process named in the
        /// lock file.
        holder: String,
        /// Redacted.
        url: String,
    },

    /// A version given to a command is not one of the migrations in the binary.
    #[error(
        "no migration has version {version} ({known}): check the version against the migration files"
    )]
    UnknownVersion {
        /// The version given.
        version: u64,
        /// The versions the binary has, separated by `, `.
        known: String,
    },

    /// `down` would roll back a migration that history records but the binary does not hold.
    #[error(
        "cannot roll back {version}: it is recorded in {table} but this binary has no migration with that version; \
         build the binary from the code that applied it"
    )]
    NotInBinary {
        /// The version to roll back.
        version: u64,
        /// The history table that records it.
        table: String,
    },

    /// `up --single-transaction` on a backend whose DDL commits implicitly (MySQL/MariaDB).
    #[error(
        "--single-transaction is not possible on {backend}: its DDL commits implicitly; run `up` without it"
    )]
    SingleTransactionUnsupported {
        /// The backend.
        backend: Backend,
    },

    /// `up --single-transaction` would include a migration that must run outside a transaction.
    #[error(
        "--single-transaction cannot include migration {id}: it must run outside a transaction \
         (CREATE INDEX CONCURRENTLY); apply the migrations before it with `up --single-transaction --to VERSION`, then run `up`"
    )]
    NotTransactional {
        /// The first such migration.
        id: MigrationId,
    },

    /// `up --single-transaction` would include a migration with batched steps (a backfill or
    /// `copy_rows`), each batch of which commits on its own.
    #[error(
        "--single-transaction cannot include migration {id}: its backfill or copy_rows runs batch by batch, \
         each batch in its own transaction; apply the migrations before it with `up --single-transaction --to VERSION`, then run `up`"
    )]
    Batched {
        /// The first such migration.
        id: MigrationId,
    },

    /// The SQLite URL is an in-memory database, which the history, the lock and the migrations
    /// cannot share across connections.
    #[error(
        "an in-memory SQLite database lives only as long as one connection: point the URL at a file, \
         such as sqlite:dev.db?mode=rwc"
    )]
    InMemory,

    /// A timeout the backend does not take.
    #[error("{reason}")]
    InvalidTimeout {
        /// Which timeout, and the range the backend takes.
        reason: String,
    },

    /// A migration names a table (or view, type, function) in the connection's own schema with
    /// that schema: godwit takes a name without a schema to be there, so the two would part.
    #[error(
        "migration {migration} names `{name}`, in schema `{schema}`, which is the connection's own (the first of its search_path): name it `{bare}`, without the schema (godwit reads a name without one as the connection's schema's), or connect with another search_path"
    )]
    OwnSchema {
        /// The first migration that names it.
        migration: String,
        /// The schema.
        schema: String,
        /// The name a migration gives.
        name: String,
        /// The name without the schema.
        bare: String,
    },

    /// A migration makes the schema that the connection's `search_path` puts first (one named
    /// after the role, found by `"$user"`): once made, it would become the connection's own,
    /// and every name without a schema would move into it.
    #[error(
        "migration {migration} creates schema `{schema}`, which the connection's search_path puts first (`\"$user\"` is the role's name): once made, it is the connection's own schema, and godwit would read every name without a schema as one of it: give the schema another name, or set the role's search_path without it (`ALTER ROLE .. SET search_path = public`)"
    )]
    OwnSchemaCreated {
        /// The migration that creates it.
        migration: String,
        /// The schema.
        schema: String,
    },

    /// The history table's name is not a plain identifier the runner can use.
    #[error("the history table name `{name}` is not usable: {reason}")]
    HistoryTableName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The SQLite lock file next to the database cannot be created, opened or locked.
    #[error("cannot use the lock file `{path}`: {reason}; check that its directory is writable")]
    LockFile {
        /// The lock file's path.
        path: String,
        /// The operating system's error.
        reason: String,
    },

    /// History and the code disagree: an applied migration changed or is missing, or a
    /// pending one is older than the newest applied (nothing ran).
    #[error(
        "history in the database does not match the migrations in the code, so nothing was run \
         ({count} problem(s)):\n{problems}"
    )]
    History {
        /// How many problems there are.
        count: usize,
        /// One indented line per problem.
        problems: String,
    },

    /// `baseline` on a database whose history table already has rows (nothing was recorded).
    #[error(
        "baseline is for a database godwit has not migrated yet, but {table} has {rows} row(s): \
         use `up` to apply what is pending"
    )]
    Baseline {
        /// The history table.
        table: String,
        /// How many rows it has.
        rows: usize,
    },

    /// Pending migrations hold operations that lint finds unsafe on this backend and that no
    /// `s.allow(..)` allows (nothing ran).
    #[error(
        "{count} operation(s) of the pending migrations are unsafe on {backend}, so nothing was run:\n{findings}\n  \
         do each the safe way shown, or allow it with `s.allow(Rule::..., \"why\")` right after it; \
         `up --allow-unsafe` runs them anyway"
    )]
    Unsafe {
        /// The backend the migrations are checked for.
        backend: Backend,
        /// How many unsafe operations there are.
        count: usize,
        /// Every unsafe finding, as `lint` prints it.
        findings: String,
    },

    /// The migrations do not validate or render for this backend (nothing ran). Not a
    /// `#[source]`: the message already holds the core error, which `{:#}` would print twice.
    #[error("{0}; nothing was run")]
    Render(godwit_core::Error),

    /// `copy`: the source and the target do not have the same migrations applied (nothing was
    /// copied).
    #[error(
        "cannot copy from {from} to {to}: they must have the same migrations applied, and {problems}"
    )]
    CopyVersions {
        /// Both redacted.
        from: String,
        /// The target database's URL, redacted too.
        to: String,
        /// What differs and how to fix it.
        problems: String,
    },

    /// `copy` refused a table before copying anything into it.
    #[error("cannot copy table `{table}`: {reason}")]
    CopyRefused {
        /// The table.
        table: String,
        /// Why, and what to do.
        reason: String,
    },

    /// `copy` stopped in the middle of a table: the batches before it are committed and
    /// recorded, and running the same copy again continues after them.
    #[error("copying table `{table}` stopped {at}: {reason}\n  {outcome}")]
    CopyStopped {
        /// The table.
        table: String,
        /// `at the rows after key (5)`, `while reading the source`, ...
        at: String,
        /// Why: the database's error (with any password scrubbed), or a key or value the target
        /// cannot store.
        reason: String,
        /// What was kept and what to do next.
        outcome: String,
    },

    /// `copy` finished, but the tables' row counts differ between the source and the target.
    #[error(
        "the copy does not match its source: {count} table(s) have different row counts:\n{tables}\n  \
         rows were written to the source (or the target) while it was copied; stop the writes, \
         empty these tables in the target (`fresh`, then `up`, empties them all) and copy again"
    )]
    CopyCounts {
        /// How many tables differ.
        count: usize,
        /// One line per table: `  books: 3 in the source, 2 in the target`.
        tables: String,
    },
}

/// A `Result` whose error defaults to the runner's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The database's own words for `e`: its message and code when it answered, else sqlx's text.
pub(crate) fn db_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => {
            let reason = match d.code() {
                Some(code) => format!("{} ({code})", d.message()),
                None => d.message().to_string(),
            };
            // PostgreSQL's hint is often the way out (`You might need to increase
            // max_locks_per_transaction.`): it is kept.
            #[cfg(feature = "postgres")]
            if let Some(hint) = d
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.hint())
            {
                return format!(
                    "{reason}; the server's hint: {}",
                    hint.trim_end_matches('.')
                );
            }
            reason
        }
        other => other.to_string(),
    }
}

/// What a statement ran out of time for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// It waited for a lock longer than the lock timeout (SQLite: the busy timeout).
    Lock,
    /// It ran longer than the statement timeout.
    Statement,
}

/// A database error's code, as its backend numbers it: what the classifiers below read.
enum Code {
    /// MySQL/MariaDB's error number.
    #[cfg(feature = "mysql")]
    MySql(u16),
    /// SQLite's primary result code (the low byte of the extended one).
    #[cfg(feature = "sqlite")]
    Sqlite(i64),
    /// PostgreSQL's SQLSTATE, and the message.
    SqlState(String, String),
}

fn code_of(e: &sqlx::Error) -> Option<Code> {
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    #[cfg(feature = "mysql")]
    if let Some(my) = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return Some(Code::MySql(my.number()));
    }
    #[cfg(feature = "sqlite")]
    if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        let code: i64 = d.code().and_then(|c| c.parse().ok())?;
        return Some(Code::Sqlite(code & 0xff));
    }
    Some(Code::SqlState(
        d.code()?.into_owned(),
        d.message().to_string(),
    ))
}

/// Whether `e` is the database giving up on a lock or on a statement's time.
pub(crate) fn timeout_kind(e: &sqlx::Error) -> Option<Timeout> {
    match code_of(e)? {
        // ER_LOCK_WAIT_TIMEOUT: row locks (innodb_lock_wait_timeout) and metadata locks
        // (lock_wait_timeout) alike.
        #[cfg(feature = "mysql")]
        Code::MySql(1205) => Some(Timeout::Lock),
        // MariaDB's ER_STATEMENT_TIMEOUT, MySQL's ER_QUERY_TIMEOUT.
        #[cfg(feature = "mysql")]
        Code::MySql(1969 | 3024) => Some(Timeout::Statement),
        // SQLITE_BUSY, SQLITE_LOCKED.
        #[cfg(feature = "sqlite")]
        Code::Sqlite(5 | 6) => Some(Timeout::Lock),
        // SQLITE_INTERRUPT: only the statement deadline interrupts.
        #[cfg(feature = "sqlite")]
        Code::Sqlite(9) => Some(Timeout::Statement),
        Code::SqlState(code, _) if code == "55P03" => Some(Timeout::Lock),
        Code::SqlState(code, message)
            if code == "57014" && message.contains("statement timeout") =>
        {
            Some(Timeout::Statement)
        }
        _ => None,
    }
}

/// What a transaction ran out of on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// PostgreSQL's shared lock table (`out of shared memory`, sized by
    /// `max_locks_per_transaction`), MySQL's lock table.
    Locks,
    /// Memory or disk.
    Other,
}

/// Whether `e` is the server running out of a resource the transaction as a whole holds, rather
/// than one statement failing: PostgreSQL's class 53 (insufficient resources), MySQL's full
/// lock table or out-of-resources errors, SQLite's `SQLITE_NOMEM` and `SQLITE_FULL`.
pub(crate) fn exhausted(e: &sqlx::Error) -> Option<Exhausted> {
    match code_of(e)? {
        // ER_LOCK_TABLE_FULL.
        #[cfg(feature = "mysql")]
        Code::MySql(1206) => Some(Exhausted::Locks),
        // ER_OUT_OF_RESOURCES, ER_OUTOFMEMORY, ER_RECORD_FILE_FULL (the table is full).
        #[cfg(feature = "mysql")]
        Code::MySql(1041 | 1037 | 1114) => Some(Exhausted::Other),
        // SQLITE_NOMEM, SQLITE_FULL.
        #[cfg(feature = "sqlite")]
        Code::Sqlite(7 | 13) => Some(Exhausted::Other),
        // 53200 is also plain memory; the lock table's says so in its message.
        Code::SqlState(code, message) if code == "53200" && message.contains("shared memory") => {
            Some(Exhausted::Locks)
        }
        Code::SqlState(code, _) if code.starts_with("53") => Some(Exhausted::Other),
        _ => None,
    }
}

impl From<godwit_core::Error> for Error {
    fn from(e: godwit_core::Error) -> Self {
        Error::Render(e)
    }
}
