//! How [`EventGridClient::builder`]'s [`ClientBuilder`] makes an async client: the built-in
//! [`HyperTransport`] or a user's [`AsyncTransport`].

use std::fmt;
use std::sync::Arc;

use eventgrid_core::frontend::{ClientCore, ClientParts, FrontEnd};
use eventgrid_core::{AsyncTransport, ClientBuilder, Result};

use crate::sender::{DynTransport, Sender};
use crate::{EventGridClient, HyperTransport};

/// Builds an [`EventGridClient`]; see [`EventGridClient::builder`]. The setters are those of
/// [`ClientBuilder`], the same for every front end.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_async::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig, Limits, RetryOptions};
/// let config = EventGridConfig::new([
///     EventGridTopicConfig::new("user-events", "https://user-events.westus2-1.eventgrid.azure.net")?,
/// ])?;
/// let client = EventGridClient::builder(config)
///     .credential(Credential::sas_from_key("a2V5", Duration::from_secs(3600)))
///     .retry(RetryOptions::default().with_max_retries(5))
///     .limits(Limits::default().with_max_events_per_request(1000))
///     .connect_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(10))
///     .max_concurrent_requests(16)
///     .user_agent_suffix("orders-service/1.4")
///     .build()?;
/// assert_eq!(client.options().max_concurrent_requests, 16);
/// # Ok::<(), eventgrid_async::Error>(())
/// ```
pub type EventGridClientBuilder = ClientBuilder<Hyper>;

/// The async front end (hyper and tokio), as [`ClientBuilder`] knows it.
#[derive(Debug)]
pub struct Hyper;

/// A user's [`AsyncTransport`], as the client holds it; made by
/// [`ClientBuilder::transport`] from any `AsyncTransport`.
pub struct CustomTransport(Arc<dyn DynTransport>);

impl<T: AsyncTransport + 'static> From<T> for CustomTransport {
    fn from(transport: T) -> Self {
        Self(Arc::new(transport))
    }
}

impl fmt::Debug for CustomTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomTransport")
    }
}

impl FrontEnd for Hyper {
    type Client = EventGridClient;
    type Transport = CustomTransport;

    fn build(parts: ClientParts<CustomTransport>) -> Result<EventGridClient> {
        let sender = match parts.transport {
            Some(CustomTransport(transport)) => Sender::Custom(transport),
            None => {
                let builder = HyperTransport::builder(&parts.options);
                let builder = parts
                    .extra_ca_pem
                    .iter()
                    .fold(builder, |builder, pem| builder.extra_ca_pem(pem));
                Sender::Hyper(builder.build()?)
            }
        };
        let core = ClientCore::new(parts.config, &parts.credential, parts.options)?;
        Ok(EventGridClient::from_parts(core, sender))
    }
}
