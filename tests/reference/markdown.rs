//! A clap [`Command`] as Markdown: a section per subcommand with its synopsis, its long about
//! and a table of its arguments (help, default, possible values, conflicts).
//!
//! **Invariant:** the output depends on the command tree only: no terminal width, no paths.

use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command};

/// The GitHub anchor of a heading: lowercase, punctuation dropped, spaces as `-`.
pub fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The heading of `sub`, a subcommand of the binary `bin`: the command as typed after the
/// binary, so that `migrations up` is `up` and `godwit init` is `godwit init`.
pub fn heading(bin: &str, primary: bool, sub: &Command) -> String {
    if primary {
        format!("`{}`", sub.get_name())
    } else {
        format!("`{bin} {}`", sub.get_name())
    }
}

/// The subcommands a reader looks up: not hidden, not clap's `help`.
pub fn subcommands(command: &Command) -> Vec<&Command> {
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .collect()
}

/// `root` ready to render: named `bin`, built (so that usages name their parents), and
/// independent of the terminal.
pub fn prepare(bin: &'static str, root: Command) -> Command {
    let mut root = root.name(bin).bin_name(bin).term_width(0).max_term_width(0);
    root.build();
    root
}

/// One command's section, under a heading of `level` (`###`).
pub fn command_section(level: &str, title: &str, command: &Command, extra: &str) -> String {
    let mut out = format!("{level} {title}\n\n");
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        out.push_str(&paragraphs(&about.to_string()));
        out.push('\n');
    }
    if let Some(after) = command.get_after_long_help().or(command.get_after_help()) {
        out.push_str(&paragraphs(&after.to_string()));
        out.push('\n');
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage).trim();
    writeln!(out, "```text\n{usage}\n```\n").unwrap();
    let args: Vec<&Arg> = command
        .get_arguments()
        .filter(|a| {
            !a.is_hide_set()
                && !matches!(
                    a.get_action(),
                    ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong
                )
        })
        .collect();
    if !args.is_empty() {
        out.push_str("| Argument | Default | Description |\n|---|---|---|\n");
        for arg in args {
            writeln!(out, "{}", arg_row(command, arg)).unwrap();
        }
        out.push('\n');
    }
    out.push_str(extra);
    out
}

/// Text from a doc comment as Markdown paragraphs: clap keeps its paragraphs apart with a blank
/// line and may keep the line breaks of the source within one. A paragraph with indented lines
/// (a `verbatim_doc_comment` layout) is shown as it is, in a code block.
pub fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for p in text.split("\n\n") {
        let p = p.trim_end();
        if p.lines().any(|l| l.starts_with("  ")) {
            let indent = p
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            let lines: Vec<&str> = p.lines().map(|l| l.get(indent..).unwrap_or("")).collect();
            out.push_str(&format!("```text\n{}\n```\n\n", lines.join("\n")));
            continue;
        }
        let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() {
            out.push_str(&sentence(&p));
            out.push_str("\n\n");
        }
    }
    out.pop();
    out
}

/// `text` ending in a full stop, as a help line is written without one.
fn sentence(text: &str) -> String {
    if text.ends_with(['.', '!', '?', ':']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// `--backend <BACKEND>`, `-b, --backend <BACKEND>`, `--dry-run`, `<VERSION>...`.
fn synopsis(arg: &Arg) -> String {
    let takes_values = arg.get_action().takes_values();
    let value_names: Vec<String> = match arg.get_value_names() {
        Some(names) => names.iter().map(|n| n.to_string()).collect(),
        None => vec![arg.get_id().as_str().to_uppercase()],
    };
    let many = arg
        .get_num_args()
        .is_some_and(|n| n.max_values() > 1 && arg.get_value_delimiter().is_none());
    let value = value_names
        .iter()
        .map(|n| format!("<{n}>"))
        .collect::<Vec<_>>()
        .join(" ")
        + if many { "..." } else { "" };
    if arg.is_positional() {
        return value;
    }
    let mut names = Vec::new();
    if let Some(short) = arg.get_short() {
        names.push(format!("-{short}"));
    }
    if let Some(long) = arg.get_long() {
        names.push(format!("--{long}"));
    }
    let mut s = names.join(", ");
    if takes_values {
        s.push(' ');
        s.push_str(&value);
    }
    s
}

/// A table row: the argument, its default, its help with its values and conflicts.
fn arg_row(command: &Command, arg: &Arg) -> String {
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let takes_values = arg.get_action().takes_values();
    // A default that clap cannot know (it depends on the environment or the migration) is
    // written at the end of the help as `[default: ...]`.
    let mut default = None;
    if let Some(start) = help.rfind(" [default: ")
        && help.ends_with(']')
    {
        default = Some(help[start + " [default: ".len()..help.len() - 1].to_string());
        help.truncate(start);
    }
    if takes_values && !arg.is_hide_default_value_set() && !arg.get_default_values().is_empty() {
        let values: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| format!("`{}`", v.to_string_lossy()))
            .collect();
        default = Some(values.join(", "));
    }
    let mut description = sentence(&help);
    if arg.is_required_set() {
        description.insert_str(0, "Required. ");
    }
    let values: Vec<String> = if takes_values && !arg.is_hide_possible_values_set() {
        arg.get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| {
                let mut names = v.get_name_and_aliases();
                let name = names.next().unwrap_or_default();
                let aliases: Vec<String> = names.map(|a| format!("`{a}`")).collect();
                let mut notes = Vec::new();
                if let Some(h) = v.get_help() {
                    notes.push(h.to_string());
                }
                if !aliases.is_empty() {
                    notes.push(format!("also {}", aliases.join(", ")));
                }
                if notes.is_empty() {
                    format!("`{name}`")
                } else {
                    format!("`{name}` ({})", notes.join("; "))
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    if !values.is_empty() {
        write!(description, " Values: {}.", values.join(", ")).unwrap();
    }
    if let Some(d) = arg.get_value_delimiter() {
        write!(description, " Several values are separated by `{d}`.").unwrap();
    }
    let conflicts: Vec<String> = command
        .get_arg_conflicts_with(arg)
        .iter()
        .filter(|a| !a.is_hide_set())
        .map(|a| format!("`{}`", long_or_value(a)))
        .collect();
    if !conflicts.is_empty() {
        write!(description, " Not with {}.", or_list(&conflicts)).unwrap();
    }
    let default = default.unwrap_or_default();
    format!(
        "| `{}` | {} | {} |",
        synopsis(arg),
        escape(&default),
        escape(&description)
    )
}

fn long_or_value(arg: &Arg) -> String {
    match arg.get_long() {
        Some(long) => format!("--{long}"),
        None => synopsis(arg),
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Text for a table cell: no `|`, no raw angle brackets outside code.
fn escape(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}
