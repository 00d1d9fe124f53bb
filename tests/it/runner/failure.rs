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
    a_migration_failing_at_its_first_statement,
);

/// A migration that makes one table with an index, `table_a` to `table_c` by its parameter.
struct MakeTable<const N: usize>;
impl<const N: usize> godwit::prelude::Migration for MakeTable<N> {
    fn up(&self, s: &mut godwit::prelude::Schema) {
        s.create_table(["table_a", "table_b", "table_c"][N], |t| {
            t.id();
            t.string("name", 50);
            t.index(["name"]);
        });
    }
}

static MAKE_A: MakeTable<0> = MakeTable;
static MAKE_B: MakeTable<1> = MakeTable;
static MAKE_C: MakeTable<2> = MakeTable;

fn three_tables(db: &super::Scratch) -> godwit::runner::Runner {
    super::runner_of(
        db,
        &[
            (1, "make_a", &MAKE_A),
            (2, "make_b", &MAKE_B),
            (3, "make_c", &MAKE_C),
        ],
    )
}

/// The first statement of a migration fails, right after the migration before it finished. On
/// MariaDB the one before's `applied` row goes to the server with the next one's `partial` row
/// and first statement: the `applied` row stays, and the `partial` one is removed, since nothing
/// of the failed migration ran; everywhere the run stops there.
async fn a_migration_failing_at_its_first_statement(backend: Backend) {
    use godwit::runner::Up;
    let mut db = scratch(backend, "fails_first").await;
    exec(&mut db.conn, "CREATE TABLE table_b (x integer)").await;
    let error = three_tables(&db).up(&Up::default()).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("migration 2 make_b (up) failed at statement 1 of 2"),
        "{message}"
    );
    if backend == Backend::MySql {
        assert!(
            message.contains("nothing of it ran and history has no row for it"),
            "{message}"
        );
    }
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        applied(&[1])
    );
    assert!(table_exists(&mut db.conn, "table_a").await);
    assert!(!table_exists(&mut db.conn, "table_c").await);
    assert_no_lock(backend, &mut db).await;
    db.conn.close().await;
}

mod mysql_only {
    use super::*;

    /// On MariaDB the history write that starts a migration goes in one transaction with the
    /// write that finished the one before. When the server refuses it (here a trigger on the
    /// history table), neither stays from that transaction: the one before is then recorded
    /// alone, applied, and the next one has not started.
    #[tokio::test]
    async fn a_refused_history_write_leaves_the_migration_before_applied() {
        use godwit::runner::Up;
        let mut db = scratch(Backend::MySql, "history_refused").await;
        let runner = three_tables(&db);
        runner.up(&Up::default().to(Some(1))).await.unwrap();
        exec(
            &mut db.conn,
            "CREATE TRIGGER refuse_three BEFORE INSERT ON godwit_migrations FOR EACH ROW \
             IF NEW.version = 3 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a trigger'; END IF",
        )
        .await;
        let error = runner.up(&Up::default()).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("migration 3 make_c (up): recording it in the history table")
                && message.contains("refused by a trigger"),
            "{message}"
        );
        assert_eq!(
            history(&mut db.conn, "godwit_migrations").await,
            applied(&[1, 2])
        );
        assert!(table_exists(&mut db.conn, "table_b").await);
        assert!(
            !table_exists(&mut db.conn, "table_c").await,
            "it did not start"
        );
        assert_no_lock(Backend::MySql, &mut db).await;
        db.conn.close().await;
    }
}
