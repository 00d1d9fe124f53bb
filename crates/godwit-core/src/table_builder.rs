//! `create_table`'s closure argument ([`TableBuilder`]) and `references(..)` columns
//! ([`Reference`]).

use crate::column::{Column, ColumnDef};
use crate::op::{CheckDef, ForeignKeyDef, IndexDef, TableDef, UniqueDef};
use crate::schema::{default_name, singular, strings};
use crate::types::{ColumnType, CurrentTimestamp, SqlExpr};

/// A `references(..)` column being declared: its foreign key and index come with it.
#[derive(Debug)]
pub struct Reference {
    column: usize,
    nullable: bool,
    index: bool,
    index_name: Option<String>,
    ty: Option<ColumnType>,
    foreign_key: ForeignKeyDef,
}

impl Reference {
    /// Delete (or null, ...) these rows when the referenced row is deleted.
    pub fn on_delete(&mut self, action: crate::types::ReferentialAction) -> &mut Self {
        self.foreign_key.on_delete = Some(action);
        self
    }

    /// Follow updates of the referenced key.
    pub fn on_update(&mut self, action: crate::types::ReferentialAction) -> &mut Self {
        self.foreign_key.on_update = Some(action);
        self
    }

    /// Allow NULL (an optional reference).
    pub fn nullable(&mut self) -> &mut Self {
        self.nullable = true;
        self
    }

    /// Do not create an index on the column.
    pub fn no_index(&mut self) -> &mut Self {
        self.index = false;
        self
    }

    /// Name the foreign key (default `fk_<table>_<column>`), e.g. when the default is too long.
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.foreign_key.name = name.into();
        self
    }

    /// Name the index (default `idx_<table>_<column>`).
    pub fn index_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.index_name = Some(name.into());
        self
    }

    /// The column's type, when the referenced key is not a `bigint` (`t.id()`):
    /// `t.references("accounts").of_type(ColumnType::Uuid)`.
    pub fn of_type(&mut self, ty: ColumnType) -> &mut Self {
        self.ty = Some(ty);
        self
    }
}

/// Declares the columns, keys and indexes of a table in [`Schema::create_table`](crate::Schema::create_table).
#[derive(Debug)]
pub struct TableBuilder {
    name: String,
    columns: Vec<ColumnDef>,
    primary_key: Option<Vec<String>>,
    references: Vec<Reference>,
    indexes: Vec<IndexDef>,
    uniques: Vec<UniqueDef>,
    checks: Vec<CheckDef>,
    comment: Option<String>,
}

macro_rules! builder_columns {
    ($($(#[$doc:meta])* $fn:ident => $ty:expr;)*) => {$(
        $(#[$doc])*
        pub fn $fn(&mut self, name: impl Into<String>) -> &mut ColumnDef {
            self.add(ColumnDef::new(name, $ty))
        }
    )*};
}

impl TableBuilder {
    pub(crate) fn new(name: String) -> Self {
        TableBuilder {
            name,
            columns: Vec::new(),
            primary_key: None,
            references: Vec::new(),
            indexes: Vec::new(),
            uniques: Vec::new(),
            checks: Vec::new(),
            comment: None,
        }
    }

    fn add(&mut self, def: ColumnDef) -> &mut ColumnDef {
        self.columns.push(def);
        self.columns.last_mut().expect("just pushed")
    }

    /// `id`: a `BIGINT` auto-increment primary key.
    pub fn id(&mut self) -> &mut ColumnDef {
        let mut def = ColumnDef::new("id", ColumnType::BigInt);
        def.auto_increment = true;
        def.primary_key = true;
        self.add(def)
    }

    crate::types::simple_column_types!(builder_columns);

    /// A `varchar(len)` column.
    pub fn string(&mut self, name: impl Into<String>, len: u32) -> &mut ColumnDef {
        self.add(ColumnDef::new(name, ColumnType::String(len)))
    }

    /// A `decimal(precision, scale)` column.
    pub fn decimal(
        &mut self,
        name: impl Into<String>,
        precision: u32,
        scale: u32,
    ) -> &mut ColumnDef {
        self.add(ColumnDef::new(name, ColumnType::Decimal(precision, scale)))
    }

    /// A column of the enumerated type `enum_name`, made by
    /// [`Schema::create_enum`](crate::Schema::create_enum) in this or an earlier migration.
    pub fn enumeration(
        &mut self,
        name: impl Into<String>,
        enum_name: impl Into<String>,
    ) -> &mut ColumnDef {
        self.add(ColumnDef::new(name, ColumnType::enumeration(enum_name)))
    }

    /// Comment the table: what it holds, for whoever reads the schema (SQLite keeps no
    /// comments, and renders none).
    pub fn comment(&mut self, comment: impl Into<String>) {
        self.comment = Some(comment.into());
    }

    /// A column built with [`Column`] (any nullability or default is fine in a new table).
    pub fn column<N, D>(&mut self, column: Column<N, D>) -> &mut ColumnDef {
        self.add(column.def)
    }

    /// `<singular>_id BIGINT NOT NULL` referencing `table(id)`, with an index:
    /// `t.references("posts")` adds `post_id`.
    pub fn references(&mut self, table: impl Into<String>) -> &mut Reference {
        let table = table.into();
        self.references_as(
            format!("{}_id", singular(crate::types::bare_name(&table))),
            table,
        )
    }

    /// Like [`references`](Self::references) with a column name of your own:
    /// `t.references_as("author_id", "users")`.
    pub fn references_as(
        &mut self,
        column: impl Into<String>,
        table: impl Into<String>,
    ) -> &mut Reference {
        let column = column.into();
        self.columns
            .push(ColumnDef::new(column.clone(), ColumnType::BigInt));
        self.references.push(Reference {
            column: self.columns.len() - 1,
            nullable: false,
            index: true,
            index_name: None,
            ty: None,
            foreign_key: ForeignKeyDef {
                name: default_name("fk", &self.name, std::slice::from_ref(&column)),
                columns: vec![column],
                ref_table: table.into(),
                ref_columns: vec!["id".into()],
                on_delete: None,
                on_update: None,
                not_valid: false,
            },
        });
        self.references.last_mut().expect("just pushed")
    }

    /// `created_at` and `updated_at`: timestamps with time zone, `NOT NULL`, defaulting to now.
    pub fn timestamps(&mut self) {
        for name in ["created_at", "updated_at"] {
            let mut def = ColumnDef::new(name, ColumnType::TimestampTz);
            def.default = Some(CurrentTimestamp.into());
            self.add(def);
        }
    }

    /// A primary key over several columns: `t.primary_key(["post_id", "tag_id"])`.
    pub fn primary_key<I, S>(&mut self, columns: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.primary_key = Some(strings(columns));
    }

    /// An index created with the table.
    pub fn index<I, S>(&mut self, columns: I) -> &mut IndexDef
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.indexes.push(IndexDef {
            name: String::new(),
            columns: strings(columns),
            is_unique: false,
            predicate: None,
            is_concurrent: false,
        });
        self.indexes.last_mut().expect("just pushed")
    }

    /// A unique constraint over several columns.
    pub fn unique<I, S>(&mut self, columns: I) -> &mut UniqueDef
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.uniques.push(UniqueDef {
            name: String::new(),
            columns: strings(columns),
        });
        self.uniques.last_mut().expect("just pushed")
    }

    /// A named check constraint over the table's columns.
    pub fn check(&mut self, name: impl Into<String>, expr: impl Into<SqlExpr>) {
        self.checks.push(CheckDef {
            name: name.into(),
            expr: expr.into(),
            column: None,
            not_valid: false,
        });
    }

    pub(crate) fn finish(mut self) -> (TableDef, Vec<String>) {
        let mut errors = Vec::new();
        let table = self.name.clone();
        let mut primary_key: Vec<String> = Vec::new();
        let mut uniques = Vec::new();
        let mut checks = Vec::new();
        for col in &mut self.columns {
            if std::mem::take(&mut col.primary_key) {
                primary_key.push(col.name.clone());
            }
            if std::mem::take(&mut col.unique) {
                let columns = vec![col.name.clone()];
                uniques.push(UniqueDef {
                    name: default_name("uq", &table, &columns),
                    columns,
                });
            }
            if let Some(expr) = col.check.take() {
                checks.push(CheckDef {
                    name: format!("ck_{table}_{}", col.name),
                    expr,
                    column: Some(col.name.clone()),
                    not_valid: false,
                });
            }
        }
        if let Some(pk) = self.primary_key.take() {
            if !primary_key.is_empty() {
                errors.push(format!(
                    "create_table(\"{table}\") declares a primary key twice ({primary_key:?} and {pk:?}): keep one"
                ));
            }
            if pk.is_empty() {
                errors.push(format!(
                    "create_table(\"{table}\") has an empty primary_key([]): name at least one column"
                ));
            }
            primary_key = pk;
        }
        let mut foreign_keys = Vec::new();
        let mut indexes = Vec::new();
        for r in self.references {
            if r.nullable {
                self.columns[r.column].nullable = true;
            }
            if let Some(ty) = r.ty {
                self.columns[r.column].ty = ty;
            }
            if r.index && primary_key.first() != Some(&r.foreign_key.columns[0]) {
                indexes.push(IndexDef {
                    name: r
                        .index_name
                        .unwrap_or_else(|| default_name("idx", &table, &r.foreign_key.columns)),
                    columns: r.foreign_key.columns.clone(),
                    is_unique: false,
                    predicate: None,
                    is_concurrent: false,
                });
            }
            foreign_keys.push(r.foreign_key);
        }
        for mut index in self.indexes {
            if index.name.is_empty() {
                index.name = default_name("idx", &table, &index.columns);
            }
            if index.is_concurrent {
                // A new table is empty: building its index concurrently buys nothing.
                index.is_concurrent = false;
            }
            indexes.push(index);
        }
        for mut unique in self.uniques {
            if unique.name.is_empty() {
                unique.name = default_name("uq", &table, &unique.columns);
            }
            uniques.push(unique);
        }
        checks.extend(self.checks);
        // The plan keeps every table of every migration: without the room the pushes left
        // (a table of five columns kept room for eight, 1 KB more).
        self.columns.shrink_to_fit();
        indexes.shrink_to_fit();
        let def = TableDef {
            name: table,
            columns: self.columns,
            primary_key,
            indexes,
            foreign_keys,
            checks,
            uniques,
            comment: self.comment,
        };
        (def, errors)
    }
}
