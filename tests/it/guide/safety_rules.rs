//! `docs/safety-rules.md`: one section per lint rule, with an unsafe and a safe way of doing the
//! same thing, written below as closures, compiled, linted, and cut out of this file's source
//! for the page.
//!
//! The tests assert what the page claims: each unsafe fragment gets its rule's finding on every
//! backend the rule applies to, and each safe fragment gets no unsafe finding there (nor any
//! finding of its rule, unless the safe way is to allow it with a reason). Every rule of
//! `Rule::ALL` must have an example.

use std::fmt::Write as _;

use godwit_core::prelude::*;
use godwit_core::{Backend, Finding};

use super::source::{after, closure_body, closures_in_array, method};
use super::{catalog, check_file, wrap};
use crate::scenarios::{BLOG_WITH_ROWS, Step};

const SOURCE: &str = include_str!("safety_rules.rs");
const LINT_SOURCE: &str = include_str!("../../../crates/godwit-core/src/lint.rs");
const SCENARIOS: &str = include_str!("../scenarios.rs");

/// `users` and `posts` with rows, and `comments` whose `post_id` has no foreign key yet.
const WITH_COMMENTS: &[Step] = &[
    crate::scenarios::BLOG,
    crate::scenarios::BLOG_ROWS,
    crate::scenarios::LOOSE_COMMENTS,
];

/// `users` and `posts` with rows, and a view of posts declared by the raw SQL that made it.
const WITH_VIEW: &[Step] = &[
    crate::scenarios::BLOG,
    crate::scenarios::BLOG_ROWS,
    Step::up(|s| {
        s.sql("CREATE VIEW post_summaries AS SELECT id, title, body FROM posts")
            .creates_view("post_summaries", ["posts"]);
    }),
];

/// `users` and `posts` with rows, and an index on `posts.status`.
const WITH_INDEX: &[Step] = &[
    crate::scenarios::BLOG,
    crate::scenarios::BLOG_ROWS,
    Step::up(|s| {
        s.add_index("posts", ["status"]);
    }),
];

/// One rule, shown by an unsafe and a safe way of doing the same thing.
pub(super) struct Example {
    pub(super) rule: Rule,
    /// The migrations before the fragments: tables with rows.
    pub(super) setup: &'static [Step],
    /// What can go wrong, in a paragraph.
    pub(super) risk: &'static str,
    /// The unsafe way, one migration per closure.
    pub(super) unsafe_code: &'static [fn(&mut Schema)],
    /// The safe way, explained.
    pub(super) safe: &'static str,
    /// The safe way, one migration per closure.
    pub(super) safe_code: &'static [fn(&mut Schema)],
    /// The safe way allows this rule with a reason (the lint cannot see what makes it safe).
    pub(super) safe_allows: bool,
    /// When allowing the unsafe way is reasonable.
    pub(super) allow_when: &'static str,
}

pub(super) const EXAMPLES: &[Example] = &[
    Example {
        rule: Rule::IndexNotConcurrent,
        setup: BLOG_WITH_ROWS,
        risk: "`CREATE INDEX` takes a lock on the table that lets reads through but makes every \
               `INSERT`, `UPDATE` and `DELETE` wait until the index is built: seconds on a small \
               table, minutes or more on a large one, during which the application cannot write \
               to it.",
        unsafe_code: &[|s| {
            s.add_index("posts", ["status"]);
        }],
        safe: "Build the index with `.concurrently()`, in a migration of its own. PostgreSQL then \
               builds it while writes go on (it takes longer: it scans the table twice). It \
               cannot run in a transaction, so godwit runs that migration outside one. If it \
               fails, PostgreSQL leaves an invalid index behind: drop it before trying again.",
        safe_code: &[|s| {
            s.add_index("posts", ["status"]).concurrently();
        }],
        safe_allows: false,
        allow_when: "the table is small (thousands of rows), or nothing writes to it yet.",
    },
    Example {
        rule: Rule::ConcurrentIndexWithOtherChanges,
        setup: BLOG_WITH_ROWS,
        risk: "A concurrent index cannot be built inside a transaction, so the whole migration \
               runs without one. If an operation after the first fails, those before it stay \
               applied: the migration is left half done (`partial` in history), and a person \
               has to finish or undo it before the next deploy.",
        unsafe_code: &[|s| {
            s.add_column("posts", Column::text("summary").nullable());
            s.add_index("posts", ["status"]).concurrently();
        }],
        safe: "Give the concurrent index a migration of its own; the other changes keep their \
               transaction.",
        safe_code: &[
            |s| {
                s.add_column("posts", Column::text("summary").nullable());
            },
            |s| {
                s.add_index("posts", ["status"]).concurrently();
            },
        ],
        safe_allows: false,
        allow_when: "the other operations can be left applied on their own without harm (another \
                     index, dropping the index this one replaces), and history's record of a \
                     half-done migration is enough to finish it by hand.",
    },
    Example {
        rule: Rule::ForeignKeyNotValid,
        setup: WITH_COMMENTS,
        risk: "Adding a foreign key checks every row of the table against the referenced table, \
               and holds a lock on both that blocks writes to them until the check is done.",
        unsafe_code: &[|s| {
            s.add_foreign_key("comments", ["post_id"], "posts");
        }],
        safe: "Add the key `.not_valid()`: PostgreSQL enforces it on new and changed rows from \
               then on, after a brief lock, without checking the rows already there. Then, in \
               the next migration, `validate_constraint` checks them under a lock that lets \
               reads and writes go on.",
        safe_code: &[
            |s| {
                s.add_foreign_key("comments", ["post_id"], "posts")
                    .not_valid();
            },
            |s| {
                s.validate_constraint("comments", "fk_comments_post_id");
            },
        ],
        safe_allows: false,
        allow_when: "both tables are small.",
    },
    Example {
        rule: Rule::CheckNotValid,
        setup: BLOG_WITH_ROWS,
        risk: "Adding a check constraint checks every row of the table while holding an \
               exclusive lock on it: reads and writes wait until the whole table is scanned.",
        unsafe_code: &[|s| {
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
        }],
        safe: "Add the check `.not_valid()` (a brief lock; new and changed rows are checked), \
               then validate it in the next migration, which scans the table without blocking \
               reads or writes.",
        safe_code: &[
            |s| {
                s.add_check("posts", "ck_posts_views_positive", col("views").gte(0))
                    .not_valid();
            },
            |s| {
                s.validate_constraint("posts", "ck_posts_views_positive");
            },
        ],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::SetNotNull,
        setup: BLOG_WITH_ROWS,
        risk: "`SET NOT NULL` scans the whole table to prove it holds no NULL, under an exclusive \
               lock: reads and writes wait until the scan is done.",
        unsafe_code: &[|s| {
            s.set_not_null("posts", "status");
        }],
        safe: "Prove it with a check first: add `status IS NOT NULL` as a check `.not_valid()`, \
               and validate it in the next migration, without blocking. PostgreSQL 12 and later \
               then use the valid check instead of scanning the table when the column is made \
               `NOT NULL`, after which the check can go. The rule knows the check from the \
               schema model: a `set_not_null` on a column that a valid check proves \
               `IS NOT NULL` is not flagged.",
        safe_code: &[
            |s| {
                s.add_check(
                    "posts",
                    "ck_posts_status_not_null",
                    col("status").is_not_null(),
                )
                .not_valid();
            },
            |s| {
                s.validate_constraint("posts", "ck_posts_status_not_null");
            },
            |s| {
                s.set_not_null("posts", "status");
                s.drop_check("posts", "ck_posts_status_not_null");
            },
        ],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::TypeChangeRewrite,
        setup: BLOG_WITH_ROWS,
        risk: "Most type changes rewrite the whole table, and rebuild its indexes, under an \
               exclusive lock: reads and writes wait until it is done. The changes that do not \
               rewrite are not flagged: a longer `string`, `string` to `text`, a `decimal` with \
               more precision and the same scale.",
        unsafe_code: &[|s| {
            s.change_column_type("posts", "views", ColumnType::BigInt);
        }],
        safe: "Expand and contract: add a column of the new type, fill it in batches (and have \
               the code write both), switch reads to it, and drop the old column in a later \
               migration, once nothing reads it.",
        safe_code: &[|s| {
            s.add_column("posts", Column::big_integer("views_big").nullable());
            s.backfill("posts").set("views_big", col("views"));
        }],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::GeneratedColumnRewrite,
        setup: BLOG_WITH_ROWS,
        risk: "A stored generated column holds a value for every row: adding one to a table \
               that holds rows computes it for all of them, and PostgreSQL rewrites the table \
               under an exclusive lock while it does. (MySQL/MariaDB copy the table for it too, \
               which `mysql-online-ddl` says; a virtual generated column stores nothing.)",
        unsafe_code: &[|s| {
            s.add_column(
                "posts",
                Column::integer("double_views").generated(col("views").mul(2)),
            );
        }],
        safe: "Add a plain nullable column and fill it in batches; the code, or a trigger, \
               keeps it current from then on.",
        safe_code: &[|s| {
            s.add_column("posts", Column::integer("double_views").nullable());
            s.backfill("posts").set("double_views", col("views").mul(2));
        }],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::VolatileDefault,
        setup: BLOG_WITH_ROWS,
        risk: "PostgreSQL adds a column with a constant default without touching the rows (the \
               default is kept in the catalog), but a volatile default, one whose value changes \
               per row (`gen_random_uuid()`, `random()`, `clock_timestamp()`, `nextval(..)`), \
               must be computed for every row: the table is rewritten under an exclusive lock. \
               `CurrentTimestamp` is not volatile (it is the transaction's time). godwit reads the \
               functions the default calls: one it does not know to be immutable or stable is \
               taken as volatile, unless, connected (`up`, `plan`, `lint --live`), PostgreSQL's \
               own `pg_proc` says otherwise.",
        unsafe_code: &[|s| {
            s.add_column(
                "posts",
                Column::uuid("token").default(Sql("gen_random_uuid()")),
            );
        }],
        safe: "Add the column nullable, give it the default for new rows, and fill the existing \
               rows in batches. Make it `NOT NULL` later, the safe way \
               ([set-not-null](#set-not-null)).",
        safe_code: &[|s| {
            s.add_column("posts", Column::uuid("token").nullable());
            s.set_default("posts", "token", Sql("gen_random_uuid()"));
            s.backfill("posts")
                .set("token", Expr::cust("gen_random_uuid()"))
                .filter(col("token").is_null());
        }],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::UniqueConstraint,
        setup: BLOG_WITH_ROWS,
        risk: "A unique constraint is enforced by a unique index, which adding the constraint \
               builds while holding a lock that blocks writes to the table until it is built.",
        unsafe_code: &[|s| {
            s.add_unique("users", ["name"]);
        }],
        safe: "Build a unique index concurrently, in a migration of its own: writes go on while \
               it is built. Then make it the constraint with `add_unique_using_index`: on \
               PostgreSQL `ADD CONSTRAINT .. UNIQUE USING INDEX`, a brief lock and no scan (on \
               MySQL/MariaDB and SQLite the unique index is the constraint already, and nothing \
               runs).",
        safe_code: &[
            |s| {
                s.add_index("users", ["name"])
                    .unique()
                    .name("uq_users_name")
                    .concurrently();
            },
            |s| {
                s.add_unique_using_index("users", "uq_users_name");
            },
        ],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::Json,
        setup: BLOG_WITH_ROWS,
        risk: "PostgreSQL's `json` stores the text as written: it has no equality operator, so \
               it cannot be compared, grouped or made unique, and it cannot be indexed. `jsonb` \
               can. The rule reads raw SQL for the word `json`.",
        unsafe_code: &[|s| {
            s.sql("ALTER TABLE posts ADD COLUMN metadata json")
                .down("ALTER TABLE posts DROP COLUMN metadata");
        }],
        safe: "Write the column with the DSL: `json` columns are `jsonb` on PostgreSQL (and \
               the schema model knows them).",
        safe_code: &[|s| {
            s.add_column("posts", Column::json("metadata").nullable());
        }],
        safe_allows: false,
        allow_when: "the exact text must be kept: key order, duplicate keys, whitespace.",
    },
    Example {
        rule: Rule::MysqlOnlineDdl,
        setup: BLOG_WITH_ROWS,
        risk: "Without `ALGORITHM` and `LOCK`, MySQL/MariaDB choose how to run an `ALTER TABLE` \
               themselves, and fall back, without a word, to copying the table or blocking \
               writes when the change cannot be made in place.",
        unsafe_code: &[|s| {
            s.add_column("posts", Column::text("summary").nullable());
        }],
        safe: "Say how the change must run with `s.mysql_online(..)`: MySQL then refuses the \
               statement, rather than copying or locking, when it cannot run that way. The \
               migration fails at once, nothing was blocked, and the change needs another plan. \
               Other backends ignore it.",
        safe_code: &[|s| {
            s.add_column("posts", Column::text("summary").nullable());
            s.mysql_online(Algorithm::Instant, Lock::None);
        }],
        safe_allows: false,
        allow_when: "the table is small, or the change cannot be made online and a lock for its \
                     duration is acceptable.",
    },
    Example {
        rule: Rule::MysqlTypeChange,
        setup: BLOG_WITH_ROWS,
        risk: "Changing a column's type copies the table, and writes wait until the copy is \
               done. Widening a `string` is not flagged while its length prefix keeps its size \
               (up to 63 characters, or from 64 up).",
        unsafe_code: &[|s| {
            s.change_column_type("posts", "views", ColumnType::BigInt);
        }],
        safe: "Expand and contract: add a column of the new type, fill it in batches, switch \
               the code to it, and drop the old column once nothing reads it.",
        safe_code: &[|s| {
            s.add_column("posts", Column::big_integer("views_big").nullable());
            s.backfill("posts").set("views_big", col("views"));
            s.mysql_online(Algorithm::Instant, Lock::None);
        }],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::MysqlForeignKey,
        setup: WITH_COMMENTS,
        risk: "Adding a foreign key to a table with rows checks every row while holding a lock on \
               both tables; with foreign key checks on, MySQL cannot add it in place and copies \
               the table (`ALGORITHM=INPLACE` is refused: `Adding foreign keys needs \
               foreign_key_checks=OFF`). MySQL/MariaDB have no `NOT VALID`.",
        unsafe_code: &[|s| {
            s.add_foreign_key("comments", ["post_id"], "posts");
        }],
        safe: "Declare the key with the table, while it is empty: a new table for the rows that \
               need the key, or the key written with the table in the first place.",
        safe_code: &[|s| {
            s.create_table("replies", |t| {
                t.id();
                t.references("posts");
                t.text("body");
            });
        }],
        safe_allows: false,
        allow_when: "the table is small enough that the check takes a moment: measure it on a \
                     copy of production, and say so in the reason.",
    },
    Example {
        rule: Rule::RenameColumn,
        setup: BLOG_WITH_ROWS,
        risk: "While a deploy runs, the code already running keeps using the old name (and new \
               code may start before the migration): every query naming the column fails from \
               the moment it is renamed until the last old process is gone.",
        unsafe_code: &[|s| {
            s.rename_column("posts", "title", "headline");
        }],
        safe: "Expand and contract: add the new column and fill it; deploy code that writes both \
               and reads the new one; then drop the old column in a later migration \
               ([drop-column](#drop-column)).",
        safe_code: &[|s| {
            s.add_column("posts", Column::string("headline", 200).nullable());
            s.backfill("posts").set("headline", col("title"));
            s.mysql_online(Algorithm::Instant, Lock::None);
        }],
        safe_allows: false,
        allow_when: "no running code uses the column (it is new, or unused), or the application \
                     is stopped while it deploys.",
    },
    Example {
        rule: Rule::RenameTable,
        setup: BLOG_WITH_ROWS,
        risk: "The code running during the deploy still queries the table by its old name, which \
               fails from the moment it is renamed until the last old process is gone.",
        unsafe_code: &[|s| {
            s.rename_table("users", "accounts");
        }],
        safe: "Expand and contract: create the new table and copy the rows in batches; deploy \
               code that writes both and reads the new one; drop the old table in a later \
               migration ([drop-table](#drop-table)).",
        safe_code: &[|s| {
            s.create_table("accounts", |t| {
                t.id();
                t.string("email", 100).unique();
                t.string("name", 50);
                t.timestamps();
            });
            s.copy_rows("users", "accounts");
        }],
        safe_allows: false,
        allow_when: "no running code uses the table, or the application is stopped while it \
                     deploys.",
    },
    Example {
        rule: Rule::DropColumn,
        setup: BLOG_WITH_ROWS,
        risk: "Code that still reads or writes the column fails as soon as it is gone, and its \
               values are lost: rolling back brings the column back empty.",
        unsafe_code: &[|s| {
            s.drop_column("posts", "body");
        }],
        safe: "First deploy code that no longer uses the column. Then drop it in a later \
               migration, allowing the rule with the reason the lint cannot check: that nothing \
               uses it any more.",
        safe_code: &[|s| {
            s.drop_column("posts", "body");
            s.allow(
                Rule::DropColumn,
                "nothing reads posts.body since release 41",
            );
            s.mysql_online(Algorithm::Inplace, Lock::None);
        }],
        safe_allows: true,
        allow_when: "no deployed code uses the column any more: the reason says since when.",
    },
    Example {
        rule: Rule::DropTable,
        setup: WITH_COMMENTS,
        risk: "Code that still reads or writes the table fails as soon as it is gone, and its \
               rows are lost: rolling back recreates it empty.",
        unsafe_code: &[|s| {
            s.drop_table("comments");
        }],
        safe: "First deploy code that no longer uses the table, then drop it in a later \
               migration, saying so.",
        safe_code: &[|s| {
            s.drop_table("comments");
            s.allow(
                Rule::DropTable,
                "comments moved to the discussion service in release 41",
            );
        }],
        safe_allows: true,
        allow_when: "no deployed code uses the table any more.",
    },
    Example {
        rule: Rule::DataInSchemaMigration,
        setup: BLOG_WITH_ROWS,
        risk: "Rows changed by `insert`, `update` or `delete` in a migration that also changes \
               the schema are changed inside its transaction, which keeps the locks the schema \
               change took until every row is done: on a large table, the table stays locked \
               for the whole update.",
        unsafe_code: &[|s| {
            s.add_column("posts", Column::string("slug", 200).nullable());
            s.update("posts").set("slug", Func::lower(col("title")));
        }],
        safe: "Fill the rows with a batched `backfill`: it runs after the schema change has \
               committed, one short transaction per batch, and resumes where it stopped.",
        safe_code: &[|s| {
            s.add_column("posts", Column::string("slug", 200).nullable());
            s.backfill("posts").set("slug", Func::lower(col("title")));
            s.mysql_online(Algorithm::Instant, Lock::None);
        }],
        safe_allows: false,
        allow_when: "the table is small (reference data, a handful of settings).",
    },
    Example {
        rule: Rule::RawSql,
        setup: BLOG_WITH_ROWS,
        risk: "godwit cannot tell what raw SQL locks or rewrites: it is not checked by any other \
               rule.",
        unsafe_code: &[|s| {
            s.sql("CREATE VIEW post_titles AS SELECT id, title FROM posts")
                .down("DROP VIEW post_titles");
        }],
        safe: "Write the change with the DSL where it has the operation. Where it does not \
               (views, triggers, functions, extensions), allow the statement, saying why it is \
               safe.",
        safe_code: &[|s| {
            s.sql("CREATE VIEW post_titles AS SELECT id, title FROM posts")
                .down("DROP VIEW post_titles");
            s.allow(Rule::RawSql, "a new view: no lock on posts, no rewrite");
        }],
        safe_allows: true,
        allow_when: "you know what the statement locks, and for how long.",
    },
    Example {
        rule: Rule::ValidateInSameMigration,
        setup: BLOG_WITH_ROWS,
        risk: "`NOT VALID` makes adding the constraint quick, and `validate_constraint` checks the \
               rows under a lock that lets writes go on; but in one migration both run in one \
               transaction, which keeps the lock the `ADD` took until the validation has scanned \
               every row: writes to the table wait as long as if the constraint had been added \
               valid.",
        unsafe_code: &[|s| {
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0))
                .not_valid();
            s.validate_constraint("posts", "ck_posts_views_positive");
        }],
        safe: "Validate in the next migration: the `ADD` commits and releases its lock first.",
        safe_code: &[
            |s| {
                s.add_check("posts", "ck_posts_views_positive", col("views").gte(0))
                    .not_valid();
            },
            |s| {
                s.validate_constraint("posts", "ck_posts_views_positive");
            },
        ],
        safe_allows: false,
        allow_when: "the table is small.",
    },
    Example {
        rule: Rule::ColumnReadByView,
        setup: WITH_VIEW,
        risk: "PostgreSQL refuses to drop a column, or change its type, while a view uses it \
               (`cannot alter type of a column used by a view or rule`), and SQLite refuses to \
               drop it: the migration fails in the middle of a deploy. MySQL and MariaDB do it, \
               and leave the view failing on every query. The rule knows the views that raw SQL \
               declared with `.creates_view(..)`; it cannot tell which columns they use.",
        unsafe_code: &[|s| {
            s.drop_column("posts", "body");
            s.allow(
                Rule::DropColumn,
                "nothing reads posts.body since release 41",
            );
            s.mysql_online(Algorithm::Inplace, Lock::None);
        }],
        safe: "In the same migration, drop the view, change the column, and create the view \
               again without it (or with the new type); the migration's transaction makes the \
               three one change on PostgreSQL and SQLite.",
        safe_code: &[|s| {
            s.sql("DROP VIEW post_summaries")
                .down("CREATE VIEW post_summaries AS SELECT id, title, body FROM posts")
                .drops_view("post_summaries");
            s.allow(Rule::RawSql, "dropping a view locks no table");
            s.drop_column("posts", "body");
            s.allow(
                Rule::DropColumn,
                "nothing reads posts.body since release 41",
            );
            s.sql("CREATE VIEW post_summaries AS SELECT id, title FROM posts")
                .creates_view("post_summaries", ["posts"]);
            s.allow(Rule::RawSql, "a new view: no lock on posts, no rewrite");
            s.mysql_online(Algorithm::Inplace, Lock::None);
        }],
        safe_allows: false,
        allow_when: "the view does not use the column.",
    },
    Example {
        rule: Rule::DropIndexNotConcurrent,
        setup: WITH_INDEX,
        risk: "`DROP INDEX` takes an exclusive lock on the table: it waits for every query \
               already running on it, and every query after it, reads included, waits behind \
               it. A long report running on the table stops the application's writes and reads \
               for as long as it runs.",
        unsafe_code: &[|s| {
            s.drop_index("posts", "idx_posts_status");
        }],
        safe: "Drop it with `.concurrently()`, in a migration of its own: PostgreSQL then waits \
               for the queries using the index without blocking others. It cannot run in a \
               transaction, so godwit runs that migration outside one.",
        safe_code: &[|s| {
            s.drop_index("posts", "idx_posts_status").concurrently();
        }],
        safe_allows: false,
        allow_when: "nothing queries the table for long (no reports, no long transactions).",
    },
    Example {
        rule: Rule::MysqlCheck,
        setup: BLOG_WITH_ROWS,
        risk: "MySQL and MariaDB add a check constraint only by copying the table \
               (`ALGORITHM=INPLACE` is refused: `Try ALGORITHM=COPY`), and writes wait until the \
               copy is done. They have no `NOT VALID`: `.not_valid()` changes nothing there.",
        unsafe_code: &[|s| {
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
        }],
        safe: "Declare the check with the table, while it is empty; on a table that has rows, \
               keep the rule in the code until a window where the copy is acceptable, and then \
               allow it, saying so.",
        safe_code: &[|s| {
            s.create_table("votes", |t| {
                t.id();
                t.references("posts");
                t.integer("weight").check(col("weight").gte(0));
            });
        }],
        safe_allows: false,
        allow_when: "the table is small: the copy takes a moment. Measure it on a copy of \
                     production and say so in the reason.",
    },
    Example {
        rule: Rule::DropNotNull,
        setup: BLOG_WITH_ROWS,
        risk: "Once the column allows NULL, the new code may write NULL into it while the old \
               code, still running during the deploy (or after a rollback of the code), reads \
               it as never NULL and fails on the row.",
        unsafe_code: &[|s| {
            s.drop_not_null("posts", "title");
        }],
        safe: "First deploy code that reads the column as possibly NULL; then drop the \
               constraint in a later migration, saying since when every reader handles NULL.",
        safe_code: &[|s| {
            s.drop_not_null("posts", "title");
            s.allow(
                Rule::DropNotNull,
                "every reader handles a NULL title since release 41",
            );
            s.mysql_online(Algorithm::Inplace, Lock::None);
        }],
        safe_allows: true,
        allow_when: "no deployed code reads the column as never NULL.",
    },
    Example {
        rule: Rule::WideIndex,
        setup: BLOG_WITH_ROWS,
        risk: "Every insert, and every update of an indexed column, writes each index of the \
               table; an index of more than three columns is large and is rarely used beyond \
               its first columns. Unique indexes are not flagged: their columns are the \
               constraint.",
        unsafe_code: &[|s| {
            s.add_index("posts", ["user_id", "status", "views", "title"])
                .concurrently();
        }],
        safe: "Index the columns the queries filter on first: three at most.",
        safe_code: &[|s| {
            s.add_index("posts", ["user_id", "status", "views"])
                .concurrently();
            s.mysql_online(Algorithm::Inplace, Lock::None);
        }],
        safe_allows: false,
        allow_when: "a query plan shows the index used in full (an index-only scan, say).",
    },
    Example {
        rule: Rule::ConcurrentIndexCorruption,
        setup: BLOG_WITH_ROWS,
        risk: "PostgreSQL 14.0 to 14.3 can build an index `CONCURRENTLY` (or reindex it) that \
               misses rows written while it is built, without an error: queries that use the \
               index then miss those rows, and a unique index lets duplicates in. 14.4 fixed it. \
               `lint --live`, `plan` and `up` read the server's version and know it; the \
               examples here are linted as on PostgreSQL 14.3.",
        unsafe_code: &[|s| {
            s.add_index("posts", ["status"]).concurrently();
        }],
        safe: "Upgrade the server to 14.4 or later (then `REINDEX CONCURRENTLY` the indexes \
               built concurrently since 14.0). Until then, build the index without \
               `concurrently()`, which is correct but blocks writes while it is built: on a \
               small table, or in a quiet hour, allowing that with the reason.",
        safe_code: &[|s| {
            s.add_index("posts", ["status"]);
            s.allow(
                Rule::IndexNotConcurrent,
                "PostgreSQL 14.3 cannot build it concurrently safely; posts is small",
            );
        }],
        safe_allows: false,
        allow_when: "never: the index may silently miss rows.",
    },
    Example {
        rule: Rule::PreferBigintKeys,
        setup: BLOG_WITH_ROWS,
        risk: "An `integer` key runs out at 2,147,483,647: a busy table reaches it in a few \
               years, and then every insert fails. Widening the column then rewrites the table, \
               and every table whose foreign key points at it.",
        unsafe_code: &[|s| {
            s.create_table("tags", |t| {
                t.integer("id");
                t.primary_key(["id"]);
                t.text("name");
            });
        }],
        safe: "Make keys `bigint` from the start: `t.id()` and `t.references(..)` are.",
        safe_code: &[|s| {
            s.create_table("tags", |t| {
                t.id();
                t.text("name");
            });
        }],
        safe_allows: false,
        allow_when: "the table holds a fixed, small set of rows (a lookup table).",
    },
    Example {
        rule: Rule::PreferText,
        setup: BLOG_WITH_ROWS,
        risk: "PostgreSQL stores `varchar(n)` and `text` the same way; the length is only a \
               limit, and raising it on a column that has a view or index on it, or lowering it, \
               rewrites or scans the table under a lock.",
        unsafe_code: &[|s| {
            s.add_column("posts", Column::string("subtitle", 200).nullable());
        }],
        safe: "Use `text`, and keep a limit as a check constraint (added `NOT VALID` and \
               validated, it changes without a rewrite).",
        safe_code: &[|s| {
            s.add_column("posts", Column::text("subtitle").nullable());
        }],
        safe_allows: false,
        allow_when: "the length is part of the data's meaning (a country code) and will not \
                     change.",
    },
    Example {
        rule: Rule::PreferTimestamptz,
        setup: BLOG_WITH_ROWS,
        risk: "A `timestamp` stores the clock reading without its zone: a session in another \
               time zone, or a server moved to another zone, reads a different instant from the \
               same value. `timestamptz` stores the instant.",
        unsafe_code: &[|s| {
            s.add_column("posts", Column::timestamp("published_at").nullable());
        }],
        safe: "Use `timestamp_tz`: PostgreSQL stores the instant (in UTC) and shows it in the \
               session's zone; godwit's sessions are in UTC.",
        safe_code: &[|s| {
            s.add_column("posts", Column::timestamp_tz("published_at").nullable());
        }],
        safe_allows: false,
        allow_when: "the value is a wall-clock reading on purpose (an opening hour, whatever \
                     the zone).",
    },
    Example {
        rule: Rule::NoCharN,
        setup: BLOG_WITH_ROWS,
        risk: "`char(n)` pads every value with spaces up to `n`: `length()` and comparisons \
               ignore the padding, concatenation and clients do not, and it saves nothing over \
               `text`. The DSL has no `char(n)`; the rule reads raw SQL.",
        unsafe_code: &[|s| {
            s.sql("ALTER TABLE posts ADD COLUMN lang char(2)")
                .down("ALTER TABLE posts DROP COLUMN lang");
            s.allow(Rule::RawSql, "adds a nullable column: no rewrite");
        }],
        safe: "Use `text` (with a check on its length, if it has one).",
        safe_code: &[|s| {
            s.add_column("posts", Column::text("lang").nullable());
        }],
        safe_allows: false,
        allow_when: "another system reads the padded values as they are.",
    },
];

/// The example of `rule`, if there is one.
fn example(rule: Rule) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.rule == rule)
}

/// The name the fragments' migrations get.
pub(super) fn migration_name(rule: Rule) -> String {
    rule.code().replace('-', "_")
}

/// Lint `code` after `setup` on `backend`, and check that it renders there.
fn lint(setup: &[Step], code: &[fn(&mut Schema)], rule: Rule, backend: Backend) -> Vec<Finding> {
    let steps: Vec<Step> = code.iter().map(|&f| Step::up(f)).collect();
    let (catalog, versions) = catalog(setup, &steps, &migration_name(rule));
    if let Err(e) = catalog.render_up(backend, Some(&versions)) {
        panic!("the {rule} example does not render on {backend}: {e}");
    }
    catalog
        .lint_with(
            backend,
            Some(&versions),
            live(rule).as_ref(),
            rule.is_style(),
        )
        .unwrap_or_else(|e| panic!("the {rule} example does not fold: {e}"))
}

/// The live context an example is linted with: PostgreSQL 14.3 for the rule that only a
/// connected lint knows; none for the others (their tables' sizes would make notes of them).
pub(super) fn live(rule: Rule) -> Option<godwit_core::LiveContext> {
    (rule == Rule::ConcurrentIndexCorruption).then(|| godwit_core::LiveContext {
        postgres_version: Some(140003),
        ..Default::default()
    })
}

/// Check what the page says of `e`'s fragments; return what the unsafe code's finding and the
/// safe code's allowance of the rule look like on the rule's first backend.
fn checked(e: &Example) -> (String, Option<String>) {
    let mut shown = None;
    for &backend in e.rule.backends() {
        let unsafe_findings = lint(e.setup, e.unsafe_code, e.rule, backend);
        let of_rule: Vec<&Finding> = unsafe_findings
            .iter()
            .filter(|f| f.rule == e.rule && f.allowed.is_none())
            .collect();
        assert!(
            !of_rule.is_empty(),
            "the unsafe code of {} gets no {} finding on {backend}: {unsafe_findings:#?}",
            e.rule,
            e.rule
        );
        let safe_findings = lint(e.setup, e.safe_code, e.rule, backend);
        let not_allowed: Vec<&Finding> = safe_findings
            .iter()
            .filter(|f| f.is_unsafe() || f.rule == e.rule && f.allowed.is_none())
            .collect();
        assert!(
            not_allowed.is_empty(),
            "the safe code of {} is unsafe on {backend}: {not_allowed:#?}",
            e.rule
        );
        let allowed: Vec<&Finding> = safe_findings.iter().filter(|f| f.rule == e.rule).collect();
        assert_eq!(
            !allowed.is_empty(),
            e.safe_allows,
            "the safe code of {} on {backend}: findings of its rule {allowed:#?}, safe_allows: {}",
            e.rule,
            e.safe_allows
        );
        if shown.is_none() {
            let finding: String = of_rule.iter().map(|f| f.to_string()).collect();
            let allowance = allowed.first().map(|f| f.to_string());
            shown = Some((finding, allowance));
        }
    }
    shown.expect("every rule applies to a backend")
}

/// `fragments` as Rust: one `fn up` per migration, numbered when there are several.
fn code(fragments: &[&str]) -> String {
    let mut out = String::new();
    for (i, f) in fragments.iter().enumerate() {
        if fragments.len() > 1 {
            if i > 0 {
                out.push('\n');
            }
            writeln!(out, "// migration {}", i + 1).unwrap();
        }
        out.push_str(&method("up", &closure_body(f)));
    }
    out
}

/// The summary of each rule: its doc comment in `lint.rs`.
fn summary(rule: Rule) -> String {
    let start = after(LINT_SOURCE, 0, "pub enum Rule {");
    let mut doc: Vec<&str> = Vec::new();
    for line in LINT_SOURCE[start..].lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim());
        } else if line.trim_end_matches(',') == rule.rust_name() {
            // The backend is in a column of its own.
            let doc = doc.join(" ");
            let doc = ["PostgreSQL: ", "MySQL/MariaDB: "]
                .iter()
                .find_map(|prefix| doc.strip_prefix(prefix))
                .map_or(doc.clone(), |rest| {
                    let mut chars = rest.chars();
                    chars
                        .next()
                        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
                });
            return doc;
        } else if line == "}" {
            break;
        } else {
            doc.clear();
        }
    }
    panic!("no doc comment for Rule::{} in lint.rs", rule.rust_name())
}

fn backends(rule: Rule) -> String {
    let names: Vec<String> = rule.backends().iter().map(|b| b.to_string()).collect();
    match names.len() {
        n if n == Backend::ALL.len() => "every backend".into(),
        _ => names.join(", "),
    }
}

fn intro(out: &mut String) {
    let blog = closure_body(super::source::const_step(SCENARIOS, "BLOG"));
    let first = &EXAMPLES[0];
    let (finding, _) = checked(first);
    let table: String = Rule::ALL
        .iter()
        .map(|&r| {
            format!(
                "| [`{}`](#{}) | {} | {} |\n",
                r.code(),
                r.code(),
                backends(r),
                summary(r)
            )
        })
        .collect();
    write!(
        out,
        r#"# Safety rules

<!-- Generated by tests/it/guide/safety_rules.rs, which compiles and lints every example below:
     do not edit. Regenerate with `UPDATE_EXPECT=1 cargo nextest run -p tests --test it guide`. -->

A migration that is correct can still take an application down: an index that blocks writes for
ten minutes, a rename that breaks the code still running, an update that holds a lock on every
row. godwit checks each migration's operations against the rules below, for the backend it is
about to run on, before anything runs. The rules know the schema model: an operation on a table
created in the same migration (empty, unused) is not flagged.

Adding a `NOT NULL` column without a default to an existing table is not a rule: it does not
compile ([writing-migrations.md](writing-migrations.md#the-examples)).

## When the rules run

- `cargo xtask migrate lint` checks every migration (or those given by version) against the
  rules of one backend (`--backend`, else the scheme of `DATABASE_URL`, else SQLite), prints each
  finding, and exits with code 5 when one is neither safe nor allowed. It needs no database: run
  it in CI.
- `up` checks the pending migrations before it runs anything, and refuses with exit code 5 when
  one is unsafe on the database's backend: nothing has run. `up --allow-unsafe` runs them anyway.
  `redo` and `fresh` do not check: the migrations `redo` applies again passed the check when they
  were applied, and `fresh` is for development databases.
- `plan` shows the findings of each pending migration in the deploy plan, with the safe way, and
  exits with code 0: it reports, `lint` is the gate.

The style rules ([prefer-bigint-keys](#prefer-bigint-keys), [prefer-text](#prefer-text),
[prefer-timestamptz](#prefer-timestamptz), [no-char-n](#no-char-n)) run only when asked for,
with `lint --style`, and their findings (`style[..]`) never fail.

`lint --format github` prints each finding as a GitHub Actions annotation on the line of the
migration that wrote the operation; `--format sarif` writes a SARIF 2.1.0 log for code scanning
(an allowed operation is a suppressed result, with its reason); `--format json` is for scripts.

## What the database adds

Connected to the database, the rules know what the code alone cannot: `up` and `plan` always,
`lint` with `--live` (it then reads `--database-url`, else `DATABASE_URL`). Each finding says how
large its table is (rows and bytes, from `pg_class` and `information_schema.TABLES`; a table under
64 MB is counted exactly), and for a change whose lock lasts while the server works through the
table (a scan, a rewrite, a copy, an index build) on a large table, roughly how long the lock
lasts. On a table under 10,000 rows (`--small-table-rows N`), such a change holds its lock for a
moment: the finding is a note, and `up` runs it. The rules that protect running code (a rename, a
drop) do not depend on size. The server's version matters too:
[concurrent-index-corruption](#concurrent-index-corruption) knows PostgreSQL 14.0 to 14.3.

```text
{note}```

Each rule below is also proven on the servers themselves by `tests/it/guide/oracle.rs`: the unsafe
way rewrites the table (`pg_class.relfilenode` changes), reads or changes its rows under a lock
that blocks writes (`pg_locks`, `pg_stat_xact_user_tables`), queues a lock behind a reader, or
copies the table (MariaDB reports the rows it copied); the safe way does none of it, and every fix
godwit suggests runs on the backend it is suggested for.

## What a finding says

Each finding names the rule, the migration, the operation (numbered from 1 in `up`) and the
backend, says the risk in a sentence, and shows the safe way as godwit code. For the first
example below:

```text
{finding}```

## Allowing an operation

Sometimes the unsafe way is the right one: the table has a hundred rows, or nothing uses the
column any more. Then write `s.allow(Rule::X, "why")` right after the operation: it allows that
operation, for that rule only, and the reason is kept with the migration, for reviewers.
`lint` and `plan` print it as `allowed[rule]` with the reason, and `up` runs it. An empty reason,
or an `allow` before any operation, is an error of the migration.

```rust
{allow_example}```

## The rules

The examples run on this schema, with two users and two posts (some add a `comments` table whose
`post_id` has no foreign key yet). Safe examples that change an existing table on every backend end
with `s.mysql_online(..)`, which MySQL/MariaDB need to pass [mysql-online-ddl](#mysql-online-ddl);
the other backends ignore it.

```rust
{blog}```

| rule | applies to | what it catches |
|---|---|---|
{table}"#,
        allow_example = method(
            "up",
            &closure_body(source_fragments(Rule::DropColumn, " safe_code: &[")[0])
        ),
        blog = method("up", &blog),
        note = note_example(),
    )
    .unwrap();
}

/// The text of the closures of field `field` (` unsafe_code: &[` or ` safe_code: &[`) of the
/// example of `rule`, in this file.
/// What the first example's finding says when `posts` has 2 rows: a note.
fn note_example() -> String {
    let e = &EXAMPLES[0];
    let steps: Vec<Step> = e.unsafe_code.iter().map(|&f| Step::up(f)).collect();
    let (catalog, versions) = catalog(e.setup, &steps, &migration_name(e.rule));
    let mut live = godwit_core::LiveContext::default();
    live.sizes.insert(
        "posts".into(),
        godwit_core::TableSize {
            rows: 2,
            bytes: 16384,
        },
    );
    catalog
        .lint_live(Backend::Postgres, Some(&versions), Some(&live))
        .unwrap()
        .iter()
        .map(|f| f.to_string())
        .collect()
}

fn source_fragments(rule: Rule, field: &str) -> Vec<&'static str> {
    let start = after(SOURCE, 0, &format!("rule: Rule::{},", rule.rust_name()));
    closures_in_array(SOURCE, after(SOURCE, start, field))
}

fn section(out: &mut String, e: &Example) {
    let rule = e.rule;
    let (finding, allowance) = checked(e);
    let unsafe_src = source_fragments(rule, " unsafe_code: &[");
    let safe_src = source_fragments(rule, " safe_code: &[");
    assert_eq!(
        unsafe_src.len(),
        e.unsafe_code.len(),
        "{rule}: unsafe fragments"
    );
    assert_eq!(safe_src.len(), e.safe_code.len(), "{rule}: safe fragments");
    write!(
        out,
        "\n## {code}\n\n{summary} Applies to {backends}.\n\n### Risk\n\n{risk}\n\n\
         ### Unsafe\n\n```rust\n{unsafe_code}```\n\n\
         godwit reports ({first}):\n\n```text\n{finding}```\n\n\
         ### Safe\n\n{safe}\n\n```rust\n{safe_code}```\n\n",
        code = rule.code(),
        backends = backends(rule),
        summary = summary(rule),
        risk = wrap(e.risk),
        unsafe_code = code(&unsafe_src),
        first = rule.backends()[0],
        safe = wrap(e.safe),
        safe_code = code(&safe_src),
    )
    .unwrap();
    if let Some(allowance) = allowance {
        write!(
            out,
            "`lint` then reports it as allowed:\n\n```text\n{allowance}```\n\n"
        )
        .unwrap();
    }
    let allow = format!(
        "`s.allow(Rule::{}, \"why\")` right after the operation. Reasonable when {}",
        rule.rust_name(),
        e.allow_when
    );
    write!(out, "### Allowing it\n\n{}\n", wrap(&allow)).unwrap();
}

fn render() -> String {
    let mut out = String::new();
    intro(&mut out);
    for &rule in &Rule::ALL {
        match example(rule) {
            Some(e) => section(&mut out, e),
            None => panic!(
                "Rule::{} has no example in guide/safety_rules.rs: add one to EXAMPLES",
                rule.rust_name()
            ),
        }
    }
    out
}

#[test]
fn safety_rules_is_current() {
    check_file("docs/safety-rules.md", &render());
}

#[test]
fn every_rule_has_an_example_that_holds() {
    let missing: Vec<String> = Rule::ALL
        .iter()
        .filter(|&&r| example(r).is_none())
        .map(|r| r.rust_name())
        .collect();
    assert!(
        missing.is_empty(),
        "rules without an example in guide/safety_rules.rs: {missing:?}"
    );
    for e in EXAMPLES {
        checked(e);
    }
    assert_eq!(EXAMPLES.len(), Rule::ALL.len(), "one example per rule");
}
