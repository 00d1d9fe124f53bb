//! History against the code: an applied migration edited afterwards (changed), deleted
//! (missing), or a pending one older than the newest applied (out of order) is shown by
//! `status`, refused by `up`, allowed by its flag; `repair` records a reviewed edit.

use godwit::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use godwit::runner::{Cache, Error, Runner, State, Up};
use godwit_core::{Backend, MigrationId};

use super::{history, on_every_backend, scratch};
use crate::live::db::Conn;

const V1: u64 = 20260401000100;
const V2: u64 = 20260401000200;
const V3: u64 = 20260401000300;

struct CreateAccounts;
impl Migration for CreateAccounts {
    fn up(&self, s: &mut Schema) {
        s.create_table("accounts", |t| {
            t.id();
            t.string("name", 50);
        });
    }
}

/// `create_accounts` edited after it ran: the name is longer now.
struct CreateAccountsEdited;
impl Migration for CreateAccountsEdited {
    fn up(&self, s: &mut Schema) {
        s.create_table("accounts", |t| {
            t.id();
            t.string("name", 80);
        });
    }
}

struct CreateTags;
impl Migration for CreateTags {
    fn up(&self, s: &mut Schema) {
        s.create_table("tags", |t| {
            t.id();
        });
    }
}

struct CreateLabels;
impl Migration for CreateLabels {
    fn up(&self, s: &mut Schema) {
        s.create_table("labels", |t| {
            t.id();
        });
    }
}

static ACCOUNTS: CreateAccounts = CreateAccounts;
static ACCOUNTS_EDITED: CreateAccountsEdited = CreateAccountsEdited;
static TAGS: CreateTags = CreateTags;
static LABELS: CreateLabels = CreateLabels;

fn runner(url: &str, migrations: &[(u64, &str, &'static dyn Migration)]) -> Runner {
    let url = url.parse().unwrap_or_else(|e| panic!("{e}"));
    let migrations: Vec<(MigrationId, &'static dyn Migration)> = migrations
        .iter()
        .map(|(version, name, m)| {
            (
                MigrationId {
                    version: *version,
                    name: name.to_string(),
                },
                *m,
            )
        })
        .collect();
    Runner::new(url, migrations)
}

async fn states(runner: &Runner) -> Vec<(u64, State)> {
    let status = runner.status().await.unwrap();
    status
        .migrations
        .iter()
        .map(|m| (m.version, m.state))
        .collect()
}

fn refused(error: Error, what: &str, fix: &str) {
    let message = error.to_string();
    assert!(
        matches!(error, Error::History { count: 1, .. }),
        "expected one history problem: {message}"
    );
    assert!(
        message.contains(what) && message.contains(fix),
        "the refusal must name `{what}` and the fix `{fix}`: {message}"
    );
}

async fn an_edited_applied_migration_is_refused_until_repaired(backend: Backend) {
    let mut db = scratch(backend, "changed").await;
    let url = db.url();
    runner(&url, &[(V1, "create_accounts", &ACCOUNTS)])
        .up(&Up::default())
        .await
        .unwrap();

    let edited = runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS_EDITED),
            (V2, "create_tags", &TAGS),
        ],
    );
    assert_eq!(
        states(&edited).await,
        vec![(V1, State::Changed), (V2, State::Pending)]
    );
    let status = edited.status().await.unwrap();
    let row = status.migrations[0].row.clone().unwrap();
    assert_ne!(Some(row.checksum), status.migrations[0].current_checksum);
    assert!(!status.is_up_to_date());

    let error = edited.up(&Up::default()).await.unwrap_err();
    refused(error, "changed: 20260401000100 create_accounts", "`repair`");
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![(V1, "applied".into())],
        "nothing runs"
    );
    // A dry run refuses the same way.
    let error = edited.up(&Up::default().dry_run(true)).await.unwrap_err();
    refused(error, "changed:", "--allow-changed");

    let repaired = edited.repair().await.unwrap();
    assert_eq!(repaired.len(), 1);
    assert_eq!(repaired[0].id.version, V1);
    assert_eq!(
        states(&edited).await,
        vec![(V1, State::Applied), (V2, State::Pending)]
    );
    edited.up(&Up::default()).await.unwrap();
    assert!(edited.status().await.unwrap().is_up_to_date());
    assert!(
        edited.repair().await.unwrap().is_empty(),
        "nothing left to repair"
    );

    // `--allow-changed` runs over an edit without recording it.
    let edited_again = runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V2, "create_tags", &TAGS),
            (V3, "create_labels", &LABELS),
        ],
    );
    edited_again
        .up(&Up::default().allow_changed(true))
        .await
        .unwrap();
    assert_eq!(states(&edited_again).await[0], (V1, State::Changed));
    db.conn.close().await;
}

async fn a_deleted_applied_migration_is_refused(backend: Backend) {
    let mut db = scratch(backend, "missing").await;
    let url = db.url();
    runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V2, "create_tags", &TAGS),
        ],
    )
    .up(&Up::default())
    .await
    .unwrap();

    let without = runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V3, "create_labels", &LABELS),
        ],
    );
    assert_eq!(
        states(&without).await,
        vec![
            (V1, State::Applied),
            (V2, State::Missing),
            (V3, State::Pending)
        ]
    );
    let error = without.up(&Up::default()).await.unwrap_err();
    refused(
        error,
        "missing: 20260401000200 create_tags",
        "--allow-missing",
    );
    without
        .up(&Up::default().allow_missing(true))
        .await
        .unwrap();
    assert_eq!(
        history(&mut db.conn, "godwit_migrations").await,
        vec![
            (V1, "applied".into()),
            (V2, "applied".into()),
            (V3, "applied".into())
        ]
    );
    db.conn.close().await;
}

async fn an_out_of_order_migration_is_refused_then_allowed(backend: Backend) {
    let db = scratch(backend, "out_of_order").await;
    let url = db.url();
    runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V3, "create_labels", &LABELS),
        ],
    )
    .up(&Up::default())
    .await
    .unwrap();

    // A branch merged late brings V2.
    let merged = runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V2, "create_tags", &TAGS),
            (V3, "create_labels", &LABELS),
        ],
    );
    assert_eq!(
        states(&merged).await,
        vec![
            (V1, State::Applied),
            (V2, State::OutOfOrder),
            (V3, State::Applied)
        ]
    );
    let error = merged.up(&Up::default()).await.unwrap_err();
    refused(
        error,
        "out of order: 20260401000200 create_tags",
        "--allow-out-of-order",
    );
    let report = merged
        .up(&Up::default().allow_out_of_order(true))
        .await
        .unwrap();
    assert_eq!(report.ran.len(), 1);
    assert_eq!(report.ran[0].id.version, V2);
    assert!(merged.status().await.unwrap().is_up_to_date());
    db.conn.close().await;
}

/// `create_tags` made raw SQL with no text for any backend: it cannot render anywhere.
struct CreateTagsUnrenderable;
impl Migration for CreateTagsUnrenderable {
    fn up(&self, s: &mut Schema) {
        s.sql_per_backend(PerBackend::default())
            .down_per_backend(PerBackend::default());
    }
}
static TAGS_UNRENDERABLE: CreateTagsUnrenderable = CreateTagsUnrenderable;

/// With nothing pending, `up` refuses a changed migration as it does when something is: a
/// deploy does not report success over history that disagrees with the code.
async fn an_edited_applied_migration_is_refused_with_nothing_pending(backend: Backend) {
    let db = scratch(backend, "changed_no_pending").await;
    let url = db.url();
    runner(&url, &[(V1, "create_accounts", &ACCOUNTS)])
        .up(&Up::default())
        .await
        .unwrap();
    let edited = runner(&url, &[(V1, "create_accounts", &ACCOUNTS_EDITED)]);
    let error = edited.up(&Up::default()).await.unwrap_err();
    refused(error, "changed: 20260401000100 create_accounts", "`repair`");
    edited.up(&Up::default().allow_changed(true)).await.unwrap();
    db.conn.close().await;
}

/// An applied migration that no longer renders is shown as such; the others are still
/// compared (one that does not render used to switch the comparison off for all), and `up`
/// refuses.
async fn an_applied_migration_that_no_longer_renders_is_shown_and_refused(backend: Backend) {
    let db = scratch(backend, "unrenderable").await;
    let url = db.url();
    runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V2, "create_tags", &TAGS),
        ],
    )
    .up(&Up::default())
    .await
    .unwrap();
    let broken = runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS_EDITED),
            (V2, "create_tags", &TAGS_UNRENDERABLE),
        ],
    );
    assert_eq!(
        states(&broken).await,
        vec![(V1, State::Changed), (V2, State::Unrenderable)]
    );
    let status = broken.status().await.unwrap();
    let reason = status.migrations[1].render_error.clone().unwrap();
    assert!(reason.contains("has no text for this backend"), "{reason}");
    let error = broken.up(&Up::default()).await.unwrap_err().to_string();
    assert!(
        error.contains("changed: 20260401000100 create_accounts")
            && error.contains("cannot render: applied migration 20260401000200"),
        "{error}"
    );
    db.conn.close().await;
}

/// `create_accounts`, counting how often it is recorded: one value per backend, so that the
/// three tests of a run in one process do not count each other's.
struct CountedAccounts(usize);
static RECORDED: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];
static COUNTED: [CountedAccounts; 3] = [CountedAccounts(0), CountedAccounts(1), CountedAccounts(2)];
impl Migration for CountedAccounts {
    fn up(&self, s: &mut Schema) {
        RECORDED[self.0].fetch_add(1, Ordering::SeqCst);
        CreateAccounts.up(s);
    }
}

/// A lazy runner (as `godwit::runner` and the CLI make) records no migration for a `status` or
/// an `up` with nothing to do whose checksums the cache holds, and says what an eager runner
/// says; without the cache, it records them and finds the same checksums.
async fn a_lazy_runner_records_nothing_the_cache_answers(backend: Backend) {
    let mut db = scratch(backend, "lazy").await;
    let url = db.url();
    let which = match backend {
        Backend::Postgres => 0,
        Backend::MySql => 1,
        _ => 2,
    };
    let recorded = || RECORDED[which].load(Ordering::SeqCst);
    let migrations = || {
        [
            (
                MigrationId {
                    version: V1,
                    name: "create_accounts".into(),
                },
                &COUNTED[which] as &'static dyn Migration,
            ),
            (
                MigrationId {
                    version: V2,
                    name: "create_tags".into(),
                },
                &TAGS as &'static dyn Migration,
            ),
        ]
    };
    let dir = std::env::temp_dir().join(format!("godwit-lazy-{}-{}", std::process::id(), which));
    std::fs::create_dir_all(&dir).unwrap();
    let cache = || Arc::new(Cache::at(dir.join(".bin.godwit-cache"), "this build"));
    let lazy = |cache: Option<Arc<Cache>>| {
        let runner = Runner::lazy(url.parse().unwrap(), migrations());
        match cache {
            Some(c) => runner.with_cache(c),
            None => runner,
        }
    };

    let before = recorded();
    let created = lazy(Some(cache()));
    assert_eq!(
        recorded(),
        before,
        "a lazy runner records nothing when made"
    );
    created.up(&Up::default()).await.unwrap();
    assert!(recorded() > before, "`up` records what it applies");
    // The first `status` of the build computes the checksums and keeps them.
    let eager = runner(
        &url,
        &[
            (V1, "create_accounts", &ACCOUNTS),
            (V2, "create_tags", &TAGS),
        ],
    );
    let expected = eager.status().await.unwrap();
    lazy(Some(cache())).status().await.unwrap();

    let before = recorded();
    let served = lazy(Some(cache()));
    let status = served.status().await.unwrap();
    assert_eq!(
        recorded(),
        before,
        "`status` from the cache records nothing"
    );
    let summary = |s: &godwit::runner::Status| {
        s.migrations
            .iter()
            .map(|m| {
                (
                    m.version,
                    m.name.clone(),
                    m.state,
                    m.current_checksum.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&status), summary(&expected));
    // The checksums the cache answered with are those the server holds in history.
    let sql =
        sqlx::AssertSqlSafe("SELECT version, checksum FROM godwit_migrations ORDER BY version");
    let held: Vec<(i64, String)> = match &mut db.conn {
        Conn::Postgres(c) => sqlx::query_as(sql).fetch_all(&mut *c).await,
        Conn::MySql(c) => sqlx::query_as(sql).fetch_all(&mut *c).await,
        Conn::Sqlite(c) => sqlx::query_as(sql).fetch_all(&mut *c).await,
    }
    .unwrap();
    let answered: Vec<(i64, String)> = status
        .migrations
        .iter()
        .map(|m| (m.version as i64, m.current_checksum.clone().unwrap()))
        .collect();
    assert_eq!(answered, held);
    assert_eq!(
        states(&served).await,
        vec![(V1, State::Applied), (V2, State::Applied)]
    );
    served.up(&Up::default()).await.unwrap();
    if backend != Backend::Postgres {
        // PostgreSQL's `up` reads the schemas the migrations name first, from their operations.
        assert_eq!(
            recorded(),
            before,
            "an `up` with nothing to do records nothing"
        );
    }

    // Without the cache, the same checksums from the code.
    let before = recorded();
    let computed = lazy(None).status().await.unwrap();
    assert!(recorded() > before);
    assert_eq!(summary(&computed), summary(&expected));
    std::fs::remove_dir_all(&dir).unwrap();
    db.conn.close().await;
}

on_every_backend!(
    a_lazy_runner_records_nothing_the_cache_answers,
    an_edited_applied_migration_is_refused_with_nothing_pending,
    an_applied_migration_that_no_longer_renders_is_shown_and_refused,
    an_edited_applied_migration_is_refused_until_repaired,
    a_deleted_applied_migration_is_refused,
    an_out_of_order_migration_is_refused_then_allowed,
);
