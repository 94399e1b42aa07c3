//! The Event Grid event schema, and what every publishable event has in common.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::config::Schema;
use crate::error::{Error, Result};

/// The data version the seed library gives events that do not name one.
pub const DEFAULT_DATA_VERSION: &str = "v1";

/// An event that can be published: it knows its schema, checks its own required fields and
/// writes itself as JSON exactly once.
pub trait Event {
    /// The schema of this kind of event; a topic accepts one schema.
    const SCHEMA: Schema;

    /// Checks the fields the service requires; the error says which field and why.
    fn check(&self) -> Result<(), String>;

    /// Appends this event's JSON object to `out`.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
}

impl<E: Event> Event for &E {
    const SCHEMA: Schema = E::SCHEMA;

    fn check(&self) -> Result<(), String> {
        (**self).check()
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        (**self).write_json(out)
    }
}

/// An event in the Event Grid schema, with the seed library's defaults: a UUID v4 id, the
/// current UTC time, and data version `"v1"`.
///
/// The data is serialized once, when the event is made; publishing copies those bytes.
///
/// ```
/// use eventgrid_core::EventGridEvent;
/// use serde_json::json;
/// let event = EventGridEvent::new("user.created", "users/123", json!({"user_id": 123}))?
///     .with_data_version("2.0")
///     .with_event_time(time::macros::datetime!(2023-01-01 12:00:00 UTC));
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["eventTime"], "2023-01-01T12:00:00Z");
/// assert_eq!(json["dataVersion"], "2.0");
/// assert_eq!(json["data"]["user_id"], 123);
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventGridEvent {
    id: String,
    subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<Box<RawValue>>,
    event_type: String,
    #[serde(with = "time::serde::rfc3339")]
    event_time: OffsetDateTime,
    data_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    topic: Option<String>,
}

impl EventGridEvent {
    /// An event of `event_type` about `subject` carrying `data`, with a new UUID v4 id, the
    /// current time and data version `"v1"`.
    pub fn new(
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<Self> {
        let mut event = Self::without_data(event_type, subject);
        event.data = Some(serde_json::value::to_raw_value(&data).map_err(Error::from)?);
        Ok(event)
    }

    /// An event with no `data` member at all.
    pub fn without_data(event_type: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            id: Uuid::new_v4().to_string(),
            subject: subject.into(),
            data: None,
            event_type: event_type.into(),
            event_time: OffsetDateTime::now_utc(),
            data_version: DEFAULT_DATA_VERSION.to_owned(),
            topic: None,
        }
    }

    /// Sets the id (keep it stable across retries of the same event: the service and
    /// subscribers use it to recognise duplicates).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Sets the event time; it is sent in UTC. A time that has no UTC equivalent (after
    /// year 9999 once its offset is removed) is kept as given and refused when the event is
    /// published.
    pub fn with_event_time(mut self, at: OffsetDateTime) -> Self {
        self.event_time = in_utc_if_possible(at);
        self
    }

    /// Sets the data version.
    pub fn with_data_version(mut self, version: impl Into<String>) -> Self {
        self.data_version = version.into();
        self
    }

    /// Sets the domain topic this event goes to, when publishing to an Event Grid domain.
    pub fn with_topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// The event's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The event type.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The event time, in UTC (unless it has no UTC equivalent; see
    /// [`with_event_time`](Self::with_event_time)).
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

    /// The data as serialized JSON, if the event has data.
    pub fn data(&self) -> Option<&RawValue> {
        self.data.as_deref()
    }
}

impl Event for EventGridEvent {
    const SCHEMA: Schema = Schema::EventGrid;

    fn check(&self) -> Result<(), String> {
        non_empty("id", &self.id)?;
        non_empty("eventType", &self.event_type)?;
        non_empty("subject", &self.subject)?;
        non_empty("dataVersion", &self.data_version)?;
        representable_in_utc("eventTime", self.event_time)
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, self)
    }
}

/// `at` in UTC, or `at` unchanged when converting would leave the supported years
/// (±9999): a builder method cannot fail, so the event's `check` reports it instead.
pub(crate) fn in_utc_if_possible(at: OffsetDateTime) -> OffsetDateTime {
    at.checked_to_offset(UtcOffset::UTC).unwrap_or(at)
}

/// Refuses a time that cannot be expressed in UTC, such as `9999-12-31T23:00:00-05:00`.
pub(crate) fn representable_in_utc(field: &str, at: OffsetDateTime) -> Result<(), String> {
    match at.checked_to_offset(UtcOffset::UTC) {
        Some(_) => Ok(()),
        None => Err(format!(
            "`{field}` {at} has no UTC equivalent (years are limited to -9999..=9999)"
        )),
    }
}

pub(crate) fn non_empty(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("`{field}` is empty"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn seed_defaults() {
        let event = EventGridEvent::new("user.login", "users/1", json!({"user_id": 1})).unwrap();
        assert_eq!(event.data_version(), "v1");
        assert_eq!(Uuid::parse_str(event.id()).unwrap().get_version_num(), 4);
        let age = OffsetDateTime::now_utc() - event.event_time();
        assert!(age.whole_seconds() < 60);
        assert_eq!(event.event_time().offset(), UtcOffset::UTC);
    }

    #[test]
    fn event_time_is_utc_with_z() {
        let at = time::macros::datetime!(2023-01-01 14:00:00.123456 +02:00);
        let event = EventGridEvent::without_data("t", "s").with_event_time(at);
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["eventTime"], "2023-01-01T12:00:00.123456Z");
        assert!(json.get("data").is_none());
        assert!(json.get("topic").is_none());
    }

    #[test]
    fn event_time_without_a_utc_equivalent_is_refused_not_a_panic() {
        let at = time::macros::datetime!(9999-12-31 23:00:00 -05:00);
        let event = EventGridEvent::without_data("t", "s").with_event_time(at);
        let reason = event.check().unwrap_err();
        assert!(reason.starts_with("`eventTime` 9999-12-31"), "{reason}");
        assert!(reason.contains("no UTC equivalent"), "{reason}");
        let error = crate::frontend::encode_all([&event], crate::Limits::default()).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidEvent { index: 0, .. }),
            "{error}"
        );
        let last_utc = time::macros::datetime!(9999-12-31 23:00:00 +01:00);
        let event = EventGridEvent::without_data("t", "s").with_event_time(last_utc);
        assert_eq!(event.event_time().offset(), UtcOffset::UTC);
        assert!(event.check().is_ok());
    }

    #[test]
    fn domain_topic_is_written() {
        let event = EventGridEvent::without_data("t", "s").with_topic("tenant-a");
        assert_eq!(serde_json::to_value(&event).unwrap()["topic"], "tenant-a");
    }

    #[test]
    fn required_fields_are_checked() {
        let event = EventGridEvent::without_data("", "s");
        assert_eq!(event.check().unwrap_err(), "`eventType` is empty");
        let event = EventGridEvent::without_data("t", " ");
        assert_eq!(event.check().unwrap_err(), "`subject` is empty");
    }
}
