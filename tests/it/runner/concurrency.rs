//! Eight deploys migrate one database at the same moment: every migration runs exactly once,
//! every process succeeds, and no lock is left behind.

use std::collections::BTreeMap;
use std::process::Stdio;

use godwit_core::Backend;

use super::{
    ALL, applied, assert_no_lock, fixture, history, on_every_backend, scalar, scratch, text,
};

const PROCESSES: usize = 8;

async fn eight_processes_run_up_at_once(backend: Backend) {
    let mut db = scratch(backend, "concurrent").await;
    let url = db.url();

    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            fixture(&url, &["up", "--json", "--deploy-lock-timeout", "120"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start the fixture binary: {e}"))
        })
        .collect();

    let mut runs: BTreeMap<u64, usize> = BTreeMap::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "a runner failed: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
        for ran in json["ran"].as_array().unwrap() {
            *runs.entry(ran["version"].as_u64().unwrap()).or_default() += 1;
        }
    }
    let once: BTreeMap<u64, usize> = ALL.iter().map(|v| (*v, 1)).collect();
    assert_eq!(
        runs, once,
        "each migration must run exactly once across the processes"
    );
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        applied(&ALL)
    );
    assert_eq!(
        scalar(&mut db.conn, "SELECT count(*) FROM authors").await,
        2
    );

    assert_no_lock(backend, &mut db).await;
    db.conn.close().await;
}

/// A runner that cannot get the lock in time fails with exit code 4, saying who holds it.
async fn a_held_lock_makes_a_second_runner_wait_then_time_out(backend: Backend) {
    let mut db = scratch(backend, "lock_timeout").await;
    let url = db.url();
    // Hold the lock the way a runner does, from this process.
    let holder = godwit::runner::lock::hold(
        &url.parse().unwrap(),
        "godwit_migrations",
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let out = fixture(&url, &["up", "--deploy-lock-timeout", "1"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("waiting for the migration lock, held by "),
        "{stderr}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: timed out after 1s waiting for the migration lock on ")
            && last.contains("raise --deploy-lock-timeout"),
        "{stderr}"
    );
    if backend == Backend::Postgres {
        assert!(
            stderr.contains(&format!("godwit pid {}", std::process::id())),
            "{stderr}"
        );
    }
    assert!(history(&mut db.conn, "godwit_migrations").await.is_empty());
    holder.release().await.unwrap();
    let out = fixture(&url, &["up", "--deploy-lock-timeout", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    db.conn.close().await;
}

on_every_backend!(
    eight_processes_run_up_at_once,
    a_held_lock_makes_a_second_runner_wait_then_time_out,
);
