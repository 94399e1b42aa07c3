//! The task that serves one subscription: the validation handshake, then deliveries in batches,
//! retries on the service's schedule (without holding up newer events) and dead letters.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::client::Exchange;
use super::dead_letter::{self, DeadLetter, Verdict, rfc3339};
use super::handshake::{HandshakeAnswer, judge_options_answer, judge_validation_answer};
use super::log::DeliveryAttempt;
use super::registry::PushContext;
use super::request::{
    Notification, abuse_protection_request, deletion_request, in_delivery_schema, stamped_event,
    validation_request,
};
use super::retry::{AttemptResult, NextStep, next_step, scale};
use super::state::{Queued, Subscription, SubscriptionState};
use crate::config::topic::Schema;

/// How long the endpoint has to GET the validation URL (the service's 10 minutes).
const VALIDATION_WINDOW: Duration = Duration::from_secs(600);
/// The wait between handshake attempts (the service's 5 seconds).
const HANDSHAKE_RETRY: Duration = Duration::from_secs(5);
/// Refusals (an answer, but not a grant) before the handshake fails.
const HANDSHAKE_REFUSALS: u32 = 2;

/// An event ready for delivery.
struct Ready {
    event: Value,
    /// Its delivered JSON text's length, for batching.
    size: usize,
    /// Its published text's length, as the queue's byte bound counts it.
    text_len: usize,
    published_at: Instant,
    publish_time: OffsetDateTime,
}

/// Events delivered or retried together.
struct Batch {
    events: Vec<Ready>,
    attempts: u32,
}

/// How many events `events` are and how many bytes the queue counts for them.
fn load(events: &[Ready]) -> (usize, usize) {
    (
        events.len(),
        events.iter().map(|ready| ready.text_len).sum(),
    )
}

pub(crate) async fn run(
    subscription: Arc<Subscription>,
    context: Arc<PushContext>,
    mut queue: mpsc::UnboundedReceiver<Queued>,
) {
    if subscription.spec.validate && !handshake(&subscription, &context).await {
        // Whatever waited is not delivered; `offer` takes nothing more.
        queue.close();
        let (mut dropped, mut bytes) = (0, 0);
        while let Ok(queued) = queue.try_recv() {
            dropped += 1;
            bytes += queued.text.len();
        }
        subscription.count_dropped(dropped, bytes);
        return;
    }
    Deliveries::new(subscription, context).run(queue).await;
}

/// Runs the handshake of the subscription's delivery schema; `true` once validated.
async fn handshake(subscription: &Subscription, context: &PushContext) -> bool {
    let scale_factor = context.time_scale;
    let deadline = Instant::now() + scale(VALIDATION_WINDOW, scale_factor);
    let cloud_events = subscription.delivery_schema == Schema::CloudEvents;
    let mut refusals = 0;
    loop {
        let request = if cloud_events {
            abuse_protection_request(subscription.spec.endpoint(), &subscription.validation_url)
        } else {
            validation_request(
                subscription.spec.endpoint(),
                subscription.spec.name(),
                subscription.spec.topic(),
                &subscription.validation_code,
                &subscription.validation_url,
                &rfc3339(OffsetDateTime::now_utc()),
            )
        };
        let sent = OffsetDateTime::now_utc();
        let exchange = context.client.exchange(request).await;
        let answer = match &exchange.result {
            _ if subscription.validation_url_visited() => HandshakeAnswer::Granted,
            AttemptResult::Status(status) if cloud_events => {
                judge_options_answer(*status, &exchange.headers)
            }
            AttemptResult::Status(status) => {
                judge_validation_answer(*status, &exchange.body, &subscription.validation_code)
            }
            AttemptResult::TimedOut | AttemptResult::Failed(_) => {
                let reason = match &exchange.result {
                    AttemptResult::Failed(reason) => reason.clone(),
                    _ => "no answer within the time-out".to_owned(),
                };
                HandshakeAnswer::Refused(format!("the endpoint is unreachable: {reason}"))
            }
        };
        let unreachable = exchange.result.status().is_none();
        let verdict = match &answer {
            HandshakeAnswer::Granted => "validated".to_owned(),
            HandshakeAnswer::Pending => "waiting for a GET of the validation URL".to_owned(),
            HandshakeAnswer::Refused(reason) => reason.clone(),
        };
        context.log.record_attempt(DeliveryAttempt {
            topic: subscription.spec.topic().to_owned(),
            subscription: subscription.spec.name().to_owned(),
            kind: if cloud_events {
                "AbuseProtection"
            } else {
                "SubscriptionValidation"
            }
            .to_owned(),
            event_ids: Vec::new(),
            delivery_count: refusals,
            time: rfc3339(sent),
            latency_ms: exchange.latency.as_millis() as u64,
            status: exchange.result.status(),
            outcome: exchange.result.outcome().to_owned(),
            error: error_of(&exchange),
            next: verdict.clone(),
        });
        match answer {
            HandshakeAnswer::Granted => {
                subscription.set_state(SubscriptionState::Active, None);
                return true;
            }
            HandshakeAnswer::Pending => {
                subscription.set_state(SubscriptionState::AwaitingValidation, Some(verdict));
                let visited =
                    tokio::time::timeout_at(deadline.into(), subscription.visited.notified())
                        .await
                        .is_ok();
                if visited || subscription.validation_url_visited() {
                    subscription.set_state(SubscriptionState::Active, None);
                    return true;
                }
                subscription.set_state(
                    SubscriptionState::Failed,
                    Some("the validation URL was not visited in time".to_owned()),
                );
                return false;
            }
            HandshakeAnswer::Refused(reason) => {
                // An endpoint that is not up yet gets until the end of the window; one that
                // answers no gets a second chance.
                if !unreachable {
                    refusals += 1;
                }
                let retry_at = Instant::now() + scale(HANDSHAKE_RETRY, scale_factor);
                if refusals >= HANDSHAKE_REFUSALS || retry_at > deadline {
                    subscription.set_state(SubscriptionState::Failed, Some(reason));
                    return false;
                }
                subscription.set_state(
                    SubscriptionState::Validating,
                    Some(format!("{reason}; retrying")),
                );
                let visited =
                    tokio::time::timeout_at(retry_at.into(), subscription.visited.notified())
                        .await
                        .is_ok();
                if visited {
                    subscription.set_state(SubscriptionState::Active, None);
                    return true;
                }
            }
        }
    }
}

/// Sends the `SubscriptionDeletion` event once, and logs the attempt; not retried.
pub(crate) async fn announce_deletion(subscription: Arc<Subscription>, context: Arc<PushContext>) {
    let sent = OffsetDateTime::now_utc();
    let request = deletion_request(
        subscription.spec.endpoint(),
        subscription.spec.name(),
        subscription.spec.topic(),
        subscription.delivery_schema,
        &rfc3339(sent),
    );
    let exchange = context.client.exchange(request).await;
    context.log.record_attempt(DeliveryAttempt {
        topic: subscription.spec.topic().to_owned(),
        subscription: subscription.spec.name().to_owned(),
        kind: "SubscriptionDeletion".to_owned(),
        event_ids: Vec::new(),
        delivery_count: 0,
        time: rfc3339(sent),
        latency_ms: exchange.latency.as_millis() as u64,
        status: exchange.result.status(),
        outcome: exchange.result.outcome().to_owned(),
        error: error_of(&exchange),
        next: "done".to_owned(),
    });
}

fn error_of(exchange: &Exchange) -> Option<String> {
    match &exchange.result {
        AttemptResult::Failed(reason) => Some(reason.clone()),
        AttemptResult::TimedOut => Some("no answer within the time-out".to_owned()),
        AttemptResult::Status(_) => None,
    }
}

/// The delivery loop's state.
struct Deliveries {
    subscription: Arc<Subscription>,
    context: Arc<PushContext>,
    ready: VecDeque<Ready>,
    /// Batches waiting for their retry, by due time (and a sequence number for ties).
    retries: BTreeMap<(Instant, u64), Batch>,
    sequence: u64,
}

impl Deliveries {
    fn new(subscription: Arc<Subscription>, context: Arc<PushContext>) -> Self {
        Self {
            subscription,
            context,
            ready: VecDeque::new(),
            retries: BTreeMap::new(),
            sequence: 0,
        }
    }

    async fn run(mut self, mut queue: mpsc::UnboundedReceiver<Queued>) {
        loop {
            while let Ok(queued) = queue.try_recv() {
                self.accept(queued);
            }
            let now = Instant::now();
            if let Some(entry) = self.retries.first_entry()
                && entry.key().0 <= now
            {
                let batch = entry.remove();
                self.attempt(batch).await;
                continue;
            }
            self.expire_waiting(now);
            let count = self
                .subscription
                .spec
                .batching
                .take(self.ready.iter().map(|ready| ready.size));
            if count > 0 {
                let events = self.ready.drain(..count).collect();
                self.attempt(Batch {
                    events,
                    attempts: 0,
                })
                .await;
                continue;
            }
            let next_retry = self.retries.keys().next().map(|(due, _)| *due);
            tokio::select! {
                queued = queue.recv() => match queued {
                    Some(queued) => self.accept(queued),
                    None => return,
                },
                _ = sleep_until(next_retry) => {}
            }
        }
    }

    /// Filters and shapes a published event.
    fn accept(&mut self, queued: Queued) {
        let subscription = &self.subscription;
        // Filters judge events in the topic's schema (their keys are the topic's: `EventType`,
        // `Subject`), whatever the delivery schema.
        let Some(event) = stamped_event(
            subscription.topic_schema,
            subscription.spec.topic(),
            &queued.text,
        ) else {
            subscription.count_filtered(queued.text.len());
            return;
        };
        if !subscription
            .spec
            .event_filter
            .matches(subscription.topic_schema, &event)
        {
            subscription.count_filtered(queued.text.len());
            return;
        }
        let event = in_delivery_schema(
            subscription.topic_schema,
            subscription.delivery_schema,
            event,
        );
        let size = serde_json::to_vec(&event).map_or(queued.text.len(), |text| text.len());
        self.ready.push_back(Ready {
            event,
            size,
            text_len: queued.text.len(),
            published_at: queued.published_at,
            publish_time: queued.publish_time,
        });
    }

    /// Dead-letters events that waited past their time-to-live before a first attempt.
    fn expire_waiting(&mut self, now: Instant) {
        let time_to_live = scale(
            self.subscription.spec.retry_policy.time_to_live(),
            self.context.time_scale,
        );
        while let Some(front) = self.ready.front()
            && now.duration_since(front.published_at) > time_to_live
        {
            let expired = self.ready.pop_front().expect("front exists");
            self.dead_letter(
                &[expired],
                &Verdict {
                    reason: "TimeToLiveExceeded",
                    attempts: 0,
                    last_outcome: "Undelivered",
                    last_status: None,
                    published: OffsetDateTime::now_utc(),
                    last_attempt: OffsetDateTime::now_utc(),
                },
            );
        }
    }

    async fn attempt(&mut self, mut batch: Batch) {
        let subscription = Arc::clone(&self.subscription);
        let events: Vec<Value> = batch
            .events
            .iter()
            .map(|ready| ready.event.clone())
            .collect();
        let request = Notification {
            endpoint: subscription.spec.endpoint(),
            subscription: subscription.spec.name(),
            schema: subscription.delivery_schema,
            batching: subscription.spec.batching.max_events_per_batch > 1,
            delivery_count: batch.attempts,
        }
        .request(&events);
        let sent = OffsetDateTime::now_utc();
        let exchange = self.context.client.exchange(request).await;
        batch.attempts += 1;
        subscription.count_attempt(exchange.result.succeeded());
        let oldest = batch
            .events
            .iter()
            .map(|ready| ready.published_at)
            .min()
            .unwrap_or_else(Instant::now);
        let step = next_step(
            &exchange.result,
            batch.attempts,
            oldest.elapsed(),
            &subscription.spec.retry_policy,
            self.context.time_scale,
        );
        self.context.log.record_attempt(DeliveryAttempt {
            topic: subscription.spec.topic().to_owned(),
            subscription: subscription.spec.name().to_owned(),
            kind: "Notification".to_owned(),
            event_ids: events
                .iter()
                .map(|event| {
                    event
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
                .collect(),
            delivery_count: batch.attempts - 1,
            time: rfc3339(sent),
            latency_ms: exchange.latency.as_millis() as u64,
            status: exchange.result.status(),
            outcome: exchange.result.outcome().to_owned(),
            error: error_of(&exchange),
            next: match &step {
                NextStep::Done => "done".to_owned(),
                NextStep::RetryAfter(wait) => format!("retry in {} ms", wait.as_millis()),
                NextStep::DeadLetter(reason) => format!("dead-lettered: {reason}"),
            },
        });
        match step {
            NextStep::Done => {
                let (events, bytes) = load(&batch.events);
                subscription.count_delivered(events, bytes);
            }
            NextStep::RetryAfter(wait) => {
                self.sequence += 1;
                self.retries
                    .insert((Instant::now() + wait, self.sequence), batch);
            }
            NextStep::DeadLetter(reason) => {
                let verdict = Verdict {
                    reason,
                    attempts: batch.attempts,
                    last_outcome: exchange.result.outcome(),
                    last_status: exchange.result.status(),
                    published: OffsetDateTime::now_utc(),
                    last_attempt: sent,
                };
                self.dead_letter(&batch.events, &verdict);
            }
        }
    }

    /// Records `events` as dead letters (each with its own publish time) and writes them to the
    /// subscription's folder, if it has one.
    fn dead_letter(&self, events: &[Ready], verdict: &Verdict<'_>) {
        let subscription = &self.subscription;
        let records: Vec<Value> = events
            .iter()
            .map(|ready| {
                Verdict {
                    published: ready.publish_time,
                    ..*verdict
                }
                .mark(&ready.event)
            })
            .collect();
        for (record, ready) in records.iter().zip(events) {
            self.context.log.record_dead_letter(
                DeadLetter {
                    topic: subscription.spec.topic().to_owned(),
                    subscription: subscription.spec.name().to_owned(),
                    event: record.clone(),
                },
                ready.size,
            );
        }
        let (count, bytes) = load(events);
        subscription.count_dead_lettered(count, bytes);
        if let Some(folder) = &subscription.spec.dead_letter_folder {
            let path = dead_letter::file_path(
                folder,
                subscription.spec.topic(),
                subscription.spec.name(),
                verdict.last_attempt,
            );
            // Off the runtime's threads: a slow disk must not hold up other subscriptions. A
            // failure is reported, never fatal to delivery.
            let subscription = Arc::clone(subscription);
            tokio::task::spawn_blocking(move || {
                if let Err(error) = dead_letter::write(&path, &records) {
                    subscription
                        .set_dead_letter_error(format!("cannot write {}: {error}", path.display()));
                }
            });
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}
