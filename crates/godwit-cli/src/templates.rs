//! The files `godwit init` writes.

/// A TOML basic string for `text`, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_owned()
}

/// How the migrations crate depends on a godwit crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// A path as it goes in the manifest (relative to the crate, or absolute).
    Path(String),
    /// A crates.io version.
    Version(String),
}

/// `dependency` as a TOML inline table's entries: `path = ".."` or `version = ".."`.
fn source_entry(dependency: &Dependency) -> String {
    match dependency {
        Dependency::Path(path) => format!("path = {}", toml_string(path)),
        Dependency::Version(version) => format!("version = {}", toml_string(version)),
    }
}

/// The migrations crate's `Cargo.toml`. `features` are the backends it is built for (godwit's
/// cargo features); empty for godwit's default, all three. A list of backends keeps godwit's
/// other default feature, `mimalloc` (the binary's allocator).
pub fn migrations_manifest(
    name: &str,
    godwit: &Dependency,
    godwit_build: &Dependency,
    features: &[&str],
) -> String {
    let features = if features.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = features
            .iter()
            .chain(&["mimalloc"])
            .map(|f| toml_string(f))
            .collect();
        format!(
            ", default-features = false, features = [{}]",
            list.join(", ")
        )
    };
    format!(
        r#"[package]
name = {name}
description = "The database migrations, one file each in src/migrations"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
godwit = {{ {godwit}{features} }}

[build-dependencies]
godwit-build = {{ {godwit_build} }}
"#,
        name = toml_string(name),
        godwit = source_entry(godwit),
        godwit_build = source_entry(godwit_build),
    )
}

pub const MIGRATIONS_BUILD_RS: &str = r#"//! Declares every `src/migrations/*.rs` as a module: adding a migration is adding a file.

fn main() {
    godwit_build::discover();
}
"#;

pub const MIGRATIONS_MAIN_RS: &str = "godwit::main!();\n";

pub fn migrations_lib_rs(name: &str, features: &[&str]) -> String {
    let database = if features.is_empty() || features.contains(&"sqlite") {
        format!(
            "//! Without `--database-url`, `DATABASE_URL` or a `.env` file that sets it, the database is the\n\
             //! SQLite file `{name}/dev.db`.\n"
        )
    } else {
        format!(
            "//! The database is the one `--database-url`, `DATABASE_URL` or a `.env` file that sets it\n\
             //! names; this crate is built for {} (the `godwit` dependency's features).\n",
            features.join(" and ")
        )
    };
    format!(
        r#"//! The database migrations, one file each in `src/migrations`.
//!
//! Write one with `cargo xtask migrate new "create users"`, apply them with
//! `cargo xtask migrate up`, and see the other commands with `cargo xtask migrate --help`.
{database}
godwit::migrations!();
"#
    )
}

/// `migrations.sum` with no migration: `sum` and the SHA-256 of nothing.
pub const MIGRATIONS_SUM: &str =
    "sum v1:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";

/// The development database and its lock, WAL and journal files.
pub const MIGRATIONS_GITIGNORE: &str = "/dev.db*\n";

pub const XTASK_MANIFEST: &str = r#"[package]
name = "xtask"
description = "Project tasks: `cargo xtask migrate <args>`"
version = "0.1.0"
edition = "2024"
publish = false
"#;

pub fn xtask_main_rs(migrations: &str) -> String {
    format!(
        r#"//! Project tasks, run as `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! `cargo xtask migrate <args>` builds the migrations binary and runs it with `<args>`
//! (`new "create users"`, `up`, `status`, `down`, `--help`), passing its exit code through.

use std::ffi::OsString;
use std::process::{{Command, ExitCode, ExitStatus}};

/// The migrations crate: its package and its binary.
const MIGRATIONS: &str = "{migrations}";

const USAGE: &str = "Usage: cargo xtask <TASK>

Tasks:
  migrate <ARGS>...  Build the migrations binary and run it with <ARGS> (see `cargo xtask migrate --help`)";

fn main() -> ExitCode {{
    let mut args = std::env::args_os().skip(1);
    let Some(task) = args.next() else {{
        eprintln!("{{USAGE}}");
        return ExitCode::from(2);
    }};
    match task.to_str() {{
        Some("migrate") => migrate(args.collect()),
        Some("-h" | "--help" | "help") => {{
            println!("{{USAGE}}");
            ExitCode::SUCCESS
        }}
        _ => {{
            eprintln!("error: unknown task `{{}}`\n\n{{USAGE}}", task.to_string_lossy());
            ExitCode::from(2)
        }}
    }}
}}

fn migrate(args: Vec<OsString>) -> ExitCode {{
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["run", "--package", MIGRATIONS, "--bin", MIGRATIONS]);
    // The first build compiles godwit and the database drivers, minutes on a small machine: on
    // a terminal, cargo shows its progress then. Otherwise, and once built, it stays quiet.
    if first_build() && std::io::IsTerminal::is_terminal(&std::io::stderr()) {{
        eprintln!(
            "building the migrations binary for the first time: this compiles godwit and the \
             database drivers, and takes a few minutes"
        );
    }} else {{
        command.arg("--quiet");
    }}
    let status = command.arg("--").args(args).status();
    match status {{
        Ok(status) => exit_code(status),
        Err(e) => {{
            eprintln!("error: cannot run cargo to build the migrations binary: {{e}}");
            ExitCode::FAILURE
        }}
    }}
}}

/// Whether the migrations binary was never built in the workspace's default target directory.
fn first_build() -> bool {{
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let binary = format!("{{MIGRATIONS}}{{}}", std::env::consts::EXE_SUFFIX);
    !target.join("debug").join(binary).exists()
}}

/// The binary's own exit code, or cargo's when the build failed (128 + the signal that ended it).
fn exit_code(status: ExitStatus) -> ExitCode {{
    if let Some(code) = status.code() {{
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }}
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {{
        return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
    }}
    ExitCode::FAILURE
}}
"#
    )
}

/// The alias, as written into `.cargo/config.toml`.
pub const XTASK_ALIAS: &str = "run --package xtask --";

pub const CARGO_CONFIG: &str = r#"[alias]
# `cargo xtask migrate <args>`: build and run the migrations binary (see xtask/src/main.rs).
xtask = "run --package xtask --"
"#;
