//! Push delivery from Rust: [`EmulatorControl`]'s methods for subscriptions, delivery attempts
//! and dead letters (the control API's, without HTTP).

use crate::error::{Error, Result};
use crate::inspection::control::EmulatorControl;

use super::dead_letter::DeadLetter;
use super::log::DeliveryAttempt;
use super::state::SubscriptionInfo;
use super::subscription::WebhookSubscription;

impl EmulatorControl {
    /// Every event subscription with its state and counters.
    pub fn webhook_subscriptions(&self) -> Vec<SubscriptionInfo> {
        self.shared.push.list()
    }

    /// The subscription `name` on `topic`, if it exists.
    pub fn webhook_subscription(&self, topic: &str, name: &str) -> Option<SubscriptionInfo> {
        self.shared.push.get(topic, name)
    }

    /// Creates an event subscription at run time; its validation handshake starts at once
    /// (unless [`WebhookSubscription::validation`] turned it off). Fails for an unknown topic, a
    /// name already used on the topic, an impossible delivery schema or invalid settings.
    pub fn add_webhook(&self, spec: WebhookSubscription) -> Result<()> {
        let schema = self.shared.topic(spec.topic())?.spec.schema();
        let name = format!("{}/{}", spec.topic(), spec.name());
        self.shared
            .push
            .add(spec, schema)
            .map(drop)
            .map_err(|reason| Error::InvalidSubscription {
                subscription: name,
                reason,
            })
    }

    /// Removes a subscription; the events it still held are not delivered, and a validated
    /// endpoint is sent the `SubscriptionDeletion` event, as the service does. `false` when
    /// there was none.
    pub fn remove_webhook(&self, topic: &str, name: &str) -> bool {
        self.shared.push.remove(topic, name, true)
    }

    /// Every request sent to subscribers (handshakes included), oldest first: the newest N,
    /// N being the retention.
    pub fn delivery_attempts(&self) -> Vec<DeliveryAttempt> {
        self.shared.push.attempts(None, None)
    }

    /// Every dead-lettered event, oldest first (the newest N).
    pub fn webhook_dead_letters(&self) -> Vec<DeadLetter> {
        self.shared.push.dead_letters(None, None)
    }

    /// The endpoint of a topic served on a port of its own (see
    /// [`EmulatorConfig::topic_port`](crate::EmulatorConfig::topic_port)):
    /// `{scheme}://127.0.0.1:PORT/api/events`.
    pub fn topic_port_endpoint(&self, topic: &str) -> Option<String> {
        let address = self.shared.topic_addresses.get(topic)?;
        Some(format!("{}://{address}/api/events", self.shared.scheme))
    }
}
