//! SQLite's schema from `sqlite_master` and the schema pragmas. SQLite keeps the names of check
//! and unique constraints only in the `CREATE TABLE` text, so they are read from it by a small
//! tokenizer.

use std::collections::BTreeMap;

#[cfg(feature = "sqlite")]
use sqlx::Row;
#[cfg(feature = "sqlite")]
use sqlx::sqlite::SqliteConnection;

use super::{LiveCheck, LiveColumn, LiveForeignKey, LiveIndex, LiveTable};

/// Views and triggers (SQLite has no stored functions).
pub(super) const SQLITE_OBJECTS: &str = "SELECT type, name, CASE type WHEN 'trigger' THEN tbl_name END, \
       CASE type WHEN 'view' THEN sql END FROM sqlite_master \
     WHERE type IN ('view', 'trigger') ORDER BY type, name";

#[cfg(feature = "sqlite")]
pub(super) async fn introspect(
    conn: &mut SqliteConnection,
) -> Result<BTreeMap<String, LiveTable>, sqlx::Error> {
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
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) \
             WHERE hidden <> 1 ORDER BY cid",
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
            // `table_xinfo` lists generated columns too: hidden 2 virtual, 3 stored.
            let generated = match c.get::<i64, _>(5) {
                2 => Some(false),
                3 => Some(true),
                _ => None,
            };
            t.columns.push(LiveColumn {
                comment: None,
                generated,
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
                valid: true,
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
pub struct Parsed {
    /// Named check constraints.
    pub checks: Vec<String>,
    /// Named unique constraints and their columns.
    pub uniques: Vec<(String, Vec<String>)>,
    /// The column declared `AUTOINCREMENT`.
    pub autoincrement: Option<String>,
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

/// Read the constraint names and the `AUTOINCREMENT` column out of a table's `CREATE TABLE` text
/// (`sqlite_master.sql`): quoted identifiers of every kind, string literals and comments are
/// skipped as SQLite's tokenizer does.
pub fn parse_create_table(sql: &str) -> Parsed {
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
}
