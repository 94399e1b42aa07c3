//! The subscriber's side of push delivery, with no I/O: read what Event Grid sends to a
//! webhook, answer its handshakes, and type the system events in it.
//!
//! A webhook hands each request to [`receive`] (or [`receive_parts`]) and acts on the
//! [`Incoming`] it gets back:
//!
//! - [`Incoming::Handshake`]: the Event Grid schema validation event or the CloudEvents
//!   `OPTIONS` abuse-protection request; answer with [`Handshake::response`].
//! - [`Incoming::Delivery`]: events in the Event Grid schema (a JSON array), CloudEvents in
//!   structured mode (`application/cloudevents+json`, one event), as a batch
//!   (`application/cloudevents-batch+json`), or in binary mode (`ce-*` headers); read each
//!   one's data with `data_as::<T>()` and its system event with
//!   [`SystemEvent::parse`](system::SystemEvent::parse), then answer 200.
//! - An error names the header, limit, or event index and field at fault; answer with
//!   [`ReceiveError::status`].
//!
//! Events pulled from a namespace topic's queue subscription come from the `:receive` answer
//! instead: [`parse_namespace_receive`] reads each with its lock token (an unreadable one is
//! returned apart, to be rejected, not as an error for all).
//!
//! Reading is bounded: bodies over [`ReceiveOptions::max_body_bytes`] (which a server should
//! also use as its read limit, and check against `Content-Length` first with
//! [`ReceiveOptions::check_content_length`]) and deliveries over
//! [`ReceiveOptions::max_events`] are refused; nothing received can make it panic.
//!
//! ```
//! use eventgrid_core::consumer::system::SystemEvent;
//! use eventgrid_core::consumer::{Incoming, ReceiveOptions, receive};
//!
//! let body = br#"{"specversion":"1.0","id":"9","source":"/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv",
//!   "type":"Microsoft.KeyVault.SecretNearExpiry","subject":"db-password","time":"2024-05-01T10:00:00Z",
//!   "data":{"Id":"https://kv.vault.azure.net/secrets/db-password/1","VaultName":"kv","ObjectType":"Secret",
//!           "ObjectName":"db-password","Version":"1","NBF":1714500000,"EXP":1717000000}}"#;
//! let request = http::Request::post("/events")
//!     .header("content-type", "application/cloudevents+json; charset=utf-8")
//!     .body(&body[..])?;
//! let answer = match receive(&request, &ReceiveOptions::default()) {
//!     Ok(Incoming::Handshake(handshake)) => handshake.response(),
//!     Ok(Incoming::Delivery(delivery)) => {
//!         for event in delivery.events().iter() {
//!             if let SystemEvent::KeyVaultSecretNearExpiry(secret) = SystemEvent::parse(event)? {
//!                 assert_eq!(secret.object_name.as_deref(), Some("db-password"));
//!             }
//!         }
//!         http::Response::new(bytes::Bytes::new())
//!     }
//!     // Kinds of request a later version may recognise.
//!     Ok(_) => http::Response::builder().status(400).body(bytes::Bytes::new())?,
//!     Err(error) => {
//!         let mut answer = http::Response::new(bytes::Bytes::from(error.to_string()));
//!         *answer.status_mut() = error.status();
//!         answer
//!     }
//! };
//! assert_eq!(answer.status(), 200);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod binary;
mod error;
mod fields;
mod handshake;
mod headers;
mod incoming;
mod namespace;
mod options;
mod received;
pub mod system;
#[cfg(test)]
mod tests;

pub use binary::CE_HEADER_PREFIX;
pub use error::{DataError, ReceiveError};
pub use handshake::{
    AbuseProtection, Handshake, SubscriptionValidation, WEBHOOK_ALLOWED_ORIGIN,
    WEBHOOK_ALLOWED_RATE, WEBHOOK_REQUEST_CALLBACK, WEBHOOK_REQUEST_ORIGIN, WEBHOOK_REQUEST_RATE,
};
pub use headers::{
    AEG_DATA_VERSION, AEG_DELIVERY_COUNT, AEG_EVENT_TYPE, AEG_METADATA_VERSION,
    AEG_OUTPUT_EVENT_ID, AEG_SUBSCRIPTION_NAME, AegEventType, DeliveryHeaders,
};
pub use incoming::{ContentMode, Incoming, PushDelivery, ReceivedEvents, receive, receive_parts};
pub use namespace::parse_namespace_receive;
pub use options::{DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENTS, ReceiveOptions};
pub use received::ReceivedEvent;
