//! Executing the engine's actions on threads: each batch's operation runs on the thread that
//! delivers it (sleeping there between attempts); a send's batches go out on up to
//! `max_concurrent_requests` scoped threads.

use std::collections::VecDeque;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use eventgrid_core::frontend::{
    Action, EncodedBatch, EncodedChunk, EventChunk, EventChunks, Exchange, Now, Opening, Operation,
    SendPlan, SendTracker, StreamEnd, TokenFetch, TokenNeed, Topic,
};
use eventgrid_core::{Error, Event, Limits, Result, SendSummary};
use time::OffsetDateTime;

use crate::client::Inner;

impl Inner {
    /// Delivers batches as `batches` yields them, and reports the outcome of all of them. A
    /// lone batch goes out on this thread; more go to worker threads, `batches` being pulled
    /// only when a worker is free to take the next one. An error ends the batches: it is
    /// recorded against the events from the last batch handed over through the events read
    /// (the `usize` beside it), and nothing more is pulled.
    pub(crate) fn deliver_all(
        &self,
        topic: &Arc<Topic>,
        batches: impl Iterator<Item = Result<EncodedBatch, StreamEnd>>,
    ) -> Result<SendSummary> {
        let tracker = SendTracker::new(topic.name());
        let mut batches = batches.peekable();
        let first = batches.next();
        if batches.peek().is_none() {
            // One batch (an `emit_event`, a small `send`): no thread, no channel.
            match first {
                Some(Ok(batch)) => self.settle(topic, &tracker, batch),
                Some(Err(end)) => {
                    let (error, read) = end.into_parts();
                    tracker.stream_failed(0, error, read)
                }
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
                    Err(end) => {
                        let (error, read) = end.into_parts();
                        tracker.stream_failed(handed_over_up_to, error, read);
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

    /// Delivers a stream's events: this thread reads them (checking each) into chunks of
    /// about a body each, encoder threads (one a core) encode the chunks, and the bodies are
    /// handed to the delivering workers in the events' order, so that an event refused by its
    /// encoder stops the send before anything after it goes out. A send that fits one chunk
    /// is encoded on this thread.
    pub(crate) fn deliver_chunks<I, E>(
        &self,
        topic: &Arc<Topic>,
        mut chunks: EventChunks<I>,
    ) -> Result<SendSummary>
    where
        I: Iterator<Item = E>,
        E: Event + Send,
    {
        let limits = chunks.limits();
        let first = match chunks.open() {
            Opening::Whole(batches) => return self.deliver_all(topic, batches.into_iter()),
            Opening::More(first) => first,
        };
        let encoders = encoder_threads();
        let (jobs, take) = sync_channel(2 * encoders);
        let take = Mutex::new(take);
        std::thread::scope(|scope| {
            for _ in 0..encoders {
                scope.spawn(|| encode_chunks(&take, limits));
            }
            let ordered = OrderedChunks {
                chunks,
                jobs,
                window: 2 * encoders,
                pending: VecDeque::new(),
                ready: VecDeque::new(),
                unread: Some(first),
                end: None,
                done: false,
            };
            self.deliver_all(topic, ordered)
        })
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

/// A job for an encoder thread: a chunk, and where to put its bodies.
type EncodeJob<E> = (EventChunk<E>, SyncSender<std::thread::Result<EncodedChunk>>);

/// Encoder threads for one stream: one a core (the reader and the delivering threads mostly
/// wait).
fn encoder_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(2, usize::from))
}

/// An encoder thread: encodes the chunks handed over until the reader is done. A panic (in
/// the caller's `Serialize`) goes back to the reader, which resumes it on the caller's thread,
/// as encoding there would have.
fn encode_chunks<E: Event>(take: &Mutex<Receiver<EncodeJob<E>>>, limits: Limits) {
    loop {
        let job = take.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok((chunk, reply)) = job else { break };
        let encoded = catch_unwind(AssertUnwindSafe(|| chunk.encode(limits)));
        // The reader may have stopped at an earlier error and no longer wait for it.
        let _ = reply.send(encoded);
    }
}

/// The bodies of a chunked stream in the events' order: reads chunks up to `window` ahead
/// of the body being handed over, hands them to the encoders, and yields each chunk's bodies
/// once it is encoded, ending at the first error in order.
struct OrderedChunks<I, E> {
    chunks: EventChunks<I>,
    jobs: SyncSender<EncodeJob<E>>,
    window: usize,
    pending: VecDeque<(Range<usize>, Receiver<std::thread::Result<EncodedChunk>>)>,
    ready: VecDeque<Result<EncodedBatch, StreamEnd>>,
    /// The first chunk, read before the encoders started.
    unread: Option<EventChunk<E>>,
    /// The error the reader stopped at.
    end: Option<Error>,
    /// Whether the last item is in `ready`: an encoder refused an event.
    done: bool,
}

impl<I, E> OrderedChunks<I, E>
where
    I: Iterator<Item = E>,
    E: Event,
{
    /// Reads and hands over chunks until `window` are being encoded or the events end.
    fn read_ahead(&mut self) {
        while self.pending.len() < self.window && self.end.is_none() {
            let next = self.unread.take().map(Ok).or_else(|| self.chunks.next());
            match next {
                Some(Ok(chunk)) => {
                    let events = chunk.events();
                    let (reply, answer) = sync_channel(1);
                    if self.jobs.send((chunk, reply)).is_ok() {
                        self.pending.push_back((events, answer));
                    } else {
                        // Its events count as read: the error's range names them.
                        let lost = Error::Internal("the encoding threads ended".to_owned());
                        self.end = Some(lost);
                    }
                }
                Some(Err(error)) => self.end = Some(error),
                None => break,
            }
        }
    }
}

impl<I, E> Iterator for OrderedChunks<I, E>
where
    I: Iterator<Item = E>,
    E: Event,
{
    type Item = Result<EncodedBatch, StreamEnd>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.read_ahead();
            let Some((events, answer)) = self.pending.pop_front() else {
                self.done = true;
                let read = self.chunks.read();
                return self
                    .end
                    .take()
                    .map(|error| Err(StreamEnd::new(error, read)));
            };
            let encoded = match answer.recv() {
                Ok(Ok(encoded)) => encoded,
                Ok(Err(panic)) => resume_unwind(panic),
                Err(_) => {
                    let lost = Error::Internal("an encoding thread ended".to_owned());
                    EncodedChunk::lost(events, lost)
                }
            };
            if encoded.error.is_some() {
                // Nothing after the refused event may go out: the chunks read ahead are dropped.
                self.pending.clear();
                self.done = true;
            }
            self.ready.extend(encoded.into_results(self.chunks.read()));
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
