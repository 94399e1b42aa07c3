//! One queue subscription: its events, their locks and delivery counts, its dead letters, and
//! the receivers waiting for events (woken by a [`Notify`], never by polling).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Notify;

use crate::namespace::spec::SubscriptionSpec;

/// Most events waiting in one subscription; a publish that would pass it is refused.
pub(crate) const MAX_QUEUED_EVENTS: usize = 100_000;
/// Dead letters kept for inspection per subscription, by count and by bytes; older ones are
/// only counted.
const MAX_DEAD_LETTERS: usize = 1_000;
const MAX_DEAD_LETTER_BYTES: usize = 16 * 1024 * 1024;

/// Why a lock token could not be settled, as the live service answers it.
pub(crate) const TOKEN_LOST: (&str, &str) = ("TokenLost", "Token has expired.");

/// A settlement of locked events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settlement {
    Acknowledge,
    Release(Duration),
    Reject,
    RenewLock,
}

/// One event handed to a receiver.
pub(crate) struct Delivery {
    pub lock_token: String,
    pub delivery_count: u32,
    pub event: Bytes,
}

/// The counts the inspection API shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubscriptionCounts {
    /// Events that can be received now.
    pub available: u64,
    /// Events released with a delay that has not passed yet.
    pub delayed: u64,
    /// Events locked to a receiver.
    pub locked: u64,
    /// Events acknowledged.
    pub acknowledged: u64,
    /// Releases (an event released twice counts twice).
    pub released: u64,
    /// Events rejected (they are dead-lettered too).
    pub rejected: u64,
    /// Events dead-lettered: rejected, delivered the maximum number of times, or past their
    /// time-to-live.
    pub dead_lettered: u64,
    /// Deliveries to receivers (redeliveries included).
    pub delivered: u64,
    /// Events that entered the subscription.
    pub enqueued: u64,
}

/// An event that will not be delivered again, and why.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeadLetter {
    pub reason: &'static str,
    pub delivery_count: u32,
    pub dead_lettered_at: String,
    #[serde(skip)]
    pub event: Bytes,
}

struct Lock {
    token: String,
    until: Instant,
}

struct Entry {
    event: Bytes,
    enqueued: Instant,
    deliveries: u32,
    lock: Option<Lock>,
    /// Set by a release with a delay.
    not_before: Option<Instant>,
}

#[derive(Default)]
struct QueueState {
    next_sequence: u64,
    entries: BTreeMap<u64, Entry>,
    tokens: HashMap<String, u64>,
    bytes: usize,
    counts: SubscriptionCounts,
    dead_letters: VecDeque<DeadLetter>,
    dead_letter_bytes: usize,
    /// No lock expires and no event outlives its time-to-live before this: until then a
    /// sweep has nothing to do, and operations skip it (it walks every event).
    next_due: Option<Instant>,
}

/// A subscription's queue.
pub(crate) struct SubscriptionQueue {
    pub spec: SubscriptionSpec,
    max_bytes: usize,
    state: Mutex<QueueState>,
    arrivals: Notify,
}

impl SubscriptionQueue {
    pub(crate) fn new(spec: SubscriptionSpec, max_bytes: usize) -> Self {
        Self {
            spec,
            max_bytes,
            state: Mutex::new(QueueState::default()),
            arrivals: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `count` more events of `bytes` in total fit.
    pub(crate) fn has_room(&self, count: usize, bytes: usize) -> bool {
        let state = self.state();
        state.entries.len() + count <= MAX_QUEUED_EVENTS && state.bytes + bytes <= self.max_bytes
    }

    /// Adds events and wakes the waiting receivers.
    pub(crate) fn enqueue(&self, events: impl Iterator<Item = Bytes>) {
        let now = Instant::now();
        {
            let mut state = self.state();
            if let Some(ttl) = self.spec.event_time_to_live() {
                state.falls_due(now + ttl);
            }
            for event in events {
                let sequence = state.next_sequence;
                state.next_sequence += 1;
                state.bytes += event.len();
                state.counts.enqueued += 1;
                state.entries.insert(
                    sequence,
                    Entry {
                        event,
                        enqueued: now,
                        deliveries: 0,
                        lock: None,
                        not_before: None,
                    },
                );
            }
        }
        self.arrivals.notify_waiters();
    }

    /// Up to `max_events` events, locked: at once when some are available, else as soon as one
    /// is (published, released, or its lock or delay ends), else none after `wait`. `no_wait`
    /// answers at once in any case (the in-process emulator never sleeps).
    pub(crate) async fn receive(
        &self,
        max_events: usize,
        wait: Duration,
        no_wait: bool,
    ) -> Vec<Delivery> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.arrivals.notified();
            tokio::pin!(notified);
            // Registered before looking, so that an arrival between the look and the wait
            // still wakes this receiver.
            notified.as_mut().enable();
            let now = Instant::now();
            let next_change = {
                let mut state = self.state();
                let deliveries = state.take(&self.spec, now, max_events);
                if !deliveries.is_empty() || no_wait || now >= deadline {
                    return deliveries;
                }
                // Only a receive that waits needs it: it walks every event, which made each
                // receive cost as much as the queue is long (half the emulator's time when
                // 90,000 events were queued).
                state.next_change(&self.spec)
            };
            let wake = next_change.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {}
            }
        }
    }

    /// Settles each token; `Err` holds the failed tokens with the service's reason.
    pub(crate) fn settle(
        &self,
        settlement: Settlement,
        tokens: &[String],
    ) -> Vec<Result<(), (&'static str, &'static str)>> {
        let now = Instant::now();
        let mut state = self.state();
        state.sweep(&self.spec, now);
        let results = tokens
            .iter()
            .map(|token| state.settle_one(&self.spec, settlement, token, now))
            .collect();
        drop(state);
        if settlement == Settlement::Release(Duration::ZERO) {
            self.arrivals.notify_waiters();
        }
        results
    }

    pub(crate) fn counts(&self) -> SubscriptionCounts {
        let now = Instant::now();
        let mut state = self.state();
        state.sweep(&self.spec, now);
        let mut counts = state.counts;
        for entry in state.entries.values() {
            match (&entry.lock, entry.not_before) {
                (Some(_), _) => counts.locked += 1,
                (None, Some(at)) if at > now => counts.delayed += 1,
                (None, _) => counts.available += 1,
            }
        }
        counts
    }

    pub(crate) fn dead_letters(&self) -> Vec<DeadLetter> {
        let mut state = self.state();
        state.sweep(&self.spec, Instant::now());
        state.dead_letters.iter().cloned().collect()
    }
}

impl QueueState {
    /// Ends the locks that expired and dead-letters what may not be delivered again.
    fn sweep(&mut self, spec: &SubscriptionSpec, now: Instant) {
        if self.next_due.is_none_or(|due| now < due) {
            return;
        }
        let ttl = spec.event_time_to_live();
        let mut next_due = None::<Instant>;
        let mut dead = Vec::new();
        for (sequence, entry) in &mut self.entries {
            if entry.lock.as_ref().is_some_and(|lock| lock.until <= now) {
                let lock = entry.lock.take().expect("checked above");
                self.tokens.remove(&lock.token);
                if entry.deliveries >= spec.max_delivery_count() {
                    dead.push((*sequence, "MaxDeliveryCountExceeded"));
                    continue;
                }
            }
            let due = match (&entry.lock, ttl) {
                (Some(lock), _) => Some(lock.until),
                (None, Some(ttl)) if now.duration_since(entry.enqueued) >= ttl => {
                    dead.push((*sequence, "TimeToLiveExceeded"));
                    None
                }
                (None, Some(ttl)) => Some(entry.enqueued + ttl),
                (None, None) => None,
            };
            if let Some(due) = due {
                next_due = Some(next_due.map_or(due, |earliest| earliest.min(due)));
            }
        }
        self.next_due = next_due;
        for (sequence, reason) in dead {
            self.dead_letter(sequence, reason);
        }
    }

    /// Notes that something falls due at `at` (a lock's end, an event's time-to-live).
    fn falls_due(&mut self, at: Instant) {
        self.next_due = Some(self.next_due.map_or(at, |due| due.min(at)));
    }

    fn take(&mut self, spec: &SubscriptionSpec, now: Instant, max: usize) -> Vec<Delivery> {
        self.sweep(spec, now);
        let until = now + spec.lock_duration();
        let mut deliveries = Vec::new();
        for (sequence, entry) in &mut self.entries {
            if deliveries.len() == max {
                break;
            }
            if entry.lock.is_some() || entry.not_before.is_some_and(|at| at > now) {
                continue;
            }
            let token = uuid::Uuid::new_v4().simple().to_string();
            entry.deliveries += 1;
            entry.not_before = None;
            entry.lock = Some(Lock {
                token: token.clone(),
                until,
            });
            self.tokens.insert(token.clone(), *sequence);
            self.next_due = Some(self.next_due.map_or(until, |due| due.min(until)));
            deliveries.push(Delivery {
                lock_token: token,
                delivery_count: entry.deliveries,
                event: entry.event.clone(),
            });
        }
        self.counts.delivered += deliveries.len() as u64;
        deliveries
    }

    /// When the next event may become available or be dead-lettered on its own.
    fn next_change(&self, spec: &SubscriptionSpec) -> Option<Instant> {
        let ttl = spec.event_time_to_live();
        self.entries
            .values()
            .filter_map(|entry| match (&entry.lock, entry.not_before) {
                (Some(lock), _) => Some(lock.until),
                (None, Some(at)) => Some(at),
                (None, None) => ttl.map(|ttl| entry.enqueued + ttl),
            })
            .min()
    }

    fn settle_one(
        &mut self,
        spec: &SubscriptionSpec,
        settlement: Settlement,
        token: &str,
        now: Instant,
    ) -> Result<(), (&'static str, &'static str)> {
        let Some(&sequence) = self.tokens.get(token) else {
            return Err(TOKEN_LOST);
        };
        let entry = self.entries.get_mut(&sequence).ok_or(TOKEN_LOST)?;
        match settlement {
            Settlement::RenewLock => {
                if let Some(lock) = &mut entry.lock {
                    lock.until = now + spec.lock_duration();
                }
                return Ok(());
            }
            Settlement::Release(delay) => {
                entry.lock = None;
                let expires = spec.event_time_to_live().map(|ttl| entry.enqueued + ttl);
                self.tokens.remove(token);
                self.counts.released += 1;
                if entry.deliveries >= spec.max_delivery_count() {
                    self.dead_letter(sequence, "MaxDeliveryCountExceeded");
                } else {
                    if !delay.is_zero() {
                        entry.not_before = Some(now + delay);
                    }
                    if let Some(at) = expires {
                        self.falls_due(at);
                    }
                }
            }
            Settlement::Acknowledge => {
                self.tokens.remove(token);
                if let Some(entry) = self.entries.remove(&sequence) {
                    self.bytes -= entry.event.len();
                }
                self.counts.acknowledged += 1;
            }
            Settlement::Reject => {
                self.tokens.remove(token);
                self.counts.rejected += 1;
                self.dead_letter(sequence, "Rejected");
            }
        }
        Ok(())
    }

    fn dead_letter(&mut self, sequence: u64, reason: &'static str) {
        let Some(entry) = self.entries.remove(&sequence) else {
            return;
        };
        if let Some(lock) = &entry.lock {
            self.tokens.remove(&lock.token);
        }
        self.bytes -= entry.event.len();
        self.counts.dead_lettered += 1;
        self.dead_letter_bytes += entry.event.len();
        self.dead_letters.push_back(DeadLetter {
            reason,
            delivery_count: entry.deliveries,
            dead_lettered_at: OffsetDateTime::from(SystemTime::now())
                .format(&Rfc3339)
                .unwrap_or_default(),
            event: entry.event,
        });
        while self.dead_letters.len() > MAX_DEAD_LETTERS
            || self.dead_letter_bytes > MAX_DEAD_LETTER_BYTES
        {
            match self.dead_letters.pop_front() {
                Some(old) => self.dead_letter_bytes -= old.event.len(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(max_deliveries: u32) -> SubscriptionQueue {
        let spec: SubscriptionSpec = "t/s".parse().unwrap();
        SubscriptionQueue::new(spec.with_max_delivery_count(max_deliveries), 1 << 20)
    }

    #[tokio::test]
    async fn releases_count_deliveries_until_the_event_is_dead_lettered() {
        let queue = queue(2);
        queue.enqueue(std::iter::once(Bytes::from_static(b"{}")));
        for expected in 1..=2 {
            let got = queue.receive(10, Duration::ZERO, true).await;
            assert_eq!(got[0].delivery_count, expected);
            let token = got[0].lock_token.clone();
            assert_eq!(
                queue.settle(
                    Settlement::Release(Duration::ZERO),
                    std::slice::from_ref(&token)
                ),
                vec![Ok(())]
            );
            assert_eq!(
                queue.settle(Settlement::Acknowledge, &[token]),
                vec![Err(TOKEN_LOST)]
            );
        }
        let counts = queue.counts();
        assert_eq!(
            (counts.available, counts.dead_lettered, counts.released),
            (0, 1, 2)
        );
        assert_eq!(queue.dead_letters()[0].reason, "MaxDeliveryCountExceeded");
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let queue = queue(10);
        assert!(queue.has_room(1, 1 << 20));
        assert!(!queue.has_room(1, (1 << 20) + 1));
        assert!(!queue.has_room(MAX_QUEUED_EVENTS + 1, 0));
    }
}
