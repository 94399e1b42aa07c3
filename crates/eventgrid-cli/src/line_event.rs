//! One event per line of a JSON Lines file, in the topic's schema, with the same defaults as
//! events made in code.

use eventgrid::{CloudEvent, CustomEvent, Event, EventGridEvent};
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

/// An event type that can be read from one line of JSON.
pub trait LineEvent: Event + Send + Sized {
    /// Parses `line`; the error says what is wrong, without a line number.
    fn from_line(line: &str) -> Result<Self, String>;
}

/// An Event Grid event as a line gives it: `eventType` and `subject` required; `data`,
/// `dataVersion` (default "v1"), `eventTime` (default now), `id` (default a new UUID) and
/// `topic` optional. `metadataVersion`, which the service adds, is accepted and ignored, so
/// events read back from a topic can be sent again. Misspelt fields are errors.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventGridLine {
    event_type: String,
    subject: String,
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    data_version: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    event_time: Option<OffsetDateTime>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default, rename = "metadataVersion")]
    _metadata_version: Option<String>,
}

impl LineEvent for EventGridEvent {
    fn from_line(line: &str) -> Result<Self, String> {
        let line: EventGridLine = serde_json::from_str(line).map_err(|error| describe(&error))?;
        let mut event = match &line.data {
            Some(data) => EventGridEvent::new(line.event_type, line.subject, data)
                .map_err(|error| error.to_string())?,
            None => EventGridEvent::without_data(line.event_type, line.subject),
        };
        if let Some(id) = line.id {
            event = event.with_id(id);
        }
        if let Some(version) = line.data_version {
            event = event.with_data_version(version);
        }
        if let Some(at) = line.event_time {
            event = event.with_event_time(at);
        }
        if let Some(topic) = line.topic {
            event = event.with_topic(topic);
        }
        Ok(event)
    }
}

/// A CloudEvent in structured JSON; `specversion` defaults to "1.0" and `id` to a new UUID.
/// The members stay raw text, so `data` is sent as written (a `Value` would round integers
/// past 64 bits).
impl LineEvent for CloudEvent {
    fn from_line(line: &str) -> Result<Self, String> {
        let mut fields: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(line).map_err(|error| describe(&error))?;
        if !fields.contains_key("specversion") {
            fields.insert("specversion".to_owned(), raw_string("1.0"));
        }
        if !fields.contains_key("id") {
            fields.insert(
                "id".to_owned(),
                raw_string(&uuid::Uuid::new_v4().to_string()),
            );
        }
        let text = serde_json::to_string(&fields).map_err(|error| describe(&error))?;
        serde_json::from_str(&text).map_err(|error| describe(&error))
    }
}

/// `text` as a JSON string.
fn raw_string(text: &str) -> Box<RawValue> {
    serde_json::value::to_raw_value(text).expect("a string serializes")
}

/// Any JSON object, sent as it is.
impl LineEvent for CustomEvent {
    fn from_line(line: &str) -> Result<Self, String> {
        let raw: Box<RawValue> = serde_json::from_str(line).map_err(|error| describe(&error))?;
        CustomEvent::from_raw(raw).map_err(|error| error.to_string())
    }
}

/// serde_json's message without its position, which counts lines of the single line parsed;
/// the column is kept.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) if error.column() > 0 => {
            format!("{message} (column {})", error.column())
        }
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_grid_lines_get_the_seed_defaults() {
        let event = EventGridEvent::from_line(
            r#"{"eventType":"order.placed","subject":"orders/1","data":{"total":3}}"#,
        )
        .unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["dataVersion"], "v1");
        assert_eq!(json["data"]["total"], 3);
        assert_eq!(json["id"].as_str().unwrap().len(), 36);
    }

    #[test]
    fn event_grid_lines_keep_what_they_give() {
        let event = EventGridEvent::from_line(
            r#"{"id":"e-1","eventType":"t","subject":"s","dataVersion":"2.0","eventTime":"2024-01-01T00:00:00Z","metadataVersion":"1"}"#,
        )
        .unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["id"], "e-1");
        assert_eq!(json["eventTime"], "2024-01-01T00:00:00Z");
        assert!(json.get("data").is_none());
    }

    #[test]
    fn misspelt_and_missing_fields_are_named() {
        let error = EventGridEvent::from_line(r#"{"event_type":"t","subject":"s"}"#).unwrap_err();
        assert!(error.starts_with("unknown field `event_type`"), "{error}");
        let error = EventGridEvent::from_line(r#"{"eventType":"t"}"#).unwrap_err();
        assert!(error.starts_with("missing field `subject`"), "{error}");
        let error = EventGridEvent::from_line(r#"{"eventType": "t", "#).unwrap_err();
        assert!(error.contains("column"), "{error}");
    }

    #[test]
    fn cloud_event_lines_need_source_and_type_only() {
        let event = CloudEvent::from_line(r#"{"source":"/s","type":"t","data":1}"#).unwrap();
        assert_eq!(event.source(), "/s");
        assert!(
            CloudEvent::from_line(r#"{"type":"t"}"#)
                .unwrap_err()
                .contains("source")
        );
    }

    #[test]
    fn custom_lines_must_be_objects() {
        assert!(CustomEvent::from_line(r#"{"anything":[1]}"#).is_ok());
        assert!(CustomEvent::from_line("[1]").is_err());
    }
}
