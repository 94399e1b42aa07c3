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
    /// `Notification`, `SubscriptionValidation`, `AbuseProtection` (the CloudEvents `OPTIONS`)
    /// or `SubscriptionDeletion`.
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

/// The newest entries of a kind: at most `retain` of them, of at most `retain_bytes` together
/// (an entry's size as its owner estimates it).
#[derive(Debug)]
pub(crate) struct Recent<T> {
    /// The entries with their sizes, and the sum of the sizes.
    entries: Mutex<(VecDeque<(T, usize)>, usize)>,
    retain: usize,
    retain_bytes: usize,
}

impl<T: Clone> Recent<T> {
    pub(crate) fn new(retain: usize, retain_bytes: usize) -> Self {
        Self {
            entries: Mutex::new((VecDeque::new(), 0)),
            retain,
            retain_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, (VecDeque<(T, usize)>, usize)> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `entry` of about `size` bytes, forgetting the oldest beyond the bounds. An entry
    /// larger than the byte bound alone is not kept.
    pub(crate) fn push(&self, entry: T, size: usize) {
        if self.retain == 0 || size > self.retain_bytes {
            return;
        }
        let mut guard = self.lock();
        let (entries, bytes) = &mut *guard;
        while entries.len() >= self.retain || *bytes + size > self.retain_bytes {
            let Some((_, freed)) = entries.pop_front() else {
                break;
            };
            *bytes -= freed;
        }
        entries.push_back((entry, size));
        *bytes += size;
    }

    /// The entries passing `keep`, oldest first.
    pub(crate) fn list(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        self.lock()
            .0
            .iter()
            .map(|(entry, _)| entry)
            .filter(|entry| keep(entry))
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        let mut guard = self.lock();
        guard.0.clear();
        guard.1 = 0;
    }
}

/// The attempts and dead letters of every subscription.
#[derive(Debug)]
pub(crate) struct DeliveryLog {
    pub attempts: Recent<DeliveryAttempt>,
    pub dead_letters: Recent<DeadLetter>,
}

impl DeliveryLog {
    /// Keeps an attempt (its size: its strings, and some for the rest).
    pub(crate) fn record_attempt(&self, attempt: DeliveryAttempt) {
        let size = 256
            + attempt
                .event_ids
                .iter()
                .map(|id| id.len() + 24)
                .sum::<usize>()
            + attempt.error.as_ref().map_or(0, String::len)
            + attempt.topic.len()
            + attempt.subscription.len()
            + attempt.next.len();
        self.attempts.push(attempt, size);
    }

    /// Keeps a dead letter whose event's JSON text is about `event_bytes` long.
    pub(crate) fn record_dead_letter(&self, dead_letter: DeadLetter, event_bytes: usize) {
        // The added fields and the names take about as much again as a small event.
        self.dead_letters.push(dead_letter, event_bytes + 512);
    }
}

/// Attempts kept at most, whatever the retention (as request records).
const MAX_ATTEMPTS: usize = crate::store::MAX_RECORDS;

impl DeliveryLog {
    /// Keeps up to `retain` dead letters of `retain_bytes` together, and up to `retain` (at most
    /// 1,000) attempts.
    pub(crate) fn new(retain: usize, retain_bytes: usize) -> Self {
        Self {
            attempts: Recent::new(retain.min(MAX_ATTEMPTS), retain_bytes),
            dead_letters: Recent::new(retain, retain_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries() {
        let recent = Recent::new(2, 1000);
        for n in 0..5 {
            recent.push(n, 1);
        }
        assert_eq!(recent.list(|_| true), [3, 4]);
        assert_eq!(recent.list(|n| *n == 4), [4]);
        recent.clear();
        assert!(recent.list(|_| true).is_empty());
        let none = Recent::new(0, 1000);
        none.push(1, 1);
        assert!(none.list(|_| true).is_empty());
    }

    #[test]
    fn keeps_within_the_byte_bound() {
        let recent = Recent::new(100, 10);
        recent.push("a", 4);
        recent.push("b", 4);
        recent.push("c", 4);
        assert_eq!(recent.list(|_| true), ["b", "c"]);
        recent.push("huge", 11);
        assert_eq!(
            recent.list(|_| true),
            ["b", "c"],
            "too large alone: not kept"
        );
        recent.push("d", 10);
        assert_eq!(recent.list(|_| true), ["d"]);
    }
}
