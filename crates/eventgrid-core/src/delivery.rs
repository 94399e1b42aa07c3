//! Publishing one batch (the [`Publish`] exchange the engine drives), and tracking a whole
//! send's outcome across its batches.

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use tracing::Span;
use tracing::field::Empty;

use crate::auth::AuthHeader;
use crate::batch::EncodedBatch;
use crate::client::Topic;
use crate::engine::{Authorizer, Exchange};
use crate::error::{DeliveryFailure, Error, FailedEvents, Result};

/// One batch on its way to a topic. Every attempt sends the same body, so the same event ids:
/// subscribers can recognise a duplicate if an attempt that timed out had in fact arrived.
#[derive(Debug)]
pub struct Publish {
    topic: Arc<Topic>,
    batch: EncodedBatch,
}

impl Publish {
    /// Publishing `batch` to `topic`.
    pub fn new(topic: Arc<Topic>, batch: EncodedBatch) -> Self {
        Self { topic, batch }
    }

    /// Which events (indices into the send) this batch carries.
    pub fn events(&self) -> Range<usize> {
        self.batch.events.clone()
    }
}

impl Exchange for Publish {
    type Output = ();

    fn authorizer(&self) -> &Authorizer {
        self.topic.authorizer()
    }

    fn request(&self, auth: &AuthHeader) -> Request<Bytes> {
        self.topic.template().build(self.batch.body.clone(), auth)
    }

    fn accept(&mut self, _response: Response<Bytes>) -> Result<()> {
        Ok(())
    }

    fn explain(&self, error: Error) -> Error {
        crate::namespace::explain_not_found(&self.topic, error)
    }

    fn span(&self) -> Span {
        tracing::info_span!(
            "eventgrid.publish",
            topic = self.topic.name(),
            events = self.batch.len(),
            attempts = Empty,
            status = Empty,
            duration_ms = Empty,
        )
    }

    fn on_attempt(&self, latency: Duration) {
        self.topic
            .counters()
            .record_attempt(self.batch.body.len(), latency);
    }

    fn on_retry(&self) {
        self.topic.counters().record_retry();
    }

    fn on_outcome(&self, delivered: bool) {
        let counters = self.topic.counters();
        if delivered {
            counters.record_delivered(self.batch.len());
        } else {
            counters.record_failed(self.batch.len());
        }
    }
}

/// What a successful send did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SendSummary {
    /// Events delivered.
    pub events: usize,
    /// Requests it took (not counting retries).
    pub requests: usize,
}

impl SendSummary {
    /// A summary of `events` delivered in `requests` requests.
    pub fn new(events: usize, requests: usize) -> Self {
        Self { events, requests }
    }
}

/// Collects the outcome of each batch of a send into one result. Shared by reference among the
/// threads or tasks that deliver the batches: recording takes `&self`.
#[derive(Debug)]
pub struct SendTracker {
    topic: String,
    outcomes: Mutex<Outcomes>,
}

#[derive(Debug, Default)]
struct Outcomes {
    delivered: Vec<Range<usize>>,
    failed: Vec<FailedEvents>,
}

impl SendTracker {
    /// A tracker for a send to `topic`.
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            outcomes: Mutex::default(),
        }
    }

    /// The outcomes so far. Every change is a single push, so a lock poisoned by a panicking
    /// deliverer still holds whole outcomes.
    fn outcomes(&self) -> MutexGuard<'_, Outcomes> {
        self.outcomes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that `events` were delivered.
    pub fn delivered(&self, events: Range<usize>) {
        self.outcomes().delivered.push(events);
    }

    /// Records that `events` failed with `error`.
    pub fn failed(&self, events: Range<usize>, error: Error) {
        self.outcomes().failed.push(FailedEvents { events, error });
    }

    /// Records the error a send's stream of batches ended with, when the events before `from`
    /// were handed over in batches and `read` events had been taken from the caller's iterator:
    /// the events from `from` up to the refused one (which its error names) are not delivered,
    /// nor those read after it (by a reader ahead of the encoders, see
    /// [`EventChunks`](crate::frontend::EventChunks)), which are named with the same error.
    pub fn stream_failed(&self, from: usize, error: Error, read: usize) {
        let end = match &error {
            Error::InvalidEvent { index, .. } | Error::EventTooLarge { index, .. } => index + 1,
            _ => from,
        };
        self.failed(from..end.max(read).max(from), error);
    }

    /// Records one batch's outcome.
    pub fn record(&self, events: Range<usize>, outcome: Result<()>) {
        match outcome {
            Ok(()) => self.delivered(events),
            Err(error) => self.failed(events, error),
        }
    }

    /// The send's result: its summary when everything was delivered; the batch's own error
    /// when a single batch failed and nothing was delivered; otherwise
    /// [`Error::Delivery`] naming which events were delivered and which were not.
    pub fn finish(self) -> Result<SendSummary> {
        let Outcomes {
            mut delivered,
            mut failed,
        } = self
            .outcomes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        delivered.sort_by_key(|r| r.start);
        failed.sort_by_key(|f| f.events.start);
        if failed.is_empty() {
            return Ok(SendSummary {
                events: delivered.iter().map(|r| r.len()).sum(),
                requests: delivered.len(),
            });
        }
        if delivered.is_empty() && failed.len() == 1 {
            return Err(failed.pop().expect("one failure").error);
        }
        Err(Error::Delivery(Box::new(DeliveryFailure {
            topic: self.topic,
            delivered: merge(delivered),
            failed,
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
        let tracker = SendTracker::new("orders");
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
        let tracker = SendTracker::new("t");
        tracker.failed(0..1, service(401));
        assert_eq!(tracker.finish().unwrap_err().status(), Some(401));
    }

    #[test]
    fn success_sums_events_and_requests() {
        let tracker = SendTracker::new("t");
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
