//! The protocol core of the `eventgrid` client family: everything about publishing to Azure
//! Event Grid except moving bytes.
//!
//! ```
//! use eventgrid_core::{ClientAuth, ClientCore, ClientOptions, Delivery, EventGridConfig,
//!     EventGridEvent, EventGridTopicConfig, Step, AuthStep};
//! use std::time::Instant;
//!
//! let config = EventGridConfig::new([
//!     EventGridTopicConfig::new("user-events", "https://user-events.westus2-1.eventgrid.azure.net")?,
//! ])?;
//! let core = ClientCore::new(config, ClientAuth::Key(eventgrid_core::KeyCredential::access_key("a2V5")),
//!     ClientOptions::default())?;
//! let event = EventGridEvent::new("user.created", "users/123", serde_json::json!({"user_id": 123}))?;
//! let (topic, batches) = core.prepare("user-events", [event])?;
//! for batch in batches {
//!     let mut delivery = topic.deliver(batch, &core, Instant::now());
//!     let AuthStep::Ready(auth) = topic.auth(time::OffsetDateTime::now_utc())? else { unreachable!() };
//!     let request = delivery.request(&auth, Instant::now());
//!     assert_eq!(request.headers()["aeg-sas-key"], "a2V5");
//!     // A transport sends `request`; here the service answers 200.
//!     let response = http::Response::new(bytes::Bytes::new());
//!     assert!(matches!(delivery.on_result(Ok(response), Instant::now()), Step::Delivered));
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
//! - Decisions: [`RetryState`] classifies each response or transport failure into done, retry
//!   after a delay, or fail; [`Delivery`] wraps it with metrics and tracing; [`SendTracker`]
//!   turns a send's batches into one result.
//! - The seams: [`Transport`] and [`AsyncTransport`].
//! - The subscriber's side ([`consumer`]): push deliveries and their handshakes read into
//!   these event types, and system events typed.
//!
//! # Out of scope
//!
//! Sockets, TLS, sleeping, async runtimes and identity services: `eventgrid-async` and
//! `eventgrid-blocking` provide those. This crate never blocks and never performs I/O; it is
//! handed the time (`Instant`, `OffsetDateTime`) wherever a decision depends on it.

#![deny(missing_docs)]

mod auth;
mod batch;
mod client;
mod cloud_event;
mod config;
pub mod consumer;
mod credential;
mod custom_event;
mod delivery;
mod endpoint;
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
mod transport;

pub use auth::{
    AccessToken, AuthHeader, EVENTGRID_SCOPE, KeyAuthorizer, KeyCredential, TOKEN_REFRESH_MARGIN,
};
pub use batch::{BatchEncoder, BatchStream, EncodedBatch, encode_all};
pub use client::{AuthStep, ClientAuth, ClientCore, Topic};
pub use cloud_event::{CloudEvent, CloudEventData, RESERVED_ATTRIBUTES, check_extension_name};
pub use config::{EventGridConfig, EventGridTopicConfig, Schema};
pub use credential::{Credential, TokenCredential};
pub use custom_event::CustomEvent;
pub use delivery::{Delivery, SendSummary, SendTracker, Step};
pub use endpoint::{API_VERSION, Endpoint};
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
pub use retry::{Decision, RetryOptions, RetryState, is_retryable_status};
pub use sas::generate_sas;
pub use secret::Secret;
pub use transport::{AsyncTransport, Transport};

/// Re-exported so users of the transport traits name the same types.
pub use {bytes, http};
