//! Reading a live database's schema, and comparing it with the schema model.
//!
//! [`live_schema`] connects read-only and returns a [`LiveSchema`]: every table except the
//! history table, with its columns (type as the backend spells it, nullability, default,
//! auto-increment), primary key, indexes (unique or not, columns, partial predicate), unique
//! constraints, foreign keys (referenced table and columns, `ON DELETE`/`ON UPDATE`) and check
//! constraints. [`diff`] compares it with a [`SchemaModel`] and returns one [`Difference`] per
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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use godwit_core::{
    Backend, ColumnDef, ColumnType, DefaultValue, ReferentialAction, SchemaModel, SqlExpr,
};
use sea_query::Expr;
use sqlx::Row;
use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use crate::connect::{Conn, Purpose, connect};
use crate::error::{Error, db_reason};
use crate::url::DatabaseUrl;

/// A live database's schema, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSchema {
    /// Tables by name; the history table is left out.
    pub tables: BTreeMap<String, LiveTable>,
}

/// One table of a live database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTable {
    pub name: String,
    /// In the table's order.
    pub columns: Vec<LiveColumn>,
    /// The primary key's columns, in key order; empty without one.
    pub primary_key: Vec<String>,
    /// Indexes other than the primary key's, and unique constraints (`constraint` set).
    pub indexes: Vec<LiveIndex>,
    pub foreign_keys: Vec<LiveForeignKey>,
    pub checks: Vec<LiveCheck>,
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
    pub name: String,
    /// The type as the backend spells it: PostgreSQL's `format_type`, MySQL/MariaDB's
    /// `COLUMN_TYPE`, SQLite's declared type.
    pub ty: String,
    pub nullable: bool,
    /// The default's SQL text as the backend keeps it; `None` without a default (and for the
    /// sequence default of a `serial` column, which counts as auto-increment).
    pub default: Option<String>,
    /// An identity or `serial` column, `AUTO_INCREMENT`, or SQLite's `AUTOINCREMENT`.
    pub auto_increment: bool,
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
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT` or `NO ACTION`.
    pub on_delete: String,
    pub on_update: String,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCheck {
    pub name: String,
    /// The expression as the backend keeps it; empty on SQLite.
    pub expr: String,
}

/// What a [`Difference`] is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Object {
    Table,
    Column(String),
    PrimaryKey,
    /// An index or a unique constraint, by name.
    Index(String),
    /// A foreign key, by name (on SQLite, by its columns).
    ForeignKey(String),
    Check(String),
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
    pub table: String,
    pub object: Object,
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
        };
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "nothing".into());
        match self.kind {
            DifferenceKind::Missing => match (&self.object, &self.expected) {
                (Object::Table, _) | (_, None) => write!(f, "{what} is missing"),
                (_, Some(e)) => write!(f, "{what} is missing (migrations say {e})"),
            },
            DifferenceKind::Unexpected => match (&self.object, &self.found) {
                (Object::Table, _) | (_, None) => {
                    write!(f, "{what} is in the database but not in the migrations")
                }
                (_, Some(d)) => write!(
                    f,
                    "{what} is in the database but not in the migrations ({d})"
                ),
            },
            DifferenceKind::Changed => write!(
                f,
                "{what}: migrations say {}, the database has {}",
                show(&self.expected),
                show(&self.found)
            ),
        }
    }
}

/// Connect to `url` read-only and read its schema, leaving out `history_table`.
pub async fn live_schema(url: &DatabaseUrl, history_table: &str) -> Result<LiveSchema, Error> {
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
    let result = introspect(&mut conn, history_table).await.map_err(fail);
    conn.close().await;
    let mut schema = result?;
    if backend != Backend::Sqlite {
        let discovered = discover_foreign_keys(url).await?;
        for (name, table) in schema.tables.iter_mut() {
            table.foreign_keys = discovered.get(name).cloned().unwrap_or_default();
        }
    }
    Ok(schema)
}

/// Read the schema on `conn` with catalog queries, leaving out `history_table` and godwit's
/// progress tables.
pub(crate) async fn introspect(
    conn: &mut Conn,
    history_table: &str,
) -> Result<LiveSchema, sqlx::Error> {
    let mut tables = match conn {
        Conn::Postgres(c) => postgres(c).await?,
        Conn::MySql(c) => mysql(c).await?,
        Conn::Sqlite(c, _) => sqlite(c).await?,
    };
    // godwit's own bookkeeping: history, the progress of batched steps, and of `copy`.
    tables.remove(history_table);
    tables.remove(&crate::batch::Progress::new(history_table, conn.backend()).table);
    tables.remove(crate::copy::PROGRESS_TABLE);
    Ok(LiveSchema { tables })
}

/// Foreign keys by table, from sea-schema's discovery, on PostgreSQL and MySQL/MariaDB.
async fn discover_foreign_keys(
    url: &DatabaseUrl,
) -> Result<BTreeMap<String, Vec<LiveForeignKey>>, Error> {
    let backend = url.backend();
    let fail = |reason: String| Error::Database {
        backend,
        action: "discovering foreign keys".into(),
        reason: url.scrub(&reason),
    };
    let raw = url.expose();
    fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
        sqlx::pool::PoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(10))
    }
    let task = match backend {
        Backend::Postgres => {
            let pool: sqlx::PgPool = pool_options()
                .connect(&raw)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                .fetch_one(&pool)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            tokio::spawn(async move {
                use sea_schema::postgres::discovery::SchemaDiscovery;
                let found = SchemaDiscovery::new(pool.clone(), &schema).discover().await;
                pool.close().await;
                found.map(|s| {
                    s.tables
                        .into_iter()
                        .map(|t| {
                            let fks = t
                                .reference_constraints
                                .into_iter()
                                .map(|r| LiveForeignKey {
                                    name: Some(r.name),
                                    columns: r.columns,
                                    ref_table: r.table,
                                    ref_columns: r.foreign_columns,
                                    on_delete: pg_action(r.on_delete),
                                    on_update: pg_action(r.on_update),
                                })
                                .collect();
                            (t.info.name, fks)
                        })
                        .collect::<BTreeMap<_, _>>()
                })
            })
        }
        Backend::MySql => {
            let pool: sqlx::MySqlPool = pool_options()
                .connect(&raw)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            let schema: String = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
                .fetch_one(&pool)
                .await
                .map_err(|e| fail(db_reason(&e)))?;
            tokio::spawn(async move {
                use sea_schema::mysql::discovery::SchemaDiscovery;
                let found = SchemaDiscovery::new(pool.clone(), &schema).discover().await;
                pool.close().await;
                found.map(|s| {
                    s.tables
                        .into_iter()
                        .map(|t| {
                            let fks = t
                                .foreign_keys
                                .into_iter()
                                .map(|k| LiveForeignKey {
                                    name: Some(k.name),
                                    columns: k.columns,
                                    ref_table: k.referenced_table,
                                    ref_columns: k.referenced_columns,
                                    on_delete: mysql_action(k.on_delete),
                                    on_update: mysql_action(k.on_update),
                                })
                                .collect();
                            (t.info.name, fks)
                        })
                        .collect::<BTreeMap<_, _>>()
                })
            })
        }
        Backend::Sqlite => return Ok(BTreeMap::new()),
    };
    match task.await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => Err(fail(db_reason(&e))),
        Err(e) => Err(fail(format!("the schema discovery failed: {e}"))),
    }
}

fn pg_action(a: Option<sea_schema::postgres::def::ForeignKeyAction>) -> String {
    use sea_schema::postgres::def::ForeignKeyAction as A;
    match a {
        Some(A::Cascade) => "CASCADE",
        Some(A::SetNull) => "SET NULL",
        Some(A::SetDefault) => "SET DEFAULT",
        Some(A::Restrict) => "RESTRICT",
        Some(A::NoAction) | None => "NO ACTION",
    }
    .to_string()
}

fn mysql_action(a: sea_schema::mysql::def::ForeignKeyAction) -> String {
    use sea_schema::mysql::def::ForeignKeyAction as A;
    match a {
        A::Cascade => "CASCADE",
        A::SetNull => "SET NULL",
        A::SetDefault => "SET DEFAULT",
        A::Restrict => "RESTRICT",
        A::NoAction => "NO ACTION",
    }
    .to_string()
}

// ----- PostgreSQL ---------------------------------------------------------------------------

/// The columns of `$key` (an `int2[]` of attribute numbers) of relation `$rel`, in order.
macro_rules! attnames {
    ($rel:literal, $key:literal) => {
        concat!(
            "ARRAY(SELECT COALESCE(a.attname::text, '<expression>') FROM unnest(",
            $key,
            ") WITH ORDINALITY k(num, ord) LEFT JOIN pg_attribute a ON a.attrelid = ",
            $rel,
            " AND a.attnum = k.num ORDER BY k.ord)"
        )
    };
}

const PG_TABLES: &str = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')";

const PG_COLUMNS: &str = "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
            pg_get_expr(d.adbin, d.adrelid), a.attidentity::text \
     FROM pg_attribute a \
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY c.relname, a.attnum";

const PG_INDEXES: &str = concat!(
    "SELECT t.relname::text, i.relname::text, x.indisunique, x.indisprimary, pg_get_expr(x.indpred, x.indrelid), \
     x.indisvalid, EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u'), ",
    attnames!("x.indrelid", "x.indkey::int2[]"),
    " FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
      JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema() ORDER BY 1, 2"
);

const PG_CONSTRAINTS: &str = concat!(
    "SELECT t.relname::text, c.conname::text, c.contype::text, ",
    attnames!("c.conrelid", "c.conkey"),
    ", r.relname::text, ",
    attnames!("c.confrelid", "c.confkey"),
    ", c.confdeltype::text, c.confupdtype::text, pg_get_constraintdef(c.oid) \
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
      LEFT JOIN pg_class r ON r.oid = c.confrelid \
      WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f', 'c') ORDER BY 1, 2"
);

fn pg_action_code(code: &str) -> String {
    match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        other => other,
    }
    .to_string()
}

fn new_table(name: String) -> (String, LiveTable) {
    (
        name.clone(),
        LiveTable {
            name,
            ..LiveTable::default()
        },
    )
}

async fn postgres(conn: &mut PgConnection) -> Result<BTreeMap<String, LiveTable>, sqlx::Error> {
    let mut tables: BTreeMap<String, LiveTable> = sqlx::query(PG_TABLES)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| new_table(row.get(0)))
        .collect();
    for row in sqlx::query(PG_COLUMNS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let default: Option<String> = row.get(4);
        let identity: String = row.get(5);
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        t.columns.push(LiveColumn {
            name: row.get(1),
            ty: row.get(2),
            nullable: !row.get::<bool, _>(3),
            default: default.filter(|_| !serial),
            auto_increment: serial || !identity.is_empty(),
        });
    }
    for row in sqlx::query(PG_INDEXES).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        if row.get::<bool, _>(3) {
            continue; // the primary key's index
        }
        t.indexes.push(LiveIndex {
            name: row.get(1),
            columns: row.get(7),
            unique: row.get(2),
            predicate: row.get(4),
            constraint: row.get(6),
            valid: row.get(5),
        });
    }
    for row in sqlx::query(PG_CONSTRAINTS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let columns: Vec<String> = row.get(3);
        match row.get::<String, _>(2).as_str() {
            "p" => t.primary_key = columns,
            "c" => t.checks.push(LiveCheck {
                name,
                expr: row.get(8),
            }),
            _ => t.foreign_keys.push(LiveForeignKey {
                name: Some(name),
                columns,
                ref_table: row.get::<Option<String>, _>(4).unwrap_or_default(),
                ref_columns: row.get(5),
                on_delete: pg_action_code(&row.get::<String, _>(6)),
                on_update: pg_action_code(&row.get::<String, _>(7)),
            }),
        }
    }
    Ok(tables)
}

// ----- MySQL / MariaDB ----------------------------------------------------------------------

const MY_TABLES: &str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";

const MY_COLUMNS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
            CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR) \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION";

const MY_INDEXES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), \
            CAST(COLUMN_NAME AS CHAR) \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const MY_FOREIGN_KEYS: &str = "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
            CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), \
            CAST(r.DELETE_RULE AS CHAR), CAST(r.UPDATE_RULE AS CHAR) \
     FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
       ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

const MY_CHECKS: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
     FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1, 2";

async fn mysql(conn: &mut MySqlConnection) -> Result<BTreeMap<String, LiveTable>, sqlx::Error> {
    let mut tables: BTreeMap<String, LiveTable> = sqlx::query(MY_TABLES)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| new_table(row.get(0)))
        .collect();
    for row in sqlx::query(MY_COLUMNS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        // MariaDB reports the implicit default of a nullable column as the text `NULL`.
        let default: Option<String> = row.get(4);
        let extra: String = row.get::<Option<String>, _>(5).unwrap_or_default();
        t.columns.push(LiveColumn {
            name: row.get(1),
            ty: row.get(2),
            nullable: row.get::<String, _>(3) == "YES",
            default: default.filter(|d| d != "NULL"),
            auto_increment: extra.to_ascii_lowercase().contains("auto_increment"),
        });
    }
    for row in sqlx::query(MY_FOREIGN_KEYS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let (column, ref_column): (String, String) = (row.get(2), row.get(4));
        match t
            .foreign_keys
            .iter_mut()
            .find(|f| f.name.as_deref() == Some(name.as_str()))
        {
            Some(fk) => {
                fk.columns.push(column);
                fk.ref_columns.push(ref_column);
            }
            None => t.foreign_keys.push(LiveForeignKey {
                name: Some(name),
                columns: vec![column],
                ref_table: row.get(3),
                ref_columns: vec![ref_column],
                on_delete: row.get(5),
                on_update: row.get(6),
            }),
        }
    }
    for row in sqlx::query(MY_INDEXES).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let column = row
            .get::<Option<String>, _>(3)
            .unwrap_or_else(|| "<expression>".into());
        if name == "PRIMARY" {
            t.primary_key.push(column);
            continue;
        }
        match t.indexes.iter_mut().find(|i| i.name == name) {
            Some(index) => index.columns.push(column),
            None => t.indexes.push(LiveIndex {
                name,
                columns: vec![column],
                unique: row.get::<i64, _>(2) == 0,
                predicate: None,
                constraint: false,
                valid: true,
            }),
        }
    }
    // The index MySQL creates by itself for a foreign key is named after the constraint.
    for t in tables.values_mut() {
        let fk_names: Vec<String> = t
            .foreign_keys
            .iter()
            .filter_map(|f| f.name.clone())
            .collect();
        t.indexes
            .retain(|i| i.unique || !fk_names.contains(&i.name));
    }
    for row in sqlx::query(MY_CHECKS).fetch_all(&mut *conn).await? {
        let Some(t) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let (name, clause): (String, String) = (row.get(1), row.get(2));
        // MariaDB's JSON columns come with a `json_valid` check named after the column.
        if clause.starts_with("json_valid(") && t.columns.iter().any(|c| c.name == name) {
            continue;
        }
        t.checks.push(LiveCheck { name, expr: clause });
    }
    Ok(tables)
}

// ----- SQLite -------------------------------------------------------------------------------

async fn sqlite(conn: &mut SqliteConnection) -> Result<BTreeMap<String, LiveTable>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for row in rows {
        let name: String = row.get(0);
        let sql: String = row.get::<Option<String>, _>(1).unwrap_or_default();
        let parsed = parse_create_table(&sql);
        let mut t = LiveTable {
            name: name.clone(),
            ..LiveTable::default()
        };

        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in sqlx::query(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?
        {
            let column: String = c.get(0);
            let pk_pos: i64 = c.get(4);
            if pk_pos > 0 {
                pk.push((pk_pos, column.clone()));
            }
            let auto_increment = parsed.autoincrement.as_deref() == Some(column.as_str());
            t.columns.push(LiveColumn {
                ty: c.get::<Option<String>, _>(1).unwrap_or_default(),
                nullable: c.get::<i64, _>(2) == 0 && !auto_increment,
                default: c.get(3),
                auto_increment,
                name: column,
            });
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();

        for i in sqlx::query("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?
        {
            let index_name: String = i.get(0);
            let origin: String = i.get(2);
            if origin == "pk" {
                continue;
            }
            let columns: Vec<String> =
                sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&index_name)
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|r| {
                        r.get::<Option<String>, _>(0)
                            .unwrap_or_else(|| "<expression>".into())
                    })
                    .collect();
            // A UNIQUE constraint's index is `sqlite_autoindex_<table>_<n>`: name it after the
            // constraint.
            let constraint = origin == "u";
            let index_name = if constraint {
                parsed
                    .uniques
                    .iter()
                    .find(|(_, cols)| *cols == columns)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_else(|| format!("<unnamed unique constraint {index_name}>"))
            } else {
                index_name
            };
            t.indexes.push(LiveIndex {
                name: index_name,
                columns,
                unique: i.get::<i64, _>(1) != 0,
                predicate: (i.get::<i64, _>(3) != 0).then(|| "<partial>".to_string()),
                constraint,
                valid: true,
            });
        }
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));

        let mut fks: BTreeMap<i64, LiveForeignKey> = BTreeMap::new();
        for f in sqlx::query(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?
        {
            let fk = fks.entry(f.get(0)).or_insert_with(|| LiveForeignKey {
                name: None,
                columns: Vec::new(),
                ref_table: f.get(1),
                ref_columns: Vec::new(),
                on_delete: f.get(5),
                on_update: f.get(4),
            });
            fk.columns.push(f.get(2));
            fk.ref_columns.push(
                f.get::<Option<String>, _>(3)
                    .unwrap_or_else(|| "<primary key>".into()),
            );
        }
        t.foreign_keys = fks.into_values().collect();
        t.checks = parsed
            .checks
            .into_iter()
            .map(|name| LiveCheck {
                name,
                expr: String::new(),
            })
            .collect();
        tables.insert(name, t);
    }
    Ok(tables)
}

/// What SQLite's `CREATE TABLE` text says that the pragmas do not.
#[derive(Debug, Default, PartialEq)]
struct Parsed {
    /// Named check constraints.
    checks: Vec<String>,
    /// Named unique constraints and their columns.
    uniques: Vec<(String, Vec<String>)>,
    /// The column declared `AUTOINCREMENT`.
    autoincrement: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A keyword or bare identifier.
    Word(String),
    /// A quoted identifier.
    Quoted(String),
    Literal,
    Punct(char),
}

impl Token {
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn ident(&self) -> Option<String> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Some(w.clone()),
            _ => None,
        }
    }
}

fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize, close: char| -> String {
        let mut s = String::new();
        *i += 1;
        while *i < chars.len() {
            if chars[*i] == close {
                if close != ']' && chars.get(*i + 1) == Some(&close) {
                    s.push(close);
                    *i += 2;
                    continue;
                }
                *i += 1;
                break;
            }
            s.push(chars[*i]);
            *i += 1;
        }
        s
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' => {
                quoted(&mut i, '\'');
                tokens.push(Token::Literal);
            }
            '"' => tokens.push(Token::Quoted(quoted(&mut i, '"'))),
            '`' => tokens.push(Token::Quoted(quoted(&mut i, '`'))),
            '[' => tokens.push(Token::Quoted(quoted(&mut i, ']'))),
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            c => {
                tokens.push(Token::Punct(c));
                i += 1;
            }
        }
    }
    tokens
}

/// The identifiers in the parenthesized list starting at `tokens[i]`.
fn column_list(tokens: &[Token], i: usize) -> Vec<String> {
    let mut out = Vec::new();
    if tokens.get(i) != Some(&Token::Punct('(')) {
        return out;
    }
    for t in &tokens[i + 1..] {
        match t {
            Token::Punct(')') => break,
            t => out.extend(t.ident()),
        }
    }
    out
}

fn parse_create_table(sql: &str) -> Parsed {
    let tokens = tokenize(sql);
    let mut parsed = Parsed::default();
    let Some(open) = tokens.iter().position(|t| *t == Token::Punct('(')) else {
        return parsed;
    };
    // Split the body into definitions at top-level commas.
    let mut defs: Vec<&[Token]> = Vec::new();
    let (mut depth, mut start) = (0, open + 1);
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    defs.push(&tokens[start..i]);
                    break;
                }
            }
            Token::Punct(',') if depth == 1 => {
                defs.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    for def in defs {
        let Some(first) = def.first() else { continue };
        let table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|kw| first.is_kw(kw))
            && !matches!(first, Token::Quoted(_));
        let column = if table_constraint {
            None
        } else {
            first.ident()
        };
        if let Some(c) = &column
            && def.iter().any(|t| t.is_kw("AUTOINCREMENT"))
        {
            parsed.autoincrement = Some(c.clone());
        }
        for (i, t) in def.iter().enumerate() {
            if !t.is_kw("CONSTRAINT") {
                continue;
            }
            let (Some(name), Some(kind)) = (def.get(i + 1).and_then(Token::ident), def.get(i + 2))
            else {
                continue;
            };
            if kind.is_kw("CHECK") {
                parsed.checks.push(name);
            } else if kind.is_kw("UNIQUE") {
                let cols = column_list(def, i + 3);
                let cols = if cols.is_empty() {
                    column.iter().cloned().collect()
                } else {
                    cols
                };
                parsed.uniques.push((name, cols));
            }
        }
    }
    parsed
}

// ----- types --------------------------------------------------------------------------------

/// How `backend` spells godwit's `ty` in its catalog (PostgreSQL's `format_type`,
/// MySQL/MariaDB's `COLUMN_TYPE`, SQLite's declared type), normalized by [`normalize_type`].
pub fn catalog_type(backend: Backend, ty: &ColumnType) -> String {
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
            Time => "time".into(),
            Timestamp => "datetime".into(),
            TimestampTz => "timestamp".into(),
            Uuid => "binary(16)".into(),
            // MariaDB's JSON is LONGTEXT with a json_valid check.
            Json => "longtext".into(),
            Binary => "blob".into(),
        },
        Backend::Sqlite => match ty {
            SmallInt => "smallint".into(),
            Integer | BigInt => "integer".into(),
            String(n) => format!("varchar({n})"),
            Text => "text".into(),
            Boolean => "boolean".into(),
            Float => "float".into(),
            Double => "double".into(),
            Decimal(p, s) => format!("decimal({p},{s})"),
            Date => "date_text".into(),
            Time => "time_text".into(),
            Timestamp => "datetime_text".into(),
            TimestampTz => "timestamp_with_timezone_text".into(),
            Uuid => "uuid_text".into(),
            Json => "json_text".into(),
            Binary => "blob".into(),
        },
    }
}

/// A catalog's type text, lowercase, without spaces after commas, and without the display
/// width of MySQL integers (`int(11)` is `int`; `tinyint(1)` stays, it is a boolean).
pub fn normalize_type(ty: &str) -> String {
    let ty = ty.trim().to_ascii_lowercase().replace(", ", ",");
    for int in ["smallint", "int", "bigint"] {
        if let Some(rest) = ty.strip_prefix(int).and_then(|r| r.strip_prefix('('))
            && let Some(digits) = rest.strip_suffix(')')
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return int.to_string();
        }
    }
    ty
}

/// The godwit type a catalog type text is on `backend`, if godwit creates that type there.
pub fn parse_type(backend: Backend, ty: &str) -> Option<ColumnType> {
    use ColumnType::*;
    let ty = normalize_type(ty);
    let fixed = [
        SmallInt,
        Integer,
        BigInt,
        Text,
        Boolean,
        Float,
        Double,
        Date,
        Time,
        Timestamp,
        TimestampTz,
        Uuid,
        Json,
        Binary,
    ];
    if let Some(t) = fixed.into_iter().find(|t| catalog_type(backend, t) == ty) {
        return Some(t);
    }
    let args = |prefix: &str| -> Option<Vec<u32>> {
        let inner = ty
            .strip_prefix(prefix)?
            .strip_prefix('(')?
            .strip_suffix(')')?;
        inner.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    let (string, decimal) = match backend {
        Backend::Postgres => ("character varying", "numeric"),
        Backend::MySql | Backend::Sqlite => ("varchar", "decimal"),
    };
    if let Some([n]) = args(string).as_deref() {
        return Some(String(*n));
    }
    if let Some([p, s]) = args(decimal).as_deref() {
        return Some(Decimal(*p, *s));
    }
    None
}

// ----- the comparison -----------------------------------------------------------------------

/// How `backend` spells a referential action left unspecified, and the others.
fn action_name(backend: Backend, action: Option<ReferentialAction>) -> &'static str {
    match action {
        None if backend == Backend::MySql => "RESTRICT",
        None => "NO ACTION",
        Some(ReferentialAction::Cascade) => "CASCADE",
        Some(ReferentialAction::SetNull) => "SET NULL",
        Some(ReferentialAction::SetDefault) => "SET DEFAULT",
        Some(ReferentialAction::Restrict) => "RESTRICT",
        Some(ReferentialAction::NoAction) => "NO ACTION",
    }
}

/// A column as both sides are compared: type text, nullability, default, auto-increment.
#[derive(Debug, PartialEq)]
struct ColumnShape {
    ty: String,
    nullable: bool,
    has_default: bool,
    auto_increment: bool,
}

/// `integer NOT NULL DEFAULT 0`, the same way for both sides.
fn describe_column(ty: &str, nullable: bool, default: Option<&str>, auto: bool) -> String {
    let mut s = ty.to_string();
    s.push_str(if nullable { " NULL" } else { " NOT NULL" });
    if let Some(d) = default {
        s.push_str(" DEFAULT ");
        s.push_str(d);
    }
    if auto {
        s.push_str(" auto-increment");
    }
    s
}

fn default_sql(backend: Backend, default: &DefaultValue) -> String {
    match default {
        DefaultValue::Value(v) => SqlExpr::from(Expr::val(v.clone())).sql(backend),
        DefaultValue::Expr(e) => e.sql(backend),
    }
}

fn model_column(backend: Backend, c: &ColumnDef, in_pk: bool) -> (ColumnShape, String) {
    let ty = catalog_type(backend, &c.ty);
    let nullable = c.nullable && !in_pk;
    let default = c.default.as_ref().map(|d| default_sql(backend, d));
    let text = describe_column(&ty, nullable, default.as_deref(), c.auto_increment);
    let shape = ColumnShape {
        ty,
        nullable,
        has_default: default.is_some(),
        auto_increment: c.auto_increment,
    };
    (shape, text)
}

fn live_column(c: &LiveColumn) -> (ColumnShape, String) {
    let ty = normalize_type(&c.ty);
    let text = describe_column(&ty, c.nullable, c.default.as_deref(), c.auto_increment);
    let shape = ColumnShape {
        ty,
        nullable: c.nullable,
        has_default: c.default.is_some(),
        auto_increment: c.auto_increment,
    };
    (shape, text)
}

/// An index or unique constraint as both sides are compared.
#[derive(Debug, PartialEq)]
struct IndexShape {
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

fn describe_index(unique: bool, columns: &[String], predicate: Option<&str>) -> String {
    let mut s = format!(
        "{}({})",
        if unique { "UNIQUE " } else { "" },
        columns.join(", ")
    );
    if let Some(p) = predicate {
        s.push_str(" WHERE ");
        s.push_str(p);
    }
    s
}

fn describe_fk(
    columns: &[String],
    table: &str,
    ref_columns: &[String],
    d: &str,
    u: &str,
) -> String {
    format!(
        "({}) REFERENCES {table} ({}) ON DELETE {d} ON UPDATE {u}",
        columns.join(", "),
        ref_columns.join(", ")
    )
}

/// The history tables of other migration tools, which a database adopted with `baseline` may
/// still hold: a difference only when the migrations create a table of that name.
pub const OTHER_TOOLS_HISTORY: &[&str] = &[
    "_sqlx_migrations",           // sqlx migrate
    "seaql_migrations",           // sea-orm-migration
    "__diesel_schema_migrations", // diesel
    "refinery_schema_history",    // refinery
    "schema_migrations",          // Rails, golang-migrate
    "ar_internal_metadata",       // Rails
    "django_migrations",          // Django
    "flyway_schema_history",      // Flyway
    "databasechangelog",          // Liquibase
    "databasechangeloglock",      // Liquibase
    "atlas_schema_revisions",     // Atlas
];

/// Compare what the migrations say (`model`) with what the database has (`live`) on `backend`.
///
/// Differences come sorted by table, then table, column, primary key, index, foreign key and
/// check, each by name. An empty list means the database matches the migrations, within what
/// the [module documentation](self) says is compared.
pub fn diff(model: &SchemaModel, live: &LiveSchema, backend: Backend) -> Vec<Difference> {
    let mut out = BTreeSet::new();
    let names: BTreeSet<&String> = model.tables.keys().chain(live.tables.keys()).collect();
    for name in names {
        let push = |out: &mut BTreeSet<Difference>,
                    object: Object,
                    kind: DifferenceKind,
                    expected: Option<String>,
                    found: Option<String>| {
            out.insert(Difference {
                table: name.clone(),
                object,
                kind,
                expected,
                found,
            });
        };
        let (m, l) = match (model.tables.get(name), live.tables.get(name)) {
            (Some(m), Some(l)) => (m, l),
            (Some(_), None) => {
                push(&mut out, Object::Table, DifferenceKind::Missing, None, None);
                continue;
            }
            // Another migration tool's history, left from before godwit managed the database.
            (None, Some(_)) if OTHER_TOOLS_HISTORY.contains(&name.as_str()) => continue,
            (None, Some(_)) => {
                push(
                    &mut out,
                    Object::Table,
                    DifferenceKind::Unexpected,
                    None,
                    None,
                );
                continue;
            }
            (None, None) => continue,
        };

        // Columns.
        for c in &m.columns {
            let (expected, expected_text) =
                model_column(backend, c, m.primary_key.contains(&c.name));
            match l.column(&c.name) {
                None => push(
                    &mut out,
                    Object::Column(c.name.clone()),
                    DifferenceKind::Missing,
                    Some(expected_text),
                    None,
                ),
                Some(lc) => {
                    let (found, found_text) = live_column(lc);
                    if found != expected {
                        push(
                            &mut out,
                            Object::Column(c.name.clone()),
                            DifferenceKind::Changed,
                            Some(expected_text),
                            Some(found_text),
                        );
                    }
                }
            }
        }
        for lc in &l.columns {
            if m.column(&lc.name).is_none() {
                push(
                    &mut out,
                    Object::Column(lc.name.clone()),
                    DifferenceKind::Unexpected,
                    None,
                    Some(live_column(lc).1),
                );
            }
        }

        // Primary key.
        if m.primary_key != l.primary_key {
            let show = |k: &[String]| {
                if k.is_empty() {
                    "none".to_string()
                } else {
                    format!("({})", k.join(", "))
                }
            };
            push(
                &mut out,
                Object::PrimaryKey,
                DifferenceKind::Changed,
                Some(show(&m.primary_key)),
                Some(show(&l.primary_key)),
            );
        }

        // Indexes and unique constraints, by name.
        let mut expected_indexes: BTreeMap<&str, (IndexShape, String)> = BTreeMap::new();
        for i in &m.indexes {
            let predicate = i.predicate.as_ref().map(|p| p.sql(backend));
            expected_indexes.insert(
                &i.name,
                (
                    IndexShape {
                        columns: i.columns.clone(),
                        unique: i.is_unique,
                        partial: predicate.is_some(),
                    },
                    describe_index(i.is_unique, &i.columns, predicate.as_deref()),
                ),
            );
        }
        for u in &m.uniques {
            expected_indexes.insert(
                &u.name,
                (
                    IndexShape {
                        columns: u.columns.clone(),
                        unique: true,
                        partial: false,
                    },
                    describe_index(true, &u.columns, None),
                ),
            );
        }
        let mut found_indexes: BTreeMap<&str, (IndexShape, String)> = BTreeMap::new();
        for i in &l.indexes {
            let mut text = describe_index(i.unique, &i.columns, i.predicate.as_deref());
            if !i.valid {
                text.push_str(" (invalid: a failed concurrent build)");
            }
            found_indexes.insert(
                &i.name,
                (
                    IndexShape {
                        columns: i.columns.clone(),
                        // An invalid index enforces nothing and is used by no query.
                        unique: i.unique,
                        partial: i.predicate.is_some() || !i.valid,
                    },
                    text,
                ),
            );
        }
        compare_named(
            &expected_indexes,
            &found_indexes,
            |n| Object::Index(n.to_string()),
            &mut |object, kind, e, f| push(&mut out, object, kind, e, f),
        );

        // Foreign keys: by name, or by columns where the backend keeps no names.
        let key = |name: Option<&str>, columns: &[String]| match name {
            Some(n) if backend != Backend::Sqlite => n.to_string(),
            _ => format!("({})", columns.join(", ")),
        };
        let expected_fks: BTreeMap<String, (String, String)> = m
            .foreign_keys
            .iter()
            .map(|f| {
                let text = describe_fk(
                    &f.columns,
                    &f.ref_table,
                    &f.ref_columns,
                    action_name(backend, f.on_delete),
                    action_name(backend, f.on_update),
                );
                (key(Some(&f.name), &f.columns), (text.clone(), text))
            })
            .collect();
        let found_fks: BTreeMap<String, (String, String)> = l
            .foreign_keys
            .iter()
            .map(|f| {
                let text = describe_fk(
                    &f.columns,
                    &f.ref_table,
                    &f.ref_columns,
                    &f.on_delete.to_ascii_uppercase(),
                    &f.on_update.to_ascii_uppercase(),
                );
                (key(f.name.as_deref(), &f.columns), (text.clone(), text))
            })
            .collect();
        compare_named(
            &expected_fks,
            &found_fks,
            |n| Object::ForeignKey(n.to_string()),
            &mut |object, kind, e, f| push(&mut out, object, kind, e, f),
        );

        // Checks, by name.
        let expected_checks: BTreeMap<&str, ((), String)> = m
            .checks
            .iter()
            .map(|c| (c.name.as_str(), ((), c.expr.sql(backend))))
            .collect();
        let found_checks: BTreeMap<&str, ((), String)> = l
            .checks
            .iter()
            .map(|c| (c.name.as_str(), ((), c.expr.clone())))
            .collect();
        compare_named(
            &expected_checks,
            &found_checks,
            |n| Object::Check(n.to_string()),
            &mut |object, kind, e, f| push(&mut out, object, kind, e, f),
        );
    }
    out.into_iter().collect()
}

/// Compare two name-keyed maps of `(what is compared, how it reads)`.
fn compare_named<K: Ord + AsRef<str>, S: PartialEq>(
    expected: &BTreeMap<K, (S, String)>,
    found: &BTreeMap<K, (S, String)>,
    object: impl Fn(&str) -> Object,
    push: &mut impl FnMut(Object, DifferenceKind, Option<String>, Option<String>),
) {
    for (name, (shape, text)) in expected {
        match found.get(name) {
            None => push(
                object(name.as_ref()),
                DifferenceKind::Missing,
                Some(text.clone()),
                None,
            ),
            Some((found_shape, found_text)) if found_shape != shape => push(
                object(name.as_ref()),
                DifferenceKind::Changed,
                Some(text.clone()),
                Some(found_text.clone()),
            ),
            Some(_) => {}
        }
    }
    for (name, (_, text)) in found {
        if !expected.contains_key(name) {
            push(
                object(name.as_ref()),
                DifferenceKind::Unexpected,
                None,
                Some(text.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_constraint_names_from_create_table() {
        let parsed = parse_create_table(
            r#"CREATE TABLE "t" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "a" text CONSTRAINT "uq_a" UNIQUE,
               [b] int CHECK (b > 0), `c, d` text DEFAULT 'x, CONSTRAINT "no" CHECK',
               CONSTRAINT "uq_t_b_c" UNIQUE ("b", "c, d"), CONSTRAINT ck_t CHECK ((b) IN (1, 2)),
               CONSTRAINT "fk" FOREIGN KEY ("b") REFERENCES "u" ("id") )"#,
        );
        assert_eq!(
            parsed,
            Parsed {
                checks: vec!["ck_t".into()],
                uniques: vec![
                    ("uq_a".into(), vec!["a".into()]),
                    ("uq_t_b_c".into(), vec!["b".into(), "c, d".into()])
                ],
                autoincrement: Some("id".into()),
            }
        );
    }

    #[test]
    fn parses_catalog_types_back() {
        let cases = [
            (
                Backend::Postgres,
                "character varying(50)",
                Some(ColumnType::String(50)),
            ),
            (
                Backend::Postgres,
                "numeric(10,2)",
                Some(ColumnType::Decimal(10, 2)),
            ),
            (
                Backend::Postgres,
                "timestamp with time zone",
                Some(ColumnType::TimestampTz),
            ),
            (Backend::Postgres, "tsvector", None),
            (Backend::MySql, "int(11)", Some(ColumnType::Integer)),
            (Backend::MySql, "tinyint(1)", Some(ColumnType::Boolean)),
            (Backend::MySql, "tinyint(4)", None),
            (
                Backend::MySql,
                "decimal(10, 2)",
                Some(ColumnType::Decimal(10, 2)),
            ),
            (Backend::Sqlite, "INTEGER", Some(ColumnType::Integer)),
            (Backend::Sqlite, "varchar(x)", None),
            (Backend::Sqlite, "", None),
        ];
        for (backend, text, expected) in cases {
            assert_eq!(parse_type(backend, text), expected, "{backend}: {text}");
        }
    }
}
