//! sea-query plumbing: a statement as SQL for a backend, identifiers quoted and renamed.

use super::*;

pub(super) fn schema_sql(backend: Backend, stmt: &impl SchemaStatementBuilder) -> String {
    match backend {
        Backend::Postgres => portable_postgres_literals(&stmt.to_string(PostgresQueryBuilder)),
        Backend::MySql => portable_mysql_literals(&stmt.to_string(MysqlQueryBuilder)),
        Backend::Sqlite => stmt.to_string(SqliteQueryBuilder),
    }
}

/// `sql` (as sea-query writes it for MySQL/MariaDB, string literals escaped with backslashes)
/// with every string literal written so that it means the same whatever the session's
/// `sql_mode`: under `NO_BACKSLASH_ESCAPES` a backslash escape ends a literal early, and what
/// follows runs as SQL. A quote is doubled (`'it''s'`); a literal holding a backslash, a NUL or
/// a Ctrl-Z is `_utf8mb4 0x..` after `DEFAULT`, and `CONCAT('..', CHAR(92 USING utf8mb4), ..)`
/// elsewhere (MariaDB keeps a check's expression as text and reads a backslash in it back
/// wrongly, whichever way it is written; `CHAR` it reads back right). Identifiers in backticks,
/// `x'..'` and `_charset'..'` literals are copied as they are.
pub(crate) fn portable_mysql_literals(sql: &str) -> String {
    if !sql.contains('\'') || super::rendering_escaped_literals() {
        return sql.to_string();
    }
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            // An identifier: up to the closing backtick (doubled ones inside).
            let end = skip_quoted(&chars, i, '`');
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        if c != '\'' {
            out.push(c);
            i += 1;
            continue;
        }
        // A literal: read it as MySQL does by default.
        let start = i;
        let mut value = String::new();
        i += 1;
        while i < chars.len() {
            match chars[i] {
                '\\' if i + 1 < chars.len() => {
                    let e = chars[i + 1];
                    match e {
                        '0' => value.push('\0'),
                        'b' => value.push('\x08'),
                        't' => value.push('\t'),
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        'Z' | 'z' => value.push('\x1a'),
                        // MySQL keeps the backslash of `\%` and `\_` (for LIKE).
                        '%' | '_' => {
                            value.push('\\');
                            value.push(e);
                        }
                        other => value.push(other),
                    }
                    i += 2;
                }
                '\'' if chars.get(i + 1) == Some(&'\'') => {
                    value.push('\'');
                    i += 2;
                }
                '\'' => break,
                other => {
                    value.push(other);
                    i += 1;
                }
            }
        }
        i = (i + 1).min(chars.len());
        // `x'..'`, `b'..'`, `N'..'`, `_utf8mb4'..'`: a prefix right before the quote.
        let prefixed = out
            .chars()
            .last()
            .is_some_and(|p| p.is_ascii_alphanumeric() || p == '_');
        if prefixed {
            out.extend(&chars[start..i]);
        } else {
            out.push_str(&mysql_literal(&value, out.trim_end().ends_with("DEFAULT")));
        }
    }
    out
}

/// `sql` (as sea-query writes it for PostgreSQL) with every plain literal that holds a backslash
/// (sea-query's `'\x..'` for bytes) written as an escape string (`E'\\x..'`), which reads the
/// same whatever `standard_conforming_strings` says: when it is `off`, a plain literal's
/// backslashes are escapes, and bytes come out changed. `E'..'` literals, identifiers and
/// prefixed literals (`B'..'`, `U&'..'`) are copied as they are.
pub(crate) fn portable_postgres_literals(sql: &str) -> String {
    if !sql.contains('\\') || super::rendering_escaped_literals() {
        return sql.to_string();
    }
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let end = skip_quoted(&chars, i, '"');
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        if c != '\'' {
            out.push(c);
            i += 1;
            continue;
        }
        let escape_string = out.ends_with(['E', 'e']);
        let start = i;
        i += 1;
        while i < chars.len() {
            match chars[i] {
                '\\' if escape_string => i += 2,
                '\'' if chars.get(i + 1) == Some(&'\'') => i += 2,
                '\'' => break,
                _ => i += 1,
            }
        }
        let end = i.min(chars.len());
        i = (i + 1).min(chars.len());
        let prefixed = out
            .chars()
            .last()
            .is_some_and(|p| p.is_ascii_alphanumeric() || p == '_' || p == '&');
        let content: String = chars[start + 1..end].iter().collect();
        if prefixed || !content.contains('\\') {
            out.extend(&chars[start..i]);
        } else {
            out.push_str("E'");
            out.push_str(&content.replace('\\', "\\\\"));
            out.push('\'');
        }
    }
    out
}

/// `value` as a MySQL/MariaDB string literal that reads the same in every `sql_mode`.
fn mysql_literal(value: &str, after_default: bool) -> String {
    let special = |c: char| matches!(c, '\\' | '\0' | '\x1a');
    if !value.chars().any(special) {
        return format!("'{}'", value.replace('\'', "''"));
    }
    if after_default {
        let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
        return format!("_utf8mb4 0x{hex}");
    }
    let mut pieces: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in value.chars() {
        if special(c) {
            if !run.is_empty() {
                pieces.push(format!("'{}'", run.replace('\'', "''")));
                run.clear();
            }
            pieces.push(format!("CHAR({} USING utf8mb4)", c as u32));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        pieces.push(format!("'{}'", run.replace('\'', "''")));
    }
    if pieces.len() == 1 {
        pieces.remove(0)
    } else {
        format!("CONCAT({})", pieces.join(", "))
    }
}

/// A sea-query query built for `backend`: placeholders and bound values, and a preview with the
/// values inline.
pub fn query(backend: Backend, stmt: &impl QueryStatementWriter) -> Statement {
    let ((sql, values), preview) = match backend {
        Backend::Postgres => {
            let (sql, values) = stmt.build(PostgresQueryBuilder);
            (
                (portable_postgres_literals(&sql), values),
                portable_postgres_literals(&stmt.to_string(PostgresQueryBuilder)),
            )
        }
        Backend::MySql => {
            let (sql, values) = stmt.build(MysqlQueryBuilder);
            (
                (portable_mysql_literals(&sql), values),
                portable_mysql_literals(&stmt.to_string(MysqlQueryBuilder)),
            )
        }
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
    rename_in_sql(backend, sql, from, to, false)
}

/// [`rename_identifier`] for a table's name in a query: a name given with `AS` (a column's or
/// a table's alias) is not the table, and stays. A table in a schema (`billing.invoices`) is
/// found written with its schema; a table without one is not the same name after another's
/// schema (`billing.invoices` is not `invoices`).
pub(crate) fn rename_table_in_query(backend: Backend, sql: &str, from: &str, to: &str) -> String {
    rename_in_sql(backend, sql, from, to, true).0
}

/// Whether the query `sql` names table `table` (as [`rename_table_in_query`] finds it).
pub(crate) fn query_names_table(backend: Backend, sql: &str, table: &str) -> bool {
    rename_in_sql(backend, sql, table, table, true).1
}

/// The identifier that starts at `chars[i]`, bare or quoted with `quote_char`: its text, whether
/// it was quoted, and the index just after it.
fn identifier_at(chars: &[char], i: usize, quote_char: char) -> Option<(String, bool, usize)> {
    let c = *chars.get(i)?;
    if c == quote_char {
        let start = i + 1;
        let mut end = start;
        while end < chars.len() && chars[end] != quote_char {
            end += 1;
        }
        Some((
            chars[start..end].iter().collect(),
            true,
            (end + 1).min(chars.len()),
        ))
    } else if c.is_alphabetic() || c == '_' {
        let mut end = i;
        while end < chars.len()
            && (chars[end].is_alphanumeric() || chars[end] == '_' || chars[end] == '$')
        {
            end += 1;
        }
        Some((chars[i..end].iter().collect(), false, end))
    } else {
        None
    }
}

fn rename_in_sql(backend: Backend, sql: &str, from: &str, to: &str, table: bool) -> (String, bool) {
    // Whether the last word before this point, spaces aside, was `AS`.
    let after_as = |out: &str| {
        table
            && out
                .trim_end()
                .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("as"))
    };
    let is = |ident: &str, quoted: bool, name: &str| {
        if quoted {
            ident == name
        } else {
            ident.eq_ignore_ascii_case(name)
        }
    };
    // A table in a schema is two identifiers with a dot between.
    let (schema, bare) = match crate::types::split_schema(from) {
        (Some(schema), bare) if table => (Some(schema), bare),
        _ => (None, from),
    };
    let quote_char = if backend == Backend::MySql { '`' } else { '"' };
    let chars: Vec<char> = sql.chars().collect();
    let (mut out, mut found, mut i) = (String::with_capacity(sql.len()), false, 0);
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || (c == '"' && backend == Backend::MySql) {
            // A string literal: copy it through, doubled quotes included.
            let end = skip_quoted(&chars, i, c);
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        let Some((ident, quoted, end)) = identifier_at(&chars, i, quote_char) else {
            out.push(c);
            i += 1;
            continue;
        };
        let matched = match schema {
            Some(schema) if is(&ident, quoted, schema) && chars.get(end) == Some(&'.') => {
                identifier_at(&chars, end + 1, quote_char)
                    .filter(|(name, quoted, _)| is(name, *quoted, bare))
                    .map(|(_, _, after)| after)
            }
            Some(_) => None,
            // After a dot, a name is another schema's table (or a column of an alias).
            None if table && out.ends_with('.') => None,
            None => is(&ident, quoted, from).then_some(end),
        };
        match matched {
            Some(after) if !after_as(&out) => {
                found = true;
                out.push_str(&quote(backend, to));
                i = after;
            }
            _ => {
                out.extend(&chars[i..end]);
                i = end;
            }
        }
    }
    (out, found)
}

/// The index just after the quoted run that starts at `chars[i]` (a `q`): up to the closing
/// `q`, a doubled `q` inside it standing for one.
fn skip_quoted(chars: &[char], i: usize, q: char) -> usize {
    let mut i = i + 1;
    while i < chars.len() {
        if chars[i] == q {
            if chars.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            break;
        }
        i += 1;
    }
    (i + 1).min(chars.len())
}

/// An identifier, quoted for `backend`. On PostgreSQL a name with a schema (`billing.invoices`)
/// is quoted part by part (`"billing"."invoices"`): the model lets only table, view, type and
/// function names hold a dot, and refuses them on the other backends before anything renders.
pub fn quote(backend: Backend, ident: &str) -> String {
    match backend {
        Backend::MySql => format!("`{}`", ident.replace('`', "``")),
        Backend::Postgres if ident.contains('.') => {
            let (schema, bare) = crate::types::split_schema(ident);
            format!(
                "{}.{}",
                quote(backend, schema.unwrap_or_default()),
                quote(backend, bare)
            )
        }
        Backend::Postgres | Backend::Sqlite => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

/// A table (or view) for sea-query, with its schema when it names one (`billing.invoices`).
pub fn table_ref(name: &str) -> sq::TableRef {
    use sq::IntoTableRef;
    match crate::types::split_schema(name) {
        (Some(schema), bare) => (sq::Alias::new(schema), sq::Alias::new(bare)).into_table_ref(),
        (None, bare) => sq::Alias::new(bare).into_table_ref(),
    }
}

pub(super) fn quote_list(backend: Backend, idents: &[String]) -> String {
    idents
        .iter()
        .map(|i| quote(backend, i))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{
        portable_mysql_literals, portable_postgres_literals, query_names_table,
        rename_table_in_query,
    };
    use crate::types::Backend;

    #[test]
    fn tables_in_a_query_with_and_without_their_schema() {
        let pg = Backend::Postgres;
        let q = "SELECT i.id FROM billing.invoices i JOIN \"Billing\".\"Lines\" l ON l.invoice_id = i.id";
        assert!(query_names_table(pg, q, "billing.invoices"));
        assert!(query_names_table(pg, q, "Billing.Lines"));
        // The table of the connection's schema is not the one after another schema.
        assert!(!query_names_table(pg, q, "invoices"));
        assert!(!query_names_table(pg, q, "archive.invoices"));
        assert!(query_names_table(pg, "SELECT * FROM invoices", "invoices"));
        assert_eq!(
            rename_table_in_query(pg, q, "billing.invoices", "billing.bills"),
            "SELECT i.id FROM \"billing\".\"bills\" i JOIN \"Billing\".\"Lines\" l ON l.invoice_id = i.id"
        );
        assert_eq!(
            rename_table_in_query(
                pg,
                "SELECT * FROM invoices, billing.invoices",
                "invoices",
                "bills"
            ),
            "SELECT * FROM \"bills\", billing.invoices"
        );
    }

    #[test]
    fn mysql_literals_read_the_same_in_every_sql_mode() {
        assert_eq!(
            portable_mysql_literals(
                r"INSERT INTO `t` VALUES ('it\'s', 'a\\b', 'x\0y', '\'); DROP TABLE u; -- ')"
            ),
            "INSERT INTO `t` VALUES ('it''s', CONCAT('a', CHAR(92 USING utf8mb4), 'b'), \
             CONCAT('x', CHAR(0 USING utf8mb4), 'y'), '''); DROP TABLE u; -- ')"
        );
        assert_eq!(
            portable_mysql_literals(r"ALTER TABLE `t` ADD COLUMN `p` text DEFAULT 'C:\\t'"),
            "ALTER TABLE `t` ADD COLUMN `p` text DEFAULT _utf8mb4 0x433A5C74"
        );
        // Identifiers, hex literals and LIKE's `\%` are kept.
        assert_eq!(
            portable_mysql_literals(r"SELECT `it's` FROM `t` WHERE b = x'00FF' AND c LIKE 'a\%'"),
            r"SELECT `it's` FROM `t` WHERE b = x'00FF' AND c LIKE CONCAT('a', CHAR(92 USING utf8mb4), '%')"
        );
    }

    #[test]
    fn postgres_literals_read_the_same_whatever_standard_conforming_strings_says() {
        assert_eq!(
            portable_postgres_literals(
                r#"INSERT INTO "t" VALUES ('\x00FF', E'it\'s', 'plain', "a'b")"#
            ),
            r#"INSERT INTO "t" VALUES (E'\\x00FF', E'it\'s', 'plain', "a'b")"#
        );
    }
}
