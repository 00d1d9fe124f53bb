//! Bad input: each a one-line error and a non-zero exit, with nothing changed and no password
//! shown.

use godwit_core::Backend;

use super::{fixture, history, run, scratch, table_exists, text};

const SECRET: &str = "hunter2-not-the-password";

/// Run `args` against `url`: exit code 1, one line on stderr, nothing on stdout, no secret.
fn one_line_error(url: &str, args: &[&str]) -> String {
    let out = run(fixture(url, args));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains(SECRET), "the password is shown: {stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    stderr
}

#[test]
fn a_malformed_url_is_one_line_without_the_password() {
    for (url, expected) in [
        (
            format!("postgres://app:{SECRET}@localhost:notaport/blog"),
            "error: --database-url is not a usable database URL (`postgres://app:***@localhost:notaport/blog`): ",
        ),
        (
            format!("oracle://app:{SECRET}@localhost/blog"),
            "error: --database-url is not a usable database URL (`oracle://app:***@localhost/blog`): it has the scheme `oracle`",
        ),
        (
            format!("mysql://app:{SECRET}@localhost"),
            "error: --database-url is not a usable database URL (`mysql://app:***@localhost`): it names no database",
        ),
        (
            SECRET.to_string(),
            "error: --database-url is not a usable database URL: it has no scheme",
        ),
    ] {
        for command in [&["up"][..], &["status"], &["down"]] {
            let stderr = one_line_error(&url, command);
            assert!(stderr.starts_with(expected), "{stderr}");
        }
    }
}

#[test]
fn an_unreachable_server_is_one_line_without_the_password() {
    for (url, expected) in [
        (
            format!("postgres://app:{SECRET}@127.0.0.1:1/blog"),
            "error: cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/blog: ",
        ),
        (
            format!("mysql://app:{SECRET}@127.0.0.1:1/blog"),
            "error: cannot connect to MySQL/MariaDB at mysql://app:***@127.0.0.1:1/blog: ",
        ),
    ] {
        let stderr = one_line_error(&url, &["up"]);
        assert!(stderr.starts_with(expected), "{stderr}");
        assert!(stderr.contains("check that the server runs"), "{stderr}");
    }
    let dir = std::env::temp_dir().join("godwit-no-such-dir-for-tests");
    let url = format!("sqlite://{}/dev.db", dir.display());
    let stderr = one_line_error(&url, &["up"]);
    assert!(
        stderr.starts_with("error: cannot connect to SQLite at "),
        "{stderr}"
    );
    assert!(!dir.exists());
}

#[tokio::test]
async fn wrong_credentials_are_one_line_without_the_password() {
    // MariaDB checks the password.
    let mut db = scratch(Backend::MySql, "wrong_password").await;
    let url = db.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let wrong = format!("{scheme}://godwit:{SECRET}@{host}");
    let stderr = one_line_error(&wrong, &["up"]);
    assert!(
        stderr.starts_with("error: cannot connect to MySQL/MariaDB at mysql://godwit:***@"),
        "{stderr}"
    );
    assert!(stderr.contains("Access denied"), "{stderr}");
    assert!(
        stderr.contains("check the user name and password"),
        "{stderr}"
    );
    assert!(!table_exists(&mut db.conn, "godwit_migrations").await);
    db.conn.close().await;

    // The test PostgreSQL trusts local connections: an unknown role is its credentials error.
    let mut db = scratch(Backend::Postgres, "wrong_role").await;
    let url = db.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let wrong = format!("{scheme}://no_such_role:{SECRET}@{host}");
    let stderr = one_line_error(&wrong, &["up"]);
    assert!(stderr.contains("no_such_role"), "{stderr}");
    assert!(
        stderr.contains("the server has no such user: check the user name in the URL"),
        "the hint is about the user, not whether the server runs: {stderr}"
    );
    assert!(!table_exists(&mut db.conn, "godwit_migrations").await);
    db.conn.close().await;
}

#[tokio::test]
async fn an_unknown_version_changes_nothing() {
    for backend in Backend::ALL {
        let mut db = scratch(backend, "unknown_version").await;
        let url = db.url();
        for args in [
            &["up", "--to", "20991231235959"][..],
            &["down", "--to", "20991231235959"],
        ] {
            let stderr = one_line_error(&url, args);
            assert!(
                stderr.starts_with("error: no migration has version 20991231235959 (the 5 migrations run from 20260101000100 to 20260101000500)"),
                "{stderr}"
            );
        }
        let out = run(fixture(&url, &["up", "--to", "yesterday"]));
        assert_eq!(out.status.code(), Some(2));
        assert!(history(&mut db.conn, "godwit_migrations").await.is_empty());
        assert!(!table_exists(&mut db.conn, "authors").await);
        db.conn.close().await;
    }
}

/// A deploy script whose variable is unset passes an empty URL: an error, never the crate's
/// `dev.db`; nor a SQLite URL without a file, whose temporary database would vanish with the
/// command and take the migrations "applied" to it along.
#[test]
fn an_empty_database_url_or_a_sqlite_url_without_a_file_is_an_error() {
    for (url, expected) in [
        (
            "",
            "error: --database-url is not a usable database URL: it is empty",
        ),
        (
            "sqlite:",
            "error: --database-url is not a usable database URL (`sqlite:`): it names no file",
        ),
        (
            "sqlite://",
            "error: --database-url is not a usable database URL (`sqlite://`): it names no file",
        ),
    ] {
        for command in [&["up"][..], &["status"]] {
            let stderr = one_line_error(url, command);
            assert!(stderr.starts_with(expected), "{stderr}");
        }
    }
    // DATABASE_URL set but empty.
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fixture-migrations"));
    c.arg("status").env("DATABASE_URL", "").env("NO_COLOR", "1");
    let out = run(c);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: DATABASE_URL is not a usable database URL: it is empty"),
        "{stderr}"
    );
}

/// A history table whose progress table (`<name>_batches`) would not fit the backend's names
/// is refused before anything runs: PostgreSQL would have cut that name short to the history
/// table's own, and MariaDB refused it only at the first backfill.
#[tokio::test]
async fn a_history_table_name_too_long_for_what_godwit_derives_is_refused() {
    for (backend, len) in [(Backend::Postgres, 56), (Backend::MySql, 57)] {
        let mut db = scratch(backend, "long_history").await;
        let name = "h".repeat(len);
        let stderr = one_line_error(&db.url(), &["up", "--history-table", &name]);
        assert!(
            stderr.contains(&format!("godwit also makes `{name}_batches`"))
                && stderr.contains(&format!("use at most {} characters", len - 1)),
            "{stderr}"
        );
        assert!(
            !table_exists(&mut db.conn, &name).await,
            "{backend}: nothing ran"
        );
        db.conn.close().await;
    }
}

/// Timeouts the backend does not take are refused with the range it takes, before anything
/// runs: under a millisecond PostgreSQL reads as no limit, and past its limit it refuses;
/// SQLite's busy timeout stops at 2^31 - 1 milliseconds (larger ones made sqlx panic).
#[tokio::test]
async fn timeouts_out_of_the_backends_range_are_refused() {
    let mut db = scratch(Backend::Postgres, "timeout_range").await;
    for (flag, value) in [
        ("--lock-timeout", "0.0001"),
        ("--lock-timeout", "3000000"),
        ("--statement-timeout", "0.0004"),
    ] {
        let stderr = one_line_error(&db.url(), &["up", flag, value]);
        assert!(
            stderr.contains("is out of range: it must be 0.001 to 2147483.647 seconds (about 596 hours) on PostgreSQL, or 0 for no limit"),
            "{stderr}"
        );
    }
    assert!(
        !table_exists(&mut db.conn, "godwit_migrations").await,
        "nothing ran"
    );
    db.conn.close().await;

    let db = scratch(Backend::Sqlite, "timeout_range").await;
    let stderr = one_line_error(&db.url(), &["up", "--deploy-lock-timeout", "2147484"]);
    assert!(
        stderr.contains(
            "the deploy lock timeout of 2147484 seconds is out of range: SQLite waits at most"
        ),
        "{stderr}"
    );
}

/// SQLite: a database that is not there yet is "not created yet" to `status`; one in a
/// directory that is not there is a wrong path, which nothing will create.
#[test]
fn sqlite_status_in_a_missing_directory_is_an_error() {
    let url = "sqlite:/nonexistent-godwit-dir/dev.db";
    let stderr = one_line_error(url, &["status"]);
    assert!(
        stderr.contains("the directory /nonexistent-godwit-dir does not exist"),
        "{stderr}"
    );
}
