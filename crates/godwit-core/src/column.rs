//! Column definitions: the data the model keeps, and the typed builder `add_column` takes.

use std::marker::PhantomData;

use crate::types::{ColumnType, DefaultValue, SqlExpr};

/// Everything the schema knows about one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// The column's name.
    pub name: String,
    /// The column's type.
    pub ty: ColumnType,
    /// Whether the column allows NULL; when `false` it is `NOT NULL`.
    pub nullable: bool,
    /// The column's default, if it has one.
    pub default: Option<DefaultValue>,
    /// Whether the database numbers the rows in this column: the auto-increment key `t.id()`
    /// makes.
    pub auto_increment: bool,
    /// Set by the table builder on a single-column primary key; folded into the table's key.
    pub(crate) primary_key: bool,
    /// A unique constraint on this column alone, created with the table or the column.
    pub(crate) unique: bool,
    /// A check on this column alone, named `ck_<table>_<column>`.
    pub(crate) check: Option<SqlExpr>,
    /// The column's comment (PostgreSQL `COMMENT ON COLUMN`, MySQL/MariaDB `COMMENT`; SQLite
    /// keeps none).
    pub comment: Option<String>,
    /// A generated (computed) column: its value is computed from the other columns of its row.
    pub generated: Option<Box<Generated>>,
}

/// How a generated column computes its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The expression, over the other columns of the row.
    pub expr: SqlExpr,
    /// Stored in the row (computed on write), or virtual (computed on read: MySQL/MariaDB and
    /// SQLite; PostgreSQL before 18 has only stored ones).
    pub stored: bool,
}

impl ColumnDef {
    pub(crate) fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        ColumnDef {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            auto_increment: false,
            primary_key: false,
            unique: false,
            check: None,
            comment: None,
            generated: None,
        }
    }

    /// Allow NULL (columns are `NOT NULL` unless this is called).
    pub fn nullable(&mut self) -> &mut Self {
        self.nullable = true;
        self
    }

    /// Set the default: a literal (`0`, `"draft"`, `true`), `CurrentTimestamp` or `Sql("...")`.
    pub fn default(&mut self, value: impl Into<DefaultValue>) -> &mut Self {
        self.default = Some(value.into());
        self
    }

    /// Add a unique constraint on this column.
    pub fn unique(&mut self) -> &mut Self {
        self.unique = true;
        self
    }

    /// Make this column the table's primary key.
    pub fn primary_key(&mut self) -> &mut Self {
        self.primary_key = true;
        self
    }

    /// Add a check constraint on this column, named `ck_<table>_<column>`.
    pub fn check(&mut self, expr: impl Into<SqlExpr>) -> &mut Self {
        self.check = Some(expr.into());
        self
    }

    /// Comment the column: what it holds, for whoever reads the schema (SQLite keeps no
    /// comments, and renders none).
    pub fn comment(&mut self, comment: impl Into<String>) -> &mut Self {
        self.comment = Some(comment.into());
        self
    }

    /// Make it a generated column, stored in the row: `GENERATED ALWAYS AS (expr) STORED`,
    /// computed from the row's other columns whenever it is written; nothing writes it.
    pub fn generated(&mut self, expr: impl Into<SqlExpr>) -> &mut Self {
        self.generated = Some(Box::new(Generated {
            expr: expr.into(),
            stored: true,
        }));
        self
    }

    /// Make it a virtual generated column, computed when it is read (MySQL/MariaDB and SQLite;
    /// PostgreSQL refuses it before anything runs: use [`generated`](Self::generated)).
    pub fn generated_virtual(&mut self, expr: impl Into<SqlExpr>) -> &mut Self {
        self.generated = Some(Box::new(Generated {
            expr: expr.into(),
            stored: false,
        }));
        self
    }
}

/// Marker: the column is `NOT NULL`.
#[derive(Debug, Clone, Copy)]
pub struct NotNull;
/// Marker: the column allows NULL.
#[derive(Debug, Clone, Copy)]
pub struct Nullable;
/// Marker: the column has no default.
#[derive(Debug, Clone, Copy)]
pub struct NoDefault;
/// Marker: the column has a default.
#[derive(Debug, Clone, Copy)]
pub struct HasDefault;

/// A column for `add_column`, `change_column` or `TableBuilder::column`.
///
/// Its type parameters track whether it is nullable and whether it has a default, so that
/// `add_column` can refuse, at compile time, a `NOT NULL` column without a default.
#[derive(Debug, Clone)]
pub struct Column<N = NotNull, D = NoDefault> {
    pub(crate) def: ColumnDef,
    _state: PhantomData<(N, D)>,
}

macro_rules! column_ctors {
    ($($(#[$doc:meta])* $fn:ident => $ty:expr;)*) => {$(
        $(#[$doc])*
        pub fn $fn(name: impl Into<String>) -> Column {
            Column::of(name, $ty)
        }
    )*};
}

impl Column {
    /// A column of any [`ColumnType`].
    pub fn of(name: impl Into<String>, ty: ColumnType) -> Column {
        Column {
            def: ColumnDef::new(name, ty),
            _state: PhantomData,
        }
    }

    crate::types::simple_column_types!(column_ctors);

    /// A column of the enumerated type `enum_name` (see
    /// [`Schema::create_enum`](crate::Schema::create_enum)).
    pub fn enumeration(name: impl Into<String>, enum_name: impl Into<String>) -> Column {
        Column::of(name, ColumnType::enumeration(enum_name))
    }

    /// `varchar(len)`.
    pub fn string(name: impl Into<String>, len: u32) -> Column {
        Column::of(name, ColumnType::String(len))
    }

    /// `decimal(precision, scale)`.
    pub fn decimal(name: impl Into<String>, precision: u32, scale: u32) -> Column {
        Column::of(name, ColumnType::Decimal(precision, scale))
    }
}

impl<N, D> Column<N, D> {
    fn retype<N2, D2>(self) -> Column<N2, D2> {
        Column {
            def: self.def,
            _state: PhantomData,
        }
    }

    /// Allow NULL.
    pub fn nullable(mut self) -> Column<Nullable, D> {
        self.def.nullable = true;
        self.retype()
    }

    /// Set the default: a literal (`0`, `"draft"`, `true`), `CurrentTimestamp` or `Sql("...")`.
    pub fn default(mut self, value: impl Into<DefaultValue>) -> Column<N, HasDefault> {
        self.def.default = Some(value.into());
        self.retype()
    }

    /// Add a unique constraint on this column.
    pub fn unique(mut self) -> Self {
        self.def.unique = true;
        self
    }

    /// Add a check constraint on this column, named `ck_<table>_<column>`.
    pub fn check(mut self, expr: impl Into<SqlExpr>) -> Self {
        self.def.check = Some(expr.into());
        self
    }

    /// Comment the column (SQLite keeps no comments, and renders none).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.def.comment = Some(comment.into());
        self
    }

    /// A generated column, stored: computed from the row's other columns, for the rows there
    /// already are too, so that it can be added to a table that holds rows.
    pub fn generated(mut self, expr: impl Into<SqlExpr>) -> Column<N, HasDefault> {
        self.def.generated = Some(Box::new(Generated {
            expr: expr.into(),
            stored: true,
        }));
        self.retype()
    }

    /// A virtual generated column, computed when read (MySQL/MariaDB and SQLite).
    pub fn generated_virtual(mut self, expr: impl Into<SqlExpr>) -> Column<N, HasDefault> {
        self.def.generated = Some(Box::new(Generated {
            expr: expr.into(),
            stored: false,
        }));
        self.retype()
    }

    /// The definition this builder holds.
    pub fn def(&self) -> &ColumnDef {
        &self.def
    }
}

/// A column that can be added to a table that already has rows: nullable, or with a default.
#[diagnostic::on_unimplemented(
    message = "a NOT NULL column without a default cannot be added to an existing table",
    label = "this column is NOT NULL and has no default",
    note = "existing rows would have no value for it: add `.nullable()`, or give it a value with `.default(...)`",
    note = "to make it NOT NULL later: add it `.nullable()`, backfill it, then call `s.set_not_null(table, column)`"
)]
pub trait AddableColumn: sealed::Sealed {
    /// The column definition.
    fn into_def(self) -> ColumnDef;
}

mod sealed {
    /// Only godwit's own column types can promise they are safe to add.
    pub trait Sealed {}
    impl<D> Sealed for super::Column<super::Nullable, D> {}
    impl Sealed for super::Column<super::NotNull, super::HasDefault> {}
}

impl<D> AddableColumn for Column<Nullable, D> {
    fn into_def(self) -> ColumnDef {
        self.def
    }
}

impl AddableColumn for Column<NotNull, HasDefault> {
    fn into_def(self) -> ColumnDef {
        self.def
    }
}
