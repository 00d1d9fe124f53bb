//! godwit-runner: applies and rolls back godwit migrations on PostgreSQL, MySQL/MariaDB and
//! SQLite. The only layer of godwit that does IO.
//!
//! - [`url`]: which database (`--database-url`, `DATABASE_URL`, `.env`), shown without its
//!   password;
//! - `connect`: one sqlx connection per purpose;
//! - [`history`]: the history table;
//! - [`lock`]: the migration lock;
//! - [`introspect`]: a live database's schema ([`live_schema`]), and how it differs from the
//!   schema model ([`diff`]);
//! - [`event`]: what the runner tells an [`Observer`] ([`Event`]), at the bottom: every file may
//!   report through it, and it imports none of them;
//! - [`options`]: the runner's settings and the requests of `up` and `down`; [`report`]: what a
//!   command did; [`status`]: where every migration stands;
//! - [`runner`]: [`Runner`], the public face: `status`, `up`, `down`, `redo`, `fresh`, `repair`,
//!   `copy_to`, `verify`, `drift`, `baseline`;
//! - `checks`: what is refused before anything runs (history against the code, unsafe
//!   operations);
//! - `script`: what will run, compiled without a connection, and the dry run that prints it;
//!   `execute` runs it, `failure` says what a failed step left;
//! - `fresh`: what `fresh` drops; `rebuild`: what a SQLite table rebuild keeps that the
//!   migrations do not know (raw-SQL indexes and triggers, the `AUTOINCREMENT` counter);
//! - [`error`]: what can go wrong, [`Error`].
//!
//! Cargo features `postgres`, `mysql` and `sqlite` (all by default) choose the drivers compiled
//! in; a URL for a backend left out is refused with an error that names the feature.
//!
//! A [`Runner`] applies migrations given as `(MigrationId, &dyn Migration)` pairs (`godwit`'s
//! `godwit::runner(url)` builds one from every registered migration):
//!
//! ```no_run
//! use godwit_core::{Migration, MigrationId, Schema};
//! use godwit_runner::{DatabaseUrl, Runner, Up, UrlSource};
//!
//! struct CreateTags;
//!
//! impl Migration for CreateTags {
//!     fn up(&self, s: &mut Schema) {
//!         s.create_table("tags", |t| {
//!             t.id();
//!             t.string("name", 50).unique();
//!         });
//!     }
//! }
//!
//! # async fn migrate() -> Result<(), godwit_runner::Error> {
//! let url = DatabaseUrl::parse("postgres://app@localhost/blog", UrlSource::Given)?;
//! let id = MigrationId { version: 20261120090000, name: "create_tags".into() };
//! let runner = Runner::new(url, [(id, &CreateTags as &dyn Migration)]);
//! let report = runner.up(&Up::default()).await?;
//! println!("applied {} migration(s)", report.ran.len());
//! println!("up to date: {}", runner.status().await?.is_up_to_date());
//! # Ok(())
//! # }
//! ```
//!
//! **Invariant:** SQL comes only from godwit-core's renderer and from the history, progress,
//! lock, `fresh` and `copy` statements here (`copy/mod.rs` lists its own); nothing else writes SQL.
//! A password never appears in a message.

#![warn(missing_docs)]
// A binary for fewer backends leaves the others' helpers unused, and a match on the connection
// may have a single arm: the full build (all three) is the one linted.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(
        dead_code,
        unused_imports,
        unused_mut,
        irrefutable_let_patterns,
        unreachable_patterns
    )
)]

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!(
    "godwit needs at least one backend: enable the `postgres`, `mysql` or `sqlite` feature \
     (of `godwit`, or of `godwit-runner`)"
);

mod batch;
pub mod cache;
mod checks;
mod connect;
pub mod copy;
pub mod data;
pub mod error;
pub mod event;
mod execute;
mod failure;
mod fresh;
pub mod history;
pub mod introspect;
pub mod live;
pub mod lock;
pub mod options;
mod rebuild;
pub mod report;
pub mod runner;
mod script;
pub mod status;
pub mod url;
mod values;
pub mod verify;

pub use cache::Cache;
pub use copy::{Copied, CopiedTable, CopyOptions};
pub use data::{BoxError, BoxFuture, DataError, Db, Row, RunCode};
pub use error::{Error, Result};
pub use event::{Event, Observer, Quiet, format_time, human_duration};
pub use history::{DEFAULT_TABLE, HistoryRow, RowStatus, checksum};
pub use introspect::{Difference, DifferenceKind, LiveSchema, Object, diff, live_schema};
pub use options::{
    DEFAULT_LOCK_RETRIES, DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Down, DownTarget,
    Options, Up,
};
pub use report::{Ran, Repaired, Report};
pub use runner::Runner;
pub use status::{MigrationStatus, State, Status};
pub use url::{DatabaseUrl, UrlSource, resolve as resolve_url};
pub use verify::{Drift, HalfApplied, RoundTripFailure, Verified};
