//! `cargo xtask itest`: the cross-crate suite and the examples against the emulator run as a
//! separate process, as users run Azurite.
//!
//! It builds `eventgrid-emulator`, starts it with `tests/emulator.toml` on a free port, waits
//! for its `listening on URL` line, then runs the `tests/` suite (package `eventgrid-tests`)
//! and every example of the `eventgrid` crate with variables pointing at it:
//! `EVENTGRID_EMULATOR_URL` for the suite (and for the examples to read their events back),
//! `EVENTGRID_TOPICS` and `EVENTGRID_<TOPIC>_ENDPOINT`/`_KEY` for the examples. The emulator is
//! stopped whatever happens; the run fails if any step failed.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::emulator_process::EmulatorProcess;
use crate::util::{cargo, root, run as run_command};

/// Where the suite and the examples find the emulator.
const EMULATOR_URL_VAR: &str = "EVENTGRID_EMULATOR_URL";
/// The topics the examples publish to (the seed documentation's).
const EXAMPLE_TOPICS: [&str; 2] = ["user-events", "order-events"];

const USAGE: &str = "\
cargo xtask itest

Starts eventgrid-emulator (tests/emulator.toml) as a separate process, runs the tests/ suite and
every example of crates/eventgrid against it, and stops it.
";

pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        if arg == "-h" || arg == "--help" {
            print!("{USAGE}");
            return Ok(());
        }
        bail!("unknown argument `{arg}`\n\n{USAGE}");
    }
    let config = root().join("tests/emulator.toml");
    let examples = examples()?;

    // Build everything first, so the emulator only lives while things run.
    let mut build = cargo();
    build.args([
        "build",
        "--locked",
        "-p",
        "eventgrid-emulator",
        "--bin",
        "eventgrid-emulator",
    ]);
    run_command(build)?;
    let mut build = cargo();
    build.args([
        "build",
        "--locked",
        "-p",
        "eventgrid",
        "--all-features",
        "--examples",
    ]);
    run_command(build)?;
    let mut build = cargo();
    build.args(["test", "--locked", "-p", "eventgrid-tests", "--no-run"]);
    run_command(build)?;

    let binary = root().join("target/debug/eventgrid-emulator");
    let mut emulator = EmulatorProcess::start(
        &binary,
        [
            "--config".as_ref(),
            config.as_os_str(),
            "--port".as_ref(),
            "0".as_ref(),
        ],
    )?;
    let mut failures = Vec::new();

    let mut suite = cargo();
    suite
        .args(["test", "--locked", "-p", "eventgrid-tests"])
        .env(EMULATOR_URL_VAR, emulator.base_url());
    if let Err(error) = run_command(suite) {
        failures.push(format!("the tests/ suite: {error:#}"));
    }
    // The suite falls back to an in-process emulator without the variable: make sure it used
    // this one.
    let after_suite = accepted_events(&emulator)?;
    if after_suite == 0 {
        failures.push("the tests/ suite sent nothing to the emulator process".to_owned());
    }

    let keys = topic_keys(&config, &EXAMPLE_TOPICS)?;
    for example in &examples {
        let mut command = cargo();
        command
            .args([
                "run",
                "--quiet",
                "--locked",
                "-p",
                "eventgrid",
                "--all-features",
            ])
            .args(["--example", example])
            .env(EMULATOR_URL_VAR, emulator.base_url())
            .env("EVENTGRID_TOPICS", EXAMPLE_TOPICS.join(","));
        for (topic, key) in EXAMPLE_TOPICS.iter().zip(&keys) {
            let prefix = format!("EVENTGRID_{}", topic.to_uppercase().replace('-', "_"));
            command
                .env(format!("{prefix}_ENDPOINT"), emulator.topic_endpoint(topic))
                .env(format!("{prefix}_KEY"), key);
        }
        if let Err(error) = run_command(command) {
            failures.push(format!("example {example}: {error:#}"));
        }
    }
    if accepted_events(&emulator)? == after_suite {
        failures.push("the examples sent nothing to the emulator process".to_owned());
    }
    let status = emulator.stop()?;
    if !status.success() {
        failures.push(format!("the emulator exited with {status} on SIGTERM"));
    }

    if !failures.is_empty() {
        bail!("itest failed:\n  {}", failures.join("\n  "));
    }
    eprintln!(
        "itest: the tests/ suite and {} examples passed against eventgrid-emulator",
        examples.len()
    );
    Ok(())
}

/// The examples of the `eventgrid` crate: every `crates/eventgrid/examples/*.rs`.
fn examples() -> Result<Vec<String>> {
    let folder = root().join("crates/eventgrid/examples");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&folder).with_context(|| folder.display().to_string())? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "rs") {
            let stem = path.file_stem().expect("a file name").to_string_lossy();
            names.push(stem.into_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        bail!("no examples in {}", folder.display());
    }
    Ok(names)
}

/// The access keys of `topics` from the configuration file's `"NAME=KEY"` entries.
fn topic_keys(config: &Path, topics: &[&str]) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(config).with_context(|| config.display().to_string())?;
    topics
        .iter()
        .map(|topic| {
            text.lines()
                .map(|line| line.trim().trim_end_matches(',').trim_matches('"'))
                .find_map(|entry| entry.strip_prefix(&format!("{topic}=")))
                .map(str::to_owned)
                .with_context(|| format!("{}: no keyed topic `{topic}`", config.display()))
        })
        .collect()
}

/// Events accepted so far over all topics, from the inspection API's topic summaries.
fn accepted_events(emulator: &EmulatorProcess) -> Result<u64> {
    let summaries = emulator.get("/_emulator/topics")?;
    let field = "\"accepted_events\":";
    summaries
        .match_indices(field)
        .map(|(at, _)| {
            let digits: String = summaries[at + field.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u64>().context("a count of accepted events")
        })
        .sum()
}
