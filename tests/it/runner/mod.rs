//! The runner on real PostgreSQL, MariaDB and SQLite, each test in a scratch database of its own.
//!
//! The migrations are the fixture's (`tests/src/migrations`): five, the last of which,
//! `create_reviews`, can be made to fail half-way or to run for minutes (see `tests/src/lib.rs`).
//! Tests drive them in-process through the library API ([`godwit::Runner`]) and as real
//! processes through the fixture's binary, `fixture-migrations`.
//!
//! - `scenarios`: up, down, redo, `--to`, status, dry runs, `--single-transaction`, fresh;
//! - `cli`: the commands' output, JSON and exit codes;
//! - `concurrency`: eight processes run `up` at once;
//! - `copy`: `copy` between each pair of backends: every column type, foreign-key order,
//!   resuming, refusals, the row-count check, the command line;
//! - `data`: Rust code in migrations, backfills interrupted and resumed, `copy_rows`;
//! - `declared`: objects raw SQL declares, known to drift and `down`; a type change under a
//!   view refused by lint, and the way it shows run;
//! - `objects`: enums, views, functions, triggers and comments made by the DSL, known to
//!   drift; a value removed from an enum while a row holds it fails and keeps the row;
//! - `failure`: a migration that fails half-way;
//! - `fidelity`: values of every type read back exactly with each database's own client;
//! - `integrity`: applied migrations changed or missing, pending ones out of order, `repair`;
//! - `kill`: a runner killed with SIGKILL in the middle of a migration;
//! - `modes`: server settings that change how SQL reads (`NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`,
//!   `standard_conforming_strings = off`, a time zone other than UTC): hostile defaults stored
//!   as written through `up`;
//! - `printed`: the SQL `sql` prints, run by each database's client, leaves what `up` leaves;
//! - `rebuild`: SQLite's table rebuild keeps raw-SQL indexes, triggers, views and the counter;
//! - `bad_input`: malformed URLs, unreachable servers, wrong credentials, unknown versions;
//! - `timeouts`: lock and statement timeouts, retries after a lock timeout, unsafe migrations
//!   refused.

mod bad_input;
mod cli;
mod concurrency;
mod copy;
mod data;
mod declared;
mod failure;
mod fidelity;
mod integrity;
mod introspect;
mod kill;
mod modes;
mod objects;
mod printed;
mod rebuild;
mod scenarios;
mod schemas;
mod timeouts;
mod verify;

use std::process::{Command, Output};

use godwit::runner::{Options, Runner};
use godwit_core::Backend;
use sqlx::AssertSqlSafe;
use tests as _;

use crate::live::db::{Conn, Scratch};

/// The fixture's versions, oldest first.
pub const V1: u64 = 20260101000100;
pub const V2: u64 = 20260101000200;
pub const V3: u64 = 20260101000300;
pub const V4: u64 = 20260101000400;
pub const V5: u64 = 20260101000500;
pub const ALL: [u64; 5] = [V1, V2, V3, V4, V5];

/// A runner for the fixture's migrations on `url`.
pub fn runner(url: &str) -> Runner {
    let url = url.parse().unwrap_or_else(|e| panic!("{e}"));
    godwit::runner(url)
        .unwrap_or_else(|e| panic!("the fixture's migrations do not resolve: {e:?}"))
        .with_options(Options::default().deploy_lock_timeout(std::time::Duration::from_secs(60)))
}

/// A runner for `migrations` (version, name, migration) on the scratch database `db`.
pub fn runner_of(
    db: &Scratch,
    migrations: &[(u64, &str, &'static dyn godwit_core::Migration)],
) -> Runner {
    let migrations: Vec<(
        godwit_core::MigrationId,
        &'static dyn godwit_core::Migration,
    )> = migrations
        .iter()
        .map(|(version, name, m)| {
            (
                godwit_core::MigrationId {
                    version: *version,
                    name: name.to_string(),
                },
                *m,
            )
        })
        .collect();
    Runner::new(db.url().parse().unwrap(), migrations)
}

/// The fixture's binary with `args`, then `--database-url url`; nothing from the environment
/// that could change what it does.
/// [`fixture`] with the variant `var` of `create_reviews` (see `tests/src/lib.rs`): its code
/// then differs from the binary's plain code, so it keeps no cache (`GODWIT_NO_CACHE`), which
/// would otherwise stand for the plain code in the other tests' runs.
pub fn fixture_variant(url: &str, args: &[&str], var: &str) -> Command {
    let mut c = fixture(url, args);
    c.env(var, "1").env("GODWIT_NO_CACHE", "1");
    c
}

pub fn fixture(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fixture-migrations"));
    c.args(args)
        .arg("--database-url")
        .arg(url)
        .env_remove("DATABASE_URL")
        .env_remove("GODWIT_FIXTURE_FAIL")
        .env_remove("GODWIT_FIXTURE_SLOW")
        .env_remove("GODWIT_FIXTURE_FAIL_DOWN")
        .env("NO_COLOR", "1");
    c
}

/// Run the fixture and collect what it printed.
pub fn run(mut command: Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run the fixture binary: {e}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The one integer `sql` returns.
pub async fn scalar(conn: &mut Conn, sql: &str) -> i64 {
    let q = AssertSqlSafe(sql.to_string());
    let result = match conn {
        Conn::Postgres(c) => sqlx::query_scalar::<_, i64>(q).fetch_one(&mut *c).await,
        Conn::MySql(c) => sqlx::query_scalar::<_, i64>(q).fetch_one(&mut *c).await,
        Conn::Sqlite(c) => sqlx::query_scalar::<_, i64>(q).fetch_one(&mut *c).await,
    };
    result.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
}

/// Run `sql`.
pub async fn exec(conn: &mut Conn, sql: &str) {
    let q = AssertSqlSafe(sql.to_string());
    let result = match conn {
        Conn::Postgres(c) => sqlx::raw_sql(q).execute(&mut *c).await.map(drop),
        Conn::MySql(c) => sqlx::raw_sql(q).execute(&mut *c).await.map(drop),
        Conn::Sqlite(c) => sqlx::raw_sql(q).execute(&mut *c).await.map(drop),
    };
    result.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
}

/// Whether `table` exists in the scratch database.
pub async fn table_exists(conn: &mut Conn, table: &str) -> bool {
    let sql = match conn {
        Conn::Postgres(_) => format!(
            "SELECT count(*)::int8 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
        Conn::MySql(_) => format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
        ),
        Conn::Sqlite(_) => {
            format!("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
        }
    };
    scalar(conn, &sql).await > 0
}

/// The versions in the history table, oldest first, with their status.
pub async fn history(conn: &mut Conn, table: &str) -> Vec<(u64, String)> {
    if !table_exists(conn, table).await {
        return Vec::new();
    }
    let sql = AssertSqlSafe(format!(
        "SELECT version, status FROM {table} ORDER BY version"
    ));
    let rows: Result<Vec<(i64, String)>, _> = match conn {
        Conn::Postgres(c) => sqlx::query_as(sql).fetch_all(&mut *c).await,
        Conn::MySql(c) => sqlx::query_as(sql).fetch_all(&mut *c).await,
        Conn::Sqlite(c) => sqlx::query_as(sql).fetch_all(&mut *c).await,
    };
    rows.unwrap_or_else(|e| panic!("reading {table}: {e}"))
        .into_iter()
        .map(|(v, s)| (v as u64, s))
        .collect()
}

/// `(version, "applied")` for each of `versions`.
pub fn applied(versions: &[u64]) -> Vec<(u64, String)> {
    versions
        .iter()
        .map(|v| (*v, "applied".to_string()))
        .collect()
}

/// Nobody holds the migration lock of `db` (history table `godwit_migrations`).
pub async fn assert_no_lock(backend: Backend, db: &mut Scratch) {
    match backend {
        Backend::Postgres => {
            let held = scalar(
                &mut db.conn,
                "SELECT count(*)::int8 FROM pg_locks WHERE locktype = 'advisory' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await;
            assert_eq!(held, 0, "an advisory lock is still held");
        }
        Backend::MySql => {
            let name = godwit::runner::lock::mysql_name(db.name(), "godwit_migrations");
            let held = scalar(
                &mut db.conn,
                &format!(
                    "SELECT count(*) FROM (SELECT IS_USED_LOCK('{name}') AS h) x WHERE h IS NOT NULL"
                ),
            )
            .await;
            assert_eq!(held, 0, "GET_LOCK('{name}') is still held");
        }
        Backend::Sqlite => {
            let file = godwit::runner::lock::sqlite_lock_file(db.path().unwrap());
            let f = std::fs::File::open(&file).unwrap();
            assert!(f.try_lock().is_ok(), "{} is still locked", file.display());
        }
    }
}

/// A scratch database for `backend`, named after the test.
pub async fn scratch(backend: Backend, label: &str) -> Scratch {
    Scratch::create(backend, label).await
}

/// One test per backend: `runner::scenarios::postgres::up_applies_everything_once`, ...
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(godwit_core::Backend::Postgres).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(godwit_core::Backend::MySql).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(godwit_core::Backend::Sqlite).await;
                }
            )*
        }
    };
}
pub(crate) use on_every_backend;
