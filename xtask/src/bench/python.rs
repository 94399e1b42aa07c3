//! The Python peers: the official `azure-eventgrid` SDK from the xtask Python environment
//! ([`crate::python_env`]), running `xtask/bench/python_peer.py` (publishing) or
//! `xtask/bench/python_consumer.py` (pull delivery) against the same sink.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::root;

/// What a peer run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerRun {
    pub events: u64,
    pub requests: u64,
    pub seconds: f64,
    pub peak_rss_kib: u64,
}

/// Runs one peer `mode` (`sdk-send` or `sdk-single`) for `events` events.
pub(crate) fn run(
    interpreter: &PathBuf,
    mode: &str,
    endpoint: &str,
    key: &str,
    events: u64,
) -> Result<PeerRun> {
    let mut command = Command::new(interpreter);
    command
        .arg(root().join("xtask/bench/python_peer.py"))
        .arg(mode)
        .args(["--endpoint", endpoint, "--key", key, "--events"])
        .arg(events.to_string());
    run_script(command, mode)
}

/// The namespace subscription `topic`/`subscription` consumed by `EventGridConsumerClient`:
/// `events` events received 100 at a time and acknowledged.
pub(crate) fn run_consumer(
    interpreter: &PathBuf,
    endpoint: &str,
    key: &str,
    (topic, subscription): (&str, &str),
    events: u64,
) -> Result<PeerRun> {
    let mut command = Command::new(interpreter);
    command
        .arg(root().join("xtask/bench/python_consumer.py"))
        .args(["--endpoint", endpoint, "--key", key, "--topic", topic])
        .args(["--subscription", subscription, "--events"])
        .arg(events.to_string());
    run_script(command, "consumer")
}

/// Runs a peer script and reads its `RESULT` line.
fn run_script(mut command: Command, mode: &str) -> Result<PeerRun> {
    let output = command.output().context("running the Python peer")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        bail!("python {mode} failed ({}): {last}", output.status);
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .with_context(|| format!("the Python peer printed no RESULT line:\n{stdout}"))?;
    let fields = crate::bench::parse_fields(line);
    let number = |name: &str| -> Result<f64> {
        fields
            .get(name)
            .and_then(|value| value.parse().ok())
            .with_context(|| format!("the Python peer's line has no {name}: {line}"))
    };
    Ok(PeerRun {
        events: number("events")? as u64,
        requests: number("requests")? as u64,
        seconds: number("seconds")?,
        peak_rss_kib: number("peak_rss_kib")? as u64,
    })
}
