//! Checks of a whole publish body: a JSON array, within the limits, each event valid for the
//! topic's schema, in one pass over the bytes.

use crate::config::Limits;
use crate::event_schema::check_event;
use crate::json_scan::scan_array;
use crate::response::ServiceError;
use crate::topic::Schema;

/// Checks `body` and returns each event's JSON text, in order, borrowed from `body`.
///
/// The body's total size is checked by the caller while reading it. As the service does, a
/// malformed body is reported before too many events, and too many events before a bad event.
pub(crate) fn validate_batch<'a>(
    body: &'a [u8],
    schema: Schema,
    limits: &Limits,
) -> Result<Vec<&'a str>, ServiceError> {
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
    let mut events = Vec::new();
    let mut first_problem = None;
    let count = scan_array(body, |index, event, members| {
        if first_problem.is_some() {
            return;
        }
        let size = event.text.len();
        let checked = if size > limits.max_event_bytes {
            Err(ServiceError::too_large(format!(
                "Event {index} is {size} bytes; the limit is {} bytes per event.",
                limits.max_event_bytes
            )))
        } else {
            check_event(schema, index, event, members)
        };
        match checked {
            Ok(()) => events.push(event.text),
            Err(problem) => first_problem = Some(problem),
        }
    })
    .map_err(|error| {
        ServiceError::invalid_input(format!(
            "The request body is not valid JSON: {}.",
            error.describe(body)
        ))
    })?;
    if count > limits.max_events_per_request {
        return Err(ServiceError::too_large(format!(
            "The request has {count} events; the limit is {} events per request.",
            limits.max_events_per_request
        )));
    }
    match first_problem {
        Some(problem) => Err(problem),
        None => Ok(events),
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
        let events =
            validate_batch(body.as_bytes(), Schema::EventGrid, &Limits::default()).unwrap();
        assert_eq!(events, vec![event(1), event(2)]);
        assert!(
            validate_batch(b"[]", Schema::EventGrid, &Limits::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn refuses_what_is_not_an_array_of_valid_json() {
        let limits = Limits::default();
        let message = |body: &[u8]| validate_batch(body, Schema::Custom, &limits).unwrap_err();
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
    }

    #[test]
    fn enforces_count_and_event_size_limits() {
        let limits = Limits {
            max_events_per_request: 2,
            max_event_bytes: 100,
            ..Limits::default()
        };
        let three = format!("[{},{},{}]", event(1), event(2), event(3));
        let error = validate_batch(three.as_bytes(), Schema::EventGrid, &limits).unwrap_err();
        assert_eq!(error.status, 413);
        assert_eq!(
            error.message,
            "The request has 3 events; the limit is 2 events per request."
        );
        let big = format!("[{},{}]", event(1), event(90));
        let error = validate_batch(big.as_bytes(), Schema::EventGrid, &limits).unwrap_err();
        assert_eq!(error.status, 413);
        assert!(
            error.message.starts_with("Event 1 is 176 bytes"),
            "{}",
            error.message
        );
    }
}
