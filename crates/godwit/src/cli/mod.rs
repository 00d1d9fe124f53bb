//! The migrations binary's command line, over the library.
//!
//! `godwit::main!()` calls [`main`]; everything below it takes its inputs (arguments,
//! registrations, `DATABASE_URL`, the clock) as values, so it is tested without a process.
//!
//! Exit codes: `0` success, `1` an error (printed as `error: ...` on stderr; also `schema --check`
//! finding its file stale or missing, and `check` finding `migrations.sum` missing, unreadable,
//! stale or without one linear order), `2` a usage error (also `fresh` without `--yes`),
//! `3` `status --check` found a migration that is not applied as it is in the code (pending,
//! half-applied, changed, missing or out of order), `4` another deploy held the migration lock
//! past `--deploy-lock-timeout`, `5` `lint` found an unsafe operation, or `up` refused to run
//! one, `6` `up` refused to run because history does not match the code (a changed, missing or
//! out-of-order migration), `130` interrupted by Ctrl-C, `143` terminated by SIGTERM. `plan` exits with `0` whatever it finds: it
//! reports, `lint` is the gate.
//!
//! **Invariant:** nothing here panics on user input; every error names the file or migration it
//! concerns and says how to fix it.

mod apply;
mod check;
mod copy;
mod db;
mod lint;
mod new;
mod plan;
mod registry;
mod schema;
mod sql;
mod status;
mod verify;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use time::OffsetDateTime;

use crate::Registration;

pub use new::{Names, new_migration, template};

/// The migrations crate the binary was built from; `godwit::main!()` fills it in.
#[derive(Debug, Clone, Copy)]
pub struct Project {
    /// The package name, shown in `--help`.
    pub name: &'static str,
    /// The crate's directory when it was compiled: `new` writes into its `src/migrations`.
    pub manifest_dir: &'static str,
    /// Every file godwit-build found in `src/migrations`, absolute: each must register exactly
    /// one migration.
    pub files: &'static [&'static str],
}

impl Project {
    /// `<manifest_dir>/src/migrations`.
    pub fn migrations_dir(&self) -> std::path::PathBuf {
        Path::new(self.manifest_dir).join("src").join("migrations")
    }

    /// `<manifest_dir>/migrations.sum`: the manifest `check` compares with the code and `new`
    /// updates.
    pub fn manifest_file(&self) -> std::path::PathBuf {
        Path::new(self.manifest_dir).join(crate::manifest::FILE_NAME)
    }

    /// The database used when `DATABASE_URL` is not set: the SQLite file `dev.db` in the
    /// migrations crate's directory, created when missing.
    pub fn default_database_url(&self) -> String {
        format!("sqlite://{}/dev.db?mode=rwc", self.manifest_dir)
    }
}

/// Everything a command reads from the outside world.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The migrations crate this binary was built from.
    pub project: &'a Project,
    /// Every registered migration, as [`crate::registrations`] returns them.
    pub registrations: &'a [Registration],
    /// `DATABASE_URL`, if set: its scheme picks the default backend.
    pub database_url: Option<String>,
    /// Where relative paths in messages start: the current directory.
    pub cwd: Option<std::path::PathBuf>,
    /// The time `new` stamps a migration with.
    pub now: OffsetDateTime,
    /// Whether stdout gets colors (a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// Where what depends on the binary's migrations alone is kept (their checksums and
    /// allowed lint findings; see [`godwit_runner::Cache`]): beside the binary in a real run,
    /// none in tests, whose registrations are not the binary's.
    pub cache: Option<std::sync::Arc<godwit_runner::Cache>>,
}

/// What tells one set of registered migrations from another in the same binary: a hash of
/// their files and types (the binary's identity tells their code apart).
fn scope(registrations: &[Registration]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for r in registrations {
        (r.file, r.type_name).hash(&mut hasher);
    }
    format!("{}:{:016x}", registrations.len(), hasher.finish())
}

impl<'a> Context<'a> {
    /// The context of a real run: environment, current directory and clock.
    pub fn from_env(project: &'a Project, registrations: &'a [Registration]) -> Self {
        Context {
            project,
            registrations,
            // Set but empty is kept: resolving it is an error, never the default.
            database_url: std::env::var("DATABASE_URL").ok(),
            cwd: std::env::current_dir().ok(),
            now: OffsetDateTime::now_utc(),
            color: db::color_stdout(),
            cache: godwit_runner::Cache::of_this_binary(&scope(registrations))
                .map(std::sync::Arc::new),
        }
    }

    /// `path` relative to the current directory when it is inside it, for messages.
    pub fn display(&self, path: &str) -> String {
        self.cwd
            .as_deref()
            .and_then(|cwd| Path::new(path).strip_prefix(cwd).ok())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| path.to_string())
    }

    /// `DATABASE_URL`, else `DATABASE_URL` in a `.env` file (in the current directory or a
    /// parent), else the project's [default](Project::default_database_url).
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| {
                let dir = self.cwd.as_deref()?;
                let (_, url) = godwit_runner::url::dotenv_database_url(dir)?.ok()?;
                Some(url)
            })
            .unwrap_or_else(|| self.project.default_database_url())
    }

    /// `message` with the crate's absolute directory shortened as [`display`](Self::display) does.
    pub fn shorten(&self, message: &str) -> String {
        let dir = format!("{}/", self.project.manifest_dir);
        let short = self.display(self.project.manifest_dir);
        let short = if short == self.project.manifest_dir {
            dir.clone()
        } else if short.is_empty() {
            String::new()
        } else {
            format!("{short}/")
        };
        message.replace(&dir, &short)
    }
}

/// Why a run failed.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments, or `--help`: clap prints it.
    Usage(clap::Error),
    /// One or more errors, each printed as `error: {:#}`.
    Errors(Vec<anyhow::Error>),
    /// Errors with an exit code of their own (see the module's documentation).
    Exit {
        /// The process's exit code.
        code: u8,
        /// Each printed as `error: {:#}`.
        errors: Vec<anyhow::Error>,
    },
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Errors(vec![e])
    }
}

/// What happens without any database URL.
#[cfg(feature = "sqlite")]
macro_rules! default_database_help {
    () => {
        "without any, it is the SQLite file dev.db in the migrations crate."
    };
}
#[cfg(not(feature = "sqlite"))]
macro_rules! default_database_help {
    () => {
        "one of them is needed: this binary is built without SQLite, whose file dev.db in the \
         migrations crate is the default."
    };
}

/// The exit codes, and where the database comes from.
const AFTER_HELP: &str = concat!(
    "Exit codes: 0 success, 1 error, 2 usage error, 3 `status --check` found a migration \
     pending, half-applied, changed or missing,\n4 another deploy held the migration lock \
     past --deploy-lock-timeout, \
     5 `lint` found an unsafe operation, or `up` refused to run one,\n6 `up` refused to run: history \
     does not match the code (changed, missing or out-of-order migrations), 130 interrupted (Ctrl-C),\n\
     143 terminated (SIGTERM);\n\
     `schema --check` and `check` exit with 1 when their file is stale or missing.\n\
     The database: --database-url, else DATABASE_URL, else DATABASE_URL in a .env file \
     (postgres://, mysql://, mariadb://, sqlite:);\n",
    default_database_help!()
);

#[derive(Debug, Parser)]
#[command(
    about = "Database migrations: apply, roll back, inspect, print their SQL, write new ones",
    after_help = AFTER_HELP,
    disable_version_flag = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, oldest first, one transaction each where the backend allows
    Up(apply::UpArgs),
    /// Roll back applied migrations, newest first (the newest one by default)
    Down(apply::DownArgs),
    /// Roll back the newest migrations and apply them again
    Redo(apply::RedoArgs),
    /// Show every migration: applied (when, how long), pending or half-applied, and the reasons
    /// of the lint findings it allows
    ///
    /// An applied migration whose code changed since shows as `changed`: the checksum of what its
    /// code renders now differs from the one history recorded. Those checksums and the allowed
    /// findings depend on the binary alone: on Linux, its first run computes them and keeps them
    /// beside it, in `.<binary>.godwit-cache` (where that directory can be written), for its
    /// later runs; a new build computes them again. `GODWIT_NO_CACHE=1` turns this off, for
    /// migrations that read their environment while they are recorded.
    Status(status::StatusArgs),
    /// The deploy plan of the pending migrations: SQL, transaction mode, locks, lint findings,
    /// reversibility, additive or destructive
    ///
    /// Reads the database's history without changing it; with --all, plans every migration
    /// without a database. Exits with 0 whatever it finds: `lint` is the gate for unsafe
    /// operations.
    Plan(plan::PlanArgs),
    /// Drop every table and view of the database, then apply every migration
    Fresh(apply::FreshArgs),
    /// Record the current checksum of applied migrations whose code changed, after review
    ///
    /// `status` shows such migrations as `changed` and `up` refuses to run over them; once a
    /// person has checked that the database matches the edited code, `repair` records the new
    /// checksums. Nothing else changes.
    Repair(apply::RepairArgs),
    /// Print the exact SQL of migrations for a backend, without connecting to a database
    Sql(sql::SqlArgs),
    /// Check migrations against the zero-downtime rules of a backend (exit code 5 when unsafe)
    Lint(lint::LintArgs),
    /// Write a new migration file into src/migrations
    New(new::NewArgs),
    /// Print the schema every migration builds, as SQL for a backend, without a database
    ///
    /// Deterministic: commit it (--output FILE) and let CI run `schema --check FILE`, which fails
    /// with exit code 1 when the migrations no longer build what FILE says.
    Schema(schema::SchemaArgs),
    /// Check that migrations.sum matches the migrations in the code (exit code 1 when not)
    ///
    /// migrations.sum lists every migration with a checksum of what it does, so that two
    /// branches that each add a migration conflict in git instead of merging silently. `check`
    /// fails when it is missing, stale, or its versions are out of order (a bad merge); `check
    /// --write` rewrites it from the code. No database is needed.
    Check(check::CheckArgs),
    /// Apply every migration to a scratch database on the same server, then roll each back and
    /// apply it again, checking the schema by introspection after each step
    ///
    /// The scratch database (a temporary file for SQLite) is dropped afterwards, also on
    /// failure. Reports the first migration whose round trip does not restore the schema, with
    /// the differences (exit code 1).
    Verify(verify::VerifyArgs),
    /// Mark migrations up to a version as applied without running them, to adopt an existing
    /// database
    ///
    /// First checks that the database's schema is the one those migrations build (unless
    /// --force); refused when history already has rows.
    Baseline(verify::BaselineArgs),
    /// Copy every table's rows from one database to another with the same migrations applied
    ///
    /// Parents first, in batches walked by primary key, each batch one transaction in the target;
    /// resumable (progress is kept in the target's godwit_copy_progress), then PostgreSQL
    /// sequences are set past the copied keys and every table's rows are counted in both
    /// (exit code 1 when they differ).
    Copy(copy::CopyArgs),
    /// Print a completion script for this binary, for bash, zsh, fish, elvish or PowerShell
    ///
    /// It completes the binary by its name (the migrations crate's), as run from a deploy image
    /// or the target directory. bash: `blog-migrations completions bash >
    /// ~/.local/share/bash-completion/completions/blog-migrations`; zsh: into a directory of
    /// `$fpath` as `_blog-migrations`; fish: `~/.config/fish/completions/blog-migrations.fish`.
    Completions(CompletionsArgs),
}

/// `completions <SHELL>`.
#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// The migrations binary's command line as a clap [`Command`](clap::Command), for tools that
/// document or complete it. Its name is godwit's; [`run`] names it after the migrations crate.
pub fn command() -> clap::Command {
    Cli::command()
}

/// The completion script for `shell` of the migrations binary named `bin`.
///
/// clap_complete's bash script spells the state of a subcommand two ways when the binary's name
/// has a hyphen (as `<project>-migrations` always does), so that nothing after a subcommand
/// completes; its case labels are respelled the way its loop spells them.
fn completions(shell: clap_complete::Shell, bin: &'static str) -> String {
    let mut command = Cli::command().name(bin).bin_name(bin);
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, bin, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    if shell != clap_complete::Shell::Bash || !bin.contains('-') {
        return script;
    }
    script.replace(&bin.replace('-', "__subcmd__"), &bin.replace('-', "__"))
}

/// The binary's `main`: parse the arguments, run the command, print errors, return the exit
/// code (see the module's documentation).
pub fn main(project: &Project) -> ExitCode {
    // A migration whose `up` or `down` panics becomes an error naming it (see
    // `godwit_core::plan::recording_migration`): the default hook would print a raw panic first.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !godwit_core::plan::recording_migration() {
            default_hook(info);
        }
    }));
    if let Err(e) = built_here(
        project,
        std::env::var("CARGO_PKG_NAME").ok().as_deref(),
        std::env::var("CARGO_MANIFEST_DIR").ok().as_deref(),
    ) {
        return exit_code(Err(Failure::from(e)));
    }
    let registrations = crate::registrations();
    let cx = Context::from_env(project, &registrations);
    let mut stdout = io::stdout().lock();
    let result = run(&cx, std::env::args_os(), &mut stdout).and_then(|()| {
        stdout
            .flush()
            .map_err(|e| Failure::from(anyhow::Error::new(e)))
    });
    exit_code(result)
}

/// Refuse to run when cargo runs this binary for a package of the same name in another
/// directory (`cargo run` sets `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR`): two workspaces that
/// share a target directory and name their migrations crates alike get each other's binary,
/// migrations included.
pub(crate) fn built_here(
    project: &Project,
    run_package: Option<&str>,
    run_dir: Option<&str>,
) -> anyhow::Result<()> {
    let (Some(package), Some(dir)) = (run_package, run_dir) else {
        return Ok(());
    };
    let same = |a: &str, b: &str| {
        let canon = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| Path::new(p).into());
        canon(a) == canon(b)
    };
    if package == project.name && !same(dir, project.manifest_dir) {
        anyhow::bail!(
            "this `{package}` binary was built from `{}`, but cargo runs it for `{dir}`: the \
             two workspaces share a target directory and a package name, so each gets the \
             other's migrations; give the migrations crates different names (`name` in their \
             Cargo.toml), or give each workspace its own target directory",
            project.manifest_dir
        );
    }
    Ok(())
}

/// Print what `result` says went wrong and turn it into an exit code.
pub fn exit_code(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            let _ = e.print();
            if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(Failure::Exit { code, errors }) => {
            let mut stderr = io::stderr().lock();
            for e in errors {
                let _ = writeln!(stderr, "error: {e:#}");
            }
            ExitCode::from(code)
        }
        Err(Failure::Errors(errors)) => {
            // `sql | head` closing the pipe early is not an error.
            let broken_pipe = errors.iter().all(|e| {
                e.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            });
            if broken_pipe && !errors.is_empty() {
                return ExitCode::SUCCESS;
            }
            let mut stderr = io::stderr().lock();
            for e in errors {
                let _ = writeln!(stderr, "error: {e:#}");
            }
            ExitCode::from(1)
        }
    }
}

/// Run the command line `args` (the program name first) and write its output to `out`.
pub fn run<I, T>(cx: &Context<'_>, args: I, out: &mut dyn Write) -> Result<(), Failure>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let command = Cli::command()
        .name(cx.project.name)
        .bin_name(cx.project.name);
    let matches = command.try_get_matches_from(args).map_err(Failure::Usage)?;
    let cli = Cli::from_arg_matches(&matches).map_err(Failure::Usage)?;
    match cli.command {
        Command::Up(args) => apply::up(cx, &args, out)?,
        Command::Down(args) => apply::down(cx, &args, out)?,
        Command::Redo(args) => apply::redo(cx, &args, out)?,
        Command::Status(args) => status::run(cx, &args, out)?,
        Command::Plan(args) => plan::run(cx, &args, out)?,
        Command::Fresh(args) => apply::fresh(cx, &args, out)?,
        Command::Repair(args) => apply::repair(cx, &args, out)?,
        Command::Sql(args) => {
            let resolved = registry::load(cx).map_err(Failure::Errors)?;
            sql::run(cx, &resolved, &args, out)?;
        }
        Command::Lint(args) => {
            let resolved = registry::load(cx).map_err(Failure::Errors)?;
            lint::run(cx, &resolved, &args, out)?;
        }
        Command::Schema(args) if args.live => verify::drift(cx, &args.db, out)?,
        Command::Schema(args) => {
            let resolved = registry::load(cx).map_err(Failure::Errors)?;
            schema::run(cx, &resolved, &args, out)?;
        }
        Command::Completions(args) => {
            out.write_all(completions(args.shell, cx.project.name).as_bytes())
                .map_err(|e| Failure::from(anyhow::Error::new(e)))?;
        }
        Command::Verify(args) => verify::verify(cx, &args, out)?,
        Command::Baseline(args) => verify::baseline(cx, &args, out)?,
        Command::Copy(args) => copy::run(cx, &args, out)?,
        Command::Check(args) => {
            let resolved = registry::load(cx).map_err(Failure::Errors)?;
            check::run(cx, &resolved, &args, out)?;
        }
        // `new` needs no registry: it must work even while another migration is broken.
        Command::New(args) => new::run(cx, &args, out)?,
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
