//! [`Runner`]: apply and roll back migrations on a database, as a library.
//!
//! Every command follows the same steps: connect; read history (without creating it); work out
//! what to run; take the [lock]; read history **again** (another deploy may have
//! run migrations while this one waited); render every migration to run, so that nothing starts
//! when one cannot be rendered; then compile the run into a script (`script.rs`) of steps and
//! run it (`execute.rs`), or print it for a dry run.
//!
//! This file is the runner's public face: each command is a short method that reads as those
//! steps. The work is in one file per concept: `checks.rs` (what is refused before
//! anything runs), `script.rs` (what will run, and the dry run), `execute.rs` and
//! `failure.rs` (running it), [`crate::status`], `fresh.rs`, [`crate::copy`],
//! [`crate::verify`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use godwit_core::{Backend, Catalog, Migration, MigrationId};
use sea_query::Value;

use crate::cache::Cache;
use crate::connect::{Conn, Purpose, connect};
use crate::copy::{self, Copied, CopyOptions};
use crate::error::{Error, db_reason};
use crate::event::{Observer, Quiet};
use crate::history::{self, History, HistoryRow, RowStatus};
use crate::introspect::Difference;
use crate::lock::{self, Lock};
use crate::options::{Down, DownTarget, Options, Up};
use crate::report::{Ran, Repaired, Report};
use crate::script::Dir;
use crate::status::Status;
use crate::url::DatabaseUrl;
use crate::verify::{self, RoundTripFailure, Verified};

/// Applies and rolls back migrations on one database.
///
/// ```no_run
/// # async fn start() -> Result<(), godwit_runner::Error> {
/// # let migrations: Vec<(godwit_core::MigrationId, &'static dyn godwit_core::Migration)> = Vec::new();
/// use godwit_runner::{DatabaseUrl, Runner, Up};
/// let url: DatabaseUrl = "postgres://app@localhost/blog".parse()?;
/// let report = Runner::new(url, migrations).up(&Up::default()).await?;
/// println!("{} migrations applied", report.ran.len());
/// # Ok(()) }
/// ```
pub struct Runner {
    pub(crate) url: DatabaseUrl,
    migrations: Migrations,
    pub(crate) options: Options,
    pub(crate) observer: Arc<dyn Observer>,
    /// Whether a MySQL-protocol server is MariaDB (their statement timeouts differ), once asked.
    pub(crate) mariadb: std::sync::OnceLock<bool>,
    /// While this runner holds the migration lock on a server: what asks whether it still does.
    /// Weak: dropping the lock (a dropped `up` future) must close its connection.
    pub(crate) lock_probe: std::sync::Mutex<Option<std::sync::Weak<lock::Probe>>>,
    /// What depends on the binary alone (applied migrations' checksums), when kept.
    pub(crate) cache: Option<Arc<Cache>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("url", &self.url)
            .field("migrations", &self.migrations.ids.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for `url` and every migration the binary has (as `godwit::registrations`
    /// resolves them), each recorded at once. Migrations that live as long as the program
    /// (registered ones) are better given to [`Runner::lazy`].
    pub fn new<'a>(
        url: DatabaseUrl,
        migrations: impl IntoIterator<Item = (MigrationId, &'a dyn Migration)>,
    ) -> Runner {
        Runner::with_migrations(url, Migrations::recorded(Catalog::new(migrations)))
    }

    /// A runner for `url` and `migrations`, as [`Runner::new`], that records them (runs their
    /// `up` and `down` against the DSL) only when a command needs more than their versions and
    /// names, and before it takes the migration lock. `status`, and an `up` with nothing to do
    /// on MySQL/MariaDB and SQLite, record none when the [`Cache`] holds the applied
    /// migrations' checksums and history has those (not those of an earlier godwit's
    /// rendering). PostgreSQL's `up` reads the schemas the migrations name first, which records
    /// them.
    pub fn lazy(
        url: DatabaseUrl,
        migrations: impl IntoIterator<Item = (MigrationId, &'static dyn Migration)>,
    ) -> Runner {
        Runner::with_migrations(
            url,
            Migrations::unrecorded(migrations.into_iter().collect()),
        )
    }

    fn with_migrations(url: DatabaseUrl, migrations: Migrations) -> Runner {
        Runner {
            url,
            migrations,
            options: Options::default(),
            observer: Arc::new(Quiet),
            mariadb: std::sync::OnceLock::new(),
            lock_probe: std::sync::Mutex::new(None),
            cache: None,
        }
    }

    /// Keep what depends on the migrations' code alone in `cache` (see [`Cache`]): only for the
    /// migrations of the binary the cache is [of](Cache::of_this_binary).
    pub fn with_cache(mut self, cache: Arc<Cache>) -> Runner {
        self.cache = Some(cache);
        self
    }

    /// Use `options` instead of the default settings.
    pub fn with_options(mut self, options: Options) -> Runner {
        self.options = options;
        self
    }

    /// Report what the runner does, as [`Event`](crate::Event)s, to `observer` (by default nothing
    /// watches).
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Runner {
        self.observer = observer;
        self
    }

    /// Every migration of the runner, recorded (on the first call, for a [lazy](Runner::lazy)
    /// runner).
    pub fn catalog(&self) -> &Catalog {
        self.migrations.catalog()
    }

    /// The same migrations and options on another database, unobserved.
    pub(crate) fn on(&self, url: DatabaseUrl) -> Runner {
        Runner {
            url,
            migrations: self.migrations.clone(),
            options: self.options.clone(),
            observer: Arc::new(Quiet),
            mariadb: std::sync::OnceLock::new(),
            lock_probe: std::sync::Mutex::new(None),
            cache: self.cache.clone(),
        }
    }

    /// The database this runner works on (it displays redacted).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The runner's settings.
    pub fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The progress table of batched steps, named after the history table.
    pub(crate) fn progress(&self) -> crate::batch::Progress {
        crate::batch::Progress::new(&self.options.history_table, self.backend())
    }

    pub(crate) fn history(&self) -> Result<History, Error> {
        history::check_table_name(&self.options.history_table, self.backend())?;
        if self.backend() == Backend::Sqlite && self.url.sqlite_file().is_none() {
            return Err(Error::InMemory);
        }
        // SQLite waits for the lock with its busy timeout, in milliseconds up to 2^31 - 1.
        let wait = self.options.deploy_lock_timeout;
        if self.backend() == Backend::Sqlite && wait > Duration::from_millis(i32::MAX as u64) {
            return Err(Error::InvalidTimeout {
                reason: format!(
                    "the deploy lock timeout of {} seconds is out of range: SQLite waits at most \
                     2147483.647 seconds (about 24 days)",
                    wait.as_secs_f64()
                ),
            });
        }
        Ok(History {
            table: self.options.history_table.clone(),
            backend: self.backend(),
        })
    }

    pub(crate) async fn connect(&self, purpose: Purpose) -> Result<Conn, Error> {
        connect(
            &self.url,
            purpose,
            self.options.connect_timeout,
            self.options.deploy_lock_timeout,
        )
        .await
    }

    pub(crate) async fn lock(&self) -> Result<Lock, Error> {
        // A lazy runner records its migrations now, if nothing did yet: not while it holds the
        // lock, which other deploys wait for.
        self.catalog();
        let lock = lock::acquire(
            &self.url,
            &self.options.history_table,
            self.options.deploy_lock_timeout,
            self.options.connect_timeout,
            &*self.observer,
        )
        .await?;
        *self.lock_probe.lock().unwrap_or_else(|e| e.into_inner()) = lock.probe();
        Ok(lock)
    }

    /// Release `lock` after `result` (see [`lock::release`]).
    pub(crate) async fn release<T>(
        &self,
        lock: Lock,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        self.lock_probe
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        lock::release(lock, result).await
    }

    /// Whether this runner still holds the migration lock: checked before each migration, each
    /// commit and each batch, so that a runner whose lock connection was ended (by an operator,
    /// a proxy's idle timeout, `wait_timeout`) stops instead of migrating alongside the next
    /// runner that takes the lock.
    pub(crate) async fn check_lock(&self) -> Result<(), Error> {
        match self.held_lock() {
            Some(probe) => probe.check().await,
            None => Ok(()),
        }
    }

    /// PostgreSQL: no migration names a table in the connection's own schema with that schema
    /// (`public.invoices`), which godwit would take for another table than `invoices`. The
    /// connection's schema is the first of its `search_path` that exists, or that a migration
    /// makes: a schema named after the role comes first (`"$user"`) once `create_schema` made
    /// it, and would take the place of `public`.
    pub(crate) async fn check_own_schema(&self, conn: &mut Conn) -> Result<(), Error> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        let names = self.catalog().schema_names();
        if names.named.is_empty() {
            return Ok(());
        }
        let fail = |e: sqlx::Error| Error::Database {
            backend: self.backend(),
            action: "reading the connection's search_path".into(),
            reason: crate::error::db_reason(&e),
        };
        // The search path's schemas in order, `$user` read as the role, and which exist.
        let path = conn
            .strings(
                "SELECT CASE WHEN trim(e) IN ('$user', '\"$user\"') THEN current_user::text \
                 ELSE trim(both '\"' from trim(e)) END || '|' || \
                 (EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = \
                 CASE WHEN trim(e) IN ('$user', '\"$user\"') THEN current_user::text \
                 ELSE trim(both '\"' from trim(e)) END))::text \
                 FROM unnest(string_to_array(current_setting('search_path'), ',')) \
                 WITH ORDINALITY AS p(e, n) ORDER BY n",
            )
            .await
            .map_err(fail)?;
        let own = path.iter().find_map(|row| {
            let (schema, exists) = row.rsplit_once('|')?;
            (exists == "true" || names.created.iter().any(|c| c == schema))
                .then(|| schema.to_string())
        });
        let Some(own) = own else {
            return Ok(());
        };
        if names.created.contains(&own) {
            return Err(Error::OwnSchemaCreated {
                migration: first_naming(&names, &own),
                schema: own,
            });
        }
        match names
            .qualified
            .iter()
            .find(|n| godwit_core::types::split_schema(n).0 == Some(own.as_str()))
        {
            Some(name) => Err(Error::OwnSchema {
                migration: first_naming(&names, name),
                schema: own,
                name: name.clone(),
                bare: godwit_core::types::bare_name(name).to_string(),
            }),
            None => Ok(()),
        }
    }

    /// What asks whether the lock this runner holds is still held, while it holds one.
    pub(crate) fn held_lock(&self) -> Option<Arc<lock::Probe>> {
        self.lock_probe
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(std::sync::Weak::upgrade)
    }

    /// The migrations' versions and names, oldest first (without recording them).
    pub(crate) fn versions(&self) -> impl Iterator<Item = &MigrationId> {
        self.migrations.ids.iter()
    }

    /// Whether the binary has a migration with `version`.
    pub(crate) fn has_version(&self, version: u64) -> bool {
        self.migrations
            .ids
            .binary_search_by_key(&version, |id| id.version)
            .is_ok()
    }

    /// Read history, or nothing when the table does not exist.
    pub(crate) async fn read(
        &self,
        conn: &mut Conn,
        history: &History,
    ) -> Result<(bool, Vec<HistoryRow>), Error> {
        if history.exists(conn).await? {
            Ok((true, history.read(conn).await?))
        } else {
            Ok((false, Vec::new()))
        }
    }

    /// Where every migration stands. Read-only: never creates the history table, takes no lock,
    /// and opens an SQLite file read-only (a missing file means nothing is applied).
    pub async fn status(&self) -> Result<Status, Error> {
        let history = self.history()?;
        let (exists, rows) = self.read_only(&history).await?;
        Ok(self.status_of(exists, rows))
    }

    /// Record the current checksum (and name) of every applied migration whose code changed
    /// since it ran, after a person reviewed the change: what `status` calls `changed` becomes
    /// `applied`. Nothing else changes. Returns what it recorded.
    pub async fn repair(&self) -> Result<Vec<Repaired>, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let (exists, _) = self.read(&mut conn, &history).await?;
            if !exists {
                return Ok(Vec::new());
            }
            let lock = self.lock().await?;
            let result = async {
                let (_, rows) = self.read(&mut conn, &history).await?;
                let repaired = self.to_repair(&rows);
                if repaired.is_empty() {
                    return Ok(repaired);
                }
                let fail = |e: sqlx::Error| Error::Database {
                    backend: self.backend(),
                    action: format!("recording checksums in {}", history.table),
                    reason: db_reason(&e),
                };
                conn.batch("BEGIN").await.map_err(fail)?;
                for r in &repaired {
                    let st = history.set_checksum(r.id.version, &r.id.name, &r.current);
                    if let Err(e) = conn.execute(&st).await {
                        let _ = conn.batch("ROLLBACK").await;
                        return Err(fail(e));
                    }
                }
                conn.batch("COMMIT").await.map_err(fail)?;
                Ok(repaired)
            }
            .await;
            self.release(lock, result).await
        }
        .await;
        conn.close().await;
        result
    }

    /// History, read without changing anything: an SQLite file is opened read-only, and a
    /// missing one is not created (nothing is applied to it).
    pub(crate) async fn read_only(
        &self,
        history: &History,
    ) -> Result<(bool, Vec<HistoryRow>), Error> {
        if let Some(file) = self.url.sqlite_file().filter(|f| !f.exists()) {
            // Not created yet, which `up` will do; but a directory that is not there is a
            // wrong path, which nothing will create.
            if let Some(dir) = file
                .parent()
                .filter(|d| !d.as_os_str().is_empty() && !d.exists())
            {
                return Err(Error::Connect {
                    backend: Backend::Sqlite,
                    url: self.url.redacted().to_string(),
                    reason: format!("the directory {} does not exist", dir.display()),
                    fix: "check the path in the URL".to_string(),
                });
            }
            return Ok((false, Vec::new()));
        }
        let mut conn = self.connect(Purpose::ReadOnly).await?;
        let read = self.read(&mut conn, history).await;
        self.detect_flavor(&mut conn).await;
        conn.close().await;
        read
    }

    /// MySQL/MariaDB: a runner killed in the middle of a statement leaves its connection on the
    /// server until the statement ends (the server notices the client is gone only then). When
    /// history says a migration stopped at a statement that another connection is still running,
    /// wait for it, up to the deploy lock timeout, so that the half-applied report is about what
    /// the database has; past that, say which connection runs it.
    #[cfg(feature = "mysql")]
    pub(crate) async fn wait_for_a_killed_runners_statement(
        &self,
        conn: &mut Conn,
        rows: &[HistoryRow],
    ) -> Result<(), Error> {
        if self.backend() != Backend::MySql {
            return Ok(());
        }
        let Some(row) = rows.iter().find(|r| r.status == RowStatus::Partial) else {
            return Ok(());
        };
        let Some(n) = row.statement else {
            return Ok(());
        };
        let Ok(rendered) = self.render(Dir::Up, &[row.version]) else {
            return Ok(());
        };
        let Some(st) = rendered.first().and_then(|m| m.statements.get(n - 1)) else {
            return Ok(());
        };
        let text = st.sql.trim().trim_end_matches(';').trim().to_string();
        let Conn::MySql(c) = conn else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        loop {
            let running: Vec<String> = match sqlx::query_scalar(
                "SELECT CAST(CONCAT(ID, ' (running for ', TIME, ' s)') AS CHAR) \
                 FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
                 AND DB = DATABASE() AND TRIM(TRAILING ';' FROM TRIM(INFO)) = ?",
            )
            .bind(&text)
            .fetch_all(&mut *c)
            .await
            {
                Ok(running) => running,
                Err(_) => return Ok(()),
            };
            let Some(who) = running.first() else {
                return Ok(());
            };
            if started.elapsed() >= self.options.deploy_lock_timeout {
                return Err(Error::StillRunning {
                    id: MigrationId {
                        version: row.version,
                        name: row.name.clone(),
                    },
                    statement: n,
                    connection: who.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Without MySQL/MariaDB there is no such connection to wait for.
    #[cfg(not(feature = "mysql"))]
    pub(crate) async fn wait_for_a_killed_runners_statement(
        &self,
        _conn: &mut Conn,
        _rows: &[HistoryRow],
    ) -> Result<(), Error> {
        Ok(())
    }

    /// What the database tells the safety rules: each table's size and the server's version
    /// (see [`Catalog::lint_live`](godwit_core::Catalog::lint_live)).
    pub async fn live_context(&self) -> Result<godwit_core::LiveContext, Error> {
        let mut conn = self.connect(Purpose::ReadOnly).await?;
        let live = crate::live::read(
            &mut conn,
            self.options.small_table_rows,
            &self.catalog().schema_names().named,
        )
        .await;
        conn.close().await;
        live.map_err(|e| Error::Database {
            backend: self.backend(),
            action: "reading the tables' sizes".into(),
            reason: self.url.scrub(&e.to_string()),
        })
    }

    /// Apply pending migrations, oldest first, up to `up.to`, under the migration lock, resuming a
    /// migration an earlier run stopped in where it can. Nothing runs when history disagrees with
    /// the code or a pending operation is unsafe, unless `up` allows it. With `up.dry_run`, the
    /// report holds the SQL instead and nothing runs.
    pub async fn up(&self, up: &Up) -> Result<Report, Error> {
        let history = self.history()?;
        self.check_up(up)?;
        if up.dry_run {
            let (exists, rows) = self.read_only(&history).await?;
            let (versions, resumed) = self.pending_resumed(&rows, up.to)?;
            self.check_history(&rows, &versions, up)?;
            let mut report = self.dry_run(&history, exists, Dir::Up, &versions, up, &resumed)?;
            if !up.allow_unsafe {
                self.note_unsafe(&versions, &mut report);
            }
            return Ok(report);
        }
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = self.up_on(&mut conn, &history, up).await;
        conn.close().await;
        result
    }

    async fn up_on(&self, conn: &mut Conn, history: &History, up: &Up) -> Result<Report, Error> {
        let (_, rows) = self.read(conn, history).await?;
        self.check_own_schema(conn).await?;
        if !self.needs_lock(&rows, up.to) {
            // Nothing runs, but a changed or missing applied migration is refused all the same:
            // a deploy must not report success over history that disagrees with the code.
            self.check_history(&rows, &[], up)?;
            return Ok(self.report(Vec::new()));
        }
        let lock = self.lock().await?;
        let result = async {
            let (_, rows) = self.read(conn, history).await?;
            self.wait_for_a_killed_runners_statement(conn, &rows)
                .await?;
            let (versions, resumed) = self.pending_resumed(&rows, up.to)?;
            self.check_history(&rows, &versions, up)?;
            if !up.allow_unsafe {
                // Without the sizes (a catalog it may not read), every finding is a refusal.
                let schemas = self.catalog().schema_names().named;
                let live = crate::live::read(conn, self.options.small_table_rows, &schemas)
                    .await
                    .ok();
                if let Err(unsafe_ops) = self.check_safety(&versions, live.as_ref()) {
                    // What cannot run at all on this backend is said before what is unsafe.
                    self.render(Dir::Up, &versions)?;
                    return Err(unsafe_ops);
                }
            }
            self.apply_resumed(conn, history, &versions, up.single_transaction, &resumed)
                .await
        }
        .await;
        self.release(lock, result).await.map(|ran| self.report(ran))
    }

    /// Roll back applied migrations, newest first.
    pub async fn down(&self, down: &Down) -> Result<Report, Error> {
        let history = self.history()?;
        if down.dry_run {
            let (exists, rows) = self.read_only(&history).await?;
            let versions = self.to_roll_back(&rows, down.target)?;
            let up = Up::default();
            return self.dry_run(
                &history,
                exists,
                Dir::Down,
                &versions,
                &up,
                &BTreeMap::new(),
            );
        }
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = self.down_on(&mut conn, &history, down).await;
        conn.close().await;
        result
    }

    async fn down_on(
        &self,
        conn: &mut Conn,
        history: &History,
        down: &Down,
    ) -> Result<Report, Error> {
        let (_, rows) = self.read(conn, history).await?;
        if let DownTarget::To(to) = down.target {
            self.check_known(to, &rows)?;
        }
        if rows.is_empty() {
            return Ok(self.report(Vec::new()));
        }
        let lock = self.lock().await?;
        let result = async {
            let (_, rows) = self.read(conn, history).await?;
            let versions = self.to_roll_back(&rows, down.target)?;
            self.apply(conn, history, Dir::Down, &versions, false).await
        }
        .await;
        self.release(lock, result).await.map(|ran| self.report(ran))
    }

    /// Roll back the newest `steps` migrations and apply them again, under one lock.
    pub async fn redo(&self, steps: usize) -> Result<Report, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let (_, rows) = self.read(&mut conn, &history).await?;
            if rows.is_empty() || steps == 0 {
                return Ok(Vec::new());
            }
            let lock = self.lock().await?;
            let result = async {
                let (_, rows) = self.read(&mut conn, &history).await?;
                let versions = self.to_roll_back(&rows, DownTarget::Steps(steps))?;
                // Render both directions before anything runs.
                self.render(Dir::Up, &versions)?;
                let mut ran = self
                    .apply(&mut conn, &history, Dir::Down, &versions, false)
                    .await?;
                let mut again = versions.clone();
                again.reverse();
                ran.extend(
                    self.apply(&mut conn, &history, Dir::Up, &again, false)
                        .await?,
                );
                Ok(ran)
            }
            .await;
            self.release(lock, result).await
        }
        .await;
        conn.close().await;
        result.map(|ran| self.report(ran))
    }

    /// Drop every table and view of the database (history included), then apply every
    /// migration, under one lock.
    pub async fn fresh(&self) -> Result<Report, Error> {
        let history = self.history()?;
        let mut conn = self.connect(Purpose::Migrate).await?;
        let result = async {
            let all: Vec<u64> = self.versions().map(|id| id.version).collect();
            self.render(Dir::Up, &all)?;
            let lock = self.lock().await?;
            let result = async {
                self.check_own_schema(&mut conn).await?;
                crate::fresh::drop_everything(
                    &mut conn,
                    &self.catalog().schema_names(),
                    &self.options().history_table,
                )
                .await?;
                self.apply(&mut conn, &history, Dir::Up, &all, false).await
            }
            .await;
            self.release(lock, result).await
        }
        .await;
        conn.close().await;
        result.map(|ran| self.report(ran))
    }

    /// Copy every table's rows (or `options.tables`') from this runner's database into `to`,
    /// which must have the same migrations applied: in foreign-key order, in batches walked by
    /// key, each batch one transaction on the target, resuming where an earlier run stopped;
    /// then PostgreSQL sequences are set past the copied keys, and the tables' row counts are
    /// compared. See the [module](crate::copy) for the details.
    pub async fn copy_to(&self, to: &DatabaseUrl, options: &CopyOptions) -> Result<Copied, Error> {
        copy::copy_to(self, to, options).await
    }

    /// Every row of `table`, in key order, as `copy` reads it: each value typed by its column
    /// in the schema model at the newest migration applied to the database (see `values/mod.rs`
    /// for the value each column type gives). Read-only. Returns the column names and the rows.
    pub async fn table_rows(&self, table: &str) -> Result<(Vec<String>, Vec<Vec<Value>>), Error> {
        copy::table_rows(self, table).await
    }

    /// Every difference between the connected database and the schema its applied migrations
    /// build (the model after the newest applied migration the code has). Read-only.
    pub async fn drift(&self) -> Result<verify::Drift, Error> {
        verify::drift(self).await
    }

    /// Apply every migration to a scratch database on the same server (a temporary file for
    /// SQLite), then walk back from the newest: each `down` must leave the schema of the
    /// migrations before it, and `up` again the schema after it, compared by introspecting the
    /// scratch database against the model. The scratch database is dropped afterwards, also on
    /// failure. A migration that cannot be rolled back is skipped: the scratch database is built
    /// again up to the migration before it, and the walk goes on from there.
    pub async fn verify(&self) -> Result<Result<Verified, RoundTripFailure>, Error> {
        verify::verify(self).await
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
        verify::baseline(self, to, force).await
    }

    pub(crate) fn report(&self, ran: Vec<Ran>) -> Report {
        Report {
            backend: self.backend(),
            ran,
            sql: None,
        }
    }

    /// Find out, once, whether a MySQL-protocol server is MariaDB.
    pub(crate) async fn detect_flavor(&self, conn: &mut Conn) {
        if self.backend() != Backend::MySql || self.mariadb.get().is_some() {
            return;
        }
        if let Ok(version) = conn.strings("SELECT VERSION()").await
            && let Some(v) = version.first()
        {
            let _ = self.mariadb.set(v.to_ascii_lowercase().contains("mariadb"));
        }
    }
}

// A runner is shared between tasks and threads (an application's start-up, a web server's
// handlers): it stays `Send + Sync`, lazy or not.
const _: () = {
    fn shared<T: Send + Sync>() {}
    let _ = shared::<Runner>;
};

/// A runner's migrations: their versions and names at once, and recorded when first needed.
/// Clones (a runner [on](Runner::on) another database) share one recording.
#[derive(Clone)]
struct Migrations {
    /// Ordered by version, as the catalog's entries are.
    ids: Arc<[MigrationId]>,
    /// What records them, for a lazy runner (empty when given recorded).
    code: Arc<[(MigrationId, &'static dyn Migration)]>,
    catalog: Arc<std::sync::OnceLock<Catalog>>,
}

impl Migrations {
    fn recorded(catalog: Catalog) -> Migrations {
        Migrations {
            ids: catalog.entries().iter().map(|e| e.id.clone()).collect(),
            code: Arc::new([]),
            catalog: Arc::new(std::sync::OnceLock::from(catalog)),
        }
    }

    fn unrecorded(code: Vec<(MigrationId, &'static dyn Migration)>) -> Migrations {
        let mut ids: Vec<MigrationId> = code.iter().map(|(id, _)| id.clone()).collect();
        // The order `Catalog::new` gives its entries.
        ids.sort();
        Migrations {
            ids: ids.into(),
            code: code.into(),
            catalog: Arc::new(std::sync::OnceLock::new()),
        }
    }

    fn catalog(&self) -> &Catalog {
        self.catalog
            .get_or_init(|| Catalog::new(self.code.iter().map(|(id, m)| (id.clone(), *m))))
    }
}

/// The first migration that names `name` (a schema, or a name with one), for an error.
fn first_naming(names: &godwit_core::SchemaNames, name: &str) -> String {
    names
        .first
        .get(name)
        .map_or_else(|| "(unknown)".to_string(), ToString::to_string)
}
