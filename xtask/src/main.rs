//! Project tasks, run as `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! One module per task. Exit codes: a task's own, `1` when it fails, `2` for a usage error.

mod bench;
mod fuzz;
mod migrate;
mod newcomer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Project tasks"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Build the migrations-example binary and run it with these arguments (try `migrate --help`)
    Migrate(migrate::Args),
    /// Measure 1,000 migrations (compile time, applying them against psql, sqlite3 and mysql) and
    /// `copy` (rows per second from SQLite to PostgreSQL)
    Bench(bench::Args),
    /// A new user's first minutes, timed: a fresh project, `godwit init`, `new`, `up`, `status`,
    /// the first build from nothing included
    Newcomer(newcomer::Args),
    /// Render, lint and plan random DSL programs, file names and manifests, asserting that
    /// nothing panics (CI runs a short run of the same)
    Fuzz(fuzz::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Migrate(args) => migrate::run(&args),
        Task::Bench(args) => bench::run(&args).map(|()| ExitCode::SUCCESS),
        Task::Fuzz(args) => fuzz::run(&args),
        Task::Newcomer(args) => newcomer::run(&args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let xtask = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().map(PathBuf::from).unwrap_or(xtask)
}

/// The cargo that runs this task (`$CARGO`), or `cargo`.
fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
