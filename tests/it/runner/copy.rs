//! `copy` between real databases: every column type round-trips exactly between each ordered
//! pair of backends, tables go parents first, an interrupted copy resumes without duplicates,
//! and what cannot be copied (other migrations, rows already in the target, values the target
//! cannot keep, counts that differ afterwards) is refused with a message that says why.

use std::sync::{Arc, Mutex};

use godwit::prelude::*;
use godwit::runner::{CopyOptions, Error, Event, Observer, Runner, Up};
use godwit_core::{Backend, MigrationId};
use sea_query::value::prelude::time::{
    Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset,
};
use sea_query::value::prelude::{BigDecimal, Uuid, serde_json};
use sea_query_sqlx::SqlxValues;
use sqlx::AssertSqlSafe;

use super::{exec, on_every_backend, scalar, scratch, table_exists, text};
use crate::live::db::{Conn, Scratch};

const V1: u64 = 20260601000100;
const V2: u64 = 20260601000200;

/// A column of every type.
struct CreateEverything;
impl Migration for CreateEverything {
    fn up(&self, s: &mut Schema) {
        s.create_table("everything", |t| {
            t.id();
            t.small_integer("small").nullable();
            t.integer("int").nullable();
            t.big_integer("big").nullable();
            t.string("name", 100).nullable();
            t.text("body").nullable();
            t.boolean("flag").nullable();
            t.float("f32").nullable();
            t.double("f64").nullable();
            t.decimal("amount", 38, 10).nullable();
            t.date("day").nullable();
            t.time("at").nullable();
            t.timestamp("ts").nullable();
            t.timestamp_tz("tstz").nullable();
            t.uuid("uid").nullable();
            t.json("doc").nullable();
            t.binary("bytes").nullable();
        });
    }
}

/// Parents and children (with a generated column), and a table that references itself.
struct CreateLibrary;
impl Migration for CreateLibrary {
    fn up(&self, s: &mut Schema) {
        s.create_table("authors", |t| {
            t.id();
            t.string("name", 50);
        });
        s.create_table("books", |t| {
            t.id();
            t.references("authors").on_delete(Cascade);
            t.string("title", 200);
            // Computed by each target: the copy leaves it out.
            t.big_integer("author_twice")
                .generated(col("author_id").mul(2));
        });
        s.create_table("categories", |t| {
            t.id();
            t.string("label", 50);
            t.references_as("parent_id", "categories").nullable();
        });
    }
}

static EVERYTHING: CreateEverything = CreateEverything;
static LIBRARY: CreateLibrary = CreateLibrary;

const COLUMNS: [&str; 17] = [
    "id", "small", "int", "big", "name", "body", "flag", "f32", "f64", "amount", "day", "at", "ts",
    "tstz", "uid", "doc", "bytes",
];

fn runner(url: &str) -> Runner {
    let url = url.parse().unwrap_or_else(|e| panic!("{e}"));
    let id = |version: u64, name: &str| MigrationId {
        version,
        name: name.to_string(),
    };
    let migrations: Vec<(MigrationId, &'static dyn Migration)> = vec![
        (id(V1, "create_everything"), &EVERYTHING),
        (id(V2, "create_library"), &LIBRARY),
    ];
    Runner::new(url, migrations)
}

/// A scratch database with both migrations applied.
async fn migrated(backend: Backend, label: &str) -> Scratch {
    let db = scratch(backend, label).await;
    runner(&db.url()).up(&Up::default()).await.unwrap();
    db
}

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
}

fn clock(h: u8, m: u8, s: u8, micro: u32) -> Time {
    Time::from_hms_micro(h, m, s, micro).unwrap()
}

fn stamp(date: Date, time: Time) -> PrimitiveDateTime {
    PrimitiveDateTime::new(date, time)
}

/// `stamp` at an offset of `hours` from UTC.
fn stamp_tz(date: Date, time: Time, hours: i8) -> OffsetDateTime {
    stamp(date, time).assume_offset(UtcOffset::from_hms(hours, 0, 0).unwrap())
}

fn decimal(text: &str) -> Value {
    Value::BigDecimal(Some(Box::new(text.parse::<BigDecimal>().unwrap())))
}

/// Insert `rows` into `table` with bound values, as an application would write them (a decimal
/// as its text on MySQL and SQLite, whose drivers have no decimal of their own).
async fn insert(
    db: &mut Scratch,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Value>],
) {
    if rows.is_empty() {
        return;
    }
    let mut stmt = sea_query::Query::insert();
    stmt.into_table(table.to_string())
        .columns(columns.iter().map(|c| c.to_string()));
    for row in rows {
        let row = row.iter().cloned().map(|v| match (backend, v) {
            (Backend::MySql | Backend::Sqlite, Value::BigDecimal(d)) => {
                Value::String(d.map(|d| d.to_plain_string()))
            }
            (_, v) => v,
        });
        stmt.values_panic(row.map(sea_query::Expr::val));
    }
    let (sql, values) = match backend {
        Backend::Postgres => stmt.build(sea_query::PostgresQueryBuilder),
        Backend::MySql => stmt.build(sea_query::MysqlQueryBuilder),
        Backend::Sqlite => stmt.build(sea_query::SqliteQueryBuilder),
    };
    let q = AssertSqlSafe(sql);
    let values = SqlxValues(values);
    let result = match &mut db.conn {
        Conn::Postgres(c) => sqlx::query_with(q, values).execute(&mut *c).await.map(drop),
        Conn::MySql(c) => sqlx::query_with(q, values).execute(&mut *c).await.map(drop),
        Conn::Sqlite(c) => sqlx::query_with(q, values).execute(&mut *c).await.map(drop),
    };
    result.unwrap_or_else(|e| panic!("inserting into {table}: {e}"));
}

/// Edge values of every type. `micros`: fractional seconds; `wide`: 38-digit decimals. Every
/// backend keeps both in the columns godwit makes today; a database made by an older godwit may
/// not (see `values_the_target_cannot_keep_are_refused`).
fn edge_rows(micros: bool, wide: bool) -> Vec<Vec<Value>> {
    let m = |n: u32| if micros { n } else { 0 };
    let json = |j: serde_json::Value| Value::Json(Some(Box::new(j)));
    vec![
        vec![
            Value::BigInt(Some(1)),
            Value::SmallInt(Some(i16::MAX)),
            Value::Int(Some(i32::MAX)),
            Value::BigInt(Some(i64::MAX)),
            Value::String(Some("héllo wörld ✓ 日本語 🦤".into())),
            Value::String(Some(
                "tab\there\nnew line\r\nback\\slash 'single' \"double\" \\N".into(),
            )),
            Value::Bool(Some(true)),
            Value::Float(Some(f32::MAX)),
            Value::Double(Some(f64::MAX)),
            decimal(if wide {
                "1234567890123456789012345678.1234567890"
            } else {
                "12345.1234567890"
            }),
            Value::TimeDate(Some(day(9999, 12, 31))),
            Value::TimeTime(Some(clock(23, 59, 59, m(999_999)))),
            Value::TimeDateTime(Some(stamp(day(2026, 11, 20), clock(9, 0, 0, m(123_456))))),
            Value::TimeDateTimeWithTimeZone(Some(stamp_tz(
                day(2026, 3, 29),
                clock(1, 30, 0, m(654_321)),
                2,
            ))),
            Value::Uuid(Some(Uuid::max())),
            json(
                serde_json::json!({"a": [1, 2, {"b": null}], "c": "ü\"\\\t", "d": 1.5, "e": true}),
            ),
            Value::Bytes(Some(vec![0, 0, 1, 255, 0, b'\\', b'\n'])),
        ],
        vec![
            Value::BigInt(Some(2)),
            Value::SmallInt(Some(i16::MIN)),
            Value::Int(Some(i32::MIN)),
            Value::BigInt(Some(i64::MIN)),
            Value::String(Some(String::new())),
            Value::String(Some(String::new())),
            Value::Bool(Some(false)),
            Value::Float(Some(1e-30)),
            Value::Double(Some(-2.5e-300)),
            decimal(if wide {
                "-9999999999999999999999999999.9999999999"
            } else {
                "-0.0000000001"
            }),
            Value::TimeDate(Some(day(1970, 1, 1))),
            Value::TimeTime(Some(clock(0, 0, 0, 0))),
            Value::TimeDateTime(Some(stamp(day(1999, 12, 31), clock(23, 59, 59, 0)))),
            Value::TimeDateTimeWithTimeZone(Some(stamp_tz(day(2000, 1, 1), clock(0, 0, 0, 0), 0))),
            Value::Uuid(Some(Uuid::nil())),
            json(serde_json::json!([])),
            Value::Bytes(Some(Vec::new())),
        ],
        vec![
            Value::BigInt(Some(3)),
            Value::SmallInt(None),
            Value::Int(None),
            Value::BigInt(None),
            Value::String(None),
            Value::String(None),
            Value::Bool(None),
            Value::Float(None),
            Value::Double(None),
            Value::BigDecimal(None),
            Value::TimeDate(None),
            Value::TimeTime(None),
            Value::TimeDateTime(None),
            Value::TimeDateTimeWithTimeZone(None),
            Value::Uuid(None),
            Value::Json(None),
            Value::Bytes(None),
        ],
        vec![
            Value::BigInt(Some(9_000_000_000)),
            Value::SmallInt(Some(0)),
            Value::Int(Some(-1)),
            Value::BigInt(Some(0)),
            Value::String(Some("x".into())),
            Value::String(Some("long ".repeat(1000))),
            Value::Bool(Some(true)),
            Value::Float(Some(-3.25)),
            Value::Double(Some(0.1)),
            decimal("0.0000000000"),
            Value::TimeDate(Some(day(2024, 2, 29))),
            Value::TimeTime(Some(clock(12, 0, 0, m(500_000)))),
            Value::TimeDateTime(Some(stamp(day(2024, 2, 29), clock(12, 0, 0, 0)))),
            Value::TimeDateTimeWithTimeZone(Some(stamp_tz(
                day(2038, 1, 19),
                clock(3, 14, 7, 0),
                0,
            ))),
            Value::Uuid(Some(Uuid::from_u128(
                0x0123_4567_89ab_cdef_0011_2233_4455_6677,
            ))),
            json(serde_json::json!("just a string")),
            Value::Bytes(Some(vec![255; 300])),
        ],
    ]
}

/// Values as comparable text: decimals by their digits (scale included), timestamps with a
/// time zone in UTC, the rest as they debug-print.
fn show(rows: &[Vec<Value>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Value::BigDecimal(Some(d)) => format!("decimal {}", d.to_plain_string()),
                    Value::TimeDateTimeWithTimeZone(Some(t)) => {
                        format!("tstz {}", t.to_offset(UtcOffset::UTC))
                    }
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

/// Every row of `table` in `db`, as `copy` reads them.
async fn rows_of(db: &Scratch, table: &str) -> Vec<Vec<String>> {
    let (_, rows) = runner(&db.url()).table_rows(table).await.unwrap();
    show(&rows)
}

async fn copy(
    from: &Scratch,
    to: &Scratch,
    options: CopyOptions,
) -> Result<godwit::runner::Copied, Error> {
    runner(&from.url())
        .copy_to(&to.url().parse().unwrap(), &options)
        .await
}

/// Copy a table of every type from `from` to `to`, then back into a new database of the first
/// backend: both hold exactly the values inserted. New rows in the target get keys past the
/// copied ones.
async fn every_type_round_trips(from: Backend, to: Backend) {
    let rows = edge_rows(true, true);
    let expected = show(&rows);

    let mut source = migrated(from, "copy_types_src").await;
    let target = migrated(to, "copy_types_dst").await;
    let back = migrated(from, "copy_types_back").await;
    insert(&mut source, from, "everything", &COLUMNS, &rows).await;
    assert_eq!(rows_of(&source, "everything").await, expected, "the source");

    let copied = copy(&source, &target, CopyOptions::default())
        .await
        .unwrap();
    let tables: Vec<(&str, u64, u64, u64)> = copied
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.copied, t.source_rows, t.target_rows))
        .collect();
    assert_eq!(
        tables,
        [
            ("authors", 0, 0, 0),
            ("books", 0, 0, 0),
            ("categories", 0, 0, 0),
            ("everything", 4, 4, 4)
        ]
    );
    assert_eq!(copied.version.version, V2);
    assert_eq!(
        rows_of(&target, "everything").await,
        expected,
        "{to} after the copy"
    );

    copy(&target, &back, CopyOptions::default()).await.unwrap();
    assert_eq!(
        rows_of(&back, "everything").await,
        expected,
        "{from} after copying back"
    );

    // The history is not copied, and no progress is left behind.
    let mut target = target;
    assert!(!table_exists(&mut target.conn, "godwit_copy_progress").await);
    assert_eq!(
        scalar(&mut target.conn, "SELECT count(*) FROM godwit_migrations").await,
        2
    );
    // PostgreSQL's sequence was set past the copied keys; MySQL and SQLite follow by themselves.
    exec(
        &mut target.conn,
        "INSERT INTO everything (name) VALUES ('after')",
    )
    .await;
    assert_eq!(
        scalar(&mut target.conn, "SELECT max(id) FROM everything").await,
        9_000_000_001
    );
    if to == Backend::Postgres {
        assert_eq!(
            copied.tables[3].sequences,
            ["public.everything_id_seq".to_string()]
        );
    }
}

/// What a [`Recorder`] runs when a table is done.
type OnDone = Box<dyn Fn(&str) + Send + Sync>;

/// Rows to insert, one value per column.
type Rows = Vec<Vec<Value>>;

/// Records the progress events of a copy.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    /// Called with each finished table's task.
    on_done: Option<OnDone>,
}

impl Observer for Recorder {
    fn event(&self, event: &Event<'_>) {
        let line = match event {
            Event::Batch {
                task,
                done,
                done_before,
                total,
                ..
            } => format!("{task}: {done} (before {done_before}) of {total:?}"),
            Event::BatchDone { task, done, .. } => {
                if let Some(f) = &self.on_done {
                    f(task);
                }
                format!("{task}: done, {done}")
            }
            _ => return,
        };
        self.events.lock().unwrap().push(line);
    }
}

fn library_rows() -> (Rows, Rows, Rows) {
    let s = |t: &str| Value::String(Some(t.to_string()));
    let id = |n: i64| Value::BigInt(Some(n));
    let authors = (1..=3)
        .map(|n| vec![id(n), s(&format!("author {n}"))])
        .collect();
    let books = (1..=250)
        .map(|n| vec![id(n), id(n % 3 + 1), s(&format!("book {n}"))])
        .collect();
    // Category 1 has a parent with a larger key, copied in a later batch (listed in an order
    // that MySQL, which checks each row as it comes, accepts).
    let categories = vec![
        vec![id(2), s("root"), Value::BigInt(None)],
        vec![id(3), s("middle"), id(2)],
        vec![id(4), s("parent"), id(3)],
        vec![id(1), s("child"), id(4)],
    ];
    (authors, books, categories)
}

/// The library's rows, with the first `books` books.
async fn fill_library(db: &mut Scratch, backend: Backend, books: usize) {
    let (authors, mut all_books, categories) = library_rows();
    all_books.truncate(books);
    let books = all_books;
    insert(db, backend, "authors", &["id", "name"], &authors).await;
    insert(db, backend, "books", &["id", "author_id", "title"], &books).await;
    insert(
        db,
        backend,
        "categories",
        &["id", "label", "parent_id"],
        &categories,
    )
    .await;
}

/// Parents are copied before their children, and a table that references a row of itself
/// copied in a later batch is copied with the target's checks off.
async fn tables_go_parents_first(from: Backend, to: Backend) {
    let mut source = migrated(from, "copy_fk_src").await;
    let target = migrated(to, "copy_fk_dst").await;
    fill_library(&mut source, from, 20).await;
    let recorder = Arc::new(Recorder::default());
    let copied = copy(
        &source,
        &target,
        CopyOptions::default()
            .batch_size(2)
            .tables(Some(vec![
                "categories".into(),
                "books".into(),
                "authors".into(),
            ]))
            .observer(recorder.clone()),
    )
    .await
    .unwrap();
    let order: Vec<(&str, u64, bool)> = copied
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.copied, t.checks_off))
        .collect();
    assert_eq!(
        order,
        [
            ("authors", 3, false),
            ("books", 20, false),
            ("categories", 4, true)
        ]
    );
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(
        events[..3],
        [
            "copy \"authors\": 2 (before 0) of Some(3)",
            "copy \"authors\": 3 (before 0) of Some(3)",
            "copy \"authors\": done, 3"
        ]
    );
    assert_eq!(events.last().unwrap(), "copy \"categories\": done, 4");
    for table in ["authors", "books", "categories"] {
        assert_eq!(
            rows_of(&target, table).await,
            rows_of(&source, table).await,
            "{table}"
        );
    }
    // The checks are back on: a row that breaks the key is refused.
    let mut target = target;
    let broken = "INSERT INTO categories (label, parent_id) VALUES ('orphan', 99)";
    let q = AssertSqlSafe(broken);
    let refused = match &mut target.conn {
        Conn::Postgres(c) => sqlx::raw_sql(q).execute(&mut *c).await.is_err(),
        Conn::MySql(c) => sqlx::raw_sql(q).execute(&mut *c).await.is_err(),
        Conn::Sqlite(c) => sqlx::raw_sql(q).execute(&mut *c).await.is_err(),
    };
    assert!(refused, "a broken foreign key was accepted after the copy");
}

/// A trigger in the target that fails the insert of book 137.
fn failing_trigger(backend: Backend) -> (&'static str, &'static str) {
    match backend {
        Backend::Postgres => (
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.id = 137 THEN RAISE EXCEPTION 'injected failure at book 137'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER boom BEFORE INSERT ON books FOR EACH ROW EXECUTE FUNCTION boom()",
            "DROP TRIGGER boom ON books",
        ),
        Backend::MySql => (
            "CREATE TRIGGER boom BEFORE INSERT ON books FOR EACH ROW BEGIN \
             IF NEW.id = 137 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure at book 137'; \
             END IF; END",
            "DROP TRIGGER boom",
        ),
        Backend::Sqlite => (
            "CREATE TRIGGER boom BEFORE INSERT ON books WHEN NEW.id = 137 BEGIN \
             SELECT RAISE(ABORT, 'injected failure at book 137'); END",
            "DROP TRIGGER boom",
        ),
    }
}

/// A copy that fails in the middle of a table keeps the batches before the failure; run again,
/// it continues after them and ends with exactly the source's rows.
async fn an_interrupted_copy_resumes(from: Backend, to: Backend) {
    let mut source = migrated(from, "copy_resume_src").await;
    let mut target = migrated(to, "copy_resume_dst").await;
    fill_library(&mut source, from, 250).await;
    let (create, drop_trigger) = failing_trigger(to);
    exec(&mut target.conn, create).await;
    let library = || Some(vec!["authors".into(), "books".into(), "categories".into()]);

    let err = copy(
        &source,
        &target,
        CopyOptions::default().batch_size(50).tables(library()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::CopyStopped { ref table, .. } if table == "books"),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("copying table `books` stopped at the rows after key (100): "),
        "{message}"
    );
    assert!(
        message.contains("injected failure at book 137"),
        "{message}"
    );
    assert!(
        message.ends_with(
            "the batches of `books` before it are committed in the target and recorded in \
             godwit_copy_progress; fix the cause and run the same copy again: it continues after them"
        ),
        "{message}"
    );
    assert_eq!(
        scalar(&mut target.conn, "SELECT count(*) FROM authors").await,
        3
    );
    assert_eq!(
        scalar(&mut target.conn, "SELECT count(*) FROM books").await,
        100
    );
    assert_eq!(
        scalar(
            &mut target.conn,
            "SELECT rows_done FROM godwit_copy_progress WHERE table_name = 'books'"
        )
        .await,
        100
    );

    exec(&mut target.conn, drop_trigger).await;
    let recorder = Arc::new(Recorder::default());
    let copied = copy(
        &source,
        &target,
        CopyOptions::default()
            .batch_size(50)
            .tables(library())
            .observer(recorder.clone()),
    )
    .await
    .unwrap();
    let done: Vec<(&str, u64, u64)> = copied
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t.copied_before, t.copied))
        .collect();
    assert_eq!(
        done,
        [("authors", 3, 0), ("books", 100, 150), ("categories", 0, 4)]
    );
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events[0], "copy \"books\": 150 (before 100) of Some(250)");
    for table in ["authors", "books", "categories"] {
        assert_eq!(
            rows_of(&target, table).await,
            rows_of(&source, table).await,
            "{table}"
        );
    }
    assert!(!table_exists(&mut target.conn, "godwit_copy_progress").await);
}

/// A target with fewer (or other) migrations applied than the source is refused, with the
/// command that fixes it.
async fn the_target_must_be_migrated_like_the_source(from: Backend, to: Backend) {
    let source = migrated(from, "copy_versions_src").await;
    let target = scratch(to, "copy_versions_dst").await;
    let source_url = source.url();
    let target_url: godwit::DatabaseUrl = target.url().parse().unwrap();
    let redacted = target_url.redacted().to_string();

    let err = copy(&source, &target, CopyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot copy from {} to {redacted}: they must have the same migrations applied, and the target \
             lacks 2 migration(s) applied to the source ({V1} create_everything, {V2} create_library): \
             migrate it first with `up --to {V2} --database-url {redacted}`",
            source_url
                .parse::<godwit::DatabaseUrl>()
                .unwrap()
                .redacted()
        )
    );

    runner(&target.url())
        .up(&Up::default().to(Some(V1)))
        .await
        .unwrap();
    let err = copy(&source, &target, CopyOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with(&format!(
            "the target lacks 1 migration(s) applied to the source ({V2} create_library): \
                migrate it first with `up --to {V2} --database-url {redacted}`"
        )),
        "{err}"
    );
    runner(&target.url()).up(&Up::default()).await.unwrap();
    runner(&source.url())
        .down(&godwit::runner::Down::new(
            godwit::runner::DownTarget::Steps(1),
        ))
        .await
        .unwrap();
    let err = copy(&source, &target, CopyOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with(&format!(
            "the target has 1 migration(s) the source has not ({V2} create_library): roll them back on the \
             target with `down --to {V1} --database-url {redacted}`, or apply them to the source"
        )),
        "{err}"
    );
}

/// Rows in a target table that no copy put there are not duplicated: nothing is copied.
async fn a_target_with_rows_is_refused(from: Backend, to: Backend) {
    let mut source = migrated(from, "copy_full_src").await;
    let mut target = migrated(to, "copy_full_dst").await;
    fill_library(&mut source, from, 250).await;
    exec(
        &mut target.conn,
        "INSERT INTO authors (name) VALUES ('already here')",
    )
    .await;
    let err = copy(&source, &target, CopyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot copy table `authors`: the target table already has rows, and no copy into it is in \
         progress (godwit_copy_progress has no row for it), so copying would duplicate them: empty it \
         first (or `fresh` then `up` the target), or leave it out with --tables"
    );
    assert_eq!(
        scalar(&mut target.conn, "SELECT count(*) FROM books").await,
        0
    );
    assert!(!table_exists(&mut target.conn, "godwit_copy_progress").await);
}

/// Rows written to the source while it is copied make the counts differ: the copy fails and
/// names the table with both counts.
async fn counts_that_differ_fail_the_copy(from: Backend, to: Backend) {
    let mut source = migrated(from, "copy_counts_src").await;
    let target = migrated(to, "copy_counts_dst").await;
    fill_library(&mut source, from, 250).await;
    let url = source.url();
    let recorder = Recorder {
        on_done: Some(Box::new(move |task| {
            if task != "copy \"authors\"" {
                return;
            }
            // A concurrent writer: another connection adds an author once it is copied.
            let url = url.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let sql = AssertSqlSafe("INSERT INTO authors (id, name) VALUES (99, 'late')");
                    match url.split(':').next() {
                        Some("postgres") => {
                            use sqlx::Connection;
                            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                        }
                        Some("mysql") => {
                            use sqlx::Connection;
                            let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
                            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                        }
                        _ => {
                            use sqlx::Connection;
                            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                        }
                    }
                });
            })
            .join()
            .unwrap();
        })),
        ..Recorder::default()
    };
    let err = copy(
        &source,
        &target,
        CopyOptions::default().observer(Arc::new(recorder)),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the copy does not match its source: 1 table(s) have different row counts:\n  \
         authors: 4 in the source, 3 in the target\n  \
         rows were written to the source (or the target) while it was copied; stop the writes, empty \
         these tables in the target (`fresh`, then `up`, empties them all) and copy again"
    );
}

/// A database made by an older godwit, which did not keep every value exactly: its tables
/// created by the SQL that godwit rendered (SQLite `decimal` columns of any precision, MySQL
/// `time` and `datetime` without fractional seconds), its migrations recorded by `baseline`.
async fn made_by_an_older_godwit(backend: Backend, label: &str) -> Scratch {
    let mut db = scratch(backend, label).await;
    let r = runner(&db.url());
    let then = r
        .catalog()
        .render_up_earlier(
            godwit_core::render::EarlierRendering::BeforeExactValues,
            backend,
            None,
        )
        .unwrap();
    db.conn.apply_all(&then).await;
    r.baseline(V2, true).await.unwrap().unwrap();
    db
}

/// A value the target would store as another is refused, unless rounding is allowed: in a
/// database made by an older godwit, a decimal longer than its SQLite `decimal` column keeps, or
/// fractional seconds in its MySQL `time` column.
async fn values_the_target_cannot_keep_are_refused(from: Backend, to: Backend) {
    let mut source = migrated(from, "copy_round_src").await;
    let mut target = made_by_an_older_godwit(to, "copy_round_dst").await;
    let mut row = edge_rows(true, true).remove(0);
    if to == Backend::Sqlite {
        row[11] = Value::TimeTime(None);
        row[12] = Value::TimeDateTime(None);
        row[13] = Value::TimeDateTimeWithTimeZone(None);
    } else {
        row[9] = Value::BigDecimal(None);
    }
    insert(&mut source, from, "everything", &COLUMNS, &[row]).await;
    let err = copy(&source, &target, CopyOptions::default())
        .await
        .unwrap_err();
    let why = match to {
        Backend::Sqlite => {
            "holds in `amount` a value the target cannot keep: SQLite would store the decimal \
             1234567890123456789012345678.1234567890 as 1234567890123456900000000000: this decimal \
             column keeps about 15 significant digits (a column made by godwit today for more than \
             15 digits keeps them)"
        }
        _ => {
            "holds in `at` a value the target cannot keep: MySQL/MariaDB would drop the fractional \
             seconds of the value 23:59:59.999999: this `time` column keeps whole seconds (a column \
             made by godwit today keeps microseconds)"
        }
    };
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "copying table `everything` stopped at its first rows: the row with key (1) {why}; \
             copy with --allow-rounding"
        )),
        "{message}"
    );
    assert_eq!(
        scalar(&mut target.conn, "SELECT count(*) FROM everything").await,
        0
    );

    let copied = copy(
        &source,
        &target,
        CopyOptions::default().allow_rounding(true),
    )
    .await
    .unwrap();
    assert_eq!(copied.tables[3].copied, 1);
}

/// A date MySQL/MariaDB cannot hold is refused before anything is written, with or without
/// `--allow-rounding`, never stored as a zero date.
async fn dates_out_of_the_target_range_are_refused(from: Backend, to: Backend) {
    let mut source = migrated(from, "copy_range_src").await;
    let mut target = migrated(to, "copy_range_dst").await;
    let mut row = edge_rows(true, true).remove(0);
    // 2 BC: PostgreSQL holds it, MySQL/MariaDB cannot.
    row[12] = Value::TimeDateTime(Some(stamp(day(-1, 6, 1), clock(12, 0, 0, 0))));
    insert(&mut source, from, "everything", &COLUMNS, &[row]).await;
    for options in [
        CopyOptions::default(),
        CopyOptions::default().allow_rounding(true),
    ] {
        let message = copy(&source, &target, options)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(
                "copying table `everything` stopped at its first rows: the row with key (1) holds \
                 in `ts` a value the target cannot store: MySQL/MariaDB cannot store the value \
                 -0001-06-01 12:00:00.0: its `datetime(6)` column holds the years 1 to 9999; \
                 change the value in the source, or copy to another backend"
            ),
            "{message}"
        );
        assert_eq!(
            scalar(&mut target.conn, "SELECT count(*) FROM everything").await,
            0
        );
    }
}

/// The command line: the per-table summary on stdout, progress on stderr, and a target table
/// that already has rows (the fixture seeds authors) refused with exit code 1.
async fn the_cli_copies_and_prints_a_summary(from: Backend, to: Backend) {
    use super::{fixture, run};
    let mut source = scratch(from, "copy_cli_src").await;
    let target = scratch(to, "copy_cli_dst").await;
    for db in [&source, &target] {
        let out = run(fixture(&db.url(), &["up"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    exec(
        &mut source.conn,
        "INSERT INTO books (author_id, title, pages) VALUES (1, 'A Wizard of Earthsea', 183), (2, 'Mort', 243)",
    )
    .await;
    exec(
        &mut source.conn,
        "INSERT INTO reviews (book_id, stars) VALUES (1, 5), (1, 4), (2, 3)",
    )
    .await;
    let copy = |extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fixture-migrations"));
        c.args(["copy", "--from", &source.url(), "--to", &target.url()])
            .args(extra)
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1");
        run(c)
    };

    let out = copy(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stderr),
        "error: cannot copy table `authors`: the target table already has rows, and no copy into it \
         is in progress (godwit_copy_progress has no row for it), so copying would duplicate them: \
         empty it first (or `fresh` then `up` the target), or leave it out with --tables\n"
    );

    let out = copy(&["--tables", "reviews,books", "--batch-size", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("copy \"books\": 2 rows done in "),
        "{stderr}"
    );
    assert!(
        stderr.contains("copy \"reviews\": 3 rows done in "),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], "table    source  target  copied  earlier  time");
    let end = |t: &str| {
        if to == Backend::Postgres {
            format!(" ms  (sequence public.{t}_id_seq set)")
        } else {
            " ms".to_string()
        }
    };
    assert!(
        lines[1].starts_with("books         2       2       2        0  "),
        "{stdout}"
    );
    assert!(squeeze(lines[1]).ends_with(&end("books")), "{stdout}");
    assert!(
        lines[2].starts_with("reviews       3       3       3        0  "),
        "{stdout}"
    );
    assert!(squeeze(lines[2]).ends_with(&end("reviews")), "{stdout}");
    let to_url: godwit::DatabaseUrl = target.url().parse().unwrap();
    let from_url: godwit::DatabaseUrl = source.url().parse().unwrap();
    assert!(
        lines[3].starts_with(&format!("copied 5 row(s) into 2 table(s) of {to_url} in ")),
        "{stdout}"
    );
    assert!(
        lines[3].ends_with(&format!(
            "; each has as many rows as in {from_url} (schema at 20260101000500 create_reviews)"
        )),
        "{stdout}"
    );
    assert!(
        !stdout.contains(":godwit@"),
        "a password was printed: {stdout}"
    );
}

/// A `copy` process killed with SIGKILL between batches: the target holds exactly the batches
/// its progress row counts, and the same command run again finishes the copy without
/// duplicates.
#[tokio::test]
async fn a_killed_copy_resumes_where_it_stopped() {
    use super::{fixture, run};
    let (from, to) = (Backend::Sqlite, Backend::Postgres);
    let mut source = scratch(from, "copy_kill_src").await;
    let mut target = scratch(to, "copy_kill_dst").await;
    for db in [&source, &target] {
        let out = run(fixture(&db.url(), &["up"]));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    exec(
        &mut source.conn,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) \
         INSERT INTO books (author_id, title, pages) SELECT 1 + i % 2, 'book ' || i, i FROM n",
    )
    .await;
    let (from_url, to_url) = (source.url(), target.url());
    let copy = |batch: &str| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fixture-migrations"));
        c.args(["copy", "--from", &from_url, "--to", &to_url])
            .args(["--tables", "books", "--batch-size", batch])
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };

    let mut child = copy("1").spawn().unwrap();
    let started = std::time::Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the copy ended before it could be killed"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the copy never got going"
        );
        if scalar(&mut target.conn, "SELECT count(*) FROM books").await >= 100 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    assert_eq!(child.wait().unwrap().code(), None, "killed by a signal");

    let copied = scalar(&mut target.conn, "SELECT count(*) FROM books").await;
    assert!(
        (100..3000).contains(&copied),
        "{copied} rows copied before the kill"
    );
    assert_eq!(
        scalar(
            &mut target.conn,
            "SELECT rows_done FROM godwit_copy_progress WHERE table_name = 'books'"
        )
        .await,
        copied,
        "the progress row counts exactly the committed batches"
    );

    let mut again = copy("500");
    again.arg("--json").stdout(std::process::Stdio::piped());
    let out = run(again);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let books = &json["tables"][0];
    assert_eq!(books["table"], "books");
    assert_eq!(books["copied_before"].as_i64(), Some(copied));
    assert_eq!(books["copied"].as_i64(), Some(3000 - copied));
    assert_eq!(
        (books["source_rows"].as_u64(), books["target_rows"].as_u64()),
        (Some(3000), Some(3000))
    );
    assert_eq!(books["sequences"][0], "public.books_id_seq");
    assert_eq!(json["copied"].as_i64(), Some(3000 - copied));
    let fixture_rows = |url: String| async move {
        let (_, rows) = super::runner(&url).table_rows("books").await.unwrap();
        show(&rows)
    };
    let copied_rows = fixture_rows(target.url()).await;
    assert_eq!(copied_rows.len(), 3000);
    assert_eq!(copied_rows, fixture_rows(source.url()).await);
    assert!(!table_exists(&mut target.conn, "godwit_copy_progress").await);
}

/// On PostgreSQL, turning the checks off for a table that references itself needs a
/// superuser: without one its rows go in key order with the checks on, which fails on a row
/// whose parent comes in a later batch, with a message that says what would work.
#[tokio::test]
async fn a_self_reference_needs_a_superuser_on_postgres() {
    let mut source = migrated(Backend::Sqlite, "copy_role_src").await;
    let mut target = scratch(Backend::Postgres, "copy_role_dst").await;
    fill_library(&mut source, Backend::Sqlite, 0).await;
    let db = target.name().to_string();
    let role = format!("{db}_owner");
    exec(&mut target.conn, &format!("CREATE ROLE \"{role}\" LOGIN")).await;
    exec(
        &mut target.conn,
        &format!(
            "ALTER DATABASE \"{db}\" OWNER TO \"{role}\"; ALTER SCHEMA public OWNER TO \"{role}\""
        ),
    )
    .await;
    // The server's URL with the role as its user, and no password (the test server trusts
    // local connections).
    let url = target.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let as_owner = format!("{scheme}://{role}@{host}");
    runner(&as_owner).up(&Up::default()).await.unwrap();

    let err = runner(&source.url())
        .copy_to(
            &as_owner.parse().unwrap(),
            &CopyOptions::default()
                .batch_size(2)
                .tables(Some(vec!["categories".into()])),
        )
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(
            "copying table `categories` stopped at its first rows: insert or update on table"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "(`categories` references itself or is in a cycle of foreign keys, so its rows cannot be \
             copied in an order that satisfies them, and turning PostgreSQL's checks off for the copy \
             was refused: permission denied to set parameter \"session_replication_role\""
        ),
        "{message}"
    );
    assert!(message.contains("copy as a superuser"), "{message}");
    assert_eq!(
        scalar(&mut target.conn, "SELECT count(*) FROM categories").await,
        0
    );

    // As the superuser, the same copy goes through (resuming the one that stopped).
    runner(&source.url())
        .copy_to(
            &target.url().parse().unwrap(),
            &CopyOptions::default()
                .batch_size(2)
                .tables(Some(vec!["categories".into()])),
        )
        .await
        .unwrap();
    assert_eq!(
        rows_of(&target, "categories").await,
        rows_of(&source, "categories").await
    );
    let admin_url = url.replace(&format!("/{db}"), "/postgres");
    drop(target);
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("DROP ROLE \"{role}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// What [`ReadEverything`] read, by backend.
static READ: Mutex<Vec<(Backend, Vec<Vec<Value>>)>> = Mutex::new(Vec::new());

/// Reads `everything` with `db.fetch_all`, whose values are decoded by the types the database
/// reports (no schema model): what a migration's Rust code sees.
struct ReadEverything;
impl Migration for ReadEverything {
    fn up(&self, s: &mut Schema) {
        use godwit::runner::RunCode;
        s.run("read everything", |db| {
            Box::pin(async move {
                let select = sea_query::Query::select()
                    .columns(COLUMNS)
                    .from("everything")
                    .order_by("id", sea_query::Order::Asc)
                    .to_owned();
                let rows = db.fetch_all(&select).await?;
                let values = rows
                    .iter()
                    .map(|r| COLUMNS.iter().map(|c| r.value(c).cloned()).collect())
                    .collect::<Result<Vec<Vec<Value>>, _>>()?;
                READ.lock().unwrap().push((db.backend(), values));
                Ok(())
            })
        });
    }
    fn down(&self, s: &mut Schema) {
        s.sql("SELECT 1");
    }
}

static READ_EVERYTHING: ReadEverything = ReadEverything;

/// The value shape of each column read without the schema model: PostgreSQL's and MySQL's
/// types map to values of the same width; SQLite's by storage class, except a column declared
/// `boolean`.
async fn untyped_rows_follow_the_database_types(backend: Backend) {
    let mut db = migrated(backend, "copy_untyped").await;
    let rows = edge_rows(true, true);
    insert(&mut db, backend, "everything", &COLUMNS, &rows).await;
    let id = |version: u64, name: &str| MigrationId {
        version,
        name: name.to_string(),
    };
    let migrations: Vec<(MigrationId, &'static dyn Migration)> = vec![
        (id(V1, "create_everything"), &EVERYTHING),
        (id(V2, "create_library"), &LIBRARY),
        (id(V2 + 100, "read_everything"), &READ_EVERYTHING),
    ];
    Runner::new(db.url().parse().unwrap(), migrations)
        .up(&Up::default())
        .await
        .unwrap();
    let read = READ.lock().unwrap().clone();
    let (_, values) = read.iter().find(|(b, _)| *b == backend).unwrap();
    let shapes = |row: &[Value]| -> Vec<String> {
        row.iter()
            .map(|v| format!("{v:?}").split('(').next().unwrap().to_string())
            .collect()
    };
    let expected: [&str; 17] = match backend {
        Backend::Postgres => [
            "BigInt",
            "SmallInt",
            "Int",
            "BigInt",
            "String",
            "String",
            "Bool",
            "Float",
            "Double",
            "BigDecimal",
            "TimeDate",
            "TimeTime",
            "TimeDateTime",
            "TimeDateTimeWithTimeZone",
            "Uuid",
            "Json",
            "Bytes",
        ],
        // MariaDB's json is longtext; a uuid is binary(16); a timestamp_tz is a datetime(6) in
        // UTC, read without its time zone.
        Backend::MySql => [
            "BigInt",
            "SmallInt",
            "Int",
            "BigInt",
            "String",
            "String",
            "Bool",
            "Float",
            "Double",
            "BigDecimal",
            "TimeDate",
            "TimeTime",
            "TimeDateTime",
            "TimeDateTime",
            "Bytes",
            "String",
            "Bytes",
        ],
        // Integers, REALs, TEXT (dates and times too, and a decimal of 38 digits, which a REAL
        // cannot hold) and BLOBs (a uuid).
        Backend::Sqlite => [
            "BigInt", "BigInt", "BigInt", "BigInt", "String", "String", "Bool", "Double", "Double",
            "String", "String", "String", "String", "String", "Bytes", "String", "Bytes",
        ],
    };
    assert_eq!(shapes(&values[0]), expected);
    // A NULL has the shape of its column's type; SQLite's, of the declared type's affinity.
    let nulls = match backend {
        Backend::Sqlite => vec![
            "BigInt", "BigInt", "BigInt", "String", "String", "Bool", "Double", "Double", "String",
            "String", "String", "String", "String", "String", "String", "Bytes",
        ],
        _ => expected[1..].to_vec(),
    };
    assert_eq!(shapes(&values[2])[1..], nulls);
    assert!(
        values[2][1..]
            .iter()
            .all(|v| format!("{v:?}").ends_with("(None)"))
    );
    assert_eq!(values[0][4], rows[0][4], "unicode text");
    assert_eq!(values[1][8], rows[1][8], "a double");
    if backend != Backend::Postgres {
        assert_eq!(
            values[0][14],
            Value::Bytes(Some(Uuid::max().as_bytes().to_vec()))
        );
    }
}

on_every_backend!(untyped_rows_follow_the_database_types);

/// `text` with runs of spaces after `ms` (the padding before a note) made two.
fn squeeze(text: &str) -> String {
    match text.split_once(" ms ") {
        Some((head, tail)) => format!("{head} ms  {}", tail.trim_start()),
        None => text.to_string(),
    }
}

/// One test per ordered pair of backends: `runner::copy::postgres_to_mysql::every_type_round_trips`, ...
macro_rules! on_every_pair {
    ($($name:ident),* $(,)?) => {
        on_every_pair!(@pair postgres_to_mysql, Postgres, MySql, $($name),*);
        on_every_pair!(@pair postgres_to_sqlite, Postgres, Sqlite, $($name),*);
        on_every_pair!(@pair mysql_to_postgres, MySql, Postgres, $($name),*);
        on_every_pair!(@pair mysql_to_sqlite, MySql, Sqlite, $($name),*);
        on_every_pair!(@pair sqlite_to_postgres, Sqlite, Postgres, $($name),*);
        on_every_pair!(@pair sqlite_to_mysql, Sqlite, MySql, $($name),*);
    };
    (@pair $module:ident, $from:ident, $to:ident, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(godwit_core::Backend::$from, godwit_core::Backend::$to).await;
                }
            )*
        }
    };
}

on_every_pair!(every_type_round_trips);

/// Tests that need each backend once as the source and once as the target.
macro_rules! on_three_pairs {
    ($($name:ident),* $(,)?) => {
        on_every_pair!(@pair sqlite_into_postgres, Sqlite, Postgres, $($name),*);
        on_every_pair!(@pair postgres_into_mysql, Postgres, MySql, $($name),*);
        on_every_pair!(@pair mysql_into_sqlite, MySql, Sqlite, $($name),*);
    };
}

on_three_pairs!(
    tables_go_parents_first,
    an_interrupted_copy_resumes,
    the_target_must_be_migrated_like_the_source,
    a_target_with_rows_is_refused,
    counts_that_differ_fail_the_copy,
    the_cli_copies_and_prints_a_summary,
);

on_every_pair!(@pair rounding_into_sqlite, Postgres, Sqlite, values_the_target_cannot_keep_are_refused);
on_every_pair!(@pair rounding_into_mysql, Postgres, MySql, values_the_target_cannot_keep_are_refused);
on_every_pair!(@pair range_into_mysql, Postgres, MySql, dates_out_of_the_target_range_are_refused);
