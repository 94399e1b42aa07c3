//! The measuring half of `cargo xtask bench`: one scenario per process, so that each scenario's
//! peak memory is its own.
//!
//! `cargo xtask bench` starts the sinks, runs every scenario through this binary once and
//! prints the table (see `docs/performance.md`). By hand:
//!
//! ```text
//! throughput --list
//! throughput --write-body single|batch FILE
//! throughput SCENARIO --endpoint URL --key KEY --events N --concurrency C [--tasks T]
//!     [--counters URL] [--topic NAME --subscription NAME]
//! ```
//!
//! The `ns-*` scenarios (pull delivery, [`namespace`]) take the namespace endpoint as
//! `--endpoint` and the namespace topic and subscription by name; `ns-fill` publishes the events
//! the others then consume.
//!
//! It prints one line, `RESULT key=value ...`: events delivered, requests, seconds, the peak
//! resident memory of this process (`VmHWM`) and, with `--counters` (the emulator's counters
//! of the topic), how many events the sink accepted meanwhile, so no figure rests on the
//! client's word alone. Without a scenario (as `cargo bench` runs it) it only says how to run
//! it.
//!
//! The `send` and `send_stream` scenarios publish `TypedEventGridEvent`s, whose data is
//! serialized once, straight into the body; with `EVENTGRID_BENCH_EVENTS=serialized` in the
//! environment they publish `EventGridEvent`s (data serialized when each event is made), as
//! before that type existed, for comparisons.

mod cli_file;
mod clients;
mod floor;
mod floor_models;
mod namespace;
mod namespace_floor;
mod sink_counters;

use std::process::ExitCode;
use std::sync::LazyLock;
use std::time::Instant;

use eventgrid_core::{
    EventGridConfig, EventGridEvent, EventGridTopicConfig, TopicMetrics, TypedEventGridEvent,
};
use serde::Serialize;
use tokio::task::JoinSet;

use clients::{
    async_emit, async_send, async_send_stream, blocking_emit, blocking_send, blocking_send_stream,
    buffered, build_events,
};
use floor::{FloorBody, floor};
use namespace::{
    async_processor, async_receive, blocking_processor, blocking_receive, fill as namespace_fill,
};
use namespace_floor::namespace_floor;
use sink_counters::{counted_events, settled_events};

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
    "floor-pooled",
    "floor-blocking",
    "build-events",
    "async-emit",
    "async-send",
    "async-send-stream",
    "buffered",
    "blocking-send",
    "blocking-send-stream",
    "blocking-emit",
    "cli-file",
    "ns-fill",
    "ns-floor",
    "ns-async-receive",
    "ns-blocking-receive",
    "ns-processor",
    "ns-blocking-processor",
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

/// The same event, its data kept as the `Order` until it is encoded.
fn typed_event(n: u64) -> TypedEventGridEvent<Order> {
    TypedEventGridEvent::new(EVENT_TYPE, format!("orders/{n}"), order(n))
}

/// Whether the send scenarios publish `EventGridEvent`s (`EVENTGRID_BENCH_EVENTS=serialized`)
/// rather than `TypedEventGridEvent`s.
fn serialized_events() -> bool {
    std::env::var("EVENTGRID_BENCH_EVENTS").is_ok_and(|kind| kind == "serialized")
}

struct Args {
    scenario: String,
    endpoint: String,
    key: String,
    events: u64,
    concurrency: usize,
    /// Tasks publishing at once, where that differs from the requests in flight (`buffered`).
    tasks: usize,
    /// Whether `--concurrency` was given (the processor keeps its default otherwise).
    concurrency_given: bool,
    counters: Option<String>,
    /// The namespace topic and its subscription (`ns-*` scenarios).
    topic: String,
    subscription: String,
}

impl Args {
    fn parse(argv: &[String]) -> Result<Self, String> {
        let mut args = Args {
            scenario: argv[0].clone(),
            endpoint: String::new(),
            key: String::new(),
            events: 100_000,
            concurrency: 64,
            tasks: 0,
            concurrency_given: false,
            counters: None,
            topic: TOPIC.to_owned(),
            subscription: TOPIC.to_owned(),
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
                "--concurrency" => {
                    args.concurrency = number(&value)?.max(1) as usize;
                    args.concurrency_given = true;
                }
                "--tasks" => args.tasks = number(&value)?.max(1) as usize,
                "--counters" => args.counters = Some(value),
                "--topic" => args.topic = value,
                "--subscription" => args.subscription = value,
                other => return Err(format!("unknown option {other}")),
            }
        }
        if args.tasks == 0 {
            args.tasks = args.concurrency;
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
    // `cli-file` times a child process: the peak RSS is the command's own, not this one's.
    let (outcome, peak_rss_kib) = if args.scenario == "cli-file" {
        let run = cli_file::cli_file(args)?;
        (run.outcome, run.peak_rss_kib)
    } else {
        let outcome = run(args)?;
        (outcome, proc_status_kib("VmHWM"))
    };
    let sink_events = match (&args.counters, before) {
        (Some(url), Some(before)) => (counted_events(url)? - before).to_string(),
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
        namespace::concurrency(args),
        serde_json::to_vec(&event(0)).map_or(0, |json| json.len()),
        start_rss,
        peak_rss_kib,
    ))
}

fn run(args: &Args) -> Result<Outcome, String> {
    match args.scenario.as_str() {
        "floor-single" => runtime()?.block_on(floor(args, FloorBody::single()?)),
        "floor-batch" => runtime()?.block_on(floor(args, FloorBody::batch()?)),
        "floor-pooled" => runtime()?.block_on(floor_models::pooled_floor(args)),
        "floor-blocking" => floor_models::blocking_floor(args),
        "build-events" => Ok(build_events(args)),
        "async-emit" => runtime()?.block_on(async_emit(args)),
        "async-send" => runtime()?.block_on(async_send(args)),
        "async-send-stream" => runtime()?.block_on(async_send_stream(args)),
        "buffered" => runtime()?.block_on(buffered(args)),
        "blocking-send" => blocking_send(args),
        "blocking-send-stream" => blocking_send_stream(args),
        "blocking-emit" => blocking_emit(args),
        "ns-fill" => runtime()?.block_on(namespace_fill(args)),
        "ns-floor" => runtime()?.block_on(namespace_floor(args)),
        "ns-async-receive" => runtime()?.block_on(async_receive(args)),
        "ns-blocking-receive" => blocking_receive(args),
        "ns-processor" => runtime()?.block_on(async_processor(args)),
        "ns-blocking-processor" => blocking_processor(args),
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

async fn join_all(mut tasks: JoinSet<Result<u64, String>>) -> Result<u64, String> {
    let mut total = 0;
    while let Some(joined) = tasks.join_next().await {
        total += joined.map_err(|error| format!("task failed: {error}"))??;
    }
    Ok(total)
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
