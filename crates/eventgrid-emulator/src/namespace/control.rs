//! [`EmulatorControl`] for namespace topics: endpoints, subscription counts, dead letters and
//! fault rules, from Rust.

use crate::error::Result;
use crate::faults::FaultSpec;
use crate::inspection::control::EmulatorControl;
use crate::namespace::inspection::dead_letters;
use crate::namespace::queue::{SubscriptionCounts, SubscriptionQueue};
use crate::namespace::topic::NamespaceTopic;

impl EmulatorControl {
    /// The namespace endpoint: the emulator's root URL, to which clients add
    /// `/topics/{topic}:publish` and `/topics/{topic}/eventsubscriptions/{subscription}:...`.
    pub fn namespace_endpoint(&self) -> &str {
        &self.shared.base_url
    }

    /// The configured namespace topic names, in configuration order.
    pub fn namespace_topic_names(&self) -> Vec<String> {
        self.shared.namespace.order.clone()
    }

    /// A subscription's counts: available, delayed, locked, acknowledged, released, rejected,
    /// dead-lettered, delivered, enqueued.
    pub fn subscription_counts(&self, topic: &str, subscription: &str) -> SubscriptionCounts {
        self.queue(topic, subscription).counts()
    }

    /// A subscription's dead letters, oldest first: `reason` (`Rejected`,
    /// `MaxDeliveryCountExceeded` or `TimeToLiveExceeded`), `delivery_count`,
    /// `dead_lettered_at` and `event`.
    pub fn dead_letters(&self, topic: &str, subscription: &str) -> Vec<serde_json::Value> {
        dead_letters(&self.queue(topic, subscription))
    }

    /// Replaces a namespace topic's fault rules (they apply to publishing and to every
    /// operation of its subscriptions). Fails for an unknown topic or invalid rules.
    pub fn set_namespace_fault(&self, topic: &str, faults: impl Into<FaultSpec>) -> Result<()> {
        let faults = faults.into();
        faults.validate()?;
        self.shared.namespace.topic(topic)?.set_faults(Some(faults));
        Ok(())
    }

    /// Removes a namespace topic's fault rules.
    pub fn clear_namespace_faults(&self, topic: &str) {
        self.namespace_topic(topic).set_faults(None);
    }

    fn namespace_topic(&self, name: &str) -> &NamespaceTopic {
        match self.shared.namespace.topics.get(name) {
            Some(topic) => topic,
            None => panic!(
                "unknown namespace topic `{name}`;{}",
                self.shared.namespace.topic_hint()
            ),
        }
    }

    fn queue(&self, topic: &str, subscription: &str) -> std::sync::Arc<SubscriptionQueue> {
        match self.namespace_topic(topic).subscription(subscription) {
            Some(queue) => std::sync::Arc::clone(queue),
            None => panic!("namespace topic `{topic}` has no subscription `{subscription}`"),
        }
    }
}
