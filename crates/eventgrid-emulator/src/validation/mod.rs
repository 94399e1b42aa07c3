//! Checks of a whole publish body: a JSON array, within the limits, each event valid for the
//! topic's schema, in one pass over the bytes.

mod date_time;
mod event_schema;
pub(crate) mod json_scan;

use crate::config::Limits;
use crate::config::topic::Schema;
use crate::serving::response::ServiceError;
use crate::validation::event_schema::check_event;
use crate::validation::json_scan::{Member, RawJson, scan_array};

/// A valid batch.
#[derive(Debug)]
pub(crate) struct Batch<'a> {
    /// How many events it has.
    pub count: usize,
    /// Each event's JSON text, in order, borrowed from the body; empty unless asked for.
    pub events: Vec<&'a str>,
}

/// Checks `body`, and collects each event's text when `collect_events` is set.
///
/// The body's total size is checked by the caller while reading it. As the service does, a
/// malformed body is reported before too many events, and too many events before a bad event.
pub(crate) fn validate_batch<'a>(
    body: &'a [u8],
    schema: Schema,
    limits: &Limits,
    collect_events: bool,
) -> Result<Batch<'a>, ServiceError> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'[') => {}
        Some(_) => {
            return Err(ServiceError::invalid_input(
                "The request body must be a JSON array of events, even for a single event.",
            ));
        }
        None => return Err(ServiceError::invalid_input("The request body is empty.")),
    }
    let body = std::str::from_utf8(body).map_err(|error| {
        ServiceError::invalid_input(format!("The request body is not valid UTF-8: {error}."))
    })?;
    let mut checks = EventChecks {
        schema,
        limits,
        collect_events,
        events: Vec::new(),
        first_problem: None,
    };
    let Some(count) = scan_array(body, |index, event, members| {
        checks.check(index, event, members)
    }) else {
        return Err(ServiceError::invalid_input(format!(
            "The request body is not valid JSON: {}.",
            why_not_json(body)
        )));
    };
    let EventChecks {
        events,
        first_problem,
        ..
    } = checks;
    if count > limits.max_events_per_request {
        return Err(ServiceError::too_large(format!(
            "The request has {count} events; the limit is {} events per request.",
            limits.max_events_per_request
        )));
    }
    match first_problem {
        Some(problem) => Err(problem),
        None => Ok(Batch { count, events }),
    }
}

/// Why the scan refused `body`, in `serde_json`'s words (`EOF while parsing a value at line 1
/// column 9`). A first pass that only checks the syntax allocates nothing; what it accepts has
/// a value `serde_json` cannot build (a number out of range, nesting too deep, a lone
/// surrogate), which building one names.
fn why_not_json(body: &str) -> String {
    let error = match serde_json::from_str::<serde::de::IgnoredAny>(body) {
        Err(error) => error,
        Ok(_) => match serde_json::from_str::<serde_json::Value>(body) {
            Err(error) => error,
            // Not reached while the scan agrees with serde_json, as its tests hold it to.
            Ok(_) => return "it is refused by the emulator's scanner".to_owned(),
        },
    };
    error.to_string()
}

/// Each event's size and schema, as the scan finds them; the first problem is kept.
struct EventChecks<'l, 'a> {
    schema: Schema,
    limits: &'l Limits,
    collect_events: bool,
    events: Vec<&'a str>,
    first_problem: Option<ServiceError>,
}

impl<'a> EventChecks<'_, 'a> {
    fn check(&mut self, index: usize, event: RawJson<'a>, members: &[Member<'a>]) {
        if self.first_problem.is_some() {
            return;
        }
        let size = event.text.len();
        let checked = if size > self.limits.max_event_bytes {
            Err(ServiceError::too_large(format!(
                "Event {index} is {size} bytes; the limit is {} bytes per event.",
                self.limits.max_event_bytes
            )))
        } else {
            check_event(self.schema, index, event, members)
        };
        match checked {
            Ok(()) if self.collect_events => self.events.push(event.text),
            Ok(()) => {}
            Err(problem) => self.first_problem = Some(problem),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: usize) -> String {
        format!(
            r#"{{"id":"{id}","subject":"s","eventType":"t","eventTime":"2023-01-01T00:00:00Z","data":"{}"}}"#,
            "x".repeat(id)
        )
    }

    #[test]
    fn returns_each_event_as_received() {
        let body = format!("[ {} ,\n{}]", event(1), event(2));
        let batch =
            validate_batch(body.as_bytes(), Schema::EventGrid, &Limits::default(), true).unwrap();
        assert_eq!(batch.events, vec![event(1), event(2)]);
        assert_eq!(batch.count, 2);
        let counted = validate_batch(
            body.as_bytes(),
            Schema::EventGrid,
            &Limits::default(),
            false,
        )
        .unwrap();
        assert!(counted.events.is_empty());
        assert_eq!(counted.count, 2);
        let empty = validate_batch(b"[]", Schema::EventGrid, &Limits::default(), true).unwrap();
        assert_eq!((empty.count, empty.events.len()), (0, 0));
    }

    #[test]
    fn refuses_what_is_not_an_array_of_valid_json() {
        let limits = Limits::default();
        let message =
            |body: &[u8]| validate_batch(body, Schema::Custom, &limits, true).unwrap_err();
        assert!(
            message(b"{\"a\":1}")
                .message
                .contains("must be a JSON array")
        );
        assert!(message(b"  ").message.contains("empty"));
        assert!(message(b"[\"\xff\"]").message.contains("not valid UTF-8"));
        let broken = message(b"[{\"a\":1},");
        assert_eq!(broken.status, 400);
        assert_eq!(
            broken.message,
            "The request body is not valid JSON: EOF while parsing a value at line 1 column 9."
        );
        assert_eq!(
            message(b"[\n  {\"id\": 1 \"x\"}]").message,
            "The request body is not valid JSON: expected `,` or `}` at line 2 column 12."
        );
    }

    /// Bodies `serde_json` cannot read back are refused when published, with its reason,
    /// rather than kept and then failing (or panicking) the inspection API.
    #[test]
    fn refuses_what_cannot_be_read_back() {
        let limits = Limits::default();
        let message =
            |body: &[u8]| validate_batch(body, Schema::Custom, &limits, true).unwrap_err();
        let huge = message(b"[{\"n\":1e400}]");
        assert_eq!(huge.status, 400);
        assert_eq!(
            huge.message,
            "The request body is not valid JSON: number out of range at line 1 column 11."
        );
        let deep = format!("[{}1{}]", "{\"a\":".repeat(127), "}".repeat(127));
        assert!(
            message(deep.as_bytes())
                .message
                .contains("recursion limit exceeded"),
        );
        let surrogate = message(b"[{\"s\":\"\\ud800\"}]").message;
        assert_eq!(
            surrogate,
            "The request body is not valid JSON: unexpected end of hex escape at line 1 column 14."
        );
    }

    #[test]
    fn enforces_count_and_event_size_limits() {
        let limits = Limits {
            max_events_per_request: 2,
            max_event_bytes: 100,
            ..Limits::default()
        };
        let three = format!("[{},{},{}]", event(1), event(2), event(3));
        let error = validate_batch(three.as_bytes(), Schema::EventGrid, &limits, true).unwrap_err();
        assert_eq!(error.status, 413);
        assert_eq!(
            error.message,
            "The request has 3 events; the limit is 2 events per request."
        );
        let big = format!("[{},{}]", event(1), event(90));
        let error = validate_batch(big.as_bytes(), Schema::EventGrid, &limits, true).unwrap_err();
        assert_eq!(error.status, 413);
        assert!(
            error.message.starts_with("Event 1 is 176 bytes"),
            "{}",
            error.message
        );
    }
}
