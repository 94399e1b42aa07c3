//! The data of Service Bus's events: messages waiting in a queue or subscription
//! (`Microsoft.ServiceBus.{Active,Deadletter}MessagesAvailable{WithNoListeners,PeriodicNotifications}`,
//! all of one shape).

use serde::{Deserialize, Serialize};

/// The data of every `Microsoft.ServiceBus.*MessagesAvailable*` event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceBusMessagesAvailableEventData {
    /// The namespace the messages are in.
    pub namespace_name: Option<String>,
    /// The URL to receive the messages from.
    pub request_uri: Option<String>,
    /// `queue` or `subscriber`.
    pub entity_type: Option<String>,
    /// The queue, when the entity is one.
    pub queue_name: Option<String>,
    /// The topic, when the entity is a subscription.
    pub topic_name: Option<String>,
    /// The subscription, when the entity is one.
    pub subscription_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_has_no_topic_or_subscription() {
        // The shape of the service's notification for a queue (its docs' example).
        let data: ServiceBusMessagesAvailableEventData = serde_json::from_str(
            r#"{"namespaceName": "sb-ns", "requestUri": "https://sb-ns.servicebus.windows.net/orders/messages/head",
                "entityType": "queue", "queueName": "orders", "topicName": null, "subscriptionName": null}"#,
        )
        .unwrap();
        assert_eq!(data.entity_type.as_deref(), Some("queue"));
        assert_eq!(data.queue_name.as_deref(), Some("orders"));
        assert_eq!((data.topic_name, data.subscription_name), (None, None));
    }
}
