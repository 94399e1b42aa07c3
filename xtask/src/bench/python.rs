//! The Python peers: the official `azure-eventgrid` SDK from a virtual environment under
//! `target/bench-venv`, running `xtask/bench/python_peer.py` against the same sink.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{root, run as run_command};

/// The SDK the peers run, pinned (the version whose requests `tests/fixtures` recorded).
pub(crate) const PYTHON_SDK: &str = "azure-eventgrid==4.22.1";
const MARKER: &str = ".bench-installed";

/// What a peer run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerRun {
    pub events: u64,
    pub requests: u64,
    pub seconds: f64,
    pub peak_rss_kib: u64,
}

/// `target/bench-venv/bin/python` with [`PYTHON_SDK`] installed, creating the environment on
/// first use (and again when the pinned version changes).
pub(crate) fn environment() -> Result<PathBuf> {
    let venv = root().join("target/bench-venv");
    let interpreter = venv.join("bin/python");
    let marker = venv.join(MARKER);
    if std::fs::read_to_string(&marker).is_ok_and(|text| text == PYTHON_SDK) {
        return Ok(interpreter);
    }
    eprintln!("bench: creating target/bench-venv with {PYTHON_SDK}");
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("removing {}", venv.display()))?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut create = Command::new(python);
    create.args(["-m", "venv"]).arg(&venv);
    run_command(create)?;
    let mut install = Command::new(venv.join("bin/pip"));
    install.args([
        "install",
        "--disable-pip-version-check",
        "--quiet",
        PYTHON_SDK,
    ]);
    run_command(install)?;
    std::fs::write(&marker, PYTHON_SDK).context("writing the install marker")?;
    Ok(interpreter)
}

/// Runs one peer `mode` (`sdk-send` or `sdk-single`) for `events` events.
pub(crate) fn run(
    interpreter: &PathBuf,
    mode: &str,
    endpoint: &str,
    key: &str,
    events: u64,
) -> Result<PeerRun> {
    let output = Command::new(interpreter)
        .arg(root().join("xtask/bench/python_peer.py"))
        .arg(mode)
        .args(["--endpoint", endpoint, "--key", key, "--events"])
        .arg(events.to_string())
        .output()
        .context("running the Python peer")?;
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
