//! [`TypedEventGridEvent`]: an owned Event Grid event that keeps the caller's data as it is
//! and serializes it once, straight into the request body.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::Schema;
use crate::event::{
    DEFAULT_DATA_VERSION, Event, in_utc_if_possible, non_empty, representable_in_utc,
};

/// An Event Grid schema event that owns its data as the caller's own type `D` and serializes
/// it only when the event is encoded, straight into the request body: one serialization pass,
/// where [`EventGridEvent::new`](crate::EventGridEvent::new) serializes the data when the event
/// is made and the encoder copies those bytes again. It has the same defaults (a UUID v4 id,
/// the current time, data version `"v1"`) and builder methods, and writes the same JSON as the
/// `EventGridEvent` with the same fields. Use it to publish many events made on the fly (a
/// lazy iterator given to `send_stream`, say).
///
/// Data that cannot be serialized is found when the event is encoded, as
/// [`Error::InvalidEvent`](crate::Error::InvalidEvent) naming the event.
///
/// ```
/// use eventgrid_core::{Limits, TypedEventGridEvent};
/// use eventgrid_core::frontend::encode_all;
/// #[derive(serde::Serialize)]
/// struct Order { order_id: u64 }
/// let events = (0..3).map(|n| {
///     TypedEventGridEvent::new("order.placed", format!("orders/{n}"), Order { order_id: n })
/// });
/// let batches = encode_all(events, Limits::default())?;
/// let sent: serde_json::Value = serde_json::from_slice(&batches[0].body).unwrap();
/// assert_eq!(sent[2]["data"]["order_id"], 2);
/// assert_eq!(sent[2]["subject"], "orders/2");
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypedEventGridEvent<D> {
    // The same members in the same order as `EventGridEvent`'s.
    id: EventId,
    subject: String,
    data: D,
    event_type: Cow<'static, str>,
    #[serde(with = "time::serde::rfc3339")]
    event_time: OffsetDateTime,
    data_version: Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
}

/// A generated id stays a `Uuid` (written without an intermediate string); a given one is
/// kept as given.
#[derive(Debug, Clone)]
enum EventId {
    Generated(Uuid),
    Given(String),
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EventId::Generated(uuid) => {
                let mut text = Uuid::encode_buffer();
                serializer.serialize_str(uuid.hyphenated().encode_lower(&mut text))
            }
            EventId::Given(id) => serializer.serialize_str(id),
        }
    }
}

impl<D> TypedEventGridEvent<D> {
    /// An event of `event_type` about `subject` carrying `data`, with a new UUID v4 id, the
    /// current time and data version `"v1"`. Nothing is serialized yet.
    pub fn new(
        event_type: impl Into<Cow<'static, str>>,
        subject: impl Into<String>,
        data: D,
    ) -> Self {
        Self {
            id: EventId::Generated(Uuid::new_v4()),
            subject: subject.into(),
            data,
            event_type: event_type.into(),
            event_time: OffsetDateTime::now_utc(),
            data_version: Cow::Borrowed(DEFAULT_DATA_VERSION),
            topic: None,
        }
    }

    /// Sets the id (keep it stable across retries of the same event: the service and
    /// subscribers use it to recognise duplicates).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = EventId::Given(id.into());
        self
    }

    /// Sets the event time; it is sent in UTC. A time that has no UTC equivalent is kept as
    /// given and refused when the event is published.
    pub fn with_event_time(mut self, at: OffsetDateTime) -> Self {
        self.event_time = in_utc_if_possible(at);
        self
    }

    /// Sets the data version.
    pub fn with_data_version(mut self, version: impl Into<Cow<'static, str>>) -> Self {
        self.data_version = version.into();
        self
    }

    /// Sets the domain topic this event goes to, when publishing to an Event Grid domain.
    pub fn with_topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// The event's id.
    pub fn id(&self) -> Cow<'_, str> {
        match &self.id {
            EventId::Generated(uuid) => Cow::Owned(uuid.to_string()),
            EventId::Given(id) => Cow::Borrowed(id),
        }
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The event type.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The event time, in UTC (unless it has no UTC equivalent).
    pub fn event_time(&self) -> OffsetDateTime {
        self.event_time
    }

    /// The data version.
    pub fn data_version(&self) -> &str {
        &self.data_version
    }

    /// The domain topic, if set.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// The data, not yet serialized.
    pub fn data(&self) -> &D {
        &self.data
    }
}

impl<D: Serialize> Event for TypedEventGridEvent<D> {
    const SCHEMA: Schema = Schema::EventGrid;

    fn check(&self) -> Result<(), String> {
        if let EventId::Given(id) = &self.id {
            non_empty("id", id)?;
        }
        non_empty("eventType", &self.event_type)?;
        non_empty("subject", &self.subject)?;
        non_empty("dataVersion", &self.data_version)?;
        representable_in_utc("eventTime", self.event_time)
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        crate::json_writer::write_json(out, self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::frontend::encode_all;
    use crate::{Error, EventGridEvent, Limits};

    #[derive(Serialize)]
    struct Order {
        id: u64,
        notes: &'static str,
    }

    fn json_of(event: &impl Event) -> String {
        let mut out = Vec::new();
        event.write_json(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_the_same_bytes_as_the_event_serialized_when_made() {
        let at = time::macros::datetime!(2026-01-02 03:04:05.678 +01:00);
        let data = Order {
            id: 7,
            notes: "quote \" tab \t and ünïcode \u{1}",
        };
        let typed = TypedEventGridEvent::new("order.placed", "orders/7", &data)
            .with_event_time(at)
            .with_data_version("2.0")
            .with_topic("tenant-a");
        let owned = EventGridEvent::new("order.placed", "orders/7", &data)
            .unwrap()
            .with_id(typed.id())
            .with_event_time(at)
            .with_data_version("2.0")
            .with_topic("tenant-a");
        assert_eq!(json_of(&typed), json_of(&owned));
        assert_eq!(typed.id().len(), 36);

        let given = TypedEventGridEvent::new("t", "s", ()).with_id("order-7");
        let owned = EventGridEvent::new("t", "s", ())
            .unwrap()
            .with_id("order-7")
            .with_event_time(given.event_time());
        assert_eq!(json_of(&given), json_of(&owned));
        assert!(!json_of(&given).contains("topic"));
    }

    #[test]
    fn generated_ids_are_distinct_uuids_v4() {
        let a = TypedEventGridEvent::new("t", "s", 1);
        let b = TypedEventGridEvent::new("t", "s", 1);
        assert_ne!(a.id(), b.id());
        assert_eq!(Uuid::parse_str(&a.id()).unwrap().get_version_num(), 4);
        let written: serde_json::Value = serde_json::from_str(&json_of(&a)).unwrap();
        assert_eq!(written["id"], a.id().as_ref());
    }

    #[test]
    fn invalid_fields_and_unserializable_data_are_refused_with_the_index() {
        let events = [
            TypedEventGridEvent::new("t", "s", json!(1)),
            TypedEventGridEvent::new("t", "s", json!(2)).with_id(" "),
        ];
        let error = encode_all(events, Limits::default()).unwrap_err();
        assert_eq!(error.to_string(), "event 1: `id` is empty");

        let late = time::macros::datetime!(9999-12-31 23:00:00 -05:00);
        let event = TypedEventGridEvent::new("t", "s", 1).with_event_time(late);
        assert!(event.check().unwrap_err().contains("no UTC equivalent"));

        let keys = HashMap::from([((1, 2), 3)]);
        let error = encode_all(
            [TypedEventGridEvent::new("t", "s", keys)],
            Limits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, Error::InvalidEvent { index: 0, reason } if reason.starts_with("could not serialize")),
            "{error}"
        );
    }
}
