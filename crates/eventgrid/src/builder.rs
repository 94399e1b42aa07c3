//! Building the unified client: one configuration, one set of options, and a credential for
//! each kind of client wanted.

use std::fmt;
use std::time::Duration;

use eventgrid_core::{
    ClientOptions, Credential, Error, EventGridConfig, Limits, Result, RetryOptions,
};

use crate::client::EventGridClient;

/// Builds an [`EventGridClient`]. Each side exists when it is given a credential: an async
/// client for [`async_credential`](Self::async_credential), a blocking client for
/// [`sync_credential`](Self::sync_credential), both when both are given (as the seed library
/// required one of `async_credential` and `credential`). Options left unset keep the clients'
/// documented defaults ([`ClientOptions`](eventgrid_core::ClientOptions)).
///
/// ```
/// use std::time::Duration;
/// use eventgrid::{Credential, EventGridClient, EventGridConfig, EventGridTopicConfig, RetryOptions};
///
/// let config = EventGridConfig::new([
///     EventGridTopicConfig::new("orders", "https://orders.westus2-1.eventgrid.azure.net")?,
/// ])?;
/// let client = EventGridClient::builder(config)
///     .async_credential(Credential::access_key("a2V5"))
///     .retry(RetryOptions::default().with_max_retries(5))
///     .request_timeout(Duration::from_secs(10))
///     .build()?;
/// assert!(client.async_client().is_some());
/// # Ok::<(), eventgrid::Error>(())
/// ```
pub struct EventGridClientBuilder {
    config: EventGridConfig,
    async_credential: Option<Credential>,
    sync_credential: Option<Credential>,
    options: ClientOptions,
    extra_ca_pem: Vec<Vec<u8>>,
}

impl EventGridClientBuilder {
    pub(crate) fn new(config: EventGridConfig) -> Self {
        Self {
            config,
            async_credential: None,
            sync_credential: None,
            options: ClientOptions::default(),
            extra_ca_pem: Vec::new(),
        }
    }

    /// Adds an async client authenticating with `credential` (for example
    /// `eventgrid::asynchronous::default_credential()?`, the Entra ID chain on the async HTTP
    /// stack, or [`Credential::None`] for open topics and topics with their own key).
    #[cfg(feature = "async")]
    pub fn async_credential(mut self, credential: impl Into<Credential>) -> Self {
        self.async_credential = Some(credential.into());
        self
    }

    /// Adds a blocking client authenticating with `credential` (for example
    /// `eventgrid::blocking::default_credential()?`, the Entra ID chain on the blocking HTTP
    /// stack).
    #[cfg(feature = "blocking")]
    pub fn sync_credential(mut self, credential: impl Into<Credential>) -> Self {
        self.sync_credential = Some(credential.into());
        self
    }

    /// Replaces every option of both clients at once.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Retry policy and overall deadline of both clients.
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.options = self.options.with_retry(retry);
        self
    }

    /// Size and count limits of both clients.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.options = self.options.with_limits(limits);
        self
    }

    /// Connect time-out of both clients.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.with_connect_timeout(timeout);
        self
    }

    /// Time-out of each request of both clients.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.with_request_timeout(timeout);
        self
    }

    /// Time-out of each token credential call of both clients.
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.options = self.options.with_token_timeout(timeout);
        self
    }

    /// How many requests of one send each client has in flight at once.
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.options = self.options.with_max_concurrent_requests(requests);
        self
    }

    /// Text appended to both clients' `User-Agent`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.options = self.options.with_user_agent_suffix(suffix);
        self
    }

    /// Trusts the CA certificate(s) in `pem` as well as the system's (the emulator's
    /// certificate when it serves HTTPS).
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_ca_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Builds the client. Fails when no credential was given for either side, or when an
    /// option is invalid.
    pub fn build(self) -> Result<EventGridClient> {
        if self.async_credential.is_none() && self.sync_credential.is_none() {
            return Err(Error::InvalidOption(
                "give an async credential, a sync credential or both (`async_credential`, `sync_credential`)"
                    .to_owned(),
            ));
        }
        Ok(EventGridClient::from_parts(
            #[cfg(feature = "async")]
            self.build_async()?,
            #[cfg(feature = "blocking")]
            self.build_sync()?,
        ))
    }

    #[cfg(feature = "async")]
    fn build_async(&self) -> Result<Option<eventgrid_async::EventGridClient>> {
        let Some(credential) = &self.async_credential else {
            return Ok(None);
        };
        let builder = eventgrid_async::EventGridClient::builder(self.config.clone())
            .credential(credential.clone())
            .options(self.options.clone());
        self.extra_ca_pem
            .iter()
            .fold(builder, |builder, pem| builder.extra_ca_pem(pem))
            .build()
            .map(Some)
    }

    #[cfg(feature = "blocking")]
    fn build_sync(&self) -> Result<Option<eventgrid_blocking::EventGridClient>> {
        let Some(credential) = &self.sync_credential else {
            return Ok(None);
        };
        let builder = eventgrid_blocking::EventGridClient::builder(self.config.clone())
            .credential(credential.clone())
            .options(self.options.clone());
        self.extra_ca_pem
            .iter()
            .fold(builder, |builder, pem| builder.extra_ca_pem(pem))
            .build()
            .map(Some)
    }
}

impl fmt::Debug for EventGridClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventGridClientBuilder")
            .field("topics", &self.config.topic_names())
            .field("async_credential", &self.async_credential)
            .field("sync_credential", &self.sync_credential)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
