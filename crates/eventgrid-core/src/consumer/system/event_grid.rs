//! The data of Event Grid's own system events: the subscription's validation and deletion.

use serde::{Deserialize, Serialize};

/// The data of `Microsoft.EventGrid.SubscriptionValidationEvent`.
///
/// [`receive`](crate::consumer::receive) answers this event as a
/// [`Handshake`](crate::consumer::Handshake); this type is for reading it anyway (in a
/// dead-letter file, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionValidationEventData {
    /// The code to echo as `validationResponse`.
    pub validation_code: Option<String>,
    /// The URL a GET to which validates the subscription instead.
    pub validation_url: Option<String>,
}

/// The data of `Microsoft.EventGrid.SubscriptionDeletedEvent`, delivered with
/// `aeg-event-type: SubscriptionDeletion` when the subscription is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionDeletedEventData {
    /// The Azure resource id of the deleted event subscription.
    pub event_subscription_id: Option<String>,
}
