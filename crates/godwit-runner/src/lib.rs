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
//! - [`runner`]: [`Runner`], with `status`, `up`, `down`, `redo` and `fresh`;
//! - [`error`]: what can go wrong, [`Error`].
//!
//! **Invariant:** SQL comes only from godwit-core's renderer and from the history, progress,
//! lock, `fresh` and `copy` statements here (`copy.rs` lists its own); nothing else writes SQL.
//! A password never appears in a message.

mod batch;
mod connect;
pub mod copy;
pub mod data;
pub mod error;
pub mod history;
pub mod introspect;
pub mod lock;
pub mod runner;
pub mod url;
mod values;
pub mod verify;

pub use copy::{Copied, CopiedTable, CopyOptions};
pub use data::{BoxError, BoxFuture, DataError, Db, Row, RunCode};
pub use error::{Error, Result};
pub use history::{DEFAULT_TABLE, HistoryRow, RowStatus, checksum};
pub use introspect::{Difference, DifferenceKind, LiveSchema, Object, diff, live_schema};
pub use runner::{
    DEFAULT_LOCK_RETRIES, DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT, Down, DownTarget, Event,
    MigrationStatus, Observer, Options, Quiet, Ran, Repaired, Report, Runner, State, Status, Up,
    format_time, human_duration,
};
pub use url::{DatabaseUrl, UrlSource, resolve as resolve_url};
pub use verify::{RoundTripFailure, Verified};
