//! A namespace topic: its subscriptions, which each get every event their filter lets in, and
//! its fault rules, which apply to publishing and to every operation of its subscriptions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde::Serialize;

use crate::faults::FaultSpec;
use crate::faults::slot::{FaultSlot, HasFaults};
use crate::faults::state::FaultDecision;
use crate::namespace::queue::SubscriptionQueue;
use crate::namespace::spec::NamespaceTopicSpec;

/// A namespace topic's live state.
pub(crate) struct NamespaceTopic {
    pub spec: NamespaceTopicSpec,
    /// In configuration order.
    pub subscriptions: Vec<Arc<SubscriptionQueue>>,
    published_events: AtomicU64,
    faults: FaultSlot,
}

/// What the inspection API shows of a topic besides its subscriptions.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct TopicFigures {
    pub published_events: u64,
}

/// Why a publish was refused after validation.
pub(crate) struct QueueFull {
    pub subscription: String,
}

impl NamespaceTopic {
    pub(crate) fn new(
        spec: NamespaceTopicSpec,
        subscriptions: Vec<Arc<SubscriptionQueue>>,
    ) -> Self {
        Self {
            spec,
            subscriptions,
            published_events: AtomicU64::new(0),
            faults: FaultSlot::default(),
        }
    }

    pub(crate) fn subscription(&self, name: &str) -> Option<&Arc<SubscriptionQueue>> {
        self.subscriptions
            .iter()
            .find(|subscription| subscription.spec.name() == name)
    }

    /// Hands each event (its text and its `type`) to every subscription whose filter lets it
    /// in; nothing is kept when any subscription lacks room for its share.
    pub(crate) fn publish(&self, events: &[(Bytes, String)]) -> Result<(), QueueFull> {
        let shares: Vec<Vec<Bytes>> = self
            .subscriptions
            .iter()
            .map(|subscription| {
                events
                    .iter()
                    .filter(|(_, event_type)| subscription.spec.admits(event_type))
                    .map(|(event, _)| event.clone())
                    .collect()
            })
            .collect();
        for (subscription, share) in self.subscriptions.iter().zip(&shares) {
            let bytes = share.iter().map(Bytes::len).sum();
            if !subscription.has_room(share.len(), bytes) {
                return Err(QueueFull {
                    subscription: subscription.spec.name().to_owned(),
                });
            }
        }
        for (subscription, share) in self.subscriptions.iter().zip(shares) {
            if !share.is_empty() {
                subscription.enqueue(share.into_iter());
            }
        }
        self.published_events
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn figures(&self) -> TopicFigures {
        TopicFigures {
            published_events: self.published_events.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set_faults(&self, spec: Option<FaultSpec>) {
        self.faults.set(spec);
    }

    /// The faults for the next request to the topic or one of its subscriptions.
    pub(crate) fn decide_faults(&self) -> FaultDecision {
        self.faults.decide()
    }
}

impl HasFaults for NamespaceTopic {
    fn fault_slot(&self) -> &FaultSlot {
        &self.faults
    }
}
