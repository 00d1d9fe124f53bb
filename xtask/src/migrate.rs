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
    let root = crate::workspace_root();
    let mut command = crate::cargo();
    command.current_dir(&root).args([
        "run",
        "--package",
        "migrations-example",
        "--bin",
        "migrations-example",
    ]);
    // The first build compiles godwit and the database drivers, minutes on a small machine: on
    // a terminal, cargo shows its progress then. Otherwise, and once built, it stays quiet.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = format!("migrations-example{}", std::env::consts::EXE_SUFFIX);
    let first_build = !target.join("debug").join(binary).exists();
    if first_build && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!(
            "building the migrations binary for the first time: this compiles godwit and the \
             database drivers, and takes a few minutes"
        );
    } else {
        command.arg("--quiet");
    }
    let status = command
        .arg("--")
        .args(&args.args)
        .status()
        .context("cannot run cargo to build the migrations binary")?;
    // The binary's own code (0, 1, 2), or cargo's when the build failed.
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}
