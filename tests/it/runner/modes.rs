//! Server settings that change how SQL reads, on the servers `bash .ci/run` starts with them: a
//! MariaDB whose `sql_mode` has `NO_BACKSLASH_ESCAPES` and `ANSI_QUOTES`, and PostgreSQL sessions
//! with `standard_conforming_strings = off` and a time zone other than UTC. (The scenario table
//! runs there too: `live::*_modes`, `runner::printed::*_modes`.)
//!
//! A default that looks like the end of a literal and a statement after it must be stored as
//! written, through `up`, and nothing after it may run.

use godwit::prelude::*;
use godwit::runner::{DatabaseUrl, Up, diff, live_schema};
use godwit_core::Backend;

use super::fidelity::client;
use super::runner_of;
use crate::live::db::{Scratch, Server};

struct Users;
impl Migration for Users {
    fn up(&self, s: &mut Schema) {
        s.create_table("users", |t| {
            t.id();
            t.string("email", 100);
        });
        s.insert("users", ["email"]).values(["ada@example.com"]);
    }
}

/// The defaults of the report: one that ends a backslash-escaped literal early under
/// `NO_BACKSLASH_ESCAPES` and drops `users`, and a Windows path.
struct HostileDefaults;
impl Migration for HostileDefaults {
    fn up(&self, s: &mut Schema) {
        s.create_table("notes", |t| {
            t.id();
            t.string("body", 100).default("\\'); DROP TABLE users; -- ");
            t.string("path", 100).default("C:\\temp\\new");
            t.check("ck_notes_path", col("path").ne("C:\\temp\\old"));
        });
        s.set_default("users", "email", "o'hara\\@example.com");
    }
}

static USERS: Users = Users;
static HOSTILE: HostileDefaults = HostileDefaults;

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

async fn hostile_defaults_are_stored_as_written(backend: Backend, server: Server) {
    let mut db = Scratch::create_on(backend, server, "modes_hostile_defaults").await;
    let r = runner_of(&db, &[(1, "users", &USERS), (2, "hostile", &HOSTILE)]);
    r.up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_or_else(|e| panic!("{backend}: {e}"));
    assert_eq!(
        client(backend, &db, "SELECT COUNT(*) FROM users"),
        ["1"],
        "{backend}: users and its row are still there"
    );
    super::exec(&mut db.conn, "INSERT INTO notes (id) VALUES (1)").await;
    super::exec(&mut db.conn, "INSERT INTO users (id) VALUES (2)").await;
    let (body, path, email) = match backend {
        Backend::Postgres => (
            "upper(encode(convert_to(body, 'UTF8'), 'hex'))",
            "upper(encode(convert_to(path, 'UTF8'), 'hex'))",
            "upper(encode(convert_to(email, 'UTF8'), 'hex'))",
        ),
        _ => ("HEX(body)", "HEX(path)", "HEX(email)"),
    };
    assert_eq!(
        client(
            backend,
            &db,
            &format!("SELECT {body}, {path}, (SELECT {email} FROM users WHERE id = 2) FROM notes")
        ),
        [format!(
            "{}|{}|{}",
            hex("\\'); DROP TABLE users; -- "),
            hex("C:\\temp\\new"),
            hex("o'hara\\@example.com")
        )],
        "{backend}: the defaults, byte for byte"
    );
    // The check compares with the text as written: the path it names is refused.
    let refused = client_fails(
        backend,
        &db,
        "UPDATE notes SET path = CONCAT('C:', CHR92, 'temp', CHR92, 'old')",
    );
    assert!(refused, "{backend}: the check refuses C:\\temp\\old");
    let url: DatabaseUrl = db.url().parse().unwrap();
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    let model = r.catalog().model(None).unwrap();
    assert!(
        diff(&model, &live, backend).is_empty(),
        "{backend}: no drift"
    );
    db.conn.close().await;
}

/// Whether the client refuses `update` (with `CHR92` standing for a backslash, written as each
/// backend spells it without one).
fn client_fails(backend: Backend, db: &Scratch, update: &str) -> bool {
    let backslash = match backend {
        Backend::Postgres => "chr(92)",
        _ => "CHAR(92 USING utf8mb4)",
    };
    let update = update.replace("CHR92", backslash);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client(backend, db, &update)
    }))
    .is_err()
}

#[tokio::test]
async fn mysql_no_backslash_escapes_default_cannot_end_its_literal() {
    hostile_defaults_are_stored_as_written(Backend::MySql, Server::Modes).await;
}

#[tokio::test]
async fn mysql_default_mode_hostile_defaults_are_stored_as_written() {
    hostile_defaults_are_stored_as_written(Backend::MySql, Server::Standard).await;
}

#[tokio::test]
async fn postgres_standard_conforming_strings_off_hostile_defaults_are_stored_as_written() {
    hostile_defaults_are_stored_as_written(Backend::Postgres, Server::Modes).await;
}

#[tokio::test]
async fn postgres_hostile_defaults_are_stored_as_written() {
    hostile_defaults_are_stored_as_written(Backend::Postgres, Server::Standard).await;
}

/// A migration applied by a godwit that escaped literals with backslashes has that rendering's
/// checksum: it stays `applied`.
#[tokio::test]
async fn mysql_migrations_applied_with_backslash_escaped_literals_stay_applied() {
    use godwit::runner::State;
    use godwit_core::render::EarlierRendering;
    let backend = Backend::MySql;
    let mut db = Scratch::create_on(backend, Server::Standard, "modes_checksums").await;
    let r = runner_of(&db, &[(1, "users", &USERS), (2, "hostile", &HOSTILE)]);
    r.up(&Up::default().allow_unsafe(true)).await.unwrap();
    let then = r
        .catalog()
        .render_up_earlier(
            EarlierRendering::BackslashEscapedLiterals,
            backend,
            Some(&[2]),
        )
        .unwrap();
    let now = r.catalog().render_up(backend, Some(&[2])).unwrap();
    let (then, now) = (
        godwit::runner::checksum(&then[0]),
        godwit::runner::checksum(&now[0]),
    );
    assert_ne!(then, now, "the SQL of `hostile` changed");
    super::exec(
        &mut db.conn,
        &format!("UPDATE godwit_migrations SET checksum = '{then}' WHERE version = 2"),
    )
    .await;
    let status = r.status().await.unwrap();
    assert!(
        status.migrations.iter().all(|m| m.state == State::Applied),
        "{:?}",
        status.migrations
    );
    db.conn.close().await;
}

struct Events;
impl Migration for Events {
    fn up(&self, s: &mut Schema) {
        s.create_table("events", |t| {
            t.id();
            t.timestamp("at");
        });
        s.sql("INSERT INTO events (at) VALUES ('2030-01-01 12:00:00')")
            .down("DELETE FROM events");
    }
}

struct EventsInUtc;
impl Migration for EventsInUtc {
    fn up(&self, s: &mut Schema) {
        s.change_column_type("events", "at", ColumnType::TimestampTz);
    }
}

static EVENTS: Events = Events;
static EVENTS_IN_UTC: EventsInUtc = EventsInUtc;

/// `timestamp` to `timestamptz`: godwit's sessions are in UTC whatever the role's `TimeZone`
/// (here Asia/Kathmandu), so each value keeps its instant read as UTC, and PostgreSQL keeps the
/// table's file (no rewrite, which lint therefore does not report).
#[tokio::test]
async fn postgres_timestamp_to_timestamptz_keeps_the_table_and_reads_values_as_utc() {
    let backend = Backend::Postgres;
    let mut db = Scratch::create_on(backend, Server::Modes, "modes_timestamptz").await;
    let before_lint = runner_of(&db, &[(1, "events", &EVENTS), (2, "utc", &EVENTS_IN_UTC)]);
    before_lint
        .up(&Up::default().to(Some(1)).allow_unsafe(true))
        .await
        .unwrap();
    let file = "SELECT relfilenode::int8 FROM pg_class WHERE relname = 'events'";
    let before = super::scalar(&mut db.conn, file).await;
    // No `allow_unsafe`: lint finds nothing to refuse.
    before_lint.up(&Up::default()).await.unwrap();
    assert_eq!(
        super::scalar(&mut db.conn, file).await,
        before,
        "the table was not rewritten"
    );
    assert_eq!(
        client(
            backend,
            &db,
            "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM events"
        ),
        ["2030-01-01 12:00:00"]
    );
    db.conn.close().await;
}
