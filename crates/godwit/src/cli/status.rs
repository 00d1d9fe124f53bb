//! `status [--json] [--check]`: every migration, applied or pending, when and how long, and
//! the lint findings its migrations allow on the database's backend, with their written reasons.
//! Read-only: it creates nothing, not even the history table, and takes no lock.

use std::io::Write;
use std::sync::Arc;

use anyhow::anyhow;
use clap::Args;
use godwit_runner::{State, Status};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::db::{self, DbArgs, Terminal};
use super::{Context, Failure};
use crate::{Backend, Finding};

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Exit with code 3 when a migration is not applied as it is in the code: pending,
    /// half-applied, changed since applied, or applied but missing from the code (for CI and
    /// start-up checks)
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub(crate) fn run(cx: &Context<'_>, args: &StatusArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let terminal = Arc::new(Terminal::new(true));
    let runner = db::runner(cx, &args.db, terminal)?;
    let status = db::block_on(runner.status())?;
    let allowances = allowances(cx, &runner, status.backend);
    let text = if args.db.json {
        format!("{:#}\n", to_json(&status, &allowances))
    } else {
        let mut text = table(&status, &allowances, cx.color);
        text.push_str(&baseline_hint(&runner, &status));
        text
    };
    out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
    if args.check && !status.is_up_to_date() {
        let (pending, partial) = (
            status.count(State::Pending) + status.count(State::OutOfOrder),
            status.count(State::Partial) + status.count(State::PartialDown),
        );
        let (changed, missing) = (status.count(State::Changed), status.count(State::Missing));
        let unrenderable = status.count(State::Unrenderable);
        let mut what = format!("{pending} pending, {partial} half-applied");
        if changed + missing > 0 {
            what.push_str(&format!(
                ", {changed} changed since applied, {missing} applied but missing from the code"
            ));
        }
        if unrenderable > 0 {
            what.push_str(&format!(", {unrenderable} that no longer render"));
        }
        return Err(Failure::Exit {
            code: db::EXIT_PENDING,
            errors: vec![anyhow!(
                "the database is not up to date: {what}; run `up` (it says how to resolve each)"
            )],
        });
    }
    Ok(())
}

/// When history records nothing applied but the database already has tables the migrations
/// create (a database migrated by another tool, or whose history was lost), the one command
/// that records where it stands: `baseline`.
fn baseline_hint(runner: &godwit_runner::Runner, status: &Status) -> String {
    if status.count(State::Applied) > 0 || status.migrations.is_empty() {
        return String::new();
    }
    let Ok(model) = runner.catalog().model(None) else {
        return String::new();
    };
    let table = runner.options().history_table.clone();
    let Ok(live) = db::block_on(godwit_runner::live_schema(
        runner.url(),
        &table,
        &runner.catalog().schema_names().named,
    )) else {
        return String::new();
    };
    let present: Vec<&String> = model
        .tables
        .keys()
        .filter(|t| live.tables.contains_key(*t))
        .collect();
    if present.is_empty() {
        return String::new();
    }
    format!(
        "the database already has tables the migrations create ({}), but history records none \
         applied: if another tool migrated it, or its history was lost, record what it has with \
         `baseline --to VERSION` (the newest migration it matches; `schema --live` shows the \
         differences)\n",
        present
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A lint finding a migration allows, with its written reason.
#[derive(Debug, Clone, PartialEq)]
struct Allowed {
    version: u64,
    rule: String,
    /// The operation's position, from 1.
    step: usize,
    operation: String,
    reason: String,
}

impl Allowed {
    fn of(f: &Finding) -> Allowed {
        Allowed {
            version: f.migration.version,
            rule: f.rule.code().to_string(),
            step: f.operation.0 + 1,
            operation: f.operation.1.clone(),
            reason: f.allowed.clone().unwrap_or_default(),
        }
    }

    /// As `status --json` shows it (and the cache keeps it, with the version).
    fn to_json(&self) -> serde_json::Value {
        json!({
            "rule": self.rule,
            "step": self.step,
            "operation": self.operation,
            "reason": self.reason,
        })
    }

    fn from_json(version: u64, v: &serde_json::Value) -> Option<Allowed> {
        Some(Allowed {
            version,
            rule: v.get("rule")?.as_str()?.to_string(),
            step: usize::try_from(v.get("step")?.as_u64()?).ok()?,
            operation: v.get("operation")?.as_str()?.to_string(),
            reason: v.get("reason")?.as_str()?.to_string(),
        })
    }

    /// As `plan` shows an allowance.
    fn line(&self) -> String {
        format!(
            "allowed[{}] #{} {}: {}",
            self.rule, self.step, self.operation, self.reason
        )
    }
}

/// The allowed lint findings of every migration on `backend`, or why they could not be found
/// (a migration that does not fit the schema model, say): `status` still shows history then.
/// They depend on the code alone: the binary's cache keeps them; else they come from the
/// runner's migrations, recorded once for both.
fn allowances(
    cx: &Context<'_>,
    runner: &godwit_runner::Runner,
    backend: Backend,
) -> Result<Vec<Allowed>, String> {
    let section = format!("allowances {}", backend.as_str());
    if let Some(serde_json::Value::Object(kept)) = cx.cache.as_ref().and_then(|c| c.get(&section)) {
        let read: Option<Vec<Allowed>> = kept
            .iter()
            .map(|(v, list)| {
                let version: u64 = v.parse().ok()?;
                list.as_array()?
                    .iter()
                    .map(|a| Allowed::from_json(version, a))
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<Vec<_>>>>()
            .map(|lists| lists.into_iter().flatten().collect());
        if let Some(read) = read {
            return Ok(read);
        }
    }
    let findings = runner
        .catalog()
        .lint(backend, None)
        .map_err(|e| cx.shorten(&e.to_string()))?;
    let allowed: Vec<Allowed> = findings
        .iter()
        .filter(|f| f.allowed.is_some())
        .map(Allowed::of)
        .collect();
    if let Some(cache) = &cx.cache {
        let mut by_version = serde_json::Map::new();
        for a in &allowed {
            let list = by_version
                .entry(a.version.to_string())
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let serde_json::Value::Array(list) = list {
                list.push(a.to_json());
            }
        }
        cache.put(&section, serde_json::Value::Object(by_version));
    }
    Ok(allowed)
}

/// The allowed findings of the migration with `version`.
fn allowed_in(allowances: &[Allowed], version: u64) -> impl Iterator<Item = &Allowed> {
    allowances.iter().filter(move |a| a.version == version)
}

fn to_json(status: &Status, allowances: &Result<Vec<Allowed>, String>) -> serde_json::Value {
    let migrations: Vec<_> = status
        .migrations
        .iter()
        .map(|m| {
            let row = m.row.as_ref();
            let allowed: Option<Vec<_>> = match allowances {
                Ok(findings) if m.state != State::Missing => Some(
                    allowed_in(findings, m.version)
                        .map(Allowed::to_json)
                        .collect(),
                ),
                _ => None,
            };
            json!({
                "version": m.version,
                "name": m.name,
                "status": m.state.as_str(),
                "applied_at": row.and_then(|r| r.applied_at.format(&Rfc3339).ok()),
                "execution_ms": row.map(|r| r.execution_ms),
                "checksum": row.map(|r| r.checksum.clone()),
                "current_checksum": m.current_checksum,
                "statement": row.and_then(|r| r.statement),
                "error": row.and_then(|r| r.error.clone()),
                "render_error": m.render_error,
                "allowances": allowed,
            })
        })
        .collect();
    json!({
        "backend": status.backend.as_str(),
        "database": status.database,
        "history_table": status.history_table,
        "history_exists": status.history_exists,
        "up_to_date": status.is_up_to_date(),
        "applied": status.count(State::Applied),
        "pending": status.count(State::Pending),
        "half_applied": status.count(State::Partial) + status.count(State::PartialDown),
        "out_of_order": status.count(State::OutOfOrder),
        "changed": status.count(State::Changed),
        "missing": status.count(State::Missing),
        "cannot_render": status.count(State::Unrenderable),
        "migrations": migrations,
        "allowances_error": allowances.as_ref().err(),
    })
}

/// A table, one migration a line, and a summary.
fn table(status: &Status, allowances: &Result<Vec<Allowed>, String>, color: bool) -> String {
    let mut s = format!(
        "{} at {}, history table {}{}\n",
        status.backend,
        status.database,
        status.history_table,
        if status.history_exists {
            ""
        } else {
            " (not created yet)"
        }
    );
    let width = status
        .migrations
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    s.push_str(&format!(
        "{:<14}  {:<width$}  {:<13}  {:<23}  TIME\n",
        "VERSION", "NAME", "STATUS", "APPLIED AT"
    ));
    for m in &status.migrations {
        let (label, c) = match m.state {
            State::Applied => ("applied", db::GREEN),
            State::Pending => ("pending", db::YELLOW),
            State::Partial => ("partial", db::RED),
            State::PartialDown => ("partial down", db::RED),
            State::Changed => ("changed", db::RED),
            State::OutOfOrder => ("out of order", db::YELLOW),
            State::Unrenderable => ("cannot render", db::RED),
            _ => ("missing", db::MAGENTA),
        };
        let state = db::paint(&format!("{label:<13}"), c, color);
        let (at, took) = match &m.row {
            Some(r) => (
                godwit_runner::format_time(r.applied_at),
                db::duration(u128::from(r.execution_ms)),
            ),
            None => (String::new(), String::new()),
        };
        let line = format!(
            "{:<14}  {:<width$}  {state}  {at:<23}  {took}",
            m.version, m.name
        );
        s.push_str(line.trim_end());
        s.push('\n');
        if let Some(r) = m
            .row
            .as_ref()
            .filter(|_| matches!(m.state, State::Partial | State::PartialDown))
        {
            s.push_str(&format!(
                "{:<14}  stopped at statement {}{}\n",
                "",
                r.statement.unwrap_or(1),
                r.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        }
        match (m.state, &m.row, &m.current_checksum) {
            (State::Changed, Some(r), Some(now)) => s.push_str(&format!(
                "{:<14}  its code changed since it ran: checksum {now}, history {}; see `repair`\n",
                "", r.checksum
            )),
            (State::Missing, ..) => s.push_str(&format!(
                "{:<14}  applied, but no migration in the code has this version: restore its file, \
                 or, if it was removed on purpose, `up --allow-missing`\n",
                ""
            )),
            (State::OutOfOrder, ..) => s.push_str(&format!(
                "{:<14}  older than the newest applied migration: `up` needs --allow-out-of-order\n",
                ""
            )),
            (State::Unrenderable, ..) => s.push_str(&format!(
                "{:<14}  its code no longer renders, so whether it changed cannot be checked: {}\n",
                "",
                m.render_error.as_deref().unwrap_or("")
            )),
            _ => {}
        }
        if let Ok(findings) = allowances {
            for f in allowed_in(findings, m.version) {
                s.push_str(&format!("{:<14}  {}\n", "", f.line()));
            }
        }
    }
    let half = status.count(State::Partial) + status.count(State::PartialDown);
    let mut extra = String::new();
    if half > 0 {
        extra.push_str(&format!(
            ", {half} half-applied (run `up` to see how to resolve it)"
        ));
    }
    for (state, what) in [
        (State::OutOfOrder, "out of order"),
        (State::Changed, "changed since applied"),
        (State::Missing, "applied but missing from the code"),
        (State::Unrenderable, "cannot render"),
    ] {
        match status.count(state) {
            0 => {}
            n => extra.push_str(&format!(", {n} {what}")),
        }
    }
    s.push_str(&format!(
        "{} migrations: {} applied, {} pending{extra}\n",
        status.migrations.len(),
        status.count(State::Applied),
        status.count(State::Pending),
    ));
    if let Err(e) = allowances {
        s.push_str(&format!(
            "allowances (lint findings allowed with a reason) could not be computed: {e}\n"
        ));
    }
    s
}
