//! `godwit init` in fresh cargo projects, run as a user runs it: the built `godwit` binary, then
//! the first migration through `cargo xtask migrate` (new, up, status, down, status) on the
//! default SQLite database, and every way `init` refuses, which must leave every file as it was.
//!
//! The nested builds reuse this workspace's artifacts: the project gets a copy of its
//! `Cargo.lock`, and cargo's build directory (where dependencies are compiled) is this
//! workspace's, while the project's own binaries go to a target directory of its own.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The godwit workspace.
fn godwit_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    fs::canonicalize(&root).unwrap_or(root)
}

fn godwit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_godwit"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the godwit binary runs")
}

/// The build directory the projects of these tests share, so that godwit's dependencies are
/// built once.
fn build_dir() -> PathBuf {
    std::env::var_os("CARGO_BUILD_BUILD_DIR")
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| godwit_root().join("target"))
}

/// Held by a test that builds a project, for as long as it runs: the projects' `xtask`
/// packages have the same name and the same place in their workspaces, so cargo gives them the
/// same files in the shared build directory, and two built at once would run each other's.
fn serial() -> fs::File {
    let dir = build_dir();
    fs::create_dir_all(&dir).unwrap();
    let file = fs::File::create(dir.join("godwit-init-tests.lock")).unwrap();
    file.lock().unwrap();
    file
}

/// `cargo <args>` in `project`, with the environment of a developer who has no `DATABASE_URL`.
fn cargo(project: &Path, args: &[&str]) -> Output {
    let build_dir = build_dir();
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(project)
        .args(args)
        .env("CARGO_BUILD_BUILD_DIR", build_dir)
        .env("CARGO_TARGET_DIR", project.join("target"))
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .env("CARGO_TERM_COLOR", "never")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .output()
        .expect("cargo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fail with everything the command printed unless it exited with `code`; its stdout.
#[track_caller]
fn expect_code(what: &str, output: &Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}: exit code\n--- stdout\n{}\n--- stderr\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn write(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, content).unwrap();
}

/// A cargo workspace with one package, `app`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"app\"]\n",
    );
    write(
        &dir.path().join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(&dir.path().join("app/src/main.rs"), "fn main() {}\n");
    fs::copy(
        godwit_root().join("Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    dir
}

/// Every file under `dir` (but `target`) and its content.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if relative == Path::new("target") {
                continue;
            }
            if path.is_dir() {
                out.insert(relative, Vec::new());
                walk(root, &path, out);
            } else {
                out.insert(relative, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The tables of an SQLite file, opened read-only.
fn tables(file: &Path) -> Vec<String> {
    use sqlx::Connection as _;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
            let names: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
            names.into_iter().map(|(n,)| n).collect()
        })
}

/// Run `statement` on the SQLite file `file`.
fn execute(file: &Path, statement: &str) {
    use sqlx::Connection as _;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let url = format!("sqlite://{}", file.display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        })
}

/// The package name a `Cargo.toml` declares.
fn package_name(manifest: &str) -> String {
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("a package name in:\n{manifest}"))
        .to_owned()
}

/// The line of `status` output about `name`.
#[track_caller]
fn status_line(status: &str, name: &str) -> String {
    status
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{status}"))
        .to_owned()
}

#[test]
fn init_then_the_first_migration_up_and_down() {
    let _serial = serial();
    let project = workspace();
    let root = project.path();

    let out = expect_code("init", &godwit(root, &["init"]), 0);
    for line in [
        "created      migrations/Cargo.toml",
        "created      migrations/build.rs",
        "created      migrations/src/main.rs",
        "created      migrations/src/lib.rs",
        "created      migrations/migrations.sum",
        "created      xtask/Cargo.toml",
        "created      xtask/src/main.rs",
        "created      .cargo/config.toml",
        "updated      Cargo.toml (workspace members migrations, xtask added)",
        "cargo xtask migrate new \"create users\"",
        "cargo xtask migrate up",
    ] {
        assert!(out.contains(line), "`{line}` in:\n{out}");
    }
    assert_eq!(
        fs::read_to_string(root.join("Cargo.toml")).unwrap(),
        "[workspace]\nresolver = \"3\"\nmembers = [\"app\", \"migrations\", \"xtask\"]\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("migrations/src/main.rs")).unwrap(),
        "godwit::main!();\n"
    );
    assert!(root.join("migrations/src/migrations").is_dir());
    let config = fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains("xtask = \"run --package xtask --\""),
        "{config}"
    );

    // The application depends on the migrations crate as getting-started.md says: from its
    // own directory, by the package name `init` chose.
    let manifest = fs::read_to_string(root.join("migrations/Cargo.toml")).unwrap();
    let package = package_name(&manifest);
    let godwit_line = manifest
        .lines()
        .find(|l| l.starts_with("godwit = "))
        .unwrap();
    let godwit_dir = godwit_root().join("crates/godwit");
    write(
        &root.join("app/Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nmigrations = {{ path = \"../migrations\", package = \"{package}\" }}\n\
             godwit = {{ path = {:?} }}\n",
            godwit_dir.display().to_string()
        ),
    );
    assert!(godwit_line.contains("path = "), "{godwit_line}");
    let tree = expect_code(
        "cargo tree --package app",
        &cargo(
            root,
            &[
                "tree",
                "--package",
                "app",
                "--depth",
                "1",
                "--prefix",
                "none",
            ],
        ),
        0,
    );
    assert!(tree.contains(&package), "{tree}");

    // The first migration.
    let out = expect_code(
        "migrate new",
        &cargo(root, &["xtask", "migrate", "new", "create users"]),
        0,
    );
    assert!(out.contains("(struct CreateUsers)"), "{out}");
    let dir = root.join("migrations/src/migrations");
    let files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with('m') && name.ends_with("_create_users.rs"),
        "{name}"
    );
    assert!(
        out.contains(&format!("created migrations/src/migrations/{name}")),
        "{out}"
    );
    let template = fs::read_to_string(file).unwrap();
    let placeholder = "        let _ = s;\n";
    assert!(template.contains(placeholder), "{template}");
    let migration = template.replace(
        placeholder,
        r#"        s.create_table("users", |t| {
            t.id();
            t.string("email", 255).unique();
            t.timestamps();
        });
"#,
    );
    fs::write(file, migration).unwrap();

    let db = root.join("migrations/dev.db");
    assert!(!db.exists());
    let out = expect_code("migrate up", &cargo(root, &["xtask", "migrate", "up"]), 0);
    assert!(out.contains("create_users"), "{out}");
    assert!(out.contains("applied 1 migration"), "{out}");
    assert_eq!(tables(&db), ["godwit_migrations", "users"]);

    let out = expect_code(
        "migrate status",
        &cargo(root, &["xtask", "migrate", "status"]),
        0,
    );
    assert!(
        status_line(&out, "create_users").contains("applied"),
        "{out}"
    );

    // `status` kept the applied migration's checksum beside the binary, under the binary's
    // identity, and the next `status` reads it instead of rendering the migrations again: with
    // history's checksum and the kept one altered alike, the migration reads as applied; with
    // the cache removed, it is rendered, and found changed.
    let cache = root.join(format!("target/debug/.{package}.godwit-cache"));
    let kept = fs::read_to_string(&cache).expect("status keeps a cache beside the binary");
    let checksum = kept
        .split("\"checksums sqlite\":{")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(3))
        .unwrap_or_else(|| panic!("a sqlite checksum in {kept}"))
        .to_owned();
    let set_history_checksum = |to: &str| {
        execute(
            &db,
            &format!("UPDATE godwit_migrations SET checksum = '{to}'"),
        )
    };
    fs::write(&cache, kept.replace(&checksum, "v1:0000")).unwrap();
    set_history_checksum("v1:0000");
    let status = || {
        expect_code(
            "migrate status",
            &cargo(root, &["xtask", "migrate", "status"]),
            0,
        )
    };
    let out = status();
    assert!(
        status_line(&out, "create_users").contains("applied"),
        "{out}"
    );
    fs::remove_file(&cache).unwrap();
    let out = status();
    assert!(
        status_line(&out, "create_users").contains("changed"),
        "{out}"
    );
    set_history_checksum(&checksum);
    assert!(status_line(&status(), "create_users").contains("applied"));
    // A change to the migration rebuilds the binary, which ignores what the one before kept.
    let changed = fs::read_to_string(file).unwrap();
    fs::write(file, changed.replace("255", "320")).unwrap();
    for _ in 0..2 {
        let out = status();
        assert!(
            status_line(&out, "create_users").contains("changed"),
            "{out}"
        );
    }
    fs::write(file, changed).unwrap();
    assert!(status_line(&status(), "create_users").contains("applied"));

    let out = expect_code(
        "migrate down",
        &cargo(root, &["xtask", "migrate", "down"]),
        0,
    );
    assert!(out.contains("rolled back 1 migration"), "{out}");
    assert_eq!(tables(&db), ["godwit_migrations"]);

    let out = expect_code(
        "migrate status",
        &cargo(root, &["xtask", "migrate", "status"]),
        0,
    );
    assert!(
        status_line(&out, "create_users").contains("pending"),
        "{out}"
    );
    // The binary's exit code comes through the xtask: 3 when something is pending.
    expect_code(
        "migrate status --check",
        &cargo(root, &["xtask", "migrate", "status", "--check"]),
        3,
    );

    // A second `init` names what is there and changes nothing.
    let before = snapshot(root);
    let output = godwit(root, &["init"]);
    expect_code("init again", &output, 1);
    let err = text(&output.stderr);
    for conflict in ["`migrations/` exists", "`xtask/` exists", "writes nothing"] {
        assert!(err.contains(conflict), "`{conflict}` in:\n{err}");
    }
    assert_eq!(snapshot(root), before);
}

#[test]
fn a_single_package_becomes_a_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n",
    );
    write(&root.join("src/main.rs"), "fn main() {}\n");
    write(
        &root.join(".cargo/config.toml"),
        "# Mine.\n[build]\njobs = 1\n",
    );

    // From a subdirectory: the project is found by walking up.
    let out = expect_code(
        "init",
        &godwit(&root.join("src"), &["init", "--name", "db"]),
        0,
    );
    assert!(out.contains("created      db/Cargo.toml"), "{out}");
    assert!(
        out.contains("updated      .cargo/config.toml (alias `xtask` added)"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(root.join("Cargo.toml")).unwrap(),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n\n\
         [workspace]\nmembers = [\"db\", \"xtask\"]\n"
    );
    assert_eq!(
        fs::read_to_string(root.join(".cargo/config.toml")).unwrap(),
        "# Mine.\n[build]\njobs = 1\n\n[alias]\nxtask = \"run --package xtask --\"\n"
    );
    let xtask = fs::read_to_string(root.join("xtask/src/main.rs")).unwrap();
    assert!(
        xtask.contains("const MIGRATIONS: &str = \"db\";"),
        "{xtask}"
    );

    // Cargo sees the three packages (without resolving dependencies).
    let metadata = expect_code(
        "cargo metadata",
        &cargo(
            root,
            &[
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ],
        ),
        0,
    );
    for package in ["\"name\":\"app\"", "\"name\":\"db\"", "\"name\":\"xtask\""] {
        assert!(metadata.contains(package), "{package} in {metadata}");
    }
}

#[test]
fn refusals_write_nothing() {
    // An `xtask` alias that runs something else, and an `xtask` directory.
    let project = workspace();
    let root = project.path();
    write(
        &root.join(".cargo/config.toml"),
        "[alias]\nxtask = \"run --package tools --\"\n",
    );
    write(&root.join("xtask/README"), "mine\n");
    let before = snapshot(root);
    let output = godwit(root, &["init"]);
    expect_code("init", &output, 1);
    let err = text(&output.stderr);
    for conflict in [
        "`xtask/` exists",
        "`.cargo/config.toml` already has an alias `xtask = \"run --package tools --\"`",
    ] {
        assert!(err.contains(conflict), "`{conflict}` in:\n{err}");
    }
    assert!(!err.contains("migrations/"), "{err}");
    assert_eq!(snapshot(root), before);

    // A dry run says what it would do.
    let project = workspace();
    let root = project.path();
    let before = snapshot(root);
    let out = expect_code("dry run", &godwit(root, &["init", "--dry-run"]), 0);
    assert!(out.contains("would create migrations/Cargo.toml"), "{out}");
    assert!(out.contains("Nothing was written."), "{out}");
    assert_eq!(snapshot(root), before);

    // Bad input: an error (1) that says what to do, or a usage error (2).
    let empty = tempfile::tempdir().unwrap();
    let cases: [(&Path, &[&str], i32, &str); 6] = [
        (empty.path(), &["init"], 1, "no Cargo.toml in"),
        (
            root,
            &["init", "--godwit-path", "/nonexistent/godwit"],
            1,
            "pass the directory of a godwit checkout",
        ),
        (
            root,
            &["init", "--godwit-path", empty.path().to_str().unwrap()],
            1,
            "is not a godwit source tree",
        ),
        (
            root,
            &["init", "--name", "2db"],
            1,
            "cannot be the migrations crate's name",
        ),
        (root, &["init", "--bogus"], 2, "--bogus"),
        (root, &[], 2, "Usage: godwit <COMMAND>"),
    ];
    for (dir, args, code, message) in cases {
        let output = godwit(dir, args);
        expect_code(&format!("godwit {args:?}"), &output, code);
        let err = text(&output.stderr);
        assert!(
            err.contains(message),
            "godwit {args:?}: `{message}` in:\n{err}"
        );
    }
    assert_eq!(snapshot(root), before);

    // A godwit checkout given as its root, its crates directory or a crate: all the same.
    let godwit_root = godwit_root();
    for path in [
        godwit_root.clone(),
        godwit_root.join("crates"),
        godwit_root.join("crates/godwit"),
    ] {
        let out = expect_code(
            "dry run with --godwit-path",
            &godwit(
                root,
                &["init", "--dry-run", "--godwit-path", path.to_str().unwrap()],
            ),
            0,
        );
        let crates = godwit_root.join("crates");
        assert!(
            out.contains(&format!("godwit comes from {}", crates.display())),
            "{out}"
        );
    }

    let out = expect_code("help", &godwit(root, &["--help"]), 0);
    assert!(out.contains("init"), "{out}");
}

/// A migration file written by `new` for `name`, with `body` as its `up`; its path.
fn new_migration(root: &Path, name: &str, body: &str) -> PathBuf {
    // Versions are timestamps to the second: two `new` in one second would share one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = expect_code(
        "migrate new",
        &cargo(root, &["xtask", "migrate", "new", name]),
        0,
    );
    let created = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("created "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("`new` names the file it created:\n{out}"));
    let file = root.join(created);
    let template = fs::read_to_string(&file).unwrap();
    fs::write(&file, template.replace("        let _ = s;\n", body)).unwrap();
    // The manifest's line for it was written for the template: record what it does now.
    expect_code(
        "migrate check --write",
        &cargo(root, &["xtask", "migrate", "check", "--write"]),
        0,
    );
    file
}

/// Run `godwit` expecting it to fail with exit code 1; what it printed on stderr.
fn refused(root: &Path, what: &str, args: &[&str]) -> String {
    let output = godwit(root, args);
    expect_code(what, &output, 1);
    text(&output.stderr)
}

/// The version of a migration file, as `--through` takes it.
fn version_of(file: &Path) -> String {
    let name = file.file_name().unwrap().to_str().unwrap();
    godwit_cli::archive::file_version(name)
        .unwrap_or_else(|| panic!("{name} is a migration file"))
        .to_string()
}

#[test]
fn old_migrations_archived_in_a_crate_of_their_own() {
    let _serial = serial();
    let project = workspace();
    let root = project.path();
    expect_code("init", &godwit(root, &["init"]), 0);
    let users = new_migration(
        root,
        "create users",
        "        s.create_table(\"users\", |t| {\n            t.id();\n        });\n",
    );
    let posts = new_migration(
        root,
        "create posts",
        "        s.create_table(\"posts\", |t| {\n            t.id();\n        });\n",
    );
    let out = expect_code("migrate up", &cargo(root, &["xtask", "migrate", "up"]), 0);
    assert!(out.contains("applied 2 migrations"), "{out}");
    let package = package_name(&fs::read_to_string(root.join("migrations/Cargo.toml")).unwrap());
    let archive = format!("{package}-archive");
    let archived = |file: &Path| {
        root.join("migrations/archive/src/migrations")
            .join(file.file_name().unwrap())
    };

    // Refusals and a dry run write nothing.
    let before = snapshot(root);
    let out = refused(
        root,
        "archive, no such version",
        &["archive", "--through", "20000101000000"],
    );
    assert!(
        out.contains("no migration in `migrations/src/migrations/` has version 20000101000000")
            && out.contains(&format!("run from {}", version_of(&users))),
        "{out}"
    );
    let out = refused(
        root,
        "archive, not a version",
        &["archive", "--through", "latest"],
    );
    assert!(out.contains("14 digits"), "{out}");
    let out = expect_code(
        "archive --dry-run",
        &godwit(
            root,
            &["archive", "--through", &version_of(&users), "--dry-run"],
        ),
        0,
    );
    assert!(out.contains("Would archive 1 migration"), "{out}");
    assert!(out.contains("Nothing was written"), "{out}");
    assert_eq!(
        snapshot(root),
        before,
        "a refusal or dry run wrote something"
    );

    // The oldest into a new archive crate, which the migrations crate links.
    let out = expect_code(
        "archive",
        &godwit(root, &["archive", "--through", &version_of(&users)]),
        0,
    );
    assert!(
        out.contains(&format!(
            "Archived 1 migration ({0} to {0}) into migrations/archive/ (package `{archive}`)",
            version_of(&users)
        )),
        "{out}"
    );
    assert!(!users.exists() && archived(&users).is_file(), "{out}");
    let manifest = fs::read_to_string(root.join("migrations/archive/Cargo.toml")).unwrap();
    assert!(manifest.contains("godwit = { path = \""), "{manifest}");
    let lib = fs::read_to_string(root.join("migrations/src/lib.rs")).unwrap();
    assert!(
        lib.contains(&format!("use {} as _;", archive.replace('-', "_"))),
        "{lib}"
    );

    // Nothing changed for history or the manifest: both migrations are there, applied.
    let out = expect_code(
        "migrate check",
        &cargo(root, &["xtask", "migrate", "check"]),
        0,
    );
    assert!(out.contains("matches the 2 migrations"), "{out}");
    let out = expect_code(
        "migrate status --check",
        &cargo(root, &["xtask", "migrate", "status", "--check"]),
        0,
    );
    for name in ["create_users", "create_posts"] {
        assert!(status_line(&out, name).contains("applied"), "{out}");
    }
    // A new migration goes into the migrations crate, and applies after the archived ones.
    let tags = new_migration(
        root,
        "create tags",
        "        s.create_table(\"tags\", |t| {\n            t.id();\n        });\n",
    );
    assert!(tags.starts_with(root.join("migrations/src/migrations")));
    let out = expect_code("migrate up", &cargo(root, &["xtask", "migrate", "up"]), 0);
    assert!(out.contains("applied 1 migration"), "{out}");
    assert_eq!(
        tables(&root.join("migrations/dev.db")),
        ["godwit_migrations", "posts", "tags", "users"]
    );

    // Again, later: more into the same archive, which is linked once.
    let out = expect_code(
        "archive again",
        &godwit(root, &["archive", "--through", &version_of(&posts)]),
        0,
    );
    assert!(out.contains("Archived 1 migration"), "{out}");
    assert!(!out.contains("created"), "the archive exists: {out}");
    assert!(archived(&users).is_file() && archived(&posts).is_file());
    let out = refused(
        root,
        "archive, archived already",
        &["archive", "--through", &version_of(&posts)],
    );
    assert!(out.contains("is archived already"), "{out}");
    let out = expect_code(
        "migrate status --check",
        &cargo(root, &["xtask", "migrate", "status", "--check"]),
        0,
    );
    for name in ["create_users", "create_posts", "create_tags"] {
        assert!(status_line(&out, name).contains("applied"), "{out}");
    }
    let out = expect_code(
        "migrate check",
        &cargo(root, &["xtask", "migrate", "check"]),
        0,
    );
    assert!(out.contains("matches the 3 migrations"), "{out}");
    // Rolled back and applied again from the archive: the tables come back.
    let out = expect_code(
        "migrate down --all",
        &cargo(root, &["xtask", "migrate", "down", "--all"]),
        0,
    );
    assert!(out.contains("rolled back 3 migrations"), "{out}");
    let out = expect_code("migrate up", &cargo(root, &["xtask", "migrate", "up"]), 0);
    assert!(out.contains("applied 3 migrations"), "{out}");
    assert_eq!(
        tables(&root.join("migrations/dev.db")),
        ["godwit_migrations", "posts", "tags", "users"]
    );

    // A migration that uses the migrations crate's own items stays where it is.
    let text = fs::read_to_string(&tags).unwrap();
    fs::write(&tags, format!("{text}\nconst _: () = crate::HELPER;\n")).unwrap();
    let out = refused(
        root,
        "archive, uses crate::",
        &["archive", "--through", &version_of(&tags)],
    );
    assert!(
        out.contains("moves nothing") && out.contains("uses `crate::`"),
        "{out}"
    );
    assert!(tags.is_file());
}

/// `init --backend postgres`: the migrations crate depends on godwit's `postgres` feature alone,
/// its dependency tree has no other driver, its binary applies a migration on the real server,
/// and a SQLite URL is refused with the feature to add.
#[test]
fn init_for_one_backend_builds_one_driver() {
    let _serial = serial();
    let project = workspace();
    let root = project.path();
    let out = expect_code(
        "init --backend postgres",
        &godwit(root, &["init", "--backend", "postgres"]),
        0,
    );
    assert!(out.contains("built for PostgreSQL"), "{out}");
    assert!(out.contains("export DATABASE_URL=postgres://"), "{out}");
    let manifest = fs::read_to_string(root.join("migrations/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(r#"default-features = false, features = ["postgres", "mimalloc"] }"#),
        "{manifest}"
    );

    // No other driver in what cargo builds for it.
    let tree = expect_code(
        "cargo tree",
        &cargo(
            root,
            &[
                "tree",
                "--manifest-path",
                "migrations/Cargo.toml",
                "--edges",
                "normal",
                "--prefix",
                "none",
            ],
        ),
        0,
    );
    assert!(tree.contains("sqlx-postgres"), "{tree}");
    for other in ["sqlx-mysql", "sqlx-sqlite", "libsqlite3-sys"] {
        assert!(!tree.contains(other), "{other} in:\n{tree}");
    }

    write(
        &root.join("migrations/src/migrations/m20261206_120000_create_notes.rs"),
        "use godwit::prelude::*;\n\npub struct CreateNotes;\n\nimpl Migration for CreateNotes {\n    \
         fn up(&self, s: &mut Schema) {\n        s.create_table(\"notes\", |t| {\n            \
         t.id();\n            t.text(\"body\");\n        });\n    }\n}\n\ngodwit::register!(CreateNotes);\n",
    );
    // The migrations binary itself, not through the xtask: tests running side by side share
    // the build directory, where every project's `xtask` package is the same one to cargo.
    let migrate = |args: &[&str]| {
        let mut all = vec![
            "run",
            "--quiet",
            "--manifest-path",
            "migrations/Cargo.toml",
            "--",
        ];
        all.extend_from_slice(args);
        cargo(root, &all)
    };
    // A SQLite URL: refused before anything connects, with the feature to add.
    let output = migrate(&["status", "--database-url", "sqlite:dev.db"]);
    expect_code("status on SQLite", &output, 1);
    let err = text(&output.stderr);
    assert!(err.contains("built for PostgreSQL only"), "{err}");
    assert!(err.contains("add the `sqlite` feature"), "{err}");
    // No URL at all: the SQLite default is not built in, and the error says what to give.
    let output = migrate(&["status"]);
    expect_code("status without a URL", &output, 1);
    let none = text(&output.stderr);
    assert!(
        none.contains("no database given: pass --database-url, or set DATABASE_URL"),
        "{none}"
    );
    // As getting-started.md shows it.
    let page = fs::read_to_string(godwit_root().join("docs/getting-started.md")).unwrap();
    let shown = page
        .lines()
        .find(|l| l.starts_with("error: --database-url is not a usable database URL (`sqlite:"))
        .expect("getting-started.md shows the error");
    assert!(
        err.contains(shown),
        "getting-started.md shows:\n{shown}\nthe binary says:\n{err}"
    );

    // The real server: a database of its own.
    let server = std::env::var("GODWIT_TEST_POSTGRES_URL").expect(
        "GODWIT_TEST_POSTGRES_URL is not set: point it at the test server (see the README)",
    );
    let name = format!("godwit_init_pg_{}", std::process::id());
    let admin = |sql: String| {
        let output = Command::new("psql")
            .args([
                server.as_str(),
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql.as_str(),
            ])
            .output()
            .expect("psql runs");
        expect_code(&sql, &output, 0)
    };
    admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    admin(format!("CREATE DATABASE {name}"));
    let (base, _) = server.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    let out = expect_code("migrate up", &migrate(&["up", "--database-url", &url]), 0);
    assert!(out.contains("applied 1 migration"), "{out}");
    let output = Command::new("psql")
        .args([
            url.as_str(),
            "-qAtc",
            "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'",
        ])
        .output()
        .expect("psql runs");
    let found = expect_code("psql", &output, 0);
    admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert_eq!(found.trim(), "1");
}

/// `godwit completions bash`, sourced by bash: the command and its flags complete.
#[test]
fn completions_complete_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    let script = expect_code(
        "completions bash",
        &godwit(dir.path(), &["completions", "bash"]),
        0,
    );
    let file = dir.path().join("godwit.bash");
    fs::write(&file, script).unwrap();
    let complete = |words: &[&str]| {
        let cword = words.len() - 1;
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let probe = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\n_godwit godwit '{}' '{}'\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            file.display(),
            quoted.join(" "),
            words[cword],
            words[cword - 1]
        );
        let output = Command::new("bash")
            .args(["--norc", "-c", &probe])
            .output()
            .expect("bash runs");
        expect_code("bash", &output, 0)
    };
    assert_eq!(complete(&["godwit", "in"]), "init\n");
    assert_eq!(complete(&["godwit", "init", "--back"]), "--backend\n");
    assert_eq!(
        complete(&["godwit", "init", "--backend", "p"]),
        "postgres\n"
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = expect_code(shell, &godwit(dir.path(), &["completions", shell]), 0);
        assert!(script.contains("godwit-path"), "{shell}:\n{script}");
    }
}
