//! `cargo xtask bench apply`: applying 1,000 migrations (each a table with an index) to a fresh
//! database, godwit against the database's own client running the same SQL.
//!
//! It builds the generated crate of `bench compile` in release mode (what a deploy runs), writes
//! the SQL with the binary's own `sql` command, and measures the wall time, process start
//! included, of:
//!
//! - PostgreSQL: `psql -1 -f all.sql` (one transaction); `up` (one transaction per migration);
//!   `up --single-transaction`; `up` when nothing is pending;
//! - SQLite: `sqlite3 db < all.sql` wrapped in `BEGIN; ... COMMIT;`; `up`;
//!   `up --single-transaction`; `up` when nothing is pending;
//! - MariaDB: `mysql db < all.sql`; `up` (statement by statement: its DDL commits implicitly);
//!   `up` when nothing is pending.
//!
//! Beside them, sqlx-cli (the peer; installed once into `target/godwit-bench/sqlx-cli` with
//! `cargo install sqlx-cli --version ^0.9 --no-default-features --features
//! postgres,mysql,sqlite,rustls`) applies the same SQL, one file per migration as it reads them
//! (`sqlx migrate run`, a transaction per migration), and `sqlx migrate info` is measured against
//! godwit's `status`, each with 1,000 migrations applied by itself.
//!
//! Every run starts from a new database (on PostgreSQL, after a `CHECKPOINT`), and the variants
//! take turns, one run each per round, each round starting one variant later, so that a busy
//! moment of the machine falls on all of them alike; the report gives the median and the fastest run. The servers are the test suite's:
//! `GODWIT_TEST_POSTGRES_URL` and `GODWIT_TEST_MYSQL_URL` (see `.ci/run`).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};

use super::Args;
use super::compile::{PACKAGE, cargo, median, write_crate};

const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MYSQL_DEFAULT: &str = "mysql://godwit:godwit@127.0.0.1:3306/test";

pub fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.migrations >= 1 && args.runs >= 1,
        "--migrations and --runs must be at least 1"
    );
    for tool in ["psql", "sqlite3", "mysql"] {
        ensure!(
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "`{tool}` is not installed: the benchmark compares godwit with it \
             (Debian: apt-get install -y postgresql-client sqlite3 mariadb-client)"
        );
    }
    let root = crate::workspace_root();
    let dir = root.join("target").join("godwit-bench");
    let sqlx = sqlx_cli(&dir)?;
    write_crate(&root, &dir, args.migrations, false)?;
    eprintln!("building the migrations binary in release mode (not measured) ...");
    cargo(&dir, &["build", "--release"])?;
    let bin = dir.join("target/release").join(PACKAGE);
    let work = dir.join("apply");
    fs::create_dir_all(&work).with_context(|| format!("cannot create `{}`", work.display()))?;

    let postgres = std::env::var("GODWIT_TEST_POSTGRES_URL").unwrap_or(POSTGRES_DEFAULT.into());
    let mysql = std::env::var("GODWIT_TEST_MYSQL_URL").unwrap_or(MYSQL_DEFAULT.into());
    let n = args.migrations;
    let mut table = Vec::new();

    // PostgreSQL. Each run starts from a new database and a checkpoint, so that one run's
    // writes are not flushed during the next.
    let sql = sql_file(&bin, &work, "postgres", None)?;
    let pg = Server::parse(&postgres)?;
    let fresh_pg = |pg: &Server| -> anyhow::Result<String> {
        let db = pg.fresh_postgres("run")?;
        timed(
            Command::new("psql")
                .args(["-X", "-q", "-c", "CHECKPOINT"])
                .arg(&pg.url),
        )?;
        Ok(db)
    };
    let noop_pg = {
        let db = pg.fresh_postgres("noop")?;
        timed(&mut up(&bin, &pg.with_database(&db), &[]))?;
        db
    };
    let sqlx_pg = sqlx_migrations(&bin, &work, "postgres", n)?;
    let noop_sqlx_pg = {
        let db = pg.fresh_postgres("noop_sqlx")?;
        timed(&mut sqlx_run(&sqlx, &sqlx_pg, &pg.with_database(&db)))?;
        db
    };
    let results = rounds(
        args.runs,
        "PostgreSQL",
        vec![
            Variant::new("psql -1 -f (one transaction)", None, || {
                let db = fresh_pg(&pg)?;
                let t = timed(
                    Command::new("psql")
                        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f"])
                        .arg(&sql)
                        .arg(pg.with_database(&db)),
                )?;
                pg.drop_postgres(&db)?;
                Ok(t)
            }),
            Variant::new("godwit up --single-transaction", Some(0), || {
                let db = fresh_pg(&pg)?;
                let url = pg.with_database(&db);
                let t = timed(&mut up(&bin, &url, &["--single-transaction"]))?;
                check_applied(&bin, &url, n)?;
                pg.drop_postgres(&db)?;
                Ok(t)
            }),
            Variant::new("godwit up (a transaction per migration)", Some(0), || {
                let db = fresh_pg(&pg)?;
                let url = pg.with_database(&db);
                let t = timed(&mut up(&bin, &url, &[]))?;
                check_applied(&bin, &url, n)?;
                pg.drop_postgres(&db)?;
                Ok(t)
            })
            .peer(3),
            Variant::new(
                "sqlx migrate run (a transaction per migration)",
                Some(0),
                || {
                    let db = fresh_pg(&pg)?;
                    let t = timed(&mut sqlx_run(&sqlx, &sqlx_pg, &pg.with_database(&db)))?;
                    pg.drop_postgres(&db)?;
                    Ok(t)
                },
            ),
            Variant::new("godwit up, nothing pending", None, || {
                timed(&mut up(&bin, &pg.with_database(&noop_pg), &[]))
            })
            .peer(5),
            Variant::new("sqlx migrate run, nothing pending", None, || {
                timed(&mut sqlx_run(
                    &sqlx,
                    &sqlx_pg,
                    &pg.with_database(&noop_sqlx_pg),
                ))
            }),
            Variant::new("godwit status", None, || {
                timed(&mut status(&bin, &pg.with_database(&noop_pg)))
            })
            .peer(7),
            Variant::new("sqlx migrate info", None, || {
                timed(&mut sqlx_info(
                    &sqlx,
                    &sqlx_pg,
                    &pg.with_database(&noop_sqlx_pg),
                ))
            }),
            Variant::new(
                "godwit status, first run of a build (no cache)",
                None,
                || timed_cold(&bin, &mut status(&bin, &pg.with_database(&noop_pg))),
            )
            .peer(7),
            Variant::new("psql -c 'SELECT 1' (connecting alone)", None, || {
                timed(
                    Command::new("psql")
                        .args(["-X", "-q", "-c", "SELECT 1"])
                        .arg(pg.with_database(&noop_pg))
                        .stdout(Stdio::null()),
                )
            }),
            Variant::new("godwit up, nothing pending, sslmode=disable", None, || {
                let url = pg.with_database(&noop_pg);
                let sep = if url.contains('?') { '&' } else { '?' };
                timed(&mut up(&bin, &format!("{url}{sep}sslmode=disable"), &[]))
            }),
        ],
    )?;
    pg.drop_postgres(&noop_pg)?;
    pg.drop_postgres(&noop_sqlx_pg)?;
    table.push(("PostgreSQL", results));

    // SQLite.
    let sql = sql_file(&bin, &work, "sqlite", Some(("BEGIN;", "COMMIT;")))?;
    let db = work.join("bench.db");
    let fresh = |db: &Path| {
        for suffix in ["", "-journal", "-wal", "-shm", ".godwit-lock"] {
            let mut f = db.as_os_str().to_owned();
            f.push(suffix);
            let _ = fs::remove_file(PathBuf::from(f));
        }
    };
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let noop_db = work.join("noop.db");
    let noop_url = format!("sqlite://{}?mode=rwc", noop_db.display());
    fresh(&noop_db);
    timed(&mut up(&bin, &noop_url, &[]))?;
    let sqlx_lite = sqlx_migrations(&bin, &work, "sqlite", n)?;
    let noop_sqlx_db = work.join("noop-sqlx.db");
    let noop_sqlx_url = format!("sqlite://{}?mode=rwc", noop_sqlx_db.display());
    fresh(&noop_sqlx_db);
    timed(&mut sqlx_run(&sqlx, &sqlx_lite, &noop_sqlx_url))?;
    let results = rounds(
        args.runs,
        "SQLite",
        vec![
            Variant::new("sqlite3 (one transaction)", None, || {
                fresh(&db);
                let input = fs::File::open(&sql)?;
                timed(Command::new("sqlite3").arg("-bail").arg(&db).stdin(input))
            }),
            Variant::new("godwit up --single-transaction", Some(0), || {
                fresh(&db);
                let t = timed(&mut up(&bin, &url, &["--single-transaction"]))?;
                check_applied(&bin, &url, n)?;
                Ok(t)
            }),
            Variant::new("godwit up (a transaction per migration)", Some(0), || {
                fresh(&db);
                let t = timed(&mut up(&bin, &url, &[]))?;
                check_applied(&bin, &url, n)?;
                Ok(t)
            })
            .peer(3),
            Variant::new(
                "sqlx migrate run (a transaction per migration)",
                Some(0),
                || {
                    fresh(&db);
                    timed(&mut sqlx_run(&sqlx, &sqlx_lite, &url))
                },
            ),
            Variant::new("godwit up, nothing pending", None, || {
                timed(&mut up(&bin, &noop_url, &[]))
            })
            .peer(5),
            Variant::new("sqlx migrate run, nothing pending", None, || {
                timed(&mut sqlx_run(&sqlx, &sqlx_lite, &noop_sqlx_url))
            }),
            Variant::new("godwit status", None, || {
                timed(&mut status(&bin, &noop_url))
            })
            .peer(7),
            Variant::new("sqlx migrate info", None, || {
                timed(&mut sqlx_info(&sqlx, &sqlx_lite, &noop_sqlx_url))
            }),
            Variant::new(
                "godwit status, first run of a build (no cache)",
                None,
                || timed_cold(&bin, &mut status(&bin, &noop_url)),
            )
            .peer(7),
        ],
    )?;
    fresh(&db);
    fresh(&noop_db);
    fresh(&noop_sqlx_db);
    table.push(("SQLite", results));

    // MariaDB.
    let sql = sql_file(&bin, &work, "mysql", None)?;
    let my = Server::parse(&mysql)?;
    let noop_my = {
        let db = my.fresh_mysql("noop")?;
        timed(&mut up(&bin, &my.with_database(&db), &[]))?;
        db
    };
    let sqlx_my = sqlx_migrations(&bin, &work, "mysql", n)?;
    let noop_sqlx_my = {
        let db = my.fresh_mysql("noop_sqlx")?;
        timed(&mut sqlx_run(&sqlx, &sqlx_my, &my.with_database(&db)))?;
        db
    };
    let results = rounds(
        args.runs,
        "MariaDB",
        vec![
            Variant::new("mysql (DDL commits each statement)", None, || {
                let db = my.fresh_mysql("run")?;
                let input = fs::File::open(&sql)?;
                let t = timed(my.mysql(Some(&db)).stdin(input))?;
                my.drop_mysql(&db)?;
                Ok(t)
            }),
            Variant::new("godwit up (statement by statement)", Some(0), || {
                let db = my.fresh_mysql("run")?;
                let url = my.with_database(&db);
                let t = timed(&mut up(&bin, &url, &[]))?;
                check_applied(&bin, &url, n)?;
                my.drop_mysql(&db)?;
                Ok(t)
            })
            .peer(2),
            Variant::new("sqlx migrate run", Some(0), || {
                let db = my.fresh_mysql("run")?;
                let t = timed(&mut sqlx_run(&sqlx, &sqlx_my, &my.with_database(&db)))?;
                my.drop_mysql(&db)?;
                Ok(t)
            }),
            Variant::new("godwit up, nothing pending", None, || {
                timed(&mut up(&bin, &my.with_database(&noop_my), &[]))
            })
            .peer(4),
            Variant::new("sqlx migrate run, nothing pending", None, || {
                timed(&mut sqlx_run(
                    &sqlx,
                    &sqlx_my,
                    &my.with_database(&noop_sqlx_my),
                ))
            }),
            Variant::new("godwit status", None, || {
                timed(&mut status(&bin, &my.with_database(&noop_my)))
            })
            .peer(6),
            Variant::new("sqlx migrate info", None, || {
                timed(&mut sqlx_info(
                    &sqlx,
                    &sqlx_my,
                    &my.with_database(&noop_sqlx_my),
                ))
            }),
            Variant::new(
                "godwit status, first run of a build (no cache)",
                None,
                || timed_cold(&bin, &mut status(&bin, &my.with_database(&noop_my))),
            )
            .peer(6),
        ],
    )?;
    my.drop_mysql(&noop_my)?;
    my.drop_mysql(&noop_sqlx_my)?;
    table.push(("MariaDB", results));

    let mut s = String::new();
    let _ = writeln!(s, "machine: {}", super::machine());
    let sqlx_version = Command::new(&sqlx)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(s, "peer: {sqlx_version}");
    let _ = writeln!(
        s,
        "{n} migrations, each a table with an index; wall time including process start; \
         {} interleaved runs, median (fastest)",
        args.runs
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| database | what | seconds | vs the client | vs sqlx-cli (paired: median, range) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for (db, results) in table {
        for r in &results {
            let vs = match r.against {
                Some(i) => format!(
                    "{} ({})",
                    ratio(r.median, results[i].median),
                    ratio(r.fastest, results[i].fastest)
                ),
                None => String::new(),
            };
            // Paired: run k of this against run k of the peer, taken side by side.
            let peer = match r.peer {
                Some(i) => {
                    let mut ratios: Vec<f64> = r
                        .times
                        .iter()
                        .zip(&results[i].times)
                        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(1e-9))
                        .collect();
                    ratios.sort_by(f64::total_cmp);
                    format!(
                        "{:.2}x ({:.2} to {:.2})",
                        ratios[ratios.len() / 2],
                        ratios[0],
                        ratios[ratios.len() - 1]
                    )
                }
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "| {db} | {} | {:.3} ({:.3}) | {vs} | {peer} |",
                r.name,
                r.median.as_secs_f64(),
                r.fastest.as_secs_f64()
            );
        }
    }
    println!("{s}");
    Ok(())
}

/// One thing measured: a name, what it is compared with (an index into its list), and how
/// to run it once.
struct Variant<'a> {
    name: &'static str,
    against: Option<usize>,
    /// The sqlx-cli variant this one is compared with, run by run.
    peer: Option<usize>,
    run: Box<dyn FnMut() -> anyhow::Result<Duration> + 'a>,
}

impl<'a> Variant<'a> {
    fn new(
        name: &'static str,
        against: Option<usize>,
        run: impl FnMut() -> anyhow::Result<Duration> + 'a,
    ) -> Self {
        Variant {
            name,
            against,
            peer: None,
            run: Box::new(run),
        }
    }

    /// Compared with sqlx-cli's variant `i`, run by run.
    fn peer(mut self, i: usize) -> Self {
        self.peer = Some(i);
        self
    }
}

struct Measured {
    name: &'static str,
    against: Option<usize>,
    peer: Option<usize>,
    median: Duration,
    fastest: Duration,
    /// Every run, in round order.
    times: Vec<Duration>,
}

/// Run every variant once per round, `runs` rounds, so that a busy moment of the machine
/// falls on all of them alike.
fn rounds(runs: usize, db: &str, mut variants: Vec<Variant<'_>>) -> anyhow::Result<Vec<Measured>> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    // Each round starts one variant later, so that no variant always runs right after the
    // ones that apply everything (in that place a no-op `up` took 45 ms in every round, and
    // 12 ms taken alone).
    let n = variants.len();
    for round in 1..=runs {
        for k in 0..n {
            let i = (k + round - 1) % n;
            let v = &mut variants[i];
            let d = (v.run)().with_context(|| format!("{db}: {}", v.name))?;
            eprintln!("{db}: {} {round}/{runs}: {:.3} s", v.name, d.as_secs_f64());
            times[i].push(d);
        }
    }
    Ok(variants
        .iter()
        .zip(&mut times)
        .map(|(v, t)| Measured {
            name: v.name,
            against: v.against,
            peer: v.peer,
            times: t.clone(),
            median: median(&mut t.clone()),
            fastest: t.iter().copied().min().unwrap_or_default(),
        })
        .collect())
}

fn ratio(t: Duration, base: Duration) -> String {
    format!("{:.2}x", t.as_secs_f64() / base.as_secs_f64().max(1e-9))
}

/// `bin up --database-url url extra...`, quiet.
fn up(bin: &Path, url: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.arg("up")
        .args(extra)
        .args(["--database-url", url])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null());
    c
}

/// Time `c` after removing what the binary `bin` keeps beside itself (its applied
/// migrations' checksums, computed again on its first run after a build).
fn timed_cold(bin: &Path, c: &mut Command) -> anyhow::Result<Duration> {
    let name = bin.file_name().context("the binary has a file name")?;
    let cache = bin.with_file_name(format!(".{}.godwit-cache", name.to_string_lossy()));
    match fs::remove_file(&cache) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {}", cache.display()));
        }
        _ => {}
    }
    timed(c)
}

/// `bin status --database-url url`, quiet.
fn status(bin: &Path, url: &str) -> Command {
    let mut c = Command::new(bin);
    c.args(["status", "--database-url", url])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null());
    c
}

/// The sqlx-cli version the benchmark installs.
const SQLX_CLI_VERSION: &str = "^0.9";

/// sqlx-cli's binary, installed into `dir/sqlx-cli` the first time (not measured).
fn sqlx_cli(dir: &Path) -> anyhow::Result<PathBuf> {
    let root = dir.join("sqlx-cli");
    let bin = root
        .join("bin")
        .join(format!("sqlx{}", std::env::consts::EXE_SUFFIX));
    if bin.exists() {
        return Ok(bin);
    }
    eprintln!(
        "installing sqlx-cli {SQLX_CLI_VERSION} into `{}` (once; not measured) ...",
        root.display()
    );
    let status = crate::cargo()
        .args([
            "install",
            "sqlx-cli",
            "--version",
            SQLX_CLI_VERSION,
            "--no-default-features",
            "--features",
            "postgres,mysql,sqlite,rustls",
            "--root",
        ])
        .arg(&root)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("cannot run `cargo install sqlx-cli`")?;
    ensure!(status.success(), "`cargo install sqlx-cli` failed");
    Ok(bin)
}

/// The migrations as sqlx-cli reads them: `<version>_<name>.sql` per migration in
/// `work/sqlx-<backend>`, each holding what `sql --backend <backend>` prints for it.
fn sqlx_migrations(bin: &Path, work: &Path, backend: &str, n: usize) -> anyhow::Result<PathBuf> {
    let text = sql_text(bin, backend)?;
    let dir = work.join(format!("sqlx-{backend}"));
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("cannot remove `{}`", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let header = line
            .strip_prefix("-- ")
            .and_then(|rest| rest.strip_suffix(" (up)"))
            .and_then(|rest| rest.split_once(' '));
        match (header, files.last_mut()) {
            (Some((version, name)), _) => {
                files.push((format!("{version}_{name}.sql"), String::new()))
            }
            (None, Some((_, body))) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    ensure!(
        files.len() == n,
        "`sql --backend {backend}` printed {} migrations, not {n}",
        files.len()
    );
    for (name, body) in files {
        fs::write(dir.join(&name), body).with_context(|| format!("cannot write `{name}`"))?;
    }
    Ok(dir)
}

/// `sqlx migrate run` of `source` on `url`.
fn sqlx_run(sqlx: &Path, source: &Path, url: &str) -> Command {
    let mut c = Command::new(sqlx);
    c.args(["migrate", "run", "--source"])
        .arg(source)
        .args(["--database-url", url])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null());
    c
}

/// `sqlx migrate info` of `source` on `url`.
fn sqlx_info(sqlx: &Path, source: &Path, url: &str) -> Command {
    let mut c = Command::new(sqlx);
    c.args(["migrate", "info", "--source"])
        .arg(source)
        .args(["--database-url", url])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null());
    c
}

/// Check that `status` says all `n` migrations are applied.
fn check_applied(bin: &Path, url: &str, n: usize) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .args(["status", "--check", "--json", "--database-url", url])
        .output()
        .context("cannot run `status`")?;
    let text = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && text.contains(&format!("\"applied\": {n},")),
        "after `up`, `status --check` says: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// The migrations' SQL for `backend`, as `sql` prints it, optionally wrapped.
fn sql_file(
    bin: &Path,
    work: &Path,
    backend: &str,
    wrap: Option<(&str, &str)>,
) -> anyhow::Result<PathBuf> {
    let mut text = sql_text(bin, backend)?;
    if let Some((begin, end)) = wrap {
        text = format!("{begin}\n{text}{end}\n");
    }
    let file = work.join(format!("{backend}.sql"));
    fs::write(&file, text).with_context(|| format!("cannot write `{}`", file.display()))?;
    Ok(file)
}

/// What `bin sql --backend <backend>` prints.
fn sql_text(bin: &Path, backend: &str) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .args(["sql", "--backend", backend])
        .output()
        .context("cannot run `sql`")?;
    ensure!(
        out.status.success(),
        "`sql` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).context("`sql` printed something not UTF-8")
}

/// Run `c`, failing with its output when it fails; its wall time.
fn timed(c: &mut Command) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let out = c
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {:?}", c.get_program()))?;
    let t = start.elapsed();
    if !out.status.success() {
        bail!(
            "{:?} failed: {}",
            c.get_program(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(t)
}

/// A server URL, taken apart for the command-line clients.
struct Server {
    url: String,
    user: String,
    password: Option<String>,
    host: String,
    port: Option<String>,
}

impl Server {
    fn parse(url: &str) -> anyhow::Result<Server> {
        let (_, rest) = url
            .split_once("://")
            .with_context(|| format!("`{url}` is not a server URL"))?;
        let (userinfo, hostpart) = rest.rsplit_once('@').unwrap_or(("", rest));
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u.to_string(), Some(p.to_string())),
            None => (userinfo.to_string(), None),
        };
        let hostport = hostpart.split(['/', '?']).next().unwrap_or("");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (hostport.to_string(), None),
        };
        Ok(Server {
            url: url.to_string(),
            user,
            password,
            host,
            port,
        })
    }

    /// The URL naming database `db`.
    fn with_database(&self, db: &str) -> String {
        let authority = self.url.find("://").map_or(0, |i| i + 3);
        let end = self.url[authority..]
            .find('?')
            .map_or(self.url.len(), |i| i + authority);
        let path = self.url[authority..end]
            .find('/')
            .map_or(end, |i| i + authority);
        format!("{}/{db}{}", &self.url[..path], &self.url[end..])
    }

    /// A database name of this run: `godwit_bench_<pid>_<tag>`.
    fn name(tag: &str) -> String {
        format!("godwit_bench_{}_{tag}", std::process::id())
    }

    fn fresh_postgres(&self, tag: &str) -> anyhow::Result<String> {
        let db = Self::name(tag);
        self.drop_postgres(&db)?;
        timed(
            Command::new("psql")
                .args(["-X", "-q", "-c", &format!("CREATE DATABASE {db}")])
                .arg(&self.url),
        )?;
        Ok(db)
    }

    fn drop_postgres(&self, db: &str) -> anyhow::Result<()> {
        timed(
            Command::new("psql")
                .args([
                    "-X",
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                ])
                .arg(&self.url),
        )
        .map(drop)
    }

    fn mysql(&self, db: Option<&str>) -> Command {
        let mut c = Command::new("mysql");
        c.args(["--protocol=tcp", "-h", &self.host, "-u", &self.user]);
        if let Some(port) = &self.port {
            c.args(["-P", port]);
        }
        if let Some(password) = &self.password {
            c.env("MYSQL_PWD", password);
        }
        if let Some(db) = db {
            c.arg(db);
        }
        c
    }

    fn fresh_mysql(&self, tag: &str) -> anyhow::Result<String> {
        let db = Self::name(tag);
        self.drop_mysql(&db)?;
        timed(
            self.mysql(None)
                .args(["-e", &format!("CREATE DATABASE {db}")]),
        )?;
        Ok(db)
    }

    fn drop_mysql(&self, db: &str) -> anyhow::Result<()> {
        timed(
            self.mysql(None)
                .args(["-e", &format!("DROP DATABASE IF EXISTS {db}")]),
        )
        .map(drop)
    }
}
