//! The protocol core of the `eventgrid` client family: everything about publishing to Azure
//! Event Grid except moving bytes.
//!
//! ```
//! use eventgrid_core::{ClientOptions, Credential, EventGridConfig, EventGridEvent,
//!     EventGridTopicConfig};
//! use eventgrid_core::frontend::{Action, ClientCore, Now};
//! use std::time::Instant;
//!
//! let config = EventGridConfig::new([
//!     EventGridTopicConfig::new("user-events", "https://user-events.westus2-1.eventgrid.azure.net")?,
//! ])?;
//! let core = ClientCore::new(config, &Credential::access_key("a2V5"), ClientOptions::default())?;
//! let event = EventGridEvent::new("user.created", "users/123", serde_json::json!({"user_id": 123}))?;
//! let (topic, batches) = core.prepare("user-events", [event])?;
//! for batch in batches {
//!     // A front end executes the actions: here the service answers 200 at once.
//!     let mut operation = core.publish(&topic, batch, Instant::now());
//!     let outcome = loop {
//!         match operation.poll(Now::system()) {
//!             Action::Send { request, .. } => {
//!                 assert_eq!(request.headers()["aeg-sas-key"], "a2V5");
//!                 operation.on_response(http::Response::new(bytes::Bytes::new()), Instant::now());
//!             }
//!             Action::Done(outcome) => break outcome,
//!             other => unreachable!("{other:?}"),
//!         }
//!     };
//!     outcome?;
//! }
//! assert_eq!(core.metrics()["user-events"].events_published, 1);
//! # Ok::<(), eventgrid_core::Error>(())
//! ```
//!
//! # In scope
//!
//! - Configuration: named topics ([`EventGridConfig`], [`EventGridTopicConfig`]), from code or
//!   the environment, endpoints normalized ([`Endpoint`]), schemas ([`Schema`]).
//! - Events: [`EventGridEvent`], [`CloudEvent`], [`CustomEvent`], each serialized once.
//! - Validation and batching: [`Limits`], [`frontend::BatchEncoder`], errors naming the event
//!   index; [`frontend::SendPlan`] (check and measure everything, then encode each body as it
//!   goes out) and [`frontend::EventChunks`] (read in chunks, encode them on any thread).
//! - Requests: [`frontend::RequestTemplate`] builds `http::Request`s with the right headers;
//!   credentials ([`KeyCredential`], [`generate_sas`], [`AccessToken`]) become
//!   [`frontend::AuthHeader`]s.
//! - The engine ([`frontend`]): an [`Operation`](frontend::Operation) (such as a
//!   [`Publish`](frontend::Publish)) is driven by its front end through
//!   [`Action`](frontend::Action)s: it chooses the auth header (the
//!   [`TokenCache`](frontend::TokenCache) rules included), refuses credentials over plain http,
//!   decides retries (seedable [`Jitter`](frontend::Jitter)), keeps the deadline, records
//!   metrics and carries the tracing span.
//! - Proxies ([`proxy`]): which requests go through which proxy, decided the same way for
//!   every front end from the environment or explicit settings ([`ClientOptions::proxy`]).
//! - The seams: [`Transport`] and [`AsyncTransport`]; [`ClientBuilder`], the one builder of
//!   every front end.
//! - The subscriber's side ([`consumer`]): push deliveries and their handshakes read into
//!   these event types, and system events typed.
//!
//! # Out of scope
//!
//! Sockets, TLS, sleeping, async runtimes and identity services: `eventgrid-async` and
//! `eventgrid-blocking` provide those. This crate never blocks and never performs I/O; it is
//! handed the time (`Instant`, `OffsetDateTime`) wherever a decision depends on it.

#![deny(missing_docs)]

mod address_cache;
mod auth;
mod batch;
mod buffered_options;
mod builder;
mod client;
mod client_methods;
mod cloud_event;
mod coalescer;
mod config;
pub mod consumer;
mod credential;
mod custom_event;
mod delivery;
mod endpoint;
mod engine;
mod env;
mod error;
mod event;
mod event_chunks;
mod event_ref;
#[cfg(feature = "identity")]
pub mod identity;
mod json_writer;
mod limits;
mod metrics;
mod namespace;
mod options;
mod processor;
pub mod proxy;
mod receive;
mod request;
mod response;
mod retry;
mod sas;
mod secret;
mod send_plan;
mod settlement;
mod settlement_batch;
#[cfg(test)]
mod testing;
mod token_cache;
mod transport;
mod ttl_cache;
mod typed_event;

pub use auth::{AccessToken, EVENTGRID_SCOPE, KeyCredential, TOKEN_REFRESH_MARGIN};
pub use buffered_options::BufferedOptions;
pub use builder::ClientBuilder;
pub use cloud_event::{CloudEvent, CloudEventData, RESERVED_ATTRIBUTES, check_extension_name};
pub use config::{EventGridConfig, EventGridTopicConfig, Schema};
pub use credential::{Credential, TokenCredential};
pub use custom_event::CustomEvent;
pub use delivery::SendSummary;
pub use endpoint::{API_VERSION, Endpoint, NAMESPACE_API_VERSION};
pub use env::{TOPICS_VAR, topic_var};
pub use error::{
    CredentialError, DeliveryFailure, Error, ErrorDetail, FailedEvents, Result, ServiceError,
    TransportError, TransportErrorKind,
};
pub use event::{DEFAULT_DATA_VERSION, Event, EventGridEvent};
pub use event_ref::EventGridEventRef;
pub use limits::{
    Limits, NAMESPACE_MAX_EVENTS_PER_REQUEST, NAMESPACE_MAX_REQUEST_BYTES, SERVICE_MAX_EVENT_BYTES,
    SERVICE_MAX_EVENTS_PER_REQUEST, SERVICE_MAX_REQUEST_BYTES,
};
pub use metrics::{LatencyStats, PullMetrics, TopicMetrics};
pub use namespace::{MAX_EVENTS_RANGE, MAX_WAIT_SECONDS_RANGE, RECEIVE_ANSWER_MARGIN};
pub use options::ClientOptions;
pub use processor::{
    HandlerError, ProcessOptions, ProcessReport, REPORT_ERRORS_KEPT, Shutdown, Verdict,
};
pub use receive::{MalformedEvent, ReceivedBatch, ReceivedEvent};
pub use retry::RetryOptions;
pub use sas::generate_sas;
pub use secret::Secret;
pub use settlement::{
    FailedLockToken, ReleaseDelay, SettlementFailure, SettlementKind, SettlementResult,
};
pub use transport::{AsyncTransport, Transport};
pub use typed_event::TypedEventGridEvent;

/// For writing a front end or a transport of your own: the operation engine and the pieces
/// the built-in clients are made of. An application publishing events needs none of this.
///
/// A front end makes a [`ClientCore`](frontend::ClientCore) (topics, credential, options,
/// metrics), asks it for an [`Operation`](frontend::Operation) per batch
/// ([`ClientCore::publish`](frontend::ClientCore::publish)) and executes the operation's
/// [`Action`](frontend::Action)s: send a request, get a token, sleep, or finish. A transport
/// implements [`Transport`] or [`AsyncTransport`] and classifies socket errors with
/// [`io_error_kind`](frontend::io_error_kind); the engine does the rest.
pub mod frontend {
    pub use crate::address_cache::{ADDRESS_TTL, AddressCache};
    pub use crate::auth::{AuthHeader, KeyAuthorizer};
    pub use crate::batch::{BatchEncoder, BatchStream, EncodedBatch, encode_all};
    pub use crate::builder::{ClientParts, FrontEnd};
    pub use crate::client::{ClientCore, Topic};
    pub use crate::coalescer::{
        Accepted, Coalescer, CoalescerLock, Finished, FlushMark, Pushed, ReadyBatch, Ticket,
        Waiter, send_panicked, unsent, with_serialized,
    };
    pub use crate::delivery::{Publish, SendTracker};
    pub use crate::engine::{Action, Authorizer, Exchange, Now, Operation, TokenNeed};
    pub use crate::event_chunks::{EncodedChunk, EventChunk, EventChunks, Opening, StreamEnd};
    pub use crate::metrics::{MetricsRegistry, TopicCounters};
    pub use crate::namespace::Subscription;
    pub use crate::processor::HeldLocks;
    pub use crate::receive::Receive;
    pub use crate::request::{
        RequestTemplate, USER_AGENT_BASE, ensure_credentials_protected, is_loopback_host,
        user_agent,
    };
    pub use crate::response::{parse_service_error, retry_after};
    pub use crate::retry::{Decision, Jitter, RetryState, is_retryable_status};
    pub use crate::send_plan::SendPlan;
    pub use crate::settlement::Settle;
    pub use crate::settlement_batch::{SETTLE_MAX_LOCK_TOKENS, SettleBatch, SettlementBatcher};
    pub use crate::token_cache::{
        TokenCache, TokenFetch, TokenFuture, TokenResult, TokenStep, TokenWait,
    };
    pub use crate::transport::{
        ATTEMPT_LIMIT_SLACK, AttemptLimit, attempt_limit, describe_error_chain, error_chain,
        io_error_kind,
    };
}

// Compile-time promises: errors, options, the core and its operations cross threads.
const _: () = {
    const fn shareable<T: Send + Sync + 'static>() {}
    const fn sendable<T: Send + 'static>() {}
    shareable::<Error>();
    shareable::<Credential>();
    shareable::<ClientOptions>();
    shareable::<frontend::ClientCore>();
    shareable::<frontend::TokenCache>();
    sendable::<frontend::Operation<frontend::Publish>>();
    sendable::<frontend::TokenFetch>();
    sendable::<frontend::TokenWait>();
};

/// Re-exported so users of the transport traits name the same types.
pub use {bytes, http};
