//! Eight deploys migrate one database at the same moment: every migration runs exactly once,
//! every process succeeds, and no lock is left behind.

use std::collections::BTreeMap;
use std::process::Stdio;

use godwit_core::Backend;

use super::{
    ALL, applied, assert_no_lock, fixture, history, on_every_backend, scalar, scratch, text,
};

const PROCESSES: usize = 8;

async fn eight_processes_run_up_at_once(backend: Backend) {
    let mut db = scratch(backend, "concurrent").await;
    let url = db.url();

    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            fixture(&url, &["up", "--json", "--deploy-lock-timeout", "120"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start the fixture binary: {e}"))
        })
        .collect();

    let mut runs: BTreeMap<u64, usize> = BTreeMap::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "a runner failed: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
        for ran in json["ran"].as_array().unwrap() {
            *runs.entry(ran["version"].as_u64().unwrap()).or_default() += 1;
        }
    }
    let once: BTreeMap<u64, usize> = ALL.iter().map(|v| (*v, 1)).collect();
    assert_eq!(
        runs, once,
        "each migration must run exactly once across the processes"
    );
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        applied(&ALL)
    );
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        2
    );

    assert_no_lock(backend, &mut db).await;
    db.conn.close().await;
}

/// A runner that cannot get the lock in time fails with exit code 4, saying who holds it.
async fn a_held_lock_makes_a_second_runner_wait_then_time_out(backend: Backend) {
    let mut db = scratch(backend, "lock_timeout").await;
    let url = db.url();
    // Hold the lock the way a runner does, from this process.
    let holder = godwit::runner::lock::hold(
        &url.parse().unwrap(),
        "godwit_migrations",
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let out = fixture(&url, &["up", "--deploy-lock-timeout", "1"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("waiting for the migration lock, held by "),
        "{stderr}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: timed out after 1s waiting for the migration lock on ")
            && last.contains("raise --deploy-lock-timeout"),
        "{stderr}"
    );
    if backend == Backend::Postgres {
        assert!(
            stderr.contains(&format!("godwit pid {}", std::process::id())),
            "{stderr}"
        );
    }
    assert!(history(&mut db.conn, "godwit_migrations").await.is_empty());
    holder.release().await.unwrap();
    let out = fixture(&url, &["up", "--deploy-lock-timeout", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    db.conn.close().await;
}

on_every_backend!(
    eight_processes_run_up_at_once,
    a_held_lock_makes_a_second_runner_wait_then_time_out,
);

/// A migration with a statement that takes three seconds, during which its runner loses the
/// lock's connection.
struct SlowFirst;
impl godwit::prelude::Migration for SlowFirst {
    fn up(&self, s: &mut godwit::prelude::Schema) {
        s.sql_per_backend(godwit::prelude::PerBackend {
            postgres: Some("SELECT pg_sleep(3)"),
            mysql: Some("DO SLEEP(3)"),
            sqlite: Some("SELECT 1"),
        })
        .down("SELECT 1");
        s.create_table("first", |t| {
            t.id();
        });
    }
}

struct Second;
impl godwit::prelude::Migration for Second {
    fn up(&self, s: &mut godwit::prelude::Schema) {
        s.create_table("second", |t| {
            t.id();
        });
    }
}

static SLOW_FIRST: SlowFirst = SlowFirst;
static SECOND: Second = Second;

/// The connection holding the migration lock is ended by the server (`pg_terminate_backend`,
/// MariaDB's `KILL`; a proxy's idle timeout would do the same): the runner notices before its
/// next commit or migration and stops, so it never migrates alongside the next runner. On
/// PostgreSQL the migration in progress is rolled back; on MariaDB its DDL has run and is
/// recorded, and the next migration does not start. (SQLite's lock is an open file's, which
/// only the process's end releases.)
async fn losing_the_lock_stops_the_runner(backend: Backend) {
    use godwit::runner::{Error, Up};
    let mut db = scratch(backend, "lock_lost").await;
    let runner = super::runner_of(
        &db,
        &[(1, "slow_first", &SLOW_FIRST), (2, "second", &SECOND)],
    );
    let up = tokio::spawn(async move { runner.up(&Up::default().allow_unsafe(true)).await });
    let (running, kill) = match backend {
        Backend::Postgres => (
            "SELECT count(*)::int8 FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE 'SELECT pg_sleep(3)%' AND state = 'active'",
            "SELECT count(pg_terminate_backend(pid))::int8 FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name LIKE '%(holds the migration lock)'",
        ),
        _ => (
            "SELECT count(*) FROM information_schema.PROCESSLIST \
             WHERE DB = DATABASE() AND INFO LIKE 'DO SLEEP(3)%'",
            "SELECT IS_USED_LOCK(CONCAT('godwit:', DATABASE(), '.godwit_migrations'))",
        ),
    };
    let started = std::time::Instant::now();
    while scalar(&mut db.conn, running).await == 0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the slow statement never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ended = scalar(&mut db.conn, kill).await;
    if backend == Backend::MySql {
        super::exec(&mut db.conn, &format!("KILL {ended}")).await;
    } else {
        assert_eq!(ended, 1, "the lock's connection was found");
    }
    let error = up.await.unwrap().unwrap_err();
    assert!(
        matches!(error, Error::LockLost { .. }),
        "{backend}: expected the lost lock to stop the runner: {error}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("the migration lock was lost ("),
        "{message}"
    );
    let expected = match backend {
        Backend::Postgres => {
            assert!(
                !super::table_exists(&mut db.conn, "first").await,
                "rolled back"
            );
            Vec::new()
        }
        _ => applied_one(),
    };
    assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
    assert!(
        !super::table_exists(&mut db.conn, "second").await,
        "the next one did not start"
    );
    db.conn.close().await;
}

fn applied_one() -> Vec<(u64, String)> {
    vec![(1, "applied".to_string())]
}

mod lock_lost {
    #[tokio::test]
    async fn postgres() {
        super::losing_the_lock_stops_the_runner(godwit_core::Backend::Postgres).await;
    }

    #[tokio::test]
    async fn mysql() {
        super::losing_the_lock_stops_the_runner(godwit_core::Backend::MySql).await;
    }
}
