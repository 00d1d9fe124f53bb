//! The runner built with some of the backend features (`postgres`, `mysql`, `sqlite`): a URL for
//! a backend left out is refused before anything connects, with an error that names the feature;
//! a backend built in applies a migration on its real server. `.ci/run` runs this file once per
//! feature alone (`cargo test -p godwit-runner --no-default-features --features postgres --test
//! backends`), and the workspace's test run runs it with all three.

use godwit_core::{Backend, Migration, MigrationId, Schema};
use godwit_runner::{DatabaseUrl, Runner, Up, UrlSource};

struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, s: &mut Schema) {
        s.create_table("notes", |t| {
            t.id();
            t.string("body", 100);
        });
    }
}

const BACKENDS: [(Backend, &str, &str, bool); 3] = [
    (
        Backend::Postgres,
        "postgres://app:secret@db.example/blog",
        "postgres",
        cfg!(feature = "postgres"),
    ),
    (
        Backend::MySql,
        "mysql://app:secret@db.example/blog",
        "mysql",
        cfg!(feature = "mysql"),
    ),
    (
        Backend::Sqlite,
        "sqlite:blog.db",
        "sqlite",
        cfg!(feature = "sqlite"),
    ),
];

#[test]
fn a_url_for_a_backend_left_out_names_the_feature_that_builds_it() {
    for (backend, url, feature, built) in BACKENDS {
        let parsed = DatabaseUrl::parse(url, UrlSource::Flag);
        if built {
            assert_eq!(parsed.expect(url).backend(), backend);
            continue;
        }
        let e = parsed.expect_err(url).to_string();
        assert!(e.contains(&format!("add the `{feature}` feature")), "{e}");
        assert!(e.contains("built for"), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }
}

#[test]
fn without_a_url_the_default_needs_sqlite() {
    let empty = tempfile::tempdir().unwrap();
    let resolved =
        godwit_runner::resolve_url(None, None, Some(empty.path()), Some("sqlite:dev.db"));
    if cfg!(feature = "sqlite") {
        assert_eq!(resolved.unwrap().unwrap().backend(), Backend::Sqlite);
        return;
    }
    let e = resolved.unwrap_err().to_string();
    assert!(
        e.starts_with(
            "no database given: pass --database-url, or set DATABASE_URL (in the environment or \
             a .env file); the default, the SQLite file `sqlite:dev.db`, needs the `sqlite` feature"
        ),
        "{e}"
    );
}

/// Apply one migration with a runner of this build, then read its status back.
async fn applies_and_reads_back(url: DatabaseUrl) {
    let migration = CreateNotes;
    let id = MigrationId {
        version: 20261206000000,
        name: "create_notes".to_string(),
    };
    let runner = Runner::new(url, [(id, &migration as &dyn Migration)]);
    let report = runner.up(&Up::default()).await.expect("up");
    assert_eq!(report.ran.len(), 1);
    let status = runner.status().await.expect("status");
    assert!(status.history_exists);
    assert_eq!(status.migrations.len(), 1);
    assert!(status.is_up_to_date(), "{status:?}");
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_applies_a_migration_when_built_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one-backend.db");
    let url = DatabaseUrl::parse(
        &format!("sqlite://{}?mode=rwc", file.display()),
        UrlSource::Given,
    )
    .unwrap();
    applies_and_reads_back(url).await;
    // Read back with SQLite itself: the table is there.
    use sqlx::Connection as _;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'notes'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(n, 1);
}

/// The test server's URL from the environment; its absence is a failure, never a skip.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn server(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: point it at the test server (see the README), as .ci/run does")
    })
}

/// `url` with its database replaced by `name`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A test that makes a database of its own on the server `$var` names, applies a migration
/// there with the runner, and reads the table back with the server's own catalog.
macro_rules! on_the_server {
    ($feature:literal, $test:ident, $conn:ty, $var:literal, $drop_suffix:literal, $schema:literal) => {
        #[cfg(feature = $feature)]
        #[tokio::test]
        async fn $test() {
            use sqlx::Connection as _;
            let admin = server($var);
            let name = format!("godwit_backends_{}", std::process::id());
            let drop = format!("DROP DATABASE IF EXISTS {name}{}", $drop_suffix);
            let mut c = <$conn>::connect(&admin).await.unwrap();
            for sql in [drop.clone(), format!("CREATE DATABASE {name}")] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            let url = with_database(&admin, &name);
            applies_and_reads_back(DatabaseUrl::parse(&url, UrlSource::Given).unwrap()).await;
            let mut db = <$conn>::connect(&url).await.unwrap();
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = {} AND table_name = 'notes'",
                $schema
            )))
            .fetch_one(&mut db)
            .await
            .unwrap();
            db.close().await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut c)
                .await
                .unwrap();
            assert_eq!(n, 1);
        }
    };
}

on_the_server!(
    "postgres",
    postgres_applies_a_migration_when_built_in,
    sqlx::PgConnection,
    "GODWIT_TEST_POSTGRES_URL",
    " WITH (FORCE)",
    "current_schema()"
);

on_the_server!(
    "mysql",
    mysql_applies_a_migration_when_built_in,
    sqlx::MySqlConnection,
    "GODWIT_TEST_MYSQL_URL",
    "",
    "DATABASE()"
);
