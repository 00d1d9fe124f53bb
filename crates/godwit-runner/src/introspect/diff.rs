//! [`diff`]: a live schema against the schema model, one [`Difference`] per thing a person can act
//! on.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::op::ObjectKind;
use godwit_core::{Backend, ColumnDef, DefaultValue, ReferentialAction, SchemaModel, SqlExpr};
use sea_query::Expr;

use super::types::{catalog_type, normalize_type};
use super::{Difference, DifferenceKind, LiveColumn, LiveObject, LiveSchema, Object};

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
    generated: Option<bool>,
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
    let generated = c.generated.as_ref().map(|g| g.stored);
    // MariaDB takes no `NULL`/`NOT NULL` on a generated column: it reports it nullable.
    let nullable = (c.nullable || (generated.is_some() && backend == Backend::MySql)) && !in_pk;
    let default = c.default.as_ref().map(|d| default_sql(backend, d));
    let mut text = describe_column(&ty, nullable, default.as_deref(), c.auto_increment);
    text.push_str(generated_text(generated));
    let shape = ColumnShape {
        ty,
        nullable,
        has_default: default.is_some(),
        auto_increment: c.auto_increment,
        generated,
    };
    (shape, text)
}

fn generated_text(generated: Option<bool>) -> &'static str {
    match generated {
        Some(true) => " GENERATED STORED",
        Some(false) => " GENERATED VIRTUAL",
        None => "",
    }
}

fn live_column(c: &LiveColumn) -> (ColumnShape, String) {
    let ty = normalize_type(&c.ty);
    let mut text = describe_column(&ty, c.nullable, c.default.as_deref(), c.auto_increment);
    text.push_str(generated_text(c.generated));
    let shape = ColumnShape {
        ty,
        nullable: c.nullable,
        has_default: c.default.is_some(),
        auto_increment: c.auto_increment,
        generated: c.generated,
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
/// the [module documentation](crate::introspect) says is compared.
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

        // Comments (SQLite keeps none).
        if backend != Backend::Sqlite {
            let quoted = |c: &Option<String>| c.as_ref().map(|c| format!("'{c}'"));
            if m.comment != l.comment {
                push(
                    &mut out,
                    Object::TableComment,
                    DifferenceKind::Changed,
                    quoted(&m.comment).or(Some("none".into())),
                    quoted(&l.comment).or(Some("none".into())),
                );
            }
            for c in &m.columns {
                if let Some(lc) = l.column(&c.name)
                    && lc.comment != c.comment
                {
                    push(
                        &mut out,
                        Object::ColumnComment(c.name.clone()),
                        DifferenceKind::Changed,
                        quoted(&c.comment).or(Some("none".into())),
                        quoted(&lc.comment).or(Some("none".into())),
                    );
                }
            }
        }

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
        // Indexes made by raw SQL that declared them: by name only, since only the raw SQL
        // knows their shape.
        for o in model.declared_on(name) {
            if o.kind == ObjectKind::Index && found_indexes.remove(o.name.as_str()).is_none() {
                push(
                    &mut out,
                    Object::Index(o.name.clone()),
                    DifferenceKind::Missing,
                    Some("an index made by raw SQL".into()),
                    None,
                );
            }
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
                // Only PostgreSQL keeps a constraint `NOT VALID`; the others check the rows when
                // it is added.
                let text = if f.not_valid && backend == Backend::Postgres {
                    format!("{text} NOT VALID")
                } else {
                    text
                };
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
                let key = key(f.name.as_deref(), &f.columns);
                let text = match &f.name {
                    Some(n) if l.foreign_keys_not_valid.contains(n) => format!("{text} NOT VALID"),
                    // Validated where the migrations leave it `NOT VALID` (a `validate_constraint`
                    // rolled back): the database enforces more than they promise, which matches.
                    _ if expected_fks
                        .get(&key)
                        .is_some_and(|(e, _)| *e == format!("{text} NOT VALID")) =>
                    {
                        format!("{text} NOT VALID")
                    }
                    _ => text,
                };
                (key, (text.clone(), text))
            })
            .collect();
        compare_named(
            &expected_fks,
            &found_fks,
            |n| Object::ForeignKey(n.to_string()),
            &mut |object, kind, e, f| push(&mut out, object, kind, e, f),
        );

        // Checks, by name, and whether they are valid (only PostgreSQL keeps one `NOT VALID`).
        let shown = |expr: String, valid: bool| {
            if valid {
                expr
            } else {
                format!("{expr} NOT VALID")
            }
        };
        let expected_checks: BTreeMap<&str, (bool, String)> = m
            .checks
            .iter()
            .map(|c| {
                let valid = !(c.not_valid && backend == Backend::Postgres);
                (c.name.as_str(), (valid, shown(c.expr.sql(backend), valid)))
            })
            .collect();
        // A check validated where the migrations leave it `NOT VALID` matches (see above).
        let found_checks: BTreeMap<&str, (bool, String)> = l
            .checks
            .iter()
            .map(|c| {
                let promised = expected_checks.get(c.name.as_str()).is_none_or(|(v, _)| *v);
                (
                    c.name.as_str(),
                    (c.valid && promised, shown(c.expr.clone(), c.valid)),
                )
            })
            .collect();
        compare_named(
            &expected_checks,
            &found_checks,
            |n| Object::Check(n.to_string()),
            &mut |object, kind, e, f| push(&mut out, object, kind, e, f),
        );
    }
    compare_objects(model, live, backend, &mut out);
    out.into_iter().collect()
}

/// Views, triggers, functions and extensions: those the migrations made or declared against
/// those the database has; then PostgreSQL's enumerated types.
fn compare_objects(
    model: &SchemaModel,
    live: &LiveSchema,
    backend: Backend,
    out: &mut BTreeSet<Difference>,
) {
    let key = |kind: ObjectKind, name: &str, table: Option<&str>| {
        let object = match kind {
            ObjectKind::Trigger => Object::Trigger(name.to_string()),
            ObjectKind::View => Object::View,
            ObjectKind::MaterializedView => Object::MaterializedView,
            ObjectKind::Extension => Object::Extension,
            ObjectKind::Function | ObjectKind::Index => Object::Function,
        };
        let table = match kind {
            ObjectKind::Trigger => table.unwrap_or_default().to_string(),
            _ => name.to_string(),
        };
        (table, object)
    };
    // A view, function or trigger left out on this backend on purpose (an empty text) is not
    // there.
    let here = |o: &&godwit_core::op::DeclaredObject| !o.left_out_on(backend);
    let declared: BTreeMap<(String, Object), &godwit_core::op::DeclaredObject> = model
        .objects
        .iter()
        .filter(|o| o.kind != ObjectKind::Index)
        .filter(here)
        .map(|o| {
            (
                key(o.kind, &o.name, o.tables.first().map(String::as_str)),
                o,
            )
        })
        .collect();
    let found: BTreeMap<(String, Object), &LiveObject> = live
        .objects
        .iter()
        .map(|o| (key(o.kind, &o.name, o.table.as_deref()), o))
        .collect();
    for ((table, object), o) in &declared {
        let Some(l) = found.get(&(table.clone(), object.clone())) else {
            out.insert(Difference {
                table: table.clone(),
                object: object.clone(),
                kind: DifferenceKind::Missing,
                expected: Some(
                    if o.definition.is_some() || o.kind == ObjectKind::Extension {
                        "made by a migration"
                    } else {
                        "made by raw SQL"
                    }
                    .into(),
                ),
                found: None,
            });
            continue;
        };
        // A view's query, as far as the database's rewriting of it can be undone.
        if let (Some(d), Some(found_sql)) = (&o.definition, &l.definition)
            && matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView)
            && let Ok(expected_sql) = godwit_core::render::raw_text_for(backend, d)
            && normalize_view_sql(&expected_sql) != normalize_view_sql(found_sql)
        {
            out.insert(Difference {
                table: table.clone(),
                object: object.clone(),
                kind: DifferenceKind::Changed,
                expected: Some(expected_sql.trim().to_string()),
                found: Some(found_sql.trim().to_string()),
            });
        }
    }
    for ((table, object), _) in found.iter().filter(|(k, _)| !declared.contains_key(*k)) {
        // Extensions are the server's: one the migrations did not make is not drift.
        if *object == Object::Extension {
            continue;
        }
        out.insert(Difference {
            table: table.clone(),
            object: object.clone(),
            kind: DifferenceKind::Unexpected,
            expected: None,
            found: None,
        });
    }
    if backend == Backend::Postgres {
        let show = |values: &[String]| format!("({})", values.join(", "));
        for (name, values) in &model.enums {
            let (kind, found) = match live.enums.get(name) {
                None => (DifferenceKind::Missing, None),
                Some(f) if f != values => (DifferenceKind::Changed, Some(show(f))),
                Some(_) => continue,
            };
            out.insert(Difference {
                table: name.clone(),
                object: Object::Enum,
                kind,
                expected: Some(show(values)),
                found,
            });
        }
        for (name, values) in live
            .enums
            .iter()
            .filter(|(n, _)| !model.enums.contains_key(*n))
        {
            out.insert(Difference {
                table: name.clone(),
                object: Object::Enum,
                kind: DifferenceKind::Unexpected,
                expected: None,
                found: Some(show(values)),
            });
        }
    }
}

/// A view's query with what PostgreSQL and MySQL/MariaDB add when they keep it taken away:
/// case, quotes, qualifiers (`posts.id`, `` `db`.`posts` ``), casts (`::text`), parentheses,
/// `AS` naming a column by its own name, MySQL's `count(0)` for `count(*)`, spacing; and
/// SQLite's `CREATE VIEW .. AS` around it.
pub(crate) fn normalize_view_sql(sql: &str) -> String {
    let chars: Vec<char> = sql.trim().trim_end_matches(';').chars().collect();
    let mut tokens: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' && chars.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else if chars[i] == '\'' {
                    i += 1;
                    break;
                } else {
                    i += 1;
                }
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == '"' || c == '`' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            tokens.push(
                chars[start..i.min(chars.len())]
                    .iter()
                    .collect::<String>()
                    .to_lowercase(),
            );
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect::<String>().to_lowercase());
        } else if c.is_whitespace() || c == '(' || c == ')' {
            i += 1;
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
        } else {
            // Operators: `<=`, `<>`, `>=`, `!=`, `||` as one token.
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["<=", ">=", "<>", "!=", "||"].contains(&two.as_str()) {
                tokens.push(two);
                i += 2;
            } else {
                tokens.push(c.to_string());
                i += 1;
            }
        }
    }
    // SQLite keeps the whole statement.
    if tokens.first().is_some_and(|t| t == "create")
        && let Some(at) = tokens.iter().position(|t| t == "as")
    {
        tokens.drain(..=at);
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t == "::" {
            // A cast: the type's words (`character varying`, `timestamp with time zone`).
            i += 2;
            while i < tokens.len()
                && ["varying", "precision", "with", "without", "time", "zone"]
                    .contains(&tokens[i].as_str())
            {
                i += 1;
            }
            continue;
        }
        if t == "." {
            // `posts.id`: the qualifier goes.
            out.pop();
            i += 1;
            continue;
        }
        if t == "as" && tokens.get(i + 1).is_some_and(|n| out.last() == Some(n)) {
            i += 2;
            continue;
        }
        if t == "0" && out.last().is_some_and(|p| p == "count") {
            out.push("*".into());
            i += 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    out.join(" ")
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
