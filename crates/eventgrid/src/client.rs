//! The seed library's unified client: one configuration, publishing from async code and from
//! blocking code.

use std::collections::BTreeMap;
use std::fmt;

use eventgrid_core::{Error, EventGridConfig, EventGridTopicConfig, Result, TopicMetrics};
#[cfg(any(feature = "async", feature = "blocking"))]
use eventgrid_core::{Event, EventGridEvent, SendSummary};
#[cfg(any(feature = "async", feature = "blocking"))]
use serde::Serialize;

#[cfg(any(feature = "async", feature = "blocking"))]
use eventgrid_core::Credential;

use crate::builder::EventGridClientBuilder;

/// Publishes to named topics from async code (`async_*` methods, feature `async`) and from
/// blocking code (`sync_*` methods, feature `blocking`), as the seed library's
/// `EventGridClient` did with its `async_credential` and `credential`.
///
/// It holds an [`asynchronous::EventGridClient`](crate::asynchronous::EventGridClient), a
/// [`blocking::EventGridClient`](crate::blocking::EventGridClient) or both, each with its own
/// connections, token cache and metrics, built from the same configuration. Calling a side
/// that was not built is an [`Error::InvalidOption`] saying which credential is missing.
/// Cheap to clone; clones share everything.
///
/// ```
/// # #[cfg(feature = "async")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use eventgrid::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
/// # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
/// #     .topic(eventgrid_emulator::TopicSpec::open("order-events"))).await?;
/// # let endpoint = emulator.topic_endpoint("order-events");
/// let config = EventGridConfig::new([EventGridTopicConfig::new("order-events", &endpoint)?])?;
/// let client = EventGridClient::with_async_credential(config, Credential::None)?;
/// client
///     .async_emit_event("order-events", "order.placed", "orders/7", serde_json::json!({"total": 30}))
///     .await?;
/// assert_eq!(client.async_client().unwrap().metrics()["order-events"].events_published, 1);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "async"))]
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct EventGridClient {
    #[cfg(feature = "async")]
    async_client: Option<eventgrid_async::EventGridClient>,
    #[cfg(feature = "blocking")]
    sync_client: Option<eventgrid_blocking::EventGridClient>,
}

impl EventGridClient {
    /// A builder for the client's credentials and options.
    pub fn builder(config: EventGridConfig) -> EventGridClientBuilder {
        EventGridClientBuilder::new(config)
    }

    /// A client publishing from async code only (the seed's `async_credential=`).
    #[cfg(feature = "async")]
    pub fn with_async_credential(
        config: EventGridConfig,
        credential: impl Into<Credential>,
    ) -> Result<Self> {
        Self::builder(config).async_credential(credential).build()
    }

    /// A client publishing from blocking code only (the seed's `credential=`).
    #[cfg(feature = "blocking")]
    pub fn with_sync_credential(
        config: EventGridConfig,
        credential: impl Into<Credential>,
    ) -> Result<Self> {
        Self::builder(config).sync_credential(credential).build()
    }

    pub(crate) fn from_parts(
        #[cfg(feature = "async")] async_client: Option<eventgrid_async::EventGridClient>,
        #[cfg(feature = "blocking")] sync_client: Option<eventgrid_blocking::EventGridClient>,
    ) -> Self {
        Self {
            #[cfg(feature = "async")]
            async_client,
            #[cfg(feature = "blocking")]
            sync_client,
        }
    }

    /// The async client, when the client was built with an async credential.
    #[cfg(feature = "async")]
    pub fn async_client(&self) -> Option<&eventgrid_async::EventGridClient> {
        self.async_client.as_ref()
    }

    /// The blocking client, when the client was built with a sync credential.
    #[cfg(feature = "blocking")]
    pub fn sync_client(&self) -> Option<&eventgrid_blocking::EventGridClient> {
        self.sync_client.as_ref()
    }

    #[cfg(feature = "async")]
    fn require_async(&self) -> Result<&eventgrid_async::EventGridClient> {
        self.async_client.as_ref().ok_or_else(|| {
            Error::InvalidOption(
                "this EventGridClient has no async client: build it with `async_credential`"
                    .to_owned(),
            )
        })
    }

    #[cfg(feature = "blocking")]
    fn require_sync(&self) -> Result<&eventgrid_blocking::EventGridClient> {
        self.sync_client.as_ref().ok_or_else(|| {
            Error::InvalidOption(
                "this EventGridClient has no blocking client: build it with `sync_credential`"
                    .to_owned(),
            )
        })
    }

    /// Publishes one event of `event_type` about `subject` carrying `data`, with a new id, the
    /// current time and data version `"v1"`, from async code.
    #[cfg(feature = "async")]
    pub async fn async_emit_event(
        &self,
        topic: &str,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<()> {
        self.require_async()?
            .emit_event(topic, event_type, subject, data)
            .await
    }

    /// Publishes one [`EventGridEvent`] (with its own id, event time, data version or domain
    /// topic) from async code.
    #[cfg(feature = "async")]
    pub async fn async_publish_event(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        self.require_async()?.publish_event(topic, event).await
    }

    /// Publishes any number of events of the topic's schema from async code; see
    /// [`asynchronous::EventGridClient::send`](crate::asynchronous::EventGridClient::send).
    #[cfg(feature = "async")]
    pub async fn async_send<E: Event>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        self.require_async()?.send(topic, events).await
    }

    /// Publishes any number of events of the topic's schema from async code in bounded memory;
    /// see [`asynchronous::EventGridClient::send_stream`](crate::asynchronous::EventGridClient::send_stream).
    #[cfg(feature = "async")]
    pub async fn async_send_stream<E: Event + Send + 'static>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        self.require_async()?.send_stream(topic, events).await
    }

    /// Publishes one event of `event_type` about `subject` carrying `data`, with a new id, the
    /// current time and data version `"v1"`, blocking the calling thread.
    #[cfg(feature = "blocking")]
    pub fn sync_emit_event(
        &self,
        topic: &str,
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: impl Serialize,
    ) -> Result<()> {
        self.require_sync()?
            .emit_event(topic, event_type, subject, data)
    }

    /// Publishes one [`EventGridEvent`], blocking the calling thread.
    #[cfg(feature = "blocking")]
    pub fn sync_publish_event(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        self.require_sync()?.publish_event(topic, event)
    }

    /// Publishes any number of events of the topic's schema, blocking the calling thread; see
    /// [`blocking::EventGridClient::send`](crate::blocking::EventGridClient::send).
    #[cfg(feature = "blocking")]
    pub fn sync_send<E: Event + Sync>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        self.require_sync()?.send(topic, events)
    }

    /// Publishes any number of events of the topic's schema in bounded memory, blocking the
    /// calling thread; see
    /// [`blocking::EventGridClient::send_stream`](crate::blocking::EventGridClient::send_stream).
    #[cfg(feature = "blocking")]
    pub fn sync_send_stream<E: Event + Send>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<SendSummary> {
        self.require_sync()?.send_stream(topic, events)
    }

    /// Per-topic metrics of both clients together (each client counts its own sends; these
    /// are their sums, with the latency of every request of either).
    ///
    /// ```
    /// # #[cfg(all(feature = "async", feature = "blocking"))]
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use eventgrid::{Credential, EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig};
    /// # let emulator = eventgrid_emulator::Emulator::start_in_background(
    /// #     eventgrid_emulator::EmulatorConfig::new().topic(eventgrid_emulator::TopicSpec::open("readings")))?;
    /// let config = EventGridConfig::new([EventGridTopicConfig::new("readings", emulator.topic_endpoint("readings"))?])?;
    /// let client = EventGridClient::builder(config)
    ///     .async_credential(Credential::None)
    ///     .sync_credential(Credential::None)
    ///     .build()?;
    /// let readings = |n| (0..n).map(|i| EventGridEvent::new("reading", "sensors/1", i).unwrap());
    /// client.sync_send_stream("readings", readings(10))?;
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// runtime.block_on(client.async_send_stream("readings", readings(5)))?;
    /// let metrics = client.metrics()["readings"];
    /// assert_eq!((metrics.events_published, metrics.requests), (15, 2));
    /// # Ok(())
    /// # }
    /// # #[cfg(not(all(feature = "async", feature = "blocking")))]
    /// # fn main() {}
    /// ```
    pub fn metrics(&self) -> BTreeMap<String, TopicMetrics> {
        // Reassigned once per client built; with neither feature on, there is none.
        #[allow(unused_mut)]
        let mut all: BTreeMap<String, TopicMetrics> = BTreeMap::new();
        #[cfg(feature = "async")]
        if let Some(client) = &self.async_client {
            merge_metrics(&mut all, client.metrics());
        }
        #[cfg(feature = "blocking")]
        if let Some(client) = &self.sync_client {
            merge_metrics(&mut all, client.metrics());
        }
        all
    }

    /// Adds a topic to both clients at run time. A name already configured is refused, and
    /// then neither client changes.
    pub fn add_topic(&self, topic: EventGridTopicConfig) -> Result<()> {
        if self.topics().iter().any(|name| name == topic.name()) {
            return Err(Error::InvalidTopic {
                topic: topic.name().to_owned(),
                reason: "duplicate topic name".to_owned(),
            });
        }
        #[cfg(feature = "async")]
        if let Some(client) = &self.async_client {
            client.add_topic(topic.clone())?;
        }
        #[cfg(feature = "blocking")]
        if let Some(client) = &self.sync_client {
            client.add_topic(topic.clone())?;
        }
        Ok(())
    }

    /// Removes a topic from both clients and returns its configuration; an unknown name is
    /// [`Error::UnknownTopic`].
    pub fn remove_topic(&self, name: &str) -> Result<EventGridTopicConfig> {
        // Reassigned once per client built; with neither feature on, there is none.
        #[allow(unused_mut)]
        let mut removed = Err(Error::UnknownTopic {
            name: name.to_owned(),
            configured: self.topics(),
        });
        #[cfg(feature = "async")]
        if let Some(client) = &self.async_client {
            removed = client.remove_topic(name);
        }
        #[cfg(feature = "blocking")]
        if let Some(client) = &self.sync_client {
            removed = client.remove_topic(name);
        }
        removed
    }

    /// The configured topic names, sorted.
    pub fn topics(&self) -> Vec<String> {
        #[cfg(feature = "async")]
        if let Some(client) = &self.async_client {
            return client.topics();
        }
        #[cfg(feature = "blocking")]
        if let Some(client) = &self.sync_client {
            return client.topics();
        }
        Vec::new()
    }
}

#[cfg(any(feature = "async", feature = "blocking"))]
fn merge_metrics(all: &mut BTreeMap<String, TopicMetrics>, more: BTreeMap<String, TopicMetrics>) {
    for (topic, metrics) in more {
        let merged = all.get(&topic).map_or(metrics, |m| m.merged(&metrics));
        all.insert(topic, merged);
    }
}

impl fmt::Debug for EventGridClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("EventGridClient");
        #[cfg(feature = "async")]
        debug.field("async_client", &self.async_client);
        #[cfg(feature = "blocking")]
        debug.field("sync_client", &self.sync_client);
        debug.finish()
    }
}
