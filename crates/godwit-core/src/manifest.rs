//! The manifest `migrations.sum`: one line per migration, in version order, with a checksum of
//! what it does, under a `sum` line that hashes every line below it.
//!
//! It is committed beside the migrations, so that two branches that each add a migration change
//! the same lines and conflict in git, instead of merging silently into a history whose order
//! nobody chose.
//!
//! ```text
//! sum v1:<sha256 of every following line, each with its newline>
//! 20261120090000 create_tags v1:<sha256 of the migration's up SQL on every backend>
//! ```
//!
//! A migration's checksum is the SHA-256 of its `up` statements (values written inline, one per
//! line) on PostgreSQL, MySQL/MariaDB and SQLite, in that order, each backend's block preceded by
//! a line with the backend's name (`postgres`, `mysql`, `sqlite`). Where a backend cannot render
//! the migration, the error's text takes the place of the statements, so one backend that cannot
//! render a migration never stops the manifest from being written.

use std::collections::BTreeSet;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::plan::{Catalog, RenderedMigration};
use crate::types::Backend;

/// The manifest's file name, in the migrations crate's directory.
pub const FILE_NAME: &str = "migrations.sum";

/// One migration's line: `<version> <name> v1:<checksum>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLine {
    /// The migration's version, `YYYYMMDDHHMMSS` as a number.
    pub version: u64,
    /// The migration's snake_case name.
    pub name: String,
    /// `v1:` and 64 lowercase hex digits.
    pub checksum: String,
}

impl fmt::Display for ManifestLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.version, self.name, self.checksum)
    }
}

/// A manifest as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The `sum` line's checksum, as written.
    pub sum: String,
    /// The migration lines, in the file's order.
    pub lines: Vec<ManifestLine>,
}

impl Manifest {
    /// Whether the `sum` line is the checksum of the lines below it. It is not after a hand edit,
    /// or after a git conflict resolved by hand.
    pub fn sum_matches(&self) -> bool {
        self.sum == sum_of(&self.lines)
    }

    /// Pairs of neighbouring lines whose versions do not strictly increase (the second is not
    /// newer than the first): a merge that kept both branches' migrations in an order of its own.
    pub fn out_of_order(&self) -> Vec<(&ManifestLine, &ManifestLine)> {
        self.lines
            .windows(2)
            .filter(|w| w[1].version <= w[0].version)
            .map(|w| (&w[0], &w[1]))
            .collect()
    }

    /// Versions that appear on more than one line.
    pub fn duplicate_versions(&self) -> Vec<u64> {
        let mut seen = BTreeSet::new();
        let mut dup = BTreeSet::new();
        for l in &self.lines {
            if !seen.insert(l.version) {
                dup.insert(l.version);
            }
        }
        dup.into_iter().collect()
    }
}

/// Why a manifest cannot be read. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file has nothing in it but whitespace.
    #[error("it is empty: its first line must be `sum v1:<sha256>`")]
    Empty,
    /// A line is a git conflict marker (`<<<<<<<`, `=======`, `>>>>>>>` or `|||||||`): a merge
    /// of the file was left unfinished.
    #[error(
        "line {line} is a git conflict marker (`{text}`): the merge of this file is unfinished; \
         make sure the migration merged last has the newest version (rename its file if not), then \
         run `check --write`, which rewrites this file from the code"
    )]
    ConflictMarker {
        /// The marker's line number.
        line: usize,
        /// The marker line's text.
        text: String,
    },
    /// A line is not what its place calls for: the first line a `sum` line, every other line a
    /// migration line.
    #[error("line {line} (`{text}`) is not {expected}")]
    Malformed {
        /// The line's number.
        line: usize,
        /// The line's text.
        text: String,
        /// What the line should look like.
        expected: &'static str,
    },
}

/// Read a manifest's text. Lines may end in `\n` or `\r\n`; nothing else is tolerated, so that
/// what the file says is never guessed.
pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ManifestError::Empty);
    }
    let mut sum = None;
    let mut lines = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
            .iter()
            .any(|m| l.starts_with(m))
        {
            return Err(ManifestError::ConflictMarker {
                line,
                text: l.to_string(),
            });
        }
        let malformed = |expected| ManifestError::Malformed {
            line,
            text: l.to_string(),
            expected,
        };
        if i == 0 {
            let s = l
                .strip_prefix("sum ")
                .filter(|s| is_checksum(s))
                .ok_or_else(|| malformed("`sum v1:<sha256 in 64 lowercase hex digits>`"))?;
            sum = Some(s.to_string());
            continue;
        }
        let expected = "`<version> <name> v1:<sha256>`, such as \
                        `20261120090000 create_tags v1:<64 lowercase hex digits>`";
        let mut parts = l.split(' ');
        let (Some(version), Some(name), Some(checksum), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(expected));
        };
        let version_ok = version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit());
        let name_ok = name.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        match version.parse::<u64>() {
            Ok(v) if version_ok && name_ok && is_checksum(checksum) => lines.push(ManifestLine {
                version: v,
                name: name.to_string(),
                checksum: checksum.to_string(),
            }),
            _ => return Err(malformed(expected)),
        }
    }
    Ok(Manifest {
        sum: sum.unwrap_or_default(),
        lines,
    })
}

fn is_checksum(s: &str) -> bool {
    s.strip_prefix("v1:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The manifest's text for `lines` (in the order given): the `sum` line, then one line each.
pub fn write(lines: &[ManifestLine]) -> String {
    let mut out = format!("sum {}\n", sum_of(lines));
    for l in lines {
        out.push_str(&l.to_string());
        out.push('\n');
    }
    out
}

/// `v1:` and the SHA-256 of `lines`, each written with its newline.
pub fn sum_of(lines: &[ManifestLine]) -> String {
    let mut text = String::new();
    for l in lines {
        text.push_str(&l.to_string());
        text.push('\n');
    }
    v1(text.as_bytes())
}

/// A migration's checksum from what it renders to on each backend, in [`Backend::ALL`]'s
/// order: its statements' previews, or the text of the error that stopped it.
pub fn migration_checksum<'a>(
    renderings: impl IntoIterator<Item = (Backend, Result<Vec<&'a str>, String>)>,
) -> String {
    let mut text = String::new();
    for (backend, rendered) in renderings {
        push_rendering(&mut text, backend, rendered);
    }
    v1(text.as_bytes())
}

/// One backend's part of what [`migration_checksum`] hashes.
fn push_rendering(text: &mut String, backend: Backend, rendered: Result<Vec<&str>, String>) {
    text.push_str(backend.as_str());
    text.push('\n');
    match rendered {
        Ok(statements) => {
            for s in statements {
                text.push_str(s);
                text.push('\n');
            }
        }
        Err(e) => {
            text.push_str("error: ");
            text.push_str(&e);
            text.push('\n');
        }
    }
}

/// The checksum of a migration that records nothing, such as the one `new` writes.
pub fn empty_checksum() -> String {
    migration_checksum(Backend::ALL.map(|b| (b, Ok(Vec::new()))))
}

impl Catalog {
    /// Every migration's manifest line, in version order.
    pub fn manifest_lines(&self) -> Vec<ManifestLine> {
        // What each migration's checksum hashes (see `migration_checksum`), one backend after
        // the other: each backend's rendering is dropped before the next is made, which kept
        // the time linear in the number of migrations.
        let mut texts = vec![String::new(); self.entries().len()];
        for backend in Backend::ALL {
            for (text, rendered) in texts.iter_mut().zip(self.render_each_up(backend)) {
                let rendered = match &rendered {
                    Ok(m) => Ok(m.statements.iter().map(|s| s.preview.as_str()).collect()),
                    Err(e) => Err(e.clone()),
                };
                push_rendering(text, backend, rendered);
            }
        }
        self.entries()
            .iter()
            .zip(texts)
            .map(|(e, text)| ManifestLine {
                version: e.id.version,
                name: e.id.name.clone(),
                checksum: v1(text.as_bytes()),
            })
            .collect()
    }

    /// The manifest's text (see the [module](self)).
    pub fn manifest(&self) -> String {
        write(&self.manifest_lines())
    }

    /// Each migration's `up` on `backend`, or the text of the error that stops it. One
    /// migration that cannot render leaves the others rendered; one that does not fit the
    /// schema gives its error to every later migration too, since they build on it.
    fn render_each_up(&self, backend: Backend) -> Vec<Result<RenderedMigration, String>> {
        let versions: Vec<u64> = self.entries().iter().map(|e| e.id.version).collect();
        let mut out: Vec<Result<RenderedMigration, String>> = Vec::with_capacity(versions.len());
        let mut remaining: &[u64] = &versions;
        while !remaining.is_empty() {
            let e = match self.render_up(backend, Some(remaining)) {
                Ok(rendered) => {
                    out.extend(rendered.into_iter().map(Ok));
                    break;
                }
                Err(e) => e,
            };
            let failed = e.migration.version;
            // Those before the failure rendered; render them again without what follows.
            let ok: Vec<u64> = remaining.iter().copied().filter(|v| *v < failed).collect();
            if !ok.is_empty() {
                match self.before(failed).render_up(backend, Some(&ok)) {
                    Ok(rendered) => out.extend(rendered.into_iter().map(Ok)),
                    Err(e) => out.extend(ok.iter().map(|_| Err(e.to_string()))),
                }
            }
            let rest = &remaining[ok.len()..];
            if rest.first() == Some(&failed) {
                // This migration cannot be rendered; the others are rendered without it.
                out.push(Err(e.to_string()));
                remaining = &rest[1..];
            } else {
                // An earlier migration does not fit the schema: nothing after it renders.
                out.extend(rest.iter().map(|_| Err(e.to_string())));
                break;
            }
        }
        out
    }
}

/// `v1:` and the SHA-256 of `data` in lowercase hex.
fn v1(data: &[u8]) -> String {
    let mut out = String::with_capacity(67);
    out.push_str("v1:");
    for b in Sha256::digest(data) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::migration::{Migration, MigrationId};
    use crate::prelude::*;

    struct Tags;
    impl Migration for Tags {
        fn up(&self, s: &mut Schema) {
            s.create_table("tags", |t| {
                t.id();
                t.string("name", 50);
            });
        }
    }

    struct PgOnly;
    impl Migration for PgOnly {
        fn up(&self, s: &mut Schema) {
            s.sql_per_backend(PerBackend {
                postgres: Some("CREATE EXTENSION citext"),
                ..Default::default()
            });
        }
    }

    struct Nothing;
    impl Migration for Nothing {
        fn up(&self, _: &mut Schema) {}
    }

    fn catalog() -> Catalog {
        Catalog::new([
            (
                MigrationId::from_file("m20261120_090000_create_tags.rs").unwrap(),
                &Tags as &dyn Migration,
            ),
            (
                MigrationId::from_file("m20261121_090000_citext.rs").unwrap(),
                &PgOnly as &dyn Migration,
            ),
            (
                MigrationId::from_file("m20261122_090000_nothing.rs").unwrap(),
                &Nothing as &dyn Migration,
            ),
        ])
    }

    #[test]
    fn manifest_hashes_each_migration_on_every_backend_even_when_one_cannot_render_it() {
        let text = catalog().manifest();
        expect![[r#"
            sum v1:4613f57e9be986fe59b160b7c5d10074bbd1631d6e5b15a6f2582ad872dc4940
            20261120090000 create_tags v1:2452b6c3d0fefd708f32c9379bf545fd84d0e436bfef8b3e0d5096e2471d4921
            20261121090000 citext v1:f5b6377307c0b71c9d0747e16027d92554359bf132b41e03350fa0732ccbc9eb
            20261122090000 nothing v1:c737fd5b483e53d954f09090e236fcdd785f014648686fa6da971e0860440ce2
        "#]]
        .assert_eq(&text);
        let parsed = parse(&text).unwrap();
        assert!(parsed.sum_matches());
        assert_eq!(parsed.lines, catalog().manifest_lines());
        // A migration that records nothing hashes like the one `new` writes.
        assert_eq!(parsed.lines[2].checksum, empty_checksum());
        // The checksum is the documented text's: each backend's name, then its statements or
        // the error that stopped it.
        let c = catalog();
        let mysql = c
            .render_up(Backend::MySql, Some(&[20261121090000]))
            .unwrap_err();
        assert!(
            mysql.to_string().contains("no text for this backend"),
            "{mysql}"
        );
        let sqlite = c
            .render_up(Backend::Sqlite, Some(&[20261121090000]))
            .unwrap_err();
        let text = format!(
            "postgres\nCREATE EXTENSION citext\nmysql\nerror: {mysql}\nsqlite\nerror: {sqlite}\n"
        );
        assert_eq!(parsed.lines[1].checksum, v1(text.as_bytes()));
    }

    struct Broken;
    impl Migration for Broken {
        fn up(&self, s: &mut Schema) {
            s.add_column("missing", Column::text("note").nullable());
        }
    }

    #[test]
    fn a_migration_that_does_not_fit_the_schema_leaves_the_earlier_ones_hashed_as_usual() {
        let id = |f: &str| MigrationId::from_file(f).unwrap();
        let with_broken = Catalog::new([
            (
                id("m20261120_090000_create_tags.rs"),
                &Tags as &dyn Migration,
            ),
            (id("m20261121_000000_broken.rs"), &Broken as &dyn Migration),
            (id("m20261121_090000_citext.rs"), &PgOnly as &dyn Migration),
            (
                id("m20261122_090000_nothing.rs"),
                &Nothing as &dyn Migration,
            ),
        ])
        .manifest_lines();
        let good = catalog().manifest_lines();
        assert_eq!(with_broken.len(), 4);
        assert_eq!(with_broken[0], good[0]);
        // The error text of the broken migration, then of the migrations that build on it.
        assert_ne!(with_broken[1].checksum, empty_checksum());
        assert_ne!(with_broken[2].checksum, good[1].checksum);
        assert_ne!(with_broken[3].checksum, empty_checksum());
        assert_eq!(with_broken[2].checksum, with_broken[3].checksum);
    }

    #[test]
    fn parse_reads_what_write_writes_and_names_bad_lines() {
        let lines = catalog().manifest_lines();
        let text = write(&lines);
        assert_eq!(parse(&text).unwrap().lines, lines);
        assert_eq!(
            parse(&text.replace('\n', "\r\n")).unwrap().lines,
            lines,
            "CRLF line ends"
        );
        assert_eq!(parse(""), Err(ManifestError::Empty));
        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert_eq!(
            err("sum v1:abc\n"),
            "line 1 (`sum v1:abc`) is not `sum v1:<sha256 in 64 lowercase hex digits>`"
        );
        let sum = format!("sum {}\n", sum_of(&[]));
        assert_eq!(
            err(&format!("{sum}20261120090000 create_tags\n")),
            "line 2 (`20261120090000 create_tags`) is not `<version> <name> v1:<sha256>`, such as \
             `20261120090000 create_tags v1:<64 lowercase hex digits>`"
        );
        assert!(err(&format!("{sum}2026112009000 x {}\n", empty_checksum())).starts_with("line 2"));
        assert!(
            err(&format!("{sum}20261120090000 Tags {}\n", empty_checksum())).starts_with("line 2")
        );
        assert_eq!(
            err(&format!("{sum}<<<<<<< HEAD\n")),
            "line 2 is a git conflict marker (`<<<<<<< HEAD`): the merge of this file is unfinished; \
             make sure the migration merged last has the newest version (rename its file if not), \
             then run `check --write`, which rewrites this file from the code"
        );
        // An empty manifest (no migrations) is one line.
        assert_eq!(parse(&write(&[])).unwrap().lines, []);
    }

    #[test]
    fn order_duplicates_and_sum_are_checked_separately() {
        let mut lines = catalog().manifest_lines();
        lines.swap(0, 1);
        lines.push(lines[0].clone());
        let m = parse(&write(&lines)).unwrap();
        assert!(m.sum_matches());
        let pairs: Vec<(u64, u64)> = m
            .out_of_order()
            .iter()
            .map(|(a, b)| (a.version, b.version))
            .collect();
        assert_eq!(
            pairs,
            [
                (20261121090000, 20261120090000),
                (20261122090000, 20261121090000)
            ]
        );
        assert_eq!(m.duplicate_versions(), [20261121090000]);
        let edited = write(&lines).replacen("citext", "citext2", 1);
        assert!(!parse(&edited).unwrap().sum_matches());
    }
}
