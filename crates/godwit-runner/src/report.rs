//! What a command did: the migrations that ran ([`Report`], [`Ran`]), and what `repair`
//! recorded ([`Repaired`]).

use std::time::Duration;

use godwit_core::{Backend, MigrationId};

/// A migration whose recorded checksum `repair` replaced.
#[derive(Debug, Clone)]
pub struct Repaired {
    /// The migration.
    pub id: MigrationId,
    /// The checksum history had.
    pub recorded: String,
    /// The checksum of its code now, recorded instead.
    pub current: String,
}

/// One migration that ran.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The migration.
    pub id: MigrationId,
    /// `up` or `down`.
    pub direction: &'static str,
    /// How long it took.
    pub elapsed: Duration,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The backend of the database.
    pub backend: Backend,
    /// The migrations that ran, in order.
    pub ran: Vec<Ran>,
    /// For a dry run: the exact SQL that would run, history writes included.
    pub sql: Option<String>,
}
