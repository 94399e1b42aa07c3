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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_have_the_services_names() {
        let validation: SubscriptionValidationEventData = serde_json::from_str(
            r#"{"validationCode": "512d38b6", "validationUrl": "https://rp.eventgrid.azure.net:553/validate?id=1"}"#,
        )
        .unwrap();
        assert_eq!(validation.validation_code.as_deref(), Some("512d38b6"));
        assert!(validation.validation_url.unwrap().ends_with("?id=1"));
        let deleted: SubscriptionDeletedEventData = serde_json::from_str(
            r#"{"eventSubscriptionId": "/subscriptions/s/eventSubscriptions/e"}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&deleted).unwrap()["eventSubscriptionId"],
            "/subscriptions/s/eventSubscriptions/e"
        );
    }
}
