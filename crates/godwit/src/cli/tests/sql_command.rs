//! `sql`: every migration's SQL, by backend and direction.

use expect_test::expect;

use super::*;

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
    // A file name names the migration: the name must be its name.
    check(
        &cx,
        &["sql", "m20261120_090000_wrong_name"],
        expect![[r#"
            error: migration 20261120090000 is `create_users`, not `wrong_name`: check the file name (m20261120_090000_create_users)
        "#]],
    );
    // Backends in any case, aliases too.
    assert!(
        run_str(&cx, &["sql", "--backend", "PG"])
            .starts_with("-- 3 migrations, up, for PostgreSQL")
    );
    assert!(
        run_str(&cx, &["sql", "-b", "MariaDB"])
            .starts_with("-- 3 migrations, up, for MySQL/MariaDB")
    );
    // An empty DATABASE_URL picks no backend.
    let mut cx = cx;
    cx.database_url = Some(String::new());
    check(
        &cx,
        &["sql"],
        expect![[r#"
        error: DATABASE_URL is set but empty: set it to the database's URL, unset it, or pass --backend
    "#]],
    );
}

#[test]
fn down_and_redo_refuse_zero_steps() {
    let regs = blog();
    let cx = cx(&PROJECT, &regs);
    check(
        &cx,
        &["down", "--steps", "0"],
        expect!["usage (2): ValueValidation"],
    );
    check(
        &cx,
        &["redo", "--steps", "0"],
        expect!["usage (2): ValueValidation"],
    );
    check(
        &cx,
        &[
            "up",
            "--to",
            "m20261120_090000_wrong_name",
            "--database-url",
            "sqlite:/nonexistent/x.db",
        ],
        expect![[r#"
            error: migration 20261120090000 is `create_users`, not `wrong_name`: check the file name (m20261120_090000_create_users)
        "#]],
    );
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

struct SqliteOnly;
impl Migration for SqliteOnly {
    fn up(&self, s: &mut Schema) {
        s.sql_per_backend(PerBackend {
            sqlite: Some("VACUUM"),
            ..PerBackend::default()
        })
        .down("VACUUM");
    }
}

/// `lint` fails as `sql` does on a migration that cannot be written for the backend.
#[test]
fn lint_fails_on_a_migration_that_does_not_render_for_the_backend() {
    const EXTRA: &[(&str, &str, &dyn Migration)] =
        &[("m20261122_000000_vacuum", "SqliteOnly", &SqliteOnly)];
    let project = blog_with(EXTRA);
    let regs = registrations_with(EXTRA);
    let cx = cx(&project, &regs);
    check(
        &cx,
        &["lint", "--backend", "postgres"],
        expect![[r#"
        error: migration 20261122000000 vacuum, operation #1 sql(...): PostgreSQL cannot run this raw SQL: it has no text for this backend: set `postgres: Some("...")` in its `PerBackend`
    "#]],
    );
    check(
        &cx,
        &["sql", "--backend", "postgres"],
        expect![[r#"
        error: cannot write the PostgreSQL SQL: migration 20261122000000 vacuum, operation #1 sql(...): PostgreSQL cannot run this raw SQL: it has no text for this backend: set `postgres: Some("...")` in its `PerBackend`
    "#]],
    );
}

struct Panics;
impl Migration for Panics {
    fn up(&self, _s: &mut Schema) {
        panic!("forgot to handle this case");
    }
}

/// A migration whose `up` panics is an error naming its file; the others still render.
#[test]
fn a_migration_that_panics_is_an_error_naming_its_file() {
    const EXTRA: &[(&str, &str, &dyn Migration)] = &[("m20261122_000000_boom", "Panics", &Panics)];
    let project = blog_with(EXTRA);
    let regs = registrations_with(EXTRA);
    let cx = cx(&project, &regs);
    check(
        &cx,
        &["sql", "--backend", "postgres"],
        expect![[r#"
        error: cannot write the PostgreSQL SQL: migration 20261122000000 boom: its `up` panicked (forgot to handle this case): fix the code of m20261122_000000_boom.rs
    "#]],
    );
    check(
        &cx,
        &["lint", "--backend", "postgres"],
        expect![[r#"
        error: migration 20261122000000 boom: its `up` panicked (forgot to handle this case): fix the code of m20261122_000000_boom.rs
    "#]],
    );
    assert!(
        run_str(&cx, &["sql", "20261120090000"]).starts_with("-- 1 migrations, up, for SQLite")
            || run_str(&cx, &["sql", "20261120090000"])
                .starts_with("-- 1 migration, up, for SQLite")
    );
}

struct AllowWithoutReason;
impl Migration for AllowWithoutReason {
    fn up(&self, s: &mut Schema) {
        s.allow(Rule::DropColumn, "before anything");
        s.drop_column("posts", "views");
        s.allow(Rule::DropColumn, "  ");
    }
}

/// `lint` is the CI gate: it fails on what `sql`, `plan` and `up` refuse (an `allow` before
/// any operation, or without a reason), instead of exiting 0.
#[test]
fn lint_fails_on_an_allow_that_up_refuses() {
    const EXTRA: &[(&str, &str, &dyn Migration)] = &[(
        "m20261122_000000_allow_without_reason",
        "AllowWithoutReason",
        &AllowWithoutReason,
    )];
    let project = blog_with(EXTRA);
    let regs = registrations_with(EXTRA);
    let cx = cx(&project, &regs);
    check(
        &cx,
        &["lint", "--backend", "postgres"],
        expect![[r#"
        error: migration 20261122000000 allow_without_reason: allow(Rule::DropColumn, ..) comes before any operation: write it right after the operation it allows
    "#]],
    );
}

/// Every command that chooses a backend takes `--database-url`, and its scheme chooses it
/// unless `--backend` says otherwise; nothing connects.
#[test]
fn database_url_chooses_the_backend_of_sql_lint_schema_and_plan_all() {
    let regs = blog();
    let cx = cx(&PROJECT, &regs);
    let pg = "postgres://app@db.invalid/blog";
    let out = run_str(&cx, &["sql", "--database-url", pg]);
    assert!(
        out.starts_with("-- 3 migrations, up, for PostgreSQL"),
        "{out}"
    );
    let out = run_str(&cx, &["sql", "--database-url", pg, "--backend", "mysql"]);
    assert!(
        out.starts_with("-- 3 migrations, up, for MySQL/MariaDB"),
        "{out}"
    );
    let out = run_str(&cx, &["lint", "--database-url", pg]);
    assert!(out.contains("on PostgreSQL"), "{out}");
    let out = run_str(&cx, &["schema", "--database-url", pg]);
    assert!(out.contains(", PostgreSQL; generated by `schema`"), "{out}");
    let out = run_str(
        &cx,
        &[
            "plan",
            "--all",
            "--database-url",
            "mysql://app@db.invalid/blog",
        ],
    );
    assert!(out.starts_with("deploy plan for MySQL/MariaDB"), "{out}");
    let out = run_str(&cx, &["sql", "--database-url", "oracle://x"]);
    expect![[r#"
        error: --database-url has the scheme `oracle`, which names no backend: use postgres://, mysql://, mariadb:// or sqlite:, or pass --backend
    "#]]
    .assert_eq(&out);
}
