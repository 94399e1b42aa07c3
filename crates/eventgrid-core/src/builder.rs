//! The one client builder: every front end's `EventGridClient::builder` is a
//! [`ClientBuilder`] of that front end, so the setters, their documentation and their defaults
//! (those of [`ClientOptions`]) are written once.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use crate::config::EventGridConfig;
use crate::credential::Credential;
use crate::error::Result;
use crate::limits::Limits;
use crate::options::ClientOptions;
use crate::retry::RetryOptions;

/// A front end: how a client is made from what a [`ClientBuilder`] collected.
pub trait FrontEnd {
    /// The client built.
    type Client;
    /// A user's own transport, as the front end holds it.
    type Transport;
    /// Makes the client.
    fn build(parts: ClientParts<Self::Transport>) -> Result<Self::Client>;
}

/// What a [`ClientBuilder`] collected, for its [`FrontEnd`].
#[non_exhaustive]
pub struct ClientParts<T> {
    /// The topics.
    pub config: EventGridConfig,
    /// The client-wide credential.
    pub credential: Credential,
    /// The options.
    pub options: ClientOptions,
    /// Extra CA certificates (PEM) for the built-in transport.
    pub extra_ca_pem: Vec<Vec<u8>>,
    /// A custom transport instead of the built-in one.
    pub transport: Option<T>,
}

/// Builds a client of front end `F`; see each front end's `EventGridClient::builder`. Every
/// option starts at the default documented on [`ClientOptions`]; the credential starts as
/// [`Credential::None`].
pub struct ClientBuilder<F: FrontEnd> {
    parts: ClientParts<F::Transport>,
    front_end: PhantomData<fn() -> F>,
}

impl<F: FrontEnd> ClientBuilder<F> {
    /// A builder for `config`'s topics.
    pub fn new(config: EventGridConfig) -> Self {
        Self {
            parts: ClientParts {
                config,
                credential: Credential::None,
                options: ClientOptions::default(),
                extra_ca_pem: Vec::new(),
                transport: None,
            },
            front_end: PhantomData,
        }
    }

    /// Sets the client-wide credential: an access key, a SAS token, SAS tokens generated from
    /// a key, or a Microsoft Entra ID token credential (topics with their own keep theirs).
    pub fn credential(mut self, credential: impl Into<Credential>) -> Self {
        self.parts.credential = credential.into();
        self
    }

    /// Replaces every option at once.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.parts.options = options;
        self
    }

    /// Sets the retry policy and overall deadline.
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.parts.options.retry = retry;
        self
    }

    /// Sets the size and count limits checked before sending.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.parts.options.limits = limits;
        self
    }

    /// Sets the time allowed to open a connection, TCP and TLS (a name lookup, when its
    /// addresses are not cached, gets as long again).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.parts.options.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed for each attempt, from sending to the whole response.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.parts.options.request_timeout = timeout;
        self
    }

    /// Sets the time allowed for each call of the token credential.
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.parts.options.token_timeout = timeout;
        self
    }

    /// Sets how many requests one `send` keeps in flight at once.
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.parts.options.max_concurrent_requests = requests;
        self
    }

    /// Appends `suffix` (such as `my-app/1.2`) to the `User-Agent` header.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.parts.options.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Also trusts the CA certificate(s) in `pem` (the emulator's, or a private CA's) in the
    /// built-in transport. Not allowed together with [`transport`](Self::transport).
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.parts.extra_ca_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Sends through `transport` instead of the built-in one; the time-out options are then
    /// the transport's business, though each attempt's deadline (the request time-out, a
    /// receive's long poll, within the overall deadline) is handed to its `send_before`, and
    /// the async client cuts an attempt still running then.
    pub fn transport(mut self, transport: impl Into<F::Transport>) -> Self {
        self.parts.transport = Some(transport.into());
        self
    }

    /// The options set so far.
    pub fn current_options(&self) -> &ClientOptions {
        &self.parts.options
    }

    /// The client. Fails on invalid options (limits, zero time-outs or concurrency, a bad
    /// user agent suffix, an unusable CA certificate, a CA certificate given with a custom
    /// transport) or a topic that would send a credential over plain http to a remote host.
    pub fn build(self) -> Result<F::Client> {
        if self.parts.transport.is_some() && !self.parts.extra_ca_pem.is_empty() {
            return Err(crate::Error::InvalidOption(
                "extra_ca_pem applies to the built-in transport; configure TLS in the custom transport instead"
                    .to_owned(),
            ));
        }
        self.parts.options.validate()?;
        F::build(self.parts)
    }
}

impl<F: FrontEnd> fmt::Debug for ClientBuilder<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("topics", &self.parts.config.topic_names())
            .field("credential", &self.parts.credential)
            .field("options", &self.parts.options)
            .field("extra_ca_pem", &self.parts.extra_ca_pem.len())
            .field("custom_transport", &self.parts.transport.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for ClientParts<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientParts")
            .field("topics", &self.config.topic_names())
            .field("credential", &self.credential)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
