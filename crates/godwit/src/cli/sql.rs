//! `sql`: the exact SQL of migrations for one backend, without a database.

use std::io::Write;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, ValueEnum};

use super::Context;
use crate::{Backend, Catalog, MigrationId, Registration, RenderedMigration};

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// The backend to write SQL for [default: the scheme of DATABASE_URL, else sqlite]
    #[arg(long, short, value_enum)]
    backend: Option<BackendArg>,
    /// Print the rollback SQL instead, newest migration first
    #[arg(long)]
    down: bool,
    /// Only these migrations, by version (`20261120090000`) or file name
    /// (`m20261120_090000_create_tags`); every migration when none is given
    #[arg(value_name = "VERSION", value_parser = parse_version)]
    versions: Vec<u64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum BackendArg {
    /// PostgreSQL
    #[value(alias = "postgresql", alias = "pg")]
    Postgres,
    /// MySQL and MariaDB
    #[value(alias = "mariadb")]
    Mysql,
    /// SQLite
    Sqlite,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Postgres => Backend::Postgres,
            BackendArg::Mysql => Backend::MySql,
            BackendArg::Sqlite => Backend::Sqlite,
        }
    }
}

/// `20261120090000`, `20261120_090000`, `m20261120_090000_create_tags` or its `.rs` file name.
pub(crate) fn parse_version(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<u64>() {
        return Ok(v);
    }
    let file = s.rsplit(['/', '\\']).next().unwrap_or(s);
    let digits: String = file
        .trim_start_matches('m')
        .chars()
        .take(15)
        .filter(|c| *c != '_')
        .collect();
    let shaped = file.trim_start_matches('m').as_bytes().get(8) == Some(&b'_');
    match digits.parse::<u64>() {
        Ok(v) if shaped && digits.len() == 14 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a migration version: write it as `20261120090000` or as the file name \
             `m20261120_090000_create_tags`"
        )),
    }
}

/// The backend `sql` writes for: `--backend`, else `DATABASE_URL`'s scheme, else SQLite.
fn backend(cx: &Context<'_>, args: &SqlArgs) -> anyhow::Result<Backend> {
    if let Some(b) = args.backend {
        return Ok(b.into());
    }
    default_backend(cx)
}

/// `DATABASE_URL`'s backend, else SQLite.
pub(crate) fn default_backend(cx: &Context<'_>) -> anyhow::Result<Backend> {
    let url = cx.database_url();
    Backend::from_url(&url).ok_or_else(|| {
        let scheme = url.split(':').next().unwrap_or(&url);
        anyhow!(
            "DATABASE_URL has the scheme `{scheme}`, which names no backend: use postgres://, \
                 mysql://, mariadb:// or sqlite:, or pass --backend"
        )
    })
}

pub(crate) fn run(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    args: &SqlArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let backend = backend(cx, args)?;
    check_versions(cx, resolved, &args.versions)?;
    let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
    let versions = (!args.versions.is_empty()).then_some(args.versions.as_slice());
    let rendered = if args.down {
        catalog.render_down(backend, versions)
    } else {
        catalog.render_up(backend, versions)
    }
    .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))
    .with_context(|| format!("cannot write the {} SQL", backend))?;

    let direction = if args.down { "down" } else { "up" };
    writeln!(
        out,
        "-- {} migration{}, {direction}, for {backend}",
        rendered.len(),
        if rendered.len() == 1 { "" } else { "s" }
    )?;
    for m in &rendered {
        writeln!(out)?;
        write_migration(out, m)?;
    }
    Ok(())
}

/// Every version in `versions` names a migration, or an error says where to look.
pub(crate) fn check_versions(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    versions: &[u64],
) -> anyhow::Result<()> {
    for v in versions {
        if !resolved.iter().any(|(id, _)| id.version == *v) {
            let known = match (resolved.first(), resolved.last()) {
                (Some((first, _)), Some((last, _))) => format!(
                    "the {} migrations run from {} to {}",
                    resolved.len(),
                    first.version,
                    last.version
                ),
                _ => "there are no migrations".to_string(),
            };
            bail!(
                "no migration has version {v} ({known}): check the version against the file names in `{}`",
                cx.display(&cx.project.migrations_dir().display().to_string())
            );
        }
    }
    Ok(())
}

/// One migration: a header naming it, notes, then its statements, each ending in `;`.
pub(crate) fn write_migration(out: &mut dyn Write, m: &RenderedMigration) -> std::io::Result<()> {
    writeln!(out, "-- {} {} ({})", m.id.version, m.id.name, m.direction)?;
    if !m.transactional {
        writeln!(out, "-- runs outside a transaction")?;
    }
    if m.foreign_keys_off {
        writeln!(
            out,
            "-- runs with foreign key checks off (PRAGMA foreign_keys = OFF): it rebuilds a table"
        )?;
    }
    for w in &m.warnings {
        writeln!(out, "-- warning: {w}")?;
    }
    if m.statements.is_empty() {
        writeln!(out, "-- (no statements)")?;
    }
    for s in &m.statements {
        let sql = s.preview.trim_end();
        let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
        writeln!(out, "{sql};")?;
    }
    Ok(())
}
