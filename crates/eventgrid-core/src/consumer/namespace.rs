//! Events received from a namespace topic's queue subscription (pull delivery): the answer to
//! `:receive`, each event with the lock token that settles it. The pull clients read their
//! answers with the same code.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::consumer::error::ReceiveError;
use crate::consumer::options::ReceiveOptions;
use crate::receive::{ReceivedBatch, read_detail};

/// Reads the body of a `:receive` answer (`{"value": [{"brokerProperties": {...}, "event":
/// {...}}]}`), bounded by `options`. A body that is not such an answer, or over the limits, is
/// an error; one event that cannot be read is not: it is returned among the
/// [`malformed`](ReceivedBatch::malformed) ones, with its index, the reason naming the field,
/// and its lock token when that could be read, so that it can be rejected, while the other
/// events are returned as usual.
///
/// ```
/// use eventgrid_core::consumer::{ReceiveOptions, parse_namespace_receive};
/// let body = br#"{"value":[{"brokerProperties":{"lockToken":"CgMKATESCQoHdG9rZW4tMQ==","deliveryCount":1},
///   "event":{"specversion":"1.0","type":"demo-started","source":"/test","id":"e770f36b",
///            "time":"2023-05-05T17:31:00Z","datacontenttype":"application/json","data":"test"}},
///   {"brokerProperties":{"lockToken":"dG9rZW4tMg==","deliveryCount":3},"event":{"specversion":"1.0"}}]}"#;
/// let received = parse_namespace_receive(body, &ReceiveOptions::default())?;
/// assert_eq!(received.events[0].lock_token, "CgMKATESCQoHdG9rZW4tMQ==");
/// assert_eq!(received.events[0].data_as::<String>()?, "test");
/// assert_eq!(received.malformed[0].index, 1);
/// assert_eq!(received.malformed_lock_tokens(), ["dG9rZW4tMg=="]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_namespace_receive(
    body: &[u8],
    options: &ReceiveOptions,
) -> Result<ReceivedBatch, ReceiveError> {
    #[derive(Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        value: Vec<&'a RawValue>,
    }
    options.check_size(body.len() as u64)?;
    let answer: Answer<'_> = serde_json::from_slice(body).map_err(|error| {
        ReceiveError::body(format!(
            "is not a receive answer (`{{\"value\": [...]}}`): {error}"
        ))
    })?;
    options.check_count(answer.value.len())?;
    let mut batch = ReceivedBatch::default();
    for (index, raw) in answer.value.into_iter().enumerate() {
        match read_detail(index, raw) {
            Ok(event) => batch.events.push(event),
            Err(bad) => batch.malformed.push(bad),
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

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
        assert_eq!((received.events.len(), received.malformed.len()), (1, 0));
        assert_eq!(received.events[0].delivery_count, 1);
        assert_eq!(received.events[0].event.event_type(), "demo-started");
        assert_eq!(received.events[0].event.subject(), Some("all-hands-0405"));
    }

    #[test]
    fn one_unreadable_event_is_returned_beside_the_others_naming_its_field() {
        let good = body()["value"][0].clone();
        let mut bad_broker = good.clone();
        bad_broker["brokerProperties"]["deliveryCount"] = Value::from("one");
        let mut null_source = good.clone();
        null_source["brokerProperties"]["lockToken"] = Value::from("token-2");
        null_source["event"]["source"] = Value::Null;
        let mut empty_type = good.clone();
        empty_type["brokerProperties"]["lockToken"] = Value::from("token-3");
        empty_type["event"]["type"] = Value::from("");
        let answer = serde_json::json!({"value": [bad_broker, good, null_source, empty_type]});
        let received =
            parse_namespace_receive(answer.to_string().as_bytes(), &ReceiveOptions::default())
                .unwrap();
        assert_eq!(received.events.len(), 1);
        assert_eq!(received.events[0].event.event_type(), "demo-started");
        let reasons: Vec<(usize, Option<&str>, &str)> = received
            .malformed
            .iter()
            .map(|bad| (bad.index, bad.lock_token.as_deref(), bad.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert_eq!((reasons[0].0, reasons[0].1), (0, None));
        assert!(
            reasons[0].2.starts_with("`brokerProperties`: invalid type"),
            "{reasons:?}"
        );
        assert_eq!((reasons[1].0, reasons[1].1), (2, Some("token-2")));
        assert!(
            reasons[1].2.contains("`source` must be a string"),
            "{reasons:?}"
        );
        assert_eq!((reasons[2].0, reasons[2].1), (3, Some("token-3")));
        assert!(reasons[2].2.contains("`type` is empty"), "{reasons:?}");
        assert_eq!(received.malformed_lock_tokens(), ["token-2", "token-3"]);
    }

    #[test]
    fn a_body_that_is_no_receive_answer_is_an_error() {
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
        let over = ReceiveOptions::default().with_max_events(1);
        let two = serde_json::json!({"value": [body()["value"][0], body()["value"][0]]});
        assert!(parse_namespace_receive(two.to_string().as_bytes(), &over).is_err());
    }

    #[test]
    fn data_stays_as_the_publisher_wrote_it() {
        let body = br#"{"value":[{"brokerProperties":{"lockToken":"t","deliveryCount":1},"event":{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"big": 123456789012345678901234567890}}}]}"#;
        let received = parse_namespace_receive(body, &ReceiveOptions::default()).unwrap();
        let event = &received.events[0].event;
        let crate::cloud_event::CloudEventData::Json(data) = event.data() else {
            panic!("JSON data expected: {:?}", event.data());
        };
        assert_eq!(data.get(), r#"{"big": 123456789012345678901234567890}"#);
    }
}
