//! sea-query plumbing: a statement as SQL for a backend, identifiers quoted and renamed.

use super::*;

pub(super) fn schema_sql(backend: Backend, stmt: &impl SchemaStatementBuilder) -> String {
    match backend {
        Backend::Postgres => stmt.to_string(PostgresQueryBuilder),
        Backend::MySql => stmt.to_string(MysqlQueryBuilder),
        Backend::Sqlite => stmt.to_string(SqliteQueryBuilder),
    }
}

/// A sea-query query built for `backend`: placeholders and bound values, and a preview with the
/// values inline.
pub fn query(backend: Backend, stmt: &impl QueryStatementWriter) -> Statement {
    let ((sql, values), preview) = match backend {
        Backend::Postgres => (
            stmt.build(PostgresQueryBuilder),
            stmt.to_string(PostgresQueryBuilder),
        ),
        Backend::MySql => (
            stmt.build(MysqlQueryBuilder),
            stmt.to_string(MysqlQueryBuilder),
        ),
        Backend::Sqlite => (
            stmt.build(SqliteQueryBuilder),
            stmt.to_string(SqliteQueryBuilder),
        ),
    };
    Statement {
        sql,
        values,
        preview,
        data: None,
    }
}

/// A SQL expression, written inline for `backend`.
pub(crate) fn expr_sql(backend: Backend, expr: &sq::Expr) -> String {
    let select = sq::Query::select().expr(expr.clone()).to_owned();
    let sql = query(backend, &select).preview;
    sql.strip_prefix("SELECT ")
        .map(str::to_string)
        .unwrap_or(sql)
}

/// `sql` with every mention of identifier `from` (bare, case-insensitively, or quoted, exactly)
/// replaced by `to`, quoted; string literals are left alone. Also says whether it found one.
pub(crate) fn rename_identifier(
    backend: Backend,
    sql: &str,
    from: &str,
    to: &str,
) -> (String, bool) {
    let quote_char = if backend == Backend::MySql { '`' } else { '"' };
    let chars: Vec<char> = sql.chars().collect();
    let (mut out, mut found, mut i) = (String::with_capacity(sql.len()), false, 0);
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || (c == '"' && backend == Backend::MySql) {
            // A string literal: copy it through, doubled quotes included.
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
        } else if c == quote_char {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && chars[end] != quote_char {
                end += 1;
            }
            let ident: String = chars[start..end].iter().collect();
            if ident == from {
                found = true;
                out.push_str(&quote(backend, to));
            } else {
                out.extend(&chars[i..(end + 1).min(chars.len())]);
            }
            i = end + 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.eq_ignore_ascii_case(from) {
                found = true;
                out.push_str(&quote(backend, to));
            } else {
                out.push_str(&word);
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    (out, found)
}

/// An identifier, quoted for `backend`.
pub(crate) fn quote(backend: Backend, ident: &str) -> String {
    match backend {
        Backend::MySql => format!("`{}`", ident.replace('`', "``")),
        Backend::Postgres | Backend::Sqlite => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

pub(super) fn quote_list(backend: Backend, idents: &[String]) -> String {
    idents
        .iter()
        .map(|i| quote(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}
