//! `plan [--json]` and `plan --all [--backend B]`: the deploy plan, a pre-deployment checklist.
//!
//! For each migration about to run: its SQL, whether it runs in a transaction, the locks each
//! operation takes, the lint findings (unsafe ones with the safe way, allowed ones with their
//! written reason), whether it can be rolled back, its timeouts, and whether the change is
//! additive (apply it before deploying the code that uses it) or destructive (after deploying the
//! code that stops using what it removes).
//!
//! Without `--all` it reads the connected database's history, read-only like `status`, and plans
//! the pending migrations for that database's backend. With `--all` it plans every migration
//! without a database, for CI and reviews.
//!
//! `plan` exits with code 0 even when it shows unsafe findings: it is a report, and `lint` is
//! the gate that fails on them.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use clap::Args;
use godwit_runner::State;
use serde_json::json;

use super::db::{self, DbArgs, Terminal};
use super::sql::BackendArg;
use super::{Context, Failure, registry};
use crate::{Backend, Catalog, ChangeKind, Finding, MigrationPlan, Timeouts};

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Plan every migration, without connecting to a database (for CI and reviews)
    #[arg(long)]
    all: bool,
    /// With --all, the backend to plan for [default: the scheme of --database-url, else of
    /// DATABASE_URL, else sqlite]; without it, the connected database decides
    #[arg(long, short, value_enum, ignore_case = true, requires = "all")]
    backend: Option<BackendArg>,
    /// Under this many rows, a change that holds a lock while it works through the table (a
    /// scan, a rewrite, a copy) is a note, not an unsafe finding
    #[arg(long, value_name = "ROWS", default_value_t = godwit_core::lint::DEFAULT_SMALL_TABLE_ROWS, conflicts_with = "all")]
    small_table_rows: u64,
    #[command(flatten)]
    db: DbArgs,
}

/// What the plan was made for.
struct Target {
    backend: Backend,
    /// The database URL (redacted), or `None` with `--all`.
    database: Option<String>,
}

pub(crate) fn run(cx: &Context<'_>, args: &PlanArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let (target, plans, defaults, total) = if args.all {
        let backend = match args.backend {
            Some(b) => b.into(),
            None => super::sql::default_backend(cx, args.db.database_url.as_deref())?,
        };
        let resolved = registry::load(cx).map_err(Failure::Errors)?;
        let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
        let plans = catalog
            .deploy_plan(backend, None)
            .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))
            .with_context(|| format!("cannot make the deploy plan for {backend}"))?;
        let target = Target {
            backend,
            database: None,
        };
        (
            target,
            plans,
            godwit_runner::Options::default().timeouts,
            resolved.len(),
        )
    } else {
        let terminal = Arc::new(Terminal::new(true));
        let runner = db::runner(cx, &args.db, terminal)?;
        let options = runner
            .options()
            .clone()
            .small_table_rows(args.small_table_rows);
        let runner = runner.with_options(options);
        let defaults = runner.options().timeouts;
        let status = db::block_on(runner.status())?;
        if let Some(m) = status
            .migrations
            .iter()
            .find(|m| matches!(m.state, State::Partial | State::PartialDown))
        {
            let what = if m.state == State::Partial {
                "half-applied"
            } else {
                "half rolled back"
            };
            return Err(anyhow!(
                "migration {} {} is {what}: the plan cannot be made until it is resolved; run \
                 `status` to see where it stopped and `up` to see how to resolve it",
                m.version,
                m.name
            )
            .into());
        }
        let pending: Vec<u64> = status
            .migrations
            .iter()
            .filter(|m| matches!(m.state, State::Pending | State::OutOfOrder))
            .map(|m| m.version)
            .collect();
        let plans = if pending.is_empty() {
            Vec::new()
        } else {
            let resolved = registry::load(cx).map_err(Failure::Errors)?;
            let catalog = Catalog::new(resolved.iter().map(|(id, r)| (id.clone(), r.migration)));
            // The tables' sizes, for the findings: without them (a catalog it may not read),
            // the plan says what `lint` says.
            let live = db::block_on(runner.live_context()).ok();
            catalog
                .deploy_plan_live(status.backend, Some(&pending), live.as_ref())
                .map_err(|e| anyhow!("{}", cx.shorten(&e.to_string())))
                .with_context(|| format!("cannot make the deploy plan for {}", status.backend))?
        };
        let target = Target {
            backend: status.backend,
            database: Some(status.database.clone()),
        };
        let total = status
            .migrations
            .iter()
            .filter(|m| m.state != State::Missing)
            .count();
        (target, plans, defaults, total)
    };
    let text = if args.db.json {
        format!("{:#}\n", to_json(cx, &target, &plans, defaults))
    } else {
        to_text(cx, &target, &plans, defaults, total)
    };
    out.write_all(text.as_bytes()).map_err(anyhow::Error::new)?;
    Ok(())
}

/// The plan as text, one block per migration and a summary.
fn to_text(
    cx: &Context<'_>,
    target: &Target,
    plans: &[MigrationPlan],
    defaults: Timeouts,
    total: usize,
) -> String {
    let backend = target.backend;
    if plans.is_empty() {
        return match &target.database {
            Some(database) => format!(
                "nothing to deploy: every migration is applied ({total} on {backend} at {database})\n"
            ),
            None => "nothing to deploy: there are no migrations\n".to_string(),
        };
    }
    let mut s = match &target.database {
        Some(database) => format!(
            "deploy plan for {backend} at {database}: {}\n",
            count(plans.len(), "pending migration", "pending migrations")
        ),
        None => format!(
            "deploy plan for {backend}, every migration (no database): {}\n",
            count(plans.len(), "migration", "migrations")
        ),
    };
    for plan in plans {
        s.push('\n');
        migration_text(cx, &mut s, plan, defaults);
    }
    s.push('\n');
    s.push_str(&summary_text(plans));
    s
}

fn migration_text(cx: &Context<'_>, s: &mut String, plan: &MigrationPlan, defaults: Timeouts) {
    let color = cx.color;
    s.push_str(&db::paint(&plan.id.to_string(), 1, color));
    s.push('\n');
    s.push_str(if plan.in_parts {
        "  transaction: in parts (each batched step outside any transaction, batch by batch)\n"
    } else if plan.transactional {
        "  transaction: yes\n"
    } else {
        "  transaction: no (runs statement by statement)\n"
    });
    let change = match plan.change {
        ChangeKind::Additive => db::paint(
            "additive (deploy before the code that uses it)",
            db::GREEN,
            color,
        ),
        ChangeKind::Destructive => db::paint(
            "destructive (deploy after the code stops using what it removes)",
            db::RED,
            color,
        ),
        ChangeKind::Unknown => db::paint(
            "unknown (raw SQL or Rust code: review it)",
            db::YELLOW,
            color,
        ),
    };
    s.push_str(&format!("  change: {change}\n"));
    match irreversible_reason(cx, plan) {
        None => s.push_str("  reversible: yes\n"),
        Some(reason) => s.push_str(&format!(
            "  reversible: {}\n",
            db::paint(&format!("no: {reason}"), db::YELLOW, color)
        )),
    }
    s.push_str(&format!(
        "  timeouts: {}\n",
        timeouts_text(plan.timeouts, defaults)
    ));
    if plan.steps.is_empty() {
        s.push_str("  (no operations)\n");
    }
    for (i, step) in plan.steps.iter().enumerate() {
        s.push_str(&format!("  #{} {}\n", i + 1, step.operation));
        if !step.locks.is_empty() {
            s.push_str(&format!("    locks: {}\n", step.locks.join(", ")));
        }
        for sql in &step.sql {
            let sql = sql.trim_end();
            let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
            for line in format!("{sql};").lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
    }
    for f in &plan.findings {
        // The table's size and, where the lock grows with it, how long it may last: the
        // finding's own line for it, as `lint` prints it.
        let table = f.to_string();
        let table = table
            .lines()
            .find(|l| l.trim_start().starts_with("table: "));
        match (&f.allowed, &f.note) {
            (Some(_), _) => {
                s.push_str("  ");
                s.push_str(&allowance_line(f));
                s.push('\n');
            }
            (None, Some(note)) => {
                s.push_str(&format!(
                    "  note[{}] #{} {}: {}\n    {}\n",
                    f.rule,
                    f.operation.0 + 1,
                    f.operation.1,
                    f.risk,
                    note
                ));
            }
            (None, None) => {
                let label = db::paint(&format!("unsafe[{}]", f.rule), db::RED, color);
                s.push_str(&format!(
                    "  {label} #{} {}: {}\n",
                    f.operation.0 + 1,
                    f.operation.1,
                    f.risk
                ));
                if let Some(table) = table {
                    s.push_str(&format!("    {}\n", table.trim()));
                }
                s.push_str("    safe:\n");
                for line in f.safe.lines() {
                    s.push_str(&format!("      {line}\n"));
                }
                s.push_str(&format!(
                    "    or, if it is safe here: s.allow(Rule::{}, \"why\");\n",
                    f.rule.rust_name()
                ));
            }
        }
    }
    for w in &plan.warnings {
        s.push_str(&format!("  warning: {w}\n"));
    }
}

/// `allowed[drop-column] #3 drop_column("users", "legacy"): <reason>`, as `plan` and `status`
/// show an allowed finding.
pub(crate) fn allowance_line(f: &Finding) -> String {
    format!(
        "allowed[{}] #{} {}: {}",
        f.rule,
        f.operation.0 + 1,
        f.operation.1,
        f.allowed.as_deref().unwrap_or_default()
    )
}

/// Why the migration cannot be rolled back, without the migration's name (the plan shows it).
fn irreversible_reason(cx: &Context<'_>, plan: &MigrationPlan) -> Option<String> {
    let reason = plan.reversible.as_ref().err()?;
    let prefix = format!("migration {} (down)", plan.id);
    let reason = match reason.strip_prefix(&prefix) {
        Some(rest) => rest
            .strip_prefix(": ")
            .or_else(|| rest.strip_prefix(", "))
            .unwrap_or(rest),
        None => reason,
    };
    let reason = reason
        .strip_prefix("cannot be rolled back: ")
        .unwrap_or(reason);
    Some(cx.shorten(reason))
}

/// `lock 5s, statement 1h, 3 lock retries`, marking the settings the migration makes itself.
fn timeouts_text(own: Timeouts, defaults: Timeouts) -> String {
    let mark = |set: bool| if set { " (set by the migration)" } else { "" };
    let effective = own.or(defaults);
    let mut parts = Vec::new();
    if let Some(lock) = effective.lock {
        parts.push(format!("lock {}{}", limit(lock), mark(own.lock.is_some())));
    }
    if let Some(statement) = effective.statement {
        parts.push(format!(
            "statement {}{}",
            limit(statement),
            mark(own.statement.is_some())
        ));
    }
    if let Some(retries) = effective.lock_retries {
        let n = match retries {
            0 => "no lock retries".to_string(),
            1 => "1 lock retry".to_string(),
            n => format!("{n} lock retries"),
        };
        parts.push(format!("{n}{}", mark(own.lock_retries.is_some())));
    }
    if parts.is_empty() {
        "the database's own".to_string()
    } else {
        parts.join(", ")
    }
}

/// `5s`, `1h`, `90s`, `250ms`, or `no limit` for zero.
fn limit(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "no limit".to_string(),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}min", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What the summary counts.
#[derive(Default)]
struct Totals {
    additive: usize,
    destructive: usize,
    unknown: usize,
    unsafe_findings: usize,
    allowed: usize,
    irreversible: usize,
}

fn totals(plans: &[MigrationPlan]) -> Totals {
    let mut t = Totals::default();
    for p in plans {
        match p.change {
            ChangeKind::Additive => t.additive += 1,
            ChangeKind::Destructive => t.destructive += 1,
            ChangeKind::Unknown => t.unknown += 1,
        }
        t.allowed += p.findings.iter().filter(|f| f.allowed.is_some()).count();
        t.unsafe_findings += p.findings.iter().filter(|f| f.is_unsafe()).count();
        t.irreversible += usize::from(p.reversible.is_err());
    }
    t
}

/// The counts, then when to apply the migrations relative to the code deploy.
fn summary_text(plans: &[MigrationPlan]) -> String {
    let t = totals(plans);
    let mut s = format!(
        "{}: {} additive, {} destructive, {} unknown; {}, {} allowed; {} irreversible\n",
        count(plans.len(), "migration", "migrations"),
        t.additive,
        t.destructive,
        t.unknown,
        count(t.unsafe_findings, "unsafe finding", "unsafe findings"),
        t.allowed,
        t.irreversible,
    );
    s.push_str(&format!("order: {}\n", order_hint(plans)));
    if t.unsafe_findings > 0 {
        s.push_str(
            "unsafe: do each the safe way shown, or allow it with a written reason; `lint` fails \
             until then\n",
        );
    }
    s
}

/// When to apply the migrations relative to the code deploy: additive ones before it,
/// destructive ones after it.
fn order_hint(plans: &[MigrationPlan]) -> String {
    let versions = |kind: ChangeKind| -> Vec<String> {
        plans
            .iter()
            .filter(|p| p.change == kind)
            .map(|p| p.id.version.to_string())
            .collect()
    };
    let destructive = versions(ChangeKind::Destructive);
    let unknown = versions(ChangeKind::Unknown);
    let mut hint = match plans
        .iter()
        .position(|p| p.change == ChangeKind::Destructive)
    {
        None => "apply them before deploying the code that uses them".to_string(),
        Some(first) => {
            let them = if destructive.len() == 1 { "it" } else { "them" };
            let after = format!(
                "the code that stops using what {} {} is deployed",
                if destructive.len() == 1 { "it" } else { "they" },
                if destructive.len() == 1 {
                    "removes"
                } else {
                    "remove"
                }
            );
            let mut hint = match first.checked_sub(1).map(|i| &plans[i]) {
                Some(before) => format!(
                    "apply up to {} (`up --to {}`) before the code deploy; apply the destructive {} \
                     ({}) only after {after}",
                    before.id,
                    before.id.version,
                    if destructive.len() == 1 {
                        "migration"
                    } else {
                        "migrations"
                    },
                    destructive.join(", ")
                ),
                None => format!(
                    "the destructive {} ({}) {} first: apply {them} only after {after}",
                    if destructive.len() == 1 {
                        "migration"
                    } else {
                        "migrations"
                    },
                    destructive.join(", "),
                    if destructive.len() == 1 { "is" } else { "come" },
                ),
            };
            let later = plans[first..]
                .iter()
                .filter(|p| p.change != ChangeKind::Destructive)
                .count();
            if later > 0 {
                hint.push_str(&format!(
                    "; the {} after {} then wait{} for the code deploy too",
                    count(later, "other migration", "other migrations"),
                    plans[first].id.version,
                    if later == 1 { "s" } else { "" }
                ));
            }
            hint
        }
    };
    if !unknown.is_empty() {
        hint.push_str(&format!(
            "; review the raw SQL or Rust code of {} to decide where {} go{}",
            unknown.join(", "),
            if unknown.len() == 1 { "it" } else { "they" },
            if unknown.len() == 1 { "es" } else { "" }
        ));
    }
    hint
}

fn to_json(
    cx: &Context<'_>,
    target: &Target,
    plans: &[MigrationPlan],
    defaults: Timeouts,
) -> serde_json::Value {
    let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as u64);
    let migrations: Vec<_> = plans
        .iter()
        .map(|p| {
            let effective = p.timeouts.or(defaults);
            let own: Vec<&str> = [
                ("lock", p.timeouts.lock.is_some()),
                ("statement", p.timeouts.statement.is_some()),
                ("lock_retries", p.timeouts.lock_retries.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
            let steps: Vec<_> = p
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| {
                    json!({
                        "step": i + 1,
                        "operation": step.operation,
                        "sql": step.sql,
                        "locks": step.locks,
                        "change": step.change.as_str(),
                    })
                })
                .collect();
            let findings: Vec<_> = p
                .findings
                .iter()
                .map(|f| {
                    json!({
                        "rule": f.rule.code(),
                        "step": f.operation.0 + 1,
                        "operation": f.operation.1,
                        "risk": f.risk,
                        "safe": f.safe,
                        "allowed": f.allowed.is_some(),
                        "reason": f.allowed,
                        "note": f.note,
                        "table": f.table.as_ref().map(|(t, size)| json!({
                            "name": t,
                            "rows": size.rows,
                            "bytes": size.bytes,
                        })),
                    })
                })
                .collect();
            json!({
                "version": p.id.version,
                "name": p.id.name,
                "transactional": p.transactional,
                "in_parts": p.in_parts,
                "change": p.change.as_str(),
                "reversible": p.reversible.is_ok(),
                "irreversible_reason": irreversible_reason(cx, p),
                "timeouts": {
                    "lock_ms": ms(effective.lock),
                    "statement_ms": ms(effective.statement),
                    "lock_retries": effective.lock_retries,
                    "set_by_migration": own,
                },
                "steps": steps,
                "findings": findings,
                "warnings": p.warnings,
            })
        })
        .collect();
    let t = totals(plans);
    json!({
        "backend": target.backend.as_str(),
        "database": target.database,
        "migrations": migrations,
        "summary": {
            "migrations": plans.len(),
            "additive": t.additive,
            "destructive": t.destructive,
            "unknown": t.unknown,
            "unsafe": t.unsafe_findings,
            "allowed": t.allowed,
            "irreversible": t.irreversible,
            "order": if plans.is_empty() { None } else { Some(order_hint(plans)) },
        },
    })
}
