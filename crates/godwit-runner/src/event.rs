//! What the runner tells whoever watches it ([`Event`], [`Observer`]), and how times and durations
//! read in what it tells. At the bottom of the crate: the lock, batched steps, `copy` and the
//! runner report through it, and it imports none of them.

use std::time::Duration;

use godwit_core::MigrationId;
use time::OffsetDateTime;

/// What the runner tells whoever watches it: the CLI prints these and drives its progress bar.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Another runner holds the lock; this one waits up to `timeout`.
    WaitingForLock {
        /// Who holds it: the backend's session or connection, or the process named in the lock
        /// file.
        holder: &'a str,
        /// How long this runner waits before it gives up (the deploy lock timeout).
        timeout: Duration,
    },
    /// `total` migrations are about to run in `direction`.
    Plan {
        /// `up` or `down`.
        direction: &'static str,
        /// How many migrations will run.
        total: usize,
    },
    /// A migration starts.
    Started {
        /// The migration.
        id: &'a MigrationId,
        /// `up` or `down`.
        direction: &'static str,
    },
    /// A migration timed out waiting for a lock and nothing of the try stays applied: it is
    /// tried again after `pause` (try `attempt` + 1 of `retries` + 1).
    Retrying {
        /// The migration.
        id: &'a MigrationId,
        /// `up` or `down`.
        direction: &'static str,
        /// How many tries have timed out so far: 1 after the first.
        attempt: u32,
        /// How many times it may be tried again after the first try.
        retries: u32,
        /// How long the runner waits before the next try; it doubles with each attempt.
        pause: Duration,
        /// The database's error.
        reason: &'a str,
    },
    /// A migration's statements and history write are done (committed, unless the whole run is
    /// one transaction).
    Finished {
        /// The migration.
        id: &'a MigrationId,
        /// `up` or `down`.
        direction: &'static str,
        /// How long it took.
        elapsed: Duration,
    },
    /// A batched task (a backfill, `copy_rows`, a table of `copy`) committed a batch: `done`
    /// rows so far of about `total` (when known), `elapsed` since this run of it began, of
    /// which `done_before` rows were done by an earlier, interrupted run.
    Batch {
        /// What the task is called: `backfill("users")`, `copy "books"`.
        task: &'a str,
        /// Rows done so far, those of earlier runs included.
        done: u64,
        /// Rows an earlier, interrupted run had done.
        done_before: u64,
        /// About how many rows there are in all, when known.
        total: Option<u64>,
        /// Time since this run of the task began.
        elapsed: Duration,
    },
    /// A batched task finished: `done` rows in all, `elapsed` in this run.
    BatchDone {
        /// What the task is called: `backfill("users")`, `copy "books"`.
        task: &'a str,
        /// Rows done in all, those of earlier runs included.
        done: u64,
        /// Time this run of the task took.
        elapsed: Duration,
    },
}

/// Watches a [`Runner`](crate::Runner). Every method has a default that does nothing.
pub trait Observer: Send + Sync {
    /// Called for each [`Event`] as it happens; the runner waits for it to return.
    fn event(&self, event: &Event<'_>) {
        let _ = event;
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// `2026-11-20 09:00:00 UTC`.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A duration in its largest whole unit: `(5, "s")`, `(1, "h")`, `(250, "ms")`.
pub(crate) fn in_unit(d: Duration) -> (u128, &'static str) {
    let ms = d.as_millis();
    match ms {
        0 => (0, "ms"),
        ms if ms % 3_600_000 == 0 => (ms / 3_600_000, "h"),
        ms if ms % 60_000 == 0 => (ms / 60_000, "min"),
        ms if ms % 1000 == 0 => (ms / 1000, "s"),
        ms => (ms, "ms"),
    }
}

/// A duration for messages: `5 s`, `1 h`, `250 ms`; `no limit` for zero.
pub fn human_duration(d: Duration) -> String {
    match in_unit(d) {
        (0, _) => "no limit".to_string(),
        (n, unit) => format!("{n} {unit}"),
    }
}
