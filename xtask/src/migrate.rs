//! `cargo xtask migrate <args>`: build the migrations-example binary and run it with `<args>`,
//! passing its exit code through.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context as _;

#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// The arguments of the migrations binary, such as `sql --backend postgres`
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let status = crate::cargo()
        .current_dir(crate::workspace_root())
        .args([
            "run",
            "--quiet",
            "--package",
            "migrations-example",
            "--bin",
            "migrations-example",
            "--",
        ])
        .args(&args.args)
        .status()
        .context("cannot run cargo to build the migrations binary")?;
    // The binary's own code (0, 1, 2), or cargo's when the build failed.
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
