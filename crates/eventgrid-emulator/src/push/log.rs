//! What the inspection API lists: every delivery attempt (handshakes included) and every dead
//! letter, the newest N of each.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

use super::dead_letter::DeadLetter;

/// One request the emulator sent a subscriber, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DeliveryAttempt {
    /// The topic.
    pub topic: String,
    /// The subscription.
    pub subscription: String,
    /// `Notification`, `SubscriptionValidation` or `AbuseProtection` (the CloudEvents
    /// `OPTIONS`).
    pub kind: String,
    /// The ids of the events sent (empty for handshakes).
    pub event_ids: Vec<String>,
    /// Attempts made for these events before this one (`aeg-delivery-count`).
    pub delivery_count: u32,
    /// When it was sent (RFC 3339).
    pub time: String,
    /// Milliseconds until the answer (or the time-out).
    pub latency_ms: u64,
    /// The status answered, if any.
    pub status: Option<u16>,
    /// `Succeeded`, or the service's word for the failure (`NotFound`, `TimedOut`,
    /// `GenericError`, ...).
    pub outcome: String,
    /// Why no answer came, when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What happens next: `done`, `retry in N ms`, `dead-lettered: REASON`, or the handshake's
    /// verdict.
    pub next: String,
}

/// The newest `retain` entries of a kind.
#[derive(Debug)]
pub(crate) struct Recent<T> {
    entries: Mutex<VecDeque<T>>,
    retain: usize,
}

impl<T: Clone> Recent<T> {
    pub(crate) fn new(retain: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            retain,
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn push(&self, entry: T) {
        if self.retain == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.len() == self.retain {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The entries passing `keep`, oldest first.
    pub(crate) fn list(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        self.lock()
            .iter()
            .filter(|entry| keep(entry))
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

/// The attempts and dead letters of every subscription.
#[derive(Debug)]
pub(crate) struct DeliveryLog {
    pub attempts: Recent<DeliveryAttempt>,
    pub dead_letters: Recent<DeadLetter>,
}

impl DeliveryLog {
    pub(crate) fn new(retain: usize) -> Self {
        Self {
            attempts: Recent::new(retain),
            dead_letters: Recent::new(retain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries() {
        let recent = Recent::new(2);
        for n in 0..5 {
            recent.push(n);
        }
        assert_eq!(recent.list(|_| true), [3, 4]);
        assert_eq!(recent.list(|n| *n == 4), [4]);
        recent.clear();
        assert!(recent.list(|_| true).is_empty());
        let none = Recent::new(0);
        none.push(1);
        assert!(none.list(|_| true).is_empty());
    }
}
