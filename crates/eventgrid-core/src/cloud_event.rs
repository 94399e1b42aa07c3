//! CloudEvents 1.0 in structured JSON, as Event Grid accepts them.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::config::Schema;
use crate::error::{Error, Result};
use crate::event::{Event, in_utc_if_possible, non_empty, representable_in_utc};

/// Attribute names the CloudEvents spec reserves; extensions may not use them.
pub const RESERVED_ATTRIBUTES: &[&str] = &[
    "id",
    "source",
    "specversion",
    "type",
    "datacontenttype",
    "dataschema",
    "subject",
    "time",
    "data",
    "data_base64",
];

/// The payload of a [`CloudEvent`]: JSON, bytes (sent as `data_base64`) or nothing.
#[derive(Debug, Clone, Default)]
pub enum CloudEventData {
    /// No data.
    #[default]
    None,
    /// JSON data, already serialized.
    Json(Box<RawValue>),
    /// Binary data, sent base64-encoded in `data_base64`.
    Binary(Vec<u8>),
}

/// A CloudEvents 1.0 event. New events get a UUID v4 id and the current time.
///
/// ```
/// use eventgrid_core::CloudEvent;
/// let event = CloudEvent::new("/users/service", "user.created", serde_json::json!({"user_id": 3}))?
///     .with_subject("users/3")
///     .with_extension("correlationid", "req-123");
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["specversion"], "1.0");
/// assert_eq!(json["correlationid"], "req-123");
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CloudEvent {
    id: String,
    source: String,
    event_type: String,
    subject: Option<String>,
    time: Option<OffsetDateTime>,
    data: CloudEventData,
    data_content_type: Option<String>,
    data_schema: Option<String>,
    extensions: BTreeMap<String, Value>,
}

impl CloudEvent {
    /// An event of `event_type` from `source` with JSON `data`.
    pub fn new(
        source: impl Into<String>,
        event_type: impl Into<String>,
        data: impl Serialize,
    ) -> Result<Self> {
        let data = serde_json::value::to_raw_value(&data).map_err(Error::from)?;
        Ok(Self::without_data(source, event_type).with_data(CloudEventData::Json(data)))
    }

    /// An event of `event_type` from `source` with no data.
    pub fn without_data(source: impl Into<String>, event_type: impl Into<String>) -> Self {
        Self {
            id: Uuid::new_v4().to_string(),
            source: source.into(),
            event_type: event_type.into(),
            subject: None,
            time: Some(OffsetDateTime::now_utc()),
            data: CloudEventData::None,
            data_content_type: None,
            data_schema: None,
            extensions: BTreeMap::new(),
        }
    }

    /// An event carrying `bytes` (sent as `data_base64`) of `content_type`.
    pub fn binary(
        source: impl Into<String>,
        event_type: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
        content_type: impl Into<String>,
    ) -> Self {
        Self::without_data(source, event_type)
            .with_data(CloudEventData::Binary(bytes.into()))
            .with_data_content_type(content_type)
    }

    /// Replaces the data.
    pub fn with_data(mut self, data: CloudEventData) -> Self {
        self.data = data;
        self
    }

    /// Sets the id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the subject.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the time (sent in UTC). A time with no UTC equivalent (after year 9999 once its
    /// offset is removed) is kept as given and refused when the event is published.
    pub fn with_time(mut self, at: OffsetDateTime) -> Self {
        self.time = Some(in_utc_if_possible(at));
        self
    }

    /// Sets `datacontenttype`.
    pub fn with_data_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.data_content_type = Some(content_type.into());
        self
    }

    /// Sets `dataschema`.
    pub fn with_data_schema(mut self, schema: impl Into<String>) -> Self {
        self.data_schema = Some(schema.into());
        self
    }

    /// Adds an extension attribute. Names must be lowercase letters and digits and not
    /// reserved; values strings, integers or booleans. Bad ones are reported, with the event's
    /// index, when the event is published.
    pub fn with_extension(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extensions.insert(name.into(), value.into());
        self
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The type.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The subject, if set.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// The time, if set.
    pub fn time(&self) -> Option<OffsetDateTime> {
        self.time
    }

    /// The data.
    pub fn data(&self) -> &CloudEventData {
        &self.data
    }

    /// The extension attributes.
    pub fn extensions(&self) -> &BTreeMap<String, Value> {
        &self.extensions
    }
}

/// Checks an extension attribute's name against the CloudEvents naming rules.
pub fn check_extension_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(format!(
            "extension attribute `{name}`: names must be lowercase letters and digits"
        ));
    }
    if RESERVED_ATTRIBUTES.contains(&name) {
        return Err(format!("extension attribute `{name}` uses a reserved name"));
    }
    Ok(())
}

impl Event for CloudEvent {
    const SCHEMA: Schema = Schema::CloudEvents;

    fn check(&self) -> Result<(), String> {
        non_empty("id", &self.id)?;
        non_empty("source", &self.source)?;
        non_empty("type", &self.event_type)?;
        if let Some(time) = self.time {
            representable_in_utc("time", time)?;
        }
        for (name, value) in &self.extensions {
            check_extension_name(name)?;
            if !(value.is_string() || value.is_i64() || value.is_u64() || value.is_boolean()) {
                return Err(format!(
                    "extension attribute `{name}`: values must be strings, integers or booleans"
                ));
            }
        }
        Ok(())
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, self)
    }
}

impl Serialize for CloudEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("specversion", "1.0")?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("type", &self.event_type)?;
        if let Some(subject) = &self.subject {
            map.serialize_entry("subject", subject)?;
        }
        if let Some(time) = &self.time {
            let text = time.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
            map.serialize_entry("time", &text)?;
        }
        if let Some(content_type) = &self.data_content_type {
            map.serialize_entry("datacontenttype", content_type)?;
        }
        if let Some(schema) = &self.data_schema {
            map.serialize_entry("dataschema", schema)?;
        }
        match &self.data {
            CloudEventData::None => {}
            CloudEventData::Json(raw) => map.serialize_entry("data", raw)?,
            CloudEventData::Binary(bytes) => {
                map.serialize_entry("data_base64", &STANDARD.encode(bytes))?
            }
        }
        for (name, value) in &self.extensions {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for CloudEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        // Raw members, so that `data` stays the publisher's exact text: through a `Value` it
        // would lose integers past 64 bits and the digits of decimals past `f64`'s.
        let mut map = BTreeMap::<String, Box<RawValue>>::deserialize(deserializer)?;
        let string = |name: &str, raw: &RawValue| -> Result<String, D::Error> {
            serde_json::from_str(raw.get())
                .map_err(|_| D::Error::custom(format!("`{name}` must be a string")))
        };
        let mut text = |name: &str, required: bool| -> Result<Option<String>, D::Error> {
            match map.remove(name) {
                Some(raw) => string(name, &raw).map(Some),
                None if required => Err(D::Error::custom(format!("missing `{name}`"))),
                None => Ok(None),
            }
        };
        let spec_version = text("specversion", true)?.unwrap_or_default();
        if spec_version != "1.0" {
            return Err(D::Error::custom(format!(
                "specversion must be \"1.0\", not {spec_version:?}"
            )));
        }
        let id = text("id", true)?.unwrap_or_default();
        let source = text("source", true)?.unwrap_or_default();
        let event_type = text("type", true)?.unwrap_or_default();
        let subject = text("subject", false)?;
        let data_content_type = text("datacontenttype", false)?;
        let data_schema = text("dataschema", false)?;
        let time = text("time", false)?
            .map(|t| OffsetDateTime::parse(&t, &Rfc3339))
            .transpose()
            .map_err(|e| D::Error::custom(format!("`time` is not RFC 3339: {e}")))?;
        let data = match (map.remove("data"), map.remove("data_base64")) {
            (Some(_), Some(_)) => {
                return Err(D::Error::custom(
                    "an event may carry `data` or `data_base64`, not both",
                ));
            }
            (Some(json), None) => CloudEventData::Json(json),
            (None, Some(b64)) => CloudEventData::Binary(
                STANDARD
                    .decode(string("data_base64", &b64)?)
                    .map_err(|e| D::Error::custom(format!("`data_base64`: {e}")))?,
            ),
            (None, None) => CloudEventData::None,
        };
        let extensions = map
            .into_iter()
            .map(|(name, raw)| {
                Ok((
                    name,
                    serde_json::from_str(raw.get()).map_err(D::Error::custom)?,
                ))
            })
            .collect::<Result<_, D::Error>>()?;
        Ok(Self {
            id,
            source,
            event_type,
            subject,
            time,
            data,
            data_content_type,
            data_schema,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn binary_data_goes_to_data_base64() {
        let event = CloudEvent::binary(
            "/bin",
            "blob.bytes",
            b"\x00\x01binary".to_vec(),
            "application/octet-stream",
        );
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["data_base64"], "AAFiaW5hcnk=");
        assert!(json.get("data").is_none());
    }

    #[test]
    fn both_data_and_data_base64_are_refused() {
        let text = r#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{},"data_base64":"AA=="}"#;
        let err = serde_json::from_str::<CloudEvent>(text).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
    }

    #[test]
    fn extension_names_are_checked() {
        let bad = CloudEvent::without_data("/s", "t").with_extension("Correlation-Id", "x");
        assert!(bad.check().unwrap_err().contains("lowercase"));
        let reserved = CloudEvent::without_data("/s", "t").with_extension("data", "x");
        assert!(reserved.check().unwrap_err().contains("reserved"));
        let nested = CloudEvent::without_data("/s", "t").with_extension("ok", json!({"a": 1}));
        assert!(nested.check().is_err());
        let good = CloudEvent::without_data("/s", "t").with_extension("traceparent1", 5);
        assert!(good.check().is_ok());
    }

    #[test]
    fn time_without_a_utc_equivalent_is_refused_not_a_panic() {
        let at = time::macros::datetime!(9999-12-31 20:00:00 -08:00);
        let event = CloudEvent::without_data("/s", "t").with_time(at);
        let reason = event.check().unwrap_err();
        assert!(reason.starts_with("`time` 9999-12-31"), "{reason}");
        let fine = CloudEvent::without_data("/s", "t")
            .with_time(time::macros::datetime!(2030-01-01 01:00:00 +01:00));
        assert_eq!(
            fine.time(),
            Some(time::macros::datetime!(2030-01-01 00:00:00 UTC))
        );
        assert!(fine.check().is_ok());
    }

    #[test]
    fn received_data_keeps_the_publishers_exact_text() {
        // Python's json and the service keep integers of any size; an f64 on the way would
        // turn this one into 1.2345678901234568e29.
        let text = r#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"z": 1, "big": 123456789012345678901234567890, "price": 0.10000000000000000001},"n":7}"#;
        let event: CloudEvent = serde_json::from_str(text).unwrap();
        let CloudEventData::Json(data) = event.data() else {
            panic!("JSON data expected, got {:?}", event.data());
        };
        assert_eq!(
            data.get(),
            r#"{"z": 1, "big": 123456789012345678901234567890, "price": 0.10000000000000000001}"#
        );
        assert_eq!(event.extensions()["n"], 7);
        let sent = serde_json::to_string(&event).unwrap();
        assert!(
            sent.contains(r#""data":{"z": 1, "big": 123456789012345678901234567890,"#),
            "{sent}"
        );
        let not_text = r#"{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":5}"#;
        let err = serde_json::from_str::<CloudEvent>(not_text).unwrap_err();
        assert!(
            err.to_string().contains("`subject` must be a string"),
            "{err}"
        );
        let not_base64 =
            r#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":5}"#;
        let err = serde_json::from_str::<CloudEvent>(not_base64).unwrap_err();
        assert!(
            err.to_string().contains("`data_base64` must be a string"),
            "{err}"
        );
    }

    #[test]
    fn round_trips_through_json() {
        let event = CloudEvent::new("/s", "t", json!({"k": [1, 2]}))
            .unwrap()
            .with_subject("sub")
            .with_extension("correlationid", "req-1");
        let text = serde_json::to_string(&event).unwrap();
        let back: CloudEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
