//! The sinks (emulator, nginx) and the rows measured against one of them: each client
//! scenario beside its hyper and wrk floors, and the Python peers.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::bench::binaries::Binaries;
use crate::bench::report::{Kind, Measured, Row};
use crate::bench::{
    Body, KEY, Options, PYTHON_SEND_EVENTS, PYTHON_SINGLE_EVENTS, Peer, Scenario, TOPIC,
    WRK_DURATION,
};
use crate::bench::{nginx, python, wrk};
use crate::emulator_process::EmulatorProcess;
use crate::util::root;

/// A sink while it runs.
pub(crate) enum Sink {
    /// One keyed topic, `--retain 0`: it validates and counts every event and keeps none, so
    /// memory stays flat however long the run.
    Emulator(EmulatorProcess),
    Nginx(nginx::Nginx),
}

impl Sink {
    pub(crate) fn start(name: &str, binaries: &Binaries) -> Result<Self> {
        Ok(match name {
            "emulator" => Sink::Emulator(EmulatorProcess::start(
                &binaries.emulator,
                [
                    "--port".to_owned(),
                    "0".to_owned(),
                    "--retain".to_owned(),
                    "0".to_owned(),
                    "--topic".to_owned(),
                    format!("{TOPIC}={KEY}"),
                ],
            )?),
            _ => Sink::Nginx(nginx::Nginx::start(
                &root().join("target/bench/nginx"),
                "auto",
            )?),
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Sink::Emulator(_) => "emulator (--retain 0)",
            Sink::Nginx(_) => "nginx (reads the body, answers 200)",
        }
    }

    fn endpoint(&self) -> String {
        match self {
            Sink::Emulator(emulator) => emulator.topic_endpoint(TOPIC),
            Sink::Nginx(nginx) => nginx.url(&format!("/{TOPIC}/api/events")),
        }
    }

    fn counters(&self) -> Option<String> {
        match self {
            Sink::Emulator(emulator) => Some(format!(
                "{}/_emulator/topics/{TOPIC}/counters",
                emulator.base_url()
            )),
            Sink::Nginx(_) => None,
        }
    }
}

/// The rows measured against one running sink.
pub(crate) struct SinkBench<'a> {
    options: &'a Options,
    binaries: &'a Binaries,
    sink: &'a Sink,
    /// Each floor body's file and the number of events it carries.
    bodies: &'a HashMap<Body, (PathBuf, u64)>,
    has_wrk: bool,
    rows: Vec<Row>,
    floors_done: BTreeSet<(Body, usize)>,
}

impl<'a> SinkBench<'a> {
    pub(crate) fn new(
        options: &'a Options,
        binaries: &'a Binaries,
        sink: &'a Sink,
        bodies: &'a HashMap<Body, (PathBuf, u64)>,
        has_wrk: bool,
    ) -> Self {
        SinkBench {
            options,
            binaries,
            sink,
            bodies,
            has_wrk,
            rows: Vec::new(),
            floors_done: BTreeSet::new(),
        }
    }

    pub(crate) fn into_rows(self) -> Vec<Row> {
        self.rows
    }

    pub(crate) fn scenario(&mut self, scenario: &Scenario) {
        let events = self.options.scale(scenario.events);
        let (hyper_floor, wrk_floor) = self.floors(scenario.body, scenario.concurrency, events);
        let mut row = Row::new(self.sink.name(), scenario.id, Kind::Client, scenario.title);
        row.hyper_floor = Some(hyper_floor);
        row.wrk_floor = self.has_wrk.then_some(wrk_floor);
        row.python_peer = self.options.peers.then(|| scenario.peer.id().to_owned());
        row.goal_events_per_second = Some(scenario.goal_events_per_second);
        row.goal_peak_bytes = scenario.goal_peak_bytes;
        row.goal_floor_ratio = scenario.goal_floor_ratio;
        if !self.binaries.available.iter().any(|id| id == scenario.id) {
            row.note = "not available in this build of the clients".to_owned();
            eprintln!("bench: {}: {}", scenario.id, row.note);
            self.rows.push(row);
            return;
        }
        self.measure(&mut row, events, scenario.concurrency, scenario.tasks);
        self.rows.push(row);
    }

    fn measure(&self, row: &mut Row, events: u64, concurrency: usize, tasks: usize) {
        eprintln!(
            "bench: {} on {} ({events} events, concurrency {concurrency})",
            row.id,
            self.sink.name()
        );
        let run = || {
            self.binaries.scenario(
                &row.id,
                &self.sink.endpoint(),
                events,
                concurrency,
                tasks,
                self.sink.counters().as_deref(),
            )
        };
        match best_of(self.options.repeat, run, Measured::events_per_second) {
            Ok(measured) => {
                let mut notes = Vec::new();
                if measured.retries > 0 {
                    notes.push(format!("{} retries", measured.retries));
                }
                if measured
                    .sink_events
                    .is_some_and(|seen| seen != measured.events)
                {
                    notes.push(format!(
                        "sink counted {} events",
                        measured.sink_events.unwrap_or(0)
                    ));
                }
                row.note = notes.join("; ");
                eprintln!("bench:   {:.0} events/s", measured.events_per_second());
                row.measured = Some(measured);
            }
            Err(error) => {
                row.note = format!("failed: {error:#}");
                eprintln!("bench:   {}", row.note);
            }
        }
    }

    /// Runs the floors for `body` at `concurrency` unless done already; returns their row ids.
    fn floors(&mut self, body: Body, concurrency: usize, events: u64) -> (String, String) {
        let hyper_id = format!("floor-{}-{concurrency}", body.name());
        let wrk_id = format!("wrk-{}-{concurrency}", body.name());
        if !self.floors_done.insert((body, concurrency)) {
            return (hyper_id, wrk_id);
        }
        let what = match body {
            Body::Single => "1-event bodies",
            Body::Batch => "full send bodies",
        };
        let mut hyper = Row::new(
            self.sink.name(),
            &hyper_id,
            Kind::Floor,
            &format!("  floor: hyper, {what}, {concurrency} connections"),
        );
        let scenario_id = format!("floor-{}", body.name());
        hyper.id = scenario_id;
        self.measure(&mut hyper, events, concurrency, 0);
        hyper.id = hyper_id.clone();
        self.rows.push(hyper);
        if self.has_wrk {
            let mut row = Row::new(
                self.sink.name(),
                &wrk_id,
                Kind::Floor,
                &format!("  floor: wrk, {what}, {concurrency} connections"),
            );
            let (path, per_request) = &self.bodies[&body];
            let url = format!("{}?api-version=2018-01-01", self.sink.endpoint());
            let run = || wrk::post(&url, path, KEY, concurrency, WRK_DURATION);
            match best_of(self.options.repeat, run, wrk::WrkRun::requests_per_second) {
                Ok(run) => {
                    if run.errors > 0 {
                        row.note = format!("{} errors", run.errors);
                    }
                    row.measured = Some(Measured {
                        events: run.requests * per_request,
                        requests: run.requests,
                        retries: 0,
                        seconds: run.seconds,
                        concurrency,
                        peak_rss_kib: None,
                        sink_events: None,
                    });
                    eprintln!(
                        "bench:   wrk {:.0} requests/s (p50 {} us, p99 {} us)",
                        run.requests_per_second(),
                        run.latency_p50_us,
                        run.latency_p99_us
                    );
                }
                Err(error) => row.note = format!("failed: {error:#}"),
            }
            self.rows.push(row);
        }
        (hyper_id, wrk_id)
    }

    pub(crate) fn python(&mut self, interpreter: &Path) {
        let jobs = [
            (
                Peer::Send,
                "Python SDK send, lists of 1,000",
                self.options.scale(PYTHON_SEND_EVENTS),
            ),
            (
                Peer::Single,
                "Python SDK, one event per send (the seed's pattern)",
                self.options.scale(PYTHON_SINGLE_EVENTS),
            ),
        ];
        for (peer, title, events) in jobs {
            let mut row = Row::new(self.sink.name(), peer.id(), Kind::Peer, title);
            let mode = peer.id().trim_start_matches("python-");
            eprintln!(
                "bench: {} on {} ({events} events)",
                peer.id(),
                self.sink.name()
            );
            match best_of(
                self.options.repeat,
                || {
                    python::run(
                        &interpreter.to_path_buf(),
                        mode,
                        &self.sink.endpoint(),
                        KEY,
                        events,
                    )
                },
                |run| run.events as f64 / run.seconds,
            ) {
                Ok(run) => {
                    row.measured = Some(Measured {
                        events: run.events,
                        requests: run.requests,
                        retries: 0,
                        seconds: run.seconds,
                        concurrency: 1,
                        peak_rss_kib: Some(run.peak_rss_kib),
                        sink_events: None,
                    });
                    eprintln!("bench:   {:.0} events/s", run.events as f64 / run.seconds);
                }
                Err(error) => row.note = format!("failed: {error:#}"),
            }
            self.rows.push(row);
        }
    }
}

/// The best of `runs` runs (at least one) by `rate`: other work on a shared machine only ever
/// slows a run down. The first failure ends it.
pub(crate) fn best_of<T>(
    runs: u32,
    mut run: impl FnMut() -> Result<T>,
    rate: impl Fn(&T) -> f64,
) -> Result<T> {
    let mut best = run()?;
    for _ in 1..runs {
        let next = run()?;
        if rate(&next) > rate(&best) {
            best = next;
        }
    }
    Ok(best)
}
