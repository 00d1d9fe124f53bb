//! The two generated guides, `docs/writing-migrations.md` and `docs/safety-rules.md`, and the
//! tests that keep them current.
//!
//! Each guide is rendered from code: the Rust shown is the source text of closures that are
//! compiled here (the scenarios of `scenarios.rs`, the fragments of `safety_rules.rs`), and the
//! SQL and findings shown are what godwit renders and reports for them. The test of each guide
//! renders it and compares it with the file; `UPDATE_EXPECT=1` rewrites the file instead:
//!
//! ```text
//! UPDATE_EXPECT=1 cargo nextest run -p tests --test it guide
//! ```
//!
//! Each test reads (or writes) its own file only, so the tests run in parallel processes.
//!
//! `oracle` runs the examples of `docs/safety-rules.md` on the real servers and reads back what
//! each server did (a rewrite, rows read under a lock that blocks writes, a lock queued behind a
//! reader, a table copied): the unsafe way of each rule must show it, the safe way must not, and
//! every fix godwit suggests must run on the backend it is suggested for.
//!
//! `agreement` sets godwit's verdicts beside strong_migrations' and squawk's check lists, case by
//! case (`cargo test -p tests --test it guide::agreement -- --nocapture` prints the table).

mod agreement;
mod oracle;
mod safety_rules;
mod source;
mod writing_migrations;

use std::fmt::Write as _;
use std::path::PathBuf;

use godwit_core::{Backend, Catalog, Migration, MigrationId, RenderedMigration};

use crate::scenarios::Step;

/// The version the example migration of a guide gets; the migrations before it get earlier ones.
const EXAMPLE_VERSION: u64 = 20261120090000;

/// A catalog of `setup` (versions 1, 2, ...) then `steps`, the first of which is called `name`
/// and versioned [`EXAMPLE_VERSION`] (the next ones follow it).
fn catalog(setup: &[Step], steps: &[Step], name: &str) -> (Catalog, Vec<u64>) {
    let mut entries: Vec<(MigrationId, &dyn Migration)> = Vec::new();
    for (i, step) in setup.iter().enumerate() {
        let id = MigrationId {
            version: 20261001000000 + i as u64,
            name: format!("setup_{}", i + 1),
        };
        entries.push((id, step as &dyn Migration));
    }
    let mut versions = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let version = EXAMPLE_VERSION + 100 * i as u64;
        let name = match i {
            0 => name.to_string(),
            _ => format!("{name}_{}", i + 1),
        };
        versions.push(version);
        entries.push((MigrationId { version, name }, step as &dyn Migration));
    }
    (Catalog::new(entries), versions)
}

/// What a migration renders to on one backend: its text as the snapshots write it, or the error.
fn rendered_text(
    rendered: Result<Vec<RenderedMigration>, godwit_core::Error>,
) -> Result<String, String> {
    rendered
        .map(|ms| ms.iter().map(crate::snapshots::describe).collect())
        .map_err(|e| e.to_string())
}

/// The SQL of every backend as Markdown: one labelled ```sql block per distinct text (backends
/// that render the same text share one), an error as a ```text block saying it stops there.
fn sql_blocks(texts: &[(Backend, Result<String, String>)]) -> String {
    let mut out = String::new();
    let mut shown: Vec<&Result<String, String>> = Vec::new();
    for (_, text) in texts {
        if shown.contains(&text) {
            continue;
        }
        shown.push(text);
        let names: Vec<String> = texts
            .iter()
            .filter(|(_, t)| t == text)
            .map(|(b, _)| b.to_string())
            .collect();
        let label = match names.len() {
            n if n == Backend::ALL.len() => "Every backend".to_string(),
            _ => names.join(", "),
        };
        match text {
            Ok(sql) => {
                writeln!(out, "{label}:\n\n```sql\n{}```\n", sql).unwrap();
            }
            // The same error everywhere: the sentence before the block says what it is.
            Err(e) if names.len() == Backend::ALL.len() => {
                writeln!(out, "```text\n{e}\n```\n").unwrap();
            }
            Err(e) => {
                writeln!(
                    out,
                    "{label}, an error before anything runs:\n\n```text\n{e}\n```\n"
                )
                .unwrap();
            }
        }
    }
    out
}

/// `text` as lines of at most 100 characters (a word longer than that stays whole).
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 100 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// The workspace's root.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// Compare `generated` with the file at `path` (from the workspace's root), or, with
/// `UPDATE_EXPECT=1`, write it there.
fn check_file(path: &str, generated: &str) {
    let file = workspace().join(path);
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    if current == generated {
        return;
    }
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&file, generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        return;
    }
    let line = current
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| current.lines().count().min(generated.lines().count()));
    panic!(
        "{path} is not what the code generates (first difference at line {}):\n  file:      {:?}\n  generated: {:?}\n\
         regenerate it with `UPDATE_EXPECT=1 cargo nextest run -p tests --test it guide`, then review the diff",
        line + 1,
        current.lines().nth(line).unwrap_or("<end of file>"),
        generated.lines().nth(line).unwrap_or("<end of file>"),
    );
}
