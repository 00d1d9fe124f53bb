//! The command line, run in-process with registrations made up for each test.

use expect_test::Expect;
use time::macros::datetime;

use super::*;
use crate::prelude::*;
use crate::{ManifestLine, MigrationId, RenderedMigration, Statement};

mod completions;
mod new_command;
mod plan_command;
mod schema_command;
mod sql_command;

struct CreateUsers;
impl Migration for CreateUsers {
    fn up(&self, s: &mut Schema) {
        s.create_table("users", |t| {
            t.id();
            t.string("email", 255).unique();
        });
    }
}

struct CreatePosts;
impl Migration for CreatePosts {
    fn up(&self, s: &mut Schema) {
        s.create_table("posts", |t| {
            t.id();
            t.references_as("author_id", "users");
            t.string("title", 200);
        });
    }
}

struct AddViews;
impl Migration for AddViews {
    fn up(&self, s: &mut Schema) {
        s.add_column("posts", Column::integer("views").default(0));
    }
}

struct Purge;
impl Migration for Purge {
    fn up(&self, s: &mut Schema) {
        s.irreversible("deletes spam posts");
        s.delete("posts").filter(Expr::col("title").eq("spam"));
    }
}

const DIR: &str = "/work/blog";

fn reg(
    file: &'static str,
    type_name: &'static str,
    migration: &'static dyn Migration,
) -> Registration {
    Registration {
        file,
        type_name,
        migration,
    }
}

fn blog() -> Vec<Registration> {
    vec![
        reg(
            "/work/blog/src/migrations/m20261121_080000_add_views.rs",
            "AddViews",
            &AddViews,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090000_create_users.rs",
            "CreateUsers",
            &CreateUsers,
        ),
        reg(
            "/work/blog/src/migrations/m20261120_090500_create_posts.rs",
            "CreatePosts",
            &CreatePosts,
        ),
    ]
}

const FILES: &[&str] = &[
    "/work/blog/src/migrations/m20261120_090000_create_users.rs",
    "/work/blog/src/migrations/m20261120_090500_create_posts.rs",
    "/work/blog/src/migrations/m20261121_080000_add_views.rs",
];

const PROJECT: Project = Project {
    name: "blog-migrations",
    manifest_dir: DIR,
    files: FILES,
};

fn cx<'a>(project: &'a Project, registrations: &'a [Registration]) -> Context<'a> {
    Context {
        project,
        registrations,
        database_url: None,
        cwd: Some("/work".into()),
        now: datetime!(2026-11-22 10:30:05 UTC),
        color: false,
        cache: None,
    }
}

/// Run `args` and give what it printed, or its errors one per line.
fn run_str(cx: &Context<'_>, args: &[&str]) -> String {
    let mut out = Vec::new();
    let args = std::iter::once("blog-migrations").chain(args.iter().copied());
    match run(cx, args, &mut out) {
        Ok(()) => String::from_utf8(out).unwrap(),
        Err(Failure::Usage(e)) => format!("usage ({}): {:?}", e.exit_code(), e.kind()),
        Err(Failure::Errors(errors)) => errors.iter().map(|e| format!("error: {e:#}\n")).collect(),
        Err(Failure::Exit { code, errors }) => errors
            .iter()
            .map(|e| format!("error ({code}): {e:#}\n"))
            .collect(),
    }
}

fn check(cx: &Context<'_>, args: &[&str], expect: Expect) {
    expect.assert_eq(&run_str(cx, args));
}

/// The comment lines of `sql`'s output: what stays true whatever SQL the renderer writes.
fn headers(output: &str) -> String {
    output
        .lines()
        .filter(|l| l.starts_with("--") || l.starts_with("error"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The blog, then `extra` migrations (file stem, type name, migration) in that order.
fn blog_with(extra: &[(&'static str, &'static str, &'static dyn Migration)]) -> Project {
    let mut files = FILES.to_vec();
    for (stem, _, _) in extra {
        files.push(Box::leak(
            format!("/work/blog/src/migrations/{stem}.rs").into_boxed_str(),
        ));
    }
    Project {
        files: Vec::leak(files),
        ..PROJECT
    }
}

fn registrations_with(
    extra: &[(&'static str, &'static str, &'static dyn Migration)],
) -> Vec<Registration> {
    let mut regs = blog();
    for (stem, type_name, migration) in extra {
        let file: &'static str =
            Box::leak(format!("/work/blog/src/migrations/{stem}.rs").into_boxed_str());
        regs.push(reg(file, type_name, *migration));
    }
    regs
}
