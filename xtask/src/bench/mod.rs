//! `cargo xtask bench [compile|apply|backfill|copy|scale]`: how long 1,000 migrations take to compile, and
//! to apply (godwit against each database's own client); how a `backfill` of 1,000,000 rows compares
//! with one `UPDATE` on PostgreSQL; how fast `copy` moves rows from SQLite to
//! PostgreSQL. Results and method: `docs/benchmarks.md`.

mod apply;
mod backfill;
mod compile;
mod copy;
mod scale;

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
    /// How `sql`, `schema`, `plan`, `lint`, `check`, `up` and `status` grow from 1,000
    /// migrations to 5,000
    Scale,
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
    /// `bench compile`: the migrations live in a crate of their own that the migrations crate
    /// links (a long history archived), and the one added goes into the migrations crate
    #[arg(long)]
    archived: bool,
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
    if matches!(args.what, What::Scale | What::All) {
        scale::run(args)?;
    }
    Ok(())
}

/// Write a throwaway migrations crate into `dir` for the bench task `task`: `package` with the
/// migration files `migrations` (file name, source). `target/` is kept, so its dependencies
/// stay built between runs; unchanged files are not rewritten.
fn write_migrations_crate(
    root: &std::path::Path,
    dir: &std::path::Path,
    task: &str,
    package: &str,
    migrations: &[(&str, &str)],
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let path = |p: &str| root.join(p).display().to_string();
    let mut files: Vec<(String, String)> = vec![
        (
            "Cargo.toml".into(),
            format!(
                "# Written by `cargo xtask bench {task}`: a throwaway crate of migrations.\n\
                 [workspace]\n\n\
                 [package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dependencies]\ngodwit = {{ path = {:?} }}\n\n\
                 [build-dependencies]\ngodwit-build = {{ path = {:?} }}\n",
                path("crates/godwit"),
                path("crates/godwit-build"),
            ),
        ),
        (
            "build.rs".into(),
            "fn main() {\n    godwit_build::discover();\n}\n".into(),
        ),
        ("src/lib.rs".into(), "godwit::migrations!();\n".into()),
        ("src/main.rs".into(), "godwit::main!();\n".into()),
        // The same dependency versions as the workspace, without a registry lookup.
        (
            "Cargo.lock".into(),
            std::fs::read_to_string(root.join("Cargo.lock"))
                .context("cannot read the workspace's Cargo.lock")?,
        ),
    ];
    files.extend(
        migrations
            .iter()
            .map(|(name, source)| (format!("src/migrations/{name}"), source.to_string())),
    );
    for (name, content) in files {
        let file = dir.join(&name);
        if std::fs::read_to_string(&file).is_ok_and(|old| old == content) {
            continue;
        }
        std::fs::create_dir_all(file.parent().unwrap_or(dir))?;
        std::fs::write(&file, content)
            .with_context(|| format!("cannot write `{}`", file.display()))?;
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
