//! A blocking Azure Event Grid client on ureq, with no async runtime: for scripts, command-line
//! tools, worker threads and web frameworks without `async`. The same API as `eventgrid-async`
//! (moving between them is a change of import), the same protocol core underneath.
//!
//! The seed library's sync publishing example, against the local emulator:
//!
//! ```
//! use eventgrid_blocking::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! # use eventgrid_emulator::{Emulator, EmulatorConfig, TopicSpec};
//! use serde_json::json;
//!
//! # let emulator = Emulator::start_in_background(
//! #     EmulatorConfig::new().topic(TopicSpec::keyed("user-events", "a2V5")))?;
//! # let endpoint = emulator.topic_endpoint("user-events");
//! // In production: "https://user-events.westus2-1.eventgrid.azure.net/api/events".
//! let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", &endpoint)?])?;
//! let client = EventGridClient::new(config, Credential::access_key("a2V5"))?;
//!
//! client.emit_event(
//!     "user-events",
//!     "user.created",
//!     "users/123",
//!     json!({"user_id": 123, "email": "user@example.com", "created_at": "2023-01-01T12:00:00Z"}),
//! )?;
//! # assert_eq!(emulator.events("user-events")[0]["data"]["user_id"], 123);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Batches
//!
//! [`EventGridClient::send`] takes any number of events of the topic's schema
//! ([`EventGridEvent`], [`CloudEvent`], [`CustomEvent`]), validates all of them first, splits
//! them into requests within the [`Limits`], and delivers those on several threads at once:
//!
//! ```
//! # use eventgrid_blocking::*;
//! # use eventgrid_emulator::{Emulator, EmulatorConfig, TopicSpec};
//! # let emulator = Emulator::start_in_background(EmulatorConfig::new().topic(TopicSpec::open("orders")))?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders"))?])?;
//! let client = EventGridClient::builder(config)
//!     .limits(Limits::default().with_max_events_per_request(100))
//!     .build()?;
//! let events = (0..250).map(|n| EventGridEvent::new("order.placed", format!("orders/{n}"), n));
//! let summary = client.send("orders", events.collect::<Result<Vec<_>>>()?)?;
//! assert_eq!((summary.events, summary.requests), (250, 3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Buffered publishing
//!
//! Many threads each publishing one event cost one request per event. A [`BufferedPublisher`]
//! (from [`EventGridClient::buffered`], the same API and contract as the async one) sends them
//! together: each event is serialized once into its topic's open request body, sent when full or
//! after a short linger time ([`BufferedOptions`]), and each caller blocks until its own event's
//! outcome. Callers beyond `max_pending_events` block for room; [`BufferedPublisher::close`]
//! waits for everything accepted.
//!
//! ```
//! # use eventgrid_blocking::*;
//! # use eventgrid_emulator::{Emulator, EmulatorConfig, TopicSpec};
//! # let emulator = Emulator::start_in_background(EmulatorConfig::new().topic(TopicSpec::open("clicks")))?;
//! # let config = EventGridConfig::new([EventGridTopicConfig::new("clicks", emulator.topic_endpoint("clicks"))?])?;
//! let client = EventGridClient::new(config, Credential::None)?;
//! let publisher = client.buffered(BufferedOptions::default().with_max_pending_events(1_000))?;
//! std::thread::scope(|scope| {
//!     for worker in 0..16 {
//!         let publisher = publisher.clone();
//!         scope.spawn(move || {
//!             for n in 0..50 {
//!                 // Returns once this event was delivered (or finally failed).
//!                 publisher.emit_event("clicks", "click", format!("workers/{worker}"), n).unwrap();
//!             }
//!         });
//!     }
//! });
//! publisher.close();
//! let metrics = &client.metrics()["clicks"];
//! assert_eq!(metrics.events_published, 800);
//! assert!(metrics.requests < 800, "{} requests", metrics.requests);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Retries, topics at run time, metrics
//!
//! Throttling (429), service trouble (500, 502, 503, 504), time-outs and dropped connections are
//! retried as [`RetryOptions`] say, honouring `Retry-After`, with the same event ids on every
//! attempt; bad requests (400, 401, 403, 404, 413) are not. Retries sleep on the thread that
//! sends.
//!
//! ```
//! # use eventgrid_blocking::*;
//! # use std::time::Duration;
//! # use eventgrid_emulator::{Emulator, EmulatorConfig, FaultRule, TopicSpec};
//! # let emulator = Emulator::start_in_background(EmulatorConfig::new().topic(TopicSpec::open("audit")))?;
//! let client = EventGridClient::builder(EventGridConfig::default())
//!     .retry(RetryOptions::default().with_initial_delay(Duration::from_millis(10)))
//!     .build()?;
//! client.add_topic(EventGridTopicConfig::new("audit", emulator.topic_endpoint("audit"))?)?;
//! emulator.set_fault("audit", FaultRule::status(503).next(2))?;
//! client.emit_event("audit", "login", "users/1", serde_json::json!({}))?;
//! let metrics = &client.metrics()["audit"];
//! assert_eq!((metrics.events_published, metrics.requests, metrics.retries), (1, 3, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration from the environment
//!
//! [`EventGridConfig::from_env`] reads `EVENTGRID_TOPICS=user-events,orders` and
//! `EVENTGRID_<TOPIC>_ENDPOINT` (plus optional `_KEY`, `_SAS`, `_SCHEMA`), as the seed did.
//!
//! # Credentials
//!
//! [`Credential`]: an access key, a SAS token (given, or generated from the key and renewed
//! before it lapses), or any `azure_identity` token credential, such as
//! [`default_credential()`]. Tokens are cached until five minutes before they expire, and
//! threads needing one at the same time wait for a single refresh. `azure_identity` talks to
//! Microsoft Entra ID through [`UreqHttpClient`], this crate's ureq agent: one HTTP stack, one
//! TLS stack (rustls with ring), no tokio.

#![deny(missing_docs)]

mod buffered;
mod builder;
mod client;
mod deliver;
mod identity;
mod receiver;
mod resolver;
mod tcp;
mod tls;
mod transport;

pub use buffered::BufferedPublisher;
pub use builder::{CustomTransport, EventGridClientBuilder, Ureq};
pub use client::EventGridClient;
pub use identity::{
    UreqHttpClient, default_credential, default_credential_on, default_credential_with_ca,
};
pub use receiver::Receiver;
pub use transport::{UreqTransport, UreqTransportBuilder};

/// The protocol core's types, so that users need only this crate.
/// Proxy selection (one policy for both clients): see [`ClientOptions::proxy`].
pub use eventgrid_core::proxy::{ProxyConfig, ProxySetting};
pub use eventgrid_core::{
    API_VERSION, AccessToken, BufferedOptions, ClientBuilder, ClientOptions, CloudEvent,
    CloudEventData, Credential, CredentialError, CustomEvent, DEFAULT_DATA_VERSION,
    DeliveryFailure, EVENTGRID_SCOPE, Endpoint, Error, ErrorDetail, Event, EventGridConfig,
    EventGridEvent, EventGridEventRef, EventGridTopicConfig, FailedEvents, FailedLockToken,
    HandlerError, KeyCredential, LatencyStats, Limits, MalformedEvent, ProcessOptions,
    ProcessReport, PullMetrics, ReceivedBatch, ReceivedEvent, ReleaseDelay, Result, RetryOptions,
    Schema, Secret, SendSummary, ServiceError, SettlementFailure, SettlementKind, SettlementResult,
    Shutdown, TOPICS_VAR, TokenCredential, TopicMetrics, Transport, TransportError,
    TransportErrorKind, TypedEventGridEvent, Verdict, bytes, generate_sas, http, topic_var,
};

// Compile-time promises: the client, transports and errors can be shared across threads.
const _: () = {
    const fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<EventGridClient>();
    shareable::<BufferedPublisher>();
    shareable::<UreqTransport>();
    shareable::<UreqHttpClient>();
    shareable::<Error>();
};
