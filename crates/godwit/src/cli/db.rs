//! What the commands that touch a database share: their options, the database URL, the runner,
//! the async runtime and Ctrl-C, progress on the terminal, and exit codes.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use godwit_core::Timeouts;
use godwit_runner::{DatabaseUrl, Event, Observer, Options, Runner};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Context, Failure, registry};

/// Exit code of `status --check` when a migration is pending or half-applied.
pub(crate) const EXIT_PENDING: u8 = 3;
/// Exit code when another runner held the lock past `--deploy-lock-timeout`.
pub(crate) const EXIT_LOCKED: u8 = 4;
/// Exit code when `up` refused migrations that lint finds unsafe (as `lint` exits).
pub(crate) const EXIT_UNSAFE: u8 = super::lint::UNSAFE;
/// Exit code when history and the code disagree (changed, missing or out-of-order migrations).
pub(crate) const EXIT_HISTORY: u8 = 6;
/// Exit code after Ctrl-C.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Exit code after SIGTERM.
pub(crate) const EXIT_TERMINATED: u8 = 143;

/// Options of every command that connects to a database.
#[derive(Debug, Clone, Args)]
pub(crate) struct DbArgs {
    /// The database [default: DATABASE_URL, else DATABASE_URL in .env, else the crate's SQLite dev.db]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// The history table's name; on PostgreSQL `schema.name` keeps it in a schema of its own
    /// (made if missing)
    #[arg(long, value_name = "NAME", default_value = godwit_runner::DEFAULT_TABLE)]
    pub history_table: String,
    /// Seconds to wait for another deploy's migration lock before giving up (exit code 4)
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub deploy_lock_timeout: f64,
    /// Print machine-readable JSON on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

impl DbArgs {
    /// The database URL: `--database-url`, `DATABASE_URL`, `.env`, then the project's default.
    pub(crate) fn url(&self, cx: &Context<'_>) -> anyhow::Result<DatabaseUrl> {
        let default = cx.project.default_database_url();
        let url = godwit_runner::resolve_url(
            self.database_url.as_deref(),
            cx.database_url.as_deref(),
            cx.cwd.as_deref(),
            Some(&default),
        )?;
        url.ok_or_else(|| anyhow!("no database URL: pass --database-url or set DATABASE_URL"))
    }

    fn options(&self) -> anyhow::Result<Options> {
        Ok(Options::default()
            .history_table(self.history_table.clone())
            .deploy_lock_timeout(seconds("--deploy-lock-timeout", self.deploy_lock_timeout)?))
    }
}

/// `value` seconds as a duration, or an error naming `flag` when it is not 0 or more.
fn seconds(flag: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(anyhow!(
            "{flag} must be a number of seconds, 0 or more (it is {value})"
        ));
    }
    Ok(Duration::from_secs_f64(value.min(86_400.0 * 365.0)))
}

/// The timeouts of the commands that run migrations: defaults for the migrations that do not
/// set their own.
#[derive(Debug, Clone, Args)]
pub(crate) struct TimeoutArgs {
    /// Seconds each statement may wait for a lock on a table before it fails (PostgreSQL
    /// lock_timeout, MySQL lock_wait_timeout, SQLite busy timeout); 0 waits forever
    /// [default: 5, or the migration's s.lock_timeout(..)]
    #[arg(long, value_name = "SECONDS")]
    pub lock_timeout: Option<f64>,
    /// Seconds each statement may run before the database cancels it; 0 for no limit
    /// [default: 3600, or the migration's s.statement_timeout(..)]
    #[arg(long, value_name = "SECONDS")]
    pub statement_timeout: Option<f64>,
    /// How many times a migration that timed out waiting for a lock is tried again, with a
    /// doubling pause from 1 s, when nothing of it stayed applied
    /// [default: 3, or the migration's s.lock_retries(..)]
    #[arg(long, value_name = "N")]
    pub lock_retries: Option<u32>,
}

impl TimeoutArgs {
    pub(crate) fn timeouts(&self) -> anyhow::Result<Timeouts> {
        Ok(Timeouts {
            lock: self
                .lock_timeout
                .map(|s| seconds("--lock-timeout", s))
                .transpose()?,
            statement: self
                .statement_timeout
                .map(|s| seconds("--statement-timeout", s))
                .transpose()?,
            lock_retries: self.lock_retries,
        })
    }
}

/// The runner for `args`' database and every registered migration, watched by a [`Terminal`],
/// with the default timeouts of `timeouts` when given.
pub(crate) fn migrating_runner(
    cx: &Context<'_>,
    args: &DbArgs,
    timeouts: &TimeoutArgs,
    terminal: Arc<Terminal>,
) -> Result<Runner, Failure> {
    let runner = runner(cx, args, terminal)?;
    let options = runner.options().clone().timeouts(timeouts.timeouts()?);
    Ok(runner.with_options(options))
}

/// The runner for `args`' database and every registered migration, watched by a [`Terminal`].
pub(crate) fn runner(
    cx: &Context<'_>,
    args: &DbArgs,
    terminal: Arc<Terminal>,
) -> Result<Runner, Failure> {
    let resolved = registry::load(cx).map_err(Failure::Errors)?;
    let url = args.url(cx)?;
    let runner = Runner::lazy(
        url,
        resolved.iter().map(|(id, r)| (id.clone(), r.migration)),
    )
    .with_options(args.options()?)
    .with_observer(terminal);
    Ok(match &cx.cache {
        Some(cache) => runner.with_cache(cache.clone()),
        None => runner,
    })
}

/// Run `future` to completion on a runtime of its own; Ctrl-C stops it, which drops its
/// connections: the server rolls back the open transaction and releases the lock.
pub(crate) fn block_on<T>(
    future: impl Future<Output = Result<T, godwit_runner::Error>>,
) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let stopped = |code: u8, by: &str| {
            Err(Failure::Exit {
                code,
                errors: vec![anyhow!(
                    "{by}: the connection was closed, which rolls back the migration in progress \
                     where the backend has transactional DDL and releases the lock; run `status` to see where it stopped"
                )],
            })
        };
        tokio::select! {
            result = future => result.map_err(failure),
            _ = tokio::signal::ctrl_c() => stopped(EXIT_INTERRUPTED, "interrupted"),
            _ = terminated() => stopped(EXIT_TERMINATED, "terminated (SIGTERM)"),
        }
    })
}

/// SIGTERM, what systemd, Kubernetes and CI send to stop a process; never elsewhere.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

/// A runner error as a failure with its exit code.
fn failure(e: godwit_runner::Error) -> Failure {
    let code = match e {
        godwit_runner::Error::LockTimeout { .. } => EXIT_LOCKED,
        godwit_runner::Error::Unsafe { .. } => EXIT_UNSAFE,
        godwit_runner::Error::History { .. } => EXIT_HISTORY,
        _ => 1,
    };
    Failure::Exit {
        code,
        errors: vec![anyhow::Error::new(e)],
    }
}

/// Whether text on stdout gets colors: on a terminal, unless `NO_COLOR` is set.
pub(crate) fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Progress and messages on stderr while a command runs.
#[derive(Debug)]
pub(crate) struct Terminal {
    bar: Option<ProgressBar>,
    /// Migrations of one run from which the bar shows.
    threshold: usize,
    /// Whether stderr is a terminal and progress is wanted.
    tty: bool,
    quiet: bool,
    /// The batched task in progress: its bar on a terminal, or when its last log line was.
    batch: std::sync::Mutex<Option<BatchProgress>>,
    /// The migrations this run finished, `<direction> <id> (<time>)`: a failure lists them.
    finished: std::sync::Mutex<Vec<String>>,
}

#[derive(Debug)]
struct BatchProgress {
    task: String,
    bar: Option<ProgressBar>,
    logged: std::time::Instant,
    /// When the last batch committed, since the task began; the longest time between two.
    last: Duration,
    longest: Duration,
}

/// How many of the first and of the last migrations a failed run lists as finished.
const FINISHED_SHOWN: usize = 3;

/// Without a terminal, a batched task logs a line this often.
const BATCH_LOG_EVERY: Duration = Duration::from_secs(5);

impl Terminal {
    /// A progress bar on stderr when it is a terminal (hidden otherwise, or with `quiet`).
    pub(crate) fn new(quiet: bool) -> Terminal {
        let tty = std::io::stderr().is_terminal();
        let bar = (tty && !quiet).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Terminal {
            bar,
            threshold: 5,
            tty,
            quiet,
            batch: std::sync::Mutex::new(None),
            finished: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// `failure` with the migrations this run finished before it, so that a failed run says
    /// what it changed.
    pub(crate) fn with_finished(&self, failure: Failure) -> Failure {
        let finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        if finished.is_empty() {
            return failure;
        }
        // A long run lists its first and last migrations, not thousands of lines.
        let note = if finished.len() > FINISHED_SHOWN * 2 {
            format!(
                "before it stopped, this run finished {} migrations: {}, ... ({} more), {} \
                 (`status` lists them)",
                finished.len(),
                finished[..FINISHED_SHOWN].join(", "),
                finished.len() - FINISHED_SHOWN * 2,
                finished[finished.len() - FINISHED_SHOWN..].join(", ")
            )
        } else {
            format!(
                "before it stopped, this run finished: {}",
                finished.join(", ")
            )
        };
        match failure {
            Failure::Exit { code, mut errors } => {
                if let Some(last) = errors.pop() {
                    errors.push(anyhow!("{last:#}\n  {note}"));
                }
                Failure::Exit { code, errors }
            }
            Failure::Errors(mut errors) => {
                if let Some(last) = errors.pop() {
                    errors.push(anyhow!("{last:#}\n  {note}"));
                }
                Failure::Errors(errors)
            }
            usage => usage,
        }
    }

    /// A batched task's progress: a bar with rows, rate and ETA on a terminal, otherwise a log
    /// line every few seconds.
    fn batch(
        &self,
        task: &str,
        done: u64,
        done_before: u64,
        total: Option<u64>,
        elapsed: Duration,
    ) {
        if self.quiet {
            return;
        }
        let mut current = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|c| c.task != task) {
            if let Some(old) = current.take().and_then(|c| c.bar) {
                old.finish_and_clear();
            }
            let bar = self.tty.then(|| {
                let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(task.to_string());
                bar.set_position(done_before);
                bar.reset_eta();
                bar
            });
            if let Some(main) = &self.bar {
                main.set_draw_target(ProgressDrawTarget::hidden());
            }
            *current = Some(BatchProgress {
                task: task.to_string(),
                bar,
                logged: std::time::Instant::now(),
                last: Duration::ZERO,
                longest: Duration::ZERO,
            });
        }
        let Some(c) = current.as_mut() else { return };
        c.longest = c.longest.max(elapsed.saturating_sub(c.last));
        c.last = elapsed;
        match &c.bar {
            Some(bar) => {
                if let Some(total) = total {
                    bar.set_length(total.max(done));
                }
                bar.set_position(done);
            }
            None if c.logged.elapsed() >= BATCH_LOG_EVERY => {
                c.logged = std::time::Instant::now();
                eprintln!("{}", batch_line(task, done, done_before, total, elapsed));
            }
            None => {}
        }
    }

    fn batch_done(&self, task: &str, done: u64, elapsed: Duration) {
        if self.quiet {
            return;
        }
        let mut current = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        let longest = match current.take() {
            Some(c) if c.task == task => {
                if let Some(bar) = c.bar {
                    bar.finish_and_clear();
                }
                format!(" (longest batch {} ms)", c.longest.as_millis())
            }
            _ => String::new(),
        };
        eprintln!(
            "{task}: {done} rows done in {}{longest}",
            duration(elapsed.as_millis())
        );
    }

    fn say(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Terminal {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::WaitingForLock { holder, timeout } => self.say(&format!(
                "waiting for the migration lock, held by {holder} (up to {} s)",
                timeout.as_secs()
            )),
            Event::Plan { direction, total } => {
                if let Some(bar) = &self.bar {
                    if *total >= self.threshold {
                        bar.set_length(*total as u64);
                        bar.set_position(0);
                        bar.set_message(format!("{direction} ..."));
                        bar.enable_steady_tick(Duration::from_millis(120));
                    } else {
                        bar.set_draw_target(ProgressDrawTarget::hidden());
                    }
                }
            }
            Event::Started { id, direction } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{direction} {id}"));
                }
            }
            Event::Retrying {
                id,
                direction,
                attempt,
                retries,
                pause,
                reason,
            } => self.say(&format!(
                "{direction} {id} timed out waiting for a lock ({reason}); nothing of it stays applied: \
                 retry {attempt} of {retries} in {}",
                godwit_runner::human_duration(*pause)
            )),
            Event::Finished {
                id,
                direction,
                elapsed,
            } => {
                self.finished
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!(
                        "{direction} {id} ({})",
                        godwit_runner::human_duration(*elapsed)
                    ));
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::Batch {
                task,
                done,
                done_before,
                total,
                elapsed,
            } => self.batch(task, *done, *done_before, *total, *elapsed),
            Event::BatchDone {
                task,
                done,
                elapsed,
            } => self.batch_done(task, *done, *elapsed),
            _ => {}
        }
    }
}

/// A batched task's log line: rows done, rate in this run, and time left when the total is known.
pub(crate) fn batch_line(
    task: &str,
    done: u64,
    done_before: u64,
    total: Option<u64>,
    elapsed: Duration,
) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        (done.saturating_sub(done_before)) as f64 / secs
    } else {
        0.0
    };
    let mut line = format!("{task}: {done}");
    if let Some(total) = total {
        let total = total.max(done);
        let pct = if total == 0 {
            100.0
        } else {
            done as f64 * 100.0 / total as f64
        };
        line.push_str(&format!("/{total} rows ({pct:.0}%)"));
        line.push_str(&format!(", {rate:.0} rows/s"));
        if rate > 0.0 {
            let left = Duration::from_secs_f64((total - done) as f64 / rate);
            line.push_str(&format!(", about {} left", duration(left.as_millis())));
        }
    } else {
        line.push_str(&format!(" rows, {rate:.0} rows/s"));
    }
    line
}

/// `ms` as `12 ms` or `3.4 s`.
pub(crate) fn duration(ms: u128) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// `text` in an ANSI color when `on`.
pub(crate) fn paint(text: &str, color: u8, on: bool) -> String {
    if on {
        format!("\x1b[{color}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub(crate) const GREEN: u8 = 32;
pub(crate) const YELLOW: u8 = 33;
pub(crate) const RED: u8 = 31;
pub(crate) const MAGENTA: u8 = 35;

#[cfg(test)]
mod tests {
    use super::*;

    fn failure_after(finished: usize) -> String {
        let terminal = Terminal::new(true);
        terminal
            .finished
            .lock()
            .unwrap()
            .extend((1..=finished).map(|n| format!("up {n} m{n} (1 ms)")));
        match terminal.with_finished(Failure::Errors(vec![anyhow!("it failed")])) {
            Failure::Errors(errors) => format!("{:#}", errors[0]),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_failed_run_lists_what_it_finished_and_no_more_than_six() {
        assert_eq!(
            failure_after(2),
            "it failed\n  before it stopped, this run finished: up 1 m1 (1 ms), up 2 m2 (1 ms)"
        );
        assert_eq!(
            failure_after(2100),
            "it failed\n  before it stopped, this run finished 2100 migrations: up 1 m1 (1 ms), \
             up 2 m2 (1 ms), up 3 m3 (1 ms), ... (2094 more), up 2098 m2098 (1 ms), up 2099 \
             m2099 (1 ms), up 2100 m2100 (1 ms) (`status` lists them)"
        );
        assert_eq!(failure_after(0), "it failed");
    }
}
