//! Reading a received event's data as a type of the subscriber's, and seeing events of
//! either schema through one view.

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::cloud_event::{CloudEvent, CloudEventData};
use crate::consumer::error::DataError;
use crate::custom_event::CustomEvent;
use crate::event::EventGridEvent;

fn invalid<T>(event_type: &str, error: serde_json::Error) -> DataError {
    DataError::Invalid {
        event_type: event_type.to_owned(),
        target: std::any::type_name::<T>(),
        reason: error.to_string(),
    }
}

/// An event without data reads as `null` when `T` accepts it (an `Option`, `()`), and is
/// [`DataError::Missing`] otherwise.
fn absent<T: DeserializeOwned>(event_type: &str) -> Result<T, DataError> {
    serde_json::from_value(serde_json::Value::Null).map_err(|_| DataError::Missing {
        event_type: event_type.to_owned(),
    })
}

impl EventGridEvent {
    /// The data, read as `T`.
    ///
    /// ```
    /// use eventgrid_core::EventGridEvent;
    /// #[derive(serde::Deserialize)]
    /// struct Login { user_id: u64 }
    /// let event = EventGridEvent::new("user.login", "users/7", serde_json::json!({"user_id": 7}))?;
    /// assert_eq!(event.data_as::<Login>()?.user_id, 7);
    /// assert!(event.data_as::<Vec<u8>>().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, DataError> {
        match self.data() {
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|error| invalid::<T>(self.event_type(), error)),
            None => absent(self.event_type()),
        }
    }
}

impl CloudEvent {
    /// The data, read as `T`: JSON data (`data`) as it is, bytes (`data_base64`, or a
    /// binary-mode body that was not declared JSON) read as JSON text.
    ///
    /// ```
    /// use eventgrid_core::CloudEvent;
    /// #[derive(serde::Deserialize)]
    /// struct Order { total: u32 }
    /// let event = CloudEvent::new("/orders", "order.placed", serde_json::json!({"total": 3}))?;
    /// assert_eq!(event.data_as::<Order>()?.total, 3);
    /// let bytes = CloudEvent::binary("/orders", "order.placed", br#"{"total":4}"#.to_vec(), "application/octet-stream");
    /// assert_eq!(bytes.data_as::<Order>()?.total, 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, DataError> {
        match self.data() {
            CloudEventData::Json(raw) => serde_json::from_str(raw.get())
                .map_err(|error| invalid::<T>(self.event_type(), error)),
            CloudEventData::Binary(bytes) => serde_json::from_slice(bytes)
                .map_err(|error| invalid::<T>(self.event_type(), error)),
            CloudEventData::None => absent(self.event_type()),
        }
    }
}

/// One received event of either schema, seen through what both have.
///
/// ```
/// use eventgrid_core::{CloudEvent, EventGridEvent};
/// use eventgrid_core::consumer::ReceivedEvent;
/// let grid = EventGridEvent::new("order.placed", "orders/1", serde_json::json!({"total": 3}))?;
/// let cloud = CloudEvent::new("/orders", "order.placed", serde_json::json!({"total": 3}))?;
/// for event in [ReceivedEvent::from(&grid), ReceivedEvent::from(&cloud)] {
///     assert_eq!(event.event_type(), "order.placed");
///     assert_eq!(event.data_as::<serde_json::Value>()?["total"], 3);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ReceivedEvent<'a> {
    /// An Event Grid schema event.
    EventGrid(&'a EventGridEvent),
    /// A CloudEvent.
    CloudEvent(&'a CloudEvent),
    /// A custom-schema event: it has no id, type, subject, source or time of its own (they
    /// read as empty or `None`), and its data is the whole object.
    Custom(&'a CustomEvent),
}

impl<'a> From<&'a CustomEvent> for ReceivedEvent<'a> {
    fn from(event: &'a CustomEvent) -> Self {
        Self::Custom(event)
    }
}

impl<'a> From<&'a EventGridEvent> for ReceivedEvent<'a> {
    fn from(event: &'a EventGridEvent) -> Self {
        Self::EventGrid(event)
    }
}

impl<'a> From<&'a CloudEvent> for ReceivedEvent<'a> {
    fn from(event: &'a CloudEvent) -> Self {
        Self::CloudEvent(event)
    }
}

impl<'a> ReceivedEvent<'a> {
    /// The id (empty for a custom-schema event).
    pub fn id(&self) -> &'a str {
        match self {
            Self::EventGrid(event) => event.id(),
            Self::CloudEvent(event) => event.id(),
            Self::Custom(_) => "",
        }
    }

    /// `eventType` or `type` (empty for a custom-schema event).
    pub fn event_type(&self) -> &'a str {
        match self {
            Self::EventGrid(event) => event.event_type(),
            Self::CloudEvent(event) => event.event_type(),
            Self::Custom(_) => "",
        }
    }

    /// The subject (always present in the Event Grid schema, where it may be empty).
    pub fn subject(&self) -> Option<&'a str> {
        match self {
            Self::EventGrid(event) => Some(event.subject()),
            Self::CloudEvent(event) => event.subject(),
            Self::Custom(_) => None,
        }
    }

    /// Where the event comes from: `topic` (Event Grid schema) or `source` (CloudEvents).
    pub fn source(&self) -> Option<&'a str> {
        match self {
            Self::EventGrid(event) => event.topic(),
            Self::CloudEvent(event) => Some(event.source()),
            Self::Custom(_) => None,
        }
    }

    /// `eventTime` or `time`.
    pub fn time(&self) -> Option<OffsetDateTime> {
        match self {
            Self::EventGrid(event) => Some(event.event_time()),
            Self::CloudEvent(event) => event.time(),
            Self::Custom(_) => None,
        }
    }

    /// The data, read as `T` (see [`EventGridEvent::data_as`] and [`CloudEvent::data_as`]);
    /// a custom-schema event's data is the whole event.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, DataError> {
        match self {
            Self::EventGrid(event) => event.data_as(),
            Self::CloudEvent(event) => event.data_as(),
            Self::Custom(event) => serde_json::from_str(event.json().get())
                .map_err(|error| invalid::<T>("(custom schema)", error)),
        }
    }

    /// The event as its schema's JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let json = match self {
            Self::EventGrid(event) => serde_json::to_value(event),
            Self::CloudEvent(event) => serde_json::to_value(event),
            Self::Custom(event) => serde_json::from_str(event.json().get()),
        };
        // Every kind serializes to objects of strings and JSON values, which cannot fail.
        json.unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn missing_data_reads_as_none_or_is_named() {
        let event = EventGridEvent::without_data("user.deleted", "users/1");
        assert_eq!(event.data_as::<Option<u8>>(), Ok(None));
        assert_eq!(
            event.data_as::<u8>(),
            Err(DataError::Missing {
                event_type: "user.deleted".into()
            })
        );
        let cloud = CloudEvent::without_data("/s", "ping");
        assert!(matches!(
            cloud.data_as::<String>(),
            Err(DataError::Missing { .. })
        ));
    }

    #[test]
    fn wrong_shapes_name_the_type_and_the_cause() {
        let event =
            EventGridEvent::new("order.placed", "orders/1", json!({"total": "three"})).unwrap();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)] // read by serde only
        struct Order {
            total: u32,
        }
        let error = event.data_as::<Order>().unwrap_err().to_string();
        assert!(
            error.starts_with("the data of event `order.placed` is not a "),
            "{error}"
        );
        assert!(
            error.contains("Order") && error.contains("invalid type"),
            "{error}"
        );
    }

    #[test]
    fn the_view_reads_both_schemas_alike() {
        let grid = EventGridEvent::new("t", "s", json!(1))
            .unwrap()
            .with_topic("/topics/x");
        let view = ReceivedEvent::from(&grid);
        assert_eq!(
            (view.source(), view.subject()),
            (Some("/topics/x"), Some("s"))
        );
        assert_eq!(view.to_json()["topic"], "/topics/x");
        let cloud = CloudEvent::new("/src", "t", json!(2)).unwrap();
        let view = ReceivedEvent::from(&cloud);
        assert_eq!((view.source(), view.subject()), (Some("/src"), None));
        assert_eq!(view.data_as::<u8>(), Ok(2));
        assert_eq!(view.to_json()["specversion"], "1.0");
    }
}
