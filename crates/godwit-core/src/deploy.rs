//! The deploy plan: for each migration about to run, its SQL, transaction mode, the locks each
//! operation takes, lint findings and allowances, reversibility, and whether the change is
//! additive (deploy it before the code that uses it) or destructive (after the code stops
//! using what it removes). The pre-deployment checklist, computed.

use crate::error::Error;
use crate::lint::Finding;
use crate::migration::MigrationId;
use crate::model::SchemaModel;
use crate::op::{ObjectKind, Op};
use crate::plan::Catalog;
use crate::render;
use crate::types::{Algorithm, Backend, Lock};

/// When to deploy a change relative to the application code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Adds or relaxes: deploy it before the code that uses it.
    Additive,
    /// Removes, renames or tightens: deploy it after the code stops relying on what it changes.
    Destructive,
    /// Raw SQL: godwit cannot tell.
    Unknown,
}

impl ChangeKind {
    /// `additive`, `destructive` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Additive => "additive",
            ChangeKind::Destructive => "destructive",
            ChangeKind::Unknown => "unknown",
        }
    }

    fn of(op: &Op) -> ChangeKind {
        match op {
            Op::CreateTable(_)
            | Op::AddColumn { .. }
            | Op::CreateIndex { .. }
            | Op::RenameIndex { .. }
            | Op::SetDefault { .. }
            | Op::DropNotNull { .. }
            | Op::DropForeignKey { .. }
            | Op::DropCheck { .. }
            | Op::DropUnique { .. }
            | Op::ValidateConstraint { .. }
            | Op::AddUniqueUsingIndex { .. }
            | Op::CreateObject(_)
            | Op::RefreshMaterializedView { .. }
            | Op::CreateEnum { .. }
            | Op::AddEnumValue { .. }
            | Op::CreateSchema { .. }
            | Op::CommentOnTable { .. }
            | Op::CommentOnColumn { .. }
            | Op::Insert(_)
            | Op::Backfill(_)
            | Op::CopyRows(_) => ChangeKind::Additive,
            Op::DropTable { .. }
            | Op::RenameTable { .. }
            | Op::DropColumn { .. }
            | Op::RenameColumn { .. }
            | Op::ChangeColumnType { .. }
            | Op::DropDefault { .. }
            | Op::SetNotNull { .. }
            | Op::DropIndex { .. }
            | Op::AddForeignKey { .. }
            | Op::AddCheck { .. }
            | Op::AddUnique { .. }
            | Op::DropObject { .. }
            | Op::ReplaceView { .. }
            | Op::RemoveEnumValue { .. }
            | Op::DropEnum { .. }
            | Op::DropSchema { .. }
            | Op::Update(_)
            | Op::Delete(_) => ChangeKind::Destructive,
            Op::Sql(_) | Op::Run(_) => ChangeKind::Unknown,
        }
    }
}

/// One operation of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    /// The operation, as in errors: `add_column("posts", "views")`.
    pub operation: String,
    /// Its statements, values inline.
    pub sql: Vec<String>,
    /// The locks it takes: `ACCESS EXCLUSIVE on posts` (PostgreSQL lock levels).
    pub locks: Vec<String>,
    /// Whether the operation is additive, destructive or unknown, for when to deploy it.
    pub change: ChangeKind,
}

/// One migration of the plan.
#[derive(Debug, Clone)]
pub struct MigrationPlan {
    /// The migration's version and name.
    pub id: MigrationId,
    /// False when it runs outside a transaction (a `concurrently()` index).
    pub transactional: bool,
    /// It has batched steps (`backfill`, `copy_rows`): it runs in parts, each batched step
    /// outside any transaction.
    pub in_parts: bool,
    /// Its operations, in the order they run.
    pub steps: Vec<PlanStep>,
    /// Lint findings, allowed ones with their reason.
    pub findings: Vec<Finding>,
    /// `Ok` when its `down` renders, else why it cannot be rolled back.
    pub reversible: Result<(), String>,
    /// Destructive if any step is, else unknown if any step is raw SQL, else additive.
    pub change: ChangeKind,
    /// What a reviewer should know about its statements.
    pub warnings: Vec<String>,
    /// The migration's own timeouts and lock retries (the runner's defaults fill in the rest).
    pub timeouts: crate::types::Timeouts,
}

fn on(level: &str, table: &str) -> String {
    format!("{level} on {table}")
}

/// The locks `op` takes on `backend`, given the schema before it. `online` is the MySQL
/// `ALGORITHM` and `LOCK` its statements carry (`s.mysql_online`), if they carry them.
fn locks(
    backend: Backend,
    before: &SchemaModel,
    op: &Op,
    online: Option<(Algorithm, Lock)>,
) -> Vec<String> {
    match backend {
        Backend::Sqlite => return vec!["the database write lock".into()],
        Backend::MySql => {
            return match op {
                Op::Insert(i) => vec![format!("row locks on {}", i.table)],
                Op::Update(u) => vec![format!("row locks on {}", u.table)],
                Op::Delete(d) => vec![format!("row locks on {}", d.table)],
                Op::Sql(_) => vec!["unknown (raw SQL)".into()],
                Op::Run(_) => vec!["unknown (Rust code)".into()],
                Op::Backfill(b) => vec![format!("row locks on {}, one batch at a time", b.table)],
                Op::CopyRows(c) => vec![format!(
                    "row locks on {}, one batch at a time; {} is read",
                    c.to, c.from
                )],
                Op::ValidateConstraint { .. } => vec![],
                Op::CreateTable(t) => {
                    let mut out = vec![format!("metadata lock on {} (new, empty)", t.name)];
                    let mut targets: Vec<&str> = t
                        .foreign_keys
                        .iter()
                        .map(|f| f.ref_table.as_str())
                        .filter(|r| *r != t.name)
                        .collect();
                    targets.dedup();
                    out.extend(
                        targets
                            .into_iter()
                            .map(|r| format!("metadata lock on {r} (referenced)")),
                    );
                    out
                }
                Op::DropTable { table } => vec![format!("exclusive metadata lock on {table}")],
                // Each column of the type is modified.
                Op::AddEnumValue { name, .. } | Op::RemoveEnumValue { name, .. } => {
                    enum_tables(before, name)
                        .into_iter()
                        .map(|t| format!("metadata lock on {t} (each column of enum {name} modified)"))
                        .collect()
                }
                Op::CreateObject(o) if o.kind != ObjectKind::Trigger => vec![],
                Op::DropObject { .. }
                | Op::ReplaceView { .. }
                | Op::RefreshMaterializedView { .. }
                | Op::CreateEnum { .. }
                | Op::DropEnum { .. }
                | Op::CreateSchema { .. }
                | Op::DropSchema { .. } => vec![],
                _ => crate::lint::op_table(op)
                    .map(|t| match online {
                        Some((Algorithm::Copy, lock)) => vec![format!(
                            "metadata lock on {t} (ALGORITHM=COPY, LOCK={}: MySQL copies the table, and {} wait until the copy is done)",
                            lock.sql(),
                            match lock {
                                Lock::None => "nothing else needs to",
                                Lock::Shared => "writes",
                                Lock::Exclusive => "reads and writes",
                            }
                        )],
                        Some((algorithm, lock)) => vec![format!(
                            "metadata lock on {t} (ALGORITHM={}, LOCK={}: MySQL refuses the statement rather than copy the table or lock it harder)",
                            algorithm.sql(),
                            lock.sql()
                        )],
                        None => vec![format!(
                            "metadata lock on {t} (and a copy or write lock unless ALGORITHM/LOCK say otherwise)"
                        )],
                    })
                    .unwrap_or_default(),
            };
        }
        Backend::Postgres => {}
    }
    const AX: &str = "ACCESS EXCLUSIVE";
    const SRX: &str = "SHARE ROW EXCLUSIVE";
    const SUX: &str = "SHARE UPDATE EXCLUSIVE";
    let fk_targets = |table: &str| -> Vec<String> {
        before
            .tables
            .get(table)
            .map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|f| f.ref_table != table)
                    .map(|f| on(SRX, &f.ref_table))
                    .collect()
            })
            .unwrap_or_default()
    };
    match op {
        Op::CreateTable(t) => {
            let mut out = vec![format!("{AX} on {} (new, empty)", t.name)];
            let mut targets: Vec<&str> = t
                .foreign_keys
                .iter()
                .map(|f| f.ref_table.as_str())
                .filter(|r| *r != t.name)
                .collect();
            targets.dedup();
            out.extend(targets.into_iter().map(|r| on(SRX, r)));
            out
        }
        Op::DropTable { table } => {
            let mut out = vec![on(AX, table)];
            out.extend(fk_targets(table));
            out
        }
        Op::CreateIndex { table, index } if index.is_concurrent => vec![on(SUX, table)],
        Op::CreateIndex { table, .. } => vec![on("SHARE", table)],
        Op::DropIndex {
            table,
            concurrently: true,
            ..
        } => vec![on(SUX, table)],
        Op::RenameIndex { table, .. } => vec![on(SUX, table)],
        Op::AddForeignKey { table, foreign_key } => {
            let mut out = vec![on(SRX, table)];
            if foreign_key.ref_table != *table {
                out.push(on(SRX, &foreign_key.ref_table));
            }
            out
        }
        Op::DropForeignKey { table, name } => {
            let mut out = vec![on(AX, table)];
            if let Some(fk) = before
                .tables
                .get(table)
                .and_then(|t| t.foreign_keys.iter().find(|f| &f.name == name))
                .filter(|fk| &fk.ref_table != table)
            {
                out.push(on(SRX, &fk.ref_table));
            }
            out
        }
        Op::ValidateConstraint { table, name } => {
            let mut out = vec![on(SUX, table)];
            if let Some(fk) = before
                .tables
                .get(table)
                .and_then(|t| t.foreign_keys.iter().find(|f| &f.name == name))
                .filter(|fk| &fk.ref_table != table)
            {
                out.push(on("ROW SHARE", &fk.ref_table));
            }
            out
        }
        Op::Insert(i) => vec![on("ROW EXCLUSIVE", &i.table)],
        Op::Update(u) => vec![on("ROW EXCLUSIVE", &u.table)],
        Op::Delete(d) => vec![on("ROW EXCLUSIVE", &d.table)],
        Op::Sql(_) => vec!["unknown (raw SQL)".into()],
        Op::Run(_) => vec!["unknown (Rust code)".into()],
        Op::CreateObject(o) => match o.kind {
            ObjectKind::Trigger => o.tables.iter().map(|t| on(SRX, t)).collect(),
            ObjectKind::MaterializedView => o
                .tables
                .iter()
                .map(|t| format!("ACCESS SHARE on {t} (read whole, to fill the view)"))
                .collect(),
            _ => vec![],
        },
        Op::DropObject { kind, name } => match kind {
            ObjectKind::View | ObjectKind::MaterializedView => vec![on(AX, name)],
            ObjectKind::Trigger => before
                .declared(*kind, name)
                .map(|o| o.tables.iter().map(|t| on(AX, t)).collect())
                .unwrap_or_default(),
            _ => vec![],
        },
        Op::ReplaceView { name, .. } | Op::RefreshMaterializedView { name } => {
            vec![on(AX, name)]
        }
        Op::CreateEnum { .. }
        | Op::DropEnum { .. }
        | Op::AddEnumValue { .. }
        | Op::CreateSchema { .. }
        | Op::DropSchema { .. } => vec![],
        // The type is made again and each column of it converted: a rewrite.
        Op::RemoveEnumValue { name, .. } => enum_tables(before, name)
            .into_iter()
            .map(|t| format!("{AX} on {t} (rewritten)"))
            .collect(),
        Op::CommentOnTable { table, .. } | Op::CommentOnColumn { table, .. } => {
            vec![on(SUX, table)]
        }
        Op::Backfill(b) => vec![format!(
            "ROW EXCLUSIVE on {}, one batch at a time, outside the schema transaction",
            b.table
        )],
        Op::CopyRows(c) => vec![
            format!(
                "ROW EXCLUSIVE on {}, one batch at a time, outside the schema transaction",
                c.to
            ),
            on("ACCESS SHARE", &c.from),
        ],
        _ => crate::lint::op_table(op)
            .map(|t| vec![on(AX, t)])
            .unwrap_or_default(),
    }
}

/// The tables with a column of enum `name`, each once.
fn enum_tables(before: &SchemaModel, name: &str) -> Vec<String> {
    let mut tables: Vec<String> = before
        .enum_columns(name)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    tables.dedup();
    tables
}

impl Catalog {
    /// The deploy plan of the migrations in `versions` (all when `None`), oldest first.
    pub fn deploy_plan(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
    ) -> Result<Vec<MigrationPlan>, Error> {
        self.deploy_plan_live(backend, versions, None)
    }

    /// [`Catalog::deploy_plan`] with the live database's context for its findings (see
    /// [`Catalog::lint_live`]).
    pub fn deploy_plan_live(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
        live: Option<&crate::lint::LiveContext>,
    ) -> Result<Vec<MigrationPlan>, Error> {
        // What the plan takes from `render_up`, its statements dropped now: kept through the
        // folds below, the SQL of every migration made each of them slower as the history grew.
        let rendered: Vec<(bool, Vec<String>, crate::Timeouts)> = self
            .render_up(backend, versions)?
            .into_iter()
            .map(|m| (m.transactional, m.warnings, m.timeouts))
            .collect();
        let findings = self.lint_live(backend, versions, live)?;
        let mut reversibility = self.reversibility(backend, versions)?.into_iter();
        // The findings of each migration, by version.
        let mut by_migration: std::collections::HashMap<u64, Vec<crate::lint::Finding>> =
            std::collections::HashMap::new();
        for f in findings {
            by_migration.entry(f.migration.version).or_default().push(f);
        }
        let wanted_set: Option<std::collections::HashSet<u64>> =
            versions.map(|vs| vs.iter().copied().collect());
        let mut model = SchemaModel::default();
        // The same schema, one operation ahead while an operation renders.
        let mut twin = SchemaModel::default();
        let mut plans = Vec::new();
        let mut rendered = rendered.into_iter();
        for entry in self.entries() {
            let wanted = wanted_set
                .as_ref()
                .is_none_or(|vs| vs.contains(&entry.id.version));
            if !wanted {
                for op in &entry.up.ops {
                    model.apply(op).map_err(|e| self.op_error(entry, op, e))?;
                    twin.apply(op).map_err(|e| self.op_error(entry, op, e))?;
                }
                continue;
            }
            let Some((transactional, warnings, timeouts)) = rendered.next() else {
                break;
            };
            let mut steps = Vec::new();
            for op in &entry.up.ops {
                twin.apply(op).map_err(|e| self.op_error(entry, op, e))?;
                let mut out = render::render_op(backend, &model, &twin, op)
                    .map_err(|e| self.op_error(entry, op, e))?;
                // The statements exactly as `render_up` writes them, `ALGORITHM` and `LOCK`
                // included.
                let mut online = None;
                if let (Backend::MySql, Some((algorithm, lock))) = (backend, entry.up.mysql_online)
                {
                    for s in &mut out.statements {
                        if crate::plan::with_algorithm(s, algorithm, lock) {
                            online = Some((algorithm, lock));
                        }
                    }
                }
                steps.push(PlanStep {
                    operation: op.describe(),
                    sql: out.statements.into_iter().map(|s| s.preview).collect(),
                    locks: locks(backend, &model, op, online),
                    change: ChangeKind::of(op),
                });
                model.apply(op).map_err(|e| self.op_error(entry, op, e))?;
            }
            let reversible = match reversibility.next() {
                Some((version, reversible)) if version == entry.id.version => reversible,
                _ => unreachable!("reversibility lists the same migrations, in order"),
            };
            let kinds: Vec<ChangeKind> = steps.iter().map(|s| s.change).collect();
            let change = if kinds.contains(&ChangeKind::Destructive) {
                ChangeKind::Destructive
            } else if kinds.contains(&ChangeKind::Unknown) {
                ChangeKind::Unknown
            } else {
                ChangeKind::Additive
            };
            plans.push(MigrationPlan {
                id: entry.id.clone(),
                // MySQL/MariaDB commit each DDL statement as it runs.
                transactional: transactional && backend != Backend::MySql,
                in_parts: entry.up.ops.iter().any(Op::is_batched),
                steps,
                findings: by_migration.remove(&entry.id.version).unwrap_or_default(),
                reversible,
                change,
                warnings,
                timeouts,
            });
        }
        Ok(plans)
    }

    fn op_error(
        &self,
        entry: &crate::plan::Entry,
        op: &Op,
        e: impl Into<crate::error::ErrorKind>,
    ) -> Error {
        let operation = entry
            .up
            .ops
            .iter()
            .position(|o| std::ptr::eq(o, op))
            .unwrap_or(0);
        Error {
            migration: entry.id.clone(),
            direction: "up",
            operation: Some((operation, op.describe())),
            kind: e.into(),
        }
    }
}
