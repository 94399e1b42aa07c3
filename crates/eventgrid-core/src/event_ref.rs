//! [`EventGridEventRef`]: an Event Grid event made of borrowed parts, serialized straight into
//! a request body.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::Schema;
use crate::event::{DEFAULT_DATA_VERSION, Event, non_empty};

/// An Event Grid schema event made of borrowed parts, with the defaults of
/// [`EventGridEvent::new`](crate::EventGridEvent::new): a UUID v4 id, the current time and data
/// version `"v1"`. It writes the same JSON as the `EventGridEvent` with the same fields, but
/// serializes its data only when encoded, straight into the request body: no intermediate
/// buffer, no copy, and no allocation but the event time's text. For publishing one event at
/// a time at high rates (the async client's buffered publisher uses it).
///
/// Data that cannot be serialized is found when the event is encoded, as
/// [`Error::InvalidEvent`](crate::Error::InvalidEvent) naming the event.
///
/// ```
/// use eventgrid_core::{EventGridEventRef, Limits};
/// use eventgrid_core::frontend::{encode_all};
/// let data = serde_json::json!({"user_id": 123});
/// let event = EventGridEventRef::new("user.created", "users/123", &data);
/// let batches = encode_all([event], Limits::default())?;
/// let sent: serde_json::Value = serde_json::from_slice(&batches[0].body).unwrap();
/// assert_eq!(sent[0]["id"], event.id().to_string());
/// assert_eq!((&sent[0]["data"]["user_id"], &sent[0]["dataVersion"]), (&123.into(), &"v1".into()));
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventGridEventRef<'a, D: ?Sized> {
    // The same members in the same order as `EventGridEvent`'s.
    id: Uuid,
    subject: &'a str,
    data: &'a D,
    event_type: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    event_time: OffsetDateTime,
    data_version: &'a str,
}

impl<D: ?Sized> Clone for EventGridEventRef<'_, D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D: ?Sized> Copy for EventGridEventRef<'_, D> {}

impl<'a, D: Serialize + ?Sized> EventGridEventRef<'a, D> {
    /// An event of `event_type` about `subject` carrying `data`, with a new UUID v4 id, the
    /// current time and data version `"v1"`.
    pub fn new(event_type: &'a str, subject: &'a str, data: &'a D) -> Self {
        Self {
            id: Uuid::new_v4(),
            subject,
            data,
            event_type,
            event_time: OffsetDateTime::now_utc(),
            data_version: DEFAULT_DATA_VERSION,
        }
    }

    /// The event's id.
    pub fn id(&self) -> Uuid {
        self.id
    }
}

impl<D: Serialize + ?Sized> Event for EventGridEventRef<'_, D> {
    const SCHEMA: Schema = Schema::EventGrid;

    fn check(&self) -> Result<(), String> {
        non_empty("eventType", self.event_type)?;
        non_empty("subject", self.subject)
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        crate::json_writer::write_json(out, self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::frontend::encode_all;
    use crate::{Error, EventGridEvent, Limits};

    #[derive(Serialize)]
    struct Order {
        id: u64,
        notes: &'static str,
    }

    #[test]
    fn writes_the_same_bytes_as_the_owned_event() {
        let data = Order {
            id: 7,
            notes: "quote \" and ünïcode",
        };
        let borrowed = EventGridEventRef::new("order.placed", "orders/7", &data);
        let owned = EventGridEvent::new("order.placed", "orders/7", &data)
            .unwrap()
            .with_id(borrowed.id().to_string())
            .with_event_time(borrowed.event_time);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        borrowed.write_json(&mut a).unwrap();
        owned.write_json(&mut b).unwrap();
        assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        assert_eq!(borrowed.id().get_version_num(), 4);
    }

    #[test]
    fn empty_fields_and_unserializable_data_are_refused_with_the_index() {
        let data = json!(1);
        let events = [
            EventGridEventRef::new("t", "s", &data),
            EventGridEventRef::new("", "s", &data),
        ];
        let error = encode_all(events, Limits::default()).unwrap_err();
        assert_eq!(error.to_string(), "event 1: `eventType` is empty");

        let keys = std::collections::HashMap::from([((1, 2), 3)]);
        let error =
            encode_all([EventGridEventRef::new("t", "s", &keys)], Limits::default()).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidEvent { index: 0, reason } if reason.starts_with("could not serialize")),
            "{error}"
        );
    }
}
