//! Tables, types and views in a PostgreSQL schema other than the connection's, through the
//! runner on a real server:
//!
//! - `up` makes them, fills them with bound values, backfills in batches and copies rows
//!   across schemas; the rows are read back with SQL;
//! - `schema --live` (the runner's drift check) finds nothing after `up`, and then what was
//!   changed by hand in that schema, by its qualified name;
//! - `down` removes the schema; `fresh` drops it and makes it again;
//! - on MySQL/MariaDB and SQLite `up` is refused before anything runs, and nothing is made.

use godwit::prelude::*;
use godwit::runner::{Down, DownTarget, Up};
use godwit_core::Backend;

use super::{exec, on_every_backend, runner_of, scalar, scratch};

struct Billing;
impl Migration for Billing {
    fn up(&self, s: &mut Schema) {
        s.create_schema("billing");
        s.create_enum("billing.invoice_state", ["open", "paid"]);
        s.create_table("billing.customers", |t| {
            t.id();
            t.string("name", 100);
        });
        s.create_table("billing.invoices", |t| {
            t.id();
            t.references("billing.customers");
            t.string("number", 20).unique();
            t.enumeration("state", "billing.invoice_state")
                .default("open");
            t.integer("amount_cents").default(0);
        });
        s.insert("billing.customers", ["name"])
            .values(["Ada's shop"])
            .values(["Grace & Co"]);
        s.insert(
            "billing.invoices",
            ["customer_id", "number", "state", "amount_cents"],
        )
        .values([
            Value::from(1i64),
            "INV-1".into(),
            "paid".into(),
            1250.into(),
        ])
        .values([Value::from(2i64), "INV-2".into(), "open".into(), 990.into()]);
        s.create_view(
            "billing.open_invoices",
            "SELECT id, number FROM billing.invoices WHERE amount_cents > 1000",
        );
    }

    fn down(&self, s: &mut Schema) {
        s.drop_view("billing.open_invoices");
        s.drop_table("billing.invoices");
        s.drop_table("billing.customers");
        s.drop_enum("billing.invoice_state");
        s.drop_schema("billing");
    }
}

struct Archive;
impl Migration for Archive {
    fn up(&self, s: &mut Schema) {
        s.add_column("billing.invoices", Column::string("note", 40).nullable());
        s.backfill("billing.invoices")
            .set("note", Func::lower(col("number")))
            .batch_size(1);
        s.create_table("invoice_archive", |t| {
            t.id();
            t.string("number", 20);
        });
        s.copy_rows("billing.invoices", "invoice_archive")
            .columns(["number"])
            .batch_size(1);
    }
}

/// A table in a schema made outside the migrations (by a DBA), beside another application's.
struct Legacy;
impl Migration for Legacy {
    fn up(&self, s: &mut Schema) {
        s.create_table("legacy.accounts", |t| {
            t.id();
            t.enumeration("state", "billing.invoice_state");
        });
    }
}

/// A table named with the connection's own schema.
struct OwnSchema;
impl Migration for OwnSchema {
    fn up(&self, s: &mut Schema) {
        s.create_table("public.notes", |t| {
            t.id();
        });
    }
}

/// A schema the connection's search_path names first, before it exists.
struct FirstOnThePath;
impl Migration for FirstOnThePath {
    fn up(&self, s: &mut Schema) {
        s.create_schema("first_on_path");
    }
}

static OWN_SCHEMA: OwnSchema = OwnSchema;
static FIRST_ON_THE_PATH: FirstOnThePath = FirstOnThePath;
static BILLING: Billing = Billing;
static ARCHIVE: Archive = Archive;
static LEGACY: Legacy = Legacy;
const MIGRATIONS: [(u64, &str, &dyn Migration); 3] = [
    (1, "billing", &BILLING),
    (2, "archive", &ARCHIVE),
    (3, "legacy", &LEGACY),
];

/// A schema the migrations put a table in is theirs to report on, whoever made it.
const OTHER_APP: &str = "table legacy.other_app is in the database but not in the migrations";

async fn tables_live_in_a_postgres_schema(backend: Backend) {
    let mut db = scratch(backend, "schemas").await;
    let runner = runner_of(&db, &MIGRATIONS);
    if backend != Backend::Postgres {
        let err = runner
            .up(&Up::default())
            .await
            .expect_err("no schemas inside a database here");
        assert!(
            err.to_string()
                .contains("only PostgreSQL has schemas inside a database"),
            "on {backend}: {err}"
        );
        let tables = match backend {
            Backend::MySql => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
            }
            _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        };
        assert_eq!(scalar(&mut db.conn, tables).await, 0, "on {backend}");
        db.conn.close().await;
        return;
    }

    // `verify` walks the migrations that make their own schema on a scratch database: each
    // `down` leaves the schema before it, `billing` gone after the first one's.
    let verified = runner_of(&db, &MIGRATIONS[..2])
        .verify()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|f| panic!("every round trip restores the schema: {f:?}"));
    let versions: Vec<u64> = verified.round_trips.iter().map(|id| id.version).collect();
    assert_eq!(versions, [2, 1]);

    exec(
        &mut db.conn,
        "CREATE SCHEMA legacy; CREATE TABLE legacy.other_app (id int)",
    )
    .await;
    runner
        .up(&Up::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The bound values, the batched backfill and the copy across schemas, read back.
    for (sql, expected) in [
        (
            "SELECT COUNT(*) FROM billing.invoices i JOIN billing.customers c ON c.id = i.customer_id \
             WHERE c.name = 'Ada''s shop' AND i.state = 'paid' AND i.note = 'inv-1'",
            1,
        ),
        (
            "SELECT COUNT(*) FROM billing.invoices WHERE note = lower(number)",
            2,
        ),
        ("SELECT COUNT(*) FROM billing.open_invoices", 1),
        (
            "SELECT COUNT(*) FROM invoice_archive WHERE number IN ('INV-1', 'INV-2')",
            2,
        ),
        (
            "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'billing' AND c.relname = 'uq_invoices_number'",
            1,
        ),
    ] {
        assert_eq!(scalar(&mut db.conn, sql).await, expected, "{sql}");
    }
    let drift = runner.drift().await.unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<String> = drift.differences.iter().map(|d| d.to_string()).collect();
    assert_eq!(lines, [OTHER_APP]);
    // Nor with `billing` on the search path, where the server names its types without it.
    exec(
        &mut db.conn,
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path TO \"$user\", public, billing', current_database()); END $$",
    )
    .await;
    let drift = runner.drift().await.unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<String> = drift.differences.iter().map(|d| d.to_string()).collect();
    assert_eq!(lines, [OTHER_APP]);

    // By hand, in the schema: a column, an enum value, the view dropped.
    exec(
        &mut db.conn,
        "ALTER TABLE billing.customers ADD COLUMN vip boolean",
    )
    .await;
    exec(
        &mut db.conn,
        "ALTER TYPE billing.invoice_state ADD VALUE 'void'",
    )
    .await;
    exec(&mut db.conn, "DROP VIEW billing.open_invoices").await;
    let drift = runner.drift().await.unwrap_or_else(|e| panic!("{e}"));
    let mut lines: Vec<String> = drift.differences.iter().map(|d| d.to_string()).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "column billing.customers.vip is in the database but not in the migrations (boolean NULL)",
            "enum billing.invoice_state: migrations say (open, paid), the database has (open, paid, void)",
            OTHER_APP,
            "view billing.open_invoices is missing",
        ]
    );
    exec(
        &mut db.conn,
        "ALTER TABLE billing.customers DROP COLUMN vip",
    )
    .await;

    // `fresh` drops the schema and makes it again, and in the DBA's schema drops only what the
    // migrations name there; `down` removes the schema.
    runner.fresh().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'legacy' AND c.relname IN ('other_app', 'accounts')"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM billing.invoices WHERE note IS NOT NULL"
        )
        .await,
        2
    );
    runner
        .down(&Down::new(DownTarget::All))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname IN ('billing', 'legacy')"
        )
        .await,
        1
    );
    db.conn.close().await;

    // `public.notes` would be another table than `notes` to godwit: refused before anything
    // runs.
    let mut db = scratch(backend, "own_schema").await;
    let err = runner_of(&db, &[(1, "own", &OWN_SCHEMA)])
        .up(&Up::default())
        .await
        .expect_err("the connection's own schema, named");
    assert_eq!(
        err.to_string(),
        "migration 1 own names `public.notes`, in schema `public`, which is the connection's own (the first of its search_path): name it `notes`, without the schema (godwit reads a name without one as the connection's schema's), or connect with another search_path"
    );
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'notes'"
        )
        .await,
        0
    );
    // Made, a schema the search path puts first would become the connection's own (as one
    // named after the role does, found by `"$user"`): refused before it is made, by `up` and by
    // `fresh`.
    exec(
        &mut db.conn,
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path TO first_on_path, public', current_database()); END $$",
    )
    .await;
    let runner = runner_of(&db, &[(1, "first", &FIRST_ON_THE_PATH)]);
    for err in [
        runner
            .up(&Up::default())
            .await
            .expect_err("first on the path"),
        runner.fresh().await.expect_err("first on the path"),
    ] {
        assert!(
            err.to_string()
                .starts_with("migration 1 first creates schema `first_on_path`, which the connection's search_path puts first"),
            "{err}"
        );
    }
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname = 'first_on_path'"
        )
        .await,
        0
    );
    db.conn.close().await;
}

on_every_backend!(tables_live_in_a_postgres_schema);
