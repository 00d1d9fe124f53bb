//! A migration that fails half-way: the migrations before it stay applied; on PostgreSQL and
//! SQLite nothing of it stays and history does not record it; on MariaDB, whose DDL commits as it
//! goes, history records it as partial at the failing statement, and the next run refuses to go
//! on until a person has resolved it, as the error says.

use godwit_core::Backend;

use super::{
    V5, applied, assert_no_lock, exec, fixture, fixture_variant, history, on_every_backend, run,
    scratch, table_exists, text,
};

async fn a_migration_failing_half_way(backend: Backend) {
    let mut db = scratch(backend, "fails_half_way").await;
    let url = db.url();

    let out = run(fixture_variant(&url, &["up"], "GODWIT_FIXTURE_FAIL"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: migration {V5} create_reviews (up) failed at statement 3 of 4 on {backend}: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("no_such_table"),
        "the database's error: {stderr}"
    );
    assert!(
        stderr.contains("statement: INSERT INTO no_such_table (x) VALUES (1)"),
        "{stderr}"
    );
    // What the run applied before it failed.
    assert!(
        stderr.contains("before it stopped, this run finished: up 20260101000100 "),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.is_empty(), "{stdout}");
    // The failing run let go of the lock.
    assert_no_lock(backend, &mut db).await;

    let mut expected = applied(&super::ALL[..4]);
    match backend {
        Backend::MySql => {
            assert!(
                stderr.contains("statements 1 to 2 ran and stay committed"),
                "{stderr}"
            );
            assert!(
                stderr.contains("history records it as partial at statement 3"),
                "{stderr}"
            );
            expected.push((V5, "partial".to_string()));
            assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
            assert!(
                table_exists(&mut db.conn, "reviews").await,
                "statements 1 and 2 were committed"
            );
            // `schema --live` says what is the half-applied migration's, not "made by hand".
            let out = run(fixture(&url, &["schema", "--live"]));
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains(&format!(
                    "migration {V5} create_reviews is half-applied (up stopped at statement 3); what it ran shows as:"
                )) && stderr.contains("table reviews is in the database but not in the migrations")
                    && !stderr.contains("made by hand"),
                "{stderr}"
            );

            // The next run refuses, and says what to do.
            let out = run(fixture(&url, &["up"]));
            assert_eq!(out.status.code(), Some(1));
            let stderr = text(&out.stderr);
            assert!(
                stderr.starts_with(&format!(
                    "error: migration {V5} create_reviews is half-applied: up stopped at statement 3 (error: "
                )),
                "{stderr}"
            );
            assert!(
                stderr.contains(&format!("sql --backend mysql {V5}")),
                "{stderr}"
            );
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            let status = text(&run(fixture(&url, &["status"])).stdout);
            assert!(status.contains("partial"), "{status}");
            assert!(status.contains("stopped at statement 3: "), "{status}");

            // Resolve it as the message says: undo statements 1 and 2, delete the row, run again.
            exec(&mut db.conn, "DROP TABLE reviews").await;
            exec(
                &mut db.conn,
                &format!("DELETE FROM godwit_migrations WHERE version = {V5}"),
            )
            .await;
        }
        Backend::Postgres | Backend::Sqlite => {
            assert!(
                stderr.contains("it was rolled back: nothing of it is applied and the migrations before it stay applied"),
                "{stderr}"
            );
            assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
            assert!(
                !table_exists(&mut db.conn, "reviews").await,
                "statements 1 and 2 were rolled back"
            );
        }
    }

    let out = run(fixture(&url, &["up"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    expected = applied(&super::ALL);
    assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
    assert!(table_exists(&mut db.conn, "reviews").await);
    db.conn.close().await;
}

/// `--single-transaction`: a failure rolls back the whole run, and the error still names the
/// migration and the statement (the run goes to the server in batches).
async fn a_failure_in_one_transaction_for_all(backend: Backend) {
    let mut db = scratch(backend, "fails_single_tx").await;
    let url = db.url();
    let out = run(fixture_variant(
        &url,
        &["up", "--single-transaction"],
        "GODWIT_FIXTURE_FAIL",
    ));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    if backend == Backend::MySql {
        assert!(
            stderr.starts_with("error: --single-transaction is not possible on MySQL/MariaDB"),
            "{stderr}"
        );
    } else {
        assert!(
            stderr.starts_with(&format!(
                "error: migration {V5} create_reviews (up) failed at statement 3 of 4 on {backend}: "
            )),
            "{stderr}"
        );
        assert!(stderr.contains("no_such_table"), "{stderr}");
        assert!(
            stderr.contains("the whole run was rolled back (--single-transaction)"),
            "{stderr}"
        );
    }
    assert!(history(&mut db.conn, "godwit_migrations").await.is_empty());
    assert!(!table_exists(&mut db.conn, "authors").await);
    db.conn.close().await;
}

/// A `down` that fails half-way: rolled back whole on PostgreSQL and SQLite (the migration stays
/// applied); on MariaDB recorded as `partial_down` at the statement, and the next run refuses.
async fn a_rollback_failing_half_way(backend: Backend) {
    let mut db = scratch(backend, "down_fails").await;
    let url = db.url();
    let with_fail = |args: &[&str]| run(fixture_variant(&url, args, "GODWIT_FIXTURE_FAIL_DOWN"));
    let out = with_fail(&["up"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = with_fail(&["down"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: migration {V5} create_reviews (down) failed at statement 2 of 3 on {backend}: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("no_such_table"), "{stderr}");
    assert_no_lock(backend, &mut db).await;
    let mut expected = applied(&super::ALL[..4]);
    match backend {
        Backend::MySql => {
            expected.push((V5, "partial_down".to_string()));
            assert_eq!(history(&mut db.conn, "godwit_migrations").await, expected);
            let out = with_fail(&["up"]);
            assert_eq!(out.status.code(), Some(1));
            let stderr = text(&out.stderr);
            assert!(
                stderr.starts_with(&format!(
                    "error: migration {V5} create_reviews is half-applied: down stopped at statement 2 (error: "
                )),
                "{stderr}"
            );
            assert!(
                stderr.contains(&format!("sql --backend mysql --down {V5}")),
                "{stderr}"
            );
        }
        Backend::Postgres | Backend::Sqlite => {
            assert!(
                stderr.contains("it was rolled back: the migration stays applied"),
                "{stderr}"
            );
            assert_eq!(
                history(&mut db.conn, "godwit_migrations").await,
                applied(&super::ALL)
            );
            assert!(table_exists(&mut db.conn, "reviews").await);
        }
    }
    db.conn.close().await;
}

on_every_backend!(
    a_migration_failing_half_way,
    a_failure_in_one_transaction_for_all,
    a_rollback_failing_half_way,
);
