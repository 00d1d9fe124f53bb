//! `lint`: the zero-downtime rules over the migrations' operations, without a database.

use std::io::Write;

use anyhow::anyhow;
use clap::Args;

use super::sql::{BackendArg, Version, parse_version};
use super::{Context, Failure};
use crate::{Backend, Catalog, MigrationId, Registration};

/// The exit code of `lint` when it finds an operation that is neither safe nor allowed.
pub(crate) const UNSAFE: u8 = 5;

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The backend whose rules apply [default: the scheme of DATABASE_URL, else sqlite]
    #[arg(long, short, value_enum, ignore_case = true)]
    backend: Option<BackendArg>,
    /// Only these migrations, by version or file name; every migration when none is given
    #[arg(value_name = "VERSION", value_parser = parse_version)]
    versions: Vec<Version>,
}

pub(crate) fn run(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    args: &LintArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let backend: Backend = match args.backend {
        Some(b) => b.into(),
        None => super::sql::default_backend(cx)?,
    };
    let numbers = super::sql::check_named(cx, resolved, &args.versions)?;
    let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
    let versions = (!numbers.is_empty()).then_some(numbers.as_slice());
    // A migration that cannot be written for this backend fails here as it does in `sql`,
    // `plan` and `schema`: it could not run.
    catalog
        .render_up(backend, versions)
        .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))?;
    let findings = catalog
        .lint(backend, versions)
        .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))?;
    for f in &findings {
        writeln!(out, "{f}").map_err(anyhow::Error::new)?;
    }
    let unsafe_count = findings.iter().filter(|f| f.allowed.is_none()).count();
    let allowed = findings.len() - unsafe_count;
    writeln!(
        out,
        "{unsafe_count} unsafe, {allowed} allowed, in {} migration(s) on {backend}",
        versions.map_or(resolved.len(), <[u64]>::len)
    )
    .map_err(anyhow::Error::new)?;
    if unsafe_count > 0 {
        return Err(Failure::Exit {
            code: UNSAFE,
            errors: vec![anyhow!(
                "{unsafe_count} operation(s) are unsafe on {backend}: do them the safe way shown, or allow each with `s.allow(Rule::..., \"why\")` after it"
            )],
        });
    }
    Ok(())
}
