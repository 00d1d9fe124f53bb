//! Every scenario, executed on real PostgreSQL, MariaDB and SQLite databases.
//!
//! Each test creates a scratch database of its own, applies the setup migrations and checks the
//! schema they leave against the schema model; then applies the migration under test and checks
//! again; then, for a reversible migration, applies its `down` and checks that the schema is
//! back to what it was, and applies `up` once more. Irreversible migrations must fail to render
//! `down` with a typed error, and a migration a backend cannot express must fail to render
//! `up` there, before anything runs.
//!
//! The statements are run by a small executor of its own ([`db::Conn::apply`]), a schema-only
//! oracle: it skips data steps (Rust code, batched backfills and copies), which the runner runs
//! and `runner/data.rs` tests.

pub(crate) mod db;
mod introspect;
mod shape;

use godwit_core::{Backend, Error, ErrorKind, RenderError};

use crate::scenarios::Scenario;
use db::Scratch;
use shape::Shape;

async fn run(name: &str, scenario: Scenario, backend: Backend, server: db::Server) {
    let catalog = scenario.catalog();
    let version = [scenario.version()];

    if scenario.unsupported.contains(&backend) {
        match catalog.render_up(backend, Some(&version)) {
            Err(Error {
                kind: ErrorKind::Render(RenderError::Unsupported { backend: b, .. }),
                ..
            }) if b == backend => {}
            other => panic!(
                "`{name}` must be a typed unsupported error on {backend}, it renders {other:?}"
            ),
        }
        return;
    }

    let mut db = Scratch::create_on(backend, server, name).await;
    let db_name = db.name().to_string();
    let context = |what: &str| format!("{name} on {backend} (database {db_name}): {what}");

    if let Some(setup) = scenario.setup_version() {
        let versions: Vec<u64> = (1..=setup).collect();
        let setup = catalog
            .render_up(backend, Some(&versions))
            .unwrap_or_else(|e| panic!("{}", context(&format!("the setup does not render: {e}"))));
        db.conn.apply_all(&setup).await;
    }
    let before = db.conn.introspect().await;
    before.assert_matches(
        &Shape::from_model(backend, &scenario.model_before()),
        &context("after the setup"),
    );

    let up = catalog
        .render_up(backend, Some(&version))
        .unwrap_or_else(|e| panic!("{}", context(&format!("up does not render: {e}"))));
    db.conn.apply_all(&up).await;
    let expected = Shape::from_model(backend, &scenario.model_after());
    let after = db.conn.introspect().await;
    after.assert_matches(&expected, &context("after up"));
    after.assert_column_order(&expected, &context("after up"));
    for probe in scenario.probes {
        let got = db.conn.count(probe.sql).await;
        assert_eq!(
            got,
            probe.after_up,
            "{}",
            context(&format!("after up, `{}`", probe.sql))
        );
    }

    let down = catalog.render_down(backend, Some(&version));
    if !scenario.reversible {
        match down {
            Err(Error {
                kind: ErrorKind::Irreversible { .. },
                direction: "down",
                ..
            }) => {}
            other => panic!(
                "{}",
                context(&format!(
                    "down must be an irreversible error, it renders {other:?}"
                ))
            ),
        }
        db.conn.close().await;
        return;
    }
    let down =
        down.unwrap_or_else(|e| panic!("{}", context(&format!("down does not render: {e}"))));
    db.conn.apply_all(&down).await;
    db.conn
        .introspect()
        .await
        .assert_matches(&before, &context("after up and down"));
    for probe in scenario.probes {
        if let Some(expected) = probe.after_down {
            let got = db.conn.count(probe.sql).await;
            assert_eq!(
                got,
                expected,
                "{}",
                context(&format!("after up and down, `{}`", probe.sql))
            );
        }
    }

    db.conn.apply_all(&up).await;
    db.conn
        .introspect()
        .await
        .assert_matches(&expected, &context("after up, down and up again"));
    db.conn.close().await;
}

/// One test per scenario and backend: `live::postgres::add_column`, ...; and on the servers
/// whose settings change how SQL reads: `live::mysql_modes::add_column`, ...
macro_rules! live_tests {
    ($($name:ident),* $(,)?) => {
        live_tests!(@backend postgres, Postgres, Standard, $($name),*);
        live_tests!(@backend mysql, MySql, Standard, $($name),*);
        live_tests!(@backend sqlite, Sqlite, Standard, $($name),*);
        live_tests!(@backend postgres_modes, Postgres, Modes, $($name),*);
        live_tests!(@backend mysql_modes, MySql, Modes, $($name),*);
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
                        super::db::Server::$server,
                    )
                    .await;
                }
            )*
        }
    };
}
all_scenarios!(live_tests);
