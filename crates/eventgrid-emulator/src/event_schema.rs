//! Per-event checks of the three schemas, done with one scan of each event's JSON object and no
//! value tree: each member value is kept as raw text, and only the few that need it are decoded.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use serde::Deserializer as _;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::response::ServiceError;
use crate::topic::Schema;

const EVENT_GRID_FIELDS: &[&str] = &[
    "id",
    "subject",
    "eventType",
    "eventTime",
    "dataVersion",
    "topic",
    "metadataVersion",
    "data",
];
/// Members that mark an event of the other schema, for the service's "wrong schema" message.
const CLOUD_EVENT_MARKERS: &[&str] = &["specversion"];

const CLOUD_EVENT_FIELDS: &[&str] = &[
    "id",
    "source",
    "type",
    "specversion",
    "time",
    "subject",
    "datacontenttype",
    "dataschema",
    "data",
    "data_base64",
];
const EVENT_GRID_MARKERS: &[&str] = &["eventType", "eventTime", "dataVersion"];

const MAX_FIELDS: usize = 10;

/// Checks one event (its JSON text) against `schema`; `index` is its place in the batch.
pub(crate) fn check_event(schema: Schema, index: usize, text: &str) -> Result<(), ServiceError> {
    if !text.starts_with('{') {
        return Err(wrong_schema(schema, index, "it is not a JSON object"));
    }
    match schema {
        Schema::EventGrid => check_event_grid(index, text),
        Schema::CloudEvents => check_cloud_event(index, text),
        Schema::Custom => Ok(()),
    }
}

fn check_event_grid(index: usize, text: &str) -> Result<(), ServiceError> {
    let scan = scan(text, EVENT_GRID_FIELDS, CLOUD_EVENT_MARKERS, false)?;
    let event = Event {
        index,
        scan: &scan,
        names: EVENT_GRID_FIELDS,
    };
    for required in ["id", "subject", "eventType", "eventTime"] {
        if event.get(required).is_none() {
            if scan.has_marker {
                return Err(wrong_schema(
                    Schema::EventGrid,
                    index,
                    "it has `specversion`",
                ));
            }
            return Err(ServiceError::invalid_input(format!(
                "Required property '{required}' was not set (event {index})."
            )));
        }
    }
    for name in [
        "id",
        "subject",
        "eventType",
        "eventTime",
        "dataVersion",
        "topic",
        "metadataVersion",
    ] {
        event.string(name)?;
    }
    if event.string("id")?.is_some_and(|id| id.is_empty()) {
        return Err(ServiceError::invalid_input(format!(
            "Property 'id' of event {index} must not be empty."
        )));
    }
    event.date_time("eventTime")?;
    Ok(())
}

fn check_cloud_event(index: usize, text: &str) -> Result<(), ServiceError> {
    let scan = scan(text, CLOUD_EVENT_FIELDS, EVENT_GRID_MARKERS, true)?;
    let event = Event {
        index,
        scan: &scan,
        names: CLOUD_EVENT_FIELDS,
    };
    for required in ["id", "source", "type", "specversion"] {
        if event.get(required).is_none() {
            if scan.has_marker {
                return Err(wrong_schema(
                    Schema::CloudEvents,
                    index,
                    "it has Event Grid members",
                ));
            }
            return Err(ServiceError::invalid_input(format!(
                "Required property '{required}' was not set (event {index})."
            )));
        }
    }
    for name in [
        "id",
        "source",
        "type",
        "subject",
        "datacontenttype",
        "dataschema",
    ] {
        if event.string(name)?.is_some_and(|value| value.is_empty()) && name != "subject" {
            return Err(ServiceError::invalid_input(format!(
                "Property '{name}' of event {index} must not be empty."
            )));
        }
    }
    let version = event.string("specversion")?.unwrap_or_default();
    if version != "1.0" {
        return Err(ServiceError::invalid_input(format!(
            "Property 'specversion' of event {index} is '{version}'; only CloudEvents '1.0' is supported."
        )));
    }
    event.date_time("time")?;
    if event.get("data").is_some() && event.get("data_base64").is_some() {
        return Err(ServiceError::invalid_input(format!(
            "Event {index} has both 'data' and 'data_base64'; a CloudEvent carries at most one."
        )));
    }
    if let Some(encoded) = event.string("data_base64")?
        && base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .is_err()
    {
        return Err(ServiceError::invalid_input(format!(
            "Property 'data_base64' of event {index} is not valid base64."
        )));
    }
    if let Some(name) = &scan.bad_extension {
        return Err(ServiceError::invalid_input(format!(
            "Extension attribute '{name}' of event {index} is invalid: CloudEvents attribute names \
             have only lowercase letters and digits."
        )));
    }
    Ok(())
}

fn wrong_schema(schema: Schema, index: usize, why: &str) -> ServiceError {
    let name = match schema {
        Schema::EventGrid => "EventGridEvent",
        Schema::CloudEvents => "CloudEventSchemaV1_0",
        Schema::Custom => "CustomEventSchema",
    };
    ServiceError::invalid_input(format!(
        "This resource is configured to receive event in '{name}' schema. The JSON received does \
         not conform to the expected schema (event {index}: {why})."
    ))
}

/// One event's members of interest.
struct Event<'s, 'a> {
    index: usize,
    scan: &'s Scan<'a>,
    names: &'static [&'static str],
}

impl<'a> Event<'_, 'a> {
    /// The raw value of `name`; JSON `null` counts as absent.
    fn get(&self, name: &str) -> Option<&'a RawValue> {
        let slot = self.names.iter().position(|known| *known == name)?;
        self.scan.values[slot].filter(|raw| raw.get() != "null")
    }

    /// The decoded string value of `name`, or a 400 naming it when it is not a string.
    fn string(&self, name: &str) -> Result<Option<Cow<'a, str>>, ServiceError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        let text = raw.get();
        if !text.starts_with('"') {
            return Err(ServiceError::invalid_input(format!(
                "Property '{name}' of event {} must be a string.",
                self.index
            )));
        }
        let value = match serde_json::from_str::<&str>(text) {
            Ok(plain) => Cow::Borrowed(plain),
            Err(_) => Cow::Owned(serde_json::from_str::<String>(text).map_err(|error| {
                ServiceError::invalid_input(format!("Property '{name}': {error}"))
            })?),
        };
        Ok(Some(value))
    }

    fn date_time(&self, name: &str) -> Result<(), ServiceError> {
        if let Some(value) = self.string(name)?
            && OffsetDateTime::parse(&value, &Rfc3339).is_err()
        {
            return Err(ServiceError::invalid_input(format!(
                "Property '{name}' of event {} is not an RFC 3339 date-time: '{value}'.",
                self.index
            )));
        }
        Ok(())
    }
}

/// What one scan of an event object found.
#[derive(Default)]
struct Scan<'a> {
    values: [Option<&'a RawValue>; MAX_FIELDS],
    has_marker: bool,
    bad_extension: Option<String>,
}

fn scan<'a>(
    text: &'a str,
    known: &'static [&'static str],
    markers: &'static [&'static str],
    check_extensions: bool,
) -> Result<Scan<'a>, ServiceError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer
        .deserialize_map(ObjectScan {
            known,
            markers,
            check_extensions,
        })
        .map_err(|error| ServiceError::invalid_input(format!("Invalid event: {error}")))
}

struct ObjectScan {
    known: &'static [&'static str],
    markers: &'static [&'static str],
    check_extensions: bool,
}

impl<'de> Visitor<'de> for ObjectScan {
    type Value = Scan<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scan<'de>, A::Error> {
        let mut scan = Scan::default();
        while let Some(MemberName(name)) = map.next_key()? {
            let value: &'de RawValue = map.next_value()?;
            if let Some(slot) = self.known.iter().position(|known| *known == name) {
                scan.values[slot] = Some(value);
            } else {
                scan.has_marker |= self.markers.contains(&name.as_ref());
                let valid_extension = !name.is_empty()
                    && name
                        .bytes()
                        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit());
                if self.check_extensions && !valid_extension && scan.bad_extension.is_none() {
                    scan.bad_extension = Some(name.into_owned());
                }
            }
        }
        Ok(scan)
    }
}

/// A member name, borrowed from the input unless it has escapes.
struct MemberName<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Borrowed(name)))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(schema: Schema, text: &str) -> String {
        check_event(schema, 3, text).unwrap_err().message
    }

    const GOOD_EVENT: &str = r#"{"id":"1","subject":"s","eventType":"t","eventTime":"2023-01-01T12:00:00.123456Z","dataVersion":"1.0","data":{"a":[1,2]}}"#;

    #[test]
    fn event_grid_events() {
        check_event(Schema::EventGrid, 0, GOOD_EVENT).unwrap();
        // The Python SDK leaves out `data` when it is None; the service accepts that.
        check_event(Schema::EventGrid, 0, r#"{"id":"1","subject":"s","eventType":"t","eventTime":"2026-11-26T16:37:22.70989Z","dataVersion":"1"}"#).unwrap();
        assert_eq!(
            message(
                Schema::EventGrid,
                r#"{"id":"1","subject":"s","eventTime":"2023-01-01T00:00:00Z"}"#
            ),
            "Required property 'eventType' was not set (event 3)."
        );
        assert!(
            message(
                Schema::EventGrid,
                r#"{"id":1,"subject":"s","eventType":"t","eventTime":"2023-01-01T00:00:00Z"}"#
            )
            .contains("'id' of event 3 must be a string")
        );
        assert!(
            message(
                Schema::EventGrid,
                r#"{"id":"1","subject":"s","eventType":"t","eventTime":"yesterday"}"#
            )
            .contains("not an RFC 3339 date-time: 'yesterday'")
        );
        assert!(
            message(
                Schema::EventGrid,
                r#"{"id":"1","source":"s","type":"t","specversion":"1.0"}"#
            )
            .contains("configured to receive event in 'EventGridEvent' schema")
        );
        assert!(message(Schema::EventGrid, "[1]").contains("not a JSON object"));
    }

    #[test]
    fn cloud_events() {
        check_event(Schema::CloudEvents, 0, r#"{"correlationid":"req-123","id":"3","source":"/u","data":{"x":3},"type":"t","time":"2023-01-01T12:00:00.000Z","specversion":"1.0","subject":"users/3"}"#).unwrap();
        check_event(Schema::CloudEvents, 0, r#"{"id":"4","source":"/bin","data_base64":"AAFiaW5hcnk=","type":"blob.bytes","specversion":"1.0"}"#).unwrap();
        assert!(
            message(
                Schema::CloudEvents,
                r#"{"id":"4","source":"/b","type":"t","specversion":"0.3"}"#
            )
            .contains("only CloudEvents '1.0'")
        );
        assert!(message(Schema::CloudEvents, r#"{"id":"4","source":"/b","type":"t","specversion":"1.0","data":1,"data_base64":"AA=="}"#)
            .contains("both 'data' and 'data_base64'"));
        assert!(
            message(
                Schema::CloudEvents,
                r#"{"id":"4","source":"/b","type":"t","specversion":"1.0","data_base64":"%%"}"#
            )
            .contains("not valid base64")
        );
        assert!(
            message(
                Schema::CloudEvents,
                r#"{"id":"4","source":"/b","type":"t","specversion":"1.0","Bad_Name":1}"#
            )
            .contains("'Bad_Name'")
        );
        assert!(message(Schema::CloudEvents, GOOD_EVENT).contains("'CloudEventSchemaV1_0' schema"));
        assert_eq!(
            message(
                Schema::CloudEvents,
                r#"{"id":"4","type":"t","specversion":"1.0"}"#
            ),
            "Required property 'source' was not set (event 3)."
        );
    }

    #[test]
    fn custom_events_are_any_object() {
        check_event(Schema::Custom, 0, r#"{"customField":"x","anything":[1,2]}"#).unwrap();
        assert!(message(Schema::Custom, "\"text\"").contains("'CustomEventSchema'"));
    }

    #[test]
    fn escaped_names_and_values_are_decoded() {
        check_event(Schema::EventGrid, 0, r#"{"\u0069d":"a\"b","subject":"s","eventType":"t","eventTime":"2023-01-01T00:00:00\u005A"}"#).unwrap();
    }
}
