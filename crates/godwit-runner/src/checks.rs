//! The history checks: what `up` and `down` refuse before anything runs, and why. History
//! against the code (an applied migration changed or missing from the code, a pending one older
//! than the newest applied), half-applied migrations (and which of them `up` resumes), unknown
//! versions, and unsafe operations (lint). Every check works on history rows already read: none
//! does IO.

use std::collections::{BTreeMap, BTreeSet};

use godwit_core::{Backend, MigrationId};

use crate::error::Error;
use crate::history::{self, HistoryRow, RowStatus};
use crate::options::{DownTarget, Up};
use crate::report::Repaired;
use crate::runner::Runner;
use crate::script::has_batched;

impl Runner {
    /// An error unless `version` is a migration of this binary (or, for `down --to`, in history).
    pub(crate) fn check_known(&self, version: u64, rows: &[HistoryRow]) -> Result<(), Error> {
        if self.has_version(version) || rows.iter().any(|r| r.version == version) {
            return Ok(());
        }
        let ids: Vec<&MigrationId> = self.versions().collect();
        let known = match (ids.first(), ids.last()) {
            (Some(first), Some(last)) => format!(
                "the {} migrations run from {} to {}",
                ids.len(),
                first.version,
                last.version
            ),
            _ => "there are no migrations".to_string(),
        };
        Err(Error::UnknownVersion { version, known })
    }

    /// What the next run must do by hand before anything else can run.
    pub(crate) fn check_half_applied(&self, rows: &[HistoryRow]) -> Result<(), Error> {
        self.check_half_applied_but(rows, &BTreeMap::new())
    }

    /// [`check_half_applied`](Self::check_half_applied), except for the migrations `up` resumes.
    pub(crate) fn check_half_applied_but(
        &self,
        rows: &[HistoryRow],
        resumed: &BTreeMap<u64, usize>,
    ) -> Result<(), Error> {
        match rows
            .iter()
            .find(|r| r.status != RowStatus::Applied && !resumed.contains_key(&r.version))
        {
            None => Ok(()),
            Some(r) => Err(Error::HalfApplied {
                id: MigrationId {
                    version: r.version,
                    name: r.name.clone(),
                },
                version: r.version,
                direction: if r.status == RowStatus::PartialDown {
                    "down"
                } else {
                    "up"
                },
                statement: r.statement.unwrap_or(1),
                before: match r.statement.unwrap_or(1) {
                    1 => "no statement before it ran; statement 1 may have, in part or whole \
                          (MySQL/MariaDB commit each DDL statement as it runs)"
                        .to_string(),
                    2 => "statement 1 ran and was committed, and statement 2 may have, in part or \
                          whole"
                        .to_string(),
                    n => format!(
                        "statements 1 to {} ran and were committed, and statement {n} may have, \
                         in part or whole",
                        n - 1
                    ),
                },
                error: r
                    .error
                    .as_deref()
                    .map(|e| format!(" (error: {e})"))
                    .unwrap_or_default(),
                backend_arg: self.backend().as_str(),
                down_flag: if r.status == RowStatus::PartialDown {
                    " --down"
                } else {
                    ""
                },
                table: self.options.history_table.clone(),
            }),
        }
    }

    /// The versions `up` would apply, oldest first, and where it resumes those an earlier run
    /// stopped in: a migration that runs in parts (it has batched steps) resumes at the start
    /// of the part it stopped in, where that part ran in a transaction or is a batched step.
    pub(crate) fn pending_resumed(
        &self,
        rows: &[HistoryRow],
        to: Option<u64>,
    ) -> Result<(Vec<u64>, BTreeMap<u64, usize>), Error> {
        let mut resumed = BTreeMap::new();
        for r in rows.iter().filter(|r| r.status == RowStatus::Partial) {
            if to.is_some_and(|to| r.version > to) || !self.has_version(r.version) {
                continue;
            }
            let Ok(rendered) = self.catalog().render_up(self.backend(), Some(&[r.version])) else {
                continue;
            };
            let Some(rm) = rendered.first() else { continue };
            let at = r.statement.unwrap_or(1);
            // Where it stopped, nothing of the part it stopped in stayed applied: a part in a
            // transaction, a batched step (its batches commit with their progress), or, on
            // MySQL, Rust code (in a transaction of its own there).
            let resumable = at >= 1
                && at <= rm.statements.len()
                && ((has_batched(rm) && self.backend() != Backend::MySql)
                    || rm.statements[at - 1].data.is_some());
            if resumable {
                resumed.insert(r.version, at);
            }
        }
        self.check_half_applied_but(rows, &resumed)?;
        let mut versions: Vec<u64> = resumed.keys().copied().collect();
        versions.extend(self.pending_unchecked(rows, to));
        versions.sort_unstable();
        Ok((versions, resumed))
    }

    /// Whether history, read without the lock, may need work under it: a `partial` row may be
    /// another runner's migration in progress, and is judged only under the lock.
    pub(crate) fn needs_lock(&self, rows: &[HistoryRow], to: Option<u64>) -> bool {
        rows.iter().any(|r| r.status != RowStatus::Applied)
            || !self.pending_unchecked(rows, to).is_empty()
    }

    pub(crate) fn pending_unchecked(&self, rows: &[HistoryRow], to: Option<u64>) -> Vec<u64> {
        let applied: BTreeSet<u64> = rows.iter().map(|r| r.version).collect();
        self.versions()
            .map(|id| id.version)
            .filter(|v| !applied.contains(v) && to.is_none_or(|to| *v <= to))
            .collect()
    }

    /// The versions `down` would roll back, newest first.
    pub(crate) fn to_roll_back(
        &self,
        rows: &[HistoryRow],
        target: DownTarget,
    ) -> Result<Vec<u64>, Error> {
        self.check_half_applied(rows)?;
        let mut applied: Vec<u64> = rows.iter().map(|r| r.version).collect();
        applied.sort_unstable_by(|a, b| b.cmp(a));
        let chosen: Vec<u64> = match target {
            DownTarget::Steps(n) => applied.into_iter().take(n).collect(),
            DownTarget::To(to) => {
                self.check_known(to, rows)?;
                applied.into_iter().take_while(|v| *v > to).collect()
            }
            DownTarget::All => applied,
        };
        for v in &chosen {
            if !self.has_version(*v) {
                return Err(Error::NotInBinary {
                    version: *v,
                    table: self.options.history_table.clone(),
                });
            }
        }
        Ok(chosen)
    }

    /// The checksums, as their code renders now, of the applied migrations that are in the
    /// binary, each computed on its own: one that does not render is in
    /// [`Current::unrenderable`], with the reason, and the others keep their checksums.
    pub(crate) fn current_checksums(&self, rows: &[HistoryRow]) -> Current {
        let known: BTreeSet<u64> = self.versions().map(|id| id.version).collect();
        let mut versions: Vec<u64> = rows
            .iter()
            .filter(|r| r.status == RowStatus::Applied && known.contains(&r.version))
            .map(|r| r.version)
            .collect();
        let mut current: BTreeMap<u64, String> = BTreeMap::new();
        let mut unrenderable: BTreeMap<u64, String> = BTreeMap::new();
        // What this binary computed on an earlier call (see `cache`): a checksum depends on the
        // code alone.
        let section = format!("checksums {}", self.backend().as_str());
        let mut cached = self.cached_checksums(&section);
        versions.retain(|v| match cached.get(v) {
            Some(checksum) => {
                current.insert(*v, checksum.clone());
                false
            }
            None => true,
        });
        let kept = current.len();
        // All at once; a migration that fails is set aside and the rest rendered again.
        while !versions.is_empty() {
            match self.catalog().render_up(self.backend(), Some(&versions)) {
                Ok(ms) => {
                    current.extend(ms.iter().map(|m| (m.id.version, history::checksum(m))));
                    break;
                }
                Err(e) if versions.contains(&e.migration.version) => {
                    versions.retain(|v| *v != e.migration.version);
                    unrenderable.insert(e.migration.version, e.to_string());
                }
                // A migration not applied fails to fold: running them says why.
                Err(_) => break,
            }
        }
        // Only what rendered is kept: a migration that does not render is tried again next
        // time, and the file is written again only when it gains a checksum.
        if current.len() > kept
            && let Some(cache) = &self.cache
        {
            cached.extend(current.iter().map(|(v, c)| (*v, c.clone())));
            let value = cached
                .iter()
                .map(|(v, c)| (v.to_string(), serde_json::Value::String(c.clone())))
                .collect();
            cache.put(&section, serde_json::Value::Object(value));
        }
        // A migration applied by an earlier godwit (one that did not keep every value exactly:
        // MySQL times without microseconds, SQLite decimals as REALs, values inline as given;
        // or that rebuilt a SQLite table once per operation) has the checksum of that
        // rendering: its code did not change, so it stays `applied`.
        for rendering in godwit_core::render::EarlierRendering::ALL {
            let differ: Vec<u64> = rows
                .iter()
                .filter(|r| current.get(&r.version).is_some_and(|c| *c != r.checksum))
                .map(|r| r.version)
                .collect();
            if differ.is_empty() {
                break;
            }
            let Ok(then) =
                self.catalog()
                    .render_up_earlier(rendering, self.backend(), Some(&differ))
            else {
                continue;
            };
            for m in &then {
                let checksum = history::checksum(m);
                if rows
                    .iter()
                    .any(|r| r.version == m.id.version && r.checksum == checksum)
                {
                    current.insert(m.id.version, checksum);
                }
            }
        }
        Current {
            checksums: current,
            unrenderable,
        }
    }

    /// The checksums kept in the cache's `section`, by version (none without a cache).
    fn cached_checksums(&self, section: &str) -> BTreeMap<u64, String> {
        let Some(serde_json::Value::Object(kept)) =
            self.cache.as_ref().and_then(|c| c.get(section))
        else {
            return BTreeMap::new();
        };
        kept.into_iter()
            .filter_map(|(v, c)| Some((v.parse().ok()?, c.as_str()?.to_string())))
            .collect()
    }

    /// Refuse to run when history and the code disagree, unless `up` allows the case: an
    /// applied migration whose code changed, an applied one missing from the code, a pending one
    /// older than the newest applied (to run as `pending`).
    pub(crate) fn check_history(
        &self,
        rows: &[HistoryRow],
        pending: &[u64],
        up: &Up,
    ) -> Result<(), Error> {
        let mut problems = Vec::new();
        if !up.allow_changed {
            let current = self.current_checksums(rows);
            for (v, reason) in &current.unrenderable {
                problems.push(format!(
                    "cannot render: applied migration {v} no longer renders for {}, so whether its \
                     code changed cannot be checked: {reason}; fix the migration (`up --allow-changed` \
                     runs anyway)",
                    self.backend()
                ));
            }
            for r in rows {
                if let Some(now) = current
                    .checksums
                    .get(&r.version)
                    .filter(|c| **c != r.checksum)
                {
                    problems.push(format!(
                        "changed: {} {} differs from what ran (history has checksum {}, its code now {now}); \
                         undo the edit and write a new migration for the change, or, once the edit is reviewed \
                         and the database matches it, run `repair` to record the new checksum \
                         (`up --allow-changed` runs anyway)",
                        r.version, r.name, r.checksum
                    ));
                }
            }
        }
        if !up.allow_missing {
            let known: BTreeSet<u64> = self.versions().map(|id| id.version).collect();
            for r in rows.iter().filter(|r| !known.contains(&r.version)) {
                problems.push(format!(
                    "missing: {} {} is applied but not in the code; restore its file (a merge may have \
                     lost it), or, if it was removed on purpose, run `up --allow-missing`",
                    r.version, r.name
                ));
            }
        }
        if !up.allow_out_of_order
            && let Some(newest) = rows.iter().max_by_key(|r| r.version)
        {
            for v in pending.iter().filter(|v| **v < newest.version) {
                let name = self
                    .versions()
                    .find(|id| id.version == *v)
                    .map(|id| id.name.as_str())
                    .unwrap_or_default();
                problems.push(format!(
                    "out of order: {v} {name} is pending but older than {} {}, the newest applied \
                     (it probably comes from a branch merged late); give it a version newer than {} \
                     (rename its file), or apply it as it is with `up --allow-out-of-order`",
                    newest.version, newest.name, newest.version
                ));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::History {
            count: problems.len(),
            problems: problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }

    /// Refuse `versions` when lint finds an operation in them unsafe on this backend that no
    /// `s.allow(..)` allows (with the live database's context, when it could be read: a change
    /// on a small table is a note).
    pub(crate) fn check_safety(
        &self,
        versions: &[u64],
        live: Option<&godwit_core::LiveContext>,
    ) -> Result<(), Error> {
        if versions.is_empty() {
            return Ok(());
        }
        let findings = self
            .catalog()
            .lint_live(self.backend(), Some(versions), live)?;
        let unsafe_ones: Vec<String> = findings
            .iter()
            .filter(|f| f.is_unsafe())
            .map(|f| {
                f.to_string()
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        if unsafe_ones.is_empty() {
            return Ok(());
        }
        Err(Error::Unsafe {
            backend: self.backend(),
            count: unsafe_ones.len(),
            findings: unsafe_ones.join("\n"),
        })
    }

    /// The applied migrations whose checksum (or name) history has differs from their code's
    /// now, with both checksums: what `repair` records.
    pub(crate) fn to_repair(&self, rows: &[HistoryRow]) -> Vec<Repaired> {
        let current = self.current_checksums(rows).checksums;
        let mut repaired = Vec::new();
        for r in rows {
            let Some(id) = self.versions().find(|id| id.version == r.version) else {
                continue;
            };
            let Some(now) = current.get(&r.version) else {
                continue;
            };
            if *now != r.checksum || id.name != r.name {
                repaired.push(Repaired {
                    id: id.clone(),
                    recorded: r.checksum.clone(),
                    current: now.clone(),
                });
            }
        }
        repaired
    }

    /// What `up` refuses whatever history says: an unknown `--to`, one transaction for all on
    /// MySQL.
    pub(crate) fn check_up(&self, up: &Up) -> Result<(), Error> {
        if let Some(to) = up.to {
            self.check_known(to, &[])?;
        }
        if up.single_transaction && self.backend() == Backend::MySql {
            return Err(Error::SingleTransactionUnsupported {
                backend: self.backend(),
            });
        }
        Ok(())
    }
}

/// The checksums of the applied migrations' code now ([`Runner::current_checksums`]).
#[derive(Debug, Default)]
pub(crate) struct Current {
    pub checksums: BTreeMap<u64, String>,
    /// The applied migrations that do not render on this backend now, with the reason.
    pub unrenderable: BTreeMap<u64, String>,
}
