//! The command reference, `docs/commands.md`, rendered and compared with the committed file.
//!
//! Every command's synopsis, about and arguments come from the binaries' clap trees
//! ([`binaries`]); the `--json` documents come from running the fixture's migrations binary on
//! SQLite files (`json.rs`); the rest (exit codes, environment, what each JSON field means) is
//! written here. `UPDATE_EXPECT=1 cargo test -p tests --test reference` rewrites the file.

mod json;
mod markdown;

use std::fmt::Write as _;

use expect_test::expect_file;

use json::{Example, PLACEHOLDERS};
use markdown::{anchor, command_section, heading, prepare, subcommands};

/// The binaries the reference documents, by the name their users type. The first is the
/// migrations binary: its commands are the reference's main part, without the binary's name.
fn binaries() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("migrations", godwit::cli::command()),
        ("godwit", godwit_cli::command()),
    ]
}

#[test]
fn commands_md_is_current() {
    let doc = reference(binaries(), &json::examples());
    expect_file!["../../docs/commands.md"].assert_eq(&doc);
}

/// The migrations binary's commands, in the order a reader meets them.
const GROUPS: &[(&str, &str, &[&str])] = &[
    (
        "Daily work",
        "Write a migration, apply it, see where the database stands, take it back.",
        &["new", "up", "status", "down", "redo"],
    ),
    (
        "Review and CI",
        "Read what migrations will do, without a database unless said otherwise, and gate \
         merges on it.",
        &["sql", "plan", "lint", "check", "schema", "verify"],
    ),
    (
        "Operations",
        "Adopt, repair, rebuild and move databases.",
        &["repair", "baseline", "fresh", "copy"],
    ),
];

/// Exit codes: the code, what it means, the commands that return it.
const EXIT_CODES: &[(&str, &str, &str)] = &[
    (
        "0",
        "Success. `plan` exits with 0 whatever it finds: it reports, `lint` is the gate.",
        "every command; `--help`",
    ),
    (
        "1",
        "An error, printed as `error: ...` on stderr with what to do about it.",
        "every command; also `schema --check` (the file is stale or missing), `check` \
         (`migrations.sum` is missing, unreadable, stale or without one linear order), `schema \
         --live` (the database differs from its migrations), `verify` (a rollback does not \
         restore the schema), `copy` (row counts differ afterwards), `baseline` (the schema is \
         not the one the migrations build)",
    ),
    (
        "2",
        "A usage error: an unknown command or flag, a missing or malformed value.",
        "every command; also `fresh` without `--yes`",
    ),
    (
        "3",
        "The database is not up to date: a migration is pending, half-applied, changed since \
         applied, or applied but missing from the code.",
        "`status --check`",
    ),
    (
        "4",
        "Another deploy held the migration lock past `--deploy-lock-timeout`.",
        "the commands that take the lock: `up`, `down`, `redo`, `fresh`, `repair`, \
         `baseline`, `copy` (the target's lock)",
    ),
    (
        "5",
        "An operation is unsafe on the backend and no `s.allow(..)` allows it.",
        "`lint`; `up` (it refuses to run such a migration without `--allow-unsafe`)",
    ),
    (
        "6",
        "History does not match the code: an applied migration changed, is missing from the \
         code, or a pending one is older than the newest applied one.",
        "`up` (see `--allow-changed`, `--allow-missing`, `--allow-out-of-order`, and `repair`)",
    ),
    (
        "130",
        "Interrupted by Ctrl-C: the connections are dropped, so the server rolls back the open \
         transaction and releases the lock.",
        "every command that connects to a database",
    ),
    (
        "143",
        "Terminated by SIGTERM (what systemd, Kubernetes and CI send to stop a process), handled \
         as Ctrl-C is: the connections are dropped, so the server rolls back the open transaction \
         and releases the lock.",
        "every command that connects to a database",
    ),
];

const INTRO: &str = "\
A migrations crate's binary is one line, `godwit::main!()`; this is its command line. In a \
workspace set up like the example (an `xtask` alias in `.cargo/config.toml`), run it with

```sh
cargo xtask migrate <command> [options]
```

or build the migrations crate and run its binary, which is named after the crate:

```sh
cargo run -p myapp-migrations -- <command> [options]
./target/release/myapp-migrations <command> [options]   # on a deploy host: no cargo needed
```

(`godwit init` names the crate `<project>-migrations`.) Below, `migrations` stands for that
binary. `--help` after any command prints its options; \
`-h` a shorter version.
";

const ENVIRONMENT: &str = "\
The commands that connect to a database take it from, in order:

1. `--database-url URL`;
2. the `DATABASE_URL` environment variable (an empty value counts as unset);
3. `DATABASE_URL` in the first `.env` file found in the current directory or its parents (only \
   that variable is read, and the process environment is not changed);
4. the SQLite file `dev.db` in the migrations crate's directory, created when missing: a \
   project works before any database is set up.

The URL's scheme picks the backend: `postgres://` (or `postgresql://`), `mysql://`, \
`mariadb://`, `sqlite:`. Messages and JSON show the URL with its password replaced by `***`.

The commands that need no database (`sql`, `lint`, `schema` without `--live`, `plan --all`) \
write for `--backend`, else for the backend of the URL above, else SQLite. `new` and `check` \
use neither.

Other variables:

| Variable | Effect |
|---|---|
| `NO_COLOR` | Set and not empty: no colors in the text output (colors are only used on a terminal anyway). |
| `HOSTNAME` | Names this host in the lock, so that a deploy waiting for it can say who holds it, where `/proc/sys/kernel/hostname` cannot be read. |

The binary reads no `GODWIT_*` variables.
";

/// The whole reference.
fn reference(binaries: Vec<(&'static str, clap::Command)>, examples: &[Example]) -> String {
    let binaries: Vec<(&str, clap::Command)> = binaries
        .into_iter()
        .map(|(name, command)| (name, prepare(name, command)))
        .collect();
    let mut out = String::new();
    out.push_str("# Command reference\n\n");
    out.push_str(
        "<!-- Generated from the binaries' clap commands and from runs of a migrations binary by \
         tests/reference; after changing a command, regenerate it with \
         `UPDATE_EXPECT=1 cargo test -p tests --test reference`. -->\n\n",
    );
    out.push_str(INTRO);
    out.push('\n');

    // The sections, and their contents: each group of the migrations binary, then the other
    // binaries, then the reference parts that concern every command.
    let (main_name, main) = &binaries[0];
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut listed: Vec<&str> = Vec::new();
    let json_of = |name: &str| examples.iter().any(|e| e.command == name);
    let mut body = String::new();
    let mut groups: Vec<(&str, &str, Vec<&clap::Command>)> = GROUPS
        .iter()
        .map(|(title, text, names)| {
            let commands = names
                .iter()
                .filter_map(|n| main.find_subcommand(n))
                .collect();
            listed.extend(names.iter().copied());
            (*title, *text, commands)
        })
        .collect();
    let others: Vec<&clap::Command> = subcommands(main)
        .into_iter()
        .filter(|c| !listed.contains(&c.get_name()))
        .collect();
    if !others.is_empty() {
        groups.push(("Other commands", "", others));
    }
    for (title, text, commands) in groups {
        let mut entries = Vec::new();
        writeln!(body, "## {title}\n").unwrap();
        if !text.is_empty() {
            writeln!(body, "{text}\n").unwrap();
        }
        for c in commands {
            let h = heading(main_name, true, c);
            let extra = if json_of(c.get_name()) {
                let h = format!("JSON of `{}`", c.get_name());
                format!("With `--json`: see [{h}](#{}).\n\n", anchor(&h))
            } else {
                String::new()
            };
            body.push_str(&command_section("###", &h, c, &extra));
            entries.push((h.clone(), anchor(&h)));
        }
        sections.push((title.to_string(), entries));
    }
    for (name, root) in &binaries[1..] {
        let title = format!("The `{name}` binary");
        body.push_str(&command_section("##", &title, root, ""));
        let mut entries = Vec::new();
        for c in subcommands(root) {
            let h = heading(name, false, c);
            body.push_str(&command_section("###", &h, c, ""));
            entries.push((h.clone(), anchor(&h)));
        }
        sections.push((title, entries));
    }

    body.push_str(
        "## Exit codes\n\nThe migrations binary's; `godwit` exits with 0, 1 (an error) or 2 (a \
         usage error).\n\n| Code | Meaning | Returned by |\n|---|---|---|\n",
    );
    for (code, meaning, by) in EXIT_CODES {
        writeln!(body, "| {code} | {meaning} | {by} |").unwrap();
    }
    body.push('\n');
    sections.push(("Exit codes".into(), Vec::new()));

    writeln!(body, "## Environment\n\n{ENVIRONMENT}").unwrap();
    sections.push(("Environment".into(), Vec::new()));

    let mut entries = Vec::new();
    body.push_str(&json_section(main_name, examples, &mut entries));
    sections.push(("JSON output".into(), entries));

    out.push_str("## Contents\n\n");
    for (title, entries) in &sections {
        write!(out, "- [{title}](#{})", anchor(title)).unwrap();
        if !entries.is_empty() {
            let links: Vec<String> = entries
                .iter()
                .map(|(h, a)| format!("[{h}](#{a})"))
                .collect();
            write!(out, ": {}", links.join(", ")).unwrap();
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&body);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Every `--json` document, with the description of its fields.
fn json_section(bin: &str, examples: &[Example], entries: &mut Vec<(String, String)>) -> String {
    let mut out = String::from("## JSON output\n\n");
    out.push_str(
        "With `--json`, a command prints one JSON document on stdout instead of its text; \
         progress and errors go to stderr, as text. A command that fails prints no document, \
         except those whose failure is what they found: `status --check` (exit code 3), \
         `schema --live` and `verify` (exit code 1) print their document, then the error. Keys \
         are in alphabetical order; a field without a value is `null`, never left out.\n\n\
         The documents below are real: each command ran against a SQLite file, `app.db`, given \
         as `--database-url 'sqlite:app.db?mode=rwc'`, with a small library's migrations \
         (authors, books, a column added to books, seed authors, reviews). Values that change \
         from run to run are replaced:\n\n",
    );
    for (placeholder, meaning) in PLACEHOLDERS {
        writeln!(out, "- `{placeholder}`: {meaning}").unwrap();
    }
    out.push('\n');
    // In the order of the commands' sections.
    let order: Vec<&str> = GROUPS
        .iter()
        .flat_map(|(_, _, names)| names.iter().copied())
        .collect();
    let mut sorted: Vec<&Example> = examples.iter().collect();
    sorted.sort_by_key(|e| {
        order
            .iter()
            .position(|n| *n == e.command)
            .unwrap_or(order.len())
    });
    for e in sorted {
        let h = format!("JSON of `{}`", e.command);
        writeln!(out, "### {h}\n").unwrap();
        entries.push((format!("`{}`", e.command), anchor(&h)));
        let shown: Vec<&str> = e.args.to_vec();
        writeln!(
            out,
            "{}:\n\n```sh\n{bin} {}\n```\n\n```json\n{:#}\n```\n",
            e.before,
            shown.join(" "),
            e.json
        )
        .unwrap();
        let fields = json::fields(examples, e);
        let present = json::paths(&e.json);
        let described: Vec<&str> = fields.iter().map(|(p, _)| *p).collect();
        let missing: Vec<&String> = present
            .iter()
            .filter(|p| !described.contains(&p.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "`{}` prints fields the reference does not describe: {missing:?}; describe them in \
             tests/reference/json.rs",
            e.command
        );
        match e.fields {
            json::Fields::As(other) => {
                let h = format!("JSON of `{other}`");
                writeln!(
                    out,
                    "The fields are those of [`{other}`](#{}).\n",
                    anchor(&h)
                )
                .unwrap();
            }
            json::Fields::Own(fields) => {
                for (path, text) in fields {
                    let stop = if text.ends_with('.') { "" } else { "." };
                    writeln!(out, "- `{path}`: {text}{stop}").unwrap();
                }
                out.push('\n');
            }
        }
    }
    out
}
