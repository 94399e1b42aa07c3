//! Events received from a namespace topic's queue subscription (pull delivery): the answer to
//! `:receive`, each event with the lock token that settles it.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::cloud_event::CloudEvent;
use crate::consumer::error::ReceiveError;
use crate::consumer::fields;
use crate::consumer::options::ReceiveOptions;

/// One event received from a namespace subscription.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NamespaceEvent {
    /// The token that acknowledges, releases, rejects or renews this event's lock.
    pub lock_token: String,
    /// How many times the event has been delivered (1 the first time).
    pub delivery_count: u32,
    /// The event.
    pub event: CloudEvent,
}

/// Reads the body of a `:receive` answer (`{"value": [{"brokerProperties": {...}, "event":
/// {...}}]}`), bounded by `options`; errors name the detail's index and field.
///
/// ```
/// use eventgrid_core::consumer::{ReceiveOptions, parse_namespace_receive};
/// let body = br#"{"value":[{"brokerProperties":{"lockToken":"CgMKATESCQoHdG9rZW4tMQ==","deliveryCount":1},
///   "event":{"specversion":"1.0","type":"demo-started","source":"/test","id":"e770f36b",
///            "time":"2023-05-05T17:31:00Z","datacontenttype":"application/json","data":"test"}}]}"#;
/// let received = parse_namespace_receive(body, &ReceiveOptions::default())?;
/// assert_eq!(received[0].lock_token, "CgMKATESCQoHdG9rZW4tMQ==");
/// assert_eq!(received[0].event.data_as::<String>()?, "test");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_namespace_receive(
    body: &[u8],
    options: &ReceiveOptions,
) -> Result<Vec<NamespaceEvent>, ReceiveError> {
    #[derive(Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        value: Vec<&'a RawValue>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Broker {
        lock_token: String,
        delivery_count: u32,
    }
    options.check_size(body.len() as u64)?;
    let answer: Answer<'_> = serde_json::from_slice(body).map_err(|error| {
        ReceiveError::body(format!(
            "is not a receive answer (`{{\"value\": [...]}}`): {error}"
        ))
    })?;
    options.check_count(answer.value.len())?;
    answer
        .value
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let mut detail = fields::object(index, raw)?;
            let broker = detail.remove("brokerProperties").ok_or_else(|| {
                ReceiveError::event(index, Some("brokerProperties"), "is missing")
            })?;
            let broker: Broker = serde_json::from_value(broker).map_err(|error| {
                ReceiveError::event(index, Some("brokerProperties"), error.to_string())
            })?;
            let event = match detail.remove("event") {
                Some(Value::Object(event)) => fields::cloud_event(index, event, event_text(raw))?,
                Some(_) => {
                    return Err(ReceiveError::event(
                        index,
                        Some("event"),
                        "is not an object",
                    ));
                }
                None => return Err(ReceiveError::event(index, Some("event"), "is missing")),
            };
            Ok(NamespaceEvent {
                lock_token: broker.lock_token,
                delivery_count: broker.delivery_count,
                event,
            })
        })
        .collect()
}

/// The text of a detail's `event`, which keeps its data as the publisher wrote it.
fn event_text(detail: &RawValue) -> Option<&str> {
    #[derive(Deserialize)]
    struct Detail<'a> {
        #[serde(borrow)]
        event: &'a RawValue,
    }
    serde_json::from_str::<Detail<'_>>(detail.get())
        .ok()
        .map(|detail| detail.event.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = include_str!(
        "../../../../tests/fixtures/reference/spec-examples/namespace-2024-06-01-receive.json"
    );

    fn body() -> Value {
        let example: Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        example["responses"]["200"]["body"].clone()
    }

    #[test]
    fn the_specifications_example_is_read() {
        let received =
            parse_namespace_receive(body().to_string().as_bytes(), &ReceiveOptions::default())
                .unwrap();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].delivery_count, 1);
        assert_eq!(received[0].event.event_type(), "demo-started");
        assert_eq!(received[0].event.subject(), Some("all-hands-0405"));
    }

    #[test]
    fn errors_name_the_detail_and_field() {
        let mut answer = body();
        answer["value"][0]["brokerProperties"]["deliveryCount"] = Value::from("one");
        let error =
            parse_namespace_receive(answer.to_string().as_bytes(), &ReceiveOptions::default())
                .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("event 0: `brokerProperties` invalid type"),
            "{error}"
        );
        let mut answer = body();
        answer["value"][0]["event"]["source"] = Value::Null;
        let error =
            parse_namespace_receive(answer.to_string().as_bytes(), &ReceiveOptions::default())
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "event 0: `source` must be a string, not null"
        );
        let error = parse_namespace_receive(b"[]", &ReceiveOptions::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the body is not a receive answer"),
            "{error}"
        );
        let empty =
            parse_namespace_receive(br#"{"value":[]}"#, &ReceiveOptions::default()).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn data_stays_as_the_publisher_wrote_it() {
        let body = br#"{"value":[{"brokerProperties":{"lockToken":"t","deliveryCount":1},"event":{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"big": 123456789012345678901234567890}}}]}"#;
        let received = parse_namespace_receive(body, &ReceiveOptions::default()).unwrap();
        let crate::cloud_event::CloudEventData::Json(data) = received[0].event.data() else {
            panic!("JSON data expected: {:?}", received[0].event.data());
        };
        assert_eq!(data.get(), r#"{"big": 123456789012345678901234567890}"#);
    }
}
