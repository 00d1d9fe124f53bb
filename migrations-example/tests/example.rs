//! The example's binary and library, end to end: every file registers once, every migration
//! renders up and down on every backend, and the exit codes are the documented ones.

use std::process::{Command, Output};

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
    for backend in Backend::ALL {
        let up = catalog.render_up(backend, None).unwrap();
        let down = catalog.render_down(backend, None).unwrap();
        assert_eq!(
            (up.len(), down.len()),
            (resolved.len(), resolved.len()),
            "{backend}"
        );
        for m in up.iter().chain(&down) {
            assert!(
                !m.statements.is_empty(),
                "{backend}: {} {} renders nothing",
                m.id,
                m.direction
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
        text(&out.stdout).contains("applied 6 migrations on SQLite"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["status", "--check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("6 migrations: 6 applied, 0 pending\n"));
    let out = run(&["down", "--all"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["status", "--check"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_example_passes_lint_on_every_backend() {
    for backend in ["postgres", "mysql", "sqlite"] {
        let out = migrate(&["lint", "--backend", backend]);
        assert!(
            out.status.success(),
            "{backend}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).starts_with("0 unsafe, 0 allowed, in 6 migration(s)"),
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
