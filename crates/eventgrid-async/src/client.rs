//! [`EventGridClient`]: publishing by topic name, with the core deciding and this crate sending
//! and sleeping.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use eventgrid_core::{
    AuthHeader, AuthStep, ClientCore, ClientOptions, EncodedBatch, Error, Event, EventGridConfig,
    EventGridEvent, EventGridTopicConfig, Result, SendSummary, SendTracker, Step, Topic,
    TopicMetrics,
};
use futures::StreamExt;
use serde::Serialize;
use time::OffsetDateTime;
use tracing::Instrument;
use tracing::field::Empty;

use crate::builder::EventGridClientBuilder;
use crate::sender::Sender;
use crate::token::TokenCache;
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
    tokens: Option<TokenCache>,
}

impl EventGridClient {
    /// A client for `config`'s topics authenticating with `credential` (an access key, SAS
    /// token, Microsoft Entra ID token credential, or [`Credential::None`]), with the default
    /// [`ClientOptions`] and the built-in [`HyperTransport`](crate::HyperTransport).
    pub fn new(config: EventGridConfig, credential: impl Into<Credential>) -> Result<Self> {
        Self::builder(config).credential(credential).build()
    }

    /// A builder for retries, time-outs, limits, concurrency, user agent, transport and extra
    /// CA certificate.
    pub fn builder(config: EventGridConfig) -> EventGridClientBuilder {
        EventGridClientBuilder::new(config)
    }

    pub(crate) fn from_parts(core: ClientCore, sender: Sender, credential: &Credential) -> Self {
        let tokens = credential
            .token_credential()
            .map(|credential| TokenCache::new(credential.clone()));
        Self {
            inner: Arc::new(Inner {
                core,
                sender,
                tokens,
            }),
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
        let event = EventGridEvent::new(event_type, subject, data)?;
        self.publish_event(topic, event).await
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
    /// All events are validated and encoded first: an invalid or oversized event is an error
    /// naming its index, and nothing is sent. They then go out in as few requests as the
    /// [`Limits`](crate::Limits) allow, `max_concurrent_requests` at a time, each retried with
    /// the same body (so the same event ids). If some requests finally fail, the error is
    /// [`Error::Delivery`], naming which events were delivered and which were not.
    pub async fn send<E: Event>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        let (topic, batches) = self.inner.core.prepare(topic, events)?;
        let mut tracker = SendTracker::new(topic.name());
        let in_flight = self.inner.core.options().max_concurrent_requests;
        let topic = &topic;
        let mut outcomes = futures::stream::iter(batches)
            .map(|batch| async move {
                let events = batch.events.clone();
                (events, self.deliver(topic, batch).await)
            })
            .buffer_unordered(in_flight);
        while let Some((events, outcome)) = outcomes.next().await {
            match outcome {
                Ok(()) => tracker.delivered(events),
                Err(error) => tracker.failed(events, error),
            }
        }
        tracker.finish()
    }

    /// Publishes any number of events of the topic's schema in bounded memory: events are
    /// taken from `events` and encoded only as request slots free up, so at most about
    /// `max_concurrent_requests + 1` request bodies exist at once, however many events there
    /// are (a lazy iterator of millions of events, read from a file or generated, is fine).
    ///
    /// Differs from [`send`](Self::send), which validates every event before sending any: here
    /// an invalid or oversized event is found only when reached. Then nothing from that event
    /// on is sent (nor the events after the last full batch before it, which shared its
    /// request), and the batches sent before it finish. The result is then
    /// [`Error::Delivery`], naming the delivered index ranges and, among the failed ones, the
    /// range ending with the invalid event, whose error names its index; events after it are
    /// neither read nor named. When nothing was delivered the error is the event's own, as
    /// from `send`. Requests that finally fail are reported as by `send`, and the other
    /// batches are still sent.
    pub async fn send_stream<E: Event>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        let (topic, batches) = self.inner.core.stream(topic, events)?;
        let mut tracker = SendTracker::new(topic.name());
        let in_flight = self.inner.core.options().max_concurrent_requests;
        let topic = &topic;
        let mut encoded_up_to = 0;
        // `buffer_unordered` pulls (and so encodes) the next batch only when a slot is free.
        let mut outcomes = futures::stream::iter(batches)
            .map(|batch| {
                let events = match &batch {
                    Ok(batch) => {
                        encoded_up_to = batch.events.end;
                        batch.events.clone()
                    }
                    Err(error) => {
                        encoded_up_to..refused_index(error).map_or(encoded_up_to, |i| i + 1)
                    }
                };
                async move {
                    let outcome = match batch {
                        Ok(batch) => self.deliver(topic, batch).await,
                        Err(error) => Err(error),
                    };
                    (events, outcome)
                }
            })
            .buffer_unordered(in_flight);
        while let Some((events, outcome)) = outcomes.next().await {
            match outcome {
                Ok(()) => tracker.delivered(events),
                Err(error) => tracker.failed(events, error),
            }
        }
        tracker.finish()
    }

    /// A [`BufferedPublisher`] sending through this client: single publishes from any number
    /// of tasks coalesced into few requests. Fails on options beyond the client's limits.
    pub fn buffered(&self, options: BufferedOptions) -> Result<BufferedPublisher> {
        BufferedPublisher::new(self.clone(), &options)
    }

    /// Adds a topic at run time, visible to every clone; a name already configured is refused.
    pub fn add_topic(&self, topic: EventGridTopicConfig) -> Result<()> {
        self.inner.core.add_topic(topic)
    }

    /// Removes a topic at run time and returns its configuration. Sends already under way
    /// finish; later ones get [`Error::UnknownTopic`].
    pub fn remove_topic(&self, name: &str) -> Result<EventGridTopicConfig> {
        self.inner.core.remove_topic(name)
    }

    /// The configured topic names, sorted.
    pub fn topics(&self) -> Vec<String> {
        self.inner.core.topics()
    }

    /// Per-topic metrics since the client was made: events published and failed, requests,
    /// retries, bytes sent and request latency.
    pub fn metrics(&self) -> BTreeMap<String, TopicMetrics> {
        self.inner.core.metrics()
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        self.inner.core.options()
    }

    pub(crate) fn core(&self) -> &ClientCore {
        &self.inner.core
    }

    /// Delivers one batch through its attempts, inside a span naming the topic and the number
    /// of events, recording the attempts, the last status and the duration.
    pub(crate) async fn deliver(&self, topic: &Arc<Topic>, batch: EncodedBatch) -> Result<()> {
        let span = tracing::info_span!(
            "eventgrid.publish",
            topic = topic.name(),
            events = batch.len(),
            attempts = Empty,
            status = Empty,
            duration_ms = Empty,
        );
        self.attempts(topic, batch, &span)
            .instrument(span.clone())
            .await
    }

    async fn attempts(
        &self,
        topic: &Arc<Topic>,
        batch: EncodedBatch,
        span: &tracing::Span,
    ) -> Result<()> {
        let started = Instant::now();
        let mut delivery = topic.deliver(batch, &self.inner.core, started);
        let mut attempts: u32 = 0;
        let step = loop {
            attempts += 1;
            let step = match self.auth(topic).await {
                Ok(auth) => {
                    let request = delivery.request(&auth, Instant::now());
                    let result = self.inner.sender.send(request).await;
                    if let Ok(response) = &result {
                        span.record("status", response.status().as_u16());
                    }
                    delivery.on_result(result, Instant::now())
                }
                Err(error) => delivery.on_error(error, Instant::now()),
            };
            match step {
                Step::RetryAfter(delay) => tokio::time::sleep(delay).await,
                done => break done,
            }
        };
        span.record("attempts", attempts);
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        match step {
            Step::Failed(error) => Err(error),
            _ => Ok(()),
        }
    }

    async fn auth(&self, topic: &Topic) -> Result<AuthHeader> {
        match topic.auth(OffsetDateTime::now_utc())? {
            AuthStep::Ready(header) => Ok(header),
            AuthStep::NeedsToken => match &self.inner.tokens {
                Some(tokens) => tokens.header().await,
                None => Err(Error::Credential(
                    "the topic needs a Microsoft Entra ID token but the client has no token credential"
                        .to_owned(),
                )),
            },
        }
    }
}

/// The index of the event a [`BatchStream`](eventgrid_core::BatchStream) refused.
fn refused_index(error: &Error) -> Option<usize> {
    match error {
        Error::InvalidEvent { index, .. } | Error::EventTooLarge { index, .. } => Some(*index),
        _ => None,
    }
}

impl fmt::Debug for EventGridClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventGridClient")
            .field("topics", &self.topics())
            .field("options", self.options())
            .field("transport", &self.inner.sender)
            .field("token_credential", &self.inner.tokens.is_some())
            .finish()
    }
}
