//! `new "<description>"`: write `src/migrations/m<UTC timestamp>_<snake>.rs` from a template,
//! then add its line to the manifest `migrations.sum`.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use heck::{ToSnakeCase, ToUpperCamelCase};
use time::OffsetDateTime;
use time::macros::format_description;

use super::Context;
use crate::manifest::{self, ManifestLine};
use crate::{Catalog, MigrationId};

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// What the migration does, in a few words: "Add tags to posts"
    description: String,
}

pub(crate) fn run(cx: &Context<'_>, args: &NewArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let (path, names) = new_migration(&cx.project.migrations_dir(), &args.description, cx.now)?;
    writeln!(
        out,
        "created {} (struct {}); the next build picks it up",
        cx.display(&path.display().to_string()),
        names.struct_name
    )?;
    let note = update_manifest(cx, &path).with_context(|| {
        format!(
            "{} was written, but the manifest was not updated",
            cx.display(&path.display().to_string())
        )
    })?;
    writeln!(out, "{note}")?;
    // The files the build found, and this one.
    let count = cx.project.files.len() + 1;
    if count >= ARCHIVE_AT {
        writeln!(
            out,
            "the migrations crate holds {count} migrations, which every build checks again: \
             `godwit archive --through VERSION` moves those that no longer change into a crate \
             of their own (getting-started.md, \"When the history grows long\")"
        )?;
    }
    Ok(())
}

/// From how many migrations in the crate `new` suggests archiving the older ones: with 1,000, a
/// rebuild after `new` takes about 2.6 s, and it grows by about 1.7 s per 1,000 more.
const ARCHIVE_AT: usize = 1_000;

/// Rewrite the manifest with every compiled migration and a line for the new one (whose
/// template records nothing). `new` must work while another migration is broken: then the
/// other lines come from the manifest as it is, and a project without one is left without one.
fn update_manifest(cx: &Context<'_>, new_file: &Path) -> anyhow::Result<String> {
    let file = cx.project.manifest_file();
    let shown = cx.display(&file.display().to_string());
    let id = MigrationId::from_file(&new_file.display().to_string())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut lines: Vec<ManifestLine> = match super::registry::load(cx) {
        Ok(resolved) => {
            Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration))).manifest_lines()
        }
        Err(_) => {
            let text = match fs::read_to_string(&file) {
                Ok(text) => text,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Ok(format!(
                        "note: `{shown}` was not written, since the other migrations do not load; \
                         run `check --write` once they build, and commit it"
                    ));
                }
                Err(e) => return Err(e).with_context(|| format!("cannot read `{shown}`")),
            };
            match manifest::parse(&text) {
                Ok(m) => m.lines,
                Err(e) => {
                    return Ok(format!(
                        "note: `{shown}` was not updated: {e}; run `check --write` once the \
                         migrations build, and commit it"
                    ));
                }
            }
        }
    };
    // Last, as it is the newest; were the clock behind the newest migration, `check` says so.
    lines.retain(|l| l.version != id.version);
    lines.push(ManifestLine {
        version: id.version,
        name: id.name,
        checksum: manifest::empty_checksum(),
    });
    super::schema::write_file(&file, &manifest::write(&lines))
        .with_context(|| format!("cannot write `{shown}`"))?;
    Ok(format!(
        "updated `{shown}`; once the migration is written, run `check --write` and commit both"
    ))
}

/// The longest snake-case name: with `m`, the 15-character timestamp, `_` and `.rs`, a file name
/// of 200 bytes, under the 255 every file system allows.
const MAX_SNAKE: usize = 180;

/// The file and type names a description gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `add_tags_to_posts`: the end of the file name.
    pub snake: String,
    /// `AddTagsToPosts`: the migration's type.
    pub struct_name: String,
}

impl Names {
    /// Derive the names from a description such as `"Add tags to posts"`.
    ///
    /// ASCII punctuation separates words and apostrophes vanish (`"user's e-mail"` gives
    /// `users_e_mail`); the description must start with a letter and be ASCII, because it becomes
    /// a file name and a Rust type name.
    pub fn from_description(description: &str) -> anyhow::Result<Names> {
        let description = description.trim();
        if description.is_empty() {
            bail!(
                "the description is empty: say what the migration does, such as `new \"Add tags to posts\"`"
            );
        }
        if let Some(c) = description.chars().find(|c| !c.is_ascii()) {
            bail!(
                "the description `{description}` contains `{c}`: it becomes the file and type name, so \
                 write it with ASCII letters, digits and spaces"
            );
        }
        let words: String = description
            .chars()
            .filter(|c| *c != '\'')
            .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
            .collect();
        let snake = words.to_snake_case();
        match snake.chars().next() {
            None => bail!(
                "the description `{description}` has no letters: say what the migration does, such as \
                 `new \"Add tags to posts\"`"
            ),
            Some(c) if !c.is_ascii_lowercase() => bail!(
                "the description `{description}` starts with `{c}`: it becomes a Rust type name, so start \
                 it with a letter, such as `new \"Add 2fa to users\"`"
            ),
            Some(_) => {}
        }
        // The file is `m<15 characters>_<snake>.rs`: file systems allow 255 bytes a name.
        if snake.len() > MAX_SNAKE {
            bail!(
                "the description makes a file name of {} characters, longer than the {} a file \
                 system allows: say what the migration does in fewer words (the rest can go in \
                 the file's doc comment)",
                snake.len() + 20,
                MAX_SNAKE + 20
            );
        }
        let mut struct_name = words.to_upper_camel_case();
        if struct_name == "Self" {
            struct_name.push_str("Migration");
        }
        Ok(Names { snake, struct_name })
    }
}

/// The content of a new migration file.
pub fn template(description: &str, struct_name: &str) -> String {
    let mut summary = description.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(first) = summary.get(..1) {
        summary = first.to_ascii_uppercase() + &summary[1..];
    }
    if !summary.ends_with(['.', '!', '?']) {
        summary.push('.');
    }
    format!(
        r#"//! {summary}
//!
//! Why: say what needs this change, for the reviewers and for whoever has to roll it back.

use godwit::prelude::*;

pub struct {struct_name};

impl Migration for {struct_name} {{
    fn up(&self, s: &mut Schema) {{
        // Record the change; for example:
        //
        // s.create_table("tags", |t| {{
        //     t.id();
        //     t.string("name", 50).unique();
        //     t.timestamps();
        // }});
        // s.add_column("posts", Column::integer("views").default(0));
        let _ = s;
    }}

    // Without a `down`, the rollback is derived by reversing `up`.
}}

godwit::register!({struct_name});
"#
    )
}

/// Write a new migration for `description` into `dir`, stamped with `now` (UTC).
///
/// Refuses an empty description, an existing file, and a second migration with the same
/// version (the same second).
pub fn new_migration(
    dir: &Path,
    description: &str,
    now: OffsetDateTime,
) -> anyhow::Result<(PathBuf, Names)> {
    let names = Names::from_description(description)?;
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]_[hour][minute][second]"
        ))
        .context("cannot format the current time as a migration version")?;
    let file = dir.join(format!("m{stamp}_{}.rs", names.snake));
    fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let prefix = format!("m{stamp}_");
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".rs") && entry.path() != file {
            bail!(
                "`{}` already has version {}: two migrations cannot share a version; wait a second and \
                 run `new` again",
                entry.path().display(),
                stamp.replace('_', "")
            );
        }
    }
    let mut f = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => bail!(
            "`{}` already exists: refusing to overwrite it; wait a second and run `new` again",
            file.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot create `{}`", file.display())),
    };
    f.write_all(template(description, &names.struct_name).as_bytes())
        .with_context(|| format!("cannot write `{}`", file.display()))?;
    Ok((file, names))
}
