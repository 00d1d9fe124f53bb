//! `copy --from URL --to URL [--tables a,b] [--batch-size N]`: every table's rows from one
//! database to another with the same migrations applied, in batches, resumable, checked by
//! counting (see `godwit_runner::copy`).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use godwit_runner::copy::DEFAULT_BATCH_SIZE;
use godwit_runner::{Copied, CopyOptions, DatabaseUrl, Options, Runner, UrlSource};
use serde_json::json;

use super::db::{self, Terminal};
use super::{Context, Failure, registry};

#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The database to copy from (postgres://, mysql://, mariadb://, sqlite:)
    #[arg(long, value_name = "URL")]
    from: String,
    /// The database to copy into: migrated to the same version, its tables empty (or holding
    /// what an interrupted copy into them committed)
    #[arg(long, value_name = "URL")]
    to: String,
    /// Copy only these tables (comma-separated), still parents first
    #[arg(long, value_name = "TABLE,...", value_delimiter = ',')]
    tables: Option<Vec<String>>,
    /// Rows per batch; each batch is one transaction in the target
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH_SIZE,
          value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// Store values the target's columns cannot keep exactly (times finer than a microsecond;
    /// in a database made by an older godwit, long decimals on SQLite, fractional seconds on
    /// MySQL) as they can, instead of stopping at the first
    #[arg(long)]
    allow_rounding: bool,
    /// The history table's name, in both databases
    #[arg(long, value_name = "NAME", default_value = godwit_runner::DEFAULT_TABLE)]
    history_table: String,
    /// Seconds to wait for the target's migration lock (held by a deploy) before giving up
    /// (exit code 4)
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    deploy_lock_timeout: f64,
    /// Print machine-readable JSON on stdout instead of text
    #[arg(long)]
    json: bool,
}

fn url(flag: &str, text: &str) -> anyhow::Result<DatabaseUrl> {
    DatabaseUrl::parse(text, UrlSource::Given).map_err(|e| anyhow!("{flag}: {e}"))
}

pub(crate) fn run(cx: &Context<'_>, args: &CopyArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let from = url("--from", &args.from)?;
    let to = url("--to", &args.to)?;
    let wait = args.deploy_lock_timeout;
    if !(wait.is_finite() && wait >= 0.0) {
        return Err(anyhow!(
            "--deploy-lock-timeout must be a number of seconds, 0 or more (it is {wait})"
        )
        .into());
    }
    let resolved = registry::load(cx).map_err(Failure::Errors)?;
    let options = Options::default()
        .history_table(args.history_table.clone())
        .deploy_lock_timeout(Duration::from_secs_f64(wait.min(86_400.0 * 365.0)));
    let runner = Runner::lazy(
        from,
        resolved.iter().map(|(id, r)| (id.clone(), r.migration)),
    )
    .with_options(options);
    let terminal = Arc::new(Terminal::new(args.json));
    let copy = CopyOptions::default()
        .tables(args.tables.clone())
        .batch_size(args.batch_size)
        .allow_rounding(args.allow_rounding)
        .observer(terminal.clone());
    let result = db::block_on(runner.copy_to(&to, &copy));
    terminal.finish();
    let copied = result?;
    let text = if args.json {
        format!("{:#}\n", report_json(&copied))
    } else {
        summary(&copied)
    };
    out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
    Ok(())
}

fn report_json(c: &Copied) -> serde_json::Value {
    json!({
        "from": c.from,
        "to": c.to,
        "version": c.version.version,
        "copied": c.copied(),
        "elapsed_ms": c.elapsed.as_millis() as u64,
        "tables": c.tables.iter().map(|t| json!({
            "table": t.table,
            "source_rows": t.source_rows,
            "target_rows": t.target_rows,
            "copied": t.copied,
            "copied_before": t.copied_before,
            "elapsed_ms": t.elapsed.as_millis() as u64,
            "foreign_key_checks_off": t.checks_off,
            "sequences": t.sequences,
        })).collect::<Vec<_>>(),
    })
}

/// One line per table (rows in the source and the target, copied now and by an earlier run),
/// then the total.
fn summary(c: &Copied) -> String {
    let headers = ["table", "source", "target", "copied", "earlier", "time"];
    let rows: Vec<[String; 6]> = c
        .tables
        .iter()
        .map(|t| {
            [
                t.table.clone(),
                t.source_rows.to_string(),
                t.target_rows.to_string(),
                t.copied.to_string(),
                t.copied_before.to_string(),
                db::duration(t.elapsed.as_millis()),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Numbers to the right; the name and the time, which varies, to the left.
    let line = |cells: [&str; 6]| {
        let mut s = format!("{:<w$}", cells[0], w = widths[0]);
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate().skip(1) {
            if i == 5 {
                s.push_str(&format!("  {cell:<w$}"));
            } else {
                s.push_str(&format!("  {cell:>w$}"));
            }
        }
        s.trim_end().to_string()
    };
    let mut text = String::new();
    text.push_str(&line(headers));
    text.push('\n');
    for (r, t) in rows.iter().zip(&c.tables) {
        let mut l = line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]);
        let mut notes = Vec::new();
        if t.checks_off {
            notes.push("foreign-key checks were off".to_string());
        }
        if !t.sequences.is_empty() {
            notes.push(format!("sequence {} set", t.sequences.join(", ")));
        }
        if !notes.is_empty() {
            l = format!("{:<w$}", l, w = widths.iter().sum::<usize>() + 10);
            l.push_str(&format!("  ({})", notes.join("; ")));
        }
        text.push_str(&l);
        text.push('\n');
    }
    text.push_str(&format!(
        "copied {} row(s) into {} table(s) of {} in {}; each has as many rows as in {} (schema at {})\n",
        c.copied(),
        c.tables.len(),
        c.to,
        db::duration(c.elapsed.as_millis()),
        c.from,
        c.version
    ));
    text
}
