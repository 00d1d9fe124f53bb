//! Backend-neutral column types, defaults and SQL expressions.

use sea_query::{Expr, Value};

/// A table's, view's, enumerated type's or function's name split into the PostgreSQL schema
/// it names and its own name: `billing.invoices` is `(Some("billing"), "invoices")`, and
/// `invoices` (in the connection's schema) is `(None, "invoices")`.
pub fn split_schema(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, bare)) => (Some(schema), bare),
        None => (None, name),
    }
}

/// `name` without the schema it names: `billing.invoices` is `invoices`.
pub fn bare_name(name: &str) -> &str {
    split_schema(name).1
}

/// The name of `index` (or constraint) on `table`, in the table's schema: `billing.idx` for an
/// index on `billing.invoices` (PostgreSQL keeps an index in its table's schema, and finds it
/// by that name).
pub fn in_schema_of(table: &str, index: &str) -> String {
    match split_schema(table).0 {
        Some(schema) => format!("{schema}.{index}"),
        None => index.to_string(),
    }
}

/// A database backend godwit renders SQL for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// PostgreSQL 12 and later.
    Postgres,
    /// MySQL 8 and MariaDB 10.5 and later.
    MySql,
    /// SQLite 3.35 and later.
    Sqlite,
}

impl Backend {
    /// Every backend, in the order documentation shows them.
    pub const ALL: [Backend; 3] = [Backend::Postgres, Backend::MySql, Backend::Sqlite];

    /// The name used on the command line (`postgres`, `mysql`, `sqlite`).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The longest identifier the backend accepts, if it has a limit.
    pub fn max_identifier_len(self) -> Option<usize> {
        match self {
            Backend::Postgres => Some(63),
            Backend::MySql => Some(64),
            Backend::Sqlite => None,
        }
    }

    /// The backend a `postgres://`, `mysql://`/`mariadb://` or `sqlite:` URL names.
    pub fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            "sqlite" => Some(Backend::Sqlite),
            _ => None,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "PostgreSQL",
            Backend::MySql => "MySQL/MariaDB",
            Backend::Sqlite => "SQLite",
        })
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            "sqlite" => Ok(Backend::Sqlite),
            other => Err(format!(
                "unknown backend `{other}`: use postgres, mysql or sqlite"
            )),
        }
    }
}

/// The type of a column, independent of the backend.
///
/// | type | PostgreSQL | MySQL/MariaDB | SQLite |
/// |---|---|---|---|
/// | `SmallInt` | `smallint` | `smallint` | `smallint` |
/// | `Integer` | `integer` | `int` | `integer` |
/// | `BigInt` | `bigint` | `bigint` | `integer` |
/// | `String(n)` | `varchar(n)` | `varchar(n)` | `varchar(n)` |
/// | `Text` | `text` | `text` | `text` |
/// | `Boolean` | `bool` | `bool` | `boolean` |
/// | `Float` / `Double` | `real` / `double precision` | `float` / `double` | `float` / `double` |
/// | `Decimal(p, s)` | `decimal(p, s)` | `decimal(p, s)` | `decimal(p, s)`; past 15 digits `decimal_text(p, s)` |
/// | `Date` / `Time` | `date` / `time` | `date` / `time(6)` | `date_text` / `time_text` |
/// | `Timestamp` | `timestamp` | `datetime(6)` | `datetime_text` |
/// | `TimestampTz` | `timestamp with time zone` | `datetime(6)`, in UTC | `timestamp_with_timezone_text` |
/// | `Uuid` | `uuid` | `binary(16)` | `uuid_text` |
/// | `Json` | `jsonb` | `json` | `json_text` |
/// | `Binary` | `bytea` | `blob` | `blob` |
///
/// Every value of a type is stored exactly on every backend: MySQL/MariaDB's `datetime(6)` and
/// `time(6)` keep microseconds (their `timestamp` would end in 2038), and SQLite's `decimal`
/// keeps the digits written (NUMERIC affinity up to 15 digits, what a REAL holds exactly; TEXT
/// affinity past them, where `ORDER BY` and arithmetic in SQL see text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// A 16-bit integer.
    SmallInt,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    BigInt,
    /// Text of at most this many characters.
    String(u32),
    /// Text of any length.
    Text,
    /// True or false.
    Boolean,
    /// A single-precision floating-point number.
    Float,
    /// A double-precision floating-point number.
    Double,
    /// An exact decimal number: its precision (digits in all), then its scale (digits after
    /// the point).
    Decimal(u32, u32),
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A date and time, without time zone.
    Timestamp,
    /// A point in time, with time zone (kept in UTC on MySQL/MariaDB).
    TimestampTz,
    /// A UUID.
    Uuid,
    /// A JSON document.
    Json,
    /// Bytes of any length.
    Binary,
    /// A value of an enumerated type made by [`Schema::create_enum`](crate::Schema::create_enum):
    /// the type itself on PostgreSQL, `ENUM(..)` on MySQL/MariaDB, text with a `CHECK` on
    /// SQLite. The DSL names the type; the schema model fills in its values.
    Enum(EnumType),
}

/// An enumerated type, as a column holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnumType {
    /// The type's name.
    pub name: String,
    /// Its values, in order, as the model knows them (empty until the model resolves them).
    pub values: Vec<String>,
}

impl ColumnType {
    /// A short, backend-neutral spelling used in schema snapshots and messages.
    pub fn describe(&self) -> String {
        match self {
            ColumnType::SmallInt => "smallint".into(),
            ColumnType::Integer => "integer".into(),
            ColumnType::BigInt => "bigint".into(),
            ColumnType::String(n) => format!("string({n})"),
            ColumnType::Text => "text".into(),
            ColumnType::Boolean => "boolean".into(),
            ColumnType::Float => "float".into(),
            ColumnType::Double => "double".into(),
            ColumnType::Decimal(p, s) => format!("decimal({p}, {s})"),
            ColumnType::Date => "date".into(),
            ColumnType::Time => "time".into(),
            ColumnType::Timestamp => "timestamp".into(),
            ColumnType::TimestampTz => "timestamptz".into(),
            ColumnType::Uuid => "uuid".into(),
            ColumnType::Json => "json".into(),
            ColumnType::Binary => "binary".into(),
            ColumnType::Enum(e) => format!("enum({})", e.name),
        }
    }

    /// A column of the enumerated type `name`, its values filled in by the model.
    pub fn enumeration(name: impl Into<String>) -> ColumnType {
        ColumnType::Enum(EnumType {
            name: name.into(),
            values: Vec::new(),
        })
    }

    /// Whether MySQL/MariaDB can index the column without a prefix length.
    pub(crate) fn mysql_indexable(&self) -> bool {
        !matches!(
            self,
            ColumnType::Text | ColumnType::Json | ColumnType::Binary
        )
    }
}

/// Calls `$callback!` with every column type that needs no parameter, as
/// `/// doc` `constructor_name => ColumnType::Variant;` lines: the one list behind both
/// `Column::integer(..)` and `TableBuilder::integer(..)`.
macro_rules! simple_column_types {
    ($callback:ident) => {
        $callback! {
            /// A `smallint` column.
            small_integer => ColumnType::SmallInt;
            /// An `integer` column (`int` on MySQL).
            integer => ColumnType::Integer;
            /// A `bigint` column.
            big_integer => ColumnType::BigInt;
            /// An unbounded `text` column.
            text => ColumnType::Text;
            /// A `boolean` column.
            boolean => ColumnType::Boolean;
            /// A single-precision float column.
            float => ColumnType::Float;
            /// A double-precision float column.
            double => ColumnType::Double;
            /// A date column.
            date => ColumnType::Date;
            /// A time-of-day column.
            time => ColumnType::Time;
            /// A timestamp without time zone.
            timestamp => ColumnType::Timestamp;
            /// A timestamp with time zone.
            timestamp_tz => ColumnType::TimestampTz;
            /// A UUID column.
            uuid => ColumnType::Uuid;
            /// A JSON column (`jsonb` on PostgreSQL).
            json => ColumnType::Json;
            /// A binary column.
            binary => ColumnType::Binary;
        }
    };
}
pub(crate) use simple_column_types;

/// A SQL expression: a sea-query [`Expr`] (rendered per backend) or raw SQL text.
///
/// `&str` and `String` become raw SQL, written as given on every backend.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlExpr(Repr);

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    /// Boxed: a sea-query expression is large, and most columns and checks hold none (the
    /// schema model keeps every column of every table, twice while it renders).
    Expr(Box<Expr>),
    /// The text for PostgreSQL, MySQL and SQLite, after a column it names was renamed.
    Text(Box<[String; 3]>),
}

fn backend_index(backend: Backend) -> usize {
    match backend {
        Backend::Postgres => 0,
        Backend::MySql => 1,
        Backend::Sqlite => 2,
    }
}

impl SqlExpr {
    /// Raw SQL, written as given on every backend.
    pub fn raw(sql: impl Into<String>) -> Self {
        SqlExpr(Repr::Expr(Box::new(Expr::cust(sql.into()))))
    }

    /// The expression as sea-query builds it for `backend`.
    pub fn expr(&self, backend: Backend) -> Expr {
        match &self.0 {
            Repr::Expr(e) => (**e).clone(),
            Repr::Text(texts) => Expr::cust(texts[backend_index(backend)].clone()),
        }
    }

    /// The SQL text of the expression on `backend`.
    pub fn sql(&self, backend: Backend) -> String {
        // An expression a backend cannot express makes sea-query panic; rendering reports that
        // as an error of the operation, here it is only text that names nothing.
        std::panic::catch_unwind(|| crate::render::expr_sql(backend, &self.expr(backend)))
            .unwrap_or_default()
    }

    /// Whether the expression names `column` (outside string literals).
    pub fn mentions(&self, column: &str) -> bool {
        Backend::ALL
            .iter()
            .any(|b| crate::render::rename_identifier(*b, &self.sql(*b), column, column).1)
    }

    /// The expression with every mention of column `from` renamed to `to`.
    pub(crate) fn rename_column(&self, from: &str, to: &str) -> SqlExpr {
        if !self.mentions(from) {
            return self.clone();
        }
        let texts =
            Backend::ALL.map(|b| crate::render::rename_identifier(b, &self.sql(b), from, to).0);
        SqlExpr(Repr::Text(Box::new(texts)))
    }
}

impl From<&str> for SqlExpr {
    fn from(s: &str) -> Self {
        SqlExpr::raw(s)
    }
}

impl From<String> for SqlExpr {
    fn from(s: String) -> Self {
        SqlExpr::raw(s)
    }
}

impl From<Expr> for SqlExpr {
    fn from(e: Expr) -> Self {
        SqlExpr(Repr::Expr(Box::new(e)))
    }
}

/// The default of a column: a literal value or a SQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A literal, written as a SQL literal (`0`, `'draft'`, `TRUE`).
    Value(Value),
    /// A SQL expression such as `CURRENT_TIMESTAMP`.
    Expr(SqlExpr),
}

/// The current timestamp as a column default, on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentTimestamp;

/// Raw SQL used as a column default: `.default(Sql("gen_random_uuid()"))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sql(pub &'static str);

impl From<CurrentTimestamp> for DefaultValue {
    fn from(_: CurrentTimestamp) -> Self {
        DefaultValue::Expr(Expr::current_timestamp().into())
    }
}

impl From<Sql> for DefaultValue {
    fn from(s: Sql) -> Self {
        DefaultValue::Expr(SqlExpr::raw(s.0))
    }
}

impl From<SqlExpr> for DefaultValue {
    fn from(e: SqlExpr) -> Self {
        DefaultValue::Expr(e)
    }
}

impl From<Expr> for DefaultValue {
    fn from(e: Expr) -> Self {
        DefaultValue::Expr(e.into())
    }
}

macro_rules! default_from_value {
    ($($t:ty),*) => {$(
        impl From<$t> for DefaultValue {
            fn from(v: $t) -> Self {
                DefaultValue::Value(v.into())
            }
        }
    )*};
}
default_from_value!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    f32,
    f64,
    bool,
    &str,
    String,
    sea_query::value::prelude::BigDecimal,
    sea_query::value::prelude::time::Date,
    sea_query::value::prelude::time::Time,
    sea_query::value::prelude::time::PrimitiveDateTime,
    sea_query::value::prelude::time::OffsetDateTime
);

/// Any literal value as a default: `.default(Value::from(..))`.
impl From<Value> for DefaultValue {
    fn from(v: Value) -> Self {
        DefaultValue::Value(v)
    }
}

/// What happens to referencing rows when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferentialAction {
    /// `CASCADE`: delete the referencing rows too, or update their key to match.
    Cascade,
    /// `SET NULL`: set the referencing columns to NULL (they must be nullable).
    SetNull,
    /// `SET DEFAULT`: set the referencing columns to their defaults.
    SetDefault,
    /// `RESTRICT`: refuse to delete or update a row that rows still reference, checked at once.
    Restrict,
    /// `NO ACTION`: refuse it too, but checked at the end of the statement (on MySQL/MariaDB the
    /// same as `RESTRICT`); what a foreign key does when no action is given.
    NoAction,
}

/// MySQL's `ALGORITHM` for an `ALTER TABLE`: how it may change the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Change only metadata (adding a column, a default): no copy, no rebuild.
    Instant,
    /// Rebuild in place, letting writes through where the lock allows.
    Inplace,
    /// Copy the table (blocks writes).
    Copy,
}

/// MySQL's `LOCK` for an `ALTER TABLE`: what it may block while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lock {
    /// Block nothing: reads and writes go on.
    None,
    /// Block writes.
    Shared,
    /// Block reads and writes.
    Exclusive,
}

impl Algorithm {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Algorithm::Instant => "INSTANT",
            Algorithm::Inplace => "INPLACE",
            Algorithm::Copy => "COPY",
        }
    }
}

impl Lock {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Lock::None => "NONE",
            Lock::Shared => "SHARED",
            Lock::Exclusive => "EXCLUSIVE",
        }
    }
}

/// How long a migration's statements may wait for a lock and run, and how often a migration
/// that timed out waiting for a lock is tried again. `None` leaves the runner's default;
/// `Some(Duration::ZERO)` means no limit.
///
/// - the lock timeout is PostgreSQL's `lock_timeout`, MySQL/MariaDB's `lock_wait_timeout` and
///   `innodb_lock_wait_timeout` (whole seconds, at least one), SQLite's busy timeout;
/// - the statement timeout is PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time`,
///   MySQL's `max_execution_time` (which MySQL applies to `SELECT` only), and on SQLite an
///   interrupt once a statement has run that long.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Timeouts {
    /// The lock timeout: how long a statement may wait for a lock.
    pub lock: Option<std::time::Duration>,
    /// The statement timeout: how long a statement may run.
    pub statement: Option<std::time::Duration>,
    /// How many times a migration is tried again after a lock timeout, when nothing of it
    /// stays applied from the failed try.
    pub lock_retries: Option<u32>,
}

impl Timeouts {
    /// These settings, each missing one taken from `defaults`.
    pub fn or(self, defaults: Timeouts) -> Timeouts {
        Timeouts {
            lock: self.lock.or(defaults.lock),
            statement: self.statement.or(defaults.statement),
            lock_retries: self.lock_retries.or(defaults.lock_retries),
        }
    }
}
