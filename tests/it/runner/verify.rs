//! `verify` (every rollback in a scratch database, compared with the model by introspection),
//! drift between a live database and its migrations, and `baseline` on a database built by hand.

use godwit::prelude::*;
use godwit::runner::{Runner, State, Up};
use godwit_core::{Backend, MigrationId};

use super::{exec, on_every_backend, scalar, scratch};

const V1: u64 = 20260501000100;
const V2: u64 = 20260501000200;
const V3: u64 = 20260501000300;

struct CreateAccounts;
impl Migration for CreateAccounts {
    fn up(&self, s: &mut Schema) {
        s.create_table("accounts", |t| {
            t.id();
            t.string("name", 50);
            t.timestamps();
        });
    }
}

struct AddNickname;
impl Migration for AddNickname {
    fn up(&self, s: &mut Schema) {
        s.add_column("accounts", Column::string("nickname", 30).nullable());
        s.add_index("accounts", ["nickname"]);
    }
}

/// Its hand-written `down` drops the index but forgets the column.
struct AddNicknameForgetful;
impl Migration for AddNicknameForgetful {
    fn up(&self, s: &mut Schema) {
        s.add_column("accounts", Column::string("nickname", 30).nullable());
        s.add_index("accounts", ["nickname"]);
    }
    fn down(&self, s: &mut Schema) {
        s.drop_index("accounts", "idx_accounts_nickname");
    }
}

struct CreateTags;
impl Migration for CreateTags {
    fn up(&self, s: &mut Schema) {
        s.create_table("tags", |t| {
            t.id();
            t.string("label", 40).unique();
            t.references("accounts").on_delete(Cascade);
        });
    }
}

/// Cannot be rolled back: `verify` skips it and walks the migrations before it.
struct AddNicknameIrreversible;
impl Migration for AddNicknameIrreversible {
    fn up(&self, s: &mut Schema) {
        s.add_column("accounts", Column::string("nickname", 30).nullable());
        s.irreversible("nicknames were filled in by hand");
    }
}

static IRREVERSIBLE: AddNicknameIrreversible = AddNicknameIrreversible;
static ACCOUNTS: CreateAccounts = CreateAccounts;
static NICKNAME: AddNickname = AddNickname;
static FORGETFUL: AddNicknameForgetful = AddNicknameForgetful;
static TAGS: CreateTags = CreateTags;

fn runner(url: &str, second: &'static dyn Migration) -> Runner {
    let url = url.parse().unwrap_or_else(|e| panic!("{e}"));
    let id = |version: u64, name: &str| MigrationId {
        version,
        name: name.to_string(),
    };
    let migrations: Vec<(MigrationId, &'static dyn Migration)> = vec![
        (id(V1, "create_accounts"), &ACCOUNTS),
        (id(V2, "add_nickname"), second),
        (id(V3, "create_tags"), &TAGS),
    ];
    Runner::new(url, migrations)
}

/// Scratch databases of this process still on the server (or files, for SQLite).
async fn leftovers(backend: Backend, conn: &mut crate::live::db::Conn) -> i64 {
    let prefix = format!("godwit_verify_{}_", std::process::id());
    match backend {
        Backend::Postgres => {
            scalar(
                conn,
                &format!(
                    "SELECT count(*)::int8 FROM pg_database WHERE datname LIKE '{prefix}%'"
                ),
            )
            .await
        }
        Backend::MySql => {
            scalar(
                conn,
                &format!(
                    "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE '{prefix}%'"
                ),
            )
            .await
        }
        Backend::Sqlite => std::fs::read_dir(std::env::temp_dir())
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                    .count() as i64
            })
            .unwrap_or(0),
    }
}

async fn verify_passes_and_catches_a_forgetful_down(backend: Backend) {
    let mut db = scratch(backend, "verifytest").await;
    let url = db.url();

    let verified = runner(&url, &NICKNAME)
        .verify()
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("every round trip restores the schema: {f:?}"));
    let versions: Vec<u64> = verified.round_trips.iter().map(|id| id.version).collect();
    assert_eq!(versions, vec![V3, V2, V1]);
    assert!(verified.skipped.is_empty());
    assert_eq!(leftovers(backend, &mut db.conn).await, 0);

    // An irreversible migration in the middle is skipped, and the one before it still walked.
    let verified = runner(&url, &IRREVERSIBLE)
        .verify()
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("the other round trips restore the schema: {f:?}"));
    let versions: Vec<u64> = verified.round_trips.iter().map(|id| id.version).collect();
    assert_eq!(versions, vec![V3, V1]);
    let skipped: Vec<u64> = verified.skipped.iter().map(|(id, _)| id.version).collect();
    assert_eq!(skipped, vec![V2]);
    assert!(
        verified.skipped[0]
            .1
            .contains("nicknames were filled in by hand"),
        "{:?}",
        verified.skipped
    );
    assert_eq!(leftovers(backend, &mut db.conn).await, 0);

    let failure = runner(&url, &FORGETFUL)
        .verify()
        .await
        .unwrap()
        .expect_err("the down forgets the column");
    assert_eq!(failure.id.version, V2);
    assert_eq!(failure.step, "down");
    let lines: Vec<String> = failure.differences.iter().map(|d| d.to_string()).collect();
    assert!(
        lines.iter().any(|l| l
            .starts_with("column accounts.nickname is in the database but not in the migrations")),
        "{lines:#?}"
    );
    assert_eq!(
        leftovers(backend, &mut db.conn).await,
        0,
        "the scratch database is dropped after a failure too"
    );
    db.conn.close().await;
}

async fn drift_and_baseline(backend: Backend) {
    let mut db = scratch(backend, "drift").await;
    let url = db.url();
    let r = runner(&url, &NICKNAME);
    r.up(&Up::default().to(Some(V2)).allow_unsafe(true))
        .await
        .unwrap();
    let drift = r.drift().await.unwrap();
    let (newest, differences) = (drift.applied_through, drift.differences);
    assert_eq!(newest.map(|id| id.version), Some(V2));
    assert!(differences.is_empty(), "{differences:#?}");

    // A column added by hand in production.
    exec(
        &mut db.conn,
        "ALTER TABLE accounts ADD COLUMN legacy_code varchar(10) NULL",
    )
    .await;
    let differences = r.drift().await.unwrap().differences;
    let lines: Vec<String> = differences.iter().map(|d| d.to_string()).collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with(
            "column accounts.legacy_code is in the database but not in the migrations"
        ),
        "{lines:#?}"
    );

    // Forget the history, as if the schema had been built by hand: baseline refuses while the
    // schema differs from the migrations up to V2, then records V1 and V2 once it matches.
    // The history tables of the tools that managed it before are not differences.
    exec(&mut db.conn, "DROP TABLE godwit_migrations").await;
    exec(
        &mut db.conn,
        "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY)",
    )
    .await;
    exec(
        &mut db.conn,
        "CREATE TABLE flyway_schema_history (installed_rank integer PRIMARY KEY)",
    )
    .await;
    let refused = r.baseline(V2, false).await.unwrap().unwrap_err();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    let status = r.status().await.unwrap();
    assert!(!status.history_exists, "nothing is recorded when refused");
    exec(&mut db.conn, "ALTER TABLE accounts DROP COLUMN legacy_code").await;
    let recorded = r.baseline(V2, false).await.unwrap().unwrap();
    assert_eq!(
        recorded.iter().map(|id| id.version).collect::<Vec<_>>(),
        vec![V1, V2]
    );
    let states: Vec<(u64, State)> = r
        .status()
        .await
        .unwrap()
        .migrations
        .iter()
        .map(|m| (m.version, m.state))
        .collect();
    assert_eq!(
        states,
        vec![
            (V1, State::Applied),
            (V2, State::Applied),
            (V3, State::Pending)
        ]
    );
    // A second baseline is refused: history has rows.
    let error = r.baseline(V2, true).await.unwrap_err();
    assert!(error.to_string().contains("use `up`"), "{error}");
    r.up(&Up::default().allow_unsafe(true)).await.unwrap();
    db.conn.close().await;
}

on_every_backend!(
    verify_passes_and_catches_a_forgetful_down,
    drift_and_baseline
);
