//! Zero-downtime lint: rules per backend over the typed operations, with the context the schema
//! model gives (is the table new in this migration, does the migration run in a transaction).
//!
//! Adding a `NOT NULL` column without a default to an existing table is not a rule here: it
//! does not compile.
//!
//! Each finding names the rule, the migration and the operation, says the risk in one sentence
//! and shows the safe way as godwit code. An operation is allowed only with a written reason:
//! `s.allow(Rule::DropColumn, "nothing reads it since release 41")` right after it.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::Error;
use crate::migration::MigrationId;
use crate::model::SchemaModel;
use crate::op::{Op, SqlText};
use crate::plan::Catalog;
use crate::schema::Plan;
use crate::types::{Backend, ColumnType, DefaultValue};

/// A lint rule. Its [`code`](Rule::code) is what findings print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// PostgreSQL: an index built without `CONCURRENTLY` blocks writes to an existing table.
    IndexNotConcurrent,
    /// PostgreSQL: a concurrent index runs outside a transaction, and so do the migration's
    /// other operations.
    ConcurrentIndexWithOtherChanges,
    /// PostgreSQL: dropping an index without `CONCURRENTLY` blocks reads and writes of the table
    /// while it waits for the queries before it.
    DropIndexNotConcurrent,
    /// PostgreSQL 14.0 to 14.3 (known when connected): a concurrent index build can miss rows.
    ConcurrentIndexCorruption,
    /// PostgreSQL: a foreign key added without `NOT VALID` scans the table under a lock.
    ForeignKeyNotValid,
    /// PostgreSQL: a check added without `NOT VALID` scans the table under a lock.
    CheckNotValid,
    /// PostgreSQL: a constraint validated in the migration that adds it `NOT VALID` is checked
    /// inside the transaction that still holds the lock its `ADD` took.
    ValidateInSameMigration,
    /// PostgreSQL: `SET NOT NULL` scans the table under an exclusive lock.
    SetNotNull,
    /// PostgreSQL: a type change that rewrites the table under an exclusive lock.
    TypeChangeRewrite,
    /// PostgreSQL: a column added with a volatile default rewrites the table.
    VolatileDefault,
    /// PostgreSQL: a unique constraint added directly builds its index under a lock.
    UniqueConstraint,
    /// PostgreSQL: `json` in raw SQL, where `jsonb` compares and indexes.
    Json,
    /// MySQL/MariaDB: an `ALTER` on an existing table without `ALGORITHM`/`LOCK` may copy it or
    /// block writes without saying so.
    MysqlOnlineDdl,
    /// MySQL/MariaDB: a type change copies the table.
    MysqlTypeChange,
    /// MySQL/MariaDB: a foreign key added to an existing table checks every row under a lock.
    MysqlForeignKey,
    /// MySQL/MariaDB: a check added to an existing table copies it, blocking writes.
    MysqlCheck,
    /// Renaming a column breaks the code that runs while the migration deploys.
    RenameColumn,
    /// Renaming a table breaks the code that runs while the migration deploys.
    RenameTable,
    /// Dropping a column breaks the code that still reads it.
    DropColumn,
    /// Dropping a table breaks the code that still reads it.
    DropTable,
    /// Allowing NULL in a column lets new code write NULL where the code still running reads a
    /// value.
    DropNotNull,
    /// An index of more than three columns (not unique) costs every write and rarely helps
    /// beyond its first columns.
    WideIndex,
    /// Changing rows inside the schema transaction holds its locks while every row changes.
    DataInSchemaMigration,
    /// Raw SQL cannot be checked.
    RawSql,
    /// Style, opt-in (`lint --style`): a primary or foreign key of `integer` or `smallint`
    /// runs out of values long before `bigint`, and widening it later rewrites the table.
    PreferBigintKeys,
    /// Style, opt-in: PostgreSQL stores `varchar(n)` as `text`; the length is a constraint that
    /// only a table rewrite (or a check) changes.
    PreferText,
    /// Style, opt-in: PostgreSQL `timestamp` has no time zone, so the same instant reads
    /// differently from sessions in different zones.
    PreferTimestamptz,
    /// Style, opt-in: `char(n)` pads with spaces, and compares and stores them in surprising
    /// ways.
    NoCharN,
    /// A column of a table that a view (declared by raw SQL) reads is dropped, changes type
    /// (PostgreSQL refuses both while the view stands) or is renamed (MySQL/MariaDB views keep
    /// the old name and fail).
    ColumnReadByView,
    /// PostgreSQL: a stored generated column added to a table that holds rows computes it for
    /// every row, rewriting the table under an exclusive lock.
    GeneratedColumnRewrite,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 30] = [
        Rule::IndexNotConcurrent,
        Rule::ConcurrentIndexWithOtherChanges,
        Rule::DropIndexNotConcurrent,
        Rule::ConcurrentIndexCorruption,
        Rule::ForeignKeyNotValid,
        Rule::CheckNotValid,
        Rule::ValidateInSameMigration,
        Rule::SetNotNull,
        Rule::TypeChangeRewrite,
        Rule::VolatileDefault,
        Rule::UniqueConstraint,
        Rule::Json,
        Rule::MysqlOnlineDdl,
        Rule::MysqlTypeChange,
        Rule::MysqlForeignKey,
        Rule::MysqlCheck,
        Rule::RenameColumn,
        Rule::RenameTable,
        Rule::DropColumn,
        Rule::DropTable,
        Rule::DropNotNull,
        Rule::WideIndex,
        Rule::DataInSchemaMigration,
        Rule::RawSql,
        Rule::ColumnReadByView,
        Rule::GeneratedColumnRewrite,
        Rule::PreferBigintKeys,
        Rule::PreferText,
        Rule::PreferTimestamptz,
        Rule::NoCharN,
    ];

    /// The rule's name in findings and on the command line (`drop-column`).
    pub fn code(self) -> &'static str {
        match self {
            Rule::IndexNotConcurrent => "index-not-concurrent",
            Rule::ConcurrentIndexWithOtherChanges => "concurrent-index-with-other-changes",
            Rule::DropIndexNotConcurrent => "drop-index-not-concurrent",
            Rule::ConcurrentIndexCorruption => "concurrent-index-corruption",
            Rule::ForeignKeyNotValid => "foreign-key-not-valid",
            Rule::CheckNotValid => "check-not-valid",
            Rule::ValidateInSameMigration => "validate-in-same-migration",
            Rule::SetNotNull => "set-not-null",
            Rule::TypeChangeRewrite => "type-change-rewrite",
            Rule::VolatileDefault => "volatile-default",
            Rule::UniqueConstraint => "unique-constraint",
            Rule::Json => "json",
            Rule::MysqlOnlineDdl => "mysql-online-ddl",
            Rule::MysqlTypeChange => "mysql-type-change",
            Rule::MysqlForeignKey => "mysql-foreign-key",
            Rule::MysqlCheck => "mysql-check",
            Rule::RenameColumn => "rename-column",
            Rule::RenameTable => "rename-table",
            Rule::DropColumn => "drop-column",
            Rule::DropTable => "drop-table",
            Rule::DropNotNull => "drop-not-null",
            Rule::WideIndex => "wide-index",
            Rule::DataInSchemaMigration => "data-in-schema-migration",
            Rule::RawSql => "raw-sql",
            Rule::ColumnReadByView => "column-read-by-view",
            Rule::GeneratedColumnRewrite => "generated-column-rewrite",
            Rule::PreferBigintKeys => "prefer-bigint-keys",
            Rule::PreferText => "prefer-text",
            Rule::PreferTimestamptz => "prefer-timestamptz",
            Rule::NoCharN => "no-char-n",
        }
    }

    /// The backends the rule applies to.
    pub fn backends(self) -> &'static [Backend] {
        match self {
            Rule::IndexNotConcurrent
            | Rule::ConcurrentIndexWithOtherChanges
            | Rule::DropIndexNotConcurrent
            | Rule::ConcurrentIndexCorruption
            | Rule::ForeignKeyNotValid
            | Rule::CheckNotValid
            | Rule::ValidateInSameMigration
            | Rule::SetNotNull
            | Rule::TypeChangeRewrite
            | Rule::VolatileDefault
            | Rule::GeneratedColumnRewrite
            | Rule::UniqueConstraint
            | Rule::Json
            | Rule::PreferText
            | Rule::PreferTimestamptz
            | Rule::NoCharN => &[Backend::Postgres],
            // SQLite's integer keys are 64-bit.
            Rule::PreferBigintKeys => &[Backend::Postgres, Backend::MySql],
            Rule::MysqlOnlineDdl
            | Rule::MysqlTypeChange
            | Rule::MysqlForeignKey
            | Rule::MysqlCheck => &[Backend::MySql],
            _ => &Backend::ALL,
        }
    }

    /// Whether the rule is a matter of style: it fires only when asked for (`lint --style`),
    /// and its findings are notes, never a refusal.
    pub fn is_style(self) -> bool {
        matches!(
            self,
            Rule::PreferBigintKeys | Rule::PreferText | Rule::PreferTimestamptz | Rule::NoCharN
        )
    }

    /// Whether the rule's risk is a lock held while the server works through the table's rows
    /// (a scan, a rewrite, a copy, an index build): on a small table that is a moment, and the
    /// live context makes such a finding a note rather than a refusal.
    pub fn grows_with_the_table(self) -> bool {
        matches!(
            self,
            Rule::IndexNotConcurrent
                | Rule::ForeignKeyNotValid
                | Rule::CheckNotValid
                | Rule::ValidateInSameMigration
                | Rule::SetNotNull
                | Rule::TypeChangeRewrite
                | Rule::VolatileDefault
                | Rule::GeneratedColumnRewrite
                | Rule::UniqueConstraint
                | Rule::MysqlOnlineDdl
                | Rule::MysqlTypeChange
                | Rule::MysqlForeignKey
                | Rule::MysqlCheck
                | Rule::DataInSchemaMigration
        )
    }

    /// The Rust name, for `s.allow(Rule::..., "why")`.
    pub fn rust_name(self) -> String {
        format!("{self:?}")
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A table's size, from the live database's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSize {
    /// Its rows: counted when the table is small, else the catalog's estimate.
    pub rows: u64,
    /// Its data and indexes, in bytes.
    pub bytes: u64,
}

/// The bytes per second a rough estimate of a lock's duration assumes the server reads or
/// writes a table at.
pub const ESTIMATE_BYTES_PER_SECOND: u64 = 100 * 1024 * 1024;

/// The rows under which [`LiveContext`] makes a blocking change a note, by default.
pub const DEFAULT_SMALL_TABLE_ROWS: u64 = 10_000;

/// What the live database tells the rules: the size of each table, and the server's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveContext {
    /// Every table of the database, by name.
    pub sizes: std::collections::BTreeMap<String, TableSize>,
    /// Under this many rows, a change whose risk grows with the table
    /// ([`Rule::grows_with_the_table`]) is a note, not a refusal.
    pub small_table_rows: u64,
    /// PostgreSQL's `server_version_num` (140003 for 14.3), when connected to PostgreSQL.
    pub postgres_version: Option<u32>,
    /// PostgreSQL: the functions `pg_proc` says are not volatile (every overload `IMMUTABLE`
    /// or `STABLE`), lower-case; a default calling only these does not rewrite the table.
    pub not_volatile: std::collections::BTreeSet<String>,
}

impl Default for LiveContext {
    fn default() -> Self {
        LiveContext {
            sizes: Default::default(),
            small_table_rows: DEFAULT_SMALL_TABLE_ROWS,
            postgres_version: None,
            not_volatile: Default::default(),
        }
    }
}

/// `seconds` for people: `45 s`, `12 min`, `3.5 h`.
fn human_seconds(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s.div_ceil(60)),
        s => format!("{:.1} h", s as f64 / 3600.0),
    }
}

/// `n` with thousands separated: `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `bytes` for people: `16 kB`, `1.2 GB`.
fn human_bytes(bytes: u64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} bytes"),
        _ if value < 10.0 => format!("{value:.1} {}", units[unit]),
        _ => format!("{value:.0} {}", units[unit]),
    }
}

impl TableSize {
    /// `1,234,567 rows, 1.2 GB`.
    pub fn describe(&self) -> String {
        format!("{} rows, {}", thousands(self.rows), human_bytes(self.bytes))
    }

    /// A rough estimate of how long the server works through the table, in seconds, at
    /// [`ESTIMATE_BYTES_PER_SECOND`].
    pub fn estimated_seconds(&self) -> u64 {
        self.bytes.div_ceil(ESTIMATE_BYTES_PER_SECOND)
    }
}

/// An operation allowed past a rule, with the reason written in the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    /// The position (from 0) of the operation in the migration's `up`.
    pub operation: usize,
    /// The rule the operation is allowed past.
    pub rule: Rule,
    /// Why the operation is safe here, as written in the migration.
    pub reason: String,
}

/// One rule firing on one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that fired.
    pub rule: Rule,
    /// The backend the migration was linted for.
    pub backend: Backend,
    /// The migration the operation is in.
    pub migration: MigrationId,
    /// The position (from 0) and description of the operation.
    pub operation: (usize, String),
    /// The risk, in one sentence.
    pub risk: String,
    /// The safe way, as godwit code.
    pub safe: String,
    /// The reason written in the migration, when the operation is allowed.
    pub allowed: Option<String>,
    /// Where the operation was written in the migration's source.
    pub location: Option<&'static std::panic::Location<'static>>,
    /// The table the operation changes and its size, when the lint was connected to the
    /// database and the table is there.
    pub table: Option<(String, TableSize)>,
    /// Why the finding is only a note, not a refusal: its table is small (live context).
    pub note: Option<String>,
}

impl Finding {
    /// Neither allowed nor a note: `lint` fails and `up` refuses.
    pub fn is_unsafe(&self) -> bool {
        self.allowed.is_none() && self.note.is_none() && !self.rule.is_style()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.allowed.is_some() {
            "allowed"
        } else if self.rule.is_style() {
            "style"
        } else if self.note.is_some() {
            "note"
        } else {
            "unsafe"
        };
        writeln!(
            f,
            "{level}[{}]: migration {}, operation #{} {} ({})",
            self.rule,
            self.migration,
            self.operation.0 + 1,
            self.operation.1,
            self.backend
        )?;
        writeln!(f, "  risk: {}", self.risk)?;
        if let Some((table, size)) = &self.table {
            let estimate = match size.estimated_seconds() {
                s if !self.rule.grows_with_the_table() || self.note.is_some() || s < 2 => {
                    String::new()
                }
                s => format!(
                    "; the lock lasts roughly {} (reading {} per second: measure on a copy)",
                    human_seconds(s),
                    human_bytes(ESTIMATE_BYTES_PER_SECOND)
                ),
            };
            writeln!(f, "  table: `{table}` has {}{estimate}", size.describe())?;
        }
        if let Some(note) = &self.note {
            return writeln!(f, "  note: {note}");
        }
        match &self.allowed {
            Some(reason) => writeln!(f, "  reason: {reason}"),
            None => {
                writeln!(f, "  safe:")?;
                for line in self.safe.lines() {
                    writeln!(f, "    {line}")?;
                }
                writeln!(
                    f,
                    "  or, if it is safe here: s.allow(Rule::{}, \"why\");",
                    self.rule.rust_name()
                )
            }
        }
    }
}

/// PostgreSQL functions (and keywords written like calls) that are not volatile: their value is
/// the same for every row of a statement, so a default calling only these is computed once and
/// kept in the catalog. Any other function is taken as volatile: `gen_random_uuid`, `random`,
/// `clock_timestamp`, `nextval`, `uuid_generate_v1`, and functions godwit does not know.
const NOT_VOLATILE: &[&str] = &[
    // keywords and constructs written with parentheses
    "all",
    "and",
    "any",
    "array",
    "case",
    "cast",
    "coalesce",
    "else",
    "exists",
    "extract",
    "greatest",
    "in",
    "is",
    "least",
    "not",
    "nullif",
    "or",
    "overlay",
    "position",
    "row",
    "some",
    "substring",
    "then",
    "trim",
    "values",
    "when",
    // the time of the transaction or the statement
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    // immutable or stable functions of their arguments
    "abs",
    "age",
    "array_length",
    "btrim",
    "cardinality",
    "ceil",
    "ceiling",
    "char_length",
    "concat",
    "concat_ws",
    "current_setting",
    "date_part",
    "date_trunc",
    "floor",
    "json_build_array",
    "json_build_object",
    "jsonb_build_array",
    "jsonb_build_object",
    "left",
    "length",
    "lower",
    "lpad",
    "ltrim",
    "make_date",
    "make_interval",
    "make_time",
    "make_timestamp",
    "make_timestamptz",
    "md5",
    "replace",
    "right",
    "round",
    "rpad",
    "rtrim",
    "split_part",
    "strpos",
    "substr",
    "timezone",
    "to_char",
    "to_date",
    "to_number",
    "to_timestamp",
    "trunc",
    "upper",
];

/// The functions a PostgreSQL expression calls that are (or may be) volatile, from its text:
/// every name followed by `(` outside string literals, schema-qualified or quoted, that is not
/// in [`NOT_VOLATILE`].
fn volatile_calls(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut calls = Vec::new();
    let mut i = 0;
    let mut last_name: Option<String> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // `E'..'` strings escape with backslashes; plain ones double the quote.
            let escapes = i > 0 && matches!(chars[i - 1], 'e' | 'E');
            i += 1;
            while i < chars.len() {
                if escapes && chars[i] == '\\' {
                    i += 2;
                    continue;
                }
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            last_name = None;
        } else if c == '"' {
            let mut name = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        name.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                name.push(chars[i]);
                i += 1;
            }
            i += 1;
            last_name = Some(name);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            last_name = Some(chars[start..i].iter().collect::<String>().to_lowercase());
        } else if c.is_whitespace() || c == '.' {
            // `schema.function (` names the function after the dot.
            i += 1;
        } else {
            if c == '('
                && let Some(name) = last_name.take()
                && !NOT_VOLATILE.contains(&name.as_str())
                && !calls.contains(&name)
            {
                calls.push(name);
            }
            last_name = None;
            i += 1;
        }
    }
    calls
}

/// Whether `check` proves `column` holds no NULL: `column IS NOT NULL`, however written.
fn proves_not_null(check: &crate::op::CheckDef, column: &str) -> bool {
    let sql = check.expr.sql(Backend::Postgres);
    let squeezed: String = sql
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"'))
        .collect::<String>()
        .to_lowercase();
    let col: String = column.chars().filter(|c| !c.is_whitespace()).collect();
    squeezed == format!("{}isnotnull", col.to_lowercase())
}

/// The expand step of a type change: a new column of the new type, filled in batches.
/// `ty` as Rust code: `ColumnType::BigInt`, `ColumnType::enumeration("post_state")`.
fn rust_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Enum(e) => format!("ColumnType::enumeration({})", rust_str(&e.name)),
        other => format!("ColumnType::{other:?}"),
    }
}

fn expand_type(table: &str, column: &str, ty: &ColumnType) -> String {
    let ty = rust_type(ty);
    let (t, c, new) = (
        rust_str(table),
        rust_str(column),
        rust_str(&format!("{column}_new")),
    );
    format!(
        "s.add_column({t}, Column::of({new}, {ty}).nullable());\ns.backfill({t}).set({new}, col({c}));\n// then: code writes both and reads {new}; drop {c} in a later migration"
    )
}

/// PostgreSQL SQL with the quotes taken off plain lowercase identifiers (outside string
/// literals), so that it reads the same on every backend.
fn unquoted(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    let plain = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    while let Some(i) = rest.find(['\'', '"']) {
        out.push_str(&rest[..i]);
        let q = rest.as_bytes()[i] as char;
        // The run ends at the next lone quote (a doubled one stands for one).
        let body = &rest[i + 1..];
        let mut end = None;
        let mut j = 0;
        while let Some(k) = body[j..].find(q) {
            let at = j + k;
            if body[at + 1..].starts_with(q) {
                j = at + 2;
            } else {
                end = Some(at);
                break;
            }
        }
        let Some(end) = end else {
            out.push_str(&rest[i..]);
            return out;
        };
        let inner = &body[..end];
        if q == '"' && plain(inner) {
            out.push_str(inner);
        } else {
            out.push(q);
            out.push_str(inner);
            out.push(q);
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A Rust string literal of `s`.
fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// Whether PostgreSQL changes the type without rewriting the table.
fn pg_type_change_is_cheap(from: &ColumnType, to: &ColumnType) -> bool {
    match (from, to) {
        (ColumnType::String(a), ColumnType::String(b)) => b >= a,
        (ColumnType::String(_), ColumnType::Text) => true,
        (ColumnType::Decimal(p1, s1), ColumnType::Decimal(p2, s2)) => s1 == s2 && p2 >= p1,
        // With the session in UTC, which godwit's sessions are, PostgreSQL 12+ keeps the table.
        (ColumnType::Timestamp, ColumnType::TimestampTz) => true,
        _ => false,
    }
}

/// Whether MySQL widens a varchar in place (the length prefix stays one or two bytes).
fn mysql_type_change_is_cheap(from: &ColumnType, to: &ColumnType) -> bool {
    match (from, to) {
        (ColumnType::String(a), ColumnType::String(b)) => b >= a && ((*a <= 63) == (*b <= 63)),
        _ => false,
    }
}

/// The raw SQL that runs on `backend` (PostgreSQL's: the rules that read it are PostgreSQL's),
/// lower-cased.
fn raw_postgres_sql(backend: Backend, text: &SqlText) -> Option<String> {
    let sql = match text {
        SqlText::All(s) => Some(s.as_str()),
        SqlText::PerBackend { postgres, .. } if backend == Backend::Postgres => postgres.as_deref(),
        SqlText::PerBackend { .. } => None,
    };
    sql.map(str::to_ascii_lowercase)
}

/// Where `word` stands in `lower` as a word of its own at its start, with what follows it.
fn words<'a>(lower: &'a str, word: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let bytes = lower.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    lower.match_indices(word).filter_map(move |(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        (!before.is_some_and(ident)).then(|| &lower[i + word.len()..])
    })
}

fn raw_mentions_json(backend: Backend, text: &SqlText) -> bool {
    let Some(lower) = raw_postgres_sql(backend, text) else {
        return false;
    };
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    words(&lower, "json").any(|rest| !rest.bytes().next().is_some_and(ident))
}

/// What one operation looks like to the rules.
struct Context<'a> {
    backend: Backend,
    plan: &'a Plan,
    /// The table existed before this migration (it may hold rows).
    existing: bool,
    model: &'a SchemaModel,
    /// Whether the style rules are asked for.
    style: bool,
    /// What the live database says, when connected.
    live: Option<&'a LiveContext>,
}

/// The style rules' findings on the columns `op` adds or retypes.
fn style(ctx: &Context<'_>, op: &Op, fire: &mut impl FnMut(Rule, String, String)) {
    let columns: Vec<(&str, &crate::column::ColumnDef, bool)> = match op {
        Op::CreateTable(t) => t
            .columns
            .iter()
            .map(|c| {
                let key = t.primary_key.contains(&c.name)
                    || t.foreign_keys.iter().any(|f| f.columns.contains(&c.name));
                (t.name.as_str(), c, key)
            })
            .collect(),
        Op::AddColumn { table, column } => vec![(table.as_str(), column, false)],
        _ => Vec::new(),
    };
    for (table, c, key) in columns {
        let (t, n) = (rust_str(table), rust_str(&c.name));
        match &c.ty {
            ColumnType::Integer | ColumnType::SmallInt if key => fire(
                Rule::PreferBigintKeys,
                format!(
                    "`{table}.{}` is a key of type {}: it runs out of values far sooner than bigint, and widening it later rewrites the table",
                    c.name,
                    c.ty.describe()
                ),
                format!("// a bigint key: t.id(), t.references(..), or\nColumn::big_integer({n})"),
            ),
            ColumnType::String(len) => fire(
                Rule::PreferText,
                format!(
                    "`{table}.{}` is varchar({len}): PostgreSQL stores text either way, and changing the limit later takes a lock",
                    c.name
                ),
                format!(
                    "Column::text({n})\n// and, to keep the limit, a check that can change without a rewrite:\ns.add_check({t}, {}, {});",
                    rust_str(&format!("ck_{table}_{}_length", c.name)),
                    rust_str(&format!("char_length({}) <= {len}", c.name)),
                ),
            ),
            ColumnType::Timestamp => fire(
                Rule::PreferTimestamptz,
                format!(
                    "`{table}.{}` is a timestamp without time zone: sessions in other zones read another instant",
                    c.name
                ),
                format!("Column::timestamp_tz({n})"),
            ),
            _ => {}
        }
    }
    if let Op::Sql(raw) = op
        && raw_mentions_char_n(ctx.backend, &raw.up)
    {
        fire(
            Rule::NoCharN,
            "`char(n)` pads its values with spaces, which comparisons and lengths then disagree about".into(),
            "// a text column (with a check on its length if it has one): t.text(..)".into(),
        );
    }
}

/// Whether raw SQL for `backend` writes a `char(n)` or `character(n)` type (not `varchar`).
fn raw_mentions_char_n(backend: Backend, text: &SqlText) -> bool {
    let Some(lower) = raw_postgres_sql(backend, text) else {
        return false;
    };
    ["char", "character"]
        .iter()
        .any(|word| words(&lower, word).any(|rest| rest.trim_start().starts_with('(')))
}

/// `concurrent-index-with-other-changes`: an index built or dropped concurrently takes the
/// migration out of its transaction.
fn concurrent_with_others(
    fire: &mut impl FnMut(Rule, String, String),
    others: usize,
    name: &str,
    concurrent: bool,
) {
    if concurrent && others > 0 {
        fire(
            Rule::ConcurrentIndexWithOtherChanges,
            format!(
                "`{name}` is built or dropped outside a transaction, so the {others} other operation(s) of this migration run without one too"
            ),
            "// move the concurrent index into a migration of its own".into(),
        );
    }
}

fn check(ctx: &Context<'_>, op: &Op) -> Vec<(Rule, String, String)> {
    let mut out: Vec<(Rule, String, String)> = Vec::new();
    let mut fire = |rule: Rule, risk: String, safe: String| {
        if rule.backends().contains(&ctx.backend) && (ctx.style || !rule.is_style()) {
            out.push((rule, risk, safe));
        }
    };
    if ctx.style {
        style(ctx, op, &mut fire);
    }
    let pg = ctx.backend == Backend::Postgres;
    let mysql = ctx.backend == Backend::MySql;
    let online = ctx.plan.mysql_online.is_some();
    let existing = ctx.existing;
    let has_schema_ops = ctx.plan.ops.iter().any(|o| !o.is_data());
    let not_concurrent = ctx
        .plan
        .ops
        .iter()
        .filter(|o| {
            !matches!(o, Op::CreateIndex { index, .. } if index.is_concurrent)
                && !matches!(
                    o,
                    Op::DropIndex {
                        concurrently: true,
                        ..
                    }
                )
        })
        .count();
    match op {
        Op::DropTable { table } if existing => fire(
            Rule::DropTable,
            format!(
                "code that still reads `{table}` fails as soon as it is gone, and its rows are lost"
            ),
            format!(
                "// 1. deploy code that no longer uses `{table}`\n// 2. then, in a later migration:\ns.drop_table(\"{table}\");\ns.allow(Rule::DropTable, \"unused since release N\");"
            ),
        ),
        Op::RenameTable { from, to } if existing => fire(
            Rule::RenameTable,
            format!(
                "code that runs during the deploy still queries `{from}`, which no longer exists"
            ),
            format!(
                "// expand and contract: create `{to}`, write to both, backfill it, switch reads,\n// then drop `{from}` once no code uses it\ns.create_table(\"{to}\", |t| {{ /* ... */ }});"
            ),
        ),
        Op::AddColumn { table, column }
            if existing && column.generated.as_ref().is_some_and(|g| g.stored) =>
        {
            let (t, n) = (rust_str(table), rust_str(&column.name));
            let ty = rust_type(&column.ty);
            let expr = column
                .generated
                .as_ref()
                .map(|g| g.expr.sql(Backend::Postgres))
                .unwrap_or_default();
            fire(
                Rule::GeneratedColumnRewrite,
                format!(
                    "a stored generated column is computed for every row of `{table}` as it is added: the table is rewritten under an exclusive lock"
                ),
                format!(
                    "// a plain column, filled in batches; the code (or a trigger) keeps it current\ns.add_column({t}, Column::of({n}, {ty}).nullable());\ns.backfill({t}).set({n}, Expr::cust({}));",
                    rust_str(&expr)
                ),
            );
        }
        Op::AddColumn { table, column } if existing => {
            // A NOT NULL column without a default does not compile (`AddableColumn`).
            if let Some(DefaultValue::Expr(e)) = &column.default {
                let sql = e.sql(Backend::Postgres);
                // Connected, `pg_proc` knows the user's functions too.
                let calls: Vec<String> = volatile_calls(&sql)
                    .into_iter()
                    .filter(|c| !ctx.live.is_some_and(|l| l.not_volatile.contains(c)))
                    .collect();
                if !calls.is_empty() {
                    let (name, ty) = (&column.name, rust_type(&column.ty));
                    fire(
                        Rule::VolatileDefault,
                        format!(
                            "the default `{sql}` calls {}, which PostgreSQL computes per row (godwit takes a function it does not know as volatile): `{table}` is rewritten under an exclusive lock",
                            calls
                                .iter()
                                .map(|c| format!("`{c}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        format!(
                            "s.add_column({t}, Column::of({n}, {ty}).nullable());\ns.set_default({t}, {n}, Sql({d}));\ns.backfill({t})\n    .set({n}, Expr::cust({d}))\n    .filter(col({n}).is_null());",
                            t = rust_str(table),
                            n = rust_str(name),
                            d = rust_str(&sql),
                        ),
                    );
                }
            }
        }
        Op::DropColumn { table, column } if existing => fire(
            Rule::DropColumn,
            format!(
                "code that still reads `{table}.{column}` fails as soon as it is gone, and its values are lost"
            ),
            format!(
                "// 1. deploy code that no longer uses `{table}.{column}`\n// 2. then, in a later migration:\ns.drop_column(\"{table}\", \"{column}\");\ns.allow(Rule::DropColumn, \"unused since release N\");"
            ),
        ),
        Op::RenameColumn { table, from, to } if existing => fire(
            Rule::RenameColumn,
            format!(
                "code that runs during the deploy still uses `{table}.{from}`, which no longer exists"
            ),
            {
                let ty = ctx
                    .model
                    .tables
                    .get(table)
                    .and_then(|t| t.column(from))
                    .map_or(ColumnType::Text, |c| c.ty.clone());
                let ty = rust_type(&ty);
                let (t, f, n) = (rust_str(table), rust_str(from), rust_str(to));
                format!(
                    "// expand and contract:\ns.add_column({t}, Column::of({n}, {ty}).nullable());\ns.backfill({t}).set({n}, col({f}));\n// then: code writes both and reads {n}; drop {f} in a later migration"
                )
            },
        ),
        Op::ChangeColumnType { table, column, ty } if existing => {
            let from = ctx
                .model
                .tables
                .get(table)
                .and_then(|t| t.column(column))
                .map(|c| c.ty.clone());
            if let Some(from) = from {
                if pg && !pg_type_change_is_cheap(&from, ty) {
                    fire(
                        Rule::TypeChangeRewrite,
                        format!(
                            "changing `{table}.{column}` from {} to {} rewrites the table under an exclusive lock",
                            from.describe(),
                            ty.describe()
                        ),
                        expand_type(table, column, ty),
                    );
                }
                if mysql && !mysql_type_change_is_cheap(&from, ty) {
                    fire(
                        Rule::MysqlTypeChange,
                        format!(
                            "changing the type of `{table}.{column}` copies the table and blocks writes"
                        ),
                        expand_type(table, column, ty),
                    );
                }
            }
        }
        // PostgreSQL makes the type again and converts each column (a rewrite); MySQL/MariaDB
        // modifies each column (a copy).
        Op::RemoveEnumValue { name, value } if pg || mysql => {
            for (table, column) in ctx.model.enum_columns(name) {
                let new_here = ctx
                    .plan
                    .ops
                    .iter()
                    .any(|o| matches!(o, Op::CreateTable(t) if t.name == table));
                if new_here {
                    continue;
                }
                let (rule, risk) = if pg {
                    (
                        Rule::TypeChangeRewrite,
                        format!(
                            "removing `{value}` from enum `{name}` converts `{table}.{column}`: the table is rewritten under an exclusive lock"
                        ),
                    )
                } else {
                    (
                        Rule::MysqlTypeChange,
                        format!(
                            "removing `{value}` from enum `{name}` modifies `{table}.{column}`, which copies the table and blocks writes"
                        ),
                    )
                };
                fire(
                    rule,
                    risk,
                    format!(
                        "// keep the value in the type and stop new rows from holding it:\ns.add_check({}, {}, col({}).ne({})).not_valid();\ns.validate_constraint({}, {});",
                        rust_str(&table),
                        rust_str(&format!("ck_{table}_{column}_not_{value}")),
                        rust_str(&column),
                        rust_str(value),
                        rust_str(&table),
                        rust_str(&format!("ck_{table}_{column}_not_{value}")),
                    ),
                );
            }
        }
        // A valid check that the column IS NOT NULL spares PostgreSQL the scan.
        Op::SetNotNull { table, column }
            if existing
                && !ctx.model.tables.get(table).is_some_and(|t| {
                    t.checks
                        .iter()
                        .any(|c| !c.not_valid && proves_not_null(c, column))
                }) =>
        {
            let (t, c) = (rust_str(table), rust_str(column));
            let ck = rust_str(&format!("ck_{table}_{column}_not_null"));
            fire(
                Rule::SetNotNull,
                format!("`SET NOT NULL` scans all of `{table}` while holding an exclusive lock"),
                format!(
                    "// migration 1:\ns.add_check({t}, {ck}, col({c}).is_not_null()).not_valid();\n// migration 2:\ns.validate_constraint({t}, {ck});\n// migration 3 (PostgreSQL 12+ uses the valid check instead of scanning):\ns.set_not_null({t}, {c});\ns.drop_check({t}, {ck});"
                ),
            )
        }
        Op::DropNotNull { table, column } if existing => fire(
            Rule::DropNotNull,
            format!(
                "once `{table}.{column}` allows NULL, new code may write NULL while the code still running reads it as never NULL"
            ),
            format!(
                "// 1. deploy code that reads `{table}.{column}` as possibly NULL\n// 2. then, in a later migration:\ns.drop_not_null({}, {});\ns.allow(Rule::DropNotNull, \"every reader handles NULL since release N\");",
                rust_str(table),
                rust_str(column)
            ),
        ),
        Op::DropIndex {
            table,
            name,
            concurrently,
        } => {
            if existing && !concurrently {
                fire(
                    Rule::DropIndexNotConcurrent,
                    format!(
                        "`DROP INDEX` locks `{table}` against reads and writes, and waits behind every query running on it, which all queries after it then wait for"
                    ),
                    format!(
                        "// in a migration of its own:\ns.drop_index({}, {}).concurrently();",
                        rust_str(table),
                        rust_str(name)
                    ),
                );
            }
            concurrent_with_others(&mut fire, not_concurrent, name, *concurrently);
        }
        Op::CreateIndex { table, index } => {
            if existing && !index.is_concurrent {
                fire(
                    Rule::IndexNotConcurrent,
                    format!(
                        "building `{}` blocks writes to `{table}` until it is done",
                        index.name
                    ),
                    format!(
                        "// in a migration of its own:\ns.add_index({}, {:?}){}.concurrently();",
                        rust_str(table),
                        index.columns,
                        if index.is_unique { ".unique()" } else { "" }
                    ),
                );
            }
            if !index.is_unique && index.columns.len() > 3 {
                fire(
                    Rule::WideIndex,
                    format!(
                        "`{}` has {} columns: every write to `{table}` updates it, and queries rarely use it beyond its first columns",
                        index.name,
                        index.columns.len()
                    ),
                    format!(
                        "s.add_index({}, {:?}){};",
                        rust_str(table),
                        &index.columns[..3],
                        if index.is_concurrent {
                            ".concurrently()"
                        } else {
                            ""
                        }
                    ),
                );
            }
            concurrent_with_others(&mut fire, not_concurrent, &index.name, index.is_concurrent);
        }
        Op::AddForeignKey { table, foreign_key } if existing => {
            if !foreign_key.not_valid {
                fire(
                    Rule::ForeignKeyNotValid,
                    format!(
                        "adding `{}` checks every row of `{table}` while blocking writes to it and to `{}`",
                        foreign_key.name, foreign_key.ref_table
                    ),
                    format!(
                        "// migration 1:\ns.add_foreign_key(\"{table}\", {:?}, \"{}\").not_valid();\n// migration 2:\ns.validate_constraint(\"{table}\", \"{}\");",
                        foreign_key.columns, foreign_key.ref_table, foreign_key.name
                    ),
                );
            }
            fire(
                Rule::MysqlForeignKey,
                format!(
                    "adding `{}` copies `{table}` and checks every row while holding a lock on both tables",
                    foreign_key.name
                ),
                "// declare the key with the table, while it is empty (t.references(..)),\n// or allow it with a reason once you have measured it on a copy of production".into(),
            );
        }
        Op::AddCheck { table, check } if existing => {
            let (t, n) = (rust_str(table), rust_str(&check.name));
            if !check.not_valid {
                fire(
                    Rule::CheckNotValid,
                    format!(
                        "adding `{}` checks every row of `{table}` while blocking writes",
                        check.name
                    ),
                    format!(
                        "// migration 1:\ns.add_check({t}, {n}, {}).not_valid();\n// migration 2:\ns.validate_constraint({t}, {n});",
                        rust_str(&unquoted(&check.expr.sql(Backend::Postgres)))
                    ),
                );
            }
            fire(
                Rule::MysqlCheck,
                format!(
                    "adding `{}` copies `{table}` (MySQL/MariaDB check constraints have no online way, and no NOT VALID) while writes wait",
                    check.name
                ),
                "// declare the check with the table, while it is empty (t.check(..)),\n// or allow it with a reason once you have measured the copy on a copy of production".into(),
            );
        }
        Op::ValidateConstraint { table, name }
            if ctx.plan.ops.iter().any(|o| match o {
                Op::AddForeignKey { foreign_key, .. } => {
                    &foreign_key.name == name && foreign_key.not_valid
                }
                Op::AddCheck { check, .. } => &check.name == name && check.not_valid,
                _ => false,
            }) =>
        {
            fire(
                Rule::ValidateInSameMigration,
                format!(
                    "`{name}` is validated in the migration that adds it `NOT VALID`: the scan of \
                     `{table}` runs in the transaction that still holds the lock the `ADD` took, \
                     as if it were added valid"
                ),
                format!(
                    "// move the validation into the next migration:\ns.validate_constraint(\"{table}\", \"{name}\");"
                ),
            )
        }
        Op::AddUnique { table, unique } if existing => fire(
            Rule::UniqueConstraint,
            format!(
                "adding `{}` builds its index while blocking writes to `{table}`",
                unique.name
            ),
            format!(
                "// migration 1, on its own:\ns.add_index({t}, {:?}).unique().name({n}).concurrently();\n// migration 2:\ns.add_unique_using_index({t}, {n});",
                unique.columns,
                t = rust_str(table),
                n = rust_str(&unique.name),
            ),
        ),
        Op::Sql(raw) => {
            fire(
                Rule::RawSql,
                "raw SQL cannot be checked for locks or rewrites".into(),
                "// write it with the DSL, or allow it with a reason saying why it is safe".into(),
            );
            if raw_mentions_json(ctx.backend, &raw.up) {
                fire(
                    Rule::Json,
                    "`json` cannot be compared or indexed; `jsonb` can".into(),
                    "// write the column with the DSL: t.json(\"...\") is jsonb on PostgreSQL"
                        .into(),
                );
            }
        }
        Op::Insert(_) | Op::Update(_) | Op::Delete(_) => {
            let table = match op {
                Op::Insert(i) => &i.table,
                Op::Update(u) => &u.table,
                Op::Delete(d) => &d.table,
                _ => unreachable!("matched above"),
            };
            if existing && has_schema_ops && ctx.plan.transactional() {
                fire(
                    Rule::DataInSchemaMigration,
                    format!("rows of `{table}` change inside the schema transaction, which keeps its locks until every row is done"),
                    "// move the data change into a migration of its own (a batched backfill for large tables)".into(),
                );
            }
        }
        _ => {}
    }
    let view_breaks = match op {
        Op::DropColumn { table, column } => Some((table, column, "dropping")),
        Op::ChangeColumnType { table, column, .. } if pg => {
            Some((table, column, "changing the type of"))
        }
        Op::RenameColumn { table, from, .. } if mysql => Some((table, from, "renaming")),
        _ => None,
    };
    if let Some((table, column, doing)) = view_breaks {
        for view in ctx
            .model
            .declared_on(table)
            // A view made by `create_view` is checked by the model, which knows its query.
            .filter(|o| o.kind == crate::op::ObjectKind::View && o.definition.is_none())
        {
            let v = &view.name;
            let server = match ctx.backend {
                Backend::Postgres => "PostgreSQL refuses it while the view stands",
                Backend::MySql => "MySQL/MariaDB leave the view failing on every query",
                Backend::Sqlite => "SQLite refuses it while the view stands",
            };
            fire(
                Rule::ColumnReadByView,
                format!(
                    "view `{v}` reads `{table}`: if it uses `{column}`, {doing} the column fails or breaks the view ({server})"
                ),
                format!(
                    "// in the same migration: drop the view, change the column, create the view again\ns.sql(\"DROP VIEW {v}\").drops_view(\"{v}\");\n// ... the change to `{table}.{column}` ...\ns.sql(\"CREATE VIEW {v} AS ...\").creates_view(\"{v}\", [\"{table}\"]);"
                ),
            );
        }
    }
    let alters = matches!(
        op,
        Op::AddColumn { .. }
            | Op::DropColumn { .. }
            | Op::RenameColumn { .. }
            | Op::SetDefault { .. }
            | Op::DropDefault { .. }
            | Op::SetNotNull { .. }
            | Op::DropNotNull { .. }
            | Op::CreateIndex { .. }
            | Op::DropIndex { .. }
            | Op::RenameIndex { .. }
            | Op::DropForeignKey { .. }
            | Op::DropCheck { .. }
            | Op::AddUnique { .. }
            | Op::DropUnique { .. }
    );
    // Adding a foreign key or a check has rules of its own on MySQL: neither runs online there
    // (with foreign_key_checks on), so `mysql_online` is no fix for them.
    if alters && existing && !online {
        let algorithm = if matches!(op, Op::AddColumn { .. }) {
            "Instant"
        } else {
            "Inplace"
        };
        fire(
            Rule::MysqlOnlineDdl,
            "without ALGORITHM and LOCK, MySQL may copy the table or block writes without saying so".into(),
            format!(
                "// MySQL then refuses, rather than locking, when it cannot do it online:\ns.mysql_online(Algorithm::{algorithm}, Lock::None);"
            ),
        );
    }
    out
}

pub(crate) fn op_table(op: &Op) -> Option<&str> {
    Some(match op {
        Op::CreateTable(t) => &t.name,
        Op::DropTable { table }
        | Op::AddColumn { table, .. }
        | Op::DropColumn { table, .. }
        | Op::RenameColumn { table, .. }
        | Op::ChangeColumnType { table, .. }
        | Op::SetDefault { table, .. }
        | Op::DropDefault { table, .. }
        | Op::SetNotNull { table, .. }
        | Op::DropNotNull { table, .. }
        | Op::CreateIndex { table, .. }
        | Op::DropIndex { table, .. }
        | Op::RenameIndex { table, .. }
        | Op::AddForeignKey { table, .. }
        | Op::DropForeignKey { table, .. }
        | Op::AddCheck { table, .. }
        | Op::DropCheck { table, .. }
        | Op::ValidateConstraint { table, .. }
        | Op::AddUnique { table, .. }
        | Op::AddUniqueUsingIndex { table, .. }
        | Op::DropUnique { table, .. }
        | Op::CommentOnTable { table, .. }
        | Op::CommentOnColumn { table, .. } => table,
        Op::CreateObject(o) if o.kind == crate::op::ObjectKind::Trigger => o.tables.first()?,
        Op::RenameTable { from, .. } => from,
        Op::Insert(i) => &i.table,
        Op::Update(u) => &u.table,
        Op::Delete(d) => &d.table,
        Op::Backfill(b) => &b.table,
        Op::CopyRows(c) => &c.to,
        Op::Sql(_)
        | Op::Run(_)
        | Op::CreateObject(_)
        | Op::DropObject { .. }
        | Op::ReplaceView { .. }
        | Op::RefreshMaterializedView { .. }
        | Op::CreateEnum { .. }
        | Op::AddEnumValue { .. }
        | Op::RemoveEnumValue { .. }
        | Op::DropEnum { .. }
        | Op::CreateSchema { .. }
        | Op::DropSchema { .. } => return None,
    })
}

impl Catalog {
    /// Lint the `up` of the migrations in `versions` (all when `None`) for `backend`. Allowed
    /// operations are reported too, with their reason; [`Finding::allowed`] tells them apart.
    pub fn lint(&self, backend: Backend, versions: Option<&[u64]>) -> Result<Vec<Finding>, Error> {
        self.lint_live(backend, versions, None)
    }

    /// [`Catalog::lint`] with what the live database says: each finding carries its table's
    /// size; on a table under [`LiveContext::small_table_rows`] a finding whose risk grows with
    /// the table is a note; and PostgreSQL 14.0 to 14.3, whose concurrent index builds can
    /// corrupt the index, refuse `concurrently()`.
    pub fn lint_live(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
        live: Option<&LiveContext>,
    ) -> Result<Vec<Finding>, Error> {
        self.lint_with(backend, versions, live, false)
    }

    /// [`Catalog::lint_live`], and with `style` the style rules ([`Rule::is_style`]) too: their
    /// findings are notes.
    pub fn lint_with(
        &self,
        backend: Backend,
        versions: Option<&[u64]>,
        live: Option<&LiveContext>,
        style: bool,
    ) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        let mut model = SchemaModel::default();
        let wanted_set: Option<std::collections::HashSet<u64>> =
            versions.map(|vs| vs.iter().copied().collect());
        for entry in self.entries() {
            let wanted = wanted_set
                .as_ref()
                .is_none_or(|vs| vs.contains(&entry.id.version));
            let mut created: BTreeSet<String> = BTreeSet::new();
            if let Some(e) = entry.up.errors.first() {
                return Err(Error {
                    migration: entry.id.clone(),
                    direction: "up",
                    operation: None,
                    kind: crate::error::ErrorKind::Recording(e.clone()),
                });
            }
            for (i, op) in entry.up.ops.iter().enumerate() {
                if wanted {
                    let existing = op_table(op)
                        .is_some_and(|t| model.tables.contains_key(t) && !created.contains(t))
                        || matches!(op, Op::Sql(_));
                    let ctx = Context {
                        backend,
                        plan: &entry.up,
                        existing,
                        model: &model,
                        style,
                        live,
                    };
                    let mut fired = check(&ctx, op);
                    if let Some(version) = live.and_then(|l| l.postgres_version)
                        && backend == Backend::Postgres
                        && (140000..140004).contains(&version)
                        && matches!(op, Op::CreateIndex { index, .. } if index.is_concurrent)
                    {
                        fired.push((
                            Rule::ConcurrentIndexCorruption,
                            format!(
                                "PostgreSQL {}.{} can build a concurrent index that misses rows written while it is built, without an error (fixed in 14.4)",
                                version / 10000,
                                version % 100
                            ),
                            "// upgrade the server to 14.4 or later, then REINDEX CONCURRENTLY the indexes built concurrently since 14.0".into(),
                        ));
                    }
                    // The table's size, before the migrations being linted changed it.
                    let table = op_table(op)
                        .filter(|_| existing)
                        .and_then(|t| Some((t.to_string(), *live?.sizes.get(t)?)));
                    for (rule, risk, safe) in fired {
                        let allowed = entry
                            .up
                            .allowances
                            .iter()
                            .find(|a| a.operation == i && a.rule == rule)
                            .map(|a| a.reason.clone());
                        let note = match (&table, live) {
                            (Some((name, size)), Some(live))
                                if rule.grows_with_the_table()
                                    && size.rows < live.small_table_rows =>
                            {
                                Some(format!(
                                    "`{name}` is small (under {} rows): the change holds its lock for a moment",
                                    thousands(live.small_table_rows)
                                ))
                            }
                            _ => None,
                        };
                        findings.push(Finding {
                            rule,
                            backend,
                            migration: entry.id.clone(),
                            operation: (i, op.describe()),
                            risk,
                            safe,
                            allowed,
                            location: entry.up.locations.get(i).copied(),
                            table: table.clone(),
                            note,
                        });
                    }
                }
                match op {
                    Op::CreateTable(t) => {
                        created.insert(t.name.clone());
                    }
                    Op::RenameTable { from, to } if created.remove(from) => {
                        created.insert(to.clone());
                    }
                    _ => {}
                }
                model.apply(op).map_err(|e| Error {
                    migration: entry.id.clone(),
                    direction: "up",
                    operation: Some((i, op.describe())),
                    kind: e.into(),
                })?;
            }
        }
        Ok(findings)
    }
}
