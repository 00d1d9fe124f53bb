//! A runner killed with SIGKILL in the middle of a migration: on PostgreSQL and SQLite the
//! migration's transaction dies with it, the lock too, and the next `up` finishes cleanly; on
//! MariaDB history says which statement was running, and the next `up` refuses to guess.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use godwit_core::Backend;

use crate::live::db::Scratch;

use super::{
    V5, applied, fixture, fixture_variant, history, on_every_backend, run, scalar, scratch,
    table_exists, text,
};

/// Start `up` with the slow `create_reviews`, and return once it runs that migration's slow
/// statement: the four migrations before it are recorded, and (where the server shows it) the
/// statement is running.
async fn start_slow_up(backend: Backend, db: &mut Scratch) -> Child {
    let mut child = {
        let mut c = fixture_variant(&db.url(), &["up"], "GODWIT_FIXTURE_SLOW");
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let start = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the runner ended before it could be stopped"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the runner never got to create_reviews"
        );
        let in_it = match backend {
            Backend::Postgres => {
                scalar(
                    &mut db.conn,
                    "SELECT count(*)::int8 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%SELECT pg_sleep(600)%' AND state = 'active'",
                )
                .await
                    == 1
            }
            Backend::MySql => {
                scalar(
                    &mut db.conn,
                    "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'SELECT SLEEP(600)%'",
                )
                .await
                    == 1
            }
            Backend::Sqlite => history(&mut db.conn, "godwit_migrations").await.len() == 4,
        };
        if in_it {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SQLite shows nothing of the running statement: give it time to get there.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the runner must still be running"
    );
    child
}

async fn sigkill_in_the_middle_of_a_migration(backend: Backend) {
    let mut db = scratch(backend, "sigkill").await;
    let url = db.url();
    let mut child = start_slow_up(backend, &mut db).await;
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");

    let four = applied(&super::ALL[..4]);
    match backend {
        Backend::Postgres | Backend::Sqlite => {
            // Nothing half-applied: the migration's table went with its transaction.
            assert_eq!(history(&mut db.conn, "godwit_migrations").await, four);
            assert!(!table_exists(&mut db.conn, "reviews").await);
            let out = run(fixture(&url, &["up", "--deploy-lock-timeout", "20"]));
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert_eq!(
                history(&mut db.conn, "godwit_migrations").await,
                applied(&super::ALL)
            );
            assert!(table_exists(&mut db.conn, "reviews").await);
        }
        Backend::MySql => {
            let mut expected = four;
            expected.push((V5, "partial".to_string()));
            assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
            // The killed runner's statement still runs on the server: the next runner waits
            // for it (here 2 s), then says which connection runs it.
            // (With the same code as the killed runner: the fixture's slow statement is
            // GODWIT_FIXTURE_SLOW's.)
            let out = run(fixture_variant(
                &url,
                &["up", "--deploy-lock-timeout", "2"],
                "GODWIT_FIXTURE_SLOW",
            ));
            assert_eq!(out.status.code(), Some(1));
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains(&format!(
                    "migration {V5} create_reviews stopped at statement 3, which the server is still running in connection "
                )),
                "{stderr}"
            );
            let killed = scalar(
                &mut db.conn,
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'SELECT SLEEP(600)%'",
            )
            .await;
            super::exec(&mut db.conn, &format!("KILL {killed}")).await;
            let out = run(fixture(&url, &["up", "--deploy-lock-timeout", "20"]));
            assert_eq!(out.status.code(), Some(1));
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains(&format!(
                    "migration {V5} create_reviews is half-applied: up stopped at statement 3; \
                     statements 1 to 2 ran and were committed, and statement 3 may have, in part or whole."
                )),
                "{stderr}"
            );
        }
    }
    db.conn.close().await;
}

/// Ctrl-C (SIGINT): the runner stops at once with exit code 130, its connections close, and the
/// migration in progress is rolled back where the backend can (PostgreSQL, SQLite).
async fn ctrl_c_in_the_middle_of_a_migration(backend: Backend) {
    stopped_in_the_middle_of_a_migration(backend, "-INT", 130, "error: interrupted: ").await;
}

/// SIGTERM (what systemd, Kubernetes and CI send) is handled as Ctrl-C is, exit code 143.
async fn sigterm_in_the_middle_of_a_migration(backend: Backend) {
    stopped_in_the_middle_of_a_migration(backend, "-TERM", 143, "error: terminated (SIGTERM): ")
        .await;
}

async fn stopped_in_the_middle_of_a_migration(
    backend: Backend,
    signal: &str,
    code: i32,
    message: &str,
) {
    let mut db = scratch(backend, "signal").await;
    let url = db.url();
    let child = start_slow_up(backend, &mut db).await;
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.starts_with(message), "{stderr}");

    let four = applied(&super::ALL[..4]);
    if backend == Backend::MySql {
        let mut expected = four;
        expected.push((V5, "partial".to_string()));
        assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
    } else {
        assert_eq!(history(&mut db.conn, "godwit_migrations").await, four);
        assert!(!table_exists(&mut db.conn, "reviews").await);
        let out = run(fixture(&url, &["up", "--deploy-lock-timeout", "20"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            history(&mut db.conn, "godwit_migrations").await,
            applied(&super::ALL)
        );
    }
    db.conn.close().await;
}

on_every_backend!(
    sigkill_in_the_middle_of_a_migration,
    ctrl_c_in_the_middle_of_a_migration,
    sigterm_in_the_middle_of_a_migration,
);
