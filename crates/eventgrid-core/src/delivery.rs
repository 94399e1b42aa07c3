//! Delivering one request through its attempts, and tracking a whole send's outcome. The
//! clients drive these: they send what [`Delivery::request`] gives them, hand back the
//! result, and sleep when told to.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};

use crate::auth::AuthHeader;
use crate::batch::EncodedBatch;
use crate::client::Topic;
use crate::error::{DeliveryFailure, Error, FailedEvents, Result, TransportError};
use crate::retry::{Decision, RetryOptions, RetryState};

/// What the client does next with a [`Delivery`].
#[derive(Debug)]
pub enum Step {
    /// The service accepted the batch.
    Delivered,
    /// Sleep this long, then ask for the request again.
    RetryAfter(Duration),
    /// The batch finally failed.
    Failed(Error),
}

/// One batch on its way to a topic, across its attempts. Every attempt sends the same body,
/// so the same event ids: subscribers can recognise a duplicate if an attempt that timed out
/// had in fact arrived.
#[derive(Debug)]
pub struct Delivery {
    topic: Arc<Topic>,
    batch: EncodedBatch,
    retry: RetryState,
    sent_at: Option<Instant>,
}

impl Delivery {
    /// Starts delivering `batch` to `topic` at `now`.
    pub fn new(topic: Arc<Topic>, batch: EncodedBatch, retry: RetryOptions, now: Instant) -> Self {
        Self {
            topic,
            batch,
            retry: RetryState::new(retry, now),
            sent_at: None,
        }
    }

    /// The topic.
    pub fn topic(&self) -> &Arc<Topic> {
        &self.topic
    }

    /// Which events (indices into the send) this batch carries.
    pub fn events(&self) -> Range<usize> {
        self.batch.events.clone()
    }

    /// The next attempt's request, sent at `now` with `auth`.
    pub fn request(&mut self, auth: &AuthHeader, now: Instant) -> Request<Bytes> {
        self.sent_at = Some(now);
        self.topic.template().build(self.batch.body.clone(), auth)
    }

    /// Takes the attempt's result, received at `now`, records metrics and logs it.
    pub fn on_result(
        &mut self,
        result: Result<Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Step {
        let latency = self
            .sent_at
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        self.topic
            .counters()
            .record_attempt(self.batch.body.len(), latency);
        let status = result.as_ref().ok().map(|r| r.status().as_u16());
        tracing::debug!(
            topic = self.topic.name(),
            events = self.batch.len(),
            attempt = self.retry.attempts() + 1,
            status,
            duration_us = latency.as_micros() as u64,
            "eventgrid request"
        );
        let decision = self.retry.decide(result, now);
        self.step(decision)
    }

    /// Takes a failure that happened before anything was sent (no token could be obtained,
    /// the transport refused the request).
    pub fn on_error(&mut self, error: Error, now: Instant) -> Step {
        let decision = self.retry.decide_error(error, now);
        self.step(decision)
    }

    fn step(&mut self, decision: Decision) -> Step {
        let counters = self.topic.counters();
        match decision {
            Decision::Done { .. } => {
                counters.record_delivered(self.batch.len());
                Step::Delivered
            }
            Decision::Retry { delay, error } => {
                counters.record_retry();
                tracing::debug!(topic = self.topic.name(), delay_ms = delay.as_millis() as u64, %error, "eventgrid retry");
                Step::RetryAfter(delay)
            }
            Decision::Fail(error) => {
                counters.record_failed(self.batch.len());
                tracing::warn!(topic = self.topic.name(), events = self.batch.len(), %error, "eventgrid publish failed");
                Step::Failed(error)
            }
        }
    }
}

/// What a successful send did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendSummary {
    /// Events delivered.
    pub events: usize,
    /// Requests it took (not counting retries).
    pub requests: usize,
}

/// Collects the outcome of each batch of a send into one result.
#[derive(Debug)]
pub struct SendTracker {
    topic: String,
    delivered: Vec<Range<usize>>,
    failed: Vec<FailedEvents>,
}

impl SendTracker {
    /// A tracker for a send to `topic`.
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            delivered: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// Records that `events` were delivered.
    pub fn delivered(&mut self, events: Range<usize>) {
        self.delivered.push(events);
    }

    /// Records that `events` failed with `error`.
    pub fn failed(&mut self, events: Range<usize>, error: Error) {
        self.failed.push(FailedEvents { events, error });
    }

    /// The send's result: its summary when everything was delivered; the batch's own error
    /// when a single batch failed and nothing was delivered; otherwise
    /// [`Error::Delivery`] naming which events were delivered and which were not.
    pub fn finish(mut self) -> Result<SendSummary> {
        self.delivered.sort_by_key(|r| r.start);
        self.failed.sort_by_key(|f| f.events.start);
        if self.failed.is_empty() {
            return Ok(SendSummary {
                events: self.delivered.iter().map(|r| r.len()).sum(),
                requests: self.delivered.len(),
            });
        }
        if self.delivered.is_empty() && self.failed.len() == 1 {
            return Err(self.failed.pop().expect("one failure").error);
        }
        Err(Error::Delivery(Box::new(DeliveryFailure {
            topic: self.topic,
            delivered: merge(self.delivered),
            failed: self.failed,
        })))
    }
}

fn merge(ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => merged.push(range),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceError;

    fn service(status: u16) -> Error {
        Error::Service(ServiceError {
            status,
            code: None,
            message: "m".to_owned(),
            details: Vec::new(),
            request_id: None,
            retry_after: None,
        })
    }

    #[test]
    fn partial_failure_names_delivered_and_failed_events() {
        let mut tracker = SendTracker::new("orders");
        tracker.delivered(0..10);
        tracker.failed(10..20, service(400));
        tracker.delivered(20..30);
        let Err(Error::Delivery(failure)) = tracker.finish() else {
            panic!()
        };
        assert_eq!(failure.delivered, [0..10, 20..30]);
        assert_eq!(failure.failed[0].events, 10..20);
        assert!(failure.is_delivered(25) && !failure.is_delivered(15));
        assert!(
            failure
                .to_string()
                .starts_with("topic `orders`: 10 events not delivered, 20 delivered")
        );
    }

    #[test]
    fn single_failure_is_returned_as_is() {
        let mut tracker = SendTracker::new("t");
        tracker.failed(0..1, service(401));
        assert_eq!(tracker.finish().unwrap_err().status(), Some(401));
    }

    #[test]
    fn success_sums_events_and_requests() {
        let mut tracker = SendTracker::new("t");
        tracker.delivered(5..8);
        tracker.delivered(0..5);
        assert_eq!(
            tracker.finish().unwrap(),
            SendSummary {
                events: 8,
                requests: 2
            }
        );
    }
}
