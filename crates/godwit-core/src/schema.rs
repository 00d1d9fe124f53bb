//! The recorder a migration's `up` and `down` write to: the DSL's entry point.
//!
//! Nothing here touches a database: every call appends an [`Op`] to the plan.

use sea_query::Expr;

use crate::column::AddableColumn;
use crate::op::{
    CheckDef, DeclaredObject, Delete, ForeignKeyDef, IndexDef, Insert, ObjectKind, Op, PerBackend,
    RawSql, SqlText, UniqueDef, Update,
};
use crate::table_builder::TableBuilder;
use crate::types::{ColumnType, DefaultValue, SqlExpr};

/// What one `up` or `down` recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The operations recorded, in order.
    pub ops: Vec<Op>,
    /// Set by [`Schema::irreversible`]: the reason this migration cannot be rolled back.
    pub irreversible: Option<String>,
    /// Set by the default `down`: derive it by reversing `up`.
    pub derive_down: bool,
    /// Mistakes found while recording (an empty primary key, ...), reported with the migration.
    pub errors: Vec<String>,
    /// Operations allowed past a lint rule, with the reason.
    pub allowances: Vec<crate::lint::Allowance>,
    /// MySQL `ALGORITHM` and `LOCK` for every `ALTER TABLE` and index of the migration.
    pub mysql_online: Option<(crate::types::Algorithm, crate::types::Lock)>,
    /// Lock and statement timeouts and lock retries set for this migration; the runner's
    /// defaults fill in the rest.
    pub timeouts: crate::types::Timeouts,
    /// Where each operation of `ops` was written (file and line), for findings that point at
    /// it; empty for plans godwit derived (a `down` reversed from `up`).
    pub locations: Vec<&'static std::panic::Location<'static>>,
}

impl Plan {
    /// Whether the migration can run inside a transaction (`concurrently()` indexes, built or
    /// dropped, and raw SQL run `outside_transaction()` cannot).
    pub fn transactional(&self) -> bool {
        ops_transactional(&self.ops)
    }
}

/// Whether `ops` can run inside a transaction: see [`Plan::transactional`].
pub(crate) fn ops_transactional(ops: &[Op]) -> bool {
    !ops.iter().any(|op| match op {
        Op::CreateIndex { index, .. } => index.is_concurrent,
        Op::DropIndex { concurrently, .. } => *concurrently,
        Op::Sql(raw) => raw.outside_transaction,
        _ => false,
    })
}

/// The schema-change recorder passed to [`Migration::up`](crate::Migration::up) and `down`.
///
/// ```
/// use godwit_core::prelude::*;
/// let mut s = Schema::new();
/// s.create_table("tags", |t| {
///     t.id();
///     t.string("name", 50).unique();
///     t.timestamps();
/// });
/// s.add_column("posts", Column::integer("views").default(0));
/// assert_eq!(s.into_plan().ops.len(), 2); // create_table (with its unique), add_column
/// ```
#[derive(Debug, Default)]
pub struct Schema {
    plan: Plan,
}

pub(crate) fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

/// `posts` -> `post`, `categories` -> `category`, `addresses` -> `address`.
pub(crate) fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["sses", "xes", "ches", "shes"]
        .iter()
        .any(|s| table.ends_with(s))
    {
        table[..table.len() - 2].to_string()
    } else if table.ends_with('s') && !table.ends_with("ss") {
        table[..table.len() - 1].to_string()
    } else {
        table.to_string()
    }
}

/// The default name of an index, key or constraint: `<prefix>_<table>_<col>_<col>`.
pub(crate) fn default_name(prefix: &str, table: &str, columns: &[String]) -> String {
    let table = crate::types::bare_name(table);
    format!("{prefix}_{table}_{}", columns.join("_"))
}

impl Schema {
    /// An empty recorder.
    pub fn new() -> Self {
        Schema::default()
    }

    /// The plan recorded so far.
    pub fn into_plan(mut self) -> Plan {
        // Give unnamed indexes and constraints their default names now that every modifier ran.
        for op in &mut self.plan.ops {
            match op {
                Op::CreateIndex { table, index } if index.name.is_empty() => {
                    index.name = default_name("idx", table, &index.columns);
                }
                Op::AddForeignKey { table, foreign_key } if foreign_key.name.is_empty() => {
                    foreign_key.name = default_name("fk", table, &foreign_key.columns);
                }
                Op::AddUnique { table, unique } if unique.name.is_empty() => {
                    unique.name = default_name("uq", table, &unique.columns);
                }
                _ => {}
            }
        }
        // Kept for as long as the catalog is: without the room the pushes left.
        self.plan.ops.shrink_to_fit();
        self.plan.locations.shrink_to_fit();
        self.plan
    }

    #[track_caller]
    fn push(&mut self, op: Op) -> &mut Op {
        self.plan.ops.push(op);
        self.plan.locations.push(std::panic::Location::caller());
        self.plan.ops.last_mut().expect("just pushed")
    }

    // ----- tables -------------------------------------------------------------------------

    /// Create a table; the closure declares its columns, keys and indexes.
    #[track_caller]
    pub fn create_table(&mut self, name: impl Into<String>, build: impl FnOnce(&mut TableBuilder)) {
        let mut t = TableBuilder::new(name.into());
        build(&mut t);
        let (table, errors) = t.finish();
        self.plan.errors.extend(errors);
        self.push(Op::CreateTable(table));
    }

    /// Drop a table. Its derived `down` recreates it from the schema model (without its rows).
    #[track_caller]
    pub fn drop_table(&mut self, name: impl Into<String>) {
        self.push(Op::DropTable { table: name.into() });
    }

    /// Rename a table.
    #[track_caller]
    pub fn rename_table(&mut self, from: impl Into<String>, to: impl Into<String>) {
        self.push(Op::RenameTable {
            from: from.into(),
            to: to.into(),
        });
    }

    // ----- columns ------------------------------------------------------------------------

    /// Add a column to an existing table. It must be nullable or have a default (checked when
    /// compiling); `.unique()` and `.check(...)` on it add the constraint too.
    #[track_caller]
    pub fn add_column(&mut self, table: impl Into<String>, column: impl AddableColumn) {
        let table = table.into();
        let mut column = column.into_def();
        let unique = std::mem::take(&mut column.unique);
        let check = column.check.take();
        let primary = std::mem::take(&mut column.primary_key);
        if primary {
            self.plan.errors.push(format!(
                "add_column(\"{table}\", \"{}\") cannot add a primary key column: create the table with it",
                column.name
            ));
        }
        let name = column.name.clone();
        self.push(Op::AddColumn {
            table: table.clone(),
            column,
        });
        if unique {
            let columns = vec![name.clone()];
            let unique = UniqueDef {
                name: default_name("uq", &table, &columns),
                columns,
            };
            self.push(Op::AddUnique {
                table: table.clone(),
                unique,
            });
        }
        if let Some(expr) = check {
            let check = CheckDef {
                name: format!("ck_{table}_{name}"),
                expr,
                column: Some(name),
                not_valid: false,
            };
            self.push(Op::AddCheck { table, check });
        }
    }

    /// Drop a column; indexes and foreign keys that use it are dropped first.
    #[track_caller]
    pub fn drop_column(&mut self, table: impl Into<String>, column: impl Into<String>) {
        self.push(Op::DropColumn {
            table: table.into(),
            column: column.into(),
        });
    }

    /// Rename a column; indexes, keys and constraints follow it.
    #[track_caller]
    pub fn rename_column(
        &mut self,
        table: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) {
        self.push(Op::RenameColumn {
            table: table.into(),
            from: from.into(),
            to: to.into(),
        });
    }

    /// Change a column's type, keeping its nullability and default.
    #[track_caller]
    pub fn change_column_type(
        &mut self,
        table: impl Into<String>,
        column: impl Into<String>,
        ty: ColumnType,
    ) {
        self.push(Op::ChangeColumnType {
            table: table.into(),
            column: column.into(),
            ty,
        });
    }

    /// Set a column's default.
    #[track_caller]
    pub fn set_default(
        &mut self,
        table: impl Into<String>,
        column: impl Into<String>,
        value: impl Into<DefaultValue>,
    ) {
        let (table, column, default) = (table.into(), column.into(), value.into());
        self.push(Op::SetDefault {
            table,
            column,
            default,
        });
    }

    /// Remove a column's default.
    #[track_caller]
    pub fn drop_default(&mut self, table: impl Into<String>, column: impl Into<String>) {
        self.push(Op::DropDefault {
            table: table.into(),
            column: column.into(),
        });
    }

    /// Make a column `NOT NULL` (every row must already have a value).
    #[track_caller]
    pub fn set_not_null(&mut self, table: impl Into<String>, column: impl Into<String>) {
        self.push(Op::SetNotNull {
            table: table.into(),
            column: column.into(),
        });
    }

    /// Allow NULL in a column.
    #[track_caller]
    pub fn drop_not_null(&mut self, table: impl Into<String>, column: impl Into<String>) {
        self.push(Op::DropNotNull {
            table: table.into(),
            column: column.into(),
        });
    }

    // ----- indexes ------------------------------------------------------------------------

    /// Create an index on `columns`; modifiers: `.unique()`, `.name(..)`, `.where_(..)`,
    /// `.concurrently()`.
    #[track_caller]
    pub fn add_index<I, S>(&mut self, table: impl Into<String>, columns: I) -> &mut IndexDef
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let index = IndexDef {
            name: String::new(),
            columns: strings(columns),
            is_unique: false,
            predicate: None,
            is_concurrent: false,
        };
        match self.push(Op::CreateIndex {
            table: table.into(),
            index,
        }) {
            Op::CreateIndex { index, .. } => index,
            _ => unreachable!("pushed a CreateIndex"),
        }
    }

    /// Drop an index by name; modifier: `.concurrently()`.
    #[track_caller]
    pub fn drop_index(
        &mut self,
        table: impl Into<String>,
        name: impl Into<String>,
    ) -> DropIndex<'_> {
        match self.push(Op::DropIndex {
            table: table.into(),
            name: name.into(),
            concurrently: false,
        }) {
            Op::DropIndex { concurrently, .. } => DropIndex { concurrently },
            _ => unreachable!("pushed a DropIndex"),
        }
    }

    /// Rename an index.
    #[track_caller]
    pub fn rename_index(
        &mut self,
        table: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) {
        self.push(Op::RenameIndex {
            table: table.into(),
            from: from.into(),
            to: to.into(),
        });
    }

    // ----- constraints --------------------------------------------------------------------

    /// Add a foreign key from `table(column)` to `ref_table(id)`; modifiers: `.ref_columns(..)`,
    /// `.on_delete(..)`, `.on_update(..)`, `.name(..)`.
    #[track_caller]
    pub fn add_foreign_key<I, S>(
        &mut self,
        table: impl Into<String>,
        columns: I,
        ref_table: impl Into<String>,
    ) -> &mut ForeignKeyDef
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let foreign_key = ForeignKeyDef {
            name: String::new(),
            columns: strings(columns),
            ref_table: ref_table.into(),
            ref_columns: vec!["id".into()],
            on_delete: None,
            on_update: None,
            not_valid: false,
        };
        match self.push(Op::AddForeignKey {
            table: table.into(),
            foreign_key,
        }) {
            Op::AddForeignKey { foreign_key, .. } => foreign_key,
            _ => unreachable!("pushed an AddForeignKey"),
        }
    }

    /// Drop a foreign key by name.
    #[track_caller]
    pub fn drop_foreign_key(&mut self, table: impl Into<String>, name: impl Into<String>) {
        self.push(Op::DropForeignKey {
            table: table.into(),
            name: name.into(),
        });
    }

    /// Add a named check constraint.
    #[track_caller]
    pub fn add_check(
        &mut self,
        table: impl Into<String>,
        name: impl Into<String>,
        expr: impl Into<SqlExpr>,
    ) -> &mut CheckDef {
        let check = CheckDef {
            name: name.into(),
            expr: expr.into(),
            column: None,
            not_valid: false,
        };
        match self.push(Op::AddCheck {
            table: table.into(),
            check,
        }) {
            Op::AddCheck { check, .. } => check,
            _ => unreachable!("pushed an AddCheck"),
        }
    }

    /// Check the rows against a constraint added with `.not_valid()` (PostgreSQL
    /// `VALIDATE CONSTRAINT`, which does not block writes; nothing on MySQL and SQLite, which
    /// checked them when it was added). Do it in a migration after the one that added it.
    #[track_caller]
    pub fn validate_constraint(&mut self, table: impl Into<String>, name: impl Into<String>) {
        self.push(Op::ValidateConstraint {
            table: table.into(),
            name: name.into(),
        });
    }

    /// Drop a check constraint by name.
    #[track_caller]
    pub fn drop_check(&mut self, table: impl Into<String>, name: impl Into<String>) {
        self.push(Op::DropCheck {
            table: table.into(),
            name: name.into(),
        });
    }

    /// Add a unique constraint over `columns` (named `uq_<table>_<columns>` unless `.name(..)`).
    #[track_caller]
    pub fn add_unique<I, S>(&mut self, table: impl Into<String>, columns: I) -> &mut UniqueDef
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let unique = UniqueDef {
            name: String::new(),
            columns: strings(columns),
        };
        match self.push(Op::AddUnique {
            table: table.into(),
            unique,
        }) {
            Op::AddUnique { unique, .. } => unique,
            _ => unreachable!("pushed an AddUnique"),
        }
    }

    /// Make the unique index `index` (built with `.unique().concurrently()` in an earlier
    /// migration) the table's unique constraint of the same name. On PostgreSQL that takes a
    /// brief lock and no scan, where `add_unique` builds the index under a lock that blocks
    /// writes; MySQL/MariaDB and SQLite need no statement: a unique index is their unique
    /// constraint.
    #[track_caller]
    pub fn add_unique_using_index(&mut self, table: impl Into<String>, index: impl Into<String>) {
        self.push(Op::AddUniqueUsingIndex {
            table: table.into(),
            index: index.into(),
        });
    }

    /// Drop a unique constraint by name.
    #[track_caller]
    pub fn drop_unique(&mut self, table: impl Into<String>, name: impl Into<String>) {
        self.push(Op::DropUnique {
            table: table.into(),
            name: name.into(),
        });
    }

    // ----- views, triggers, functions, extensions -----------------------------------------

    /// Create a view from its query, the same on every backend:
    /// `s.create_view("published_posts", "SELECT id, title FROM posts WHERE status = 'published'")`.
    /// The model keeps the query, so `drop_view` can be undone, and knows the tables it reads,
    /// so a change that would break it is refused before anything runs.
    #[track_caller]
    pub fn create_view(&mut self, name: impl Into<String>, query: impl Into<String>) {
        self.create_object(ObjectKind::View, name.into(), SqlText::All(query.into()));
    }

    /// Create a view from a query written for each backend.
    #[track_caller]
    pub fn create_view_per_backend(&mut self, name: impl Into<String>, query: PerBackend) {
        self.create_object(ObjectKind::View, name.into(), query.into());
    }

    /// Give a view a new query (`CREATE OR REPLACE VIEW`); the derived `down` restores the
    /// query before. PostgreSQL only lets the new query add columns at the end.
    #[track_caller]
    pub fn replace_view(&mut self, name: impl Into<String>, query: impl Into<String>) {
        self.push(Op::ReplaceView {
            name: name.into(),
            query: SqlText::All(query.into()),
        });
    }

    /// Drop a view; the derived `down` creates it again from the query the model kept.
    #[track_caller]
    pub fn drop_view(&mut self, name: impl Into<String>) {
        self.drop_object(ObjectKind::View, name.into());
    }

    /// Create a materialized view (PostgreSQL; refused elsewhere before anything runs).
    #[track_caller]
    pub fn create_materialized_view(&mut self, name: impl Into<String>, query: impl Into<String>) {
        self.create_object(
            ObjectKind::MaterializedView,
            name.into(),
            SqlText::All(query.into()),
        );
    }

    /// Fill a materialized view again from its query (PostgreSQL): its readers wait until it
    /// is done. Rolling back has nothing to undo.
    #[track_caller]
    pub fn refresh_materialized_view(&mut self, name: impl Into<String>) {
        self.push(Op::RefreshMaterializedView { name: name.into() });
    }

    /// Drop a materialized view.
    #[track_caller]
    pub fn drop_materialized_view(&mut self, name: impl Into<String>) {
        self.drop_object(ObjectKind::MaterializedView, name.into());
    }

    /// Create a trigger on `table` from its whole `CREATE TRIGGER` statement, written for each
    /// backend (their syntaxes differ); a backend left `None` refuses the migration before
    /// anything runs, and an empty text (`Some("")`) leaves the trigger out on that backend on
    /// purpose. The model keeps the statements, so `drop_trigger` can be undone.
    #[track_caller]
    pub fn create_trigger(
        &mut self,
        name: impl Into<String>,
        table: impl Into<String>,
        statement: PerBackend,
    ) {
        self.push(Op::CreateObject(DeclaredObject {
            kind: ObjectKind::Trigger,
            name: name.into(),
            tables: vec![table.into()],
            definition: Some(statement.into()),
        }));
    }

    /// Drop a trigger; the derived `down` creates it again.
    #[track_caller]
    pub fn drop_trigger(&mut self, name: impl Into<String>) {
        self.drop_object(ObjectKind::Trigger, name.into());
    }

    /// Create a function (or procedure) from its whole `CREATE FUNCTION` statement, written for
    /// each backend. SQLite has none: give it an empty text (`sqlite: Some("")`), which leaves
    /// the function out on that backend on purpose (a PostgreSQL trigger's function, where the
    /// other backends write the work in the trigger itself).
    #[track_caller]
    pub fn create_function(&mut self, name: impl Into<String>, statement: PerBackend) {
        self.create_object(ObjectKind::Function, name.into(), statement.into());
    }

    /// Drop a function; the derived `down` creates it again.
    #[track_caller]
    pub fn drop_function(&mut self, name: impl Into<String>) {
        self.drop_object(ObjectKind::Function, name.into());
    }

    /// Enable a PostgreSQL extension: `CREATE EXTENSION IF NOT EXISTS` (refused elsewhere before
    /// anything runs). The derived `down` drops it, unless something still uses it.
    #[track_caller]
    pub fn create_extension(&mut self, name: impl Into<String>) {
        self.push(Op::CreateObject(DeclaredObject {
            kind: ObjectKind::Extension,
            name: name.into(),
            tables: Vec::new(),
            definition: None,
        }));
    }

    /// Drop a PostgreSQL extension.
    #[track_caller]
    pub fn drop_extension(&mut self, name: impl Into<String>) {
        self.drop_object(ObjectKind::Extension, name.into());
    }

    #[track_caller]
    fn create_object(&mut self, kind: ObjectKind, name: String, definition: SqlText) {
        self.push(Op::CreateObject(DeclaredObject {
            kind,
            name,
            tables: Vec::new(),
            definition: Some(definition),
        }));
    }

    #[track_caller]
    fn drop_object(&mut self, kind: ObjectKind, name: String) {
        self.push(Op::DropObject { kind, name });
    }

    // ----- enumerated types and comments --------------------------------------------------

    /// Create an enumerated type: `s.create_enum("post_status", ["draft", "published"])`, used
    /// by columns made with `t.enumeration("status", "post_status")`. PostgreSQL:
    /// `CREATE TYPE .. AS ENUM`; MySQL/MariaDB: each column is an `ENUM(..)`; SQLite: each
    /// column is text with a `CHECK` on its values.
    #[track_caller]
    pub fn create_enum<I, S>(&mut self, name: impl Into<String>, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push(Op::CreateEnum {
            name: name.into(),
            values: strings(values),
        });
    }

    /// Add a value, last, to an enumerated type and every column of it. PostgreSQL: new rows
    /// may hold it once the migration has committed (use it from the next migration on);
    /// MySQL/MariaDB: each column is modified; SQLite: each table is rebuilt.
    #[track_caller]
    pub fn add_enum_value(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.push(Op::AddEnumValue {
            name: name.into(),
            value: value.into(),
        });
    }

    /// Remove a value from an enumerated type; a row that still holds it makes the migration
    /// fail, and nothing changes. PostgreSQL cannot remove an enum value, so the type is made
    /// again and every column of it converted (a rewrite of those tables).
    #[track_caller]
    pub fn remove_enum_value(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.push(Op::RemoveEnumValue {
            name: name.into(),
            value: value.into(),
        });
    }

    /// Drop an enumerated type that no column uses any more.
    #[track_caller]
    pub fn drop_enum(&mut self, name: impl Into<String>) {
        self.push(Op::DropEnum { name: name.into() });
    }

    /// Create a PostgreSQL schema: `s.create_schema("billing")`, then tables, views and enums
    /// named in it, `s.create_table("billing.invoices", ..)`. Its indexes and constraints live
    /// in it too. MySQL/MariaDB and SQLite have no schemas inside a database: they refuse it,
    /// and every name with a schema, before anything runs. A table may also live in a schema
    /// made outside the migrations (by a DBA), without `create_schema`.
    #[track_caller]
    pub fn create_schema(&mut self, name: impl Into<String>) {
        self.push(Op::CreateSchema { name: name.into() });
    }

    /// Drop a PostgreSQL schema that holds no table, view or enum of the model any more
    /// (`DROP SCHEMA`, which fails if anything else is in it).
    #[track_caller]
    pub fn drop_schema(&mut self, name: impl Into<String>) {
        self.push(Op::DropSchema { name: name.into() });
    }

    /// Set a table's comment (SQLite keeps none, and renders nothing).
    #[track_caller]
    pub fn comment_on_table(&mut self, table: impl Into<String>, comment: impl Into<String>) {
        self.push(Op::CommentOnTable {
            table: table.into(),
            comment: Some(comment.into()),
        });
    }

    /// Remove a table's comment.
    #[track_caller]
    pub fn drop_table_comment(&mut self, table: impl Into<String>) {
        self.push(Op::CommentOnTable {
            table: table.into(),
            comment: None,
        });
    }

    /// Set a column's comment (SQLite keeps none, and renders nothing).
    #[track_caller]
    pub fn comment_on_column(
        &mut self,
        table: impl Into<String>,
        column: impl Into<String>,
        comment: impl Into<String>,
    ) {
        self.push(Op::CommentOnColumn {
            table: table.into(),
            column: column.into(),
            comment: Some(comment.into()),
        });
    }

    /// Remove a column's comment.
    #[track_caller]
    pub fn drop_column_comment(&mut self, table: impl Into<String>, column: impl Into<String>) {
        self.push(Op::CommentOnColumn {
            table: table.into(),
            column: column.into(),
            comment: None,
        });
    }

    // ----- raw SQL and data ---------------------------------------------------------------

    /// Run raw SQL, the same on every backend; give it a `.down(..)` or the migration cannot be
    /// rolled back.
    #[track_caller]
    pub fn sql(&mut self, up: impl Into<String>) -> &mut RawSql {
        self.raw(SqlText::All(up.into()))
    }

    /// Run raw SQL written for each backend.
    #[track_caller]
    pub fn sql_per_backend(&mut self, up: PerBackend) -> &mut RawSql {
        self.raw(up.into())
    }

    fn raw(&mut self, up: SqlText) -> &mut RawSql {
        match self.push(Op::Sql(RawSql {
            up,
            down_sql: None,
            outside_transaction: false,
            creates: Vec::new(),
            drops: Vec::new(),
        })) {
            Op::Sql(raw) => raw,
            _ => unreachable!("pushed a Sql"),
        }
    }

    /// Insert rows with bound values: `s.insert("tags", ["name"]).values(["rust"])`.
    #[track_caller]
    pub fn insert<I, S>(&mut self, table: impl Into<String>, columns: I) -> &mut Insert
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let insert = Insert {
            table: table.into(),
            columns: strings(columns),
            rows: Vec::new(),
        };
        match self.push(Op::Insert(insert)) {
            Op::Insert(i) => i,
            _ => unreachable!("pushed an Insert"),
        }
    }

    /// Update rows: `s.update("posts").set("status", "draft").filter(Expr::col("status").is_null())`.
    #[track_caller]
    pub fn update(&mut self, table: impl Into<String>) -> &mut Update {
        let update = Update {
            table: table.into(),
            sets: Vec::new(),
            filter: None,
        };
        match self.push(Op::Update(update)) {
            Op::Update(u) => u,
            _ => unreachable!("pushed an Update"),
        }
    }

    /// Delete rows: `s.delete("tags").filter(Expr::col("name").eq("obsolete"))`.
    #[track_caller]
    pub fn delete(&mut self, table: impl Into<String>) -> &mut Delete {
        match self.push(Op::Delete(Delete {
            table: table.into(),
            filter: None,
        })) {
            Op::Delete(d) => d,
            _ => unreachable!("pushed a Delete"),
        }
    }

    // ----- data migrations ----------------------------------------------------------------

    /// Backfill rows in batches walked by primary key, each batch its own short transaction
    /// outside the migration's schema transaction, resumed where it stopped if interrupted:
    /// `s.backfill("users").set("email_lower", Func::lower(Expr::col("email")))`.
    ///
    /// Its `down` derives to nothing when every column it sets is added by this migration
    /// (rolling back drops them); otherwise write `down`, or mark the migration irreversible.
    #[track_caller]
    pub fn backfill(&mut self, table: impl Into<String>) -> &mut crate::data::Backfill {
        let backfill = crate::data::Backfill {
            table: table.into(),
            sets: Vec::new(),
            filter: None,
            batching: crate::data::Batching::default(),
        };
        match self.push(Op::Backfill(backfill)) {
            Op::Backfill(b) => b,
            _ => unreachable!("pushed a Backfill"),
        }
    }

    /// Copy rows of `from` into `to` (`INSERT INTO to .. SELECT .. FROM from`), batched and
    /// resumable like [`backfill`](Self::backfill). Without `.map`/`.columns`/`.set` it copies
    /// every column the two tables share by name.
    ///
    /// Its `down` derives to nothing when this migration creates `to` (rolling back drops it).
    #[track_caller]
    pub fn copy_rows(
        &mut self,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> &mut crate::data::CopyRows {
        let copy = crate::data::CopyRows {
            from: from.into(),
            to: to.into(),
            columns: Vec::new(),
            filter: None,
            batching: crate::data::Batching::default(),
        };
        match self.push(Op::CopyRows(copy)) {
            Op::CopyRows(c) => c,
            _ => unreachable!("pushed a CopyRows"),
        }
    }

    /// Record a step of Rust code, type-erased. Migrations call `run` (from `godwit::prelude`),
    /// which knows the function's type and passes it here.
    #[doc(hidden)]
    #[track_caller]
    pub fn run_code(&mut self, name: impl Into<String>, code: crate::data::Code) {
        self.push(Op::Run(crate::data::RunCode {
            name: name.into(),
            code,
        }));
    }

    // ----- reversibility ------------------------------------------------------------------

    /// Mark the migration as impossible to roll back, saying why.
    pub fn irreversible(&mut self, reason: impl Into<String>) {
        self.plan.irreversible = Some(reason.into());
    }

    /// Allow the operation just recorded past a lint rule, saying why it is safe here:
    /// `s.drop_column("users", "legacy"); s.allow(Rule::DropColumn, "unused since release 41");`
    pub fn allow(&mut self, rule: crate::lint::Rule, reason: impl Into<String>) {
        let reason = reason.into();
        let Some(operation) = self.plan.ops.len().checked_sub(1) else {
            self.plan.errors.push(format!(
                "allow(Rule::{}, ..) comes before any operation: write it right after the operation it allows",
                rule.rust_name()
            ));
            return;
        };
        if reason.trim().is_empty() {
            self.plan.errors.push(format!(
                "allow(Rule::{}, \"\") has no reason: say why the operation is safe here",
                rule.rust_name()
            ));
            return;
        }
        self.plan.allowances.push(crate::lint::Allowance {
            operation,
            rule,
            reason,
        });
    }

    /// On MySQL/MariaDB, run every `ALTER TABLE` and index change of this migration with
    /// `ALGORITHM` and `LOCK`, so that MySQL refuses, rather than copying or locking, when it
    /// cannot: `s.mysql_online(Algorithm::Inplace, Lock::None)`. Ignored elsewhere.
    pub fn mysql_online(&mut self, algorithm: crate::types::Algorithm, lock: crate::types::Lock) {
        self.plan.mysql_online = Some((algorithm, lock));
    }

    /// How long each statement of this migration may wait for a lock before it fails (and the
    /// migration is tried again, see [`lock_retries`](Self::lock_retries)), instead of the
    /// runner's default (5 s). `Duration::ZERO` waits forever.
    pub fn lock_timeout(&mut self, timeout: std::time::Duration) {
        self.plan.timeouts.lock = Some(timeout);
    }

    /// How long each statement of this migration may run before the database cancels it,
    /// instead of the runner's default (1 hour): raise it for an index on a huge table.
    /// `Duration::ZERO` lets statements run as long as they take.
    pub fn statement_timeout(&mut self, timeout: std::time::Duration) {
        self.plan.timeouts.statement = Some(timeout);
    }

    /// How many times this migration is tried again, with a growing pause, after it timed out
    /// waiting for a lock, instead of the runner's default (3). A try is repeated only when
    /// nothing of it stayed applied.
    pub fn lock_retries(&mut self, retries: u32) {
        self.plan.timeouts.lock_retries = Some(retries);
    }

    /// Derive `down` by reversing `up`: what the default `Migration::down` does.
    pub fn reverse_up(&mut self) {
        self.plan.derive_down = true;
    }
}

/// Shorthand for [`Expr::col`], for data filters and checks.
pub fn col(name: &'static str) -> Expr {
    Expr::col(name)
}

/// The modifiers of [`Schema::drop_index`].
pub struct DropIndex<'a> {
    concurrently: &'a mut bool,
}

impl DropIndex<'_> {
    /// Drop the index without blocking reads and writes (`CONCURRENTLY` on PostgreSQL, ignored
    /// elsewhere). The migration then runs outside a transaction.
    pub fn concurrently(self) {
        *self.concurrently = true;
    }
}
