//! `verify` (every rollback, in a scratch database), `baseline --to VERSION` (adopt a database
//! built without godwit) and `schema --live` (drift between the database and its migrations).

use std::io::Write;
use std::sync::Arc;

use anyhow::anyhow;
use clap::Args;
use serde_json::json;

use super::db::{self, DbArgs, Terminal};
use super::sql::{Version, parse_version, version_of};
use super::{Context, Failure};

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Args)]
pub(crate) struct BaselineArgs {
    /// Mark every migration up to and including this version as applied, without running it
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    to: Version,
    /// Record the baseline even when the live schema differs from what those migrations build
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    db: DbArgs,
}

fn differences_text(differences: &[godwit_runner::Difference]) -> String {
    differences
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn verify(
    cx: &Context<'_>,
    args: &VerifyArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let runner = db::runner(cx, &args.db, Arc::new(Terminal::new(true)))?;
    let outcome = db::block_on(runner.verify())?;
    let url = runner.url().redacted().to_string();
    match outcome {
        Ok(verified) => {
            let text = if args.db.json {
                format!(
                    "{:#}\n",
                    json!({
                        "ok": true,
                        "backend": verified.backend.as_str(),
                        "database": url,
                        "round_trips": verified.round_trips.iter().map(|id| id.version).collect::<Vec<_>>(),
                        "skipped": verified.skipped.iter().map(|(id, why)| json!({"version": id.version, "name": id.name, "reason": why})).collect::<Vec<_>>(),
                    })
                )
            } else {
                let mut text = format!(
                    "every rollback restores the schema: {} migration(s), each rolled back and applied again in a scratch database next to {url} ({})\n",
                    verified.round_trips.len(),
                    verified.backend
                );
                for (id, why) in &verified.skipped {
                    text.push_str(&format!(
                        "skipped {id}: it {why}; the migrations before it were walked back in a scratch database built again up to them\n"
                    ));
                }
                text
            };
            out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
            Ok(())
        }
        Err(failure) => {
            if args.db.json {
                let value = json!({
                    "ok": false,
                    "migration": {"version": failure.id.version, "name": failure.id.name},
                    "step": failure.step,
                    "differences": failure.differences.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                });
                writeln!(out, "{value:#}").map_err(anyhow::Error::new)?;
            }
            let what = match failure.step {
                "down" => "its down does not restore the schema before it",
                _ => "applying it again after its down does not give the schema after it",
            };
            Err(anyhow!(
                "migration {}: {what}:\n{}\n  fix its `down` (or its `up`), then run `verify` again",
                failure.id,
                differences_text(&failure.differences)
            )
            .into())
        }
    }
}

pub(crate) fn baseline(
    cx: &Context<'_>,
    args: &BaselineArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let to = version_of(cx, &args.to)?;
    let runner = db::runner(cx, &args.db, Arc::new(Terminal::new(true)))?;
    let url = runner.url().redacted().to_string();
    match db::block_on(runner.baseline(to, args.force))? {
        Ok(recorded) => {
            let text = if args.db.json {
                format!(
                    "{:#}\n",
                    json!({
                        "database": url,
                        "recorded": recorded.iter().map(|id| id.version).collect::<Vec<_>>(),
                    })
                )
            } else {
                format!(
                    "recorded {} migration(s) up to {} as applied in {url}, without running them; `up` applies the rest\n",
                    recorded.len(),
                    to
                )
            };
            out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
            Ok(())
        }
        Err(differences) => Err(anyhow!(
            "the schema of {url} is not the one the migrations up to {} build, so nothing was recorded:\n{}\n  \
             make the database match (or pick the version it matches), or record it anyway with `baseline --to {} --force`",
            to,
            differences_text(&differences),
            to
        )
        .into()),
    }
}

/// `schema --live`: every difference between the database and its applied migrations.
pub(crate) fn drift(cx: &Context<'_>, args: &DbArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let runner = db::runner(cx, args, Arc::new(Terminal::new(true)))?;
    let drift = db::block_on(runner.drift())?;
    let (newest, differences) = (drift.applied_through, drift.differences);
    let half = drift.half_applied.map(|h| {
        format!(
            "\n  migration {} is half-applied (up stopped at statement {}); what it ran shows as:\n{}\n  \
             run `up` to see how to resolve it",
            h.id,
            h.statement.unwrap_or(1),
            differences_text(&h.differences)
        )
    });
    let url = runner.url().redacted().to_string();
    let after = newest
        .as_ref()
        .map_or("no migration".to_string(), |id| id.to_string());
    if args.json {
        let value = json!({
            "database": url,
            "applied_through": newest.as_ref().map(|id| id.version),
            "differences": differences.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "half_applied": half,
        });
        writeln!(out, "{value:#}").map_err(anyhow::Error::new)?;
    } else if differences.is_empty() {
        writeln!(
            out,
            "{url} has exactly the schema its migrations build (applied through {after})"
        )
        .map_err(anyhow::Error::new)?;
    }
    if differences.is_empty() && half.is_none() {
        return Ok(());
    }
    let by_hand = if differences.is_empty() {
        String::new()
    } else {
        format!(
            ":\n{}\n  write a migration for each change made by hand, or undo it",
            differences_text(&differences)
        )
    };
    Err(anyhow!(
        "{url} differs from the schema its migrations build (applied through {after}){by_hand}{}",
        half.unwrap_or_default()
    )
    .into())
}
