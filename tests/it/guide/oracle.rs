//! The safety rules checked by the servers themselves: each example of `docs/safety-rules.md`
//! (`safety_rules.rs`) is run on a real database, and what the server does is read back from its
//! own catalog, not from godwit.
//!
//! - PostgreSQL, in the migration's transaction, after each statement: did the table's file
//!   change (`pg_class.relfilenode`: a rewrite), and did the statement read or change the rows
//!   of a table (`pg_stat_xact_user_tables`) while the transaction held a lock on it that blocks
//!   writes (`pg_locks`: `SHARE` or stronger)? A migration that must run outside a transaction
//!   (`CONCURRENTLY`) is run while another session holds a write (or a read) open on its tables:
//!   does it queue a lock on a table, which every later query would wait behind?
//! - MySQL/MariaDB: does an `ALTER TABLE` copy the table (the rows it reports affected)?
//! - Every backend: does every statement of the safe way run?
//!
//! The unsafe way must show what its rule says; the safe way must show none of it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use godwit_core::prelude::Rule;
use godwit_core::{Backend, RenderedMigration};
use sqlx::{AssertSqlSafe, Connection, Row};

use super::catalog;
use super::safety_rules::{EXAMPLES, Example, migration_name};
use crate::live::db::{Conn, Scratch};
use crate::scenarios::Step;

/// What a server was seen doing to a table that holds rows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    /// PostgreSQL wrote the table anew (its file changed).
    Rewrite(String),
    /// PostgreSQL read or changed the table's rows while holding `lock` on it.
    WorkUnderLock { table: String, lock: String },
    /// PostgreSQL queued `lock` on the table behind another session's open transaction: every
    /// query after it waits.
    Queued { table: String, lock: String },
    /// MySQL/MariaDB copied the table (the `ALTER` reported the rows it copied).
    Copy { statement: String, rows: u64 },
}

/// Locks that make writers wait.
const BLOCKS_WRITES: [&str; 4] = [
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// The rules the servers are asked about on `backend`: those whose lock grows with the table
/// (`Rule::grows_with_the_table`, so a new one is proven here without being listed), and on
/// PostgreSQL the drop of an index, whose risk is the lock it queues. `mysql-online-ddl` is
/// proven by `mysql_online_fixes_run_on_the_server`: its unsafe way may well run online, it
/// just does not say so.
fn rules_proven_on(backend: Backend) -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| r.backends().contains(&backend))
        .filter(|r| {
            r.grows_with_the_table()
                || (backend == Backend::Postgres && *r == Rule::DropIndexNotConcurrent)
        })
        .filter(|r| *r != Rule::MysqlOnlineDdl)
        .filter(|r| backend != Backend::MySql || r.backends() == [Backend::MySql])
        .collect()
}

/// The setup and the fragments of `e`, rendered for `backend`: (setup, fragments).
fn rendered(
    e: &Example,
    code: &[fn(&mut godwit_core::prelude::Schema)],
    backend: Backend,
) -> (Vec<RenderedMigration>, Vec<RenderedMigration>) {
    let steps: Vec<Step> = code.iter().map(|&f| Step::up(f)).collect();
    let (catalog, _) = catalog(e.setup, &steps, &migration_name(e.rule));
    let mut all = catalog
        .render_up(backend, None)
        .unwrap_or_else(|err| panic!("{} on {backend}: {err}", e.rule));
    let fragments = all.split_off(e.setup.len());
    (all, fragments)
}

/// Per table of the current schema: (file, rows read + rows changed) in this transaction.
async fn pg_tables(c: &mut sqlx::PgConnection) -> BTreeMap<String, (i64, i64)> {
    sqlx::query(
        "SELECT c.relname::text, c.relfilenode::int8, \
         (COALESCE(s.seq_scan, 0) + COALESCE(s.idx_scan, 0) + COALESCE(s.n_tup_ins, 0) \
          + COALESCE(s.n_tup_upd, 0) + COALESCE(s.n_tup_del, 0))::int8 \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_stat_xact_user_tables s ON s.relid = c.oid \
         WHERE n.nspname = current_schema() AND c.relkind = 'r'",
    )
    .fetch_all(&mut *c)
    .await
    .expect("pg_class and pg_stat_xact_user_tables")
    .iter()
    .map(|r| (r.get::<String, _>(0), (r.get(1), r.get(2))))
    .collect()
}

/// The locks this session holds on tables, by table.
async fn pg_held(c: &mut sqlx::PgConnection) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT c.relname::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         WHERE l.pid = pg_backend_pid() AND l.granted AND c.relkind = 'r'",
    )
    .fetch_all(&mut *c)
    .await
    .expect("pg_locks")
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Run `m` in a transaction, statement by statement, and say what PostgreSQL did.
async fn pg_in_transaction(c: &mut sqlx::PgConnection, m: &RenderedMigration) -> Vec<Effect> {
    let mut effects = Vec::new();
    sqlx::raw_sql("BEGIN").execute(&mut *c).await.unwrap();
    for st in m.statements.iter().filter(|s| s.data.is_none()) {
        let before = pg_tables(c).await;
        sqlx::raw_sql(AssertSqlSafe(st.preview.clone()))
            .execute(&mut *c)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n  {}", m.id, st.preview));
        let after = pg_tables(c).await;
        let held = pg_held(c).await;
        for (table, (file, work)) in &after {
            let Some((old_file, old_work)) = before.get(table) else {
                continue;
            };
            if file != old_file {
                effects.push(Effect::Rewrite(table.clone()));
            }
            if work > old_work
                && let Some((_, lock)) = held
                    .iter()
                    .find(|(t, mode)| t == table && BLOCKS_WRITES.contains(&mode.as_str()))
            {
                effects.push(Effect::WorkUnderLock {
                    table: table.clone(),
                    lock: lock.clone(),
                });
            }
        }
    }
    sqlx::raw_sql("COMMIT").execute(&mut *c).await.unwrap();
    effects
}

/// Run `m` (which cannot run in a transaction) while another session holds `hold` (a write:
/// `ROW EXCLUSIVE`, or a read: `ACCESS SHARE`) on every table in an open transaction, and say
/// which table lock `m` queued behind it, if any. Waiting for the other transaction to end
/// without queuing a table lock (as `CONCURRENTLY` does) blocks nobody else.
async fn pg_queued(db: &Scratch, m: &RenderedMigration, hold: &str) -> Vec<Effect> {
    let url = db.url();
    let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut watcher = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut runner = sqlx::PgConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = pg_tables(&mut holder).await.into_keys().collect();
    let list: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
    sqlx::raw_sql(AssertSqlSafe(format!(
        "BEGIN; LOCK TABLE {} IN {hold} MODE",
        list.join(", ")
    )))
    .execute(&mut holder)
    .await
    .unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut runner)
        .await
        .unwrap();
    let statements: Vec<String> = m
        .statements
        .iter()
        .filter(|s| s.data.is_none())
        .map(|s| s.preview.clone())
        .collect();
    let id = m.id.to_string();
    let run = tokio::spawn(async move {
        for sql in statements {
            sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&mut runner)
                .await
                .unwrap_or_else(|e| panic!("{id}: {e}\n  {sql}"));
        }
        runner.close().await.ok();
    });
    // Until the migration is done, or waits: on a table lock, or on the other transaction.
    let start = Instant::now();
    let mut effects = Vec::new();
    loop {
        let waits = sqlx::query(
            "SELECT l.locktype, COALESCE(c.relname::text, ''), l.mode FROM pg_locks l \
             LEFT JOIN pg_class c ON c.oid = l.relation WHERE l.pid = $1 AND NOT l.granted",
        )
        .bind(pid)
        .fetch_all(&mut watcher)
        .await
        .unwrap();
        if let Some(w) = waits.first() {
            let (kind, table, lock): (String, String, String) = (w.get(0), w.get(1), w.get(2));
            if kind == "relation" {
                effects.push(Effect::Queued { table, lock });
            }
            break;
        }
        if run.is_finished() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}: neither done nor waiting after a minute",
            m.id
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    run.await
        .expect("the migration runs once the other session is done");
    holder.close().await.ok();
    watcher.close().await.ok();
    effects
}

/// Run `m` statement by statement on MySQL/MariaDB, and say which `ALTER` copied its table.
async fn mysql_copies(c: &mut sqlx::MySqlConnection, m: &RenderedMigration) -> Vec<Effect> {
    let mut effects = Vec::new();
    for st in m.statements.iter().filter(|s| s.data.is_none()) {
        let done = sqlx::raw_sql(AssertSqlSafe(st.preview.clone()))
            .execute(&mut *c)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n  {}", m.id, st.preview));
        if st.preview.starts_with("ALTER TABLE") && done.rows_affected() > 0 {
            effects.push(Effect::Copy {
                statement: st.preview.clone(),
                rows: done.rows_affected(),
            });
        }
    }
    effects
}

/// What the server does running the fragments `code` of `e` after its setup, on `backend`.
async fn observe(
    e: &Example,
    code: &[fn(&mut godwit_core::prelude::Schema)],
    backend: Backend,
    label: &str,
) -> Vec<Effect> {
    let rendered = rendered(e, code, backend);
    observe_rendered(rendered, e.rule, backend, label).await
}

/// What the server does running `fragments` after `setup`, on `backend`, for `rule`.
async fn observe_rendered(
    (setup, fragments): (Vec<RenderedMigration>, Vec<RenderedMigration>),
    rule: Rule,
    backend: Backend,
    label: &str,
) -> Vec<Effect> {
    let mut db = Scratch::create(backend, label).await;
    db.conn.apply_all(&setup).await;
    let mut effects = Vec::new();
    for m in &fragments {
        // Dropping an index is quick: its risk is the lock it queues behind a reader.
        let queues = rule == Rule::DropIndexNotConcurrent;
        let seen = match (&mut db.conn, m.transactional && !queues) {
            (Conn::Postgres(c), true) => pg_in_transaction(c, m).await,
            (Conn::Postgres(_), false) => {
                let hold = if queues {
                    "ACCESS SHARE"
                } else {
                    "ROW EXCLUSIVE"
                };
                pg_queued(&db, m, hold).await
            }
            (Conn::MySql(c), _) => mysql_copies(c, m).await,
            (_, _) => {
                db.conn.apply(m).await;
                Vec::new()
            }
        };
        effects.extend(seen);
    }
    let Scratch { conn, .. } = db;
    conn.close().await;
    effects
}

/// One line of the table the tests print: rule, backend, what the unsafe and the safe way did.
fn line(rule: Rule, backend: Backend, unsafe_way: &[Effect], safe_way: &[Effect]) -> String {
    let say = |effects: &[Effect]| -> String {
        if effects.is_empty() {
            return "nothing".into();
        }
        effects
            .iter()
            .map(|e| match e {
                Effect::Rewrite(t) => format!("rewrote {t}"),
                Effect::WorkUnderLock { table, lock } => {
                    format!("read or changed rows of {table} under {lock}")
                }
                Effect::Queued { table, lock } => format!("queued {lock} on {table}"),
                Effect::Copy { rows, .. } => format!("copied {rows} rows"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!(
        "| {rule} | {backend} | {} | {} |",
        say(unsafe_way),
        say(safe_way)
    )
}

async fn check_rules(backend: Backend, rules: &[Rule]) {
    let mut table = Vec::new();
    for &rule in rules {
        let e = EXAMPLES
            .iter()
            .find(|e| e.rule == rule)
            .unwrap_or_else(|| panic!("{rule} has an example"));
        let label = format!("oracle_{}", rule.code().replace('-', "_"));
        let unsafe_way = observe(e, e.unsafe_code, backend, &label).await;
        let safe_way = observe(e, e.safe_code, backend, &label).await;
        table.push(line(rule, backend, &unsafe_way, &safe_way));
        assert!(
            !unsafe_way.is_empty(),
            "{rule} on {backend}: the server shows no lock, rewrite or copy for the unsafe way"
        );
        assert!(
            safe_way.is_empty(),
            "{rule} on {backend}: the server shows {safe_way:?} for the safe way"
        );
    }
    println!("{}", table.join("\n"));
}

#[tokio::test]
async fn postgres_locks_and_rewrites_where_the_rules_say() {
    check_rules(Backend::Postgres, &rules_proven_on(Backend::Postgres)).await;
}

#[tokio::test]
async fn mysql_copies_where_the_rules_say() {
    check_rules(Backend::MySql, &rules_proven_on(Backend::MySql)).await;
}

/// Every safe way runs on every backend its rule applies to (MySQL/MariaDB accept the
/// `ALGORITHM` and `LOCK` it gives), and does not copy a table there.
#[tokio::test]
async fn every_safe_way_runs_on_its_backends() {
    for e in EXAMPLES {
        for &backend in e.rule.backends() {
            let label = format!("oracle_safe_{}", e.rule.code().replace('-', "_"));
            let seen = observe(e, e.safe_code, backend, &label).await;
            // The lock rules' safe ways are checked above; here only what any safe way must not do.
            let bad: Vec<&Effect> = seen
                .iter()
                .filter(|f| matches!(f, Effect::Copy { .. } | Effect::Rewrite(_)))
                .collect();
            assert!(
                bad.is_empty(),
                "the safe way of {} on {backend}: {bad:?}",
                e.rule
            );
        }
    }
}

/// A fragment run with the `ALGORITHM` lint suggests for it.
struct Online {
    up: fn(&mut godwit_core::prelude::Schema),
    algorithm: Option<godwit_core::prelude::Algorithm>,
}

impl godwit_core::Migration for Online {
    fn up(&self, s: &mut godwit_core::prelude::Schema) {
        (self.up)(s);
        if let Some(a) = self.algorithm {
            s.mysql_online(a, godwit_core::prelude::Lock::None);
        }
    }
}

/// Every fix `mysql-online-ddl` suggests (`s.mysql_online(Algorithm::.., Lock::None)`) runs on
/// MariaDB for each operation it is suggested for, without copying the table.
#[tokio::test]
async fn mysql_online_fixes_run_on_the_server() {
    use godwit_core::prelude::*;
    use godwit_core::{Catalog, Migration, MigrationId};

    const SETUP: Step = Step::up(|s| {
        s.add_check("posts", "ck_posts_views", col("views").gte(0));
        s.add_index("posts", ["status"]);
    });
    type Fragment = (&'static str, fn(&mut Schema));
    let fragments: &[Fragment] = &[
        ("add_column", |s| {
            s.add_column("posts", Column::text("summary").nullable());
        }),
        ("drop_column", |s| {
            s.drop_column("posts", "body");
            s.allow(Rule::DropColumn, "unused");
        }),
        ("rename_column", |s| {
            s.rename_column("posts", "body", "text");
            s.allow(Rule::RenameColumn, "unused");
        }),
        ("set_default", |s| {
            s.set_default("posts", "status", "draft");
        }),
        ("drop_default", |s| {
            s.drop_default("posts", "views");
        }),
        ("set_not_null", |s| {
            s.set_not_null("posts", "status");
        }),
        ("drop_not_null", |s| {
            s.drop_not_null("posts", "title");
            s.allow(Rule::DropNotNull, "every reader handles NULL");
        }),
        ("add_index", |s| {
            s.add_index("posts", ["views"]);
        }),
        ("drop_index", |s| {
            s.drop_index("posts", "idx_posts_status");
        }),
        ("rename_index", |s| {
            s.rename_index("posts", "idx_posts_status", "idx_posts_state");
        }),
        ("drop_foreign_key", |s| {
            s.drop_foreign_key("posts", "fk_posts_user_id");
        }),
        ("drop_check", |s| {
            s.drop_check("posts", "ck_posts_views");
        }),
        ("add_unique", |s| {
            s.add_unique("posts", ["user_id", "title"]);
        }),
        ("drop_unique", |s| {
            s.drop_unique("users", "uq_users_email");
        }),
    ];
    let setup = [crate::scenarios::BLOG, crate::scenarios::BLOG_ROWS, SETUP];
    let mut lines = Vec::new();
    for (name, up) in fragments {
        let catalog_with = |algorithm: Option<Algorithm>| {
            let mut entries: Vec<(MigrationId, &'static dyn Migration)> = setup
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let m: &'static dyn Migration = Box::leak(Box::new(*s));
                    (
                        MigrationId {
                            version: 1 + i as u64,
                            name: format!("setup_{i}"),
                        },
                        m,
                    )
                })
                .collect();
            let m: &'static dyn Migration = Box::leak(Box::new(Online { up: *up, algorithm }));
            entries.push((
                MigrationId {
                    version: 10,
                    name: name.to_string(),
                },
                m,
            ));
            Catalog::new(entries)
        };
        let findings = catalog_with(None)
            .lint(Backend::MySql, Some(&[10]))
            .unwrap();
        let fix = findings
            .iter()
            .find(|f| f.rule == Rule::MysqlOnlineDdl)
            .unwrap_or_else(|| panic!("{name}: no mysql-online-ddl finding: {findings:#?}"));
        let algorithm = [
            ("Algorithm::Instant", Algorithm::Instant),
            ("Algorithm::Inplace", Algorithm::Inplace),
            ("Algorithm::Copy", Algorithm::Copy),
        ]
        .into_iter()
        .find(|(code, _)| fix.safe.contains(code))
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("{name}: the fix names no algorithm: {}", fix.safe));
        let catalog = catalog_with(Some(algorithm));
        let after = catalog.lint(Backend::MySql, Some(&[10])).unwrap();
        assert!(
            !after
                .iter()
                .any(|f| f.rule == Rule::MysqlOnlineDdl && f.allowed.is_none()),
            "{name}: the fix does not satisfy the rule: {after:#?}"
        );
        let mut all = catalog.render_up(Backend::MySql, None).unwrap();
        let m = all.pop().unwrap();
        let mut db = Scratch::create(Backend::MySql, &format!("online_{name}")).await;
        db.conn.apply_all(&all).await;
        let Conn::MySql(c) = &mut db.conn else {
            unreachable!("a MySQL scratch database")
        };
        let copies = mysql_copies(c, &m).await;
        assert!(copies.is_empty(), "{name}: {copies:?}");
        lines.push(format!("| {name} | {algorithm:?} | runs, no copy |"));
        let Scratch { conn, .. } = db;
        conn.close().await;
    }
    println!("{}", lines.join("\n"));
}

/// Every case of `agreement.rs` that godwit passes (some of which squawk flags: a longer
/// varchar, varchar to text, timestamp to timestamptz in UTC, `SET NOT NULL` over a valid
/// check) does on the server none of what the rules guard against.
#[tokio::test]
async fn what_godwit_passes_neither_rewrites_nor_blocks_nor_copies() {
    use super::agreement::{CASES, Verdict};
    let mut lines = Vec::new();
    for case in CASES.iter().filter(|c| c.verdict == Verdict::Passes) {
        let Some(code) = case.code else { continue };
        let steps = [Step::up(code)];
        let (catalog, _) = catalog(case.setup, &steps, "passes");
        let mut all = catalog
            .render_up(case.backend, None)
            .unwrap_or_else(|e| panic!("{} on {}: {e}", case.name, case.backend));
        let fragments = all.split_off(case.setup.len());
        // Any rule but the one that makes a migration queue behind a reader.
        let seen = observe_rendered((all, fragments), Rule::RawSql, case.backend, "passes").await;
        assert!(
            seen.is_empty(),
            "{} on {}: the server shows {seen:?}",
            case.name,
            case.backend
        );
        lines.push(format!("| {} | {} | nothing |", case.name, case.backend));
    }
    println!("{}", lines.join("\n"));
}

/// Connected, the volatility of a default's functions comes from `pg_proc`: a user's IMMUTABLE
/// function passes and keeps the table's file; a VOLATILE one is flagged and rewrites it.
#[tokio::test]
async fn postgres_reads_volatility_from_pg_proc() {
    use godwit::runner::Up;
    use godwit_core::Migration;
    use godwit_core::prelude::*;

    const IMMUTABLE: Step = Step::up(|s| {
        s.add_column(
            "posts",
            Column::integer("score").default(Sql("app_default()")),
        );
    });
    const VOLATILE: Step = Step::up(|s| {
        s.add_column("posts", Column::uuid("token").default(Sql("app_token()")));
    });
    let mut db = Scratch::create(Backend::Postgres, "pg_proc_volatility").await;
    let leak = |s: Step| -> &'static dyn Migration { Box::leak(Box::new(s)) };
    let migrations = [
        (1, "blog", leak(crate::scenarios::BLOG)),
        (2, "rows", leak(crate::scenarios::BLOG_ROWS)),
        (3, "immutable", leak(IMMUTABLE)),
        (4, "volatile", leak(VOLATILE)),
    ];
    let runner = crate::runner::runner_of(&db, &migrations);
    runner.up(&Up::default().to(Some(2))).await.unwrap();
    crate::runner::exec(
        &mut db.conn,
        "CREATE FUNCTION app_default() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 7'; \
         CREATE FUNCTION app_token() RETURNS uuid LANGUAGE sql VOLATILE AS 'SELECT gen_random_uuid()'",
    )
    .await;
    let catalog = godwit_core::Catalog::new(migrations.iter().map(|(v, n, m)| {
        (
            godwit_core::MigrationId {
                version: *v,
                name: n.to_string(),
            },
            *m,
        )
    }));
    let volatile = |findings: Vec<godwit_core::Finding>| -> Vec<u64> {
        findings
            .iter()
            .filter(|f| f.rule == Rule::VolatileDefault)
            .map(|f| f.migration.version)
            .collect()
    };
    let offline = catalog.lint(Backend::Postgres, Some(&[3, 4])).unwrap();
    assert_eq!(volatile(offline), [3, 4], "unknown functions are volatile");
    let live = runner.live_context().await.unwrap();
    assert!(live.not_volatile.contains("app_default") && !live.not_volatile.contains("app_token"));
    let online = catalog
        .lint_live(Backend::Postgres, Some(&[3, 4]), Some(&live))
        .unwrap();
    assert_eq!(volatile(online), [4]);

    let file = "SELECT relfilenode::int8 FROM pg_class WHERE relname = 'posts'";
    let before = crate::runner::scalar(&mut db.conn, file).await;
    // `up` reads pg_proc too: no allow_unsafe needed for the immutable default.
    runner.up(&Up::default().to(Some(3))).await.unwrap();
    assert_eq!(crate::runner::scalar(&mut db.conn, file).await, before);
    runner.up(&Up::default().allow_unsafe(true)).await.unwrap();
    assert_ne!(
        crate::runner::scalar(&mut db.conn, file).await,
        before,
        "the volatile default rewrote posts"
    );
    db.conn.close().await;
}
