//! [`BufferedOptions`]: how a buffered publisher (the [`Coalescer`](crate::Coalescer) under
//! `BufferedPublisher` in `eventgrid-async` and `eventgrid-blocking`) groups events into
//! requests and how much it holds at once, each with a documented default.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::options::ClientOptions;

/// Options of a `BufferedPublisher` (async or blocking). The defaults:
///
/// | option | default |
/// |---|---|
/// | `max_events_per_batch` | the client's [`Limits::max_events_per_request`] (5,000) |
/// | `max_bytes_per_batch` | the client's [`Limits::max_request_bytes`] (1 MiB) |
/// | `linger` | 5 ms |
/// | `max_pending_events` | 20,000 |
/// | `max_concurrent_requests` | the client's `max_concurrent_requests` (8), per topic |
///
/// A batch (one request) closes as soon as it holds `max_events_per_batch` events, when the
/// next event would take its body over `max_bytes_per_batch`, or `linger` after its first
/// event, whichever comes first. At most `max_pending_events` accepted events wait for their
/// outcome at once (about that many serialized events are in memory); further publishers wait
/// for room (a task awaits, a thread blocks).
///
/// ```
/// use std::time::Duration;
/// use eventgrid_core::BufferedOptions;
/// let options = BufferedOptions::default()
///     .with_linger(Duration::from_millis(20))
///     .with_max_events_per_batch(500)
///     .with_max_pending_events(5_000)
///     .with_max_concurrent_requests(4);
/// assert_eq!(options.max_events_per_batch, Some(500));
/// assert_eq!(BufferedOptions::default().linger, Duration::from_millis(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BufferedOptions {
    /// Most events per request; `None` takes the client's limit. At most the client's limit.
    pub max_events_per_batch: Option<usize>,
    /// Largest request body in bytes; `None` takes the client's limit. At most the client's
    /// limit, and at least its per-event limit plus 2.
    pub max_bytes_per_batch: Option<usize>,
    /// How long a batch waits for more events after its first one (default 5 ms).
    pub linger: Duration,
    /// Most accepted events whose outcome is not known yet, over all topics (default 20,000).
    pub max_pending_events: usize,
    /// Most requests in flight per topic; `None` takes the client's `max_concurrent_requests`.
    pub max_concurrent_requests: Option<usize>,
}

impl Default for BufferedOptions {
    fn default() -> Self {
        Self {
            max_events_per_batch: None,
            max_bytes_per_batch: None,
            linger: Duration::from_millis(5),
            max_pending_events: 20_000,
            max_concurrent_requests: None,
        }
    }
}

impl BufferedOptions {
    /// Sets the most events per request.
    pub fn with_max_events_per_batch(mut self, events: usize) -> Self {
        self.max_events_per_batch = Some(events);
        self
    }

    /// Sets the largest request body, in bytes.
    pub fn with_max_bytes_per_batch(mut self, bytes: usize) -> Self {
        self.max_bytes_per_batch = Some(bytes);
        self
    }

    /// Sets how long a batch waits for more events after its first one.
    pub fn with_linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Sets the most accepted events waiting for their outcome at once.
    pub fn with_max_pending_events(mut self, events: usize) -> Self {
        self.max_pending_events = events;
        self
    }

    /// Sets the most requests in flight per topic.
    pub fn with_max_concurrent_requests(mut self, requests: usize) -> Self {
        self.max_concurrent_requests = Some(requests);
        self
    }

    /// The batch limits and request concurrency these options give on a client with
    /// `client` options; refuses values outside the client's limits.
    pub(crate) fn resolve(&self, client: &ClientOptions) -> Result<(Limits, usize)> {
        let invalid = |reason: String| Err(Error::InvalidOption(reason));
        let limits = client.limits;
        let events = self
            .max_events_per_batch
            .unwrap_or(limits.max_events_per_request);
        if events == 0 || events > limits.max_events_per_request {
            return invalid(format!(
                "max_events_per_batch must be 1..={} (the client's limit), not {events}",
                limits.max_events_per_request
            ));
        }
        let bytes = self.max_bytes_per_batch.unwrap_or(limits.max_request_bytes);
        if bytes < limits.max_event_bytes + 2 || bytes > limits.max_request_bytes {
            return invalid(format!(
                "max_bytes_per_batch must be {}..={} (the client's per-event limit + 2 up to its per-request limit), not {bytes}",
                limits.max_event_bytes + 2,
                limits.max_request_bytes
            ));
        }
        if self.max_pending_events == 0 {
            return invalid("max_pending_events must be at least 1".to_owned());
        }
        let requests = self
            .max_concurrent_requests
            .unwrap_or(client.max_concurrent_requests);
        if requests == 0 {
            return invalid("max_concurrent_requests must be at least 1".to_owned());
        }
        let limits = limits
            .with_max_events_per_request(events)
            .with_max_request_bytes(bytes);
        Ok((limits, requests))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_take_the_clients_limits() {
        let client = ClientOptions::default();
        let (limits, requests) = BufferedOptions::default().resolve(&client).unwrap();
        assert_eq!(limits, client.limits);
        assert_eq!(requests, client.max_concurrent_requests);
    }

    #[test]
    fn values_beyond_the_client_are_refused_naming_the_option() {
        let client = ClientOptions::default();
        let cases = [
            (
                BufferedOptions::default().with_max_events_per_batch(5_001),
                "max_events_per_batch",
            ),
            (
                BufferedOptions::default().with_max_events_per_batch(0),
                "max_events_per_batch",
            ),
            (
                BufferedOptions::default().with_max_bytes_per_batch(1_000),
                "max_bytes_per_batch",
            ),
            (
                BufferedOptions::default().with_max_bytes_per_batch(2_000_000),
                "max_bytes_per_batch",
            ),
            (
                BufferedOptions::default().with_max_pending_events(0),
                "max_pending_events",
            ),
            (
                BufferedOptions::default().with_max_concurrent_requests(0),
                "max_concurrent_requests",
            ),
        ];
        for (options, name) in cases {
            let error = options.resolve(&client).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidOption(reason) if reason.starts_with(name)),
                "{options:?}: {error}"
            );
        }
    }
}
