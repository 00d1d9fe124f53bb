//! Where every migration stands ([`Status`]): history read against the code, one
//! [`State`] per migration. Built from rows already read; reading them is the runner's.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::Backend;

use crate::history::{HistoryRow, RowStatus};
use crate::runner::Runner;

/// Where one migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied, and its code is unchanged since it ran.
    Applied,
    /// Not applied yet.
    Pending,
    /// `up` stopped part-way; see the row's `statement` and `error`.
    Partial,
    /// `down` stopped part-way.
    PartialDown,
    /// In history, but this binary has no migration with that version: missing from the code.
    Missing,
    /// Applied, but what it does now differs from what ran: its checksum changed.
    Changed,
    /// Pending, but older than the newest applied migration (merged from another branch).
    OutOfOrder,
    /// Applied, but its code no longer renders for this backend: whether it changed cannot be
    /// checked ([`MigrationStatus::render_error`] says why).
    Unrenderable,
}

impl State {
    /// The state as `status` shows it: `applied`, `pending`, `partial`, `partial_down`, `missing`,
    /// `changed`, `out_of_order` or `cannot_render`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Partial => "partial",
            State::PartialDown => "partial_down",
            State::Missing => "missing",
            State::Changed => "changed",
            State::OutOfOrder => "out_of_order",
            State::Unrenderable => "cannot_render",
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    /// The migration's version.
    pub version: u64,
    /// The migration's name in the code, or in history for a [`State::Missing`] one.
    pub name: String,
    /// Where it stands.
    pub state: State,
    /// Its history row, when it has one.
    pub row: Option<HistoryRow>,
    /// The checksum of its code now, when it is applied and in the binary (it differs from the
    /// row's when the state is `Changed`).
    pub current_checksum: Option<String>,
    /// Why its code does not render now, for [`State::Unrenderable`].
    pub render_error: Option<String>,
}

/// Every migration, applied or not.
#[derive(Debug, Clone)]
pub struct Status {
    /// The backend of the database.
    pub backend: Backend,
    /// The database URL, redacted.
    pub database: String,
    /// The history table's name.
    pub history_table: String,
    /// False when the history table does not exist yet (nothing was ever applied).
    pub history_exists: bool,
    /// By version; migrations in history but not in the binary too.
    pub migrations: Vec<MigrationStatus>,
}

impl Status {
    /// How many migrations are in `state`.
    pub fn count(&self, state: State) -> usize {
        self.migrations.iter().filter(|m| m.state == state).count()
    }
    /// Whether every migration is applied as it is in the code: nothing pending, half-applied,
    /// changed, missing or out of order.
    pub fn is_up_to_date(&self) -> bool {
        self.migrations.iter().all(|m| m.state == State::Applied)
    }
}

impl Runner {
    /// Every migration's state, from history `rows` (`exists`: whether the table exists).
    pub(crate) fn status_of(&self, exists: bool, rows: Vec<HistoryRow>) -> Status {
        let crate::checks::Current {
            checksums: current,
            unrenderable,
        } = self.current_checksums(&rows);
        let newest = rows.iter().map(|r| r.version).max();
        let by_version: BTreeMap<u64, &HistoryRow> = rows.iter().map(|r| (r.version, r)).collect();
        let mut migrations: Vec<MigrationStatus> = self
            .versions()
            .map(|id| {
                let row = by_version.get(&id.version).map(|r| (*r).clone());
                let current_checksum = current.get(&id.version).cloned();
                let state = match row.as_ref() {
                    None if newest.is_some_and(|n| id.version < n) => State::OutOfOrder,
                    None => State::Pending,
                    Some(r) => match r.status {
                        RowStatus::Applied if unrenderable.contains_key(&id.version) => {
                            State::Unrenderable
                        }
                        RowStatus::Applied
                            if current_checksum.as_ref().is_some_and(|c| *c != r.checksum) =>
                        {
                            State::Changed
                        }
                        RowStatus::Applied => State::Applied,
                        RowStatus::Partial => State::Partial,
                        RowStatus::PartialDown => State::PartialDown,
                    },
                };
                MigrationStatus {
                    version: id.version,
                    name: id.name.clone(),
                    state,
                    row,
                    current_checksum,
                    render_error: unrenderable.get(&id.version).cloned(),
                }
            })
            .collect();
        let known: BTreeSet<u64> = self.versions().map(|id| id.version).collect();
        for r in &rows {
            if !known.contains(&r.version) {
                migrations.push(MigrationStatus {
                    version: r.version,
                    name: r.name.clone(),
                    state: State::Missing,
                    row: Some(r.clone()),
                    current_checksum: None,
                    render_error: None,
                });
            }
        }
        migrations.sort_by_key(|m| m.version);
        Status {
            backend: self.backend(),
            database: self.url.redacted().to_string(),
            history_table: self.options.history_table.clone(),
            history_exists: exists,
            migrations,
        }
    }
}
