//! The measuring half of `cargo xtask bench`: one scenario per process, so that each scenario's
//! peak memory is its own.
//!
//! `cargo xtask bench` starts the sinks, runs every scenario through this binary once and
//! prints the table (see `docs/performance.md`). By hand:
//!
//! ```text
//! throughput --list
//! throughput --write-body single|batch FILE
//! throughput SCENARIO --endpoint URL --key KEY --events N --concurrency C [--counters URL]
//! ```
//!
//! It prints one line, `RESULT key=value ...`: events delivered, requests, seconds, the peak
//! resident memory of this process (`VmHWM`) and, with `--counters` (the emulator's counters
//! of the topic), how many events the sink accepted meanwhile, so no figure rests on the
//! client's word alone. Without a scenario (as `cargo bench` runs it) it only says how to run
//! it.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use bytes::Bytes;
use eventgrid_core::{
    API_VERSION, Credential, EventGridConfig, EventGridEvent, EventGridTopicConfig, Limits,
    TopicMetrics, encode_all,
};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::task::JoinSet;

/// The topic name every scenario publishes to (the sink serves it at `/bench/api/events`).
const TOPIC: &str = "bench";
const EVENT_TYPE: &str = "bench.order.placed";
/// Sized so that one serialized event is about 1 KB.
const NOTES_LEN: usize = 700;
static NOTES: LazyLock<String> = LazyLock::new(|| "x".repeat(NOTES_LEN));

/// The scenarios this build can run; `cargo xtask bench` reports the others as not available.
const SCENARIOS: &[&str] = &[
    "floor-single",
    "floor-batch",
    "build-events",
    "async-emit",
    "async-send",
    "blocking-send",
    "blocking-emit",
];

/// The data of every benchmark event: what an application would typically publish, the same
/// shape as `eventgrid-core`'s serialization bench and the Python peer's events.
#[derive(Serialize)]
struct Order {
    order_id: u64,
    customer: String,
    notes: &'static str,
    lines: [u32; 20],
}

fn order(n: u64) -> Order {
    Order {
        order_id: n,
        customer: format!("customer-{n}"),
        notes: NOTES.as_str(),
        lines: std::array::from_fn(|i| i as u32),
    }
}

fn event(n: u64) -> EventGridEvent {
    EventGridEvent::new(EVENT_TYPE, format!("orders/{n}"), order(n))
        .expect("the benchmark event is valid")
}

struct Args {
    scenario: String,
    endpoint: String,
    key: String,
    events: u64,
    concurrency: usize,
    counters: Option<String>,
}

impl Args {
    fn parse(argv: &[String]) -> Result<Self, String> {
        let mut args = Args {
            scenario: argv[0].clone(),
            endpoint: String::new(),
            key: String::new(),
            events: 100_000,
            concurrency: 64,
            counters: None,
        };
        let mut rest = argv[1..].iter();
        while let Some(flag) = rest.next() {
            let value = rest
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .clone();
            let number = |value: &str| {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{flag}: `{value}` is not a number"))
            };
            match flag.as_str() {
                "--endpoint" => args.endpoint = value,
                "--key" => args.key = value,
                "--events" => args.events = number(&value)?,
                "--concurrency" => args.concurrency = number(&value)?.max(1) as usize,
                "--counters" => args.counters = Some(value),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if args.endpoint.is_empty() && args.scenario != "build-events" {
            return Err("--endpoint is required".to_owned());
        }
        Ok(args)
    }
}

/// What a scenario did.
struct Outcome {
    events: u64,
    requests: u64,
    retries: u64,
    seconds: f64,
}

impl Outcome {
    fn from_metrics(metrics: Option<&TopicMetrics>, events: u64, started: Instant) -> Self {
        let metrics = metrics.cloned().unwrap_or_default();
        Outcome {
            events,
            requests: metrics.requests,
            retries: metrics.retries,
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some("--list") => {
            println!("{}", SCENARIOS.join(" "));
            return ExitCode::SUCCESS;
        }
        Some("--write-body") => {
            return match write_body(&argv[1..]) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("throughput --write-body: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        None | Some("--bench") => {
            eprintln!("throughput: run it through `cargo xtask bench` (see docs/performance.md)");
            return ExitCode::SUCCESS;
        }
        Some(_) => {}
    }
    match Args::parse(&argv).and_then(|args| measure(&args)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("throughput {}: {error}", argv[0]);
            ExitCode::FAILURE
        }
    }
}

/// Writes a floor body to a file (for wrk); prints how many events it carries and the size of
/// one event.
fn write_body(argv: &[String]) -> Result<String, String> {
    let [kind, path] = argv else {
        return Err("expected single|batch FILE".to_owned());
    };
    let body = match kind.as_str() {
        "single" => FloorBody::single()?,
        "batch" => FloorBody::batch()?,
        other => return Err(format!("unknown body `{other}`")),
    };
    std::fs::write(path, &body.bytes).map_err(|error| format!("{path}: {error}"))?;
    Ok(format!(
        "events={} event_bytes={}",
        body.events,
        FloorBody::single()?.bytes.len() - 2
    ))
}

fn measure(args: &Args) -> Result<String, String> {
    let before = args.counters.as_deref().map(settled_events).transpose()?;
    let start_rss = proc_status_kib("VmRSS");
    let outcome = run(args)?;
    let sink_events = match (&args.counters, before) {
        (Some(url), Some(before)) => (accepted_events(url)? - before).to_string(),
        _ => "-".to_owned(),
    };
    Ok(format!(
        "RESULT scenario={} events={} requests={} retries={} seconds={:.6} concurrency={} \
         event_bytes={} start_rss_kib={} peak_rss_kib={} sink_events={sink_events}",
        args.scenario,
        outcome.events,
        outcome.requests,
        outcome.retries,
        outcome.seconds,
        args.concurrency,
        serde_json::to_vec(&event(0)).map_or(0, |json| json.len()),
        start_rss,
        proc_status_kib("VmHWM"),
    ))
}

fn run(args: &Args) -> Result<Outcome, String> {
    match args.scenario.as_str() {
        "floor-single" => runtime()?.block_on(floor(args, FloorBody::single()?)),
        "floor-batch" => runtime()?.block_on(floor(args, FloorBody::batch()?)),
        "build-events" => Ok(build_events(args)),
        "async-emit" => runtime()?.block_on(async_emit(args)),
        "async-send" => runtime()?.block_on(async_send(args)),
        "blocking-send" => blocking_send(args),
        "blocking-emit" => blocking_emit(args),
        other => Err(format!(
            "unknown or unavailable scenario `{other}`; this build has: {}",
            SCENARIOS.join(", ")
        )),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("tokio runtime: {error}"))
}

/// `total` split into `parts` near-equal shares.
fn shares(total: u64, parts: usize) -> impl Iterator<Item = (u64, u64)> {
    let parts = parts as u64;
    (0..parts).map(move |part| {
        let first = total * part / parts;
        (first, total * (part + 1) / parts - first)
    })
}

fn config(args: &Args) -> Result<EventGridConfig, String> {
    EventGridTopicConfig::new(TOPIC, &args.endpoint)
        .and_then(|topic| EventGridConfig::new([topic]))
        .map_err(|error| error.to_string())
}

/// What the events alone cost: building and dropping them, no encoding, no I/O.
fn build_events(args: &Args) -> Outcome {
    let started = Instant::now();
    let mut bytes = 0;
    for n in 0..args.events {
        bytes += std::hint::black_box(event(n)).subject().len();
    }
    std::hint::black_box(bytes);
    Outcome {
        events: args.events,
        requests: 0,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn async_client(args: &Args) -> Result<eventgrid_async::EventGridClient, String> {
    eventgrid_async::EventGridClient::builder(config(args)?)
        .credential(Credential::access_key(args.key.clone()))
        .max_concurrent_requests(args.concurrency)
        .build()
        .map_err(|error| error.to_string())
}

/// `--concurrency` tasks, each awaiting one `emit_event` (one request) after another.
async fn async_emit(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (first, count) in shares(args.events, args.concurrency) {
        let client = client.clone();
        tasks.spawn(async move {
            for n in first..first + count {
                client
                    .emit_event(TOPIC, EVENT_TYPE, format!("orders/{n}"), order(n))
                    .await
                    .map_err(|error| format!("event {n}: {error}"))?;
            }
            Ok::<u64, String>(count)
        });
    }
    let events = join_all(tasks).await?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        events,
        started,
    ))
}

/// One `send` of `--events` events, built lazily as the client pulls them.
async fn async_send(args: &Args) -> Result<Outcome, String> {
    let client = async_client(args)?;
    let started = Instant::now();
    let summary = client
        .send(TOPIC, (0..args.events).map(event))
        .await
        .map_err(|error| error.to_string())?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

fn blocking_client(args: &Args) -> Result<eventgrid_blocking::EventGridClient, String> {
    eventgrid_blocking::EventGridClient::builder(config(args)?)
        .credential(Credential::access_key(args.key.clone()))
        .max_concurrent_requests(args.concurrency)
        .build()
        .map_err(|error| error.to_string())
}

/// One blocking `send` of `--events` events, built lazily as the client pulls them.
fn blocking_send(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let started = Instant::now();
    let summary = client
        .send(TOPIC, (0..args.events).map(event))
        .map_err(|error| error.to_string())?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        summary.events as u64,
        started,
    ))
}

/// `--concurrency` threads sharing one client, each emitting one event after another.
fn blocking_emit(args: &Args) -> Result<Outcome, String> {
    let client = blocking_client(args)?;
    let started = Instant::now();
    let events = std::thread::scope(|scope| {
        let workers: Vec<_> = shares(args.events, args.concurrency)
            .map(|(first, count)| {
                let client = &client;
                scope.spawn(move || {
                    for n in first..first + count {
                        client
                            .emit_event(TOPIC, EVENT_TYPE, format!("orders/{n}"), order(n))
                            .map_err(|error| format!("event {n}: {error}"))?;
                    }
                    Ok::<u64, String>(count)
                })
            })
            .collect();
        workers.into_iter().try_fold(0, |total, worker| {
            Ok::<u64, String>(total + worker.join().map_err(|_| "a thread panicked")??)
        })
    })?;
    Ok(Outcome::from_metrics(
        client.metrics().get(TOPIC),
        events,
        started,
    ))
}

async fn join_all(mut tasks: JoinSet<Result<u64, String>>) -> Result<u64, String> {
    let mut total = 0;
    while let Some(joined) = tasks.join_next().await {
        total += joined.map_err(|error| format!("task failed: {error}"))??;
    }
    Ok(total)
}

/// A prebuilt request body for the floor, with the number of events it carries.
#[derive(Clone)]
struct FloorBody {
    bytes: Bytes,
    events: u64,
}

impl FloorBody {
    /// One event, as `emit_event` sends it.
    fn single() -> Result<Self, String> {
        Self::first_batch(1)
    }

    /// The first request body `send` would make from the benchmark events with the default
    /// limits (so the floor carries the same bytes per request as the client).
    fn batch() -> Result<Self, String> {
        Self::first_batch(Limits::default().max_events_per_request as u64)
    }

    fn first_batch(events: u64) -> Result<Self, String> {
        let limits = Limits::default().with_max_events_per_request(events as usize);
        let batches =
            encode_all((0..events).map(event), limits).map_err(|error| error.to_string())?;
        let batch = batches.into_iter().next().ok_or("no events to encode")?;
        Ok(FloorBody {
            events: batch.len() as u64,
            bytes: batch.body,
        })
    }
}

/// The wire floor: `--concurrency` connections, each posting the prebuilt body with plain hyper
/// and awaiting the answer, until `--events` events have gone.
async fn floor(args: &Args, body: FloorBody) -> Result<Outcome, String> {
    let uri: http::Uri = format!("{}?api-version={API_VERSION}", args.endpoint)
        .parse()
        .map_err(|error| format!("--endpoint: {error}"))?;
    let authority = uri.authority().ok_or("--endpoint has no host")?.to_string();
    if uri.scheme_str() != Some("http") {
        return Err("the floor posts over plain http to the loopback sink".to_owned());
    }
    let requests = args.events.div_ceil(body.events);
    let key: Arc<str> = Arc::from(args.key.as_str());
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (_, count) in shares(requests, args.concurrency) {
        let (uri, authority, key, body) =
            (uri.clone(), authority.clone(), key.clone(), body.clone());
        tasks.spawn(async move { floor_connection(uri, authority, key, body.bytes, count).await });
    }
    let sent = join_all(tasks).await?;
    Ok(Outcome {
        events: sent * body.events,
        requests: sent,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn floor_connection(
    uri: http::Uri,
    authority: String,
    key: Arc<str>,
    body: Bytes,
    count: u64,
) -> Result<u64, String> {
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|error| format!("connect {authority}: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(connection);
    for _ in 0..count {
        let request = http::Request::post(uri.clone())
            .header(http::header::HOST, authority.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header("aeg-sas-key", &*key)
            .body(Full::new(body.clone()))
            .map_err(|error| error.to_string())?;
        sender.ready().await.map_err(|error| error.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let answer = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        if status != http::StatusCode::OK {
            return Err(format!(
                "the sink answered {status}: {}",
                String::from_utf8_lossy(&answer)
            ));
        }
    }
    Ok(count)
}

/// A line of `/proc/self/status`, in KiB (0 where there is no such file).
fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(field)?.strip_prefix(':')?;
                value.trim().trim_end_matches("kB").trim().parse().ok()
            })
        })
        .unwrap_or(0)
}

/// `accepted_events` once it has stopped changing: requests a previous process (wrk, say) left
/// in flight may still be counted just after it exited.
fn settled_events(url: &str) -> Result<u64, String> {
    let mut last = accepted_events(url)?;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = accepted_events(url)?;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
    Err("the sink's event count kept changing before the run".to_owned())
}

/// `accepted_events` from the emulator's counters (`GET /_emulator/topics/{topic}/counters`),
/// read over a plain blocking socket so it needs no runtime.
fn accepted_events(url: &str) -> Result<u64, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("--counters must be an http:// URL")?;
    let (authority, path) = rest.split_once('/').ok_or("--counters has no path")?;
    let mut stream = std::net::TcpStream::connect(authority)
        .map_err(|error| format!("counters at {authority}: {error}"))?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| error.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|error| error.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or("counters: no HTTP header")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "counters: {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    let counters: serde_json::Value =
        serde_json::from_str(body).map_err(|error| format!("counters: {error}"))?;
    counters["accepted_events"]
        .as_u64()
        .ok_or_else(|| format!("counters without accepted_events: {body}"))
}
