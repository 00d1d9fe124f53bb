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
    /// Renaming a column breaks the code that runs while the migration deploys.
    RenameColumn,
    /// Renaming a table breaks the code that runs while the migration deploys.
    RenameTable,
    /// Dropping a column breaks the code that still reads it.
    DropColumn,
    /// Dropping a table breaks the code that still reads it.
    DropTable,
    /// Changing rows inside the schema transaction holds its locks while every row changes.
    DataInSchemaMigration,
    /// Raw SQL cannot be checked.
    RawSql,
    /// A column of a table that a view (declared by raw SQL) reads is dropped, changes type
    /// (PostgreSQL refuses both while the view stands) or is renamed (MySQL/MariaDB views keep
    /// the old name and fail).
    ColumnReadByView,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 20] = [
        Rule::IndexNotConcurrent,
        Rule::ConcurrentIndexWithOtherChanges,
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
        Rule::RenameColumn,
        Rule::RenameTable,
        Rule::DropColumn,
        Rule::DropTable,
        Rule::DataInSchemaMigration,
        Rule::RawSql,
        Rule::ColumnReadByView,
    ];

    /// The rule's name in findings and on the command line (`drop-column`).
    pub fn code(self) -> &'static str {
        match self {
            Rule::IndexNotConcurrent => "index-not-concurrent",
            Rule::ConcurrentIndexWithOtherChanges => "concurrent-index-with-other-changes",
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
            Rule::RenameColumn => "rename-column",
            Rule::RenameTable => "rename-table",
            Rule::DropColumn => "drop-column",
            Rule::DropTable => "drop-table",
            Rule::DataInSchemaMigration => "data-in-schema-migration",
            Rule::RawSql => "raw-sql",
            Rule::ColumnReadByView => "column-read-by-view",
        }
    }

    /// The backends the rule applies to.
    pub fn backends(self) -> &'static [Backend] {
        match self {
            Rule::IndexNotConcurrent
            | Rule::ConcurrentIndexWithOtherChanges
            | Rule::ForeignKeyNotValid
            | Rule::CheckNotValid
            | Rule::ValidateInSameMigration
            | Rule::SetNotNull
            | Rule::TypeChangeRewrite
            | Rule::VolatileDefault
            | Rule::UniqueConstraint
            | Rule::Json => &[Backend::Postgres],
            Rule::MysqlOnlineDdl | Rule::MysqlTypeChange | Rule::MysqlForeignKey => {
                &[Backend::MySql]
            }
            _ => &Backend::ALL,
        }
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

/// An operation allowed past a rule, with the reason written in the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    /// The position (from 0) of the operation in the migration's `up`.
    pub operation: usize,
    pub rule: Rule,
    pub reason: String,
}

/// One rule firing on one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub backend: Backend,
    pub migration: MigrationId,
    /// The position (from 0) and description of the operation.
    pub operation: (usize, String),
    /// The risk, in one sentence.
    pub risk: String,
    /// The safe way, as godwit code.
    pub safe: String,
    /// The reason written in the migration, when the operation is allowed.
    pub allowed: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.allowed.is_some() {
            "allowed"
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

/// Functions whose value changes per row: a default calling one rewrites the table.
const VOLATILE: [&str; 6] = [
    "random(",
    "gen_random_uuid(",
    "uuid_generate_v4(",
    "clock_timestamp(",
    "nextval(",
    "timeofday(",
];

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

fn raw_mentions_json(backend: Backend, text: &SqlText) -> bool {
    let sql = match text {
        SqlText::All(s) => Some(s.as_str()),
        SqlText::PerBackend { postgres, .. } if backend == Backend::Postgres => postgres.as_deref(),
        SqlText::PerBackend { .. } => None,
    };
    let Some(sql) = sql else { return false };
    let lower = sql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    lower.match_indices("json").any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 4).copied();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// What one operation looks like to the rules.
struct Context<'a> {
    backend: Backend,
    plan: &'a Plan,
    /// The table existed before this migration (it may hold rows).
    existing: bool,
    model: &'a SchemaModel,
}

fn check(ctx: &Context<'_>, op: &Op) -> Vec<(Rule, String, String)> {
    let mut out: Vec<(Rule, String, String)> = Vec::new();
    let mut fire = |rule: Rule, risk: String, safe: String| {
        if rule.backends().contains(&ctx.backend) {
            out.push((rule, risk, safe));
        }
    };
    let pg = ctx.backend == Backend::Postgres;
    let mysql = ctx.backend == Backend::MySql;
    let online = ctx.plan.mysql_online.is_some();
    let existing = ctx.existing;
    let has_schema_ops = ctx.plan.ops.iter().any(|o| !o.is_data());
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
        Op::AddColumn { table, column } if existing => {
            // A NOT NULL column without a default does not compile (`AddableColumn`).
            if let Some(DefaultValue::Expr(e)) = &column.default {
                let sql = e.sql(Backend::Postgres).to_ascii_lowercase();
                if VOLATILE.iter().any(|f| sql.contains(f)) {
                    fire(
                        Rule::VolatileDefault,
                        format!(
                            "a volatile default (`{sql}`) is computed per row: `{table}` is rewritten under an exclusive lock"
                        ),
                        format!(
                            "s.add_column(\"{table}\", Column::of(\"{}\", ..).nullable());\n// backfill in batches, then set the default for new rows:\ns.set_default(\"{table}\", \"{}\", Sql(\"...\"));",
                            column.name, column.name
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
            format!(
                "// expand and contract:\ns.add_column(\"{table}\", Column::of(\"{to}\", ..).nullable());\n// write both, backfill `{to}`, switch reads, then drop `{from}` in a later migration"
            ),
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
                        format!(
                            "s.add_column(\"{table}\", Column::of(\"{column}_new\", ColumnType::..).nullable());\n// write both, backfill, switch reads, then drop the old column"
                        ),
                    );
                }
                if mysql && !mysql_type_change_is_cheap(&from, ty) {
                    fire(
                        Rule::MysqlTypeChange,
                        format!(
                            "changing the type of `{table}.{column}` copies the table and blocks writes"
                        ),
                        format!(
                            "s.add_column(\"{table}\", Column::of(\"{column}_new\", ColumnType::..).nullable());\n// write both, backfill, switch reads, then drop the old column"
                        ),
                    );
                }
            }
        }
        Op::SetNotNull { table, column } if existing => fire(
            Rule::SetNotNull,
            format!("`SET NOT NULL` scans all of `{table}` while holding an exclusive lock"),
            format!(
                "// migration 1:\ns.add_check(\"{table}\", \"ck_{table}_{column}_not_null\", \"{column} IS NOT NULL\").not_valid();\n// migration 2:\ns.validate_constraint(\"{table}\", \"ck_{table}_{column}_not_null\");\n// migration 3 (PostgreSQL 12+ uses the valid check instead of scanning):\ns.set_not_null(\"{table}\", \"{column}\");\ns.drop_check(\"{table}\", \"ck_{table}_{column}_not_null\");"
            ),
        ),
        Op::CreateIndex { table, index } => {
            if existing && !index.is_concurrent {
                fire(
                    Rule::IndexNotConcurrent,
                    format!(
                        "building `{}` blocks writes to `{table}` until it is done",
                        index.name
                    ),
                    format!(
                        "// in a migration of its own:\ns.add_index(\"{table}\", {:?}){}.concurrently();",
                        index.columns,
                        if index.is_unique { ".unique()" } else { "" }
                    ),
                );
            }
            let others = ctx
                .plan
                .ops
                .iter()
                .filter(|o| !matches!(o, Op::CreateIndex { index, .. } if index.is_concurrent))
                .count();
            if index.is_concurrent && others > 0 {
                fire(
                    Rule::ConcurrentIndexWithOtherChanges,
                    format!(
                        "`{}` is built outside a transaction, so the {others} other operation(s) of this migration run without one too",
                        index.name
                    ),
                    "// move the concurrent index into a migration of its own".into(),
                );
            }
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
                format!("adding `{}` checks every row of `{table}` while holding a lock on both tables", foreign_key.name),
                "// add it while the table is small, or add the column and key with the table;\n// on a large table, allow it with a reason once you have measured".into(),
            );
        }
        Op::AddCheck { table, check } if existing && !check.not_valid => fire(
            Rule::CheckNotValid,
            format!(
                "adding `{}` checks every row of `{table}` while blocking writes",
                check.name
            ),
            format!(
                "// migration 1:\ns.add_check(\"{table}\", \"{}\", ...).not_valid();\n// migration 2:\ns.validate_constraint(\"{table}\", \"{}\");",
                check.name, check.name
            ),
        ),
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
                "// in a migration of its own:\ns.add_index(\"{table}\", {:?}).unique().name(\"{}\").concurrently();",
                unique.columns, unique.name
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
            .filter(|o| o.kind == crate::op::ObjectKind::View)
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
            | Op::AddForeignKey { .. }
            | Op::DropForeignKey { .. }
            | Op::AddCheck { .. }
            | Op::DropCheck { .. }
            | Op::AddUnique { .. }
            | Op::DropUnique { .. }
    );
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
        | Op::DropUnique { table, .. } => table,
        Op::RenameTable { from, .. } => from,
        Op::Insert(i) => &i.table,
        Op::Update(u) => &u.table,
        Op::Delete(d) => &d.table,
        Op::Backfill(b) => &b.table,
        Op::CopyRows(c) => &c.to,
        Op::Sql(_) | Op::Run(_) => return None,
    })
}

impl Catalog {
    /// Lint the `up` of the migrations in `versions` (all when `None`) for `backend`. Allowed
    /// operations are reported too, with their reason; [`Finding::allowed`] tells them apart.
    pub fn lint(&self, backend: Backend, versions: Option<&[u64]>) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        let mut model = SchemaModel::default();
        for entry in self.entries() {
            let wanted = versions.is_none_or(|vs| vs.contains(&entry.id.version));
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
                    };
                    for (rule, risk, safe) in check(&ctx, op) {
                        let allowed = entry
                            .up
                            .allowances
                            .iter()
                            .find(|a| a.operation == i && a.rule == rule)
                            .map(|a| a.reason.clone());
                        findings.push(Finding {
                            rule,
                            backend,
                            migration: entry.id.clone(),
                            operation: (i, op.describe()),
                            risk,
                            safe,
                            allowed,
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
