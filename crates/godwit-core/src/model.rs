//! The schema model: what the migrations built, folded in version order, and the validation of
//! every operation against it.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::ModelError;
use crate::op::{DeclaredObject, ForeignKeyDef, ObjectKind, Op, RawSql, SqlText, TableDef};
use crate::types::{Backend, ColumnType, ReferentialAction};

/// Every table the migrations created, by name, and the objects their raw SQL declared.
///
/// [`apply`](Self::apply) keeps an index of the names of indexes and constraints, so that a new
/// name is checked in constant time. Code that changes `tables` by hand and then applies
/// operations calls [`reindex`](Self::reindex) first.
#[derive(Clone, Default)]
pub struct SchemaModel {
    /// Every table, by name.
    pub tables: BTreeMap<String, TableDef>,
    /// Indexes, views, triggers and functions made by raw SQL that declared them
    /// ([`RawSql::creates_index`] and its kin), in the order they were created.
    pub objects: Vec<DeclaredObject>,
    /// Enumerated types, by name, with their values in order.
    pub enums: BTreeMap<String, Vec<String>>,
    /// PostgreSQL schemas made by `create_schema`.
    pub schemas: BTreeSet<String>,
    /// Index and constraint names, and the table each is on.
    names: NameIndex,
}

impl PartialEq for SchemaModel {
    fn eq(&self, other: &Self) -> bool {
        self.tables == other.tables
            && self.objects == other.objects
            && self.enums == other.enums
            && self.schemas == other.schemas
    }
}

impl std::fmt::Debug for SchemaModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaModel")
            .field("tables", &self.tables)
            .field("objects", &self.objects)
            .field("enums", &self.enums)
            .field("schemas", &self.schemas)
            .finish()
    }
}

/// What kind of thing owns a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Index,
    Unique,
    ForeignKey,
    Check,
}

/// The index and constraint names of the tables: name to (table, kind), and each table's names;
/// and which tables reference each table with a foreign key.
/// Looked up on every operation, never iterated in an order that shows: a fast hash (foldhash)
/// rather than SipHash, which took a twentieth of `plan --all`.
#[derive(Debug, Clone, Default)]
struct NameIndex {
    owner: foldhash::HashMap<String, (String, NameKind)>,
    by_table: foldhash::HashMap<String, Vec<String>>,
    /// Referenced table to the tables whose foreign keys reference it.
    referencing: foldhash::HashMap<String, std::collections::BTreeSet<String>>,
    /// Table to the tables its foreign keys reference.
    references: foldhash::HashMap<String, Vec<String>>,
}

fn hint_among<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (the {what} are: {})", names.join(", "))
    }
}

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::Invalid(msg.into())
}

impl SchemaModel {
    /// The table called `name`, or an error listing the tables there are.
    pub fn table(&self, name: &str) -> Result<&TableDef, ModelError> {
        self.tables
            .get(name)
            .ok_or_else(|| ModelError::UnknownTable {
                table: name.into(),
                hint: hint_among("tables", self.tables.keys().map(String::as_str)),
            })
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut TableDef, ModelError> {
        self.table(name)?;
        Ok(self.tables.get_mut(name).expect("checked above"))
    }

    fn check_column(table: &TableDef, column: &str) -> Result<(), ModelError> {
        if table.column(column).is_some() {
            return Ok(());
        }
        Err(ModelError::UnknownColumn {
            table: table.name.clone(),
            column: column.into(),
            hint: hint_among("columns", table.columns.iter().map(|c| c.name.as_str())),
        })
    }

    /// The PostgreSQL schemas the model names: those `create_schema` made, and those of its
    /// tables, views, types and functions named `schema.name`.
    pub fn named_schemas(&self) -> Vec<String> {
        let mut schemas = self.schemas.clone();
        let names = self
            .tables
            .keys()
            .chain(self.enums.keys())
            .chain(self.objects.iter().map(|o| &o.name));
        for name in names {
            if let (Some(schema), _) = crate::types::split_schema(name) {
                schemas.insert(schema.to_string());
            }
        }
        schemas.into_iter().collect()
    }

    /// The object of `kind` called `name` that raw SQL declared.
    pub fn declared(&self, kind: ObjectKind, name: &str) -> Option<&DeclaredObject> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
    }

    /// The declared objects on `table`, or reading it (views).
    pub fn declared_on<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a DeclaredObject> {
        self.objects
            .iter()
            .filter(move |o| o.tables.iter().any(|t| t == table))
    }

    /// Which index, key or constraint already uses `name`, anywhere in the schema.
    pub fn name_owner(&self, name: &str) -> Option<String> {
        if let Some(o) = self.declared(ObjectKind::Index, name) {
            return Some(format!(
                "an index made by raw SQL on `{}`",
                o.tables.join("`, `")
            ));
        }
        let (table, kind) = self.names.owner.get(name)?;
        Some(match kind {
            NameKind::Index => format!("an index on `{table}`"),
            NameKind::Unique => format!("a unique constraint on `{table}`"),
            NameKind::ForeignKey => format!("a foreign key on `{table}`"),
            NameKind::Check => format!("a check constraint on `{table}`"),
        })
    }

    /// Every index and constraint name the index of names holds, sorted (for tests).
    #[doc(hidden)]
    pub fn indexed_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.names.owner.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Rebuild the index of names from `tables`, after changing them by hand.
    pub fn reindex(&mut self) {
        self.names = NameIndex::default();
        let names: Vec<String> = self.tables.keys().cloned().collect();
        for t in &names {
            self.reindex_table(t);
        }
    }

    /// Index the names of `table` anew (it may be gone).
    pub(crate) fn reindex_table(&mut self, table: &str) {
        for name in self.names.by_table.remove(table).unwrap_or_default() {
            if self.names.owner.get(&name).is_some_and(|(t, _)| t == table) {
                self.names.owner.remove(&name);
            }
        }
        for referenced in self.names.references.remove(table).unwrap_or_default() {
            if let Some(set) = self.names.referencing.get_mut(&referenced) {
                set.remove(table);
            }
        }
        let Some(t) = self.tables.get(table) else {
            return;
        };
        let referenced: Vec<String> = t.foreign_keys.iter().map(|f| f.ref_table.clone()).collect();
        for r in &referenced {
            self.names
                .referencing
                .entry(r.clone())
                .or_default()
                .insert(table.to_string());
        }
        self.names.references.insert(table.to_string(), referenced);
        let named = t
            .indexes
            .iter()
            .map(|i| (&i.name, NameKind::Index))
            .chain(t.uniques.iter().map(|u| (&u.name, NameKind::Unique)))
            .chain(
                t.foreign_keys
                    .iter()
                    .map(|f| (&f.name, NameKind::ForeignKey)),
            )
            .chain(t.checks.iter().map(|c| (&c.name, NameKind::Check)));
        let mut names = Vec::new();
        for (name, kind) in named {
            self.names
                .owner
                .insert(name.clone(), (table.to_string(), kind));
            names.push(name.clone());
        }
        self.names.by_table.insert(table.to_string(), names);
    }

    fn claim(&self, name: &str) -> Result<(), ModelError> {
        if name.is_empty() {
            return Err(invalid(
                "an index or constraint name is empty: pass `.name(\"...\")`",
            ));
        }
        Self::ident("index or constraint", name)?;
        match self.name_owner(name) {
            Some(used_by) => Err(ModelError::NameTaken {
                name: name.into(),
                used_by,
            }),
            None => Ok(()),
        }
    }

    fn ident(what: &str, name: &str) -> Result<(), ModelError> {
        if name.trim().is_empty() {
            return Err(invalid(format!("the {what} name is empty: give it a name")));
        }
        if name.contains('.') {
            return Err(invalid(format!(
                "the {what} name `{}` contains a dot, which separates a PostgreSQL schema from a table's, view's, type's or function's name: use letters, digits and `_`",
                name.escape_debug()
            )));
        }
        Self::quotable(what, name)
    }

    /// A table's, view's, type's or function's name: `name`, or `schema.name` for one in a
    /// PostgreSQL schema.
    fn relation(what: &str, name: &str) -> Result<(), ModelError> {
        match crate::types::split_schema(name) {
            (None, _) => Self::ident(what, name),
            (Some(schema), bare) => {
                if schema.trim().is_empty() || bare.trim().is_empty() || bare.contains('.') {
                    return Err(invalid(format!(
                        "the {what} name `{}` is not `schema.name`: a dot separates a PostgreSQL schema from the name, once, with a name on each side",
                        name.escape_debug()
                    )));
                }
                Self::ident("schema", schema)?;
                Self::ident(what, bare)
            }
        }
    }

    fn quotable(what: &str, name: &str) -> Result<(), ModelError> {
        if let Some(c) = name.chars().find(|c| matches!(c, '"' | '`' | '\0')) {
            return Err(invalid(format!(
                "the {what} name `{}` contains {c:?}, which no backend quotes the same way: use letters, digits and `_`",
                name.escape_debug()
            )));
        }
        Ok(())
    }

    /// A generated column: nothing writes it, and it has no default.
    fn check_generated(table: &str, c: &crate::column::ColumnDef) -> Result<(), ModelError> {
        if c.generated.is_none() {
            return Ok(());
        }
        if c.default.is_some() || c.auto_increment {
            return Err(invalid(format!(
                "`{table}.{}` is generated: its value is computed, so it takes no default and is not auto-increment",
                c.name
            )));
        }
        Ok(())
    }

    /// What writes `columns` of `table` cannot write a generated one.
    fn check_writable<'a>(
        t: &TableDef,
        columns: impl IntoIterator<Item = &'a String>,
        what: &str,
    ) -> Result<(), ModelError> {
        for c in columns {
            if t.column(c).is_some_and(|c| c.generated.is_some()) {
                return Err(invalid(format!(
                    "{what} writes `{}.{c}`, a generated column, whose value the database computes: leave it out",
                    t.name
                )));
            }
        }
        Ok(())
    }

    /// Refuse to drop `column` while a generated column is computed from it, or a check (other
    /// than its own) or a partial index's predicate still names it: backends disagree on what
    /// happens to them.
    fn check_unused(table: &TableDef, column: &str) -> Result<(), ModelError> {
        if let Some(g) = table.columns.iter().find(|c| {
            c.name != column
                && c.generated
                    .as_ref()
                    .is_some_and(|g| g.expr.mentions(column))
        }) {
            return Err(invalid(format!(
                "generated column `{}.{}` is computed from `{column}`: drop it first with `s.drop_column(\"{}\", \"{}\")`",
                table.name, g.name, table.name, g.name
            )));
        }
        if let Some(ck) = table
            .checks
            .iter()
            .find(|c| c.column.as_deref() != Some(column) && c.expr.mentions(column))
        {
            return Err(invalid(format!(
                "check `{}` on `{}` uses column `{column}`: drop it first with `s.drop_check(\"{}\", \"{}\")` (and add a new one after, if needed)",
                ck.name, table.name, table.name, ck.name
            )));
        }
        if let Some(ix) = table
            .indexes
            .iter()
            .find(|i| i.predicate.as_ref().is_some_and(|p| p.mentions(column)))
        {
            return Err(invalid(format!(
                "partial index `{}` on `{}` uses column `{column}` in its `where_`: drop it first with `s.drop_index(\"{}\", \"{}\")`",
                ix.name, table.name, table.name, ix.name
            )));
        }
        Ok(())
    }

    /// Whether `table` still has a key (primary, unique constraint or unique index) on exactly
    /// `columns`, which a foreign key needs to reference them.
    fn keyed(table: &TableDef, columns: &[String]) -> bool {
        table.primary_key == columns
            || table.uniques.iter().any(|u| u.columns == columns)
            || table
                .indexes
                .iter()
                .any(|i| i.is_unique && i.predicate.is_none() && i.columns == columns)
    }

    /// After removing a key from `table`, refuse if a foreign key referenced it.
    fn check_still_keyed(&self, table: &TableDef, what: &str) -> Result<(), ModelError> {
        for (from, fk) in self.references_to(&table.name) {
            if !Self::keyed(table, &fk.ref_columns) {
                return Err(invalid(format!(
                    "{what} is the key foreign key `{}` on `{from}` references: drop that foreign key first",
                    fk.name
                )));
            }
        }
        Ok(())
    }

    /// Foreign keys in other tables (or this one) that point at `table`.
    pub fn references_to(&self, table: &str) -> Vec<(&str, &ForeignKeyDef)> {
        let Some(from) = self.names.referencing.get(table) else {
            return Vec::new();
        };
        from.iter()
            .filter_map(|t| self.tables.get(t))
            .flat_map(|t| t.foreign_keys.iter().map(move |f| (t.name.as_str(), f)))
            .filter(|(_, f)| f.ref_table == table)
            .collect()
    }

    fn check_columns(table: &TableDef, columns: &[String], what: &str) -> Result<(), ModelError> {
        if columns.is_empty() {
            return Err(invalid(format!(
                "{what} on `{}` names no column: name at least one",
                table.name
            )));
        }
        for c in columns {
            Self::check_column(table, c)?;
        }
        Ok(())
    }

    /// Validate a foreign key of `table` (which may be the table being created).
    fn check_foreign_key(&self, table: &TableDef, fk: &ForeignKeyDef) -> Result<(), ModelError> {
        Self::check_columns(table, &fk.columns, "a foreign key")?;
        let target = if fk.ref_table == table.name {
            table
        } else {
            self.table(&fk.ref_table)?
        };
        if fk.ref_columns.len() != fk.columns.len() {
            return Err(invalid(format!(
                "foreign key `{}` has {} column(s) but references {} column(s) of `{}`: give as many of each",
                fk.name,
                fk.columns.len(),
                fk.ref_columns.len(),
                fk.ref_table
            )));
        }
        for (col, ref_col) in fk.columns.iter().zip(&fk.ref_columns) {
            let Some(target_col) = target.column(ref_col) else {
                return Err(invalid(format!(
                    "foreign key `{}` references column `{}.{ref_col}`, which does not exist{}",
                    fk.name,
                    fk.ref_table,
                    hint_among("columns", target.columns.iter().map(|c| c.name.as_str()))
                )));
            };
            let own = table.column(col).expect("checked above");
            let same_family = match (&own.ty, &target_col.ty) {
                (ColumnType::String(_), ColumnType::String(_)) => true,
                // The values of a new table's enum columns are filled in after this check.
                (ColumnType::Enum(a), ColumnType::Enum(b)) => a.name == b.name,
                _ => false,
            };
            if own.ty != target_col.ty && !same_family {
                return Err(invalid(format!(
                    "foreign key `{}`: `{}.{col}` is {} but `{}.{ref_col}` is {}; make both the same type",
                    fk.name,
                    table.name,
                    own.ty.describe(),
                    fk.ref_table,
                    target_col.ty.describe()
                )));
            }
        }
        for col in &fk.columns {
            let nullable = table.column(col).is_some_and(|c| c.nullable);
            let sets_null =
                [fk.on_delete, fk.on_update].contains(&Some(ReferentialAction::SetNull));
            if sets_null && !nullable {
                return Err(invalid(format!(
                    "foreign key `{}` sets `{}.{col}` to NULL, but it is NOT NULL: make it `.nullable()`, or choose another action",
                    fk.name, table.name
                )));
            }
        }
        if !Self::keyed(target, &fk.ref_columns) {
            return Err(invalid(format!(
                "foreign key `{}` references `{}`({}), which is neither its primary key nor unique: add a unique constraint on it first",
                fk.name,
                fk.ref_table,
                fk.ref_columns.join(", ")
            )));
        }
        Ok(())
    }

    fn check_table(&self, t: &TableDef) -> Result<(), ModelError> {
        Self::relation("table", &t.name)?;
        if self.tables.contains_key(&t.name) {
            return Err(ModelError::TableExists {
                table: t.name.clone(),
            });
        }
        if t.columns.is_empty() {
            return Err(invalid(format!(
                "table `{}` has no columns: declare at least one",
                t.name
            )));
        }
        for (i, c) in t.columns.iter().enumerate() {
            Self::ident("column", &c.name)?;
            if t.columns[..i].iter().any(|d| d.name == c.name) {
                return Err(ModelError::DuplicateColumn {
                    table: t.name.clone(),
                    column: c.name.clone(),
                });
            }
            check_type(&t.name, &c.name, &c.ty)?;
            Self::check_generated(&t.name, c)?;
            if c.auto_increment {
                if !matches!(
                    c.ty,
                    ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
                ) {
                    return Err(invalid(format!(
                        "`{}.{}` is auto-increment but not an integer",
                        t.name, c.name
                    )));
                }
                if t.primary_key != [c.name.clone()] {
                    return Err(invalid(format!(
                        "`{}.{}` is auto-increment but not the table's only primary key column (the key is {:?}): keep `t.id()` as the only key, or use a plain integer column",
                        t.name, c.name, t.primary_key
                    )));
                }
                if c.default.is_some() {
                    return Err(invalid(format!(
                        "`{}.{}` is auto-increment and has a default: remove the `.default(..)`, the database numbers the rows",
                        t.name, c.name
                    )));
                }
            }
        }
        for pk in &t.primary_key {
            Self::check_column(t, pk)?;
            if t.column(pk).is_some_and(|c| c.nullable) {
                return Err(invalid(format!(
                    "primary key column `{}.{pk}` is nullable: remove `.nullable()`",
                    t.name
                )));
            }
        }
        // Names must be unique across the schema and within the table. The schema is not
        // cloned to check them (that made folding 1,000 migrations quadratic): the table's own
        // names are kept aside, with what uses them.
        let mut own: Vec<(String, &str)> = Vec::new();
        let mut claim = |name: &str, what: &'static str| -> Result<(), ModelError> {
            self.claim(name)?;
            if let Some((_, used)) = own.iter().find(|(n, _)| *n == name) {
                return Err(ModelError::NameTaken {
                    name: name.into(),
                    used_by: format!("{used} on `{}`", t.name),
                });
            }
            own.push((name.to_string(), what));
            Ok(())
        };
        for index in &t.indexes {
            Self::check_columns(t, &index.columns, "an index")?;
            claim(&index.name, "an index")?;
        }
        for unique in &t.uniques {
            Self::check_columns(t, &unique.columns, "a unique constraint")?;
            claim(&unique.name, "a unique constraint")?;
        }
        for check in &t.checks {
            claim(&check.name, "a check constraint")?;
        }
        let whole = TableDef {
            name: t.name.clone(),
            columns: t.columns.clone(),
            primary_key: t.primary_key.clone(),
            indexes: t.indexes.clone(),
            uniques: t.uniques.clone(),
            checks: t.checks.clone(),
            ..TableDef::default()
        };
        for fk in &t.foreign_keys {
            claim(&fk.name, "a foreign key")?;
            self.check_foreign_key(&whole, fk)?;
        }
        Ok(())
    }

    /// Validate `op` against the schema and apply it.
    pub fn apply(&mut self, op: &Op) -> Result<(), ModelError> {
        // The names live on the tables the operation names (a rename names both); renaming a
        // table also changes the foreign keys that reference it.
        let mut tables: Vec<String> = crate::plan::op_tables(op)
            .into_iter()
            .map(str::to_string)
            .collect();
        if let Op::RenameTable { from, .. } = op {
            tables.extend(
                self.names
                    .referencing
                    .get(from)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        let result = self.check_enum_types(op).and_then(|()| self.apply_op(op));
        for table in &tables {
            self.reindex_table(table);
        }
        if result.is_ok()
            && matches!(
                op,
                Op::CreateTable(_) | Op::AddColumn { .. } | Op::ChangeColumnType { .. }
            )
        {
            for table in &tables {
                self.resolve_enum_columns(table);
            }
        }
        result
    }

    fn apply_op(&mut self, op: &Op) -> Result<(), ModelError> {
        match op {
            Op::CreateTable(t) => {
                if self.is_view(&t.name) {
                    return Err(invalid(format!(
                        "table `{}` has the name of a view: give it another name",
                        t.name
                    )));
                }
                self.check_table(t)?;
                self.tables.insert(t.name.clone(), t.clone());
            }
            Op::DropTable { table } => {
                self.table(table)?;
                if let Some((from, fk)) = self
                    .references_to(table)
                    .into_iter()
                    .find(|(from, _)| from != table)
                {
                    return Err(invalid(format!(
                        "table `{table}` is still referenced by foreign key `{}` on `{from}`: drop that foreign key (or table) first",
                        fk.name
                    )));
                }
                if let Some(view) = self.objects.iter().find(|o| {
                    matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView)
                        && o.tables.contains(table)
                }) {
                    let how = if view.definition.is_some() {
                        format!("`s.drop_view(\"{}\")`", view.name)
                    } else {
                        format!(
                            "`s.sql(\"DROP VIEW {}\").drops_view(\"{}\")`",
                            view.name, view.name
                        )
                    };
                    return Err(invalid(format!(
                        "table `{table}` is read by view `{}`{}: drop the view first, with {how} (PostgreSQL refuses to drop the table under it)",
                        view.name,
                        if view.definition.is_some() {
                            ""
                        } else {
                            ", made by raw SQL"
                        }
                    )));
                }
                self.tables.remove(table);
                // Its indexes and triggers go with it.
                self.objects.retain(|o| !o.tables.contains(table));
            }
            Op::RenameTable { from, to } => {
                self.table(from)?;
                Self::relation("table", to)?;
                if self.is_view(to) {
                    return Err(invalid(format!(
                        "`{to}` is the name of a view: give the table another name"
                    )));
                }
                if self.tables.contains_key(to) {
                    return Err(ModelError::TableExists { table: to.clone() });
                }
                let mut t = self.tables.remove(from).expect("checked above");
                t.name = to.clone();
                self.tables.insert(to.clone(), t);
                for t in self.tables.values_mut() {
                    for fk in &mut t.foreign_keys {
                        if &fk.ref_table == from {
                            fk.ref_table = to.clone();
                        }
                    }
                }
                for o in &mut self.objects {
                    if o.tables.iter().any(|t| t == from)
                        && matches!(
                            o.kind,
                            ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Trigger
                        )
                        && let Some(d) = &o.definition
                    {
                        o.definition = Some(rename_in(d, from, to));
                    }
                    for t in o.tables.iter_mut().filter(|t| *t == from) {
                        t.clone_from(to);
                    }
                }
            }
            Op::AddColumn { table, column } => {
                let t = self.table(table)?;
                Self::ident("column", &column.name)?;
                if t.column(&column.name).is_some() {
                    return Err(ModelError::DuplicateColumn {
                        table: table.clone(),
                        column: column.name.clone(),
                    });
                }
                check_type(table, &column.name, &column.ty)?;
                Self::check_generated(table, column)?;
                if column.auto_increment {
                    return Err(invalid(format!(
                        "`{table}.{}` is auto-increment: an auto-increment key can only be created with its table (`t.id()`)",
                        column.name
                    )));
                }
                self.table_mut(table)?.columns.push(column.clone());
            }
            Op::DropColumn { table, column } => {
                let t = self.table(table)?;
                Self::check_column(t, column)?;
                Self::check_unused(t, column)?;
                if t.primary_key.contains(column) {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is part of the primary key and cannot be dropped on its own: drop the table or rebuild it"
                    )));
                }
                if t.columns.len() == 1 {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is the table's only column: drop the table instead"
                    )));
                }
                if let Some(tr) = self.trigger_naming(table, column) {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is named by trigger `{tr}`: in the same migration, drop the trigger first (`s.drop_trigger(\"{tr}\")`), then create it again without the column"
                    )));
                }
                if let Some(v) = self.views_reading(table, Some(column)).next() {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is read by {} `{}`: in the same migration, drop the view first (`s.drop_{}(\"{}\")`), then create it again without the column",
                        v.kind.name(),
                        v.name,
                        v.kind.method(),
                        v.name
                    )));
                }
                if let Some((from, fk)) = self
                    .references_to(table)
                    .into_iter()
                    .find(|(_, fk)| fk.ref_columns.contains(column))
                {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is referenced by foreign key `{}` on `{from}`: drop that foreign key first",
                        fk.name
                    )));
                }
                let t = self.table_mut(table)?;
                t.columns.retain(|c| &c.name != column);
                t.indexes.retain(|i| !i.columns.contains(column));
                t.uniques.retain(|u| !u.columns.contains(column));
                t.foreign_keys.retain(|f| !f.columns.contains(column));
                t.checks.retain(|c| c.column.as_ref() != Some(column));
            }
            Op::RenameColumn { table, from, to } => {
                let t = self.table(table)?;
                Self::check_column(t, from)?;
                if let Some(tr) = self.trigger_naming(table, from) {
                    return Err(invalid(format!(
                        "column `{table}.{from}` is named by trigger `{tr}`, which would go on naming the old column: in the same migration, drop the trigger first (`s.drop_trigger(\"{tr}\")`), rename the column, then create the trigger again with the new name"
                    )));
                }
                // PostgreSQL's view keeps the column's old name as its own (`headline AS
                // title`), SQLite's takes the new one, MySQL/MariaDB's breaks: the view is made
                // again, as the migration says.
                if let Some(v) = self.views_reading(table, Some(from)).next() {
                    return Err(invalid(format!(
                        "column `{table}.{from}` is read by {} `{}`, which each database would carry along differently: in the same migration, drop the view first (`s.drop_{}(\"{}\")`), rename the column, then create the view again with the new name",
                        v.kind.name(),
                        v.name,
                        v.kind.method(),
                        v.name
                    )));
                }
                Self::ident("column", to)?;
                if t.column(to).is_some() {
                    return Err(ModelError::DuplicateColumn {
                        table: table.clone(),
                        column: to.clone(),
                    });
                }
                let rename = |cols: &mut Vec<String>| {
                    for c in cols.iter_mut() {
                        if c == from {
                            c.clone_from(to);
                        }
                    }
                };
                let t = self.table_mut(table)?;
                t.column_mut(from)
                    .expect("checked above")
                    .name
                    .clone_from(to);
                rename(&mut t.primary_key);
                t.indexes.iter_mut().for_each(|i| rename(&mut i.columns));
                t.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
                t.foreign_keys
                    .iter_mut()
                    .for_each(|f| rename(&mut f.columns));
                for check in &mut t.checks {
                    if check.column.as_ref() == Some(from) {
                        check.column = Some(to.clone());
                    }
                    check.expr = check.expr.rename_column(from, to);
                }
                for index in &mut t.indexes {
                    if let Some(p) = &index.predicate {
                        index.predicate = Some(p.rename_column(from, to));
                    }
                }
                for c in &mut t.columns {
                    if let Some(g) = &mut c.generated {
                        g.expr = g.expr.rename_column(from, to);
                    }
                }

                for other in self.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if &fk.ref_table == table {
                            rename(&mut fk.ref_columns);
                        }
                    }
                }
            }
            Op::ChangeColumnType { table, column, ty } => {
                let t = self.table(table)?;
                Self::check_column(t, column)?;
                check_type(table, column, ty)?;
                let in_fk = t
                    .foreign_keys
                    .iter()
                    .find(|f| f.columns.contains(column))
                    .map(|f| f.name.clone())
                    .or_else(|| {
                        self.references_to(table)
                            .into_iter()
                            .find(|(_, f)| f.ref_columns.contains(column))
                            .map(|(_, f)| f.name.clone())
                    });
                if let Some(fk) = in_fk {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is part of foreign key `{fk}`: drop the foreign key, change both columns, then add it again"
                    )));
                }
                let c = self
                    .table_mut(table)?
                    .column_mut(column)
                    .expect("checked above");
                if c.auto_increment {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is auto-increment: its type cannot change"
                    )));
                }
                if c.generated.is_some() {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is generated: drop it and add it again with the new type"
                    )));
                }
                c.ty = ty.clone();
            }
            Op::SetDefault {
                table,
                column,
                default,
            } => {
                let t = self.table(table)?;
                Self::check_column(t, column)?;
                if t.column(column).is_some_and(|c| c.auto_increment) {
                    return Err(invalid(format!(
                        "`{table}.{column}` is auto-increment: it cannot have a default, the database numbers the rows"
                    )));
                }
                if t.column(column).is_some_and(|c| c.generated.is_some()) {
                    return Err(invalid(format!(
                        "`{table}.{column}` is generated: it cannot have a default, the database computes it"
                    )));
                }
                self.table_mut(table)?
                    .column_mut(column)
                    .expect("checked above")
                    .default = Some(default.clone());
            }
            Op::DropDefault { table, column } => {
                let t = self.table(table)?;
                Self::check_column(t, column)?;
                if t.column(column).is_some_and(|c| c.default.is_none()) {
                    return Err(invalid(format!(
                        "column `{table}.{column}` has no default to drop: remove this `drop_default`"
                    )));
                }
                self.table_mut(table)?
                    .column_mut(column)
                    .expect("checked above")
                    .default = None;
            }
            Op::SetNotNull { table, column } => {
                Self::check_column(self.table(table)?, column)?;
                self.table_mut(table)?
                    .column_mut(column)
                    .expect("checked above")
                    .nullable = false;
            }
            Op::DropNotNull { table, column } => {
                let t = self.table(table)?;
                Self::check_column(t, column)?;
                if t.primary_key.contains(column) {
                    return Err(invalid(format!(
                        "column `{table}.{column}` is part of the primary key, which cannot allow NULL"
                    )));
                }
                self.table_mut(table)?
                    .column_mut(column)
                    .expect("checked above")
                    .nullable = true;
            }
            Op::CreateIndex { table, index } => {
                let t = self.table(table)?;
                Self::check_columns(t, &index.columns, "an index")?;
                self.claim(&index.name)?;
                self.table_mut(table)?.indexes.push(index.clone());
            }
            Op::DropIndex { table, name, .. } => {
                let t = self.table(table)?;
                if !t.indexes.iter().any(|i| &i.name == name) {
                    return Err(unknown_name(
                        t,
                        name,
                        "indexes",
                        t.indexes.iter().map(|i| i.name.as_str()),
                    ));
                }
                let mut after = t.clone();
                after.indexes.retain(|i| &i.name != name);
                self.check_still_keyed(&after, &format!("unique index `{name}`"))?;
                *self.table_mut(table)? = after;
            }
            Op::RenameIndex { table, from, to } => {
                let t = self.table(table)?;
                if !t.indexes.iter().any(|i| &i.name == from) {
                    return Err(unknown_name(
                        t,
                        from,
                        "indexes",
                        t.indexes.iter().map(|i| i.name.as_str()),
                    ));
                }
                self.claim(to)?;
                let t = self.table_mut(table)?;
                t.indexes
                    .iter_mut()
                    .filter(|i| &i.name == from)
                    .for_each(|i| i.name.clone_from(to));
            }
            Op::AddForeignKey { table, foreign_key } => {
                let t = self.table(table)?;
                self.claim(&foreign_key.name)?;
                self.check_foreign_key(t, foreign_key)?;
                self.table_mut(table)?
                    .foreign_keys
                    .push(foreign_key.clone());
            }
            Op::DropForeignKey { table, name } => {
                let t = self.table(table)?;
                if !t.foreign_keys.iter().any(|f| &f.name == name) {
                    return Err(unknown_name(
                        t,
                        name,
                        "foreign keys",
                        t.foreign_keys.iter().map(|f| f.name.as_str()),
                    ));
                }
                self.table_mut(table)?
                    .foreign_keys
                    .retain(|f| &f.name != name);
            }
            Op::AddCheck { table, check } => {
                self.table(table)?;
                self.claim(&check.name)?;
                self.table_mut(table)?.checks.push(check.clone());
            }
            Op::DropCheck { table, name } => {
                let t = self.table(table)?;
                if !t.checks.iter().any(|c| &c.name == name) {
                    return Err(unknown_name(
                        t,
                        name,
                        "checks",
                        t.checks.iter().map(|c| c.name.as_str()),
                    ));
                }
                self.table_mut(table)?.checks.retain(|c| &c.name != name);
            }
            Op::AddUnique { table, unique } => {
                let t = self.table(table)?;
                Self::check_columns(t, &unique.columns, "a unique constraint")?;
                self.claim(&unique.name)?;
                self.table_mut(table)?.uniques.push(unique.clone());
            }
            Op::AddUniqueUsingIndex { table, index } => {
                let t = self.table(table)?;
                let Some(def) = t.indexes.iter().find(|i| &i.name == index) else {
                    return Err(unknown_name(
                        t,
                        index,
                        "indexes",
                        t.indexes.iter().map(|i| i.name.as_str()),
                    ));
                };
                if !def.is_unique || def.predicate.is_some() {
                    return Err(ModelError::Invalid(format!(
                        "index `{index}` of `{table}` {}: only a unique index on whole columns can become a unique constraint (add it with `add_index(..).unique().concurrently()` first)",
                        if def.is_unique {
                            "is partial (it has a WHERE)"
                        } else {
                            "is not unique"
                        }
                    )));
                }
                let unique = crate::op::UniqueDef {
                    name: index.clone(),
                    columns: def.columns.clone(),
                };
                let t = self.table_mut(table)?;
                t.indexes.retain(|i| &i.name != index);
                t.uniques.push(unique);
            }
            Op::DropUnique { table, name } => {
                let t = self.table(table)?;
                if !t.uniques.iter().any(|u| &u.name == name) {
                    return Err(unknown_name(
                        t,
                        name,
                        "unique constraints",
                        t.uniques.iter().map(|u| u.name.as_str()),
                    ));
                }
                let mut after = t.clone();
                after.uniques.retain(|u| &u.name != name);
                self.check_still_keyed(&after, &format!("unique constraint `{name}`"))?;
                *self.table_mut(table)? = after;
            }
            Op::ValidateConstraint { table, name } => {
                let t = self.table_mut(table)?;
                let mut found = false;
                for fk in t.foreign_keys.iter_mut().filter(|f| &f.name == name) {
                    fk.not_valid = false;
                    found = true;
                }
                for ck in t.checks.iter_mut().filter(|c| &c.name == name) {
                    ck.not_valid = false;
                    found = true;
                }
                if !found {
                    let t = self.table(table)?;
                    let names = t
                        .foreign_keys
                        .iter()
                        .map(|f| f.name.as_str())
                        .chain(t.checks.iter().map(|c| c.name.as_str()));
                    return Err(unknown_name(t, name, "foreign keys and checks", names));
                }
            }
            Op::Sql(raw) => self.apply_declared(raw)?,
            Op::CreateObject(o) => self.create_object(o)?,
            Op::RefreshMaterializedView { name } => {
                if self.declared(ObjectKind::MaterializedView, name).is_none() {
                    return Err(self.unknown_object(ObjectKind::MaterializedView, name));
                }
            }
            Op::DropObject { kind, name } => self.drop_object(*kind, name)?,
            Op::ReplaceView { name, query } => {
                let Some(at) = self
                    .objects
                    .iter()
                    .position(|o| o.kind == ObjectKind::View && &o.name == name)
                else {
                    return Err(self.unknown_object(ObjectKind::View, name));
                };
                if self.objects[at].definition.is_none() {
                    return Err(invalid(format!(
                        "view `{name}` was made by raw SQL, so godwit does not know its query to restore: replace it with raw SQL and a `.down(..)`"
                    )));
                }
                let tables = self.tables_read(query, name);
                let o = &mut self.objects[at];
                o.definition = Some(query.clone());
                o.tables = tables;
            }
            Op::CreateEnum { name, values } => {
                Self::relation("enum", name)?;
                if self.enums.contains_key(name) {
                    return Err(invalid(format!(
                        "enum `{name}` exists already: add values to it with `s.add_enum_value(\"{name}\", ..)`, or give it another name"
                    )));
                }
                if values.is_empty() {
                    return Err(invalid(format!(
                        "enum `{name}` has no values: give it at least one"
                    )));
                }
                if let Some(v) = values
                    .iter()
                    .enumerate()
                    .find(|(i, v)| values[..*i].contains(v))
                    .map(|(_, v)| v)
                {
                    return Err(invalid(format!(
                        "enum `{name}` has the value `{v}` twice: give each value once"
                    )));
                }
                self.enums.insert(name.clone(), values.clone());
            }
            Op::AddEnumValue { name, value } => {
                let values = self.enum_values(name)?;
                if values.contains(value) {
                    return Err(invalid(format!(
                        "enum `{name}` has the value `{value}` already"
                    )));
                }
                let mut values = values.to_vec();
                values.push(value.clone());
                self.set_enum_values(name, values);
            }
            Op::RemoveEnumValue { name, value } => {
                let values = self.enum_values(name)?;
                if !values.contains(value) {
                    return Err(invalid(format!(
                        "enum `{name}` has no value `{value}`{}",
                        hint_among("values", values.iter().map(String::as_str))
                    )));
                }
                if values.len() == 1 {
                    return Err(invalid(format!(
                        "`{value}` is the only value of enum `{name}`: drop the enum instead"
                    )));
                }
                let removed = Some(crate::types::DefaultValue::Value(value.as_str().into()));
                for (table, column) in self.enum_columns(name) {
                    let c = self.tables[&table].column(&column).expect("listed above");
                    if c.default == removed {
                        return Err(invalid(format!(
                            "`{table}.{column}` defaults to `{value}`, the value removed from enum `{name}`: set another default first"
                        )));
                    }
                }
                let values: Vec<String> = values.iter().filter(|v| *v != value).cloned().collect();
                self.set_enum_values(name, values);
            }
            Op::DropEnum { name } => {
                self.enum_values(name)?;
                if let Some((table, column)) = self.enum_columns(name).into_iter().next() {
                    return Err(invalid(format!(
                        "enum `{name}` is the type of `{table}.{column}`: drop that column (or change its type) first"
                    )));
                }
                self.enums.remove(name);
            }
            Op::CreateSchema { name } => {
                Self::ident("schema", name)?;
                if self.schemas.contains(name) {
                    return Err(invalid(format!(
                        "schema `{name}` exists already: an earlier migration created it"
                    )));
                }
                if let Some(what) = self.held_in_schema(name) {
                    return Err(invalid(format!(
                        "schema `{name}` exists already: {what} is in it (made outside the migrations, then): leave `create_schema` out"
                    )));
                }
                self.schemas.insert(name.clone());
            }
            Op::DropSchema { name } => {
                if !self.schemas.contains(name) {
                    return Err(invalid(format!(
                        "there is no schema `{name}` made by `s.create_schema`: drop one made outside the migrations with raw SQL (`s.sql(\"DROP SCHEMA {name}\")`)"
                    )));
                }
                if let Some(what) = self.held_in_schema(name) {
                    return Err(invalid(format!(
                        "schema `{name}` still holds {what}: drop or move what is in it first"
                    )));
                }
                self.schemas.remove(name);
            }
            Op::CommentOnTable { table, comment } => {
                self.table_mut(table)?.comment.clone_from(comment);
            }
            Op::CommentOnColumn {
                table,
                column,
                comment,
            } => {
                let t = self.table(table)?;
                Self::check_column(t, column)?;
                self.table_mut(table)?
                    .column_mut(column)
                    .expect("checked above")
                    .comment
                    .clone_from(comment);
            }
            Op::Insert(i) => {
                let t = self.table(&i.table)?;
                if i.columns.is_empty() {
                    return Err(invalid(format!(
                        "insert into `{}` names no column: name the columns the values go to",
                        i.table
                    )));
                }
                for c in &i.columns {
                    Self::check_column(t, c)?;
                }
                Self::check_writable(t, &i.columns, &format!("insert into `{}`", i.table))?;
                if let Some(row) = i.rows.iter().find(|r| r.len() != i.columns.len()) {
                    return Err(invalid(format!(
                        "insert into `{}` has a row of {} value(s) for {} column(s): give one value per column",
                        i.table,
                        row.len(),
                        i.columns.len()
                    )));
                }
                if i.rows.is_empty() {
                    return Err(invalid(format!(
                        "insert into `{}` has no rows: add `.values([...])`",
                        i.table
                    )));
                }
            }
            Op::Update(u) => {
                let t = self.table(&u.table)?;
                for (c, _) in &u.sets {
                    Self::check_column(t, c)?;
                }
                Self::check_writable(
                    t,
                    u.sets.iter().map(|(c, _)| c),
                    &format!("update of `{}`", u.table),
                )?;
                if u.sets.is_empty() {
                    return Err(invalid(format!(
                        "update of `{}` sets nothing: add `.set(column, value)`",
                        u.table
                    )));
                }
            }
            Op::Delete(d) => {
                self.table(&d.table)?;
            }
            Op::Run(r) => {
                if r.name.trim().is_empty() {
                    return Err(invalid(
                        "`run` has an empty name: name the step, as `sql` and `--dry-run` show it"
                            .to_string(),
                    ));
                }
            }
            Op::Backfill(b) => {
                let t = self.table(&b.table)?;
                if b.sets.is_empty() {
                    return Err(invalid(format!(
                        "backfill of `{}` sets nothing: add `.set(column, value)`",
                        b.table
                    )));
                }
                Self::check_writable(
                    t,
                    b.sets.iter().map(|(c, _)| c),
                    &format!("backfill of `{}`", b.table),
                )?;
                for (c, _) in &b.sets {
                    Self::check_column(t, c)?;
                    if t.primary_key.contains(c) {
                        return Err(invalid(format!(
                            "backfill of `{}` sets `{c}`, a column of the primary key it walks: change keys with `update(..)`",
                            b.table
                        )));
                    }
                }
                batched_key(t, "backfill", b.batching.size)?;
            }
            Op::CopyRows(c) => {
                let from = self.table(&c.from)?;
                batched_key(from, "copy_rows", c.batching.size)?;
                let to = self.table(&c.to)?;
                if c.from == c.to {
                    return Err(invalid(format!(
                        "copy_rows copies `{}` into itself: name another target table",
                        c.from
                    )));
                }
                for (col, _) in &c.columns {
                    Self::check_column(to, col)?;
                }
                Self::check_writable(
                    to,
                    c.columns.iter().map(|(n, _)| n),
                    &format!("copy_rows into `{}`", c.to),
                )?;
                if let Some((col, _)) = c
                    .columns
                    .iter()
                    .enumerate()
                    .find(|(i, (a, _))| c.columns[..*i].iter().any(|(b, _)| a == b))
                    .map(|(_, x)| x)
                {
                    return Err(invalid(format!(
                        "copy_rows into `{}` fills `{col}` twice: give each target column once",
                        c.to
                    )));
                }
                if c.columns.is_empty() && crate::data::shared_columns(from, to).is_empty() {
                    return Err(invalid(format!(
                        "copy_rows from `{}` into `{}` has no column in common: map them with `.map(to, from)`",
                        c.from, c.to
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Whether `sql` mentions identifier `ident` (bare or quoted, on any backend's quoting), or
/// reads every column with `*` (when `star`).
pub(crate) fn mentions(sql: &SqlText, ident: &str, star: bool) -> bool {
    sql_texts(sql).into_iter().any(|text| {
        (star && text.contains('*'))
            || [Backend::Postgres, Backend::MySql]
                .into_iter()
                .any(|b| crate::render::rename_identifier(b, text, ident, ident).1)
    })
}

/// Every text of `sql`, whichever backend it is for.
fn sql_texts(sql: &SqlText) -> Vec<&str> {
    match sql {
        SqlText::All(s) => vec![s],
        SqlText::PerBackend {
            postgres,
            mysql,
            sqlite,
        } => [postgres, mysql, sqlite]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
    }
}

/// Whether a query names table (or view) `table`, `schema.name` for one in a schema.
fn names_table(sql: &SqlText, table: &str) -> bool {
    sql_texts(sql).into_iter().any(|text| {
        [Backend::Postgres, Backend::MySql]
            .into_iter()
            .any(|b| crate::render::query_names_table(b, text, table))
    })
}

/// `sql` with table `from` renamed `to`, on each backend's quoting (an alias of the same name,
/// after `AS`, stays).
fn rename_in(sql: &SqlText, from: &str, to: &str) -> SqlText {
    let per = |b: Backend, text: &str| crate::render::rename_table_in_query(b, text, from, to);
    match sql {
        SqlText::All(s) => SqlText::PerBackend {
            postgres: Some(per(Backend::Postgres, s)),
            mysql: Some(per(Backend::MySql, s)),
            sqlite: Some(per(Backend::Sqlite, s)),
        },
        SqlText::PerBackend {
            postgres,
            mysql,
            sqlite,
        } => SqlText::PerBackend {
            postgres: postgres.as_deref().map(|s| per(Backend::Postgres, s)),
            mysql: mysql.as_deref().map(|s| per(Backend::MySql, s)),
            sqlite: sqlite.as_deref().map(|s| per(Backend::Sqlite, s)),
        },
    }
}

impl SchemaModel {
    /// The views (plain and materialized) made by the DSL whose query reads `table`, and
    /// `column` of it (by name, or with `*`) when given.
    pub fn views_reading<'a>(
        &'a self,
        table: &'a str,
        column: Option<&'a str>,
    ) -> impl Iterator<Item = &'a DeclaredObject> {
        self.objects.iter().filter(move |o| {
            matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView)
                && o.tables.iter().any(|t| t == table)
                && o.definition
                    .as_ref()
                    .is_some_and(|d| column.is_none_or(|c| mentions(d, c, true)))
        })
    }

    fn is_view(&self, name: &str) -> bool {
        self.objects.iter().any(|o| {
            matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView) && o.name == name
        })
    }

    /// A trigger made by the DSL on `table` whose statement names `column`.
    fn trigger_naming(&self, table: &str, column: &str) -> Option<&str> {
        self.objects
            .iter()
            .find(|o| {
                o.kind == ObjectKind::Trigger
                    && o.tables.iter().any(|t| t == table)
                    && o.definition
                        .as_ref()
                        .is_some_and(|d| mentions(d, column, false))
            })
            .map(|o| o.name.as_str())
    }

    /// The first table, enum or object of the model in schema `schema`, described.
    fn held_in_schema(&self, schema: &str) -> Option<String> {
        let inside = |name: &str| crate::types::split_schema(name).0 == Some(schema);
        self.tables
            .keys()
            .filter(|t| inside(t))
            .map(|t| format!("table `{t}`"))
            .chain(
                self.enums
                    .keys()
                    .filter(|e| inside(e))
                    .map(|e| format!("enum `{e}`")),
            )
            .chain(
                self.objects
                    .iter()
                    .filter(|o| inside(&o.name) || o.tables.iter().any(|t| inside(t)))
                    .map(|o| format!("{} `{}`", o.kind.name(), o.name)),
            )
            .next()
    }

    /// Views, materialized views and functions may live in a PostgreSQL schema; indexes and
    /// triggers live in their table's, and extensions in none of their own.
    fn object_name(o: &DeclaredObject) -> Result<(), ModelError> {
        match o.kind {
            ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Function => {
                Self::relation(o.kind.name(), &o.name)
            }
            ObjectKind::Index | ObjectKind::Trigger | ObjectKind::Extension => {
                Self::ident(o.kind.name(), &o.name)
            }
        }
    }

    /// The tables (and views) of the model that a view's query names.
    fn tables_read(&self, query: &SqlText, view: &str) -> Vec<String> {
        self.tables
            .keys()
            .chain(
                self.objects
                    .iter()
                    .filter(|o| {
                        matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView)
                            && o.name != view
                    })
                    .map(|o| &o.name),
            )
            .filter(|t| names_table(query, t))
            .cloned()
            .collect()
    }

    fn unknown_object(&self, kind: ObjectKind, name: &str) -> ModelError {
        let what = kind.name();
        invalid(format!(
            "there is no {what} `{name}`{}",
            hint_among(
                &format!("{what}s"),
                self.objects
                    .iter()
                    .filter(|o| o.kind == kind)
                    .map(|o| o.name.as_str())
            )
        ))
    }

    fn create_object(&mut self, o: &DeclaredObject) -> Result<(), ModelError> {
        let what = o.kind.name();
        Self::object_name(o)?;
        if self.declared(o.kind, &o.name).is_some() {
            return Err(invalid(format!(
                "{what} `{}` exists already: drop it first (`s.drop_{}(\"{}\")`), or give it another name",
                o.name,
                o.kind.method(),
                o.name
            )));
        }
        let mut o = o.clone();
        match o.kind {
            ObjectKind::View | ObjectKind::MaterializedView => {
                if self.tables.contains_key(&o.name)
                    || self.objects.iter().any(|v| {
                        matches!(v.kind, ObjectKind::View | ObjectKind::MaterializedView)
                            && v.name == o.name
                    })
                {
                    return Err(invalid(format!(
                        "{what} `{}` has the name of a table or view: give it another name",
                        o.name
                    )));
                }
                if let Some(query) = &o.definition {
                    o.tables = self.tables_read(query, &o.name);
                }
            }
            ObjectKind::Trigger => {
                for t in &o.tables {
                    self.table(t)?;
                }
            }
            _ => {}
        }
        self.objects.push(o);
        Ok(())
    }

    fn drop_object(&mut self, kind: ObjectKind, name: &str) -> Result<(), ModelError> {
        let Some(at) = self
            .objects
            .iter()
            .position(|o| o.kind == kind && o.name == name)
        else {
            return Err(self.unknown_object(kind, name));
        };
        // What stands on it must go first: a view read by another view, a function a trigger
        // calls.
        let dependent = self.objects.iter().find(|o| {
            o.name != name
                && match kind {
                    ObjectKind::View | ObjectKind::MaterializedView => {
                        matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView)
                            && o.tables.iter().any(|t| t == name)
                    }
                    ObjectKind::Function => {
                        o.kind == ObjectKind::Trigger
                            && o.definition.as_ref().is_some_and(|d| {
                                // `billing.audit()` is two words with a dot between.
                                if name.contains('.') {
                                    names_table(d, name)
                                } else {
                                    mentions(d, name, false)
                                }
                            })
                    }
                    _ => false,
                }
        });
        if let Some(d) = dependent {
            return Err(invalid(format!(
                "{} `{name}` is used by {} `{}`: drop that first (`s.drop_{}(\"{}\")`), and create it again after if it should stay",
                kind.name(),
                d.kind.name(),
                d.name,
                d.kind.method(),
                d.name
            )));
        }
        self.objects.remove(at);
        Ok(())
    }

    fn enum_values(&self, name: &str) -> Result<&[String], ModelError> {
        self.enums.get(name).map(Vec::as_slice).ok_or_else(|| {
            invalid(format!(
                "there is no enum `{name}`{}: create it first with `s.create_enum(\"{name}\", [..])`",
                hint_among("enums", self.enums.keys().map(String::as_str))
            ))
        })
    }

    /// Every column of enumerated type `name`, as `(table, column)`.
    pub fn enum_columns(&self, name: &str) -> Vec<(String, String)> {
        self.tables
            .values()
            .flat_map(|t| {
                t.columns.iter().filter_map(move |c| match &c.ty {
                    ColumnType::Enum(e) if e.name == name => Some((t.name.clone(), c.name.clone())),
                    _ => None,
                })
            })
            .collect()
    }

    fn set_enum_values(&mut self, name: &str, values: Vec<String>) {
        for t in self.tables.values_mut() {
            for c in &mut t.columns {
                if let ColumnType::Enum(e) = &mut c.ty
                    && e.name == name
                {
                    e.values.clone_from(&values);
                }
            }
        }
        self.enums.insert(name.to_string(), values);
    }

    /// The enumerated types `op` gives columns must exist.
    fn check_enum_types(&self, op: &Op) -> Result<(), ModelError> {
        let types: Vec<&ColumnType> = match op {
            Op::CreateTable(t) => t.columns.iter().map(|c| &c.ty).collect(),
            Op::AddColumn { column, .. } => vec![&column.ty],
            Op::ChangeColumnType { ty, .. } => vec![ty],
            _ => return Ok(()),
        };
        for ty in types {
            if let ColumnType::Enum(e) = ty {
                self.enum_values(&e.name)?;
            }
        }
        Ok(())
    }

    /// Fill in the values of `table`'s enum columns.
    fn resolve_enum_columns(&mut self, table: &str) {
        let Some(t) = self.tables.get_mut(table) else {
            return;
        };
        for c in &mut t.columns {
            if let ColumnType::Enum(e) = &mut c.ty
                && let Some(values) = self.enums.get(&e.name)
            {
                e.values.clone_from(values);
            }
        }
    }

    /// What raw SQL declares it drops must exist, and what it creates must not; then the
    /// model follows.
    fn apply_declared(&mut self, raw: &RawSql) -> Result<(), ModelError> {
        for d in &raw.drops {
            let Some(at) = self
                .objects
                .iter()
                .position(|o| o.kind == d.kind && o.name == d.name)
            else {
                let kind = d.kind.name();
                return Err(invalid(format!(
                    "raw SQL declares that it drops {kind} `{}`, which no migration declared creating{}: declare it where it is created, with `.creates_{kind}(..)`, or remove this `.drops_{kind}(..)`",
                    d.name,
                    hint_among(
                        &format!("{kind}s declared"),
                        self.objects
                            .iter()
                            .filter(|o| o.kind == d.kind)
                            .map(|o| o.name.as_str())
                    )
                )));
            };
            self.objects.remove(at);
        }
        for o in &raw.creates {
            let kind = o.kind.name();
            Self::object_name(o)?;
            if self.declared(o.kind, &o.name).is_some() {
                return Err(invalid(format!(
                    "raw SQL declares that it creates {kind} `{}`, which an earlier migration declared already: drop it first (`.drops_{kind}(\"{}\")`), or give it another name",
                    o.name, o.name
                )));
            }
            match o.kind {
                ObjectKind::Index => {
                    self.claim(&o.name)?;
                }
                ObjectKind::View if self.tables.contains_key(&o.name) => {
                    return Err(invalid(format!(
                        "view `{}` has the name of a table: give it another name",
                        o.name
                    )));
                }
                _ => {}
            }
            if matches!(o.kind, ObjectKind::Index | ObjectKind::Trigger) && o.tables.len() != 1 {
                return Err(invalid(format!(
                    "{kind} `{}` must be on one table: name it",
                    o.name
                )));
            }
            for t in &o.tables {
                self.table(t)?;
            }
            self.objects.push(o.clone());
        }
        Ok(())
    }
}

/// A batched step walks `t` by its primary key, `size` rows at a time.
fn batched_key(t: &TableDef, what: &str, size: u32) -> Result<(), ModelError> {
    if t.primary_key.is_empty() {
        return Err(invalid(format!(
            "{what} walks `{}` by its primary key, and it has none: add one, or use `update(..)`/`sql(..)`",
            t.name
        )));
    }
    if size == 0 {
        return Err(invalid(format!(
            "{what} of `{}` has a batch size of 0: give it at least 1 row",
            t.name
        )));
    }
    Ok(())
}

fn unknown_name<'a>(
    t: &TableDef,
    name: &str,
    what: &str,
    names: impl Iterator<Item = &'a str>,
) -> ModelError {
    ModelError::UnknownName {
        table: t.name.clone(),
        name: name.into(),
        hint: hint_among(what, names),
    }
}

fn check_type(table: &str, column: &str, ty: &ColumnType) -> Result<(), ModelError> {
    match ty {
        ColumnType::String(0) => Err(invalid(format!(
            "`{table}.{column}` is a string of length 0: give it a length of at least 1"
        ))),
        ColumnType::Decimal(p, s) if *p == 0 || s > p => Err(invalid(format!(
            "`{table}.{column}` is decimal({p}, {s}): the precision must be at least 1 and the scale at most the precision"
        ))),
        _ => Ok(()),
    }
}
