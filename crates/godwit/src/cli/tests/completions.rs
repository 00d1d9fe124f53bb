//! `completions <SHELL>`: the script for each shell, and the bash one run by bash itself.

use super::*;

/// What bash completes for `words` (the last one being typed), with the script of
/// `blog-migrations completions bash` sourced.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let c = cx(&PROJECT, &[]);
    let script = run_str(&c, &["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blog-migrations.bash");
    std::fs::write(&file, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let probe = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\n\
         _blog__migrations blog-migrations '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        file.display(),
        quoted.join(" "),
        words[cword],
        words[cword - 1],
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_their_flags_and_values() {
    assert_eq!(bash_completes(&["blog-migrations", "st"]), ["status"]);
    // After a command: its own flags (the binary's name has a hyphen, as every migrations
    // binary's has).
    assert_eq!(
        bash_completes(&["blog-migrations", "up", "--single"]),
        ["--single-transaction"]
    );
    assert_eq!(
        bash_completes(&["blog-migrations", "lint", "--format", ""]),
        ["human", "json", "github", "sarif"]
    );
}

#[test]
fn every_shell_gets_a_script_that_names_every_command() {
    let c = cx(&PROJECT, &[]);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run_str(&c, &["completions", shell]);
        for word in [
            "blog-migrations",
            "status",
            "single-transaction",
            "completions",
        ] {
            assert!(script.contains(word), "{shell}: no `{word}` in:\n{script}");
        }
    }
    assert!(run_str(&c, &["completions", "tcsh"]).starts_with("usage (2)"));
}
