//! The operations a migration records: the plan's vocabulary.

use sea_query::{Expr, Value};

use crate::column::ColumnDef;
use crate::types::{ColumnType, DefaultValue, ReferentialAction, SqlExpr};

/// A table: its columns in order, its keys, indexes and constraints.
///
/// The same type describes a table being created and a table in the schema model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableDef {
    /// The table's name.
    pub name: String,
    /// The columns, in the table's order.
    pub columns: Vec<ColumnDef>,
    /// The columns of the primary key, in key order; empty when the table has none.
    pub primary_key: Vec<String>,
    /// The indexes on the table, other than those made by raw SQL.
    pub indexes: Vec<IndexDef>,
    /// The foreign keys from this table's columns to other tables (or itself).
    pub foreign_keys: Vec<ForeignKeyDef>,
    /// The check constraints, on the table or on one of its columns.
    pub checks: Vec<CheckDef>,
    /// The unique constraints.
    pub uniques: Vec<UniqueDef>,
    /// The table's comment (SQLite keeps none).
    pub comment: Option<String>,
}

impl TableDef {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub(crate) fn column_mut(&mut self, name: &str) -> Option<&mut ColumnDef> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

/// An index on one or more columns.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    /// The index's name (default `idx_<table>_<columns>`).
    pub name: String,
    /// The indexed columns, in index order.
    pub columns: Vec<String>,
    /// Whether the index is unique (see [`IndexDef::unique`]).
    pub is_unique: bool,
    /// A partial index's predicate (PostgreSQL and SQLite).
    pub predicate: Option<SqlExpr>,
    /// `CREATE INDEX CONCURRENTLY` on PostgreSQL; the migration then runs outside a transaction.
    pub is_concurrent: bool,
}

impl IndexDef {
    /// Make the index unique.
    pub fn unique(&mut self) -> &mut Self {
        self.is_unique = true;
        self
    }

    /// Name the index (default `idx_<table>_<columns>`).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = name.into();
        self
    }

    /// Index only the rows matching `predicate` (PostgreSQL and SQLite; an error on MySQL).
    pub fn where_(&mut self, predicate: impl Into<SqlExpr>) -> &mut Self {
        self.predicate = Some(predicate.into());
        self
    }

    /// Build the index without blocking writes (`CONCURRENTLY` on PostgreSQL, ignored elsewhere).
    /// The migration then runs outside a transaction.
    pub fn concurrently(&mut self) -> &mut Self {
        self.is_concurrent = true;
        self
    }
}

/// A foreign key from `columns` to `ref_table(ref_columns)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeyDef {
    /// The constraint's name (default `fk_<table>_<columns>`).
    pub name: String,
    /// The referencing columns of this table, in order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns of `ref_table`, one for each of `columns` (default `id`).
    pub ref_columns: Vec<String>,
    /// The `ON DELETE` action; `None` writes no clause, leaving the database's default.
    pub on_delete: Option<ReferentialAction>,
    /// The `ON UPDATE` action; `None` writes no clause, leaving the database's default.
    pub on_update: Option<ReferentialAction>,
    /// Added `NOT VALID` on PostgreSQL: existing rows are checked later by
    /// [`validate_constraint`](crate::Schema::validate_constraint).
    pub not_valid: bool,
}

impl ForeignKeyDef {
    /// Add it without checking existing rows (`NOT VALID` on PostgreSQL, which then takes only a
    /// brief lock); check them in a later migration with `s.validate_constraint(table, name)`.
    /// MySQL and SQLite have no such state and check the rows at once.
    pub fn not_valid(&mut self) -> &mut Self {
        self.not_valid = true;
        self
    }

    /// Name the constraint (default `fk_<table>_<columns>`).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = name.into();
        self
    }

    /// The referenced columns (default `id`).
    pub fn ref_columns<I, S>(&mut self, columns: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ref_columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// What to do with these rows when the referenced row is deleted.
    pub fn on_delete(&mut self, action: ReferentialAction) -> &mut Self {
        self.on_delete = Some(action);
        self
    }

    /// What to do with these rows when the referenced key is updated.
    pub fn on_update(&mut self, action: ReferentialAction) -> &mut Self {
        self.on_update = Some(action);
        self
    }
}

/// A named check constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDef {
    /// The constraint's name (`ck_<table>_<column>` for a column check).
    pub name: String,
    /// The condition every row must satisfy.
    pub expr: SqlExpr,
    /// The column a column check (`.check(..)` on a column) belongs to: dropping the column
    /// drops the check, as PostgreSQL and MySQL do.
    pub column: Option<String>,
    /// Added `NOT VALID` on PostgreSQL; see [`ForeignKeyDef::not_valid`].
    pub not_valid: bool,
}

impl CheckDef {
    /// Add it without checking existing rows (`NOT VALID` on PostgreSQL); check them in a later
    /// migration with `s.validate_constraint(table, name)`.
    pub fn not_valid(&mut self) -> &mut Self {
        self.not_valid = true;
        self
    }
}

/// A named unique constraint over one or more columns.
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueDef {
    /// The constraint's name (default `uq_<table>_<columns>`).
    pub name: String,
    /// The columns whose values, taken together, must be unique, in order.
    pub columns: Vec<String>,
}

impl UniqueDef {
    /// Name the constraint (default `uq_<table>_<columns>`).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = name.into();
        self
    }
}

/// SQL text: the same on every backend, or one text per backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SqlText {
    /// One text, run as written on every backend.
    All(String),
    /// A text for each backend; rendering for a backend left `None` fails, and an empty text
    /// renders nothing there (the backend is left out on purpose).
    PerBackend {
        /// The text for PostgreSQL.
        postgres: Option<String>,
        /// The text for MySQL/MariaDB.
        mysql: Option<String>,
        /// The text for SQLite.
        sqlite: Option<String>,
    },
}

impl SqlText {
    /// The text for `backend`; `None` when a per-backend text leaves it out.
    pub fn for_backend(&self, backend: crate::types::Backend) -> Option<&str> {
        use crate::types::Backend;
        match self {
            SqlText::All(sql) => Some(sql),
            SqlText::PerBackend {
                postgres,
                mysql,
                sqlite,
            } => match backend {
                Backend::Postgres => postgres.as_deref(),
                Backend::MySql => mysql.as_deref(),
                Backend::Sqlite => sqlite.as_deref(),
            },
        }
    }
}

/// The kind of a database object that raw SQL creates or drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// An index.
    Index,
    /// A view.
    View,
    /// A trigger.
    Trigger,
    /// A function or a procedure.
    Function,
    /// A materialized view (PostgreSQL).
    MaterializedView,
    /// An extension (PostgreSQL).
    Extension,
}

impl ObjectKind {
    /// `index`, `view`, `trigger` or `function`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Function => "function",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Extension => "extension",
        }
    }

    /// The word in the DSL's method names: `view` in `drop_view`, `materialized_view`.
    pub fn method(self) -> &'static str {
        match self {
            ObjectKind::MaterializedView => "materialized_view",
            other => other.name(),
        }
    }
}

/// A database object made by raw SQL, declared with [`RawSql::creates_index`] and its kin so that
/// the schema model, drift detection, the SQLite rebuild, lint and `down` know it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeclaredObject {
    /// What kind of object it is.
    pub kind: ObjectKind,
    /// The object's name.
    pub name: String,
    /// An index's or a trigger's table; the tables a view reads; none for a function.
    pub tables: Vec<String>,
    /// The SQL that makes it, where godwit made it: a view's query (`SELECT ..`), a trigger's or
    /// a function's whole `CREATE` statement; `None` for what raw SQL declared, and for an
    /// extension (its name is all).
    pub definition: Option<SqlText>,
}

impl DeclaredObject {
    /// Whether a view, function or trigger the DSL made is left out on `backend` on purpose:
    /// its text there is empty. Nothing renders it there, and nothing expects it.
    pub fn left_out_on(&self, backend: crate::types::Backend) -> bool {
        matches!(
            self.kind,
            ObjectKind::Function | ObjectKind::Trigger | ObjectKind::View
        ) && self
            .definition
            .as_ref()
            .and_then(|d| d.for_backend(backend))
            .is_some_and(|t| t.trim().is_empty())
    }

    /// `index ix_posts_lower_title on posts`, `view published_posts`.
    pub fn describe(&self) -> String {
        match self.kind {
            ObjectKind::Index | ObjectKind::Trigger => format!(
                "{} `{}` on `{}`",
                self.kind.name(),
                self.name,
                self.tables.join("`, `")
            ),
            ObjectKind::View
            | ObjectKind::Function
            | ObjectKind::MaterializedView
            | ObjectKind::Extension => {
                format!("{} `{}`", self.kind.name(), self.name)
            }
        }
    }
}

/// Raw SQL with an optional down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSql {
    /// The SQL to run.
    pub up: SqlText,
    /// The SQL that undoes it, set by [`RawSql::down`] or [`RawSql::down_per_backend`];
    /// without it, a derived `down` can only drop the objects it declares it creates.
    pub down_sql: Option<SqlText>,
    /// It must run outside a transaction (see [`RawSql::outside_transaction`]).
    pub outside_transaction: bool,
    /// The objects it creates, declared by the migration.
    pub creates: Vec<DeclaredObject>,
    /// The objects it drops, declared by the migration (by kind and name; the model knows the
    /// rest).
    pub drops: Vec<DeclaredObject>,
}

impl RawSql {
    /// Run it, and its `down`, outside a transaction, as PostgreSQL requires of
    /// `CREATE INDEX CONCURRENTLY` (on an expression, say), `DROP INDEX CONCURRENTLY` and
    /// `REINDEX CONCURRENTLY`: the migration then runs statement by statement, history recording
    /// which statement it is at, as a migration with a `concurrently()` index does.
    pub fn outside_transaction(&mut self) -> &mut Self {
        self.outside_transaction = true;
        self
    }

    /// Declare that it creates the index `name` on `table`: the model then knows it, so
    /// `schema --live` expects it, a SQLite rebuild of `table` keeps it, and without a `.down(..)`
    /// the derived `down` drops it.
    pub fn creates_index(
        &mut self,
        name: impl Into<String>,
        table: impl Into<String>,
    ) -> &mut Self {
        self.declare(ObjectKind::Index, name.into(), vec![table.into()])
    }

    /// Declare that it creates the view `name`, reading `tables`: lint then warns before a
    /// migration drops or changes a column of those tables while the view stands.
    pub fn creates_view<I, S>(&mut self, name: impl Into<String>, tables: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tables = tables.into_iter().map(Into::into).collect();
        self.declare(ObjectKind::View, name.into(), tables)
    }

    /// Declare that it creates the trigger `name` on `table`.
    pub fn creates_trigger(
        &mut self,
        name: impl Into<String>,
        table: impl Into<String>,
    ) -> &mut Self {
        self.declare(ObjectKind::Trigger, name.into(), vec![table.into()])
    }

    /// Declare that it creates the function (or procedure) `name`.
    pub fn creates_function(&mut self, name: impl Into<String>) -> &mut Self {
        self.declare(ObjectKind::Function, name.into(), Vec::new())
    }

    /// Declare that it drops the index `name`, which an earlier migration declared.
    pub fn drops_index(&mut self, name: impl Into<String>) -> &mut Self {
        self.drop_declared(ObjectKind::Index, name.into())
    }

    /// Declare that it drops the view `name`, which an earlier migration declared.
    pub fn drops_view(&mut self, name: impl Into<String>) -> &mut Self {
        self.drop_declared(ObjectKind::View, name.into())
    }

    /// Declare that it drops the trigger `name`, which an earlier migration declared.
    pub fn drops_trigger(&mut self, name: impl Into<String>) -> &mut Self {
        self.drop_declared(ObjectKind::Trigger, name.into())
    }

    /// Declare that it drops the function `name`, which an earlier migration declared.
    pub fn drops_function(&mut self, name: impl Into<String>) -> &mut Self {
        self.drop_declared(ObjectKind::Function, name.into())
    }

    fn declare(&mut self, kind: ObjectKind, name: String, tables: Vec<String>) -> &mut Self {
        self.creates.push(DeclaredObject {
            kind,
            name,
            tables,
            definition: None,
        });
        self
    }

    fn drop_declared(&mut self, kind: ObjectKind, name: String) -> &mut Self {
        self.drops.push(DeclaredObject {
            kind,
            name,
            tables: Vec::new(),
            definition: None,
        });
        self
    }

    /// The SQL that undoes this statement (the same on every backend).
    pub fn down(&mut self, sql: impl Into<String>) -> &mut Self {
        self.down_sql = Some(SqlText::All(sql.into()));
        self
    }

    /// The SQL that undoes this statement, per backend.
    pub fn down_per_backend(&mut self, sql: PerBackend) -> &mut Self {
        self.down_sql = Some(sql.into());
        self
    }
}

/// One SQL text per backend; a backend left `None` makes the migration fail to render there,
/// and an empty text (`Some("")`) leaves that backend out on purpose: nothing runs there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerBackend {
    /// The text for PostgreSQL.
    pub postgres: Option<&'static str>,
    /// The text for MySQL/MariaDB.
    pub mysql: Option<&'static str>,
    /// The text for SQLite.
    pub sqlite: Option<&'static str>,
}

impl From<PerBackend> for SqlText {
    fn from(p: PerBackend) -> Self {
        SqlText::PerBackend {
            postgres: p.postgres.map(Into::into),
            mysql: p.mysql.map(Into::into),
            sqlite: p.sqlite.map(Into::into),
        }
    }
}

/// `INSERT` of rows with bound values.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    /// The table the rows go into.
    pub table: String,
    /// The columns the values fill, in order.
    pub columns: Vec<String>,
    /// The rows: each one value per column of `columns`, in the same order.
    pub rows: Vec<Vec<Value>>,
}

impl Insert {
    /// Add a row: one value per column, in the order the columns were given.
    pub fn values<I, V>(&mut self, row: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        self.rows.push(row.into_iter().map(Into::into).collect());
        self
    }
}

/// `UPDATE ... SET ... WHERE ...` with sea-query expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The table whose rows are updated.
    pub table: String,
    /// Each column set and the value or expression it gets, in order.
    pub sets: Vec<(String, Expr)>,
    /// The condition a row must match to be updated; `None` updates every row.
    pub filter: Option<Expr>,
}

impl Update {
    /// Set `column` to a value or an expression (`Expr::col("a").add(1)`).
    pub fn set(&mut self, column: impl Into<String>, value: impl Into<Expr>) -> &mut Self {
        self.sets.push((column.into(), value.into()));
        self
    }

    /// Only update rows matching `condition` (`Expr::col("status").is_null()`).
    pub fn filter(&mut self, condition: impl Into<Expr>) -> &mut Self {
        self.filter = Some(condition.into());
        self
    }
}

/// `DELETE ... WHERE ...` with a sea-query expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The table rows are deleted from.
    pub table: String,
    /// The condition a row must match to be deleted; `None` deletes every row.
    pub filter: Option<Expr>,
}

impl Delete {
    /// Only delete rows matching `condition`.
    pub fn filter(&mut self, condition: impl Into<Expr>) -> &mut Self {
        self.filter = Some(condition.into());
        self
    }
}

/// One recorded schema or data change.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// Create a table with its columns, keys, indexes and constraints.
    CreateTable(TableDef),
    /// Drop a table.
    DropTable {
        /// The table to drop.
        table: String,
    },
    /// Rename a table; foreign keys that reference it follow.
    RenameTable {
        /// The table's current name.
        from: String,
        /// Its new name.
        to: String,
    },
    /// Add a column to an existing table.
    AddColumn {
        /// The table the column is added to.
        table: String,
        /// The new column.
        column: ColumnDef,
    },
    /// Drop a column, and the indexes, unique constraints, foreign keys and column checks that
    /// use it.
    DropColumn {
        /// The table the column is in.
        table: String,
        /// The column to drop.
        column: String,
    },
    /// Rename a column; indexes, keys and constraints follow it.
    RenameColumn {
        /// The table the column is in.
        table: String,
        /// The column's current name.
        from: String,
        /// Its new name.
        to: String,
    },
    /// Change a column's type, keeping its nullability and default.
    ChangeColumnType {
        /// The table the column is in.
        table: String,
        /// The column whose type changes.
        column: String,
        /// The new type.
        ty: ColumnType,
    },
    /// Set a column's default.
    SetDefault {
        /// The table the column is in.
        table: String,
        /// The column that gets the default.
        column: String,
        /// The new default.
        default: DefaultValue,
    },
    /// Remove a column's default.
    DropDefault {
        /// The table the column is in.
        table: String,
        /// The column whose default is removed.
        column: String,
    },
    /// Make a column `NOT NULL`.
    SetNotNull {
        /// The table the column is in.
        table: String,
        /// The column that becomes `NOT NULL`.
        column: String,
    },
    /// Allow NULL in a column.
    DropNotNull {
        /// The table the column is in.
        table: String,
        /// The column that comes to allow NULL.
        column: String,
    },
    /// Create an index.
    CreateIndex {
        /// The table the index is on.
        table: String,
        /// The index to create.
        index: IndexDef,
    },
    /// Drop an index by name.
    DropIndex {
        /// The table the index is on.
        table: String,
        /// The name of the index to drop.
        name: String,
        /// `DROP INDEX CONCURRENTLY` on PostgreSQL; the migration then runs outside a
        /// transaction.
        concurrently: bool,
    },
    /// Rename an index.
    RenameIndex {
        /// The table the index is on.
        table: String,
        /// The index's current name.
        from: String,
        /// Its new name.
        to: String,
    },
    /// Add a foreign key to an existing table.
    AddForeignKey {
        /// The referencing table, whose columns the foreign key is on.
        table: String,
        /// The foreign key to add.
        foreign_key: ForeignKeyDef,
    },
    /// Drop a foreign key by name.
    DropForeignKey {
        /// The referencing table, whose columns the foreign key is on.
        table: String,
        /// The name of the foreign key to drop.
        name: String,
    },
    /// Add a check constraint.
    AddCheck {
        /// The table the check is on.
        table: String,
        /// The check to add.
        check: CheckDef,
    },
    /// Drop a check constraint by name.
    DropCheck {
        /// The table the check is on.
        table: String,
        /// The name of the check to drop.
        name: String,
    },
    /// Check the existing rows against a foreign key or check added `NOT VALID`
    /// (`VALIDATE CONSTRAINT` on PostgreSQL; nothing on MySQL/MariaDB and SQLite, which checked
    /// them when it was added).
    ValidateConstraint {
        /// The table the constraint is on.
        table: String,
        /// The name of the foreign key or check to validate.
        name: String,
    },
    /// Add a unique constraint.
    AddUnique {
        /// The table the constraint is on.
        table: String,
        /// The constraint to add.
        unique: UniqueDef,
    },
    /// Drop a unique constraint by name.
    DropUnique {
        /// The table the constraint is on.
        table: String,
        /// The name of the unique constraint to drop.
        name: String,
    },
    /// A unique index (built `concurrently()` before) becomes a unique constraint of the same
    /// name: `ADD CONSTRAINT .. UNIQUE USING INDEX ..` on PostgreSQL, a brief lock and no scan;
    /// on MySQL/MariaDB and SQLite the unique index already is one.
    AddUniqueUsingIndex {
        /// The table the index is on.
        table: String,
        /// The name of the unique index, which the constraint takes.
        index: String,
    },
    /// Create a view, materialized view, trigger, function or extension from its definition,
    /// which the model keeps so that dropping it can be undone.
    CreateObject(DeclaredObject),
    /// Drop a view, materialized view, trigger, function or extension by name.
    DropObject {
        /// What kind of object it is.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// Fill a materialized view again from its query (PostgreSQL); nothing to undo.
    RefreshMaterializedView {
        /// The materialized view.
        name: String,
    },
    /// Give a view a new query (`CREATE OR REPLACE VIEW`); `down` restores the one before.
    ReplaceView {
        /// The view.
        name: String,
        /// Its new query.
        query: SqlText,
    },
    /// Create an enumerated type (PostgreSQL `CREATE TYPE .. AS ENUM`; on MySQL/MariaDB and
    /// SQLite the type lives in the columns that use it).
    CreateEnum {
        /// The type's name.
        name: String,
        /// Its values, in order.
        values: Vec<String>,
    },
    /// Add a value to an enumerated type, and so to every column of that type.
    AddEnumValue {
        /// The type.
        name: String,
        /// The new value, added last.
        value: String,
    },
    /// Remove a value from an enumerated type; rows that hold it make the change fail.
    RemoveEnumValue {
        /// The type.
        name: String,
        /// The value removed.
        value: String,
    },
    /// Drop an enumerated type no column uses.
    DropEnum {
        /// The type.
        name: String,
    },
    /// Create a PostgreSQL schema, to hold tables, views and types named `schema.name`.
    CreateSchema {
        /// The schema's name.
        name: String,
    },
    /// Drop a PostgreSQL schema that holds nothing any more.
    DropSchema {
        /// The schema's name.
        name: String,
    },
    /// Set or remove a table's comment.
    CommentOnTable {
        /// The table.
        table: String,
        /// The comment; `None` removes it.
        comment: Option<String>,
    },
    /// Set or remove a column's comment.
    CommentOnColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The comment; `None` removes it.
        comment: Option<String>,
    },
    /// Raw SQL, with its `down` and the objects it declares, if any.
    Sql(RawSql),
    /// `INSERT` rows with bound values.
    Insert(Insert),
    /// `UPDATE` rows in one statement.
    Update(Update),
    /// `DELETE` rows in one statement.
    Delete(Delete),
    /// Rust code, run in the migration's transaction.
    Run(crate::data::RunCode),
    /// A batched `UPDATE`, run outside the schema transaction.
    Backfill(crate::data::Backfill),
    /// A batched `INSERT .. SELECT`, run outside the schema transaction.
    CopyRows(crate::data::CopyRows),
}

impl Op {
    /// A one-line description naming the operation and its target, used in errors.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateTable(t) => format!("create_table(\"{}\")", t.name),
            Op::DropTable { table } => format!("drop_table(\"{table}\")"),
            Op::RenameTable { from, to } => format!("rename_table(\"{from}\", \"{to}\")"),
            Op::AddColumn { table, column } => {
                format!("add_column(\"{table}\", \"{}\")", column.name)
            }
            Op::DropColumn { table, column } => format!("drop_column(\"{table}\", \"{column}\")"),
            Op::RenameColumn { table, from, to } => {
                format!("rename_column(\"{table}\", \"{from}\", \"{to}\")")
            }
            Op::ChangeColumnType { table, column, ty } => {
                format!(
                    "change_column_type(\"{table}\", \"{column}\", {})",
                    ty.describe()
                )
            }
            Op::SetDefault { table, column, .. } => {
                format!("set_default(\"{table}\", \"{column}\")")
            }
            Op::DropDefault { table, column } => format!("drop_default(\"{table}\", \"{column}\")"),
            Op::SetNotNull { table, column } => format!("set_not_null(\"{table}\", \"{column}\")"),
            Op::DropNotNull { table, column } => {
                format!("drop_not_null(\"{table}\", \"{column}\")")
            }
            Op::CreateIndex { table, index } => {
                format!(
                    "add_index(\"{table}\", {:?}) named \"{}\"",
                    index.columns, index.name
                )
            }
            Op::DropIndex {
                table,
                name,
                concurrently,
            } => format!(
                "drop_index(\"{table}\", \"{name}\"){}",
                if *concurrently { ".concurrently()" } else { "" }
            ),
            Op::RenameIndex { table, from, to } => {
                format!("rename_index(\"{table}\", \"{from}\", \"{to}\")")
            }
            Op::AddForeignKey { table, foreign_key } => format!(
                "add_foreign_key(\"{table}\", {:?} -> \"{}\") named \"{}\"",
                foreign_key.columns, foreign_key.ref_table, foreign_key.name
            ),
            Op::DropForeignKey { table, name } => {
                format!("drop_foreign_key(\"{table}\", \"{name}\")")
            }
            Op::AddCheck { table, check } => format!("add_check(\"{table}\", \"{}\")", check.name),
            Op::DropCheck { table, name } => format!("drop_check(\"{table}\", \"{name}\")"),
            Op::ValidateConstraint { table, name } => {
                format!("validate_constraint(\"{table}\", \"{name}\")")
            }
            Op::AddUnique { table, unique } => {
                format!(
                    "add_unique(\"{table}\", {:?}) named \"{}\"",
                    unique.columns, unique.name
                )
            }
            Op::DropUnique { table, name } => format!("drop_unique(\"{table}\", \"{name}\")"),
            Op::AddUniqueUsingIndex { table, index } => {
                format!("add_unique_using_index(\"{table}\", \"{index}\")")
            }
            Op::CreateObject(o) => format!("create_{}(\"{}\")", o.kind.method(), o.name),
            Op::DropObject { kind, name } => format!("drop_{}(\"{name}\")", kind.method()),
            Op::ReplaceView { name, .. } => format!("replace_view(\"{name}\")"),
            Op::RefreshMaterializedView { name } => {
                format!("refresh_materialized_view(\"{name}\")")
            }
            Op::CreateEnum { name, values } => format!("create_enum(\"{name}\", {values:?})"),
            Op::AddEnumValue { name, value } => {
                format!("add_enum_value(\"{name}\", \"{value}\")")
            }
            Op::RemoveEnumValue { name, value } => {
                format!("remove_enum_value(\"{name}\", \"{value}\")")
            }
            Op::DropEnum { name } => format!("drop_enum(\"{name}\")"),
            Op::CreateSchema { name } => format!("create_schema(\"{name}\")"),
            Op::DropSchema { name } => format!("drop_schema(\"{name}\")"),
            Op::CommentOnTable { table, .. } => format!("comment_on_table(\"{table}\")"),
            Op::CommentOnColumn { table, column, .. } => {
                format!("comment_on_column(\"{table}\", \"{column}\")")
            }
            Op::Sql(raw) => {
                let declared: Vec<String> = raw
                    .creates
                    .iter()
                    .map(|o| format!("creates {} {}", o.kind.name(), o.name))
                    .chain(
                        raw.drops
                            .iter()
                            .map(|o| format!("drops {} {}", o.kind.name(), o.name)),
                    )
                    .collect();
                if declared.is_empty() {
                    "sql(...)".into()
                } else {
                    format!("sql(...) that {}", declared.join(", "))
                }
            }
            Op::Insert(i) => format!("insert(\"{}\")", i.table),
            Op::Update(u) => format!("update(\"{}\")", u.table),
            Op::Delete(d) => format!("delete(\"{}\")", d.table),
            Op::Run(r) => format!("run(\"{}\")", r.name),
            Op::Backfill(b) => format!("backfill(\"{}\")", b.table),
            Op::CopyRows(c) => format!("copy_rows(\"{}\", \"{}\")", c.from, c.to),
        }
    }

    /// Whether the operation changes data rather than the schema.
    pub fn is_data(&self) -> bool {
        matches!(
            self,
            Op::Insert(_)
                | Op::Update(_)
                | Op::Delete(_)
                | Op::Run(_)
                | Op::Backfill(_)
                | Op::CopyRows(_)
        )
    }

    /// Whether the operation runs in batches outside the migration's schema transaction.
    pub fn is_batched(&self) -> bool {
        matches!(self, Op::Backfill(_) | Op::CopyRows(_))
    }
}
