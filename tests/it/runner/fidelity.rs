//! Values written through godwit read back exactly, checked with each database's own client
//! (`psql`, `mysql`, `sqlite3`) as the oracle, not with godwit's or sqlx's decoding.
//!
//! Every column type gets edge values (its limits, 2100-01-01, microseconds, a 30-digit
//! decimal, unicode with an emoji, NULL) through the DSL's `insert` and through Rust code in a
//! migration (`s.run`), and literal defaults through `DEFAULT`. A value a column cannot hold is
//! an error, never a replacement.
//!
//! SQLite stores every date and time as text in one form whatever the path, the form of its
//! `CURRENT_TIMESTAMP` (a `timestamp_tz` in UTC), so that ordering by the column is
//! chronological; a uuid as a BLOB of 16 bytes.

use std::process::Command;

use godwit::prelude::*;
use godwit::runner::{Runner, Up};
use godwit_core::Backend;
use sea_query::value::prelude::time::{
    Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset,
};
use sea_query::value::prelude::{BigDecimal, Uuid, serde_json};

use super::{on_every_backend, scratch};
use crate::live::db::{Scratch, Server};

const V1: u64 = 20260701000100;
const V2: u64 = 20260701000200;
const V3: u64 = 20260701000300;

const DECIMAL_30: &str = "12345678901234567890.1234567891";
const UNICODE: &str = "héllo wörld 🦆 ☃ «ok»";

/// A column of every type, and a table whose columns have literal defaults.
struct CreateValues;
impl Migration for CreateValues {
    fn up(&self, s: &mut Schema) {
        s.create_table("vals", |t| {
            t.big_integer("id");
            t.primary_key(["id"]);
            t.small_integer("small").nullable();
            t.integer("int").nullable();
            t.big_integer("big").nullable();
            t.string("s", 100).nullable();
            t.text("txt").nullable();
            t.boolean("flag").nullable();
            t.float("f").nullable();
            t.double("d").nullable();
            t.decimal("dec", 30, 10).nullable();
            t.decimal("dec2", 10, 2).nullable();
            t.date("day").nullable();
            t.time("at").nullable();
            t.timestamp("ts").nullable();
            t.timestamp_tz("tstz").nullable();
            t.uuid("uid").nullable();
            t.json("doc").nullable();
            t.binary("bin").nullable();
        });
        s.create_table("defaults", |t| {
            t.big_integer("id");
            t.primary_key(["id"]);
            t.decimal("dec", 30, 10)
                .default(Value::from(decimal(DECIMAL_30)));
            t.string("s", 100).default(UNICODE);
            t.big_integer("big").default(i64::MIN);
            t.timestamp("ts").default(Value::from(ts_2100()));
            t.timestamp_tz("made").default(CurrentTimestamp);
        });
    }
}

fn decimal(text: &str) -> BigDecimal {
    text.parse().unwrap()
}

fn ts_2100() -> PrimitiveDateTime {
    PrimitiveDateTime::new(
        Date::from_calendar_date(2100, Month::January, 1).unwrap(),
        Time::from_hms_micro(0, 0, 0, 1).unwrap(),
    )
}

const COLUMNS: [&str; 18] = [
    "id", "small", "int", "big", "s", "txt", "flag", "f", "d", "dec", "dec2", "day", "at", "ts",
    "tstz", "uid", "doc", "bin",
];

/// The rows every path writes, their ids from `first`: the edge values, then NULLs, then the
/// other ends of the time ranges.
fn rows(first: i64) -> Vec<Vec<Value>> {
    let day = Date::from_calendar_date(2100, Month::January, 1).unwrap();
    let plus_one = UtcOffset::from_hms(1, 0, 0).unwrap();
    // 2100-01-01 00:00:00.000001 UTC, written with an offset of +01:00.
    let tstz =
        OffsetDateTime::new_in_offset(day, Time::from_hms_micro(1, 0, 0, 1).unwrap(), plus_one);
    let edge = vec![
        Value::from(first),
        i16::MIN.into(),
        i32::MAX.into(),
        i64::MIN.into(),
        UNICODE.into(),
        "it's \"quoted\" \\ 🦆".into(),
        true.into(),
        0.5f32.into(),
        0.1f64.into(),
        decimal(DECIMAL_30).into(),
        decimal("12345678.90").into(),
        day.into(),
        Time::from_hms_micro(23, 59, 59, 999_999).unwrap().into(),
        ts_2100().into(),
        tstz.into(),
        Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210).into(),
        serde_json::json!({"k": "🦆"}).into(),
        vec![0u8, 1, 2, 255].into(),
    ];
    let mut nulls = vec![Value::from(first + 1)];
    nulls.extend([
        Value::SmallInt(None),
        Value::Int(None),
        Value::BigInt(None),
        Value::String(None),
        Value::String(None),
        Value::Bool(None),
        Value::Float(None),
        Value::Double(None),
        Value::BigDecimal(None),
        Value::BigDecimal(None),
        Value::TimeDate(None),
        Value::TimeTime(None),
        Value::TimeDateTime(None),
        Value::TimeDateTimeWithTimeZone(None),
        Value::Uuid(None),
        Value::Json(None),
        Value::Bytes(None),
    ]);
    let low = PrimitiveDateTime::new(
        Date::from_calendar_date(1000, Month::January, 1).unwrap(),
        Time::MIDNIGHT,
    );
    let high = PrimitiveDateTime::new(
        Date::from_calendar_date(9999, Month::December, 31).unwrap(),
        Time::from_hms_micro(23, 59, 59, 999_999).unwrap(),
    );
    let mut ends = vec![
        Value::from(first + 2),
        i16::MAX.into(),
        i32::MIN.into(),
        i64::MAX.into(),
    ];
    ends.extend(std::iter::repeat_n(Value::String(None), 2));
    ends.extend([
        Value::from(false),
        Value::Float(None),
        Value::Double(None),
        decimal("-0.0000000001").into(),
        decimal("-99999999.99").into(),
        Value::TimeDate(None),
        Time::MIDNIGHT.into(),
        low.into(),
        high.assume_utc().into(),
        Value::Uuid(None),
        Value::Json(None),
        Vec::<u8>::new().into(),
    ]);
    vec![edge, nulls, ends]
}

/// The rows, through the DSL's `insert`.
struct InsertValues;
impl Migration for InsertValues {
    fn up(&self, s: &mut Schema) {
        let insert = s.insert("vals", COLUMNS);
        for row in rows(1) {
            insert.values(row);
        }
        s.insert("defaults", ["id"]).values([Value::from(1i64)]);
    }
}

/// The rows again, through Rust code and its `Db`.
struct RunValues;
impl Migration for RunValues {
    fn up(&self, s: &mut Schema) {
        s.run("insert the rows through Db", |db| {
            Box::pin(async move {
                let mut insert = sea_query::Query::insert();
                insert.into_table("vals").columns(COLUMNS);
                for row in rows(11) {
                    insert
                        .values(row.into_iter().map(sea_query::Expr::val))
                        .map_err(|e| e.to_string())?;
                }
                db.execute(&insert).await?;
                Ok(())
            })
        });
    }
}

static CREATE: CreateValues = CreateValues;
static INSERT: InsertValues = InsertValues;
static RUN: RunValues = RunValues;

fn runner(db: &Scratch, migrations: &[(u64, &str, &'static dyn Migration)]) -> Runner {
    super::runner_of(db, migrations)
}

/// What the database's own client prints for `select` (each column already text), one line a
/// row, columns separated by `|`, NULL as `NULL`.
pub(super) fn client(backend: Backend, db: &Scratch, select: &str) -> Vec<String> {
    let output = match backend {
        Backend::Postgres => Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-F",
                "|",
                "-P",
                "null=NULL",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .arg(db.url())
            .arg("-c")
            .arg(select)
            .output(),
        Backend::MySql => {
            let (user, password, host, port) = mysql_login(&db.url());
            Command::new("mysql")
                .args([
                    "--protocol=tcp",
                    "--default-character-set=utf8mb4",
                    "-N",
                    "-B",
                    "--raw",
                ])
                .arg(format!("-h{host}"))
                .arg(format!("-P{port}"))
                .arg(format!("-u{user}"))
                .arg(format!("-p{password}"))
                .arg(db.name())
                .arg("-e")
                .arg(select)
                .output()
        }
        Backend::Sqlite => Command::new("sqlite3")
            .args(["-bail", "-separator", "|", "-nullvalue", "NULL"])
            .arg(db.path().unwrap())
            .arg(select)
            .output(),
    }
    .unwrap_or_else(|e| panic!("cannot run the {backend} client: {e}"));
    assert!(
        output.status.success(),
        "the {backend} client failed on `{select}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Binary values print as raw bytes (uuids and blobs selected as they are).
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.replace('\t', "|"))
        .collect()
}

/// User, password, host and port of `GODWIT_TEST_MYSQL_URL` (`mysql://user:pw@host:port/db`).
pub(super) fn mysql_login(url: &str) -> (String, String, String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (login, server) = rest.split_once('@').unwrap_or(("root", rest));
    let (user, password) = login.split_once(':').unwrap_or((login, ""));
    let server = server.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = server.split_once(':').unwrap_or((server, "3306"));
    (user.into(), password.into(), host.into(), port.into())
}

/// Every column as text, in the database's own spelling of each value.
fn select_vals(backend: Backend, ids: &str) -> String {
    let columns = match backend {
        Backend::Postgres => {
            "id, small, \"int\", big, s, txt, flag, f, d, \"dec\", dec2, day, \
             to_char(date '2000-01-01' + at, 'HH24:MI:SS.US'), \
             to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'), \
             to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), uid, doc, \
             encode(bin, 'hex')"
        }
        Backend::MySql => {
            "id, small, `int`, big, s, txt, flag, f, d, `dec`, dec2, day, \
             TIME_FORMAT(`at`, '%H:%i:%s.%f'), DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), \
             DATE_FORMAT(tstz, '%Y-%m-%d %H:%i:%s.%f'), LOWER(HEX(uid)), doc, LOWER(HEX(bin))"
        }
        Backend::Sqlite => {
            "id, small, int, big, s, txt, flag, f, d, dec || ':' || typeof(dec), \
             iif(dec2 IS NULL, NULL, printf('%.2f', dec2)), day, at, ts, tstz, \
             iif(uid IS NULL, NULL, lower(hex(uid))), doc, \
             iif(bin IS NULL, NULL, lower(hex(bin)))"
        }
    };
    format!("SELECT {columns} FROM vals WHERE id IN ({ids}) ORDER BY id")
}

/// The three rows as each client prints them, with ids `first`, `first + 1`, `first + 2`.
fn expected_vals(backend: Backend, first: i64) -> Vec<String> {
    let uid = "0123456789abcdeffedcba9876543210";
    let (flag_true, flag_false) = match backend {
        Backend::Postgres => ("t", "f"),
        _ => ("1", "0"),
    };
    let uid = match backend {
        Backend::Postgres => "01234567-89ab-cdef-fedc-ba9876543210".to_string(),
        _ => uid.to_string(),
    };
    let doc = match backend {
        Backend::Postgres => r#"{"k": "🦆"}"#,
        _ => r#"{"k":"🦆"}"#,
    };
    let (dec, dec_small, dec2, dec2_low) = match backend {
        Backend::Sqlite => (
            format!("{DECIMAL_30}:text"),
            "-0.0000000001:text".to_string(),
            "12345678.90",
            "-99999999.99",
        ),
        _ => (
            DECIMAL_30.to_string(),
            "-0.0000000001".to_string(),
            "12345678.90",
            "-99999999.99",
        ),
    };
    // SQLite keeps the text as written: no fraction when there is none.
    let times = |at: &str, ts: &str, tstz: &str| match backend {
        Backend::Sqlite => format!("{at}|{ts}|{tstz}").replace(".000000", ""),
        _ => format!("{at}|{ts}|{tstz}"),
    };
    vec![
        format!(
            "{first}|-32768|2147483647|-9223372036854775808|{UNICODE}|it's \"quoted\" \\ 🦆|{flag_true}|0.5|0.1|{dec}|{dec2}|2100-01-01|{}|{uid}|{doc}|000102ff",
            times(
                "23:59:59.999999",
                "2100-01-01 00:00:00.000001",
                "2100-01-01 00:00:00.000001"
            )
        ),
        format!(
            "{}|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|{}|NULL|NULL|NULL",
            first + 1,
            times("NULL", "NULL", "NULL")
        ),
        format!(
            "{}|32767|-2147483648|9223372036854775807|NULL|NULL|{flag_false}|NULL|NULL|{dec_small}|{dec2_low}|NULL|{}|NULL|NULL|",
            first + 2,
            times(
                "00:00:00.000000",
                "1000-01-01 00:00:00.000000",
                "9999-12-31 23:59:59.999999"
            )
        ),
    ]
}

async fn values_round_trip_exactly(backend: Backend) {
    values_round_trip_exactly_on(backend, Server::Standard).await;
}

/// On the servers whose settings change how SQL reads (a MariaDB with `NO_BACKSLASH_ESCAPES` and
/// `ANSI_QUOTES`, PostgreSQL sessions with `standard_conforming_strings = off` and a time zone
/// other than UTC), the same values come back the same.
#[tokio::test]
async fn values_round_trip_exactly_on_mysql_modes() {
    values_round_trip_exactly_on(Backend::MySql, Server::Modes).await;
}

#[tokio::test]
async fn values_round_trip_exactly_on_postgres_modes() {
    values_round_trip_exactly_on(Backend::Postgres, Server::Modes).await;
}

async fn values_round_trip_exactly_on(backend: Backend, server: Server) {
    let db = Scratch::create_on(backend, server, "fidelity_values").await;
    let r = runner(
        &db,
        &[
            (V1, "create_values", &CREATE),
            (V2, "insert_values", &INSERT),
            (V3, "run_values", &RUN),
        ],
    );
    r.up(&Up::default())
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    for (path, first) in [("the DSL's insert", 1), ("Rust code", 11)] {
        let ids = format!("{first}, {}, {}", first + 1, first + 2);
        assert_eq!(
            client(backend, &db, &select_vals(backend, &ids)),
            expected_vals(backend, first),
            "{backend}: the rows written through {path}, as the client reads them"
        );
    }
    // Every path writes a time in one form: ordering by the column is chronological.
    assert_eq!(
        client(
            backend,
            &db,
            "SELECT id FROM vals WHERE tstz IS NOT NULL ORDER BY tstz, id"
        ),
        ["1", "11", "3", "13"],
        "{backend}: the rows by `tstz`"
    );
    let defaults = match backend {
        Backend::Postgres => {
            "SELECT \"dec\", s, big, to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'), \
             abs(extract(epoch FROM now() - made)) < 600 FROM defaults"
        }
        Backend::MySql => {
            "SELECT `dec`, s, big, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), \
             ABS(TIMESTAMPDIFF(SECOND, made, UTC_TIMESTAMP(6))) < 600 FROM defaults"
        }
        Backend::Sqlite => {
            "SELECT dec || ':' || typeof(dec), s, big, ts, \
             abs(strftime('%s', 'now') - strftime('%s', made)) < 600 FROM defaults"
        }
    };
    let expected_defaults = match backend {
        Backend::Postgres => {
            format!("{DECIMAL_30}|{UNICODE}|-9223372036854775808|2100-01-01 00:00:00.000001|t")
        }
        Backend::MySql => {
            format!("{DECIMAL_30}|{UNICODE}|-9223372036854775808|2100-01-01 00:00:00.000001|1")
        }
        Backend::Sqlite => {
            format!("{DECIMAL_30}:text|{UNICODE}|-9223372036854775808|2100-01-01 00:00:00.000001|1")
        }
    };
    assert_eq!(
        client(backend, &db, defaults),
        vec![expected_defaults],
        "{backend}: the defaults, as the client reads them (`made` within ten minutes of now, in UTC)"
    );
}

/// A date before the year 1 (2 BC): MySQL/MariaDB's `datetime(6)` cannot hold it.
struct InsertBeforeYearOne;
impl Migration for InsertBeforeYearOne {
    fn up(&self, s: &mut Schema) {
        let early = PrimitiveDateTime::new(
            Date::from_calendar_date(-1, Month::June, 1).unwrap(),
            Time::MIDNIGHT,
        );
        s.insert("vals", ["id", "tstz"])
            .values([Value::from(100i64), early.assume_utc().into()]);
    }
}
static BEFORE_YEAR_ONE: InsertBeforeYearOne = InsertBeforeYearOne;

/// (PostgreSQL holds dates from 4713 BC, and SQLite any text.)
#[tokio::test]
async fn mysql_refuses_a_date_it_cannot_hold_and_writes_nothing() {
    let backend = Backend::MySql;
    let db = scratch(backend, "fidelity_range").await;
    // A server whose default `sql_mode` is not strict would store a zero date: the runner's
    // sessions are strict whatever the server says.
    let r = runner(
        &db,
        &[
            (V1, "create_values", &CREATE),
            (V2, "before_year_one", &BEFORE_YEAR_ONE),
        ],
    );
    let err = r.up(&Up::default()).await.unwrap_err().to_string();
    assert!(err.contains("20260701000200"), "{err}");
    assert!(
        err.contains("MySQL/MariaDB cannot store the value -0001-06-01"),
        "{err}"
    );
    assert_eq!(
        client(backend, &db, "SELECT COUNT(*) FROM vals"),
        vec!["0".to_string()],
        "nothing was written"
    );
}

/// A table with a `timestamp_tz` column.
struct CreateEvents;
impl Migration for CreateEvents {
    fn up(&self, s: &mut Schema) {
        s.create_table("events", |t| {
            t.id();
            t.timestamp_tz("at").nullable();
        });
    }
}
static CREATE_EVENTS: CreateEvents = CreateEvents;

/// The way the guide gives to convert a column an earlier godwit made as MySQL `timestamp`.
struct ConvertEvents;
impl Migration for ConvertEvents {
    fn up(&self, s: &mut Schema) {
        s.change_column_type("events", "at", ColumnType::TimestampTz);
        s.allow(Rule::MysqlTypeChange, "events is small");
    }
    fn down(&self, _s: &mut Schema) {}
}
static CONVERT_EVENTS: ConvertEvents = ConvertEvents;

/// An earlier godwit made `timestamp_tz` a MySQL `timestamp` (until 2038, no microseconds):
/// `schema --live` says so, and `change_column_type` to the same type converts it in place,
/// keeping the values, after which 2100 and microseconds are stored exactly.
#[tokio::test]
async fn mysql_timestamp_columns_of_an_earlier_godwit_convert_in_place() {
    use godwit::runner::{DatabaseUrl, diff, live_schema};
    let backend = Backend::MySql;
    let mut db = scratch(backend, "fidelity_legacy_timestamp").await;
    let all = [
        (
            V1,
            "create_events",
            &CREATE_EVENTS as &'static dyn Migration,
        ),
        (V2, "convert_events", &CONVERT_EVENTS),
    ];
    let r = runner(&db, &all);
    let then = r
        .catalog()
        .render_up_earlier(
            godwit_core::render::EarlierRendering::BeforeExactValues,
            backend,
            Some(&[V1]),
        )
        .unwrap();
    db.conn.apply_all(&then).await;
    assert_eq!(
        client(
            backend,
            &db,
            "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = 'events' AND COLUMN_NAME = 'at'"
        ),
        ["timestamp"]
    );
    super::exec(
        &mut db.conn,
        "SET time_zone = '+00:00'; INSERT INTO events (at) VALUES ('2030-01-02 03:04:05')",
    )
    .await;
    r.baseline(V1, true).await.unwrap().unwrap();
    let url: DatabaseUrl = db.url().parse().unwrap();
    let model = r.catalog().model(Some(V1)).unwrap();
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    let lines: Vec<String> = diff(&model, &live, backend)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        lines,
        ["column events.at: migrations say datetime(6) NULL, the database has timestamp NULL"]
    );

    r.up(&Up::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    assert!(diff(&model, &live, backend).is_empty());
    super::exec(
        &mut db.conn,
        "INSERT INTO events (at) VALUES ('2100-01-01 12:00:00.123456')",
    )
    .await;
    assert_eq!(
        client(
            backend,
            &db,
            "SELECT CAST(at AS CHAR) FROM events ORDER BY id"
        ),
        ["2030-01-02 03:04:05.000000", "2100-01-01 12:00:00.123456"]
    );
}

/// A later migration.
struct AddNote;
impl Migration for AddNote {
    fn up(&self, s: &mut Schema) {
        s.add_column("vals", Column::text("note").nullable());
    }
}
static ADD_NOTE: AddNote = AddNote;

/// A database migrated by a godwit that did not keep every value exactly: its history has the
/// checksums of the SQL rendered then (MySQL/MariaDB `time` and `datetime` columns, SQLite
/// `decimal` of NUMERIC affinity, values inline as given). Its migrations stay `applied`, and
/// `up` runs the next one without asking for a `repair`; a checksum that matches neither
/// rendering is still `changed`.
async fn migrations_applied_before_values_were_kept_exactly_stay_applied(backend: Backend) {
    use godwit::runner::{Down, DownTarget, State};
    let mut db = scratch(backend, "fidelity_before").await;
    let all = [
        (V1, "create_values", &CREATE as &'static dyn Migration),
        (V2, "insert_values", &INSERT),
        (V3, "add_note", &ADD_NOTE),
    ];
    let r = runner(&db, &all);
    let then = r
        .catalog()
        .render_up_earlier(
            godwit_core::render::EarlierRendering::BeforeExactValues,
            backend,
            Some(&[V1, V2]),
        )
        .unwrap();
    if backend != Backend::Postgres {
        let now = r.catalog().render_up(backend, Some(&[V1, V2])).unwrap();
        assert_ne!(
            godwit::runner::checksum(&then[0]),
            godwit::runner::checksum(&now[0]),
            "{backend}: the SQL of `create_values` changed"
        );
    }
    db.conn.apply_all(&then).await;
    r.baseline(V2, true).await.unwrap().unwrap();
    for m in &then {
        super::exec(
            &mut db.conn,
            &format!(
                "UPDATE godwit_migrations SET checksum = '{}' WHERE version = {}",
                godwit::runner::checksum(m),
                m.id.version
            ),
        )
        .await;
    }
    let states = |status: &godwit::runner::Status| -> Vec<(u64, State)> {
        status
            .migrations
            .iter()
            .map(|m| (m.version, m.state))
            .collect()
    };
    let status = r.status().await.unwrap();
    assert_eq!(
        states(&status),
        [
            (V1, State::Applied),
            (V2, State::Applied),
            (V3, State::Pending)
        ],
        "{backend}"
    );
    assert!(
        r.repair().await.unwrap().is_empty(),
        "{backend}: nothing to repair"
    );
    // (Adding a column on MySQL wants an online-DDL choice, which is not the point here.)
    r.up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    r.down(&Down::new(DownTarget::Steps(1)))
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e}"));

    super::exec(
        &mut db.conn,
        &format!(
            "UPDATE godwit_migrations SET checksum = 'v1:{}' WHERE version = {V1}",
            "0".repeat(64)
        ),
    )
    .await;
    let status = r.status().await.unwrap();
    assert_eq!(status.migrations[0].state, State::Changed, "{backend}");
}

on_every_backend!(
    values_round_trip_exactly,
    migrations_applied_before_values_were_kept_exactly_stay_applied
);
