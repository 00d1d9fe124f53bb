//! The `--json` documents: every command that takes `--json`, run as a process of the fixture's
//! migrations binary against SQLite files in a directory of its own, with the values that change
//! from run to run replaced by placeholders, and the description of every field.
//!
//! **Invariant:** a field the binary prints that has no description here fails the test, so the
//! reference cannot fall behind the JSON.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One command run with `--json`.
pub struct Example {
    /// The command, as its section of the reference names it.
    pub command: &'static str,
    /// The arguments after the binary's name, without `--database-url`.
    pub args: &'static [&'static str],
    /// What the database held when it ran.
    pub before: &'static str,
    /// The document it printed, with placeholders.
    pub json: Value,
    /// Its fields, or the command whose fields it shares.
    pub fields: Fields,
}

pub enum Fields {
    Own(&'static [(&'static str, &'static str)]),
    As(&'static str),
}

/// The database every example runs against, relative to the directory the fixture runs in: the
/// reference shows no path of the machine that wrote it.
const APP: &str = "sqlite:app.db?mode=rwc";

/// The placeholders of values that differ between runs.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("<timestamp>", "an RFC 3339 time in UTC"),
    ("<milliseconds>", "a whole number of milliseconds"),
    (
        "v1:<sha256>",
        "a checksum: `v1:` and the SHA-256 of what the migration does, in hex",
    ),
];

/// A directory under Cargo's temporary directory for this process, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("reference-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Run the fixture binary in the directory with `args`, against `url`; its stdout, which
    /// must be JSON when `json`.
    fn run(&self, url: &str, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_fixture-migrations"))
            .current_dir(&self.0)
            .args(args)
            .args(["--database-url", url])
            .env_remove("DATABASE_URL")
            .env_remove("GODWIT_FIXTURE_FAIL")
            .env_remove("GODWIT_FIXTURE_SLOW")
            .env_remove("GODWIT_FIXTURE_FAIL_DOWN")
            .env("NO_COLOR", "1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run the fixture binary: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`{}` failed ({}):\n{stdout}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn json(&self, url: &str, args: &[&str]) -> Value {
        let stdout = self.run(url, args);
        let mut value: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("`{}` printed no JSON ({e}):\n{stdout}", args.join(" ")));
        placeholders(&mut value);
        value
    }

    /// Run SQL statements on the SQLite file `file` of the directory.
    fn sql(&self, file: &str, statements: &[&'static str]) {
        use sqlx::{Connection, Executor};
        let url = format!("sqlite:{}", self.0.join(file).display());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            for s in statements {
                conn.execute(*s).await.unwrap();
            }
            conn.close().await.unwrap();
        });
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replace what differs between runs, by field name.
fn placeholders(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match (key.as_str(), &*v) {
                    ("applied_at", Value::String(_)) => *v = "<timestamp>".into(),
                    ("execution_ms" | "elapsed_ms", Value::Number(_)) => {
                        *v = "<milliseconds>".into()
                    }
                    ("checksum" | "current_checksum" | "current", Value::String(s))
                        if s.starts_with("v1:") =>
                    {
                        *v = "v1:<sha256>".into()
                    }
                    _ => placeholders(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(placeholders),
        _ => {}
    }
}

/// Every field of `value`: `a`, `a.b`, `list[]`, `list[].c`.
pub fn paths(value: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    out.insert(path.clone());
                    walk(v, &path, out);
                }
            }
            Value::Array(items) => {
                for v in items {
                    walk(v, &format!("{prefix}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(value, "", &mut out);
    out
}

const V2: &str = "20260101000200";
const V3: &str = "20260101000300";

/// Run every command that takes `--json`, in the order the reference shows them.
pub fn examples() -> Vec<Example> {
    let dir = Scratch::new();
    let mut examples = Vec::new();
    let mut example = |command, args: &'static [&'static str], before, fields, json| {
        examples.push(Example {
            command,
            args,
            before,
            json,
            fields,
        });
    };

    let args: &[&str] = &["up", "--to", V3, "--json"];
    let json = dir.json(APP, args);
    example(
        "up",
        args,
        "On an empty database",
        Fields::Own(REPORT),
        json,
    );

    let args: &[&str] = &["status", "--json"];
    let json = dir.json(APP, args);
    example(
        "status",
        args,
        "With the first three of the five migrations applied",
        Fields::Own(STATUS),
        json,
    );

    let args: &[&str] = &["plan", "--json"];
    let json = dir.json(APP, args);
    example(
        "plan",
        args,
        "With the first three of the five migrations applied",
        Fields::Own(PLAN),
        json,
    );

    dir.run(APP, &["up"]);
    let args: &[&str] = &["down", "--json"];
    let json = dir.json(APP, args);
    example(
        "down",
        args,
        "With every migration applied",
        Fields::As("up"),
        json,
    );

    let args: &[&str] = &["redo", "--json"];
    let json = dir.json(APP, args);
    example(
        "redo",
        args,
        "With the first four migrations applied",
        Fields::As("up"),
        json,
    );

    let args: &[&str] = &["schema", "--live", "--json"];
    let json = dir.json(APP, args);
    example(
        "schema",
        args,
        "With the first four migrations applied and nothing changed by hand (without `--live`, `schema` prints SQL, and `--json` is a usage error)",
        Fields::Own(DRIFT),
        json,
    );

    let args: &[&str] = &["verify", "--json"];
    let json = dir.json(APP, args);
    example(
        "verify",
        args,
        "With the first four migrations applied",
        Fields::Own(VERIFY),
        json,
    );

    dir.sql(
        "app.db",
        &["UPDATE godwit_migrations SET checksum = \
           'v1:0000000000000000000000000000000000000000000000000000000000000000' \
           WHERE version = 20260101000300"],
    );
    let args: &[&str] = &["repair", "--json"];
    let json = dir.json(APP, args);
    example(
        "repair",
        args,
        "With the first four migrations applied and the third edited since (here its checksum \
         in history was changed instead)",
        Fields::Own(REPAIR),
        json,
    );

    let args: &[&str] = &["fresh", "--yes", "--json"];
    let json = dir.json(APP, args);
    example(
        "fresh",
        args,
        "With the first four migrations applied",
        Fields::As("up"),
        json,
    );

    let legacy = "sqlite:legacy.db?mode=rwc";
    dir.run(legacy, &["up", "--to", V2]);
    dir.sql("legacy.db", &["DROP TABLE godwit_migrations"]);
    let args: &[&str] = &["baseline", "--to", V2, "--json"];
    let json = dir.json(legacy, args);
    example(
        "baseline",
        args,
        "On a database with the tables of the first two migrations, made without godwit (no \
         history table)",
        Fields::Own(BASELINE),
        json,
    );

    dir.sql(
        "app.db",
        &[
            "INSERT INTO books (author_id, title) VALUES (1, 'The Dispossessed'), (2, 'Mort')",
            "INSERT INTO reviews (book_id, stars) VALUES (1, 5), (1, 4), (2, 3)",
        ],
    );
    dir.run("sqlite:copy.db?mode=rwc", &["up"]);
    // Not `dir.json(APP, ..)`: copy names its databases with --from and --to.
    let args: &[&str] = &[
        "copy",
        "--from",
        "sqlite:app.db",
        "--to",
        "sqlite:copy.db",
        "--tables",
        "books,reviews",
        "--json",
    ];
    let stdout = {
        let out = Command::new(env!("CARGO_BIN_EXE_fixture-migrations"))
            .current_dir(&dir.0)
            .args(args)
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let mut json: Value = serde_json::from_slice(&stdout).unwrap();
    placeholders(&mut json);
    example(
        "copy",
        args,
        "From `app.db`, with every migration applied, two books and three reviews, to \
         `copy.db`, with every migration applied and no books or reviews",
        Fields::Own(COPY),
        json,
    );

    examples
}

/// `up`, `down`, `redo` and `fresh`.
const REPORT: &[(&str, &str)] = &[
    ("command", "`up`, `down`, `redo` or `fresh`"),
    ("backend", "`postgres`, `mysql` or `sqlite`"),
    (
        "database",
        "the database URL, its password replaced by `***`",
    ),
    (
        "dry_run",
        "`true` with `--dry-run` (`up` and `down`): nothing ran, `ran` is empty and `sql` holds the script",
    ),
    (
        "sql",
        "with `--dry-run`, the exact SQL that would run, history writes included and the lock as a comment; else `null`",
    ),
    (
        "ran",
        "the migrations that ran, in the order they ran (`redo` lists its rollbacks, newest first, then the same migrations applied again, oldest first); empty when there was nothing to do",
    ),
    ("ran[].version", "the migration's version (a number)"),
    ("ran[].name", "the migration's name"),
    ("ran[].direction", "`up` or `down`"),
    ("ran[].execution_ms", "how long it took, in milliseconds"),
];

const STATUS: &[(&str, &str)] = &[
    ("backend", "`postgres`, `mysql` or `sqlite`"),
    (
        "database",
        "the database URL, its password replaced by `***`",
    ),
    ("history_table", "the history table's name"),
    (
        "history_exists",
        "whether the history table exists (it does not before the first `up`)",
    ),
    (
        "up_to_date",
        "whether every migration is applied as it is in the code: what `status --check` checks",
    ),
    ("applied", "how many migrations are applied"),
    ("pending", "how many are pending"),
    (
        "half_applied",
        "how many stopped part-way, up or down, on a backend without transactional DDL",
    ),
    (
        "out_of_order",
        "how many are pending but older than the newest applied one",
    ),
    (
        "changed",
        "how many are applied but their code changed since (see `repair`)",
    ),
    (
        "missing",
        "how many are in history but no longer in the code",
    ),
    (
        "cannot_render",
        "how many are applied but their code no longer renders for this backend, so whether it changed cannot be checked",
    ),
    (
        "allowances_error",
        "why the allowed lint findings could not be listed (a migration that does not load), else `null`",
    ),
    (
        "migrations",
        "every migration of the code and of history, oldest first",
    ),
    ("migrations[].version", "its version"),
    ("migrations[].name", "its name"),
    (
        "migrations[].status",
        "`applied`, `pending`, `partial` (half-applied up), `partial_down` (half rolled back), `changed`, `missing`, `out_of_order` or `cannot_render`",
    ),
    (
        "migrations[].applied_at",
        "when it was applied (RFC 3339, UTC), `null` when it is not in history",
    ),
    (
        "migrations[].execution_ms",
        "how long it took, in milliseconds, `null` when it is not in history",
    ),
    (
        "migrations[].checksum",
        "the checksum history recorded, `null` when it is not in history",
    ),
    (
        "migrations[].current_checksum",
        "the checksum of its code now, `null` when status did not compute it (pending, missing)",
    ),
    (
        "migrations[].statement",
        "for a half-applied migration, the statement it stopped at (1-based), else `null`",
    ),
    (
        "migrations[].error",
        "for a half-applied migration, the error it stopped with, else `null`",
    ),
    (
        "migrations[].render_error",
        "for `cannot_render`, why its code does not render now, else `null`",
    ),
    (
        "migrations[].allowances",
        "the lint findings it allows with `s.allow(..)`, with their reasons; `null` when they could not be listed",
    ),
    ("migrations[].allowances[].rule", "the lint rule's code"),
    (
        "migrations[].allowances[].step",
        "the operation it concerns (1-based)",
    ),
    (
        "migrations[].allowances[].operation",
        "that operation, as the DSL writes it",
    ),
    (
        "migrations[].allowances[].reason",
        "the reason written in the migration",
    ),
];

const PLAN: &[(&str, &str)] = &[
    ("backend", "`postgres`, `mysql` or `sqlite`"),
    (
        "database",
        "the database URL, its password replaced by `***`; `null` with `--all`",
    ),
    (
        "migrations",
        "the pending migrations (every migration with `--all`), oldest first",
    ),
    ("migrations[].version", "its version"),
    ("migrations[].name", "its name"),
    (
        "migrations[].transactional",
        "`false` when it runs outside a transaction (a `concurrently()` index)",
    ),
    (
        "migrations[].in_parts",
        "whether it has batched steps (`backfill`, `copy_rows`): it runs in parts, each batched step outside any transaction",
    ),
    (
        "migrations[].change",
        "`additive`, `destructive` or `unknown` (raw SQL): whether to apply it before or after the code deploy",
    ),
    (
        "migrations[].reversible",
        "whether it has a `down` (written or derived)",
    ),
    (
        "migrations[].irreversible_reason",
        "why it cannot be rolled back, else `null`",
    ),
    (
        "migrations[].timeouts",
        "the timeouts it runs with: its own, else the command line's, else the defaults",
    ),
    (
        "migrations[].timeouts.lock_ms",
        "how long each statement may wait for a lock, in milliseconds (0: forever)",
    ),
    (
        "migrations[].timeouts.statement_ms",
        "how long each statement may run, in milliseconds (0: no limit)",
    ),
    (
        "migrations[].timeouts.lock_retries",
        "how many times it is tried again after a lock timeout",
    ),
    (
        "migrations[].timeouts.set_by_migration",
        "which of `lock`, `statement` and `lock_retries` the migration sets itself",
    ),
    ("migrations[].steps", "its operations, in order"),
    (
        "migrations[].steps[].step",
        "the operation's number (1-based)",
    ),
    (
        "migrations[].steps[].operation",
        "the operation, as the DSL writes it",
    ),
    (
        "migrations[].steps[].sql",
        "the statements it renders to on this backend",
    ),
    (
        "migrations[].steps[].locks",
        "the locks those statements take, in words",
    ),
    (
        "migrations[].steps[].change",
        "`additive`, `destructive` or `unknown`",
    ),
    (
        "migrations[].findings",
        "what the lint rules find in it, allowed or not",
    ),
    ("migrations[].findings[].rule", "the lint rule's code"),
    (
        "migrations[].findings[].step",
        "the operation it concerns (1-based)",
    ),
    (
        "migrations[].findings[].operation",
        "that operation, as the DSL writes it",
    ),
    (
        "migrations[].findings[].risk",
        "what can go wrong in production",
    ),
    ("migrations[].findings[].safe", "the safe way to do it"),
    (
        "migrations[].findings[].allowed",
        "whether the migration allows it with `s.allow(..)`",
    ),
    (
        "migrations[].findings[].reason",
        "the reason written with the allowance, else `null`",
    ),
    (
        "migrations[].findings[].note",
        "why it is only a note, not unsafe (its table is under `--small-table-rows`), else `null`",
    ),
    (
        "migrations[].findings[].table",
        "the table it changes, with `name`, `rows` and `bytes` as the database's catalog gives them, else `null`",
    ),
    (
        "migrations[].warnings",
        "what a reviewer should know: data a rollback cannot bring back, a table rebuild on SQLite, ...",
    ),
    ("summary", "the counts over the planned migrations"),
    ("summary.migrations", "how many migrations are planned"),
    ("summary.additive", "how many are additive"),
    ("summary.destructive", "how many are destructive"),
    (
        "summary.unknown",
        "how many run raw SQL whose effect is unknown",
    ),
    ("summary.unsafe", "how many findings are not allowed"),
    ("summary.allowed", "how many findings are allowed"),
    ("summary.irreversible", "how many cannot be rolled back"),
    (
        "summary.order",
        "when to apply them relative to the code deploy; `null` when nothing is planned",
    ),
];

const DRIFT: &[(&str, &str)] = &[
    (
        "database",
        "the database URL, its password replaced by `***`",
    ),
    (
        "applied_through",
        "the newest applied migration's version, `null` when none is",
    ),
    (
        "differences",
        "every difference between the database's schema and the one its applied migrations build, in words, except what a half-applied migration explains; the command exits with 1 when there is one",
    ),
    (
        "half_applied",
        "when a migration is half-applied: which, where it stopped, and the differences it explains (what it ran before it stopped), in words; else `null`",
    ),
];

const VERIFY: &[(&str, &str)] = &[
    (
        "ok",
        "`true` when every round trip restored the schema; on a failure (exit code 1) the document has `ok`, `migration`, `step` and `differences` instead of the other fields",
    ),
    ("backend", "`postgres`, `mysql` or `sqlite`"),
    (
        "database",
        "the database URL (its password replaced by `***`) next to which the scratch database was made",
    ),
    (
        "round_trips",
        "the versions rolled back and applied again, newest first",
    ),
    (
        "skipped",
        "the migrations that cannot be rolled back, newest first: the walk went on below each in a scratch database built again up to the migration before it",
    ),
    ("skipped[].version", "its version"),
    ("skipped[].name", "its name"),
    ("skipped[].reason", "why it cannot be rolled back"),
    (
        "migration",
        "on a failure: the migration whose round trip did not restore the schema",
    ),
    ("migration.version", "its version"),
    ("migration.name", "its name"),
    (
        "step",
        "on a failure: `down` when its `down` did not restore the schema before it, `up` when applying it again did not give the schema after it",
    ),
    ("differences", "on a failure: the differences, in words"),
];

const REPAIR: &[(&str, &str)] = &[
    (
        "database",
        "the database URL, its password replaced by `***`",
    ),
    (
        "repaired",
        "the applied migrations whose checksum was updated; empty when none had changed",
    ),
    ("repaired[].version", "its version"),
    ("repaired[].name", "its name"),
    ("repaired[].recorded", "the checksum history held"),
    (
        "repaired[].current",
        "the checksum of its code, now recorded",
    ),
];

const BASELINE: &[(&str, &str)] = &[
    (
        "database",
        "the database URL, its password replaced by `***`",
    ),
    (
        "recorded",
        "the versions recorded as applied, without running them",
    ),
];

const COPY: &[(&str, &str)] = &[
    ("from", "the source's URL, its password replaced by `***`"),
    ("to", "the target's URL, its password replaced by `***`"),
    ("version", "the newest migration applied to both databases"),
    ("copied", "how many rows this run copied, over every table"),
    ("elapsed_ms", "how long the copy took, in milliseconds"),
    ("tables", "every table copied, parents first"),
    ("tables[].table", "its name"),
    ("tables[].source_rows", "its rows in the source"),
    (
        "tables[].target_rows",
        "its rows in the target afterwards (the command exits with 1 when the counts differ)",
    ),
    ("tables[].copied", "the rows this run copied"),
    (
        "tables[].copied_before",
        "the rows an interrupted earlier run had copied",
    ),
    (
        "tables[].elapsed_ms",
        "how long the table took, in milliseconds",
    ),
    (
        "tables[].foreign_key_checks_off",
        "whether foreign key checks were off while it was copied (a table that references itself)",
    ),
    (
        "tables[].sequences",
        "PostgreSQL: the sequences set past the copied keys",
    ),
];

/// The fields of `example`, following `As` to the command whose fields it shares.
pub fn fields<'a>(examples: &'a [Example], example: &'a Example) -> &'a [(&'a str, &'a str)] {
    match example.fields {
        Fields::Own(fields) => fields,
        Fields::As(other) => examples
            .iter()
            .find(|e| e.command == other)
            .map(|e| fields(examples, e))
            .unwrap_or_else(|| panic!("no example of `{other}`")),
    }
}
