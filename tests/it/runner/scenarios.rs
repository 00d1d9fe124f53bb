//! up, down, redo, `--to`, status, dry runs, `--single-transaction` and fresh, through the
//! library API.

use godwit::runner::{Down, DownTarget, Error, Options, State, Up};
use godwit_core::Backend;

use super::{
    ALL, V1, V2, V3, V4, V5, applied, exec, history, on_every_backend, runner, scalar, scratch,
    table_exists,
};

const HISTORY: &str = "godwit_migrations";

fn versions(report: &godwit::runner::Report) -> Vec<(&'static str, u64)> {
    report
        .ran
        .iter()
        .map(|r| (r.direction, r.id.version))
        .collect()
}

async fn up_applies_everything_once_and_status_tracks_it(backend: Backend) {
    let mut db = scratch(backend, "up_once").await;
    let r = runner(&db.url());

    let status = r.status().await.unwrap();
    assert!(!status.history_exists);
    assert_eq!(status.count(State::Pending), 5);
    assert!(!status.is_up_to_date());
    assert!(
        !table_exists(&mut db.conn, HISTORY).await,
        "status must not create the history table"
    );

    let report = r.up(&Up::default()).await.unwrap();
    assert_eq!(versions(&report), ALL.map(|v| ("up", v)));
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&ALL));
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        2
    );
    assert!(table_exists(&mut db.conn, "reviews").await);

    let status = r.status().await.unwrap();
    assert!(status.history_exists && status.is_up_to_date());
    for m in &status.migrations {
        let row = m.row.as_ref().unwrap();
        assert_eq!(m.state, State::Applied);
        assert!(
            row.checksum.starts_with("v1:") && row.checksum.len() == 67,
            "{row:?}"
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let age = now - row.applied_at.unix_timestamp();
        assert!(age.abs() < 300, "applied_at is not now in UTC: {row:?}");
    }

    let again = r.up(&Up::default()).await.unwrap();
    assert!(again.ran.is_empty());
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&ALL));
    db.conn.close().await;
}

async fn up_to_then_down_by_steps_to_and_all(backend: Backend) {
    let mut db = scratch(backend, "up_down").await;
    let r = runner(&db.url());

    let report = r.up(&Up::default().to(Some(V2))).await.unwrap();
    assert_eq!(versions(&report), [("up", V1), ("up", V2)]);
    let status = r.status().await.unwrap();
    assert_eq!(
        (status.count(State::Applied), status.count(State::Pending)),
        (2, 3)
    );

    r.up(&Up::default()).await.unwrap();
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        2
    );

    let report = r.down(&Down::new(DownTarget::Steps(2))).await.unwrap();
    assert_eq!(versions(&report), [("down", V5), ("down", V4)]);
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&[V1, V2, V3]));
    assert!(!table_exists(&mut db.conn, "reviews").await);
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        0
    );

    let report = r.down(&Down::new(DownTarget::To(V1))).await.unwrap();
    assert_eq!(versions(&report), [("down", V3), ("down", V2)]);
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&[V1]));
    assert!(!table_exists(&mut db.conn, "books").await);

    let report = r.down(&Down::new(DownTarget::All)).await.unwrap();
    assert_eq!(versions(&report), [("down", V1)]);
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&[]));
    assert!(!table_exists(&mut db.conn, "authors").await);

    let nothing = r.down(&Down::new(DownTarget::Steps(1))).await.unwrap();
    assert!(nothing.ran.is_empty());

    // And back up: the schema the rollbacks left takes every migration again.
    r.up(&Up::default()).await.unwrap();
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&ALL));
    db.conn.close().await;
}

async fn redo_rolls_back_and_reapplies(backend: Backend) {
    let mut db = scratch(backend, "redo").await;
    let r = runner(&db.url());
    r.up(&Up::default()).await.unwrap();
    exec(
        &mut db.conn,
        "INSERT INTO authors (name) VALUES ('Octavia E. Butler')",
    )
    .await;

    let report = r.redo(2).await.unwrap();
    assert_eq!(
        versions(&report),
        [("down", V5), ("down", V4), ("up", V4), ("up", V5)]
    );
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&ALL));
    // The seed's down removed its two rows only, and up put them back.
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        3
    );
    db.conn.close().await;
}

async fn dry_runs_print_the_exact_sql_and_change_nothing(backend: Backend) {
    let mut db = scratch(backend, "dry_run").await;
    let r = runner(&db.url());

    let report = r.up(&Up::default().dry_run(true)).await.unwrap();
    let sql = report.sql.unwrap();
    assert!(report.ran.is_empty());
    assert!(sql.contains("CREATE TABLE IF NOT EXISTS"), "{sql}");
    for header in [
        "-- 20260101000100 create_authors (up)",
        "-- 20260101000500 create_reviews (up)",
    ] {
        assert!(sql.contains(header), "{sql}");
    }
    assert_eq!(
        sql.matches("INSERT INTO ").count(),
        6,
        "five history rows and the seed: {sql}"
    );
    assert!(
        sql.contains("'Ursula K. Le Guin'"),
        "values are written inline: {sql}"
    );
    match backend {
        Backend::MySql => {
            assert!(sql.contains("'partial', 1"), "{sql}");
            assert!(!sql.contains("BEGIN"), "{sql}");
            // One migration's `applied` row goes with the next one's `partial` row, in one
            // transaction, when the next one starts with plain SQL: not the seed's, an insert
            // whose values are bound.
            assert_eq!(sql.matches("START TRANSACTION;").count(), 3, "{sql}");
        }
        Backend::Sqlite => assert_eq!(sql.matches("BEGIN IMMEDIATE;").count(), 5, "{sql}"),
        Backend::Postgres => assert_eq!(sql.matches("BEGIN;").count(), 5, "{sql}"),
    }
    assert!(!table_exists(&mut db.conn, HISTORY).await);
    assert!(!table_exists(&mut db.conn, "authors").await);
    // What it prints is what runs: the database's own client, given it, leaves the schema and
    // the history `up` leaves.
    let mut printed = scratch(backend, "dry_run_printed").await;
    super::printed::run_script(backend, &printed, &sql);
    assert_eq!(history(&mut printed.conn, HISTORY).await, applied(&ALL));
    for table in ["authors", "books", "reviews"] {
        assert!(
            table_exists(&mut printed.conn, table).await,
            "{table}: {sql}"
        );
    }
    printed.conn.close().await;
    if let Some(path) = db.path() {
        // A dry run does not even create the database file.
        let missing = path.with_extension("not-created.db");
        let r = runner(&format!("sqlite://{}", missing.display()));
        let sql = r
            .up(&Up::default().dry_run(true))
            .await
            .unwrap()
            .sql
            .unwrap();
        assert!(sql.contains("CREATE TABLE IF NOT EXISTS"), "{sql}");
        assert!(r.status().await.unwrap().count(State::Pending) == 5);
        assert!(!missing.exists());
    }

    r.up(&Up::default().to(Some(V3))).await.unwrap();
    let report = r
        .down(&Down::new(DownTarget::All).dry_run(true))
        .await
        .unwrap();
    let sql = report.sql.unwrap();
    let drops = sql.lines().filter(|l| l.starts_with("DROP TABLE")).count();
    assert_eq!(drops, 2, "{sql}");
    assert_eq!(sql.matches("DELETE FROM ").count(), 3, "{sql}");
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&[V1, V2, V3]));
    assert!(table_exists(&mut db.conn, "books").await);
    db.conn.close().await;
}

async fn single_transaction_applies_everything_or_refuses(backend: Backend) {
    let mut db = scratch(backend, "single_tx").await;
    let r = runner(&db.url());
    let result = r.up(&Up::default().single_transaction(true)).await;
    if backend == Backend::MySql {
        let e = result.unwrap_err();
        assert!(
            matches!(e, Error::SingleTransactionUnsupported { .. }),
            "{e}"
        );
        assert!(!table_exists(&mut db.conn, HISTORY).await);
    } else {
        let report = result.unwrap();
        assert_eq!(versions(&report), ALL.map(|v| ("up", v)));
        assert_eq!(history(&mut db.conn, HISTORY).await, applied(&ALL));
        let sql = r
            .down(&Down::new(DownTarget::All).dry_run(true))
            .await
            .unwrap()
            .sql
            .unwrap();
        assert_eq!(sql.matches("DELETE FROM ").count(), 6, "{sql}");
    }
    db.conn.close().await;
}

async fn fresh_drops_everything_and_reapplies(backend: Backend) {
    let mut db = scratch(backend, "fresh").await;
    let r = runner(&db.url());
    r.up(&Up::default().to(Some(V4))).await.unwrap();
    exec(&mut db.conn, "CREATE TABLE scratchpad (id integer)").await;
    exec(
        &mut db.conn,
        "CREATE VIEW author_names AS SELECT name FROM authors",
    )
    .await;

    let report = r.fresh().await.unwrap();
    assert_eq!(versions(&report), ALL.map(|v| ("up", v)));
    assert!(!table_exists(&mut db.conn, "scratchpad").await);
    assert_eq!(history(&mut db.conn, HISTORY).await, applied(&ALL));
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        2
    );
    db.conn.close().await;
}

async fn the_history_table_name_is_configurable(backend: Backend) {
    let mut db = scratch(backend, "history_name").await;
    let r = runner(&db.url()).with_options(Options::default().history_table("schema_history"));
    r.up(&Up::default().to(Some(V2))).await.unwrap();
    assert!(!table_exists(&mut db.conn, HISTORY).await);
    assert_eq!(
        history(&mut db.conn, "schema_history").await,
        applied(&[V1, V2])
    );
    let status = r.status().await.unwrap();
    assert_eq!(status.history_table, "schema_history");
    assert_eq!(status.count(State::Applied), 2);
    db.conn.close().await;
}

/// PostgreSQL: `schema.table` puts the history table in a schema of its own, made if missing;
/// elsewhere it is refused before anything runs.
async fn the_history_table_may_live_in_a_postgres_schema(backend: Backend) {
    let mut db = scratch(backend, "history_schema").await;
    let r = runner(&db.url()).with_options(Options::default().history_table("ops.migrations"));
    if backend != Backend::Postgres {
        let err = r.up(&Up::default()).await.unwrap_err();
        assert!(
            matches!(err, Error::HistoryTableName { .. })
                && err.to_string().contains("PostgreSQL's"),
            "{backend}: {err}"
        );
        assert!(!table_exists(&mut db.conn, "authors").await);
        db.conn.close().await;
        return;
    }
    r.up(&Up::default().to(Some(V2))).await.unwrap();
    assert!(!table_exists(&mut db.conn, HISTORY).await);
    assert!(!table_exists(&mut db.conn, "migrations").await);
    assert_eq!(
        history(&mut db.conn, "ops.migrations").await,
        Vec::<(u64, String)>::new(),
        "`history` looks in the current schema only"
    );
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT count(*)::int8 FROM ops.migrations WHERE status = 'applied'"
        )
        .await,
        2
    );
    let status = r.status().await.unwrap();
    assert_eq!(status.history_table, "ops.migrations");
    assert_eq!(status.count(State::Applied), 2);
    r.down(&Down::new(DownTarget::Steps(1))).await.unwrap();
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*)::int8 FROM ops.migrations").await,
        1
    );
    db.conn.close().await;
}

/// A migration that takes a while (its statements bind no values, so they go to the server in
/// one round trip).
struct Slow;
impl godwit::prelude::Migration for Slow {
    fn up(&self, s: &mut godwit::prelude::Schema) {
        s.sql_per_backend(godwit::prelude::PerBackend {
            postgres: Some("SELECT pg_sleep(0.4)"),
            mysql: Some("DO SLEEP(0.4)"),
            sqlite: Some(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) \
                 SELECT count(*) FROM c",
            ),
        })
        .down("SELECT 1");
    }
}
static SLOW: Slow = Slow;

/// The time printed and recorded is the migration's wall time (it was 0 ms on PostgreSQL and
/// SQLite for a migration in a transaction).
async fn execution_time_is_the_migrations_wall_time(backend: Backend) {
    let mut db = scratch(backend, "execution_time").await;
    let r = super::runner_of(&db, &[(1, "slow", &SLOW)]);
    let started = std::time::Instant::now();
    let report = r.up(&Up::default().allow_unsafe(true)).await.unwrap();
    let wall = started.elapsed();
    let ran = report.ran[0].elapsed;
    let recorded = super::scalar(
        &mut db.conn,
        "SELECT execution_ms FROM godwit_migrations WHERE version = 1",
    )
    .await;
    let floor = if backend == Backend::Sqlite { 20 } else { 350 };
    assert!(
        ran.as_millis() >= floor && ran <= wall,
        "{backend}: reported {ran:?} of a {wall:?} run"
    );
    assert!(
        recorded >= floor as i64 && recorded as u128 <= wall.as_millis(),
        "{backend}: history records {recorded} ms of a {wall:?} run"
    );
    db.conn.close().await;
}

on_every_backend!(
    execution_time_is_the_migrations_wall_time,
    up_applies_everything_once_and_status_tracks_it,
    up_to_then_down_by_steps_to_and_all,
    redo_rolls_back_and_reapplies,
    dry_runs_print_the_exact_sql_and_change_nothing,
    single_transaction_applies_everything_or_refuses,
    fresh_drops_everything_and_reapplies,
    the_history_table_name_is_configurable,
    the_history_table_may_live_in_a_postgres_schema,
);
