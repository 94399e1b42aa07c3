//! [`EventGridClient`]: publishing by topic name, with the core deciding and this crate sending
//! and sleeping.

use std::fmt;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use eventgrid_core::frontend::{
    Action, ClientCore, EncodedBatch, EncodedChunk, EventChunk, EventChunks, Exchange, Now,
    Opening, Operation, SendPlan, SendTracker, StreamEnd, TokenNeed, Topic,
};
use eventgrid_core::{Error, Event, EventGridConfig, EventGridEvent, Result, SendSummary};
use futures::future::{self, Either};
use futures::stream::{self, Stream, StreamExt};
use serde::Serialize;
use time::OffsetDateTime;
use tracing::Instrument;

use crate::builder::EventGridClientBuilder;
use crate::receiver::Receiver;
use crate::sender::Sender;
use crate::{BufferedOptions, BufferedPublisher, Credential};

/// An async Event Grid publisher for a set of named topics.
///
/// Cheap to clone: clones share the topics, the metrics, the token cache and one connection
/// pool. Topics can be added and removed at run time through any clone.
///
/// ```
/// use eventgrid_async::{EventGridClient, EventGridConfig, EventGridTopicConfig, Credential};
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
/// #     .topic(eventgrid_emulator::TopicSpec::keyed("user-events", "a2V5"))).await?;
/// # let endpoint = emulator.topic_endpoint("user-events");
/// let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", &endpoint)?])?;
/// let client = EventGridClient::new(config, Credential::access_key("a2V5"))?;
/// let worker = client.clone();
/// tokio::spawn(async move {
///     worker.emit_event("user-events", "user.created", "users/1", serde_json::json!({"id": 1})).await
/// }).await??;
/// assert_eq!(client.metrics()["user-events"].events_published, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EventGridClient {
    inner: Arc<Inner>,
}

struct Inner {
    core: ClientCore,
    sender: Sender,
}

impl EventGridClient {
    /// A client for `config`'s topics authenticating with `credential` (an access key, SAS
    /// token, Microsoft Entra ID token credential, or [`Credential::None`]), with the default
    /// [`ClientOptions`](crate::ClientOptions) and the built-in [`HyperTransport`](crate::HyperTransport).
    pub fn new(config: EventGridConfig, credential: impl Into<Credential>) -> Result<Self> {
        Self::builder(config).credential(credential).build()
    }

    /// A builder for retries, time-outs, limits, concurrency, user agent, transport and extra
    /// CA certificate.
    pub fn builder(config: EventGridConfig) -> EventGridClientBuilder {
        EventGridClientBuilder::new(config)
    }

    pub(crate) fn from_parts(core: ClientCore, sender: Sender) -> Self {
        Self {
            inner: Arc::new(Inner { core, sender }),
        }
    }

    /// Publishes one event of `event_type` about `subject` carrying `data` to the topic named
    /// `topic`, with a new id, the current time and data version `"v1"` (the seed library's
    /// `async_emit_event`). Retried as the [`RetryOptions`](crate::RetryOptions) allow.
    pub async fn emit_event(
        &self,
        topic: &str,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<()> {
        let core = &self.inner.core;
        let (topic, batches) = core.prepare_emit(topic, event_type.into(), subject.into(), data)?;
        // One event, one batch: delivered in place, without the machinery of a send of many
        // (a tracker, a stream, and a task of its own holding the whole request future).
        for batch in batches {
            self.deliver(&topic, batch).await?;
        }
        Ok(())
    }

    /// Publishes one [`EventGridEvent`] built with its own id, event time, data version or
    /// domain topic.
    pub async fn publish_event(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        let (topic, batches) = self.inner.core.prepare(topic, [event])?;
        for batch in batches {
            self.deliver(&topic, batch).await?;
        }
        Ok(())
    }

    /// Publishes any number of events of the topic's schema ([`EventGridEvent`],
    /// [`CloudEvent`](crate::CloudEvent) or [`CustomEvent`](crate::CustomEvent)).
    ///
    /// All events are validated and measured first: an invalid or oversized event is an error
    /// naming its index, and nothing is sent. They then go out in as few requests as the
    /// [`Limits`](crate::Limits) allow, `max_concurrent_requests` at a time, each retried with
    /// the same body (so the same event ids). Each body is encoded only as its request goes
    /// out, so beyond the events themselves a send holds only the bodies in flight. If some
    /// requests finally fail, the error is [`Error::Delivery`](crate::Error::Delivery), naming
    /// which events were delivered and which were not.
    pub async fn send<E: Event>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        let (topic, plan) = self.inner.core.plan(topic, events)?;
        self.deliver_plan(&topic, &plan).await
    }

    /// Publishes any number of events of the topic's schema in bounded memory: events are
    /// read from `events` on this task only as requests complete, in chunks of about one
    /// request body, and each chunk is encoded on the runtime's blocking threads (two chunks a
    /// core at most), so the encoding uses every core while this task reads. At most about
    /// `max_concurrent_requests + 2 x cores + 2` bodies' worth of events are read and not yet
    /// delivered, however many events there are (a lazy iterator of millions of events, read
    /// from a file or generated, is fine).
    ///
    /// Differs from [`send`](Self::send), which validates every event before sending any: here
    /// an invalid or oversized event is found only when reached. Then nothing from that event
    /// on is sent (nor the events of the request it would have shared), and the batches sent
    /// before it finish. An event with a missing or empty field is found as it is read, and
    /// nothing after it is read; one too large or whose data cannot be serialized is found by
    /// its encoder, after up to the chunks above were read past it. The result is then
    /// [`Error::Delivery`](crate::Error::Delivery), naming the delivered index ranges and one
    /// failed range, from the first event not sent through the last event read, whose error
    /// names the refused event's index. When nothing was delivered the error is the event's
    /// own, as from `send`. Requests that finally fail are reported as by `send`, and the other
    /// batches are still sent.
    pub async fn send_stream<E: Event + Send + 'static>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        let (topic, chunks) = self.inner.core.chunks(topic, events)?;
        self.deliver_chunks(&topic, chunks).await
    }

    /// Delivers a stream's events: this task reads them (checking each) into chunks of about
    /// a body each, which are encoded on the runtime's blocking threads, up to two a core at
    /// once, and delivered in the events' order, so that an event refused by its encoder stops
    /// the send before anything after it goes out. A send that fits one chunk is encoded on
    /// this task.
    async fn deliver_chunks<I, E>(
        &self,
        topic: &Arc<Topic>,
        mut chunks: EventChunks<I>,
    ) -> Result<SendSummary>
    where
        I: Iterator<Item = E>,
        E: Event + Send + 'static,
    {
        let limits = chunks.limits();
        let first = match chunks.open() {
            Opening::Whole(batches) => return self.deliver_all(topic, stream::iter(batches)).await,
            Opening::More(first) => first,
        };
        let read = AtomicUsize::new(0);
        let encode = |chunk: Result<EventChunk<E>>| match chunk {
            Ok(chunk) => {
                let events = chunk.events();
                read.fetch_max(events.end, Ordering::Relaxed);
                let job = tokio::task::spawn_blocking(move || chunk.encode(limits));
                Either::Left(async move {
                    match job.await {
                        Ok(encoded) => encoded,
                        // A panic in the caller's `Serialize` is the caller's, as it would be
                        // had the chunk been encoded on this task.
                        Err(error) if error.is_panic() => resume_unwind(error.into_panic()),
                        Err(_) => {
                            let lost =
                                Error::Internal("the encoding task was cancelled".to_owned());
                            EncodedChunk::lost(events, lost)
                        }
                    }
                })
            }
            Err(error) => Either::Right(future::ready(EncodedChunk::lost(0..0, error))),
        };
        let batches = stream::iter(std::iter::once(Ok(first)).chain(chunks))
            .map(encode)
            .buffered(2 * encoder_tasks())
            .flat_map(|chunk| stream::iter(chunk.into_results(read.load(Ordering::Relaxed))));
        self.deliver_all(topic, batches).await
    }

    /// Delivers batches as `batches` yields them (`buffer_unordered` pulls, and so encodes,
    /// the next one only when a slot is free), recording each outcome.
    async fn deliver_all(
        &self,
        topic: &Arc<Topic>,
        batches: impl Stream<Item = Result<EncodedBatch, StreamEnd>>,
    ) -> Result<SendSummary> {
        let tracker = SendTracker::new(topic.name());
        let mut handed_over_up_to = 0;
        let mut failed = None;
        let in_flight = self.inner.core.options().max_concurrent_requests;
        {
            // `scan` ends the stream at the first error, as `map_while` would.
            let batches = batches.scan((), |(), batch| {
                future::ready(match batch {
                    Ok(batch) => {
                        handed_over_up_to = batch.events.end;
                        Some(batch)
                    }
                    Err(end) => {
                        failed = Some((handed_over_up_to, end));
                        None
                    }
                })
            });
            let outcomes = batches
                .map(
                    |batch| async move { (batch.events.clone(), self.deliver(topic, batch).await) },
                )
                .buffer_unordered(in_flight);
            let mut outcomes = std::pin::pin!(outcomes);
            while let Some((events, outcome)) = outcomes.next().await {
                tracker.record(events, outcome);
            }
        }
        if let Some((from, end)) = failed {
            let (error, read) = StreamEnd::into_parts(end);
            tracker.stream_failed(from, error, read);
        }
        tracker.finish()
    }

    /// Encodes and delivers a planned send's batches, `max_concurrent_requests` at a time,
    /// each encoded only when a request slot is free for it. A batch that cannot be encoded
    /// is reported failed and the others still go out.
    async fn deliver_plan<E: Event>(
        &self,
        topic: &Arc<Topic>,
        plan: &SendPlan<E>,
    ) -> Result<SendSummary> {
        let tracker = SendTracker::new(topic.name());
        let in_flight = self.inner.core.options().max_concurrent_requests;
        let mut outcomes = futures::stream::iter(0..plan.len())
            .map(|batch| async move {
                let outcome = match plan.encode(batch) {
                    Ok(encoded) => self.deliver(topic, encoded).await,
                    Err(error) => Err(error),
                };
                (plan.events_of(batch), outcome)
            })
            .buffer_unordered(in_flight);
        while let Some((events, outcome)) = outcomes.next().await {
            tracker.record(events, outcome);
        }
        tracker.finish()
    }

    /// A [`BufferedPublisher`] sending through this client: single publishes from any number
    /// of tasks coalesced into few requests. Fails on options beyond the client's limits.
    pub fn buffered(&self, options: BufferedOptions) -> Result<BufferedPublisher> {
        BufferedPublisher::new(self.clone(), &options)
    }

    eventgrid_core::core_delegates!();

    pub(crate) fn core(&self) -> &ClientCore {
        &self.inner.core
    }

    /// Delivers one batch through its attempts.
    pub(crate) async fn deliver(&self, topic: &Arc<Topic>, batch: EncodedBatch) -> Result<()> {
        self.run(self.inner.core.publish(topic, batch, Instant::now()))
            .await
    }

    /// A [`Receiver`] for the subscription `subscription` of the namespace topic configured
    /// as `topic`. A basic topic is refused with [`Error::WrongTopicKind`](crate::Error::WrongTopicKind).
    pub fn receiver(&self, topic: &str, subscription: &str) -> Result<Receiver> {
        let subscription = self.inner.core.subscription(topic, subscription)?;
        Ok(Receiver::new(self.clone(), subscription))
    }

    /// Executes an operation's actions until it is done, inside its span.
    pub(crate) async fn run<X: Exchange>(&self, mut operation: Operation<X>) -> Result<X::Output> {
        let span = operation.span().clone();
        async move {
            loop {
                match operation.poll(Now::system()) {
                    Action::Send { request, deadline } => {
                        match self.inner.sender.send(request, deadline).await {
                            Ok(response) => operation.on_response(response, Instant::now()),
                            Err(error) => operation.on_transport_error(error, Instant::now()),
                        }
                    }
                    Action::NeedToken(step) => {
                        let header = match step {
                            TokenNeed::Wait(wait) => wait.await,
                            TokenNeed::Fetch(fetch) => {
                                let limit = fetch.timeout(Instant::now(), operation.deadline());
                                let answer = tokio::time::timeout(limit, fetch.future()).await;
                                fetch.finish(answer.ok(), OffsetDateTime::now_utc())
                            }
                        };
                        operation.on_token(header, Now::system());
                    }
                    Action::Sleep(until) => tokio::time::sleep_until(until.into()).await,
                    Action::Done(outcome) => return outcome,
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// The cores a stream's chunks are encoded on (the task reading the events and the
/// connections mostly wait); two chunks a core are in progress at once.
fn encoder_tasks() -> usize {
    static TASKS: OnceLock<usize> = OnceLock::new();
    *TASKS.get_or_init(|| std::thread::available_parallelism().map_or(2, usize::from))
}

impl fmt::Debug for EventGridClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventGridClient")
            .field("topics", &self.topics())
            .field("options", self.options())
            .field("transport", &self.inner.sender)
            .finish()
    }
}
