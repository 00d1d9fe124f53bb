//! Lock and statement timeouts, retries after a lock timeout, the server running out of a
//! resource, and `up` refusing unsafe migrations, with migrations of the tests' own (not the
//! fixture's).
//!
//! A second session holds a lock on the table a migration alters (PostgreSQL and MariaDB: an
//! open transaction that read the table; SQLite: the write lock), so the migration times out
//! waiting for it. The observer releases the lock when the runner announces its first retry.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use godwit::prelude::*;
use godwit::runner::{Error, Event, Observer, Options, Runner, Up};
use godwit_core::{Backend, MigrationId};
use sqlx::{Connection, mysql::MySqlConnection, postgres::PgConnection, sqlite::SqliteConnection};
use tokio::sync::oneshot;

use super::{exec, history, on_every_backend, scalar, scratch, table_exists};
use crate::live::db::Conn;

const V1: u64 = 20260301000100;
const V2: u64 = 20260301000200;

struct CreateAccounts;
impl Migration for CreateAccounts {
    fn up(&self, s: &mut Schema) {
        s.create_table("accounts", |t| {
            t.id();
            t.string("name", 50);
        });
        s.insert("accounts", ["name"]).values(["ada"]);
    }
}

/// Adds a column to `accounts`, waiting at most 300 ms for its lock (MySQL: 1 s, its least).
struct AddEmail {
    retries: u32,
}
impl Migration for AddEmail {
    fn up(&self, s: &mut Schema) {
        s.add_column("accounts", Column::string("email", 100).nullable());
        s.mysql_online(Algorithm::Instant, Lock::None);
        s.lock_timeout(Duration::from_millis(300));
        s.lock_retries(self.retries);
    }
}

/// A statement that runs far longer than its 500 ms statement timeout.
struct Sleep;
impl Migration for Sleep {
    fn up(&self, s: &mut Schema) {
        s.sql_per_backend(PerBackend {
            postgres: Some("SELECT pg_sleep(60)"),
            mysql: Some("SELECT SLEEP(60)"),
            sqlite: Some(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000000) \
                 SELECT count(*) FROM c",
            ),
        })
        .down("SELECT 1");
        s.allow(
            Rule::RawSql,
            "a test: it must outlast its statement timeout",
        );
        s.statement_timeout(Duration::from_millis(500));
    }
}

/// Drops a column without allowing it: unsafe on every backend.
struct DropName;
impl Migration for DropName {
    fn up(&self, s: &mut Schema) {
        s.drop_column("accounts", "name");
        s.mysql_online(Algorithm::Instant, Lock::None);
        s.irreversible("a test");
    }
}

static CREATE: CreateAccounts = CreateAccounts;
static ADD_EMAIL_RETRIED: AddEmail = AddEmail { retries: 5 };
static ADD_EMAIL_ONCE: AddEmail = AddEmail { retries: 0 };
static SLEEP: Sleep = Sleep;
static DROP_NAME: DropName = DropName;
static INDEX_AND_FILL: IndexAndFill = IndexAndFill;

/// Builds an index and changes rows in the schema migration: changes whose lock lasts as long as
/// the table takes (PostgreSQL: index-not-concurrent; MySQL: mysql-online-ddl; all:
/// data-in-schema-migration).
struct IndexAndFill;
impl Migration for IndexAndFill {
    fn up(&self, s: &mut Schema) {
        s.add_index("accounts", ["name"]);
        s.update("accounts").set("name", "Ada");
    }
}

/// Sorts more rows than its session may spill to disk (PostgreSQL's `temp_file_limit`): the
/// server runs out of a resource (53400), as a long run in one transaction runs out of lock
/// slots (53200, `max_locks_per_transaction`), and no statement is wrong.
struct SpillPastTheLimit;
impl Migration for SpillPastTheLimit {
    fn up(&self, s: &mut Schema) {
        s.sql_per_backend(PerBackend {
            postgres: Some("SET LOCAL temp_file_limit = '64kB'; SET LOCAL work_mem = '64kB'"),
            mysql: None,
            sqlite: None,
        })
        .down("SELECT 1");
        s.sql_per_backend(PerBackend {
            postgres: Some(
                "CREATE TABLE spilled AS SELECT g FROM generate_series(1, 200000) g \
                 ORDER BY md5(g::text)",
            ),
            mysql: None,
            sqlite: None,
        })
        .down("DROP TABLE spilled");
    }
}

static SPILL: SpillPastTheLimit = SpillPastTheLimit;

/// PostgreSQL: a run the server cannot hold (out of lock slots, temporary disk, memory) fails at
/// once with the server's words and the way out, without replaying its statements one by one to
/// name one of them (the replay would take as long and fail the same way).
async fn running_out_of_a_server_resource_says_the_way_out(backend: Backend) {
    assert_eq!(backend, Backend::Postgres);
    let mut db = scratch(backend, "exhausted").await;
    let url = db.url();
    let error = runner(&url, ("spill", &SPILL))
        .up(&Up::default().single_transaction(true).allow_unsafe(true))
        .await
        .expect_err("the sort outgrows temp_file_limit");
    let message = error.to_string();
    for part in [
        "--single-transaction (up) failed on PostgreSQL",
        "temp_file_limit",
        "(53400)",
        "nothing of it is applied",
        "the server ran out of what the whole transaction holds",
        "run without --single-transaction (one transaction per migration), or in parts with `up --to VERSION`",
    ] {
        assert!(message.contains(part), "`{part}` in: {message}");
    }
    assert!(history(&mut db.conn, "godwit_migrations").await.is_empty());
    assert!(!table_exists(&mut db.conn, "accounts").await);

    // One transaction per migration: the first is applied, the second says what to do.
    let error = runner(&url, ("spill", &SPILL))
        .up(&Up::default().allow_unsafe(true))
        .await
        .expect_err("the sort outgrows temp_file_limit");
    let message = error.to_string();
    assert!(
        message.contains("free the resource on the server, or split the migration"),
        "{message}"
    );
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into())]
    );
    db.conn.close().await;
}

mod postgres_only {
    use super::*;

    #[tokio::test]
    async fn running_out_of_a_server_resource_says_the_way_out() {
        super::running_out_of_a_server_resource_says_the_way_out(Backend::Postgres).await;
    }
}

fn id(version: u64, name: &str) -> MigrationId {
    MigrationId {
        version,
        name: name.to_string(),
    }
}

/// A runner for `url` with `second` after `create_accounts`; retries pause 200 ms at first.
fn runner(url: &str, second: (&str, &'static dyn Migration)) -> Runner {
    let url = url.parse().unwrap_or_else(|e| panic!("{e}"));
    let migrations: Vec<(MigrationId, &'static dyn Migration)> = vec![
        (id(V1, "create_accounts"), &CREATE),
        (id(V2, second.0), second.1),
    ];
    Runner::new(url, migrations)
        .with_options(Options::default().retry_backoff(Duration::from_millis(200)))
}

/// Counts retries, and releases the held lock at the first one.
#[derive(Default)]
struct ReleaseOnRetry {
    retries: AtomicU32,
    release: Mutex<Option<oneshot::Sender<()>>>,
}

impl Observer for ReleaseOnRetry {
    fn event(&self, event: &Event<'_>) {
        if let Event::Retrying { .. } = event {
            self.retries.fetch_add(1, Ordering::SeqCst);
            if let Some(tx) = self.release.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }
    }
}

/// A second session on `url` that holds a lock conflicting with `ALTER TABLE accounts` until
/// `release` fires (or is dropped); the task returns the connection.
async fn hold_lock(
    backend: Backend,
    url: &str,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Conn>) {
    let mut conn = match backend {
        Backend::Postgres => Conn::Postgres(PgConnection::connect(url).await.unwrap()),
        Backend::MySql => Conn::MySql(MySqlConnection::connect(url).await.unwrap()),
        Backend::Sqlite => Conn::Sqlite(SqliteConnection::connect(url).await.unwrap()),
    };
    match backend {
        Backend::Sqlite => exec(&mut conn, "BEGIN IMMEDIATE").await,
        _ => {
            exec(&mut conn, "BEGIN").await;
            assert_eq!(scalar(&mut conn, "SELECT count(*) FROM accounts").await, 1);
        }
    }
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let _ = rx.await;
        exec(&mut conn, "COMMIT").await;
        conn
    });
    (tx, task)
}

async fn close(conn: Conn) {
    match conn {
        Conn::Postgres(c) => c.close().await.unwrap(),
        Conn::MySql(c) => c.close().await.unwrap(),
        Conn::Sqlite(c) => c.close().await.unwrap(),
    }
}

async fn has_email(conn: &mut Conn, backend: Backend) -> bool {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT count(*) FROM pragma_table_info('accounts') WHERE name = 'email'".to_string()
        }
        Backend::Postgres => "SELECT count(*)::int8 FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'accounts' AND column_name = 'email'"
            .to_string(),
        Backend::MySql => "SELECT count(*) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = 'accounts' AND column_name = 'email'"
            .to_string(),
    };
    scalar(conn, &sql).await == 1
}

/// The migration times out waiting for the lock, is tried again once the lock is released,
/// and then applies.
async fn a_lock_timeout_is_retried_until_the_lock_is_free(backend: Backend) {
    let mut db = scratch(backend, "lock_retry").await;
    let url = db.url();
    let first = runner(&url, ("add_email", &ADD_EMAIL_RETRIED));
    first.up(&Up::default().to(Some(V1))).await.unwrap();

    let (release, holder) = hold_lock(backend, &url).await;
    let observer = Arc::new(ReleaseOnRetry::default());
    *observer.release.lock().unwrap() = Some(release);
    let report = runner(&url, ("add_email", &ADD_EMAIL_RETRIED))
        .with_observer(observer.clone())
        .up(&Up::default())
        .await
        .unwrap_or_else(|e| panic!("up must succeed once the lock is released: {e}"));
    close(holder.await.unwrap()).await;

    assert_eq!(report.ran.len(), 1);
    assert_eq!(report.ran[0].id.version, V2);
    assert!(
        observer.retries.load(Ordering::SeqCst) >= 1,
        "the migration must have timed out on the held lock at least once"
    );
    assert!(has_email(&mut db.conn, backend).await);
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into()), (V2, "applied".into())]
    );
    db.conn.close().await;
}

/// Without retries the lock timeout fails the migration, saying what to do, and nothing of it
/// is applied.
async fn a_lock_timeout_without_retries_fails_and_applies_nothing(backend: Backend) {
    let mut db = scratch(backend, "lock_timeout_fails").await;
    let url = db.url();
    runner(&url, ("add_email", &ADD_EMAIL_ONCE))
        .up(&Up::default().to(Some(V1)))
        .await
        .unwrap();

    let (release, holder) = hold_lock(backend, &url).await;
    let observer = Arc::new(ReleaseOnRetry::default());
    let error = runner(&url, ("add_email", &ADD_EMAIL_ONCE))
        .with_observer(observer.clone())
        .up(&Up::default())
        .await
        .expect_err("the lock is held for the whole run");
    let _ = release.send(());
    close(holder.await.unwrap()).await;

    let message = error.to_string();
    assert!(
        message.contains("waited longer than its lock timeout")
            && message.contains("s.lock_timeout(..)"),
        "the error must say it was a lock timeout and how to raise it: {message}"
    );
    assert_eq!(observer.retries.load(Ordering::SeqCst), 0);
    assert!(!has_email(&mut db.conn, backend).await);
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into())],
        "nothing of the migration may be recorded: {message}"
    );
    // Once the lock is free, the same migration applies.
    runner(&url, ("add_email", &ADD_EMAIL_ONCE))
        .up(&Up::default())
        .await
        .unwrap();
    assert!(has_email(&mut db.conn, backend).await);
    db.conn.close().await;
}

/// A statement that outlasts the migration's statement timeout is cancelled by the database
/// (SQLite: interrupted), and the error says which timeout and how to raise it.
async fn a_statement_timeout_cancels_a_long_statement(backend: Backend) {
    let mut db = scratch(backend, "statement_timeout").await;
    let url = db.url();
    let started = std::time::Instant::now();
    let error = runner(&url, ("sleep", &SLEEP))
        .up(&Up::default())
        .await
        .expect_err("the statement outlasts its timeout");
    let message = error.to_string();
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the statement must be cancelled, not run to its end"
    );
    assert!(
        message.contains("ran longer than its statement timeout (500 ms)"),
        "{message}"
    );
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into())]
    );
    db.conn.close().await;
}

/// `up` refuses a migration with an operation lint finds unsafe and nothing allows, runs
/// nothing, and runs it with `allow_unsafe`.
async fn up_refuses_unsafe_migrations(backend: Backend) {
    let mut db = scratch(backend, "unsafe").await;
    let url = db.url();
    let error = runner(&url, ("drop_name", &DROP_NAME))
        .up(&Up::default())
        .await
        .expect_err("drop_column is unsafe");
    let message = error.to_string();
    assert!(matches!(error, Error::Unsafe { count: 1, .. }), "{message}");
    assert!(
        message.contains("unsafe[drop-column]")
            && message.contains("s.allow(Rule::DropColumn")
            && message.contains("--allow-unsafe"),
        "{message}"
    );
    assert!(!table_exists(&mut db.conn, "accounts").await);
    assert!(history(&mut db.conn, "godwit_migrations").await.is_empty());

    let dry = runner(&url, ("drop_name", &DROP_NAME))
        .up(&Up::default().dry_run(true))
        .await
        .unwrap();
    let sql = dry.sql.unwrap_or_default();
    assert!(
        sql.starts_with("-- `up` would refuse to run this: 1 operation(s) are unsafe"),
        "a dry run says that up would refuse: {sql}"
    );

    runner(&url, ("drop_name", &DROP_NAME))
        .up(&Up::default().allow_unsafe(true))
        .await
        .unwrap();
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into()), (V2, "applied".into())]
    );
    db.conn.close().await;
}

/// With the table's size read from the database, a change whose lock grows with the table is a
/// note on a small table and `up` runs it; above `small_table_rows` it is refused, and the
/// finding says how large the table is.
async fn up_lets_blocking_changes_through_on_small_tables(backend: Backend) {
    let mut db = scratch(backend, "small_table").await;
    let url = db.url();
    runner(&url, ("index_and_fill", &INDEX_AND_FILL))
        .up(&Up::default().to(Some(V1)))
        .await
        .unwrap();
    let live = runner(&url, ("index_and_fill", &INDEX_AND_FILL))
        .live_context()
        .await
        .unwrap();
    let accounts = live.sizes.get("accounts").expect("accounts has a size");
    assert_eq!(accounts.rows, 1, "{live:?}");
    assert!(accounts.bytes > 0 || backend == Backend::Sqlite, "{live:?}");
    assert_eq!(
        live.postgres_version.is_some(),
        backend == Backend::Postgres
    );

    let strict = runner(&url, ("index_and_fill", &INDEX_AND_FILL));
    let options = strict.options().clone().small_table_rows(1);
    let error = strict
        .with_options(options)
        .up(&Up::default())
        .await
        .expect_err("above the threshold, the findings refuse");
    let message = error.to_string();
    assert!(matches!(error, Error::Unsafe { .. }), "{message}");
    assert!(
        message.contains("table: `accounts` has 1 rows")
            && message.contains("unsafe[data-in-schema-migration]"),
        "{message}"
    );
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into())]
    );

    runner(&url, ("index_and_fill", &INDEX_AND_FILL))
        .up(&Up::default())
        .await
        .expect("under 10,000 rows, the findings are notes");
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into()), (V2, "applied".into())]
    );
    db.conn.close().await;
}

on_every_backend!(
    up_lets_blocking_changes_through_on_small_tables,
    a_lock_timeout_is_retried_until_the_lock_is_free,
    a_lock_timeout_without_retries_fails_and_applies_nothing,
    a_statement_timeout_cancels_a_long_statement,
    up_refuses_unsafe_migrations,
);
