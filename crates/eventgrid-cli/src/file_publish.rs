//! `publish --file`: events from a JSON Lines file (or stdin), read and sent a chunk at a time
//! so that memory stays flat for any size of file.
//!
//! Reading stops at the first line that cannot be sent (bad JSON, a missing field, an event
//! over the size limit, a request the service refuses); every event before that line has been
//! delivered and none after it has been sent, and the error names the line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use eventgrid::{CloudEvent, CustomEvent, Error, EventGridEvent, Schema};

use crate::error::{CliError, without_index};
use crate::jsonl::JsonLines;
use crate::line_event::LineEvent;
use crate::progress::{Progress, Summary};
use crate::target::Target;

/// Most events handed to the client at once (it splits them into requests by the limits and
/// sends those concurrently).
const CHUNK_EVENTS: usize = 5_000;
/// Most bytes of JSON lines held at once.
const CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Publishes every line of `path` (`-` for stdin) to the target's topic. Returns the summary,
/// also when it stopped early, with the error that stopped it.
pub fn publish_file(target: &Target, path: &Path) -> (Summary, Result<(), CliError>) {
    let started = Instant::now();
    let mut summary = Summary::default();
    let outcome = match target.schema {
        Schema::EventGrid => publish_lines::<EventGridEvent>(target, path, &mut summary),
        Schema::CloudEvents => publish_lines::<CloudEvent>(target, path, &mut summary),
        Schema::Custom => publish_lines::<CustomEvent>(target, path, &mut summary),
    };
    summary.requests = target
        .client
        .metrics()
        .get(&target.topic)
        .map_or(0, |metrics| metrics.requests as usize);
    summary.elapsed = started.elapsed();
    (summary, outcome)
}

fn publish_lines<E: LineEvent>(
    target: &Target,
    path: &Path,
    summary: &mut Summary,
) -> Result<(), CliError> {
    let (reader, size) = open(path)?;
    let mut lines = JsonLines::new(reader);
    let progress = Progress::new(size);
    let mut chunk = Chunk::<E>::new();
    let outcome = loop {
        let (number, event) = match lines.next_line() {
            Ok(Some((number, text))) => match E::from_line(text) {
                Ok(event) => {
                    chunk.bytes += text.len();
                    (number, event)
                }
                Err(reason) => {
                    // The events before the bad line still go out.
                    break chunk
                        .send(target, summary)
                        .and(Err(CliError::failure(format!("line {number}: {reason}"))));
                }
            },
            Ok(None) => break chunk.send(target, summary),
            Err(error) => {
                break chunk
                    .send(target, summary)
                    .and(Err(CliError::failure(format!(
                        "line {}: {}",
                        error.line, error.reason
                    ))));
            }
        };
        chunk.events.push(event);
        chunk.lines.push(number);
        if chunk.is_full() {
            if let Err(error) = chunk.send(target, summary) {
                break Err(error);
            }
            progress.update(lines.bytes_read(), summary.delivered);
        }
    };
    progress.finish();
    outcome
}

fn open(path: &Path) -> Result<(Box<dyn BufRead>, Option<u64>), CliError> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin().lock()), None));
    }
    let fail = |error: std::io::Error| CliError::failure(format!("{}: {error}", path.display()));
    let file = File::open(path).map_err(fail)?;
    let size = file.metadata().map_err(fail)?.len();
    Ok((
        Box::new(BufReader::with_capacity(256 * 1024, file)),
        Some(size),
    ))
}

/// Events waiting to be sent, with the line each came from.
struct Chunk<E> {
    events: Vec<E>,
    lines: Vec<usize>,
    bytes: usize,
}

impl<E: LineEvent> Chunk<E> {
    fn new() -> Self {
        Self {
            events: Vec::new(),
            lines: Vec::new(),
            bytes: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.events.len() >= CHUNK_EVENTS || self.bytes >= CHUNK_BYTES
    }

    /// Sends the waiting events and empties the chunk, adding to `summary`. When an event is
    /// invalid (too large, a required field empty), the events before it are sent and the
    /// error names its line.
    fn send(&mut self, target: &Target, summary: &mut Summary) -> Result<(), CliError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let (delivered, outcome) = match target.client.send(&target.topic, &self.events) {
            Ok(sent) => (sent.events, Ok(())),
            Err(
                error @ (Error::EventTooLarge { index, .. } | Error::InvalidEvent { index, .. }),
            ) => {
                let refused = CliError::failure(format!(
                    "line {}: {}",
                    self.lines[index],
                    without_index(&error)
                ));
                match target.client.send(&target.topic, &self.events[..index]) {
                    Ok(sent) => (sent.events, Err(refused)),
                    Err(error) => (0, Err(self.lines_failed(0..index, &error))),
                }
            }
            Err(Error::Delivery(failure)) => {
                let first = &failure.failed[0];
                let error = self.lines_failed(first.events.clone(), &first.error);
                (failure.delivered_count(), Err(error))
            }
            Err(error) => (0, Err(self.lines_failed(0..self.events.len(), &error))),
        };
        summary.delivered += delivered;
        if outcome.is_err() {
            summary.failed += self.events.len() - delivered;
        }
        self.events.clear();
        self.lines.clear();
        self.bytes = 0;
        outcome
    }

    fn lines_failed(&self, events: std::ops::Range<usize>, error: &Error) -> CliError {
        let (first, last) = (self.lines[events.start], self.lines[events.end - 1]);
        if first == last {
            CliError::failure(format!("line {first}: {error}"))
        } else {
            CliError::failure(format!("lines {first}-{last}: {error}"))
        }
    }
}
