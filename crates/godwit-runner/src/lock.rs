//! The migration lock: two deploys that migrate one database at once take turns.
//!
//! - PostgreSQL: a session-level advisory lock (`pg_advisory_lock`) on a connection of its own;
//!   the key is derived from the history table's name, and advisory locks are per database.
//! - MySQL/MariaDB: `GET_LOCK` on a connection of its own, named after the database and the
//!   history table (the lock is server-wide).
//! - SQLite: an exclusive OS lock (`flock`) on the file `<database>.godwit-lock` beside the
//!   database. Each migration also runs in a `BEGIN IMMEDIATE` transaction, SQLite's write lock,
//!   so no other writer interleaves with it.
//!
//! A second runner waits, printing who holds the lock (through the [`Observer`]), up to a
//! timeout, then fails with [`Error::LockTimeout`].
//!
//! A server-side lock lives as long as its connection, and a connection can be ended under a
//! running migration (an operator's `pg_terminate_backend` or `KILL`, a proxy's idle timeout,
//! MySQL's `wait_timeout`). The lock's connection is pinged every 30 seconds while it is held,
//! and asked whether it still holds the lock (`Probe::check`) before each migration, each
//! commit and each batch: a runner that lost it stops with [`Error::LockLost`], rolling back
//! the transaction it is in, instead of migrating alongside the next runner that takes it.
//!
//! **Invariant:** every lock dies with its holder. Server-side locks belong to their session and
//! the OS lock to the open file, so the lock is released on every path: success, error, panic
//! (the connection or file is dropped), Ctrl-C and SIGKILL (the process ends, the server closes
//! the session, the kernel closes the file). `Lock::release` releases it early and explicitly.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use godwit_core::Backend;

use crate::connect::{Conn, Purpose, connect, whoami};
use crate::error::{Error, db_reason};
use crate::event::{Event, Observer};
use crate::url::DatabaseUrl;

/// A held migration lock.
pub(crate) enum Lock {
    Postgres { held: Held, key: i64 },
    MySql { held: Held, name: String },
    Sqlite { _file: File },
}

/// The connection that holds a server-side lock, kept alive while the lock is held (a proxy or
/// `wait_timeout` would otherwise close it during a long statement), and asked whether it still
/// holds the lock before each migration, transaction commit and batch (`Probe::check`).
pub(crate) struct Held {
    probe: Arc<Probe>,
    keepalive: tokio::task::JoinHandle<()>,
}

/// Asks the lock's connection whether it still holds the lock.
pub(crate) struct Probe {
    conn: Arc<tokio::sync::Mutex<Conn>>,
    /// One row, `1` while this session holds the lock.
    sql: String,
}

/// How often an idle lock connection is pinged.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// How long the lock connection may take to answer whether it still holds the lock.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

impl Held {
    fn new(conn: Conn, sql: String) -> Held {
        let conn = Arc::new(tokio::sync::Mutex::new(conn));
        // Weak: the lock must die with its holder, and the pinging task must not keep its
        // connection open once the lock is dropped.
        let pinged = Arc::downgrade(&conn);
        let keepalive = tokio::spawn(async move {
            loop {
                tokio::time::sleep(KEEPALIVE).await;
                let Some(conn) = pinged.upgrade() else {
                    return;
                };
                let mut c = conn.lock().await;
                if c.batch("SELECT 1").await.is_err() {
                    return;
                }
            }
        });
        Held {
            probe: Arc::new(Probe { conn, sql }),
            keepalive,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.keepalive.abort();
    }
}

impl Probe {
    /// Whether the lock is still held: an error when the server no longer counts this session
    /// as its holder, or its connection is gone.
    pub(crate) async fn check(&self) -> Result<(), Error> {
        let mut conn = self.conn.lock().await;
        let lost = |reason: String| Error::LockLost { reason };
        match tokio::time::timeout(PROBE_TIMEOUT, conn.scalar_i64(&self.sql)).await {
            Ok(Ok(1)) => Ok(()),
            Ok(Ok(_)) => Err(lost(
                "the server no longer counts this runner's session as its holder".to_string(),
            )),
            Ok(Err(e)) => Err(lost(format!(
                "the connection that held it failed: {}",
                db_reason(&e)
            ))),
            Err(_) => Err(lost(format!(
                "the connection that held it did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ))),
        }
    }
}

impl Lock {
    /// What asks whether the lock is still held, as long as the lock is; `None` for SQLite's,
    /// an open file's lock, which only the process's end releases.
    pub(crate) fn probe(&self) -> Option<std::sync::Weak<Probe>> {
        match self {
            Lock::Postgres { held, .. } | Lock::MySql { held, .. } => {
                Some(Arc::downgrade(&held.probe))
            }
            Lock::Sqlite { .. } => None,
        }
    }
}

/// FNV-1a: a stable 64-bit hash (the standard library's hasher may change between releases).
fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The PostgreSQL advisory lock key for a history table.
pub fn postgres_key(history_table: &str) -> i64 {
    fnv1a(&format!("godwit:{history_table}")) as i64
}

/// The MySQL `GET_LOCK` name for a history table in `database` (at most 64 characters).
pub fn mysql_name(database: &str, history_table: &str) -> String {
    let name = format!("godwit:{database}.{history_table}");
    if name.len() <= 64 {
        name
    } else {
        format!("godwit:{:016x}", fnv1a(&name))
    }
}

/// The lock file of an SQLite database.
pub fn sqlite_lock_file(database: &std::path::Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".godwit-lock");
    PathBuf::from(name)
}

/// How often a waiting runner asks again.
const POLL: Duration = Duration::from_millis(50);

/// Take the lock for `url`'s database, waiting up to `timeout`.
pub(crate) async fn acquire(
    url: &DatabaseUrl,
    history_table: &str,
    timeout: Duration,
    connect_timeout: Duration,
    observer: &dyn Observer,
) -> Result<Lock, Error> {
    let started = Instant::now();
    let fail = |action: &str, e: sqlx::Error| Error::Database {
        backend: url.backend(),
        action: action.to_string(),
        reason: db_reason(&e),
    };
    let timed_out = |holder: String| Error::LockTimeout {
        waited: timeout,
        holder,
        url: url.redacted().to_string(),
    };
    match url.backend() {
        Backend::Postgres => {
            let mut conn = connect(url, Purpose::Lock, connect_timeout, timeout).await?;
            let key = postgres_key(history_table);
            let try_lock =
                format!("SELECT CASE WHEN pg_try_advisory_lock({key}) THEN 1 ELSE 0 END::int8");
            let mut announced = false;
            loop {
                let got = conn
                    .scalar_i64(&try_lock)
                    .await
                    .map_err(|e| fail("taking the migration lock (pg_try_advisory_lock)", e))?;
                if got == 1 {
                    let (classid, objid) = key_parts(key);
                    let probe = format!(
                        "SELECT count(*)::int8 FROM pg_locks WHERE locktype = 'advisory' AND granted \
                         AND pid = pg_backend_pid() AND classid = {classid} AND objid = {objid} \
                         AND objsubid = 1"
                    );
                    return Ok(Lock::Postgres {
                        held: Held::new(conn, probe),
                        key,
                    });
                }
                let holder = postgres_holder(&mut conn, key).await;
                if started.elapsed() >= timeout {
                    conn.close().await;
                    return Err(timed_out(holder));
                }
                if !announced {
                    observer.event(&Event::WaitingForLock {
                        holder: &holder,
                        timeout,
                    });
                    announced = true;
                }
                tokio::time::sleep(POLL).await;
            }
        }
        Backend::MySql => {
            let mut conn = connect(url, Purpose::Lock, connect_timeout, timeout).await?;
            let database = conn
                .strings("SELECT COALESCE(DATABASE(), '')")
                .await
                .map_err(|e| fail("reading the database name", e))?
                .pop()
                .unwrap_or_default();
            let name = mysql_name(&database, history_table);
            let quoted = name.replace('\'', "''");
            let got = conn
                .scalar_i64(&format!("SELECT COALESCE(GET_LOCK('{quoted}', 0), 0)"))
                .await
                .map_err(|e| fail("taking the migration lock (GET_LOCK)", e))?;
            let probe =
                format!("SELECT COALESCE(IS_USED_LOCK('{quoted}') = CONNECTION_ID(), 0) + 0");
            if got == 1 {
                return Ok(Lock::MySql {
                    held: Held::new(conn, probe),
                    name,
                });
            }
            let holder = mysql_holder(&mut conn, &quoted).await;
            observer.event(&Event::WaitingForLock {
                holder: &holder,
                timeout,
            });
            let seconds = timeout.as_secs_f64().max(0.001);
            let got = conn
                .scalar_i64(&format!(
                    "SELECT COALESCE(GET_LOCK('{quoted}', {seconds:.3}), 0)"
                ))
                .await
                .map_err(|e| fail("waiting for the migration lock (GET_LOCK)", e))?;
            if got == 1 {
                return Ok(Lock::MySql {
                    held: Held::new(conn, probe),
                    name,
                });
            }
            let holder = mysql_holder(&mut conn, &quoted).await;
            conn.close().await;
            Err(timed_out(holder))
        }
        Backend::Sqlite => {
            let db = url.sqlite_file().ok_or(Error::InMemory)?;
            let path = sqlite_lock_file(&db);
            let lock_error = |e: std::io::Error| Error::LockFile {
                path: path.display().to_string(),
                reason: e.to_string(),
            };
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(lock_error)?;
            let mut announced = false;
            loop {
                match file.try_lock() {
                    Ok(()) => {
                        // Say who holds it, for whoever waits. Best effort: the lock is held
                        // whether or not this is written.
                        let _ = file.set_len(0);
                        let _ = writeln!(
                            file,
                            "{}, since {}",
                            whoami(),
                            crate::event::format_time(time::OffsetDateTime::now_utc())
                        );
                        return Ok(Lock::Sqlite { _file: file });
                    }
                    Err(TryLockError::WouldBlock) => {}
                    Err(TryLockError::Error(e)) => return Err(lock_error(e)),
                }
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "another process".to_string());
                let holder = format!("{holder} (lock file {})", path.display());
                if started.elapsed() >= timeout {
                    return Err(timed_out(holder));
                }
                if !announced {
                    observer.event(&Event::WaitingForLock {
                        holder: &holder,
                        timeout,
                    });
                    announced = true;
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// The two halves of an advisory lock key, as `pg_locks` shows them.
fn key_parts(key: i64) -> (u32, u32) {
    ((key as u64 >> 32) as u32, (key as u64 & 0xffff_ffff) as u32)
}

/// Who holds the PostgreSQL advisory lock `key`, as well as can be told.
async fn postgres_holder(conn: &mut Conn, key: i64) -> String {
    let (classid, objid) = key_parts(key);
    let sql = format!(
        "SELECT format('pid %s (%s, %s, since %s)', a.pid, \
         coalesce(nullif(a.application_name, ''), 'no application name'), \
         coalesce(a.client_addr::text, 'local socket'), \
         to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')) \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {classid} AND l.objid = {objid} \
         AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    );
    match conn.strings(&sql).await {
        Ok(mut rows) if !rows.is_empty() => rows.remove(0),
        _ => "another session".to_string(),
    }
}

/// Who holds the MySQL lock named `quoted`, as well as can be told.
async fn mysql_holder(conn: &mut Conn, quoted: &str) -> String {
    let sql = format!(
        "SELECT CONCAT('connection ', p.ID, ' (', p.USER, '@', p.HOST, ', for ', p.TIME, ' s)') \
         FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK('{quoted}')"
    );
    match conn.strings(&sql).await {
        Ok(mut rows) if !rows.is_empty() => rows.remove(0),
        _ => "another session".to_string(),
    }
}

/// The migration lock, taken outside a run: for a tool that must keep deploys out while it
/// works on the database (a backup, a manual repair).
pub struct HeldLock(Lock);

impl std::fmt::Debug for HeldLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeldLock")
    }
}

/// Take the migration lock of `url`'s database (history table `history_table`), waiting up to
/// `timeout`. It is released by [`HeldLock::release`], or when dropped.
pub async fn hold(
    url: &DatabaseUrl,
    history_table: &str,
    timeout: Duration,
) -> Result<HeldLock, Error> {
    crate::history::check_table_name(history_table, url.backend())?;
    acquire(
        url,
        history_table,
        timeout,
        Duration::from_secs(10),
        &crate::event::Quiet,
    )
    .await
    .map(HeldLock)
}

impl HeldLock {
    /// Release the lock now (dropping it releases it too, when the connection or file closes).
    pub async fn release(self) -> Result<(), Error> {
        self.0.release().await
    }
}

impl Lock {
    /// Release the lock now (dropping it releases it too, when the connection or file closes).
    pub(crate) async fn release(self) -> Result<(), Error> {
        let fail = |backend, e: sqlx::Error| Error::Database {
            backend,
            action: "releasing the migration lock".to_string(),
            reason: db_reason(&e),
        };
        match self {
            Lock::Postgres { held, key } => {
                let mut conn = held.probe.conn.lock().await;
                conn.batch(&format!("SELECT pg_advisory_unlock({key})"))
                    .await
                    .map(drop)
                    .map_err(|e| fail(Backend::Postgres, e))
            }
            Lock::MySql { held, name } => {
                let mut conn = held.probe.conn.lock().await;
                conn.batch(&format!("DO RELEASE_LOCK('{}')", name.replace('\'', "''")))
                    .await
                    .map(drop)
                    .map_err(|e| fail(Backend::MySql, e))
            }
            Lock::Sqlite { _file } => {
                drop(_file);
                Ok(())
            }
        }
    }
}

/// Release the lock after `result`: the result's error wins over a failure to release (the
/// connection closes either way, which releases the lock too).
pub(crate) async fn release<T>(lock: Lock, result: Result<T, Error>) -> Result<T, Error> {
    let released = lock.release().await;
    let value = result?;
    released?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_are_stable_and_short() {
        assert_eq!(
            postgres_key("godwit_migrations"),
            postgres_key("godwit_migrations")
        );
        assert_ne!(postgres_key("godwit_migrations"), postgres_key("other"));
        assert_eq!(
            mysql_name("blog", "godwit_migrations"),
            "godwit:blog.godwit_migrations"
        );
        let long = mysql_name(&"d".repeat(60), "godwit_migrations");
        assert!(long.len() <= 64 && long.starts_with("godwit:"), "{long}");
        assert_eq!(
            sqlite_lock_file(std::path::Path::new("/x/dev.db")),
            PathBuf::from("/x/dev.db.godwit-lock")
        );
    }
}
