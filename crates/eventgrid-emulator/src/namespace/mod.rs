//! Event Grid namespace topics with queue subscriptions (pull delivery), at the service's
//! paths under the emulator's root URL, which is the namespace endpoint.
//!
//! Publishing fans each CloudEvent out to every subscription of the topic whose event-type
//! filter lets it in; receivers lock events for the subscription's lock duration and settle
//! them by lock token (acknowledge, release with a delay, reject, renew the lock). Lock expiry
//! and release make an event available again, to be delivered once more; after the maximum
//! delivery count, past its time-to-live, or when rejected, it is dead-lettered.

mod auth;
pub(crate) mod config;
mod control;
mod error;
pub(crate) mod inspection;
pub(crate) mod queue;
pub(crate) mod serve;
pub(crate) mod spec;
mod topic;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::config::{EmulatorConfig, Limits};
use crate::error::{Error, Result};
use crate::namespace::queue::SubscriptionQueue;
use crate::namespace::topic::NamespaceTopic;

/// Namespace limits: 1 MB per event and per request, 1,000 events per publish (lowered further
/// when the emulator's own limits are lower).
const NAMESPACE_LIMITS: Limits = Limits {
    max_event_bytes: 1_048_576,
    max_request_bytes: 1_048_576,
    max_events_per_request: 1_000,
};

/// The namespace topics of a running emulator.
pub(crate) struct NamespaceState {
    pub topics: HashMap<String, Arc<NamespaceTopic>>,
    /// Topic names in configuration order.
    pub order: Vec<String>,
    pub limits: Limits,
    /// Bytes of event text each subscription holds at most.
    pub max_queued_bytes: usize,
    /// Receives that may wait for events at once; further ones answer at once with what is
    /// there, so that waiting requests (up to 120 s each) cannot pile up without bound.
    pub waiting_receives: tokio::sync::Semaphore,
}

/// How many receives may wait at once, across all subscriptions.
const MAX_WAITING_RECEIVES: usize = 4_096;

impl NamespaceState {
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        let max_queued_bytes = config.retain_bytes;
        let topics = config
            .namespace_topics
            .iter()
            .map(|spec| {
                let subscriptions = config
                    .subscriptions
                    .iter()
                    .filter(|subscription| subscription.topic() == spec.name())
                    .map(|subscription| {
                        Arc::new(SubscriptionQueue::new(
                            subscription.clone(),
                            max_queued_bytes,
                        ))
                    })
                    .collect();
                let topic = NamespaceTopic::new(spec.clone(), subscriptions);
                (spec.name().to_owned(), Arc::new(topic))
            })
            .collect();
        Self {
            topics,
            order: config
                .namespace_topics
                .iter()
                .map(|spec| spec.name().to_owned())
                .collect(),
            limits: Limits {
                max_event_bytes: config
                    .limits
                    .max_event_bytes
                    .min(NAMESPACE_LIMITS.max_event_bytes),
                max_request_bytes: config
                    .limits
                    .max_request_bytes
                    .min(NAMESPACE_LIMITS.max_request_bytes),
                max_events_per_request: config
                    .limits
                    .max_events_per_request
                    .min(NAMESPACE_LIMITS.max_events_per_request),
            },
            max_queued_bytes,
            waiting_receives: tokio::sync::Semaphore::new(MAX_WAITING_RECEIVES),
        }
    }

    pub(crate) fn topic(&self, name: &str) -> Result<&Arc<NamespaceTopic>> {
        self.topics
            .get(name)
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))
    }

    /// ` Configured namespace topics: a, b.` for not-found messages.
    pub(crate) fn topic_hint(&self) -> String {
        if self.order.is_empty() {
            " The emulator has no namespace topics configured (--namespace-topic NAME).".to_owned()
        } else {
            format!(" Configured namespace topics: {}.", self.order.join(", "))
        }
    }
}

impl fmt::Debug for NamespaceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceState")
            .field("topics", &self.order)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
