//! Reading a live database's schema, and comparing it with the schema model.
//!
//! [`live_schema`] connects read-only and returns a [`LiveSchema`]: every table except the
//! history table, with its columns (type as the backend spells it, nullability, default,
//! auto-increment), primary key, indexes (unique or not, columns, partial predicate), unique
//! constraints, foreign keys (referenced table and columns, `ON DELETE`/`ON UPDATE`) and check
//! constraints. [`diff`] compares it with a [`SchemaModel`](godwit_core::SchemaModel) and returns one [`Difference`] per
//! thing that does not match, each a line a person can act on.
//!
//! Where the information comes from:
//!
//! - foreign keys on PostgreSQL and MySQL/MariaDB: sea-schema's discovery (constraint name,
//!   columns, referenced table and columns, actions);
//! - everything else from catalog queries, because sea-schema's discovery parses types into
//!   its own enums (losing the exact spelling that tells `bigint` from `integer` on SQLite or a
//!   boolean from a `tinyint(4)`), and does not give partial index predicates (PostgreSQL,
//!   SQLite), SQLite's check constraints or the names of SQLite's unique constraints:
//!   PostgreSQL's `pg_catalog` (`format_type`, `pg_get_expr`, `pg_get_constraintdef`),
//!   MySQL/MariaDB's `information_schema`, and SQLite's `sqlite_master` text and schema pragmas.
//!
//! What the comparison looks at, and what it leaves out on purpose so that a schema godwit
//! created never differs from its model:
//!
//! - types are compared in the backend's own spelling of the type godwit renders (PostgreSQL:
//!   `integer`, `character varying(50)`, `timestamp with time zone`; MariaDB: `int`,
//!   `tinyint(1)` for booleans, `longtext` for JSON; SQLite: the declared type). MySQL's
//!   display widths (`int(11)`) are ignored;
//! - defaults are compared by presence only: backends rewrite default expressions
//!   (`'draft'::character varying`, `current_timestamp()`), so their text is shown in messages
//!   but not compared;
//! - check constraints are compared by name only, for the same reason; the check MariaDB adds
//!   to a JSON column (`json_valid`, named after the column) is not reported;
//! - a partial index is compared by whether it has a predicate, not by the predicate's text;
//! - the index MySQL creates by itself for a foreign key (named after the constraint) is not
//!   reported;
//! - SQLite does not keep foreign key names: there they are compared by columns.
//!
//! **Invariant:** nothing here panics on what a catalog holds: a type godwit does not know is
//! a difference (`the database has tsvector`), never an error; a sea-schema discovery that
//! panics is an error.

mod diff;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod foreign_keys;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
mod types;

use std::collections::BTreeMap;
use std::fmt;

use godwit_core::op::ObjectKind;
use godwit_core::{Backend, ColumnType};

pub use diff::{OTHER_TOOLS_HISTORY, diff};
pub use types::{catalog_type, normalize_type, parse_type};

/// SQLite's `CREATE TABLE` text, read for what its pragmas do not give (the tests' schema oracle
/// reads it too).
#[doc(hidden)]
pub use sqlite::{Parsed as SqliteCreateTable, parse_create_table as parse_sqlite_create_table};

use crate::connect::{Conn, Purpose, connect};
use crate::error::{Error, db_reason};
use crate::url::DatabaseUrl;

/// A live database's schema, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSchema {
    /// Tables by name; the history table is left out.
    pub tables: BTreeMap<String, LiveTable>,
    /// Views, triggers and functions (indexes are in their table), by kind and name.
    pub objects: Vec<LiveObject>,
    /// PostgreSQL's enumerated types in the current schema, with their values in order.
    pub enums: BTreeMap<String, Vec<String>>,
}

/// A view, trigger or function of a live database (PostgreSQL: in the current schema, and not
/// part of an extension; SQLite has no functions).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LiveObject {
    /// A view, a trigger or a function; never an index.
    pub kind: ObjectKind,
    /// The object's name.
    pub name: String,
    /// A trigger's table.
    pub table: Option<String>,
    /// A view's query as the database keeps it (PostgreSQL and MySQL/MariaDB rewrite it;
    /// SQLite keeps the `CREATE VIEW` as written).
    pub definition: Option<String>,
}

impl LiveObject {
    fn from_row(
        kind: &str,
        name: String,
        table: Option<String>,
        definition: Option<String>,
    ) -> Option<LiveObject> {
        let kind = match kind {
            "view" => ObjectKind::View,
            "materialized view" => ObjectKind::MaterializedView,
            "trigger" => ObjectKind::Trigger,
            "function" => ObjectKind::Function,
            "extension" => ObjectKind::Extension,
            _ => return None,
        };
        Some(LiveObject {
            kind,
            name,
            table,
            definition,
        })
    }
}

/// One table of a live database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTable {
    /// The table's name.
    pub name: String,
    /// In the table's order.
    pub columns: Vec<LiveColumn>,
    /// The primary key's columns, in key order; empty without one.
    pub primary_key: Vec<String>,
    /// Indexes other than the primary key's, and unique constraints (`constraint` set).
    pub indexes: Vec<LiveIndex>,
    /// The table's foreign keys.
    pub foreign_keys: Vec<LiveForeignKey>,
    /// The table's check constraints.
    pub checks: Vec<LiveCheck>,
    /// PostgreSQL: the foreign keys added `NOT VALID` and not validated since, by name.
    pub foreign_keys_not_valid: Vec<String>,
    /// The table's comment (PostgreSQL, MySQL/MariaDB; an empty one is none).
    pub comment: Option<String>,
}

impl LiveTable {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&LiveColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column of a live table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveColumn {
    /// The column's name.
    pub name: String,
    /// The type as the backend spells it: PostgreSQL's `format_type`, MySQL/MariaDB's
    /// `COLUMN_TYPE`, SQLite's declared type.
    pub ty: String,
    /// Whether the column accepts `NULL`.
    pub nullable: bool,
    /// The default's SQL text as the backend keeps it; `None` without a default (and for the
    /// sequence default of a `serial` column, which counts as auto-increment).
    pub default: Option<String>,
    /// An identity or `serial` column, `AUTO_INCREMENT`, or SQLite's `AUTOINCREMENT`.
    pub auto_increment: bool,
    /// The column's comment (PostgreSQL, MySQL/MariaDB; an empty one is none).
    pub comment: Option<String>,
    /// A generated column: `Some(true)` stored, `Some(false)` virtual.
    pub generated: Option<bool>,
}

impl LiveColumn {
    /// The godwit type this column's type is, on `backend`; `None` for a type godwit does not
    /// create. SQLite's `integer` reads as [`ColumnType::Integer`] (godwit's `BigInt` is
    /// `integer` there too).
    pub fn column_type(&self, backend: Backend) -> Option<ColumnType> {
        parse_type(backend, &self.ty)
    }
}

/// An index, or a unique constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIndex {
    /// The index's name; for a SQLite unique constraint, the constraint's name.
    pub name: String,
    /// The indexed columns, in order; an expression shows as `<expression>`.
    pub columns: Vec<String>,
    /// A unique index or constraint.
    pub unique: bool,
    /// The `WHERE` predicate of a partial index, as the backend keeps it. SQLite gives only
    /// whether there is one: its predicate is then `<partial>`.
    pub predicate: Option<String>,
    /// A unique constraint rather than an index (MySQL/MariaDB do not tell them apart).
    pub constraint: bool,
    /// `false` for a PostgreSQL index left invalid by a failed `CREATE INDEX CONCURRENTLY`.
    pub valid: bool,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveForeignKey {
    /// `None` on SQLite, which does not keep the name.
    pub name: Option<String>,
    /// The referencing columns, in order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns, matching `columns` one for one; on SQLite, `<primary key>` where
    /// the foreign key names no referenced column.
    pub ref_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT` or `NO ACTION`.
    pub on_delete: String,
    /// The `ON UPDATE` action, spelled as `on_delete` is.
    pub on_update: String,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCheck {
    /// The constraint's name.
    pub name: String,
    /// The expression as the backend keeps it; empty on SQLite.
    pub expr: String,
    /// `false` for a PostgreSQL check added `NOT VALID` and not validated since.
    pub valid: bool,
}

/// What a [`Difference`] is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Object {
    /// The table itself.
    Table,
    /// A column, by name.
    Column(String),
    /// The table's primary key.
    PrimaryKey,
    /// An index or a unique constraint, by name.
    Index(String),
    /// A foreign key, by name (on SQLite, by its columns).
    ForeignKey(String),
    /// A check constraint, by name.
    Check(String),
    /// A trigger on the table, by name.
    Trigger(String),
    /// The view of [`Difference::table`]'s name.
    View,
    /// The function of [`Difference::table`]'s name.
    Function,
    /// The materialized view of [`Difference::table`]'s name.
    MaterializedView,
    /// The extension of [`Difference::table`]'s name.
    Extension,
    /// The enumerated type of [`Difference::table`]'s name.
    Enum,
    /// The table's comment.
    TableComment,
    /// A column's comment, by the column's name.
    ColumnComment(String),
}

/// Whether the thing is missing from the database, only in the database, or different.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DifferenceKind {
    /// The migrations have it; the database does not.
    Missing,
    /// The database has it; the migrations do not.
    Unexpected,
    /// Both have it, not alike.
    Changed,
}

/// One way the live schema differs from the schema model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Difference {
    /// The table concerned; for a view or a function, its own name.
    pub table: String,
    /// What in the table differs.
    pub object: Object,
    /// Whether it is missing, unexpected or changed.
    pub kind: DifferenceKind,
    /// What the migrations say, for [`DifferenceKind::Changed`] (and what is missing).
    pub expected: Option<String>,
    /// What the database has, for [`DifferenceKind::Changed`] (and what is unexpected).
    pub found: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.table;
        let what = match &self.object {
            Object::Table => format!("table {t}"),
            Object::Column(c) => format!("column {t}.{c}"),
            Object::PrimaryKey => format!("the primary key of {t}"),
            Object::Index(i) => format!("index {i} on {t}"),
            Object::ForeignKey(k) => format!("foreign key {k} on {t}"),
            Object::Check(c) => format!("check {c} on {t}"),
            Object::Trigger(n) => format!("trigger {n} on {t}"),
            Object::View => format!("view {t}"),
            Object::Function => format!("function {t}"),
            Object::MaterializedView => format!("materialized view {t}"),
            Object::Extension => format!("extension {t}"),
            Object::Enum => format!("enum {t}"),
            Object::TableComment => format!("the comment of table {t}"),
            Object::ColumnComment(c) => format!("the comment of column {t}.{c}"),
        };
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "nothing".into());
        match self.kind {
            DifferenceKind::Missing => match (&self.object, &self.expected) {
                (
                    Object::Table
                    | Object::View
                    | Object::Function
                    | Object::MaterializedView
                    | Object::Extension,
                    _,
                )
                | (_, None) => {
                    write!(f, "{what} is missing")
                }
                (_, Some(e)) => write!(f, "{what} is missing (migrations say {e})"),
            },
            DifferenceKind::Unexpected => {
                match (&self.object, &self.found) {
                    (Object::Table, _) | (_, None) => {
                        write!(f, "{what} is in the database but not in the migrations")?
                    }
                    (_, Some(d)) => write!(
                        f,
                        "{what} is in the database but not in the migrations ({d})"
                    )?,
                }
                // What raw SQL made, it can declare.
                let declare = match &self.object {
                    Object::Index(i) => format!(".creates_index(\"{i}\", \"{t}\")"),
                    Object::Trigger(n) => format!(".creates_trigger(\"{n}\", \"{t}\")"),
                    Object::View => format!(".creates_view(\"{t}\", [/* tables it reads */])"),
                    Object::Function => format!(".creates_function(\"{t}\")"),
                    _ => return Ok(()),
                };
                write!(
                    f,
                    "; if a migration's raw SQL made it, declare it there: `{declare}`"
                )
            }
            DifferenceKind::Changed => write!(
                f,
                "{what}: migrations say {}, the database has {}",
                show(&self.expected),
                show(&self.found)
            ),
        }
    }
}

/// Connect to `url` read-only and read its schema, leaving out `history_table`. On PostgreSQL
/// it reads the connection's schema and `schemas` besides (those the migrations name, see
/// [`godwit_core::SchemaModel::named_schemas`]); a table of one of those is named
/// `schema.table`.
pub async fn live_schema(
    url: &DatabaseUrl,
    history_table: &str,
    schemas: &[String],
) -> Result<LiveSchema, Error> {
    let timeout = std::time::Duration::from_secs(10);
    let mut conn = connect(url, Purpose::ReadOnly, timeout, timeout).await?;
    let backend = conn.backend();
    let fail = |e: sqlx::Error| Error::Database {
        backend,
        action: "reading the live schema".into(),
        reason: url.scrub(&db_reason(&e)),
    };
    let read_only = match backend {
        Backend::Postgres => Some("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
        Backend::MySql => Some("SET SESSION TRANSACTION READ ONLY"),
        Backend::Sqlite => None,
    };
    if let Some(sql) = read_only {
        conn.batch(sql).await.map_err(fail)?;
    }
    let result = introspect(&mut conn, history_table, schemas)
        .await
        .map_err(fail);
    conn.close().await;
    let mut schema = result?;
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    if backend != Backend::Sqlite {
        let discovered = foreign_keys::discover_foreign_keys(url).await?;
        for (name, table) in schema.tables.iter_mut() {
            // sea-schema reads the connection's schema: the foreign keys of a table in another
            // are the catalog's, and so is the (schema-qualified) table a key references there.
            if name.contains('.') {
                continue;
            }
            let mut found = discovered.get(name).cloned().unwrap_or_default();
            for fk in &mut found {
                if let Some(catalog) = table
                    .foreign_keys
                    .iter()
                    .find(|c| c.name == fk.name && c.ref_table.contains('.'))
                {
                    fk.ref_table.clone_from(&catalog.ref_table);
                }
            }
            table.foreign_keys = found;
        }
    }
    Ok(schema)
}

/// Read the schema on `conn` with catalog queries, leaving out `history_table` and godwit's
/// progress tables.
pub(crate) async fn introspect(
    conn: &mut Conn,
    history_table: &str,
    schemas: &[String],
) -> Result<LiveSchema, sqlx::Error> {
    #[cfg(not(feature = "postgres"))]
    let _ = schemas;
    type Comments = Vec<(String, Option<String>, Option<String>)>;
    let mut enums: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut tables, rows, comments): (_, _, Comments) = match conn {
        #[cfg(feature = "postgres")]
        Conn::Postgres(c) => {
            let rows: Vec<(String, String)> = sqlx::query_as(postgres::PG_ENUMS)
                .bind(schemas)
                .fetch_all(&mut *c)
                .await?;
            for (name, value) in rows {
                enums.entry(name).or_default().push(value);
            }
            (
                postgres::introspect(c, schemas).await?,
                sqlx::query_as(postgres::PG_OBJECTS)
                    .bind(schemas)
                    .fetch_all(&mut *c)
                    .await?,
                sqlx::query_as(postgres::PG_COMMENTS)
                    .bind(schemas)
                    .fetch_all(&mut *c)
                    .await?,
            )
        }
        #[cfg(feature = "mysql")]
        Conn::MySql(c) => (
            mysql::introspect(c).await?,
            sqlx::query_as(mysql::MY_OBJECTS).fetch_all(&mut *c).await?,
            sqlx::query_as(mysql::MY_COMMENTS)
                .fetch_all(&mut *c)
                .await?,
        ),
        #[cfg(feature = "sqlite")]
        Conn::Sqlite(c, _) => (
            sqlite::introspect(c).await?,
            sqlx::query_as(sqlite::SQLITE_OBJECTS)
                .fetch_all(&mut *c)
                .await?,
            Vec::new(),
        ),
    };
    let rows: Vec<(String, String, Option<String>, Option<String>)> = rows;
    let mut objects: Vec<LiveObject> = rows
        .into_iter()
        .filter_map(|(kind, name, table, definition)| {
            LiveObject::from_row(&kind, name, table, definition)
        })
        .collect();
    objects.sort();
    for (table, column, comment) in comments {
        let comment = comment.filter(|c| !c.is_empty());
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        match column {
            None => t.comment = comment,
            Some(column) => {
                if let Some(c) = t.columns.iter_mut().find(|c| c.name == column) {
                    c.comment = comment;
                }
            }
        }
    }
    // godwit's own bookkeeping: history, the progress of batched steps, and of `copy`.
    tables.remove(history_table);
    tables.remove(&crate::batch::Progress::new(history_table, conn.backend()).table);
    tables.remove(crate::copy::PROGRESS_TABLE);
    Ok(LiveSchema {
        tables,
        objects,
        enums,
    })
}

pub(super) fn new_table(name: String) -> (String, LiveTable) {
    (
        name.clone(),
        LiveTable {
            name,
            ..LiveTable::default()
        },
    )
}
