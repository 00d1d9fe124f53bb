//! Deriving `down` from `up`: the inverse of each operation, given the schema before it.

use crate::error::{ErrorKind, ModelError};
use crate::model::SchemaModel;
use crate::op::{ObjectKind, Op, RawSql};

/// The operations that undo one operation, and what a reviewer should know about them.
#[derive(Debug, Default)]
pub struct Reversed {
    /// The operations that undo it, in the order they run.
    pub ops: Vec<Op>,
    /// What rolling back loses or cannot restore: a dropped table comes back empty, say.
    pub warnings: Vec<String>,
}

fn ops(ops: Vec<Op>) -> Result<Reversed, ErrorKind> {
    Ok(Reversed {
        ops,
        warnings: Vec::new(),
    })
}

fn no_inverse(op: &Op, fix: &str) -> ErrorKind {
    ErrorKind::Irreversible {
        reason: format!("`{}` has no inverse; {fix}", op.describe()),
    }
}

/// The inverse of `op`, applied to the schema `before` it ran.
pub fn inverse(before: &SchemaModel, op: &Op) -> Result<Reversed, ErrorKind> {
    let table = |name: &str| -> Result<_, ErrorKind> { Ok(before.table(name)?) };
    let column = |t: &str, c: &str| -> Result<_, ErrorKind> {
        table(t)?.column(c).cloned().ok_or_else(|| {
            ErrorKind::Model(ModelError::UnknownColumn {
                table: t.into(),
                column: c.into(),
                hint: String::new(),
            })
        })
    };
    match op {
        Op::CreateTable(t) => ops(vec![Op::DropTable {
            table: t.name.clone(),
        }]),
        Op::DropTable { table: name } => {
            let t = table(name)?.clone();
            let mut warnings = vec![format!(
                "rolling back recreates table `{name}` empty: its rows were dropped"
            )];
            let mut inverse = vec![Op::CreateTable(t)];
            for o in before.declared_on(name) {
                if o.definition.is_some() {
                    // A trigger made by `create_trigger`: made again with the table.
                    inverse.push(Op::CreateObject(o.clone()));
                    continue;
                }
                warnings.push(format!(
                    "rolling back does not recreate the {}, made by raw SQL: write `down` by hand to create it again",
                    o.describe()
                ));
            }
            Ok(Reversed {
                ops: inverse,
                warnings,
            })
        }
        Op::RenameTable { from, to } => ops(vec![Op::RenameTable {
            from: to.clone(),
            to: from.clone(),
        }]),
        Op::AddColumn { table, column } => ops(vec![Op::DropColumn {
            table: table.clone(),
            column: column.name.clone(),
        }]),
        Op::DropColumn {
            table: name,
            column: col,
        } => {
            let t = table(name)?;
            let def = column(name, col)?;
            let mut out = vec![Op::AddColumn {
                table: name.clone(),
                column: def.clone(),
            }];
            for index in t.indexes.iter().filter(|i| i.columns.contains(col)) {
                out.push(Op::CreateIndex {
                    table: name.clone(),
                    index: index.clone(),
                });
            }
            for unique in t.uniques.iter().filter(|u| u.columns.contains(col)) {
                out.push(Op::AddUnique {
                    table: name.clone(),
                    unique: unique.clone(),
                });
            }
            for check in t.checks.iter().filter(|c| c.column.as_ref() == Some(col)) {
                out.push(Op::AddCheck {
                    table: name.clone(),
                    check: check.clone(),
                });
            }
            for fk in t.foreign_keys.iter().filter(|f| f.columns.contains(col)) {
                out.push(Op::AddForeignKey {
                    table: name.clone(),
                    foreign_key: fk.clone(),
                });
            }
            let mut warnings = vec![format!(
                "rolling back re-adds column `{name}.{col}` without its data: the values it held were dropped"
            )];
            if !def.nullable && def.default.is_none() {
                warnings.push(format!(
                    "column `{name}.{col}` is NOT NULL without a default: re-adding it fails on a table that has rows"
                ));
            }
            Ok(Reversed { ops: out, warnings })
        }
        Op::RenameColumn { table, from, to } => ops(vec![Op::RenameColumn {
            table: table.clone(),
            from: to.clone(),
            to: from.clone(),
        }]),
        Op::ChangeColumnType {
            table, column: col, ..
        } => {
            let old = column(table, col)?;
            ops(vec![Op::ChangeColumnType {
                table: table.clone(),
                column: col.clone(),
                ty: old.ty,
            }])
        }
        Op::SetDefault {
            table, column: col, ..
        } => match column(table, col)?.default {
            Some(default) => ops(vec![Op::SetDefault {
                table: table.clone(),
                column: col.clone(),
                default,
            }]),
            None => ops(vec![Op::DropDefault {
                table: table.clone(),
                column: col.clone(),
            }]),
        },
        Op::DropDefault { table, column: col } => match column(table, col)?.default {
            Some(default) => ops(vec![Op::SetDefault {
                table: table.clone(),
                column: col.clone(),
                default,
            }]),
            None => Err(ErrorKind::Model(ModelError::Invalid(format!(
                "column `{table}.{col}` has no default to drop"
            )))),
        },
        Op::SetNotNull { table, column: col } => {
            if column(table, col)?.nullable {
                ops(vec![Op::DropNotNull {
                    table: table.clone(),
                    column: col.clone(),
                }])
            } else {
                ops(vec![])
            }
        }
        Op::DropNotNull { table, column: col } => {
            if column(table, col)?.nullable {
                ops(vec![])
            } else {
                ops(vec![Op::SetNotNull {
                    table: table.clone(),
                    column: col.clone(),
                }])
            }
        }
        Op::CreateIndex { table, index } => ops(vec![Op::DropIndex {
            table: table.clone(),
            name: index.name.clone(),
            concurrently: index.is_concurrent,
        }]),
        Op::DropIndex {
            table: name,
            name: index,
            concurrently,
        } => {
            let def = index_def(table(name)?, index)?;
            ops(vec![Op::CreateIndex {
                table: name.clone(),
                index: crate::op::IndexDef {
                    is_concurrent: *concurrently,
                    ..def
                },
            }])
        }
        Op::RenameIndex { table, from, to } => ops(vec![Op::RenameIndex {
            table: table.clone(),
            from: to.clone(),
            to: from.clone(),
        }]),
        Op::AddForeignKey { table, foreign_key } => ops(vec![Op::DropForeignKey {
            table: table.clone(),
            name: foreign_key.name.clone(),
        }]),
        Op::DropForeignKey {
            table: name,
            name: fk,
        } => {
            let def = table(name)?
                .foreign_keys
                .iter()
                .find(|f| &f.name == fk)
                .cloned()
                .ok_or_else(|| {
                    ErrorKind::Model(ModelError::UnknownName {
                        table: name.clone(),
                        name: fk.clone(),
                        hint: String::new(),
                    })
                })?;
            ops(vec![Op::AddForeignKey {
                table: name.clone(),
                foreign_key: def,
            }])
        }
        Op::AddCheck { table, check } => ops(vec![Op::DropCheck {
            table: table.clone(),
            name: check.name.clone(),
        }]),
        Op::DropCheck {
            table: name,
            name: check,
        } => {
            let def = table(name)?
                .checks
                .iter()
                .find(|c| &c.name == check)
                .cloned()
                .ok_or_else(|| {
                    ErrorKind::Model(ModelError::UnknownName {
                        table: name.clone(),
                        name: check.clone(),
                        hint: String::new(),
                    })
                })?;
            ops(vec![Op::AddCheck {
                table: name.clone(),
                check: def,
            }])
        }
        // Validating checks rows; there is nothing to undo.
        Op::ValidateConstraint { .. } => ops(vec![]),
        // Dropping the constraint drops its index: the inverse builds the index again.
        Op::AddUniqueUsingIndex { table: name, index } => {
            let def = index_def(table(name)?, index)?;
            ops(vec![
                Op::DropUnique {
                    table: name.clone(),
                    name: index.clone(),
                },
                Op::CreateIndex {
                    table: name.clone(),
                    index: def,
                },
            ])
        }
        Op::AddUnique { table, unique } => ops(vec![Op::DropUnique {
            table: table.clone(),
            name: unique.name.clone(),
        }]),
        Op::DropUnique {
            table: name,
            name: unique,
        } => {
            let def = table(name)?
                .uniques
                .iter()
                .find(|u| &u.name == unique)
                .cloned()
                .ok_or_else(|| {
                    ErrorKind::Model(ModelError::UnknownName {
                        table: name.clone(),
                        name: unique.clone(),
                        hint: String::new(),
                    })
                })?;
            ops(vec![Op::AddUnique {
                table: name.clone(),
                unique: def,
            }])
        }
        Op::Sql(raw) => {
            // What it drops, as the model knew it before: the inverse creates it again.
            let dropped = raw
                .drops
                .iter()
                .map(|d| {
                    before.declared(d.kind, &d.name).cloned().ok_or_else(|| {
                        ErrorKind::Model(ModelError::Invalid(format!(
                            "raw SQL drops {} `{}`, which no migration declared",
                            d.kind.name(),
                            d.name
                        )))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            match &raw.down_sql {
                Some(down) => ops(vec![Op::Sql(RawSql {
                    up: down.clone(),
                    down_sql: Some(raw.up.clone()),
                    outside_transaction: raw.outside_transaction,
                    creates: dropped,
                    drops: raw.creates.clone(),
                })]),
                // What it declares it creates, dropped one statement each, newest first.
                None if !raw.creates.is_empty() && raw.drops.is_empty() => ops(raw
                    .creates
                    .iter()
                    .rev()
                    .map(|o| {
                        Op::Sql(RawSql {
                            up: crate::render::drop_declared(o, raw.outside_transaction),
                            down_sql: None,
                            outside_transaction: raw.outside_transaction,
                            creates: Vec::new(),
                            drops: vec![o.clone()],
                        })
                    })
                    .collect()),
                None if !raw.drops.is_empty() => Err(no_inverse(
                    op,
                    "what it drops can only be made again by SQL it does not have: give it that SQL with `.down(\"...\")`, or write `down` by hand",
                )),
                None => Err(no_inverse(
                    op,
                    "give it one with `.down(\"...\")`, declare what it creates with `.creates_index(..)` and its kin, or write `down` by hand",
                )),
            }
        }
        Op::CreateObject(o) if o.kind == ObjectKind::Extension => Ok(Reversed {
            ops: vec![Op::DropObject {
                kind: o.kind,
                name: o.name.clone(),
            }],
            warnings: vec![format!(
                "rolling back drops extension `{}`, also if it was enabled before this migration (`CREATE EXTENSION IF NOT EXISTS` did nothing then): write `down` by hand to keep it",
                o.name
            )],
        }),
        Op::CreateObject(o) => ops(vec![Op::DropObject {
            kind: o.kind,
            name: o.name.clone(),
        }]),
        Op::DropObject { kind, name } => match before.declared(*kind, name) {
            Some(o) if o.definition.is_some() || o.kind == ObjectKind::Extension => {
                ops(vec![Op::CreateObject(o.clone())])
            }
            _ => Err(no_inverse(
                op,
                &format!(
                    "{} `{name}` was made by raw SQL, so godwit does not know how to make it again: write `down` by hand",
                    kind.name()
                ),
            )),
        },
        Op::ReplaceView { name, .. } => match before
            .declared(ObjectKind::View, name)
            .and_then(|o| o.definition.clone())
        {
            Some(query) => ops(vec![Op::ReplaceView {
                name: name.clone(),
                query,
            }]),
            None => Err(no_inverse(
                op,
                "the view's query before is unknown: write `down` by hand",
            )),
        },
        // The rows it filled in are the query's: nothing to undo.
        Op::RefreshMaterializedView { .. } => ops(vec![]),
        Op::CreateEnum { name, .. } => ops(vec![Op::DropEnum { name: name.clone() }]),
        Op::AddEnumValue { name, value } => ops(vec![Op::RemoveEnumValue {
            name: name.clone(),
            value: value.clone(),
        }]),
        Op::RemoveEnumValue { name, value } => {
            let values = before.enums.get(name).cloned().unwrap_or_default();
            if values.last() == Some(value) {
                ops(vec![Op::AddEnumValue {
                    name: name.clone(),
                    value: value.clone(),
                }])
            } else {
                Err(no_inverse(
                    op,
                    "adding the value back puts it last, not where it was, which changes how the values sort: write `down` by hand",
                ))
            }
        }
        Op::DropEnum { name } => ops(vec![Op::CreateEnum {
            name: name.clone(),
            values: before.enums.get(name).cloned().unwrap_or_default(),
        }]),
        Op::CreateSchema { name } => ops(vec![Op::DropSchema { name: name.clone() }]),
        Op::DropSchema { name } => ops(vec![Op::CreateSchema { name: name.clone() }]),
        Op::CommentOnTable { table: name, .. } => ops(vec![Op::CommentOnTable {
            table: name.clone(),
            comment: table(name)?.comment.clone(),
        }]),
        Op::CommentOnColumn {
            table: name,
            column: c,
            ..
        } => ops(vec![Op::CommentOnColumn {
            table: name.clone(),
            column: c.clone(),
            comment: column(name, c)?.comment,
        }]),
        Op::Run(_) => Err(no_inverse(
            op,
            "Rust code cannot be run backwards: write `down` by hand (it may `run` Rust code too), or mark the migration `irreversible(\"why\")`",
        )),
        Op::Backfill(_) | Op::CopyRows(_) => Err(no_inverse(
            op,
            "it changes rows that were there before this migration, which a rollback cannot bring back: write `down` by hand, or mark the migration `irreversible(\"why\")` (a backfill of columns the migration adds, or a copy into a table it creates, needs no undoing)",
        )),
        Op::Insert(_) | Op::Update(_) | Op::Delete(_) => Err(no_inverse(
            op,
            "data changes cannot be derived backwards: write `down` by hand, or mark the migration `irreversible(\"why\")`",
        )),
    }
}

/// The index `index` of `table`, as the model has it.
fn index_def(table: &crate::op::TableDef, index: &str) -> Result<crate::op::IndexDef, ErrorKind> {
    table
        .indexes
        .iter()
        .find(|i| i.name == index)
        .cloned()
        .ok_or_else(|| {
            ErrorKind::Model(ModelError::UnknownName {
                table: table.name.clone(),
                name: index.to_string(),
                hint: String::new(),
            })
        })
}
