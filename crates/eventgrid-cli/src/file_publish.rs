//! `publish --file`: events from a JSON Lines file (or stdin) handed to the blocking client's
//! `send_stream`, which reads and encodes them only as requests complete, so memory stays flat
//! for any size of file while requests are in flight.
//!
//! A line that is not an event (bad JSON, a missing field) ends the input there: every event
//! before it is delivered, and the error names the line. An event the client refuses (over the
//! size limit) stops the stream too, but the events read since the last request went out are
//! not sent; the error names the refused line and those. Requests the service refuses are
//! reported by their lines, and the summary counts what was delivered and what was not.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

use eventgrid::{CloudEvent, CustomEvent, Error, Schema};

use crate::error::{CliError, without_index};
use crate::jsonl::{JsonLines, LineError};
use crate::line_event::LineEvent;
use crate::line_splice::SplicedEventGridEvent;
use crate::progress::{Progress, Summary};
use crate::target::Target;

/// How often (in events) the progress bar is moved.
const PROGRESS_EVERY: usize = 256;

/// Publishes every line of `path` (`-` for stdin) to the target's topic. Returns the summary,
/// also when it stopped early, with the error that stopped it.
pub fn publish_file(target: &Target, path: &Path) -> (Summary, Result<(), CliError>) {
    let started = Instant::now();
    let mut summary = Summary::default();
    let outcome = match target.schema {
        Schema::EventGrid => publish_lines::<SplicedEventGridEvent>(target, path, &mut summary),
        Schema::CloudEvents => publish_lines::<CloudEvent>(target, path, &mut summary),
        Schema::Custom => publish_lines::<CustomEvent>(target, path, &mut summary),
        other => Err(CliError::failure(format!(
            "schema {other} is not supported"
        ))),
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
    let progress = Progress::new(size);
    let mut events = LineEvents::<E, _>::new(reader, target.max_event_bytes, &progress);
    let sent = target.client.send_stream(&target.topic, events.by_ref());
    progress.finish();
    let outcome = match sent {
        Ok(sent) => {
            summary.delivered = sent.events;
            Ok(())
        }
        Err(Error::Delivery(failure)) => {
            summary.delivered = failure.delivered_count();
            let first = &failure.failed[0];
            let mut error = describe_failure(&events.lines, first.events.clone(), &first.error);
            if failure.failed.len() > 1 {
                error = format!(
                    "{error} (and {} more failed requests)",
                    failure.failed.len() - 1
                );
            }
            Err(CliError::failure(error))
        }
        Err(error) => {
            let all = 0..events.read;
            Err(CliError::failure(describe_failure(
                &events.lines,
                all,
                &error,
            )))
        }
    };
    summary.failed = events.read - summary.delivered;
    // A line that was not an event ended the input; report it once the rest is settled.
    match (outcome, events.stopped_at) {
        (Err(error), _) => Err(error),
        (Ok(()), Some(error)) => Err(CliError::failure(format!(
            "line {}: {}",
            error.line, error.reason
        ))),
        (Ok(()), None) => Ok(()),
    }
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

/// The events of a JSON Lines stream, in order, ending at the first line that is not one.
struct LineEvents<'a, E, R> {
    lines: JsonLines<R>,
    progress: &'a Progress,
    /// Events produced so far.
    read: usize,
    /// The line that ended the input early, if one did.
    stopped_at: Option<LineError>,
    _events: std::marker::PhantomData<E>,
}

impl<'a, E: LineEvent, R: BufRead> LineEvents<'a, E, R> {
    fn new(reader: R, max_line_bytes: usize, progress: &'a Progress) -> Self {
        Self {
            lines: JsonLines::new(reader, max_line_bytes),
            progress,
            read: 0,
            stopped_at: None,
            _events: std::marker::PhantomData,
        }
    }
}

impl<E: LineEvent, R: BufRead> Iterator for LineEvents<'_, E, R> {
    type Item = E;

    fn next(&mut self) -> Option<E> {
        if self.stopped_at.is_some() {
            return None;
        }
        let parsed = match self.lines.next_line() {
            Ok(Some((number, text))) => E::from_line(text).map_err(|reason| LineError {
                line: number,
                reason,
            }),
            Ok(None) => return None,
            Err(error) => Err(error),
        };
        match parsed {
            Ok(event) => {
                self.read += 1;
                if self.read.is_multiple_of(PROGRESS_EVERY) {
                    self.progress.update(self.lines.bytes_read(), self.read);
                }
                Some(event)
            }
            Err(error) => {
                self.stopped_at = Some(error);
                None
            }
        }
    }
}

/// Says which lines the events `events` (indices into the stream) were on, and why they were
/// not delivered.
fn describe_failure<R: BufRead>(
    lines: &JsonLines<R>,
    events: Range<usize>,
    error: &Error,
) -> String {
    if events.is_empty() {
        return error.to_string();
    }
    let (first, last) = (events.start, events.end - 1);
    match error {
        Error::InvalidEvent { index, .. } | Error::EventTooLarge { index, .. } => {
            let line = lines.line_of(*index);
            let reason = without_index(error);
            if *index > first {
                format!(
                    "line {line}: {reason} (lines {}-{} before it were not sent)",
                    lines.line_of(first),
                    lines.line_of(index - 1)
                )
            } else {
                format!("line {line}: {reason}")
            }
        }
        error if first == last => format!("line {}: {error}", lines.line_of(first)),
        error => format!(
            "lines {}-{}: {error}",
            lines.line_of(first),
            lines.line_of(last)
        ),
    }
}
