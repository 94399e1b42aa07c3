//! The blocking client: the core decides, this sends and sleeps on the calling thread.

use std::fmt;
use std::sync::Arc;

use eventgrid_core::frontend::ClientCore;
use eventgrid_core::{
    Credential, Event, EventGridConfig, EventGridEvent, Result, SendSummary, Transport,
};
use serde::Serialize;

use crate::builder::EventGridClientBuilder;
use crate::receiver::Receiver;

/// A blocking Event Grid client: named topics, batching, retries and metrics, with no async
/// runtime. Cheap to clone; clones share topics, connections, cached tokens and metrics, and
/// may be used from any number of threads at once.
///
/// ```no_run
/// use eventgrid_blocking::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
///
/// let config = EventGridConfig::new([EventGridTopicConfig::new(
///     "user-events",
///     "https://user-events.westus2-1.eventgrid.azure.net/api/events",
/// )?])?;
/// let client = EventGridClient::new(config, Credential::access_key("<access key>"))?;
/// client.emit_event("user-events", "user.created", "users/123", serde_json::json!({"user_id": 123}))?;
/// # Ok::<(), eventgrid_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct EventGridClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) core: ClientCore,
    pub(crate) transport: Box<dyn Transport>,
}

impl EventGridClient {
    /// A client for `config`'s topics authenticating with `credential`, with default options
    /// (see [`ClientOptions`](crate::ClientOptions)).
    pub fn new(config: EventGridConfig, credential: impl Into<Credential>) -> Result<Self> {
        Self::builder(config).credential(credential).build()
    }

    /// A builder for credential, retries, limits, time-outs, concurrency, user agent, trust
    /// and transport.
    pub fn builder(config: EventGridConfig) -> EventGridClientBuilder {
        EventGridClientBuilder::new(config)
    }

    /// Publishes one Event Grid event of `event_type` about `subject` carrying `data`, with a
    /// new id, the current time and data version `"v1"` (the seed's `sync_emit_event`).
    /// Retries sleep on this thread.
    pub fn emit_event(
        &self,
        topic: &str,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<()> {
        let core = &self.inner.core;
        let (topic, batches) = core.prepare_emit(topic, event_type.into(), subject.into(), data)?;
        self.inner
            .deliver_all(&topic, batches.into_iter().map(Ok))
            .map(drop)
    }

    /// Publishes one fully specified Event Grid event (id, event time, data version, domain
    /// topic).
    pub fn publish_event(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        self.send(topic, [event]).map(drop)
    }

    /// Publishes any number of events of the topic's schema. All are validated first: an
    /// invalid or oversized event fails the call, naming its index, before anything is sent.
    /// The events then go in requests within the limits, up to
    /// [`max_concurrent_requests`](EventGridClientBuilder::max_concurrent_requests) at a time,
    /// each retried with the same body (so the same event ids). If some requests finally fail,
    /// the error is [`Error::Delivery`](crate::Error::Delivery) naming the events delivered
    /// and those not.
    ///
    /// Each body is encoded only when its request goes out, by the thread that sends it, so
    /// the bodies are encoded on several cores and, beyond the events themselves, only the
    /// bodies in flight exist at once.
    pub fn send<E: Event + Sync>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        let (topic, plan) = self.inner.core.plan(topic, events)?;
        self.inner.deliver_plan(&topic, &plan)
    }

    /// Publishes any number of events in bounded memory: events are read from `events` on this
    /// thread only as requests complete, in chunks of about one request body, which encoder
    /// threads (one a core) encode while the requests go out on `max_concurrent_requests`
    /// threads. At most about `max_concurrent_requests + 2 x cores + 2` bodies' worth of
    /// events are read and not yet delivered, however many events there are.
    ///
    /// Unlike [`send`](Self::send), an invalid or oversized event is found only when reached:
    /// the batches before it may already be delivered; nothing from it on is sent (nor the
    /// events of the request it would have shared). An event with a missing or empty field is
    /// found as it is read, and nothing after it is read; one too large or whose data cannot be
    /// serialized is found by its encoder, after up to the chunks above were read past it. The
    /// error is then [`Error::Delivery`](crate::Error::Delivery) naming the delivered ranges and
    /// one failed range, from the first event not sent through the last event read, whose
    /// error names the refused event's index; or, when nothing was delivered, the event's own
    /// error as from `send`.
    pub fn send_stream<E: Event + Send>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        let (topic, chunks) = self.inner.core.chunks(topic, events)?;
        self.inner.deliver_chunks(&topic, chunks)
    }

    /// A [`Receiver`] for the subscription `subscription` of the namespace topic configured
    /// as `topic`. A basic topic is refused with [`Error::WrongTopicKind`](crate::Error::WrongTopicKind).
    pub fn receiver(&self, topic: &str, subscription: &str) -> Result<Receiver> {
        let subscription = self.inner.core.subscription(topic, subscription)?;
        Ok(Receiver::new(self.clone(), subscription))
    }

    eventgrid_core::core_delegates!();

    pub(crate) fn core(&self) -> &ClientCore {
        &self.inner.core
    }
}

impl fmt::Debug for EventGridClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventGridClient")
            .field("topics", &self.topics())
            .field("options", self.options())
            .finish_non_exhaustive()
    }
}
