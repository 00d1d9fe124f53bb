//! Errors of the plan, model and render layers. Each names the migration it concerns and says
//! how to fix it.

use crate::migration::MigrationId;
use crate::types::Backend;

/// A problem with how migrations are registered, found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A migration's file name is not of the form `mYYYYMMDD_HHMMSS_snake_name.rs`.
    #[error("malformed migration file name: {message}; rename the file")]
    BadFileName {
        /// The file, as `file!()` gave it to `register!`.
        file: String,
        /// What is wrong with the name, and the form expected.
        message: String,
    },
    /// One file registers two migrations.
    #[error(
        "`{file}` registers two migrations (`{first}` and `{second}`): keep one `register!` per file and move the other into a file of its own"
    )]
    TwoInOneFile {
        /// The file, as `file!()` gave it to `register!`.
        file: String,
        /// The type of one of the two registrations, as written in `register!`.
        first: String,
        /// The type of the other registration, as written in `register!`.
        second: String,
    },
    /// Two migration files have the same version (the same timestamp).
    #[error(
        "two migrations have version {version}: `{first}` and `{second}`; give one of them a later timestamp in its file name"
    )]
    DuplicateVersion {
        /// The version both files have.
        version: u64,
        /// One of the two files.
        first: String,
        /// The other file.
        second: String,
    },
}

/// An operation that does not fit the schema the earlier migrations built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A table the operation names does not exist.
    #[error("table `{table}` does not exist{hint}")]
    UnknownTable {
        /// The table named.
        table: String,
        /// The tables that do exist, as text appended to the message; empty when there are
        /// none.
        hint: String,
    },
    /// A table to create, or a table's new name, is the name of a table that exists.
    #[error(
        "table `{table}` already exists: choose another name, or drop or rename the existing table first"
    )]
    TableExists {
        /// The name already taken.
        table: String,
    },
    /// A column the operation names does not exist.
    #[error("column `{table}.{column}` does not exist{hint}")]
    UnknownColumn {
        /// The table the column was looked for in.
        table: String,
        /// The column named.
        column: String,
        /// The columns the table has, as text appended to the message; may be empty.
        hint: String,
    },
    /// A column name would be used twice in a table: by a column added or renamed, or by two
    /// columns of a table created.
    #[error(
        "column `{table}.{column}` already exists: choose another name, or drop or rename the existing column first"
    )]
    DuplicateColumn {
        /// The table the column is in.
        table: String,
        /// The name already taken.
        column: String,
    },
    /// An index or constraint the operation names does not exist on the table.
    #[error("`{name}` does not exist on table `{table}`{hint}")]
    UnknownName {
        /// The table it was looked for on.
        table: String,
        /// The index or constraint named.
        name: String,
        /// The names of that kind the table has, as text appended to the message; may be
        /// empty.
        hint: String,
    },
    /// An index or constraint name is already used, anywhere in the schema: they must be
    /// unique across it.
    #[error(
        "the name `{name}` is already used by {used_by}: pass `.name(\"...\")` with another name"
    )]
    NameTaken {
        /// The name.
        name: String,
        /// What already uses it, worded for the message: "a foreign key on `posts`", say.
        used_by: String,
    },
    /// Any other operation the schema does not allow; the message says why and how to fix it.
    #[error("{0}")]
    Invalid(String),
}

/// An operation a backend cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The backend has no way to do what the operation asks.
    #[error("{backend} cannot {what}: {fix}")]
    Unsupported {
        /// The backend rendered for.
        backend: Backend,
        /// What it cannot do, worded to follow `cannot` in the message.
        what: String,
        /// How to change the migration so that it renders.
        fix: String,
    },
    /// A name the operation introduces (table, column, index or constraint) is longer than
    /// the backend allows.
    #[error(
        "identifier `{name}` is {len} {unit} long; {backend} allows at most {max}: pass a shorter name"
    )]
    IdentifierTooLong {
        /// The name.
        name: String,
        /// Its length, in `unit`s.
        len: usize,
        /// `bytes` on PostgreSQL, `characters` on MySQL.
        unit: &'static str,
        /// The longest name the backend allows, in `unit`s.
        max: usize,
        /// The backend whose limit the name exceeds.
        backend: Backend,
    },
}

/// What can go wrong while planning or rendering a migration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operation does not fit the schema the earlier migrations built.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The backend cannot express the operation.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A mistake found while `up` or `down` was recorded (see
    /// [`Plan::errors`](crate::Plan::errors)).
    #[error("{0}")]
    Recording(String),
    /// The migration cannot be rolled back: it is marked irreversible, or an operation has no
    /// inverse to derive `down` from.
    #[error("cannot be rolled back: {reason}")]
    Irreversible {
        /// Why, and what to do about it.
        reason: String,
    },
    /// No migration has this version.
    #[error("it does not exist: check the version against the migration file names")]
    UnknownVersion(u64),
}

/// An error in one migration, naming it and, when there is one, the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("migration {migration}{}{}: {kind}", if *.direction == "down" { " (down)" } else { "" }, .operation.as_ref().map(|o| format!(", operation #{} {}", o.0 + 1, o.1)).unwrap_or_default())]
pub struct Error {
    /// The migration at fault; for [`ErrorKind::UnknownVersion`], the version asked for, with the
    /// name `(no such version)`.
    pub migration: MigrationId,
    /// `up` or `down`.
    pub direction: &'static str,
    /// The position (from 0) and description of the operation at fault.
    pub operation: Option<(usize, String)>,
    /// What went wrong.
    pub kind: ErrorKind,
}
