//! The SQL godwit prints runs as printed: for every scenario of the snapshot table, on each
//! backend, what `sql` prints for its migrations is run by the database's own client (`psql -v
//! ON_ERROR_STOP=1`, `mysql`, `sqlite3 -bail`) in one scratch database, `up` runs them in
//! another, and the two end with the same schema (the tests' own introspection) and the same rows
//! (each table as the client prints it). A scenario with Rust code, which no printed SQL can
//! run, is compared by its schema alone.

use std::io::Write as _;
use std::process::{Command, Stdio};

use godwit::runner::{Runner, Up};
use godwit_core::{Backend, DataStep, Migration, MigrationId};

use super::fidelity::mysql_login;
use crate::live::db::{Scratch, Server};
use crate::scenarios::Scenario;

/// Run `script` with the database's own client, stopping at the first error.
pub(super) fn run_script(backend: Backend, db: &Scratch, script: &str) {
    let mut command = match backend {
        Backend::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]).arg(db.url());
            c
        }
        Backend::MySql => {
            let (user, password, host, port) = mysql_login(&db.url());
            let mut c = Command::new("mysql");
            c.args(["--protocol=tcp", "--default-character-set=utf8mb4"])
                .arg(format!("-h{host}"))
                .arg(format!("-P{port}"))
                .arg(format!("-u{user}"))
                .arg(format!("-p{password}"))
                .arg(db.name());
            c
        }
        Backend::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.arg("-bail").arg(db.path().unwrap());
            c
        }
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the {backend} client: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{backend}: the printed SQL does not run as printed: {}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every row of `table`, as the client prints them, sorted.
fn rows(backend: Backend, db: &Scratch, table: &str) -> Vec<String> {
    let quoted = godwit_core::render::quote(backend, table);
    // `CURRENT_TIMESTAMP` defaults differ between the two databases by the time between them.
    // The server prints them in its own time zone (the modes server is 5:45 ahead of UTC), so
    // its date may be yesterday's or tomorrow's in UTC.
    let now = sea_query::value::prelude::time::OffsetDateTime::now_utc();
    let days: Vec<String> = [-1i64, 0, 1]
        .iter()
        .map(|d| {
            let day = (now + sea_query::value::prelude::time::Duration::days(*d)).date();
            format!(
                "{:04}-{:02}-{:02}",
                day.year(),
                u8::from(day.month()),
                day.day()
            )
        })
        .collect();
    let mut lines: Vec<String> =
        super::fidelity::client(backend, db, &format!("SELECT * FROM {quoted}"))
            .into_iter()
            .map(|line| {
                line.split('|')
                    .map(|v| {
                        if days.iter().any(|day| v.starts_with(day.as_str())) {
                            "<now>"
                        } else {
                            v
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
    lines.sort();
    lines
}

async fn run(name: &str, scenario: Scenario, backend: Backend, server: Server) {
    if scenario.unsupported.contains(&backend) {
        // The live tests check that it is a typed error before anything runs.
        return;
    }
    let catalog = scenario.catalog();
    let rendered = catalog
        .render_up(backend, None)
        .unwrap_or_else(|e| panic!("{name} on {backend}: {e}"));
    // What `sql` prints (see `godwit::cli`): each statement's preview, ended by `;`.
    let mut script = String::new();
    for m in &rendered {
        for st in &m.statements {
            let sql = st.preview.trim_end();
            script.push_str(sql.strip_suffix(';').unwrap_or(sql).trim_end());
            script.push_str(";\n");
        }
    }
    let has_code = rendered
        .iter()
        .flat_map(|m| &m.statements)
        .any(|st| matches!(st.data, Some(DataStep::Code(_))));

    let mut printed = Scratch::create_on(backend, server, &format!("printed_{name}")).await;
    run_script(backend, &printed, &script);

    let mut ran = Scratch::create_on(backend, server, &format!("ran_{name}")).await;
    let steps = scenario.setup.iter().chain(std::iter::once(&scenario.step));
    let migrations: Vec<(MigrationId, &dyn Migration)> = steps
        .enumerate()
        .map(|(i, step)| {
            let version = i as u64 + 1;
            let name = if version == scenario.version() {
                "under_test".to_string()
            } else {
                format!("setup_{version}")
            };
            (MigrationId { version, name }, step as &dyn Migration)
        })
        .collect();
    Runner::new(ran.url().parse().unwrap(), migrations)
        .up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_or_else(|e| panic!("{name} on {backend}: up: {e}"));
    // godwit's own bookkeeping is not part of the comparison.
    for table in ["godwit_migrations_batches", "godwit_migrations"] {
        super::exec(&mut ran.conn, &format!("DROP TABLE IF EXISTS {table}")).await;
    }

    let after_up = ran.conn.introspect().await;
    printed
        .conn
        .introspect()
        .await
        .assert_matches(&after_up, &format!("{name} on {backend}: the printed SQL"));
    if !has_code {
        for table in after_up.column_order.keys() {
            assert_eq!(
                rows(backend, &printed, table),
                rows(backend, &ran, table),
                "{name} on {backend}: the rows of `{table}`, printed SQL (left) against `up` (right)"
            );
        }
    }
    printed.conn.close().await;
    ran.conn.close().await;
}

/// One test per scenario and backend: `runner::printed::postgres::add_column`, ...; and on the
/// servers whose settings change how SQL reads: `runner::printed::mysql_modes::add_column`, ...
macro_rules! printed_tests {
    ($($name:ident),* $(,)?) => {
        printed_tests!(@backend postgres, Postgres, Standard, $($name),*);
        printed_tests!(@backend mysql, MySql, Standard, $($name),*);
        printed_tests!(@backend sqlite, Sqlite, Standard, $($name),*);
        printed_tests!(@backend postgres_modes, Postgres, Modes, $($name),*);
        printed_tests!(@backend mysql_modes, MySql, Modes, $($name),*);
    };
    (@backend $module:ident, $backend:ident, $server:ident, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $name() {
                    super::run(
                        stringify!($name),
                        crate::scenarios::$name(),
                        godwit_core::Backend::$backend,
                        super::Server::$server,
                    )
                    .await;
                }
            )*
        }
    };
}
all_scenarios!(printed_tests);
