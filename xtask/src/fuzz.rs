//! `cargo xtask fuzz`: the fuzz tests of `tests/it/fuzz.rs`, with many more cases than CI runs.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;

#[derive(Debug, Parser)]
pub struct Args {
    /// How many random cases (CI runs 3,000)
    #[arg(long, default_value_t = 100_000)]
    cases: u64,
    /// The seed: the same seed gives the same cases
    #[arg(long, default_value_t = 0x9e37_79b9_7f4a_7c15)]
    seed: u64,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let status = crate::cargo()
        .current_dir(crate::workspace_root())
        .args([
            "test",
            "--release",
            "-p",
            "tests",
            "--test",
            "it",
            "--",
            "fuzz::",
            "--nocapture",
        ])
        .env("GODWIT_FUZZ_CASES", args.cases.to_string())
        .env("GODWIT_FUZZ_SEED", args.seed.to_string())
        .status()
        .context("cannot run cargo test")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
