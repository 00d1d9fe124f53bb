//! `sql`: the exact SQL of migrations for one backend, without a database.

use std::io::Write;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, ValueEnum};

use super::Context;
use crate::{Backend, Catalog, MigrationId, Registration, RenderedMigration};

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// The backend to write SQL for [default: the scheme of --database-url, else of DATABASE_URL, else sqlite]
    #[arg(long, short, value_enum, ignore_case = true)]
    backend: Option<BackendArg>,
    /// A database URL whose scheme chooses the backend (nothing connects to it)
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Print the rollback SQL instead, newest migration first
    #[arg(long)]
    down: bool,
    /// Only these migrations, by version (`20261120090000`) or file name
    /// (`m20261120_090000_create_tags`); every migration when none is given
    #[arg(value_name = "VERSION", value_parser = parse_version)]
    versions: Vec<Version>,
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

/// A migration as the command line names it: its version, and the name when a file name gave
/// one (which must then be the migration's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub number: u64,
    pub name: Option<String>,
}

/// `20261120090000`, `20261120_090000`, `m20261120_090000_create_tags` or its `.rs` file name.
pub(crate) fn parse_version(s: &str) -> Result<Version, String> {
    let s = s.trim();
    if let Ok(v) = s.parse::<u64>() {
        return Ok(Version {
            number: v,
            name: None,
        });
    }
    let file = s.rsplit(['/', '\\']).next().unwrap_or(s);
    let file = file.strip_suffix(".rs").unwrap_or(file);
    let digits: String = file
        .trim_start_matches('m')
        .chars()
        .take(15)
        .filter(|c| *c != '_')
        .collect();
    let shaped = file.trim_start_matches('m').as_bytes().get(8) == Some(&b'_');
    let name = file
        .trim_start_matches('m')
        .get(16..)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    match digits.parse::<u64>() {
        Ok(v) if shaped && digits.len() == 14 => Ok(Version { number: v, name }),
        _ => Err(format!(
            "`{s}` is not a migration version: write it as `20261120090000` or as the file name \
             `m20261120_090000_create_tags`"
        )),
    }
}

/// The version of `v`; a name given with it must be that migration's.
pub(crate) fn version_of(cx: &Context<'_>, v: &Version) -> anyhow::Result<u64> {
    if v.name.is_none() {
        return Ok(v.number);
    }
    let resolved = super::registry::load(cx).map_err(|errors| {
        anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    check_named(cx, &resolved, std::slice::from_ref(v))?;
    Ok(v.number)
}

/// A number of migrations, 1 or more.
pub(crate) fn parse_steps(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 steps does nothing: give 1 or more".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "`{s}` is not a number of migrations: give 1 or more"
        )),
    }
}

/// Each of `versions` must be a migration's, and a name given with one must be its name.
pub(crate) fn check_named(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    versions: &[Version],
) -> anyhow::Result<Vec<u64>> {
    let numbers: Vec<u64> = versions.iter().map(|v| v.number).collect();
    check_versions(cx, resolved, &numbers)?;
    for v in versions {
        if let (Some(name), Some((id, _))) = (
            &v.name,
            resolved.iter().find(|(id, _)| id.version == v.number),
        ) && *name != id.name
        {
            bail!(
                "migration {} is `{}`, not `{name}`: check the file name (m{}_{}_{})",
                v.number,
                id.name,
                &v.number.to_string()[..8],
                &v.number.to_string()[8..],
                id.name
            );
        }
    }
    Ok(numbers)
}

/// The backend `sql` writes for: `--backend`, else the scheme of `--database-url` or
/// `DATABASE_URL`, else SQLite.
fn backend(cx: &Context<'_>, args: &SqlArgs) -> anyhow::Result<Backend> {
    if let Some(b) = args.backend {
        return Ok(b.into());
    }
    default_backend(cx, args.database_url.as_deref())
}

/// The backend of `--database-url` (`url`) when given, else of `DATABASE_URL`, else SQLite.
pub(crate) fn default_backend(cx: &Context<'_>, url: Option<&str>) -> anyhow::Result<Backend> {
    let (url, named) = match url {
        Some(url) => (url.to_string(), "--database-url"),
        None => (cx.database_url(), "DATABASE_URL"),
    };
    if url.trim().is_empty() {
        return Err(anyhow!(
            "{named} is set but empty: set it to the database's URL, unset it, or pass --backend"
        ));
    }
    Backend::from_url(&url).ok_or_else(|| {
        let scheme = url.split(':').next().unwrap_or(&url);
        anyhow!(
            "{named} has the scheme `{scheme}`, which names no backend: use postgres://, \
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
    let numbers = check_named(cx, resolved, &args.versions)?;
    let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
    let versions = (!numbers.is_empty()).then_some(numbers.as_slice());
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
