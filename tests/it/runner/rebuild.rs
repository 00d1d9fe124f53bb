//! SQLite's table rebuild keeps what the migrations do not know: indexes and triggers made with
//! raw SQL on the rebuilt table, views over it, its `AUTOINCREMENT` counter, and the foreign keys
//! into it and out of it, checked with the `sqlite3` client. (The rebuild is SQLite's alone:
//! PostgreSQL and MySQL/MariaDB alter tables in place.)

use std::process::Command;

use godwit::prelude::*;
use godwit::runner::{Down, DownTarget, Runner, Up};
use godwit_core::Backend;

use super::{exec, scratch};
use crate::live::db::Scratch;

const V1: u64 = 20260801000100;
const V2: u64 = 20260801000200;
const V3: u64 = 20260801000300;

/// Authors, posts (referencing authors), comments (referencing posts), and an audit table.
struct CreateBlog;
impl Migration for CreateBlog {
    fn up(&self, s: &mut Schema) {
        s.create_table("authors", |t| {
            t.id();
            t.string("name", 50);
        });
        s.create_table("posts", |t| {
            t.id();
            t.references("authors").on_delete(Cascade);
            t.string("title", 100);
            t.text("body").nullable();
            t.check("ck_posts_title", "length(title) > 0");
        });
        s.create_table("comments", |t| {
            t.id();
            t.references("posts").on_delete(Cascade);
            t.text("body");
        });
        s.create_table("audit", |t| {
            t.id();
            t.big_integer("post_id");
        });
    }
}

/// What the migrations do not model: an expression index, a trigger and a view, in raw SQL
/// (which `lint` flags; the tests run it with `allow_unsafe`).
struct RawObjects;
impl Migration for RawObjects {
    fn up(&self, s: &mut Schema) {
        s.sql("CREATE INDEX idx_posts_lower_title ON posts (lower(title))")
            .down("DROP INDEX idx_posts_lower_title");
        s.sql(
            "CREATE TRIGGER trg_posts_audit AFTER INSERT ON posts \
             BEGIN INSERT INTO audit (post_id) VALUES (new.id); END",
        )
        .down("DROP TRIGGER trg_posts_audit");
        s.sql("CREATE VIEW post_titles AS SELECT id, title FROM posts")
            .down("DROP VIEW post_titles");
    }
}

/// A change SQLite makes by rebuilding `posts`.
struct SetBodyDefault;
impl Migration for SetBodyDefault {
    fn up(&self, s: &mut Schema) {
        s.set_default("posts", "body", "(empty)");
    }
}

/// A rebuild that drops the column the raw trigger below names.
struct DropBody;
impl Migration for DropBody {
    fn up(&self, s: &mut Schema) {
        s.drop_column("posts", "body");
    }
    fn down(&self, s: &mut Schema) {
        s.add_column("posts", Column::text("body").nullable());
    }
}

/// An index on an expression of `posts.body`.
struct BodyIndex;
impl Migration for BodyIndex {
    fn up(&self, s: &mut Schema) {
        s.sql("CREATE INDEX idx_posts_body_length ON posts (length(body))")
            .down("DROP INDEX idx_posts_body_length");
    }
}

static BLOG: CreateBlog = CreateBlog;
static RAW: RawObjects = RawObjects;
static DEFAULT: SetBodyDefault = SetBodyDefault;
static DROP_BODY: DropBody = DropBody;
static BODY_INDEX: BodyIndex = BodyIndex;

/// A trigger that copies `posts.body` on every insert.
struct BodyTrigger;
impl Migration for BodyTrigger {
    fn up(&self, s: &mut Schema) {
        s.sql(
            "CREATE TRIGGER trg_posts_body AFTER INSERT ON posts \
             BEGIN INSERT INTO audit (post_id) SELECT new.id WHERE new.body IS NOT NULL; END",
        )
        .down("DROP TRIGGER trg_posts_body");
    }
}
static BODY_TRIGGER: BodyTrigger = BodyTrigger;

fn runner(db: &Scratch, migrations: &[(u64, &str, &'static dyn Migration)]) -> Runner {
    super::runner_of(db, migrations)
}

/// What `sqlite3` prints for `sql`, one line a row.
fn sqlite3(db: &Scratch, sql: &str) -> Vec<String> {
    let out = Command::new("sqlite3")
        .args(["-bail", "-separator", "|"])
        .arg(db.path().unwrap())
        .arg(sql)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sqlite3: {e}"));
    assert!(
        out.status.success(),
        "sqlite3 failed on `{sql}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Everything that must survive a rebuild of `posts`, as `sqlite3` reads it.
fn assert_intact(db: &Scratch, when: &str) {
    assert_eq!(
        sqlite3(
            db,
            "SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name = 'posts' \
             AND sql IS NOT NULL AND type IN ('index', 'trigger') ORDER BY 1"
        ),
        [
            "index idx_posts_author_id",
            "index idx_posts_lower_title",
            "trigger trg_posts_audit"
        ],
        "{when}: the indexes and triggers on posts"
    );
    assert_eq!(
        sqlite3(db, "SELECT count(*) FROM post_titles"),
        ["2"],
        "{when}: the view"
    );
    assert_eq!(
        sqlite3(db, "SELECT seq FROM sqlite_sequence WHERE name = 'posts'"),
        ["3"],
        "{when}: the AUTOINCREMENT counter (post 3 was deleted: its id is not handed out again)"
    );
    assert_eq!(
        sqlite3(db, "SELECT count(*) FROM comments"),
        ["2"],
        "{when}: the comments that reference posts"
    );
    assert!(
        sqlite3(db, "PRAGMA foreign_key_check").is_empty(),
        "{when}: foreign_key_check"
    );
    assert_eq!(
        sqlite3(db, "PRAGMA integrity_check"),
        ["ok"],
        "{when}: integrity_check"
    );
}

/// Three posts by one author (the trigger audits each), two comments, and post 3 deleted.
async fn fill(db: &mut Scratch) {
    exec(&mut db.conn, "INSERT INTO authors (name) VALUES ('ursula')").await;
    exec(
        &mut db.conn,
        "INSERT INTO posts (author_id, title, body) VALUES (1, 'One', 'a'), (1, 'Two', NULL), (1, 'Three', 'c')",
    )
    .await;
    exec(
        &mut db.conn,
        "INSERT INTO comments (post_id, body) VALUES (1, 'x'), (2, 'y')",
    )
    .await;
    exec(&mut db.conn, "DELETE FROM posts WHERE id = 3").await;
}

#[tokio::test]
async fn sqlite_rebuild_keeps_raw_indexes_triggers_views_and_the_counter() {
    let mut db = scratch(Backend::Sqlite, "rebuild_keeps").await;
    let all = [
        (V1, "create_blog", &BLOG as &'static dyn Migration),
        (V2, "raw_objects", &RAW),
        (V3, "set_body_default", &DEFAULT),
    ];
    let r = runner(&db, &all);
    r.up(&Up::default().allow_unsafe(true).to(Some(V2)))
        .await
        .unwrap();
    fill(&mut db).await;
    assert_intact(&db, "before the rebuild");

    // The dry run says what the rebuild keeps, where it keeps it.
    let sql = r
        .up(&Up::default().dry_run(true))
        .await
        .unwrap()
        .sql
        .unwrap();
    let keep = sql
        .find("-- keep the indexes and triggers on \"posts\"")
        .unwrap_or_else(|| panic!("{sql}"));
    let drop = sql.find("DROP TABLE \"posts\"").unwrap();
    let again = sql
        .find("-- create again what was kept of \"posts\"")
        .unwrap();
    assert!(keep < drop && drop < again, "{sql}");

    r.up(&Up::default()).await.unwrap();
    assert_intact(&db, "after the rebuild");
    assert_eq!(
        sqlite3(
            &db,
            "SELECT dflt_value FROM pragma_table_info('posts') WHERE name = 'body'"
        ),
        ["'(empty)'"]
    );
    // A new post gets id 4, and the trigger still audits it.
    exec(
        &mut db.conn,
        "INSERT INTO posts (author_id, title) VALUES (1, 'Four')",
    )
    .await;
    assert_eq!(sqlite3(&db, "SELECT max(id) FROM posts"), ["4"]);
    assert_eq!(
        sqlite3(&db, "SELECT group_concat(post_id) FROM audit"),
        ["1,2,3,4"]
    );
    exec(&mut db.conn, "DELETE FROM posts WHERE id = 4").await;

    // And back: the derived down rebuilds the table again.
    r.down(&Down::new(DownTarget::Steps(1))).await.unwrap();
    assert_eq!(
        sqlite3(&db, "SELECT seq FROM sqlite_sequence WHERE name = 'posts'"),
        ["4"]
    );
    exec(
        &mut db.conn,
        "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'posts'",
    )
    .await;
    assert_intact(&db, "after the rollback");
}

#[tokio::test]
async fn sqlite_rebuild_refuses_a_raw_index_that_no_longer_fits_and_changes_nothing() {
    let (db, err) = drop_body_under(&BODY_INDEX, "rebuild_refuses").await;
    assert!(
        err.contains(
            "the index `idx_posts_body_length` on `posts`, made outside the migrations, cannot \
             be created again after the table was rebuilt"
        ) && err.contains("s.sql(\"DROP INDEX idx_posts_body_length\")"),
        "{err}"
    );
    assert!(err.contains("it was rolled back"), "{err}");
    assert_eq!(
        sqlite3(
            &db,
            "SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'body'"
        ),
        ["1"],
        "the column is still there"
    );
    assert_eq!(
        sqlite3(
            &db,
            "SELECT name FROM sqlite_master WHERE tbl_name = 'posts' AND name LIKE '%\\_%' \
             ESCAPE '\\' AND sql IS NOT NULL ORDER BY name"
        ),
        [
            "idx_posts_author_id",
            "idx_posts_body_length",
            "idx_posts_lower_title",
            "trg_posts_audit"
        ]
    );
    assert_still_there(&db);
}

/// The blog with its raw objects, `raw` (which names `posts.body`) and the rows of [`fill`];
/// then `up` of the migration that drops `body`, which must fail: the database and the error.
async fn drop_body_under(raw: &'static dyn Migration, label: &str) -> (Scratch, String) {
    let mut db = scratch(Backend::Sqlite, label).await;
    let all = [
        (V1, "create_blog", &BLOG as &'static dyn Migration),
        (V2, "raw_objects", &RAW),
        (V2 + 1, "body_raw", raw),
        (V3, "drop_body", &DROP_BODY),
    ];
    let r = runner(&db, &all);
    r.up(&Up::default().allow_unsafe(true).to(Some(V2 + 1)))
        .await
        .unwrap();
    fill(&mut db).await;
    let err = r
        .up(&Up::default().allow_unsafe(true))
        .await
        .unwrap_err()
        .to_string();
    (db, err)
}

/// The view, the counter and the file's integrity.
fn assert_still_there(db: &Scratch) {
    assert_eq!(sqlite3(db, "SELECT count(*) FROM post_titles"), ["2"]);
    assert_eq!(
        sqlite3(db, "SELECT seq FROM sqlite_sequence WHERE name = 'posts'"),
        ["3"]
    );
    assert_eq!(sqlite3(db, "PRAGMA integrity_check"), ["ok"]);
}

/// SQLite creates a trigger whatever columns it names; the rebuild prepares a statement that
/// fires it, so that one naming a dropped column stops the migration rather than every later
/// insert.
#[tokio::test]
async fn sqlite_rebuild_refuses_a_raw_trigger_that_no_longer_fits_and_changes_nothing() {
    let (mut db, err) = drop_body_under(&BODY_TRIGGER, "rebuild_refuses_trigger").await;
    assert!(
        err.contains(
            "a trigger on `posts` made outside the migrations (of `trg_posts_audit`, \
             `trg_posts_body`) no longer fits the table after it was rebuilt"
        ) && err.contains("new.body"),
        "{err}"
    );
    assert!(err.contains("it was rolled back"), "{err}");
    assert_eq!(
        sqlite3(
            &db,
            "SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'body'"
        ),
        ["1"],
        "the column is still there"
    );
    // And the trigger still works on the table as it is.
    exec(
        &mut db.conn,
        "INSERT INTO posts (author_id, title, body) VALUES (1, 'Four', 'd')",
    )
    .await;
    // Both triggers fire for each post with a body (1, 3 and 4), one for post 2.
    assert_eq!(
        sqlite3(
            &db,
            "SELECT group_concat(post_id) FROM (SELECT post_id FROM audit ORDER BY post_id)"
        ),
        ["1,1,2,3,3,4,4"]
    );
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check"), ["ok"]);
}

/// A trigger on updates of `posts.body` only.
struct BodyUpdateTrigger;
impl Migration for BodyUpdateTrigger {
    fn up(&self, s: &mut Schema) {
        s.sql(
            "CREATE TRIGGER trg_posts_body_edit AFTER UPDATE OF body ON posts \
             BEGIN INSERT INTO audit (post_id) VALUES (new.id); END",
        )
        .down("DROP TRIGGER trg_posts_body_edit");
    }
}
static BODY_UPDATE_TRIGGER: BodyUpdateTrigger = BodyUpdateTrigger;

/// A trigger `UPDATE OF` a dropped column would be created again and never fire: refused.
#[tokio::test]
async fn sqlite_rebuild_refuses_a_trigger_on_updates_of_a_dropped_column() {
    let (db, err) = drop_body_under(&BODY_UPDATE_TRIGGER, "rebuild_refuses_update_of").await;
    assert!(
        err.contains(
            "the trigger `trg_posts_body_edit` on `posts`, made outside the migrations, fires on \
             updates of `body`, which the rebuilt table no longer has"
        ),
        "{err}"
    );
    assert!(err.contains("it was rolled back"), "{err}");
    assert_eq!(
        sqlite3(
            &db,
            "SELECT count(*) FROM pragma_table_info('posts') WHERE name = 'body'"
        ),
        ["1"],
        "the column is still there"
    );
    assert_still_there(&db);
}

/// Three changes SQLite makes by rebuilding `posts`, in one migration.
struct SeveralChanges;
impl Migration for SeveralChanges {
    fn up(&self, s: &mut Schema) {
        s.set_default("posts", "body", "(empty)");
        s.change_column_type("posts", "title", ColumnType::String(200));
        s.add_check("posts", "ck_posts_title_short", "length(title) < 200");
    }
}
static SEVERAL: SeveralChanges = SeveralChanges;

/// Several operations on one table in one migration rebuild it once (and so does their derived
/// down), keeping everything [`assert_intact`] checks; a database whose history has the
/// checksum of the rendering that rebuilt it once per operation keeps the migration `applied`.
#[tokio::test]
async fn sqlite_several_changes_to_one_table_rebuild_it_once() {
    use godwit::runner::State;
    let mut db = scratch(Backend::Sqlite, "rebuild_once").await;
    let all = [
        (V1, "create_blog", &BLOG as &'static dyn Migration),
        (V2, "raw_objects", &RAW),
        (V3, "several_changes", &SEVERAL),
    ];
    let r = runner(&db, &all);
    r.up(&Up::default().allow_unsafe(true).to(Some(V2)))
        .await
        .unwrap();
    fill(&mut db).await;

    let rebuilds = |sql: &str| sql.matches("DROP TABLE \"posts\"").count();
    let up_sql = r
        .up(&Up::default().dry_run(true))
        .await
        .unwrap()
        .sql
        .unwrap();
    assert_eq!(rebuilds(&up_sql), 1, "{up_sql}");
    let earlier = r
        .catalog()
        .render_up_earlier(
            godwit_core::render::EarlierRendering::RebuildPerOperation,
            Backend::Sqlite,
            Some(&[V3]),
        )
        .unwrap();
    let earlier_sql: String = earlier[0]
        .statements
        .iter()
        .map(|s| format!("{};\n", s.preview))
        .collect();
    assert_eq!(rebuilds(&earlier_sql), 3, "{earlier_sql}");

    r.up(&Up::default()).await.unwrap();
    assert_intact(&db, "after one rebuild");
    assert_eq!(
        sqlite3(
            &db,
            "SELECT type FROM pragma_table_info('posts') WHERE name = 'title' \
             UNION ALL SELECT dflt_value FROM pragma_table_info('posts') WHERE name = 'body' \
             UNION ALL SELECT instr(sql, 'ck_posts_title_short') > 0 FROM sqlite_master WHERE name = 'posts'"
        ),
        ["varchar(200)", "'(empty)'", "1"]
    );

    // History written by the godwit that rebuilt once per operation: still `applied`.
    exec(
        &mut db.conn,
        &format!(
            "UPDATE godwit_migrations SET checksum = '{}' WHERE version = {V3}",
            godwit::runner::checksum(&earlier[0])
        ),
    )
    .await;
    let status = r.status().await.unwrap();
    assert!(
        status.migrations.iter().all(|m| m.state == State::Applied),
        "{:?}",
        status.migrations
    );

    let down = r
        .down(&Down::new(DownTarget::Steps(1)).dry_run(true))
        .await
        .unwrap()
        .sql
        .unwrap();
    assert_eq!(rebuilds(&down), 1, "{down}");
    r.down(&Down::new(DownTarget::Steps(1))).await.unwrap();
    assert_intact(&db, "after the rollback");
    assert_eq!(
        sqlite3(
            &db,
            "SELECT type FROM pragma_table_info('posts') WHERE name = 'title'"
        ),
        ["varchar(100)"]
    );
}
