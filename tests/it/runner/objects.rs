//! Enums, views, functions, triggers and comments made by the DSL, on real databases:
//!
//! - after `up`, `schema --live` finds nothing to report; then what is changed by hand is
//!   reported: a view's query, a value added to an enum (PostgreSQL's type, MySQL/MariaDB's
//!   column), a trigger dropped, a comment changed;
//! - a value removed from an enum while a row holds it fails on every backend, and the row, its
//!   value and the type are as they were;
//! - rows written into an enum column with bound values, and read back with the client.

use godwit::prelude::*;
use godwit::runner::{DatabaseUrl, Up, diff, live_schema};
use godwit_core::{Backend, Catalog, MigrationId};

use super::{exec, on_every_backend, runner_of, scalar, scratch};

struct Blog;
impl Migration for Blog {
    fn up(&self, s: &mut Schema) {
        s.create_enum("PostState", ["draft", "published", "archived"]);
        s.create_table("posts", |t| {
            t.id();
            t.string("title", 200).comment("shown in lists");
            t.integer("views").default(0);
            t.enumeration("state", "PostState").default("draft");
            t.timestamp("updated_at").default(CurrentTimestamp);
            t.comment("what the users wrote");
        });
        s.insert("posts", ["title", "views", "state"])
            .values([Value::from("Engines"), 3.into(), "published".into()])
            .values([Value::from("Compilers"), 10.into(), "archived".into()]);
        s.create_view(
            "published_posts",
            "SELECT id, title FROM posts WHERE state = 'published'",
        );
        s.create_function(
            "touch_updated_at",
            PerBackend {
                postgres: Some(
                    "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$",
                ),
                mysql: Some(""),
                sqlite: Some(""),
            },
        );
        s.create_trigger(
            "posts_touch",
            "posts",
            PerBackend {
                postgres: Some(
                    "CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW \
                     EXECUTE FUNCTION touch_updated_at()",
                ),
                mysql: Some(
                    "CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW \
                     SET NEW.updated_at = CURRENT_TIMESTAMP(6)",
                ),
                sqlite: Some(
                    "CREATE TRIGGER posts_touch AFTER UPDATE ON posts FOR EACH ROW \
                     WHEN NEW.updated_at = OLD.updated_at \
                     BEGIN UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END",
                ),
            },
        );
    }
}

struct RemoveArchived;
impl Migration for RemoveArchived {
    fn up(&self, s: &mut Schema) {
        // The view reads the column: on PostgreSQL it must go first (see `model.rs`' tests).
        s.drop_view("published_posts");
        s.remove_enum_value("PostState", "archived");
        s.create_view(
            "published_posts",
            "SELECT id, title FROM posts WHERE state = 'published'",
        );
    }
}

static BLOG: Blog = Blog;
static REMOVE_ARCHIVED: RemoveArchived = RemoveArchived;

fn lines(d: &[godwit::runner::Difference]) -> Vec<String> {
    d.iter().map(|d| d.to_string()).collect()
}

fn model_of(migrations: &[(u64, &str, &'static dyn Migration)]) -> godwit_core::SchemaModel {
    Catalog::new(migrations.iter().map(|(v, n, m)| {
        (
            MigrationId {
                version: *v,
                name: n.to_string(),
            },
            *m,
        )
    }))
    .model(None)
    .unwrap()
}

async fn hand_changes_are_drift(backend: Backend) {
    let mut db = scratch(backend, "objects_drift").await;
    let url: DatabaseUrl = db.url().parse().unwrap();
    let migrations: [(u64, &str, &'static dyn Migration); 1] = [(1, "blog", &BLOG)];
    runner_of(&db, &migrations)
        .up(&Up::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let model = model_of(&migrations);
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    assert_eq!(lines(&diff(&model, &live, backend)), Vec::<String>::new());
    // The bound values went into the enum column, and the trigger and the view work.
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM published_posts").await,
        1
    );
    exec(
        &mut db.conn,
        "UPDATE posts SET updated_at = '2000-01-01 00:00:00' WHERE id = 1",
    )
    .await;
    exec(&mut db.conn, "UPDATE posts SET views = 4 WHERE id = 1").await;
    let touched = match backend {
        Backend::Sqlite => "SELECT COUNT(*) FROM posts WHERE id = 1 AND updated_at > '2001'",
        _ => "SELECT COUNT(*) FROM posts WHERE id = 1 AND updated_at > '2001-01-01'",
    };
    assert_eq!(scalar(&mut db.conn, touched).await, 1, "on {backend}");

    // By hand: the view's query, a value added to the enum, the trigger dropped, a comment.
    let view = match backend {
        Backend::MySql => {
            "CREATE OR REPLACE VIEW published_posts AS SELECT id, title FROM posts WHERE state = 'archived'"
        }
        Backend::Postgres => {
            "CREATE OR REPLACE VIEW published_posts AS SELECT id, title FROM posts WHERE state = 'archived'"
        }
        Backend::Sqlite => {
            "DROP VIEW published_posts; CREATE VIEW published_posts AS SELECT id, title FROM posts WHERE state = 'archived'"
        }
    };
    exec(&mut db.conn, view).await;
    let (add_value, drop_trigger, comment) = match backend {
        Backend::Postgres => (
            "ALTER TYPE \"PostState\" ADD VALUE 'retracted'",
            "DROP TRIGGER posts_touch ON posts",
            Some("COMMENT ON TABLE posts IS 'by hand'"),
        ),
        Backend::MySql => (
            "ALTER TABLE posts MODIFY COLUMN state enum('draft','published','archived','retracted') NOT NULL DEFAULT 'draft'",
            "DROP TRIGGER posts_touch",
            Some("ALTER TABLE posts COMMENT = 'by hand'"),
        ),
        Backend::Sqlite => ("SELECT 1", "DROP TRIGGER posts_touch", None),
    };
    exec(&mut db.conn, add_value).await;
    exec(&mut db.conn, drop_trigger).await;
    if let Some(comment) = comment {
        exec(&mut db.conn, comment).await;
    }
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    let found = lines(&diff(&model, &live, backend));
    let expected: Vec<&str> = match backend {
        Backend::Postgres => vec![
            "the comment of table posts: migrations say 'what the users wrote', the database has 'by hand'",
            "trigger posts_touch on posts is missing (migrations say made by a migration)",
            "enum PostState: migrations say (draft, published, archived), the database has (draft, published, archived, retracted)",
            "view published_posts: migrations say SELECT id, title FROM posts WHERE state = 'published', the database has SELECT posts.id,\n    posts.title\n   FROM posts\n  WHERE (posts.state = 'archived'::\"PostState\");",
        ],
        Backend::MySql => vec![
            "column posts.state: migrations say enum('draft','published','archived') NOT NULL DEFAULT 'draft', the database has enum('draft','published','archived','retracted') NOT NULL DEFAULT 'draft'",
            "the comment of table posts: migrations say 'what the users wrote', the database has 'by hand'",
            "trigger posts_touch on posts is missing (migrations say made by a migration)",
        ],
        Backend::Sqlite => {
            vec!["trigger posts_touch on posts is missing (migrations say made by a migration)"]
        }
    };
    let view_changed = found.iter().any(|l| l.starts_with("view published_posts:"));
    assert!(
        view_changed,
        "on {backend}: the view's new query is not found: {found:#?}"
    );
    let mut found: Vec<&String> = found
        .iter()
        .filter(|l| !l.starts_with("view published_posts:") || backend == Backend::Postgres)
        .collect();
    found.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(found, expected, "on {backend}");
    db.conn.close().await;
}

async fn removing_an_enum_value_a_row_holds_fails_and_keeps_it(backend: Backend) {
    let mut db = scratch(backend, "enum_value_held").await;
    let migrations: [(u64, &str, &'static dyn Migration); 2] =
        [(1, "blog", &BLOG), (2, "remove_archived", &REMOVE_ARCHIVED)];
    let err = runner_of(&db, &migrations)
        .up(&Up::default().allow_unsafe(true))
        .await
        .expect_err("a row holds the value");
    let message = err.to_string();
    assert!(
        message.contains("remove_archived"),
        "on {backend}: {message}"
    );
    // The row and its value are there; the type still has the value.
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM posts WHERE state = 'archived' AND title = 'Compilers'"
        )
        .await,
        1,
        "on {backend}: {message}"
    );
    exec(
        &mut db.conn,
        "INSERT INTO posts (title, state) VALUES ('Later', 'archived')",
    )
    .await;
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM posts WHERE state = 'archived'"
        )
        .await,
        2,
        "on {backend}"
    );
    db.conn.close().await;
}

on_every_backend!(
    hand_changes_are_drift,
    removing_an_enum_value_a_row_holds_fails_and_keeps_it
);
