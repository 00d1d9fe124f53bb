//! `cargo xtask bench backfill`: a `backfill` of 1,000,000 rows on PostgreSQL, against one
//! `UPDATE` of the same rows.
//!
//! It writes a throwaway migrations crate under `target/godwit-bench-backfill/` with two
//! migrations: `events (id, n, doubled)`, then `backfill("events").set("doubled", n * 2)` at the
//! default batch size, and builds it in release mode. Each run, in a new database filled with
//! `generate_series` (not measured), measures the wall time, process start included, of
//!
//! - `up`, which runs the backfill batch by batch, each batch and its progress row one
//!   transaction; the binary reports its longest batch;
//! - for comparison, `psql -c 'UPDATE events SET doubled = n * 2'`: one statement, one
//!   transaction, every row locked until it commits.
//!
//! The throughput ratio is the `UPDATE`'s time over the backfill's (target at least 0.8).

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use super::Args;
use super::compile::{cargo, median};
use super::copy::{psql, timed, with_database};

const PACKAGE: &str = "godwit-bench-backfill";
const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The throughput the backfill must keep, as a share of one `UPDATE`'s.
const TARGET_RATIO: f64 = 0.8;
/// The longest a batch may take at the default batch size.
const TARGET_BATCH: Duration = Duration::from_millis(100);

const CREATE: &str = r#"use godwit::prelude::*;

pub struct CreateEvents;

impl Migration for CreateEvents {
    fn up(&self, s: &mut Schema) {
        s.create_table("events", |t| {
            t.id();
            t.integer("n");
        });
    }
}

godwit::register!(CreateEvents);
"#;

const BACKFILL: &str = r#"use godwit::prelude::*;

pub struct BackfillDoubled;

impl Migration for BackfillDoubled {
    fn up(&self, s: &mut Schema) {
        s.add_column("events", Column::big_integer("doubled").nullable());
        s.backfill("events").set("doubled", col("n").mul(2));
    }
}

godwit::register!(BackfillDoubled);
"#;

pub fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.rows >= 1 && args.runs >= 1,
        "--rows and --runs must be at least 1"
    );
    ensure!(
        Command::new("psql")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "`psql` is not installed (Debian: apt-get install -y postgresql-client)"
    );
    let root = crate::workspace_root();
    let dir = root.join("target").join(PACKAGE);
    super::write_migrations_crate(
        &root,
        &dir,
        "backfill",
        PACKAGE,
        &[
            ("m20260101_000000_create_events.rs", CREATE),
            ("m20260101_000100_backfill_doubled.rs", BACKFILL),
        ],
    )?;
    eprintln!("building the migrations binary in release mode (not measured) ...");
    cargo(&dir, &["build", "--release"])?;
    let bin = dir.join("target/release").join(PACKAGE);

    let postgres = std::env::var("GODWIT_TEST_POSTGRES_URL").unwrap_or(POSTGRES_DEFAULT.into());
    let db = format!("godwit_bench_{}_backfill", std::process::id());
    let url = with_database(&postgres, &db);
    // A new database with `events` filled and the `doubled` column added (as the backfill's
    // migration adds it, so that both variants start from the same table).
    let fresh = || -> anyhow::Result<()> {
        psql(
            &postgres,
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        )?;
        psql(&postgres, &format!("CREATE DATABASE {db}"))?;
        timed(
            Command::new(&bin)
                .args(["up", "--to", "20260101000000", "--database-url", &url])
                .env_remove("DATABASE_URL")
                .stdout(Stdio::null()),
        )?;
        psql(
            &url,
            &format!(
                "INSERT INTO events (id, n) SELECT i, i % 1000 FROM generate_series(1, {}) i",
                args.rows
            ),
        )?;
        psql(&url, "VACUUM ANALYZE events")?;
        psql(&url, "CHECKPOINT")?;
        Ok(())
    };

    let mut backfill = Vec::new();
    let mut longest = Vec::new();
    let mut update = Vec::new();
    for round in 1..=args.runs {
        fresh()?;
        let start = Instant::now();
        let out = Command::new(&bin)
            .args(["up", "--database-url", &url])
            .env_remove("DATABASE_URL")
            .output()
            .context("cannot run the migrations binary")?;
        let t = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!("`up` failed: {stderr}");
        }
        let batch = longest_batch(&stderr)
            .with_context(|| format!("`up` did not report its longest batch: {stderr}"))?;
        ensure!(
            count(&url, "doubled = n * 2")? == args.rows,
            "the backfill left rows without `doubled`"
        );
        eprintln!(
            "backfill {round}/{}: {:.2} s, longest batch {} ms",
            args.runs,
            t.as_secs_f64(),
            batch.as_millis()
        );
        backfill.push(t);
        longest.push(batch);

        fresh()?;
        psql(&url, "ALTER TABLE events ADD COLUMN doubled bigint NULL")?;
        let t = timed(
            Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"])
                .arg("UPDATE events SET doubled = n * 2")
                .arg(&url)
                .stdout(Stdio::null()),
        )?;
        eprintln!("one UPDATE {round}/{}: {:.2} s", args.runs, t.as_secs_f64());
        update.push(t);
    }
    psql(
        &postgres,
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )?;
    println!("{}", report(args, &mut backfill, &mut longest, &mut update));
    Ok(())
}

/// `... rows done in 4.1 s (longest batch 63 ms)` from the binary's output.
fn longest_batch(stderr: &str) -> Option<Duration> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains("(longest batch "))?;
    let ms = line.rsplit("(longest batch ").next()?.split(' ').next()?;
    ms.parse().ok().map(Duration::from_millis)
}

/// Rows of `events` matching `condition`.
fn count(url: &str, condition: &str) -> anyhow::Result<usize> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-c"])
        .arg(format!("SELECT count(*) FROM events WHERE {condition}"))
        .arg(url)
        .output()
        .context("cannot run psql")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("psql printed `{text}` for the count"))
}

/// The results, with what they ran on, ready for `docs/benchmarks.md`.
fn report(
    args: &Args,
    backfill: &mut [Duration],
    longest: &mut [Duration],
    update: &mut [Duration],
) -> String {
    let (b, u, l) = (median(backfill), median(update), median(longest));
    let worst = longest.iter().copied().max().unwrap_or_default();
    let ratio = u.as_secs_f64() / b.as_secs_f64().max(1e-9);
    let mut s = String::new();
    let _ = writeln!(s, "machine: {}", super::machine());
    let _ = writeln!(
        s,
        "{} rows on PostgreSQL, default batch size; median of {} runs, wall time with process start",
        args.rows, args.runs
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "| variant | seconds | rows/s | longest batch | target |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    let _ = writeln!(
        s,
        "| `up`: `backfill(\"events\").set(\"doubled\", n * 2)` | {:.2} | {:.0} | {} ms (worst run {} ms) | < {} ms |",
        b.as_secs_f64(),
        args.rows as f64 / b.as_secs_f64().max(1e-9),
        l.as_millis(),
        worst.as_millis(),
        TARGET_BATCH.as_millis()
    );
    let _ = writeln!(
        s,
        "| `psql -c 'UPDATE events SET doubled = n * 2'` | {:.2} | {:.0} | the whole table | |",
        u.as_secs_f64(),
        args.rows as f64 / u.as_secs_f64().max(1e-9),
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "throughput of the backfill as a share of the single UPDATE's: **{ratio:.2}x** (target ≥ {TARGET_RATIO}x)"
    );
    s
}
