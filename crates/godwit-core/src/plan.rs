//! The catalog: every migration's recorded plans, folded in version order into the schema
//! model, validated, reversed and rendered.

use crate::error::{Error, ErrorKind};
use crate::migration::{Migration, MigrationId};
use crate::model::SchemaModel;
use crate::op::{Op, TableDef};
use crate::render::{self, Statement};
use crate::reverse;
use crate::schema::{Plan, Schema};
use crate::types::{Algorithm, Backend, Lock, Timeouts};

/// One migration's recorded `up` and `down`.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The migration's version and name.
    pub id: MigrationId,
    /// What `up` recorded.
    pub up: Plan,
    /// What `down` recorded; `derive_down` set means "reverse `up`".
    pub down: Plan,
}

/// The tables an operation can change, and everything else of a model it can change, as they
/// stand at one point ([`Catalog::reversibility`]).
struct Snapshot {
    tables: Vec<(String, Option<crate::op::TableDef>)>,
    objects: Vec<crate::op::DeclaredObject>,
    enums: std::collections::BTreeMap<String, Vec<String>>,
    schemas: std::collections::BTreeSet<String>,
}

impl Snapshot {
    fn of(model: &SchemaModel, touched: &std::collections::BTreeSet<String>) -> Snapshot {
        Snapshot {
            tables: touched
                .iter()
                .map(|n| (n.clone(), model.tables.get(n).cloned()))
                .collect(),
            objects: model.objects.clone(),
            enums: model.enums.clone(),
            schemas: model.schemas.clone(),
        }
    }

    /// [`Snapshot::restore`], moving what it kept.
    fn restore_into(self, model: &mut SchemaModel, touched: &std::collections::BTreeSet<String>) {
        for (name, table) in self.tables {
            match table {
                Some(t) => {
                    model.tables.insert(name, t);
                }
                None => {
                    model.tables.remove(&name);
                }
            }
        }
        model.objects = self.objects;
        model.enums = self.enums;
        model.schemas = self.schemas;
        for name in touched {
            model.reindex_table(name);
        }
    }

    /// Put `model` back as it stood, the names of the touched tables indexed again.
    fn restore(&self, model: &mut SchemaModel, touched: &std::collections::BTreeSet<String>) {
        for (name, table) in &self.tables {
            match table {
                Some(t) => {
                    model.tables.insert(name.clone(), t.clone());
                }
                None => {
                    model.tables.remove(name);
                }
            }
        }
        model.objects.clone_from(&self.objects);
        model.enums.clone_from(&self.enums);
        model.schemas.clone_from(&self.schemas);
        for name in touched {
            model.reindex_table(name);
        }
    }
}

/// What [`Catalog::schema_names`] finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaNames {
    /// The schemas `create_schema` makes (or `drop_schema` drops).
    pub created: Vec<String>,
    /// Those, and every schema a name (`schema.name`) names.
    pub named: Vec<String>,
    /// Every table, view, type and function named with a schema.
    pub qualified: Vec<String>,
    /// The first migration that names each of those, and makes or drops each schema.
    pub first: std::collections::BTreeMap<String, MigrationId>,
}

/// The SQL of one migration in one direction, for one backend.
#[derive(Debug, Clone)]
pub struct RenderedMigration {
    /// The migration's version and name.
    pub id: MigrationId,
    /// `up` or `down`.
    pub direction: &'static str,
    /// The statements, in the order they run.
    pub statements: Vec<Statement>,
    /// False when an operation cannot run in a transaction (`concurrently()` indexes).
    pub transactional: bool,
    /// SQLite table rebuilds need `PRAGMA foreign_keys = OFF` around the migration's transaction.
    pub foreign_keys_off: bool,
    /// Things a reviewer should know: data a rollback cannot bring back, ...
    pub warnings: Vec<String>,
    /// The migration's own timeouts (`down` falls back to those of `up`).
    pub timeouts: Timeouts,
}

/// All migrations, recorded and ordered by version.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<Entry>,
}

impl Catalog {
    /// Record every migration's `up` and `down`, ordered by version.
    pub fn new<'a>(migrations: impl IntoIterator<Item = (MigrationId, &'a dyn Migration)>) -> Self {
        let mut entries: Vec<Entry> = migrations
            .into_iter()
            .map(|(id, m)| Entry {
                up: record(&id, "up", |s| m.up(s)),
                down: record(&id, "down", |s| m.down(s)),
                id,
            })
            .collect();
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        Catalog { entries }
    }

    /// The migrations, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The PostgreSQL schemas the migrations name, at any version (`up` and `down`): those
    /// `create_schema` makes or `drop_schema` drops, and those of every table, view, type and
    /// function named `schema.name`; with those names. Read by a scan of the operations, no
    /// fold.
    pub fn schema_names(&self) -> SchemaNames {
        let mut created = std::collections::BTreeSet::new();
        let mut qualified = std::collections::BTreeSet::new();
        let mut first = std::collections::BTreeMap::new();
        for e in &self.entries {
            for op in e.up.ops.iter().chain(&e.down.ops) {
                if let Op::CreateSchema { name } | Op::DropSchema { name } = op {
                    created.insert(name.clone());
                    first.entry(name.clone()).or_insert_with(|| e.id.clone());
                }
                for n in crate::render::names_in_schemas(op) {
                    if n.contains('.') {
                        qualified.insert(n.to_string());
                        first.entry(n.to_string()).or_insert_with(|| e.id.clone());
                    }
                }
            }
        }
        let mut named = created.clone();
        named.extend(
            qualified
                .iter()
                .filter_map(|n| crate::types::split_schema(n).0.map(str::to_string)),
        );
        SchemaNames {
            created: created.into_iter().collect(),
            named: named.into_iter().collect(),
            qualified: qualified.into_iter().collect(),
            first,
        }
    }

    /// The migrations older than `version`.
    pub(crate) fn before(&self, version: u64) -> Catalog {
        Catalog {
            entries: self
                .entries
                .iter()
                .filter(|e| e.id.version < version)
                .cloned()
                .collect(),
        }
    }

    fn position(&self, version: u64) -> Result<usize, Error> {
        // Entries are ordered by version.
        self.entries
            .binary_search_by_key(&version, |e| e.id.version)
            .ok()
            .ok_or_else(|| Error {
                migration: MigrationId {
                    version,
                    name: "(no such version)".into(),
                },
                direction: "up",
                operation: None,
                kind: ErrorKind::UnknownVersion(version),
            })
    }

    fn check_versions(&self, versions: Option<&[u64]>) -> Result<(), Error> {
        for v in versions.unwrap_or_default() {
            self.position(*v)?;
        }
        Ok(())
    }

    /// The schema after every migration up to and including `version` (all when `None`).
    pub fn model(&self, version: Option<u64>) -> Result<SchemaModel, Error> {
        let end = match version {
            Some(v) => self.position(v)? + 1,
            None => self.entries.len(),
        };
        let mut model = SchemaModel::default();
        for entry in &self.entries[..end] {
            apply_plan(&mut model, &entry.id, "up", &entry.up)?;
        }
        Ok(model)
    }

    /// The SQL of `up` for the migrations in `versions` (every migration when `None`), oldest
    /// first. Every earlier migration is folded into the model and validated on the way.
    pub fn render_up(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
    ) -> Result<Vec<RenderedMigration>, Error> {
        self.check_versions(versions)?;
        let mut model = SchemaModel::default();
        // The same schema, one operation ahead while an operation renders (see `render_plan`).
        let mut twin = SchemaModel::default();
        let mut out = Vec::new();
        // Nothing after the newest wanted migration matters to them (nor can it fail them).
        let last = versions.map(|vs| vs.iter().copied().max().unwrap_or(0));
        let wanted_set = Wanted::new(versions);
        for entry in &self.entries {
            if last.is_some_and(|last| entry.id.version > last) {
                break;
            }
            let wanted = wanted_set.has(entry.id.version);
            if wanted {
                recording_errors(&entry.id, "up", &entry.up)?;
                out.push(render_plan(
                    &mut model,
                    &mut twin,
                    backend,
                    &entry.id,
                    "up",
                    &entry.up.ops,
                    entry.up.mysql_online,
                )?);
                out.last_mut().expect("just pushed").timeouts = entry.up.timeouts;
            } else {
                apply_plan(&mut model, &entry.id, "up", &entry.up)?;
                apply_plan(&mut twin, &entry.id, "up", &entry.up)?;
            }
        }
        Ok(out)
    }

    /// [`render_up`](Self::render_up) as an earlier godwit rendered: what history's checksums
    /// of migrations applied then were computed from, so that those migrations stay `applied`.
    pub fn render_up_earlier(
        &self,
        rendering: crate::render::EarlierRendering,
        backend: Backend,
        versions: Option<&[u64]>,
    ) -> Result<Vec<RenderedMigration>, Error> {
        crate::render::earlier(rendering, || self.render_up(backend, versions))
    }

    /// The SQL of `down` for the migrations in `versions` (every migration when `None`), newest
    /// first, each rendered against the schema as it stands after that migration.
    pub fn render_down(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
    ) -> Result<Vec<RenderedMigration>, Error> {
        self.check_versions(versions)?;
        let mut model = SchemaModel::default();
        let mut out = Vec::new();
        let wanted_set = Wanted::new(versions);
        for entry in &self.entries {
            // The schema before a migration is kept only for the migrations rendered: cloning it
            // for every migration made rolling back one of 1,000 take a third of a second.
            let wanted = wanted_set.has(entry.id.version);
            let before = wanted.then(|| model.clone());
            apply_plan(&mut model, &entry.id, "up", &entry.up)?;
            if let Some(before) = before {
                let down = self.down_ops(entry, &before)?;
                let mut after = model.clone();
                let mut twin = model.clone();
                let online = entry.down.mysql_online.or(entry.up.mysql_online);
                out.push(render_plan(
                    &mut after, &mut twin, backend, &entry.id, "down", &down.0, online,
                )?);
                let rendered = out.last_mut().expect("just pushed");
                rendered.warnings.extend(down.1);
                rendered.timeouts = entry.down.timeouts.or(entry.up.timeouts);
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Whether the `down` of each migration in `versions` (every one when `None`) renders for
    /// `backend`: `Ok`, or why not. What [`render_down`](Self::render_down) of each alone
    /// would say, in one pass: each migration's down is rendered against the schema itself
    /// (kept in two copies one operation apart, as `render_up` does), and the tables it touched
    /// are put back as its up left them (or, when the down could not be derived, as they were
    /// before, and the up applied again), so that no migration clones the whole schema (which
    /// made `plan --all` cubic in the number of migrations).
    pub fn reversibility(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
    ) -> Result<Vec<(u64, Reversible)>, Error> {
        self.check_versions(versions)?;
        let wanted_set = Wanted::new(versions);
        let mut model = SchemaModel::default();
        let mut twin = SchemaModel::default();
        let mut out = Vec::new();
        for entry in &self.entries {
            if !wanted_set.has(entry.id.version) {
                apply_plan(&mut model, &entry.id, "up", &entry.up)?;
                apply_plan(&mut twin, &entry.id, "up", &entry.up)?;
                continue;
            }
            // What the up and the down can change: the tables they name, and with a rename
            // (of a table or a column), the tables whose foreign keys point at one of them.
            let ops = || entry.up.ops.iter().chain(entry.down.ops.iter());
            let mut touched: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            for op in ops() {
                touched.extend(op_tables(op).into_iter().map(str::to_string));
            }
            // A change of an enum's values changes every column of it.
            for op in ops() {
                if let Op::AddEnumValue { name, .. } | Op::RemoveEnumValue { name, .. } = op {
                    touched.extend(model.enum_columns(name).into_iter().map(|(t, _)| t));
                }
            }
            if ops().any(|op| matches!(op, Op::RenameTable { .. } | Op::RenameColumn { .. })) {
                for t in model.tables.values() {
                    if t.foreign_keys
                        .iter()
                        .any(|f| touched.contains(&f.ref_table))
                    {
                        touched.insert(t.name.clone());
                    }
                }
            }
            let saved: Vec<(String, Option<crate::op::TableDef>)> = touched
                .iter()
                .map(|n| (n.clone(), model.tables.get(n).cloned()))
                .collect();
            let saved_objects = model.objects.clone();
            let saved_enums = model.enums.clone();
            let saved_schemas = model.schemas.clone();
            // What the touched tables and the objects are after `up`, once it applied: put back
            // after the down rendered, rather than applying `up` again to both models.
            let mut after: Option<Snapshot> = None;
            let result = (|| {
                let down = self.down_ops_advancing(entry, &mut model)?;
                apply_plan(&mut twin, &entry.id, "up", &entry.up)?;
                after = Some(Snapshot::of(&model, &touched));
                let online = entry.down.mysql_online.or(entry.up.mysql_online);
                render_plan(
                    &mut model, &mut twin, backend, &entry.id, "down", &down.0, online,
                )
                .map(|_| ())
            })();
            if let Some(after) = after {
                after.restore(&mut twin, &touched);
                after.restore_into(&mut model, &touched);
                out.push((entry.id.version, result.map_err(|e| e.to_string())));
                continue;
            }
            for m in [&mut model, &mut twin] {
                for (name, table) in &saved {
                    match table {
                        Some(t) => {
                            m.tables.insert(name.clone(), t.clone());
                        }
                        None => {
                            m.tables.remove(name);
                        }
                    }
                }
                m.objects = saved_objects.clone();
                m.enums = saved_enums.clone();
                m.schemas = saved_schemas.clone();
                for name in &touched {
                    m.reindex_table(name);
                }
                apply_plan(m, &entry.id, "up", &entry.up)?;
            }
            out.push((entry.id.version, result.map_err(|e| e.to_string())));
        }
        Ok(out)
    }

    /// The operations of `entry`'s down, given the schema before its up, and warnings.
    fn down_ops(
        &self,
        entry: &Entry,
        before: &SchemaModel,
    ) -> Result<(Vec<Op>, Vec<String>), Error> {
        let mut model = before.clone();
        self.down_ops_advancing(entry, &mut model)
    }

    /// [`down_ops`](Self::down_ops) on `model`, the schema before `entry`'s up, which it leaves
    /// somewhere between that and the schema after the up.
    fn down_ops_advancing(
        &self,
        entry: &Entry,
        model: &mut SchemaModel,
    ) -> Result<(Vec<Op>, Vec<String>), Error> {
        let err = |operation, kind| Error {
            migration: entry.id.clone(),
            direction: "down",
            operation,
            kind,
        };
        if let Some(reason) = entry
            .up
            .irreversible
            .as_ref()
            .or(entry.down.irreversible.as_ref())
        {
            let reason = format!(
                "it is marked irreversible (\"{reason}\"); roll back no further than the migration after it"
            );
            return Err(err(None, ErrorKind::Irreversible { reason }));
        }
        if !entry.down.derive_down {
            recording_errors(&entry.id, "down", &entry.down)?;
            apply_plan(model, &entry.id, "up", &entry.up)?;
            return Ok((entry.down.ops.clone(), Vec::new()));
        }
        let mut inverse = Vec::new();
        let mut warnings = Vec::new();
        // Tables and columns this migration adds: rolling back drops them, and with them
        // whatever a backfill or copy wrote there.
        let mut created: Vec<&str> = Vec::new();
        let mut added: Vec<(&str, &str)> = Vec::new();
        for (i, op) in entry.up.ops.iter().enumerate() {
            match op {
                Op::CreateTable(t) => created.push(&t.name),
                Op::AddColumn { table, column } => added.push((table, &column.name)),
                _ => {}
            }
            let undone_by_rollback = match op {
                Op::Backfill(b) => b.sets.iter().all(|(c, _)| {
                    created.contains(&b.table.as_str())
                        || added.contains(&(b.table.as_str(), c.as_str()))
                }),
                Op::CopyRows(c) => created.contains(&c.to.as_str()),
                _ => false,
            };
            if undone_by_rollback {
                model.apply(op).map_err(|e| Error {
                    migration: entry.id.clone(),
                    direction: "up",
                    operation: Some((i, op.describe())),
                    kind: e.into(),
                })?;
                continue;
            }
            let reversed =
                reverse::inverse(model, op).map_err(|kind| err(Some((i, op.describe())), kind))?;
            warnings.extend(reversed.warnings);
            inverse.push(reversed.ops);
            model.apply(op).map_err(|e| Error {
                migration: entry.id.clone(),
                direction: "up",
                operation: Some((i, op.describe())),
                kind: e.into(),
            })?;
        }
        Ok((inverse.into_iter().rev().flatten().collect(), warnings))
    }
}

thread_local! {
    /// Set while a migration's `up` or `down` records its plan.
    static RECORDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is running a migration's `up` or `down` to record its plan: a panic
/// hook can keep quiet then, since the panic becomes an error of that migration.
pub fn recording_migration() -> bool {
    RECORDING.with(|r| r.get())
}

/// The plan `f` records. A panic in it (migration code is user code) becomes an error of the
/// plan, naming the migration, instead of taking every command down.
fn record(id: &MigrationId, direction: &str, f: impl FnOnce(&mut Schema)) -> Plan {
    let mut schema = Schema::new();
    let before = RECORDING.with(|r| r.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut schema)));
    RECORDING.with(|r| r.set(before));
    match outcome {
        Ok(()) => schema.into_plan(),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            let mut plan = Schema::new().into_plan();
            plan.errors.push(format!(
                "its `{direction}` panicked ({why}): fix the code of m{}_{}_{}.rs",
                &id.version.to_string().get(..8).unwrap_or_default(),
                &id.version.to_string().get(8..).unwrap_or_default(),
                id.name
            ));
            plan
        }
    }
}

fn recording_errors(id: &MigrationId, direction: &'static str, plan: &Plan) -> Result<(), Error> {
    match plan.errors.first() {
        Some(e) => Err(Error {
            migration: id.clone(),
            direction,
            operation: None,
            kind: ErrorKind::Recording(e.clone()),
        }),
        None => Ok(()),
    }
}

fn apply_plan(
    model: &mut SchemaModel,
    id: &MigrationId,
    direction: &'static str,
    plan: &Plan,
) -> Result<(), Error> {
    recording_errors(id, direction, plan)?;
    for (i, op) in plan.ops.iter().enumerate() {
        model.apply(op).map_err(|e| Error {
            migration: id.clone(),
            direction,
            operation: Some((i, op.describe())),
            kind: e.into(),
        })?;
    }
    Ok(())
}

/// Render `ops` against `model`, folding them into it. `twin` must equal `model` on entry and
/// does on exit: each operation is applied to `twin` first, so that the renderer sees the schema
/// before (`model`) and after (`twin`) it without cloning the whole schema per operation (which
/// made rendering 1,000 migrations quadratic).
/// The enum value of `added` that `op` writes into a column of its type, if any: an inserted or
/// set value, or a default.
fn uses_new_enum_value(
    model: &SchemaModel,
    op: &Op,
    added: &[(String, String)],
) -> Option<(String, String)> {
    if added.is_empty() {
        return None;
    }
    let enum_of = |table: &str, column: &str| -> Option<String> {
        match &model.tables.get(table)?.column(column)?.ty {
            crate::types::ColumnType::Enum(e) => Some(e.name.clone()),
            _ => None,
        }
    };
    let hit = |ty_name: Option<String>, holds: &dyn Fn(&str) -> bool| {
        let ty_name = ty_name?;
        added
            .iter()
            .find(|(n, v)| *n == ty_name && holds(v))
            .cloned()
    };
    let is_value = |d: &Option<crate::types::DefaultValue>, v: &str| {
        d.as_ref() == Some(&crate::types::DefaultValue::Value(v.into()))
    };
    let column_enum = |ty: &crate::types::ColumnType| match ty {
        crate::types::ColumnType::Enum(e) => Some(e.name.clone()),
        _ => None,
    };
    let writes = |sql: &str, v: &str| sql.contains(&format!("'{}'", v.replace('\'', "''")));
    match op {
        Op::Insert(i) => i.columns.iter().enumerate().find_map(|(k, c)| {
            hit(enum_of(&i.table, c), &|v| {
                i.rows
                    .iter()
                    .any(|r| r.get(k) == Some(&sea_query::Value::from(v)))
            })
        }),
        Op::Update(u) => u.sets.iter().find_map(|(c, e)| {
            let sql = render::expr_sql(Backend::Postgres, e);
            hit(enum_of(&u.table, c), &|v| writes(&sql, v))
        }),
        Op::Backfill(b) => b.sets.iter().find_map(|(c, e)| {
            let sql = render::expr_sql(Backend::Postgres, e);
            hit(enum_of(&b.table, c), &|v| writes(&sql, v))
        }),
        Op::AddColumn { column, .. } => {
            hit(column_enum(&column.ty), &|v| is_value(&column.default, v))
        }
        Op::SetDefault {
            table,
            column,
            default,
        } => hit(enum_of(table, column), &|v| {
            is_value(&Some(default.clone()), v)
        }),
        Op::CreateTable(t) => t
            .columns
            .iter()
            .find_map(|c| hit(column_enum(&c.ty), &|v| is_value(&c.default, v))),
        _ => None,
    }
}

fn render_plan(
    model: &mut SchemaModel,
    twin: &mut SchemaModel,
    backend: Backend,
    id: &MigrationId,
    direction: &'static str,
    ops: &[Op],
    mysql_online: Option<(Algorithm, Lock)>,
) -> Result<RenderedMigration, Error> {
    let mut rendered = RenderedMigration {
        id: id.clone(),
        direction,
        statements: Vec::new(),
        transactional: true,
        foreign_keys_off: false,
        warnings: Vec::new(),
        timeouts: Timeouts::default(),
    };
    // SQLite: operations on one table that each rebuild it, one after another, rebuild it once.
    let mut shared_rebuild: Option<(usize, TableDef)> = None;
    // PostgreSQL: enum values this migration adds, which its own transaction cannot use.
    let mut added: Vec<(String, String)> = Vec::new();
    let in_transaction = crate::schema::ops_transactional(ops);
    for (i, op) in ops.iter().enumerate() {
        let fail = |kind: ErrorKind| Error {
            migration: id.clone(),
            direction,
            operation: Some((i, op.describe())),
            kind,
        };
        if backend == Backend::Postgres && in_transaction {
            if let Op::AddEnumValue { name, value } = op {
                added.push((name.clone(), value.clone()));
            } else if let Some((name, value)) = uses_new_enum_value(model, op, &added) {
                return Err(fail(
                    crate::error::RenderError::Unsupported {
                        backend,
                        what: format!(
                            "use `{value}`, which this migration adds to enum `{name}`, in the same transaction"
                        ),
                        fix: "PostgreSQL lets a new enum value be used only once the transaction that adds it has committed: use it in the next migration".into(),
                    }
                    .into(),
                ));
            }
        }
        if backend == Backend::Sqlite
            && shared_rebuild.is_none()
            && !render::rendering_rebuild_per_operation()
            && let Some(len) = render::sqlite::rebuild_run(model, &ops[i..])
            && let Some(old) =
                render::sqlite::rebuilt_table(model, op).and_then(|t| model.tables.get(t))
        {
            shared_rebuild = Some((i + len - 1, old.clone()));
        }
        // Validate against the model first, so render sees a consistent schema.
        twin.apply(op).map_err(|e| fail(e.into()))?;
        let mut out = render::render_op(backend, model, twin, op).map_err(|e| fail(e.into()))?;
        // MySQL/MariaDB add a check, or a foreign key while foreign_key_checks is on, only by
        // copying the table: any other ALGORITHM is refused by the server, so it is refused here.
        if backend == Backend::MySql
            && let Some((algorithm, _)) = mysql_online
            && algorithm != Algorithm::Copy
            && let Some(what) = match op {
                Op::AddCheck { .. } => Some("a check constraint"),
                Op::AddForeignKey { .. } => Some("a foreign key"),
                _ => None,
            }
        {
            return Err(fail(
                crate::error::RenderError::Unsupported {
                    backend,
                    what: format!("add {what} with ALGORITHM={}", algorithm.sql()),
                    fix: "MySQL/MariaDB add it only by copying the table (`Try ALGORITHM=COPY`): \
                          write `s.mysql_online(Algorithm::Copy, Lock::Shared)` or no \
                          `mysql_online` for this migration, or add it with the table"
                        .into(),
                }
                .into(),
            ));
        }
        if let Some((last, old)) = &shared_rebuild {
            // Rendered on its own for its errors and warnings; the rebuild after the last one
            // does what they all do.
            out.statements.clear();
            if i == *last {
                let new = twin.table(&old.name).map_err(|e| fail(e.into()))?;
                let rebuilt = render::sqlite::rebuild(old, new).map_err(|e| fail(e.into()))?;
                out.statements = rebuilt.statements;
                out.foreign_keys_off |= rebuilt.foreign_keys_off;
                shared_rebuild = None;
            }
        }
        rendered
            .statements
            .extend(out.statements.into_iter().map(|mut s| {
                if let (Backend::MySql, Some((algorithm, lock))) = (backend, mysql_online) {
                    with_algorithm(&mut s, algorithm, lock);
                }
                s
            }));
        rendered.foreign_keys_off |= out.foreign_keys_off;
        for w in out.warnings {
            if !rendered.warnings.contains(&w) {
                rendered.warnings.push(w);
            }
        }
        if (matches!(op, Op::CreateIndex { index, .. } if index.is_concurrent)
            || matches!(op, Op::DropIndex { concurrently, .. } if *concurrently))
            && backend == Backend::Postgres
        {
            rendered.transactional = false;
        }
        if matches!(op, Op::Sql(raw) if raw.outside_transaction
            || (backend == Backend::Postgres && raw_runs_concurrently(&raw.up)))
        {
            rendered.transactional = false;
        }
        // The same operation on the same schema: it cannot fail where it just succeeded.
        model.apply(op).map_err(|e| fail(e.into()))?;
    }
    Ok(rendered)
}

/// Whether raw SQL for PostgreSQL says `CONCURRENTLY` (outside its string literals and
/// comments): `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX .. CONCURRENTLY`
/// and `REFRESH MATERIALIZED VIEW CONCURRENTLY` cannot run in a transaction, so the migration
/// runs outside one, as with `.outside_transaction()`.
fn raw_runs_concurrently(text: &crate::op::SqlText) -> bool {
    let sql = match text {
        crate::op::SqlText::All(s) => s.as_str(),
        crate::op::SqlText::PerBackend { postgres, .. } => match postgres {
            Some(s) => s.as_str(),
            None => return false,
        },
    };
    let mut words = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                words.push(' ');
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                words.push(' ');
            }
            c if c.is_alphanumeric() || c == '_' => words.push(c.to_ascii_uppercase()),
            _ => words.push(' '),
        }
    }
    words.split_whitespace().any(|w| w == "CONCURRENTLY")
}

/// MySQL: `ALGORITHM` and `LOCK` on an `ALTER TABLE` or an index statement; false when the
/// statement takes neither.
pub(crate) fn with_algorithm(stmt: &mut Statement, algorithm: Algorithm, lock: Lock) -> bool {
    let (a, l) = (algorithm.sql(), lock.sql());
    let suffix = if stmt.sql.starts_with("ALTER TABLE") {
        format!(", ALGORITHM={a}, LOCK={l}")
    } else if stmt.sql.starts_with("CREATE INDEX") || stmt.sql.starts_with("CREATE UNIQUE INDEX") {
        // `DROP INDEX .. ON ..` takes no options on MariaDB; dropping an index only changes
        // metadata in InnoDB.
        format!(" ALGORITHM={a} LOCK={l}")
    } else {
        return false;
    };
    stmt.sql.push_str(&suffix);
    stmt.preview.push_str(&suffix);
    true
}

/// Whether a migration can be rolled back: `Ok`, or why not.
pub type Reversible = Result<(), String>;

/// The versions a call asks for, looked up in constant time.
struct Wanted(Option<std::collections::HashSet<u64>>);

impl Wanted {
    fn new(versions: Option<&[u64]>) -> Self {
        Wanted(versions.map(|vs| vs.iter().copied().collect()))
    }

    fn has(&self, version: u64) -> bool {
        self.0.as_ref().is_none_or(|vs| vs.contains(&version))
    }
}

/// Every table `op` names (a rename names both).
pub(crate) fn op_tables(op: &Op) -> Vec<&str> {
    match op {
        Op::RenameTable { from, to } => vec![from, to],
        Op::CopyRows(c) => vec![&c.from, &c.to],
        Op::AddForeignKey { table, foreign_key } => vec![table, &foreign_key.ref_table],
        Op::Sql(raw) => raw
            .creates
            .iter()
            .chain(&raw.drops)
            .flat_map(|o| o.tables.iter().map(String::as_str))
            .collect(),
        _ => crate::lint::op_table(op).into_iter().collect(),
    }
}
