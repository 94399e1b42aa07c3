//! Client options shared by every front end, each default written here and only here.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::proxy::ProxySetting;
use crate::retry::RetryOptions;

/// Options of a client. Both clients' builders set these (through the same setters); the
/// defaults are:
///
/// | option | default |
/// |---|---|
/// | `limits` | 64 KiB per event, 1 MiB and 5,000 events per request ([`Limits`]) |
/// | `retry` | 3 retries, 500 ms doubling with jitter, 30 s cap, 60 s overall ([`RetryOptions`]) |
/// | `connect_timeout` | 10 s |
/// | `request_timeout` | 30 s per attempt |
/// | `token_timeout` | 30 s per Microsoft Entra ID token request |
/// | `max_concurrent_requests` | 8 requests in flight per `send` |
/// | `user_agent_suffix` | none |
/// | `jitter_seed` | random |
/// | `proxy` | from the environment ([`ProxySetting::FromEnvironment`]) |
///
/// ```
/// use std::time::Duration;
/// use eventgrid_core::{ClientOptions, RetryOptions};
/// let options = ClientOptions::default()
///     .with_retry(RetryOptions::default().with_max_retries(5))
///     .with_request_timeout(Duration::from_secs(10));
/// assert_eq!(options.retry.max_retries, 5);
/// assert_eq!(options.connect_timeout, Duration::from_secs(10));
/// assert!(options.validate().is_ok());
/// assert!(ClientOptions::default().with_token_timeout(Duration::ZERO).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Size and count limits checked before sending.
    pub limits: Limits,
    /// Retry policy and overall deadline.
    pub retry: RetryOptions,
    /// Time allowed to open a connection (TCP and TLS; a name lookup gets as long again).
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending to the full response.
    pub request_timeout: Duration,
    /// Time allowed for one call of the token credential; callers waiting for it share its
    /// outcome.
    pub token_timeout: Duration,
    /// Requests one `send` keeps in flight at once.
    pub max_concurrent_requests: usize,
    /// Text appended to the `User-Agent` header, such as `my-app/1.2`.
    pub user_agent_suffix: Option<String>,
    /// Seed of the retry jitter: the same seed gives the same backoff delays (for tests);
    /// `None` seeds from the process's randomness.
    pub jitter_seed: Option<u64>,
    /// Where the transport takes its proxies from: the environment's `HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, explicit ones, or none (see
    /// [`proxy`](crate::proxy) for the rules both clients follow). Read when the client's
    /// transport is built; a transport of your own does as it likes.
    pub proxy: ProxySetting,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            retry: RetryOptions::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            token_timeout: Duration::from_secs(30),
            max_concurrent_requests: 8,
            user_agent_suffix: None,
            jitter_seed: None,
            proxy: ProxySetting::FromEnvironment,
        }
    }
}

impl ClientOptions {
    /// Sets the size and count limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryOptions) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the connect time-out.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time-out of each attempt.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the time-out of each token credential call.
    pub fn with_token_timeout(mut self, timeout: Duration) -> Self {
        self.token_timeout = timeout;
        self
    }

    /// Sets how many requests one `send` keeps in flight.
    pub fn with_max_concurrent_requests(mut self, requests: usize) -> Self {
        self.max_concurrent_requests = requests;
        self
    }

    /// Sets the `User-Agent` suffix.
    pub fn with_user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Seeds the retry jitter.
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Sets where the proxies come from.
    pub fn with_proxy(mut self, proxy: impl Into<ProxySetting>) -> Self {
        self.proxy = proxy.into();
        self
    }

    /// Refuses inconsistent options: limits beyond the service's, zero time-outs, a zero
    /// overall deadline (it would cut every first attempt) or zero concurrency.
    pub fn validate(&self) -> Result<()> {
        self.limits.validate()?;
        if self.max_concurrent_requests == 0 {
            return Err(Error::InvalidOption(
                "max_concurrent_requests must be at least 1".to_owned(),
            ));
        }
        for (name, value) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("token_timeout", self.token_timeout),
            ("retry.max_elapsed", self.retry.max_elapsed),
        ] {
            if value.is_zero() {
                return Err(Error::InvalidOption(format!(
                    "{name} must be more than zero"
                )));
            }
        }
        Ok(())
    }
}
