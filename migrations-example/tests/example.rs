//! The example's binary and library, end to end: every file registers once, every migration
//! renders up and down on every backend, the exit codes are the documented ones, and the deploy
//! plan of every migration is pinned (update it with
//! `UPDATE_EXPECT=1 cargo test -p migrations-example --test example plan`, then review the diff).

use std::process::{Command, Output};

use expect_test::{Expect, expect};
use godwit::{Backend, Catalog};
use migrations_example as _;

fn migrate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrations-example"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_file_in_src_migrations_registers_exactly_once() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/migrations");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let resolved = godwit::resolve(&godwit::registrations()).unwrap();
    let registered: Vec<String> = resolved
        .iter()
        .map(|(_, r)| r.file.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(registered, files);
}

#[test]
fn every_migration_renders_up_and_down_on_every_backend() {
    let resolved = godwit::resolve(&godwit::registrations()).unwrap();
    let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
    // Deleted comments cannot come back: that one `down` is refused, with its reason.
    let irreversible = 20261121090000;
    let reversible: Vec<u64> = resolved
        .iter()
        .map(|(id, _)| id.version)
        .filter(|&v| v != irreversible)
        .collect();
    for backend in Backend::ALL {
        let up = catalog.render_up(backend, None).unwrap();
        let down = catalog.render_down(backend, Some(&reversible)).unwrap();
        assert_eq!(
            (up.len(), down.len()),
            (resolved.len(), resolved.len() - 1),
            "{backend}"
        );
        let refused = catalog
            .render_down(backend, Some(&[irreversible]))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("it is marked irreversible (\"deleted comments cannot be recreated"),
            "{refused}"
        );
        for m in up.iter().chain(&down) {
            // Empty on purpose: cleaned-up e-mail addresses stay clean, published posts stay
            // published (rolling back the migration before drops the column), and only
            // PostgreSQL has a `VALIDATE CONSTRAINT` (the others checked the rows when it was
            // added).
            let empty = (m.direction == "down"
                && ["normalize_user_emails", "publish_dated_posts"].contains(&m.id.name.as_str()))
                || (m.id.name == "validate_slugs_on_posts"
                    && (m.direction == "down" || backend != Backend::Postgres));
            assert_eq!(
                m.statements.is_empty(),
                empty,
                "{backend}: {} {} renders {} statement(s)",
                m.id,
                m.direction,
                m.statements.len()
            );
        }
    }
}

#[test]
fn sql_prints_every_migration_with_a_header_and_exits_0() {
    let out = migrate(&["sql", "--backend", "postgres"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let headers: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("-- 2026"))
        .collect();
    assert_eq!(
        headers,
        [
            "-- 20261001090000 create_users (up)",
            "-- 20261001090500 create_posts (up)",
            "-- 20261001091000 create_comments (up)",
            "-- 20261105100000 create_tags (up)",
            "-- 20261115090000 add_views_to_posts (up)",
            "-- 20261115090500 add_last_login_at_to_users (up)",
            "-- 20261120090000 normalize_user_emails (up)",
            "-- 20261120091000 add_slug_to_posts (up)",
            "-- 20261121090000 delete_empty_comments (up)",
            "-- 20261121100000 check_slugs_on_posts (up)",
            "-- 20261121100500 validate_slugs_on_posts (up)",
            "-- 20261121101000 require_slugs_on_posts (up)",
            "-- 20261121101500 index_posts_by_slug (up)",
            "-- 20261201090000 add_status_to_posts (up)",
            "-- 20261201090500 publish_dated_posts (up)",
            "-- 20261201091000 create_published_posts (up)",
            "-- 20261201091500 touch_posts_on_update (up)",
        ]
    );
    assert!(
        stdout.contains("ALTER TABLE \"posts\" ADD COLUMN \"views\" integer NOT NULL DEFAULT 0;\n"),
        "{stdout}"
    );
}

#[test]
fn sql_down_rolls_back_newest_first() {
    let out = migrate(&["sql", "--down", "--backend", "mysql", "20261105100000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let drops: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("DROP TABLE"))
        .collect();
    assert_eq!(
        drops,
        ["DROP TABLE `post_tags`;", "DROP TABLE `tags`;"],
        "{stdout}"
    );
}

#[test]
fn errors_exit_1_and_usage_errors_exit_2() {
    let out = migrate(&["sql", "20991231235959"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: no migration has version 20991231235959"),
        "{stderr}"
    );

    let out = migrate(&["sql", "--backend", "oracle"]);
    assert_eq!(out.status.code(), Some(2));

    let out = migrate(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));

    let out = migrate(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Exit codes: 0 success, 1 error, 2 usage error, 3 "));
}

#[test]
fn up_status_and_down_all_on_an_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/blog.db?mode=rwc", dir.path().display());
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", &url]);
        migrate(&all)
    };
    let out = run(&["up"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("applied 17 migrations on SQLite"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["status", "--check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("17 migrations: 17 applied, 0 pending\n"));
    // Rolling back stops short of `delete_empty_comments`, which cannot be undone.
    let out = run(&["down", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("delete_empty_comments (down): cannot be rolled back"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["down", "--to", "20261121090000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["status", "--check"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_example_passes_lint_on_every_backend() {
    // MySQL/MariaDB allow one operation (a check, which they add only by copying the table),
    // with the reason written in the migration.
    for (backend, allowed) in [("postgres", 0), ("mysql", 1), ("sqlite", 0)] {
        let out = migrate(&["lint", "--backend", backend]);
        assert!(
            out.status.success(),
            "{backend}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let summary = format!("0 unsafe, {allowed} allowed, in 17 migration(s)");
        assert!(
            text(&out.stdout).contains(&summary),
            "{backend}: {}",
            text(&out.stdout)
        );
    }
}

#[test]
fn lint_of_an_unknown_version_exits_1() {
    let out = migrate(&["lint", "--backend", "postgres", "20990101000000"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no migration has version 20990101000000"));
}

/// `args` succeed and print `expect` on stdout.
fn check(args: &[&str], expect: Expect) {
    let out = migrate(args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    expect.assert_eq(&text(&out.stdout));
}

#[test]
fn plan_all_for_postgres() {
    check(
        &["plan", "--all", "--backend", "postgres"],
        expect![[r#"
            deploy plan for PostgreSQL, every migration (no database): 17 migrations

            20261001090000 create_users
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("users")
                locks: ACCESS EXCLUSIVE on users (new, empty)
                CREATE TABLE "users" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "email" varchar(255) NOT NULL, "name" varchar(100) NOT NULL, "created_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "uq_users_email" UNIQUE ("email") );

            20261001090500 create_posts
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("posts")
                locks: ACCESS EXCLUSIVE on posts (new, empty), SHARE ROW EXCLUSIVE on users
                CREATE TABLE "posts" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "author_id" bigint NOT NULL, "title" varchar(200) NOT NULL, "body" text NOT NULL, "published_at" timestamp with time zone NULL, "created_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "fk_posts_author_id" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE RESTRICT );
                CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
                CREATE INDEX "idx_posts_published_at" ON "posts" ("published_at");

            20261001091000 create_comments
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("comments")
                locks: ACCESS EXCLUSIVE on comments (new, empty), SHARE ROW EXCLUSIVE on posts, SHARE ROW EXCLUSIVE on users
                CREATE TABLE "comments" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "post_id" bigint NOT NULL, "author_id" bigint NULL, "body" text NOT NULL, "created_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "fk_comments_post_id" FOREIGN KEY ("post_id") REFERENCES "posts" ("id") ON DELETE CASCADE, CONSTRAINT "fk_comments_author_id" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE SET NULL );
                CREATE INDEX "idx_comments_post_id" ON "comments" ("post_id");
                CREATE INDEX "idx_comments_author_id" ON "comments" ("author_id");

            20261105100000 create_tags
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("tags")
                locks: ACCESS EXCLUSIVE on tags (new, empty)
                CREATE TABLE "tags" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "name" varchar(50) NOT NULL, "created_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "uq_tags_name" UNIQUE ("name") );
              #2 create_table("post_tags")
                locks: ACCESS EXCLUSIVE on post_tags (new, empty), SHARE ROW EXCLUSIVE on posts, SHARE ROW EXCLUSIVE on tags
                CREATE TABLE "post_tags" ( "post_id" bigint NOT NULL, "tag_id" bigint NOT NULL, PRIMARY KEY ("post_id", "tag_id"), CONSTRAINT "fk_post_tags_post_id" FOREIGN KEY ("post_id") REFERENCES "posts" ("id") ON DELETE CASCADE, CONSTRAINT "fk_post_tags_tag_id" FOREIGN KEY ("tag_id") REFERENCES "tags" ("id") ON DELETE CASCADE );
                CREATE INDEX "idx_post_tags_tag_id" ON "post_tags" ("tag_id");

            20261115090000 add_views_to_posts
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("posts", "views")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" ADD COLUMN "views" integer NOT NULL DEFAULT 0;

            20261115090500 add_last_login_at_to_users
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("users", "last_login_at")
                locks: ACCESS EXCLUSIVE on users
                ALTER TABLE "users" ADD COLUMN "last_login_at" timestamp with time zone NULL;

            20261120090000 normalize_user_emails
              transaction: yes
              change: unknown (raw SQL or Rust code: review it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 run("trim and lowercase user emails")
                locks: unknown (Rust code)
                -- run "trim and lowercase user emails" (Rust code, in the migration's transaction);

            20261120091000 add_slug_to_posts
              transaction: in parts (each batched step outside any transaction, batch by batch)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("posts", "slug")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" ADD COLUMN "slug" varchar(255) NULL;
              #2 backfill("posts")
                locks: ROW EXCLUSIVE on posts, one batch at a time, outside the schema transaction
                -- backfill("posts"): in batches of 1000 rows by (id), each in its own transaction outside the migration's, pausing 10 ms after each; resumed where it stopped if interrupted. All the batches together, as one statement:
                UPDATE "posts" SET "slug" = LOWER(REPLACE("title", ' ', '-')) WHERE "slug" IS NULL;

            20261121090000 delete_empty_comments
              transaction: yes
              change: destructive (deploy after the code stops using what it removes)
              reversible: no: it is marked irreversible ("deleted comments cannot be recreated; restore them from the backup taken before the deploy"); roll back no further than the migration after it
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 delete("comments")
                locks: ROW EXCLUSIVE on comments
                DELETE FROM "comments" WHERE TRIM("body") = '';

            20261121100000 check_slugs_on_posts
              transaction: in parts (each batched step outside any transaction, batch by batch)
              change: destructive (deploy after the code stops using what it removes)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 backfill("posts")
                locks: ROW EXCLUSIVE on posts, one batch at a time, outside the schema transaction
                -- backfill("posts"): in batches of 1000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:
                UPDATE "posts" SET "slug" = LOWER(REPLACE("title", ' ', '-')) WHERE "slug" IS NULL;
              #2 add_check("posts", "ck_posts_slug_not_null")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" ADD CONSTRAINT "ck_posts_slug_not_null" CHECK (slug IS NOT NULL) NOT VALID;

            20261121100500 validate_slugs_on_posts
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 validate_constraint("posts", "ck_posts_slug_not_null")
                locks: SHARE UPDATE EXCLUSIVE on posts
                ALTER TABLE "posts" VALIDATE CONSTRAINT "ck_posts_slug_not_null";

            20261121101000 require_slugs_on_posts
              transaction: yes
              change: destructive (deploy after the code stops using what it removes)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 set_not_null("posts", "slug")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" ALTER COLUMN "slug" SET NOT NULL;
              #2 drop_check("posts", "ck_posts_slug_not_null")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" DROP CONSTRAINT "ck_posts_slug_not_null";

            20261121101500 index_posts_by_slug
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_index("posts", ["slug"]) named "idx_posts_slug"
                locks: SHARE UPDATE EXCLUSIVE on posts
                CREATE INDEX CONCURRENTLY "idx_posts_slug" ON "posts" ("slug");

            20261201090000 add_status_to_posts
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_enum("post_status", ["draft", "published", "archived"])
                CREATE TYPE "post_status" AS ENUM ('draft', 'published', 'archived');
              #2 add_column("posts", "status")
                locks: ACCESS EXCLUSIVE on posts
                ALTER TABLE "posts" ADD COLUMN "status" "post_status" NOT NULL DEFAULT 'draft';

            20261201090500 publish_dated_posts
              transaction: in parts (each batched step outside any transaction, batch by batch)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 backfill("posts")
                locks: ROW EXCLUSIVE on posts, one batch at a time, outside the schema transaction
                -- backfill("posts"): in batches of 10000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:
                UPDATE "posts" SET "status" = CAST('published' AS "post_status") WHERE "published_at" IS NOT NULL;

            20261201091000 create_published_posts
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_view("published_posts")
                CREATE VIEW "published_posts" AS SELECT id, author_id, title, published_at FROM posts WHERE status = 'published';

            20261201091500 touch_posts_on_update
              transaction: yes
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_function("touch_updated_at")
                CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$;
              #2 create_trigger("posts_touch_updated_at")
                locks: SHARE ROW EXCLUSIVE on posts
                CREATE TRIGGER posts_touch_updated_at BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

            17 migrations: 13 additive, 3 destructive, 1 unknown; 0 unsafe findings, 0 allowed; 1 irreversible
            order: apply up to 20261120091000 add_slug_to_posts (`up --to 20261120091000`) before the code deploy; apply the destructive migrations (20261121090000, 20261121100000, 20261121101000) only after the code that stops using what they remove is deployed; the 6 other migrations after 20261121090000 then wait for the code deploy too; review the raw SQL or Rust code of 20261120090000 to decide where it goes
        "#]],
    );
}

#[test]
fn plan_all_for_mysql() {
    check(
        &["plan", "--all", "--backend", "mysql"],
        expect![[r#"
            deploy plan for MySQL/MariaDB, every migration (no database): 17 migrations

            20261001090000 create_users
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("users")
                locks: metadata lock on users (new, empty)
                CREATE TABLE `users` ( `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT, `email` varchar(255) NOT NULL, `name` varchar(100) NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), UNIQUE KEY `uq_users_email` (`email`) );

            20261001090500 create_posts
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("posts")
                locks: metadata lock on posts (new, empty), metadata lock on users (referenced)
                CREATE TABLE `posts` ( `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT, `author_id` bigint NOT NULL, `title` varchar(200) NOT NULL, `body` text NOT NULL, `published_at` datetime(6) NULL, `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), CONSTRAINT `fk_posts_author_id` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE RESTRICT );
                CREATE INDEX `idx_posts_author_id` ON `posts` (`author_id`);
                CREATE INDEX `idx_posts_published_at` ON `posts` (`published_at`);

            20261001091000 create_comments
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("comments")
                locks: metadata lock on comments (new, empty), metadata lock on posts (referenced), metadata lock on users (referenced)
                CREATE TABLE `comments` ( `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT, `post_id` bigint NOT NULL, `author_id` bigint NULL, `body` text NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), CONSTRAINT `fk_comments_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON DELETE CASCADE, CONSTRAINT `fk_comments_author_id` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE SET NULL );
                CREATE INDEX `idx_comments_post_id` ON `comments` (`post_id`);
                CREATE INDEX `idx_comments_author_id` ON `comments` (`author_id`);

            20261105100000 create_tags
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_table("tags")
                locks: metadata lock on tags (new, empty)
                CREATE TABLE `tags` ( `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT, `name` varchar(50) NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)), UNIQUE KEY `uq_tags_name` (`name`) );
              #2 create_table("post_tags")
                locks: metadata lock on post_tags (new, empty), metadata lock on posts (referenced), metadata lock on tags (referenced)
                CREATE TABLE `post_tags` ( `post_id` bigint NOT NULL, `tag_id` bigint NOT NULL, PRIMARY KEY (`post_id`, `tag_id`), CONSTRAINT `fk_post_tags_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON DELETE CASCADE, CONSTRAINT `fk_post_tags_tag_id` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE CASCADE );
                CREATE INDEX `idx_post_tags_tag_id` ON `post_tags` (`tag_id`);

            20261115090000 add_views_to_posts
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("posts", "views")
                locks: metadata lock on posts (ALGORITHM=INSTANT, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                ALTER TABLE `posts` ADD COLUMN `views` int NOT NULL DEFAULT 0, ALGORITHM=INSTANT, LOCK=NONE;

            20261115090500 add_last_login_at_to_users
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("users", "last_login_at")
                locks: metadata lock on users (ALGORITHM=INSTANT, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                ALTER TABLE `users` ADD COLUMN `last_login_at` datetime(6) NULL, ALGORITHM=INSTANT, LOCK=NONE;

            20261120090000 normalize_user_emails
              transaction: no (runs statement by statement)
              change: unknown (raw SQL or Rust code: review it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 run("trim and lowercase user emails")
                locks: unknown (Rust code)
                -- run "trim and lowercase user emails" (Rust code, in a transaction of its own);

            20261120091000 add_slug_to_posts
              transaction: in parts (each batched step outside any transaction, batch by batch)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_column("posts", "slug")
                locks: metadata lock on posts (ALGORITHM=INSTANT, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                ALTER TABLE `posts` ADD COLUMN `slug` varchar(255) NULL, ALGORITHM=INSTANT, LOCK=NONE;
              #2 backfill("posts")
                locks: row locks on posts, one batch at a time
                -- backfill("posts"): in batches of 1000 rows by (id), each in its own transaction outside the migration's, pausing 10 ms after each; resumed where it stopped if interrupted. All the batches together, as one statement:
                UPDATE `posts` SET `slug` = LOWER(REPLACE(`title`, ' ', '-')) WHERE `slug` IS NULL;

            20261121090000 delete_empty_comments
              transaction: no (runs statement by statement)
              change: destructive (deploy after the code stops using what it removes)
              reversible: no: it is marked irreversible ("deleted comments cannot be recreated; restore them from the backup taken before the deploy"); roll back no further than the migration after it
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 delete("comments")
                locks: row locks on comments
                DELETE FROM `comments` WHERE TRIM(`body`) = '';

            20261121100000 check_slugs_on_posts
              transaction: in parts (each batched step outside any transaction, batch by batch)
              change: destructive (deploy after the code stops using what it removes)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 backfill("posts")
                locks: row locks on posts, one batch at a time
                -- backfill("posts"): in batches of 1000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:
                UPDATE `posts` SET `slug` = LOWER(REPLACE(`title`, ' ', '-')) WHERE `slug` IS NULL;
              #2 add_check("posts", "ck_posts_slug_not_null")
                locks: metadata lock on posts (and a copy or write lock unless ALGORITHM/LOCK say otherwise)
                ALTER TABLE `posts` ADD CONSTRAINT `ck_posts_slug_not_null` CHECK (slug IS NOT NULL);
              allowed[mysql-check] #2 add_check("posts", "ck_posts_slug_not_null"): MySQL/MariaDB add a check only by copying the table; the blog's posts copy in seconds

            20261121100500 validate_slugs_on_posts
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 validate_constraint("posts", "ck_posts_slug_not_null")

            20261121101000 require_slugs_on_posts
              transaction: no (runs statement by statement)
              change: destructive (deploy after the code stops using what it removes)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 set_not_null("posts", "slug")
                locks: metadata lock on posts (ALGORITHM=INPLACE, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                ALTER TABLE `posts` MODIFY COLUMN `slug` varchar(255) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
              #2 drop_check("posts", "ck_posts_slug_not_null")
                locks: metadata lock on posts (ALGORITHM=INPLACE, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                ALTER TABLE `posts` DROP CONSTRAINT `ck_posts_slug_not_null`, ALGORITHM=INPLACE, LOCK=NONE;

            20261121101500 index_posts_by_slug
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 add_index("posts", ["slug"]) named "idx_posts_slug"
                locks: metadata lock on posts (ALGORITHM=INPLACE, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                CREATE INDEX `idx_posts_slug` ON `posts` (`slug`) ALGORITHM=INPLACE LOCK=NONE;

            20261201090000 add_status_to_posts
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_enum("post_status", ["draft", "published", "archived"])
              #2 add_column("posts", "status")
                locks: metadata lock on posts (ALGORITHM=INSTANT, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
                ALTER TABLE `posts` ADD COLUMN `status` enum('draft', 'published', 'archived') NOT NULL DEFAULT 'draft', ALGORITHM=INSTANT, LOCK=NONE;

            20261201090500 publish_dated_posts
              transaction: in parts (each batched step outside any transaction, batch by batch)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 backfill("posts")
                locks: row locks on posts, one batch at a time
                -- backfill("posts"): in batches of 10000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:
                UPDATE `posts` SET `status` = 'published' WHERE `published_at` IS NOT NULL;

            20261201091000 create_published_posts
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_view("published_posts")
                CREATE VIEW `published_posts` AS SELECT id, author_id, title, published_at FROM posts WHERE status = 'published';

            20261201091500 touch_posts_on_update
              transaction: no (runs statement by statement)
              change: additive (deploy before the code that uses it)
              reversible: yes
              timeouts: lock 5s, statement 1h, 3 lock retries
              #1 create_function("touch_updated_at")
              #2 create_trigger("posts_touch_updated_at")
                locks: metadata lock on posts (and a copy or write lock unless ALGORITHM/LOCK say otherwise)
                CREATE TRIGGER posts_touch_updated_at BEFORE UPDATE ON posts FOR EACH ROW SET NEW.updated_at = UTC_TIMESTAMP(6);

            17 migrations: 13 additive, 3 destructive, 1 unknown; 0 unsafe findings, 1 allowed; 1 irreversible
            order: apply up to 20261120091000 add_slug_to_posts (`up --to 20261120091000`) before the code deploy; apply the destructive migrations (20261121090000, 20261121100000, 20261121101000) only after the code that stops using what they remove is deployed; the 6 other migrations after 20261121090000 then wait for the code deploy too; review the raw SQL or Rust code of 20261120090000 to decide where it goes
        "#]],
    );
}

#[test]
fn plan_all_for_postgres_as_json() {
    check(
        &["plan", "--all", "--backend", "postgres", "--json"],
        expect![[r#"
            {
              "backend": "postgres",
              "database": null,
              "migrations": [
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "create_users",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on users (new, empty)"
                      ],
                      "operation": "create_table(\"users\")",
                      "sql": [
                        "CREATE TABLE \"users\" ( \"id\" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, \"email\" varchar(255) NOT NULL, \"name\" varchar(100) NOT NULL, \"created_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, \"updated_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT \"uq_users_email\" UNIQUE (\"email\") )"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261001090000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "create_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts (new, empty)",
                        "SHARE ROW EXCLUSIVE on users"
                      ],
                      "operation": "create_table(\"posts\")",
                      "sql": [
                        "CREATE TABLE \"posts\" ( \"id\" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, \"author_id\" bigint NOT NULL, \"title\" varchar(200) NOT NULL, \"body\" text NOT NULL, \"published_at\" timestamp with time zone NULL, \"created_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, \"updated_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT \"fk_posts_author_id\" FOREIGN KEY (\"author_id\") REFERENCES \"users\" (\"id\") ON DELETE RESTRICT )",
                        "CREATE INDEX \"idx_posts_author_id\" ON \"posts\" (\"author_id\")",
                        "CREATE INDEX \"idx_posts_published_at\" ON \"posts\" (\"published_at\")"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261001090500,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "create_comments",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on comments (new, empty)",
                        "SHARE ROW EXCLUSIVE on posts",
                        "SHARE ROW EXCLUSIVE on users"
                      ],
                      "operation": "create_table(\"comments\")",
                      "sql": [
                        "CREATE TABLE \"comments\" ( \"id\" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, \"post_id\" bigint NOT NULL, \"author_id\" bigint NULL, \"body\" text NOT NULL, \"created_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, \"updated_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT \"fk_comments_post_id\" FOREIGN KEY (\"post_id\") REFERENCES \"posts\" (\"id\") ON DELETE CASCADE, CONSTRAINT \"fk_comments_author_id\" FOREIGN KEY (\"author_id\") REFERENCES \"users\" (\"id\") ON DELETE SET NULL )",
                        "CREATE INDEX \"idx_comments_post_id\" ON \"comments\" (\"post_id\")",
                        "CREATE INDEX \"idx_comments_author_id\" ON \"comments\" (\"author_id\")"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261001091000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "create_tags",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on tags (new, empty)"
                      ],
                      "operation": "create_table(\"tags\")",
                      "sql": [
                        "CREATE TABLE \"tags\" ( \"id\" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, \"name\" varchar(50) NOT NULL, \"created_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, \"updated_at\" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT \"uq_tags_name\" UNIQUE (\"name\") )"
                      ],
                      "step": 1
                    },
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on post_tags (new, empty)",
                        "SHARE ROW EXCLUSIVE on posts",
                        "SHARE ROW EXCLUSIVE on tags"
                      ],
                      "operation": "create_table(\"post_tags\")",
                      "sql": [
                        "CREATE TABLE \"post_tags\" ( \"post_id\" bigint NOT NULL, \"tag_id\" bigint NOT NULL, PRIMARY KEY (\"post_id\", \"tag_id\"), CONSTRAINT \"fk_post_tags_post_id\" FOREIGN KEY (\"post_id\") REFERENCES \"posts\" (\"id\") ON DELETE CASCADE, CONSTRAINT \"fk_post_tags_tag_id\" FOREIGN KEY (\"tag_id\") REFERENCES \"tags\" (\"id\") ON DELETE CASCADE )",
                        "CREATE INDEX \"idx_post_tags_tag_id\" ON \"post_tags\" (\"tag_id\")"
                      ],
                      "step": 2
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261105100000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "add_views_to_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts"
                      ],
                      "operation": "add_column(\"posts\", \"views\")",
                      "sql": [
                        "ALTER TABLE \"posts\" ADD COLUMN \"views\" integer NOT NULL DEFAULT 0"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261115090000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "add_last_login_at_to_users",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on users"
                      ],
                      "operation": "add_column(\"users\", \"last_login_at\")",
                      "sql": [
                        "ALTER TABLE \"users\" ADD COLUMN \"last_login_at\" timestamp with time zone NULL"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261115090500,
                  "warnings": []
                },
                {
                  "change": "unknown",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "normalize_user_emails",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "unknown",
                      "locks": [
                        "unknown (Rust code)"
                      ],
                      "operation": "run(\"trim and lowercase user emails\")",
                      "sql": [
                        "-- run \"trim and lowercase user emails\" (Rust code, in the migration's transaction)"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261120090000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": true,
                  "irreversible_reason": null,
                  "name": "add_slug_to_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts"
                      ],
                      "operation": "add_column(\"posts\", \"slug\")",
                      "sql": [
                        "ALTER TABLE \"posts\" ADD COLUMN \"slug\" varchar(255) NULL"
                      ],
                      "step": 1
                    },
                    {
                      "change": "additive",
                      "locks": [
                        "ROW EXCLUSIVE on posts, one batch at a time, outside the schema transaction"
                      ],
                      "operation": "backfill(\"posts\")",
                      "sql": [
                        "-- backfill(\"posts\"): in batches of 1000 rows by (id), each in its own transaction outside the migration's, pausing 10 ms after each; resumed where it stopped if interrupted. All the batches together, as one statement:\nUPDATE \"posts\" SET \"slug\" = LOWER(REPLACE(\"title\", ' ', '-')) WHERE \"slug\" IS NULL"
                      ],
                      "step": 2
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261120091000,
                  "warnings": []
                },
                {
                  "change": "destructive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": "it is marked irreversible (\"deleted comments cannot be recreated; restore them from the backup taken before the deploy\"); roll back no further than the migration after it",
                  "name": "delete_empty_comments",
                  "reversible": false,
                  "steps": [
                    {
                      "change": "destructive",
                      "locks": [
                        "ROW EXCLUSIVE on comments"
                      ],
                      "operation": "delete(\"comments\")",
                      "sql": [
                        "DELETE FROM \"comments\" WHERE TRIM(\"body\") = ''"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261121090000,
                  "warnings": []
                },
                {
                  "change": "destructive",
                  "findings": [],
                  "in_parts": true,
                  "irreversible_reason": null,
                  "name": "check_slugs_on_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ROW EXCLUSIVE on posts, one batch at a time, outside the schema transaction"
                      ],
                      "operation": "backfill(\"posts\")",
                      "sql": [
                        "-- backfill(\"posts\"): in batches of 1000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:\nUPDATE \"posts\" SET \"slug\" = LOWER(REPLACE(\"title\", ' ', '-')) WHERE \"slug\" IS NULL"
                      ],
                      "step": 1
                    },
                    {
                      "change": "destructive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts"
                      ],
                      "operation": "add_check(\"posts\", \"ck_posts_slug_not_null\")",
                      "sql": [
                        "ALTER TABLE \"posts\" ADD CONSTRAINT \"ck_posts_slug_not_null\" CHECK (slug IS NOT NULL) NOT VALID"
                      ],
                      "step": 2
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261121100000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "validate_slugs_on_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "SHARE UPDATE EXCLUSIVE on posts"
                      ],
                      "operation": "validate_constraint(\"posts\", \"ck_posts_slug_not_null\")",
                      "sql": [
                        "ALTER TABLE \"posts\" VALIDATE CONSTRAINT \"ck_posts_slug_not_null\""
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261121100500,
                  "warnings": []
                },
                {
                  "change": "destructive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "require_slugs_on_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "destructive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts"
                      ],
                      "operation": "set_not_null(\"posts\", \"slug\")",
                      "sql": [
                        "ALTER TABLE \"posts\" ALTER COLUMN \"slug\" SET NOT NULL"
                      ],
                      "step": 1
                    },
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts"
                      ],
                      "operation": "drop_check(\"posts\", \"ck_posts_slug_not_null\")",
                      "sql": [
                        "ALTER TABLE \"posts\" DROP CONSTRAINT \"ck_posts_slug_not_null\""
                      ],
                      "step": 2
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261121101000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "index_posts_by_slug",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "SHARE UPDATE EXCLUSIVE on posts"
                      ],
                      "operation": "add_index(\"posts\", [\"slug\"]) named \"idx_posts_slug\"",
                      "sql": [
                        "CREATE INDEX CONCURRENTLY \"idx_posts_slug\" ON \"posts\" (\"slug\")"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": false,
                  "version": 20261121101500,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "add_status_to_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [],
                      "operation": "create_enum(\"post_status\", [\"draft\", \"published\", \"archived\"])",
                      "sql": [
                        "CREATE TYPE \"post_status\" AS ENUM ('draft', 'published', 'archived')"
                      ],
                      "step": 1
                    },
                    {
                      "change": "additive",
                      "locks": [
                        "ACCESS EXCLUSIVE on posts"
                      ],
                      "operation": "add_column(\"posts\", \"status\")",
                      "sql": [
                        "ALTER TABLE \"posts\" ADD COLUMN \"status\" \"post_status\" NOT NULL DEFAULT 'draft'"
                      ],
                      "step": 2
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261201090000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": true,
                  "irreversible_reason": null,
                  "name": "publish_dated_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [
                        "ROW EXCLUSIVE on posts, one batch at a time, outside the schema transaction"
                      ],
                      "operation": "backfill(\"posts\")",
                      "sql": [
                        "-- backfill(\"posts\"): in batches of 10000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:\nUPDATE \"posts\" SET \"status\" = CAST('published' AS \"post_status\") WHERE \"published_at\" IS NOT NULL"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261201090500,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "create_published_posts",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [],
                      "operation": "create_view(\"published_posts\")",
                      "sql": [
                        "CREATE VIEW \"published_posts\" AS SELECT id, author_id, title, published_at FROM posts WHERE status = 'published'"
                      ],
                      "step": 1
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261201091000,
                  "warnings": []
                },
                {
                  "change": "additive",
                  "findings": [],
                  "in_parts": false,
                  "irreversible_reason": null,
                  "name": "touch_posts_on_update",
                  "reversible": true,
                  "steps": [
                    {
                      "change": "additive",
                      "locks": [],
                      "operation": "create_function(\"touch_updated_at\")",
                      "sql": [
                        "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$"
                      ],
                      "step": 1
                    },
                    {
                      "change": "additive",
                      "locks": [
                        "SHARE ROW EXCLUSIVE on posts"
                      ],
                      "operation": "create_trigger(\"posts_touch_updated_at\")",
                      "sql": [
                        "CREATE TRIGGER posts_touch_updated_at BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
                      ],
                      "step": 2
                    }
                  ],
                  "timeouts": {
                    "lock_ms": 5000,
                    "lock_retries": 3,
                    "set_by_migration": [],
                    "statement_ms": 3600000
                  },
                  "transactional": true,
                  "version": 20261201091500,
                  "warnings": []
                }
              ],
              "summary": {
                "additive": 13,
                "allowed": 0,
                "destructive": 3,
                "irreversible": 1,
                "migrations": 17,
                "order": "apply up to 20261120091000 add_slug_to_posts (`up --to 20261120091000`) before the code deploy; apply the destructive migrations (20261121090000, 20261121100000, 20261121101000) only after the code that stops using what they remove is deployed; the 6 other migrations after 20261121090000 then wait for the code deploy too; review the raw SQL or Rust code of 20261120090000 to decide where it goes",
                "unknown": 1,
                "unsafe": 0
              }
            }
        "#]],
    );
}

#[test]
fn plan_lists_only_the_pending_migrations_of_an_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/blog.db?mode=rwc", dir.path().display());
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", &url]);
        migrate(&all)
    };
    let out = run(&["up", "--to", "20261105100000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["plan"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout).replace(&dir.path().display().to_string(), "<dir>");
    expect![[r#"
        deploy plan for SQLite at sqlite://<dir>/blog.db?mode=rwc: 13 pending migrations

        20261115090000 add_views_to_posts
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 add_column("posts", "views")
            locks: the database write lock
            ALTER TABLE "posts" ADD COLUMN "views" integer NOT NULL DEFAULT 0;

        20261115090500 add_last_login_at_to_users
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 add_column("users", "last_login_at")
            locks: the database write lock
            ALTER TABLE "users" ADD COLUMN "last_login_at" timestamp_with_timezone_text NULL;

        20261120090000 normalize_user_emails
          transaction: yes
          change: unknown (raw SQL or Rust code: review it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 run("trim and lowercase user emails")
            locks: the database write lock
            -- run "trim and lowercase user emails" (Rust code, in the migration's transaction);

        20261120091000 add_slug_to_posts
          transaction: in parts (each batched step outside any transaction, batch by batch)
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 add_column("posts", "slug")
            locks: the database write lock
            ALTER TABLE "posts" ADD COLUMN "slug" varchar(255) NULL;
          #2 backfill("posts")
            locks: the database write lock
            -- backfill("posts"): in batches of 1000 rows by (id), each in its own transaction outside the migration's, pausing 10 ms after each; resumed where it stopped if interrupted. All the batches together, as one statement:
            UPDATE "posts" SET "slug" = LOWER(REPLACE("title", ' ', '-')) WHERE "slug" IS NULL;

        20261121090000 delete_empty_comments
          transaction: yes
          change: destructive (deploy after the code stops using what it removes)
          reversible: no: it is marked irreversible ("deleted comments cannot be recreated; restore them from the backup taken before the deploy"); roll back no further than the migration after it
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 delete("comments")
            locks: the database write lock
            DELETE FROM "comments" WHERE TRIM("body") = '';

        20261121100000 check_slugs_on_posts
          transaction: in parts (each batched step outside any transaction, batch by batch)
          change: destructive (deploy after the code stops using what it removes)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 backfill("posts")
            locks: the database write lock
            -- backfill("posts"): in batches of 1000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:
            UPDATE "posts" SET "slug" = LOWER(REPLACE("title", ' ', '-')) WHERE "slug" IS NULL;
          #2 add_check("posts", "ck_posts_slug_not_null")
            locks: the database write lock
            CREATE TABLE "_godwit_new_posts" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "author_id" integer NOT NULL, "title" varchar(200) NOT NULL, "body" text NOT NULL, "published_at" timestamp_with_timezone_text NULL, "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP, "views" integer NOT NULL DEFAULT 0, "slug" varchar(255) NULL, FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE RESTRICT, CONSTRAINT "ck_posts_slug_not_null" CHECK (slug IS NOT NULL) );
            INSERT INTO "_godwit_new_posts" ("id", "author_id", "title", "body", "published_at", "created_at", "updated_at", "views", "slug") SELECT "id", "author_id", "title", "body", "published_at", "created_at", "updated_at", "views", "slug" FROM "posts";
            -- keep the indexes and triggers on "posts" that the migrations do not know, and its AUTOINCREMENT counter (godwit reads them from sqlite_master here);
            DROP TABLE "posts";
            PRAGMA legacy_alter_table = ON;
            ALTER TABLE "_godwit_new_posts" RENAME TO "posts";
            PRAGMA legacy_alter_table = OFF;
            CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
            CREATE INDEX "idx_posts_published_at" ON "posts" ("published_at");
            -- create again what was kept of "posts", as sqlite_master had it, and set its AUTOINCREMENT counter back;

        20261121100500 validate_slugs_on_posts
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 validate_constraint("posts", "ck_posts_slug_not_null")
            locks: the database write lock

        20261121101000 require_slugs_on_posts
          transaction: yes
          change: destructive (deploy after the code stops using what it removes)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 set_not_null("posts", "slug")
            locks: the database write lock
            CREATE TABLE "_godwit_new_posts" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "author_id" integer NOT NULL, "title" varchar(200) NOT NULL, "body" text NOT NULL, "published_at" timestamp_with_timezone_text NULL, "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP, "views" integer NOT NULL DEFAULT 0, "slug" varchar(255) NOT NULL, FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE RESTRICT, CONSTRAINT "ck_posts_slug_not_null" CHECK (slug IS NOT NULL) );
            INSERT INTO "_godwit_new_posts" ("id", "author_id", "title", "body", "published_at", "created_at", "updated_at", "views", "slug") SELECT "id", "author_id", "title", "body", "published_at", "created_at", "updated_at", "views", "slug" FROM "posts";
            -- keep the indexes and triggers on "posts" that the migrations do not know, and its AUTOINCREMENT counter (godwit reads them from sqlite_master here);
            DROP TABLE "posts";
            PRAGMA legacy_alter_table = ON;
            ALTER TABLE "_godwit_new_posts" RENAME TO "posts";
            PRAGMA legacy_alter_table = OFF;
            CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
            CREATE INDEX "idx_posts_published_at" ON "posts" ("published_at");
            -- create again what was kept of "posts", as sqlite_master had it, and set its AUTOINCREMENT counter back;
          #2 drop_check("posts", "ck_posts_slug_not_null")
            locks: the database write lock
            CREATE TABLE "_godwit_new_posts" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "author_id" integer NOT NULL, "title" varchar(200) NOT NULL, "body" text NOT NULL, "published_at" timestamp_with_timezone_text NULL, "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP, "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP, "views" integer NOT NULL DEFAULT 0, "slug" varchar(255) NOT NULL, FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE RESTRICT );
            INSERT INTO "_godwit_new_posts" ("id", "author_id", "title", "body", "published_at", "created_at", "updated_at", "views", "slug") SELECT "id", "author_id", "title", "body", "published_at", "created_at", "updated_at", "views", "slug" FROM "posts";
            -- keep the indexes and triggers on "posts" that the migrations do not know, and its AUTOINCREMENT counter (godwit reads them from sqlite_master here);
            DROP TABLE "posts";
            PRAGMA legacy_alter_table = ON;
            ALTER TABLE "_godwit_new_posts" RENAME TO "posts";
            PRAGMA legacy_alter_table = OFF;
            CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
            CREATE INDEX "idx_posts_published_at" ON "posts" ("published_at");
            -- create again what was kept of "posts", as sqlite_master had it, and set its AUTOINCREMENT counter back;

        20261121101500 index_posts_by_slug
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 add_index("posts", ["slug"]) named "idx_posts_slug"
            locks: the database write lock
            CREATE INDEX "idx_posts_slug" ON "posts" ("slug");

        20261201090000 add_status_to_posts
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 create_enum("post_status", ["draft", "published", "archived"])
            locks: the database write lock
          #2 add_column("posts", "status")
            locks: the database write lock
            ALTER TABLE "posts" ADD COLUMN "status" text NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'published', 'archived'));

        20261201090500 publish_dated_posts
          transaction: in parts (each batched step outside any transaction, batch by batch)
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 backfill("posts")
            locks: the database write lock
            -- backfill("posts"): in batches of 10000 rows by (id), each in its own transaction outside the migration's; resumed where it stopped if interrupted. All the batches together, as one statement:
            UPDATE "posts" SET "status" = 'published' WHERE "published_at" IS NOT NULL;

        20261201091000 create_published_posts
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 create_view("published_posts")
            locks: the database write lock
            CREATE VIEW "published_posts" AS SELECT id, author_id, title, published_at FROM posts WHERE status = 'published';

        20261201091500 touch_posts_on_update
          transaction: yes
          change: additive (deploy before the code that uses it)
          reversible: yes
          timeouts: lock 5s, statement 1h, 3 lock retries
          #1 create_function("touch_updated_at")
            locks: the database write lock
          #2 create_trigger("posts_touch_updated_at")
            locks: the database write lock
            CREATE TRIGGER posts_touch_updated_at AFTER UPDATE ON posts FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at BEGIN UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;

        13 migrations: 9 additive, 3 destructive, 1 unknown; 0 unsafe findings, 0 allowed; 1 irreversible
        order: apply up to 20261120091000 add_slug_to_posts (`up --to 20261120091000`) before the code deploy; apply the destructive migrations (20261121090000, 20261121100000, 20261121101000) only after the code that stops using what they remove is deployed; the 6 other migrations after 20261121090000 then wait for the code deploy too; review the raw SQL or Rust code of 20261120090000 to decide where it goes
    "#]].assert_eq(&stdout);

    let out = run(&["up"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["plan", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["migrations"], serde_json::json!([]));
    assert_eq!(json["backend"], "sqlite");
}

/// The committed `schema.sql`, absolute.
const SCHEMA_SQL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.sql");

#[test]
fn the_committed_schema_sql_is_the_postgres_schema_of_the_migrations() {
    let out = migrate(&["schema", "--backend", "postgres", "--check", SCHEMA_SQL]);
    assert!(
        out.status.success(),
        "{}\nregenerate it with `cargo run -p migrations-example -- schema --backend postgres --output migrations-example/schema.sql`",
        text(&out.stderr)
    );
    // And `schema` prints exactly that file.
    let out = migrate(&["schema", "--backend", "postgres"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        std::fs::read_to_string(SCHEMA_SQL)
            .unwrap()
            .replace("\r\n", "\n")
    );
}

#[test]
fn schema_check_fails_on_an_edited_or_missing_file_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("schema.sql");
    let committed = std::fs::read_to_string(SCHEMA_SQL)
        .unwrap()
        .replace("\r\n", "\n");
    std::fs::write(
        &edited,
        committed.replace("\"views\" integer", "\"views\" bigint"),
    )
    .unwrap();
    let edited = edited.to_str().unwrap();
    let out = migrate(&["schema", "--backend", "postgres", "--check", edited]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let line = committed
        .lines()
        .position(|l| l.contains("\"views\" integer"))
        .unwrap()
        + 1;
    assert_eq!(
        stderr,
        format!(
            "error: `{edited}` is stale: it is not the PostgreSQL schema the migrations build; \
             regenerate it with `schema --backend postgres --output {edited}`, review the diff and commit it\n  \
             first difference, line {line}:\n    \
             {edited}:   \"views\" bigint NOT NULL DEFAULT 0,\n    \
             migrations:   \"views\" integer NOT NULL DEFAULT 0,\n"
        )
    );

    let missing = dir.path().join("missing.sql");
    let missing = missing.to_str().unwrap();
    let out = migrate(&["schema", "--backend", "postgres", "--check", missing]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: `{missing}` does not exist: write the schema snapshot with \
             `schema --backend postgres --output {missing}`, review it and commit it\n"
        )
    );

    // `--output` writes what `--check` accepts.
    let out = migrate(&["schema", "--backend", "postgres", "--output", missing]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = migrate(&["schema", "--backend", "postgres", "--check", missing]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn schema_for_mysql() {
    check(
        &["schema", "--backend", "mysql"],
        expect![[r#"
            -- schema after 20261201091500 touch_posts_on_update (17 migrations), MySQL/MariaDB; generated by `schema`, do not edit

            CREATE TABLE `comments` (
              `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT,
              `post_id` bigint NOT NULL,
              `author_id` bigint NULL,
              `body` text NOT NULL,
              `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6))
            );
            CREATE INDEX `idx_comments_post_id` ON `comments` (`post_id`);
            CREATE INDEX `idx_comments_author_id` ON `comments` (`author_id`);

            CREATE TABLE `post_tags` (
              `post_id` bigint NOT NULL,
              `tag_id` bigint NOT NULL,
              PRIMARY KEY (`post_id`, `tag_id`)
            );
            CREATE INDEX `idx_post_tags_tag_id` ON `post_tags` (`tag_id`);

            CREATE TABLE `posts` (
              `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT,
              `author_id` bigint NOT NULL,
              `title` varchar(200) NOT NULL,
              `body` text NOT NULL,
              `published_at` datetime(6) NULL,
              `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              `views` int NOT NULL DEFAULT 0,
              `slug` varchar(255) NOT NULL,
              `status` enum('draft', 'published', 'archived') NOT NULL DEFAULT 'draft'
            );
            CREATE INDEX `idx_posts_author_id` ON `posts` (`author_id`);
            CREATE INDEX `idx_posts_published_at` ON `posts` (`published_at`);
            CREATE INDEX `idx_posts_slug` ON `posts` (`slug`);

            CREATE TABLE `tags` (
              `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT,
              `name` varchar(50) NOT NULL,
              `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              UNIQUE KEY `uq_tags_name` (`name`)
            );

            CREATE TABLE `users` (
              `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT,
              `email` varchar(255) NOT NULL,
              `name` varchar(100) NOT NULL,
              `created_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              `updated_at` datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
              `last_login_at` datetime(6) NULL,
              UNIQUE KEY `uq_users_email` (`email`)
            );

            ALTER TABLE `comments` ADD CONSTRAINT `fk_comments_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON DELETE CASCADE;
            ALTER TABLE `comments` ADD CONSTRAINT `fk_comments_author_id` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE SET NULL;
            ALTER TABLE `post_tags` ADD CONSTRAINT `fk_post_tags_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) ON DELETE CASCADE;
            ALTER TABLE `post_tags` ADD CONSTRAINT `fk_post_tags_tag_id` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE CASCADE;
            ALTER TABLE `posts` ADD CONSTRAINT `fk_posts_author_id` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE RESTRICT;

            CREATE VIEW `published_posts` AS SELECT id, author_id, title, published_at FROM posts WHERE status = 'published';
            CREATE TRIGGER posts_touch_updated_at BEFORE UPDATE ON posts FOR EACH ROW SET NEW.updated_at = UTC_TIMESTAMP(6);
        "#]],
    );
}

#[test]
fn schema_for_sqlite() {
    check(
        &["schema", "--backend", "sqlite"],
        expect![[r#"
            -- schema after 20261201091500 touch_posts_on_update (17 migrations), SQLite; generated by `schema`, do not edit

            CREATE TABLE "comments" (
              "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
              "post_id" integer NOT NULL,
              "author_id" integer NULL,
              "body" text NOT NULL,
              "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              FOREIGN KEY ("post_id") REFERENCES "posts" ("id") ON DELETE CASCADE,
              FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE SET NULL
            );
            CREATE INDEX "idx_comments_post_id" ON "comments" ("post_id");
            CREATE INDEX "idx_comments_author_id" ON "comments" ("author_id");

            CREATE TABLE "post_tags" (
              "post_id" integer NOT NULL,
              "tag_id" integer NOT NULL,
              PRIMARY KEY ("post_id", "tag_id"),
              FOREIGN KEY ("post_id") REFERENCES "posts" ("id") ON DELETE CASCADE,
              FOREIGN KEY ("tag_id") REFERENCES "tags" ("id") ON DELETE CASCADE
            );
            CREATE INDEX "idx_post_tags_tag_id" ON "post_tags" ("tag_id");

            CREATE TABLE "posts" (
              "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
              "author_id" integer NOT NULL,
              "title" varchar(200) NOT NULL,
              "body" text NOT NULL,
              "published_at" timestamp_with_timezone_text NULL,
              "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              "views" integer NOT NULL DEFAULT 0,
              "slug" varchar(255) NOT NULL,
              "status" text NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'published', 'archived')),
              FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE RESTRICT
            );
            CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
            CREATE INDEX "idx_posts_published_at" ON "posts" ("published_at");
            CREATE INDEX "idx_posts_slug" ON "posts" ("slug");

            CREATE TABLE "tags" (
              "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
              "name" varchar(50) NOT NULL,
              "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP
            );
            CREATE UNIQUE INDEX "uq_tags_name" ON "tags" ("name");

            CREATE TABLE "users" (
              "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
              "email" varchar(255) NOT NULL,
              "name" varchar(100) NOT NULL,
              "created_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              "updated_at" timestamp_with_timezone_text NOT NULL DEFAULT CURRENT_TIMESTAMP,
              "last_login_at" timestamp_with_timezone_text NULL
            );
            CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email");

            CREATE VIEW "published_posts" AS SELECT id, author_id, title, published_at FROM posts WHERE status = 'published';
            CREATE TRIGGER posts_touch_updated_at AFTER UPDATE ON posts FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at BEGIN UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;
        "#]],
    );
}

#[test]
fn the_committed_migrations_sum_matches_the_migrations() {
    let out = migrate(&["check"]);
    assert!(
        out.status.success(),
        "{}\nrewrite it with `cargo run -p migrations-example -- check --write` after review",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.ends_with("migrations.sum` matches the 17 migrations in the code\n"),
        "{stdout}"
    );
}

/// The database URLs of the test servers, as `.ci/run` sets them.
fn server_urls() -> [String; 2] {
    [
        std::env::var("GODWIT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string()),
        std::env::var("GODWIT_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://godwit:godwit@127.0.0.1:3306/test".to_string()),
    ]
}

#[test]
fn verify_walks_every_rollback_of_the_example_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/blog.db?mode=rwc", dir.path().display());
    let [postgres, mysql] = server_urls();
    for url in [sqlite, postgres, mysql] {
        let out = migrate(&["verify", "--database-url", &url]);
        assert!(
            out.status.success(),
            "verify on {url}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        // Every migration but the irreversible one, which is skipped: the walk goes on below it.
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with("every rollback restores the schema: 16 migration(s)"),
            "{stdout}"
        );
        assert!(
            stdout.contains(
                "\nskipped 20261121090000 delete_empty_comments: it cannot be rolled back"
            ),
            "{stdout}"
        );
    }
}

#[test]
fn schema_live_finds_no_drift_after_up() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/blog.db?mode=rwc", dir.path().display());
    let out = migrate(&["up", "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = migrate(&["schema", "--live", "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(
            "has exactly the schema its migrations build (applied through 20261201091500 touch_posts_on_update)"
        ),
        "{}",
        text(&out.stdout)
    );
}
