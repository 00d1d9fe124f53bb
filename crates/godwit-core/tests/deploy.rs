//! The deploy plan: SQL, transaction mode, locks, findings, reversibility and additive or
//! destructive, per migration.

use expect_test::{Expect, expect};
use godwit_core::prelude::*;
use godwit_core::{Backend, Catalog, Migration, MigrationId};

struct Up(fn(&mut Schema));

impl Migration for Up {
    fn up(&self, s: &mut Schema) {
        (self.0)(s)
    }
}

fn catalog(up: fn(&mut Schema)) -> Catalog {
    fn base(s: &mut Schema) {
        s.create_table("users", |t| {
            t.id();
            t.string("name", 100).nullable();
        });
        s.create_table("posts", |t| {
            t.id();
            t.references_as("author_id", "users");
            t.string("title", 200);
            t.integer("legacy").default(0);
        });
    }
    let base: &'static dyn Migration = Box::leak(Box::new(Up(base)));
    let m: &'static dyn Migration = Box::leak(Box::new(Up(up)));
    Catalog::new([
        (
            MigrationId {
                version: 1,
                name: "base".into(),
            },
            base,
        ),
        (
            MigrationId {
                version: 2,
                name: "under_test".into(),
            },
            m,
        ),
    ])
}

fn check(backend: Backend, up: fn(&mut Schema), expect: Expect) {
    let plans = catalog(up).deploy_plan(backend, Some(&[2])).unwrap();
    let mut out = String::new();
    for p in &plans {
        out += &format!(
            "{} {}: {}, {}, {}\n",
            p.id,
            backend,
            p.change.as_str(),
            if p.transactional {
                "in a transaction"
            } else {
                "outside a transaction"
            },
            match &p.reversible {
                Ok(()) => "reversible".to_string(),
                Err(e) => format!("irreversible ({e})"),
            }
        );
        for s in &p.steps {
            out += &format!(
                "  {} [{}] locks: {}\n",
                s.operation,
                s.change.as_str(),
                s.locks.join(", ")
            );
            for sql in &s.sql {
                out += &format!("    {sql};\n");
            }
        }
        for f in &p.findings {
            out += &format!(
                "  {}[{}]{}\n",
                if f.allowed.is_some() {
                    "allowed"
                } else {
                    "unsafe"
                },
                f.rule,
                f.allowed
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
    }
    expect.assert_eq(&out);
}

fn expand(s: &mut Schema) {
    s.add_column("posts", Column::text("summary").nullable());
    s.add_index("posts", ["title"]).concurrently();
}

fn contract(s: &mut Schema) {
    s.drop_column("posts", "legacy");
    s.allow(Rule::DropColumn, "nothing reads legacy since release 41");
    s.add_foreign_key("posts", ["author_id"], "users")
        .name("fk_posts_author_2")
        .not_valid();
    s.update("posts")
        .set("title", "untitled")
        .filter(Expr::col("title").eq(""));
    s.irreversible("titles that were empty cannot be told apart afterwards");
}

#[test]
fn an_additive_migration_on_postgres() {
    check(
        Backend::Postgres,
        expand,
        expect![[r#"
        2 under_test PostgreSQL: additive, outside a transaction, reversible
          add_column("posts", "summary") [additive] locks: ACCESS EXCLUSIVE on posts
            ALTER TABLE "posts" ADD COLUMN "summary" text NULL;
          add_index("posts", ["title"]) named "idx_posts_title" [additive] locks: SHARE UPDATE EXCLUSIVE on posts
            CREATE INDEX CONCURRENTLY "idx_posts_title" ON "posts" ("title");
          unsafe[concurrent-index-with-other-changes]
    "#]],
    );
}

#[test]
fn a_destructive_migration_on_postgres() {
    check(
        Backend::Postgres,
        contract,
        expect![[r#"
        2 under_test PostgreSQL: destructive, in a transaction, irreversible (migration 2 under_test (down): cannot be rolled back: it is marked irreversible ("titles that were empty cannot be told apart afterwards"); roll back no further than the migration after it)
          drop_column("posts", "legacy") [destructive] locks: ACCESS EXCLUSIVE on posts
            ALTER TABLE "posts" DROP COLUMN "legacy";
          add_foreign_key("posts", ["author_id"] -> "users") named "fk_posts_author_2" [destructive] locks: SHARE ROW EXCLUSIVE on posts, SHARE ROW EXCLUSIVE on users
            ALTER TABLE "posts" ADD CONSTRAINT "fk_posts_author_2" FOREIGN KEY ("author_id") REFERENCES "users" ("id") NOT VALID;
          update("posts") [destructive] locks: ROW EXCLUSIVE on posts
            UPDATE "posts" SET "title" = 'untitled' WHERE "title" = '';
          allowed[drop-column]: nothing reads legacy since release 41
          unsafe[data-in-schema-migration]
    "#]],
    );
}

#[test]
fn the_same_on_mysql() {
    check(
        Backend::MySql,
        contract,
        expect![[r#"
            2 under_test MySQL/MariaDB: destructive, outside a transaction, irreversible (migration 2 under_test (down): cannot be rolled back: it is marked irreversible ("titles that were empty cannot be told apart afterwards"); roll back no further than the migration after it)
              drop_column("posts", "legacy") [destructive] locks: metadata lock on posts (and a copy or write lock unless ALGORITHM/LOCK say otherwise)
                ALTER TABLE `posts` DROP COLUMN `legacy`;
              add_foreign_key("posts", ["author_id"] -> "users") named "fk_posts_author_2" [destructive] locks: metadata lock on posts (and a copy or write lock unless ALGORITHM/LOCK say otherwise)
                ALTER TABLE `posts` ADD CONSTRAINT `fk_posts_author_2` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`);
              update("posts") [destructive] locks: row locks on posts
                UPDATE `posts` SET `title` = 'untitled' WHERE `title` = '';
              allowed[drop-column]: nothing reads legacy since release 41
              unsafe[mysql-online-ddl]
              unsafe[mysql-foreign-key]
              unsafe[data-in-schema-migration]
        "#]],
    );
}

fn online(s: &mut Schema) {
    s.add_column("posts", Column::integer("views").default(0));
    s.create_table("tags", |t| {
        t.id();
        t.references("posts");
    });
    s.mysql_online(Algorithm::Inplace, Lock::None);
}

#[test]
fn mysql_online_ddl_shows_in_the_sql_and_the_locks() {
    check(
        Backend::MySql,
        online,
        expect![[r#"
        2 under_test MySQL/MariaDB: additive, outside a transaction, reversible
          add_column("posts", "views") [additive] locks: metadata lock on posts (ALGORITHM=INPLACE, LOCK=NONE: MySQL refuses the statement rather than copy the table or lock it harder)
            ALTER TABLE `posts` ADD COLUMN `views` int NOT NULL DEFAULT 0, ALGORITHM=INPLACE, LOCK=NONE;
          create_table("tags") [additive] locks: metadata lock on tags (new, empty), metadata lock on posts (referenced)
            CREATE TABLE `tags` ( `id` bigint NOT NULL PRIMARY KEY AUTO_INCREMENT, `post_id` bigint NOT NULL, CONSTRAINT `fk_tags_post_id` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`) );
            CREATE INDEX `idx_tags_post_id` ON `tags` (`post_id`) ALGORITHM=INPLACE LOCK=NONE;
    "#]],
    );
}

#[test]
fn the_plan_shows_the_sql_that_runs() {
    for up in [expand, contract, online] {
        for backend in Backend::ALL {
            let catalog = catalog(up);
            let plans = catalog.deploy_plan(backend, Some(&[2])).unwrap();
            let planned: Vec<&String> = plans[0].steps.iter().flat_map(|s| &s.sql).collect();
            let rendered = catalog.render_up(backend, Some(&[2])).unwrap();
            let runs: Vec<&String> = rendered[0].statements.iter().map(|s| &s.preview).collect();
            assert_eq!(planned, runs, "{backend}");
        }
    }
}

/// `ALGORITHM=COPY` copies the table, and its `LOCK` says what waits: the plan says so (and not
/// that MySQL refuses, which it does for the in-place algorithms only).
#[test]
fn a_copy_says_what_waits_for_it() {
    let plans = catalog(|s| {
        s.add_check("posts", "ck_title", "title <> ''");
        s.allow(Rule::MysqlCheck, "posts is small");
        s.mysql_online(Algorithm::Copy, Lock::Shared);
    })
    .deploy_plan(Backend::MySql, Some(&[2]))
    .unwrap();
    expect![[r#"
        ["metadata lock on posts (ALGORITHM=COPY, LOCK=SHARED: MySQL copies the table, and writes wait until the copy is done)"]
    "#]]
    .assert_eq(&format!("{:?}\n", plans[0].steps[0].locks));
}
