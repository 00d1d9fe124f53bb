//! `cargo xtask bench [compile|apply|backfill|copy]`: how long 1,000 migrations take to compile, and
//! to apply (godwit against each database's own client); how a `backfill` of 1,000,000 rows compares
//! with one `UPDATE` on PostgreSQL; how fast `copy` moves rows from SQLite to
//! PostgreSQL. Results and method: `docs/benchmarks.md`.

mod apply;
mod backfill;
mod compile;
mod copy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Compile time of the migrations crate (clean, and after adding one migration)
    Compile,
    /// Applying the migrations to fresh PostgreSQL, SQLite and MariaDB databases
    Apply,
    /// `backfill` of 1,000,000 rows on PostgreSQL against one `UPDATE`, and its longest batch
    Backfill,
    /// `copy` of 1,000,000 rows from SQLite to PostgreSQL, in rows per second
    Copy,
    /// All of them
    All,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to measure
    #[arg(value_enum, default_value_t = What::All)]
    what: What,
    /// How many migrations the generated crate holds
    #[arg(long, default_value_t = 1000)]
    migrations: usize,
    /// How many times each measurement is taken (the median is reported)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// How many rows `bench backfill` updates and `bench copy` copies
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if matches!(args.what, What::Compile | What::All) {
        compile::run(args)?;
    }
    if matches!(args.what, What::Apply | What::All) {
        apply::run(args)?;
    }
    if matches!(args.what, What::Backfill | What::All) {
        backfill::run(args)?;
    }
    if matches!(args.what, What::Copy | What::All) {
        copy::run(args)?;
    }
    Ok(())
}

/// `AMD EPYC ..., 2 cores`.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
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
    format!("{cpu}, {cores} cores")
}
