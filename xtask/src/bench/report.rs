//! The results of a run: rows of figures, each client row linked to its floors and its Python
//! peer, printed as a table and written as JSON (and Markdown) under `target/bench/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::bench::machine::Machine;

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One of our clients.
    Client,
    /// A raw floor (hyper or wrk) posting prebuilt bodies.
    Floor,
    /// The official Python SDK.
    Peer,
    /// A figure for the explanation, not a comparison (e.g. building events without I/O).
    Info,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Floor => "floor",
            Kind::Peer => "peer",
            Kind::Info => "info",
        }
    }
}

/// What one scenario measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Measured {
    pub events: u64,
    pub requests: u64,
    pub retries: u64,
    pub seconds: f64,
    pub concurrency: usize,
    pub peak_rss_kib: Option<u64>,
    /// Events the emulator counted as accepted during the run (emulator sink only).
    pub sink_events: Option<u64>,
}

impl Measured {
    pub(crate) fn events_per_second(&self) -> f64 {
        self.events as f64 / self.seconds
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub sink: String,
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub measured: Option<Measured>,
    /// Why there is no figure, or what to know about it.
    pub note: String,
    pub hyper_floor: Option<String>,
    pub wrk_floor: Option<String>,
    pub python_peer: Option<String>,
    pub goal_events_per_second: Option<f64>,
    pub goal_peak_bytes: Option<u64>,
    /// The least ratio to the Python peer the issue asks for.
    pub goal_python_ratio: Option<f64>,
    /// The least ratio to the hyper floor of the same run the issue asks for.
    pub goal_floor_ratio: Option<f64>,
}

impl Row {
    pub(crate) fn new(sink: &str, id: &str, kind: Kind, title: &str) -> Self {
        Row {
            sink: sink.to_owned(),
            id: id.to_owned(),
            kind,
            title: title.to_owned(),
            measured: None,
            note: String::new(),
            hyper_floor: None,
            wrk_floor: None,
            python_peer: None,
            goal_events_per_second: None,
            goal_peak_bytes: None,
            goal_python_ratio: None,
            goal_floor_ratio: None,
        }
    }

    fn rate(&self) -> Option<f64> {
        self.measured.as_ref().map(Measured::events_per_second)
    }

    fn peak_bytes(&self) -> Option<u64> {
        self.measured.as_ref()?.peak_rss_kib.map(|kib| kib * 1024)
    }

    /// `met`, `MISSED` or nothing, for the goals of the issue; `python_ratio` is this row's
    /// rate over its Python peer's, where there is one.
    fn goal_status(&self, python_ratio: Option<f64>, floor_ratio: Option<f64>) -> Option<String> {
        let rate = self.rate()?;
        let mut parts = Vec::new();
        if let (Some(goal), Some(ratio)) = (self.goal_floor_ratio, floor_ratio) {
            let verdict = if ratio >= goal { "met" } else { "MISSED" };
            parts.push(format!(">= {goal:.1} of the hyper floor {verdict}"));
        }
        if let (Some(goal), Some(ratio)) = (self.goal_python_ratio, python_ratio) {
            let verdict = if ratio >= goal { "met" } else { "MISSED" };
            parts.push(format!(">= {goal:.0}x Python {verdict}"));
        }
        if let Some(goal) = self.goal_events_per_second {
            let verdict = if rate >= goal { "met" } else { "MISSED" };
            parts.push(format!(">= {} ev/s {verdict}", group(goal)));
        }
        if let (Some(goal), Some(peak)) = (self.goal_peak_bytes, self.peak_bytes()) {
            let verdict = if peak < goal { "met" } else { "MISSED" };
            parts.push(format!("< {} MB {verdict}", goal / 1_000_000));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Everything one run measured.
#[derive(Debug)]
pub(crate) struct Report {
    pub started: String,
    pub machine: Machine,
    pub load_before: String,
    pub load_after: String,
    pub event_bytes: u64,
    pub command: String,
    /// `git describe --always --dirty` of the tree measured.
    pub commit: String,
    pub rows: Vec<Row>,
}

impl Report {
    fn linked(&self, row: &Row, id: &Option<String>) -> Option<f64> {
        let id = id.as_ref()?;
        let rate = row.rate()?;
        let other = self
            .rows
            .iter()
            .find(|other| other.sink == row.sink && &other.id == id)?
            .rate()?;
        Some(rate / other)
    }

    fn cells(&self, row: &Row) -> [String; 7] {
        let ratio = |id: &Option<String>| {
            self.linked(row, id)
                .map_or_else(String::new, |ratio| format!("{ratio:.2}"))
        };
        let python = self
            .linked(row, &row.python_peer)
            .map_or_else(String::new, |ratio| format!("{ratio:.0}x"));
        let rate = row.rate().map_or_else(|| "-".to_owned(), group);
        let peak = row
            .peak_bytes()
            .map_or_else(String::new, |bytes| format!("{:.1} MB", bytes as f64 / 1e6));
        let mut goal = row
            .goal_status(
                self.linked(row, &row.python_peer),
                self.linked(row, &row.hyper_floor),
            )
            .unwrap_or_default();
        if !row.note.is_empty() {
            goal = if goal.is_empty() {
                row.note.clone()
            } else {
                format!("{goal}; {}", row.note)
            };
        }
        [
            row.title.clone(),
            rate,
            ratio(&row.hyper_floor),
            ratio(&row.wrk_floor),
            python,
            peak,
            goal,
        ]
    }

    /// The table, one block per sink.
    pub(crate) fn table(&self) -> String {
        let header = [
            "scenario",
            "events/s",
            "/hyper floor",
            "/wrk floor",
            "/Python",
            "peak RSS",
            "goal / note",
        ];
        let mut out = String::new();
        for sink in self.sinks() {
            let _ = writeln!(out, "\nsink: {sink}");
            let mut lines = vec![header.map(str::to_owned)];
            lines.extend(
                self.rows
                    .iter()
                    .filter(|row| row.sink == sink)
                    .map(|row| self.cells(row)),
            );
            let widths: Vec<usize> = (0..header.len())
                .map(|column| {
                    lines
                        .iter()
                        .map(|line| line[column].len())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for line in &lines {
                let mut text = format!("  {:<w$}", line[0], w = widths[0]);
                for column in 1..6 {
                    let _ = write!(text, "  {:>w$}", line[column], w = widths[column]);
                }
                let _ = write!(text, "  {}", line[6]);
                let _ = writeln!(out, "{}", text.trim_end());
            }
        }
        out
    }

    /// The same table in Markdown, for `docs/performance.md`: one table per sink.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        for sink in self.sinks() {
            let _ = write!(
                out,
                "\n**Sink: {sink}**\n\n\
                 | scenario | events/s | / hyper floor | / wrk floor | / Python | peak RSS | goal / note |\n\
                 |---|--:|--:|--:|--:|--:|---|\n"
            );
            for row in self.rows.iter().filter(|row| row.sink == sink) {
                let cells = self.cells(row).map(|cell| cell.trim().replace('|', "/"));
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
        }
        out
    }

    /// The sinks in the order they were measured.
    fn sinks(&self) -> Vec<&str> {
        let mut sinks: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !sinks.contains(&row.sink.as_str()) {
                sinks.push(&row.sink);
            }
        }
        sinks
    }

    pub(crate) fn json(&self) -> String {
        let machine = &self.machine;
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  \"started\": {},", text(&self.started));
        let _ = writeln!(out, "  \"command\": {},", text(&self.command));
        let _ = writeln!(out, "  \"commit\": {},", text(&self.commit));
        let _ = writeln!(
            out,
            "  \"machine\": {{\"cores\": {}, \"cpu\": {}, \"rustc\": {}, \"kernel\": {}, \
             \"nginx\": {}, \"wrk\": {}}},",
            machine.cores,
            text(&machine.cpu),
            text(&machine.rustc),
            text(&machine.kernel),
            optional_text(&machine.nginx),
            optional_text(&machine.wrk),
        );
        let _ = writeln!(
            out,
            "  \"load_average_before\": {},",
            text(&self.load_before)
        );
        let _ = writeln!(out, "  \"load_average_after\": {},", text(&self.load_after));
        let _ = writeln!(out, "  \"event_bytes\": {},", self.event_bytes);
        out.push_str("  \"rows\": [\n");
        for (index, row) in self.rows.iter().enumerate() {
            let mut fields = vec![
                format!("\"sink\": {}", text(&row.sink)),
                format!("\"id\": {}", text(&row.id)),
                format!("\"kind\": {}", text(row.kind.as_str())),
                format!("\"title\": {}", text(&row.title)),
            ];
            if let Some(measured) = &row.measured {
                fields.push(format!("\"events\": {}", measured.events));
                fields.push(format!("\"requests\": {}", measured.requests));
                fields.push(format!("\"retries\": {}", measured.retries));
                fields.push(format!("\"seconds\": {:.6}", measured.seconds));
                fields.push(format!("\"concurrency\": {}", measured.concurrency));
                fields.push(format!(
                    "\"events_per_second\": {:.1}",
                    measured.events_per_second()
                ));
                fields.push(format!(
                    "\"peak_rss_kib\": {}",
                    number(measured.peak_rss_kib)
                ));
                fields.push(format!("\"sink_events\": {}", number(measured.sink_events)));
            }
            for (name, link) in [
                ("hyper_floor", &row.hyper_floor),
                ("wrk_floor", &row.wrk_floor),
                ("python_peer", &row.python_peer),
            ] {
                if link.is_some() {
                    fields.push(format!("\"{name}\": {}", optional_text(link)));
                    fields.push(format!(
                        "\"ratio_to_{name}\": {}",
                        self.linked(row, link)
                            .map_or_else(|| "null".to_owned(), |ratio| format!("{ratio:.4}"))
                    ));
                }
            }
            if let Some(goal) = row.goal_events_per_second {
                fields.push(format!("\"goal_events_per_second\": {goal}"));
            }
            if let Some(goal) = row.goal_peak_bytes {
                fields.push(format!("\"goal_peak_bytes\": {goal}"));
            }
            if let Some(goal) = row.goal_python_ratio {
                fields.push(format!("\"goal_python_ratio\": {goal}"));
            }
            let status = row.goal_status(
                self.linked(row, &row.python_peer),
                self.linked(row, &row.hyper_floor),
            );
            if let Some(status) = status {
                fields.push(format!("\"goal_status\": {}", text(&status)));
            }
            fields.push(format!("\"note\": {}", text(&row.note)));
            let comma = if index + 1 < self.rows.len() { "," } else { "" };
            let _ = writeln!(out, "    {{{}}}{comma}", fields.join(", "));
        }
        out.push_str("  ]\n}\n");
        out
    }

    /// Writes `bench-{started}.json`, `latest.json` and `latest.md` into `directory`; returns
    /// the timestamped file.
    pub(crate) fn write(&self, directory: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(directory)
            .with_context(|| format!("creating {}", directory.display()))?;
        let json = self.json();
        let stamped = directory.join(format!("bench-{}.json", self.started.replace(':', "-")));
        std::fs::write(&stamped, &json)?;
        std::fs::write(directory.join("latest.json"), &json)?;
        let markdown = format!(
            "Machine: {}. Tree: {}. Load average before/after: {} / {}. Events of {} bytes.\n\n{}",
            self.machine.summary(),
            self.commit,
            self.load_before,
            self.load_after,
            self.event_bytes,
            self.markdown()
        );
        std::fs::write(directory.join("latest.md"), markdown)?;
        Ok(stamped)
    }
}

/// `1234567.8` as `1,234,568`.
pub(crate) fn group(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn text(value: &str) -> String {
    let mut out = String::from("\"");
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            character if (character as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", character as u32);
            }
            character => out.push(character),
        }
    }
    out.push('"');
    out
}

fn optional_text(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "null".to_owned(), text)
}

fn number(value: Option<u64>) -> String {
    value.map_or_else(|| "null".to_owned(), |value| value.to_string())
}
