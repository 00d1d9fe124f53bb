//! Start-up checks of the registrations, and `new`.

use expect_test::expect;

use super::*;

#[test]
fn registry_errors_name_the_files_and_are_all_reported() {
    let regs = vec![
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_users.rs",
            "CreateUsers",
            &CreateUsers,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_users.rs",
            "CreateUsers",
            &CreateUsers,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_posts.rs",
            "CreatePosts",
            &CreatePosts,
        ),
        reg(
            "/work/blog/src/migrations/m20261121_080000_add_views.rs",
            "AddViews",
            &AddViews,
        ),
        reg(
            "/work/blog/src/migrations/m20261121_080000_add_views.rs",
            "Purge",
            &Purge,
        ),
        reg(
            "/work/blog/src/migrations/m20261399_000000_bad_date.rs",
            "Purge",
            &Purge,
        ),
    ];
    let files: &'static [&'static str] = &[
        "/work/blog/src/migrations/m20261120_090000_create_posts.rs",
        "/work/blog/src/migrations/m20261120_090000_create_users.rs",
        "/work/blog/src/migrations/m20261121_080000_add_views.rs",
        "/work/blog/src/migrations/m20261123_000000_forgotten.rs",
    ];
    let project = Project { files, ..PROJECT };
    check(
        &cx(&project, &regs),
        &["sql"],
        expect![[r#"
            error: `blog/src/migrations/m20261120_090000_create_users.rs` (`CreateUsers`) is compiled into the binary twice: declare the migrations once, with `godwit::migrations!();` in src/lib.rs and `godwit::main!();` alone in src/main.rs
            error: `blog/src/migrations/m20261121_080000_add_views.rs` registers two migrations (`AddViews` and `Purge`): keep one `register!` per file and move the other into a file of its own
            error: malformed migration file name: `m20261399_000000_bad_date.rs` has an impossible date or time `20261399_000000`: expected `mYYYYMMDD_HHMMSS_snake_name.rs`, such as `m20261120_090000_create_tags.rs`; rename the file
            error: two migrations have version 20261120090000: `blog/src/migrations/m20261120_090000_create_posts.rs` and `blog/src/migrations/m20261120_090000_create_users.rs`; give one of them a later timestamp in its file name
            error: `blog/src/migrations/m20261123_000000_forgotten.rs` registers no migration: end it with `godwit::register!(TheMigration);`, naming the type that implements `Migration`
        "#]],
    );
}

#[test]
fn no_registration_at_all_points_at_the_migrations_macro() {
    check(
        &cx(&PROJECT, &[]),
        &["sql"],
        expect![[r#"
            error: none of the 3 files in `blog/src/migrations` registered a migration: is `godwit::migrations!();` in src/lib.rs, and does each file end with `godwit::register!(TheMigration);`?
        "#]],
    );
}

#[test]
fn write_migration_ends_statements_and_prints_notes() {
    let m = RenderedMigration {
        id: MigrationId {
            version: 20261120090000,
            name: "index_posts".into(),
        },
        direction: "up",
        statements: vec![
            Statement {
                sql: "CREATE INDEX CONCURRENTLY \"idx\" ON \"posts\" (\"title\")".into(),
                values: sea_query::Values(Vec::new()),
                preview: "CREATE INDEX CONCURRENTLY \"idx\" ON \"posts\" (\"title\")".into(),
                data: None,
            },
            Statement {
                sql: "INSERT INTO \"tags\" (\"name\") VALUES ($1)".into(),
                values: sea_query::Values(vec!["rust".into()]),
                preview: "INSERT INTO \"tags\" (\"name\") VALUES ('rust');\n".into(),
                data: None,
            },
        ],
        transactional: false,
        foreign_keys_off: true,
        warnings: vec!["rolling back drops `posts.views` and its data".into()],
        timeouts: Default::default(),
    };
    let mut out = Vec::new();
    sql::write_migration(&mut out, &m).unwrap();
    expect![[r#"
        -- 20261120090000 index_posts (up)
        -- runs outside a transaction
        -- runs with foreign key checks off (PRAGMA foreign_keys = OFF): it rebuilds a table
        -- warning: rolling back drops `posts.views` and its data
        CREATE INDEX CONCURRENTLY "idx" ON "posts" ("title");
        INSERT INTO "tags" ("name") VALUES ('rust');
    "#]]
    .assert_eq(&String::from_utf8(out).unwrap());
}

#[test]
fn parse_version_accepts_numbers_stamps_and_file_names() {
    let ok = |s| sql::parse_version(s).unwrap().number;
    assert_eq!(ok("20261120090000"), 20261120090000);
    assert_eq!(ok("20261120_090000"), 20261120090000);
    assert_eq!(ok("m20261120_090000_create_tags"), 20261120090000);
    assert_eq!(
        ok("src/migrations/m20261120_090000_create_tags.rs"),
        20261120090000
    );
    assert!(sql::parse_version("create_tags").is_err());
    assert!(sql::parse_version("m2026_create_tags").is_err());
}

#[test]
fn names_come_from_the_description() {
    let names = |d| Names::from_description(d).map(|n| format!("{} {}", n.snake, n.struct_name));
    assert_eq!(
        names("Add tags to posts").unwrap(),
        "add_tags_to_posts AddTagsToPosts"
    );
    assert_eq!(
        names("  add user's e-mail  ").unwrap(),
        "add_users_e_mail AddUsersEMail"
    );
    assert_eq!(
        names("Index posts.published_at").unwrap(),
        "index_posts_published_at IndexPostsPublishedAt"
    );
    assert_eq!(
        names("add 2FA to users").unwrap(),
        "add_2fa_to_users Add2faToUsers"
    );
    assert_eq!(names("self").unwrap(), "self SelfMigration");
    let err = |d| format!("{:#}", Names::from_description(d).unwrap_err());
    expect![
        "the description is empty: say what the migration does, such as `new \"Add tags to posts\"`"
    ]
    .assert_eq(&err("  "));
    expect!["the description `?!` has no letters: say what the migration does, such as `new \"Add tags to posts\"`"]
        .assert_eq(&err("?!"));
    expect!["the description `2fa for users` starts with `2`: it becomes a Rust type name, so start it with a letter, such as `new \"Add 2fa to users\"`"]
        .assert_eq(&err("2fa for users"));
    expect!["the description `Ajouter les catégories` contains `é`: it becomes the file and type name, so write it with ASCII letters, digits and spaces"]
        .assert_eq(&err("Ajouter les catégories"));
    let long = "add a column ".repeat(43);
    expect!["the description makes a file name of 578 characters, longer than the 200 a file system allows: say what the migration does in fewer words (the rest can go in the file's doc comment)"].assert_eq(&err(&long));
    assert!(names(&"x".repeat(180)).is_ok());
}

#[test]
fn new_writes_a_template_named_after_the_description_and_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &'static str = String::leak(tmp.path().to_str().unwrap().to_string());
    let project = Project {
        name: "blog-migrations",
        manifest_dir: dir,
        files: &[],
    };
    let mut cx = cx(&project, &[]);
    cx.cwd = Some(tmp.path().to_path_buf());
    check(
        &cx,
        &["new", "Add tags to posts"],
        expect![[r#"
            created src/migrations/m20261122_103005_add_tags_to_posts.rs (struct AddTagsToPosts); the next build picks it up
            updated `migrations.sum`; once the migration is written, run `check --write` and commit both
        "#]],
    );
    let written = std::fs::read_to_string(
        tmp.path()
            .join("src/migrations/m20261122_103005_add_tags_to_posts.rs"),
    )
    .unwrap();
    expect![[r#"
        //! Add tags to posts.
        //!
        //! Why: say what needs this change, for the reviewers and for whoever has to roll it back.

        use godwit::prelude::*;

        pub struct AddTagsToPosts;

        impl Migration for AddTagsToPosts {
            fn up(&self, s: &mut Schema) {
                // Record the change; for example:
                //
                // s.create_table("tags", |t| {
                //     t.id();
                //     t.string("name", 50).unique();
                //     t.timestamps();
                // });
                // s.add_column("posts", Column::integer("views").default(0));
                let _ = s;
            }

            // Without a `down`, the rollback is derived by reversing `up`.
        }

        godwit::register!(AddTagsToPosts);
    "#]]
    .assert_eq(&written);
}

#[test]
fn new_suggests_archiving_from_a_thousand_migrations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: &'static str = String::leak(tmp.path().to_str().unwrap().to_string());
    let names: Vec<&'static str> = (0..999)
        .map(|n| {
            &*String::leak(format!(
                "{dir}/src/migrations/m20260101_{:02}{:02}{:02}_create_table_{n}.rs",
                n / 3600,
                n / 60 % 60,
                n % 60
            ))
        })
        .collect();
    let project = Project {
        name: "blog-migrations",
        manifest_dir: dir,
        files: Vec::leak(names),
    };
    let mut cx = cx(&project, &[]);
    cx.cwd = Some(tmp.path().to_path_buf());
    let out = run_str(&cx, &["new", "Add tags"]);
    assert!(
        out.contains("the migrations crate holds 1000 migrations, which every build checks again: `godwit archive --through VERSION`"),
        "{out}"
    );
}

#[test]
fn new_refuses_to_overwrite_or_to_reuse_a_version() {
    let tmp = tempfile::tempdir().unwrap();
    let now = datetime!(2026-11-22 10:30:05 UTC);
    let (first, _) = new_migration(tmp.path(), "Add tags", now).unwrap();
    let err = new_migration(tmp.path(), "Add tags", now).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "`{}` already exists: refusing to overwrite it; wait a second and run `new` again",
            first.display()
        )
    );
    let err = new_migration(tmp.path(), "Add views", now).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "`{}` already has version 20261122103005: two migrations cannot share a version; wait a second and run `new` again",
            first.display()
        )
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    // A second later is fine.
    new_migration(tmp.path(), "Add views", datetime!(2026-11-22 10:30:06 UTC)).unwrap();
    // And nothing is written for a bad description.
    assert!(new_migration(tmp.path(), "", now).is_err());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
}

#[test]
fn register_collects_through_inventory() {
    // The migrations registered in this test binary (see `registered` below).
    let regs = crate::registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0].type_name, "registered::Registered");
    assert!(
        regs[0].file.ends_with("src/cli/tests/new_command.rs"),
        "{}",
        regs[0].file
    );
}

mod registered {
    use crate::prelude::*;

    pub struct Registered;
    impl Migration for Registered {
        fn up(&self, _: &mut Schema) {}
    }
}

crate::register!(registered::Registered);

/// Two workspaces sharing a target directory with migrations crates of one name get each
/// other's binary: cargo says which package it runs and where, and the binary refuses another's.
#[test]
fn a_binary_built_for_another_workspace_refuses_to_run() {
    use crate::cli::built_here;
    assert!(built_here(&PROJECT, None, None).is_ok(), "run directly");
    assert!(built_here(&PROJECT, Some("blog-migrations"), Some(DIR)).is_ok());
    assert!(
        built_here(&PROJECT, Some("other-package"), Some("/elsewhere")).is_ok(),
        "cargo runs another package, which runs this binary"
    );
    let err = built_here(&PROJECT, Some("blog-migrations"), Some("/work/other-blog"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("this `blog-migrations` binary was built from `/work/blog`, but cargo runs it for `/work/other-blog`"),
        "{err}"
    );
}
