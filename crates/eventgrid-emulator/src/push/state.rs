//! The live state of one event subscription: its validation phase, its bounded queue and its
//! counters. Publishing only offers events to it, never waits on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc};

use super::subscription::WebhookSubscription;
use crate::config::topic::Schema;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionState {
    /// The validation handshake is under way; events wait in the queue.
    Validating,
    /// The endpoint accepted the handshake without granting it; it may still GET the
    /// validation URL. Events wait in the queue.
    AwaitingValidation,
    /// Validated (or validation skipped): events are delivered.
    Active,
    /// The endpoint did not validate: nothing is delivered; the reason says why.
    Failed,
}

impl SubscriptionState {
    /// `validating`, `awaiting_validation`, `active` or `failed`, as the inspection API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validating => "validating",
            Self::AwaitingValidation => "awaiting_validation",
            Self::Active => "active",
            Self::Failed => "failed",
        }
    }
}

/// A subscription's counters since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubscriptionCounters {
    /// Events waiting: queued, being delivered or waiting for a retry.
    pub queued_events: u64,
    /// Events delivered (answered 200-204).
    pub delivered_events: u64,
    /// Delivery requests sent, handshakes excluded.
    pub delivery_attempts: u64,
    /// Delivery requests that failed (any answer but 200-204, a time-out, no connection).
    pub failed_attempts: u64,
    /// Events dead-lettered.
    pub dead_lettered_events: u64,
    /// Events not taken because the queue was full or the subscription failed validation.
    pub dropped_events: u64,
    /// Events the filter left out.
    pub filtered_events: u64,
}

/// What the inspection API shows of a subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SubscriptionInfo {
    /// The topic.
    pub topic: String,
    /// The subscription's name.
    pub name: String,
    /// The endpoint without its query (which often holds a secret).
    pub endpoint: String,
    /// The schema events are delivered in.
    pub delivery_schema: Schema,
    /// Where it stands.
    pub state: SubscriptionState,
    /// Why it failed, or what the handshake is waiting for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The URL whose GET validates it, while the handshake is under way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_url: Option<String>,
    /// Why the last dead-letter file could not be written, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_error: Option<String>,
    /// Its counters.
    pub counters: SubscriptionCounters,
}

/// An event waiting for delivery: its text as published and when it was published.
#[derive(Debug)]
pub(crate) struct Queued {
    pub text: Bytes,
    pub published_at: Instant,
    pub publish_time: OffsetDateTime,
}

/// One subscription while it runs.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub spec: WebhookSubscription,
    pub topic_schema: Schema,
    pub delivery_schema: Schema,
    /// The `validationCode`, also the `id` of the validation URL.
    pub validation_code: String,
    pub validation_url: String,
    phase: Mutex<(SubscriptionState, Option<String>)>,
    dead_letter_error: Mutex<Option<String>>,
    /// Set by a GET of the validation URL (which may come before the POST is answered).
    url_visited: AtomicBool,
    pub visited: Notify,
    queue: mpsc::UnboundedSender<Queued>,
    /// Events queued, in delivery or waiting for a retry, and their texts' bytes; bounded by
    /// `capacity` and `capacity_bytes`.
    held: Mutex<(usize, usize)>,
    capacity: usize,
    capacity_bytes: usize,
    delivered: AtomicU64,
    attempts: AtomicU64,
    failed_attempts: AtomicU64,
    dead_lettered: AtomicU64,
    dropped: AtomicU64,
    filtered: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Subscription {
    /// A subscription and the receiving end of its queue (for its worker).
    pub(crate) fn new(
        spec: WebhookSubscription,
        topic_schema: Schema,
        delivery_schema: Schema,
        validation_base: &str,
        capacity: usize,
        capacity_bytes: usize,
    ) -> (Self, mpsc::UnboundedReceiver<Queued>) {
        let (queue, receiver) = mpsc::unbounded_channel();
        let validation_code = uuid::Uuid::new_v4().to_string().to_ascii_uppercase();
        let validation_url = format!(
            "{validation_base}/eventsubscriptions/{}/validate?id={validation_code}",
            spec.name()
        );
        let phase = if spec.validate {
            SubscriptionState::Validating
        } else {
            SubscriptionState::Active
        };
        let subscription = Self {
            spec,
            topic_schema,
            delivery_schema,
            validation_code,
            validation_url,
            phase: Mutex::new((phase, None)),
            dead_letter_error: Mutex::new(None),
            url_visited: AtomicBool::new(false),
            visited: Notify::new(),
            queue,
            held: Mutex::new((0, 0)),
            capacity,
            capacity_bytes,
            delivered: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
            failed_attempts: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
        };
        (subscription, receiver)
    }

    /// Takes an event for delivery unless the queue is full or the subscription failed; never
    /// waits.
    pub(crate) fn offer(&self, event: Queued) {
        if self.state() == SubscriptionState::Failed {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let bytes = event.text.len();
        let taken = {
            let mut held = lock(&self.held);
            let fits = held.0 < self.capacity && held.1 + bytes <= self.capacity_bytes;
            if fits {
                held.0 += 1;
                held.1 += bytes;
            }
            fits
        };
        if !taken {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.queue.send(event).is_err() {
            self.release(1, bytes);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `events` held events of `bytes` bytes are done with (delivered, dead-lettered, filtered
    /// or dropped).
    fn release(&self, events: usize, bytes: usize) {
        let mut held = lock(&self.held);
        held.0 = held.0.saturating_sub(events);
        held.1 = held.1.saturating_sub(bytes);
    }

    pub(crate) fn state(&self) -> SubscriptionState {
        lock(&self.phase).0
    }

    pub(crate) fn set_state(&self, state: SubscriptionState, reason: Option<String>) {
        *lock(&self.phase) = (state, reason);
    }

    /// A GET of the validation URL: grants the handshake if it is under way.
    pub(crate) fn visit_validation_url(&self) -> Result<(), String> {
        match self.state() {
            SubscriptionState::Validating | SubscriptionState::AwaitingValidation => {
                self.url_visited.store(true, Ordering::Release);
                self.visited.notify_one();
                Ok(())
            }
            SubscriptionState::Active => Ok(()),
            SubscriptionState::Failed => Err(format!(
                "the subscription `{}` is no longer validating: {}",
                self.spec.name(),
                lock(&self.phase).1.clone().unwrap_or_default()
            )),
        }
    }

    pub(crate) fn validation_url_visited(&self) -> bool {
        self.url_visited.load(Ordering::Acquire)
    }

    pub(crate) fn set_dead_letter_error(&self, error: String) {
        *lock(&self.dead_letter_error) = Some(error);
    }

    pub(crate) fn count_attempt(&self, succeeded: bool) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if !succeeded {
            self.failed_attempts.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_delivered(&self, events: usize, bytes: usize) {
        self.delivered.fetch_add(events as u64, Ordering::Relaxed);
        self.release(events, bytes);
    }

    pub(crate) fn count_dead_lettered(&self, events: usize, bytes: usize) {
        self.dead_lettered
            .fetch_add(events as u64, Ordering::Relaxed);
        self.release(events, bytes);
    }

    pub(crate) fn count_filtered(&self, bytes: usize) {
        self.filtered.fetch_add(1, Ordering::Relaxed);
        self.release(1, bytes);
    }

    pub(crate) fn count_dropped(&self, events: usize, bytes: usize) {
        self.dropped.fetch_add(events as u64, Ordering::Relaxed);
        self.release(events, bytes);
    }

    pub(crate) fn info(&self) -> SubscriptionInfo {
        let (state, reason) = lock(&self.phase).clone();
        let validating = matches!(
            state,
            SubscriptionState::Validating | SubscriptionState::AwaitingValidation
        );
        SubscriptionInfo {
            topic: self.spec.topic().to_owned(),
            name: self.spec.name().to_owned(),
            endpoint: self.spec.endpoint_base_url(),
            delivery_schema: self.delivery_schema,
            state,
            reason,
            validation_url: validating.then(|| self.validation_url.clone()),
            dead_letter_error: lock(&self.dead_letter_error).clone(),
            counters: SubscriptionCounters {
                queued_events: lock(&self.held).0 as u64,
                delivered_events: self.delivered.load(Ordering::Relaxed),
                delivery_attempts: self.attempts.load(Ordering::Relaxed),
                failed_attempts: self.failed_attempts.load(Ordering::Relaxed),
                dead_lettered_events: self.dead_lettered.load(Ordering::Relaxed),
                dropped_events: self.dropped.load(Ordering::Relaxed),
                filtered_events: self.filtered.load(Ordering::Relaxed),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued() -> Queued {
        Queued {
            text: Bytes::from_static(b"{}"),
            published_at: Instant::now(),
            publish_time: OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn a_full_queue_drops_instead_of_waiting() {
        let spec: WebhookSubscription = "t=http://127.0.0.1:9/".parse().unwrap();
        let (subscription, mut receiver) = Subscription::new(
            spec,
            Schema::EventGrid,
            Schema::EventGrid,
            "http://e",
            2,
            1024,
        );
        for _ in 0..5 {
            subscription.offer(queued());
        }
        let counters = subscription.info().counters;
        assert_eq!((counters.queued_events, counters.dropped_events), (2, 3));
        assert!(receiver.try_recv().is_ok());
        subscription.count_delivered(1, 2);
        subscription.offer(queued());
        assert_eq!(subscription.info().counters.queued_events, 2);
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_too() {
        let spec: WebhookSubscription = "t=http://127.0.0.1:9/".parse().unwrap();
        let (subscription, _receiver) = Subscription::new(
            spec,
            Schema::EventGrid,
            Schema::EventGrid,
            "http://e",
            100,
            5,
        );
        for _ in 0..3 {
            subscription.offer(queued()); // 2 bytes each: the third does not fit in 5
        }
        let counters = subscription.info().counters;
        assert_eq!((counters.queued_events, counters.dropped_events), (2, 1));
        subscription.count_filtered(2);
        subscription.offer(queued());
        assert_eq!(subscription.info().counters.queued_events, 2);
    }

    #[test]
    fn a_failed_subscription_takes_nothing_and_says_why() {
        let spec: WebhookSubscription = "t=http://127.0.0.1:9/".parse().unwrap();
        let (subscription, _receiver) = Subscription::new(
            spec,
            Schema::EventGrid,
            Schema::EventGrid,
            "http://e",
            10,
            1024,
        );
        assert_eq!(subscription.state(), SubscriptionState::Validating);
        assert!(
            subscription
                .info()
                .validation_url
                .unwrap()
                .starts_with("http://e/eventsubscriptions/webhook/validate?id=")
        );
        subscription.set_state(SubscriptionState::Failed, Some("answered 404".into()));
        subscription.offer(queued());
        let info = subscription.info();
        assert_eq!(
            (info.counters.queued_events, info.counters.dropped_events),
            (0, 1)
        );
        assert_eq!(info.reason.as_deref(), Some("answered 404"));
        assert!(
            subscription
                .visit_validation_url()
                .unwrap_err()
                .contains("answered 404")
        );
    }
}
