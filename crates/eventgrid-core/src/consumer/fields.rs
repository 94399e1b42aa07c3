//! Checks on one received event's JSON object, so that an error names the event and the
//! field before serde's own message would.

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cloud_event::CloudEvent;
use crate::consumer::error::{Kind, ReceiveError};
use crate::event::EventGridEvent;

/// The checked fields of one event, with its position for error messages.
pub(crate) struct Fields<'a> {
    index: usize,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(index: usize, map: &'a Map<String, Value>) -> Self {
        Self { index, map }
    }

    fn error(&self, field: &str, reason: impl Into<String>) -> ReceiveError {
        ReceiveError::event(self.index, Some(field), reason)
    }

    /// A string that must be present (and, when `non_empty`, not blank).
    pub(crate) fn required(&self, field: &str, non_empty: bool) -> Result<&'a str, ReceiveError> {
        match self.map.get(field) {
            None => Err(self.error(field, "is missing")),
            Some(Value::String(text)) if non_empty && text.trim().is_empty() => {
                Err(self.error(field, "is empty"))
            }
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(self.error(field, format!("must be a string, not {}", Kind(other)))),
        }
    }

    /// A string that may be absent (or null).
    pub(crate) fn optional(&self, field: &str) -> Result<Option<&'a str>, ReceiveError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.error(field, format!("must be a string, not {}", Kind(other)))),
        }
    }

    /// An RFC 3339 date-time string.
    pub(crate) fn time(&self, field: &str, text: &str) -> Result<OffsetDateTime, ReceiveError> {
        OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|error| self.error(field, format!("is not an RFC 3339 date-time: {error}")))
    }
}

/// Reads one JSON value of a body as an object.
pub(crate) fn object(index: usize, raw: &RawValue) -> Result<Map<String, Value>, ReceiveError> {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ReceiveError::event(
            index,
            None,
            format!("is {}, not a JSON object", Kind(&other)),
        )),
        Err(error) => Err(ReceiveError::event(index, None, error.to_string())),
    }
}

/// An Event Grid schema event: `id`, `subject`, `eventType`, `eventTime` and `dataVersion`
/// as the schema requires them (the validation event's `subject` is empty, so emptiness is
/// only refused where the service refuses it).
pub(crate) fn event_grid_event(
    index: usize,
    raw: &RawValue,
) -> Result<EventGridEvent, ReceiveError> {
    let map = object(index, raw)?;
    let fields = Fields::new(index, &map);
    fields.required("id", true)?;
    fields.required("subject", false)?;
    fields.required("eventType", true)?;
    let time = fields.required("eventTime", true)?;
    fields.time("eventTime", time)?;
    fields.required("dataVersion", false)?;
    fields.optional("topic")?;
    fields.optional("metadataVersion")?;
    serde_json::from_str(raw.get())
        .map_err(|error| ReceiveError::event(index, None, error.to_string()))
}

/// A structured-mode CloudEvent: `specversion` `"1.0"`, `id`, `source` and `type`, and the
/// optional attributes with their types. `text`, the event's JSON when there is one, is what
/// the event is read from, so that its data stays as the publisher wrote it (through `map`,
/// integers past 64 bits would become floating point).
pub(crate) fn cloud_event(
    index: usize,
    map: Map<String, Value>,
    text: Option<&str>,
) -> Result<CloudEvent, ReceiveError> {
    let fields = Fields::new(index, &map);
    let version = fields.required("specversion", true)?;
    if version != "1.0" {
        return Err(ReceiveError::event(
            index,
            Some("specversion"),
            format!("is {version:?}; only \"1.0\" is supported"),
        ));
    }
    fields.required("id", true)?;
    fields.required("source", true)?;
    fields.required("type", true)?;
    for field in ["subject", "datacontenttype", "dataschema"] {
        fields.optional(field)?;
    }
    if let Some(time) = fields.optional("time")? {
        fields.time("time", time)?;
    }
    if map.contains_key("data") && map.contains_key("data_base64") {
        return Err(ReceiveError::event(
            index,
            Some("data_base64"),
            "is present beside `data`; an event carries one or the other",
        ));
    }
    if let Some(data) = map.get("data_base64")
        && !data.is_string()
    {
        return Err(ReceiveError::event(
            index,
            Some("data_base64"),
            format!("must be a string, not {}", Kind(data)),
        ));
    }
    match text {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_value(Value::Object(map)),
    }
    .map_err(|error| ReceiveError::event(index, None, error.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).unwrap()
    }

    fn event_grid(value: Value) -> Result<EventGridEvent, ReceiveError> {
        event_grid_event(4, &raw(value))
    }

    #[test]
    fn the_services_seven_digit_times_are_read() {
        let event = event_grid(json!({
            "id": "1", "subject": "s", "eventType": "t", "dataVersion": "1",
            "eventTime": "2018-07-19T18:38:04.6117357Z", "metadataVersion": "1",
        }))
        .unwrap();
        assert_eq!(event.event_time().nanosecond(), 611_735_700);
    }

    #[test]
    fn event_grid_errors_name_index_and_field() {
        let base = json!({"id": "1", "subject": "s", "eventType": "t", "dataVersion": "1",
            "eventTime": "2018-07-19T18:38:04Z"});
        let cases = [
            (
                "id",
                json!(null),
                "event 4: `id` must be a string, not null",
            ),
            ("eventType", json!(""), "event 4: `eventType` is empty"),
            (
                "eventTime",
                json!("yesterday"),
                "event 4: `eventTime` is not an RFC 3339",
            ),
            (
                "dataVersion",
                json!(1),
                "event 4: `dataVersion` must be a string, not a number",
            ),
            (
                "topic",
                json!([]),
                "event 4: `topic` must be a string, not an array",
            ),
        ];
        for (field, value, expected) in cases {
            let mut event = base.clone();
            event[field] = value;
            let error = event_grid(event).unwrap_err();
            assert!(error.to_string().starts_with(expected), "{error}");
        }
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove("subject");
        assert_eq!(
            event_grid(missing).unwrap_err().to_string(),
            "event 4: `subject` is missing"
        );
        assert_eq!(
            event_grid(json!("text")).unwrap_err().to_string(),
            "event 4: is a string, not a JSON object"
        );
    }

    #[test]
    fn cloud_event_errors_name_index_and_field() {
        let base = json!({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"});
        let check = |field: &str, value: Value, expected: &str| {
            let mut event = base.clone();
            event[field] = value;
            let Value::Object(map) = event else {
                unreachable!()
            };
            let error = cloud_event(2, map, None).unwrap_err();
            assert!(error.to_string().starts_with(expected), "{error}");
        };
        check(
            "specversion",
            json!("0.3"),
            "event 2: `specversion` is \"0.3\"",
        );
        check("source", json!(""), "event 2: `source` is empty");
        check("time", json!("noon"), "event 2: `time` is not an RFC 3339");
        check(
            "data_base64",
            json!(5),
            "event 2: `data_base64` must be a string",
        );
        check("data_base64", json!("!!"), "event 2: `data_base64`: ");
        let mut both = base.clone();
        both["data"] = json!({});
        both["data_base64"] = json!("AA==");
        let Value::Object(map) = both else {
            unreachable!()
        };
        assert!(
            cloud_event(0, map, None)
                .unwrap_err()
                .to_string()
                .contains("one or the other")
        );
    }

    #[test]
    fn cloud_event_data_stays_as_written() {
        let text = r#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"big": 123456789012345678901234567890}}"#;
        let Value::Object(map) = serde_json::from_str(text).unwrap() else {
            unreachable!()
        };
        let event = cloud_event(0, map, Some(text)).unwrap();
        let crate::cloud_event::CloudEventData::Json(data) = event.data() else {
            panic!("JSON data expected: {:?}", event.data());
        };
        assert_eq!(data.get(), r#"{"big": 123456789012345678901234567890}"#);
    }
}
