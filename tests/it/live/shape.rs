//! A backend-neutral description of a schema, as both a live database and the schema model
//! give it, so the two can be compared.
//!
//! A shape is a set of lines, one per column, key, index and constraint, each prefixed with
//! its table: comparing two shapes ignores column order, and a difference reads as the lines
//! only one side has.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::op::ObjectKind;
use godwit_core::{Backend, ColumnType, ReferentialAction, SchemaModel};
use godwit_runner::introspect::normalize_type;

/// One table as introspected (or projected from the model).
#[derive(Debug, Default)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    pub checks: Vec<String>,
}

#[derive(Debug)]
pub struct Column {
    pub name: String,
    /// The type as the backend spells it, normalized by godwit-runner's `normalize_type`.
    pub ty: String,
    pub nullable: bool,
    pub has_default: bool,
    pub auto_increment: bool,
    /// A generated column: stored (`true`) or virtual.
    pub generated: Option<bool>,
}

/// An index, or a unique constraint (counted as a unique index).
#[derive(Debug)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
}

#[derive(Debug)]
pub struct ForeignKey {
    /// `None` where the backend does not keep the name.
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
}

/// A whole schema, ready to compare.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub lines: BTreeSet<String>,
    /// Each table's columns, in order.
    pub column_order: BTreeMap<String, Vec<String>>,
    /// The model's indexes made by raw SQL, `(table, name)`: compared by name only.
    pub raw_indexes: BTreeSet<(String, String)>,
}

impl Shape {
    pub fn from_tables(tables: Vec<Table>) -> Shape {
        let mut shape = Shape::default();
        for t in tables {
            let name = &t.name;
            let mut add = |line: String| {
                shape.lines.insert(format!("{name}: {line}"));
            };
            add("table".into());
            for c in &t.columns {
                let mut line = format!("column {} {}", c.name, c.ty);
                line.push_str(if c.nullable { " null" } else { " not null" });
                if c.has_default {
                    line.push_str(" default");
                }
                if c.auto_increment {
                    line.push_str(" auto_increment");
                }
                match c.generated {
                    Some(true) => line.push_str(" generated stored"),
                    Some(false) => line.push_str(" generated virtual"),
                    None => {}
                }
                add(line);
            }
            if !t.primary_key.is_empty() {
                add(format!("primary key ({})", t.primary_key.join(", ")));
            }
            for i in &t.indexes {
                add(format!(
                    "{}index {} ({}){}",
                    if i.unique { "unique " } else { "" },
                    i.name,
                    i.columns.join(", "),
                    if i.partial { " partial" } else { "" }
                ));
            }
            for f in &t.foreign_keys {
                add(format!(
                    "foreign key {}({}) -> {}({}) on delete {} on update {}",
                    f.name.as_ref().map(|n| format!("{n} ")).unwrap_or_default(),
                    f.columns.join(", "),
                    f.ref_table,
                    f.ref_columns.join(", "),
                    f.on_delete,
                    f.on_update
                ));
            }
            for c in &t.checks {
                add(format!("check {c}"));
            }
            shape.column_order.insert(
                t.name.clone(),
                t.columns.iter().map(|c| c.name.clone()).collect(),
            );
        }
        shape
    }

    /// Views, triggers and functions, as `(kind, name, table of a trigger)` rows.
    pub fn add_objects(&mut self, objects: Vec<(String, String, Option<String>)>) {
        for (kind, name, table) in objects {
            self.lines.insert(match table {
                Some(t) => format!("{t}: {kind} {name}"),
                None => format!("{kind} {name}"),
            });
        }
    }

    /// The shape the schema model says `backend` should have.
    pub fn from_model(backend: Backend, model: &SchemaModel) -> Shape {
        let mut shape = Self::from_tables_of(backend, model);
        let left_out = |o: &godwit_core::op::DeclaredObject| o.left_out_on(backend);
        if backend == Backend::Postgres {
            for name in &model.schemas {
                shape.lines.insert(format!("schema {name}"));
            }
            for (name, values) in &model.enums {
                shape
                    .lines
                    .insert(format!("enum {name} ({})", values.join(", ")));
            }
        }
        if backend != Backend::Sqlite {
            for t in model.tables.values() {
                if let Some(c) = &t.comment {
                    shape
                        .lines
                        .insert(format!("{}: comment on table {c}", t.name));
                }
                for col in &t.columns {
                    if let Some(c) = &col.comment {
                        shape
                            .lines
                            .insert(format!("{}: comment on column {} {c}", t.name, col.name));
                    }
                }
            }
        }
        for o in model.objects.iter().filter(|o| !left_out(o)) {
            let kind = o.kind.name();
            match o.kind {
                ObjectKind::Index => {
                    let table = o.tables[0].clone();
                    shape.lines.insert(format!("{table}: raw index {}", o.name));
                    shape.raw_indexes.insert((table, o.name.clone()));
                }
                ObjectKind::Trigger => {
                    shape
                        .lines
                        .insert(format!("{}: {kind} {}", o.tables[0], o.name));
                }
                ObjectKind::View
                | ObjectKind::Function
                | ObjectKind::MaterializedView
                | ObjectKind::Extension => {
                    shape.lines.insert(format!("{kind} {}", o.name));
                }
            }
        }
        shape
    }

    fn from_tables_of(backend: Backend, model: &SchemaModel) -> Shape {
        let tables = model
            .tables
            .values()
            .map(|t| Table {
                name: t.name.clone(),
                columns: t
                    .columns
                    .iter()
                    .map(|c| Column {
                        name: c.name.clone(),
                        ty: normalize_type(&expected_type(backend, &c.ty)),
                        // MariaDB takes no `NOT NULL` on a generated column.
                        nullable: (c.nullable
                            || (c.generated.is_some() && backend == Backend::MySql))
                            && !t.primary_key.contains(&c.name),
                        has_default: c.default.is_some(),
                        auto_increment: c.auto_increment,
                        generated: c.generated.as_ref().map(|g| g.stored),
                    })
                    .collect(),
                primary_key: t.primary_key.clone(),
                indexes: t
                    .indexes
                    .iter()
                    .map(|i| Index {
                        name: i.name.clone(),
                        columns: i.columns.clone(),
                        unique: i.is_unique,
                        partial: i.predicate.is_some(),
                    })
                    .chain(t.uniques.iter().map(|u| Index {
                        name: u.name.clone(),
                        columns: u.columns.clone(),
                        unique: true,
                        partial: false,
                    }))
                    .collect(),
                foreign_keys: t
                    .foreign_keys
                    .iter()
                    .map(|f| ForeignKey {
                        name: (backend != Backend::Sqlite).then(|| f.name.clone()),
                        columns: f.columns.clone(),
                        ref_table: f.ref_table.clone(),
                        ref_columns: f.ref_columns.clone(),
                        on_delete: action(backend, f.on_delete),
                        on_update: action(backend, f.on_update),
                    })
                    .collect(),
                checks: t.checks.iter().map(|c| c.name.clone()).collect(),
            })
            .collect();
        Shape::from_tables(tables)
    }

    /// Panic, listing the differences, unless `self` (the live schema) equals `expected`.
    pub fn assert_matches(&self, expected: &Shape, what: &str) {
        // An index made by raw SQL is known by name only.
        let lines: BTreeSet<String> = self
            .lines
            .iter()
            .map(|line| {
                for (table, name) in &expected.raw_indexes {
                    let rest = line
                        .strip_prefix(&format!("{table}: "))
                        .map(|r| r.strip_prefix("unique ").unwrap_or(r));
                    if rest.is_some_and(|r| r.starts_with(&format!("index {name} ("))) {
                        return format!("{table}: raw index {name}");
                    }
                }
                line.clone()
            })
            .collect();
        let live = Shape {
            lines,
            ..Shape::default()
        };
        let self_ = &live;
        let only_live: Vec<&String> = self_.lines.difference(&expected.lines).collect();
        let only_expected: Vec<&String> = expected.lines.difference(&self_.lines).collect();
        if only_live.is_empty() && only_expected.is_empty() {
            return;
        }
        let mut msg = format!("{what}: the live schema differs\n");
        for line in only_expected {
            msg.push_str(&format!("  expected, missing in the database: {line}\n"));
        }
        for line in only_live {
            msg.push_str(&format!("  in the database, not expected:     {line}\n"));
        }
        panic!("{msg}");
    }

    /// Panic unless every table's columns come in the order `expected` has them.
    pub fn assert_column_order(&self, expected: &Shape, what: &str) {
        assert_eq!(
            self.column_order, expected.column_order,
            "{what}: column order differs from the model"
        );
    }
}

/// How a backend spells a referential action left unspecified, and the others.
fn action(backend: Backend, action: Option<ReferentialAction>) -> String {
    match action {
        None if backend == Backend::MySql => "RESTRICT".into(),
        None => "NO ACTION".into(),
        Some(ReferentialAction::Cascade) => "CASCADE".into(),
        Some(ReferentialAction::SetNull) => "SET NULL".into(),
        Some(ReferentialAction::SetDefault) => "SET DEFAULT".into(),
        Some(ReferentialAction::Restrict) => "RESTRICT".into(),
        Some(ReferentialAction::NoAction) => "NO ACTION".into(),
    }
}

/// The column type each backend reports for a godwit type (PostgreSQL's `format_type`,
/// MariaDB's `COLUMN_TYPE`, SQLite's declared type), as documented on `ColumnType`.
pub fn expected_type(backend: Backend, ty: &ColumnType) -> String {
    use ColumnType::*;
    match backend {
        Backend::Postgres => match ty {
            SmallInt => "smallint".into(),
            Integer => "integer".into(),
            BigInt => "bigint".into(),
            String(n) => format!("character varying({n})"),
            Text => "text".into(),
            Boolean => "boolean".into(),
            Float => "real".into(),
            Double => "double precision".into(),
            Decimal(p, s) => format!("numeric({p},{s})"),
            Date => "date".into(),
            Time => "time without time zone".into(),
            Timestamp => "timestamp without time zone".into(),
            TimestampTz => "timestamp with time zone".into(),
            Uuid => "uuid".into(),
            Json => "jsonb".into(),
            Binary => "bytea".into(),
            // Quoted by `format_type` unless plain lowercase, the schema apart.
            Enum(e) => e
                .name
                .split('.')
                .map(|part| {
                    if part.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        part.to_string()
                    } else {
                        format!("\"{part}\"")
                    }
                })
                .collect::<Vec<_>>()
                .join("."),
        },
        Backend::MySql => match ty {
            SmallInt => "smallint".into(),
            Integer => "int".into(),
            BigInt => "bigint".into(),
            String(n) => format!("varchar({n})"),
            Text => "text".into(),
            Boolean => "tinyint(1)".into(),
            Float => "float".into(),
            Double => "double".into(),
            Decimal(p, s) => format!("decimal({p},{s})"),
            Date => "date".into(),
            Time => "time(6)".into(),
            // A `timestamp_tz` is a `datetime(6)` in UTC there.
            Timestamp | TimestampTz => "datetime(6)".into(),
            Uuid => "binary(16)".into(),
            // MariaDB's JSON is LONGTEXT with a json_valid check.
            Json => "longtext".into(),
            Binary => "blob".into(),
            Enum(e) => format!(
                "enum({})",
                e.values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        },
        Backend::Sqlite => match ty {
            SmallInt => "smallint".into(),
            Integer => "integer".into(),
            BigInt => "integer".into(),
            String(n) => format!("varchar({n})"),
            Text => "text".into(),
            Boolean => "boolean".into(),
            Float => "float".into(),
            Double => "double".into(),
            // Past 15 digits, TEXT affinity keeps the digits written (NUMERIC would make a REAL).
            Decimal(p, s) if *p > 15 => format!("decimal_text({p},{s})"),
            Decimal(p, s) => format!("decimal({p},{s})"),
            Date => "date_text".into(),
            Time => "time_text".into(),
            Timestamp => "datetime_text".into(),
            TimestampTz => "timestamp_with_timezone_text".into(),
            Uuid => "uuid_text".into(),
            Json => "json_text".into(),
            Binary => "blob".into(),
            Enum(_) => "text".into(),
        },
    }
}
