//! godwit's safety rules beside the check lists of strong_migrations and squawk: one case per
//! check of either list that the DSL can express (and a few where they disagree), each linted
//! by godwit on the backend it is about. The test asserts what godwit does; the anchors' verdicts
//! are data, from their documented check lists. Print the table with
//!
//! ```text
//! cargo test -p tests --test it guide::agreement -- --nocapture
//! ```
//!
//! The servers' side of each rule (the rewrite, the lock, the copy) is proven by `oracle.rs`,
//! which also runs every case godwit passes here on the server: none rewrites, scans under a
//! lock that blocks writes, or copies a table.

use godwit_core::prelude::*;
use godwit_core::{Backend, Finding};

use super::catalog;
use crate::scenarios::{BLOG, BLOG_ROWS, LOOSE_COMMENTS, Step};

const WITH_ROWS: &[Step] = &[BLOG, BLOG_ROWS];
const WITH_COMMENTS: &[Step] = &[BLOG, BLOG_ROWS, LOOSE_COMMENTS];
const WITH_INDEX: &[Step] = &[
    BLOG,
    BLOG_ROWS,
    Step::up(|s| {
        s.add_index("posts", ["status"]);
    }),
];
const WITH_VALID_CHECK: &[Step] = &[
    BLOG,
    BLOG_ROWS,
    Step::up(|s| {
        s.add_check("posts", "ck_posts_status_nn", col("status").is_not_null())
            .not_valid();
    }),
    Step::up(|s| {
        s.validate_constraint("posts", "ck_posts_status_nn");
    }),
];
const WITH_UNIQUE_INDEX: &[Step] = &[
    BLOG,
    BLOG_ROWS,
    Step::up(|s| {
        s.add_index("users", ["name"])
            .unique()
            .name("uq_users_name")
            .concurrently();
    }),
];

/// What a check list says of a case.
#[derive(Clone, Copy)]
enum Anchor {
    /// It flags the case, under this check's name.
    Flags(&'static str),
    /// It lets the case through (the name says where it says so).
    Passes(&'static str),
    /// It has no check for the case, or does not cover the backend.
    Silent,
}

/// What godwit does with a case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Verdict {
    /// `lint` reports this rule (style rules with `--style`).
    Flags(Rule),
    /// `lint` reports nothing unsafe.
    Passes,
    /// It cannot be written: the DSL refuses it at compile time.
    DoesNotCompile,
}

pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) backend: Backend,
    strong_migrations: Anchor,
    squawk: Anchor,
    pub(super) setup: &'static [Step],
    /// `None` when the case does not compile (see `verdict`).
    pub(super) code: Option<fn(&mut Schema)>,
    pub(super) verdict: Verdict,
}

use Anchor::{Flags, Passes, Silent};
use Backend::{MySql, Postgres};

const fn case(
    name: &'static str,
    backend: Backend,
    strong_migrations: Anchor,
    squawk: Anchor,
    setup: &'static [Step],
    code: fn(&mut Schema),
    verdict: Verdict,
) -> Case {
    Case {
        name,
        backend,
        strong_migrations,
        squawk,
        setup,
        code: Some(code),
        verdict,
    }
}

pub(super) const CASES: &[Case] = &[
    case(
        "remove a column",
        Postgres,
        Flags("remove_column"),
        Flags("ban-drop-column"),
        WITH_ROWS,
        |s| s.drop_column("posts", "body"),
        Verdict::Flags(Rule::DropColumn),
    ),
    case(
        "drop a table",
        Postgres,
        Silent,
        Flags("ban-drop-table"),
        WITH_COMMENTS,
        |s| s.drop_table("comments"),
        Verdict::Flags(Rule::DropTable),
    ),
    case(
        "change a column's type (integer to bigint)",
        Postgres,
        Flags("change_column"),
        Flags("changing-column-type"),
        WITH_ROWS,
        |s| s.change_column_type("posts", "views", ColumnType::BigInt),
        Verdict::Flags(Rule::TypeChangeRewrite),
    ),
    case(
        "lengthen a varchar",
        Postgres,
        Passes("change_column: safe"),
        Flags("changing-column-type"),
        WITH_ROWS,
        |s| s.change_column_type("posts", "title", ColumnType::String(400)),
        Verdict::Passes,
    ),
    case(
        "varchar to text",
        Postgres,
        Passes("change_column: safe"),
        Flags("changing-column-type"),
        WITH_ROWS,
        |s| s.change_column_type("posts", "title", ColumnType::Text),
        Verdict::Passes,
    ),
    case(
        "timestamp to timestamptz, session in UTC",
        Postgres,
        Passes("change_column: safe in UTC"),
        Flags("changing-column-type"),
        &[
            BLOG,
            BLOG_ROWS,
            Step::up(|s| {
                s.add_column("posts", Column::timestamp("seen").nullable());
            }),
        ],
        |s| s.change_column_type("posts", "seen", ColumnType::TimestampTz),
        Verdict::Passes,
    ),
    case(
        "rename a column",
        Postgres,
        Flags("rename_column"),
        Flags("renaming-column"),
        WITH_ROWS,
        |s| s.rename_column("posts", "title", "headline"),
        Verdict::Flags(Rule::RenameColumn),
    ),
    case(
        "rename a table",
        Postgres,
        Flags("rename_table"),
        Flags("renaming-table"),
        WITH_ROWS,
        |s| s.rename_table("users", "accounts"),
        Verdict::Flags(Rule::RenameTable),
    ),
    case(
        "add a check constraint",
        Postgres,
        Flags("add_check_constraint"),
        Flags("constraint-missing-not-valid"),
        WITH_ROWS,
        |s| {
            s.add_check("posts", "ck_views", col("views").gte(0));
        },
        Verdict::Flags(Rule::CheckNotValid),
    ),
    case(
        "add a check NOT VALID",
        Postgres,
        Passes("add_check_constraint: validate: false"),
        Passes("constraint-missing-not-valid"),
        WITH_ROWS,
        |s| {
            s.add_check("posts", "ck_views", col("views").gte(0))
                .not_valid();
        },
        Verdict::Passes,
    ),
    case(
        "validate in the migration that adds NOT VALID",
        Postgres,
        Flags("validate_check_constraint in same transaction"),
        Flags("constraint-missing-not-valid"),
        WITH_ROWS,
        |s| {
            s.add_check("posts", "ck_views", col("views").gte(0))
                .not_valid();
            s.validate_constraint("posts", "ck_views");
        },
        Verdict::Flags(Rule::ValidateInSameMigration),
    ),
    case(
        "execute raw SQL",
        Postgres,
        Flags("execute"),
        Silent,
        WITH_ROWS,
        |s| {
            s.sql("CREATE VIEW t AS SELECT 1 AS x").down("DROP VIEW t");
        },
        Verdict::Flags(Rule::RawSql),
    ),
    case(
        "backfill in the schema migration",
        Postgres,
        Flags("backfilling data"),
        Silent,
        WITH_ROWS,
        |s| {
            s.add_column("posts", Column::text("slug").nullable());
            s.update("posts").set("slug", col("title"));
        },
        Verdict::Flags(Rule::DataInSchemaMigration),
    ),
    case(
        "add an index",
        Postgres,
        Flags("add_index"),
        Flags("require-concurrent-index-creation"),
        WITH_ROWS,
        |s| {
            s.add_index("posts", ["status"]);
        },
        Verdict::Flags(Rule::IndexNotConcurrent),
    ),
    case(
        "add an index concurrently",
        Postgres,
        Passes("add_index: algorithm: :concurrently"),
        Passes("require-concurrent-index-creation"),
        WITH_ROWS,
        |s| {
            s.add_index("posts", ["status"]).concurrently();
        },
        Verdict::Passes,
    ),
    case(
        "a concurrent index with other changes",
        Postgres,
        Silent,
        Flags("ban-concurrent-index-creation-in-transaction"),
        WITH_ROWS,
        |s| {
            s.add_column("posts", Column::text("slug").nullable());
            s.add_index("posts", ["status"]).concurrently();
        },
        Verdict::Flags(Rule::ConcurrentIndexWithOtherChanges),
    ),
    case(
        "remove an index",
        Postgres,
        Flags("remove_index (opt-in)"),
        Flags("require-concurrent-index-deletion"),
        WITH_INDEX,
        |s| {
            s.drop_index("posts", "idx_posts_status");
        },
        Verdict::Flags(Rule::DropIndexNotConcurrent),
    ),
    case(
        "remove an index concurrently",
        Postgres,
        Passes("remove_index: algorithm: :concurrently"),
        Passes("require-concurrent-index-deletion"),
        WITH_INDEX,
        |s| s.drop_index("posts", "idx_posts_status").concurrently(),
        Verdict::Passes,
    ),
    case(
        "a non-unique index of four columns",
        Postgres,
        Flags("index columns > 3"),
        Silent,
        WITH_ROWS,
        |s| {
            s.add_index("posts", ["user_id", "status", "views", "title"])
                .concurrently();
        },
        Verdict::Flags(Rule::WideIndex),
    ),
    case(
        "add a foreign key",
        Postgres,
        Flags("add_foreign_key"),
        Flags("adding-foreign-key-constraint"),
        WITH_COMMENTS,
        |s| {
            s.add_foreign_key("comments", ["post_id"], "posts");
        },
        Verdict::Flags(Rule::ForeignKeyNotValid),
    ),
    case(
        "add a foreign key NOT VALID",
        Postgres,
        Passes("add_foreign_key: validate: false"),
        Passes("adding-foreign-key-constraint"),
        WITH_COMMENTS,
        |s| {
            s.add_foreign_key("comments", ["post_id"], "posts")
                .not_valid();
        },
        Verdict::Passes,
    ),
    case(
        "add a reference (column, index, key)",
        Postgres,
        Flags("add_reference"),
        Flags("adding-foreign-key-constraint"),
        WITH_ROWS,
        |s| {
            s.add_column("posts", Column::big_integer("editor_id").nullable());
            s.add_index("posts", ["editor_id"]);
            s.add_foreign_key("posts", ["editor_id"], "users");
        },
        Verdict::Flags(Rule::IndexNotConcurrent),
    ),
    case(
        "add a unique constraint",
        Postgres,
        Flags("add_unique_constraint"),
        Flags("disallowed-unique-constraint"),
        WITH_ROWS,
        |s| {
            s.add_unique("users", ["name"]);
        },
        Verdict::Flags(Rule::UniqueConstraint),
    ),
    case(
        "a unique constraint USING INDEX",
        Postgres,
        Passes("add_unique_constraint: using_index"),
        Passes("disallowed-unique-constraint"),
        WITH_UNIQUE_INDEX,
        |s| s.add_unique_using_index("users", "uq_users_name"),
        Verdict::Passes,
    ),
    case(
        "a json column",
        Postgres,
        Flags("add_column :json"),
        Silent,
        WITH_ROWS,
        |s| {
            s.sql("ALTER TABLE posts ADD COLUMN meta json")
                .down("ALTER TABLE posts DROP COLUMN meta");
            s.allow(Rule::RawSql, "a nullable column");
        },
        Verdict::Flags(Rule::Json),
    ),
    case(
        "a json column with the DSL (jsonb)",
        Postgres,
        Passes("add_column :jsonb"),
        Silent,
        WITH_ROWS,
        |s| s.add_column("posts", Column::json("meta").nullable()),
        Verdict::Passes,
    ),
    case(
        "set NOT NULL",
        Postgres,
        Flags("change_column_null"),
        Flags("adding-not-nullable-field"),
        WITH_ROWS,
        |s| s.set_not_null("posts", "status"),
        Verdict::Flags(Rule::SetNotNull),
    ),
    case(
        "set NOT NULL with a valid check",
        Postgres,
        Passes("change_column_null: valid check"),
        Flags("adding-not-nullable-field"),
        WITH_VALID_CHECK,
        |s| s.set_not_null("posts", "status"),
        Verdict::Passes,
    ),
    case(
        "drop NOT NULL",
        Postgres,
        Silent,
        Flags("ban-drop-not-null"),
        WITH_ROWS,
        |s| s.drop_not_null("posts", "title"),
        Verdict::Flags(Rule::DropNotNull),
    ),
    case(
        "add a column with a volatile default",
        Postgres,
        Flags("add_column with volatile default"),
        Flags("adding-field-with-default"),
        WITH_ROWS,
        |s| {
            s.add_column(
                "posts",
                Column::uuid("token").default(Sql("gen_random_uuid ()")),
            )
        },
        Verdict::Flags(Rule::VolatileDefault),
    ),
    case(
        "add a column with a constant default",
        Postgres,
        Passes("add_column with default (PostgreSQL 11+)"),
        Passes("adding-field-with-default"),
        WITH_ROWS,
        |s| s.add_column("posts", Column::integer("score").default(0)),
        Verdict::Passes,
    ),
    Case {
        name: "add a NOT NULL column without a default",
        backend: Postgres,
        strong_migrations: Silent,
        squawk: Flags("adding-required-field"),
        setup: WITH_ROWS,
        code: None,
        verdict: Verdict::DoesNotCompile,
    },
    case(
        "add a primary key to a table (raw SQL)",
        Postgres,
        Silent,
        Flags("adding-primary-key-constraint"),
        WITH_ROWS,
        |s| {
            s.sql("ALTER TABLE posts ADD CONSTRAINT pk2 PRIMARY KEY (id)")
                .down("SELECT 1");
        },
        Verdict::Flags(Rule::RawSql),
    ),
    case(
        "an integer key",
        Postgres,
        Flags("bigint primary keys"),
        Flags("prefer-bigint-over-int"),
        WITH_ROWS,
        |s| {
            s.create_table("tags", |t| {
                t.integer("id");
                t.primary_key(["id"]);
                t.text("name");
            })
        },
        Verdict::Flags(Rule::PreferBigintKeys),
    ),
    case(
        "a varchar column",
        Postgres,
        Silent,
        Flags("prefer-text-field"),
        WITH_ROWS,
        |s| s.add_column("posts", Column::string("subtitle", 100).nullable()),
        Verdict::Flags(Rule::PreferText),
    ),
    case(
        "a timestamp column",
        Postgres,
        Silent,
        Flags("prefer-timestamptz"),
        WITH_ROWS,
        |s| s.add_column("posts", Column::timestamp("at").nullable()),
        Verdict::Flags(Rule::PreferTimestamptz),
    ),
    case(
        "a char(n) column (raw SQL)",
        Postgres,
        Silent,
        Flags("ban-char-field"),
        WITH_ROWS,
        |s| {
            s.sql("ALTER TABLE posts ADD COLUMN lang char(2)")
                .down("ALTER TABLE posts DROP COLUMN lang");
            s.allow(Rule::RawSql, "a nullable column");
        },
        Verdict::Flags(Rule::NoCharN),
    ),
    case(
        "add a nullable column",
        Postgres,
        Passes("add_column"),
        Passes("adding-field-with-default"),
        WITH_ROWS,
        |s| s.add_column("posts", Column::text("summary").nullable()),
        Verdict::Passes,
    ),
    // MySQL/MariaDB: strong_migrations covers them; squawk does not.
    case(
        "remove a column",
        MySql,
        Flags("remove_column"),
        Silent,
        WITH_ROWS,
        |s| {
            s.drop_column("posts", "body");
            s.mysql_online(Algorithm::Inplace, Lock::None);
        },
        Verdict::Flags(Rule::DropColumn),
    ),
    case(
        "change a column's type (integer to bigint)",
        MySql,
        Flags("change_column"),
        Silent,
        WITH_ROWS,
        |s| {
            s.change_column_type("posts", "views", ColumnType::BigInt);
            s.mysql_online(Algorithm::Copy, Lock::Shared);
        },
        Verdict::Flags(Rule::MysqlTypeChange),
    ),
    case(
        "lengthen a varchar within its length prefix",
        MySql,
        Passes("change_column: safe"),
        Silent,
        WITH_ROWS,
        |s| {
            s.change_column_type("posts", "status", ColumnType::String(60));
            s.mysql_online(Algorithm::Inplace, Lock::None);
        },
        Verdict::Passes,
    ),
    case(
        "rename a column",
        MySql,
        Flags("rename_column"),
        Silent,
        WITH_ROWS,
        |s| {
            s.rename_column("posts", "title", "headline");
            s.mysql_online(Algorithm::Inplace, Lock::None);
        },
        Verdict::Flags(Rule::RenameColumn),
    ),
    case(
        "rename a table",
        MySql,
        Flags("rename_table"),
        Silent,
        WITH_ROWS,
        |s| s.rename_table("users", "accounts"),
        Verdict::Flags(Rule::RenameTable),
    ),
    case(
        "execute raw SQL",
        MySql,
        Flags("execute"),
        Silent,
        WITH_ROWS,
        |s| {
            s.sql("CREATE VIEW t AS SELECT 1 AS x").down("DROP VIEW t");
        },
        Verdict::Flags(Rule::RawSql),
    ),
    case(
        "backfill in the schema migration",
        MySql,
        Flags("backfilling data"),
        Silent,
        WITH_ROWS,
        |s| {
            s.add_column("posts", Column::text("slug").nullable());
            s.update("posts").set("slug", col("title"));
            s.mysql_online(Algorithm::Instant, Lock::None);
        },
        Verdict::Flags(Rule::DataInSchemaMigration),
    ),
    case(
        "an ALTER without ALGORITHM and LOCK",
        MySql,
        Silent,
        Silent,
        WITH_ROWS,
        |s| s.add_column("posts", Column::text("summary").nullable()),
        Verdict::Flags(Rule::MysqlOnlineDdl),
    ),
    case(
        "add a foreign key",
        MySql,
        Silent,
        Silent,
        WITH_COMMENTS,
        |s| {
            s.add_foreign_key("comments", ["post_id"], "posts");
        },
        Verdict::Flags(Rule::MysqlForeignKey),
    ),
    case(
        "add a check constraint",
        MySql,
        Silent,
        Silent,
        WITH_ROWS,
        |s| {
            s.add_check("posts", "ck_views", col("views").gte(0));
        },
        Verdict::Flags(Rule::MysqlCheck),
    ),
    case(
        "a non-unique index of four columns",
        MySql,
        Flags("index columns > 3"),
        Silent,
        WITH_ROWS,
        |s| {
            s.add_index("posts", ["user_id", "status", "views", "title"]);
            s.mysql_online(Algorithm::Inplace, Lock::None);
        },
        Verdict::Flags(Rule::WideIndex),
    ),
    case(
        "add a nullable column online",
        MySql,
        Passes("add_column"),
        Silent,
        WITH_ROWS,
        |s| {
            s.add_column("posts", Column::text("summary").nullable());
            s.mysql_online(Algorithm::Instant, Lock::None);
        },
        Verdict::Passes,
    ),
];

/// What godwit does with `case`, by linting it (with the style rules).
fn verdict(case: &Case) -> (Verdict, Vec<Finding>) {
    let Some(code) = case.code else {
        return (Verdict::DoesNotCompile, Vec::new());
    };
    let steps = [Step::up(code)];
    let (catalog, versions) = catalog(case.setup, &steps, "under_test");
    catalog
        .render_up(case.backend, Some(&versions))
        .unwrap_or_else(|e| panic!("{} on {}: {e}", case.name, case.backend));
    let findings = catalog
        .lint_with(case.backend, Some(&versions), None, true)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", case.name, case.backend));
    let flagged: Vec<&Finding> = findings.iter().filter(|f| f.allowed.is_none()).collect();
    let verdict = match flagged.first() {
        None => Verdict::Passes,
        Some(_) => match case.verdict {
            Verdict::Flags(rule) if flagged.iter().any(|f| f.rule == rule) => Verdict::Flags(rule),
            _ => Verdict::Flags(flagged[0].rule),
        },
    };
    (verdict, findings)
}

fn anchor(a: Anchor) -> (String, Option<bool>) {
    match a {
        Flags(check) => (format!("flags (`{check}`)"), Some(true)),
        Passes(check) => (format!("passes (`{check}`)"), Some(false)),
        Silent => ("-".into(), None),
    }
}

#[test]
fn godwit_beside_strong_migrations_and_squawk() {
    let mut rows = Vec::new();
    let mut agreed = [0, 0];
    let mut compared = [0, 0];
    for case in CASES {
        let (got, findings) = verdict(case);
        assert_eq!(
            got, case.verdict,
            "{} on {}: {findings:#?}",
            case.name, case.backend
        );
        let flags = got != Verdict::Passes;
        let godwit = match got {
            Verdict::Flags(rule) if rule.is_style() => format!("flags (`{rule}`, `--style`)"),
            Verdict::Flags(rule) => format!("flags (`{rule}`)"),
            Verdict::Passes => "passes".into(),
            Verdict::DoesNotCompile => "does not compile".into(),
        };
        let mut cells = Vec::new();
        for (i, a) in [case.strong_migrations, case.squawk]
            .into_iter()
            .enumerate()
        {
            let (text, says) = anchor(a);
            if let Some(says) = says {
                compared[i] += 1;
                if says == flags {
                    agreed[i] += 1;
                }
            }
            cells.push(text);
        }
        rows.push(format!(
            "| {} | {} | {} | {} | {} |",
            case.name, case.backend, cells[0], cells[1], godwit
        ));
    }
    println!(
        "| case | backend | strong_migrations | squawk | godwit |\n|---|---|---|---|---|\n{}\n\n\
         godwit agrees with strong_migrations on {} of the {} cases it has a verdict on, and \
         with squawk on {} of {}.",
        rows.join("\n"),
        agreed[0],
        compared[0],
        agreed[1],
        compared[1]
    );
}
