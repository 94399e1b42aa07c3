//! The programs a bench run drives: the `throughput` bench binary of the `eventgrid` crate
//! (one process per scenario) and the emulator, both built with the bench profile (release,
//! with line tables for profilers).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench::report::Measured;
use crate::bench::{Body, KEY, command_output, parse_fields};
use crate::util::{cargo, root, run as run_command};

/// The built programs, what scenarios the bench binary has, and the size of its events.
pub(crate) struct Binaries {
    pub(crate) throughput: PathBuf,
    pub(crate) emulator: PathBuf,
    /// The `eventgrid` command, which the `cli-file` scenario runs.
    pub(crate) cli: PathBuf,
    pub(crate) available: Vec<String>,
    pub(crate) event_bytes: u64,
}

impl Binaries {
    pub(crate) fn build() -> Result<Self> {
        let mut emulator = cargo();
        emulator.args([
            "build",
            "--profile",
            "bench",
            "-p",
            "eventgrid-emulator",
            "--bin",
            "eventgrid-emulator",
        ]);
        run_command(emulator)?;
        let mut cli = cargo();
        cli.args([
            "build",
            "--profile",
            "bench",
            "-p",
            "eventgrid-cli",
            "--bin",
            "eventgrid",
        ]);
        run_command(cli)?;
        let mut bench = cargo();
        bench.args([
            "bench",
            "-p",
            "eventgrid",
            "--bench",
            "throughput",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ]);
        eprintln!("$ cargo bench -p eventgrid --bench throughput --no-run");
        let output = bench
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("running cargo bench")?;
        if !output.status.success() {
            bail!("building the throughput bench failed");
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let throughput = stdout
            .lines()
            .filter(|line| line.contains("\"name\":\"throughput\""))
            .find_map(|line| json_string_field(line, "executable"))
            .map(PathBuf::from)
            .context("cargo did not name the throughput executable")?;
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root().join("target"), PathBuf::from);
        let available = command_output(Command::new(&throughput).arg("--list"))?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(Binaries {
            throughput,
            emulator: target.join("release/eventgrid-emulator"),
            cli: target.join("release/eventgrid"),
            available,
            event_bytes: 0,
        })
    }

    /// The floor bodies as files for wrk, each with the number of events it carries; notes
    /// the size of one event.
    pub(crate) fn write_bodies(&mut self) -> Result<HashMap<Body, (PathBuf, u64)>> {
        let directory = root().join("target/bench");
        std::fs::create_dir_all(&directory)?;
        let mut bodies = HashMap::new();
        for body in [Body::Single, Body::Batch] {
            let path = directory.join(format!("body-{}.json", body.name()));
            let mut write = Command::new(&self.throughput);
            write.arg("--write-body").arg(body.name()).arg(&path);
            let fields = parse_fields(&command_output(&mut write)?);
            let number = |name: &str| -> Result<u64> {
                fields
                    .get(name)
                    .and_then(|value| value.parse().ok())
                    .with_context(|| format!("--write-body printed no {name}"))
            };
            self.event_bytes = number("event_bytes")?;
            bodies.insert(body, (path, number("events")?));
        }
        Ok(bodies)
    }

    /// Runs one scenario of the bench binary in a process of its own.
    pub(crate) fn scenario(
        &self,
        id: &str,
        endpoint: &str,
        events: u64,
        concurrency: usize,
        tasks: usize,
        counters: Option<&str>,
    ) -> Result<Measured> {
        let mut command = Command::new(&self.throughput);
        command.env("EVENTGRID_BENCH_CLI", &self.cli);
        command.arg(id).args([
            "--key",
            KEY,
            "--events",
            &events.to_string(),
            "--concurrency",
            &concurrency.to_string(),
        ]);
        if !endpoint.is_empty() {
            command.args(["--endpoint", endpoint]);
        }
        if tasks > 0 {
            command.args(["--tasks", &tasks.to_string()]);
        }
        if let Some(counters) = counters {
            command.args(["--counters", counters]);
        }
        self.measure(id, &mut command, concurrency)
    }

    /// Runs one scenario's prepared command (the bench binary with its arguments) and reads
    /// its `RESULT` line; `concurrency` stands where the line names none.
    pub(crate) fn measure(
        &self,
        id: &str,
        command: &mut Command,
        concurrency: usize,
    ) -> Result<Measured> {
        let line = command_output(command)?;
        let line = line
            .lines()
            .find_map(|line| line.strip_prefix("RESULT "))
            .with_context(|| format!("no RESULT line from {id}: {line}"))?
            .to_owned();
        let fields = parse_fields(&line);
        let number = |name: &str| -> Result<f64> {
            fields
                .get(name)
                .and_then(|value| value.parse().ok())
                .with_context(|| format!("{id}: no {name} in `{line}`"))
        };
        let measured = Measured {
            events: number("events")? as u64,
            requests: number("requests")? as u64,
            retries: number("retries")? as u64,
            seconds: number("seconds")?,
            concurrency: fields
                .get("concurrency")
                .and_then(|value| value.parse().ok())
                .unwrap_or(concurrency),
            peak_rss_kib: Some(number("peak_rss_kib")? as u64),
            sink_events: fields
                .get("sink_events")
                .and_then(|value| value.parse().ok()),
        };
        Ok(measured)
    }
}

/// The value of `"name":"..."` in one line of cargo's JSON messages (paths have no escapes on
/// the systems this runs on).
fn json_string_field(line: &str, name: &str) -> Option<String> {
    let start = line.find(&format!("\"{name}\":\""))? + name.len() + 4;
    let end = line[start..].find('"')?;
    Some(line[start..start + end].to_owned())
}
