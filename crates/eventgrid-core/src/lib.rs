//! The protocol core of the `eventgrid` client family: everything about publishing to Azure
//! Event Grid except moving bytes.
//!
//! ```
//! use eventgrid_core::{Action, ClientCore, ClientOptions, Credential, EventGridConfig,
//!     EventGridEvent, EventGridTopicConfig, Now};
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
//! - Validation and batching: [`Limits`], [`BatchEncoder`], errors naming the event index.
//! - Requests: [`RequestTemplate`] builds `http::Request`s with the right headers; credentials
//!   ([`KeyCredential`], [`generate_sas`], [`AccessToken`]) become [`AuthHeader`]s.
//! - The engine: an [`Operation`] (such as a [`Publish`]) is driven by its front end through
//!   [`Action`]s: it chooses the auth header (the [`TokenCache`] rules included), refuses
//!   credentials over plain http, decides retries ([`RetryState`], seedable [`Jitter`]), keeps
//!   the deadline, records metrics and carries the tracing span; [`SendTracker`] turns a
//!   send's batches into one result.
//! - The seams: [`Transport`] and [`AsyncTransport`], and [`ClientBuilder`] for front ends.
//!
//! # Out of scope
//!
//! Sockets, TLS, sleeping, async runtimes and identity services: `eventgrid-async` and
//! `eventgrid-blocking` provide those. This crate never blocks and never performs I/O; it is
//! handed the time (`Instant`, `OffsetDateTime`) wherever a decision depends on it.

#![deny(missing_docs)]

mod auth;
mod batch;
mod builder;
mod client;
mod cloud_event;
mod config;
mod credential;
mod custom_event;
mod delivery;
mod endpoint;
mod engine;
mod env;
mod error;
mod error_clone;
mod event;
mod event_ref;
#[cfg(feature = "identity")]
pub mod identity;
mod limits;
mod metrics;
mod options;
mod request;
mod response;
mod retry;
mod sas;
mod secret;
#[cfg(test)]
mod testing;
mod token_cache;
mod transport;

pub use auth::{
    AccessToken, AuthHeader, EVENTGRID_SCOPE, KeyAuthorizer, KeyCredential, TOKEN_REFRESH_MARGIN,
};
pub use batch::{BatchEncoder, BatchStream, EncodedBatch, encode_all};
pub use builder::{ClientBuilder, ClientParts, FrontEnd};
pub use client::{ClientCore, Topic};
pub use cloud_event::{CloudEvent, CloudEventData, RESERVED_ATTRIBUTES, check_extension_name};
pub use config::{EventGridConfig, EventGridTopicConfig, Schema};
pub use credential::{Credential, TokenCredential};
pub use custom_event::CustomEvent;
pub use delivery::{Publish, SendSummary, SendTracker};
pub use endpoint::{API_VERSION, Endpoint};
pub use engine::{Action, Authorizer, Exchange, Now, Operation};
pub use env::{TOPICS_VAR, topic_var};
pub use error::{
    DeliveryFailure, Error, ErrorDetail, FailedEvents, Result, ServiceError, TransportError,
    TransportErrorKind,
};
pub use event::{DEFAULT_DATA_VERSION, Event, EventGridEvent};
pub use event_ref::EventGridEventRef;
pub use limits::{
    Limits, SERVICE_MAX_EVENT_BYTES, SERVICE_MAX_EVENTS_PER_REQUEST, SERVICE_MAX_REQUEST_BYTES,
};
pub use metrics::{LatencyStats, MetricsRegistry, TopicCounters, TopicMetrics};
pub use options::ClientOptions;
pub use request::{RequestTemplate, USER_AGENT_BASE, ensure_credentials_protected, user_agent};
pub use response::{parse_service_error, retry_after};
pub use retry::{Decision, Jitter, RetryOptions, RetryState, is_retryable_status};
pub use sas::generate_sas;
pub use secret::Secret;
pub use token_cache::{TokenCache, TokenFetch, TokenFuture, TokenResult, TokenStep, TokenWait};
pub use transport::{AsyncTransport, Transport, io_error_kind};

/// Re-exported so users of the transport traits name the same types.
pub use {bytes, http};
