//! A local Azure Event Grid service for tests, demos and development, like Azurite for Storage.
//!
//! ```
//! use std::io::{Read, Write};
//! use eventgrid_emulator::{Emulator, EmulatorConfig, FaultRule, TopicSpec};
//!
//! let emulator = Emulator::start_in_background(
//!     EmulatorConfig::new().topic(TopicSpec::keyed("orders", "a2V5")),
//! )?;
//! println!("publish to {}", emulator.topic_endpoint("orders"));
//!
//! // What any Event Grid client sends: a JSON array, an api-version and a credential.
//! let body = r#"[{"id":"1","subject":"orders/1","eventType":"order.placed",
//!                 "eventTime":"2024-01-01T00:00:00Z","dataVersion":"1.0","data":{"total":3}}]"#;
//! let mut stream = std::net::TcpStream::connect(emulator.local_addr())?;
//! write!(
//!     stream,
//!     "POST /orders/api/events?api-version=2018-01-01 HTTP/1.1\r\nHost: {}\r\n\
//!      aeg-sas-key: a2V5\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
//!      Connection: close\r\n\r\n{body}",
//!     emulator.local_addr(),
//!     body.len(),
//! )?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200 OK"));
//!
//! // Inspect what arrived, then make the next request fail as the service sometimes does.
//! assert_eq!(emulator.events("orders")[0]["data"]["total"], 3);
//! assert_eq!(emulator.counters("orders").accepted_events, 1);
//! emulator.set_fault("orders", FaultRule::status(503).retry_after_secs(1).next(1))?;
//! emulator.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it does, as the service does (see `docs/emulator.md`):
//! - topics at `/{topic}/api/events?api-version=2018-01-01`, each with one [`Schema`], open or
//!   keyed ([`TopicSpec`]);
//! - authentication by access key (`aeg-sas-key`), SAS token (`aeg-sas-token` or
//!   `Authorization: SharedAccessSignature`, in the forms the Python, JavaScript and .NET SDKs
//!   write) or bearer token (`Authorization: Bearer`) from its fake Microsoft Entra endpoint
//!   (`POST /{tenant}/oauth2/v2.0/token`);
//! - validation of the body (a JSON array of events of the topic's schema) and the service
//!   [`Limits`], every error in the service's `{"error":{"code","message","details"}}` shape with
//!   an `x-ms-request-id`;
//! - namespace topics with queue subscriptions (pull delivery, api-version `2024-06-01`) at
//!   `/topics/{topic}:publish` and `/topics/{topic}/eventsubscriptions/{subscription}:receive`
//!   (and `:acknowledge`, `:release`, `:reject`, `:renewLock`), with locks, delivery counts,
//!   dead letters and event-type filters ([`NamespaceTopicSpec`], [`SubscriptionSpec`]);
//! - HTTPS with a generated certificate ([`EmulatorConfig::tls`]);
//! - inspection and fault injection, from Rust through [`EmulatorControl`] and over HTTP under
//!   `/_emulator/`: [`FaultSpec`] rules answer a status, add latency or drop the connection, for
//!   the next N requests or a seeded fraction of them.
//!
//! In async code, start it with [`Emulator::start`] on the current tokio runtime; in blocking
//! code, [`Emulator::start_in_background`] runs it on a runtime of its own.

#![deny(missing_docs)]

mod auth;
pub mod cli;
mod config;
mod error;
mod faults;
#[doc(hidden)]
pub mod fuzzing;
mod inspection;
mod namespace;
mod push;
mod serving;
mod store;
mod validation;

pub use config::topic::{Schema, TopicSpec};
pub use config::{DEFAULT_RETAIN_BYTES, EmulatorConfig, EntraClient, Limits};
pub use error::{Error, Result};
pub use faults::{FaultEffect, FaultRule, FaultScope, FaultSpec, RetryAfter};
pub use inspection::control::EmulatorControl;
pub use namespace::queue::SubscriptionCounts;
pub use namespace::spec::{NamespaceTopicSpec, SubscriptionSpec};
pub use push::{
    AdvancedFilter, BatchPolicy, DeadLetter, DeliveryAttempt, EventFilter, FilterOperator,
    MAX_ADVANCED_FILTERS, MAX_FILTER_STRING_CHARS, MAX_FILTER_VALUES, PushConfig, RetryPolicy,
    SubscriptionCounters, SubscriptionInfo, SubscriptionState, WebhookSubscription,
};
pub use serving::background::EmulatorHandle;
/// For fuzzing the whole request path in-process; not part of the stable API.
#[doc(hidden)]
pub use serving::in_process::{InProcessEmulator, InProcessResponse};

/// Whether the emulator's JSON scanner accepts `body` as a JSON array: exactly when
/// `serde_json` reads it as a `Vec<serde_json::Value>`. For fuzzing the scanner against
/// `serde_json`; not part of the stable API.
#[doc(hidden)]
pub fn json_scanner_accepts(body: &str) -> bool {
    validation::json_scan::scan_array(body, |_, _, _| {}).is_some()
}
pub use serving::start::{Emulator, RunningEmulator};
pub use store::{RecordedRequest, TopicCounters};

/// The audience of the bearer tokens Event Grid accepts (scope `{EVENT_GRID_AUDIENCE}/.default`).
pub const EVENT_GRID_AUDIENCE: &str = auth::jwt::EVENT_GRID_AUDIENCE;

/// The api-version of basic topics, required on every publish request.
pub const API_VERSION: &str = serving::publish::API_VERSION;

/// The api-version of namespace topics (pull delivery).
pub const NAMESPACE_API_VERSION: &str = namespace::serve::NAMESPACE_API_VERSION;

#[cfg(test)]
mod tests {
    /// The handles cross threads and tasks: tests hand them to spawned work.
    #[test]
    fn handles_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::RunningEmulator>();
        assert_send_sync::<crate::EmulatorHandle>();
        assert_send_sync::<crate::EmulatorControl>();
        assert_send_sync::<crate::EmulatorConfig>();
        assert_send_sync::<crate::Error>();
        assert_send_sync::<crate::InProcessEmulator>();
    }
}
