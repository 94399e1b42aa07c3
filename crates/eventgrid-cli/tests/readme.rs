//! The README's shell commands are real: every command line in its `sh` blocks is checked
//! here, and a command this test does not know fails it, so the README cannot drift from the
//! code.
//!
//! - `eventgrid ...` and `cargo run -p eventgrid-cli -- ...`: parsed by the command's own
//!   parser; `demo` and `sas` are run.
//! - `cargo xtask NAME`: `NAME` is a command of `xtask/src/main.rs`.
//! - `cargo run -p eventgrid [--features F] --example NAME`: the example exists and the line
//!   enables the features it requires.
//! - `cargo run -p eventgrid-emulator -- ...`: the emulator binary is started with those
//!   options (on a free port) and must print its topics.
//! - `export NAME=VALUE`: sets a variable for the lines after it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;
use eventgrid_cli::{Cli, Command as CliCommand};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .to_path_buf()
}

/// The lines of every ```sh block.
fn shell_lines(readme: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            inside = !inside && trimmed == "```sh";
            continue;
        }
        if inside && !trimmed.is_empty() && !trimmed.starts_with('#') {
            lines.push(trimmed.to_owned());
        }
    }
    lines
}

/// Splits a command line as a POSIX shell would for these simple cases: words, '...' and
/// "..." quoting, and $NAME expanded from `vars` outside single quotes (the README quotes
/// every expansion, so no field splitting).
fn words(line: &str, vars: &HashMap<String, String>) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, ' ') => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '$') => {
                let mut name = String::new();
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        name.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let value = vars
                    .get(&name)
                    .unwrap_or_else(|| panic!("README uses ${name}, which this test does not set"));
                word.push_str(value);
                in_word = true;
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in README line {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

fn check_cli(args: &[String], vars: &HashMap<String, String>) {
    let mut argv = vec!["eventgrid".to_owned()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(&argv)
        .unwrap_or_else(|error| panic!("README command {argv:?} does not parse:\n{error}"));
    if matches!(cli.command, CliCommand::Demo | CliCommand::Sas(_)) {
        let output = Command::new(env!("CARGO_BIN_EXE_eventgrid"))
            .args(args)
            .envs(vars)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "README command {argv:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn check_xtask(name: &str) {
    let main = std::fs::read_to_string(workspace().join("xtask/src/main.rs")).unwrap();
    assert!(
        main.contains(&format!("\"{name}\" =>")),
        "README runs `cargo xtask {name}`, which xtask/src/main.rs does not have"
    );
}

fn check_example(args: &[String]) {
    let position = args
        .iter()
        .position(|a| a == "--example")
        .expect("--example");
    let name = &args[position + 1];
    let path = workspace().join(format!("crates/eventgrid/examples/{name}.rs"));
    assert!(
        path.is_file(),
        "README runs example {name}, which does not exist"
    );
    let manifest =
        std::fs::read_to_string(workspace().join("crates/eventgrid/Cargo.toml")).unwrap();
    let required = manifest
        .split("[[example]]")
        .skip(1)
        .find(|section| section.contains(&format!("name = \"{name}\"")))
        .and_then(|section| section.lines().find(|l| l.starts_with("required-features")))
        .map(|line| line.to_owned());
    if let Some(line) = required {
        let features = args
            .iter()
            .position(|a| a == "--features")
            .map(|i| args[i + 1].clone())
            .unwrap_or_default();
        for feature in line.split('"').skip(1).step_by(2) {
            assert!(
                features.split(',').any(|f| f == feature),
                "README runs example {name} without its required feature {feature}"
            );
        }
    }
}

/// Starts the emulator with the README's options (on a free port) and checks its topics.
fn check_emulator(args: &[String]) {
    let mut args = args.to_vec();
    if let Some(index) = args.iter().position(|a| a == "--port") {
        args[index + 1] = "0".to_owned();
    }
    // `eventgrid emulator` is the emulator's own command line, run in-process.
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventgrid"))
        .arg("emulator")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let banner: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("inspect:"))
        .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        banner[0].starts_with("listening on http://127.0.0.1:"),
        "{banner:?}"
    );
    for (index, arg) in args.iter().enumerate() {
        if arg == "--topic" {
            let name = args[index + 1].split([':', '=']).next().unwrap();
            assert!(
                banner
                    .iter()
                    .any(|line| line.starts_with(&format!("topic {name} "))),
                "README's emulator has no topic {name}: {banner:?}"
            );
        }
    }
}

#[test]
fn every_shell_command_of_the_readme_works() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let lines = shell_lines(&readme);
    assert!(lines.len() >= 10, "found the README's commands: {lines:?}");
    let mut vars = HashMap::from([
        ("ORDERS_ACCESS_KEY".to_owned(), "a2V5".to_owned()),
        ("NAMESPACE_KEY".to_owned(), "a2V5".to_owned()),
    ]);
    for line in &lines {
        let words = words(line, &vars);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["export", assignment] => {
                let (name, value) = assignment.split_once('=').expect("NAME=VALUE");
                vars.insert(name.to_owned(), value.to_owned());
            }
            ["eventgrid", args @ ..] | ["cargo", "run", "-p", "eventgrid-cli", "--", args @ ..] => {
                let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
                check_cli(&args, &vars);
            }
            ["cargo", "xtask", name] => check_xtask(name),
            ["cargo", "run", "-p", "eventgrid", args @ ..] if args.contains(&"--example") => {
                check_example(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>());
            }
            ["cargo", "run", "-p", "eventgrid-emulator", "--", args @ ..] => {
                check_emulator(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>());
            }
            _ => panic!("README shell line {line:?} is not checked by this test; teach it"),
        }
    }
}

#[test]
fn shell_words_split_like_a_shell() {
    let vars = HashMap::from([("KEY".to_owned(), "a b".to_owned())]);
    assert_eq!(
        words(r#"eventgrid x  --data '{"a": "$KEY"}' --key "$KEY""#, &vars),
        [
            "eventgrid",
            "x",
            "--data",
            r#"{"a": "$KEY"}"#,
            "--key",
            "a b"
        ]
    );
}
