//! Async Azure Event Grid publishing on hyper and tokio: configure named topics once, then
//! publish by name from any task.
//!
//! ```
//! use eventgrid_async::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! use serde_json::json;
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::keyed("user-events", "a2V5"))).await?;
//! # let endpoint = emulator.topic_endpoint("user-events");
//! // `endpoint` is https://user-events.westus2-1.eventgrid.azure.net in Azure; here, the emulator.
//! let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", &endpoint)?])?;
//! let client = EventGridClient::new(config, Credential::access_key("a2V5"))?;
//! client.emit_event("user-events", "user.created", "users/123", json!({"user_id": 123})).await?;
//! # assert_eq!(emulator.events("user-events")[0]["subject"], "users/123");
//! # Ok(()) }
//! ```
//!
//! The protocol is decided by `eventgrid-core` (validation, batching, authentication headers,
//! retry decisions, metrics); this crate sends with [`HyperTransport`] (hyper 1, pooled
//! keep-alive connections, HTTP/2 through ALPN, rustls with the ring provider) and sleeps with
//! tokio. Everything needed is re-exported here. The examples run against the in-process
//! emulator (`eventgrid-emulator`), so they need no Azure account.
//!
//! # Basic setup
//!
//! Topics are configured once, by name. The client authenticates with an access key, a SAS
//! token (given, or generated from the key and renewed before it lapses), or Microsoft Entra
//! ID ([`default_credential`], the counterpart of Python's `DefaultAzureCredential()`, or any
//! `azure_identity` credential with [`Credential::token`]).
//!
//! ```no_run
//! use eventgrid_async::{EventGridClient, EventGridConfig, EventGridTopicConfig, default_credential};
//! # async fn run() -> Result<(), eventgrid_async::Error> {
//! let config = EventGridConfig::new([
//!     EventGridTopicConfig::new("user-events", "https://user-events.westus2-1.eventgrid.azure.net/api/events")?,
//!     EventGridTopicConfig::new("order-events", "https://order-events.westus2-1.eventgrid.azure.net/api/events")?,
//! ])?;
//! let client = EventGridClient::new(config, default_credential()?)?;
//! # Ok(()) }
//! ```
//!
//! The same setup against the emulator's HTTPS endpoint and fake Microsoft Entra ID, trusting
//! its CA:
//!
//! ```
//! use std::time::Duration;
//! use eventgrid_async::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = eventgrid_emulator::Emulator::start(
//!     eventgrid_emulator::EmulatorConfig::new()
//!         .tls(true)
//!         .topic(eventgrid_emulator::TopicSpec::keyed("user-events", "a2V5"))
//!         .topic(eventgrid_emulator::TopicSpec::keyed("order-events", "a2V5")),
//! ).await?;
//! let config = EventGridConfig::new([
//!     EventGridTopicConfig::new("user-events", emulator.topic_endpoint("user-events"))?,
//!     EventGridTopicConfig::new("order-events", emulator.topic_endpoint("order-events"))?,
//! ])?;
//! let client = EventGridClient::builder(config)
//!     .credential(Credential::sas_from_key("a2V5", Duration::from_secs(3600)))
//!     .extra_ca_pem(emulator.ca_certificate_pem().unwrap())
//!     .build()?;
//! assert_eq!(client.topics(), ["order-events", "user-events"]);
//! client.emit_event("order-events", "order.placed", "orders/1", 42).await?;
//! # Ok(()) }
//! ```
//!
//! # Async publishing
//!
//! [`EventGridClient::emit_event`] is the seed library's `async_emit_event`;
//! [`EventGridClient::publish_event`] takes a whole [`EventGridEvent`] for a data version, an
//! event time, an id of your own or a domain topic. The client is `Clone + Send + Sync`:
//! clones share one connection pool, so hand one to every task.
//!
//! ```
//! use eventgrid_async::{Credential, EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig};
//! use serde_json::json;
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("user-events"))).await?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", emulator.topic_endpoint("user-events"))?])?;
//! let client = EventGridClient::new(config, Credential::None)?;
//! let event = EventGridEvent::new("user.updated", "users/123", json!({"name": "Ada"}))?
//!     .with_data_version("2.0")
//!     .with_event_time(time::OffsetDateTime::now_utc());
//! client.publish_event("user-events", event).await?;
//!
//! let tasks: Vec<_> = (0..8).map(|n| {
//!     let client = client.clone();
//!     tokio::spawn(async move {
//!         client.emit_event("user-events", "user.seen", format!("users/{n}"), json!({})).await
//!     })
//! }).collect();
//! for task in tasks {
//!     task.await??;
//! }
//! # assert_eq!(emulator.counters("user-events").accepted_events, 9);
//! # Ok(()) }
//! ```
//!
//! # Batch publishing
//!
//! [`EventGridClient::send`] takes any number of events of the topic's schema
//! ([`EventGridEvent`], [`CloudEvent`] or [`CustomEvent`]). It validates them all before sending
//! anything, splits them into requests within the [`Limits`], keeps up to
//! `max_concurrent_requests` requests in flight, and reports which events were delivered when
//! only some were ([`Error::Delivery`]).
//!
//! ```
//! use eventgrid_async::{Credential, Error, EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig, Limits};
//! use serde_json::json;
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("order-events"))).await?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("order-events", emulator.topic_endpoint("order-events"))?])?;
//! let client = EventGridClient::builder(config)
//!     .limits(Limits::default().with_max_events_per_request(100))
//!     .max_concurrent_requests(4)
//!     .build()?;
//! let events = (0..250).map(|n| EventGridEvent::new("order.placed", format!("orders/{n}"), json!({"n": n})));
//! let events = events.collect::<Result<Vec<_>, _>>()?;
//! let summary = client.send("order-events", events).await?;
//! assert_eq!((summary.events, summary.requests), (250, 3));
//!
//! // An oversized event stops the whole send before anything goes out, naming the event.
//! let too_big = vec![EventGridEvent::new("order.placed", "orders/x", "x".repeat(100_000))?];
//! match client.send("order-events", too_big).await {
//!     Err(Error::EventTooLarge { index, size, limit }) => assert_eq!((index, limit), (0, 65_536)),
//!     other => panic!("{other:?}"),
//! }
//! # assert_eq!(emulator.counters("order-events").accepted_events, 250);
//! # Ok(()) }
//! ```
//!
//! # Buffered publishing
//!
//! Many tasks each publishing one event (the seed's "gather many `emit_event`s" pattern) cost
//! one request per event. A [`BufferedPublisher`] sends them together: each event is
//! serialized once and appended to its topic's open request body, sent when full or after a short linger
//! time ([`BufferedOptions`]), and each caller still gets its own event's outcome.
//! Back-pressure bounds the events waiting at once; [`BufferedPublisher::close`] waits for
//! everything accepted.
//!
//! ```
//! use eventgrid_async::{BufferedOptions, Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! use serde_json::json;
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("user-events"))).await?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", emulator.topic_endpoint("user-events"))?])?;
//! let client = EventGridClient::new(config, Credential::None)?;
//! let publisher = client.buffered(BufferedOptions::default().with_max_pending_events(10_000))?;
//! let tasks: Vec<_> = (0..2_000).map(|n| {
//!     let publisher = publisher.clone();
//!     tokio::spawn(async move {
//!         publisher.emit_event("user-events", "user.seen", format!("users/{n}"), json!({"n": n})).await
//!     })
//! }).collect();
//! for task in tasks {
//!     task.await??; // this task's own event was delivered
//! }
//! publisher.close().await;
//! let m = client.metrics()["user-events"];
//! assert_eq!(m.events_published, 2_000);
//! assert!(m.requests < 50, "{} requests", m.requests);
//! # Ok(()) }
//! ```
//!
//! # Streaming sends
//!
//! [`EventGridClient::send`] validates every event before sending any, so it holds them all
//! encoded. [`EventGridClient::send_stream`] reads and encodes events only as requests
//! complete: millions of events in the memory of a few requests. An invalid event is found
//! when reached, after earlier batches may have been delivered: the error names both.
//!
//! ```
//! use eventgrid_async::{Credential, Error, EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig, Limits};
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("metrics")).retain(0)).await?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("metrics", emulator.topic_endpoint("metrics"))?])?;
//! let client = EventGridClient::builder(config)
//!     .limits(Limits::default().with_max_events_per_request(1_000))
//!     .build()?;
//! let readings = (0..50_000).map(|n| EventGridEvent::new("reading", format!("sensors/{}", n % 7), n));
//! let summary = client.send_stream("metrics", readings.map(Result::unwrap)).await?;
//! assert_eq!((summary.events, summary.requests), (50_000, 50));
//!
//! // Event 2,500 is invalid: the two full batches before it may be delivered, nothing after.
//! let events = (0..10_000).map(|n| EventGridEvent::new(if n == 2_500 { "" } else { "reading" }, "s", n));
//! let Err(Error::Delivery(failure)) = client.send_stream("metrics", events.map(Result::unwrap)).await else {
//!     panic!("expected a partial delivery")
//! };
//! assert_eq!(failure.delivered, [0..2_000]);
//! assert_eq!(failure.failed[0].events, 2_000..2_501);
//! assert!(matches!(failure.failed[0].error, Error::InvalidEvent { index: 2_500, .. }));
//! # Ok(()) }
//! ```
//!
//! # Retries
//!
//! Throttling (429, honouring `Retry-After`), service trouble (408, 500, 502, 503, 504), dropped
//! connections and time-outs are retried with exponential backoff and jitter, re-sending the
//! same body so the same event ids; bad requests, authentication failures and oversized
//! requests are not. [`RetryOptions`] bounds the number of retries, each delay and the overall
//! time.
//!
//! ```
//! use std::time::Duration;
//! use eventgrid_async::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig, RetryOptions};
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("user-events"))).await?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", emulator.topic_endpoint("user-events"))?])?;
//! // The service is unavailable for the next two requests.
//! emulator.set_fault("user-events", eventgrid_emulator::FaultRule::status(503).next(2))?;
//! let client = EventGridClient::builder(config)
//!     .retry(RetryOptions::default()
//!         .with_max_retries(5)
//!         .with_initial_delay(Duration::from_millis(10))
//!         .with_max_elapsed(Duration::from_secs(10)))
//!     .request_timeout(Duration::from_secs(5))
//!     .build()?;
//! client.emit_event("user-events", "user.created", "users/1", 1).await?;
//! assert_eq!(client.metrics()["user-events"].retries, 2);
//! # Ok(()) }
//! ```
//!
//! # Environment configuration
//!
//! [`EventGridConfig::from_env`] reads `EVENTGRID_TOPICS=user-events,order-events` and, per
//! topic, `EVENTGRID_USER_EVENTS_ENDPOINT` plus optional `_KEY`, `_SAS` and `_SCHEMA`; a missing
//! variable is an error naming it. `from_env_with` reads from any lookup function:
//!
//! ```
//! use std::collections::HashMap;
//! use eventgrid_async::{Credential, EventGridClient, EventGridConfig};
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::keyed("user-events", "a2V5"))).await?;
//! let vars = HashMap::from([
//!     ("EVENTGRID_TOPICS".to_owned(), "user-events".to_owned()),
//!     ("EVENTGRID_USER_EVENTS_ENDPOINT".to_owned(), emulator.topic_endpoint("user-events")),
//!     ("EVENTGRID_USER_EVENTS_KEY".to_owned(), "a2V5".to_owned()),
//! ]);
//! let config = EventGridConfig::from_env_with(|name| vars.get(name).cloned())?;
//! // The topic carries its key from the environment; no client-wide credential is needed.
//! let client = EventGridClient::new(config, Credential::None)?;
//! client.emit_event("user-events", "user.created", "users/1", 1).await?;
//!
//! let missing = EventGridConfig::from_env_with(|_| None).unwrap_err();
//! assert!(missing.to_string().contains("EVENTGRID_TOPICS"));
//! # Ok(()) }
//! ```
//!
//! # Dynamic topics
//!
//! Topics can be added and removed while the client runs, through any clone.
//!
//! ```
//! use eventgrid_async::{Credential, Error, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("tenant-42"))).await?;
//! let client = EventGridClient::new(EventGridConfig::default(), Credential::None)?;
//! client.add_topic(EventGridTopicConfig::new("tenant-42", emulator.topic_endpoint("tenant-42"))?)?;
//! client.emit_event("tenant-42", "tenant.joined", "tenants/42", 42).await?;
//! assert_eq!(client.topics(), ["tenant-42"]);
//! client.remove_topic("tenant-42")?;
//! let gone = client.emit_event("tenant-42", "tenant.left", "tenants/42", 42).await;
//! assert!(matches!(gone, Err(Error::UnknownTopic { .. })));
//! # Ok(()) }
//! ```
//!
//! # Metrics
//!
//! [`EventGridClient::metrics`] gives, per topic, events published and failed, requests,
//! retries, bytes sent and request latency (the seed's `ObservableEventPublisher`, without the
//! wrapper). Each request is also traced: a `tracing` span `eventgrid.publish` with the topic,
//! the number of events, the attempts, the last status and the duration, never a credential.
//!
//! ```
//! use eventgrid_async::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = eventgrid_emulator::Emulator::start(eventgrid_emulator::EmulatorConfig::new()
//! #     .topic(eventgrid_emulator::TopicSpec::open("user-events"))).await?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", emulator.topic_endpoint("user-events"))?])?;
//! let client = EventGridClient::new(config, Credential::None)?;
//! for n in 0..3 {
//!     client.emit_event("user-events", "user.created", format!("users/{n}"), n).await?;
//! }
//! for (topic, m) in client.metrics() {
//!     println!("{topic}: {} published, {} failed, {} requests, {} retries, {} bytes, mean {:?}",
//!         m.events_published, m.events_failed, m.requests, m.retries, m.bytes_sent, m.latency.mean);
//! }
//! let m = client.metrics()["user-events"];
//! assert_eq!((m.events_published, m.requests, m.latency.count), (3, 3, 3));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod buffered;
mod builder;
mod client;
mod identity;
mod proxy;
mod receiver;
mod sender;
mod transport;
mod transport_error;

pub use buffered::BufferedPublisher;
pub use builder::{CustomTransport, EventGridClientBuilder, Hyper};
pub use client::EventGridClient;
pub use identity::{
    HyperHttpClient, default_credential, default_credential_on, default_credential_with_ca,
};
pub use receiver::Receiver;
pub use transport::{HyperTransport, HyperTransportBuilder};

/// Proxy selection (one policy for both clients): see [`ClientOptions::proxy`].
pub use eventgrid_core::proxy::{ProxyConfig, ProxySetting};
pub use eventgrid_core::{
    API_VERSION, AccessToken, AsyncTransport, BufferedOptions, ClientBuilder, ClientOptions,
    CloudEvent, CloudEventData, Credential, CredentialError, CustomEvent, DEFAULT_DATA_VERSION,
    DeliveryFailure, EVENTGRID_SCOPE, Endpoint, Error, ErrorDetail, Event, EventGridConfig,
    EventGridEvent, EventGridEventRef, EventGridTopicConfig, FailedEvents, FailedLockToken,
    HandlerError, KeyCredential, LatencyStats, Limits, MalformedEvent, ProcessOptions,
    ProcessReport, PullMetrics, ReceivedBatch, ReceivedEvent, ReleaseDelay, Result, RetryOptions,
    Schema, Secret, SendSummary, ServiceError, SettlementFailure, SettlementKind, SettlementResult,
    Shutdown, TOPICS_VAR, TokenCredential, TopicMetrics, TransportError, TransportErrorKind,
    TypedEventGridEvent, Verdict, bytes, generate_sas, http, topic_var,
};

// Compile-time promises: the client and transports can be shared across tasks and threads,
// and the client's futures can be spawned.
const _: () = {
    const fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
    assert_shareable::<EventGridClient>();
    assert_shareable::<HyperTransport>();
    assert_shareable::<HyperHttpClient>();
    assert_shareable::<BufferedPublisher>();
    assert_shareable::<Error>();

    #[allow(dead_code)]
    fn futures_are_send(
        client: &EventGridClient,
        event: EventGridEvent,
        publisher: &BufferedPublisher,
    ) {
        fn spawnable<T: Send>(_: T) {}
        spawnable(client.emit_event("topic", "type", "subject", 1));
        spawnable(client.publish_event("topic", event.clone()));
        spawnable(client.send("topic", [event.clone()]));
        spawnable(client.send("topic", [CloudEvent::without_data("/source", "type")]));
        spawnable(client.send("topic", [TypedEventGridEvent::new("t", "s", 1)]));
        spawnable(client.send_stream(
            "topic",
            (0..3).map(|n| EventGridEvent::new("t", "s", n).unwrap()),
        ));
        spawnable(publisher.emit_event("topic", "type", "subject", 1));
        spawnable(publisher.publish("topic", event));
        spawnable(publisher.flush());
        spawnable(publisher.close());
    }
};
