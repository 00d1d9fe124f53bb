//! Which tables `copy` copies, in which order (parents first), each walked by which key.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::{ColumnType, MigrationId, SchemaModel, TableDef};

use crate::error::Error;

/// A table to copy.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) name: String,
    pub(super) columns: Vec<String>,
    pub(super) types: Vec<ColumnType>,
    /// Indexes into `columns`.
    pub(super) key: Vec<usize>,
    /// It references itself or closes a cycle: copied with the target's checks off.
    pub(super) checks_off: bool,
}

/// The tables to copy, parents first.
pub(super) fn plan(
    model: &SchemaModel,
    only: Option<&[String]>,
    version: &MigrationId,
) -> Result<Vec<Plan>, Error> {
    let chosen: BTreeSet<String> = match only {
        None => model.tables.keys().cloned().collect(),
        Some(names) => {
            for name in names {
                if !model.tables.contains_key(name) {
                    let known: Vec<&str> = model.tables.keys().map(String::as_str).collect();
                    return Err(Error::CopyRefused {
                        table: name.clone(),
                        reason: format!(
                            "the schema at migration {version} has no such table (it has {}); check --tables",
                            known.join(", ")
                        ),
                    });
                }
            }
            names.iter().cloned().collect()
        }
    };
    let mut plans = Vec::new();
    for (name, checks_off) in foreign_key_order(model, &chosen) {
        let table = &model.tables[&name];
        let key_columns = walk_key(table).ok_or_else(|| Error::CopyRefused {
            table: name.clone(),
            reason:
                "it has no primary key, nor a unique key on NOT NULL columns, to walk it by in \
                     batches: add one in a migration, or leave the table out with --tables"
                    .to_string(),
        })?;
        if let Some(k) = key_columns
            .iter()
            .find(|k| table.column(k).is_some_and(|c| c.generated.is_some()))
        {
            return Err(Error::CopyRefused {
                table: name.clone(),
                reason: format!(
                    "the key it would be walked by has `{k}`, a generated column, which the copy \
                     leaves for the target to compute: give the table a primary key of plain \
                     columns in a migration, or leave it out with --tables"
                ),
            });
        }
        // A generated column is computed by the target from the others.
        let copied: Vec<&godwit_core::ColumnDef> = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .collect();
        let columns: Vec<String> = copied.iter().map(|c| c.name.clone()).collect();
        let key = key_columns
            .iter()
            .filter_map(|k| columns.iter().position(|c| c == k))
            .collect();
        plans.push(Plan {
            types: copied.iter().map(|c| c.ty.clone()).collect(),
            columns,
            key,
            checks_off,
            name,
        });
    }
    Ok(plans)
}

/// The columns a table is walked by: its primary key, else its first unique key (constraint
/// or index, not partial) on NOT NULL columns.
pub(super) fn walk_key(table: &TableDef) -> Option<Vec<String>> {
    if !table.primary_key.is_empty() {
        return Some(table.primary_key.clone());
    }
    let not_null = |cols: &[String]| {
        !cols.is_empty()
            && cols
                .iter()
                .all(|c| table.column(c).is_some_and(|c| !c.nullable))
    };
    table
        .uniques
        .iter()
        .map(|u| &u.columns)
        .chain(
            table
                .indexes
                .iter()
                .filter(|i| i.is_unique && i.predicate.is_none())
                .map(|i| &i.columns),
        )
        .find(|cols| not_null(cols))
        .cloned()
}

/// `chosen` tables parents first (by name among equals), each with whether it must be copied
/// with foreign-key checks off: it references itself, or it was taken first to break a cycle.
pub(super) fn foreign_key_order(
    model: &SchemaModel,
    chosen: &BTreeSet<String>,
) -> Vec<(String, bool)> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut self_referencing = BTreeSet::new();
    for name in chosen {
        let set = parents.entry(name.as_str()).or_default();
        if let Some(t) = model.tables.get(name) {
            for fk in &t.foreign_keys {
                if fk.ref_table == *name {
                    self_referencing.insert(name.as_str());
                } else if chosen.contains(&fk.ref_table) {
                    set.insert(fk.ref_table.as_str());
                }
            }
        }
    }
    let mut order = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < parents.len() {
        let ready = parents
            .iter()
            .find(|(name, ps)| !done.contains(*name) && ps.iter().all(|p| done.contains(p)))
            .map(|(name, _)| *name);
        let (next, breaks_cycle) = match ready {
            Some(name) => (name, false),
            // Every remaining table waits for another: a cycle. Take the first by name.
            None => match parents.keys().find(|name| !done.contains(*name)) {
                Some(name) => (*name, true),
                None => break,
            },
        };
        done.insert(next);
        order.push((
            next.to_string(),
            breaks_cycle || self_referencing.contains(next),
        ));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use godwit_core::{Catalog, Migration, Schema};

    struct Tables;
    impl Migration for Tables {
        fn up(&self, s: &mut Schema) {
            s.create_table("users", |t| {
                t.id();
            });
            s.create_table("posts", |t| {
                t.id();
                t.references("users");
            });
            s.create_table("comments", |t| {
                t.id();
                t.references("posts");
                t.references_as("parent_id", "comments").nullable();
            });
            s.create_table("tags", |t| {
                t.id();
            });
        }
    }

    #[test]
    fn tables_are_copied_parents_first_and_self_references_with_checks_off() {
        let id = MigrationId {
            version: 20260101000000,
            name: "tables".into(),
        };
        let catalog = Catalog::new([(id.clone(), &Tables as &dyn Migration)]);
        let model = catalog.model(None).unwrap();
        let plans = plan(&model, None, &id).unwrap();
        let order: Vec<(&str, bool)> = plans
            .iter()
            .map(|p| (p.name.as_str(), p.checks_off))
            .collect();
        assert_eq!(
            order,
            [
                ("tags", false),
                ("users", false),
                ("posts", false),
                ("comments", true)
            ]
        );
        let err = plan(&model, Some(&["nope".to_string()]), &id).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot copy table `nope`: the schema at migration"),
            "{err}"
        );
    }
}
