//! Validation, reversal and registration errors: each case is a migration and the message it
//! gets (or the SQL of its derived down), so the wording users see is pinned here.

use expect_test::{Expect, expect};
use godwit_core::prelude::*;
use godwit_core::{Backend, Catalog, Migration, MigrationId, Registration, resolve};

struct Fns(fn(&mut Schema), Option<fn(&mut Schema)>);

impl Migration for Fns {
    fn up(&self, s: &mut Schema) {
        (self.0)(s)
    }
    fn down(&self, s: &mut Schema) {
        match self.1 {
            Some(down) => down(s),
            None => s.reverse_up(),
        }
    }
}

fn base(s: &mut Schema) {
    s.create_table("users", |t| {
        t.id();
        t.string("email", 100).unique();
        t.string("name", 100).nullable();
        t.text("bio").nullable();
    });
    s.create_table("posts", |t| {
        t.id();
        t.references_as("author_id", "users");
        t.string("title", 200);
        t.integer("views").default(0);
    });
}

fn catalog(up: fn(&mut Schema), down: Option<fn(&mut Schema)>) -> Catalog {
    let base: &'static dyn Migration = Box::leak(Box::new(Fns(base, None)));
    let under_test: &'static dyn Migration = Box::leak(Box::new(Fns(up, down)));
    Catalog::new([
        (
            MigrationId {
                version: 20260101000000,
                name: "base".into(),
            },
            base,
        ),
        (
            MigrationId {
                version: 20260102000000,
                name: "under_test".into(),
            },
            under_test,
        ),
    ])
}

/// Render migration 2's up on `backend`: its SQL, or the error.
fn up_on(backend: Backend, up: fn(&mut Schema)) -> String {
    match catalog(up, None).render_up(backend, Some(&[20260102000000])) {
        Ok(ms) => ms[0]
            .statements
            .iter()
            .map(|s| format!("{};\n", s.preview))
            .collect(),
        Err(e) => format!("error: {e}\n"),
    }
}

fn check_up(up: fn(&mut Schema), expect: Expect) {
    expect.assert_eq(&up_on(Backend::Postgres, up));
}

fn check_down(up: fn(&mut Schema), down: Option<fn(&mut Schema)>, expect: Expect) {
    let actual = match catalog(up, down).render_down(Backend::Postgres, Some(&[20260102000000])) {
        Ok(ms) => {
            let m = &ms[0];
            let warnings = m.warnings.iter().map(|w| format!("-- warning: {w}\n"));
            let sql = m.statements.iter().map(|s| format!("{};\n", s.preview));
            warnings.chain(sql).collect()
        }
        Err(e) => format!("error: {e}\n"),
    };
    expect.assert_eq(&actual);
}

#[test]
fn unknown_table_lists_the_tables() {
    check_up(
        |s| s.add_column("comments", Column::text("body").nullable()),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_column("comments", "body"): table `comments` does not exist (the tables are: posts, users)
        "#]],
    );
}

#[test]
fn unknown_column_lists_the_columns() {
    check_up(
        |s| s.rename_column("posts", "body", "content"),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 rename_column("posts", "body", "content"): column `posts.body` does not exist (the columns are: id, author_id, title, views)
        "#]],
    );
}

#[test]
fn duplicate_column() {
    check_up(
        |s| s.add_column("posts", Column::string("title", 10).nullable()),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_column("posts", "title"): column `posts.title` already exists: choose another name, or drop or rename the existing column first
        "#]],
    );
}

#[test]
fn foreign_key_to_a_missing_column() {
    check_up(
        |s| {
            s.add_foreign_key("posts", ["views"], "users")
                .ref_columns(["score"]);
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_foreign_key("posts", ["views"] -> "users") named "fk_posts_views": foreign key `fk_posts_views` references column `users.score`, which does not exist (the columns are: id, email, name, bio)
        "#]],
    );
}

#[test]
fn foreign_key_between_different_types() {
    check_up(
        |s| {
            s.add_foreign_key("posts", ["views"], "users");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_foreign_key("posts", ["views"] -> "users") named "fk_posts_views": foreign key `fk_posts_views`: `posts.views` is integer but `users.id` is bigint; make both the same type
        "#]],
    );
}

#[test]
fn foreign_key_to_a_column_that_is_not_unique() {
    check_up(
        |s| {
            s.add_column("posts", Column::string("author_name", 100).nullable());
            s.add_foreign_key("posts", ["author_name"], "users")
                .ref_columns(["name"]);
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 add_foreign_key("posts", ["author_name"] -> "users") named "fk_posts_author_name": foreign key `fk_posts_author_name` references `users`(name), which is neither its primary key nor unique: add a unique constraint on it first
        "#]],
    );
}

#[test]
fn identifier_too_long_for_postgres_but_not_mysql() {
    fn up(s: &mut Schema) {
        // 64 characters: one too many for PostgreSQL, exactly enough for MySQL.
        s.add_index("posts", ["title"]).name("i".repeat(64));
    }
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_index("posts", ["title"]) named "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii": identifier `iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii` is 64 bytes long; PostgreSQL allows at most 63: pass a shorter name
    "#]]
    .assert_eq(&up_on(Backend::Postgres, up));
    expect![[r#"
        CREATE INDEX `iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii` ON `posts` (`title`);
    "#]]
    .assert_eq(&up_on(Backend::MySql, up));
}

#[test]
fn dropping_a_referenced_table() {
    check_up(
        |s| s.drop_table("users"),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 drop_table("users"): table `users` is still referenced by foreign key `fk_posts_author_id` on `posts`: drop that foreign key (or table) first
        "#]],
    );
}

#[test]
fn index_name_already_taken() {
    check_up(
        |s| {
            s.add_index("users", ["name"]).name("idx_posts_author_id");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_index("users", ["name"]) named "idx_posts_author_id": the name `idx_posts_author_id` is already used by an index on `posts`: pass `.name("...")` with another name
        "#]],
    );
}

#[test]
fn insert_with_a_short_row() {
    check_up(
        |s| {
            s.insert("users", ["email", "name"])
                .values(["a@example.com"]);
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 insert("users"): insert into `users` has a row of 1 value(s) for 2 column(s): give one value per column
        "#]],
    );
}

#[test]
fn raw_sql_without_text_for_the_backend() {
    check_up(
        |s| {
            s.sql_per_backend(PerBackend {
                mysql: Some("SELECT 1"),
                ..PerBackend::default()
            });
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 sql(...): PostgreSQL cannot run this raw SQL: it has no text for this backend: set `postgres: Some("...")` in its `PerBackend`
        "#]],
    );
}

#[test]
fn mysql_cannot_index_text_without_a_prefix() {
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_index("users", ["bio"]) named "idx_users_bio": MySQL/MariaDB cannot put an index on `users.bio`, a text column, without a prefix length: index a `string(len)` column instead (change the type, or add one holding the key)
    "#]]
    .assert_eq(&up_on(Backend::MySql, |s| {
        s.add_index("users", ["bio"]);
    }));
}

#[test]
fn empty_composite_primary_key() {
    check_up(
        |s| {
            s.create_table("likes", |t| {
                t.integer("n");
                t.primary_key(Vec::<String>::new());
            })
        },
        expect![[r#"
            error: migration 20260102000000 under_test: create_table("likes") has an empty primary_key([]): name at least one column
        "#]],
    );
}

#[test]
fn derived_down_of_drop_column_restores_it_with_its_index_and_warns() {
    check_down(
        |s| s.drop_column("posts", "author_id"),
        None,
        expect![[r#"
            -- warning: rolling back re-adds column `posts.author_id` without its data: the values it held were dropped
            -- warning: column `posts.author_id` is NOT NULL without a default: re-adding it fails on a table that has rows
            ALTER TABLE "posts" ADD COLUMN "author_id" bigint NOT NULL;
            CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
            ALTER TABLE "posts" ADD CONSTRAINT "fk_posts_author_id" FOREIGN KEY ("author_id") REFERENCES "users" ("id");
        "#]],
    );
}

#[test]
fn derived_down_runs_in_reverse_order() {
    check_down(
        |s| {
            s.add_column("users", Column::boolean("admin").default(false));
            s.add_index("users", ["admin"]);
            s.rename_column("users", "name", "full_name");
        },
        None,
        expect![[r#"
            ALTER TABLE "users" RENAME COLUMN "full_name" TO "name";
            DROP INDEX "idx_users_admin";
            ALTER TABLE "users" DROP COLUMN "admin";
        "#]],
    );
}

#[test]
fn raw_sql_without_down_cannot_be_reversed() {
    check_down(
        |s| {
            s.sql("UPDATE users SET name = email");
        },
        None,
        expect![[r#"
            error: migration 20260102000000 under_test (down), operation #1 sql(...): cannot be rolled back: `sql(...)` has no inverse; give it one with `.down("...")`, declare what it creates with `.creates_index(..)` and its kin, or write `down` by hand
        "#]],
    );
}

#[test]
fn raw_sql_with_down_is_reversed() {
    check_down(
        |s| {
            s.sql("CREATE VIEW authors AS SELECT * FROM users")
                .down("DROP VIEW authors");
        },
        None,
        expect![[r#"
            DROP VIEW authors;
        "#]],
    );
}

#[test]
fn irreversible_migration() {
    check_down(
        |s| {
            s.drop_column("users", "bio");
            s.irreversible("bios are exported to the archive and deleted");
        },
        None,
        expect![[r#"
            error: migration 20260102000000 under_test (down): cannot be rolled back: it is marked irreversible ("bios are exported to the archive and deleted"); roll back no further than the migration after it
        "#]],
    );
}

#[test]
fn handwritten_down_is_used_as_written() {
    check_down(
        |s| {
            s.update("posts").set("views", 0);
        },
        Some(|s| {
            s.update("posts")
                .set("views", Expr::col("views").add(1))
                .filter(Expr::col("id").eq(1));
        }),
        expect![[r#"
            UPDATE "posts" SET "views" = "views" + 1 WHERE "id" = 1;
        "#]],
    );
}

#[test]
fn file_names() {
    let cases = [
        "src/migrations/m20261120_090000_create_tags.rs",
        "m20261120_090000_Create_Tags.rs",
        "20261120_090000_create_tags.rs",
        "m20261120090000_create_tags.rs",
        "m20261320_090000_create_tags.rs",
        "m20261120_090000_.rs",
        "m20261120_090000_create_tags.txt",
    ];
    let actual: String = cases
        .iter()
        .map(|f| match MigrationId::from_file(f) {
            Ok(id) => format!("{f}: {} {}\n", id.version, id.name),
            Err(e) => format!("{f}: error: {e}\n"),
        })
        .collect();
    expect![[r#"
        src/migrations/m20261120_090000_create_tags.rs: 20261120090000 create_tags
        m20261120_090000_Create_Tags.rs: error: `m20261120_090000_Create_Tags.rs` has a name that is not snake_case (lowercase letters, digits, `_`): expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`
        20261120_090000_create_tags.rs: error: `20261120_090000_create_tags.rs` does not start with `m`: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`
        m20261120090000_create_tags.rs: error: `m20261120090000_create_tags.rs` has no `YYYYMMDD_HHMMSS_` timestamp after the `m`: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`
        m20261320_090000_create_tags.rs: error: `m20261320_090000_create_tags.rs` has an impossible date or time `20261320_090000`: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`
        m20261120_090000_.rs: error: `m20261120_090000_.rs` has a name that is not snake_case (lowercase letters, digits, `_`): expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`
        m20261120_090000_create_tags.txt: error: `m20261120_090000_create_tags.txt` is not a .rs file: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`
    "#]]
    .assert_eq(&actual);
}

#[test]
fn registration_errors_name_both_files() {
    struct Noop;
    impl Migration for Noop {
        fn up(&self, _: &mut Schema) {}
    }
    let reg = |file, type_name| Registration {
        file,
        type_name,
        migration: &Noop,
    };
    let errors = resolve(&[
        reg(
            "src/migrations/m20261120_090000_create_tags.rs",
            "CreateTags",
        ),
        reg(
            "src/migrations/m20261120_090000_create_tags.rs",
            "CreateLabels",
        ),
        reg("src/migrations/m20261121_100000_add_views.rs", "AddViews"),
        reg("src/migrations/m20261121_100000_add_slugs.rs", "AddSlugs"),
        reg("src/migrations/add_users.rs", "AddUsers"),
    ])
    .unwrap_err();
    let actual: String = errors.iter().map(|e| format!("{e}\n")).collect();
    expect![[r#"
        malformed migration file name: `add_users.rs` does not start with `m`: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`; rename the file
        `src/migrations/m20261120_090000_create_tags.rs` registers two migrations (`CreateTags` and `CreateLabels`): keep one `register!` per file and move the other into a file of its own
        two migrations have version 20261121100000: `src/migrations/m20261121_100000_add_slugs.rs` and `src/migrations/m20261121_100000_add_views.rs`; give one of them a later timestamp in its file name
    "#]]
    .assert_eq(&actual);
}

#[test]
fn identifier_with_a_quote() {
    check_up(
        |s| s.add_column("posts", Column::integer("a\"b").default(0)),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_column("posts", "a"b"): the column name `a\"b` contains '"', which no backend quotes the same way: use letters, digits and `_`
        "#]],
    );
}

#[test]
fn dropping_a_column_a_table_check_uses() {
    check_up(
        |s| {
            s.add_check(
                "posts",
                "ck_posts_views_title",
                "views < length(title) * 1000",
            );
            s.drop_column("posts", "title");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_column("posts", "title"): check `ck_posts_views_title` on `posts` uses column `title`: drop it first with `s.drop_check("posts", "ck_posts_views_title")` (and add a new one after, if needed)
        "#]],
    );
}

#[test]
fn renaming_a_column_rewrites_the_checks_that_use_it() {
    fn up(s: &mut Schema) {
        s.add_check("posts", "ck_posts_views", "views >= 0 AND 'views' <> ''");
        s.add_index("users", ["email"])
            .name("idx_users_named")
            .where_(Expr::col("name").is_not_null());
        s.rename_column("posts", "views", "view_count");
        s.rename_column("users", "name", "full_name");
        // A SQLite rebuild recreates the table from the model: the check must use the new name.
        s.set_default("posts", "view_count", 1);
        s.drop_index("users", "idx_users_named");
    }
    expect![[r#"
        CREATE TABLE "_godwit_new_posts" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "author_id" integer NOT NULL, "title" varchar(200) NOT NULL, "views" integer NOT NULL DEFAULT 0, FOREIGN KEY ("author_id") REFERENCES "users" ("id"), CONSTRAINT "ck_posts_views" CHECK (views >= 0 AND 'views' <> '') );
        INSERT INTO "_godwit_new_posts" ("id", "author_id", "title", "views") SELECT "id", "author_id", "title", "views" FROM "posts";
        -- keep the indexes and triggers on "posts" that the migrations do not know, and its AUTOINCREMENT counter (godwit reads them from sqlite_master here);
        DROP TABLE "posts";
        PRAGMA legacy_alter_table = ON;
        ALTER TABLE "_godwit_new_posts" RENAME TO "posts";
        PRAGMA legacy_alter_table = OFF;
        CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
        -- create again what was kept of "posts", as sqlite_master had it, and set its AUTOINCREMENT counter back;
        CREATE INDEX "idx_users_named" ON "users" ("email") WHERE "name" IS NOT NULL;
        ALTER TABLE "posts" RENAME COLUMN "views" TO "view_count";
        ALTER TABLE "users" RENAME COLUMN "name" TO "full_name";
        CREATE TABLE "_godwit_new_posts" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "author_id" integer NOT NULL, "title" varchar(200) NOT NULL, "view_count" integer NOT NULL DEFAULT 1, FOREIGN KEY ("author_id") REFERENCES "users" ("id"), CONSTRAINT "ck_posts_views" CHECK ("view_count" >= 0 AND 'views' <> '') );
        INSERT INTO "_godwit_new_posts" ("id", "author_id", "title", "view_count") SELECT "id", "author_id", "title", "view_count" FROM "posts";
        -- keep the indexes and triggers on "posts" that the migrations do not know, and its AUTOINCREMENT counter (godwit reads them from sqlite_master here);
        DROP TABLE "posts";
        PRAGMA legacy_alter_table = ON;
        ALTER TABLE "_godwit_new_posts" RENAME TO "posts";
        PRAGMA legacy_alter_table = OFF;
        CREATE INDEX "idx_posts_author_id" ON "posts" ("author_id");
        -- create again what was kept of "posts", as sqlite_master had it, and set its AUTOINCREMENT counter back;
        DROP INDEX "idx_users_named";
    "#]]
    .assert_eq(&up_on(Backend::Sqlite, up));
    check_down(
        up,
        None,
        expect![[r#"
        CREATE INDEX "idx_users_named" ON "users" ("email") WHERE "full_name" IS NOT NULL;
        ALTER TABLE "posts" ALTER COLUMN "view_count" SET DEFAULT 0;
        ALTER TABLE "users" RENAME COLUMN "full_name" TO "name";
        ALTER TABLE "posts" RENAME COLUMN "view_count" TO "views";
        DROP INDEX "idx_users_named";
        ALTER TABLE "posts" DROP CONSTRAINT "ck_posts_views";
    "#]],
    );
}

#[test]
fn dropping_the_unique_index_a_foreign_key_references() {
    check_up(
        |s| {
            s.add_index("users", ["name"])
                .unique()
                .name("uq_idx_users_name");
            s.add_column("posts", Column::string("author_name", 100).nullable());
            s.add_foreign_key("posts", ["author_name"], "users")
                .ref_columns(["name"]);
            s.drop_index("users", "uq_idx_users_name");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #4 drop_index("users", "uq_idx_users_name"): unique index `uq_idx_users_name` is the key foreign key `fk_posts_author_name` on `posts` references: drop that foreign key first
        "#]],
    );
}

#[test]
fn set_null_on_a_not_null_column() {
    check_up(
        |s| {
            s.create_table("likes", |t| {
                t.id();
                t.references("users").on_delete(SetNull);
            })
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 create_table("likes"): foreign key `fk_likes_user_id` sets `likes.user_id` to NULL, but it is NOT NULL: make it `.nullable()`, or choose another action
        "#]],
    );
}

#[test]
fn default_on_an_auto_increment_key() {
    check_up(
        |s| {
            s.create_table("likes", |t| {
                t.id().default(0);
            })
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 create_table("likes"): `likes.id` is auto-increment and has a default: remove the `.default(..)`, the database numbers the rows
        "#]],
    );
}

#[test]
fn insert_without_columns() {
    check_up(
        |s| {
            s.insert("users", Vec::<String>::new())
                .values(Vec::<i32>::new());
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 insert("users"): insert into `users` names no column: name the columns the values go to
        "#]],
    );
}

#[test]
fn mysql_literal_defaults_on_text_are_parenthesized() {
    expect![[r#"
        ALTER TABLE `users` ADD COLUMN `motto` text NOT NULL DEFAULT ('carpe diem');
        ALTER TABLE `users` ALTER COLUMN `bio` SET DEFAULT ('');
    "#]]
    .assert_eq(&up_on(Backend::MySql, |s| {
        s.add_column("users", Column::text("motto").default("carpe diem"));
        s.set_default("users", "bio", "");
    }));
}

#[test]
fn mysql_limits() {
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_column("users", "essay"): MySQL/MariaDB cannot make `users.essay` a varchar(20000): with utf8mb4 the longest is varchar(16383): use `text` for long strings
    "#]]
    .assert_eq(&up_on(Backend::MySql, |s| {
        s.add_column("users", Column::string("essay", 20000).nullable());
    }));
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_column("users", "token"): MySQL/MariaDB cannot give `users.token` a literal uuid default: a uuid is binary(16) there: set the default with a SQL expression per backend, or in the application
    "#]]
    .assert_eq(&up_on(Backend::MySql, |s| {
        s.add_column("users", Column::uuid("token").default("00000000-0000-0000-0000-000000000000"));
    }));
}

#[test]
fn postgres_type_change_of_a_column_with_a_default() {
    check_up(
        |s| s.change_column_type("posts", "views", ColumnType::BigInt),
        expect![[r#"
            ALTER TABLE "posts" ALTER COLUMN "views" DROP DEFAULT;
            ALTER TABLE "posts" ALTER COLUMN "views" TYPE bigint USING "views"::bigint;
            ALTER TABLE "posts" ALTER COLUMN "views" SET DEFAULT 0;
        "#]],
    );
}

#[test]
fn postgres_counts_identifier_bytes() {
    check_up(
        |s| {
            s.add_index("posts", ["title"]).name("é".repeat(40));
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_index("posts", ["title"]) named "éééééééééééééééééééééééééééééééééééééééé": identifier `éééééééééééééééééééééééééééééééééééééééé` is 80 bytes long; PostgreSQL allows at most 63: pass a shorter name
        "#]],
    );
}

#[test]
fn references_with_names_and_a_type() {
    check_up(
        |s| {
            s.create_table("accounts", |t| {
                t.uuid("id").primary_key();
            });
            s.create_table("memberships", |t| {
                t.id();
                t.references("accounts")
                    .of_type(ColumnType::Uuid)
                    .name("fk_member_account")
                    .index_name("idx_member_account");
            });
        },
        expect![[r#"
            CREATE TABLE "accounts" ( "id" uuid NOT NULL, PRIMARY KEY ("id") );
            CREATE TABLE "memberships" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "account_id" uuid NOT NULL, CONSTRAINT "fk_member_account" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") );
            CREATE INDEX "idx_member_account" ON "memberships" ("account_id");
        "#]],
    );
}

#[test]
fn dropping_an_object_no_migration_declared() {
    check_up(
        |s| {
            s.sql("CREATE VIEW authors AS SELECT * FROM users")
                .creates_view("authors", ["users"]);
            s.sql("DROP VIEW readers").drops_view("readers");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 sql(...) that drops view readers: raw SQL declares that it drops view `readers`, which no migration declared creating (the views declared are: authors): declare it where it is created, with `.creates_view(..)`, or remove this `.drops_view(..)`
        "#]],
    );
}

#[test]
fn declaring_an_object_twice() {
    check_up(
        |s| {
            s.sql("CREATE INDEX ix_users_lower_email ON users (lower(email))")
                .creates_index("ix_users_lower_email", "users");
            s.sql("CREATE INDEX ix_users_lower_email ON users (lower(email))")
                .creates_index("ix_users_lower_email", "users");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 sql(...) that creates index ix_users_lower_email: raw SQL declares that it creates index `ix_users_lower_email`, which an earlier migration declared already: drop it first (`.drops_index("ix_users_lower_email")`), or give it another name
        "#]],
    );
}

#[test]
fn a_raw_index_takes_its_name() {
    check_up(
        |s| {
            s.sql("CREATE INDEX ix_users_name ON users (lower(name))")
                .creates_index("ix_users_name", "users");
            s.add_index("users", ["name"]).name("ix_users_name");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 add_index("users", ["name"]) named "ix_users_name": the name `ix_users_name` is already used by an index made by raw SQL on `users`: pass `.name("...")` with another name
        "#]],
    );
}

#[test]
fn declared_on_a_table_that_does_not_exist() {
    check_up(
        |s| {
            s.sql("CREATE TRIGGER trg AFTER UPDATE ON authors BEGIN SELECT 1; END")
                .creates_trigger("trg", "authors");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 sql(...) that creates trigger trg: table `authors` does not exist (the tables are: posts, users)
        "#]],
    );
}

#[test]
fn dropping_a_table_a_declared_view_reads() {
    check_up(
        |s| {
            s.sql("CREATE VIEW titles AS SELECT title FROM posts")
                .creates_view("titles", ["posts"]);
            s.drop_table("posts");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_table("posts"): table `posts` is read by view `titles`, made by raw SQL: drop the view first, with `s.sql("DROP VIEW titles").drops_view("titles")` (PostgreSQL refuses to drop the table under it)
        "#]],
    );
}

#[test]
fn dropping_declared_objects_needs_their_down() {
    check_down(
        |s| {
            s.sql("CREATE VIEW titles AS SELECT title FROM posts")
                .creates_view("titles", ["posts"]);
            s.sql("DROP VIEW titles").drops_view("titles");
        },
        None,
        expect![[r#"
            error: migration 20260102000000 under_test (down), operation #2 sql(...) that drops view titles: cannot be rolled back: `sql(...) that drops view titles` has no inverse; what it drops can only be made again by SQL it does not have: give it that SQL with `.down("...")`, or write `down` by hand
        "#]],
    );
}

#[test]
fn declared_objects_are_dropped_by_the_derived_down() {
    check_down(
        |s| {
            s.sql("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
                .creates_function("touch");
            s.sql("CREATE TRIGGER trg_posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch()")
                .creates_trigger("trg_posts_touch", "posts");
            s.sql("CREATE INDEX CONCURRENTLY ix_posts_lower_title ON posts (lower(title))")
                .creates_index("ix_posts_lower_title", "posts")
                .outside_transaction();
        },
        None,
        expect![[r#"
            DROP INDEX CONCURRENTLY "ix_posts_lower_title";
            DROP TRIGGER "trg_posts_touch" ON "posts";
            DROP ROUTINE "touch";
        "#]],
    );
}

#[test]
fn type_limits_are_checked_before_running() {
    let long = |s: &mut Schema| {
        s.add_column("users", Column::string("essay", 10_485_761).nullable());
    };
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_column("users", "essay"): PostgreSQL cannot make `users.essay` a varchar(10485761): the longest is varchar(10485760): use `text` for long strings
    "#]].assert_eq(&up_on(Backend::Postgres, long));
    let wide = |s: &mut Schema| {
        s.add_column("users", Column::decimal("balance", 66, 2).nullable());
    };
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_column("users", "balance"): MySQL/MariaDB cannot make `users.balance` a decimal of precision 66: the most is 65 digits: use at most decimal(65, ..), or store the digits as a string
    "#]].assert_eq(&up_on(Backend::MySql, wide));
}

#[test]
fn raw_sql_saying_concurrently_runs_outside_a_transaction_on_postgres() {
    let catalog = catalog(
        |s| {
            s.sql("CREATE INDEX CONCURRENTLY ix ON users (lower(email))")
                .down("DROP INDEX CONCURRENTLY ix");
        },
        None,
    );
    let up = |b| catalog.render_up(b, Some(&[20260102000000])).unwrap()[0].transactional;
    assert!(!up(Backend::Postgres));
    let quoted = catalog_of_text("SELECT 'CONCURRENTLY' -- CONCURRENTLY\n");
    assert!(
        quoted
            .render_up(Backend::Postgres, Some(&[20260102000000]))
            .unwrap()[0]
            .transactional
    );
}

fn catalog_of_text(text: &'static str) -> Catalog {
    let up: fn(&mut Schema) = match text {
        "SELECT 'CONCURRENTLY' -- CONCURRENTLY\n" => |s| {
            s.sql("SELECT 'CONCURRENTLY' -- CONCURRENTLY\n")
                .down("SELECT 1");
        },
        _ => unreachable!(),
    };
    catalog(up, None)
}

// ----- views, functions, triggers, enums and comments ------------------------------------------

fn titles_view(s: &mut Schema) {
    s.create_view("post_titles", "SELECT id, title FROM posts");
}

#[test]
fn dropping_a_column_a_view_reads() {
    check_up(
        |s| {
            titles_view(s);
            s.drop_column("posts", "title");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_column("posts", "title"): column `posts.title` is read by view `post_titles`: in the same migration, drop the view first (`s.drop_view("post_titles")`), then create it again without the column
        "#]],
    );
}

#[test]
fn dropping_a_column_a_view_does_not_read() {
    check_up(
        |s| {
            titles_view(s);
            s.drop_column("posts", "views");
        },
        expect![[r#"
            CREATE VIEW "post_titles" AS SELECT id, title FROM posts;
            ALTER TABLE "posts" DROP COLUMN "views";
        "#]],
    );
}

#[test]
fn renaming_a_column_a_view_reads() {
    check_up(
        |s| {
            titles_view(s);
            s.rename_column("posts", "title", "headline");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 rename_column("posts", "title", "headline"): column `posts.title` is read by view `post_titles`, which each database would carry along differently: in the same migration, drop the view first (`s.drop_view("post_titles")`), rename the column, then create the view again with the new name
        "#]],
    );
}

#[test]
fn changing_the_type_of_a_column_a_view_reads_on_postgres() {
    check_up(
        |s| {
            titles_view(s);
            s.change_column_type("posts", "title", ColumnType::Text);
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 change_column_type("posts", "title", text): PostgreSQL cannot change the type of `posts.title` while view `post_titles` reads it (PostgreSQL refuses to change the type of a column a view reads): in the same migration, drop the view first and create it again after: `s.drop_view("post_titles");`, the change, then `s.create_view("post_titles", "SELECT ...");`
        "#]],
    );
}

#[test]
fn changing_the_type_of_a_column_a_view_reads_the_way_that_works() {
    check_up(
        |s| {
            titles_view(s);
            s.drop_view("post_titles");
            s.change_column_type("posts", "title", ColumnType::Text);
            s.create_view("post_titles", "SELECT id, title FROM posts");
        },
        expect![[r#"
            CREATE VIEW "post_titles" AS SELECT id, title FROM posts;
            DROP VIEW "post_titles";
            ALTER TABLE "posts" ALTER COLUMN "title" TYPE text USING "title"::text;
            CREATE VIEW "post_titles" AS SELECT id, title FROM posts;
        "#]],
    );
}

#[test]
fn a_view_reading_everything_reads_each_column() {
    check_up(
        |s| {
            s.create_view("all_posts", "SELECT * FROM posts");
            s.drop_column("posts", "views");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_column("posts", "views"): column `posts.views` is read by view `all_posts`: in the same migration, drop the view first (`s.drop_view("all_posts")`), then create it again without the column
        "#]],
    );
}

#[test]
fn dropping_a_table_a_view_reads() {
    check_up(
        |s| {
            titles_view(s);
            s.drop_table("posts");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_table("posts"): table `posts` is read by view `post_titles`: drop the view first, with `s.drop_view("post_titles")` (PostgreSQL refuses to drop the table under it)
        "#]],
    );
}

#[test]
fn dropping_a_view_another_view_reads() {
    check_up(
        |s| {
            titles_view(s);
            s.create_view(
                "short_titles",
                "SELECT id FROM post_titles WHERE length(title) < 20",
            );
            s.drop_view("post_titles");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #3 drop_view("post_titles"): view `post_titles` is used by view `short_titles`: drop that first (`s.drop_view("short_titles")`), and create it again after if it should stay
        "#]],
    );
}

#[test]
fn dropping_a_function_a_trigger_calls() {
    check_up(
        |s| {
            s.create_function(
                "touch",
                PerBackend {
                    postgres: Some("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"),
                    mysql: Some(""),
                    sqlite: Some(""),
                },
            );
            s.create_trigger(
                "posts_touch",
                "posts",
                PerBackend {
                    postgres: Some("CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch()"),
                    mysql: None,
                    sqlite: None,
                },
            );
            s.drop_function("touch");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #3 drop_function("touch"): function `touch` is used by trigger `posts_touch`: drop that first (`s.drop_trigger("posts_touch")`), and create it again after if it should stay
        "#]],
    );
}

#[test]
fn a_trigger_without_text_for_a_backend() {
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 create_trigger("posts_touch"): SQLite cannot create trigger `posts_touch` on `posts`: it has no text for this backend: set `sqlite: Some("...")` in its `PerBackend`
    "#]].assert_eq(&up_on(Backend::Sqlite, |s| {
        s.create_trigger(
            "posts_touch",
            "posts",
            PerBackend {
                postgres: Some("CREATE TRIGGER .."),
                mysql: None,
                sqlite: None,
            },
        );
    }));
}

#[test]
fn dropping_an_object_that_does_not_exist() {
    check_up(
        |s| {
            titles_view(s);
            s.drop_view("post_title");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_view("post_title"): there is no view `post_title` (the views are: post_titles)
        "#]],
    );
}

#[test]
fn a_column_of_an_enum_that_does_not_exist() {
    check_up(
        |s| {
            s.add_column(
                "posts",
                Column::enumeration("state", "post_state").nullable(),
            )
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_column("posts", "state"): there is no enum `post_state`: create it first with `s.create_enum("post_state", [..])`
        "#]],
    );
}

#[test]
fn an_enum_value_twice() {
    check_up(
        |s| s.create_enum("post_state", ["draft", "live", "draft"]),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 create_enum("post_state", ["draft", "live", "draft"]): enum `post_state` has the value `draft` twice: give each value once
        "#]],
    );
}

#[test]
fn removing_the_value_a_column_defaults_to() {
    check_up(
        |s| {
            s.create_enum("post_state", ["draft", "live"]);
            s.add_column(
                "posts",
                Column::enumeration("state", "post_state").default("draft"),
            );
            s.remove_enum_value("post_state", "draft");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #3 remove_enum_value("post_state", "draft"): `posts.state` defaults to `draft`, the value removed from enum `post_state`: set another default first
        "#]],
    );
}

#[test]
fn dropping_an_enum_a_column_uses() {
    check_up(
        |s| {
            s.create_enum("post_state", ["draft", "live"]);
            s.add_column(
                "posts",
                Column::enumeration("state", "post_state").nullable(),
            );
            s.drop_enum("post_state");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #3 drop_enum("post_state"): enum `post_state` is the type of `posts.state`: drop that column (or change its type) first
        "#]],
    );
}

#[test]
fn removing_a_value_that_is_not_last_has_no_derived_down() {
    check_down(
        |s| {
            s.create_enum("post_state", ["draft", "live", "gone"]);
            s.remove_enum_value("post_state", "live");
        },
        None,
        expect![[r#"
            error: migration 20260102000000 under_test (down), operation #2 remove_enum_value("post_state", "live"): cannot be rolled back: `remove_enum_value("post_state", "live")` has no inverse; adding the value back puts it last, not where it was, which changes how the values sort: write `down` by hand
        "#]],
    );
}

#[test]
fn a_comment_with_a_backslash_on_mysql() {
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 comment_on_table("posts"): MySQL/MariaDB cannot write the comment of `posts`: it holds a backslash, a NUL or a Ctrl-Z, which MySQL/MariaDB read differently under each `sql_mode`: leave those characters out of it
    "#]].assert_eq(&up_on(Backend::MySql, |s| {
        s.comment_on_table("posts", r"C:\posts");
    }));
    expect![[r#"
        COMMENT ON TABLE "posts" IS E'C:\\posts';
    "#]]
    .assert_eq(&up_on(Backend::Postgres, |s| {
        s.comment_on_table("posts", r"C:\posts");
    }));
}

fn with_total(s: &mut Schema) {
    s.add_column(
        "posts",
        Column::integer("double_views").generated(col("views").mul(2)),
    );
}

#[test]
fn writing_a_generated_column() {
    check_up(
        |s| {
            with_total(s);
            s.update("posts").set("double_views", 4);
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 update("posts"): update of `posts` writes `posts.double_views`, a generated column, whose value the database computes: leave it out
        "#]],
    );
}

#[test]
fn dropping_a_column_a_generated_column_is_computed_from() {
    check_up(
        |s| {
            with_total(s);
            s.drop_column("posts", "views");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_column("posts", "views"): generated column `posts.double_views` is computed from `views`: drop it first with `s.drop_column("posts", "double_views")`
        "#]],
    );
}

#[test]
fn a_generated_column_with_a_default() {
    check_up(
        |s| {
            s.create_table("lines", |t| {
                t.id();
                t.integer("n");
                t.integer("twice").default(0).generated(col("n").mul(2));
            });
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 create_table("lines"): `lines.twice` is generated: its value is computed, so it takes no default and is not auto-increment
        "#]],
    );
}

#[test]
fn renaming_a_column_a_generated_column_is_computed_from() {
    check_up(
        |s| {
            with_total(s);
            s.rename_column("posts", "views", "reads");
            s.drop_column("posts", "double_views");
            s.add_column(
                "posts",
                Column::integer("double_views").generated(col("reads").mul(2)),
            );
        },
        expect![[r#"
            ALTER TABLE "posts" ADD COLUMN "double_views" integer GENERATED ALWAYS AS ("views" * 2) STORED NOT NULL;
            ALTER TABLE "posts" RENAME COLUMN "views" TO "reads";
            ALTER TABLE "posts" DROP COLUMN "double_views";
            ALTER TABLE "posts" ADD COLUMN "double_views" integer GENERATED ALWAYS AS ("reads" * 2) STORED NOT NULL;
        "#]],
    );
}

#[test]
fn dropping_a_column_a_trigger_names() {
    check_up(
        |s| {
            s.create_trigger(
                "posts_touch",
                "posts",
                PerBackend {
                    postgres: Some("CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION f()"),
                    mysql: Some("CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW SET NEW.views = NEW.views + 1"),
                    sqlite: Some(""),
                },
            );
            s.drop_column("posts", "views");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 drop_column("posts", "views"): column `posts.views` is named by trigger `posts_touch`: in the same migration, drop the trigger first (`s.drop_trigger("posts_touch")`), then create it again without the column
        "#]],
    );
}

#[test]
fn removing_an_enum_value_a_check_compares_with() {
    check_up(
        |s| {
            s.create_enum("post_state", ["draft", "live", "gone"]);
            s.add_column(
                "posts",
                Column::enumeration("state", "post_state").default("draft"),
            );
            s.add_check("posts", "ck_posts_not_gone", col("state").ne("gone"));
            s.remove_enum_value("post_state", "gone");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #4 remove_enum_value("post_state", "gone"): PostgreSQL cannot remove a value from enum `post_state` while check `ck_posts_not_gone` on `posts` compares `state` with its values (PostgreSQL makes the type again, and cannot carry the comparison over): in the same migration, drop the check `ck_posts_not_gone` first and add it again after the removal
        "#]],
    );
}

#[test]
fn a_procedure_on_mysql_is_dropped_as_one() {
    expect![[r#"
        CREATE PROCEDURE archive_posts() SELECT 1;
        DROP PROCEDURE `archive_posts`;
    "#]]
    .assert_eq(&up_on(Backend::MySql, |s| {
        s.create_function(
            "archive_posts",
            PerBackend {
                postgres: Some("CREATE PROCEDURE archive_posts() LANGUAGE sql AS 'SELECT 1'"),
                mysql: Some("CREATE PROCEDURE archive_posts() SELECT 1"),
                sqlite: Some(""),
            },
        );
        s.drop_function("archive_posts");
    }));
}

#[test]
fn changing_the_type_of_a_generated_column() {
    check_up(
        |s| {
            with_total(s);
            s.change_column_type("posts", "double_views", ColumnType::BigInt);
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 change_column_type("posts", "double_views", bigint): column `posts.double_views` is generated: drop it and add it again with the new type
        "#]],
    );
}

#[test]
fn a_foreign_key_between_enum_columns() {
    check_up(
        |s| {
            s.create_enum("kind", ["a", "b"]);
            s.create_table("kinds", |t| {
                t.enumeration("kind", "kind").primary_key();
            });
            s.create_table("things", |t| {
                t.id();
                t.enumeration("kind", "kind");
            });
            s.add_foreign_key("things", ["kind"], "kinds")
                .ref_columns(["kind"]);
        },
        expect![[r#"
            CREATE TYPE "kind" AS ENUM ('a', 'b');
            CREATE TABLE "kinds" ( "kind" "kind" NOT NULL, PRIMARY KEY ("kind") );
            CREATE TABLE "things" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "kind" "kind" NOT NULL );
            ALTER TABLE "things" ADD CONSTRAINT "fk_things_kind" FOREIGN KEY ("kind") REFERENCES "kinds" ("kind");
        "#]],
    );
}

#[test]
fn a_generated_column_computed_from_the_key_on_mysql() {
    expect![[r#"
        error: migration 20260102000000 under_test, operation #1 add_column("posts", "id_twice"): MySQL/MariaDB cannot compute `posts.id_twice` from `id`, the auto-increment key: MySQL/MariaDB refuse it: compute it from other columns, or in the application
    "#]].assert_eq(&up_on(Backend::MySql, |s| {
        s.add_column(
            "posts",
            Column::big_integer("id_twice").generated(col("id").mul(2)),
        );
    }));
}

#[test]
fn a_view_follows_its_table_renamed_and_keeps_its_aliases() {
    check_down(
        |s| {
            s.create_view("post_count", "SELECT COUNT(*) AS posts FROM posts");
            s.rename_table("posts", "articles");
            s.drop_view("post_count");
        },
        None,
        expect![[r#"
            CREATE VIEW "post_count" AS SELECT COUNT(*) AS posts FROM "articles";
            ALTER TABLE "articles" RENAME TO "posts";
            DROP VIEW "post_count";
        "#]],
    );
}

#[test]
fn an_enum_value_used_in_the_migration_that_adds_it() {
    let up: fn(&mut Schema) = |s| {
        s.create_enum("post_state", ["draft", "live"]);
        s.add_column(
            "posts",
            Column::enumeration("state", "post_state").default("draft"),
        );
        s.add_enum_value("post_state", "gone");
        s.update("posts")
            .set("state", "gone")
            .filter(col("views").eq(0));
    };
    expect![[r#"
        error: migration 20260102000000 under_test, operation #4 update("posts"): PostgreSQL cannot use `gone`, which this migration adds to enum `post_state`, in the same transaction: PostgreSQL lets a new enum value be used only once the transaction that adds it has committed: use it in the next migration
    "#]].assert_eq(&up_on(Backend::Postgres, up));
    expect![[r#"
        ALTER TABLE `posts` ADD COLUMN `state` enum('draft', 'live') NOT NULL DEFAULT 'draft';
        ALTER TABLE `posts` MODIFY COLUMN `state` enum('draft', 'live', 'gone') NOT NULL DEFAULT 'draft';
        UPDATE `posts` SET `state` = 'gone' WHERE `views` = 0;
    "#]].assert_eq(&up_on(Backend::MySql, up));
}

#[test]
fn names_with_a_schema() {
    check_up(
        |s| s.add_column("posts", Column::integer("a.b").default(0)),
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 add_column("posts", "a.b"): the column name `a.b` contains a dot, which separates a PostgreSQL schema from a table's, view's, type's or function's name: use letters, digits and `_`
        "#]],
    );
    check_up(
        |s| {
            s.create_table("billing..invoices", |t| {
                t.id();
            })
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 create_table("billing..invoices"): the table name `billing..invoices` is not `schema.name`: a dot separates a PostgreSQL schema from the name, once, with a name on each side
        "#]],
    );
    check_up(
        |s| {
            s.create_table(".invoices", |t| {
                t.id();
            })
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #1 create_table(".invoices"): the table name `.invoices` is not `schema.name`: a dot separates a PostgreSQL schema from the name, once, with a name on each side
        "#]],
    );
    check_up(
        |s| {
            s.create_schema("billing");
            s.create_schema("billing");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 create_schema("billing"): schema `billing` exists already: an earlier migration created it
        "#]],
    );
    check_up(
        |s| s.drop_schema("billing"),
        expect![[r#"
        error: migration 20260102000000 under_test, operation #1 drop_schema("billing"): there is no schema `billing` made by `s.create_schema`: drop one made outside the migrations with raw SQL (`s.sql("DROP SCHEMA billing")`)
    "#]],
    );
    check_up(
        |s| {
            s.create_schema("billing");
            s.create_table("billing.invoices", |t| {
                t.id();
            });
            s.drop_schema("billing");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #3 drop_schema("billing"): schema `billing` still holds table `billing.invoices`: drop or move what is in it first
        "#]],
    );
    // Default names come from the table's own name; a reference's column from its own too.
    check_up(
        |s| {
            s.create_schema("billing");
            s.create_table("billing.invoices", |t| {
                t.id();
                t.references("posts");
                t.string("number", 20).unique();
            });
            s.create_table("billing.lines", |t| {
                t.id();
                t.references("billing.invoices");
            });
        },
        expect![[r#"
            CREATE SCHEMA "billing";
            CREATE TABLE "billing"."invoices" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "post_id" bigint NOT NULL, "number" varchar(20) NOT NULL, CONSTRAINT "uq_invoices_number" UNIQUE ("number"), CONSTRAINT "fk_invoices_post_id" FOREIGN KEY ("post_id") REFERENCES "posts" ("id") );
            CREATE INDEX "idx_invoices_post_id" ON "billing"."invoices" ("post_id");
            CREATE TABLE "billing"."lines" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "invoice_id" bigint NOT NULL, CONSTRAINT "fk_lines_invoice_id" FOREIGN KEY ("invoice_id") REFERENCES "billing"."invoices" ("id") );
            CREATE INDEX "idx_lines_invoice_id" ON "billing"."lines" ("invoice_id");
        "#]],
    );
}

#[test]
fn renaming_a_table_in_a_schema_under_a_view() {
    check_up(
        |s| {
            s.create_schema("billing");
            s.create_table("billing.invoices", |t| {
                t.id();
            });
            s.create_view("billing.recent", "SELECT id FROM billing.invoices");
            s.rename_table("billing.invoices", "billing.bills");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #4 rename_table("billing.invoices", "billing.bills"): PostgreSQL cannot rename or move table `billing.invoices` to `billing.bills` while view `billing.recent` reads it (godwit cannot follow a name with a schema through the view's query, so its kept query would name a table that is gone): in the same migration, drop the view first and create it again after: `s.drop_view("billing.recent");`, the change, then `s.create_view("billing.recent", "SELECT ...");`
        "#]],
    );
}

#[test]
fn tables_of_the_same_name_in_two_schemas() {
    // The view reads `billing.invoices`, not `invoices`: renaming or dropping `invoices` is
    // not held back by it, and leaves its query as it was.
    check_up(
        |s| {
            s.create_table("invoices", |t| {
                t.id();
            });
            s.create_schema("billing");
            s.create_table("billing.invoices", |t| {
                t.id();
            });
            s.create_view("billing.recent", "SELECT id FROM billing.invoices");
            s.rename_table("invoices", "old_invoices");
            s.drop_table("old_invoices");
            s.drop_view("billing.recent");
        },
        expect![[r#"
            CREATE TABLE "invoices" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY );
            CREATE SCHEMA "billing";
            CREATE TABLE "billing"."invoices" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY );
            CREATE VIEW "billing"."recent" AS SELECT id FROM billing.invoices;
            ALTER TABLE "invoices" RENAME TO "old_invoices";
            DROP TABLE "old_invoices";
            DROP VIEW "billing"."recent";
        "#]],
    );
    // Moved and renamed: renamed first where its schema has room, else moved first.
    check_up(
        |s| {
            s.create_table("invoices", |t| {
                t.id();
            });
            s.create_table("bills", |t| {
                t.id();
            });
            s.create_schema("billing");
            s.rename_table("invoices", "billing.bills");
        },
        expect![[r#"
            CREATE TABLE "invoices" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY );
            CREATE TABLE "bills" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY );
            CREATE SCHEMA "billing";
            ALTER TABLE "invoices" SET SCHEMA "billing";
            ALTER TABLE "billing"."invoices" RENAME TO "bills";
        "#]],
    );
    // A schema that holds a table already was made outside the migrations.
    check_up(
        |s| {
            s.create_table("legacy.accounts", |t| {
                t.id();
            });
            s.create_schema("legacy");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #2 create_schema("legacy"): schema `legacy` exists already: table `legacy.accounts` is in it (made outside the migrations, then): leave `create_schema` out
        "#]],
    );
}

#[test]
fn a_name_with_a_schema_left_out_on_a_backend() {
    // Raw SQL (or a view) that names a schema, and is empty on MySQL/MariaDB and SQLite on
    // purpose, renders nothing there rather than refusing.
    fn up(s: &mut Schema) {
        s.sql_per_backend(PerBackend {
            postgres: Some("CREATE VIEW billing.totals AS SELECT 1 AS one"),
            mysql: Some(""),
            sqlite: Some(""),
        })
        .creates_view("billing.totals", Vec::<String>::new())
        .down_per_backend(PerBackend {
            postgres: Some("DROP VIEW billing.totals"),
            mysql: Some(""),
            sqlite: Some(""),
        });
    }
    expect![[""]].assert_eq(&up_on(Backend::MySql, up));
    expect![[""]].assert_eq(&up_on(Backend::Sqlite, up));
    expect![[r#"
        CREATE VIEW billing.totals AS SELECT 1 AS one;
    "#]]
    .assert_eq(&up_on(Backend::Postgres, up));
}

#[test]
fn functions_and_odd_names_in_a_schema() {
    // A trigger that calls `billing.touch()` holds the function.
    check_up(
        |s| {
            s.create_schema("billing");
            s.create_table("billing.invoices", |t| {
                t.id();
            });
            s.create_function(
                "billing.touch",
                PerBackend {
                    postgres: Some(
                        "CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                    ),
                    mysql: Some(""),
                    sqlite: Some(""),
                },
            );
            s.create_trigger(
                "invoices_touch",
                "billing.invoices",
                PerBackend {
                    postgres: Some(
                        "CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch()",
                    ),
                    mysql: Some(""),
                    sqlite: Some(""),
                },
            );
            s.drop_function("billing.touch");
        },
        expect![[r#"
            error: migration 20260102000000 under_test, operation #5 drop_function("billing.touch"): function `billing.touch` is used by trigger `invoices_touch`: drop that first (`s.drop_trigger("invoices_touch")`), and create it again after if it should stay
        "#]],
    );
    // A name holding the dollar quote's tag moves out with another tag.
    check_up(
        |s| {
            s.create_schema("x$godwit$y");
            s.create_table("x$godwit$y.t", |t| {
                t.id();
            });
            s.rename_table("x$godwit$y.t", "t");
        },
        expect![[r#"
            CREATE SCHEMA "x$godwit$y";
            CREATE TABLE "x$godwit$y"."t" ( "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY );
            DO $godwit_$ BEGIN EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', 'x$godwit$y', 't', current_schema()); END $godwit_$;
        "#]],
    );
}
