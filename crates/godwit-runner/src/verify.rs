//! What compares a live database with the migrations: `drift` (the connected database against
//! the migrations applied to it), `verify` (every rollback, in a scratch database) and
//! `baseline` (adopting a database built without godwit).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use godwit_core::{Backend, MigrationId, SchemaModel};
use time::OffsetDateTime;

use crate::connect::{Purpose, connect};
use crate::error::{Error, db_reason};
use crate::history::RowStatus;
use crate::introspect::{Difference, diff, live_schema};
use crate::runner::{Down, DownTarget, Runner, Up};
use crate::url::DatabaseUrl;

/// What `verify` found.
#[derive(Debug, Clone)]
pub struct Verified {
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
    pub id: MigrationId,
    /// `down` (the schema after `down` is not the one before `up`) or `up` (after `up` again).
    pub step: &'static str,
    pub differences: Vec<Difference>,
}

impl Runner {
    /// Every difference between the connected database and the schema its applied migrations
    /// build (the model after the newest applied migration the code has). Read-only.
    pub async fn drift(&self) -> Result<(Option<MigrationId>, Vec<Difference>), Error> {
        let status = self.status().await?;
        let newest = status
            .migrations
            .iter()
            .filter(|m| {
                m.row
                    .as_ref()
                    .is_some_and(|r| r.status == RowStatus::Applied)
            })
            .filter_map(|m| self.id_of(m.version))
            .max_by_key(|id| id.version);
        let model = match &newest {
            Some(id) => self.catalog().model(Some(id.version))?,
            None => SchemaModel::default(),
        };
        let live = live_schema(self.url(), &self.options().history_table).await?;
        Ok((newest, diff(&model, &live, self.url().backend())))
    }

    fn id_of(&self, version: u64) -> Option<MigrationId> {
        self.catalog()
            .entries()
            .iter()
            .find(|e| e.id.version == version)
            .map(|e| e.id.clone())
    }

    /// Apply every migration to a scratch database on the same server (a temporary file for
    /// SQLite), then walk back from the newest: each `down` must leave the schema of the
    /// migrations before it, and `up` again the schema after it, compared by introspecting the
    /// scratch database against the model. The scratch database is dropped afterwards, also on
    /// failure. A migration that cannot be rolled back is skipped: the scratch database is built
    /// again up to the migration before it, and the walk goes on from there.
    pub async fn verify(&self) -> Result<Result<Verified, RoundTripFailure>, Error> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "godwit_verify_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000
        );
        let scratch_url = self.url().scratch(&name)?;
        self.create_scratch(&name).await?;
        let result = self.walk(&name, scratch_url.clone()).await;
        let dropped = self.drop_scratch(&name, &scratch_url).await;
        let value = result?;
        dropped?;
        Ok(value)
    }

    async fn walk(
        &self,
        name: &str,
        url: DatabaseUrl,
    ) -> Result<Result<Verified, RoundTripFailure>, Error> {
        let backend = url.backend();
        let scratch = self.on(url.clone());
        let everything = Up::default().allow_unsafe(true).allow_out_of_order(true);
        scratch.up(&everything).await?;
        let ids: Vec<MigrationId> = self
            .catalog()
            .entries()
            .iter()
            .map(|e| e.id.clone())
            .collect();
        let table = &self.options().history_table;
        let compare = |expected: SchemaModel, id: &MigrationId, step: &'static str| {
            let url = url.clone();
            let id = id.clone();
            async move {
                let live = live_schema(&url, table).await?;
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
                        self.drop_scratch(name, &url).await?;
                        self.create_scratch(name).await?;
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
                _ => self.catalog().model(Some(ids[i - 1].version))?,
            };
            if let Some(failure) = compare(before, id, "down").await? {
                return Ok(Err(failure));
            }
            scratch.up(&everything.clone().to(Some(id.version))).await?;
            let after = self.catalog().model(Some(id.version))?;
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

    async fn create_scratch(&self, name: &str) -> Result<(), Error> {
        let sql = match self.url().backend() {
            Backend::Sqlite => return Ok(()),
            Backend::Postgres => format!("CREATE DATABASE \"{name}\""),
            Backend::MySql => format!("CREATE DATABASE `{name}`"),
        };
        let mut conn = connect(
            self.url(),
            Purpose::Migrate,
            self.options().connect_timeout,
            Duration::from_secs(5),
        )
        .await?;
        let created = conn.batch(&sql).await;
        conn.close().await;
        created.map_err(|e| Error::Database {
            backend: self.url().backend(),
            action: format!("creating the scratch database {name}"),
            reason: format!(
                "{}; the user of the URL needs the right to create databases",
                db_reason(&e)
            ),
        })
    }

    async fn drop_scratch(&self, name: &str, scratch: &DatabaseUrl) -> Result<(), Error> {
        let sql = match self.url().backend() {
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
            self.url(),
            Purpose::Migrate,
            self.options().connect_timeout,
            Duration::from_secs(5),
        )
        .await?;
        let dropped = conn.batch(&sql).await;
        conn.close().await;
        dropped.map_err(|e| Error::Database {
            backend: self.url().backend(),
            action: format!("dropping the scratch database {name}"),
            reason: format!("{}; drop it by hand", db_reason(&e)),
        })
    }

    /// Mark every migration up to and including `to` as applied without running it, to adopt
    /// godwit on a database built another way. Unless `force`, the live schema must first equal
    /// the schema those migrations build; the differences are returned otherwise, and nothing
    /// is recorded. Refused when history already has rows.
    pub async fn baseline(
        &self,
        to: u64,
        force: bool,
    ) -> Result<Result<Vec<MigrationId>, Vec<Difference>>, Error> {
        let Some(target) = self.id_of(to) else {
            return Err(Error::UnknownVersion {
                version: to,
                known: self
                    .catalog()
                    .entries()
                    .iter()
                    .map(|e| e.id.version.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if !force {
            let model = self.catalog().model(Some(target.version))?;
            let live = live_schema(self.url(), &self.options().history_table).await?;
            let differences = diff(&model, &live, self.url().backend());
            if !differences.is_empty() {
                return Ok(Err(differences));
            }
        }
        let versions: Vec<u64> = self
            .catalog()
            .entries()
            .iter()
            .map(|e| e.id.version)
            .filter(|v| *v <= to)
            .collect();
        let rendered = self
            .catalog()
            .render_up(self.url().backend(), Some(&versions))?;
        let recorded = self
            .record_applied(&rendered, OffsetDateTime::now_utc())
            .await?;
        Ok(Ok(recorded))
    }
}
