//! Per-event checks of the three schemas, on the members the scan collected: no value tree,
//! and only the few values that need it are decoded.

use std::borrow::Cow;

use crate::config::topic::Schema;
use crate::serving::response::ServiceError;
use crate::validation::date_time::{is_rfc3339, plainly_rfc3339};
use crate::validation::json_scan::{Kind, Member, RawJson};
use base64::Engine as _;

const CLOUD_EVENT_ATTRIBUTES: &[&str] = &[
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

/// Checks one event against `schema`; `index` is its place in the batch, `members` its members
/// when it is an object.
pub(crate) fn check_event(
    schema: Schema,
    index: usize,
    event: RawJson<'_>,
    members: &[Member<'_>],
) -> Result<(), ServiceError> {
    if event.kind != Kind::Object {
        return Err(wrong_schema(schema, index, "it is not a JSON object"));
    }
    match schema {
        Schema::EventGrid => check_event_grid(&Event::new(index, members)),
        Schema::CloudEvents => check_cloud_event(&Event::new(index, members)),
        Schema::Custom => Ok(()),
    }
}

fn check_event_grid(event: &Event<'_, '_>) -> Result<(), ServiceError> {
    let index = event.index;
    for required in [Slot::Id, Slot::Subject, Slot::EventType, Slot::EventTime] {
        if event.get(required).is_none() {
            if event.get(Slot::SpecVersion).is_some() {
                return Err(wrong_schema(
                    Schema::EventGrid,
                    index,
                    "it has `specversion`",
                ));
            }
            return Err(ServiceError::invalid_input(format!(
                "Required property '{}' was not set (event {index}).",
                required.name()
            )));
        }
    }
    for slot in [
        Slot::Id,
        Slot::Subject,
        Slot::EventType,
        Slot::DataVersion,
        Slot::Topic,
        Slot::MetadataVersion,
    ] {
        event.expect_string(slot)?;
    }
    if event.get(Slot::Id).is_some_and(|id| id.text == "\"\"") {
        return Err(ServiceError::invalid_input(format!(
            "Property 'id' of event {index} must not be empty."
        )));
    }
    event.date_time(Slot::EventTime)
}

fn check_cloud_event(event: &Event<'_, '_>) -> Result<(), ServiceError> {
    let index = event.index;
    for required in [Slot::Id, Slot::Source, Slot::Type, Slot::SpecVersion] {
        if event.get(required).is_none() {
            if [Slot::EventType, Slot::EventTime, Slot::DataVersion]
                .iter()
                .any(|slot| event.get(*slot).is_some())
            {
                return Err(wrong_schema(
                    Schema::CloudEvents,
                    index,
                    "it has Event Grid members",
                ));
            }
            return Err(ServiceError::invalid_input(format!(
                "Required property '{}' was not set (event {index}).",
                required.name()
            )));
        }
    }
    for slot in [
        Slot::Id,
        Slot::Source,
        Slot::Type,
        Slot::Subject,
        Slot::DataContentType,
        Slot::DataSchema,
    ] {
        if event.string(slot)?.is_some_and(|value| value.is_empty()) && slot != Slot::Subject {
            return Err(ServiceError::invalid_input(format!(
                "Property '{}' of event {index} must not be empty.",
                slot.name()
            )));
        }
    }
    let version = event.string(Slot::SpecVersion)?.unwrap_or_default();
    if version != "1.0" {
        return Err(ServiceError::invalid_input(format!(
            "Property 'specversion' of event {index} is '{version}'; only CloudEvents '1.0' is supported."
        )));
    }
    event.date_time(Slot::Time)?;
    if event.get(Slot::Data).is_some() && event.get(Slot::DataBase64).is_some() {
        return Err(ServiceError::invalid_input(format!(
            "Event {index} has both 'data' and 'data_base64'; a CloudEvent carries at most one."
        )));
    }
    if let Some(encoded) = event.string(Slot::DataBase64)?
        && base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .is_err()
    {
        return Err(ServiceError::invalid_input(format!(
            "Property 'data_base64' of event {index} is not valid base64."
        )));
    }
    for member in event.members {
        if CLOUD_EVENT_ATTRIBUTES.iter().any(|name| member.is(name)) {
            continue;
        }
        let name = member.name.string().unwrap_or_default();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit());
        if !valid {
            return Err(ServiceError::invalid_input(format!(
                "Extension attribute '{name}' of event {index} is invalid: CloudEvents attribute \
                 names have only lowercase letters and digits."
            )));
        }
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

/// The members either schema reads, each with a slot in [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Id,
    Subject,
    EventType,
    EventTime,
    DataVersion,
    Topic,
    MetadataVersion,
    SpecVersion,
    Source,
    Type,
    Time,
    DataContentType,
    DataSchema,
    Data,
    DataBase64,
}

const SLOTS: usize = Slot::DataBase64 as usize + 1;

impl Slot {
    fn of(name: &[u8]) -> Option<Slot> {
        // One candidate by length and a telling byte, then one comparison.
        let candidate = match (name.len(), name.get(4)) {
            (2, _) => Slot::Id,
            (4, _) => match name[1] {
                b'y' => Slot::Type,
                b'i' => Slot::Time,
                _ => Slot::Data,
            },
            (5, _) => Slot::Topic,
            (6, _) => Slot::Source,
            (7, _) => Slot::Subject,
            (9, _) if name[6] == b'y' => Slot::EventType,
            (9, _) => Slot::EventTime,
            (10, _) => Slot::DataSchema,
            (11, Some(b'V')) => Slot::DataVersion,
            (11, Some(b'_')) => Slot::DataBase64,
            (11, _) => Slot::SpecVersion,
            (15, Some(b'd')) => Slot::MetadataVersion,
            (15, _) => Slot::DataContentType,
            _ => return None,
        };
        same_bytes(name, candidate.name().as_bytes()).then_some(candidate)
    }

    fn name(self) -> &'static str {
        match self {
            Slot::Id => "id",
            Slot::Subject => "subject",
            Slot::EventType => "eventType",
            Slot::EventTime => "eventTime",
            Slot::DataVersion => "dataVersion",
            Slot::Topic => "topic",
            Slot::MetadataVersion => "metadataVersion",
            Slot::SpecVersion => "specversion",
            Slot::Source => "source",
            Slot::Type => "type",
            Slot::Time => "time",
            Slot::DataContentType => "datacontenttype",
            Slot::DataSchema => "dataschema",
            Slot::Data => "data",
            Slot::DataBase64 => "data_base64",
        }
    }
}

/// Whether `name` equals `known` (2 to 16 bytes): two overlapping word comparisons instead of
/// a call to `memcmp`.
#[inline(always)]
fn same_bytes(name: &[u8], known: &[u8]) -> bool {
    fn word<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
        bytes[at..at + N].try_into().expect("N bytes")
    }
    let length = known.len();
    if name.len() != length {
        return false;
    }
    match length {
        8.. => {
            word::<8>(name, 0) == word::<8>(known, 0)
                && word::<8>(name, length - 8) == word::<8>(known, length - 8)
        }
        4.. => {
            word::<4>(name, 0) == word::<4>(known, 0)
                && word::<4>(name, length - 4) == word::<4>(known, length - 4)
        }
        _ => name == known,
    }
}

/// Marks a slot whose member is absent.
const ABSENT: u32 = u32::MAX;

/// One event's members, those of interest found by slot in one pass.
struct Event<'m, 'a> {
    index: usize,
    members: &'m [Member<'a>],
    /// For each slot, the index of its member in `members`, or [`ABSENT`].
    slots: [u32; SLOTS],
}

impl<'m, 'a> Event<'m, 'a> {
    fn new(index: usize, members: &'m [Member<'a>]) -> Self {
        let mut slots = [ABSENT; SLOTS];
        for (at, member) in members.iter().enumerate() {
            let text = member.name.text.as_bytes();
            let found = if member.name.escaped {
                member
                    .name
                    .string()
                    .and_then(|name| Slot::of(name.as_bytes()))
            } else {
                Slot::of(&text[1..text.len() - 1])
            };
            // The last of repeated members wins, as in the service's JSON reader.
            if let Some(found) = found {
                slots[found as usize] = at as u32;
            }
        }
        Self {
            index,
            members,
            slots,
        }
    }

    /// The value of the member in `slot`; JSON `null` counts as absent.
    fn get(&self, slot: Slot) -> Option<RawJson<'a>> {
        self.members
            .get(self.slots[slot as usize] as usize)
            .map(|member| member.value)
            .filter(|value| value.kind != Kind::Null)
    }

    /// A 400 naming the member when it is present and not a string (nothing is decoded).
    fn expect_string(&self, slot: Slot) -> Result<(), ServiceError> {
        match self.get(slot) {
            Some(value) if value.kind != Kind::String => Err(ServiceError::invalid_input(format!(
                "Property '{}' of event {} must be a string.",
                slot.name(),
                self.index
            ))),
            _ => Ok(()),
        }
    }

    /// The decoded string value of the member, or a 400 naming it when it is not a string.
    fn string(&self, slot: Slot) -> Result<Option<Cow<'a, str>>, ServiceError> {
        let Some(value) = self.get(slot) else {
            return Ok(None);
        };
        match value.string() {
            Some(text) => Ok(Some(text)),
            None => Err(ServiceError::invalid_input(format!(
                "Property '{}' of event {} must be a string.",
                slot.name(),
                self.index
            ))),
        }
    }

    fn date_time(&self, slot: Slot) -> Result<(), ServiceError> {
        if let Some(value) = self.get(slot)
            && value.kind == Kind::String
            && !value.escaped
            && plainly_rfc3339(&value.text.as_bytes()[1..value.text.len() - 1])
        {
            return Ok(());
        }
        if let Some(value) = self.string(slot)?
            && !is_rfc3339(&value)
        {
            return Err(ServiceError::invalid_input(format!(
                "Property '{}' of event {} is not an RFC 3339 date-time: '{value}'.",
                slot.name(),
                self.index
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::json_scan::scan_array;

    fn check(schema: Schema, text: &str) -> Result<(), ServiceError> {
        let body = format!("[{text}]");
        let mut result = Ok(());
        scan_array(&body, |_, event, members| {
            result = check_event(schema, 3, event, members)
        })
        .unwrap();
        result
    }

    fn message(schema: Schema, text: &str) -> String {
        check(schema, text).unwrap_err().message
    }

    const GOOD_EVENT: &str = r#"{"id":"1","subject":"s","eventType":"t","eventTime":"2023-01-01T12:00:00.123456Z","dataVersion":"1.0","data":{"a":[1,2]}}"#;

    #[test]
    fn event_grid_events() {
        check(Schema::EventGrid, GOOD_EVENT).unwrap();
        // The Python SDK leaves out `data` when it is None; the service accepts that.
        check(Schema::EventGrid, r#"{"id":"1","subject":"s","eventType":"t","eventTime":"2026-11-26T16:37:22.70989Z","dataVersion":"1"}"#).unwrap();
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
        check(Schema::CloudEvents, r#"{"correlationid":"req-123","id":"3","source":"/u","data":{"x":3},"type":"t","time":"2023-01-01T12:00:00.000Z","specversion":"1.0","subject":"users/3"}"#).unwrap();
        check(Schema::CloudEvents, r#"{"id":"4","source":"/bin","data_base64":"AAFiaW5hcnk=","type":"blob.bytes","specversion":"1.0"}"#).unwrap();
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
        check(Schema::Custom, r#"{"customField":"x","anything":[1,2]}"#).unwrap();
        assert!(message(Schema::Custom, "\"text\"").contains("'CustomEventSchema'"));
    }

    #[test]
    fn members_are_found_by_exact_name() {
        let all = [
            Slot::Id,
            Slot::Subject,
            Slot::EventType,
            Slot::EventTime,
            Slot::DataVersion,
            Slot::Topic,
            Slot::MetadataVersion,
            Slot::SpecVersion,
            Slot::Source,
            Slot::Type,
            Slot::Time,
            Slot::DataContentType,
            Slot::DataSchema,
            Slot::Data,
            Slot::DataBase64,
        ];
        assert_eq!(all.len(), SLOTS);
        for slot in all {
            let name = slot.name();
            assert_eq!(Slot::of(name.as_bytes()), Some(slot), "{name}");
            assert_eq!(Slot::of(name.to_uppercase().as_bytes()), None, "{name}");
            let mut near = name.as_bytes().to_vec();
            near[name.len() - 1] ^= 1;
            assert_eq!(Slot::of(&near), None, "{name}");
        }
        for other in ["", "i", "ids", "eventtype", "datax", "metadataversion"] {
            assert_eq!(Slot::of(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn escaped_names_and_values_are_decoded() {
        check(Schema::EventGrid, r#"{"\u0069d":"a\"b","subject":"s","eventType":"t","eventTime":"2023-01-01T00:00:00\u005A"}"#).unwrap();
    }
}
