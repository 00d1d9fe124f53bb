//! Tables and what hangs on them: `CREATE TABLE`, foreign keys, indexes, unique and check
//! constraints, `ALTER` and `DROP` of each, MySQL's column redefinition, raw SQL.

use super::*;

pub(super) fn action(a: ReferentialAction) -> sq::ForeignKeyAction {
    match a {
        ReferentialAction::Cascade => sq::ForeignKeyAction::Cascade,
        ReferentialAction::SetNull => sq::ForeignKeyAction::SetNull,
        ReferentialAction::SetDefault => sq::ForeignKeyAction::SetDefault,
        ReferentialAction::Restrict => sq::ForeignKeyAction::Restrict,
        ReferentialAction::NoAction => sq::ForeignKeyAction::NoAction,
    }
}

pub(super) fn sea_foreign_key(table: &str, fk: &ForeignKeyDef) -> sq::ForeignKeyCreateStatement {
    let mut f = sq::ForeignKey::create();
    f.name(fk.name.clone())
        .from_tbl(table_ref(table))
        .to_tbl(table_ref(&fk.ref_table));
    for c in &fk.columns {
        f.from_col(c.clone());
    }
    for c in &fk.ref_columns {
        f.to_col(c.clone());
    }
    if let Some(a) = fk.on_delete {
        f.on_delete(action(a));
    }
    if let Some(a) = fk.on_update {
        f.on_update(action(a));
    }
    f
}

pub(super) fn mysql_indexable(
    backend: Backend,
    table: &TableDef,
    columns: &[String],
    what: &str,
) -> Result<(), RenderError> {
    if backend != Backend::MySql {
        return Ok(());
    }
    for c in columns {
        if let Some(col) = table.column(c).filter(|col| !col.ty.mysql_indexable()) {
            return Err(RenderError::Unsupported {
                backend,
                what: format!(
                    "put {what} on `{}.{c}`, a {} column, without a prefix length",
                    table.name,
                    col.ty.describe()
                ),
                fix: "index a `string(len)` column instead (change the type, or add one holding the key)".into(),
            });
        }
    }
    Ok(())
}

pub(super) fn create_index(
    backend: Backend,
    table: &TableDef,
    index: &IndexDef,
) -> Result<String, RenderError> {
    mysql_indexable(backend, table, &index.columns, "an index")?;
    let mut i = sq::Index::create();
    i.name(index.name.clone()).table(table_ref(&table.name));
    for c in &index.columns {
        i.col(c.clone());
    }
    if index.is_unique {
        i.unique();
    }
    if index.is_concurrent && backend == Backend::Postgres {
        i.concurrently();
    }
    if let Some(p) = &index.predicate {
        if backend == Backend::MySql {
            return Err(RenderError::Unsupported {
                backend,
                what: format!("create the partial index `{}` (an index with `where_`)", index.name),
                fix: "drop the `.where_(..)` for MySQL, or index a generated column holding the condition".into(),
            });
        }
        i.and_where(p.expr(backend));
    }
    Ok(schema_sql(backend, &i))
}

/// A unique constraint added to an existing table (SQLite: a unique index, which it is there).
pub(super) fn add_unique(
    backend: Backend,
    table: &TableDef,
    unique: &UniqueDef,
) -> Result<String, RenderError> {
    mysql_indexable(backend, table, &unique.columns, "a unique constraint")?;
    Ok(match backend {
        Backend::Sqlite => format!(
            "CREATE UNIQUE INDEX {} ON {} ({})",
            quote(backend, &unique.name),
            quote(backend, &table.name),
            quote_list(backend, &unique.columns)
        ),
        _ => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
            quote(backend, &table.name),
            quote(backend, &unique.name),
            quote_list(backend, &unique.columns)
        ),
    })
}

/// `CREATE TABLE` for `table` under the name `name`, then its indexes (and, on SQLite, its
/// unique constraints as unique indexes).
pub(crate) fn create_table(
    backend: Backend,
    table: &TableDef,
    name: &str,
) -> Result<Vec<String>, RenderError> {
    for c in &table.columns {
        check_column(backend, &table.name, c)?;
        check_generated_on_key(backend, table, c)?;
    }
    let mut t = sq::Table::create();
    t.table(table_ref(name));
    let inline_pk = table.primary_key.len() == 1
        && table
            .column(&table.primary_key[0])
            .is_some_and(|c| c.auto_increment);
    for c in &table.columns {
        t.col(sea_column(
            backend,
            c,
            inline_pk && c.name == table.primary_key[0],
        ));
    }
    if !table.primary_key.is_empty() && !inline_pk {
        let mut pk = sq::Index::create();
        for c in &table.primary_key {
            pk.col(c.clone());
        }
        t.primary_key(&mut pk);
    }
    if backend != Backend::Sqlite {
        for u in &table.uniques {
            mysql_indexable(backend, table, &u.columns, "a unique constraint")?;
            let mut i = sq::Index::create();
            i.name(u.name.clone()).unique();
            for c in &u.columns {
                i.col(c.clone());
            }
            t.index(&mut i);
        }
    }
    for fk in &table.foreign_keys {
        t.foreign_key(&mut sea_foreign_key(name, fk));
    }
    for ck in &table.checks {
        t.check(sq::Check::named(ck.name.clone(), ck.expr.expr(backend)));
    }
    if let Some(comment) = &table.comment {
        check_literal(
            backend,
            &format!("the comment of `{}`", table.name),
            comment,
        )?;
        if backend == Backend::MySql {
            t.comment(comment.clone());
        }
    }
    let mut out = vec![schema_sql(backend, &t)];
    if backend == Backend::Postgres {
        if let Some(comment) = &table.comment {
            out.push(format!(
                "COMMENT ON TABLE {} IS {}",
                quote(backend, name),
                string_literal(backend, comment)
            ));
        }
        for c in &table.columns {
            if let Some(comment) = &c.comment {
                out.push(format!(
                    "COMMENT ON COLUMN {}.{} IS {}",
                    quote(backend, name),
                    quote(backend, &c.name),
                    string_literal(backend, comment)
                ));
            }
        }
    }
    if backend == Backend::Sqlite {
        for u in &table.uniques {
            out.push(add_unique(backend, table, u)?);
        }
    }
    for index in &table.indexes {
        out.push(create_index(backend, table, index)?);
    }
    Ok(out)
}

pub(super) fn alter(
    backend: Backend,
    table: &str,
    f: impl FnOnce(&mut sq::TableAlterStatement),
) -> String {
    let mut a = sq::Table::alter();
    a.table(table_ref(table));
    f(&mut a);
    schema_sql(backend, &a)
}

/// On MySQL/MariaDB, `ALTER TABLE .. DROP INDEX ..`, which takes the migration's `ALGORITHM` and
/// `LOCK` (`DROP INDEX .. ON ..` takes none on MariaDB).
pub(super) fn drop_index_sql(backend: Backend, table: &str, name: &str) -> String {
    match backend {
        Backend::MySql if !super::drop_index_on() => format!(
            "ALTER TABLE {} DROP INDEX {}",
            quote(backend, table),
            quote(backend, name)
        ),
        Backend::MySql => format!(
            "DROP INDEX {} ON {}",
            quote(backend, name),
            quote(backend, table)
        ),
        _ => format!("DROP INDEX {}", quote(backend, &in_schema_of(table, name))),
    }
}

pub(super) fn drop_constraint_sql(backend: Backend, table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        quote(backend, table),
        quote(backend, name)
    )
}

/// MySQL/MariaDB: `MODIFY COLUMN` with the column's whole new definition.
pub(super) fn mysql_modify(
    after: &SchemaModel,
    table: &str,
    column: &str,
) -> Result<String, RenderError> {
    let def = after
        .tables
        .get(table)
        .and_then(|t| t.column(column))
        .ok_or_else(|| RenderError::Unsupported {
            backend: Backend::MySql,
            what: format!("find `{table}.{column}` to modify it"),
            fix: "this is a bug in the schema model: please report it".into(),
        })?;
    Ok(alter(Backend::MySql, table, |a| {
        a.modify_column(sea_column(Backend::MySql, def, false));
    }))
}

/// The statement that drops `object`, made by raw SQL, on each backend (the derived `down` of
/// raw SQL that declares what it creates). PostgreSQL drops an index `CONCURRENTLY` when the
/// raw SQL runs outside a transaction; SQLite has no functions.
pub fn drop_declared(object: &DeclaredObject, outside_transaction: bool) -> SqlText {
    let name = &object.name;
    let table = object.tables.first().map(String::as_str).unwrap_or("");
    let per = |f: &dyn Fn(Backend) -> Option<String>| SqlText::PerBackend {
        postgres: f(Backend::Postgres),
        mysql: f(Backend::MySql),
        sqlite: f(Backend::Sqlite),
    };
    match object.kind {
        ObjectKind::Index => per(&|b| {
            Some(match b {
                Backend::Postgres if outside_transaction => {
                    format!(
                        "DROP INDEX CONCURRENTLY {}",
                        quote(b, &in_schema_of(table, name))
                    )
                }
                Backend::MySql => format!("DROP INDEX {} ON {}", quote(b, name), quote(b, table)),
                _ => format!("DROP INDEX {}", quote(b, &in_schema_of(table, name))),
            })
        }),
        ObjectKind::View => per(&|b| Some(format!("DROP VIEW {}", quote(b, name)))),
        ObjectKind::MaterializedView => per(&|b| {
            (b == Backend::Postgres).then(|| format!("DROP MATERIALIZED VIEW {}", quote(b, name)))
        }),
        // `IF EXISTS`, as the `CREATE EXTENSION IF NOT EXISTS` it undoes.
        ObjectKind::Extension => per(&|b| {
            (b == Backend::Postgres).then(|| format!("DROP EXTENSION IF EXISTS {}", quote(b, name)))
        }),
        ObjectKind::Trigger => per(&|b| {
            Some(match b {
                Backend::Postgres => {
                    format!("DROP TRIGGER {} ON {}", quote(b, name), quote(b, table))
                }
                _ => format!("DROP TRIGGER {}", quote(b, name)),
            })
        }),
        ObjectKind::Function => per(&|b| match b {
            // A function or a procedure, whichever it is.
            Backend::Postgres => Some(format!("DROP ROUTINE {}", quote(b, name))),
            // MySQL/MariaDB drop a procedure as one.
            Backend::MySql if is_procedure(object) => {
                Some(format!("DROP PROCEDURE {}", quote(b, name)))
            }
            Backend::MySql => Some(format!("DROP FUNCTION {}", quote(b, name))),
            Backend::Sqlite => None,
        }),
    }
}

/// Whether a function made by `create_function` is a procedure on MySQL/MariaDB: its statement
/// says `PROCEDURE` before the name (`CREATE [DEFINER = ..] PROCEDURE name ..`).
fn is_procedure(object: &DeclaredObject) -> bool {
    let Some(text) = object
        .definition
        .as_ref()
        .and_then(|d| raw_text(Backend::MySql, d).ok())
    else {
        return false;
    };
    let head = text
        .split('(')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    head.split_whitespace().any(|w| w == "PROCEDURE")
}

pub(super) fn raw_text(backend: Backend, text: &SqlText) -> Result<String, RenderError> {
    match text {
        SqlText::All(sql) => Ok(sql.clone()),
        SqlText::PerBackend {
            postgres,
            mysql,
            sqlite,
        } => {
            let sql = match backend {
                Backend::Postgres => postgres,
                Backend::MySql => mysql,
                Backend::Sqlite => sqlite,
            };
            sql.clone().ok_or_else(|| RenderError::Unsupported {
                backend,
                what: "run this raw SQL: it has no text for this backend".into(),
                fix: format!(
                    "set `{}: Some(\"...\")` in its `PerBackend`",
                    backend.as_str()
                ),
            })
        }
    }
}

/// `NOT VALID` after a constraint added on PostgreSQL; the other backends have no such state.
pub(super) fn not_valid(backend: Backend, sql: String, not_valid: bool) -> String {
    if not_valid && backend == Backend::Postgres {
        format!("{sql} NOT VALID")
    } else {
        sql
    }
}

/// Whether an index, unique constraint or the primary key of `table` starts with `columns`, so
/// that MySQL enforces a foreign key on them without creating an index of its own.
pub(super) fn mysql_fk_index_covered(table: &TableDef, columns: &[String]) -> bool {
    let covers = |cols: &[String]| cols.len() >= columns.len() && &cols[..columns.len()] == columns;
    covers(&table.primary_key)
        || table
            .indexes
            .iter()
            .any(|i| i.predicate.is_none() && covers(&i.columns))
        || table.uniques.iter().any(|u| covers(&u.columns))
}

/// MySQL refuses to drop the last index a foreign key is enforced through: `before` and `after`
/// are the schema before and after the operation.
///
/// A foreign key whose columns no index of the model covers is enforced through an index MySQL
/// made for it (named after the key), which no operation of the model drops: only a key that an
/// index of the model covered before, and none covers after, loses its index. (MySQL drops the
/// index it made once another index covers the columns: that one is then the key's.)
pub(super) fn mysql_fk_keeps_index(
    backend: Backend,
    before: &SchemaModel,
    after: &SchemaModel,
    table: &str,
    what: &str,
) -> Result<(), RenderError> {
    let (Some(old), Some(new)) = (
        before
            .tables
            .get(table)
            .filter(|_| backend == Backend::MySql),
        after.tables.get(table),
    ) else {
        return Ok(());
    };
    match new.foreign_keys.iter().find(|f| {
        mysql_fk_index_covered(old, &f.columns) && !mysql_fk_index_covered(new, &f.columns)
    }) {
        Some(fk) => Err(RenderError::Unsupported {
            backend,
            what: format!("{what}: foreign key `{}` is enforced through it", fk.name),
            fix: "add another index on the foreign key's columns first, or drop the foreign key"
                .into(),
        }),
        None => Ok(()),
    }
}

pub(super) fn drop_foreign_key_sql(backend: Backend, table: &str, name: &str) -> String {
    match backend {
        Backend::MySql => {
            format!(
                "ALTER TABLE {} DROP FOREIGN KEY {}",
                quote(backend, table),
                quote(backend, name)
            )
        }
        _ => drop_constraint_sql(backend, table, name),
    }
}

pub(super) fn drop_unique_sql(backend: Backend, table: &str, name: &str) -> String {
    match backend {
        Backend::Postgres => drop_constraint_sql(backend, table, name),
        Backend::MySql => format!(
            "ALTER TABLE {} DROP INDEX {}",
            quote(backend, table),
            quote(backend, name)
        ),
        Backend::Sqlite => drop_index_sql(backend, table, name),
    }
}
