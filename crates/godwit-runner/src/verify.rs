//! What compares a live database with the migrations: `drift` (the connected database against
//! the migrations applied to it), `verify` (every rollback, in a scratch database) and
//! `baseline` (adopting a database built without godwit).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use godwit_core::{Backend, MigrationId, RenderedMigration, SchemaModel};
use time::OffsetDateTime;

use crate::connect::{Purpose, connect};
use crate::error::{Error, db_reason};
use crate::history::RowStatus;
use crate::introspect::{Difference, diff, live_schema};
use crate::options::{Down, DownTarget, Up};
use crate::runner::Runner;
use crate::url::DatabaseUrl;

/// What `verify` found.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The backend of the scratch databases the round trips ran in.
    pub backend: Backend,
    /// The migrations whose `down` then `up` restored the schema, newest first.
    pub round_trips: Vec<MigrationId>,
    /// The migrations that cannot be rolled back, newest first, and why. The walk goes on below
    /// each one in a scratch database built again up to the migration before it.
    pub skipped: Vec<(MigrationId, String)>,
}

/// A round trip that did not restore the schema.
#[derive(Debug, Clone)]
pub struct RoundTripFailure {
    /// The migration whose round trip failed.
    pub id: MigrationId,
    /// `down` (the schema after `down` is not the one before `up`) or `up` (after `up` again).
    pub step: &'static str,
    /// How the scratch database's schema differs from the one expected after `step`.
    pub differences: Vec<Difference>,
}

/// What [`Runner::drift`] found.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The newest applied migration the code has, whose schema the database is compared with.
    pub applied_through: Option<MigrationId>,
    /// Every difference not explained by a half-applied migration.
    pub differences: Vec<Difference>,
    /// A migration `up` stopped part-way (history says `partial`), and the differences it
    /// explains: what it did before it stopped, which are not changes made by hand.
    pub half_applied: Option<HalfApplied>,
}

/// A half-applied migration and what of the live schema it explains.
#[derive(Debug, Clone)]
pub struct HalfApplied {
    /// The migration.
    pub id: MigrationId,
    /// The statement it stopped at (1-based), as history has it.
    pub statement: Option<usize>,
    /// The differences it explains (what it did before it stopped), which
    /// [`Drift::differences`] leaves out.
    pub differences: Vec<Difference>,
}

/// [`Runner::drift`].
pub(crate) async fn drift(runner: &Runner) -> Result<Drift, Error> {
    let status = runner.status().await?;
    let newest = status
        .migrations
        .iter()
        .filter(|m| {
            m.row
                .as_ref()
                .is_some_and(|r| r.status == RowStatus::Applied)
        })
        .filter_map(|m| id_of(runner, m.version))
        .max_by_key(|id| id.version);
    let model = match &newest {
        Some(id) => runner.catalog().model(Some(id.version))?,
        None => SchemaModel::default(),
    };
    let backend = runner.url().backend();
    let live = live_schema(
        runner.url(),
        &runner.options().history_table,
        &runner.catalog().schema_names().named,
    )
    .await?;
    let mut differences = diff(&model, &live, backend);
    // What a half-applied migration ran so far differs from the schema before it: the
    // differences that the schema after it would not have are its, not changes by hand.
    let partial = status.migrations.iter().find(|m| {
        m.row
            .as_ref()
            .is_some_and(|r| r.status == RowStatus::Partial)
    });
    let mut half_applied = None;
    if let Some(m) = partial
        && let Some(id) = id_of(runner, m.version)
        && let Ok(after) = runner.catalog().model(Some(m.version))
    {
        let remaining = diff(&after, &live, backend);
        let (explained, rest): (Vec<Difference>, Vec<Difference>) = differences
            .into_iter()
            .partition(|d| !remaining.contains(d));
        differences = rest;
        half_applied = Some(HalfApplied {
            id,
            statement: m.row.as_ref().and_then(|r| r.statement),
            differences: explained,
        });
    }
    Ok(Drift {
        applied_through: newest,
        differences,
        half_applied,
    })
}

fn id_of(runner: &Runner, version: u64) -> Option<MigrationId> {
    runner
        .catalog()
        .entries()
        .iter()
        .find(|e| e.id.version == version)
        .map(|e| e.id.clone())
}

/// [`Runner::verify`].
pub(crate) async fn verify(runner: &Runner) -> Result<Result<Verified, RoundTripFailure>, Error> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!(
        "godwit_verify_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000
    );
    let scratch_url = runner.url().scratch(&name)?;
    create_scratch(runner, &name).await?;
    let result = walk(runner, &name, scratch_url.clone()).await;
    let dropped = drop_scratch(runner, &name, &scratch_url).await;
    let value = result?;
    dropped?;
    Ok(value)
}

async fn walk(
    runner: &Runner,
    name: &str,
    url: DatabaseUrl,
) -> Result<Result<Verified, RoundTripFailure>, Error> {
    let backend = url.backend();
    let scratch = runner.on(url.clone());
    let everything = Up::default().allow_unsafe(true).allow_out_of_order(true);
    scratch.up(&everything).await?;
    let ids: Vec<MigrationId> = runner
        .catalog()
        .entries()
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let table = &runner.options().history_table;
    // Every schema any version names: what a `down` leaves behind in one is seen.
    let schemas = runner.catalog().schema_names().named;
    let schemas = &schemas;
    let compare = |expected: SchemaModel, id: &MigrationId, step: &'static str| {
        let url = url.clone();
        let id = id.clone();
        async move {
            let live = live_schema(&url, table, schemas).await?;
            let differences = diff(&expected, &live, backend);
            Ok::<_, Error>(if differences.is_empty() {
                None
            } else {
                Some(RoundTripFailure {
                    id,
                    step,
                    differences,
                })
            })
        }
    };
    let mut round_trips = Vec::new();
    let mut skipped = Vec::new();
    for (i, id) in ids.iter().enumerate().rev() {
        match scratch.down(&Down::new(DownTarget::Steps(1))).await {
            Ok(_) => {}
            Err(Error::Render(e)) => {
                skipped.push((id.clone(), e.kind.to_string()));
                // Build the scratch database again up to the migration before it, and go on.
                if i > 0 {
                    drop_scratch(runner, name, &url).await?;
                    create_scratch(runner, name).await?;
                    scratch
                        .up(&everything.clone().to(Some(ids[i - 1].version)))
                        .await?;
                }
                continue;
            }
            Err(e) => return Err(e),
        }
        let before = match i {
            0 => SchemaModel::default(),
            _ => runner.catalog().model(Some(ids[i - 1].version))?,
        };
        if let Some(failure) = compare(before, id, "down").await? {
            return Ok(Err(failure));
        }
        scratch.up(&everything.clone().to(Some(id.version))).await?;
        let after = runner.catalog().model(Some(id.version))?;
        if let Some(failure) = compare(after, id, "up").await? {
            return Ok(Err(failure));
        }
        scratch.down(&Down::new(DownTarget::Steps(1))).await?;
        round_trips.push(id.clone());
    }
    Ok(Ok(Verified {
        backend,
        round_trips,
        skipped,
    }))
}

async fn create_scratch(runner: &Runner, name: &str) -> Result<(), Error> {
    let sql = match runner.url().backend() {
        Backend::Sqlite => return Ok(()),
        Backend::Postgres => format!("CREATE DATABASE \"{name}\""),
        Backend::MySql => format!("CREATE DATABASE `{name}`"),
    };
    let mut conn = connect(
        runner.url(),
        Purpose::Migrate,
        runner.options().connect_timeout,
        Duration::from_secs(5),
    )
    .await?;
    let created = conn.batch(&sql).await;
    conn.close().await;
    created.map_err(|e| Error::Database {
        backend: runner.url().backend(),
        action: format!("creating the scratch database {name}"),
        reason: format!(
            "{}; the user of the URL needs the right to create databases",
            db_reason(&e)
        ),
    })
}

async fn drop_scratch(runner: &Runner, name: &str, scratch: &DatabaseUrl) -> Result<(), Error> {
    let sql = match runner.url().backend() {
        Backend::Sqlite => {
            if let Some(file) = scratch.sqlite_file() {
                for path in [
                    file.clone(),
                    crate::lock::sqlite_lock_file(&file),
                    file.with_extension("db-wal"),
                    file.with_extension("db-shm"),
                ] {
                    let _ = std::fs::remove_file(path);
                }
            }
            return Ok(());
        }
        Backend::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        Backend::MySql => format!("DROP DATABASE IF EXISTS `{name}`"),
    };
    let mut conn = connect(
        runner.url(),
        Purpose::Migrate,
        runner.options().connect_timeout,
        Duration::from_secs(5),
    )
    .await?;
    let dropped = conn.batch(&sql).await;
    conn.close().await;
    dropped.map_err(|e| Error::Database {
        backend: runner.url().backend(),
        action: format!("dropping the scratch database {name}"),
        reason: format!("{}; drop it by hand", db_reason(&e)),
    })
}

/// [`Runner::baseline`].
pub(crate) async fn baseline(
    runner: &Runner,
    to: u64,
    force: bool,
) -> Result<Result<Vec<MigrationId>, Vec<Difference>>, Error> {
    let Some(target) = id_of(runner, to) else {
        return Err(Error::UnknownVersion {
            version: to,
            known: runner
                .catalog()
                .entries()
                .iter()
                .map(|e| e.id.version.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    if !force {
        let model = runner.catalog().model(Some(target.version))?;
        let live = live_schema(
            runner.url(),
            &runner.options().history_table,
            &runner.catalog().schema_names().named,
        )
        .await?;
        let differences = diff(&model, &live, runner.url().backend());
        if !differences.is_empty() {
            return Ok(Err(differences));
        }
    }
    let versions: Vec<u64> = runner
        .catalog()
        .entries()
        .iter()
        .map(|e| e.id.version)
        .filter(|v| *v <= to)
        .collect();
    let rendered = runner
        .catalog()
        .render_up(runner.url().backend(), Some(&versions))?;
    let recorded = record_applied(runner, &rendered, OffsetDateTime::now_utc()).await?;
    Ok(Ok(recorded))
}
/// Record `migrations` as applied without running them (`baseline`), under the lock, in one
/// transaction; refused when history has rows already.
pub(crate) async fn record_applied(
    runner: &Runner,
    migrations: &[RenderedMigration],
    at: OffsetDateTime,
) -> Result<Vec<MigrationId>, Error> {
    let history = runner.history()?;
    let mut conn = runner.connect(Purpose::Migrate).await?;
    let result = async {
        let lock = runner.lock().await?;
        let result = async {
            let (_, rows) = runner.read(&mut conn, &history).await?;
            if !rows.is_empty() {
                return Err(Error::Baseline {
                    table: history.table.clone(),
                    rows: rows.len(),
                });
            }
            history.create(&mut conn).await?;
            let fail = |e: sqlx::Error| Error::Database {
                backend: runner.backend(),
                action: format!("recording the baseline in {}", history.table),
                reason: db_reason(&e),
            };
            conn.batch("BEGIN").await.map_err(fail)?;
            for m in migrations {
                let st = history.insert(m, RowStatus::Applied, at, 0);
                if let Err(e) = conn.execute(&st).await {
                    let _ = conn.batch("ROLLBACK").await;
                    return Err(fail(e));
                }
            }
            conn.batch("COMMIT").await.map_err(fail)?;
            Ok(migrations.iter().map(|m| m.id.clone()).collect())
        }
        .await;
        runner.release(lock, result).await
    }
    .await;
    conn.close().await;
    result
}
