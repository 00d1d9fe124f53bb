//! `cargo xtask bench compile`: how long a migrations crate of 1,000 migrations takes to compile.
//!
//! It writes a throwaway migrations crate under `target/godwit-bench/` (its own workspace,
//! depending on godwit by path, with the default `dev` profile a user's workspace has), builds
//! its dependencies once, then measures:
//!
//! - **clean**: `cargo clean -p godwit-bench-migrations`, then `cargo build`: the crate alone
//!   (build script, library, binary) from scratch;
//! - **add one**: write one more migration file, then `cargo build`.
//!
//! Each migration creates a table with an index. With `--archived`, the migrations live in a
//! crate of their own that the migrations crate links (a long history archived), and the one
//! added goes into the migrations crate. Afterwards it checks that the binary lists every
//! migration, and that the template of `new` compiles. Results are in `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use super::Args;

pub(super) const PACKAGE: &str = "godwit-bench-migrations";

pub fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.migrations >= 1 && args.runs >= 1,
        "--migrations and --runs must be at least 1"
    );
    let root = crate::workspace_root();
    let dir = root.join("target").join("godwit-bench");
    write_crate(&root, &dir, args.migrations, args.archived)?;

    eprintln!("building the dependencies (not measured) ...");
    cargo(&dir, &["build"])?;

    let mut clean = Vec::new();
    for run in 1..=args.runs {
        cargo(&dir, &["clean", "-p", PACKAGE])?;
        let t = timed(&dir, &["build"])?;
        eprintln!("clean build {run}/{}: {:.2} s", args.runs, t.as_secs_f64());
        clean.push(t);
    }

    let mut add_one = Vec::new();
    for run in 1..=args.runs {
        let n = args.migrations + run;
        let file = dir.join("src/migrations").join(file_name(n));
        fs::write(&file, migration(n))
            .with_context(|| format!("cannot write `{}`", file.display()))?;
        let t = timed(&dir, &["build"])?;
        eprintln!(
            "rebuild after adding one {run}/{}: {:.2} s",
            args.runs,
            t.as_secs_f64()
        );
        add_one.push(t);
    }

    // The binary registers every migration, exactly once.
    let total = args.migrations + args.runs;
    let bin = dir.join("target/debug").join(PACKAGE);
    let out = Command::new(&bin)
        .args(["sql", "--backend", "postgres"])
        .output()
        .with_context(|| format!("cannot run `{}`", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let headers = stdout.lines().filter(|l| l.ends_with(" (up)")).count();
    ensure!(
        out.status.success() && headers == total,
        "the bench binary lists {headers} migrations, expected {total}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The template `new` writes compiles as it is.
    let out = Command::new(&bin)
        .args(["new", "Check the template"])
        .output()
        .with_context(|| format!("cannot run `{}`", bin.display()))?;
    ensure!(
        out.status.success(),
        "`new` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    cargo(&dir, &["build"]).context("the template written by `new` does not compile")?;

    let (clean, add_one) = (median(&mut clean), median(&mut add_one));
    println!("{}", report(args, clean, add_one));
    Ok(())
}

pub(super) fn file_name(n: usize) -> String {
    // One second apart from 2026-01-01 00:00:00: n < 86,400.
    let (h, m, s) = (n / 3600, n / 60 % 60, n % 60);
    format!("m20260101_{h:02}{m:02}{s:02}_create_table_{n:04}.rs")
}

pub(super) fn migration(n: usize) -> String {
    format!(
        r#"//! Bench migration {n}: a table with an index.

use godwit::prelude::*;

pub struct CreateTable{n:04};

impl Migration for CreateTable{n:04} {{
    fn up(&self, s: &mut Schema) {{
        s.create_table("table_{n:04}", |t| {{
            t.id();
            t.string("name", 100);
            t.integer("rank").default(0);
            t.timestamps();
            t.index(["name"]);
        }});
    }}
}}

godwit::register!(CreateTable{n:04});
"#
    )
}

/// The package that holds the migrations with `--archived`.
const ARCHIVE: &str = "godwit-bench-archive";

/// Write the crate; keep `target/` so its dependencies stay built between runs. `archived`: the
/// migrations go into a crate of their own, `archive/`, which the migrations crate links, as a
/// team that archived its long history has it; the migrations crate starts with none.
pub(super) fn write_crate(
    root: &Path,
    dir: &Path,
    migrations: usize,
    archived: bool,
) -> anyhow::Result<()> {
    ensure!(
        migrations < 86_000,
        "--migrations must stay below 86,000 (one second apart in a day)"
    );
    let archive = dir.join("archive");
    for stale in [dir.join("src/migrations"), archive.clone()] {
        if stale.exists() {
            fs::remove_dir_all(&stale)
                .with_context(|| format!("cannot remove `{}`", stale.display()))?;
        }
    }
    fs::create_dir_all(dir.join("src/migrations"))
        .with_context(|| format!("cannot create `{}`", dir.display()))?;
    let migrations_dir = if archived {
        archive.join("src/migrations")
    } else {
        dir.join("src/migrations")
    };
    fs::create_dir_all(&migrations_dir)
        .with_context(|| format!("cannot create `{}`", migrations_dir.display()))?;
    let path = |p: &str| root.join(p).display().to_string();
    let manifest = |name: &str, extra: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ngodwit = {{ path = {:?} }}\n{extra}\n\
             [build-dependencies]\ngodwit-build = {{ path = {:?} }}\n",
            path("crates/godwit"),
            path("crates/godwit-build"),
        )
    };
    let build = "fn main() {\n    godwit_build::discover();\n}\n".to_string();
    let mut files: Vec<(PathBuf, String)> = vec![
        (
            dir.join("Cargo.toml"),
            format!(
                "# Written by `cargo xtask bench`: a throwaway crate of {migrations} migrations.\n\
                 [workspace]\n{}\n{}",
                if archived {
                    "members = [\"archive\"]\n"
                } else {
                    ""
                },
                manifest(
                    PACKAGE,
                    if archived {
                        "godwit-bench-archive = { path = \"archive\" }\n"
                    } else {
                        ""
                    }
                ),
            ),
        ),
        (dir.join("build.rs"), build.clone()),
        (
            dir.join("src/lib.rs"),
            if archived {
                "godwit::migrations!();\n\n// The archived migrations, linked into this crate.\n\
                 use godwit_bench_archive as _;\n"
                    .into()
            } else {
                "godwit::migrations!();\n".into()
            },
        ),
        (dir.join("src/main.rs"), "godwit::main!();\n".into()),
        // The same dependency versions as the workspace, without a registry lookup.
        (
            dir.join("Cargo.lock"),
            fs::read_to_string(root.join("Cargo.lock"))
                .context("cannot read the workspace's Cargo.lock")?,
        ),
    ];
    if archived {
        files.extend([
            (archive.join("Cargo.toml"), manifest(ARCHIVE, "")),
            (archive.join("build.rs"), build),
            (
                archive.join("src/lib.rs"),
                "godwit::migrations!();\n".into(),
            ),
        ]);
    }
    for (file, content) in files {
        if fs::read_to_string(&file).is_ok_and(|old| old == content) {
            continue;
        }
        fs::create_dir_all(file.parent().unwrap_or(dir))?;
        fs::write(&file, content).with_context(|| format!("cannot write `{}`", file.display()))?;
    }
    for n in 1..=migrations {
        let file = migrations_dir.join(file_name(n));
        fs::write(&file, migration(n))
            .with_context(|| format!("cannot write `{}`", file.display()))?;
    }
    Ok(())
}

/// Run cargo in `dir`, failing with its output when it fails.
pub(super) fn cargo(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = crate::cargo()
        .current_dir(dir)
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .with_context(|| format!("cannot run `cargo {}`", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "`cargo {}` failed in `{}`:\n{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn timed(dir: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    cargo(dir, args)?;
    Ok(start.elapsed())
}

pub(super) fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The results, with what they ran on, ready for `docs/benchmarks.md`.
fn report(args: &Args, clean: Duration, add_one: Duration) -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(s, "machine: {cpu}, {cores} cores; {rustc}");
    let _ = writeln!(
        s,
        "crate: {} migrations, each a table with an index{}; median of {} runs",
        args.migrations,
        if args.archived {
            ", archived in a crate of their own that the migrations crate links"
        } else {
            ""
        },
        args.runs
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| build | seconds | target |");
    let _ = writeln!(s, "|---|---|---|");
    let _ = writeln!(
        s,
        "| the migrations crate alone, from clean | {:.1} | 20 |",
        clean.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "| rebuild after adding one migration | {:.1} | 3 |",
        add_one.as_secs_f64()
    );
    s
}
