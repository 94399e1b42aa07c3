//! How [`EventGridClient::builder`]'s [`ClientBuilder`] makes a blocking client: the built-in
//! [`UreqTransport`] or a user's [`Transport`].

use std::fmt;
use std::sync::Arc;

use eventgrid_core::frontend::{ClientCore, ClientParts, FrontEnd};
use eventgrid_core::{ClientBuilder, Result, Transport};

use crate::client::{EventGridClient, Inner};
use crate::transport::UreqTransport;

/// Builds an [`EventGridClient`]; see [`EventGridClient::builder`]. The setters are those of
/// [`ClientBuilder`], the same for every front end.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_blocking::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig, RetryOptions};
///
/// let config = EventGridConfig::new([EventGridTopicConfig::new("orders", "https://orders.westus2-1.eventgrid.azure.net")?])?;
/// let client = EventGridClient::builder(config)
///     .credential(Credential::sas_from_key("a2V5", Duration::from_secs(3600)))
///     .retry(RetryOptions::default().with_max_retries(5))
///     .request_timeout(Duration::from_secs(10))
///     .max_concurrent_requests(4)
///     .user_agent_suffix("orders-service/1.0")
///     .build()?;
/// assert_eq!(client.topics(), ["orders"]);
/// # Ok::<(), eventgrid_blocking::Error>(())
/// ```
pub type EventGridClientBuilder = ClientBuilder<Ureq>;

/// The blocking front end (ureq and threads), as [`ClientBuilder`] knows it.
#[derive(Debug)]
pub struct Ureq;

/// A user's [`Transport`], as the client holds it; made by [`ClientBuilder::transport`] from
/// any `Transport`.
pub struct CustomTransport(Box<dyn Transport>);

impl<T: Transport + 'static> From<T> for CustomTransport {
    fn from(transport: T) -> Self {
        Self(Box::new(transport))
    }
}

impl fmt::Debug for CustomTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomTransport")
    }
}

impl FrontEnd for Ureq {
    type Client = EventGridClient;
    type Transport = CustomTransport;

    fn build(parts: ClientParts<CustomTransport>) -> Result<EventGridClient> {
        let transport = match parts.transport {
            Some(CustomTransport(transport)) => transport,
            None => {
                let builder = UreqTransport::builder(&parts.options);
                let builder = parts
                    .extra_ca_pem
                    .iter()
                    .fold(builder, |builder, pem| builder.extra_ca_pem(pem));
                Box::new(builder.build()?)
            }
        };
        let core = ClientCore::new(parts.config, &parts.credential, parts.options)?;
        Ok(EventGridClient {
            inner: Arc::new(Inner { core, transport }),
        })
    }
}
