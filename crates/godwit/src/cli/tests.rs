//! The command line, run in-process with registrations made up for each test.

use expect_test::{Expect, expect};
use time::macros::datetime;

use super::*;
use crate::prelude::*;
use crate::{ManifestLine, MigrationId, RenderedMigration, Statement};

struct CreateUsers;
impl Migration for CreateUsers {
    fn up(&self, s: &mut Schema) {
        s.create_table("users", |t| {
            t.id();
            t.string("email", 255).unique();
        });
    }
}

struct CreatePosts;
impl Migration for CreatePosts {
    fn up(&self, s: &mut Schema) {
        s.create_table("posts", |t| {
            t.id();
            t.references_as("author_id", "users");
            t.string("title", 200);
        });
    }
}

struct AddViews;
impl Migration for AddViews {
    fn up(&self, s: &mut Schema) {
        s.add_column("posts", Column::integer("views").default(0));
    }
}

struct Purge;
impl Migration for Purge {
    fn up(&self, s: &mut Schema) {
        s.irreversible("deletes spam posts");
        s.delete("posts").filter(Expr::col("title").eq("spam"));
    }
}

const DIR: &str = "/work/blog";

fn reg(
    file: &'static str,
    type_name: &'static str,
    migration: &'static dyn Migration,
) -> Registration {
    Registration {
        file,
        type_name,
        migration,
    }
}

fn blog() -> Vec<Registration> {
    vec![
        reg(
            "/work/blog/src/migrations/m20261121_080000_add_views.rs",
            "AddViews",
            &AddViews,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_users.rs",
            "CreateUsers",
            &CreateUsers,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090500_create_posts.rs",
            "CreatePosts",
            &CreatePosts,
        ),
    ]
}

const FILES: &[&str] = &[
    "/work/blog/src/migrations/m20261120_090000_create_users.rs",
    "/work/blog/src/migrations/m20261120_090500_create_posts.rs",
    "/work/blog/src/migrations/m20261121_080000_add_views.rs",
];

const PROJECT: Project = Project {
    name: "blog-migrations",
    manifest_dir: DIR,
    files: FILES,
};

fn cx<'a>(project: &'a Project, registrations: &'a [Registration]) -> Context<'a> {
    Context {
        project,
        registrations,
        database_url: None,
        cwd: Some("/work".into()),
        now: datetime!(2026-11-22 10:30:05 UTC),
        color: false,
    }
}

/// Run `args` and give what it printed, or its errors one per line.
fn run_str(cx: &Context<'_>, args: &[&str]) -> String {
    let mut out = Vec::new();
    let args = std::iter::once("blog-migrations").chain(args.iter().copied());
    match run(cx, args, &mut out) {
        Ok(()) => String::from_utf8(out).unwrap(),
        Err(Failure::Usage(e)) => format!("usage ({}): {:?}", e.exit_code(), e.kind()),
        Err(Failure::Errors(errors)) => errors.iter().map(|e| format!("error: {e:#}\n")).collect(),
        Err(Failure::Exit { code, errors }) => errors
            .iter()
            .map(|e| format!("error ({code}): {e:#}\n"))
            .collect(),
    }
}

fn check(cx: &Context<'_>, args: &[&str], expect: Expect) {
    expect.assert_eq(&run_str(cx, args));
}

/// The comment lines of `sql`'s output: what stays true whatever SQL the renderer writes.
fn headers(output: &str) -> String {
    output
        .lines()
        .filter(|l| l.starts_with("--") || l.starts_with("error"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn sql_heads_every_migration_in_version_order() {
    let regs = blog();
    let out = run_str(&cx(&PROJECT, &regs), &["sql", "--backend", "postgres"]);
    expect![[r#"
        -- 3 migrations, up, for PostgreSQL
        -- 20261120090000 create_users (up)
        -- 20261120090500 create_posts (up)
        -- 20261121080000 add_views (up)
    "#]]
    .assert_eq(&headers(&out));
}

#[test]
fn sql_down_goes_newest_first_and_selects_by_version_or_file_name() {
    let regs = blog();
    let cx = cx(&PROJECT, &regs);
    let out = run_str(&cx, &["sql", "--down", "-b", "mysql"]);
    expect![[r#"
        -- 3 migrations, down, for MySQL/MariaDB
        -- 20261121080000 add_views (down)
        -- 20261120090500 create_posts (down)
        -- 20261120090000 create_users (down)
    "#]]
    .assert_eq(&headers(&out));
    let out = run_str(
        &cx,
        &["sql", "20261121080000", "m20261120_090000_create_users"],
    );
    expect![[r#"
        -- 2 migrations, up, for SQLite
        -- 20261120090000 create_users (up)
        -- 20261121080000 add_views (up)
    "#]]
    .assert_eq(&headers(&out));
}

#[test]
fn sql_backend_defaults_to_database_url_then_sqlite() {
    let regs = blog();
    let mut cx = cx(&PROJECT, &regs);
    assert_eq!(cx.database_url(), "sqlite:///work/blog/dev.db?mode=rwc");
    assert!(run_str(&cx, &["sql"]).starts_with("-- 3 migrations, up, for SQLite\n"));
    cx.database_url = Some("postgres://localhost/blog".into());
    assert!(run_str(&cx, &["sql"]).starts_with("-- 3 migrations, up, for PostgreSQL\n"));
    cx.database_url = Some("mariadb://localhost/blog".into());
    assert!(run_str(&cx, &["sql"]).starts_with("-- 3 migrations, up, for MySQL/MariaDB\n"));
    cx.database_url = Some("oracle://localhost/blog".into());
    check(
        &cx,
        &["sql"],
        expect![[r#"
            error: DATABASE_URL has the scheme `oracle`, which names no backend: use postgres://, mysql://, mariadb:// or sqlite:, or pass --backend
        "#]],
    );
    assert!(run_str(&cx, &["sql", "--backend", "sqlite"]).starts_with("-- 3 migrations"));
}

#[test]
fn sql_refuses_unknown_versions_and_backends() {
    let regs = blog();
    let cx = cx(&PROJECT, &regs);
    check(
        &cx,
        &["sql", "20261120090001"],
        expect![[r#"
            error: no migration has version 20261120090001 (the 3 migrations run from 20261120090000 to 20261121080000): check the version against the file names in `blog/src/migrations`
        "#]],
    );
    check(
        &cx,
        &["sql", "create_users"],
        expect!["usage (2): ValueValidation"],
    );
    check(
        &cx,
        &["sql", "--backend", "oracle"],
        expect!["usage (2): InvalidValue"],
    );
    check(
        &cx,
        &[],
        expect!["usage (2): DisplayHelpOnMissingArgumentOrSubcommand"],
    );
    check(&cx, &["--help"], expect!["usage (0): DisplayHelp"]);
}

#[test]
fn sql_down_of_an_irreversible_migration_is_an_error_naming_it() {
    let mut regs = blog();
    regs.push(reg(
        "/work/blog/src/migrations/m20261122_000000_purge_spam.rs",
        "Purge",
        &Purge,
    ));
    let files = [
        FILES,
        &["/work/blog/src/migrations/m20261122_000000_purge_spam.rs"],
    ]
    .concat();
    let files: &'static [&'static str] = Vec::leak(files);
    let project = Project { files, ..PROJECT };
    let cx = cx(&project, &regs);
    check(
        &cx,
        &["sql", "--down", "20261122000000"],
        expect![[r#"
            error: cannot write the SQLite SQL: migration 20261122000000 purge_spam (down): cannot be rolled back: it is marked irreversible ("deletes spam posts"); roll back no further than the migration after it
        "#]],
    );
    // Its `up` is fine.
    assert!(
        run_str(&cx, &["sql", "20261122000000"]).contains("-- 20261122000000 purge_spam (up)\n")
    );
}

#[test]
fn registry_errors_name_the_files_and_are_all_reported() {
    let regs = vec![
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_users.rs",
            "CreateUsers",
            &CreateUsers,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_users.rs",
            "CreateUsers",
            &CreateUsers,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_posts.rs",
            "CreatePosts",
            &CreatePosts,
        ),
        reg(
            "/work/blog/src/migrations/m20261121_080000_add_views.rs",
            "AddViews",
            &AddViews,
        ),
        reg(
            "/work/blog/src/migrations/m20261121_080000_add_views.rs",
            "Purge",
            &Purge,
        ),
        reg(
            "/work/blog/src/migrations/m20261399_000000_bad_date.rs",
            "Purge",
            &Purge,
        ),
    ];
    let files: &'static [&'static str] = &[
        "/work/blog/src/migrations/m20261120_090000_create_posts.rs",
        "/work/blog/src/migrations/m20261120_090000_create_users.rs",
        "/work/blog/src/migrations/m20261121_080000_add_views.rs",
        "/work/blog/src/migrations/m20261123_000000_forgotten.rs",
    ];
    let project = Project { files, ..PROJECT };
    check(
        &cx(&project, &regs),
        &["sql"],
        expect![[r#"
            error: `blog/src/migrations/m20261120_090000_create_users.rs` (`CreateUsers`) is compiled into the binary twice: declare the migrations once, with `godwit::migrations!();` in src/lib.rs and `godwit::main!();` alone in src/main.rs
            error: `blog/src/migrations/m20261121_080000_add_views.rs` registers two migrations (`AddViews` and `Purge`): keep one `register!` per file and move the other into a file of its own
            error: malformed migration file name: `m20261399_000000_bad_date.rs` has an impossible date or time `20261399_000000`: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`; rename the file
            error: two migrations have version 20261120090000: `blog/src/migrations/m20261120_090000_create_posts.rs` and `blog/src/migrations/m20261120_090000_create_users.rs`; give one of them a later timestamp in its file name
            error: `blog/src/migrations/m20261123_000000_forgotten.rs` registers no migration: end it with `godwit::register!(TheMigration);`, naming the type that implements `Migration`
        "#]],
    );
}

#[test]
fn no_registration_at_all_points_at_the_migrations_macro() {
    check(
        &cx(&PROJECT, &[]),
        &["sql"],
        expect![[r#"
            error: none of the 3 files in `blog/src/migrations` registered a migration: is `godwit::migrations!();` in src/lib.rs, and does each file end with `godwit::register!(TheMigration);`?
        "#]],
    );
}

#[test]
fn write_migration_ends_statements_and_prints_notes() {
    let m = RenderedMigration {
        id: MigrationId {
            version: 20261120090000,
            name: "index_posts".into(),
        },
        direction: "up",
        statements: vec![
            Statement {
                sql: "CREATE INDEX CONCURRENTLY \"idx\" ON \"posts\" (\"title\")".into(),
                values: sea_query::Values(Vec::new()),
                preview: "CREATE INDEX CONCURRENTLY \"idx\" ON \"posts\" (\"title\")".into(),
                data: None,
            },
            Statement {
                sql: "INSERT INTO \"tags\" (\"name\") VALUES ($1)".into(),
                values: sea_query::Values(vec!["rust".into()]),
                preview: "INSERT INTO \"tags\" (\"name\") VALUES ('rust');\n".into(),
                data: None,
            },
        ],
        transactional: false,
        foreign_keys_off: true,
        warnings: vec!["rolling back drops `posts.views` and its data".into()],
        timeouts: Default::default(),
    };
    let mut out = Vec::new();
    sql::write_migration(&mut out, &m).unwrap();
    expect![[r#"
        -- 20261120090000 index_posts (up)
        -- runs outside a transaction
        -- runs with foreign key checks off (PRAGMA foreign_keys = OFF): it rebuilds a table
        -- warning: rolling back drops `posts.views` and its data
        CREATE INDEX CONCURRENTLY "idx" ON "posts" ("title");
        INSERT INTO "tags" ("name") VALUES ('rust');
    "#]]
    .assert_eq(&String::from_utf8(out).unwrap());
}

#[test]
fn parse_version_accepts_numbers_stamps_and_file_names() {
    let ok = |s| sql::parse_version(s).unwrap();
    assert_eq!(ok("20261120090000"), 20261120090000);
    assert_eq!(ok("20261120_090000"), 20261120090000);
    assert_eq!(ok("m20261120_090000_create_tags"), 20261120090000);
    assert_eq!(
        ok("src/migrations/m20261120_090000_create_tags.rs"),
        20261120090000
    );
    assert!(sql::parse_version("create_tags").is_err());
    assert!(sql::parse_version("m2026_create_tags").is_err());
}

#[test]
fn names_come_from_the_description() {
    let names = |d| Names::from_description(d).map(|n| format!("{} {}", n.snake, n.struct_name));
    assert_eq!(
        names("Add tags to posts").unwrap(),
        "add_tags_to_posts AddTagsToPosts"
    );
    assert_eq!(
        names("  add user's e-mail  ").unwrap(),
        "add_users_e_mail AddUsersEMail"
    );
    assert_eq!(
        names("Index posts.published_at").unwrap(),
        "index_posts_published_at IndexPostsPublishedAt"
    );
    assert_eq!(
        names("add 2FA to users").unwrap(),
        "add_2fa_to_users Add2faToUsers"
    );
    assert_eq!(names("self").unwrap(), "self SelfMigration");
    let err = |d| format!("{:#}", Names::from_description(d).unwrap_err());
    expect![
        "the description is empty: say what the migration does, such as `new \"Add tags to posts\"`"
    ]
    .assert_eq(&err("  "));
    expect!["the description `?!` has no letters: say what the migration does, such as `new \"Add tags to posts\"`"]
        .assert_eq(&err("?!"));
    expect!["the description `2fa for users` starts with `2`: it becomes a Rust type name, so start it with a letter, such as `new \"Add 2fa to users\"`"]
        .assert_eq(&err("2fa for users"));
    expect!["the description `Ajouter les catégories` contains `é`: it becomes the file and type name, so write it with ASCII letters, digits and spaces"]
        .assert_eq(&err("Ajouter les catégories"));
}

#[test]
fn new_writes_a_template_named_after_the_description_and_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &'static str = String::leak(tmp.path().to_str().unwrap().to_string());
    let project = Project {
        name: "blog-migrations",
        manifest_dir: dir,
        files: &[],
    };
    let mut cx = cx(&project, &[]);
    cx.cwd = Some(tmp.path().to_path_buf());
    check(
        &cx,
        &["new", "Add tags to posts"],
        expect![[r#"
            created src/migrations/m20261122_103005_add_tags_to_posts.rs (struct AddTagsToPosts); the next build picks it up
            updated `migrations.sum`; once the migration is written, run `check --write` and commit both
        "#]],
    );
    let written = std::fs::read_to_string(
        tmp.path()
            .join("src/migrations/m20261122_103005_add_tags_to_posts.rs"),
    )
    .unwrap();
    expect![[r#"
        //! Add tags to posts.
        //!
        //! Why: say what needs this change, for the reviewers and for whoever has to roll it back.

        use godwit::prelude::*;

        pub struct AddTagsToPosts;

        impl Migration for AddTagsToPosts {
            fn up(&self, s: &mut Schema) {
                // Record the change; for example:
                //
                // s.create_table("tags", |t| {
                //     t.id();
                //     t.string("name", 50).unique();
                //     t.timestamps();
                // });
                // s.add_column("posts", Column::integer("views").default(0));
                let _ = s;
            }

            // Without a `down`, the rollback is derived by reversing `up`.
        }

        godwit::register!(AddTagsToPosts);
    "#]]
    .assert_eq(&written);
}

#[test]
fn new_refuses_to_overwrite_or_to_reuse_a_version() {
    let tmp = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-22 10:30:05 UTC);
    let (first, _) = new_migration(tmp.path(), "Add tags", now).unwrap();
    let err = new_migration(tmp.path(), "Add tags", now).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "`{}` already exists: refusing to overwrite it; wait a second and run `new` again",
            first.display()
        )
    );
    let err = new_migration(tmp.path(), "Add views", now).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "`{}` already has version 20261122103005: two migrations cannot share a version; wait a second and run `new` again",
            first.display()
        )
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    // A second later is fine.
    new_migration(tmp.path(), "Add views", datetime!(2026-11-22 10:30:06 UTC)).unwrap();
    // And nothing is written for a bad description.
    assert!(new_migration(tmp.path(), "", now).is_err());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
}

#[test]
fn register_collects_through_inventory() {
    // The migrations registered in this test binary (see `registered` below).
    let regs = crate::registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0].type_name, "registered::Registered");
    assert!(
        regs[0].file.ends_with("src/cli/tests.rs"),
        "{}",
        regs[0].file
    );
}

mod registered {
    use crate::prelude::*;

    pub struct Registered;
    impl Migration for Registered {
        fn up(&self, _: &mut Schema) {}
    }
}

crate::register!(registered::Registered);

#[test]
fn lint_exits_5_on_unsafe_operations_and_0_when_clean() {
    let registrations = blog();
    let cx = cx(&PROJECT, &registrations);
    check(
        &cx,
        &["lint", "--backend", "postgres"],
        expect![[r#"
            0 unsafe, 0 allowed, in 3 migration(s) on PostgreSQL
        "#]],
    );
    check(
        &cx,
        &["lint", "--backend", "mysql"],
        expect![[r#"
        error (5): 1 operation(s) are unsafe on MySQL/MariaDB: do them the safe way shown, or allow each with `s.allow(Rule::..., "why")` after it
    "#]],
    );
}

struct DropTitle;
impl Migration for DropTitle {
    fn up(&self, s: &mut Schema) {
        s.lock_timeout(Duration::from_secs(2));
        s.lock_retries(1);
        s.drop_column("posts", "title");
        s.allow(Rule::DropColumn, "nothing reads titles since release 41");
    }
}

struct Broken;
impl Migration for Broken {
    fn up(&self, s: &mut Schema) {
        s.add_column("missing", Column::text("note").nullable());
    }
}

/// The blog, then `extra` migrations (file stem, type name, migration) in that order.
fn blog_with(extra: &[(&'static str, &'static str, &'static dyn Migration)]) -> Project {
    let mut files = FILES.to_vec();
    for (stem, _, _) in extra {
        files.push(Box::leak(
            format!("/work/blog/src/migrations/{stem}.rs").into_boxed_str(),
        ));
    }
    Project {
        files: Vec::leak(files),
        ..PROJECT
    }
}

fn registrations_with(
    extra: &[(&'static str, &'static str, &'static dyn Migration)],
) -> Vec<Registration> {
    let mut regs = blog();
    for (stem, type_name, migration) in extra {
        let file: &'static str =
            Box::leak(format!("/work/blog/src/migrations/{stem}.rs").into_boxed_str());
        regs.push(reg(file, type_name, *migration));
    }
    regs
}

const CONTRACT: &[(&str, &str, &dyn Migration)] = &[
    ("m20261122_000000_purge_spam", "Purge", &Purge),
    ("m20261123_000000_drop_title", "DropTitle", &DropTitle),
];

#[test]
fn plan_all_is_a_checklist_per_migration_without_a_database() {
    let project = blog_with(CONTRACT);
    let regs = registrations_with(CONTRACT);
    let cx = cx(&project, &regs);
    check(
        &cx,
        &["plan", "--all", "--backend", "postgres"],
        expect![[r#"
            deploy plan for PostgreSQL, every migration (no database): 5 migrations

            20261120090000 create_users
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("users")
                locks: ACCESS EXCLUSIVE on users (new, empty)
                CREATE TABLE "users" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "email" varchar(255) NOT NULL, CONSTRAINT "uq_users_email" UNIQUE ("email") );

            20261120090500 create_posts
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("posts")
                locks: ACCESS EXCLUSIVE on posts (new, empty), SHARE ROW EXCLUSIVE on users
                CREATE TABLE "posts" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "author_id" bigint NOT NULL, "title" varchar(200) NOT NULL, CONSTRAINT "fk_posts_author_id" FOREIGN KEY ("author_id") REFERENCES "users" ("id") );
                CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");

            20261121080000 add_views
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("posts", "views")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" ADD COLUMN "views" integer NOT NULL DEFAULT 0;

            20261122000000 purge_spam
              transaction: yes
              change: destructive (deploy after the code stops using what it removes)
              reversible: no: it is marked irreversible ("deletes spam posts"); roll back no further than the migration after it
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 delete("posts")
                locks: ROW EXCLUSIVE on posts
                DELETE FROM "posts" WHERE "title" = 'spam';

            20261123000000 drop_title
              transaction: yes
              change: destructive (deploy after the code stops using what it removes)
              reversible: yes
              timeouts: lock 2s (set by the migration), statement 1h, 1 lock retry (set by the migration)
              #1 drop_column("posts", "title")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" DROP COLUMN "title";
              allowed[drop-column] #1 drop_column("posts", "title"): nothing reads titles since release 41

            5 migrations: 3 additive, 2 destructive, 0 unknown; 0 unsafe findings, 1 allowed; 1 irreversible
            order: apply up to 20261121080000 add_views (`up --to 20261121080000`) before the code deploy; apply the destructive migrations (20261122000000, 20261123000000) only after the code that stops using what they remove is deployed
        "#]],
    );
}

#[test]
fn plan_all_json() {
    let project = blog_with(CONTRACT);
    let regs = registrations_with(CONTRACT);
    let cx = cx(&project, &regs);
    let out = run_str(&cx, &["plan", "--all", "-b", "mysql", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The last migration whole, and the summary.
    check_json(
        &json["migrations"][4],
        expect![[r#"
            {
              "change": "destructive",
              "findings": [
                {
                  "allowed": true,
                  "operation": "drop_column(\"posts\", \"title\")",
                  "reason": "nothing reads titles since release 41",
                  "risk": "code that still reads `posts.title` fails as soon as it is gone, and its values are lost",
                  "rule": "drop-column",
                  "safe": "// 1. deploy code that no longer uses `posts.title`\n// 2. then, in a later migration:\ns.drop_column(\"posts\", \"title\");\ns.allow(Rule::DropColumn, \"unused since release N\");",
                  "step": 1
                },
                {
                  "allowed": false,
                  "operation": "drop_column(\"posts\", \"title\")",
                  "reason": null,
                  "risk": "without ALGORITHM and LOCK, MySQL may copy the table or block writes without saying so",
                  "rule": "mysql-online-ddl",
                  "safe": "// MySQL then refuses, rather than locking, when it cannot do it online:\ns.mysql_online(Algorithm::Inplace, Lock::None);",
                  "step": 1
                }
              ],
              "in_parts": false,
              "irreversible_reason": null,
              "name": "drop_title",
              "reversible": true,
              "steps": [
                {
                  "change": "destructive",
                  "locks": [
                    "metadata lock on posts (and a copy or write lock unless ALGORITHM/LOCK say otherwise)"
                  ],
                  "operation": "drop_column(\"posts\", \"title\")",
                  "sql": [
                    "ALTER TABLE `posts` DROP COLUMN `title`"
                  ],
                  "step": 1
                }
              ],
              "timeouts": {
                "lock_ms": 2000,
                "lock_retries": 1,
                "set_by_migration": [
                  "lock",
                  "lock_retries"
                ],
                "statement_ms": 3600000
              },
              "transactional": false,
              "version": 20261123000000,
              "warnings": []
            }
        "#]],
    );
    check_json(
        &json["summary"],
        expect![[r#"
        {
          "additive": 3,
          "allowed": 1,
          "destructive": 2,
          "irreversible": 1,
          "migrations": 5,
          "order": "apply up to 20261121080000 add_views (`up --to 20261121080000`) before the code deploy; apply the destructive migrations (20261122000000, 20261123000000) only after the code that stops using what they remove is deployed",
          "unknown": 0,
          "unsafe": 2
        }
    "#]],
    );
    assert_eq!(json["backend"], "mysql");
    assert_eq!(json["database"], serde_json::Value::Null);
    assert_eq!(json["migrations"].as_array().unwrap().len(), 5);
}

fn check_json(value: &serde_json::Value, expect: Expect) {
    expect.assert_eq(&format!("{value:#}\n"));
}

#[test]
fn plan_backend_is_for_all_only() {
    let regs = blog();
    let cx = cx(&PROJECT, &regs);
    check(
        &cx,
        &["plan", "--backend", "postgres"],
        expect!["usage (2): MissingRequiredArgument"],
    );
    check(
        &cx,
        &["plan", "--all", "--database-url", "sqlite:///tmp/x.db"],
        expect!["usage (2): ArgumentConflict"],
    );
    // The backend defaults to DATABASE_URL's.
    let mut cx = cx;
    cx.database_url = Some("mariadb://localhost/blog".into());
    assert!(run_str(&cx, &["plan", "--all"]).starts_with(
        "deploy plan for MySQL/MariaDB, every migration (no database): 3 migrations\n"
    ));
}

/// `args` run against an SQLite file in a fresh directory, the directory shown as `<dir>`.
fn on_sqlite(cx: &Context<'_>, dir: &std::path::Path, args: &[&str]) -> String {
    let url = format!("sqlite://{}/blog.db?mode=rwc", dir.display());
    let mut all = args.to_vec();
    all.extend(["--database-url", &url]);
    run_str(cx, &all).replace(&dir.display().to_string(), "<dir>")
}

#[test]
fn plan_shows_only_the_pending_migrations_of_the_database() {
    let project = blog_with(CONTRACT);
    let regs = registrations_with(CONTRACT);
    let cx = cx(&project, &regs);
    let dir = tempfile::tempdir().unwrap();
    let out = on_sqlite(&cx, dir.path(), &["up", "--to", "20261121080000"]);
    assert!(out.contains("applied 3 migrations"), "{out}");
    let out = on_sqlite(&cx, dir.path(), &["plan"]);
    let heads: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("deploy plan") || l.starts_with("2026"))
        .collect();
    expect![[r#"
        [
            "deploy plan for SQLite at sqlite://<dir>/blog.db?mode=rwc: 2 pending migrations",
            "20261122000000 purge_spam",
            "20261123000000 drop_title",
        ]
    "#]]
    .assert_debug_eq(&heads);
    let out = on_sqlite(&cx, dir.path(), &["plan", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["database"], "sqlite://<dir>/blog.db?mode=rwc");
    assert_eq!(json["summary"]["migrations"], 2);

    let out = on_sqlite(&cx, dir.path(), &["up"]);
    assert!(out.contains("applied 2 migrations"), "{out}");
    expect![[r#"
        nothing to deploy: every migration is applied (5 on SQLite at sqlite://<dir>/blog.db?mode=rwc)
    "#]].assert_eq(&on_sqlite(&cx, dir.path(), &["plan"]));
}

#[test]
fn status_shows_the_reasons_of_allowed_findings() {
    let project = blog_with(CONTRACT);
    let regs = registrations_with(CONTRACT);
    let cx = cx(&project, &regs);
    let dir = tempfile::tempdir().unwrap();
    expect![[r#"
        SQLite at sqlite://<dir>/blog.db?mode=rwc, history table godwit_migrations (not created yet)
        VERSION         NAME          STATUS         APPLIED AT               TIME
        20261120090000  create_users  pending
        20261120090500  create_posts  pending
        20261121080000  add_views     pending
        20261122000000  purge_spam    pending
        20261123000000  drop_title    pending
                        allowed[drop-column] #1 drop_column("posts", "title"): nothing reads titles since release 41
        5 migrations: 0 applied, 5 pending
    "#]].assert_eq(&on_sqlite(&cx, dir.path(), &["status"]));
    let out = on_sqlite(&cx, dir.path(), &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    check_json(
        &json["migrations"][4]["allowances"],
        expect![[r#"
        [
          {
            "operation": "drop_column(\"posts\", \"title\")",
            "reason": "nothing reads titles since release 41",
            "rule": "drop-column",
            "step": 1
          }
        ]
    "#]],
    );
    assert_eq!(json["migrations"][0]["allowances"], serde_json::json!([]));
    assert_eq!(json["allowances_error"], serde_json::Value::Null);
}

#[test]
fn status_without_allowances_when_a_migration_does_not_fit_the_schema() {
    let extra: &[(&str, &str, &dyn Migration)] = &[("m20261122_000000_broken", "Broken", &Broken)];
    let project = blog_with(extra);
    let regs = registrations_with(extra);
    let cx = cx(&project, &regs);
    let dir = tempfile::tempdir().unwrap();
    expect![[r#"
        SQLite at sqlite://<dir>/blog.db?mode=rwc, history table godwit_migrations (not created yet)
        VERSION         NAME          STATUS         APPLIED AT               TIME
        20261120090000  create_users  pending
        20261120090500  create_posts  pending
        20261121080000  add_views     pending
        20261122000000  broken        pending
        4 migrations: 0 applied, 4 pending
        allowances (lint findings allowed with a reason) could not be computed: migration 20261122000000 broken, operation #1 add_column("missing", "note"): table `missing` does not exist (the tables are: posts, users)
    "#]].assert_eq(&on_sqlite(&cx, dir.path(), &["status"]));
    let out = on_sqlite(&cx, dir.path(), &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["migrations"][0]["allowances"], serde_json::Value::Null);
    check_json(
        &json["allowances_error"],
        expect![[r#"
        "migration 20261122000000 broken, operation #1 add_column(\"missing\", \"note\"): table `missing` does not exist (the tables are: posts, users)"
    "#]],
    );
    // `plan` cannot plan it, and says which migration is at fault.
    expect![[r#"
        error: cannot make the deploy plan for SQLite: migration 20261122000000 broken, operation #1 add_column("missing", "note"): table `missing` does not exist (the tables are: posts, users)
    "#]].assert_eq(&on_sqlite(&cx, dir.path(), &["plan"]));
}

#[test]
fn schema_prints_the_model_as_sql_and_checks_a_file() {
    let regs = blog();
    let mut cx = cx(&PROJECT, &regs);
    check(
        &cx,
        &["schema", "--backend", "sqlite"],
        expect![[r#"
        -- schema after 20261121080000 add_views (3 migrations), SQLite; generated by `schema`, do not edit

        CREATE TABLE "posts" (
          "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
          "author_id" integer NOT NULL,
          "title" varchar(200) NOT NULL,
          "views" integer NOT NULL DEFAULT 0,
          FOREIGN KEY ("author_id") REFERENCES "users" ("id")
        );
        CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");

        CREATE TABLE "users" (
          "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
          "email" varchar(255) NOT NULL
        );
        CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email");
    "#]],
    );

    // The snapshot is SQL: `--json` belongs to `--live`.
    check(
        &cx,
        &["schema", "--backend", "sqlite", "--json"],
        expect![[r#"
            error (2): `schema --json` needs `--live`: the schema snapshot is SQL; `schema --live --json` lists the differences between the database and its migrations as JSON
        "#]],
    );

    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("schema.sql");
    let file = file.to_str().unwrap();
    // Messages show paths relative to the current directory.
    cx.cwd = Some(tmp.path().to_path_buf());
    check(
        &cx,
        &["schema", "--backend", "sqlite", "--check", file],
        expect![[r#"
            error: `schema.sql` does not exist: write the schema snapshot with `schema --backend sqlite --output schema.sql`, review it and commit it
        "#]],
    );
    let out = run_str(&cx, &["schema", "--backend", "sqlite", "--output", file]);
    assert!(
        out.starts_with("wrote the SQLite schema after 3 migrations to `"),
        "{out}"
    );
    let out = run_str(&cx, &["schema", "--backend", "sqlite", "--check", file]);
    assert!(
        out.ends_with("` is the current SQLite schema (3 migrations)\n"),
        "{out}"
    );
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, text.replace("\"views\" integer", "\"views\" text")).unwrap();
    check(
        &cx,
        &["schema", "--backend", "sqlite", "--check", file],
        expect![[r#"
            error: `schema.sql` is stale: it is not the SQLite schema the migrations build; regenerate it with `schema --backend sqlite --output schema.sql`, review the diff and commit it
              first difference, line 7:
                schema.sql:   "views" text NOT NULL DEFAULT 0,
                migrations:   "views" integer NOT NULL DEFAULT 0,
        "#]],
    );
    // --check and --output together make no sense.
    check(
        &cx,
        &["schema", "--check", file, "--output", file],
        expect!["usage (2): ArgumentConflict"],
    );
}

#[test]
fn first_difference_names_the_line_and_the_end_of_a_file() {
    use super::schema::first_difference;
    assert_eq!(
        first_difference("a\nb\n", "a\nc\n"),
        (2, "b".to_string(), "c".to_string())
    );
    assert_eq!(
        first_difference("a\n", "a\nb\n"),
        (2, "(end of file)".to_string(), "b".to_string())
    );
    assert_eq!(first_difference("a\n", "a").0, 1);
}

/// A temporary directory that is also the current directory of `cx`, so that messages show
/// paths relative to it.
fn in_tmp<'a>(cx: &Context<'a>) -> (tempfile::TempDir, Context<'a>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cx = cx.clone();
    cx.cwd = Some(tmp.path().to_path_buf());
    let file = tmp.path().join("migrations.sum");
    let file = file.to_str().unwrap().to_string();
    (tmp, cx, file)
}

#[test]
fn check_writes_the_manifest_and_passes_on_it() {
    let regs = blog();
    let (_tmp, cx, file) = in_tmp(&cx(&PROJECT, &regs));
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
            error: `migrations.sum` does not exist: run `check --write` to write it, and commit it with the migrations
        "#]],
    );
    check(
        &cx,
        &["check", "--write", "--file", &file],
        expect![[r#"
        wrote `migrations.sum` (3 migrations)
    "#]],
    );
    expect![[r#"
        sum v1:b99a8bcf064b31638c65b2bc40172a53f21439f1941ef44b2a577e2af3e600a6
        20261120090000 create_users v1:8903fc892a5b1fcafd617a970034c839f2910ae794ed98bdafe300067b717fe0
        20261120090500 create_posts v1:3835b3a1874769d931d2e0e0a25b409386d650272086c504ea411daccae4e43e
        20261121080000 add_views v1:49595e081ebb94c71b170e3d74ca31ff3915d996c4732a6b8e93035730fb830d
    "#]]
    .assert_eq(&std::fs::read_to_string(&file).unwrap());
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
        `migrations.sum` matches the 3 migrations in the code
    "#]],
    );
    // The default file is in the migrations crate's directory.
    check(
        &cx,
        &["check"],
        expect![[r#"
        error: `/work/blog/migrations.sum` does not exist: run `check --write` to write it, and commit it with the migrations
    "#]],
    );
}

#[test]
fn check_fails_as_stale_naming_each_edited_added_or_removed_migration() {
    let regs = blog();
    let (_tmp, cx, file) = in_tmp(&cx(&PROJECT, &regs));
    run_str(&cx, &["check", "--write", "--file", &file]);
    let written = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    // add_views edited (its checksum changed), create_posts removed, a line for a migration
    // the code does not have, all under a `sum` line that matches the edited lines.
    let views = format!("20261121080000 add_views v1:{}", "0".repeat(64));
    let mut edited: Vec<ManifestLine> = [lines[1], &views, "20261125000000 gone v1:"]
        .iter()
        .map(|l| {
            let mut p = l.split(' ');
            ManifestLine {
                version: p.next().unwrap().parse().unwrap(),
                name: p.next().unwrap().to_string(),
                checksum: p.next().unwrap().to_string(),
            }
        })
        .collect();
    edited[2].checksum = crate::manifest::empty_checksum();
    std::fs::write(&file, crate::manifest::write(&edited)).unwrap();
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
        error: `migrations.sum` is stale:
          20261120090500 create_posts: added to the code, not in the file
          20261121080000 add_views: edited: what it does is not what the file records
          20261125000000 gone: removed from the code, still in the file
        review these changes (a migration that is already deployed should not change), then run `check --write` to rewrite it and commit it
    "#]],
    );
}

struct AddTags;
impl Migration for AddTags {
    fn up(&self, s: &mut Schema) {
        s.create_table("tags", |t| {
            t.id();
        });
    }
}

struct AddBio;
impl Migration for AddBio {
    fn up(&self, s: &mut Schema) {
        s.add_column("users", Column::text("bio").nullable());
    }
}

const TWO_BRANCHES: &[(&str, &str, &dyn Migration)] = &[
    ("m20261122_090000_add_tags", "AddTags", &AddTags),
    ("m20261123_090000_add_bio", "AddBio", &AddBio),
];

#[test]
fn check_fails_when_a_git_conflict_was_resolved_by_keeping_both_sides() {
    // The blog's manifest on main; branch A adds add_tags, branch B add_bio. Each branch's
    // manifest has its own `sum` line and its own last line, so merging B after A conflicts.
    let project = blog_with(TWO_BRANCHES);
    let regs = registrations_with(TWO_BRANCHES);
    let (_tmp, cx, file) = in_tmp(&cx(&project, &regs));
    run_str(&cx, &["check", "--write", "--file", &file]);
    let merged = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = merged.lines().collect();
    let branch_a = crate::manifest::parse(&merged.replace(&format!("{}\n", lines[5]), ""))
        .unwrap()
        .lines;
    // Both migration lines kept, in order, but the `sum` line is branch A's.
    let resolved = format!(
        "sum {}\n{}\n",
        crate::manifest::sum_of(&branch_a),
        lines[1..].join("\n")
    );
    std::fs::write(&file, &resolved).unwrap();
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
        error: `migrations.sum` is stale:
          the `sum` line does not match the lines below it: they were edited by hand, or a git conflict in the file was resolved by hand
        review these changes (a migration that is already deployed should not change), then run `check --write` to rewrite it and commit it
    "#]],
    );

    // Left with the conflict markers in.
    let markers = format!(
        "<<<<<<< HEAD\nsum {}\n=======\n{}\n>>>>>>> add-bio\n{}\n",
        crate::manifest::sum_of(&branch_a),
        lines[0],
        lines[1..].join("\n")
    );
    std::fs::write(&file, markers).unwrap();
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
            error: `migrations.sum`: line 1 is a git conflict marker (`<<<<<<< HEAD`): the merge of this file is unfinished; make sure the migration merged last has the newest version (rename its file if not), then run `check --write`, which rewrites this file from the code
        "#]],
    );
}

#[test]
fn check_fails_when_the_lines_have_no_linear_order() {
    let project = blog_with(TWO_BRANCHES);
    let regs = registrations_with(TWO_BRANCHES);
    let (_tmp, cx, file) = in_tmp(&cx(&project, &regs));
    run_str(&cx, &["check", "--write", "--file", &file]);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = crate::manifest::parse(&text).unwrap().lines;
    // Branch B's migration (older) merged after branch A's: kept last, out of order.
    lines.swap(3, 4);
    std::fs::write(&file, crate::manifest::write(&lines)).unwrap();
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
        error: `migrations.sum` does not give the migrations one linear order: 20261122090000 add_tags comes after the newer 20261123090000 add_bio; two branches each added a migration: give the migration merged later a version newer than every other (rename its file to `m<YYYYMMDD_HHMMSS>_<name>.rs` with the current time), then run `check --write`
    "#]],
    );
    // The same migration twice.
    lines.swap(3, 4);
    lines.push(lines[4].clone());
    std::fs::write(&file, crate::manifest::write(&lines)).unwrap();
    check(
        &cx,
        &["check", "--file", &file],
        expect![[r#"
        error: `migrations.sum` does not give the migrations one linear order: version 20261123090000 appears 2 times (add_bio, add_bio); two branches each added a migration: give the migration merged later a version newer than every other (rename its file to `m<YYYYMMDD_HHMMSS>_<name>.rs` with the current time), then run `check --write`
    "#]],
    );
}

#[test]
fn new_adds_the_new_migration_to_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &'static str = String::leak(tmp.path().to_str().unwrap().to_string());
    let files: Vec<&'static str> = FILES
        .iter()
        .map(|f| &*String::leak(f.replace(DIR, dir)))
        .collect();
    let project = Project {
        name: "blog-migrations",
        manifest_dir: dir,
        files: Vec::leak(files.clone()),
    };
    let regs: Vec<Registration> = blog()
        .into_iter()
        .map(|r| Registration {
            file: String::leak(r.file.replace(DIR, dir)),
            ..r
        })
        .collect();
    let mut cx = cx(&project, &regs);
    cx.cwd = Some(tmp.path().to_path_buf());
    check(
        &cx,
        &["new", "Add tags"],
        expect![[r#"
        created src/migrations/m20261122_103005_add_tags.rs (struct AddTags); the next build picks it up
        updated `migrations.sum`; once the migration is written, run `check --write` and commit both
    "#]],
    );
    let manifest = std::fs::read_to_string(tmp.path().join("migrations.sum")).unwrap();
    let parsed = crate::manifest::parse(&manifest).unwrap();
    assert!(parsed.sum_matches());
    let versions: Vec<String> = parsed
        .lines
        .iter()
        .map(|l| format!("{} {}", l.version, l.name))
        .collect();
    assert_eq!(
        versions,
        [
            "20261120090000 create_users",
            "20261120090500 create_posts",
            "20261121080000 add_views",
            "20261122103005 add_tags",
        ]
    );
    assert_eq!(parsed.lines[3].checksum, crate::manifest::empty_checksum());

    // A file that registers nothing: the registrations do not load, so the other lines come
    // from the manifest as it is.
    let unregistered: &'static str = String::leak(format!(
        "{dir}/src/migrations/m20261121_090000_unregistered.rs"
    ));
    let project = Project {
        files: Vec::leak([files.as_slice(), &[unregistered]].concat()),
        ..project
    };
    let mut cx = super::tests::cx(&project, &regs);
    cx.cwd = Some(tmp.path().to_path_buf());
    cx.now = datetime!(2026-11-22 10:31:00 UTC);
    check(
        &cx,
        &["new", "Add bio"],
        expect![[r#"
        created src/migrations/m20261122_103100_add_bio.rs (struct AddBio); the next build picks it up
        updated `migrations.sum`; once the migration is written, run `check --write` and commit both
    "#]],
    );
    let after = std::fs::read_to_string(tmp.path().join("migrations.sum")).unwrap();
    let parsed_after = crate::manifest::parse(&after).unwrap();
    assert!(parsed_after.sum_matches());
    assert_eq!(parsed_after.lines[..4], parsed.lines[..]);
    assert_eq!(parsed_after.lines[4].name, "add_bio");

    // And without a manifest, nothing is written.
    std::fs::remove_file(tmp.path().join("migrations.sum")).unwrap();
    cx.now = datetime!(2026-11-22 10:32:00 UTC);
    check(
        &cx,
        &["new", "Add avatar"],
        expect![[r#"
        created src/migrations/m20261122_103200_add_avatar.rs (struct AddAvatar); the next build picks it up
        note: `migrations.sum` was not written, since the other migrations do not load; run `check --write` once they build, and commit it
    "#]],
    );
    assert!(!tmp.path().join("migrations.sum").exists());
}
