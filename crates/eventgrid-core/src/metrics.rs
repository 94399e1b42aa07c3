//! Per-topic metrics, publishing and (for namespace topics) pull delivery: atomic counters
//! shared by every clone of a client.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::settlement::SettlementKind;

/// Live counters of one topic. Cheap to update from many threads.
#[derive(Debug, Default)]
pub struct TopicCounters {
    events_published: AtomicU64,
    events_failed: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    bytes_sent: AtomicU64,
    latency_count: AtomicU64,
    latency_total_us: AtomicU64,
    latency_max_us: AtomicU64,
    pull: PullCounters,
}

/// The pull-delivery counters of a namespace topic (all its subscriptions together).
#[derive(Debug, Default)]
struct PullCounters {
    receive_requests: AtomicU64,
    settle_requests: AtomicU64,
    retries: AtomicU64,
    events_received: AtomicU64,
    malformed_received: AtomicU64,
    acknowledged: AtomicU64,
    released: AtomicU64,
    rejected: AtomicU64,
    renewed: AtomicU64,
    token_failures: AtomicU64,
    failed_operations: AtomicU64,
}

impl TopicCounters {
    /// One request attempt of `bytes` that took `latency` (whatever its outcome).
    pub fn record_attempt(&self, bytes: usize, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.requests.fetch_add(1, Relaxed);
        self.bytes_sent.fetch_add(bytes as u64, Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_total_us.fetch_add(us, Relaxed);
        self.latency_max_us.fetch_max(us, Relaxed);
    }

    /// A retry was scheduled.
    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }

    /// `events` were accepted by the service.
    pub fn record_delivered(&self, events: usize) {
        self.events_published.fetch_add(events as u64, Relaxed);
    }

    /// `events` finally failed.
    pub fn record_failed(&self, events: usize) {
        self.events_failed.fetch_add(events as u64, Relaxed);
    }

    /// One receive or settlement attempt was sent (`receive` tells which).
    pub fn record_pull_attempt(&self, receive: bool) {
        let counter = if receive {
            &self.pull.receive_requests
        } else {
            &self.pull.settle_requests
        };
        counter.fetch_add(1, Relaxed);
    }

    /// A receive or settlement retry was scheduled.
    pub fn record_pull_retry(&self) {
        self.pull.retries.fetch_add(1, Relaxed);
    }

    /// A receive or settlement finally failed (no answer read).
    pub fn record_pull_failure(&self) {
        self.pull.failed_operations.fetch_add(1, Relaxed);
    }

    /// A receive answered `events` readable events and `malformed` unreadable ones.
    pub fn record_received(&self, events: usize, malformed: usize) {
        self.pull.events_received.fetch_add(events as u64, Relaxed);
        self.pull
            .malformed_received
            .fetch_add(malformed as u64, Relaxed);
    }

    /// A settlement of `kind` succeeded for `succeeded` tokens and failed for `failed`.
    pub fn record_settled(&self, kind: SettlementKind, succeeded: usize, failed: usize) {
        let counter = match kind {
            SettlementKind::Acknowledge => &self.pull.acknowledged,
            SettlementKind::Release(_) => &self.pull.released,
            SettlementKind::Reject => &self.pull.rejected,
            SettlementKind::RenewLocks => &self.pull.renewed,
        };
        counter.fetch_add(succeeded as u64, Relaxed);
        self.pull.token_failures.fetch_add(failed as u64, Relaxed);
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> TopicMetrics {
        let count = self.latency_count.load(Relaxed);
        let total = self.latency_total_us.load(Relaxed);
        TopicMetrics {
            events_published: self.events_published.load(Relaxed),
            events_failed: self.events_failed.load(Relaxed),
            requests: self.requests.load(Relaxed),
            retries: self.retries.load(Relaxed),
            bytes_sent: self.bytes_sent.load(Relaxed),
            latency: LatencyStats {
                count,
                mean: Duration::from_micros(total.checked_div(count).unwrap_or(0)),
                max: Duration::from_micros(self.latency_max_us.load(Relaxed)),
            },
            pull: self.pull.snapshot(),
        }
    }
}

impl PullCounters {
    fn snapshot(&self) -> PullMetrics {
        PullMetrics {
            receive_requests: self.receive_requests.load(Relaxed),
            settle_requests: self.settle_requests.load(Relaxed),
            retries: self.retries.load(Relaxed),
            events_received: self.events_received.load(Relaxed),
            malformed_received: self.malformed_received.load(Relaxed),
            acknowledged: self.acknowledged.load(Relaxed),
            released: self.released.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            renewed: self.renewed.load(Relaxed),
            token_failures: self.token_failures.load(Relaxed),
            failed_operations: self.failed_operations.load(Relaxed),
        }
    }
}

/// Pull delivery from a namespace topic's subscriptions (all of them together): receives,
/// settlements and their per-token outcomes. Zero for basic topics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullMetrics {
    /// `:receive` attempts sent (retries included).
    pub receive_requests: u64,
    /// Settlement attempts sent (`:acknowledge`, `:release`, `:reject`, `:renewLock`; retries
    /// included).
    pub settle_requests: u64,
    /// Receive and settlement retries scheduled.
    pub retries: u64,
    /// Events received (readable ones).
    pub events_received: u64,
    /// Events received that could not be read (see `ReceivedBatch::malformed`).
    pub malformed_received: u64,
    /// Lock tokens acknowledged.
    pub acknowledged: u64,
    /// Lock tokens released.
    pub released: u64,
    /// Lock tokens rejected.
    pub rejected: u64,
    /// Locks renewed.
    pub renewed: u64,
    /// Lock tokens the service could not settle or renew (`failedLockTokens`).
    pub token_failures: u64,
    /// Receives and settlements that finally failed with no answer read.
    pub failed_operations: u64,
}

impl PullMetrics {
    /// The sum of two snapshots.
    pub fn merged(&self, other: &PullMetrics) -> PullMetrics {
        PullMetrics {
            receive_requests: self.receive_requests + other.receive_requests,
            settle_requests: self.settle_requests + other.settle_requests,
            retries: self.retries + other.retries,
            events_received: self.events_received + other.events_received,
            malformed_received: self.malformed_received + other.malformed_received,
            acknowledged: self.acknowledged + other.acknowledged,
            released: self.released + other.released,
            rejected: self.rejected + other.rejected,
            renewed: self.renewed + other.renewed,
            token_failures: self.token_failures + other.token_failures,
            failed_operations: self.failed_operations + other.failed_operations,
        }
    }
}

/// Request latency summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LatencyStats {
    /// Requests measured.
    pub count: u64,
    /// Mean latency.
    pub mean: Duration,
    /// Longest latency.
    pub max: Duration,
}

/// A snapshot of one topic's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicMetrics {
    /// Events the service accepted.
    pub events_published: u64,
    /// Events that finally failed.
    pub events_failed: u64,
    /// Request attempts sent (retries included).
    pub requests: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Body bytes sent (retries included).
    pub bytes_sent: u64,
    /// Latency of request attempts.
    pub latency: LatencyStats,
    /// Pull delivery (namespace topics): receives and settlements, counted apart from the
    /// publishing requests above.
    pub pull: PullMetrics,
}

impl TopicMetrics {
    /// The sum of two snapshots (two clients' counts of one topic): counts added, the latency
    /// mean weighted by each side's count, the longest latency of either.
    pub fn merged(&self, other: &TopicMetrics) -> TopicMetrics {
        let count = self.latency.count + other.latency.count;
        let total = self.latency.mean.as_secs_f64() * self.latency.count as f64
            + other.latency.mean.as_secs_f64() * other.latency.count as f64;
        TopicMetrics {
            events_published: self.events_published + other.events_published,
            events_failed: self.events_failed + other.events_failed,
            requests: self.requests + other.requests,
            retries: self.retries + other.retries,
            bytes_sent: self.bytes_sent + other.bytes_sent,
            latency: LatencyStats {
                count,
                mean: if count == 0 {
                    Duration::ZERO
                } else {
                    Duration::from_secs_f64(total / count as f64)
                },
                max: self.latency.max.max(other.latency.max),
            },
            pull: self.pull.merged(&other.pull),
        }
    }
}

/// Counters for every topic a client has published to, kept across `remove_topic` and
/// `add_topic` of the same name.
#[derive(Debug, Default)]
pub struct MetricsRegistry {
    topics: Mutex<HashMap<String, Arc<TopicCounters>>>,
}

impl MetricsRegistry {
    /// The counters of `topic`, created on first use.
    pub fn counters(&self, topic: &str) -> Arc<TopicCounters> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics.entry(topic.to_owned()).or_default().clone()
    }

    /// A snapshot of every topic's metrics, by topic name.
    pub fn snapshot(&self) -> BTreeMap<String, TopicMetrics> {
        let topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .iter()
            .map(|(name, counters)| (name.clone(), counters.snapshot()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::ReleaseDelay;

    #[test]
    fn counts_and_latency() {
        let registry = MetricsRegistry::default();
        let c = registry.counters("t");
        c.record_attempt(100, Duration::from_millis(10));
        c.record_attempt(50, Duration::from_millis(30));
        c.record_retry();
        c.record_delivered(7);
        c.record_failed(2);
        let m = registry.snapshot()["t"];
        assert_eq!((m.requests, m.bytes_sent, m.retries), (2, 150, 1));
        assert_eq!((m.events_published, m.events_failed), (7, 2));
        assert_eq!(m.latency.mean, Duration::from_millis(20));
        assert_eq!(m.latency.max, Duration::from_millis(30));
        assert!(Arc::ptr_eq(&c, &registry.counters("t")));
        let twice = m.merged(&m);
        assert_eq!((twice.requests, twice.latency.count), (4, 4));
        assert_eq!(twice.latency.mean, Duration::from_millis(20));
        assert_eq!(m.pull, PullMetrics::default(), "publishing counts no pulls");
    }

    #[test]
    fn pull_counts_are_kept_apart_from_publishing() {
        let registry = MetricsRegistry::default();
        let c = registry.counters("ns");
        c.record_pull_attempt(true);
        c.record_pull_attempt(false);
        c.record_pull_retry();
        c.record_received(3, 1);
        c.record_settled(SettlementKind::Acknowledge, 2, 1);
        c.record_settled(SettlementKind::Release(ReleaseDelay::TenSeconds), 1, 0);
        c.record_settled(SettlementKind::Reject, 1, 0);
        c.record_settled(SettlementKind::RenewLocks, 4, 2);
        c.record_pull_failure();
        let m = registry.snapshot()["ns"];
        assert_eq!((m.requests, m.retries), (0, 0));
        let p = m.pull;
        assert_eq!(
            (p.receive_requests, p.settle_requests, p.retries),
            (1, 1, 1)
        );
        assert_eq!((p.events_received, p.malformed_received), (3, 1));
        assert_eq!(
            (p.acknowledged, p.released, p.rejected, p.renewed),
            (2, 1, 1, 4)
        );
        assert_eq!((p.token_failures, p.failed_operations), (3, 1));
        assert_eq!(m.merged(&m).pull.renewed, 8);
    }
}
