//! Delivering a send's batches: each through its attempts as the core decides, several at once
//! on scoped threads, sleeping between attempts on the thread that delivers.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use eventgrid_core::{
    AuthHeader, AuthStep, EncodedBatch, Error, Result, SendSummary, SendTracker, Step, Topic,
    ensure_credentials_protected,
};
use time::OffsetDateTime;
use tracing::field::Empty;

use crate::client::Inner;

impl Inner {
    /// Delivers every batch, at most `max_concurrent_requests` at a time, and reports the
    /// outcome of all of them.
    pub(crate) fn deliver_all(
        &self,
        topic: &Arc<Topic>,
        batches: Vec<EncodedBatch>,
    ) -> Result<SendSummary> {
        let workers = self
            .core
            .options()
            .max_concurrent_requests
            .min(batches.len());
        let mut tracker = SendTracker::new(topic.name());
        if workers <= 1 {
            for batch in batches {
                let events = batch.events.clone();
                record(&mut tracker, events, self.deliver(topic, batch));
            }
            return tracker.finish();
        }
        let queue = Mutex::new(batches.into_iter());
        let tracker = Mutex::new(tracker);
        let work = || {
            loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(batch) = next else { break };
                let events = batch.events.clone();
                let outcome = self.deliver(topic, batch);
                record(
                    &mut tracker.lock().unwrap_or_else(|e| e.into_inner()),
                    events,
                    outcome,
                );
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(work);
            }
            work();
        });
        tracker
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .finish()
    }

    /// Delivers batches as `batches` encodes them, on `max_concurrent_requests` worker
    /// threads. The calling thread encodes the next batch only when a worker is free to take
    /// it, so at most the workers' batches, one handed over and the one being filled exist at
    /// once. An encoding error (an invalid event) is recorded against the events from the last
    /// batch handed over up to it, and nothing more is read.
    pub(crate) fn deliver_stream(
        &self,
        topic: &Arc<Topic>,
        batches: impl Iterator<Item = Result<EncodedBatch>>,
    ) -> Result<SendSummary> {
        let tracker = Mutex::new(SendTracker::new(topic.name()));
        let (hand_over, take) = std::sync::mpsc::sync_channel::<EncodedBatch>(0);
        let take = Mutex::new(take);
        std::thread::scope(|scope| {
            for _ in 0..self.core.options().max_concurrent_requests {
                scope.spawn(|| {
                    loop {
                        let next = take.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(batch) = next else { break };
                        let events = batch.events.clone();
                        let outcome = self.deliver(topic, batch);
                        record(
                            &mut tracker.lock().unwrap_or_else(|e| e.into_inner()),
                            events,
                            outcome,
                        );
                    }
                });
            }
            let mut handed_over_up_to = 0;
            for batch in batches {
                match batch {
                    Ok(batch) => {
                        handed_over_up_to = batch.events.end;
                        if hand_over.send(batch).is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        let end = match &error {
                            Error::InvalidEvent { index, .. }
                            | Error::EventTooLarge { index, .. } => index + 1,
                            _ => handed_over_up_to,
                        };
                        let mut tracker = tracker.lock().unwrap_or_else(|e| e.into_inner());
                        tracker.failed(handed_over_up_to..end, error);
                        break;
                    }
                }
            }
            // Closing the channel lets the workers finish.
            drop(hand_over);
        });
        tracker
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .finish()
    }

    /// One batch through its attempts, in an `eventgrid.publish` span naming the topic and the
    /// number of events, and recording the attempts, the last status and the duration.
    /// Authentication is resolved for every attempt, so a token or SAS that lapsed during a
    /// back-off is renewed.
    pub(crate) fn deliver(&self, topic: &Arc<Topic>, batch: EncodedBatch) -> Result<()> {
        let span = tracing::info_span!(
            "eventgrid.publish",
            topic = topic.name(),
            events = batch.len(),
            attempts = Empty,
            status = Empty,
            duration_ms = Empty,
        );
        let _entered = span.enter();
        let started = Instant::now();
        let mut delivery = topic.deliver(batch, &self.core, started);
        let mut attempts: u32 = 0;
        let outcome = loop {
            attempts += 1;
            let step = match self.auth(topic) {
                Ok(auth) => {
                    let request = delivery.request(&auth, Instant::now());
                    match ensure_credentials_protected(&request) {
                        Ok(()) => {
                            let result = self.transport.send(request);
                            if let Ok(response) = &result {
                                span.record("status", response.status().as_u16());
                            }
                            delivery.on_result(result, Instant::now())
                        }
                        Err(refused) => delivery.on_error(refused, Instant::now()),
                    }
                }
                Err(error) => delivery.on_error(error, Instant::now()),
            };
            match step {
                Step::Delivered => break Ok(()),
                Step::RetryAfter(delay) => std::thread::sleep(delay),
                Step::Failed(error) => break Err(error),
            }
        };
        span.record("attempts", attempts);
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        outcome
    }

    fn auth(&self, topic: &Topic) -> Result<AuthHeader> {
        let now = OffsetDateTime::now_utc();
        match topic.auth(now)? {
            AuthStep::Ready(header) => Ok(header),
            AuthStep::NeedsToken => match &self.tokens {
                Some(tokens) => tokens.header(now),
                None => Err(Error::Credential(format!(
                    "topic `{}` needs a token but the client has no token credential",
                    topic.name()
                ))),
            },
        }
    }
}

fn record(tracker: &mut SendTracker, events: Range<usize>, outcome: Result<()>) {
    match outcome {
        Ok(()) => tracker.delivered(events),
        Err(error) => tracker.failed(events, error),
    }
}
