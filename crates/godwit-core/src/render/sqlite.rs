//! SQLite's missing `ALTER`s, done by the standard table rebuild.
//!
//! SQLite cannot change a column's type, default or nullability, nor add or drop a constraint on
//! an existing table. The rebuild creates the table as the model says it should be under a
//! temporary name, copies the rows, drops the old table, renames the new one and recreates the
//! indexes. What the database has on the table that the migrations do not know (indexes and
//! triggers made with raw SQL) would go with the old table: a step before the `DROP TABLE`
//! reads it from `sqlite_master`, with the table's `AUTOINCREMENT` counter, and a step after the
//! rebuild creates it again and sets the counter back (the runner does both, see
//! [`crate::data::DataStep::Keep`]). Foreign key enforcement must be off meanwhile (`PRAGMA foreign_keys` cannot change
//! inside a transaction, so the runner sets it around the migration); `PRAGMA foreign_key_check`
//! then proves nothing dangles before commit.

use super::{RenderedOp, Statement, create_index, create_table, drop_index_sql, quote};
use crate::error::RenderError;
use crate::model::SchemaModel;
use crate::op::{Op, TableDef};
use crate::types::{Backend, DefaultValue};

const B: Backend = Backend::Sqlite;

/// The prefix of the temporary table a rebuild creates.
pub(crate) const REBUILD_PREFIX: &str = "_godwit_new_";

/// SQLite's rendering of `op` when it differs from the common path; `None` otherwise.
pub(super) fn render(
    before: &SchemaModel,
    after: &SchemaModel,
    op: &Op,
) -> Result<Option<RenderedOp>, RenderError> {
    let rebuild_of = |table: &str| -> Result<Option<RenderedOp>, RenderError> {
        match (before.tables.get(table), after.tables.get(table)) {
            (Some(old), Some(new)) => Ok(Some(rebuild(old, new)?)),
            _ => Err(RenderError::Unsupported {
                backend: B,
                what: format!("rebuild table `{table}`: it is missing from the schema model"),
                fix: "this is a bug in the schema model: please report it".into(),
            }),
        }
    };
    if let Some(table) = rebuilt_table(before, op) {
        return rebuild_of(table);
    }
    match op {
        // The values are in each column's `CHECK`: every table with a column of the type is
        // rebuilt (a row holding a removed value fails the copy, and the migration with it).
        Op::AddEnumValue { name, .. } | Op::RemoveEnumValue { name, .. } => {
            let mut tables: Vec<String> = after
                .enum_columns(name)
                .into_iter()
                .map(|(t, _)| t)
                .collect();
            tables.dedup();
            let mut out = RenderedOp::default();
            for table in tables {
                let Some(r) = rebuild_of(&table)? else {
                    continue;
                };
                out.statements.extend(r.statements);
                out.foreign_keys_off |= r.foreign_keys_off;
                out.warnings.extend(r.warnings);
            }
            Ok(Some(out))
        }
        Op::RenameIndex { table, from, to } => {
            let Some(index) = after
                .tables
                .get(table)
                .and_then(|t| t.indexes.iter().find(|i| &i.name == to))
            else {
                return Ok(None);
            };
            let t = &after.tables[table];
            let statements = vec![drop_index_sql(B, table, from), create_index(B, t, index)?];
            Ok(Some(RenderedOp {
                statements: statements.into_iter().map(Statement::ddl).collect(),
                foreign_keys_off: false,
                warnings: Vec::new(),
            }))
        }
        _ => Ok(None),
    }
}

/// The table `op` rebuilds on SQLite, given the schema `before` it; `None` when SQLite has an
/// `ALTER` for it.
pub(crate) fn rebuilt_table<'a>(before: &SchemaModel, op: &'a Op) -> Option<&'a str> {
    match op {
        // ADD COLUMN takes neither an expression default nor NOT NULL without a default, nor a
        // stored generated column.
        Op::AddColumn { table, column }
            if matches!(column.default, Some(DefaultValue::Expr(_)))
                || (!column.nullable && column.default.is_none())
                || column.generated.as_ref().is_some_and(|g| g.stored) =>
        {
            Some(table)
        }
        // DROP COLUMN refuses columns in a foreign key or a check constraint.
        Op::DropColumn { table, column } => {
            let old = before.tables.get(table)?;
            let in_fk = old.foreign_keys.iter().any(|f| f.columns.contains(column));
            (in_fk || !old.checks.is_empty()).then_some(table)
        }
        Op::ChangeColumnType { table, .. }
        | Op::SetDefault { table, .. }
        | Op::DropDefault { table, .. }
        | Op::SetNotNull { table, .. }
        | Op::DropNotNull { table, .. }
        | Op::AddForeignKey { table, .. }
        | Op::DropForeignKey { table, .. }
        | Op::AddCheck { table, .. }
        | Op::DropCheck { table, .. } => Some(table),
        _ => None,
    }
}

/// The table of `op`, if a rebuild of that table from the schema before `op` to the schema
/// after it does all `op` does (so that it can share a rebuild with other operations on it).
fn folds_into_rebuild(op: &Op) -> Option<&str> {
    match op {
        Op::AddColumn { table, .. }
        | Op::DropColumn { table, .. }
        | Op::ChangeColumnType { table, .. }
        | Op::SetDefault { table, .. }
        | Op::DropDefault { table, .. }
        | Op::SetNotNull { table, .. }
        | Op::DropNotNull { table, .. }
        | Op::AddForeignKey { table, .. }
        | Op::DropForeignKey { table, .. }
        | Op::AddCheck { table, .. }
        | Op::DropCheck { table, .. }
        | Op::CreateIndex { table, .. }
        | Op::DropIndex { table, .. }
        | Op::AddUnique { table, .. }
        | Op::DropUnique { table, .. } => Some(table),
        _ => None,
    }
}

/// How many of `ops` (from the first) rebuild one table together: the longest run of
/// operations on one table that a rebuild does all of, starting and ending with one that needs
/// the rebuild, when at least two do. `before` is the schema before the first (the count of
/// those that need it is judged on it: merging is right either way, it only saves rebuilds).
pub(crate) fn rebuild_run(before: &SchemaModel, ops: &[Op]) -> Option<usize> {
    let table = rebuilt_table(before, ops.first()?)?;
    let mut needing = 0;
    let mut len = 0;
    for (i, op) in ops.iter().enumerate() {
        if folds_into_rebuild(op) != Some(table) {
            break;
        }
        if rebuilt_table(before, op).is_some() {
            needing += 1;
            len = i + 1;
        }
    }
    (needing >= 2).then_some(len)
}

/// Rebuild table `old` as `new` (same name), keeping the rows of the columns both have.
pub(crate) fn rebuild(old: &TableDef, new: &TableDef) -> Result<RenderedOp, RenderError> {
    let temp = format!("{REBUILD_PREFIX}{}", new.name);
    if create_table(B, old, &temp)? == create_table(B, new, &temp)? {
        // The change does not show on SQLite (`integer` and `bigint` are both `integer` there).
        return Ok(RenderedOp::default());
    }
    let mut created = create_table(B, new, &temp)?;
    let indexes = created.split_off(1);
    // A generated column of the new table computes its own values.
    let kept: Vec<String> = new
        .columns
        .iter()
        .filter(|c| c.generated.is_none() && old.column(&c.name).is_some())
        .map(|c| quote(B, &c.name))
        .collect();
    let kept = kept.join(", ");
    let mut statements = created;
    // Statements with a data step, and where they go among the others.
    let mut statements_data: Vec<(usize, Statement)> = Vec::new();
    statements.push(format!(
        "INSERT INTO {} ({kept}) SELECT {kept} FROM {}",
        quote(B, &temp),
        quote(B, &new.name)
    ));
    let keep = !super::rendering_before_exact_values();
    if keep {
        let mut known: Vec<String> = old
            .indexes
            .iter()
            .map(|i| i.name.clone())
            .chain(old.uniques.iter().map(|u| u.name.clone()))
            .chain(new.indexes.iter().map(|i| i.name.clone()))
            .chain(new.uniques.iter().map(|u| u.name.clone()))
            .collect();
        known.sort();
        known.dedup();
        let text = format!(
            "-- keep the indexes and triggers on {} that the migrations do not know, and its \
             AUTOINCREMENT counter (godwit reads them from sqlite_master here)",
            quote(B, &new.name)
        );
        statements_data.push((
            statements.len(),
            Statement {
                sql: text.clone(),
                values: sea_query::Values(Vec::new()),
                preview: text,
                data: Some(crate::data::DataStep::Keep {
                    table: new.name.clone(),
                    known,
                }),
            },
        ));
    }
    statements.push(format!("DROP TABLE {}", quote(B, &new.name)));
    // The modern ALTER TABLE checks every view and trigger naming the table while the table
    // does not exist, and fails; the legacy one leaves them be, and they see the new table.
    statements.push("PRAGMA legacy_alter_table = ON".into());
    statements.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        quote(B, &temp),
        quote(B, &new.name)
    ));
    statements.push("PRAGMA legacy_alter_table = OFF".into());
    statements.extend(indexes);
    let mut out: Vec<Statement> = statements.into_iter().map(Statement::ddl).collect();
    if keep {
        for (at, st) in statements_data.into_iter().rev() {
            out.insert(at, st);
        }
        let text = format!(
            "-- create again what was kept of {}, as sqlite_master had it, and set its \
             AUTOINCREMENT counter back",
            quote(B, &new.name)
        );
        out.push(Statement {
            sql: text.clone(),
            values: sea_query::Values(Vec::new()),
            preview: text,
            data: Some(crate::data::DataStep::Restore {
                table: new.name.clone(),
            }),
        });
    }
    Ok(RenderedOp {
        statements: out,
        foreign_keys_off: true,
        warnings: Vec::new(),
    })
}
