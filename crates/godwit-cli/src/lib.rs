//! The `godwit` command, installed with `cargo install --path crates/godwit-cli`.
//!
//! `godwit init` turns a cargo project into one that has migrations: it adds a migrations crate,
//! an `xtask` crate whose `migrate` task builds and runs the migrations binary, and the
//! `cargo xtask` alias. Everything after that goes through `cargo xtask migrate <command>`, the
//! migrations crate's own binary. `godwit archive` moves the migrations that no longer change
//! into a crate of their own, once there are thousands.
//!
//! [`command`] is the whole command-line interface, for a generated command reference; [`init`]
//! and [`archive`] hold the logic, which plans every file before writing any.

#![warn(missing_docs)]

pub mod archive;
pub mod init;
mod templates;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

const ABOUT: &str = "Set up godwit database migrations in a cargo workspace";

const LONG_ABOUT: &str = "Set up godwit database migrations in a cargo workspace.

`godwit init` adds a migrations crate, an xtask crate and the `cargo xtask` alias to the cargo \
project around the current directory. From then on, migrations are written and run with \
`cargo xtask migrate <command>`: `new \"create users\"`, `up`, `status`, `down`, and the other \
commands listed by `cargo xtask migrate --help`. Once there are thousands of migrations, \
`godwit archive --through VERSION` moves the older ones into a crate of their own, so that adding \
one compiles fast again.";

const AFTER_HELP: &str = "Exit codes: 0 success, 1 error, 2 usage error.";

/// The `godwit` command line.
#[derive(Debug, Parser)]
#[command(
    name = "godwit",
    bin_name = "godwit",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(InitArgs),
    Archive(ArchiveArgs),
    /// Print a completion script for `godwit`, for bash, zsh, fish, elvish or PowerShell
    ///
    /// bash: `godwit completions bash > ~/.local/share/bash-completion/completions/godwit`;
    /// zsh: into a directory of `$fpath` as `_godwit`; fish:
    /// `~/.config/fish/completions/godwit.fish`. The migrations binary has its own
    /// (`cargo xtask migrate completions bash`).
    Completions(CompletionsArgs),
}

/// `completions <SHELL>`.
#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Add a migrations crate, an xtask crate and the `cargo xtask` alias to this cargo workspace
///
/// Run it in a cargo workspace, or in a single package, which becomes the root of a workspace (a
/// `[workspace]` table is added to its Cargo.toml). The workspace is found by walking up from the
/// current directory, as cargo does. It creates:
///
///   <name>/                  the migrations crate: Cargo.toml, build.rs, src/main.rs, src/lib.rs,
///                            src/migrations/ (one file per migration), migrations.sum
///   xtask/                   `cargo xtask migrate <args>` builds and runs the migrations binary
///   .cargo/config.toml       the alias `xtask = "run --package xtask --"`
///
/// and adds both crates to the workspace members. It overwrites nothing: when any of these
/// exists (or the alias is set to something else), it says which and writes no file at all.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP, verbatim_doc_comment)]
struct InitArgs {
    /// Look for the cargo project from this directory instead of the current one
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The migrations crate's package name, also its directory at the workspace root
    #[arg(long, value_name = "NAME", default_value = init::DEFAULT_NAME)]
    name: String,
    /// The godwit source tree to depend on: a godwit checkout, its `crates` directory, or
    /// `crates/godwit`
    ///
    /// [default: the checkout this `godwit` was built from, while it exists]
    #[arg(long, value_name = "DIR")]
    godwit_path: Option<PathBuf>,
    /// Depend on godwit from crates.io (`godwit = "<version>"`) rather than on a checkout
    ///
    /// [default: crates.io when this `godwit` was installed from it, else the checkout it was
    /// built from]
    #[arg(long, conflicts_with = "godwit_path")]
    registry: bool,
    /// Build the migrations binary for this database only (repeat it, or list them with commas,
    /// for several); each compiles one driver
    ///
    /// [default: all three]
    #[arg(long, value_name = "BACKEND", value_enum, value_delimiter = ',')]
    backend: Vec<BackendArg>,
    /// Print what would be created and changed, and write nothing
    #[arg(long)]
    dry_run: bool,
}

/// Move the migrations that no longer change into a crate of their own, which the migrations
/// crate links
///
/// The migrations crate compiles as one crate: every migration added makes rustc check all of
/// them again, which with thousands of migrations takes seconds. `godwit archive --through
/// VERSION` moves every migration up to VERSION from `<migrations>/src/migrations` into
/// `<migrations>/archive/src/migrations`, a crate (`<package>-archive`) that it creates the first
/// time, with the migrations crate's godwit dependencies, and links from the migrations crate (a
/// path dependency, a member of the workspace through it, and a `use` in `src/lib.rs`). Run it
/// again later to move more.
///
/// Versions, names and checksums do not change: history, `migrations.sum`, `status` and `check`
/// see the same migrations, and `new` keeps writing into the migrations crate. Archive only
/// migrations every deployment has applied and nobody still edits. It moves nothing (and says
/// why) when a migration to move uses `crate::` or `super::`, which would name the archive.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP, verbatim_doc_comment)]
struct ArchiveArgs {
    /// Archive every migration up to and including this version (`20261120090000`, as `cargo
    /// xtask migrate status` shows it)
    #[arg(long, value_name = "VERSION")]
    through: String,
    /// Look for the cargo project from this directory instead of the current one
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The migrations crate's directory, when the workspace has more than one
    #[arg(long = "crate", value_name = "DIR")]
    krate: Option<PathBuf>,
    /// Print what would be created, changed and moved, and write nothing
    #[arg(long)]
    dry_run: bool,
}

/// A database, as `--backend` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendArg {
    Postgres,
    /// MySQL or MariaDB
    #[value(alias = "mariadb")]
    Mysql,
    Sqlite,
}

/// The whole command-line interface, as clap sees it (for the generated command reference).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Run `godwit` with the process's arguments; the exit code is 0, 1 (error) or 2 (usage).
pub fn main() -> ExitCode {
    run(std::env::args_os())
}

/// Run `godwit` with `args` (the first is the program name).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Init(args) => run_init(args),
        Command::Archive(args) => run_archive(args),
        Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "godwit",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn current_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir),
        None => std::env::current_dir()
            .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}")),
    }
}

fn run_archive(args: ArchiveArgs) -> anyhow::Result<()> {
    let plan = archive::plan(&archive::Options {
        dir: current_dir(args.dir)?,
        krate: args.krate,
        through: args.through,
    })?;
    if !args.dry_run {
        plan.write()?;
    }
    print!("{}", plan.summary(args.dry_run));
    Ok(())
}

fn run_init(args: InitArgs) -> anyhow::Result<()> {
    let dir = current_dir(args.dir)?;
    let plan = init::plan(&init::Options {
        dir,
        name: args.name,
        godwit_path: args.godwit_path,
        registry: args.registry,
        backends: args
            .backend
            .iter()
            .map(|b| match b {
                BackendArg::Postgres => init::Backend::Postgres,
                BackendArg::Mysql => init::Backend::Mysql,
                BackendArg::Sqlite => init::Backend::Sqlite,
            })
            .collect(),
    })?;
    if args.dry_run {
        print!("{}", plan.summary(true));
        return Ok(());
    }
    plan.write()?;
    print!("{}", plan.summary(false));
    Ok(())
}
