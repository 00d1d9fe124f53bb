//! The migrations of an example blog, in `src/migrations`, one per file.
//!
//! - `m20261001_*`: the blog as first deployed: users, posts (written by a user), comments.
//! - `m20261105_100000_create_tags`: a new feature, tagging posts.
//! - `m20261115_*`: changes to tables that already hold rows, made without downtime: every new
//!   column is nullable or has a default, so the running code keeps working while it is added.
//! - `m20261120_*`, `m20261121_*`: data migrations, and a constraint added to a table that holds
//!   rows in steps.
//! - `m20261201_*`: a post's status (an enumerated type), a view of the published posts, and a
//!   trigger that keeps `updated_at` current.
//!
//! Print their SQL with `cargo xtask migrate sql --backend postgres`, and write a new one with
//! `cargo xtask migrate new "Add a summary to posts"`. Without `DATABASE_URL`, the database is
//! the SQLite file `migrations-example/dev.db`.

godwit::migrations!();

/// For the guide's doctests (`docs/`): a migration written in a page, rendered and linted after
/// the example's migrations older than it, as `sql` and `lint` print it.
#[doc(hidden)]
pub mod guide {
    use godwit::{Backend, Catalog, Migration, MigrationId};

    /// Migrations of a page, each with its file name (`m20261201_090000_name.rs`).
    pub type Written<'a> = &'a [(&'a str, &'static dyn Migration)];

    /// The example's migrations older than the first of `written`, then `written`; and the
    /// version of the last one.
    fn catalog(written: Written<'_>) -> Result<(Catalog, u64), String> {
        // Only the example's own: merged doctests link the migrations other pages register.
        let example: Vec<_> = godwit::registrations()
            .into_iter()
            .filter(|r| r.file.contains("src/migrations/"))
            .collect();
        let resolved = godwit::resolve(&example).map_err(|e| format!("{e:?}"))?;
        let mut ids = Vec::new();
        for (file, migration) in written {
            ids.push((MigrationId::from_file(file)?, *migration));
        }
        let (first, last) = match (ids.first(), ids.last()) {
            (Some(first), Some(last)) => (first.0.version, last.0.version),
            _ => return Err("no migration given".into()),
        };
        let example = resolved
            .iter()
            .filter(|(id, _)| id.version < first)
            .map(|(id, r)| (id.clone(), r.migration));
        Ok((Catalog::new(example.chain(ids)), last))
    }

    /// The SQL of the last of `written`'s `up` for `backend`, one statement per line, as `sql`
    /// prints it; or the error, as `error: ...`.
    pub fn sql(written: Written<'_>, backend: Backend) -> String {
        render(written, backend, false)
    }

    /// [`sql`] of the rollback.
    pub fn sql_down(written: Written<'_>, backend: Backend) -> String {
        render(written, backend, true)
    }

    fn render(written: Written<'_>, backend: Backend, down: bool) -> String {
        let rendered = catalog(written).and_then(|(catalog, version)| {
            let versions = Some(&[version][..]);
            let rendered = match down {
                false => catalog.render_up(backend, versions),
                true => catalog.render_down(backend, versions),
            };
            rendered.map_err(|e| e.to_string())
        });
        let mut out = String::new();
        match rendered {
            Ok(migrations) => {
                for m in migrations {
                    if !m.transactional {
                        out.push_str("-- runs outside a transaction\n");
                    }
                    for s in &m.statements {
                        let sql = s.preview.trim_end();
                        out.push_str(sql.strip_suffix(';').unwrap_or(sql).trim_end());
                        out.push_str(";\n");
                    }
                }
            }
            Err(e) => out = format!("error: {e}\n"),
        }
        out
    }

    /// What `lint --backend <backend>` reports for the last of `written`: every finding, unsafe
    /// or allowed; nothing when it is safe.
    pub fn lint(written: Written<'_>, backend: Backend) -> String {
        let findings = catalog(written).and_then(|(catalog, version)| {
            catalog
                .lint(backend, Some(&[version]))
                .map_err(|e| e.to_string())
        });
        match findings {
            Ok(findings) => findings.iter().map(|f| f.to_string()).collect(),
            Err(e) => format!("error: {e}\n"),
        }
    }
}

/// The Rust code blocks of the README and the guide (`docs/`), compiled and run as doctests by
/// `cargo test --doc`, so that no example in the documentation can stop compiling unnoticed.
#[cfg(doctest)]
pub mod docs {
    #[doc = include_str!("../../README.md")]
    pub mod readme {}
    #[doc = include_str!("../../docs/getting-started.md")]
    pub mod getting_started {}
    #[doc = include_str!("../../docs/workflows.md")]
    pub mod workflows {}
    #[doc = include_str!("../../docs/moving-data.md")]
    pub mod moving_data {}
    #[doc = include_str!("../../docs/coming-from.md")]
    pub mod coming_from {}
}
