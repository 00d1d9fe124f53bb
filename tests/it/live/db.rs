//! Scratch databases and the execution of rendered migrations on them.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use godwit_core::{Backend, RenderedMigration, Statement};
use sea_query_sqlx::SqlxValues;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use super::introspect::{mysql, postgres, sqlite};
use super::shape::Shape;

const POSTGRES_URL_VAR: &str = "GODWIT_TEST_POSTGRES_URL";
const MYSQL_URL_VAR: &str = "GODWIT_TEST_MYSQL_URL";
const POSTGRES_URL_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL_URL_DEFAULT: &str = "mysql://godwit:godwit@127.0.0.1:3306/test";
const POSTGRES_MODES_URL_VAR: &str = "GODWIT_TEST_POSTGRES_MODES_URL";
const MYSQL_MODES_URL_VAR: &str = "GODWIT_TEST_MYSQL_MODES_URL";
const POSTGRES_MODES_URL_DEFAULT: &str = "postgres://godwit_modes@127.0.0.1:5432/postgres";
const MYSQL_MODES_URL_DEFAULT: &str = "mysql://godwit:godwit@127.0.0.1:3307/test";

/// Which server a scratch database is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The server as installed.
    Standard,
    /// The server with settings that change how SQL reads (`bash .ci/run` sets them up): a
    /// MariaDB whose `sql_mode` has `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES`, a PostgreSQL role
    /// whose sessions have `standard_conforming_strings = off` and a time zone other than UTC.
    Modes,
}

/// The server URL for `backend` (not SQLite, which needs no server), from the environment.
fn server_url(backend: Backend, server: Server) -> (String, &'static str) {
    let (var, default) = match (backend, server) {
        (Backend::Postgres, Server::Standard) => (POSTGRES_URL_VAR, POSTGRES_URL_DEFAULT),
        (Backend::MySql, Server::Standard) => (MYSQL_URL_VAR, MYSQL_URL_DEFAULT),
        (Backend::Postgres, Server::Modes) => (POSTGRES_MODES_URL_VAR, POSTGRES_MODES_URL_DEFAULT),
        (Backend::MySql, Server::Modes) => (MYSQL_MODES_URL_VAR, MYSQL_MODES_URL_DEFAULT),
        (Backend::Sqlite, _) => unreachable!("SQLite needs no server"),
    };
    (
        std::env::var(var).unwrap_or_else(|_| default.to_string()),
        var,
    )
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn unreachable_server(backend: Backend, url: &str, var: &str, e: impl std::fmt::Display) -> String {
    format!(
        "cannot reach {backend} at {}: {e}\n\
         start it and point {var} at it (`bash .ci/run` starts PostgreSQL and MariaDB and sets the URLs)",
        redact(url)
    )
}

/// How long connecting to a server may take before the test fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Connect, failing after [`CONNECT_TIMEOUT`].
async fn connect<O>(options: &O) -> Result<O::Connection, String>
where
    O: ConnectOptions,
    O::Connection: Sized,
{
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs())),
    }
}

/// A new name no other test (or earlier run) uses: `godwit_<label>_<pid>_<n>`.
fn unique_name(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let label: String = label.chars().take(24).collect();
    format!(
        "godwit_{label}_{}_{}{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A connection to a scratch database.
pub enum Conn {
    Postgres(PgConnection),
    MySql(MySqlConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the connection, whatever the backend.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::Postgres($c) => $body,
            Conn::MySql($c) => $body,
            Conn::Sqlite($c) => $body,
        }
    };
}

/// A scratch database that is dropped (or, for SQLite, deleted) when this goes out of scope,
/// whether the test passed or panicked.
pub struct Scratch {
    /// Declared first so it is closed before the database is dropped.
    pub conn: Conn,
    guard: DropGuard,
}

struct DropGuard {
    backend: Backend,
    name: String,
    server_url: String,
    path: Option<PathBuf>,
}

impl Scratch {
    /// Create a scratch database for `backend` and connect to it.
    pub async fn create(backend: Backend, label: &str) -> Scratch {
        Self::create_on(backend, Server::Standard, label).await
    }

    /// Create a scratch database for `backend` on `server` and connect to it.
    pub async fn create_on(backend: Backend, server: Server, label: &str) -> Scratch {
        let name = unique_name(label);
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let guard = DropGuard {
                    backend,
                    name,
                    server_url: String::new(),
                    path: Some(path.clone()),
                };
                let options = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .foreign_keys(true);
                let conn = connect(&options).await.unwrap_or_else(|e| {
                    panic!("cannot create SQLite database {}: {e}", path.display())
                });
                Scratch {
                    conn: Conn::Sqlite(conn),
                    guard,
                }
            }
            Backend::Postgres => {
                let (url, var) = server_url(backend, server);
                let options = PgConnectOptions::from_str(&url).unwrap_or_else(|e| {
                    panic!("{var} is not a PostgreSQL URL ({}): {e}", redact(&url))
                });
                let mut admin = connect(&options)
                    .await
                    .unwrap_or_else(|e| panic!("{}", unreachable_server(backend, &url, var, e)));
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create PostgreSQL database {name}: {e}"));
                let guard = DropGuard {
                    backend,
                    name: name.clone(),
                    server_url: url.clone(),
                    path: None,
                };
                let _ = admin.close().await;
                let conn = connect(&options.database(&name)).await.unwrap_or_else(|e| {
                    panic!("cannot connect to PostgreSQL database {name}: {e}")
                });
                Scratch {
                    conn: Conn::Postgres(conn),
                    guard,
                }
            }
            Backend::MySql => {
                let (url, var) = server_url(backend, server);
                let options = MySqlConnectOptions::from_str(&url)
                    .unwrap_or_else(|e| panic!("{var} is not a MySQL URL ({}): {e}", redact(&url)));
                let mut admin = connect(&options)
                    .await
                    .unwrap_or_else(|e| panic!("{}", unreachable_server(backend, &url, var, e)));
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
                    .execute(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create MariaDB database {name}: {e}"));
                let guard = DropGuard {
                    backend,
                    name: name.clone(),
                    server_url: url.clone(),
                    path: None,
                };
                let _ = admin.close().await;
                let conn = connect(&options.database(&name))
                    .await
                    .unwrap_or_else(|e| panic!("cannot connect to MariaDB database {name}: {e}"));
                Scratch {
                    conn: Conn::MySql(conn),
                    guard,
                }
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.guard.name
    }

    /// The URL of this database, for a runner: the server's URL with its database replaced, or
    /// the SQLite file.
    pub fn url(&self) -> String {
        match &self.guard.path {
            Some(path) => format!("sqlite://{}", path.display()),
            None => with_database(&self.guard.server_url, &self.guard.name),
        }
    }

    /// The SQLite file, if it is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.guard.path.as_deref()
    }
}

/// `url` (`scheme://user@host:port/db?query`) naming the database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let query = url[authority..].find('?').map(|i| i + authority);
    let end = query.unwrap_or(url.len());
    let path = url[authority..end].find('/').map_or(end, |i| i + authority);
    format!("{}/{name}{}", &url[..path], &url[end..])
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let (backend, name, url, path) = (
            self.backend,
            self.name.clone(),
            self.server_url.clone(),
            self.path.clone(),
        );
        // Dropping may happen while a panic unwinds inside the test's runtime: do the async
        // work on a thread of its own.
        let outcome = std::thread::spawn(move || -> Result<(), String> {
            if let Some(path) = path {
                for suffix in ["", "-wal", "-shm", "-journal", ".godwit-lock"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
                return Ok(());
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let sql = match backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS `{name}`"),
                };
                match backend {
                    Backend::Postgres => {
                        let options =
                            PgConnectOptions::from_str(&url).map_err(|e| e.to_string())?;
                        let mut admin = connect(&options).await?;
                        sqlx::raw_sql(AssertSqlSafe(sql))
                            .execute(&mut admin)
                            .await
                            .map_err(|e| e.to_string())?;
                        let _ = admin.close().await;
                    }
                    _ => {
                        let options =
                            MySqlConnectOptions::from_str(&url).map_err(|e| e.to_string())?;
                        let mut admin = connect(&options).await?;
                        sqlx::raw_sql(AssertSqlSafe(sql))
                            .execute(&mut admin)
                            .await
                            .map_err(|e| e.to_string())?;
                        let _ = admin.close().await;
                    }
                }
                Ok(())
            })
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop scratch database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop scratch database {}: the cleanup thread panicked",
                self.name
            ),
        }
    }
}

impl Conn {
    /// Run one statement, binding its values (statements without values go through the simple
    /// protocol, as DDL and multi-statement raw SQL need).
    async fn execute(&mut self, st: &Statement) -> Result<(), sqlx::Error> {
        let sql = AssertSqlSafe(st.sql.clone());
        if st.values.0.is_empty() {
            on_conn!(self, c => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop))
        } else {
            let values = SqlxValues(st.values.clone());
            on_conn!(self, c => sqlx::query_with(sql, values).execute(&mut *c).await.map(drop))
        }
    }

    /// Run fixed SQL, panicking with `why` on failure.
    async fn batch(&mut self, sql: &'static str, why: &str) {
        if let Err(e) = on_conn!(self, c => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop)) {
            panic!("{why}: `{sql}` failed: {e}");
        }
    }

    /// Apply one rendered migration as an executor would: in a transaction unless it must run
    /// outside one (PostgreSQL and SQLite; MySQL has no transactional DDL), and on SQLite with
    /// foreign keys off when it rebuilds tables, checking them before committing.
    pub async fn apply(&mut self, m: &RenderedMigration) {
        let what = format!("migration {} ({})", m.id, m.direction);
        let sqlite = matches!(self, Conn::Sqlite(_));
        let transaction = m.transactional && !matches!(self, Conn::MySql(_));
        let fk_off = sqlite && m.foreign_keys_off;
        if fk_off {
            self.batch("PRAGMA foreign_keys = OFF", &what).await;
        }
        if transaction {
            self.batch("BEGIN", &what).await;
        }
        for (i, st) in m.statements.iter().enumerate() {
            // A schema-only oracle: data steps (Rust code, batched backfills and copies) are run
            // by the runner, batch by batch with their progress, and tested on every backend in
            // `runner/data.rs`; their `sql` only describes them.
            if st.data.is_some() {
                continue;
            }
            if let Err(e) = self.execute(st).await {
                panic!("{what}, statement #{}: {e}\n  {}", i + 1, st.sql);
            }
        }
        if fk_off {
            let Conn::Sqlite(c) = self else {
                unreachable!("checked above")
            };
            let violations = sqlx::query("PRAGMA foreign_key_check")
                .fetch_all(&mut *c)
                .await
                .unwrap_or_else(|e| panic!("{what}: PRAGMA foreign_key_check failed: {e}"));
            let rows: Vec<String> = violations
                .iter()
                .map(|r| {
                    format!(
                        "{} row {:?} -> {}",
                        r.get::<String, _>(0),
                        r.get::<Option<i64>, _>(1),
                        r.get::<String, _>(2)
                    )
                })
                .collect();
            assert!(
                rows.is_empty(),
                "{what} leaves foreign keys violated: {rows:?}"
            );
        }
        if transaction {
            self.batch("COMMIT", &what).await;
        }
        if fk_off {
            self.batch("PRAGMA foreign_keys = ON", &what).await;
        }
    }

    /// Apply several rendered migrations in order.
    pub async fn apply_all(&mut self, migrations: &[RenderedMigration]) {
        for m in migrations {
            self.apply(m).await;
        }
    }

    /// The single count `sql` returns.
    pub async fn count(&mut self, sql: &'static str) -> i64 {
        on_conn!(self, c => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await)
            .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
    }

    /// The live schema, normalized.
    pub async fn introspect(&mut self) -> Shape {
        let tables = match self {
            Conn::Postgres(c) => postgres::introspect(c).await,
            Conn::MySql(c) => mysql::introspect(c).await,
            Conn::Sqlite(c) => sqlite::introspect(c).await,
        };
        let tables = tables.unwrap_or_else(|e| panic!("introspecting the schema failed: {e}"));
        let objects: Result<Vec<(String, String, Option<String>)>, sqlx::Error> = match self {
            Conn::Postgres(c) => sqlx::query_as(postgres::OBJECTS).fetch_all(&mut *c).await,
            Conn::MySql(c) => sqlx::query_as(mysql::OBJECTS).fetch_all(&mut *c).await,
            Conn::Sqlite(c) => sqlx::query_as(sqlite::OBJECTS).fetch_all(&mut *c).await,
        };
        let objects = objects.unwrap_or_else(|e| panic!("reading views and triggers failed: {e}"));
        let mut shape = Shape::from_tables(tables);
        shape.add_objects(objects);
        shape
    }

    pub async fn close(self) {
        let _ = on_conn!(self, c => c.close().await);
    }
}
