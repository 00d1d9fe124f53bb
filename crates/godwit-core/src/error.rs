//! Errors of the plan, model and render layers. Each names the migration it concerns and says
//! how to fix it.

use crate::migration::MigrationId;
use crate::types::Backend;

/// A problem with how migrations are registered, found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("malformed migration file name: {message}; rename the file")]
    BadFileName { file: String, message: String },
    #[error(
        "`{file}` registers two migrations (`{first}` and `{second}`): keep one `register!` per file and move the other into a file of its own"
    )]
    TwoInOneFile {
        file: String,
        first: String,
        second: String,
    },
    #[error(
        "two migrations have version {version}: `{first}` and `{second}`; give one of them a later timestamp in its file name"
    )]
    DuplicateVersion {
        version: u64,
        first: String,
        second: String,
    },
}

/// An operation that does not fit the schema the earlier migrations built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("table `{table}` does not exist{hint}")]
    UnknownTable { table: String, hint: String },
    #[error(
        "table `{table}` already exists: choose another name, or drop or rename the existing table first"
    )]
    TableExists { table: String },
    #[error("column `{table}.{column}` does not exist{hint}")]
    UnknownColumn {
        table: String,
        column: String,
        hint: String,
    },
    #[error(
        "column `{table}.{column}` already exists: choose another name, or drop or rename the existing column first"
    )]
    DuplicateColumn { table: String, column: String },
    #[error("`{name}` does not exist on table `{table}`{hint}")]
    UnknownName {
        table: String,
        name: String,
        hint: String,
    },
    #[error(
        "the name `{name}` is already used by {used_by}: pass `.name(\"...\")` with another name"
    )]
    NameTaken { name: String, used_by: String },
    #[error("{0}")]
    Invalid(String),
}

/// An operation a backend cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{backend} cannot {what}: {fix}")]
    Unsupported {
        backend: Backend,
        what: String,
        fix: String,
    },
    #[error(
        "identifier `{name}` is {len} {unit} long; {backend} allows at most {max}: pass a shorter name"
    )]
    IdentifierTooLong {
        name: String,
        len: usize,
        /// `bytes` on PostgreSQL, `characters` on MySQL.
        unit: &'static str,
        max: usize,
        backend: Backend,
    },
}

/// What can go wrong while planning or rendering a migration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("{0}")]
    Recording(String),
    #[error("cannot be rolled back: {reason}")]
    Irreversible { reason: String },
    #[error("it does not exist: check the version against the migration file names")]
    UnknownVersion(u64),
}

/// An error in one migration, naming it and, when there is one, the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("migration {migration}{}{}: {kind}", if *.direction == "down" { " (down)" } else { "" }, .operation.as_ref().map(|o| format!(", operation #{} {}", o.0 + 1, o.1)).unwrap_or_default())]
pub struct Error {
    pub migration: MigrationId,
    /// `up` or `down`.
    pub direction: &'static str,
    /// The position (from 0) and description of the operation at fault.
    pub operation: Option<(usize, String)>,
    pub kind: ErrorKind,
}
