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
