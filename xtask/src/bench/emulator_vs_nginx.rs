//! `cargo xtask bench-emulator`: requests per second of `eventgrid-emulator` under `wrk`, beside
//! nginx on the same machine as the limit, for single-event and 1,000-event bodies.
//!
//! nginx is the bench's sink (`super::nginx`, `xtask/bench/nginx.conf`): it does the least a fair
//! HTTP server must, reading the whole POST body into memory and answering 200 with an empty
//! body. It neither parses nor keeps anything, so it is the ceiling for any server, not a
//! like-for-like rival: the emulator also validates every byte as JSON and every event against
//! its schema. Both get two worker threads (nginx `worker_processes 2`, the emulator's runtime
//! on 2 cores); `wrk` runs one thread on the same 2 cores. Each server is measured twice,
//! interleaved, and the better run counts, to damp noise from other load on the machine. Beside
//! requests per second it reports each server's CPU time per request (user + system, from
//! `/proc`), which other load hardly moves, and the load average before and after.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::bench::nginx::{ECHO_MODULE, Nginx};
use crate::bench::{machine, tools, wrk};
use crate::emulator_process::EmulatorProcess;
use crate::util::{cargo, root, run as run_command};

/// The emulator's topic, keyed as the bench's sink is.
const TOPIC: &str = "bench";
const KEY: &str = crate::bench::KEY;

const USAGE: &str = "\
cargo xtask bench-emulator [--duration SECONDS] [--connections N] [--retain N] [--no-install]

Measures eventgrid-emulator (release build, --retain 0 unless given) and nginx with wrk, for a
single-event body and a 1,000-event body, and prints requests per second and their ratio.

  --no-install   do not apt-get install nginx, its echo module and wrk when they are missing
";

struct Options {
    duration: u64,
    connections: usize,
    retain: u64,
    install: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Option<Self>> {
        let mut options = Options {
            duration: 5,
            connections: 16,
            retain: 0,
            install: true,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<u64> {
                args.next()
                    .with_context(|| format!("{name} needs a value"))?
                    .parse()
                    .with_context(|| format!("{name} needs a whole number"))
            };
            match arg.as_str() {
                "--duration" => options.duration = number("--duration")?.max(1),
                "--connections" => {
                    options.connections = usize::try_from(number("--connections")?)?.max(1)
                }
                "--retain" => options.retain = number("--retain")?,
                "--no-install" => options.install = false,
                "-h" | "--help" => {
                    print!("{USAGE}");
                    return Ok(None);
                }
                other => bail!("unknown argument `{other}`\n\n{USAGE}"),
            }
        }
        Ok(Some(options))
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let Some(options) = Options::parse(args)? else {
        return Ok(());
    };
    let tools = tools::ensure(
        &[
            ("nginx", "nginx"),
            (ECHO_MODULE, "libnginx-mod-http-echo"),
            ("wrk", "wrk"),
        ],
        options.install,
    )?;
    if tools.len() < 3 {
        bail!("bench-emulator needs nginx, its echo module and wrk");
    }
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "eventgrid-emulator",
        "--bin",
        "eventgrid-emulator",
    ]);
    run_command(build)?;

    let work = root().join("target/emulator-bench");
    std::fs::create_dir_all(&work)?;
    let mut bodies = Vec::new();
    for (label, count) in [("1 event", 1), ("1,000 events", 1000)] {
        let body = work.join(format!("body-{count}.json"));
        std::fs::write(&body, events_body(count))?;
        let size = std::fs::metadata(&body)?.len();
        bodies.push((label, size, body));
    }

    let nginx = Nginx::start(&work.join("nginx"), "2")?;
    let nginx_server = Server {
        pid: nginx.pid(),
        url: nginx.url("/api/events?api-version=2018-01-01"),
    };
    let mut emulator = EmulatorProcess::start(
        &root().join("target/release/eventgrid-emulator"),
        [
            "--port".to_owned(),
            "0".to_owned(),
            "--retain".to_owned(),
            options.retain.to_string(),
            "--topic".to_owned(),
            format!("{TOPIC}={KEY}"),
        ],
    )?;
    let emulator_server = Server {
        pid: emulator.pid(),
        url: format!("{}?api-version=2018-01-01", emulator.topic_endpoint(TOPIC)),
    };

    let load_before = machine::load_average();
    let mut rows = Vec::new();
    for (label, size, body) in &bodies {
        // Warm both up (connections, caches, allocator) before measuring.
        nginx_server.measure(body, options.connections, 1)?;
        emulator_server.measure(body, options.connections, 1)?;
        let (mut nginx_best, mut emulator_best) = (Run::default(), Run::default());
        for _ in 0..2 {
            nginx_best = nginx_best.better(nginx_server.measure(
                body,
                options.connections,
                options.duration,
            )?);
            emulator_best = emulator_best.better(emulator_server.measure(
                body,
                options.connections,
                options.duration,
            )?);
        }
        rows.push((*label, *size, nginx_best, emulator_best));
    }
    let load_after = machine::load_average();
    drop(nginx);
    emulator.stop()?;

    println!();
    println!(
        "nginx: echo_read_request_body (reads each body into memory), 2 workers; emulator: \
         --retain {}; wrk -t1 -c{} -d{}s, best of 2",
        options.retain, options.connections, options.duration
    );
    println!("load average before {load_before}, after {load_after}");
    println!(
        "{:<14} {:>10} {:>12} {:>14} {:>6} {:>12} {:>14}",
        "body",
        "bytes",
        "nginx req/s",
        "emulator req/s",
        "ratio",
        "nginx us/req",
        "emulator us/req"
    );
    for (label, size, nginx_run, emulator_run) in &rows {
        println!(
            "{label:<14} {size:>10} {:>12.0} {:>14.0} {:>6.2} {:>12.0} {:>14.0}",
            nginx_run.rate,
            emulator_run.rate,
            emulator_run.rate / nginx_run.rate,
            nginx_run.cpu_micros_per_request,
            emulator_run.cpu_micros_per_request,
        );
    }
    println!("goal: ratio >= 0.50 (the emulator at half of nginx or better)");
    println!(
        "us/req: the server's CPU time (user + system, all its processes) per request in the \
         best run; unlike req/s it hardly moves with other load on the machine"
    );
    Ok(())
}

/// A server under measurement: its process (whose CPU time is counted, with its children's)
/// and the URL wrk posts to.
struct Server {
    pid: u32,
    url: String,
}

impl Server {
    /// One wrk run of `seconds` on one thread, with the server's CPU time over it.
    fn measure(&self, body: &Path, connections: usize, seconds: u64) -> Result<Run> {
        let before = cpu_ticks(self.pid)?;
        let run = wrk::post_on_threads(
            &self.url,
            body,
            KEY,
            1,
            connections,
            Duration::from_secs(seconds),
        )?;
        let ticks = cpu_ticks(self.pid)?.saturating_sub(before);
        if run.errors > 0 {
            bail!(
                "wrk saw {} failed requests against {}",
                run.errors,
                self.url
            );
        }
        eprintln!("{}: {:.0} req/s", self.url, run.requests_per_second());
        Ok(Run {
            rate: run.requests_per_second(),
            cpu_micros_per_request: ticks as f64 * 1e6
                / clock_ticks_per_second()? as f64
                / run.requests.max(1) as f64,
        })
    }
}

/// One wrk run against a server: requests per second and the server's CPU per request.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    rate: f64,
    cpu_micros_per_request: f64,
}

impl Run {
    fn better(self, other: Run) -> Run {
        if other.rate > self.rate { other } else { self }
    }
}

/// CPU time (user + system) of process `pid` and its children so far, in clock ticks.
fn cpu_ticks(pid: u32) -> Result<u64> {
    let fields = |pid: &str| -> Option<(u64, u32)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name, which may hold spaces, in parentheses.
        let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let parent = rest.get(1)?.parse().ok()?;
        let ticks = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
        Some((ticks, parent))
    };
    let mut total = fields(&pid.to_string())
        .with_context(|| format!("no /proc/{pid}/stat"))?
        .0;
    for entry in std::fs::read_dir("/proc")? {
        let name = entry?.file_name();
        let Some(name) = name
            .to_str()
            .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Some((ticks, parent)) = fields(name)
            && parent == pid
        {
            total += ticks;
        }
    }
    Ok(total)
}

fn clock_ticks_per_second() -> Result<u64> {
    let output = Command::new("getconf").arg("CLK_TCK").output()?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

/// A JSON array of `count` Event Grid events like the ones applications publish.
fn events_body(count: usize) -> String {
    let events: Vec<String> = (0..count)
        .map(|n| {
            format!(
                r#"{{"id": "{n:08}-0000-4000-8000-000000000000", "subject": "orders/{n}", "eventType": "order.placed", "eventTime": "2024-05-01T12:00:00.123456Z", "dataVersion": "1.0", "data": {{"orderId": {n}, "customer": "c-42", "total": 12.5, "items": [{{"sku": "A1", "qty": 2}}]}}}}"#
            )
        })
        .collect();
    format!("[{}]", events.join(", "))
}
