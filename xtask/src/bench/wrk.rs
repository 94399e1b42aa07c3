//! `wrk` posting one prebuilt body over and over (`xtask/bench/post.lua`): the floor of what a
//! C load generator gets through the same sink at the same number of connections.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::bench::tools;
use crate::util::root;

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WrkRun {
    pub requests: u64,
    pub seconds: f64,
    /// Non-2xx answers plus connect, read, write and time-out errors.
    pub errors: u64,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
}

impl WrkRun {
    pub(crate) fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Posts the file `body` to `url` with header `aeg-sas-key: key` over `connections`
/// connections (on at most 2 threads) for `duration`.
pub(crate) fn post(
    url: &str,
    body: &Path,
    key: &str,
    connections: usize,
    duration: Duration,
) -> Result<WrkRun> {
    post_on_threads(
        url,
        body,
        key,
        connections.clamp(1, 2),
        connections,
        duration,
    )
}

/// [`post`] with wrk's `threads` chosen by the caller.
pub(crate) fn post_on_threads(
    url: &str,
    body: &Path,
    key: &str,
    threads: usize,
    connections: usize,
    duration: Duration,
) -> Result<WrkRun> {
    let binary = tools::find("wrk").context("wrk is not installed")?;
    let output = Command::new(binary)
        .arg("-t")
        .arg(threads.to_string())
        .arg("-c")
        .arg(connections.to_string())
        .arg("-d")
        .arg(format!("{}s", duration.as_secs().max(1)))
        .arg("-s")
        .arg(root().join("xtask/bench/post.lua"))
        .arg(url)
        .arg("--")
        .arg(body)
        .arg(key)
        .output()
        .context("running wrk")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("WRK "))
        .with_context(|| format!("wrk printed no WRK line:\n{stdout}"))?;
    let field = |name: &str| -> Result<u64> {
        line.split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
            .with_context(|| format!("wrk's line has no {name}: {line}"))
    };
    Ok(WrkRun {
        requests: field("requests")?,
        seconds: field("duration_us")? as f64 / 1e6,
        errors: field("status_errors")?
            + field("connect_errors")?
            + field("read_errors")?
            + field("write_errors")?
            + field("timeouts")?,
        latency_p50_us: field("latency_p50_us")?,
        latency_p99_us: field("latency_p99_us")?,
    })
}
