//! `cargo xtask bench copy`: `copy` of 1,000,000 rows from SQLite to PostgreSQL, in rows per
//! second.
//!
//! It writes a throwaway migrations crate under `target/godwit-bench-copy/` with one migration,
//! a table of typical columns (`bigint` key, `varchar`, `text`, `timestamptz`, `boolean`,
//! `decimal`), and builds it in release mode (what a deploy runs). The SQLite source is filled
//! once with `sqlite3` (timestamps as RFC 3339 text, as sqlx writes them), then each run
//! migrates a new PostgreSQL database with `up` (not measured) and measures the wall time,
//! process start included, of
//!
//! - `copy --from sqlite:... --to postgres://...` (default batch size);
//! - for comparison, the hand-made pipeline: `sqlite3 -csv` exporting the table to a file, then
//!   `psql -c '\copy ... FROM ... CSV'`, without godwit's checks, resumability or progress.
//!
//! The variants take turns, one run each per round; the report gives the median and the fastest
//! run. The server is the test suite's, `GODWIT_TEST_POSTGRES_URL` (see `.ci/run`).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use super::Args;
use super::compile::{cargo, median};

const PACKAGE: &str = "godwit-bench-copy";
const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The rows per second `copy` must reach.
const TARGET: f64 = 100_000.0;

const MIGRATION: &str = r#"//! The table `cargo xtask bench copy` copies.

use godwit::prelude::*;

pub struct CreateEvents;

impl Migration for CreateEvents {
    fn up(&self, s: &mut Schema) {
        s.create_table("events", |t| {
            t.id();
            t.string("name", 100);
            t.text("body");
            t.timestamp_tz("created_at");
            t.boolean("active");
            t.decimal("amount", 12, 2);
        });
    }
}

godwit::register!(CreateEvents);
"#;

pub fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.rows >= 1 && args.runs >= 1,
        "--rows and --runs must be at least 1"
    );
    for tool in ["psql", "sqlite3"] {
        ensure!(
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "`{tool}` is not installed (Debian: apt-get install -y postgresql-client sqlite3)"
        );
    }
    let root = crate::workspace_root();
    let dir = root.join("target").join("godwit-bench-copy");
    super::write_migrations_crate(
        &root,
        &dir,
        "copy",
        PACKAGE,
        &[("m20260101_000000_create_events.rs", MIGRATION)],
    )?;
    eprintln!("building the migrations binary in release mode (not measured) ...");
    cargo(&dir, &["build", "--release"])?;
    let bin = dir.join("target/release").join(PACKAGE);
    let work = dir.join("run");
    fs::create_dir_all(&work).with_context(|| format!("cannot create `{}`", work.display()))?;

    // The source, filled once.
    let source = work.join("source.db");
    for suffix in ["", "-journal", "-wal", "-shm", ".godwit-lock"] {
        let mut f = source.as_os_str().to_owned();
        f.push(suffix);
        let _ = fs::remove_file(f);
    }
    let source_url = format!("sqlite://{}?mode=rwc", source.display());
    timed(&mut up(&bin, &source_url))?;
    eprintln!(
        "filling the source with {} rows (not measured) ...",
        args.rows
    );
    let fill = format!(
        "BEGIN;\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})\n\
         INSERT INTO events (id, name, body, created_at, active, amount)\n\
         SELECT i, 'user ' || i, 'the body of event ' || i || ', with a few more words to read', \
         strftime('%Y-%m-%dT%H:%M:%SZ', 1700000000 + i, 'unixepoch'), i % 2, (i % 1000000) / 100.0 FROM n;\n\
         COMMIT;\n",
        rows = args.rows
    );
    let fill_file = work.join("fill.sql");
    fs::write(&fill_file, fill)?;
    timed(
        Command::new("sqlite3")
            .arg("-bail")
            .arg(&source)
            .stdin(fs::File::open(&fill_file)?),
    )?;
    let csv = work.join("events.csv");

    let postgres = std::env::var("GODWIT_TEST_POSTGRES_URL").unwrap_or(POSTGRES_DEFAULT.into());
    let target_db = format!("godwit_bench_{}_copy", std::process::id());
    let target_url = with_database(&postgres, &target_db);
    let fresh = || -> anyhow::Result<()> {
        psql(
            &postgres,
            &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
        )?;
        psql(&postgres, &format!("CREATE DATABASE {target_db}"))?;
        timed(&mut up(&bin, &target_url))?;
        psql(&postgres, "CHECKPOINT")?;
        Ok(())
    };

    let mut godwit = Vec::new();
    let mut pipeline = Vec::new();
    for round in 1..=args.runs {
        fresh()?;
        let t = timed(
            Command::new(&bin)
                .args(["copy", "--from", &source_url, "--to", &target_url])
                .env_remove("DATABASE_URL")
                .stdout(Stdio::null()),
        )?;
        let copied = count(&target_url)?;
        ensure!(
            copied == args.rows,
            "after `copy`, the target holds {copied} rows, not {}",
            args.rows
        );
        eprintln!(
            "godwit copy {round}/{}: {:.2} s, {:.0} rows/s",
            args.runs,
            t.as_secs_f64(),
            args.rows as f64 / t.as_secs_f64()
        );
        godwit.push(t);

        fresh()?;
        let start = Instant::now();
        let out = fs::File::create(&csv)?;
        run_ok(
            Command::new("sqlite3")
                .args(["-csv"])
                .arg(&source)
                .arg("SELECT id, name, body, created_at, active, amount FROM events ORDER BY id")
                .stdout(out),
        )?;
        psql(
            &target_url,
            &format!(
                "\\copy events (id, name, body, created_at, active, amount) FROM '{}' CSV",
                csv.display()
            ),
        )?;
        let t = start.elapsed();
        eprintln!(
            "sqlite3 -csv | psql \\copy {round}/{}: {:.2} s, {:.0} rows/s",
            args.runs,
            t.as_secs_f64(),
            args.rows as f64 / t.as_secs_f64()
        );
        pipeline.push(t);
    }
    psql(
        &postgres,
        &format!("DROP DATABASE IF EXISTS {target_db} WITH (FORCE)"),
    )?;
    let _ = fs::remove_file(&csv);
    println!("{}", report(args, &mut godwit, &mut pipeline));
    Ok(())
}

/// `bin up --database-url url`, quiet.
fn up(bin: &Path, url: &str) -> Command {
    let mut c = Command::new(bin);
    c.args(["up", "--database-url", url])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null());
    c
}

/// Run `c`, failing with its output when it fails.
fn run_ok(c: &mut Command) -> anyhow::Result<()> {
    let out = c
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {:?}", c.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} failed: {}",
            c.get_program(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Run `c`; its wall time.
pub(super) fn timed(c: &mut Command) -> anyhow::Result<Duration> {
    let start = Instant::now();
    run_ok(c)?;
    Ok(start.elapsed())
}

pub(super) fn psql(url: &str, command: &str) -> anyhow::Result<()> {
    run_ok(
        Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", command])
            .arg(url)
            .stdout(Stdio::null()),
    )
}

/// The rows of `events` in the database at `url`.
fn count(url: &str) -> anyhow::Result<usize> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-c", "SELECT count(*) FROM events"])
        .arg(url)
        .output()
        .context("cannot run psql")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("psql printed `{text}` for the count"))
}

/// `url` naming database `db`.
pub(super) fn with_database(url: &str, db: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let end = url[authority..]
        .find('?')
        .map_or(url.len(), |i| i + authority);
    let path = url[authority..end].find('/').map_or(end, |i| i + authority);
    format!("{}/{db}{}", &url[..path], &url[end..])
}

/// The results, with what they ran on, ready for `docs/benchmarks.md`.
fn report(args: &Args, godwit: &mut [Duration], pipeline: &mut [Duration]) -> String {
    let rate = |t: Duration| args.rows as f64 / t.as_secs_f64().max(1e-9);
    let fastest = |ts: &[Duration]| ts.iter().copied().min().unwrap_or_default();
    let (g, gf) = (median(godwit), fastest(godwit));
    let (p, pf) = (median(pipeline), fastest(pipeline));
    let mut s = String::new();
    let _ = writeln!(s, "machine: {}", super::machine());
    let _ = writeln!(
        s,
        "{} rows, SQLite to PostgreSQL; median (fastest) of {} runs, wall time with process start",
        args.rows, args.runs
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| variant | seconds | rows/s | target |");
    let _ = writeln!(s, "|---|---|---|---|");
    let _ = writeln!(
        s,
        "| `copy --from sqlite:... --to postgres://...` | {:.2} ({:.2}) | **{:.0}** ({:.0}) | ≥ {TARGET:.0} |",
        g.as_secs_f64(),
        gf.as_secs_f64(),
        rate(g),
        rate(gf)
    );
    let _ = writeln!(
        s,
        "| `sqlite3 -csv` to a file, then `psql \\copy ... CSV` | {:.2} ({:.2}) | {:.0} ({:.0}) | |",
        p.as_secs_f64(),
        pf.as_secs_f64(),
        rate(p),
        rate(pf)
    );
    s
}
