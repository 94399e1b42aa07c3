//! The `aeg-*` headers Event Grid puts on each push delivery.

use std::fmt;

use http::HeaderMap;

/// `aeg-event-type`: why the request was sent.
pub const AEG_EVENT_TYPE: &str = "aeg-event-type";
/// `aeg-subscription-name`: the event subscription delivering (upper case in the service's
/// deliveries).
pub const AEG_SUBSCRIPTION_NAME: &str = "aeg-subscription-name";
/// `aeg-delivery-count`: the attempt number of this delivery.
pub const AEG_DELIVERY_COUNT: &str = "aeg-delivery-count";
/// `aeg-metadata-version`: the metadata version of the events (`"1"`).
pub const AEG_METADATA_VERSION: &str = "aeg-metadata-version";
/// `aeg-data-version`: the data version of the events (Event Grid schema only).
pub const AEG_DATA_VERSION: &str = "aeg-data-version";
/// `aeg-output-event-id`: the id of the delivered event.
pub const AEG_OUTPUT_EVENT_ID: &str = "aeg-output-event-id";

/// The value of `aeg-event-type`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AegEventType {
    /// Events published to the topic.
    Notification,
    /// The validation handshake of a new Event Grid schema subscription.
    SubscriptionValidation,
    /// The subscription was deleted; the body holds a
    /// `Microsoft.EventGrid.SubscriptionDeletedEvent`.
    SubscriptionDeletion,
    /// A value this library does not know.
    Other(String),
}

impl AegEventType {
    /// Reads a header value; the service's values compare ignoring ASCII case.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        [
            ("Notification", Self::Notification),
            ("SubscriptionValidation", Self::SubscriptionValidation),
            ("SubscriptionDeletion", Self::SubscriptionDeletion),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
        .map_or_else(|| Self::Other(value.to_owned()), |(_, kind)| kind)
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Notification => "Notification",
            Self::SubscriptionValidation => "SubscriptionValidation",
            Self::SubscriptionDeletion => "SubscriptionDeletion",
            Self::Other(value) => value,
        }
    }
}

impl fmt::Display for AegEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `aeg-*` headers of a delivery, each `None` when absent (a delivery relayed by another
/// sender may have none of them).
///
/// ```
/// use eventgrid_core::consumer::{AegEventType, DeliveryHeaders};
/// let mut headers = http::HeaderMap::new();
/// headers.insert("aeg-event-type", "Notification".parse().unwrap());
/// headers.insert("aeg-subscription-name", "ORDERS-SUB".parse().unwrap());
/// headers.insert("aeg-delivery-count", "2".parse().unwrap());
/// let read = DeliveryHeaders::from_headers(&headers);
/// assert_eq!(read.event_type(), Some(&AegEventType::Notification));
/// assert_eq!(read.subscription_name(), Some("ORDERS-SUB"));
/// assert_eq!(read.delivery_count(), Some(2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryHeaders {
    event_type: Option<AegEventType>,
    subscription_name: Option<String>,
    delivery_count: Option<u32>,
    metadata_version: Option<String>,
    data_version: Option<String>,
    output_event_id: Option<String>,
}

impl DeliveryHeaders {
    /// Reads the `aeg-*` headers. Values that are not visible ASCII, and a delivery count
    /// that is not a number, read as absent: they are informative, never a reason to refuse
    /// a delivery.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.trim().to_owned())
        };
        Self {
            event_type: text(AEG_EVENT_TYPE).map(|value| AegEventType::parse(&value)),
            subscription_name: text(AEG_SUBSCRIPTION_NAME),
            delivery_count: text(AEG_DELIVERY_COUNT).and_then(|value| value.parse().ok()),
            metadata_version: text(AEG_METADATA_VERSION),
            data_version: text(AEG_DATA_VERSION),
            output_event_id: text(AEG_OUTPUT_EVENT_ID),
        }
    }

    /// `aeg-event-type`.
    pub fn event_type(&self) -> Option<&AegEventType> {
        self.event_type.as_ref()
    }

    /// `aeg-subscription-name`.
    pub fn subscription_name(&self) -> Option<&str> {
        self.subscription_name.as_deref()
    }

    /// `aeg-delivery-count`.
    pub fn delivery_count(&self) -> Option<u32> {
        self.delivery_count
    }

    /// `aeg-metadata-version`.
    pub fn metadata_version(&self) -> Option<&str> {
        self.metadata_version.as_deref()
    }

    /// `aeg-data-version`.
    pub fn data_version(&self) -> Option<&str> {
        self.data_version.as_deref()
    }

    /// `aeg-output-event-id`.
    pub fn output_event_id(&self) -> Option<&str> {
        self.output_event_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_compare_ignoring_case() {
        assert_eq!(
            AegEventType::parse("subscriptionvalidation"),
            AegEventType::SubscriptionValidation
        );
        assert_eq!(
            AegEventType::parse(" SubscriptionDeletion "),
            AegEventType::SubscriptionDeletion
        );
        let other = AegEventType::parse("Heartbeat");
        assert_eq!(other, AegEventType::Other("Heartbeat".into()));
        assert_eq!(other.to_string(), "Heartbeat");
    }

    #[test]
    fn absent_and_unreadable_headers_read_as_none() {
        let mut headers = HeaderMap::new();
        headers.insert(AEG_DELIVERY_COUNT, "many".parse().unwrap());
        headers.insert(AEG_DATA_VERSION, "1.0".parse().unwrap());
        headers.insert(
            AEG_OUTPUT_EVENT_ID,
            http::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        let read = DeliveryHeaders::from_headers(&headers);
        assert_eq!(read.delivery_count(), None);
        assert_eq!(read.data_version(), Some("1.0"));
        assert_eq!(read.output_event_id(), None);
        assert_eq!(read.event_type(), None);
        assert_eq!(read.metadata_version(), None);
    }
}
