//! [`EventGridClientBuilder`]: a client's options, each with a documented default.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use eventgrid_core::{
    AsyncTransport, ClientCore, ClientOptions, Error, EventGridConfig, Limits, Result, RetryOptions,
};

use crate::sender::{DynTransport, Sender};
use crate::{Credential, EventGridClient, HyperTransport};

/// Builds an [`EventGridClient`]; see [`EventGridClient::builder`]. Every option starts at the
/// default documented on [`ClientOptions`]; the credential starts as [`Credential::None`].
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
pub struct EventGridClientBuilder {
    config: EventGridConfig,
    credential: Credential,
    options: ClientOptions,
    extra_ca_pem: Vec<Vec<u8>>,
    transport: Option<Arc<dyn DynTransport>>,
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

    /// Sets the client-wide credential (topics with their own credential keep theirs).
    pub fn credential(mut self, credential: impl Into<Credential>) -> Self {
        self.credential = credential.into();
        self
    }

    /// Sets the retry policy (default: 3 retries from 500 ms, doubling with jitter).
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.options.retry = retry;
        self
    }

    /// Sets the size and count limits checked before sending (default: 64 KiB per event,
    /// 1 MiB and 5,000 events per request).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// Sets the time allowed to open a connection, TCP and TLS (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed for each attempt, from sending to the full response (default
    /// 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// Sets how many requests one [`send`](EventGridClient::send) keeps in flight (default 8).
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.options.max_concurrent_requests = requests;
        self
    }

    /// Appends `suffix` (such as `my-app/1.2`) to the `User-Agent` header.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.options.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Also trusts the CA certificate(s) in `pem` (the emulator's, or a private CA's) in the
    /// built-in transport. Not allowed together with [`transport`](Self::transport).
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_ca_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Sends through `transport` instead of the built-in [`HyperTransport`]; the time-out
    /// options are then the transport's business.
    pub fn transport(mut self, transport: impl AsyncTransport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The client. Fails on invalid options (limits, zero time-outs or concurrency, a bad user
    /// agent suffix, an unusable CA certificate) or a topic that would send a credential over
    /// plain http to a remote host.
    pub fn build(self) -> Result<EventGridClient> {
        if self.transport.is_some() && !self.extra_ca_pem.is_empty() {
            return Err(Error::InvalidOption(
                "extra_ca_pem applies to the built-in transport; configure TLS in the custom transport instead"
                    .to_owned(),
            ));
        }
        let sender = match self.transport {
            Some(transport) => Sender::Custom(transport),
            None => {
                let mut builder = HyperTransport::builder()
                    .connect_timeout(self.options.connect_timeout)
                    .request_timeout(self.options.request_timeout);
                for pem in &self.extra_ca_pem {
                    builder = builder.extra_ca_pem(pem);
                }
                Sender::Hyper(builder.build()?)
            }
        };
        let core = ClientCore::new(self.config, self.credential.client_auth(), self.options)?;
        Ok(EventGridClient::from_parts(core, sender, &self.credential))
    }
}

impl fmt::Debug for EventGridClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventGridClientBuilder")
            .field("config", &self.config)
            .field("credential", &self.credential)
            .field("options", &self.options)
            .field("extra_ca_pem", &self.extra_ca_pem.len())
            .field("custom_transport", &self.transport.is_some())
            .finish()
    }
}
