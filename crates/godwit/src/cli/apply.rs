//! `up`, `down`, `redo` and `fresh`: run migrations on the database, or print the SQL they would
//! run (`--dry-run`).

use std::io::Write;
use std::sync::Arc;

use anyhow::anyhow;
use clap::Args;
use godwit_runner::{Down, DownTarget, Report, Up};
use serde_json::json;

use super::db::{self, DbArgs, Terminal, TimeoutArgs};
use super::sql::{Version, parse_steps, parse_version, version_of};
use super::{Context, Failure};

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Apply pending migrations up to and including this version
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    to: Option<Version>,
    /// Print the exact SQL that would run, history writes included, and change nothing
    #[arg(long)]
    dry_run: bool,
    /// Apply every pending migration in one transaction (PostgreSQL, SQLite)
    #[arg(long)]
    single_transaction: bool,
    /// Run migrations that `lint` finds unsafe on this backend and that no s.allow(..) allows
    #[arg(long)]
    allow_unsafe: bool,
    /// Run even though an applied migration's code changed since it ran (see `repair`)
    #[arg(long)]
    allow_changed: bool,
    /// Run even though history holds applied migrations that are not in the code
    #[arg(long)]
    allow_missing: bool,
    /// Apply pending migrations older than the newest applied one
    #[arg(long)]
    allow_out_of_order: bool,
    /// Under this many rows, a change that holds a lock while it works through the table (a
    /// scan, a rewrite, a copy) is a note, not a refusal
    #[arg(long, value_name = "ROWS", default_value_t = godwit_core::lint::DEFAULT_SMALL_TABLE_ROWS)]
    small_table_rows: u64,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
#[group(id = "target", multiple = false)]
pub(crate) struct DownArgs {
    /// Roll back the newest N applied migrations [default: 1]
    #[arg(long, value_name = "N", group = "target", value_parser = parse_steps)]
    steps: Option<usize>,
    /// Roll back every applied migration newer than VERSION (VERSION stays applied)
    #[arg(long, value_name = "VERSION", value_parser = parse_version, group = "target")]
    to: Option<Version>,
    /// Roll back every applied migration
    #[arg(long, group = "target")]
    all: bool,
    /// Print the exact SQL that would run, history writes included, and change nothing
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RedoArgs {
    /// Roll back and re-apply the newest N applied migrations
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_steps)]
    steps: usize,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
pub(crate) struct FreshArgs {
    /// Yes, drop every table and view of the database
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    #[command(flatten)]
    db: DbArgs,
}

pub(crate) fn up(cx: &Context<'_>, args: &UpArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let to = args.to.as_ref().map(|v| version_of(cx, v)).transpose()?;
    let terminal = Arc::new(Terminal::new(args.db.json || args.dry_run));
    let runner = db::migrating_runner(cx, &args.db, &args.timeouts, terminal.clone())?;
    let options = runner
        .options()
        .clone()
        .small_table_rows(args.small_table_rows);
    let runner = runner.with_options(options);
    let up = Up::default()
        .to(to)
        .single_transaction(args.single_transaction)
        .dry_run(args.dry_run)
        .allow_unsafe(args.allow_unsafe)
        .allow_changed(args.allow_changed)
        .allow_missing(args.allow_missing)
        .allow_out_of_order(args.allow_out_of_order);
    // In one transaction for all, a failure rolls back what finished before it: nothing to list.
    let report = db::block_on(runner.up(&up)).map_err(|f| {
        if args.single_transaction {
            f
        } else {
            terminal.with_finished(f)
        }
    });
    terminal.finish();
    print(out, &args.db, runner.url().redacted(), "up", &report?)
}

pub(crate) fn down(cx: &Context<'_>, args: &DownArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let target = match (args.steps, &args.to, args.all) {
        (_, _, true) => DownTarget::All,
        (_, Some(to), _) => DownTarget::To(version_of(cx, to)?),
        (steps, None, false) => DownTarget::Steps(steps.unwrap_or(1)),
    };
    let terminal = Arc::new(Terminal::new(args.db.json || args.dry_run));
    let runner = db::migrating_runner(cx, &args.db, &args.timeouts, terminal.clone())?;
    let report = db::block_on(runner.down(&Down::new(target).dry_run(args.dry_run)))
        .map_err(|f| terminal.with_finished(f));
    terminal.finish();
    print(out, &args.db, runner.url().redacted(), "down", &report?)
}

pub(crate) fn redo(cx: &Context<'_>, args: &RedoArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let terminal = Arc::new(Terminal::new(args.db.json));
    let runner = db::migrating_runner(cx, &args.db, &args.timeouts, terminal.clone())?;
    let report = db::block_on(runner.redo(args.steps)).map_err(|f| terminal.with_finished(f));
    terminal.finish();
    print(out, &args.db, runner.url().redacted(), "redo", &report?)
}

pub(crate) fn fresh(
    cx: &Context<'_>,
    args: &FreshArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let url = args.db.url(cx)?;
    if !args.yes {
        return Err(Failure::Exit {
            code: 2,
            errors: vec![anyhow!(
                "fresh drops every table and view of {url} before applying every migration: \
                 run `fresh --yes` if that is what you want"
            )],
        });
    }
    let terminal = Arc::new(Terminal::new(args.db.json));
    let runner = db::migrating_runner(cx, &args.db, &args.timeouts, terminal.clone())?;
    let report = db::block_on(runner.fresh()).map_err(|f| terminal.with_finished(f));
    terminal.finish();
    print(out, &args.db, runner.url().redacted(), "fresh", &report?)
}

/// What ran, as text or JSON; a dry run's SQL as it is.
fn print(
    out: &mut dyn Write,
    args: &DbArgs,
    url: &str,
    command: &str,
    report: &Report,
) -> Result<(), Failure> {
    if args.json {
        let ran: Vec<_> = report
            .ran
            .iter()
            .map(|r| {
                json!({
                    "version": r.id.version,
                    "name": r.id.name,
                    "direction": r.direction,
                    "execution_ms": r.elapsed.as_millis() as u64,
                })
            })
            .collect();
        let value = json!({
            "command": command,
            "backend": report.backend.as_str(),
            "database": url,
            "dry_run": report.sql.is_some(),
            "sql": report.sql,
            "ran": ran,
        });
        writeln!(out, "{value:#}").map_err(anyhow::Error::new)?;
        return Ok(());
    }
    if let Some(sql) = &report.sql {
        write!(out, "{sql}").map_err(anyhow::Error::new)?;
        return Ok(());
    }
    if report.ran.is_empty() {
        let what = match command {
            "up" => "nothing to apply: every migration is applied",
            _ => "nothing to roll back",
        };
        writeln!(out, "{what} ({} at {url})", report.backend).map_err(anyhow::Error::new)?;
        return Ok(());
    }
    out.write_all(ran_text(command, url, report).as_bytes())
        .map_err(anyhow::Error::new)?;
    Ok(())
}

/// One line per migration that ran, and the total.
fn ran_text(command: &str, url: &str, report: &Report) -> String {
    // Summed before rounding: a thousand migrations of 0.8 ms each took 800 ms, not 0.
    let total: std::time::Duration = report.ran.iter().map(|r| r.elapsed).sum();
    let width = report
        .ran
        .iter()
        .map(|r| r.id.name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for r in &report.ran {
        text.push_str(&format!(
            "{:<4} {} {:<width$}  {}\n",
            r.direction,
            r.id.version,
            r.id.name,
            db::duration(r.elapsed.as_millis())
        ));
    }
    let n = report.ran.len();
    let verb = match command {
        "up" | "fresh" => "applied",
        "down" => "rolled back",
        _ => "rolled back and re-applied",
    };
    let count = if command == "redo" { n / 2 } else { n };
    text.push_str(&format!(
        "{verb} {count} migration{} on {} ({url}) in {}\n",
        if count == 1 { "" } else { "s" },
        report.backend,
        db::duration(total.as_millis())
    ));
    text
}

#[derive(Debug, Args)]
pub(crate) struct RepairArgs {
    #[command(flatten)]
    db: DbArgs,
}

/// `repair`: record the current checksum of every applied migration whose code changed.
pub(crate) fn repair(
    cx: &Context<'_>,
    args: &RepairArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let terminal = Arc::new(Terminal::new(true));
    let runner = db::runner(cx, &args.db, terminal)?;
    let repaired = db::block_on(runner.repair())?;
    let url = runner.url().redacted();
    let text = if args.db.json {
        let rows: Vec<_> = repaired
            .iter()
            .map(|r| {
                json!({
                    "version": r.id.version,
                    "name": r.id.name,
                    "recorded": r.recorded,
                    "current": r.current,
                })
            })
            .collect();
        format!("{:#}\n", json!({ "database": url, "repaired": rows }))
    } else if repaired.is_empty() {
        format!("nothing to repair: every applied migration matches its code ({url})\n")
    } else {
        let mut text = String::new();
        for r in &repaired {
            text.push_str(&format!(
                "{} {}: checksum {} recorded (was {})\n",
                r.id.version, r.id.name, r.current, r.recorded
            ));
        }
        text.push_str(&format!(
            "recorded the current checksum of {} migration{} in {url}\n",
            repaired.len(),
            if repaired.len() == 1 { "" } else { "s" }
        ));
        text
    };
    out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use godwit_runner::report::Ran;

    use super::*;
    use crate::MigrationId;

    #[test]
    fn the_total_is_the_sum_of_what_each_took_not_of_their_rounded_milliseconds() {
        let report = Report {
            backend: crate::Backend::Sqlite,
            ran: (1..=1000)
                .map(|version| Ran {
                    id: MigrationId {
                        version,
                        name: "create_table".into(),
                    },
                    direction: "up",
                    elapsed: Duration::from_micros(800),
                })
                .collect(),
            sql: None,
        };
        let text = ran_text("up", "sqlite://app.db", &report);
        assert_eq!(text.lines().count(), 1001);
        assert_eq!(
            text.lines().last(),
            Some("applied 1000 migrations on SQLite (sqlite://app.db) in 800 ms")
        );
    }
}
