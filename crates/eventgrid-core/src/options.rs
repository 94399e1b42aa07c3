//! Client options shared by the async and blocking clients, with documented defaults.

use std::time::Duration;

use crate::limits::Limits;
use crate::retry::RetryOptions;

/// Options of a client. Both clients' builders set these; the defaults are:
///
/// | option | default |
/// |---|---|
/// | `limits` | 64 KiB per event, 1 MiB and 5,000 events per request ([`Limits`]) |
/// | `retry` | 3 retries, 500 ms doubling with jitter, 30 s cap, 60 s overall ([`RetryOptions`]) |
/// | `connect_timeout` | 10 s |
/// | `request_timeout` | 30 s per attempt |
/// | `max_concurrent_requests` | 8 requests in flight per `send` |
/// | `user_agent_suffix` | none |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Size and count limits checked before sending.
    pub limits: Limits,
    /// Retry policy.
    pub retry: RetryOptions,
    /// Time allowed to open a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending to the full response.
    pub request_timeout: Duration,
    /// Requests one `send` keeps in flight at once.
    pub max_concurrent_requests: usize,
    /// Text appended to the `User-Agent` header, such as `my-app/1.2`.
    pub user_agent_suffix: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            retry: RetryOptions::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 8,
            user_agent_suffix: None,
        }
    }
}
