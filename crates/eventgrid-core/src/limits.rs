//! Size and count limits checked before anything is sent.

use crate::error::{Error, Result};

/// The largest single event the service accepts, as documented (1 MiB).
pub const SERVICE_MAX_EVENT_BYTES: usize = 1_048_576;
/// The largest request body the service accepts (measured: 1,536,000 bytes).
pub const SERVICE_MAX_REQUEST_BYTES: usize = 1_536_000;
/// The most events one request may carry.
pub const SERVICE_MAX_EVENTS_PER_REQUEST: usize = 5_000;

/// Client-side limits. Defaults: 65,536 bytes per serialized event (the seed library's
/// "keep events under 64 KB"), 1 MiB per request body, 5,000 events per request.
///
/// ```
/// use eventgrid_core::Limits;
/// let limits = Limits::default().with_max_event_bytes(1_048_576).with_max_request_bytes(1_536_000);
/// assert!(limits.validate().is_ok());
/// // A body must be able to hold the largest event.
/// let limits = Limits::default().with_max_event_bytes(1_048_576);
/// assert!(limits.validate().is_err());
/// assert!(Limits::default().with_max_events_per_request(0).validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest serialized event, in bytes. Default 65,536; at most 1,048,576.
    pub max_event_bytes: usize,
    /// Largest request body (the whole JSON array), in bytes. Default 1,048,576; at most
    /// 1,536,000.
    pub max_request_bytes: usize,
    /// Most events per request. Default and maximum 5,000.
    pub max_events_per_request: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_event_bytes: 65_536,
            max_request_bytes: 1_048_576,
            max_events_per_request: SERVICE_MAX_EVENTS_PER_REQUEST,
        }
    }
}

impl Limits {
    /// Sets the per-event limit.
    pub fn with_max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// Sets the per-request body limit.
    pub fn with_max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// Sets the per-request event count limit.
    pub fn with_max_events_per_request(mut self, count: usize) -> Self {
        self.max_events_per_request = count;
        self
    }

    /// Checks the limits are within the service's and consistent with each other.
    pub fn validate(&self) -> Result<()> {
        let fail = |reason: String| Err(Error::InvalidOption(reason));
        if self.max_event_bytes == 0 || self.max_event_bytes > SERVICE_MAX_EVENT_BYTES {
            return fail(format!(
                "max_event_bytes must be 1..={SERVICE_MAX_EVENT_BYTES}, not {}",
                self.max_event_bytes
            ));
        }
        if self.max_request_bytes > SERVICE_MAX_REQUEST_BYTES
            || self.max_request_bytes < self.max_event_bytes + 2
        {
            return fail(format!(
                "max_request_bytes must be at least max_event_bytes + 2 ({}) and at most {SERVICE_MAX_REQUEST_BYTES}, not {}",
                self.max_event_bytes + 2,
                self.max_request_bytes
            ));
        }
        if self.max_events_per_request == 0
            || self.max_events_per_request > SERVICE_MAX_EVENTS_PER_REQUEST
        {
            return fail(format!(
                "max_events_per_request must be 1..={SERVICE_MAX_EVENTS_PER_REQUEST}, not {}",
                self.max_events_per_request
            ));
        }
        Ok(())
    }
}
