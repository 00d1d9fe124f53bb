//! Reading a live schema back ([`godwit::runner::live_schema`]) and comparing it with the
//! schema model ([`godwit::runner::diff`]).
//!
//! - every scenario's migrations, applied to a database of their own, leave a schema that does
//!   not differ from their model;
//! - migrations applied by the runner leave no difference either (the history table is not
//!   reported); a column added by hand, a dropped index and a changed column type are then each
//!   reported in one line, and a table with a type godwit does not create is read all the same.

use godwit::prelude::*;
use godwit::runner::{DatabaseUrl, Runner, Up, diff, live_schema};
use godwit_core::{Backend, Catalog, MigrationId};

use super::{exec, on_every_backend, scratch};

/// Every scenario's setup and migration under test, applied; the live schema must match the
/// model. All failures are collected, so that one run shows them all.
async fn every_scenario_matches_its_model(backend: Backend) {
    let mut failures = Vec::new();
    for (name, scenario) in crate::scenarios::ALL {
        let scenario = scenario();
        if scenario.unsupported.contains(&backend) {
            continue;
        }
        let catalog = scenario.catalog();
        let up = catalog
            .render_up(backend, None)
            .unwrap_or_else(|e| panic!("{name} does not render on {backend}: {e}"));
        let model = catalog
            .model(None)
            .unwrap_or_else(|e| panic!("{name} does not fold: {e}"));
        let mut db = scratch(backend, &format!("introspect_{name}")).await;
        db.conn.apply_all(&up).await;
        let url: DatabaseUrl = db.url().parse().unwrap_or_else(|e| panic!("{e}"));
        let live = live_schema(&url, "godwit_migrations", &model.named_schemas())
            .await
            .unwrap_or_else(|e| panic!("{name} on {backend}: {e}"));
        let differences = diff(&model, &live, backend);
        if !differences.is_empty() {
            failures.push(format!(
                "{name}:\n{}",
                differences
                    .iter()
                    .map(|d| format!("  {d}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        db.conn.close().await;
    }
    assert!(
        failures.is_empty(),
        "on {backend}, the live schema differs from the model:\n{}",
        failures.join("\n")
    );
}

struct CreateBlog;
impl Migration for CreateBlog {
    fn up(&self, s: &mut Schema) {
        s.create_table("users", |t| {
            t.id();
            t.string("email", 100).unique();
            t.boolean("admin").default(false);
            t.timestamps();
        });
        s.create_table("posts", |t| {
            t.id();
            t.references("users").on_delete(Cascade);
            t.string("title", 200);
            t.integer("views").default(0);
            t.json("meta").nullable();
            t.timestamp_tz("published_at").nullable();
            t.index(["title"]);
        });
    }
}

static CREATE_BLOG: CreateBlog = CreateBlog;

fn blog() -> Vec<(MigrationId, &'static dyn Migration)> {
    vec![(
        MigrationId {
            version: 20260401000100,
            name: "create_blog".into(),
        },
        &CREATE_BLOG,
    )]
}

/// Hand-made changes after `up`, each reported in one line.
async fn drift_is_reported(backend: Backend) {
    let mut db = scratch(backend, "introspect_drift").await;
    let url: DatabaseUrl = db.url().parse().unwrap_or_else(|e| panic!("{e}"));
    Runner::new(url.clone(), blog())
        .up(&Up::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let model = Catalog::new(blog())
        .model(None)
        .unwrap_or_else(|e| panic!("{e}"));

    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    assert_eq!(diff(&model, &live, backend), vec![], "right after up");
    // With another history table name, the real one is a table the migrations do not know.
    let live = live_schema(&url, "other_history", &[]).await.unwrap();
    let lines: Vec<String> = diff(&model, &live, backend)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        lines,
        ["table godwit_migrations is in the database but not in the migrations"]
    );

    let drop_index = match backend {
        Backend::MySql => "DROP INDEX idx_posts_title ON posts",
        _ => "DROP INDEX idx_posts_title",
    };
    exec(
        &mut db.conn,
        "ALTER TABLE users ADD COLUMN nickname varchar(30)",
    )
    .await;
    exec(&mut db.conn, drop_index).await;
    exec(&mut db.conn, "ALTER TABLE posts DROP COLUMN views").await;
    exec(
        &mut db.conn,
        "ALTER TABLE posts ADD COLUMN views bigint NULL",
    )
    .await;
    // A type godwit does not create is read, never an error.
    exec(&mut db.conn, "CREATE TABLE audit (code char(3))").await;

    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    let lines: Vec<String> = diff(&model, &live, backend)
        .iter()
        .map(|d| d.to_string())
        .collect();
    let (varchar, int) = match backend {
        Backend::Postgres => ("character varying(30)", "integer"),
        Backend::MySql => ("varchar(30)", "int"),
        Backend::Sqlite => ("varchar(30)", "integer"),
    };
    let users = &live.tables["users"];
    assert_eq!(
        users.column("nickname").unwrap().column_type(backend),
        Some(ColumnType::String(30))
    );
    assert_eq!(live.tables["audit"].columns[0].column_type(backend), None);
    assert_eq!(
        lines,
        [
            "table audit is in the database but not in the migrations".to_string(),
            format!(
                "column posts.views: migrations say {int} NOT NULL DEFAULT 0, the database has bigint NULL"
            ),
            "index idx_posts_title on posts is missing (migrations say (title))".to_string(),
            format!(
                "column users.nickname is in the database but not in the migrations ({varchar} NULL)"
            ),
        ],
        "on {backend}"
    );
    db.conn.close().await;
}

on_every_backend!(every_scenario_matches_its_model, drift_is_reported);
