//! Executing the engine's actions on threads: each batch's operation runs on the thread that
//! delivers it (sleeping there between attempts); a send's batches go out on up to
//! `max_concurrent_requests` scoped threads.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use eventgrid_core::frontend::{
    Action, EncodedBatch, Exchange, Now, Operation, SendPlan, SendTracker, TokenFetch, TokenNeed,
    Topic,
};
use eventgrid_core::{Error, Event, Result, SendSummary};
use time::OffsetDateTime;

use crate::client::Inner;

impl Inner {
    /// Delivers batches as `batches` encodes them, and reports the outcome of all of them. A
    /// lone batch goes out on this thread; more go to worker threads, this thread encoding the next
    /// batch only when a worker is free to take it (so at most the workers' batches, one
    /// handed over and one being filled exist at once). An encoding error (an invalid event)
    /// is recorded against the events from the last batch handed over up to it, and nothing
    /// more is read.
    pub(crate) fn deliver_all(
        &self,
        topic: &Arc<Topic>,
        batches: impl Iterator<Item = Result<EncodedBatch>>,
    ) -> Result<SendSummary> {
        let tracker = SendTracker::new(topic.name());
        let mut batches = batches.peekable();
        let first = batches.next();
        if batches.peek().is_none() {
            // One batch (an `emit_event`, a small `send`): no thread, no channel.
            match first {
                Some(Ok(batch)) => self.settle(topic, &tracker, batch),
                Some(Err(error)) => tracker.stream_failed(0, error),
                None => {}
            }
            return tracker.finish();
        }
        let mut handed_over_up_to = 0;
        let (hand_over, take) = sync_channel::<EncodedBatch>(0);
        let take = Mutex::new(take);
        std::thread::scope(|scope| {
            let mut workers = 0;
            for batch in first.into_iter().chain(batches) {
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracker.stream_failed(handed_over_up_to, error);
                        break;
                    }
                };
                handed_over_up_to = batch.events.end;
                if workers < self.core.options().max_concurrent_requests {
                    workers += 1;
                    scope.spawn(|| self.work(topic, &take, &tracker));
                }
                if hand_over.send(batch).is_err() {
                    break;
                }
            }
            // Closing the channel lets the workers finish.
            drop(hand_over);
        });
        tracker.finish()
    }

    /// Encodes and delivers a planned send's batches on up to `max_concurrent_requests`
    /// threads (this one included): each thread takes the next batch, encodes it and delivers
    /// it, so encoding runs on as many cores as there are batches in flight, and only the
    /// bodies in flight exist at once. A batch that cannot be encoded is reported failed and
    /// the others still go out.
    pub(crate) fn deliver_plan<E: Event + Sync>(
        &self,
        topic: &Arc<Topic>,
        plan: &SendPlan<E>,
    ) -> Result<SendSummary> {
        let tracker = SendTracker::new(topic.name());
        let next = AtomicUsize::new(0);
        let take_and_deliver = || {
            loop {
                let batch = next.fetch_add(1, Ordering::Relaxed);
                if batch >= plan.len() {
                    break;
                }
                let events = plan.events_of(batch);
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    self.deliver(topic, plan.encode(batch)?)
                }))
                .unwrap_or_else(|_| {
                    Err(Error::Internal(
                        "the encoding or delivering thread panicked".to_owned(),
                    ))
                });
                tracker.record(events, outcome);
            }
        };
        let threads = self.core.options().max_concurrent_requests.min(plan.len());
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(take_and_deliver);
            }
            take_and_deliver();
        });
        tracker.finish()
    }

    /// A worker: delivers the batches handed over until the channel closes.
    fn work(
        &self,
        topic: &Arc<Topic>,
        take: &Mutex<Receiver<EncodedBatch>>,
        tracker: &SendTracker,
    ) {
        loop {
            let next = take.lock().unwrap_or_else(|e| e.into_inner()).recv();
            let Ok(batch) = next else { break };
            self.settle(topic, tracker, batch);
        }
    }

    /// Delivers one batch and records its outcome, whatever happens: a panic (in a custom
    /// transport, say) is recorded as the batch's failure, so no event is left unsettled and
    /// the worker goes on taking batches.
    fn settle(&self, topic: &Arc<Topic>, tracker: &SendTracker, batch: EncodedBatch) {
        let events = batch.events.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.deliver(topic, batch)))
            .unwrap_or_else(|_| Err(Error::Internal("the delivering thread panicked".to_owned())));
        tracker.record(events, outcome);
    }

    /// Delivers one batch through its attempts.
    pub(crate) fn deliver(&self, topic: &Arc<Topic>, batch: EncodedBatch) -> Result<()> {
        self.run(self.core.publish(topic, batch, Instant::now()))
    }

    /// Executes an operation's actions until it is done, inside its span.
    pub(crate) fn run<X: Exchange>(&self, mut operation: Operation<X>) -> Result<X::Output> {
        let span = operation.span().clone();
        let _entered = span.enter();
        loop {
            match operation.poll(Now::system()) {
                Action::Send { request, deadline } => {
                    match self.transport.send_before(request, deadline) {
                        Ok(response) => operation.on_response(response, Instant::now()),
                        Err(error) => operation.on_transport_error(error, Instant::now()),
                    }
                }
                Action::NeedToken(step) => {
                    let header = match step {
                        TokenNeed::Wait(wait) => futures::executor::block_on(wait),
                        TokenNeed::Fetch(fetch) => fetch_token(fetch, operation.deadline()),
                    };
                    operation.on_token(header, Now::system());
                }
                Action::Sleep(until) => {
                    std::thread::sleep(until.saturating_duration_since(Instant::now()))
                }
                Action::Done(outcome) => return outcome,
            }
        }
    }
}

/// Runs the credential call on a thread of its own, so that it can be given up at its
/// time-out (the thread then ends whenever the credential does).
fn fetch_token(
    fetch: TokenFetch,
    deadline: Instant,
) -> Result<eventgrid_core::frontend::AuthHeader> {
    let limit = fetch.timeout(Instant::now(), deadline);
    let (answer, wait) = sync_channel(1);
    let future = fetch.future();
    let spawned = std::thread::Builder::new()
        .name("eventgrid-token".to_owned())
        .spawn(move || answer.send(futures::executor::block_on(future)));
    let answer = spawned.ok().and_then(|_| wait.recv_timeout(limit).ok());
    fetch.finish(answer, OffsetDateTime::now_utc())
}
