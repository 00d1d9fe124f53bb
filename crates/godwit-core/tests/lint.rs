//! Every lint rule fires on the unsafe form and stays silent on the safe one, on each backend
//! where it applies, and never elsewhere.

use expect_test::expect;
use godwit_core::prelude::*;
use godwit_core::{Backend, Catalog, Migration, MigrationId};

struct Up(fn(&mut Schema));

impl Migration for Up {
    fn up(&self, s: &mut Schema) {
        (self.0)(s)
    }
}

fn base(s: &mut Schema) {
    s.create_table("users", |t| {
        t.id();
        t.string("email", 100).unique();
        t.string("name", 100).nullable();
    });
    s.create_table("posts", |t| {
        t.id();
        t.references_as("author_id", "users");
        t.string("title", 200);
        t.integer("views").default(0);
    });
}

const VERSION: u64 = 20260102000000;

/// `base` as migration 1, then `up` as migration `version` called `name`.
fn catalog(version: u64, name: &str, up: impl Fn(&mut Schema) + Sync + 'static) -> Catalog {
    let base: &'static dyn Migration = Box::leak(Box::new(Up(base)));
    let under_test: &'static dyn Migration = Box::leak(Box::new(UpWith(Box::new(up))));
    Catalog::new([
        (
            MigrationId {
                version: 1,
                name: "base".into(),
            },
            base,
        ),
        (
            MigrationId {
                version,
                name: name.into(),
            },
            under_test,
        ),
    ])
}

struct UpWith(Box<dyn Fn(&mut Schema) + Sync>);

impl Migration for UpWith {
    fn up(&self, s: &mut Schema) {
        (self.0)(s)
    }
}

fn lint(backend: Backend, up: impl Fn(&mut Schema) + Sync + 'static) -> Vec<godwit_core::Finding> {
    catalog(VERSION, "under_test", up)
        .lint(backend, Some(&[VERSION]))
        .expect("the migrations are valid")
}

struct Case {
    rule: Rule,
    unsafe_form: fn(&mut Schema),
    safe_form: fn(&mut Schema),
}

const CASES: &[Case] = &[
    Case {
        rule: Rule::IndexNotConcurrent,
        unsafe_form: |s| {
            s.add_index("posts", ["title"]);
        },
        safe_form: |s| {
            s.add_index("posts", ["title"]).concurrently();
        },
    },
    Case {
        rule: Rule::ConcurrentIndexWithOtherChanges,
        unsafe_form: |s| {
            s.add_index("posts", ["title"]).concurrently();
            s.add_column("posts", Column::text("summary").nullable());
        },
        safe_form: |s| {
            s.add_index("posts", ["title"]).concurrently();
        },
    },
    Case {
        rule: Rule::ForeignKeyNotValid,
        unsafe_form: |s| {
            s.add_foreign_key("posts", ["author_id"], "users")
                .name("fk_posts_author_2");
        },
        safe_form: |s| {
            s.add_foreign_key("posts", ["author_id"], "users")
                .name("fk_posts_author_2")
                .not_valid();
        },
    },
    Case {
        rule: Rule::CheckNotValid,
        unsafe_form: |s| {
            s.add_check("posts", "ck_posts_views", "views >= 0");
        },
        safe_form: |s| {
            s.add_check("posts", "ck_posts_views", "views >= 0")
                .not_valid();
        },
    },
    Case {
        rule: Rule::SetNotNull,
        unsafe_form: |s| s.set_not_null("users", "name"),
        safe_form: |s| {
            s.add_check("users", "ck_users_name_not_null", "name IS NOT NULL")
                .not_valid();
        },
    },
    Case {
        rule: Rule::TypeChangeRewrite,
        unsafe_form: |s| s.change_column_type("posts", "views", ColumnType::BigInt),
        safe_form: |s| s.change_column_type("posts", "title", ColumnType::String(300)),
    },
    Case {
        rule: Rule::GeneratedColumnRewrite,
        unsafe_form: |s| {
            s.add_column(
                "posts",
                Column::integer("double_views").generated(col("views").mul(2)),
            )
        },
        safe_form: |s| s.add_column("posts", Column::integer("double_views").nullable()),
    },
    Case {
        rule: Rule::VolatileDefault,
        unsafe_form: |s| {
            s.add_column(
                "posts",
                Column::uuid("token").default(Sql("gen_random_uuid()")),
            )
        },
        safe_form: |s| {
            s.add_column(
                "posts",
                Column::timestamp_tz("seen_at").default(CurrentTimestamp),
            )
        },
    },
    Case {
        rule: Rule::UniqueConstraint,
        unsafe_form: |s| {
            s.add_unique("posts", ["title"]);
        },
        safe_form: |s| {
            s.add_index("posts", ["title"]).unique().concurrently();
        },
    },
    Case {
        rule: Rule::Json,
        unsafe_form: |s| {
            s.sql("ALTER TABLE posts ADD COLUMN meta json")
                .down("ALTER TABLE posts DROP COLUMN meta");
        },
        safe_form: |s| {
            s.sql("ALTER TABLE posts ADD COLUMN meta jsonb")
                .down("ALTER TABLE posts DROP COLUMN meta");
        },
    },
    Case {
        rule: Rule::MysqlOnlineDdl,
        unsafe_form: |s| s.add_column("posts", Column::text("summary").nullable()),
        safe_form: |s| {
            s.add_column("posts", Column::text("summary").nullable());
            s.mysql_online(Algorithm::Instant, Lock::None);
        },
    },
    Case {
        rule: Rule::MysqlTypeChange,
        unsafe_form: |s| s.change_column_type("posts", "views", ColumnType::BigInt),
        safe_form: |s| s.change_column_type("posts", "title", ColumnType::String(250)),
    },
    Case {
        rule: Rule::MysqlForeignKey,
        unsafe_form: |s| {
            s.add_foreign_key("posts", ["author_id"], "users")
                .name("fk_posts_author_2");
        },
        safe_form: |s| {
            s.create_table("likes", |t| {
                t.id();
                t.references("posts");
            });
        },
    },
    Case {
        rule: Rule::RenameColumn,
        unsafe_form: |s| s.rename_column("posts", "title", "headline"),
        safe_form: |s| {
            s.create_table("drafts", |t| {
                t.id();
                t.string("title", 200);
            });
            s.rename_column("drafts", "title", "headline");
        },
    },
    Case {
        rule: Rule::RenameTable,
        unsafe_form: |s| s.rename_table("posts", "articles"),
        safe_form: |s| {
            s.create_table("drafts", |t| {
                t.id();
            });
            s.rename_table("drafts", "sketches");
        },
    },
    Case {
        rule: Rule::DropColumn,
        unsafe_form: |s| s.drop_column("posts", "views"),
        safe_form: |s| {
            s.drop_column("posts", "views");
            s.allow(Rule::DropColumn, "nothing reads views since release 41");
        },
    },
    Case {
        rule: Rule::DropTable,
        unsafe_form: |s| s.drop_table("posts"),
        safe_form: |s| {
            s.create_table("scratch", |t| {
                t.id();
            });
            s.drop_table("scratch");
        },
    },
    Case {
        rule: Rule::DataInSchemaMigration,
        unsafe_form: |s| {
            s.add_column("posts", Column::text("summary").nullable());
            s.update("posts").set("views", 0);
        },
        safe_form: |s| {
            s.update("posts").set("views", 0);
        },
    },
    Case {
        rule: Rule::RawSql,
        unsafe_form: |s| {
            s.sql("CREATE INDEX idx_posts_title ON posts (title)")
                .down("DROP INDEX idx_posts_title");
        },
        safe_form: |s| {
            s.add_index("posts", ["title"]).concurrently();
        },
    },
    Case {
        rule: Rule::ValidateInSameMigration,
        unsafe_form: |s| {
            s.add_check("posts", "ck_posts_views", col("views").gte(0))
                .not_valid();
            s.validate_constraint("posts", "ck_posts_views");
        },
        safe_form: |s| {
            s.add_check("posts", "ck_posts_views", col("views").gte(0))
                .not_valid();
        },
    },
    Case {
        rule: Rule::ColumnReadByView,
        unsafe_form: |s| {
            s.sql("CREATE VIEW popular AS SELECT id, views FROM posts")
                .creates_view("popular", ["posts"]);
            s.drop_column("posts", "views");
        },
        safe_form: |s| {
            s.sql("CREATE VIEW popular AS SELECT id, views FROM posts")
                .creates_view("popular", ["posts"]);
            s.sql("DROP VIEW popular").drops_view("popular");
            s.drop_column("posts", "views");
            s.sql("CREATE VIEW popular AS SELECT id FROM posts")
                .creates_view("popular", ["posts"]);
        },
    },
    Case {
        rule: Rule::DropIndexNotConcurrent,
        unsafe_form: |s| {
            s.drop_index("posts", "idx_posts_author_id");
        },
        safe_form: |s| {
            s.drop_index("posts", "idx_posts_author_id").concurrently();
        },
    },
    Case {
        rule: Rule::MysqlCheck,
        unsafe_form: |s| {
            s.add_check("posts", "ck_views", col("views").gte(0))
                .not_valid();
            s.mysql_online(Algorithm::Inplace, Lock::None);
        },
        safe_form: |s| {
            s.create_table("votes", |t| {
                t.id();
                t.integer("weight").check(col("weight").gte(0));
            });
        },
    },
    Case {
        rule: Rule::DropNotNull,
        unsafe_form: |s| {
            s.drop_not_null("posts", "title");
        },
        safe_form: |s| {
            s.drop_not_null("posts", "title");
            s.allow(
                Rule::DropNotNull,
                "every reader handles NULL since release 41",
            );
        },
    },
    Case {
        rule: Rule::WideIndex,
        unsafe_form: |s| {
            s.add_index("posts", ["author_id", "title", "views", "id"]);
        },
        safe_form: |s| {
            s.add_index("posts", ["author_id", "title", "views", "id"])
                .unique();
        },
    },
];

fn fires(findings: &[godwit_core::Finding], rule: Rule) -> bool {
    findings
        .iter()
        .any(|f| f.rule == rule && f.allowed.is_none())
}

#[test]
fn every_rule_has_a_case() {
    for rule in Rule::ALL {
        // It fires only when connected: see postgres_14_0_to_14_3_refuse_concurrent_index_builds.
        if rule == Rule::ConcurrentIndexCorruption || rule.is_style() {
            continue;
        }
        assert!(CASES.iter().any(|c| c.rule == rule), "no case for {rule}");
    }
}

#[test]
fn rules_fire_on_the_unsafe_form_only_where_they_apply() {
    for case in CASES {
        for backend in Backend::ALL {
            let applies = case.rule.backends().contains(&backend);
            let unsafe_findings = lint(backend, case.unsafe_form);
            assert_eq!(
                fires(&unsafe_findings, case.rule),
                applies,
                "{} on the unsafe form, {backend}: {unsafe_findings:#?}",
                case.rule
            );
            let safe_findings = lint(backend, case.safe_form);
            assert!(
                !fires(&safe_findings, case.rule),
                "{} on the safe form, {backend}: {safe_findings:#?}",
                case.rule
            );
        }
    }
}

#[test]
fn a_finding_says_the_risk_and_the_safe_way() {
    let findings = lint(Backend::Postgres, |s| s.set_not_null("users", "name"));
    let text: String = findings.iter().map(|f| f.to_string()).collect();
    expect![[r#"
        unsafe[set-not-null]: migration 20260102000000 under_test, operation #1 set_not_null("users", "name") (PostgreSQL)
          risk: `SET NOT NULL` scans all of `users` while holding an exclusive lock
          safe:
            // migration 1:
            s.add_check("users", "ck_users_name_not_null", col("name").is_not_null()).not_valid();
            // migration 2:
            s.validate_constraint("users", "ck_users_name_not_null");
            // migration 3 (PostgreSQL 12+ uses the valid check instead of scanning):
            s.set_not_null("users", "name");
            s.drop_check("users", "ck_users_name_not_null");
          or, if it is safe here: s.allow(Rule::SetNotNull, "why");
    "#]].assert_eq(&text);
}

#[test]
fn an_allowed_operation_shows_its_reason() {
    let findings = lint(Backend::Sqlite, |s| {
        s.drop_column("posts", "views");
        s.allow(Rule::DropColumn, "nothing reads views since release 41");
    });
    let text: String = findings.iter().map(|f| f.to_string()).collect();
    expect![[r#"
        allowed[drop-column]: migration 20260102000000 under_test, operation #1 drop_column("posts", "views") (SQLite)
          risk: code that still reads `posts.views` fails as soon as it is gone, and its values are lost
          reason: nothing reads views since release 41
    "#]].assert_eq(&text);
}

#[test]
fn allow_needs_an_operation_and_a_reason() {
    let catalog = catalog(2, "early_allow", |s| {
        s.allow(Rule::DropTable, "early");
    });
    let err = catalog.render_up(Backend::Postgres, None).unwrap_err();
    expect!["migration 2 early_allow: allow(Rule::DropTable, ..) comes before any operation: write it right after the operation it allows"].assert_eq(&err.to_string());
}

#[test]
fn mysql_online_options_are_written_on_every_alter() {
    let catalog = catalog(2, "online", |s| {
        s.add_column("posts", Column::text("summary").nullable());
        s.add_index("posts", ["title"]);
        s.mysql_online(Algorithm::Inplace, Lock::None);
    });
    let sql: String = catalog.render_up(Backend::MySql, Some(&[2])).unwrap()[0]
        .statements
        .iter()
        .map(|s| format!("{};\n", s.preview))
        .collect();
    expect![[r#"
        ALTER TABLE `posts` ADD COLUMN `summary` text NULL, ALGORITHM=INPLACE, LOCK=NONE;
        CREATE INDEX `idx_posts_title` ON `posts` (`title`) ALGORITHM=INPLACE LOCK=NONE;
    "#]]
    .assert_eq(&sql);
}

#[test]
fn volatility_is_read_from_the_calls_in_the_default() {
    let volatile = |default: &'static str| {
        let findings = lint(Backend::Postgres, move |s: &mut Schema| {
            s.add_column("posts", Column::uuid("token").default(Sql(default)));
        });
        fires(&findings, Rule::VolatileDefault)
    };
    for default in [
        "gen_random_uuid ()",
        "GEN_RANDOM_UUID()",
        "public.uuid_generate_v1()",
        "\"my_uuid\"()",
        "md5(random()::text)::uuid",
        "app.next_token()",
        "nextval('posts_token_seq')",
    ] {
        assert!(volatile(default), "{default} is volatile");
    }
    for default in [
        "'00000000-0000-0000-0000-000000000000'",
        "'random()'::uuid",
        "md5('x')::uuid",
        "now()",
        "CURRENT_TIMESTAMP",
        "COALESCE(NULL, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')",
    ] {
        assert!(!volatile(default), "{default} is not volatile");
    }
}

#[test]
fn a_valid_not_null_check_spares_the_scan() {
    let findings = lint(Backend::Postgres, |s| {
        s.add_check("users", "ck_name", col("name").is_not_null())
            .not_valid();
        s.validate_constraint("users", "ck_name");
        s.set_not_null("users", "name");
    });
    assert!(!fires(&findings, Rule::SetNotNull), "{findings:#?}");
    let findings = lint(Backend::Postgres, |s| {
        s.add_check("users", "ck_name", "name IS NOT NULL")
            .not_valid();
        s.set_not_null("users", "name");
    });
    assert!(
        fires(&findings, Rule::SetNotNull),
        "not valid yet: {findings:#?}"
    );
    let findings = lint(Backend::Postgres, |s| {
        s.add_check("users", "ck_email", "email IS NOT NULL");
        s.set_not_null("users", "name");
    });
    assert!(
        fires(&findings, Rule::SetNotNull),
        "another column: {findings:#?}"
    );
}

#[test]
fn fixes_print_the_values_of_this_migration() {
    let text = |backend, up: fn(&mut Schema)| -> String {
        lint(backend, up).iter().map(|f| f.to_string()).collect()
    };
    expect![[r#"
        unsafe[type-change-rewrite]: migration 20260102000000 under_test, operation #1 change_column_type("posts", "views", decimal(12, 2)) (PostgreSQL)
          risk: changing `posts.views` from integer to decimal(12, 2) rewrites the table under an exclusive lock
          safe:
            s.add_column("posts", Column::of("views_new", ColumnType::Decimal(12, 2)).nullable());
            s.backfill("posts").set("views_new", col("views"));
            // then: code writes both and reads "views_new"; drop "views" in a later migration
          or, if it is safe here: s.allow(Rule::TypeChangeRewrite, "why");
        unsafe[check-not-valid]: migration 20260102000000 under_test, operation #2 add_check("posts", "ck_views") (PostgreSQL)
          risk: adding `ck_views` checks every row of `posts` while blocking writes
          safe:
            // migration 1:
            s.add_check("posts", "ck_views", "views >= 0").not_valid();
            // migration 2:
            s.validate_constraint("posts", "ck_views");
          or, if it is safe here: s.allow(Rule::CheckNotValid, "why");
    "#]].assert_eq(&text(Backend::Postgres, |s| {
        s.change_column_type("posts", "views", ColumnType::Decimal(12, 2));
        s.add_check("posts", "ck_views", col("views").gte(0));
    }));
    expect![[r#"
        unsafe[mysql-check]: migration 20260102000000 under_test, operation #1 add_check("posts", "ck_views") (MySQL/MariaDB)
          risk: adding `ck_views` copies `posts` (MySQL/MariaDB check constraints have no online way, and no NOT VALID) while writes wait
          safe:
            // declare the check with the table, while it is empty (t.check(..)),
            // or allow it with a reason once you have measured the copy on a copy of production
          or, if it is safe here: s.allow(Rule::MysqlCheck, "why");
        unsafe[mysql-foreign-key]: migration 20260102000000 under_test, operation #2 add_foreign_key("users", ["id"] -> "posts") named "fk_users_id" (MySQL/MariaDB)
          risk: adding `fk_users_id` copies `users` and checks every row while holding a lock on both tables
          safe:
            // declare the key with the table, while it is empty (t.references(..)),
            // or allow it with a reason once you have measured it on a copy of production
          or, if it is safe here: s.allow(Rule::MysqlForeignKey, "why");
    "#]].assert_eq(&text(Backend::MySql, |s| {
        s.add_check("posts", "ck_views", col("views").gte(0))
            .not_valid();
        s.add_foreign_key("users", ["id"], "posts");
    }));
}

#[test]
fn mysql_refuses_online_checks_and_foreign_keys_and_so_does_lint() {
    for (name, up) in [
        (
            "online_check",
            (|s| {
                s.add_check("posts", "ck_views", col("views").gte(0));
                s.mysql_online(Algorithm::Inplace, Lock::None);
            }) as fn(&mut Schema),
        ),
        ("online_key", |s| {
            s.add_foreign_key("users", ["id"], "posts");
            s.allow(Rule::MysqlForeignKey, "users has ten rows");
            s.mysql_online(Algorithm::Instant, Lock::None);
        }),
    ] {
        let catalog = catalog(2, name, up);
        // `lint` renders the migrations first, as `up` does.
        let err = catalog.render_up(Backend::MySql, Some(&[2])).unwrap_err();
        assert!(
            err.to_string().contains("Try ALGORITHM=COPY"),
            "{name}: {err}"
        );
        assert!(
            catalog.render_up(Backend::Postgres, Some(&[2])).is_ok(),
            "{name}"
        );
    }
}

fn lint_live(
    backend: Backend,
    up: fn(&mut Schema),
    live: &godwit_core::LiveContext,
) -> Vec<godwit_core::Finding> {
    catalog(VERSION, "under_test", up)
        .lint_live(backend, Some(&[VERSION]), Some(live))
        .expect("the migrations are valid")
}

fn live(
    posts_rows: u64,
    posts_bytes: u64,
    postgres_version: Option<u32>,
) -> godwit_core::LiveContext {
    let mut live = godwit_core::LiveContext {
        postgres_version,
        ..Default::default()
    };
    live.sizes.insert(
        "posts".into(),
        godwit_core::TableSize {
            rows: posts_rows,
            bytes: posts_bytes,
        },
    );
    live
}

#[test]
fn a_blocking_change_on_a_small_table_is_a_note_and_a_large_one_says_how_long() {
    let up: fn(&mut Schema) = |s| {
        s.add_index("posts", ["title"]);
        s.rename_column("posts", "title", "headline");
    };
    let small = lint_live(Backend::Postgres, up, &live(9_999, 2_000_000, Some(150004)));
    let text: String = small.iter().map(|f| f.to_string()).collect();
    expect![[r#"
        note[index-not-concurrent]: migration 20260102000000 under_test, operation #1 add_index("posts", ["title"]) named "idx_posts_title" (PostgreSQL)
          risk: building `idx_posts_title` blocks writes to `posts` until it is done
          table: `posts` has 9,999 rows, 1.9 MB
          note: `posts` is small (under 10,000 rows): the change holds its lock for a moment
        unsafe[rename-column]: migration 20260102000000 under_test, operation #2 rename_column("posts", "title", "headline") (PostgreSQL)
          risk: code that runs during the deploy still uses `posts.title`, which no longer exists
          table: `posts` has 9,999 rows, 1.9 MB
          safe:
            // expand and contract:
            s.add_column("posts", Column::of("headline", ColumnType::String(200)).nullable());
            s.backfill("posts").set("headline", col("title"));
            // then: code writes both and reads "headline"; drop "title" in a later migration
          or, if it is safe here: s.allow(Rule::RenameColumn, "why");
    "#]].assert_eq(&text);
    assert!(!small[0].is_unsafe() && small[1].is_unsafe(), "{small:#?}");

    let large = lint_live(
        Backend::Postgres,
        up,
        &live(48_000_000, 12 * 1024 * 1024 * 1024, Some(150004)),
    );
    let text: String = large.iter().take(1).map(|f| f.to_string()).collect();
    expect![[r#"
        unsafe[index-not-concurrent]: migration 20260102000000 under_test, operation #1 add_index("posts", ["title"]) named "idx_posts_title" (PostgreSQL)
          risk: building `idx_posts_title` blocks writes to `posts` until it is done
          table: `posts` has 48,000,000 rows, 12 GB; the lock lasts roughly 3 min (reading 100 MB per second: measure on a copy)
          safe:
            // in a migration of its own:
            s.add_index("posts", ["title"]).concurrently();
          or, if it is safe here: s.allow(Rule::IndexNotConcurrent, "why");
    "#]].assert_eq(&text);
    assert!(large.iter().all(|f| f.is_unsafe()));
}

#[test]
fn postgres_14_0_to_14_3_refuse_concurrent_index_builds() {
    let up: fn(&mut Schema) = |s| {
        s.add_index("posts", ["title"]).concurrently();
    };
    for (version, expected) in [
        (140003, true),
        (140000, true),
        (140004, false),
        (130011, false),
    ] {
        let findings = lint_live(
            Backend::Postgres,
            up,
            &live(100_000, 1 << 30, Some(version)),
        );
        assert_eq!(
            fires(&findings, Rule::ConcurrentIndexCorruption),
            expected,
            "{version}: {findings:#?}"
        );
    }
    assert!(!fires(
        &lint(Backend::Postgres, up),
        Rule::ConcurrentIndexCorruption
    ));
}

#[test]
fn style_rules_fire_only_when_asked_and_never_refuse() {
    let up: fn(&mut Schema) = |s| {
        s.create_table("events", |t| {
            t.integer("id");
            t.primary_key(["id"]);
            t.string("kind", 20);
            t.timestamp("at");
        });
        s.sql("CREATE TABLE codes (code char(3) PRIMARY KEY, label varchar(20))")
            .down("DROP TABLE codes");
        s.allow(Rule::RawSql, "a lookup table");
    };
    let catalog = |up: fn(&mut Schema)| catalog(2, "styled", up);
    let plain = catalog(up).lint(Backend::Postgres, Some(&[2])).unwrap();
    assert!(plain.iter().all(|f| !f.rule.is_style()), "{plain:#?}");
    let styled = catalog(up)
        .lint_with(Backend::Postgres, Some(&[2]), None, true)
        .unwrap();
    let rules: Vec<Rule> = styled.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [
            Rule::PreferBigintKeys,
            Rule::PreferText,
            Rule::PreferTimestamptz,
            Rule::NoCharN,
            Rule::RawSql
        ],
        "{styled:#?}"
    );
    assert!(styled.iter().all(|f| !f.is_unsafe()), "{styled:#?}");
    let text: String = styled.iter().take(2).map(|f| f.to_string()).collect();
    expect![[r#"
        style[prefer-bigint-keys]: migration 2 styled, operation #1 create_table("events") (PostgreSQL)
          risk: `events.id` is a key of type integer: it runs out of values far sooner than bigint, and widening it later rewrites the table
          safe:
            // a bigint key: t.id(), t.references(..), or
            Column::big_integer("id")
          or, if it is safe here: s.allow(Rule::PreferBigintKeys, "why");
        style[prefer-text]: migration 2 styled, operation #1 create_table("events") (PostgreSQL)
          risk: `events.kind` is varchar(20): PostgreSQL stores text either way, and changing the limit later takes a lock
          safe:
            Column::text("kind")
            // and, to keep the limit, a check that can change without a rewrite:
            s.add_check("events", "ck_events_kind_length", "char_length(kind) <= 20");
          or, if it is safe here: s.allow(Rule::PreferText, "why");
    "#]].assert_eq(&text);
    // MySQL: only the keys; SQLite: none.
    let mysql: Vec<Rule> = catalog(up)
        .lint_with(Backend::MySql, Some(&[2]), None, true)
        .unwrap()
        .iter()
        .map(|f| f.rule)
        .filter(|r| r.is_style())
        .collect();
    assert_eq!(mysql, [Rule::PreferBigintKeys]);
    let sqlite = catalog(up)
        .lint_with(Backend::Sqlite, Some(&[2]), None, true)
        .unwrap();
    assert!(sqlite.iter().all(|f| !f.rule.is_style()));
}
