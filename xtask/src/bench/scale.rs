//! `cargo xtask bench scale`: how the commands grow with the number of migrations, from
//! `--migrations` (1,000) to five times as many (each a table with an index, as in `bench
//! compile`).
//!
//! It builds the generated crate in release mode for each size (the dependencies are shared and
//! built once), then times, process start included, the commands that need no database (`sql`,
//! `schema`, `plan --all`, `lint`, `check`, on PostgreSQL's rules) and, on a fresh SQLite file,
//! `up --single-transaction`, `status` and a no-op `up`. The sizes take turns, one run each per
//! round, the commands without a database first (each command both sizes in turn), then those
//! on SQLite; the report gives the median of each, and the ratio of the larger to the smaller
//! (linear is 5x), and the same of the fastest runs: on a shared machine a run now and then takes
//! twice as long in system time, which a median of few runs does not hide, and the fastest does.
//! Results: `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use super::Args;
use super::compile::{PACKAGE, cargo, median, write_crate};

/// One command of the benchmark: its name, and its arguments (`{db}` is the SQLite URL).
const COMMANDS: &[(&str, &[&str])] = &[
    ("sql --backend postgres", &["sql", "--backend", "postgres"]),
    (
        "schema --backend postgres",
        &["schema", "--backend", "postgres"],
    ),
    (
        "plan --all --backend postgres",
        &["plan", "--all", "--backend", "postgres"],
    ),
    (
        "lint --backend postgres",
        &["lint", "--backend", "postgres"],
    ),
    ("check", &["check", "--write"]),
    (
        "up --single-transaction (SQLite)",
        &["up", "--single-transaction", "--database-url", "{db}"],
    ),
    ("status (SQLite)", &["status", "--database-url", "{db}"]),
    (
        "up, nothing pending (SQLite)",
        &["up", "--database-url", "{db}"],
    ),
];

pub fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.migrations >= 1 && args.runs >= 1,
        "--migrations and --runs must be at least 1"
    );
    let root = crate::workspace_root();
    let dir = root.join("target").join("godwit-bench");
    let work = dir.join("scale");
    fs::create_dir_all(&work).with_context(|| format!("cannot create `{}`", work.display()))?;
    let sizes = [args.migrations, args.migrations * 5];
    let mut bins: Vec<PathBuf> = Vec::new();
    for n in sizes {
        write_crate(&root, &dir, n, false)?;
        eprintln!("building the crate of {n} migrations in release mode (not measured) ...");
        cargo(&dir, &["build", "--release"])?;
        let bin = work.join(format!("{PACKAGE}-{n}"));
        fs::copy(dir.join("target/release").join(PACKAGE), &bin)
            .with_context(|| format!("cannot copy the binary to `{}`", bin.display()))?;
        bins.push(bin);
    }
    // times[size][command]
    let mut times: Vec<Vec<Vec<Duration>>> = vec![vec![Vec::new(); COMMANDS.len()]; sizes.len()];
    let uses_db = |command: &[&str]| command.contains(&"{db}");
    // The commands that need no database first, every round: each the two sizes in turn, so
    // that both run in the same state of the machine. Writing 5,000 tables to SQLite leaves the
    // kernel writing back and its memory fragmented, which slowed the runs that came after it
    // (the 2 MB pages mimalloc asks for take longer to find), differently for each size.
    // The commands read nothing of the crate's sources (`check --write` writes its
    // migrations.sum, whatever is there), so the crate is not rewritten between sizes.
    for round in 1..=args.runs {
        for (c, (name, command)) in COMMANDS.iter().enumerate() {
            if uses_db(command) {
                continue;
            }
            let argv: Vec<String> = command.iter().map(|a| a.to_string()).collect();
            for (s, n) in sizes.iter().enumerate() {
                let t = timed(&bins[s], &dir, &argv)
                    .with_context(|| format!("`{name}` on {n} migrations"))?;
                times[s][c].push(t);
            }
        }
        eprintln!(
            "round {round}/{} of the commands without a database done",
            args.runs
        );
    }
    // Then SQLite: each round, each size on a fresh file, in the commands' order.
    for round in 1..=args.runs {
        for (s, n) in sizes.iter().enumerate() {
            let db = work.join(format!("scale-{n}.db"));
            for f in [db.clone(), PathBuf::from(format!("{}-lock", db.display()))] {
                let _ = fs::remove_file(f);
            }
            let url = format!("sqlite://{}?mode=rwc", db.display());
            for (c, (name, command)) in COMMANDS.iter().enumerate() {
                if !uses_db(command) {
                    continue;
                }
                let argv: Vec<String> = command.iter().map(|a| a.replace("{db}", &url)).collect();
                let t = timed(&bins[s], &dir, &argv)
                    .with_context(|| format!("`{name}` on {n} migrations"))?;
                times[s][c].push(t);
            }
        }
        eprintln!("round {round}/{} on SQLite done", args.runs);
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| command | {} migrations | {} migrations | ratio (linear: 5x) |",
        sizes[0], sizes[1]
    );
    table.push_str("|---|---|---|---|\n");
    for (c, (name, _)) in COMMANDS.iter().enumerate() {
        let fastest = |t: &[Duration]| t.iter().min().copied().unwrap_or_default().as_secs_f64();
        let (small_fastest, large_fastest) = (fastest(&times[0][c]), fastest(&times[1][c]));
        let small = median(&mut times[0][c]).as_secs_f64();
        let large = median(&mut times[1][c]).as_secs_f64();
        let _ = writeln!(
            table,
            "| `{name}` | {small:.3} s ({small_fastest:.3}) | {large:.3} s ({large_fastest:.3}) | \
             {:.1}x ({:.1}x) |",
            large / small.max(1e-9),
            large_fastest / small_fastest.max(1e-9)
        );
    }
    println!(
        "\nMachine: {}. Median (fastest) of {} runs (`cargo xtask bench scale --runs {}`), release build.\n\n{table}",
        super::machine(),
        args.runs,
        args.runs
    );
    Ok(())
}

/// Run `bin` with `args` in `dir`, and time it; fail with its output when it fails.
fn timed(bin: &Path, dir: &Path, args: &[String]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", bin.display()))?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        bail!(
            "`{}` failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}
