//! `cargo xtask newcomer`: a new user's first minutes, timed. In a temporary directory it makes
//! a cargo project, runs `godwit init` (the `godwit` binary built from this checkout, as
//! `cargo install --path crates/godwit-cli` installs it), `cargo xtask migrate new`, writes the
//! migration, then `up` and `status`, each timed; the project has a target directory of its
//! own, so the first `up` compiles godwit and the drivers from nothing, as it does for a
//! newcomer (the crates themselves come from cargo's local cache). It ends with the migrations
//! binary's size, and checks that `up` created the table and `status` reports it applied.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backends `godwit init --backend` is given (comma-separated); all three by default
    #[arg(long, value_delimiter = ',')]
    backend: Vec<String>,
    /// Keep the project (and its target directory) instead of deleting it
    #[arg(long)]
    keep: bool,
}

const MIGRATION: &str = r#"        s.create_table("users", |t| {
            t.id();
            t.string("email", 255).unique();
            t.timestamps();
        });
"#;

pub fn run(args: &Args) -> anyhow::Result<()> {
    let root = crate::workspace_root();
    eprintln!("building the `godwit` command (not timed: it is installed once)");
    let status = crate::cargo()
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--package",
            "godwit-cli",
            "--bin",
            "godwit",
        ])
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo build --package godwit-cli failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let godwit = target
        .join("debug")
        .join(format!("godwit{}", std::env::consts::EXE_SUFFIX));

    let dir = tempfile::Builder::new()
        .prefix("godwit-newcomer-")
        .tempdir()?;
    let project = dir.path().join("blog");
    let cargo_new = crate::cargo()
        .current_dir(dir.path())
        .args(["new", "--quiet", "--bin", "blog"])
        .status()?;
    if !cargo_new.success() {
        bail!("cargo new blog failed");
    }

    let mut steps: Vec<(String, Duration)> = Vec::new();
    let mut step = |name: &str, command: &mut Command| -> anyhow::Result<String> {
        let started = Instant::now();
        let output = command
            .output()
            .with_context(|| format!("running {name}"))?;
        let took = started.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!(
                "{name} failed ({}):\n{stdout}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        eprintln!("  {name:<42} {:>8.1} s", took.as_secs_f64());
        steps.push((name.to_string(), took));
        Ok(stdout)
    };
    let in_project = |program: &Path| {
        let mut c = Command::new(program);
        c.current_dir(&project)
            .env_remove("DATABASE_URL")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR");
        c
    };
    let cargo_path = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));

    eprintln!("in {} (its own target directory):", project.display());
    let mut init = in_project(&godwit);
    init.args(["init", "--godwit-path"]).arg(&root);
    let backend = args.backend.join(",");
    if !backend.is_empty() {
        init.args(["--backend", &backend]);
    }
    step(&format!("godwit init {backend}"), &mut init)?;
    step(
        "cargo xtask migrate new \"create users\" (1st build)",
        in_project(&cargo_path).args(["xtask", "migrate", "new", "create users"]),
    )?;
    let migrations = project.join("migrations/src/migrations");
    let file = std::fs::read_dir(&migrations)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "rs"))
        .context("`new` wrote no migration")?;
    let template = std::fs::read_to_string(&file)?;
    let placeholder = "        let _ = s;\n";
    if !template.contains(placeholder) {
        bail!(
            "the template of {} has changed:\n{template}",
            file.display()
        );
    }
    std::fs::write(&file, template.replace(placeholder, MIGRATION))?;
    let needs_url = !(args.backend.is_empty() || args.backend.iter().any(|b| b == "sqlite"));
    let url_args: Vec<String> = if needs_url {
        let url = std::env::var("GODWIT_TEST_POSTGRES_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .context("without SQLite, set GODWIT_TEST_POSTGRES_URL to a PostgreSQL database")?;
        vec!["--database-url".into(), url]
    } else {
        Vec::new()
    };
    let out = step(
        "cargo xtask migrate up",
        in_project(&cargo_path)
            .args(["xtask", "migrate", "up"])
            .args(&url_args),
    )?;
    if !out.contains("applied 1 migration") {
        bail!("`up` did not apply the migration:\n{out}");
    }
    let out = step(
        "cargo xtask migrate status",
        in_project(&cargo_path)
            .args(["xtask", "migrate", "status"])
            .args(&url_args),
    )?;
    if !out
        .lines()
        .any(|l| l.contains("create_users") && l.contains("applied"))
    {
        bail!("`status` does not say the migration is applied:\n{out}");
    }
    if needs_url {
        // Leave the shared database as it was.
        step(
            "cargo xtask migrate down",
            in_project(&cargo_path)
                .args(["xtask", "migrate", "down"])
                .args(&url_args),
        )?;
    }

    let total: Duration = steps.iter().map(|(_, d)| *d).sum();
    let binary = project.join("target/debug/blog-migrations");
    let size = std::fs::metadata(&binary)
        .with_context(|| format!("reading {}", binary.display()))?
        .len();
    println!(
        "from `godwit init` to the first migration applied and its status: {:.1} s \
         ({:.1} min); migrations binary (debug): {:.1} MB",
        total.as_secs_f64(),
        total.as_secs_f64() / 60.0,
        size as f64 / 1e6
    );
    if args.keep {
        let kept = dir.keep();
        println!("kept {}", kept.display());
    }
    Ok(())
}
