//! What a SQLite table rebuild keeps that the migrations do not know: the indexes and triggers
//! made on the table with raw SQL, and its `AUTOINCREMENT` counter. The rebuild's `DROP TABLE`
//! takes them with the old table; [`keep`] reads them from `sqlite_master` just before it, and
//! [`restore`] creates them again after the new table has its name (both in the migration's
//! transaction, so a failure leaves everything as it was). Views over the table outlive the
//! rebuild by themselves (they are looked up by name); each is queried once after it, and a
//! statement of each kind that fires the triggers is prepared (changing nothing), so that one
//! that names a dropped column stops the migration instead of failing later.

use sqlx::Row as _;

use crate::connect::Conn;

/// What [`keep`] read of one table.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    /// `(type, name, sql)`: indexes first, then triggers, as `sqlite_master` has them.
    objects: Vec<(String, String, String)>,
    /// The table's row in `sqlite_sequence`, if it has one.
    counter: Option<i64>,
}

/// Read what `table` has that the migrations do not know: every index and trigger on it not
/// named in `known` (SQLite's own `sqlite_autoindex_*` have no SQL and are left out), and its
/// `AUTOINCREMENT` counter.
#[cfg(feature = "sqlite")]
pub(crate) async fn keep(
    conn: &mut Conn,
    table: &str,
    known: &[String],
) -> Result<Kept, sqlx::Error> {
    let Conn::Sqlite(c, _) = conn else {
        return Ok(Kept::default());
    };
    let objects = sqlx::query(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? \
         AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name",
    )
    .bind(table)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| {
        (
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            r.get::<String, _>(2),
        )
    })
    .filter(|(_, name, _)| !known.contains(name) && !name.starts_with("sqlite_"))
    .collect();
    let has_sequence: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
    )
    .fetch_one(&mut *c)
    .await?;
    let counter = if has_sequence > 0 {
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = ?")
            .bind(table)
            .fetch_optional(&mut *c)
            .await?
    } else {
        None
    };
    Ok(Kept { objects, counter })
}

/// Create again what [`keep`] read of `table`, and set its counter back where the rebuild left
/// it lower. An object that does not fit the new table (it names a column the migration
/// dropped) is an error that names it and says what to do.
#[cfg(feature = "sqlite")]
pub(crate) async fn restore(conn: &mut Conn, table: &str, kept: &Kept) -> Result<(), String> {
    let Conn::Sqlite(c, _) = conn else {
        return Ok(());
    };
    for (kind, name, sql) in &kept.objects {
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *c)
            .await
        {
            return Err(format!(
                "the {kind} `{name}` on `{table}`, made outside the migrations, cannot be created \
                 again after the table was rebuilt: {}; drop it in this migration before the \
                 change (`s.sql(\"DROP {} {name}\")`) and create it again after, to fit the new \
                 table",
                crate::error::db_reason(&e),
                kind.to_ascii_uppercase()
            ));
        }
    }
    // SQLite does not check a trigger's columns when it is created, only when a statement that
    // fires it is prepared: prepare one of each kind, which changes nothing (`WHERE 0`).
    let triggers: Vec<&str> = kept
        .objects
        .iter()
        .filter(|(kind, _, _)| kind == "trigger")
        .map(|(_, name, _)| name.as_str())
        .collect();
    if !triggers.is_empty() {
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&mut *c)
            .await
            .map_err(|e| crate::error::db_reason(&e))?;
        // Nor the columns of `UPDATE OF`: a trigger on a column the migration dropped would
        // never fire again.
        for (_, name, sql) in kept.objects.iter().filter(|(kind, _, _)| kind == "trigger") {
            if let Some(gone) = update_of_columns(sql)
                .into_iter()
                .find(|u| !columns.iter().any(|c| c.eq_ignore_ascii_case(u)))
            {
                return Err(format!(
                    "the trigger `{name}` on `{table}`, made outside the migrations, fires on \
                     updates of `{gone}`, which the rebuilt table no longer has: it would never \
                     fire again; drop it in this migration before the change \
                     (`s.sql(\"DROP TRIGGER {name}\")`) and create it again after, to fit the \
                     new table"
                ));
            }
        }
        let sets: Vec<String> = columns
            .iter()
            .map(|col| {
                let col = format!("\"{}\"", col.replace('"', "\"\""));
                format!("{col} = {col}")
            })
            .collect();
        let probes = [
            format!("INSERT INTO {quoted} SELECT * FROM {quoted} WHERE 0"),
            format!("UPDATE {quoted} SET {} WHERE 0", sets.join(", ")),
            format!("DELETE FROM {quoted} WHERE 0"),
        ];
        for probe in probes {
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(probe))
                .execute(&mut *c)
                .await
            {
                return Err(format!(
                    "a trigger on `{table}` made outside the migrations (of {}) no longer fits the \
                     table after it was rebuilt: {}; drop it in this migration before the change \
                     (`s.sql(\"DROP TRIGGER name\")`) and create it again after, to fit the new \
                     table",
                    triggers
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    crate::error::db_reason(&e)
                ));
            }
        }
    }
    // A view over the table that no longer fits it (it names a column the migration dropped)
    // would fail only when queried: query each one now.
    let views: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'view' AND sql LIKE '%' || ? || '%'",
    )
    .bind(table)
    .fetch_all(&mut *c)
    .await
    .map_err(|e| crate::error::db_reason(&e))?;
    for view in views {
        let probe = format!("SELECT * FROM \"{}\" LIMIT 0", view.replace('"', "\"\""));
        if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(probe))
            .execute(&mut *c)
            .await
        {
            return Err(format!(
                "the view `{view}` no longer fits `{table}` after the table was rebuilt: {}; \
                 drop it in this migration before the change (`s.sql(\"DROP VIEW {view}\")`) \
                 and create it again after, to fit the new table",
                crate::error::db_reason(&e)
            ));
        }
    }
    if let Some(counter) = kept.counter {
        let set = async {
            sqlx::query("UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?")
                .bind(counter)
                .bind(table)
                .bind(counter)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? \
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
            )
            .bind(table)
            .bind(counter)
            .bind(table)
            .execute(&mut *c)
            .await
        };
        set.await.map_err(|e| {
            format!(
                "the AUTOINCREMENT counter of `{table}` cannot be set back to {counter}: {}",
                crate::error::db_reason(&e)
            )
        })?;
    }
    Ok(())
}

/// The columns of a trigger's `UPDATE OF a, b ON ..`, unquoted; empty without one.
fn update_of_columns(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let Some(at) = words
        .windows(2)
        .position(|w| w[0] == "UPDATE" && w[1] == "OF")
    else {
        return Vec::new();
    };
    // The same words, in the original case, after `UPDATE OF`, up to `ON`.
    let original: Vec<&str> = sql.split_whitespace().collect();
    let list: Vec<&str> = original[at + 2..]
        .iter()
        .zip(&words[at + 2..])
        .take_while(|(_, w)| **w != "ON")
        .map(|(o, _)| *o)
        .collect();
    list.join(" ")
        .split(',')
        .map(|c| {
            c.trim()
                .trim_matches(|ch| matches!(ch, '"' | '`' | '[' | ']'))
                .to_string()
        })
        .filter(|c| !c.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::update_of_columns;

    #[test]
    fn update_of_columns_are_read_from_the_trigger() {
        assert_eq!(
            update_of_columns(
                "CREATE TRIGGER t AFTER UPDATE OF \"body\", title ON posts BEGIN SELECT 1; END"
            ),
            ["body", "title"]
        );
        assert_eq!(
            update_of_columns(
                "create trigger t before update of Body on posts begin select 1; end"
            ),
            ["Body"]
        );
        assert!(
            update_of_columns("CREATE TRIGGER t AFTER UPDATE ON posts BEGIN SELECT 1; END")
                .is_empty()
        );
    }
}

/// Without SQLite there is no table rebuild.
#[cfg(not(feature = "sqlite"))]
pub(crate) async fn keep(
    _conn: &mut Conn,
    _table: &str,
    _known: &[String],
) -> Result<Kept, sqlx::Error> {
    Ok(Kept::default())
}

/// Without SQLite there is no table rebuild.
#[cfg(not(feature = "sqlite"))]
pub(crate) async fn restore(_conn: &mut Conn, _table: &str, _kept: &Kept) -> Result<(), String> {
    Ok(())
}
