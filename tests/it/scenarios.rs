//! The scenario table: every DSL operation, each with the migrations it needs first.
//!
//! A scenario is a list of setup migrations and one migration under test. The snapshot tests
//! (`snapshots.rs`) render the migration under test for every backend; the live tests
//! (`live/`) run the same scenario on real databases and compare the schema they leave with
//! the schema model.

use godwit::prelude::{Query, RunCode};
use godwit_core::prelude::*;
use godwit_core::{Backend, Catalog, Migration, MigrationId, SchemaModel};

/// Calls `$callback! { name, name, ... }` with the name of every scenario, so the list of
/// scenarios is written once.
macro_rules! all_scenarios {
    ($callback:ident) => {
        $callback! {
            create_table_every_type,
            create_table_defaults,
            create_table_timestamps,
            create_table_unique_check_index,
            create_table_references,
            create_table_composite_primary_key,
            create_table_named_keys,
            drop_table,
            rename_table,
            add_column_nullable,
            add_column_with_default,
            add_column_expression_default,
            add_column_unique_and_check,
            drop_column,
            drop_column_with_index,
            drop_column_with_foreign_key,
            rename_column,
            rename_column_in_check,
            change_column_type,
            set_default,
            set_default_expression,
            drop_default,
            set_not_null,
            drop_not_null,
            add_index,
            add_index_unique,
            add_index_multi_column,
            add_index_partial,
            add_index_concurrently,
            add_index_on_text,
            drop_index,
            rename_index,
            add_foreign_key,
            add_foreign_key_to_other_column,
            drop_foreign_key,
            drop_foreign_key_without_index,
            drop_index_beside_foreign_key_without_index,
            add_check,
            drop_check,
            add_unique,
            drop_unique,
            add_unique_using_index,
            rebuild_referenced_table,
            rebuild_once_for_several_changes,
            raw_sql,
            raw_sql_per_backend,
            raw_sql_without_down,
            raw_sql_outside_transaction,
            raw_sql_declares_objects,
            raw_sql_declares_function,
            raw_sql_drops_declared,
            insert_rows,
            insert_every_type,
            hostile_literals,
            update_rows,
            backfill_rows,
            backfill_existing_column,
            copy_rows_mapped,
            copy_rows_shared_columns,
            run_rust_code,
            run_rust_code_with_down,
            delete_rows,
            irreversible,
            drop_column_with_check,
            rebuild_table_under_view,
            add_constraints_not_valid_then_validate,
            mysql_online_ddl,
            migration_timeouts,
            allow_rule,
            create_enum_column,
            create_table_enum_and_comments,
            add_enum_value,
            remove_enum_value,
            drop_enum,
            change_column_to_enum,
            comment_on_table_and_column,
            drop_comments,
            create_view,
            create_view_per_backend,
            replace_view,
            drop_view,
            rename_table_under_view,
            change_column_type_under_view,
            create_materialized_view,
            drop_materialized_view,
            refresh_materialized_view,
            create_function_and_trigger,
            drop_trigger,
            drop_trigger_and_function,
            create_extension,
            drop_extension,
            create_table_generated_columns,
            add_generated_column,
            add_virtual_generated_column,
            create_tables_in_schema,
            change_tables_in_schema,
            rename_and_move_tables_in_schema,
            drop_tables_in_schema,
        }
    };
}

macro_rules! scenario_list {
    ($($name:ident),* $(,)?) => {
        /// Every scenario, by name.
        pub const ALL: &[(&str, fn() -> Scenario)] = &[$((stringify!($name), $name)),*];
    };
}
all_scenarios!(scenario_list);

/// One migration, as plain functions: `up`, and `down` when it is written by hand.
#[derive(Clone, Copy)]
pub struct Step {
    pub up: fn(&mut Schema),
    pub down: Option<fn(&mut Schema)>,
}

impl Step {
    /// A migration whose `down` is derived.
    pub const fn up(up: fn(&mut Schema)) -> Step {
        Step { up, down: None }
    }

    /// A migration with a hand-written `down`.
    pub const fn up_down(up: fn(&mut Schema), down: fn(&mut Schema)) -> Step {
        Step {
            up,
            down: Some(down),
        }
    }
}

impl Migration for Step {
    fn up(&self, s: &mut Schema) {
        (self.up)(s);
    }

    fn down(&self, s: &mut Schema) {
        match self.down {
            Some(down) => down(s),
            None => s.reverse_up(),
        }
    }
}

/// A query returning one count, and the count expected after `up` and after `down`.
#[derive(Clone, Copy)]
pub struct Probe {
    pub sql: &'static str,
    pub after_up: i64,
    /// `None` when the query cannot run after `down` (the view it reads is gone).
    pub after_down: Option<i64>,
}

/// Setup migrations, then the migration under test.
#[derive(Clone, Copy)]
pub struct Scenario {
    pub setup: &'static [Step],
    pub step: Step,
    /// Whether `down` exists (hand-written or derived); if not, it must be a typed error.
    pub reversible: bool,
    /// Backends that cannot express the migration: rendering it must be a typed error there.
    pub unsupported: &'static [Backend],
    /// Data checks run after `up` and after `down`.
    pub probes: &'static [Probe],
}

impl Scenario {
    const fn new(setup: &'static [Step], step: Step) -> Scenario {
        Scenario {
            setup,
            step,
            reversible: true,
            unsupported: &[],
            probes: &[],
        }
    }

    const fn irreversible(mut self) -> Scenario {
        self.reversible = false;
        self
    }

    const fn unsupported_on(mut self, backends: &'static [Backend]) -> Scenario {
        self.unsupported = backends;
        self
    }

    const fn probes(mut self, probes: &'static [Probe]) -> Scenario {
        self.probes = probes;
        self
    }

    /// The version of the migration under test (setup migrations are 1, 2, ...).
    pub fn version(&self) -> u64 {
        self.setup.len() as u64 + 1
    }

    /// The version of the last setup migration, if there is one.
    pub fn setup_version(&self) -> Option<u64> {
        (!self.setup.is_empty()).then_some(self.setup.len() as u64)
    }

    /// The catalog of the setup migrations and the migration under test.
    pub fn catalog(&self) -> Catalog {
        let steps = self.setup.iter().chain(std::iter::once(&self.step));
        Catalog::new(steps.enumerate().map(|(i, step)| {
            let version = i as u64 + 1;
            let name = if version == self.version() {
                "under_test".to_string()
            } else {
                format!("setup_{version}")
            };
            (MigrationId { version, name }, step as &dyn Migration)
        }))
    }

    /// The schema model after the setup migrations.
    pub fn model_before(&self) -> SchemaModel {
        match self.setup_version() {
            Some(v) => self
                .catalog()
                .model(Some(v))
                .unwrap_or_else(|e| panic!("setup does not fold: {e}")),
            None => SchemaModel::default(),
        }
    }

    /// The schema model after the migration under test.
    pub fn model_after(&self) -> SchemaModel {
        self.catalog()
            .model(None)
            .unwrap_or_else(|e| panic!("the migration does not fold: {e}"))
    }
}

// ----- shared setup -------------------------------------------------------------------------

/// `users` and `posts` (which references `users`).
pub(crate) const BLOG: Step = Step::up(|s| {
    s.create_table("users", |t| {
        t.id();
        t.string("email", 100).unique();
        t.string("name", 50);
        t.timestamps();
    });
    s.create_table("posts", |t| {
        t.id();
        t.references("users").on_delete(Cascade);
        t.string("title", 200);
        t.text("body").nullable();
        t.integer("views").default(0);
        t.string("status", 20).nullable();
        t.index(["title"]);
    });
});

/// Two users with one post each (ids 1 and 2).
pub(crate) const BLOG_ROWS: Step = Step::up(|s| {
    s.insert("users", ["email", "name"])
        .values(["ada@example.com", "Ada"])
        .values(["grace@example.com", "Grace"]);
    s.insert("posts", ["user_id", "title", "body", "views", "status"])
        .values([
            Value::from(1i64),
            "Notes on the engine".into(),
            "...".into(),
            3.into(),
            "published".into(),
        ])
        .values([
            Value::from(2i64),
            "Compilers".into(),
            Value::String(None),
            10.into(),
            "published".into(),
        ]);
});

/// `comments` on posts, with an optional author.
const COMMENTS: Step = Step::up(|s| {
    s.create_table("comments", |t| {
        t.id();
        t.references("posts").on_delete(Cascade);
        t.references_as("author_id", "users")
            .nullable()
            .on_delete(SetNull);
        t.text("body");
    });
});

pub(crate) const BLOG_WITH_ROWS: &[Step] = &[BLOG, BLOG_ROWS];

/// The posts survive (SQLite rebuilds copy the rows).
const POSTS_KEPT: &[Probe] = &[Probe {
    sql: "SELECT COUNT(*) FROM posts",
    after_up: 2,
    after_down: Some(2),
}];

// ----- tables -------------------------------------------------------------------------------

/// A table with a column of every type.
const SAMPLES: Step = Step::up(|s| {
    s.create_table("samples", |t| {
        t.id();
        t.small_integer("small");
        t.integer("count");
        t.big_integer("big");
        t.string("title", 120);
        t.text("body");
        t.boolean("published");
        t.float("ratio");
        t.double("score");
        t.decimal("price", 10, 2);
        t.date("day");
        t.time("at");
        t.timestamp("seen_at");
        t.timestamp_tz("happened_at");
        t.uuid("token");
        t.json("payload");
        t.binary("data");
    });
});

pub fn create_table_every_type() -> Scenario {
    Scenario::new(
        &[],
        Step::up(|s| {
            s.create_table("samples", |t| {
                t.id();
                t.small_integer("small");
                t.integer("count");
                t.big_integer("big");
                t.string("title", 120);
                t.text("body");
                t.boolean("published");
                t.float("ratio");
                t.double("score");
                t.decimal("price", 10, 2);
                t.date("day");
                t.time("at");
                t.timestamp("seen_at");
                t.timestamp_tz("happened_at");
                t.uuid("token");
                t.json("payload");
                t.binary("data");
            });
        }),
    )
}

pub fn create_table_defaults() -> Scenario {
    Scenario::new(
        &[],
        Step::up(|s| {
            s.create_table("settings", |t| {
                t.string("key", 64).primary_key();
                t.text("note").nullable();
                t.integer("retries").default(3);
                t.string("mode", 16).default("auto");
                t.boolean("enabled").default(true);
                t.double("factor").default(1.5);
                t.timestamp_tz("changed_at").default(CurrentTimestamp);
                t.big_integer("weight").default(Sql("(1 + 1)"));
            });
        }),
    )
}

pub fn create_table_timestamps() -> Scenario {
    Scenario::new(
        &[],
        Step::up(|s| {
            s.create_table("events", |t| {
                t.id();
                t.string("name", 50);
                t.timestamps();
            });
        }),
    )
}

pub fn create_table_unique_check_index() -> Scenario {
    Scenario::new(
        &[],
        Step::up(|s| {
            s.create_table("products", |t| {
                t.id();
                t.string("sku", 32).unique();
                t.integer("stock").check("stock >= 0");
                t.string("vendor", 50);
                t.string("code", 20);
                t.decimal("price", 10, 2);
                t.unique(["vendor", "code"]);
                t.check("ck_products_price_positive", col("price").gt(0));
                t.index(["vendor", "price"]);
                t.index(["code"]).unique().name("idx_products_code_unique");
            });
        }),
    )
}

pub fn create_table_references() -> Scenario {
    Scenario::new(
        &[BLOG],
        Step::up(|s| {
            s.create_table("comments", |t| {
                t.id();
                t.references("posts").on_delete(Cascade).on_update(Cascade);
                t.references_as("author_id", "users")
                    .nullable()
                    .on_delete(SetNull);
                t.references_as("editor_id", "users")
                    .nullable()
                    .no_index()
                    .on_delete(Restrict)
                    .on_update(NoAction);
                t.text("body");
            });
        }),
    )
}

pub fn create_table_composite_primary_key() -> Scenario {
    const TAGS: Step = Step::up(|s| {
        s.create_table("tags", |t| {
            t.id();
            t.string("name", 50).unique();
        });
    });
    Scenario::new(
        &[BLOG, TAGS],
        Step::up(|s| {
            s.create_table("post_tags", |t| {
                t.references("posts").on_delete(Cascade);
                t.references("tags").on_delete(Cascade);
                t.primary_key(["post_id", "tag_id"]);
            });
        }),
    )
}

/// `accounts`, keyed by a UUID, with a unique `code`.
const ACCOUNTS: Step = Step::up(|s| {
    s.create_table("accounts", |t| {
        t.uuid("id").primary_key();
        t.string("code", 20).unique();
    });
});

/// Keys and indexes named by hand, a reference to a key that is not a `bigint`, and a column
/// built with `Column`.
pub fn create_table_named_keys() -> Scenario {
    Scenario::new(
        &[ACCOUNTS],
        Step::up(|s| {
            s.create_table("invoices", |t| {
                t.id();
                t.references("accounts")
                    .of_type(ColumnType::Uuid)
                    .name("fk_invoice_account")
                    .index_name("idx_invoice_account");
                t.column(Column::of("total", ColumnType::Decimal(12, 2)).default(0));
            });
        }),
    )
}

pub fn drop_table() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, COMMENTS],
        Step::up(|s| s.drop_table("comments")),
    )
    .probes(POSTS_KEPT)
}

pub fn rename_table() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.rename_table("users", "accounts")),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts JOIN accounts ON accounts.id = posts.user_id",
        after_up: 2,
        after_down: None,
    }])
}

// ----- columns ------------------------------------------------------------------------------

pub fn add_column_nullable() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.add_column("posts", Column::timestamp("published_at").nullable())),
    )
}

pub fn add_column_with_default() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column("posts", Column::integer("likes").default(0));
            s.add_column("posts", Column::boolean("pinned").default(false));
            s.add_column("posts", Column::string("locale", 8).default("en"));
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE likes = 0 AND locale = 'en'",
        after_up: 2,
        after_down: None,
    }])
}

pub fn add_column_expression_default() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column(
                "posts",
                Column::timestamp_tz("edited_at").default(CurrentTimestamp),
            )
        }),
    )
    .probes(&[
        Probe {
            sql: "SELECT COUNT(*) FROM posts WHERE edited_at IS NOT NULL",
            after_up: 2,
            after_down: None,
        },
        Probe {
            sql: "SELECT COUNT(*) FROM posts",
            after_up: 2,
            after_down: Some(2),
        },
    ])
}

pub fn add_column_unique_and_check() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column("users", Column::string("handle", 30).nullable().unique());
            s.add_column(
                "posts",
                Column::integer("rating")
                    .nullable()
                    .check("rating BETWEEN 1 AND 5"),
            );
        }),
    )
    .probes(POSTS_KEPT)
}

pub fn drop_column() -> Scenario {
    Scenario::new(BLOG_WITH_ROWS, Step::up(|s| s.drop_column("posts", "body"))).probes(POSTS_KEPT)
}

pub fn drop_column_with_index() -> Scenario {
    const STATUS_INDEXES: Step = Step::up(|s| {
        s.add_index("posts", ["status"]);
        s.add_unique("posts", ["user_id", "status"]);
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, STATUS_INDEXES],
        Step::up(|s| s.drop_column("posts", "status")),
    )
    .probes(POSTS_KEPT)
}

pub fn drop_column_with_foreign_key() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, COMMENTS],
        Step::up(|s| s.drop_column("comments", "author_id")),
    )
    .probes(POSTS_KEPT)
}

pub fn rename_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.rename_column("posts", "user_id", "author_id");
            s.rename_column("users", "email", "email_address");
        }),
    )
    .probes(POSTS_KEPT)
}

pub fn change_column_type() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.change_column_type("posts", "views", ColumnType::BigInt);
            s.change_column_type("posts", "title", ColumnType::String(300));
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE views = 10",
        after_up: 1,
        after_down: Some(1),
    }])
}

pub fn set_default() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.set_default("posts", "status", "draft");
            s.set_default("posts", "views", 1);
        }),
    )
    .probes(POSTS_KEPT)
}

pub fn drop_default() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.drop_default("posts", "views")),
    )
    .probes(POSTS_KEPT)
}

pub fn set_not_null() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.set_not_null("posts", "status")),
    )
    .probes(POSTS_KEPT)
}

pub fn drop_not_null() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.drop_not_null("posts", "title")),
    )
    .probes(POSTS_KEPT)
}

// ----- indexes ------------------------------------------------------------------------------

pub fn add_index() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("posts", ["status"]);
        }),
    )
}

pub fn add_index_unique() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("users", ["name"]).unique();
        }),
    )
}

pub fn add_index_multi_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("posts", ["user_id", "status"])
                .name("idx_posts_author_status");
        }),
    )
}

pub fn add_index_partial() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("posts", ["title"])
                .where_(col("status").eq("published"))
                .name("idx_posts_published_title");
        }),
    )
    .unsupported_on(&[Backend::MySql])
}

pub fn add_index_concurrently() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("posts", ["views"]).concurrently();
        }),
    )
}

pub fn drop_index() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.drop_index("posts", "idx_posts_title");
        }),
    )
}

pub fn rename_index() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.rename_index("posts", "idx_posts_title", "idx_posts_headline")),
    )
}

// ----- constraints --------------------------------------------------------------------------

/// `comments.post_id` without a foreign key or an index, and one comment.
pub(crate) const LOOSE_COMMENTS: Step = Step::up(|s| {
    s.create_table("comments", |t| {
        t.id();
        t.big_integer("post_id");
        t.text("body");
    });
    s.insert("comments", ["post_id", "body"])
        .values([Value::from(1i64), "First!".into()]);
});

pub fn add_foreign_key() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, LOOSE_COMMENTS],
        Step::up(|s| {
            s.add_foreign_key("comments", ["post_id"], "posts")
                .on_delete(Cascade)
                .on_update(Restrict);
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM comments",
        after_up: 1,
        after_down: Some(1),
    }])
}

/// A named foreign key to a unique column other than `id`.
pub fn add_foreign_key_to_other_column() -> Scenario {
    const INVOICES: Step = Step::up(|s| {
        s.create_table("invoices", |t| {
            t.id();
            t.string("account_code", 20);
        });
    });
    Scenario::new(
        &[ACCOUNTS, INVOICES],
        Step::up(|s| {
            s.add_foreign_key("invoices", ["account_code"], "accounts")
                .ref_columns(["code"])
                .name("fk_invoice_account_code");
        }),
    )
}

pub fn drop_foreign_key() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.drop_foreign_key("posts", "fk_posts_user_id")),
    )
    .probes(POSTS_KEPT)
}

/// Dropping a foreign key that was added without an index (MySQL made one for it).
pub fn drop_foreign_key_without_index() -> Scenario {
    const FOREIGN_KEY: Step = Step::up(|s| {
        s.add_foreign_key("comments", ["post_id"], "posts");
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, LOOSE_COMMENTS, FOREIGN_KEY],
        Step::up(|s| s.drop_foreign_key("comments", "fk_comments_post_id")),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM comments",
        after_up: 1,
        after_down: Some(1),
    }])
}

/// Dropping another index of a table whose foreign key has no index of the model's: MySQL
/// enforces the key through the index it made for it, so the drop is valid there.
pub fn drop_index_beside_foreign_key_without_index() -> Scenario {
    const FOREIGN_KEY_AND_INDEX: Step = Step::up(|s| {
        s.add_foreign_key("comments", ["post_id"], "posts");
        s.add_column("comments", Column::integer("score").nullable());
        s.add_index("comments", ["score"]);
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, LOOSE_COMMENTS, FOREIGN_KEY_AND_INDEX],
        Step::up(|s| {
            s.drop_index("comments", "idx_comments_score");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM comments",
        after_up: 1,
        after_down: Some(1),
    }])
}

pub fn add_check() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
        }),
    )
    .probes(POSTS_KEPT)
}

pub fn drop_check() -> Scenario {
    const CHECKED: Step = Step::up(|s| {
        s.add_check("posts", "ck_posts_title_length", "length(title) > 0");
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, CHECKED],
        Step::up(|s| s.drop_check("posts", "ck_posts_title_length")),
    )
    .probes(POSTS_KEPT)
}

pub fn add_unique() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_unique("posts", ["user_id", "title"])
                .name("uq_posts_author_title");
        }),
    )
    .probes(POSTS_KEPT)
}

/// A unique index built concurrently becomes the unique constraint.
pub fn add_unique_using_index() -> Scenario {
    const UNIQUE_INDEX: Step = Step::up(|s| {
        s.add_index("users", ["name"])
            .unique()
            .name("uq_users_name")
            .concurrently();
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, UNIQUE_INDEX],
        Step::up(|s| {
            s.add_unique_using_index("users", "uq_users_name");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM users",
        after_up: 2,
        after_down: Some(2),
    }])
}

pub fn drop_unique() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| s.drop_unique("users", "uq_users_email")),
    )
}

// ----- raw SQL and data ---------------------------------------------------------------------

pub fn raw_sql() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.sql("CREATE VIEW post_titles AS SELECT id, title FROM posts")
                .down("DROP VIEW post_titles")
                .creates_view("post_titles", ["posts"]);
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM post_titles",
        after_up: 2,
        after_down: None,
    }])
}

pub fn raw_sql_per_backend() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.sql_per_backend(PerBackend {
                postgres: Some(
                    "INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada'), ('linus@example.com', 'Linus') ON CONFLICT (email) DO NOTHING",
                ),
                mysql: Some(
                    "INSERT IGNORE INTO users (email, name) VALUES ('ada@example.com', 'Ada'), ('linus@example.com', 'Linus')",
                ),
                sqlite: Some(
                    "INSERT OR IGNORE INTO users (email, name) VALUES ('ada@example.com', 'Ada'), ('linus@example.com', 'Linus')",
                ),
            })
            .down_per_backend(PerBackend {
                postgres: Some("DELETE FROM users WHERE email = 'linus@example.com'"),
                mysql: Some("DELETE FROM users WHERE email = 'linus@example.com' LIMIT 1"),
                sqlite: Some("DELETE FROM users WHERE email = 'linus@example.com'"),
            });
        }),
    )
    .probes(&[Probe { sql: "SELECT COUNT(*) FROM users", after_up: 3, after_down: Some(2) }])
}

pub fn raw_sql_outside_transaction() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.sql_per_backend(PerBackend {
                postgres: Some("REINDEX TABLE CONCURRENTLY users"),
                mysql: Some("ANALYZE TABLE users"),
                sqlite: Some("VACUUM"),
            })
            .down_per_backend(PerBackend {
                postgres: Some("REINDEX TABLE CONCURRENTLY users"),
                mysql: Some("ANALYZE TABLE users"),
                sqlite: Some("VACUUM"),
            })
            .outside_transaction();
        }),
    )
}

/// An index godwit cannot express, a view and a trigger, each declared: the model knows them,
/// and `down` (derived) drops them newest first.
pub fn raw_sql_declares_objects() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.sql_per_backend(PerBackend {
                postgres: Some("CREATE INDEX ix_posts_lower_title ON posts (lower(title))"),
                // MariaDB has no expression indexes: a prefix index.
                mysql: Some("CREATE INDEX ix_posts_lower_title ON posts (title(20))"),
                sqlite: Some("CREATE INDEX ix_posts_lower_title ON posts (lower(title))"),
            })
            .creates_index("ix_posts_lower_title", "posts");
            s.sql("CREATE VIEW published_posts AS SELECT id, title FROM posts WHERE status = 'published'")
                .creates_view("published_posts", ["posts"]);
            s.sql_per_backend(PerBackend {
                postgres: Some(
                    "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW \
                     EXECUTE FUNCTION suppress_redundant_updates_trigger()",
                ),
                mysql: Some(
                    "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW \
                     SET NEW.views = GREATEST(NEW.views, 0)",
                ),
                sqlite: Some(
                    "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW \
                     WHEN NEW.views < 0 BEGIN SELECT RAISE(ABORT, 'views must not be negative'); END",
                ),
            })
            .creates_trigger("trg_posts_skip_noop", "posts");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM published_posts",
        after_up: 2,
        after_down: None,
    }])
}

/// A function, declared; SQLite has none. Its `down` drops it, declaring so.
pub fn raw_sql_declares_function() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up_down(
            |s| {
                s.sql_per_backend(PerBackend {
                    postgres: Some(
                        "CREATE FUNCTION post_score(v integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT v * 2'",
                    ),
                    mysql: Some(
                        "CREATE FUNCTION post_score(v INT) RETURNS INT DETERMINISTIC RETURN v * 2",
                    ),
                    sqlite: None,
                })
                .creates_function("post_score");
            },
            |s| {
                s.sql_per_backend(PerBackend {
                    postgres: Some("DROP FUNCTION post_score(integer)"),
                    mysql: Some("DROP FUNCTION post_score"),
                    sqlite: None,
                })
                .drops_function("post_score");
            },
        ),
    )
    .unsupported_on(&[Backend::Sqlite])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE post_score(views) = 20",
        after_up: 1,
        after_down: None,
    }])
}

/// Dropping what an earlier migration declared, with the `down` that makes it again.
pub fn raw_sql_drops_declared() -> Scenario {
    const OBJECTS: Step = Step::up(|s| {
        s.sql("CREATE INDEX ix_posts_title_views ON posts (title, views)")
            .creates_index("ix_posts_title_views", "posts");
        s.sql("CREATE VIEW post_titles AS SELECT id, title FROM posts")
            .creates_view("post_titles", ["posts"]);
        s.sql_per_backend(PerBackend {
            postgres: Some(
                "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW \
                 EXECUTE FUNCTION suppress_redundant_updates_trigger()",
            ),
            mysql: Some(
                "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW SET @touched = 1",
            ),
            sqlite: Some(
                "CREATE TRIGGER trg_posts_skip_noop AFTER UPDATE ON posts BEGIN SELECT 1; END",
            ),
        })
        .creates_trigger("trg_posts_skip_noop", "posts");
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, OBJECTS],
        Step::up(|s| {
            s.sql("DROP VIEW post_titles")
                .down("CREATE VIEW post_titles AS SELECT id, title FROM posts")
                .drops_view("post_titles");
            s.sql_per_backend(PerBackend {
                postgres: Some("DROP INDEX ix_posts_title_views"),
                mysql: Some("DROP INDEX ix_posts_title_views ON posts"),
                sqlite: Some("DROP INDEX ix_posts_title_views"),
            })
            .down("CREATE INDEX ix_posts_title_views ON posts (title, views)")
            .drops_index("ix_posts_title_views");
            s.sql_per_backend(PerBackend {
                postgres: Some("DROP TRIGGER trg_posts_skip_noop ON posts"),
                mysql: Some("DROP TRIGGER trg_posts_skip_noop"),
                sqlite: Some("DROP TRIGGER trg_posts_skip_noop"),
            })
            .down_per_backend(PerBackend {
                postgres: Some(
                    "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW \
                     EXECUTE FUNCTION suppress_redundant_updates_trigger()",
                ),
                mysql: Some(
                    "CREATE TRIGGER trg_posts_skip_noop BEFORE UPDATE ON posts FOR EACH ROW SET @touched = 1",
                ),
                sqlite: Some(
                    "CREATE TRIGGER trg_posts_skip_noop AFTER UPDATE ON posts BEGIN SELECT 1; END",
                ),
            })
            .drops_trigger("trg_posts_skip_noop");
        }),
    )
}

/// Several changes to one table that SQLite makes by rebuilding it: one rebuild.
pub fn rebuild_once_for_several_changes() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.set_default("posts", "status", "draft");
            s.set_not_null("posts", "status");
            s.change_column_type("posts", "views", ColumnType::BigInt);
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE status = 'published'",
        after_up: 2,
        after_down: Some(2),
    }])
}

/// Text that ends a literal early where backslashes escape and the server's settings say they
/// do not (MariaDB's `NO_BACKSLASH_ESCAPES`, PostgreSQL's `standard_conforming_strings = off`),
/// in a default, a check and an insert: every value is stored as written, and `users` stays.
pub fn hostile_literals() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up_down(
            |s| {
                s.create_table("notes", |t| {
                    t.id();
                    t.string("body", 100).default("'); DROP TABLE users; -- ");
                    t.string("path", 100).default("C:\\temp\\new");
                    t.text("quoted").nullable();
                    t.check("ck_notes_path", col("path").ne("\\\\server\\share'"));
                });
                s.set_default("posts", "status", "it's a \\ default\\");
                s.insert("notes", ["quoted"])
                    .values(["\"double\" 'single' \\back\\ `tick` \\'); DROP TABLE users; --"]);
            },
            |s| {
                s.drop_default("posts", "status");
                s.drop_table("notes");
            },
        ),
    )
    .probes(&[
        Probe {
            sql: "SELECT COUNT(*) FROM users",
            after_up: 2,
            after_down: Some(2),
        },
        Probe {
            sql: "SELECT COUNT(*) FROM notes WHERE LENGTH(body) = 25 AND LENGTH(path) = 11 \
                  AND LENGTH(quoted) = 57",
            after_up: 1,
            after_down: None,
        },
    ])
}

pub fn raw_sql_without_down() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.sql("UPDATE posts SET views = views + 1");
        }),
    )
    .irreversible()
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE views = 11",
        after_up: 1,
        after_down: None,
    }])
}

pub fn insert_rows() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up_down(
            |s| {
                s.insert("users", ["email", "name"])
                    .values(["linus@example.com", "Linus"])
                    .values(["o'hara@example.com", "Scarlett O'Hara"]);
            },
            |s| {
                s.delete("users")
                    .filter(col("email").is_in(["linus@example.com", "o'hara@example.com"]));
            },
        ),
    )
    .probes(&[
        Probe {
            sql: "SELECT COUNT(*) FROM users",
            after_up: 4,
            after_down: Some(2),
        },
        Probe {
            sql: "SELECT COUNT(*) FROM users WHERE name = 'Scarlett O''Hara'",
            after_up: 1,
            after_down: Some(0),
        },
    ])
}

pub fn update_rows() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.update("posts")
                .set("status", "draft")
                .set("views", col("views").add(1))
                .filter(col("views").lt(5));
        }),
    )
    .irreversible()
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE status = 'draft' AND views = 4",
        after_up: 1,
        after_down: None,
    }])
}

// Data steps: Rust code (`run`), batched backfills and copies. The live tests run their schema
// statements only (data steps are the runner's, tested on every backend in `runner/data.rs`),
// so the probes below hold whether or not the data steps ran.

/// A column added and filled in batches. Rolling back drops the column, and with it what the
/// backfill wrote: the derived `down` is the drop alone.
pub fn backfill_rows() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column("posts", Column::string("slug", 200).nullable());
            s.backfill("posts")
                .set("slug", Func::lower(col("title")))
                .filter(col("slug").is_null())
                .batch_size(500);
        }),
    )
    .probes(POSTS_KEPT)
}

/// A backfill of a column that was there before the migration: the old values are gone, so
/// `down` cannot be derived.
pub fn backfill_existing_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.backfill("posts")
                .set("status", Func::upper(col("status")))
                .set("views", col("views").add(1))
                .pause(Duration::from_millis(50));
        }),
    )
    .irreversible()
    .probes(POSTS_KEPT)
}

/// A table created and filled from another, columns mapped and transformed; rolling back drops
/// the table with its copied rows.
pub fn copy_rows_mapped() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_table("archived_posts", |t| {
                t.id();
                t.string("headline", 200);
                t.string("status", 20).nullable();
            });
            s.copy_rows("posts", "archived_posts")
                .map("id", "id")
                .map("headline", "title")
                .set("status", Func::lower(col("status")))
                .filter(col("status").eq("archived").or(col("views").lt(5)))
                .batch_size(1000);
        }),
    )
    .probes(POSTS_KEPT)
}

/// Rows copied into new tables: every column the two tables share, or the columns named.
pub fn copy_rows_shared_columns() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_table("posts_archive", |t| {
                t.id();
                t.big_integer("user_id");
                t.string("title", 200);
                t.text("body").nullable();
            });
            s.copy_rows("posts", "posts_archive");
            s.create_table("users_archive", |t| {
                t.id();
                t.string("email", 100);
            });
            s.copy_rows("users", "users_archive")
                .columns(["id", "email"])
                .pause(Duration::from_millis(20));
        }),
    )
    .probes(POSTS_KEPT)
}

/// Rust code with no `down`: it cannot be derived.
pub fn run_rust_code() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.run("touch posts", |db| {
                Box::pin(async move {
                    let touch = Query::update()
                        .table("posts")
                        .value("views", col("views").add(1))
                        .to_owned();
                    db.execute(&touch).await?;
                    Ok(())
                })
            });
        }),
    )
    .irreversible()
    .probes(POSTS_KEPT)
}

/// Rust code beside a schema change, undone by Rust code in a hand-written `down`.
pub fn run_rust_code_with_down() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up_down(
            |s| {
                s.add_column("posts", Column::boolean("pinned").default(false));
                s.run("add a pinned welcome post", |db| {
                    Box::pin(async move {
                        let insert = Query::insert()
                            .into_table("posts")
                            .columns(["user_id", "title", "pinned"])
                            .values_panic([1i64.into(), "Welcome".into(), true.into()])
                            .to_owned();
                        db.execute(&insert).await?;
                        Ok(())
                    })
                });
            },
            |s| {
                s.run("remove the welcome post", |db| {
                    Box::pin(async move {
                        let delete = Query::delete()
                            .from_table("posts")
                            .and_where(col("pinned").eq(true))
                            .to_owned();
                        db.execute(&delete).await?;
                        Ok(())
                    })
                });
                s.drop_column("posts", "pinned");
            },
        ),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE title <> 'Welcome'",
        after_up: 2,
        after_down: Some(2),
    }])
}

pub fn delete_rows() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.delete("posts")
                .filter(col("views").gte(5).and(col("status").eq("published")));
        }),
    )
    .irreversible()
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts",
        after_up: 1,
        after_down: None,
    }])
}

pub fn irreversible() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.drop_column("posts", "body");
            s.irreversible("post bodies moved to the archive service");
        }),
    )
    .irreversible()
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts",
        after_up: 2,
        after_down: None,
    }])
}

// ----- edge cases -----------------------------------------------------------------------------

pub fn rename_column_in_check() -> Scenario {
    const CHECKED: Step = Step::up(|s| {
        s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, CHECKED],
        Step::up(|s| s.rename_column("posts", "views", "view_count")),
    )
    .probes(POSTS_KEPT)
}

pub fn set_default_expression() -> Scenario {
    const SEEN: Step =
        Step::up(|s| s.add_column("users", Column::timestamp_tz("seen_at").nullable()));
    Scenario::new(
        &[BLOG, BLOG_ROWS, SEEN],
        Step::up(|s| s.set_default("users", "seen_at", CurrentTimestamp)),
    )
}

pub fn add_index_on_text() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("posts", ["body"]);
        }),
    )
    .unsupported_on(&[Backend::MySql])
}

/// A SQLite rebuild of `posts`, which `comments` references: its rows must not cascade away.
pub fn rebuild_referenced_table() -> Scenario {
    const COMMENT_ROWS: Step = Step::up(|s| {
        s.insert("comments", ["post_id", "author_id", "body"])
            .values([Value::from(1i64), 2i64.into(), "Lovely".into()])
            .values([Value::from(2i64), Value::BigInt(None), "Anonymous".into()]);
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, COMMENTS, COMMENT_ROWS],
        Step::up(|s| {
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
        }),
    )
    .probes(&[
        Probe {
            sql: "SELECT COUNT(*) FROM comments",
            after_up: 2,
            after_down: Some(2),
        },
        Probe {
            sql: "SELECT COUNT(*) FROM comments JOIN posts ON posts.id = comments.post_id",
            after_up: 2,
            after_down: Some(2),
        },
    ])
}

pub fn insert_every_type() -> Scenario {
    use sea_query::value::prelude::{serde_json, time, uuid};
    Scenario::new(
        &[SAMPLES],
        Step::up_down(
            |s| {
                let day = time::Date::from_calendar_date(2026, time::Month::November, 20).unwrap();
                let at = time::Time::from_hms(9, 30, 0).unwrap();
                let seen_at = time::PrimitiveDateTime::new(day, at);
                s.insert(
                    "samples",
                    [
                        "small",
                        "count",
                        "big",
                        "title",
                        "body",
                        "published",
                        "ratio",
                        "score",
                        "price",
                        "day",
                        "at",
                        "seen_at",
                        "happened_at",
                        "token",
                        "payload",
                        "data",
                    ],
                )
                .values([
                    Value::from(1i16),
                    2i32.into(),
                    3i64.into(),
                    "title".into(),
                    "body".into(),
                    true.into(),
                    0.5f32.into(),
                    2.25f64.into(),
                    12.5f64.into(),
                    day.into(),
                    at.into(),
                    seen_at.into(),
                    seen_at.assume_utc().into(),
                    uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef).into(),
                    serde_json::json!({"tags": ["a", "b"]}).into(),
                    vec![0u8, 1, 2, 255].into(),
                ]);
            },
            |s| {
                s.delete("samples").filter(col("title").eq("title"));
            },
        ),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM samples WHERE published AND big = 3",
        after_up: 1,
        after_down: Some(0),
    }])
}

/// Dropping a column drops its column check, on every backend.
pub fn drop_column_with_check() -> Scenario {
    const CHECKED: Step = Step::up(|s| {
        s.add_column(
            "posts",
            Column::integer("rating")
                .nullable()
                .check("rating BETWEEN 1 AND 5"),
        );
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, CHECKED],
        Step::up(|s| s.drop_column("posts", "rating")),
    )
    .probes(POSTS_KEPT)
}

/// A SQLite rebuild of a table a view reads.
pub fn rebuild_table_under_view() -> Scenario {
    const VIEW: Step = Step::up(|s| {
        s.sql("CREATE VIEW post_titles AS SELECT id, title FROM posts")
            .creates_view("post_titles", ["posts"]);
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, VIEW],
        Step::up(|s| {
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0));
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM post_titles",
        after_up: 2,
        after_down: Some(2),
    }])
}

/// The safe way to add constraints to a table with rows on PostgreSQL: `NOT VALID`, then
/// `VALIDATE CONSTRAINT` (MySQL and SQLite check the rows at once and validate nothing).
pub fn add_constraints_not_valid_then_validate() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, LOOSE_COMMENTS],
        Step::up(|s| {
            s.add_foreign_key("comments", ["post_id"], "posts")
                .not_valid();
            s.add_check("posts", "ck_posts_views_positive", col("views").gte(0))
                .not_valid();
            s.validate_constraint("comments", "fk_comments_post_id");
            s.validate_constraint("posts", "ck_posts_views_positive");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM comments",
        after_up: 1,
        after_down: Some(1),
    }])
}

/// `mysql_online`: MySQL/MariaDB run the change in place without locking, or refuse.
pub fn mysql_online_ddl() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column("posts", Column::text("summary").nullable());
            s.add_index("posts", ["status"]);
            s.mysql_online(Algorithm::Inplace, Lock::None);
        }),
    )
    .probes(POSTS_KEPT)
}

/// A migration's own lock and statement timeouts and lock retries, instead of the runner's.
pub fn migration_timeouts() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_index("posts", ["status", "views"]);
            s.lock_timeout(Duration::from_secs(2));
            s.statement_timeout(Duration::from_secs(4 * 60 * 60));
            s.lock_retries(10);
        }),
    )
    .probes(POSTS_KEPT)
}

/// An operation a lint rule flags, allowed with a written reason.
pub fn allow_rule() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.drop_column("posts", "body");
            s.allow(
                Rule::DropColumn,
                "nothing reads posts.body since release 41",
            );
        }),
    )
    .probes(POSTS_KEPT)
}

// ----- enumerated types, comments, views, functions, triggers, extensions --------------------

/// A `post_state` enum, and `posts.state` of it set on the rows.
const POST_STATE: Step = Step::up(|s| {
    s.create_enum("post_state", ["draft", "published", "archived"]);
    s.add_column(
        "posts",
        Column::enumeration("state", "post_state").default("draft"),
    );
    s.update("posts")
        .set("state", "published")
        .filter(col("id").eq(1));
});

/// An enum, and a column of it with a default on a table with rows.
pub fn create_enum_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_enum("post_state", ["draft", "published", "it's archived"]);
            s.add_column(
                "posts",
                Column::enumeration("state", "post_state").default("draft"),
            );
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE state = 'draft'",
        after_up: 2,
        after_down: None,
    }])
}

/// A table created with an enum column and comments on it and its columns.
pub fn create_table_enum_and_comments() -> Scenario {
    Scenario::new(
        &[],
        Step::up(|s| {
            s.create_enum("ticket_priority", ["low", "normal", "high"]);
            s.create_table("tickets", |t| {
                t.id();
                t.enumeration("priority", "ticket_priority")
                    .default("normal")
                    .comment("how soon it must be handled");
                t.string("title", 100).comment("shown in lists; it's short");
                t.comment("support tickets");
            });
        }),
    )
}

/// A value added to an enum: each column of it takes it (MySQL modifies the column, SQLite
/// rebuilds the table).
pub fn add_enum_value() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, POST_STATE],
        Step::up(|s| {
            s.add_enum_value("post_state", "retracted");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE state = 'published'",
        after_up: 1,
        after_down: Some(1),
    }])
}

/// A value no row holds, removed (PostgreSQL makes the type again and converts the column).
pub fn remove_enum_value() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, POST_STATE],
        Step::up(|s| {
            s.remove_enum_value("post_state", "archived");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE state = 'published'",
        after_up: 1,
        after_down: Some(1),
    }])
}

/// An enum no column uses, dropped; `down` makes it again with its values.
pub fn drop_enum() -> Scenario {
    const ENUM: Step = Step::up(|s| {
        s.create_enum("mood", ["calm", "busy"]);
    });
    Scenario::new(
        &[BLOG, ENUM],
        Step::up(|s| {
            s.drop_enum("mood");
        }),
    )
}

/// A string column becomes an enum; the values it holds are all in the enum.
pub fn change_column_to_enum() -> Scenario {
    const ENUM: Step = Step::up(|s| {
        s.create_enum("publication", ["draft", "published"]);
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, ENUM],
        Step::up(|s| {
            s.change_column_type("posts", "status", ColumnType::enumeration("publication"));
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE status = 'published'",
        after_up: 2,
        after_down: Some(2),
    }])
}

/// Comments set on an existing table and column; `down` removes them.
pub fn comment_on_table_and_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.comment_on_table("posts", "what the users wrote");
            s.comment_on_column("posts", "views", "times it was read; it's approximate");
        }),
    )
    .probes(POSTS_KEPT)
}

const PUBLISHED_POSTS: Step = Step::up(|s| {
    s.create_view(
        "published_posts",
        "SELECT id, title, status FROM posts WHERE status = 'published'",
    );
});

/// A view; `down` drops it.
pub fn create_view() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_view(
                "published_posts",
                "SELECT id, title, status FROM posts WHERE status = 'published'",
            );
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM published_posts",
        after_up: 2,
        after_down: None,
    }])
}

/// A view given a new query (a column added last); `down` restores the one before.
pub fn replace_view() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, PUBLISHED_POSTS],
        Step::up(|s| {
            s.replace_view(
                "published_posts",
                "SELECT id, title, status, views FROM posts WHERE status = 'published' AND views > 5",
            );
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM published_posts",
        after_up: 1,
        after_down: Some(2),
    }])
}

/// A view dropped; `down` makes it again from the query the model kept.
pub fn drop_view() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, PUBLISHED_POSTS],
        Step::up(|s| {
            s.drop_view("published_posts");
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts",
        after_up: 2,
        after_down: Some(2),
    }])
}

/// A table a view reads, renamed: PostgreSQL and SQLite carry the view along, and the model
/// keeps its query up to date for `down`; MySQL/MariaDB would break the view, and refuse.
pub fn rename_table_under_view() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, PUBLISHED_POSTS],
        Step::up(|s| {
            s.rename_table("posts", "articles");
        }),
    )
    .unsupported_on(&[Backend::MySql])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM published_posts",
        after_up: 2,
        after_down: Some(2),
    }])
}

/// A materialized view: PostgreSQL only.
pub fn create_materialized_view() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_materialized_view(
                "post_counts",
                "SELECT user_id, COUNT(*) AS posts FROM posts GROUP BY user_id",
            );
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM post_counts",
        after_up: 2,
        after_down: None,
    }])
}

/// The `updated_at` trigger of each backend: PostgreSQL's calls a function (left out on the
/// others, which set the column in the trigger itself).
const TOUCH_POSTS: Step = Step::up(|s| {
    s.add_column(
        "posts",
        Column::timestamp("updated_at").default(CurrentTimestamp),
    );
    s.create_function(
        "touch_updated_at",
        PerBackend {
            postgres: Some(
                "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$",
            ),
            mysql: Some(""),
            sqlite: Some(""),
        },
    );
    s.create_trigger(
        "posts_touch",
        "posts",
        PerBackend {
            postgres: Some(
                "CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW \
                 EXECUTE FUNCTION touch_updated_at()",
            ),
            mysql: Some(
                "CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW \
                 SET NEW.updated_at = CURRENT_TIMESTAMP(6)",
            ),
            sqlite: Some(
                "CREATE TRIGGER posts_touch AFTER UPDATE ON posts FOR EACH ROW \
                 WHEN NEW.updated_at = OLD.updated_at \
                 BEGIN UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END",
            ),
        },
    );
});

/// A function and a trigger that calls it; `down` drops both, trigger first.
pub fn create_function_and_trigger() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column(
                "posts",
                Column::timestamp("updated_at").default(CurrentTimestamp),
            );
            s.create_function(
                "touch_updated_at",
                PerBackend {
                    postgres: Some(
                        "CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN NEW.updated_at := CURRENT_TIMESTAMP; RETURN NEW; END $$",
                    ),
                    mysql: Some(""),
                    sqlite: Some(""),
                },
            );
            s.create_trigger(
                "posts_touch",
                "posts",
                PerBackend {
                    postgres: Some(
                        "CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW \
                     EXECUTE FUNCTION touch_updated_at()",
                    ),
                    mysql: Some(
                        "CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW \
                     SET NEW.updated_at = CURRENT_TIMESTAMP(6)",
                    ),
                    sqlite: Some(
                        "CREATE TRIGGER posts_touch AFTER UPDATE ON posts FOR EACH ROW \
                     WHEN NEW.updated_at = OLD.updated_at \
                     BEGIN UPDATE posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END",
                    ),
                },
            );
        }),
    )
    .probes(POSTS_KEPT)
}

/// A trigger dropped; `down` makes it again from the statement the model kept.
pub fn drop_trigger() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, TOUCH_POSTS],
        Step::up(|s| {
            s.drop_trigger("posts_touch");
        }),
    )
    .probes(POSTS_KEPT)
}

/// An extension (PostgreSQL only): `CREATE EXTENSION IF NOT EXISTS`.
pub fn create_extension() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_extension("pg_trgm");
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
}

/// Comments removed; `down` sets them again.
pub fn drop_comments() -> Scenario {
    const COMMENTS: Step = Step::up(|s| {
        s.comment_on_table("posts", "what the users wrote");
        s.comment_on_column("posts", "views", "times it was read");
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, COMMENTS],
        Step::up(|s| {
            s.drop_table_comment("posts");
            s.drop_column_comment("posts", "views");
        }),
    )
    .probes(POSTS_KEPT)
}

/// A view whose query each backend spells its own way (string concatenation).
pub fn create_view_per_backend() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_view_per_backend(
                "post_labels",
                PerBackend {
                    postgres: Some("SELECT id, title || ' (' || status || ')' AS label FROM posts"),
                    mysql: Some("SELECT id, CONCAT(title, ' (', status, ')') AS label FROM posts"),
                    sqlite: Some("SELECT id, title || ' (' || status || ')' AS label FROM posts"),
                },
            );
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM post_labels WHERE label = 'Compilers (published)'",
        after_up: 1,
        after_down: None,
    }])
}

/// A materialized view dropped; `down` makes it again (PostgreSQL only).
pub fn drop_materialized_view() -> Scenario {
    const COUNTS: Step = Step::up(|s| {
        s.create_materialized_view(
            "post_counts",
            "SELECT user_id, COUNT(*) AS posts FROM posts GROUP BY user_id",
        );
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, COUNTS],
        Step::up(|s| {
            s.drop_materialized_view("post_counts");
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
    .probes(POSTS_KEPT)
}

/// The trigger, then the function it called, dropped; `down` makes both again.
pub fn drop_trigger_and_function() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, TOUCH_POSTS],
        Step::up(|s| {
            s.drop_trigger("posts_touch");
            s.drop_function("touch_updated_at");
        }),
    )
    .probes(POSTS_KEPT)
}

/// An extension dropped (PostgreSQL only); `down` enables it again.
pub fn drop_extension() -> Scenario {
    const TRGM: Step = Step::up(|s| {
        s.create_extension("pg_trgm");
    });
    Scenario::new(
        &[BLOG, TRGM],
        Step::up(|s| {
            s.drop_extension("pg_trgm");
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
}

/// The way a change under a view works on every backend: drop the view, change the column,
/// create the view again, in one migration.
pub fn change_column_type_under_view() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, PUBLISHED_POSTS],
        Step::up(|s| {
            s.drop_view("published_posts");
            s.change_column_type("posts", "title", ColumnType::String(300));
            s.create_view(
                "published_posts",
                "SELECT id, title, status FROM posts WHERE status = 'published'",
            );
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM published_posts",
        after_up: 2,
        after_down: Some(2),
    }])
}

/// A table with a stored generated column, computed from two others.
pub fn create_table_generated_columns() -> Scenario {
    Scenario::new(
        &[],
        Step::up(|s| {
            s.create_table("order_lines", |t| {
                t.id();
                t.decimal("price", 10, 2);
                t.integer("quantity");
                t.decimal("total", 14, 2)
                    .generated(col("price").mul(col("quantity")));
            });
        }),
    )
}

/// A stored generated column added to a table that holds rows: the rows get their values.
pub fn add_generated_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column(
                "posts",
                Column::integer("double_views").generated(col("views").mul(2)),
            );
        }),
    )
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE double_views = 20",
        after_up: 1,
        after_down: None,
    }])
}

/// A virtual generated column: computed when read (MySQL/MariaDB and SQLite; PostgreSQL before
/// 18 has none).
pub fn add_virtual_generated_column() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.add_column(
                "posts",
                Column::integer("views_plus_one")
                    .nullable()
                    .generated_virtual(col("views").add(1)),
            );
        }),
    )
    .unsupported_on(&[Backend::Postgres])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM posts WHERE views_plus_one = 11",
        after_up: 1,
        after_down: None,
    }])
}

/// A materialized view filled again after rows changed (PostgreSQL only).
pub fn refresh_materialized_view() -> Scenario {
    const COUNTS: Step = Step::up(|s| {
        s.create_materialized_view(
            "post_counts",
            "SELECT user_id, COUNT(*) AS posts FROM posts GROUP BY user_id",
        );
        s.delete("posts").filter(col("id").eq(2));
    });
    Scenario::new(
        &[BLOG, BLOG_ROWS, COUNTS],
        Step::up(|s| {
            s.refresh_materialized_view("post_counts");
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM post_counts",
        after_up: 1,
        after_down: Some(1),
    }])
}

// ----- PostgreSQL schemas -------------------------------------------------------------------

/// A `billing` schema with an enum, two tables (one referencing `users`) and a view of its own
/// (PostgreSQL only).
const BILLING: Step = Step::up(|s| {
    s.create_schema("billing");
    s.create_enum("billing.invoice_state", ["open", "paid"]);
    s.create_table("billing.customers", |t| {
        t.id();
        t.references("users").on_delete(Cascade);
        t.string("name", 100);
        t.index(["name"]);
    });
    s.create_table("billing.invoices", |t| {
        t.id();
        t.references("billing.customers");
        t.string("number", 20).unique();
        t.integer("amount_cents").default(0);
        t.enumeration("state", "billing.invoice_state");
        t.check("invoices_amount_positive", "amount_cents >= 0");
        t.comment("Invoices sent to customers");
    });
    s.create_view(
        "billing.open_invoices",
        "SELECT id, amount_cents FROM billing.invoices WHERE amount_cents > 0",
    );
});

/// A customer of `billing` with one invoice.
const BILLING_ROWS: Step = Step::up(|s| {
    s.insert("billing.customers", ["user_id", "name"])
        .values([Value::from(1i64), "Ada's shop".into()]);
    s.insert(
        "billing.invoices",
        ["customer_id", "number", "amount_cents", "state"],
    )
    .values([
        Value::from(1i64),
        "INV-1".into(),
        1250.into(),
        "open".into(),
    ]);
});

const INVOICE_KEPT: Probe = Probe {
    sql: "SELECT COUNT(*) FROM billing.invoices WHERE number = 'INV-1' AND amount_cents = 1250",
    after_up: 1,
    after_down: Some(1),
};

/// A schema made, and tables, an enum and a view named in it: `"billing.invoices"`
/// (PostgreSQL only; MySQL/MariaDB and SQLite have no schemas inside a database).
pub fn create_tables_in_schema() -> Scenario {
    Scenario::new(
        BLOG_WITH_ROWS,
        Step::up(|s| {
            s.create_schema("sales");
            s.create_enum("sales.deal_stage", ["lead", "won", "lost"]);
            s.create_table("sales.deals", |t| {
                t.id();
                t.references("users");
                t.string("title", 200).comment("What is being sold");
                t.enumeration("stage", "sales.deal_stage");
                t.integer("value_cents").default(0);
                t.index(["stage"]);
                t.check("deals_value_positive", "value_cents >= 0");
            });
            s.create_view(
                "sales.open_deals",
                "SELECT id, title FROM sales.deals WHERE value_cents > 0",
            );
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM sales.open_deals",
        after_up: 0,
        after_down: None,
    }])
}

/// Columns, indexes, keys, checks, comments, an enum value and a backfill on tables in a
/// schema; a table of the connection's schema referencing one there.
pub fn change_tables_in_schema() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, BILLING, BILLING_ROWS],
        Step::up(|s| {
            s.add_column("billing.invoices", Column::string("note", 200).nullable());
            s.rename_column("billing.invoices", "number", "reference");
            s.change_column_type("billing.customers", "name", ColumnType::String(200));
            s.set_default("billing.invoices", "amount_cents", 100);
            s.add_index("billing.invoices", ["state"]);
            s.rename_index("billing.customers", "idx_customers_name", "customers_by_name");
            s.drop_index("billing.customers", "idx_customers_user_id");
            s.add_check("billing.customers", "customers_name_given", "name <> ''");
            s.add_column("posts", Column::big_integer("invoice_id").nullable());
            s.add_foreign_key("posts", ["invoice_id"], "billing.invoices");
            s.comment_on_column("billing.invoices", "state", "Where the invoice stands");
            s.add_enum_value("billing.invoice_state", "void");
            s.backfill("billing.invoices").set("note", col("reference"));
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
    .probes(&[Probe {
        sql: "SELECT COUNT(*) FROM billing.invoices WHERE reference = 'INV-1' AND amount_cents = 1250",
        after_up: 1,
        after_down: None,
    }])
}

/// A table renamed in its schema, one moved into it, and one moved back out to the
/// connection's schema (whatever it is called), with their rows, keys and indexes.
pub fn rename_and_move_tables_in_schema() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, BILLING, BILLING_ROWS],
        Step::up(|s| {
            s.rename_table("billing.customers", "billing.clients");
            s.rename_table("posts", "billing.posts");
            s.create_table("billing.refunds", |t| {
                t.id();
                t.references("billing.clients");
            });
            s.rename_table("billing.refunds", "refunds");
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
    .probes(&[
        Probe {
            sql: "SELECT COUNT(*) FROM billing.posts",
            after_up: 2,
            after_down: None,
        },
        Probe {
            sql: "SELECT COUNT(*) FROM billing.clients c JOIN billing.posts p ON p.user_id = c.user_id",
            after_up: 1,
            after_down: None,
        },
        INVOICE_KEPT,
    ])
}

/// Everything in a schema dropped, then the schema; `down` makes them again in order.
pub fn drop_tables_in_schema() -> Scenario {
    Scenario::new(
        &[BLOG, BLOG_ROWS, BILLING, BILLING_ROWS],
        Step::up(|s| {
            s.drop_view("billing.open_invoices");
            s.drop_table("billing.invoices");
            s.drop_table("billing.customers");
            s.drop_enum("billing.invoice_state");
            s.drop_schema("billing");
        }),
    )
    .unsupported_on(&[Backend::MySql, Backend::Sqlite])
}
