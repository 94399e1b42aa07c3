//! The pull-delivery rows of `cargo xtask bench`: events received and acknowledged per second
//! through the emulator's namespace topics, batches of 100, by both clients' `Receiver`s, their
//! processors and the Python SDK's `EventGridConsumerClient`, beside a raw hyper floor doing
//! the same requests.
//!
//! One emulator runs them all, with a namespace topic and one subscription per row so that no
//! row sees another's events. Before each run the row's subscription is filled with the async
//! client's `send_stream` (untimed, in a process of its own, so the consumer's peak memory is
//! its own); then the consumer is timed from its first receive to its last acknowledgement.

use std::path::Path;

use anyhow::{Context, Result};

use crate::bench::binaries::Binaries;
use crate::bench::report::{Kind, Measured, Row};
use crate::bench::sink::best_of;
use crate::bench::{KEY, Options, python};
use crate::emulator_process::EmulatorProcess;

/// The id that selects the Python consumer with `--only`.
pub(crate) const PYTHON_CONSUMER: &str = "python-consumer";
/// The floor's row id.
const FLOOR: &str = "ns-floor-1";
/// The ids `--only` accepts for pull delivery (`ns-processor` selects both processors).
pub(crate) const IDS: &[&str] = &[
    "ns-async-receive",
    "ns-blocking-receive",
    "ns-processor",
    "ns-blocking-processor",
    PYTHON_CONSUMER,
];
/// Each subscription's name (each row has a topic of its own).
const SUBSCRIPTION: &str = "bench";
/// Events published beyond a row's count, so that the receives in flight when a processor
/// stops still find events and answer at once instead of waiting 10 s.
const SPARE_EVENTS: u64 = 200;
/// Bytes of events each subscription may hold: room for the largest fill (90,200 events of
/// about 1.2 KB; the emulator keeps at most 100,000 per subscription) whatever its default.
const RETAIN_BYTES: u64 = 192 * 1024 * 1024;
/// The goal of issue 12: at least ten times the Python SDK.
const PYTHON_RATIO_GOAL: f64 = 10.0;

/// Who consumes in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Consumer {
    /// A scenario of the bench binary; `Some(n)` runs `n` loops, `None` the processor's
    /// default concurrency.
    Rust(Option<usize>),
    /// `xtask/bench/python_consumer.py`, one loop.
    Python,
}

struct Plan {
    id: &'static str,
    title: &'static str,
    kind: Kind,
    events: u64,
    consumer: Consumer,
}

fn plan() -> Vec<Plan> {
    let row = |id, title, kind, events, consumer| Plan {
        id,
        title,
        kind,
        events,
        consumer,
    };
    use Consumer::{Python, Rust};
    vec![
        row(
            FLOOR,
            "  floor: hyper, receive 100 + acknowledge, 1 connection",
            Kind::Floor,
            90_000,
            Rust(Some(1)),
        ),
        row(
            "ns-async-receive",
            "async Receiver: receive(100) + acknowledge, 1 loop",
            Kind::Client,
            90_000,
            Rust(Some(1)),
        ),
        row(
            "ns-blocking-receive",
            "blocking Receiver: receive(100) + acknowledge, 1 loop",
            Kind::Client,
            90_000,
            Rust(Some(1)),
        ),
        row(
            "ns-processor",
            "async Receiver::process, default concurrency, 1 ack per event",
            Kind::Client,
            20_000,
            Rust(None),
        ),
        row(
            "ns-blocking-processor",
            "blocking Receiver::process, default concurrency, 1 ack per event",
            Kind::Client,
            20_000,
            Rust(None),
        ),
        row(
            PYTHON_CONSUMER,
            "Python EventGridConsumerClient: receive(100) + acknowledge, 1 loop",
            Kind::Peer,
            20_000,
            Python,
        ),
    ]
}

/// Whether `id` is selected by `--only` (none: every row; the Python consumer with `--peers`).
fn selected(options: &Options, id: &str) -> bool {
    match &options.only {
        None => id != PYTHON_CONSUMER || options.peers,
        Some(only) => only.iter().any(|wanted| {
            wanted == id || (wanted == "ns-processor" && id == "ns-blocking-processor")
        }),
    }
}

/// Whether the run has pull-delivery rows, and so needs the namespace emulator.
pub(crate) fn wanted(options: &Options) -> bool {
    options.sinks.iter().any(|sink| sink == "emulator")
        && IDS.iter().any(|id| selected(options, id))
}

/// Whether the Python consumer runs (it needs the Python environment).
pub(crate) fn wants_python(options: &Options) -> bool {
    wanted(options) && selected(options, PYTHON_CONSUMER)
}

/// Runs the selected rows (and the floor, whenever a Rust row runs) against one emulator.
pub(crate) fn run(
    options: &Options,
    binaries: &Binaries,
    python: Option<&Path>,
) -> Result<Vec<Row>> {
    let rows: Vec<Plan> = plan()
        .into_iter()
        .filter(|row| {
            selected(options, row.id)
                || (row.id == FLOOR
                    && IDS
                        .iter()
                        .any(|id| *id != PYTHON_CONSUMER && selected(options, id)))
        })
        .collect();
    let mut arguments = vec![
        "--port".to_owned(),
        "0".to_owned(),
        "--retain-bytes".to_owned(),
        RETAIN_BYTES.to_string(),
    ];
    for row in &rows {
        arguments.extend([
            "--namespace-topic".to_owned(),
            format!("{}={KEY}", row.id),
            "--subscription".to_owned(),
            format!("{}/{SUBSCRIPTION}", row.id),
        ]);
    }
    let emulator = EmulatorProcess::start(&binaries.emulator, arguments)?;
    let sink = "emulator (namespace topics, pull delivery)";
    let python_ran = rows.iter().any(|row| row.consumer == Consumer::Python) && python.is_some();
    let mut out = Vec::new();
    for plan in &rows {
        let events = options.scale(plan.events);
        let mut row = Row::new(sink, plan.id, plan.kind, plan.title);
        if plan.kind == Kind::Client {
            row.hyper_floor = Some(FLOOR.to_owned());
            row.python_peer = python_ran.then(|| PYTHON_CONSUMER.to_owned());
            row.goal_python_ratio = Some(PYTHON_RATIO_GOAL);
        }
        let bench = RowBench {
            binaries,
            emulator: &emulator,
            topic: plan.id,
            events,
        };
        eprintln!("bench: {} on {sink} ({events} events)", plan.id);
        let measured = match plan.consumer {
            Consumer::Python => match python {
                Some(interpreter) => best_of(options.repeat, || bench.python(interpreter), rate),
                None => Err(anyhow::anyhow!("no Python environment")),
            },
            Consumer::Rust(loops) => best_of(options.repeat, || bench.rust(loops), rate),
        };
        match measured {
            Ok(measured) => {
                if measured
                    .sink_events
                    .is_some_and(|seen| seen != measured.events)
                {
                    row.note = format!(
                        "the emulator counted {} acknowledged",
                        measured.sink_events.unwrap_or(0)
                    );
                }
                eprintln!("bench:   {:.0} events/s", measured.events_per_second());
                row.measured = Some(measured);
            }
            Err(error) => {
                row.note = format!("failed: {error:#}");
                eprintln!("bench:   {}", row.note);
            }
        }
        out.push(row);
    }
    Ok(out)
}

fn rate(measured: &Measured) -> f64 {
    measured.events_per_second()
}

/// One row's run: fill its subscription, then consume it.
struct RowBench<'a> {
    binaries: &'a Binaries,
    emulator: &'a EmulatorProcess,
    topic: &'a str,
    events: u64,
}

impl RowBench<'_> {
    /// Publishes the row's events (and the spare ones) with the async client, untimed.
    fn fill(&self) -> Result<()> {
        let mut command = self.command("ns-fill", self.events + SPARE_EVENTS);
        command.args(["--concurrency", "8"]);
        self.binaries.measure("ns-fill", &mut command, 8)?;
        Ok(())
    }

    fn command(&self, scenario: &str, events: u64) -> std::process::Command {
        let mut command = std::process::Command::new(&self.binaries.throughput);
        command.arg(scenario).args([
            "--endpoint",
            self.emulator.base_url(),
            "--key",
            KEY,
            "--topic",
            self.topic,
            "--subscription",
            SUBSCRIPTION,
            "--events",
            &events.to_string(),
        ]);
        command
    }

    /// The emulator's inspection URL of the row's subscription (its acknowledged count).
    fn counters(&self) -> String {
        format!(
            "{}/_emulator/namespace/topics/{}/subscriptions/{SUBSCRIPTION}",
            self.emulator.base_url(),
            self.topic
        )
    }

    fn rust(&self, loops: Option<usize>) -> Result<Measured> {
        self.fill()?;
        let scenario = if self.topic == FLOOR {
            "ns-floor"
        } else {
            self.topic
        };
        let mut command = self.command(scenario, self.events);
        command.args(["--counters", &self.counters()]);
        if let Some(loops) = loops {
            command.args(["--concurrency", &loops.to_string()]);
        }
        self.binaries
            .measure(scenario, &mut command, loops.unwrap_or(0))
    }

    fn python(&self, interpreter: &Path) -> Result<Measured> {
        self.fill()?;
        let before = self.acknowledged()?;
        let run = python::run_consumer(
            &interpreter.to_path_buf(),
            self.emulator.base_url(),
            KEY,
            (self.topic, SUBSCRIPTION),
            self.events,
        )?;
        Ok(Measured {
            events: run.events,
            requests: run.requests,
            retries: 0,
            seconds: run.seconds,
            concurrency: 1,
            peak_rss_kib: Some(run.peak_rss_kib),
            sink_events: Some(self.acknowledged()? - before),
        })
    }

    /// The subscription's acknowledged count, from the inspection API (`counts.acknowledged`;
    /// no other field of its answer is named `acknowledged`).
    fn acknowledged(&self) -> Result<u64> {
        let path = self
            .counters()
            .trim_start_matches(self.emulator.base_url())
            .to_owned();
        let body = self.emulator.get(&path)?;
        body.split_once("\"acknowledged\":")
            .and_then(|(_, rest)| {
                let digits = rest.trim_start();
                let end = digits
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(digits.len());
                digits[..end].parse().ok()
            })
            .with_context(|| format!("no counts.acknowledged in {body}"))
    }
}
