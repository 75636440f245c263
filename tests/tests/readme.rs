//! Every `netkit` command line in the README parses as written (flags, values,
//! units), checked through the real binary with `NETKIT_CHECK_ARGS=1`, which
//! parses the arguments and stops before running anything.

use netkit_tests::{netkit, text};
use std::process::Command;

/// The words of a shell command line: spaces split, quotes group, `#` starts a
/// comment, and a redirection or pipe (`>`, `|`) ends the command.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '#') if word.is_none() => break,
            (None, '>' | '|') => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The `netkit ...` lines inside the README's ```sh blocks.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md beside the tests crate");
    let mut in_sh = false;
    let mut out = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if in_sh && line.trim_start().starts_with("netkit ") {
            out.push(line.trim().to_string());
        }
    }
    out
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        shell_words("netkit sntp '[::1]:11123' --json   # a comment"),
        ["netkit", "sntp", "[::1]:11123", "--json"]
    );
    assert_eq!(shell_words(r#"a "b c" d"#), ["a", "b c", "d"]);
    assert_eq!(
        shell_words("netkit completions bash > f"),
        ["netkit", "completions", "bash"]
    );
}

#[test]
fn every_netkit_command_in_the_readme_parses() {
    let commands = readme_commands();
    assert!(commands.len() >= 15, "found only {commands:?}");
    let mut failed = Vec::new();
    for line in &commands {
        let words = shell_words(line);
        let out = Command::new(netkit())
            .args(&words[1..])
            .env("NETKIT_CHECK_ARGS", "1")
            .output()
            .expect("run netkit");
        if !out.status.success() {
            failed.push(format!("{line}\n  {}", text(&out.stderr).trim()));
        }
    }
    assert!(
        failed.is_empty(),
        "README commands that do not parse:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_bad_command_line_is_refused_by_the_same_check() {
    // The check can fail: a flag that does not exist is caught.
    let out = Command::new(netkit())
        .args(["sntp", "127.0.0.1", "--no-such-flag"])
        .env("NETKIT_CHECK_ARGS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
