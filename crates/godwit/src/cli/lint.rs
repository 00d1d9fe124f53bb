//! `lint`: the zero-downtime rules over the migrations' operations, without a database.
//!
//! Findings print for people (`--format human`), as JSON, as GitHub workflow annotations on
//! the line of the migration that wrote the operation (`--format github`), or as a SARIF log
//! for code-scanning tools (`--format sarif`).

use std::io::Write;

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use godwit_core::{Finding, Rule};

use super::sql::{BackendArg, Version, parse_version};
use super::{Context, Failure};
use crate::{Backend, Catalog, MigrationId, Registration};

/// The exit code of `lint` when it finds an operation that is neither safe nor allowed.
pub(crate) const UNSAFE: u8 = 5;

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The backend whose rules apply [default: the scheme of DATABASE_URL, else sqlite]
    #[arg(long, short, value_enum, ignore_case = true, conflicts_with = "live")]
    backend: Option<BackendArg>,
    /// Connect to the database (--database-url, else DATABASE_URL) for its backend, each
    /// table's size and the server's version: findings then say how large their table is,
    /// and a change that holds a lock while it works through a small table is a note
    #[arg(long)]
    live: bool,
    /// The database: its scheme chooses the backend; with --live, it is read [default: DATABASE_URL, else DATABASE_URL in .env, else the crate's SQLite dev.db]
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// With --live: under this many rows, such a change is a note, not an unsafe finding
    #[arg(long, value_name = "ROWS", default_value_t = godwit_core::lint::DEFAULT_SMALL_TABLE_ROWS, requires = "live")]
    small_table_rows: u64,
    /// Only these migrations, by version or file name; every migration when none is given
    #[arg(value_name = "VERSION", value_parser = parse_version)]
    versions: Vec<Version>,
    /// Also the style rules (bigint keys, text over varchar, timestamptz, no char(n)): their
    /// findings are notes, which do not fail
    #[arg(long)]
    style: bool,
    /// How to print the findings
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: each finding with its risk and the safe way
    Human,
    /// One JSON object: the findings and the counts
    Json,
    /// GitHub Actions workflow commands: an annotation on the migration's line per finding
    Github,
    /// A SARIF 2.1.0 log, for code scanning
    Sarif,
}

pub(crate) fn run(
    cx: &Context<'_>,
    resolved: &[(MigrationId, Registration)],
    args: &LintArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    // With --live, the database says the backend, the tables' sizes and the server's version.
    let (backend, live) = if args.live {
        let db = super::db::DbArgs {
            database_url: args.database_url.clone(),
            history_table: godwit_runner::DEFAULT_TABLE.into(),
            deploy_lock_timeout: 60.0,
            json: false,
        };
        let terminal = std::sync::Arc::new(super::db::Terminal::new(true));
        let runner = super::db::runner(cx, &db, terminal)?;
        let options = runner
            .options()
            .clone()
            .small_table_rows(args.small_table_rows);
        let runner = runner.with_options(options);
        let live = super::db::block_on(runner.live_context())?;
        (runner.url().backend(), Some(live))
    } else {
        let backend: Backend = match args.backend {
            Some(b) => b.into(),
            None => super::sql::default_backend(cx, args.database_url.as_deref())?,
        };
        (backend, None)
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
        .lint_with(backend, versions, live.as_ref(), args.style)
        .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))?;
    let unsafe_count = findings.iter().filter(|f| f.is_unsafe()).count();
    let allowed = findings.iter().filter(|f| f.allowed.is_some()).count();
    let notes = findings.len() - unsafe_count - allowed;
    let migrations = versions.map_or(resolved.len(), <[u64]>::len);
    let notes_text = match notes {
        0 => String::new(),
        n => format!(", {n} note(s)"),
    };
    let summary = format!(
        "{unsafe_count} unsafe, {allowed} allowed{notes_text}, in {migrations} migration(s) on {backend}"
    );
    let text = match args.format {
        Format::Human => {
            let mut text: String = findings.iter().map(|f| format!("{f}\n")).collect();
            text.push_str(&summary);
            text.push('\n');
            text
        }
        Format::Github => {
            let mut text: String = findings.iter().map(|f| github(cx, f)).collect();
            text.push_str(&summary);
            text.push('\n');
            text
        }
        Format::Json => format!(
            "{:#}\n",
            json!({
                "backend": backend.as_str(),
                "migrations": migrations,
                "unsafe": unsafe_count,
                "allowed": allowed,
                "notes": notes,
                "findings": findings.iter().map(|f| finding_json(cx, f)).collect::<Vec<_>>(),
            })
        ),
        Format::Sarif => format!("{:#}\n", sarif(cx, &findings)),
    };
    out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
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

/// Where `f`'s operation was written: the file (relative to the current directory when it is
/// in the migrations crate, else as the compiler named it: relative to the workspace), and the
/// line.
fn location(cx: &Context<'_>, f: &Finding) -> Option<(String, u32)> {
    f.location
        .map(|l| (cx.shorten(l.file()).replace('\\', "/"), l.line()))
}

/// The finding's message on one line: the risk, then the safe way or the reason.
fn message(f: &Finding) -> String {
    let table = f.table.as_ref().map_or(String::new(), |(t, size)| {
        format!(" (`{t}` has {})", size.describe())
    });
    if let Some(note) = &f.note {
        return format!("{}{table} (note: {note})", f.risk);
    }
    match &f.allowed {
        Some(reason) => format!("{}{table} (allowed: {reason})", f.risk),
        None => format!(
            "{}{table}. Safe: {} Or, if it is safe here: s.allow(Rule::{}, \"why\");",
            f.risk,
            f.safe.lines().map(str::trim).collect::<Vec<_>>().join(" "),
            f.rule.rust_name()
        ),
    }
}

/// A GitHub workflow command: `::error file=..,line=..,title=..::message`, a notice when the
/// operation is allowed. Data escapes `%`, CR and LF; properties also `:` and `,`.
fn github(cx: &Context<'_>, f: &Finding) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let level = if !f.is_unsafe() { "notice" } else { "error" };
    let mut props = Vec::new();
    if let Some((file, line)) = location(cx, f) {
        props.push(format!("file={}", property(&file)));
        props.push(format!("line={line}"));
    }
    props.push(format!(
        "title={}",
        property(&format!(
            "godwit {} ({}): migration {}, operation #{}",
            f.rule,
            f.backend,
            f.migration,
            f.operation.0 + 1
        ))
    ));
    format!(
        "::{level} {}::{}\n",
        props.join(","),
        data(&cx.shorten(&format!("{}: {}", f.operation.1, message(f))))
    )
}

fn finding_json(cx: &Context<'_>, f: &Finding) -> Value {
    let (file, line) = location(cx, f).map_or((None, None), |(f, l)| (Some(f), Some(l)));
    json!({
        "rule": f.rule.code(),
        "backend": f.backend.as_str(),
        "migration": { "version": f.migration.version, "name": f.migration.name },
        "operation": { "number": f.operation.0 + 1, "description": cx.shorten(&f.operation.1) },
        "risk": f.risk,
        "safe": f.safe,
        "allowed": f.allowed,
        "note": f.note,
        "table": f.table.as_ref().map(|(t, size)| json!({
            "name": t,
            "rows": size.rows,
            "bytes": size.bytes,
        })),
        "file": file,
        "line": line,
    })
}

/// A SARIF 2.1.0 log: one run of the tool `godwit`, its rules, and a result per finding (an
/// allowed one carries its reason as an in-source suppression).
fn sarif(cx: &Context<'_>, findings: &[Finding]) -> Value {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.code(),
                "name": r.rust_name(),
                "properties": {
                    "backends": r.backends().iter().map(|b| b.as_str()).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule.code(),
                "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule),
                "level": if f.is_unsafe() { "error" } else { "note" },
                "message": {
                    "text": cx.shorten(&format!(
                        "migration {}, operation #{} {} ({}): {}",
                        f.migration, f.operation.0 + 1, f.operation.1, f.backend, message(f)
                    )),
                },
            });
            if let Some((file, line)) = location(cx, f) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file },
                        "region": { "startLine": line },
                    },
                }]);
            }
            if let Some(reason) = &f.allowed {
                result["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "godwit",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "results": results,
        }],
    })
}
