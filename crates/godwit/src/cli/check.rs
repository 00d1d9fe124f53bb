//! `check`: compare the committed manifest `migrations.sum` with the migrations in the code,
//! without a database; `check --write` rewrites it.
//!
//! The manifest makes two branches that each add a migration conflict in git (both change its
//! `sum` line and its last lines) instead of merging silently. `check` fails (exit code 1) when
//! the file is missing, when it is stale (a migration edited, added or removed without it, or a
//! `sum` line that does not match its lines, as a conflict resolved by hand leaves), and when its
//! lines do not have one linear order (a merge that kept both branches' migrations with
//! versions out of order or twice).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context as _, anyhow};
use clap::Args;

use super::{Context, Failure};
use crate::manifest::{self, Manifest, ManifestLine};
use crate::{Catalog, MigrationId, Registration};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Rewrite the manifest from the code (after reviewing why it differs)
    #[arg(long)]
    write: bool,
    /// The manifest [default: migrations.sum in the migrations crate's directory]
    #[arg(long, value_name = "PATH")]
    file: Option<String>,
}

pub(crate) fn run(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    args: &CheckArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| cx.project.manifest_file().to_string_lossy().into_owned());
    let shown = cx.display(&path);
    let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
    let current = catalog.manifest_lines();
    if args.write {
        super::schema::write_file(std::path::Path::new(&path), &manifest::write(&current))
            .with_context(|| format!("cannot write `{shown}`"))?;
        writeln!(out, "wrote `{shown}` ({} migrations)", current.len())
            .map_err(anyhow::Error::new)?;
        return Ok(());
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(anyhow!(
                "`{shown}` does not exist: run `check --write` to write it, and commit it with the migrations"
            )
            .into());
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot read `{shown}`"))
                .into());
        }
    };
    let committed = manifest::parse(&text).map_err(|e| match e {
        manifest::ManifestError::ConflictMarker { .. } => anyhow!("`{shown}`: {e}"),
        e => anyhow!(
            "`{shown}` cannot be read: {e}; once the migrations are right, `check --write` rewrites it"
        ),
    })?;
    if let Some(message) = not_linear(&committed) {
        return Err(anyhow!("`{shown}` {message}").into());
    }
    let changes = differences(&committed, &current);
    if changes.is_empty() {
        writeln!(
            out,
            "`{shown}` matches the {} migrations in the code",
            current.len()
        )
        .map_err(anyhow::Error::new)?;
        return Ok(());
    }
    let mut message = format!("`{shown}` is stale:");
    for c in &changes {
        message.push_str("\n  ");
        message.push_str(c);
    }
    message.push_str(
        "\nreview these changes (a migration that is already deployed should not change; after an \
         upgrade of godwit, the SQL it writes for some types may differ, which `sql` shows), then \
         run `check --write` to rewrite it and commit it",
    );
    Err(anyhow!(message).into())
}

/// Why `m`'s lines do not have one linear order, if they do not.
fn not_linear(m: &Manifest) -> Option<String> {
    let dup = m.duplicate_versions();
    let pairs = m.out_of_order();
    if dup.is_empty() && pairs.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    for v in &dup {
        let names: Vec<&str> = m
            .lines
            .iter()
            .filter(|l| l.version == *v)
            .map(|l| l.name.as_str())
            .collect();
        what.push(format!(
            "version {v} appears {} times ({})",
            names.len(),
            names.join(", ")
        ));
    }
    for (a, b) in pairs {
        if a.version != b.version {
            what.push(format!(
                "{} {} comes after the newer {} {}",
                b.version, b.name, a.version, a.name
            ));
        }
    }
    Some(format!(
        "does not give the migrations one linear order: {}; two branches each added a migration: \
         give the migration merged later a version newer than every other (rename its file to \
         `m<YYYYMMDD_HHMMSS>_<name>.rs` with the current time), then run `check --write`",
        what.join("; ")
    ))
}

/// What differs between the committed manifest and the code's, one line each, in version order.
fn differences(committed: &Manifest, current: &[ManifestLine]) -> Vec<String> {
    let old: BTreeMap<u64, &ManifestLine> =
        committed.lines.iter().map(|l| (l.version, l)).collect();
    let new: BTreeMap<u64, &ManifestLine> = current.iter().map(|l| (l.version, l)).collect();
    let mut versions: Vec<u64> = old.keys().chain(new.keys()).copied().collect();
    versions.sort_unstable();
    versions.dedup();
    let mut out = Vec::new();
    for v in versions {
        match (old.get(&v), new.get(&v)) {
            (Some(o), None) => out.push(format!(
                "{v} {}: removed from the code, still in the file",
                o.name
            )),
            (None, Some(n)) => out.push(format!(
                "{v} {}: added to the code, not in the file",
                n.name
            )),
            (Some(o), Some(n)) if o.name != n.name => out.push(format!(
                "{v} {}: renamed from {} in the file",
                n.name, o.name
            )),
            (Some(o), Some(n)) if o.checksum != n.checksum => out.push(format!(
                "{v} {}: edited: what it does is not what the file records",
                n.name
            )),
            _ => {}
        }
    }
    if out.is_empty() && !committed.sum_matches() {
        out.push(
            "the `sum` line does not match the lines below it: they were edited by hand, or a \
             git conflict in the file was resolved by hand"
                .to_string(),
        );
    } else if !committed.sum_matches() {
        out.push(
            "the `sum` line does not match the lines below it either: they were edited by hand, or \
             a git conflict in the file was resolved by hand"
                .to_string(),
        );
    }
    out
}
