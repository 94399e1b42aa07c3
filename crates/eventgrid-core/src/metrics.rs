//! Per-topic publishing metrics: atomic counters shared by every clone of a client.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    }
}
