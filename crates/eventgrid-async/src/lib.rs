//! Async Azure Event Grid publishing on hyper and tokio.
#![deny(missing_docs)]

mod azure_http;
mod builder;
mod client;
mod sender;
mod tls;
mod token;
mod transport;
mod transport_error;

pub use azure_http::{HyperHttpClient, default_credential, default_credential_with_ca};
pub use builder::EventGridClientBuilder;
pub use client::EventGridClient;
pub use transport::{HyperTransport, HyperTransportBuilder};

pub use eventgrid_core::{
    AccessToken, AsyncTransport, ClientOptions, CloudEvent, CloudEventData, Credential,
    CustomEvent, DeliveryFailure, EVENTGRID_SCOPE, Endpoint, Error, ErrorDetail, Event,
    EventGridConfig, EventGridEvent, EventGridTopicConfig, FailedEvents, KeyCredential,
    LatencyStats, Limits, Result, RetryOptions, Schema, Secret, SendSummary, ServiceError,
    TokenCredential, TopicMetrics, TransportError, TransportErrorKind, generate_sas,
};

const _: () = {
    const fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
    assert_shareable::<EventGridClient>();
    assert_shareable::<HyperTransport>();
    assert_shareable::<HyperHttpClient>();
};
