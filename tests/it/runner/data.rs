//! Data migrations on every backend: Rust code in a migration, a backfill interrupted and
//! resumed, `copy_rows`, and a data migration that fails.

use std::sync::Arc;
use std::time::Duration;

use godwit::prelude::*;
use godwit::runner::{Error, Event, Observer, Options, Runner, State, Up};
use godwit_core::{Backend, MigrationId};

use super::{exec, history, on_every_backend, scalar, scratch};

const ITEMS: u64 = 20270101000100;
const COUNT: u64 = 20270101000200;
const NOTES: u64 = 20270101000300;

/// 1,000 items, seeded by Rust code; item 550 has `n = 0`, so that the check
/// `counter <= n` stops a backfill that counts it.
struct CreateItems;
impl Migration for CreateItems {
    fn up(&self, s: &mut Schema) {
        s.create_table("items", |t| {
            t.id();
            t.integer("n");
            t.integer("counter").default(0);
            t.check("ck_items_counter_n", col("counter").lte(col("n")));
        });
        s.run("seed 1,000 items", |db| {
            Box::pin(async move {
                let mut insert = Query::insert()
                    .into_table("items")
                    .columns(["id", "n"])
                    .to_owned();
                for id in 1..=1000i64 {
                    let n = if id == 550 { 0 } else { id };
                    insert.values_panic([id.into(), n.into()]);
                }
                let inserted = db.execute(&insert).await?;
                assert_eq!(inserted, 1000);
                Ok(())
            })
        });
    }
    fn down(&self, s: &mut Schema) {
        s.drop_table("items");
    }
}

/// A backfill that is not idempotent: a row updated twice would count 2.
struct CountItems {
    pause: Duration,
}
impl Migration for CountItems {
    fn up(&self, s: &mut Schema) {
        s.add_column("items", Column::integer("doubled").nullable());
        s.backfill("items")
            .set("counter", col("counter").add(1))
            .set("doubled", col("n").mul(2))
            .batch_size(100)
            .pause(self.pause);
        s.add_index("items", ["doubled"]);
    }
    fn down(&self, s: &mut Schema) {
        s.drop_index("items", "idx_items_doubled");
        s.drop_column("items", "doubled");
        s.update("items").set("counter", col("counter").sub(1));
    }
}

/// Rust code that fails after the schema change and an insert.
struct FailingNotes;
impl Migration for FailingNotes {
    fn up(&self, s: &mut Schema) {
        s.add_column("items", Column::string("note", 40).nullable());
        s.run("insert a note, then fail", |db| {
            Box::pin(async move {
                let insert = Query::insert()
                    .into_table("items")
                    .columns(["id", "n"])
                    .values_panic([5000i64.into(), 5000i64.into()])
                    .to_owned();
                db.execute(&insert).await?;
                Err("the notes service is down".into())
            })
        });
    }
}

static CREATE_ITEMS: CreateItems = CreateItems;
static COUNT_ITEMS: CountItems = CountItems {
    pause: Duration::ZERO,
};
static COUNT_ITEMS_SLOWLY: CountItems = CountItems {
    pause: Duration::from_millis(40),
};
static FAILING_NOTES: FailingNotes = FailingNotes;

/// `up`: these migrations are written for the test, not for zero-downtime deploys.
fn up() -> Up {
    Up::default().allow_unsafe(true)
}

fn runner(url: &str, migrations: &[(u64, &str, &'static dyn Migration)]) -> Runner {
    let url = url.parse().unwrap_or_else(|e| panic!("{e}"));
    let migrations: Vec<(MigrationId, &'static dyn Migration)> = migrations
        .iter()
        .map(|(version, name, m)| {
            (
                MigrationId {
                    version: *version,
                    name: name.to_string(),
                },
                *m,
            )
        })
        .collect();
    Runner::new(url, migrations)
        .with_options(Options::default().deploy_lock_timeout(Duration::from_secs(60)))
}

/// Every item counted exactly once, `doubled` filled, none left out.
async fn assert_counted_once(conn: &mut crate::live::db::Conn) {
    assert_eq!(scalar(conn, "SELECT COUNT(*) FROM items").await, 1000);
    assert_eq!(
        scalar(conn, "SELECT COUNT(*) FROM items WHERE counter = 1").await,
        1000,
        "every row is updated exactly once"
    );
    assert_eq!(
        scalar(conn, "SELECT COUNT(*) FROM items WHERE doubled = 2 * n").await,
        1000
    );
}

/// The rows done and steps finished, as the progress table has them.
async fn progress_rows(backend: Backend, conn: &mut crate::live::db::Conn) -> (i64, i64) {
    let int = if backend == Backend::MySql {
        "SIGNED"
    } else {
        "BIGINT"
    };
    let sum = |c: &str| format!("SELECT CAST(SUM({c}) AS {int}) FROM godwit_migrations_batches");
    (
        scalar(conn, &sum("done_rows")).await,
        scalar(conn, &sum("finished")).await,
    )
}

async fn rust_code_seeds_rows_inside_the_migration(backend: Backend) {
    let mut db = scratch(backend, "data_code").await;
    let r = runner(&db.url(), &[(ITEMS, "create_items", &CREATE_ITEMS)]);
    let dry = r.up(&up().dry_run(true)).await.unwrap();
    let sql = dry.sql.unwrap();
    assert!(
        sql.contains(&format!(
            "-- run \"seed 1,000 items\" (Rust code, {});",
            if backend == Backend::MySql {
                "in a transaction of its own"
            } else {
                "in the migration's transaction"
            }
        )),
        "{sql}"
    );
    r.up(&up()).await.unwrap();
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM items").await,
        1000
    );
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        super::applied(&[ITEMS])
    );
}

async fn a_backfill_that_fails_resumes_where_it_stopped(backend: Backend) {
    let mut db = scratch(backend, "data_resume").await;
    let migrations: [(u64, &str, &'static dyn Migration); 2] = [
        (ITEMS, "create_items", &CREATE_ITEMS),
        (COUNT, "count_items", &COUNT_ITEMS),
    ];
    let r = runner(&db.url(), &migrations);

    // Item 550 breaks the check in the sixth batch: five batches of 100 stay committed.
    let error = r.up(&up()).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Statement { .. }), "{message}");
    for part in [
        "backfill(\"items\") stopped after 500 rows of items updated",
        "500 row(s) were done in batches that stay committed",
        "history records it as partial at statement 2",
        "resumes after its last committed batch",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM items WHERE counter = 1").await,
        500
    );
    let status = r.status().await.unwrap();
    assert_eq!(status.migrations[1].state, State::Partial);

    // The dry run says where it resumes; the data is fixed and `up` finishes the job.
    let dry = r.up(&up().dry_run(true)).await.unwrap().sql.unwrap();
    assert!(
        dry.contains("-- resumed at statement 2, where an earlier run stopped"),
        "{dry}"
    );
    exec(&mut db.conn, "UPDATE items SET n = 5 WHERE id = 550").await;
    let report = r.up(&up()).await.unwrap();
    assert_eq!(report.ran.len(), 1);
    assert_counted_once(&mut db.conn).await;
    assert_eq!(progress_rows(backend, &mut db.conn).await, (1000, 1));
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        super::applied(&[ITEMS, COUNT])
    );

    // Its hand-written down undoes it, and running it again counts each row once more.
    r.down(&godwit::runner::Down::new(
        godwit::runner::DownTarget::Steps(1),
    ))
    .await
    .unwrap();
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM items WHERE counter = 0").await,
        1000
    );
    r.up(&up()).await.unwrap();
    assert_counted_once(&mut db.conn).await;
}

/// Stops the run (as a kill would: the future is dropped and its connections close) once the
/// backfill has committed a few batches.
struct StopAfterBatches(tokio::sync::mpsc::UnboundedSender<u64>);
impl Observer for StopAfterBatches {
    fn event(&self, event: &Event<'_>) {
        if let Event::Batch { done, .. } = event {
            let _ = self.0.send(*done);
        }
    }
}

async fn a_killed_backfill_resumes_and_counts_each_row_once(backend: Backend) {
    let mut db = scratch(backend, "data_kill").await;
    exec(&mut db.conn, "SELECT 1").await;
    let url = db.url();
    runner(&url, &[(ITEMS, "create_items", &CREATE_ITEMS)])
        .up(&up())
        .await
        .unwrap();
    exec(&mut db.conn, "UPDATE items SET n = 5 WHERE id = 550").await;
    let migrations: [(u64, &str, &'static dyn Migration); 2] = [
        (ITEMS, "create_items", &CREATE_ITEMS),
        (COUNT, "count_items", &COUNT_ITEMS_SLOWLY),
    ];
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = runner(&url, &migrations).with_observer(Arc::new(StopAfterBatches(tx)));
    // The runner (and the observer's sender) live in the task: should the run end on its own,
    // the channel closes.
    let running = tokio::spawn(async move { r.up(&up()).await });
    while let Some(done) = rx.recv().await {
        if done >= 300 {
            break;
        }
    }
    running.abort();
    let stopped = running.await;
    assert!(
        stopped.is_err(),
        "the run was stopped part-way, not {stopped:?}"
    );

    let done = scalar(&mut db.conn, "SELECT COUNT(*) FROM items WHERE counter = 1").await;
    assert!(
        (300..1000).contains(&done),
        "stopped part-way, after {done} rows"
    );
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM items WHERE counter > 1").await,
        0
    );
    runner(&url, &migrations).up(&up()).await.unwrap();
    assert_counted_once(&mut db.conn).await;
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        super::applied(&[ITEMS, COUNT])
    );
}

async fn failing_rust_code_rolls_back_with_its_schema_change(backend: Backend) {
    let mut db = scratch(backend, "data_fail").await;
    let url = db.url();
    let migrations: [(u64, &str, &'static dyn Migration); 2] = [
        (ITEMS, "create_items", &CREATE_ITEMS),
        (NOTES, "failing_notes", &FAILING_NOTES),
    ];
    let error = runner(&url, &migrations).up(&up()).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message
            .contains("Rust code \"insert a note, then fail\" failed: the notes service is down"),
        "{message}"
    );
    // The code's insert is gone on every backend.
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM items").await,
        1000
    );
    let note_column = match backend {
        Backend::Postgres => {
            "SELECT COUNT(*)::int8 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'"
        }
        Backend::MySql => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'items' AND column_name = 'note'"
        }
        Backend::Sqlite => "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'note'",
    };
    if backend == Backend::MySql {
        // MySQL commits DDL as it runs: the column stays, and history says the code is next.
        assert!(
            message.contains("history records it as partial at statement 2"),
            "{message}"
        );
        assert_eq!(scalar(&mut db.conn, note_column).await, 1);
        assert_eq!(
            history(&mut db.conn, "godwit_migrations").await,
            vec![(ITEMS, "applied".into()), (NOTES, "partial".into())]
        );
    } else {
        assert!(
            message.contains("it was rolled back: nothing of it is applied"),
            "{message}"
        );
        assert_eq!(scalar(&mut db.conn, note_column).await, 0);
        assert_eq!(
            history(&mut db.conn, "godwit_migrations").await,
            super::applied(&[ITEMS])
        );
    }
}

struct LegacyCustomers;
impl Migration for LegacyCustomers {
    fn up(&self, s: &mut Schema) {
        s.create_table("legacy_customers", |t| {
            t.id();
            t.string("name", 80);
            t.string("email", 120);
            t.boolean("active");
        });
        let insert = s.insert("legacy_customers", ["id", "name", "email", "active"]);
        for id in 1..=25i64 {
            insert.values([
                Value::from(id),
                Value::from(format!("Customer {id}")),
                Value::from(format!("Customer{id}@Example.COM")),
                Value::from(id % 5 != 0),
            ]);
        }
    }
}

struct Customers;
impl Migration for Customers {
    fn up(&self, s: &mut Schema) {
        s.create_table("customers", |t| {
            t.id();
            t.string("full_name", 80);
            t.string("email", 120);
        });
        s.copy_rows("legacy_customers", "customers")
            .map("id", "id")
            .map("full_name", "name")
            .set("email", Func::lower(col("email")))
            .filter(col("active").eq(true))
            .batch_size(7);
    }
}

static LEGACY_CUSTOMERS: LegacyCustomers = LegacyCustomers;
static CUSTOMERS: Customers = Customers;

async fn copy_rows_maps_and_transforms_in_batches(backend: Backend) {
    let mut db = scratch(backend, "data_copy_rows").await;
    let migrations: [(u64, &str, &'static dyn Migration); 2] = [
        (ITEMS, "legacy_customers", &LEGACY_CUSTOMERS),
        (COUNT, "customers", &CUSTOMERS),
    ];
    let r = runner(&db.url(), &migrations);
    r.up(&up()).await.unwrap();
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM customers").await,
        20
    );
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM customers WHERE email = 'customer7@example.com' AND full_name = 'Customer 7'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM customers WHERE id = 5").await,
        0,
        "inactive customers are filtered out"
    );
    // The key sequence is past the copied keys: the next customer gets the next id.
    exec(
        &mut db.conn,
        "INSERT INTO customers (full_name, email) VALUES ('New', 'new@example.com')",
    )
    .await;
    assert_eq!(
        scalar(&mut db.conn, "SELECT MAX(id) FROM customers").await,
        25,
        "the largest copied id is 24 (25 is inactive)"
    );
    // Its down is derived: the table it copied into is dropped.
    r.down(&godwit::runner::Down::new(
        godwit::runner::DownTarget::Steps(1),
    ))
    .await
    .unwrap();
    assert!(!super::table_exists(&mut db.conn, "customers").await);
}

on_every_backend!(
    rust_code_seeds_rows_inside_the_migration,
    a_backfill_that_fails_resumes_where_it_stopped,
    a_killed_backfill_resumes_and_counts_each_row_once,
    failing_rust_code_rolls_back_with_its_schema_change,
    copy_rows_maps_and_transforms_in_batches,
);
