//! `cargo xtask itest`: the cross-crate suite and the examples against the emulator run as a
//! separate process, as users run Azurite.
//!
//! It builds `eventgrid-emulator`, starts it with `tests/emulator.toml` on a free port, waits
//! for its `listening on URL` line, then runs the `tests/` suite (package `eventgrid-tests`)
//! and every example of the `eventgrid` crate with variables pointing at it:
//! `EVENTGRID_EMULATOR_URL` for the suite (and for the examples to read their events back),
//! `EVENTGRID_TOPICS` and `EVENTGRID_<TOPIC>_ENDPOINT`/`_KEY` for the examples. The emulator is
//! stopped whatever happens; the run fails if any step failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{cargo, root, run as run_command};

/// How long the emulator may take to print its `listening on` line once started.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);
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

    let emulator =
        EmulatorProcess::start(&root().join("target/debug/eventgrid-emulator"), &config)?;
    let mut failures = Vec::new();

    let mut suite = cargo();
    suite
        .args(["test", "--locked", "-p", "eventgrid-tests"])
        .env(EMULATOR_URL_VAR, &emulator.base_url);
    if let Err(error) = run_command(suite) {
        failures.push(format!("the tests/ suite: {error:#}"));
    }
    // The suite falls back to an in-process emulator without the variable: make sure it used
    // this one.
    let after_suite = emulator.accepted_events()?;
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
            .env(EMULATOR_URL_VAR, &emulator.base_url)
            .env("EVENTGRID_TOPICS", EXAMPLE_TOPICS.join(","));
        for (topic, key) in EXAMPLE_TOPICS.iter().zip(&keys) {
            let prefix = format!("EVENTGRID_{}", topic.to_uppercase().replace('-', "_"));
            command
                .env(
                    format!("{prefix}_ENDPOINT"),
                    format!("{}/{topic}/api/events", emulator.base_url),
                )
                .env(format!("{prefix}_KEY"), key);
        }
        if let Err(error) = run_command(command) {
            failures.push(format!("example {example}: {error:#}"));
        }
    }
    if emulator.accepted_events()? == after_suite {
        failures.push("the examples sent nothing to the emulator process".to_owned());
    }
    drop(emulator);

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

/// The emulator binary, running until dropped.
struct EmulatorProcess {
    child: Child,
    base_url: String,
}

impl EmulatorProcess {
    fn start(binary: &Path, config: &Path) -> Result<Self> {
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, banner) = mpsc::channel();
        // Reads the whole output, so the emulator never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut process = Self {
            child,
            base_url: String::new(),
        };
        loop {
            match banner.recv_timeout(STARTUP_DEADLINE) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        process.base_url = url.trim().to_owned();
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "{} printed no `listening on` line within {STARTUP_DEADLINE:?}",
                    binary.display()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!(
                    "{} exited before listening ({})",
                    binary.display(),
                    process
                        .child
                        .wait()
                        .map_or_else(|error| error.to_string(), |status| status.to_string())
                ),
            }
        }
        eprintln!("emulator listening on {}", process.base_url);
        Ok(process)
    }
}

impl EmulatorProcess {
    /// Events accepted so far over all topics, from the inspection API's topic summaries.
    fn accepted_events(&self) -> Result<u64> {
        let authority = self.base_url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority)
            .with_context(|| format!("connecting to the emulator at {authority}"))?;
        write!(
            stream,
            "GET /_emulator/topics HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let field = "\"accepted_events\":";
        response
            .match_indices(field)
            .map(|(at, _)| {
                let digits: String = response[at + field.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse::<u64>().context("a count of accepted events")
            })
            .sum()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
