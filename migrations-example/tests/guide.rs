//! The guide's workflow pages, `docs/workflows.md` and `docs/moving-data.md`, against the files
//! they show, and the deployment script they describe, `deploy.sh`, run for real.
//!
//! A whole file is shown in a page between `<!-- file: PATH -->` and `<!-- end -->`, in a code
//! fence, and must be that file byte for byte. After changing a migration or the script,
//! rewrite the pages with
//! `UPDATE_EXPECT=1 cargo test -p migrations-example --test guide embedded`, then review the
//! diff. (The other Rust blocks of the pages run as doctests: `cargo test --doc`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

const PAGES: [&str; 2] = ["docs/workflows.md", "docs/moving-data.md"];

/// One `<!-- file: PATH -->` block of a page: the file's path and the byte range of the text
/// shown (between the fence lines).
struct Embedded {
    path: String,
    body: std::ops::Range<usize>,
}

/// Every embedded block of `page` (its text), or what is malformed.
fn embedded(name: &str, page: &str) -> Vec<Embedded> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = page[from..].find("<!-- file: ") {
        let start = from + at;
        let line_end = start + page[start..].find('\n').unwrap();
        let path = page[start + "<!-- file: ".len()..line_end]
            .trim_end()
            .strip_suffix("-->")
            .unwrap_or_else(|| panic!("{name}: unterminated marker at byte {start}"))
            .trim()
            .to_string();
        let fence_end = line_end + 1 + page[line_end + 1..].find('\n').unwrap();
        let fence = &page[line_end + 1..fence_end];
        assert!(
            fence.starts_with("```"),
            "{name}: `<!-- file: {path} -->` must be followed by a code fence, found {fence:?}"
        );
        let body_start = fence_end + 1;
        let close = page[body_start..]
            .find("```\n<!-- end -->")
            .unwrap_or_else(|| panic!("{name}: `{path}` has no closing fence and `<!-- end -->`"));
        out.push(Embedded {
            path,
            body: body_start..body_start + close,
        });
        from = body_start + close;
    }
    out
}

#[test]
fn embedded_files_are_the_files_themselves() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut stale = Vec::new();
    for name in PAGES {
        let path = root().join(name);
        let page = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\r\n", "\n");
        let mut rewritten = page.clone();
        // Back to front, so that the ranges of the blocks not yet replaced stay valid.
        for block in embedded(name, &page).into_iter().rev() {
            let file = std::fs::read_to_string(root().join(&block.path))
                .unwrap_or_else(|e| panic!("{name} shows `{}`: {e}", block.path))
                .replace("\r\n", "\n");
            if page[block.body.clone()] != file {
                stale.push(format!("{name}: {}", block.path));
                rewritten.replace_range(block.body.clone(), &file);
            }
        }
        if update && rewritten != page {
            std::fs::write(&path, rewritten).unwrap();
        }
    }
    assert!(
        update || stale.is_empty(),
        "these blocks differ from their files:\n  {}\nrewrite them with \
         `UPDATE_EXPECT=1 cargo test -p migrations-example --test guide embedded` and review the diff",
        stale.join("\n  ")
    );
}

#[test]
fn the_workflows_show_every_migration_after_the_first_release_whole() {
    let page = std::fs::read_to_string(root().join("docs/workflows.md")).unwrap();
    let shown: Vec<String> = embedded("docs/workflows.md", &page)
        .into_iter()
        .map(|b| b.path)
        .collect();
    let dir = root().join("migrations-example/src/migrations");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| !f.starts_with("m20261001_"))
        .collect();
    files.sort();
    for file in files {
        let path = format!("migrations-example/src/migrations/{file}");
        assert!(
            shown.contains(&path),
            "docs/workflows.md does not show {path}"
        );
    }
    assert!(shown.iter().any(|p| p == "migrations-example/deploy.sh"));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const BIN: &str = env!("CARGO_BIN_EXE_migrations-example");

/// `bash deploy.sh` (the given copy of it) with `env`, the example's binary as `MIGRATE`.
fn deploy(script: &Path, cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .current_dir(cwd)
        .env("MIGRATE", BIN)
        .env("DEPLOY_LOCK_TIMEOUT", "30");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn migration_count() -> usize {
    std::fs::read_dir(root().join("migrations-example/src/migrations"))
        .unwrap()
        .count()
}

/// A scratch PostgreSQL database on the server of `GODWIT_TEST_POSTGRES_URL`, dropped when it
/// goes out of scope, also when the test fails.
struct Scratch {
    server: String,
    name: String,
}

impl Scratch {
    fn create(server: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("godwit_deploy_{}_{nanos}", std::process::id());
        psql(server, &format!("CREATE DATABASE {name}"));
        Scratch {
            server: server.to_string(),
            name,
        }
    }

    /// The server's URL with the scratch database in place of its database.
    fn url(&self) -> String {
        let (base, query) = match self.server.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (self.server.as_str(), String::new()),
        };
        let (server, _db) = base.rsplit_once('/').unwrap();
        format!("{server}/{}{query}", self.name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([&self.server, "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// Run `sql` with psql on `url`; the server must be reachable.
fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-Atqc", sql])
        .output()
        .unwrap_or_else(|e| panic!("psql must be on PATH: {e}"));
    assert!(
        out.status.success(),
        "`{sql}` on {url} failed (is PostgreSQL running? set GODWIT_TEST_POSTGRES_URL): {}",
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_string()
}

/// The major version of a `--version` line such as `pg_dump (PostgreSQL) 15.20 (Debian ...)`.
fn major(version: &str) -> u32 {
    version
        .split_whitespace()
        .find_map(|w| w.split('.').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no version in {version:?}"))
}

/// A pg_dump at least as new as the server: the one on PATH, else the server's own.
fn pg_dump_for(server_major: u32) -> String {
    let out = Command::new("pg_dump")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("pg_dump must be on PATH: {e}"));
    if major(&text(&out.stdout)) >= server_major {
        return "pg_dump".into();
    }
    let own = format!("/usr/lib/postgresql/{server_major}/bin/pg_dump");
    assert!(
        Path::new(&own).exists(),
        "pg_dump on PATH ({}) is older than the server ({server_major}), and {own} does not exist",
        text(&out.stdout).trim()
    );
    own
}

#[test]
fn deploy_sh_migrates_a_postgres_database_after_backing_it_up_and_is_a_no_op_the_second_time() {
    let server = std::env::var("GODWIT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let server_major: u32 = psql(&server, "SHOW server_version_num")
        .parse::<u32>()
        .unwrap()
        / 10_000;
    let pg_dump = pg_dump_for(server_major);
    let db = Scratch::create(&server);
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let script = root().join("migrations-example/deploy.sh");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("BACKUP_DIR", backups.to_str().unwrap()),
        ("PG_DUMP", pg_dump.as_str()),
    ];

    let out = deploy(&script, dir.path(), &env);
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{log}");
    for step in [
        "==> check",
        "==> lint",
        "==> plan",
        "==> backup",
        "==> up",
        "==> verify",
    ] {
        assert!(log.contains(step), "no `{step}` in:\n{log}");
    }
    let dumps: Vec<PathBuf> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    assert!(dumps[0].extension().is_some_and(|e| e == "dump"));
    assert!(std::fs::metadata(&dumps[0]).unwrap().len() > 0);
    let n = migration_count();
    let applied = psql(
        &url,
        "SELECT count(*) FROM godwit_migrations WHERE status = 'applied'",
    );
    assert_eq!(applied, n.to_string());
    assert!(
        log.contains("has exactly the schema its migrations build"),
        "{log}"
    );

    // Nothing pending: no backup, no `up`, still a success.
    let out = deploy(&script, dir.path(), &env);
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("==> nothing to migrate"), "{log}");
    assert!(
        log.contains(&format!("{n} migrations: {n} applied, 0 pending")),
        "{log}"
    );
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 1);
}

#[test]
fn deploy_sh_stops_before_migrating_when_migrations_sum_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    // A copy of the script reads the migrations.sum beside it: give it a stale one.
    let script = dir.path().join("deploy.sh");
    std::fs::copy(root().join("migrations-example/deploy.sh"), &script).unwrap();
    let sum = std::fs::read_to_string(root().join("migrations-example/migrations.sum")).unwrap();
    let stale: String = sum
        .lines()
        .filter(|l| !l.contains(" index_posts_by_slug "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("migrations.sum"), stale).unwrap();
    let db = dir.path().join("blog.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());

    let out = deploy(&script, dir.path(), &[("DATABASE_URL", &url)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("migrations.sum"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("==> lint"));
    assert!(!db.exists(), "the database was touched");
}

#[test]
fn deploy_sh_requires_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root().join("migrations-example/deploy.sh"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("MIGRATE", BIN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("set DATABASE_URL to the database to migrate"),
        "{}",
        text(&out.stderr)
    );
}

/// Rolling back leaves the schema as it was before, constraint validity included: after the
/// migrations after `validate_slugs_on_posts` are rolled back, `ck_posts_slug_not_null` is validated again, as it was
/// after `validate_slugs_on_posts`, PostgreSQL says so, and `schema --live` finds no drift.
#[test]
fn rolling_back_restores_a_validated_check_as_validated() {
    let server = std::env::var("GODWIT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let db = Scratch::create(&server);
    let url = db.url();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .args(["--database-url", &url])
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    run(&["up"]);
    run(&["down", "--to", "20261121100500"]);
    assert_eq!(
        psql(
            &url,
            "SELECT convalidated FROM pg_constraint WHERE conname = 'ck_posts_slug_not_null'"
        ),
        "t"
    );
    run(&["schema", "--live"]);
    // A check left `NOT VALID` by hand is drift, and `schema --live` says so.
    psql(
        &url,
        "ALTER TABLE posts DROP CONSTRAINT ck_posts_slug_not_null; \
         ALTER TABLE posts ADD CONSTRAINT ck_posts_slug_not_null CHECK (slug IS NOT NULL) NOT VALID",
    );
    let out = Command::new(BIN)
        .args(["schema", "--live", "--database-url", &url])
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("ck_posts_slug_not_null") && said.contains("NOT VALID"),
        "{said}"
    );
}
