//! Namespace topics in `cargo xtask interop`: every publisher against one emulator, then every
//! consumer, each on its own queue subscription of the same topic, so each receives what all
//! the others published.
//!
//! Publishers, each with its own id prefix: Python `EventGridPublisherClient(namespace_topic=)`
//! (`py`), JavaScript `EventGridSenderClient` (`js`), our async client (the `namespace_interop`
//! example, `rs`) and the `eventgrid publish --file` command on the blocking client (`cli`).
//! Consumers, at once: Python `EventGridConsumerClient`, JavaScript `EventGridReceiverClient`,
//! our async and blocking receivers, each checking every event against the fixture
//! (`crates/eventgrid/examples/support/namespace_events.jsonl`) and settling through every path
//! (acknowledge, release at once and after 10 s, reject, renew, stale tokens); and `eventgrid
//! receive`, releasing then acknowledging, its output checked with the Python SDK's parser.
//! Finally each subscription's counts, read from the inspection API (over http), must show
//! exactly those settlements.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use super::{KEY, SCRIPT_DEADLINE};
use crate::emulator_process::EmulatorProcess;
use crate::util::{root, run as run_command, wait_with_deadline};

/// The namespace topic every participant publishes to.
const TOPIC: &str = "interop";
/// The subscriptions' lock duration: short, so that renewing a lock is proven by outliving it
/// (the consumers hold one event 1.2 lock durations, renewing it on the way; 2.4 s of slack
/// either side for a loaded machine).
const LOCK_MS: u64 = 6000;
/// The fixture's events: each publisher sends all of them.
const FIXTURE: &str = "crates/eventgrid/examples/support/namespace_events.jsonl";

/// What runs the namespace round: the binaries cargo built and the SDKs installed.
pub(super) struct Participants<'a> {
    pub emulator: &'a Path,
    pub cli: &'a Path,
    pub rust: &'a Path,
    pub python: Option<&'a Path>,
    pub node_modules: Option<&'a Path>,
}

/// One round against a fresh emulator, over https when `tls`.
pub(super) fn run(participants: &Participants<'_>, tls: bool) -> Result<()> {
    let work = root().join("target/interop-namespace");
    std::fs::create_dir_all(&work)?;
    let config = work.join("emulator.toml");
    std::fs::write(&config, emulator_config()).context("writing the emulator configuration")?;
    let mut args = vec!["--config".to_owned(), config.display().to_string()];
    args.extend(["--port", "0"].map(str::to_owned));
    if tls {
        args.push("--tls".to_owned());
    }
    let mut emulator = EmulatorProcess::start(participants.emulator, args)?;
    let scheme = if tls { "https" } else { "http" };
    let env = Environment {
        url: emulator.base_url().to_owned(),
        ca: emulator.ca_certificate().map(Path::to_path_buf),
    };
    let prefixes = publish_all(participants, &env, &work)?;
    let subscriptions = consume_all(participants, &env, &work, &prefixes)?;

    let expected = prefixes.split(',').count() * fixture_len()?;
    if !tls {
        for subscription in subscriptions {
            check_counts(&emulator, subscription, &settled_by_consumer(expected))?;
        }
        check_counts(&emulator, "cli", &settled_by_cli(expected))?;
    }
    let stopped = emulator.stop()?;
    if !stopped.success() {
        bail!("the emulator exited with {stopped} on SIGTERM");
    }
    eprintln!(
        "namespace interop ({scheme}): {expected} events from {prefixes}, every subscription settled"
    );
    Ok(())
}

/// Every publisher, one after the other, each sending the fixture with its own id prefix;
/// returns the prefixes, comma-separated.
fn publish_all(participants: &Participants<'_>, env: &Environment, work: &Path) -> Result<String> {
    let scripts = root().join("xtask/interop");
    let mut prefixes = Vec::new();
    if let Some(python) = participants.python {
        let mut publish = env.command(python);
        publish
            .arg(scripts.join("python_namespace.py"))
            .args(["publish", "py"]);
        finish(publish.spawn()?, "python publish")?;
        prefixes.push("py");
    }
    if let Some(modules) = participants.node_modules {
        let mut publish = env.node(modules);
        publish
            .arg(scripts.join("node_namespace.cjs"))
            .args(["publish", "js"]);
        finish(publish.spawn()?, "node publish")?;
        prefixes.push("js");
    }
    let mut publish = env.command(participants.rust);
    publish.args(["publish", "rs"]);
    finish(publish.spawn()?, "rust async publish")?;
    prefixes.push("rs");
    let cli_events = work.join("cli-events.jsonl");
    std::fs::write(&cli_events, with_id_prefix("cli")?)?;
    let mut publish = env.cli(participants.cli, "publish");
    publish.arg("--file").arg(&cli_events);
    run_command(publish)?;
    prefixes.push("cli");
    Ok(prefixes.join(","))
}

/// Every consumer at once, each on its own subscription; returns the subscriptions the
/// settling consumers used.
fn consume_all(
    participants: &Participants<'_>,
    env: &Environment,
    work: &Path,
    prefixes: &str,
) -> Result<Vec<&'static str>> {
    let scripts = root().join("xtask/interop");
    let mut consumers: Vec<(Child, String)> = Vec::new();
    let mut subscriptions = vec!["rust-async", "rust-blocking"];
    if let Some(python) = participants.python {
        let mut consume = env.command(python);
        consume.arg(scripts.join("python_namespace.py"));
        consume.args(["consume", "python", prefixes]);
        consumers.push((consume.spawn()?, "python consume".to_owned()));
        subscriptions.push("python");
    }
    if let Some(modules) = participants.node_modules {
        let mut consume = env.node(modules);
        consume.arg(scripts.join("node_namespace.cjs"));
        consume.args(["consume", "node", prefixes]);
        consumers.push((consume.spawn()?, "node consume".to_owned()));
        subscriptions.push("node");
    }
    for (subscription, flag) in [("rust-async", None), ("rust-blocking", Some("--blocking"))] {
        let mut consume = env.command(participants.rust);
        consume.args(["consume", subscription, prefixes]).args(flag);
        consumers.push((consume.spawn()?, format!("rust consume ({subscription})")));
    }
    let cli = cli_receive(participants, env, work, prefixes);
    // Every consumer is waited for, so none outlives a failure; the first failure is reported.
    let waited: Vec<Result<()>> = consumers
        .into_iter()
        .map(|(child, name)| finish(child, &name))
        .collect();
    cli?;
    waited.into_iter().collect::<Result<Vec<()>>>()?;
    Ok(subscriptions)
}

/// `eventgrid receive` on the `cli` subscription: releases every event, receives them again
/// and acknowledges them; the Python SDK parses both outputs when it is there, and every id
/// must appear either way.
fn cli_receive(
    participants: &Participants<'_>,
    env: &Environment,
    work: &Path,
    prefixes: &str,
) -> Result<()> {
    let ids = expected_ids(prefixes)?;
    for (settle, delivery_count) in [("release", "1"), ("acknowledge", "2")] {
        let output = work.join(format!("cli-receive-{settle}.jsonl"));
        let mut receive = env.cli(participants.cli, "receive");
        receive.args([
            "--subscription",
            "cli",
            "--max-events",
            "100",
            "--settle",
            settle,
        ]);
        receive.stdout(File::create(&output)?);
        run_command(receive)?;
        let text = std::fs::read_to_string(&output)?;
        for id in &ids {
            if !text.contains(&format!("\"id\":\"{id}\"")) {
                bail!("eventgrid receive --settle {settle} did not print event {id}:\n{text}");
            }
        }
        if text.lines().count() != ids.len() {
            bail!(
                "eventgrid receive --settle {settle} printed {} lines for {} events",
                text.lines().count(),
                ids.len()
            );
        }
        if let Some(python) = participants.python {
            let mut check = env.command(python);
            check.arg(root().join("xtask/interop/python_namespace.py"));
            check
                .arg("check-cli")
                .arg(&output)
                .args([delivery_count, prefixes]);
            finish(check.spawn()?, "python check of eventgrid receive")?;
        }
    }
    Ok(())
}

/// What every script and command is told about the namespace.
struct Environment {
    url: String,
    ca: Option<PathBuf>,
}

impl Environment {
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("EMULATOR_URL", &self.url)
            .env("EMULATOR_KEY", KEY)
            .env("NAMESPACE_TOPIC", TOPIC)
            .env("NAMESPACE_EVENTS", root().join(FIXTURE))
            .env("LOCK_SECONDS", (LOCK_MS as f64 / 1000.0).to_string())
            .stdin(Stdio::null());
        if let Some(ca) = &self.ca {
            command
                .env("EMULATOR_CA", ca)
                .env("REQUESTS_CA_BUNDLE", ca)
                .env("NODE_EXTRA_CA_CERTS", ca);
        }
        command
    }

    fn node(&self, modules: &Path) -> Command {
        let mut command = self.command(Path::new("node"));
        command.env("NODE_PATH", modules);
        command
    }

    /// `eventgrid SUBCOMMAND` aimed at the namespace topic with its key.
    fn cli(&self, binary: &Path, subcommand: &str) -> Command {
        let mut command = self.command(binary);
        command
            .arg(subcommand)
            .args(["--topic", TOPIC, "--namespace-topic", TOPIC]);
        command.args(["--endpoint", &self.url, "--key", KEY]);
        if let Some(ca) = &self.ca {
            command.arg("--ca-certificate").arg(ca);
        }
        command
    }
}

/// Waits for `child`; fails if it fails or outlives the deadline.
fn finish(mut child: Child, name: &str) -> Result<()> {
    let status = wait_with_deadline(&mut child, SCRIPT_DEADLINE).with_context(|| {
        let _ = child.kill();
        let _ = child.wait();
        format!("{name} did not finish")
    })?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

fn emulator_config() -> String {
    let mut config = format!("namespace_topics = [\"{TOPIC}={KEY}\"]\n");
    for name in ["python", "node", "rust-async", "rust-blocking", "cli"] {
        config.push_str(&format!(
            "\n[[subscriptions]]\ntopic = \"{TOPIC}\"\nname = \"{name}\"\nlock_duration_ms = {LOCK_MS}\n"
        ));
    }
    config
}

fn fixture_lines() -> Result<Vec<String>> {
    let text = std::fs::read_to_string(root().join(FIXTURE)).context("reading the fixture")?;
    Ok(text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

fn fixture_len() -> Result<usize> {
    Ok(fixture_lines()?.len())
}

/// The fixture's ids as `prefix-ID`; every line starts `{"specversion":"1.0","id":"`.
fn with_id_prefix(prefix: &str) -> Result<String> {
    const ID: &str = "\"id\":\"";
    let mut out = String::new();
    for line in fixture_lines()? {
        let Some(at) = line.find(ID) else {
            bail!("a fixture line without an id: {line}");
        };
        let split = at + ID.len();
        out.push_str(&format!("{}{prefix}-{}\n", &line[..split], &line[split..]));
    }
    Ok(out)
}

fn expected_ids(prefixes: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for prefix in prefixes.split(',') {
        for line in with_id_prefix(prefix)?.lines() {
            let start = line.find("\"id\":\"").map(|at| at + 6).unwrap_or_default();
            let end = line[start..]
                .find('"')
                .map(|len| start + len)
                .unwrap_or(start);
            ids.push(line[start..end].to_owned());
        }
    }
    Ok(ids)
}

/// A consumer rejects one event and acknowledges the rest, two of them after a release.
fn settled_by_consumer(events: usize) -> Vec<(&'static str, usize)> {
    vec![
        ("acknowledged", events - 1),
        ("rejected", 1),
        ("dead_lettered", 1),
        ("released", 2),
        ("delivered", events + 2),
        ("available", 0),
        ("delayed", 0),
        ("locked", 0),
    ]
}

/// `eventgrid receive` releases every event once, then acknowledges it.
fn settled_by_cli(events: usize) -> Vec<(&'static str, usize)> {
    vec![
        ("acknowledged", events),
        ("released", events),
        ("delivered", 2 * events),
        ("rejected", 0),
        ("available", 0),
        ("locked", 0),
    ]
}

/// The subscription's counts, from the inspection API, are `expected`.
fn check_counts(
    emulator: &EmulatorProcess,
    subscription: &str,
    expected: &[(&str, usize)],
) -> Result<()> {
    let body = emulator.get(&format!(
        "/_emulator/namespace/topics/{TOPIC}/subscriptions/{subscription}"
    ))?;
    for (count, value) in expected {
        if !body.contains(&format!("\"{count}\":{value},"))
            && !body.contains(&format!("\"{count}\":{value}}}"))
        {
            bail!("subscription {subscription}: expected {count} = {value}, got {body}");
        }
    }
    Ok(())
}
