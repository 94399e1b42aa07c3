//! Building a client: options with documented defaults, the credential, the transport.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use eventgrid_core::{
    ClientCore, ClientOptions, Credential, Error, EventGridConfig, Limits, Result, RetryOptions,
    Transport,
};

use crate::client::{EventGridClient, Inner};
use crate::token::TokenCache;
use crate::transport::UreqTransport;

/// Builds an [`EventGridClient`]. Every setting has a default (see
/// [`ClientOptions`]); only the topics are required.
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
pub struct EventGridClientBuilder {
    config: EventGridConfig,
    credential: Credential,
    options: ClientOptions,
    extra_ca_pem: Vec<Vec<u8>>,
    transport: Option<Box<dyn Transport>>,
}

impl EventGridClientBuilder {
    pub(crate) fn new(config: EventGridConfig) -> Self {
        Self {
            config,
            credential: Credential::None,
            options: ClientOptions::default(),
            extra_ca_pem: Vec::new(),
            transport: None,
        }
    }

    /// The client-wide credential (default: none, for open emulator topics or topics with
    /// their own credential): an access key, a SAS token, SAS tokens generated from a key, or
    /// a Microsoft Entra ID token credential.
    pub fn credential(mut self, credential: impl Into<Credential>) -> Self {
        self.credential = credential.into();
        self
    }

    /// The retry policy (default: 3 retries, 500 ms doubling with jitter, 30 s cap, 60 s
    /// overall).
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.options.retry = retry;
        self
    }

    /// The size and count limits checked before sending (default: 64 KiB per event, 1 MiB
    /// and 5,000 events per request).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// Time allowed to connect, TCP and TLS (default 10 s). Looking a host name up, when its
    /// addresses are not cached, is allowed as long again.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// Time allowed for one attempt, from sending to the whole response (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// Requests one `send` keeps in flight at once (default 8).
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.options.max_concurrent_requests = requests;
        self
    }

    /// Text appended to the `User-Agent` header, such as `my-app/1.2`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.options.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Also trusts the CA certificate(s) in this PEM data, such as the emulator's in TLS mode.
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_ca_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Sends through `transport` instead of the built-in [`UreqTransport`].
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(Box::new(transport));
        self
    }

    /// The client. Fails on invalid options or limits, a credential configured for a plain
    /// `http://` remote endpoint, an invalid CA certificate, or an extra CA certificate given
    /// together with a custom transport (which does its own TLS).
    pub fn build(self) -> Result<EventGridClient> {
        let core = ClientCore::new(self.config, self.credential.client_auth(), self.options)?;
        let transport: Box<dyn Transport> = match self.transport {
            Some(transport) if self.extra_ca_pem.is_empty() => transport,
            Some(_) => {
                return Err(Error::InvalidOption(
                    "extra_ca_pem applies to the built-in transport; configure TLS on the custom transport instead"
                        .to_owned(),
                ));
            }
            None => {
                let builder = self
                    .extra_ca_pem
                    .iter()
                    .fold(UreqTransport::builder(core.options()), |b, pem| {
                        b.extra_ca_pem(pem)
                    });
                Box::new(builder.build()?)
            }
        };
        let tokens = self
            .credential
            .token_credential()
            .map(|credential| TokenCache::new(Arc::clone(credential)));
        Ok(EventGridClient {
            inner: Arc::new(Inner {
                core,
                transport,
                tokens,
            }),
        })
    }
}

impl fmt::Debug for EventGridClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventGridClientBuilder")
            .field("topics", &self.config.topic_names())
            .field("credential", &self.credential)
            .field("options", &self.options)
            .field("custom_transport", &self.transport.is_some())
            .finish_non_exhaustive()
    }
}
