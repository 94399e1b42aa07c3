//! Publish events to Azure Event Grid from async and blocking Rust, and develop against a
//! local emulator instead of Azure.
//!
//! The seed library's unified client: one configuration of named topics, then
//! `async_emit_event` from async code and `sync_emit_event` from blocking code.
//!
//! ```
//! # #[cfg(all(feature = "async", feature = "blocking"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use eventgrid::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig};
//! use serde_json::json;
//! # let emulator = eventgrid_emulator::Emulator::start_in_background(
//! #     eventgrid_emulator::EmulatorConfig::new()
//! #         .topic(eventgrid_emulator::TopicSpec::keyed("user-events", "a2V5")),
//! # )?;
//! # let endpoint = emulator.topic_endpoint("user-events");
//!
//! // In production: "https://user-events.westus2-1.eventgrid.azure.net/api/events".
//! let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", &endpoint)?])?;
//! let client = EventGridClient::builder(config)
//!     .async_credential(Credential::access_key("a2V5"))
//!     .sync_credential(Credential::access_key("a2V5"))
//!     .build()?;
//!
//! client.sync_emit_event("user-events", "user.created", "users/1", json!({"user_id": 1}))?;
//!
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(client.async_emit_event("user-events", "user.login", "users/1", json!({})))?;
//! # assert_eq!(emulator.events("user-events").len(), 2);
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "async", feature = "blocking")))]
//! # fn main() {}
//! ```
//!
//! # What is where
//!
//! - [`EventGridClient`]: the unified client, holding an async client, a blocking client or both.
//! - [`asynchronous`] (feature `async`, on by default): the async client on hyper and tokio,
//!   the whole of the `eventgrid-async` crate.
//! - [`blocking`] (feature `blocking`): the blocking client on ureq with no async runtime, the
//!   whole of the `eventgrid-blocking` crate.
//! - At the top level: the protocol core's types every client shares (configuration, events,
//!   credentials, options, errors, metrics, SAS generation). The rest of the core is
//!   [`core`].
//! - [`consumer`]: the subscriber's side, for webhooks that receive events.
//!
//! Both clients have the same methods (`emit_event`, `publish_event`, `send`, `add_topic`,
//! `remove_topic`, `topics`, `metrics`); moving between them is a change of import. Every
//! event is validated before anything is sent, large sends are split to the service's limits,
//! throttling and service trouble are retried with backoff, and credentials are never
//! printed.
//!
//! # Without an Azure account
//!
//! The `eventgrid-emulator` crate is a local Event Grid service; the `eventgrid` command runs
//! it (`eventgrid emulator --topic orders`) and shows it working (`eventgrid demo`). The
//! examples of this crate start it in-process unless `EVENTGRID_TOPICS` points them at real
//! topics.

#![deny(missing_docs)]

mod builder;
mod client;

pub use builder::EventGridClientBuilder;
pub use client::EventGridClient;

/// Proxy selection (one policy for both clients): see [`ClientOptions::proxy`].
pub use eventgrid_core::proxy::{ProxyConfig, ProxySetting};
pub use eventgrid_core::{
    AccessToken, ClientOptions, CloudEvent, CloudEventData, Credential, CredentialError,
    CustomEvent, DeliveryFailure, Endpoint, Error, ErrorDetail, Event, EventGridConfig,
    EventGridEvent, EventGridTopicConfig, FailedEvents, FailedLockToken, HandlerError,
    KeyCredential, LatencyStats, Limits, MalformedEvent, ProcessOptions, ProcessReport,
    PullMetrics, ReceivedBatch, ReceivedEvent, ReleaseDelay, Result, RetryOptions, Schema, Secret,
    SendSummary, ServiceError, SettlementFailure, SettlementKind, SettlementResult, Shutdown,
    TokenCredential, TopicMetrics, TransportError, TransportErrorKind, TypedEventGridEvent,
    Verdict, generate_sas,
};

// Compile-time promises: the unified client, the publishers and errors can be shared across
// threads and tasks.
const _: () = {
    const fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<EventGridClient>();
    shareable::<Error>();
    #[cfg(feature = "async")]
    shareable::<eventgrid_async::BufferedPublisher>();
    #[cfg(feature = "blocking")]
    shareable::<eventgrid_blocking::BufferedPublisher>();
};

/// The protocol core (`eventgrid-core`): everything about publishing except moving bytes, for
/// building a transport or a client of your own.
pub use eventgrid_core as core;

/// The subscriber's side: read what Event Grid pushes to a webhook, answer its handshakes, and
/// type system events (`eventgrid-core`'s `consumer` module; no I/O, so it fits any server).
pub use eventgrid_core::consumer;

/// The async client: the `eventgrid-async` crate, on hyper and tokio.
///
/// Use it directly when a program only publishes from async code:
///
/// ```
/// use eventgrid::asynchronous::{Credential, EventGridClient, EventGridConfig};
/// let client = EventGridClient::new(EventGridConfig::default(), Credential::None)?;
/// assert!(client.topics().is_empty());
/// # Ok::<(), eventgrid::Error>(())
/// ```
#[cfg(feature = "async")]
pub mod asynchronous {
    #[doc(inline)]
    pub use eventgrid_async::*;
}

/// The blocking client: the `eventgrid-blocking` crate, on ureq, with no async runtime.
///
/// Use it directly when a program only publishes from blocking code:
///
/// ```
/// use eventgrid::blocking::{Credential, EventGridClient, EventGridConfig};
/// let client = EventGridClient::new(EventGridConfig::default(), Credential::None)?;
/// assert!(client.topics().is_empty());
/// # Ok::<(), eventgrid::Error>(())
/// ```
#[cfg(feature = "blocking")]
pub mod blocking {
    #[doc(inline)]
    pub use eventgrid_blocking::*;
}

/// The README's Rust code blocks, compiled and run as doctests. They use both clients, so
/// they run when both features are on, as in `cargo test --workspace` and
/// `cargo test -p eventgrid --all-features`.
#[doc = include_str!("../../../README.md")]
#[cfg(all(doctest, feature = "async", feature = "blocking"))]
pub struct ReadmeDoctests;
