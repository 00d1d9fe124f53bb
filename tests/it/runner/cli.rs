//! The commands as a deploy script sees them: output, JSON and exit codes.

use godwit_core::Backend;

use super::{
    ALL, V2, V3, V4, V5, applied, exec, fixture, fixture_variant, history, on_every_backend, run,
    scratch, text,
};

async fn status_check_and_json_tell_a_script_what_is_pending(backend: Backend) {
    let mut db = scratch(backend, "cli_status").await;
    let url = db.url();

    let out = run(fixture(&url, &["status", "--check"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: the database is not up to date: 5 pending, 0 half-applied; run `up` (it says how to resolve each)\n"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("(not created yet)"), "{stdout}");
    assert!(
        stdout.ends_with("5 migrations: 0 applied, 5 pending\n"),
        "{stdout}"
    );

    let out = run(fixture(
        &url,
        &["up", "--to", "m20260101_000200_create_books"],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("up   20260101000100 create_authors"),
        "{stdout}"
    );
    assert!(stdout.contains("applied 2 migrations on"), "{stdout}");

    let out = run(fixture(&url, &["status", "--json"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["backend"], backend.as_str());
    if backend == Backend::MySql {
        // The test server's URL has a password: never printed, not even in JSON.
        let database = json["database"].as_str().unwrap();
        assert!(database.starts_with("mysql://godwit:***@"), "{database}");
        assert!(!text(&out.stdout).contains(":godwit@"), "{json}");
    }
    assert_eq!(
        (json["applied"].as_u64(), json["pending"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(json["up_to_date"], false);
    let m = &json["migrations"];
    assert_eq!(m[1]["version"].as_u64(), Some(V2));
    assert_eq!(m[1]["status"], "applied");
    assert!(
        m[1]["applied_at"].as_str().unwrap().ends_with('Z'),
        "{json}"
    );
    assert!(
        m[1]["checksum"].as_str().unwrap().starts_with("v1:"),
        "{json}"
    );
    assert_eq!(m[2]["status"], "pending");
    assert!(m[2]["applied_at"].is_null());

    let out = run(fixture(&url, &["up", "--json"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ran"].as_array().map(Vec::len), Some(3), "{json}");

    let out = run(fixture(&url, &["status", "--check"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        applied(&ALL)
    );

    let out = run(fixture(&url, &["up"]));
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("nothing to apply"),
        "{}",
        text(&out.stdout)
    );
    db.conn.close().await;
}

async fn fresh_refuses_without_yes(backend: Backend) {
    let mut db = scratch(backend, "cli_fresh").await;
    let url = db.url();
    assert!(run(fixture(&url, &["up"])).status.success());
    let out = run(fixture(&url, &["fresh"]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: fresh drops every table and view of "),
        "{stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        applied(&ALL)
    );
    let out = run(fixture(&url, &["fresh", "--yes"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        applied(&ALL)
    );
    db.conn.close().await;
}

/// The migrations a plan's text lists, by the lines that head them.
fn planned(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter(|l| l.starts_with("2026"))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect()
}

async fn plan_lists_what_up_would_run_and_waits_for_a_half_applied_migration(backend: Backend) {
    let db = scratch(backend, "cli_plan").await;
    let url = db.url();
    let v2 = V2.to_string();
    let out = run(fixture(&url, &["up", "--to", &v2]));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = run(fixture(&url, &["plan"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("deploy plan for {backend} at ")),
        "{stdout}"
    );
    assert_eq!(planned(&stdout), [V3, V4, V5], "{stdout}");
    let out = run(fixture(&url, &["plan", "--json"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["backend"], backend.as_str());
    let versions: Vec<u64> = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [V3, V4, V5]);

    // The last migration fails half-way: MariaDB keeps what ran and records it as partial, which
    // the plan must not skip over; elsewhere nothing of it stays, and it is still pending.
    let out = run(fixture_variant(&url, &["up"], "GODWIT_FIXTURE_FAIL"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = run(fixture(&url, &["plan"]));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    if backend == Backend::MySql {
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(
            stderr.starts_with(&format!(
                "error: migration {V5} create_reviews is half-applied: the plan cannot be made \
                 until it is resolved"
            )),
            "{stderr}"
        );
    } else {
        assert!(out.status.success(), "{stderr}");
        assert_eq!(planned(&stdout), [V5], "{stdout}");
    }
}

/// An applied migration edited afterwards and a pending one older than the newest applied:
/// `status` shows both, `status --check` exits 3, `up` exits 6 naming each with its fix, and
/// `repair` records the edit.
async fn history_that_does_not_match_the_code_stops_up(backend: Backend) {
    let mut db = scratch(backend, "cli_integrity").await;
    let url = db.url();
    let out = run(fixture(&url, &["up"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    exec(
        &mut db.conn,
        &format!("UPDATE godwit_migrations SET checksum = 'v1:edited' WHERE version = {V3}"),
    )
    .await;
    exec(
        &mut db.conn,
        &format!("DELETE FROM godwit_migrations WHERE version = {V4}"),
    )
    .await;

    let out = run(fixture(&url, &["status"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("its code changed since it ran")
            && stdout.contains("history v1:edited; see `repair`")
            && stdout.contains("older than the newest applied migration")
            && stdout.ends_with(
                "5 migrations: 3 applied, 0 pending, 1 out of order, 1 changed since applied\n"
            ),
        "{stdout}"
    );
    let out = run(fixture(&url, &["status", "--check"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));

    let out = run(fixture(&url, &["up"]));
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("(2 problem(s))")
            && stderr.contains("changed: 20260101000300 add_pages_to_books differs from what ran")
            && stderr.contains("out of order: 20260101000400 seed_authors is pending but older than 20260101000500 create_reviews"),
        "{stderr}"
    );

    let out = run(fixture(&url, &["repair"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("20260101000300 add_pages_to_books: checksum v1:")
            && stdout.contains("recorded (was v1:edited)")
            && stdout.contains("recorded the current checksum of 1 migration in"),
        "{stdout}"
    );
    let out = run(fixture(&url, &["status", "--json"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["changed"].as_u64(), json["out_of_order"].as_u64()),
        (Some(0), Some(1))
    );
    // The seed's rows are still in the table: applying it again would fail on them, which is
    // what the refusal protects from.
    db.conn.close().await;
}

/// History lost (or a database migrated by another tool): `status` shows everything pending,
/// and says which command records where the database stands.
async fn status_hints_at_baseline_when_the_tables_exist_but_history_is_empty(backend: Backend) {
    let mut db = scratch(backend, "baseline_hint").await;
    let url = db.url();
    assert!(run(fixture(&url, &["up"])).status.success());
    exec(&mut db.conn, "DELETE FROM godwit_migrations").await;
    let out = run(fixture(&url, &["status"]));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("but history records none applied: if another tool migrated it, or its history was lost, record what it has with `baseline --to VERSION`"),
        "{stdout}"
    );
    db.conn.close().await;
}

/// `lint --live` takes the backend from the database it connects to, and reads its tables.
async fn lint_live_reads_the_backend_from_the_database(backend: Backend) {
    let db = scratch(backend, "lint_live").await;
    let url = db.url();
    assert!(run(fixture(&url, &["up"])).status.success());
    let out = run(fixture(&url, &["lint", "--live", "--format", "json"]));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["backend"], backend.as_str(), "{json}");
    assert_eq!(json["unsafe"], 0, "{json}");
    let out = run(fixture(&url, &["lint", "--live", "--backend", "sqlite"]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "--backend conflicts with --live"
    );
    db.conn.close().await;
}

on_every_backend!(
    lint_live_reads_the_backend_from_the_database,
    status_hints_at_baseline_when_the_tables_exist_but_history_is_empty,
    history_that_does_not_match_the_code_stops_up,
    status_check_and_json_tell_a_script_what_is_pending,
    fresh_refuses_without_yes,
    plan_lists_what_up_would_run_and_waits_for_a_half_applied_migration,
);

#[test]
fn help_documents_every_command_and_exit_code() {
    let out = run({
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fixture-migrations"));
        c.arg("--help");
        c
    });
    let help = text(&out.stdout);
    for word in [
        "up", "down", "redo", "status", "plan", "fresh", "sql", "lint", "new",
    ] {
        assert!(help.contains(&format!("\n  {word} ")), "{word}: {help}");
    }
    for code in [
        "0 success",
        "1 error",
        "2 usage error",
        "3 `status --check`",
        "4 another deploy",
        "5 `lint` found an unsafe operation, or `up` refused to run one",
        "130 interrupted",
    ] {
        assert!(help.contains(code), "{code}: {help}");
    }
}
