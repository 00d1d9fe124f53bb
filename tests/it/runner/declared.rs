//! Objects that raw SQL declares (`.creates_index(..)` and its kin), on real databases:
//!
//! - after `up`, `schema --live` finds nothing to report; an object then dropped by hand is
//!   reported missing, and one made by hand and not declared is reported with the declaration
//!   that would make it known; the derived `down` drops what was declared, and the schema is
//!   then what it was before;
//! - PostgreSQL refuses to change the type of a column a view uses; lint refuses the migration
//!   before anything runs, and the way it shows (drop the view, change the column, create the
//!   view again) runs.

use godwit::prelude::*;
use godwit::runner::{DatabaseUrl, Down, DownTarget, Error, Up, diff, live_schema};
use godwit_core::{Backend, Catalog, MigrationId};

use super::{exec, on_every_backend, runner_of, scalar, scratch};

struct Blog;
impl Migration for Blog {
    fn up(&self, s: &mut Schema) {
        s.create_table("posts", |t| {
            t.id();
            t.string("title", 200);
            t.integer("views").default(0);
        });
        s.insert("posts", ["title", "views"])
            .values([Value::from("Engines"), 3.into()]);
    }
}

struct Objects;
impl Migration for Objects {
    fn up(&self, s: &mut Schema) {
        s.sql_per_backend(PerBackend {
            postgres: Some("CREATE INDEX ix_posts_lower_title ON posts (lower(title))"),
            mysql: Some("CREATE INDEX ix_posts_lower_title ON posts (title(20))"),
            sqlite: Some("CREATE INDEX ix_posts_lower_title ON posts (lower(title))"),
        })
        .creates_index("ix_posts_lower_title", "posts");
        s.sql("CREATE VIEW popular_posts AS SELECT id, title, views FROM posts WHERE views > 1")
            .creates_view("popular_posts", ["posts"]);
        s.sql_per_backend(PerBackend {
            postgres: Some(
                "CREATE TRIGGER trg_posts_noop BEFORE UPDATE ON posts FOR EACH ROW \
                 EXECUTE FUNCTION suppress_redundant_updates_trigger()",
            ),
            mysql: Some(
                "CREATE TRIGGER trg_posts_noop BEFORE UPDATE ON posts FOR EACH ROW SET @touched = 1",
            ),
            sqlite: Some("CREATE TRIGGER trg_posts_noop AFTER UPDATE ON posts BEGIN SELECT 1; END"),
        })
        .creates_trigger("trg_posts_noop", "posts");
    }
}

static BLOG: Blog = Blog;
static OBJECTS: Objects = Objects;

fn lines(d: &[godwit::runner::Difference]) -> Vec<String> {
    d.iter().map(|d| d.to_string()).collect()
}

async fn declared_objects_are_known_to_drift_and_down(backend: Backend) {
    let mut db = scratch(backend, "declared_objects").await;
    let url: DatabaseUrl = db.url().parse().unwrap();
    let migrations: [(u64, &str, &'static dyn Migration); 2] =
        [(1, "blog", &BLOG), (2, "objects", &OBJECTS)];
    let runner = runner_of(&db, &migrations);
    runner
        .up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let catalog = Catalog::new(migrations.iter().map(|(v, n, m)| {
        (
            MigrationId {
                version: *v,
                name: n.to_string(),
            },
            *m,
        )
    }));
    let model = catalog.model(None).unwrap();
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    assert_eq!(lines(&diff(&model, &live, backend)), Vec::<String>::new());
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM popular_posts").await,
        1
    );

    // By hand: the trigger and the index dropped, a view nobody declared.
    let drop_index = match backend {
        Backend::MySql => "DROP INDEX ix_posts_lower_title ON posts",
        _ => "DROP INDEX ix_posts_lower_title",
    };
    let drop_trigger = match backend {
        Backend::Postgres => "DROP TRIGGER trg_posts_noop ON posts",
        _ => "DROP TRIGGER trg_posts_noop",
    };
    exec(&mut db.conn, drop_index).await;
    exec(&mut db.conn, drop_trigger).await;
    exec(&mut db.conn, "CREATE VIEW post_ids AS SELECT id FROM posts").await;
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    assert_eq!(
        lines(&diff(&model, &live, backend)),
        [
            "view post_ids is in the database but not in the migrations; if a migration's raw SQL made it, declare it there: `.creates_view(\"post_ids\", [/* tables it reads */])`",
            "index ix_posts_lower_title on posts is missing (migrations say an index made by raw SQL)",
            "trigger trg_posts_noop on posts is missing (migrations say made by raw SQL)",
        ],
        "on {backend}"
    );

    // Made again, and rolled back by the derived down: what was declared is gone.
    exec(&mut db.conn, "DROP VIEW post_ids").await;
    let create_index = match backend {
        Backend::MySql => "CREATE INDEX ix_posts_lower_title ON posts (title(20))",
        _ => "CREATE INDEX ix_posts_lower_title ON posts (lower(title))",
    };
    exec(&mut db.conn, create_index).await;
    let create_trigger = match backend {
        Backend::Postgres => {
            "CREATE TRIGGER trg_posts_noop BEFORE UPDATE ON posts FOR EACH ROW \
             EXECUTE FUNCTION suppress_redundant_updates_trigger()"
        }
        Backend::MySql => {
            "CREATE TRIGGER trg_posts_noop BEFORE UPDATE ON posts FOR EACH ROW SET @touched = 1"
        }
        Backend::Sqlite => {
            "CREATE TRIGGER trg_posts_noop AFTER UPDATE ON posts BEGIN SELECT 1; END"
        }
    };
    exec(&mut db.conn, create_trigger).await;
    runner
        .down(&Down::new(DownTarget::Steps(1)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let before = catalog.model(Some(1)).unwrap();
    assert!(before.objects.is_empty());
    let live = live_schema(&url, "godwit_migrations", &[]).await.unwrap();
    assert_eq!(lines(&diff(&before, &live, backend)), Vec::<String>::new());
    assert!(live.objects.is_empty(), "{:?}", live.objects);
    db.conn.close().await;
}

on_every_backend!(declared_objects_are_known_to_drift_and_down);

struct ViewOfViews;
impl Migration for ViewOfViews {
    fn up(&self, s: &mut Schema) {
        s.sql("CREATE VIEW popular_posts AS SELECT id, title, views FROM posts WHERE views > 1")
            .creates_view("popular_posts", ["posts"]);
    }
}

struct WidenViews;
impl Migration for WidenViews {
    fn up(&self, s: &mut Schema) {
        s.change_column_type("posts", "views", ColumnType::BigInt);
        s.allow(Rule::TypeChangeRewrite, "posts is small");
    }
}

struct WidenViewsSafely;
impl Migration for WidenViewsSafely {
    fn up(&self, s: &mut Schema) {
        s.sql("DROP VIEW popular_posts")
            .down("CREATE VIEW popular_posts AS SELECT id, title, views FROM posts WHERE views > 1")
            .drops_view("popular_posts");
        s.allow(Rule::RawSql, "dropping a view locks no table");
        s.change_column_type("posts", "views", ColumnType::BigInt);
        s.allow(Rule::TypeChangeRewrite, "posts is small");
        s.sql("CREATE VIEW popular_posts AS SELECT id, title, views FROM posts WHERE views > 1")
            .creates_view("popular_posts", ["posts"]);
        s.allow(Rule::RawSql, "a new view: no lock, no rewrite");
    }
}

static VIEW: ViewOfViews = ViewOfViews;
static WIDEN: WidenViews = WidenViews;
static WIDEN_SAFELY: WidenViewsSafely = WidenViewsSafely;

/// PostgreSQL refuses the type change under the view; lint says so before anything runs, and
/// the way it shows runs.
#[tokio::test]
async fn postgres_type_change_under_a_view() {
    let mut db = scratch(Backend::Postgres, "declared_view_type").await;
    // The server's own refusal, which the rule exists for.
    exec(
        &mut db.conn,
        "CREATE TABLE probe (views integer); CREATE VIEW probe_view AS SELECT views FROM probe",
    )
    .await;
    let refused = match &mut db.conn {
        crate::live::db::Conn::Postgres(c) => {
            sqlx::raw_sql("ALTER TABLE probe ALTER COLUMN views TYPE bigint")
                .execute(&mut *c)
                .await
        }
        _ => unreachable!(),
    };
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("cannot alter type of a column used by a view or rule"),
        "{message}"
    );

    let setup: [(u64, &str, &'static dyn Migration); 2] = [(1, "blog", &BLOG), (2, "view", &VIEW)];
    runner_of(&db, &setup)
        .up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let unsafe_runner = runner_of(&db, &[setup[0], setup[1], (3, "widen", &WIDEN)]);
    match unsafe_runner.up(&Up::default()).await {
        Err(Error::Unsafe { findings, .. }) => {
            assert!(findings.contains("column-read-by-view"), "{findings}")
        }
        other => panic!("expected the lint to refuse the migration, got {other:?}"),
    }
    let pending = scalar(
        &mut db.conn,
        "SELECT COUNT(*) FROM godwit_migrations WHERE version = 3",
    )
    .await;
    assert_eq!(pending, 0, "nothing ran");

    let safe = runner_of(&db, &[setup[0], setup[1], (3, "widen", &WIDEN_SAFELY)]);
    safe.up(&Up::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT COUNT(*) FROM information_schema.columns \
             WHERE table_name = 'posts' AND column_name = 'views' AND data_type = 'bigint'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM popular_posts").await,
        1
    );
    // And back.
    safe.down(&Down::new(DownTarget::Steps(1)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(&mut db.conn, "SELECT COUNT(*) FROM popular_posts").await,
        1
    );
    db.conn.close().await;
}

struct RawConcurrentIndex;
impl Migration for RawConcurrentIndex {
    fn up(&self, s: &mut Schema) {
        s.sql("CREATE INDEX CONCURRENTLY ix_posts_lower_title ON posts (lower(title))")
            .creates_index("ix_posts_lower_title", "posts");
    }
}
static RAW_CONCURRENT_INDEX: RawConcurrentIndex = RawConcurrentIndex;

/// Raw SQL that says `CONCURRENTLY` (an expression index, which `add_index` does not take)
/// runs outside a transaction on PostgreSQL without being told: it used to fail with 25001.
/// A `CONCURRENTLY` in a string or a comment does not count.
#[tokio::test]
async fn postgres_raw_concurrently_runs_outside_a_transaction() {
    let mut db = scratch(Backend::Postgres, "raw_concurrently").await;
    let r = runner_of(
        &db,
        &[(1, "blog", &BLOG), (2, "index", &RAW_CONCURRENT_INDEX)],
    );
    let sql = r
        .up(&Up::default().allow_unsafe(true).dry_run(true))
        .await
        .unwrap()
        .sql
        .unwrap();
    assert!(
        sql.contains("-- 2 index (up)\n-- statement by statement, each committed as it runs"),
        "{sql}"
    );
    r.up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scalar(
            &mut db.conn,
            "SELECT count(*)::int8 FROM pg_indexes WHERE indexname = 'ix_posts_lower_title'"
        )
        .await,
        1
    );
    db.conn.close().await;
}
