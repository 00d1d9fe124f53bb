//! Start-up checks of the registered migrations: every file in `src/migrations` registers exactly
//! one migration, file names are well formed, versions are unique.

use std::collections::BTreeSet;

use anyhow::anyhow;

use super::Context;
use crate::{MigrationId, Registration, resolve};

/// The registered migrations, checked and ordered by version, or every problem found.
pub(crate) fn load(
    cx: &Context<'_>,
) -> Result<Vec<(MigrationId, Registration)>, Vec<anyhow::Error>> {
    let mut errors = Vec::new();

    // The same `register!` linked twice: the migrations are compiled into two crates of the
    // binary (the library and `main.rs`, say).
    let mut seen = BTreeSet::new();
    let mut unique = Vec::new();
    for r in cx.registrations {
        if seen.insert((r.file, r.type_name)) {
            unique.push(*r);
        } else {
            errors.push(anyhow!(
                "`{}` (`{}`) is compiled into the binary twice: declare the migrations once, with \
                 `godwit::migrations!();` in src/lib.rs and `godwit::main!();` alone in src/main.rs",
                cx.display(r.file),
                r.type_name
            ));
        }
    }
    let files: BTreeSet<&str> = unique.iter().map(|r| r.file).collect();

    let resolved = match resolve(&unique) {
        Ok(resolved) => resolved,
        Err(registry_errors) => {
            errors.extend(
                registry_errors
                    .into_iter()
                    .map(|e| anyhow!("{}", cx.shorten(&e.to_string()))),
            );
            Vec::new()
        }
    };

    let missing: Vec<&str> = cx
        .project
        .files
        .iter()
        .copied()
        .filter(|f| !files.contains(f))
        .collect();
    if !missing.is_empty() && missing.len() == cx.project.files.len() && cx.registrations.is_empty()
    {
        errors.push(anyhow!(
            "none of the {} files in `{}` registered a migration: is `godwit::migrations!();` in \
             src/lib.rs, and does each file end with `godwit::register!(TheMigration);`?",
            missing.len(),
            cx.display(&cx.project.migrations_dir().display().to_string()),
        ));
    } else {
        for file in missing {
            errors.push(anyhow!(
                "`{}` registers no migration: end it with `godwit::register!(TheMigration);`, \
                 naming the type that implements `Migration`",
                cx.display(file)
            ));
        }
    }

    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}
