//! Connections: one plain sqlx connection per purpose (migrating, holding the lock), no pool.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use godwit_core::{Backend, Statement};
use sea_query_sqlx::SqlxValues;
#[cfg(feature = "mysql")]
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgConnection};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use crate::error::{Error, db_reason};
use crate::url::DatabaseUrl;

/// What a connection is for; PostgreSQL shows it as the `application_name`, so that a waiting
/// deploy can say who holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Migrate,
    Lock,
    /// `status`: SQLite opens the file read-only.
    ReadOnly,
}

/// A connection to one of the three backends.
pub(crate) enum Conn {
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
    #[cfg(feature = "mysql")]
    MySql(MySqlConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection, Arc<Mutex<Deadline>>),
}

/// SQLite has no statement timeout of its own: a progress handler, called every few thousand
/// virtual-machine instructions, interrupts a statement once it runs past its deadline.
#[derive(Debug, Default)]
pub(crate) struct Deadline {
    /// How long a statement may run; `None` for as long as it takes.
    limit: Option<Duration>,
    /// When the running statement must be done.
    until: Option<Instant>,
}

/// How many SQLite virtual-machine instructions run between two looks at the deadline.
const SQLITE_PROGRESS_OPS: i32 = 10_000;

/// Runs `$body` with `$c` bound to the connection, whatever the backend.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "postgres")]
            $crate::connect::Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $crate::connect::Conn::MySql($c) => $body,
            #[cfg(feature = "sqlite")]
            $crate::connect::Conn::Sqlite($c, ..) => $body,
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_conn;

/// This process, as other deploys see it while it holds the lock.
pub(crate) fn whoami() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".to_string());
    format!("godwit pid {} on {host}", std::process::id())
}

/// Connect to `url` within `timeout`. A failure is an error whose message shows the URL
/// redacted and says what to check.
pub(crate) async fn connect(
    url: &DatabaseUrl,
    purpose: Purpose,
    timeout: Duration,
    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))] busy_timeout: Duration,
) -> Result<Conn, Error> {
    let raw = url.expose();
    let fail = |reason: String| {
        let reason = url.scrub(&reason);
        let fix = match url.backend() {
            Backend::Sqlite => {
                "check the path and that its directory exists and is writable".to_string()
            }
            _ if is_auth_failure(&reason) => {
                "check the user name and password in the URL".to_string()
            }
            // PostgreSQL: `role "x" does not exist`; the server answered.
            _ if reason.contains("role \"") && reason.contains("does not exist") => {
                "the server has no such user: check the user name in the URL (or create the role)"
                    .to_string()
            }
            _ if reason.contains("database \"") && reason.contains("does not exist")
                || reason.contains("Unknown database") =>
            {
                "the server has no such database: check the database name in the URL (or create it)"
                    .to_string()
            }
            _ => "check that the server runs and that the URL's host, port and database are right"
                .to_string(),
        };
        Error::Connect {
            backend: url.backend(),
            url: url.redacted().to_string(),
            reason,
            fix,
        }
    };
    let bad_url = |e: sqlx::Error| fail(e.to_string());
    let connecting = async {
        match url.backend() {
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let name = match purpose {
                    Purpose::Lock => format!("{} (holds the migration lock)", whoami()),
                    _ => whoami(),
                };
                // Sessions in UTC whatever the server or role says, as on MySQL: a `timestamp`
                // becomes a `timestamptz` as UTC (and PostgreSQL then changes the type without
                // rewriting the table), and `timestamp` values read and written in Rust code are
                // UTC.
                let options = PgConnectOptions::from_str(&raw)
                    .map_err(bad_url)?
                    .application_name(&name)
                    .options([("TimeZone", "UTC")]);
                let mut conn = options.connect().await.map_err(|e| fail(db_reason(&e)))?;
                // PostgreSQL 14+: notice within a second that this process died (SIGKILL, a lost
                // network), cancel its statement and roll back, instead of running on until the
                // statement ends while holding its locks. Older servers refuse the setting.
                if purpose == Purpose::Migrate {
                    let _ = sqlx::raw_sql("SET client_connection_check_interval = 1000")
                        .execute(&mut conn)
                        .await;
                }
                Ok(Conn::Postgres(conn))
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => {
                // Sessions in UTC whatever the URL says: a `timestamp_tz` is a `datetime(6)` in
                // UTC there, and `CURRENT_TIMESTAMP` is the session's time.
                let options = MySqlConnectOptions::from_str(&raw)
                    .map_err(bad_url)?
                    .timezone(Some(String::from("+00:00")));
                let mut conn = options.connect().await.map_err(|e| fail(db_reason(&e)))?;
                // A value the column cannot hold (a date out of range, a string too long) is an
                // error, never a zero date, a truncated string or a warning, whatever the
                // server's `sql_mode`.
                if purpose == Purpose::Migrate {
                    sqlx::raw_sql(
                        "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
                    )
                    .execute(&mut conn)
                    .await
                    .map_err(|e| fail(db_reason(&e)))?;
                }
                Ok(Conn::MySql(conn))
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(&raw)
                    .map_err(bad_url)?
                    .busy_timeout(busy_timeout)
                    // Every query here collects all its rows (`fetch_all`), or at most one, so
                    // a larger buffer holds no more in memory: the worker thread only stops
                    // waking this one every 50 rows (history of 1,000 migrations: 15.8 ms for
                    // `status`, not 18.1).
                    .row_buffer_size(4096);
                let options = match purpose {
                    Purpose::ReadOnly => options.read_only(true),
                    // `up` creates the database file, as it creates the history table.
                    Purpose::Migrate | Purpose::Lock => options.create_if_missing(true),
                };
                let mut conn = options.connect().await.map_err(|e| fail(db_reason(&e)))?;
                let deadline = Arc::new(Mutex::new(Deadline::default()));
                if purpose == Purpose::Migrate {
                    let watched = deadline.clone();
                    conn.lock_handle()
                        .await
                        .map_err(|e| fail(db_reason(&e)))?
                        .set_progress_handler(SQLITE_PROGRESS_OPS, move || {
                            let d = watched.lock().unwrap_or_else(|e| e.into_inner());
                            d.until.is_none_or(|until| Instant::now() < until)
                        });
                }
                Ok(Conn::Sqlite(conn, deadline))
            }
            #[allow(unreachable_patterns)]
            other => return Err(fail(crate::url::not_built_in(other))),
        }
        .map_err(|e| fail(db_reason(&e)))
    };
    match tokio::time::timeout(timeout, connecting).await {
        Ok(result) => result,
        Err(_) => Err(fail(format!("no answer within {}s", timeout.as_secs()))),
    }
}

/// An error, before anything is sent, for a value sqlx cannot encode for `backend`: on
/// MySQL/MariaDB a date before the year 1 (sqlx would fail half-way through the exchange with
/// the server, and the connection would wait for an answer that never comes).
pub(crate) fn encodable(backend: Backend, values: &sea_query::Values) -> Result<(), sqlx::Error> {
    if backend != Backend::MySql {
        return Ok(());
    }
    match values
        .0
        .iter()
        .find(|v| crate::values::year_of(v).is_some_and(|y| y < 1))
    {
        None => Ok(()),
        Some(v) => Err(sqlx::Error::Encode(
            format!(
                "MySQL/MariaDB cannot store {}: its dates hold the years 1 to 9999",
                crate::values::describe(v)
            )
            .into(),
        )),
    }
}

fn is_auth_failure(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("password") || r.contains("access denied") || r.contains("authentication")
}

impl Conn {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Conn::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(..) => Backend::Sqlite,
        }
    }

    /// On SQLite, how long each statement may run from now on (`None` or zero: no limit); the
    /// other backends take their statement timeout as SQL.
    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
    pub(crate) fn set_sqlite_statement_timeout(&mut self, limit: Option<Duration>) {
        #[cfg(feature = "sqlite")]
        if let Conn::Sqlite(_, deadline) = self {
            let mut d = deadline.lock().unwrap_or_else(|e| e.into_inner());
            d.limit = limit.filter(|l| !l.is_zero());
        }
    }

    /// Start the SQLite statement clock, before a statement; `stop` after it.
    pub(crate) fn start_statement_clock(&self) {
        self.start_clock();
    }

    pub(crate) fn stop_statement_clock(&self) {
        self.stop_clock();
    }

    fn start_clock(&self) {
        #[cfg(feature = "sqlite")]
        if let Conn::Sqlite(_, deadline) = self {
            let mut d = deadline.lock().unwrap_or_else(|e| e.into_inner());
            d.until = d.limit.and_then(|l| Instant::now().checked_add(l));
        }
    }

    fn stop_clock(&self) {
        #[cfg(feature = "sqlite")]
        if let Conn::Sqlite(_, deadline) = self {
            deadline.lock().unwrap_or_else(|e| e.into_inner()).until = None;
        }
    }

    /// Run one statement, binding its values; statements without values go through the simple
    /// protocol, as DDL and multi-statement raw SQL need.
    pub(crate) async fn execute(&mut self, st: &Statement) -> Result<(), sqlx::Error> {
        encodable(self.backend(), &st.values)?;
        let sql = AssertSqlSafe(st.sql.clone());
        self.start_clock();
        let result = if st.values.0.is_empty() {
            on_conn!(self, c => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop))
        } else {
            let values = SqlxValues(st.values.clone());
            on_conn!(self, c => sqlx::query_with(sql, values).execute(&mut *c).await.map(drop))
        };
        self.stop_clock();
        result
    }

    /// Run one statement with its values and say how many rows it changed.
    pub(crate) async fn execute_rows(&mut self, st: &Statement) -> Result<u64, sqlx::Error> {
        encodable(self.backend(), &st.values)?;
        let sql = AssertSqlSafe(st.sql.clone());
        let values = SqlxValues(st.values.clone());
        self.start_clock();
        let result = on_conn!(self, c => sqlx::query_with(sql, values)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()));
        self.stop_clock();
        result
    }

    /// The single integer a statement with bound values returns.
    pub(crate) async fn scalar_i64_with(&mut self, st: &Statement) -> Result<i64, sqlx::Error> {
        encodable(self.backend(), &st.values)?;
        let sql = AssertSqlSafe(st.sql.clone());
        let values = SqlxValues(st.values.clone());
        self.start_clock();
        let result = on_conn!(self, c => sqlx::query_scalar_with::<_, i64, _>(sql, values).fetch_one(&mut *c).await);
        self.stop_clock();
        result
    }

    /// Run SQL without values.
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_string());
        self.start_clock();
        let result = on_conn!(self, c => sqlx::raw_sql(sql).execute(&mut *c).await.map(drop));
        self.stop_clock();
        result
    }

    /// Run statements without values, sent in one round trip, and stop at the first that
    /// fails: its error and how many ran before it.
    pub(crate) async fn batch_counted(&mut self, sql: &str) -> Result<usize, (usize, sqlx::Error)> {
        let sql = AssertSqlSafe(sql.to_string());
        self.start_clock();
        let result = on_conn!(self, c => {
            let mut results = sqlx::raw_sql(sql).execute_many(&mut *c);
            let mut done = 0;
            loop {
                match std::future::poll_fn(|cx| results.as_mut().poll_next(cx)).await {
                    None => break Ok(done),
                    Some(Ok(_)) => done += 1,
                    Some(Err(e)) => break Err((done, e)),
                }
            }
        });
        self.stop_clock();
        result
    }

    /// The single integer `sql` returns.
    pub(crate) async fn scalar_i64(&mut self, sql: &str) -> Result<i64, sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_string());
        on_conn!(self, c => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await)
    }

    /// Each row's first column, as text.
    pub(crate) async fn strings(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_string());
        on_conn!(self, c => sqlx::query_scalar::<_, String>(sql).fetch_all(&mut *c).await)
    }

    pub(crate) async fn close(self) {
        let _ = on_conn!(self, c => c.close().await);
    }
}
