//! What each topic remembers: the newest events, the newest request records, counters, and its
//! fault rules.

pub(crate) mod recorded;
pub(crate) mod shared;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::config::topic::TopicSpec;
use crate::faults::FaultSpec;
use crate::faults::slot::{FaultSlot, HasFaults};
use crate::faults::state::FaultDecision;

/// A topic's counters since start-up (or the last [`clear`](crate::EmulatorControl::clear)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicCounters {
    /// Requests that reached the topic's endpoint, whatever their outcome.
    pub requests: u64,
    /// Requests answered 200.
    pub accepted_requests: u64,
    /// Events in accepted requests.
    pub accepted_events: u64,
    /// Accepted events still kept for inspection.
    pub retained_events: u64,
    /// Accepted events no longer kept (beyond the retention limit); counted, not stored.
    pub evicted_events: u64,
    /// Requests whose connection was dropped by a fault rule.
    pub dropped_connections: u64,
    /// Requests refused or failed, by status (injected faults included).
    pub rejections: BTreeMap<u16, u64>,
}

/// One request to a topic, as the emulator saw it (kept like events, newest N).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// Path and query, e.g. `/orders/api/events?api-version=2018-01-01`.
    pub path: String,
    /// Headers in arrival order, names in lowercase; credential values read `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// The status answered, or `None` when a fault rule dropped the connection.
    pub status: Option<u16>,
    /// Events in the body when it was a valid batch, else 0.
    pub events: usize,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A topic keeps at most this many request records (fewer when `retain` says so): a record
/// is small but not tiny (see [`recorded`]).
pub(crate) const MAX_RECORDS: usize = 1_000;

/// The kept events, oldest first, and the bytes of their texts.
#[derive(Debug, Default)]
struct KeptEvents {
    events: VecDeque<Bytes>,
    bytes: usize,
}

/// The live state of one topic.
#[derive(Debug)]
pub(crate) struct TopicState {
    pub spec: TopicSpec,
    retain: usize,
    retain_bytes: usize,
    requests: AtomicU64,
    accepted_requests: AtomicU64,
    accepted_events: AtomicU64,
    evicted_events: AtomicU64,
    dropped_connections: AtomicU64,
    rejections: Mutex<BTreeMap<u16, u64>>,
    events: Mutex<KeptEvents>,
    records: Mutex<VecDeque<RecordedRequest>>,
    faults: FaultSlot,
}

/// Poisoning only means another request panicked mid-update; the data stays usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TopicState {
    pub(crate) fn new(spec: TopicSpec, retain: usize, retain_bytes: usize) -> Self {
        Self {
            spec,
            retain,
            retain_bytes,
            requests: AtomicU64::new(0),
            accepted_requests: AtomicU64::new(0),
            accepted_events: AtomicU64::new(0),
            evicted_events: AtomicU64::new(0),
            dropped_connections: AtomicU64::new(0),
            rejections: Mutex::new(BTreeMap::new()),
            events: Mutex::new(KeptEvents::default()),
            records: Mutex::new(VecDeque::new()),
            faults: FaultSlot::default(),
        }
    }

    /// Whether request records are kept (so callers can skip building them).
    pub(crate) fn keeps_records(&self) -> bool {
        self.retain > 0
    }

    /// Whether accepted events are kept (so callers can skip collecting them).
    pub(crate) fn keeps_events(&self) -> bool {
        self.retain > 0 && self.retain_bytes > 0
    }

    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an accepted batch of `count` events and stores `events` (the same events, or none
    /// when the topic keeps none), evicting the oldest beyond the retention limits (in events
    /// and in bytes).
    pub(crate) fn accept(&self, count: usize, events: impl Iterator<Item = Bytes>) {
        let count = count as u64;
        self.accepted_requests.fetch_add(1, Ordering::Relaxed);
        self.accepted_events.fetch_add(count, Ordering::Relaxed);
        if !self.keeps_events() {
            self.evicted_events.fetch_add(count, Ordering::Relaxed);
            return;
        }
        let mut kept = lock(&self.events);
        let mut evicted = 0;
        for event in events {
            kept.bytes += event.len();
            kept.events.push_back(event);
            while kept.events.len() > self.retain || kept.bytes > self.retain_bytes {
                let Some(oldest) = kept.events.pop_front() else {
                    break;
                };
                kept.bytes -= oldest.len();
                evicted += 1;
            }
        }
        drop(kept);
        self.evicted_events.fetch_add(evicted, Ordering::Relaxed);
    }

    pub(crate) fn reject(&self, status: u16) {
        *lock(&self.rejections).entry(status).or_default() += 1;
    }

    pub(crate) fn count_dropped_connection(&self) {
        self.dropped_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record(&self, record: RecordedRequest) {
        if self.retain == 0 {
            return;
        }
        let mut records = lock(&self.records);
        if records.len() >= self.retain.min(MAX_RECORDS) {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// The kept events' JSON texts, oldest first.
    pub(crate) fn events(&self) -> Vec<Bytes> {
        lock(&self.events).events.iter().cloned().collect()
    }

    pub(crate) fn records(&self) -> Vec<RecordedRequest> {
        lock(&self.records).iter().cloned().collect()
    }

    /// Forgets kept events and records and zeroes the counters (fault rules stay).
    pub(crate) fn clear(&self) {
        *lock(&self.events) = KeptEvents::default();
        lock(&self.records).clear();
        lock(&self.rejections).clear();
        for counter in [
            &self.requests,
            &self.accepted_requests,
            &self.accepted_events,
            &self.evicted_events,
            &self.dropped_connections,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn counters(&self) -> TopicCounters {
        TopicCounters {
            requests: self.requests.load(Ordering::Relaxed),
            accepted_requests: self.accepted_requests.load(Ordering::Relaxed),
            accepted_events: self.accepted_events.load(Ordering::Relaxed),
            retained_events: lock(&self.events).events.len() as u64,
            evicted_events: self.evicted_events.load(Ordering::Relaxed),
            dropped_connections: self.dropped_connections.load(Ordering::Relaxed),
            rejections: lock(&self.rejections).clone(),
        }
    }

    /// Replaces the fault rules (`None` removes them).
    pub(crate) fn set_faults(&self, spec: Option<FaultSpec>) {
        self.faults.set(spec);
    }

    pub(crate) fn faults(&self) -> Option<FaultSpec> {
        self.faults.spec()
    }

    /// The faults for the next request (none, cheaply, when the topic has no rules).
    pub(crate) fn decide_faults(&self) -> FaultDecision {
        self.faults.decide()
    }
}

impl HasFaults for TopicState {
    fn fault_slot(&self) -> &FaultSlot {
        &self.faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_events_and_counts_the_rest() {
        let topic = TopicState::new(TopicSpec::open("t"), 3, usize::MAX);
        topic.accept(5, (0..5).map(|n| Bytes::from(n.to_string())));
        topic.accept(1, std::iter::once(Bytes::from_static(b"5")));
        assert_eq!(topic.events(), vec!["3", "4", "5"]);
        let counters = topic.counters();
        assert_eq!(
            (
                counters.accepted_events,
                counters.retained_events,
                counters.evicted_events
            ),
            (6, 3, 3)
        );
        assert_eq!(counters.accepted_requests, 2);
    }

    #[test]
    fn retain_zero_is_a_counting_sink() {
        let topic = TopicState::new(TopicSpec::open("t"), 0, usize::MAX);
        assert!(!topic.keeps_events());
        topic.accept(5, std::iter::empty());
        topic.record(RecordedRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![],
            status: Some(200),
            events: 5,
        });
        assert!(topic.events().is_empty() && topic.records().is_empty());
        assert_eq!(topic.counters().accepted_events, 5);
        assert_eq!(topic.counters().evicted_events, 5);
    }

    #[test]
    fn retention_is_bounded_in_bytes_too() {
        let topic = TopicState::new(TopicSpec::open("t"), 100, 10);
        let event = |n: usize| Bytes::from(n.to_string().repeat(4));
        topic.accept(3, (1..=3).map(event));
        assert_eq!(topic.events(), vec!["2222", "3333"]);
        topic.accept(1, std::iter::once(Bytes::from(vec![b'x'; 11])));
        assert!(
            topic.events().is_empty(),
            "an event over the bound is not kept"
        );
        let counters = topic.counters();
        assert_eq!((counters.retained_events, counters.evicted_events), (0, 4));
        topic.accept(1, std::iter::once(event(5)));
        assert_eq!(topic.events(), vec!["5555"]);
    }

    #[test]
    fn request_records_are_bounded_whatever_retain_says() {
        let topic = TopicState::new(TopicSpec::open("t"), 1_000_000, usize::MAX);
        for events in 0..MAX_RECORDS + 10 {
            topic.record(RecordedRequest {
                method: "POST".into(),
                path: "/".into(),
                headers: vec![],
                status: Some(401),
                events,
            });
        }
        let records = topic.records();
        assert_eq!(records.len(), MAX_RECORDS);
        assert_eq!(records[0].events, 10);
    }
}
