//! `cargo xtask bench-emulator`: requests per second of `eventgrid-emulator` under `wrk`, beside
//! nginx on the same machine as the limit, for single-event and 1,000-event bodies.
//!
//! nginx is configured to do the least a fair HTTP server must: read the whole POST body into
//! memory (`echo_read_request_body` of Debian's `libnginx-mod-http-echo`, with a 2 MB
//! `client_body_buffer_size`, so nothing spills to disk) and answer 200 with an empty body. It
//! neither parses nor keeps anything, so it is the ceiling for any server, not a like-for-like
//! rival: the emulator also validates every byte as JSON and every event against its schema.
//! Both get two worker threads (nginx `worker_processes 2`, the emulator's runtime on 2 cores);
//! `wrk` runs one thread with 16 connections on the same 2 cores. Each server is measured twice,
//! interleaved, and the better run counts, to damp noise from other load on the machine. Beside
//! requests per second it reports each server's CPU time per request (user + system, from
//! `/proc`), which other load hardly moves, and the load average before and after.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::{cargo, root, run as run_command};

const ECHO_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

const USAGE: &str = "\
cargo xtask bench-emulator [--duration SECONDS] [--connections N] [--retain N]

Measures eventgrid-emulator (release build, --retain 0 unless given) and nginx with wrk, for a
single-event body and a 1,000-event body, and prints requests per second and their ratio.
";

struct Options {
    duration: u64,
    connections: u32,
    retain: u64,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut options = Options {
        duration: 5,
        connections: 16,
        retain: 0,
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
            "--duration" => options.duration = number("--duration")?,
            "--connections" => options.connections = u32::try_from(number("--connections")?)?,
            "--retain" => options.retain = number("--retain")?,
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    install_tools()?;
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
    std::fs::create_dir_all(work.join("nginx-body"))?;
    let bodies = [("1 event", 1), ("1,000 events", 1000)];
    let mut scripts = Vec::new();
    for (label, count) in bodies {
        let body = work.join(format!("body-{count}.json"));
        std::fs::write(&body, events_body(count))?;
        let script = work.join(format!("post-{count}.lua"));
        std::fs::write(&script, wrk_script(&body))?;
        let size = std::fs::metadata(&body)?.len();
        scripts.push((label, size, script));
    }

    let nginx_port = free_port()?;
    let reads_body = Path::new(ECHO_MODULE).exists();
    let mut nginx = Server::nginx(&work, nginx_port, reads_body)?;
    let nginx_url = format!("http://127.0.0.1:{nginx_port}/api/events?api-version=2018-01-01");
    let mut emulator = Server::emulator(options.retain)?;
    let emulator_url = format!(
        "{}/bench/api/events?api-version=2018-01-01",
        emulator.base_url
    );

    let load_before = load_average();
    let mut rows = Vec::new();
    for (label, size, script) in &scripts {
        // Warm both up (connections, caches, allocator) before measuring.
        wrk(&nginx_url, script, 1, options.connections)?;
        wrk(&emulator_url, script, 1, options.connections)?;
        let (mut nginx_best, mut emulator_best) = (Run::default(), Run::default());
        for _ in 0..2 {
            nginx_best = nginx_best.better(nginx.measure(&nginx_url, script, &options)?);
            emulator_best =
                emulator_best.better(emulator.measure(&emulator_url, script, &options)?);
        }
        rows.push((*label, *size, nginx_best, emulator_best));
    }
    let load_after = load_average();
    nginx.stop();
    emulator.stop();

    println!();
    println!(
        "nginx: {}; emulator: --retain {}; wrk -t1 -c{} -d{}s, best of 2",
        if reads_body {
            "echo_read_request_body (reads each body into memory), 2 workers"
        } else {
            "`return 200` (reads and discards each body; echo module missing), 2 workers"
        },
        options.retain,
        options.connections,
        options.duration
    );
    println!("load average (1 min) before {load_before}, after {load_after}");
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

/// The 1-minute load average, as `/proc/loadavg` has it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
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

/// Installs nginx, its echo module and wrk from Debian's packages when any is missing.
fn install_tools() -> Result<()> {
    let missing = |program: &str| {
        !Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if !missing("nginx") && !missing("wrk") && Path::new(ECHO_MODULE).exists() {
        return Ok(());
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run_command(update)?;
    let mut install = Command::new("apt-get");
    install
        .args([
            "install",
            "-y",
            "-qq",
            "nginx",
            "wrk",
            "libnginx-mod-http-echo",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run_command(install)
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

fn wrk_script(body: &Path) -> String {
    format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
         local file = io.open(\"{}\", \"rb\")\nwrk.body = file:read(\"*a\")\nfile:close()\n",
        body.display()
    )
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs wrk and returns requests per second and requests made; fails when any answer was not
/// 2xx.
fn wrk(url: &str, script: &Path, seconds: u64, connections: u32) -> Result<(f64, u64)> {
    let output = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if text.contains("Non-2xx or 3xx responses") || text.contains("Socket errors") {
        bail!("wrk saw failed requests against {url}:\n{text}");
    }
    let rate = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))?;
    let requests = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.trim().parse().ok())
        .with_context(|| format!("no request count in wrk's output:\n{text}"))?;
    eprintln!("{url}: {} req/s", rate.trim());
    Ok((rate.trim().parse()?, requests))
}

/// A server process of the benchmark, stopped by SIGTERM (or killed) when done.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn nginx(work: &Path, port: u16, reads_body: bool) -> Result<Self> {
        let location = if reads_body {
            "echo_read_request_body; echo_status 200;"
        } else {
            "return 200;"
        };
        let load = if reads_body {
            format!("load_module {ECHO_MODULE};\n")
        } else {
            String::new()
        };
        let dir = work.display();
        let config = format!(
            "{load}worker_processes 2;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/nginx-error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {dir}/nginx-body;\n  client_max_body_size 2m;\n  \
             client_body_buffer_size 2m;\n  keepalive_requests 10000000;\n  \
             server {{\n    listen 127.0.0.1:{port};\n    location / {{ {location} }}\n  }}\n}}\n"
        );
        let path = work.join("nginx.conf");
        std::fs::write(&path, config)?;
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(work)
            .stdin(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let base_url = format!("http://127.0.0.1:{port}");
        wait_for_port(port)?;
        Ok(Self { child, base_url })
    }

    fn emulator(retain: u64) -> Result<Self> {
        let binary: PathBuf = root().join("target/release/eventgrid-emulator");
        let mut child = Command::new(&binary)
            .args([
                "--port",
                "0",
                "--retain",
                &retain.to_string(),
                "--topic",
                "bench",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        stdout.read_line(&mut first)?;
        // The rest of the banner (and anything later) must find a reader, or the emulator's
        // next print meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let Some(base_url) = first
            .trim()
            .strip_prefix("listening on ")
            .map(str::to_owned)
        else {
            let _ = child.kill();
            bail!(
                "the emulator printed `{}`, not `listening on URL`",
                first.trim()
            );
        };
        Ok(Self { child, base_url })
    }

    /// One wrk run, with the server's CPU time over it.
    fn measure(&self, url: &str, script: &Path, options: &Options) -> Result<Run> {
        let before = cpu_ticks(self.child.id())?;
        let (rate, requests) = wrk(url, script, options.duration, options.connections)?;
        let ticks = cpu_ticks(self.child.id())?.saturating_sub(before);
        Ok(Run {
            rate,
            cpu_micros_per_request: ticks as f64 * 1e6
                / clock_ticks_per_second()? as f64
                / requests.max(1) as f64,
        })
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

fn wait_for_port(port: u16) -> Result<()> {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listens on port {port}")
}
