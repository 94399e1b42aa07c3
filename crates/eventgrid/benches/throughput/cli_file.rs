//! `cli-file`: `eventgrid publish --file` of a JSON Lines file, the command as a user runs it.
//!
//! The file (one `{"eventType", "subject", "data"}` line per event, the same order data as
//! every other scenario) is written first, untimed. The command runs as a child process; the
//! figure is its wall time from spawn to exit, and its peak RSS is its own `VmHWM`, sampled
//! every 2 ms while it runs (the high-water mark only grows, so the last sample is at most 2 ms
//! short of the truth).

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Args, Outcome, TOPIC, order};

/// Where `cargo xtask bench` puts the path of the `eventgrid` binary it built.
pub const CLI_VAR: &str = "EVENTGRID_BENCH_CLI";

/// What the run measured, and the child's peak RSS in KiB.
pub struct CliRun {
    pub outcome: Outcome,
    pub peak_rss_kib: u64,
}

pub fn cli_file(args: &Args) -> Result<CliRun, String> {
    let cli = std::env::var_os(CLI_VAR)
        .map(PathBuf::from)
        .ok_or_else(|| format!("{CLI_VAR} names no `eventgrid` binary"))?;
    let path = std::env::temp_dir().join(format!("eventgrid-bench-{}.jsonl", std::process::id()));
    write_lines(&path, args.events)?;
    let result = run_command(&cli, &path, args);
    let _ = std::fs::remove_file(&path);
    result
}

fn write_lines(path: &PathBuf, events: u64) -> Result<(), String> {
    let file =
        std::fs::File::create(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut out = BufWriter::new(file);
    for n in 0..events {
        let line = serde_json::json!({
            "eventType": "bench.order.placed",
            "subject": format!("orders/{n}"),
            "data": order(n),
        });
        serde_json::to_writer(&mut out, &line).map_err(|error| error.to_string())?;
        out.write_all(b"\n").map_err(|error| error.to_string())?;
    }
    out.flush().map_err(|error| error.to_string())
}

fn run_command(cli: &PathBuf, path: &PathBuf, args: &Args) -> Result<CliRun, String> {
    let started = Instant::now();
    let mut child = Command::new(cli)
        .args(["publish", "--topic", TOPIC, "--endpoint", &args.endpoint])
        .args(["--key", &args.key, "--file"])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("{}: {error}", cli.display()))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_rss_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(&text));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let seconds = started.elapsed().as_secs_f64();
    let output = child
        .wait_with_output()
        .map_err(|error| error.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !status.success() {
        return Err(format!(
            "eventgrid publish --file failed ({status}): {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // "N events delivered, F failed, R requests, ..."
    let number_before = |word: &str| -> Option<u64> {
        let words: Vec<&str> = stdout.split_whitespace().collect();
        let at = words.iter().position(|w| w.trim_end_matches(',') == word)?;
        words.get(at.checked_sub(1)?)?.parse().ok()
    };
    let delivered = stdout
        .split_whitespace()
        .next()
        .and_then(|count| count.parse::<u64>().ok())
        .filter(|_| stdout.contains(" events delivered, "))
        .ok_or_else(|| format!("no summary: {stdout}"))?;
    if delivered != args.events {
        return Err(format!(
            "{delivered} of {} events delivered: {stdout}",
            args.events
        ));
    }
    Ok(CliRun {
        outcome: Outcome {
            events: delivered,
            requests: number_before("requests").unwrap_or(0),
            retries: 0,
            seconds,
        },
        peak_rss_kib,
    })
}

fn vm_hwm_kib(status: &str) -> u64 {
    status
        .lines()
        .find_map(|line| {
            let value = line.strip_prefix("VmHWM:")?;
            value.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(0)
}
