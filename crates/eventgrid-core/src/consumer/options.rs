//! The bounds a subscriber puts on what it reads.

use crate::consumer::error::ReceiveError;

/// The default body limit: 2 MiB.
///
/// Event Grid's delivery batches are at most 1,024 KB (`preferredBatchSizeInKilobytes`) and one
/// event at most 1 MB, but the service adds `topic` and `metadataVersion` to each event on the
/// way out, so a delivery can be somewhat larger than anything a publisher may send.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The default limit on events per delivery: 5,000, the largest `maxEventsPerBatch`.
pub const DEFAULT_MAX_EVENTS: usize = 5_000;

/// How much a subscriber is willing to read from one request.
///
/// ```
/// use eventgrid_core::consumer::ReceiveOptions;
/// let options = ReceiveOptions::default().with_max_body_bytes(64 * 1024);
/// assert_eq!(options.max_body_bytes(), 65_536);
/// // Refused from the Content-Length header alone, before a byte of the body is read:
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::CONTENT_LENGTH, "1000000".parse().unwrap());
/// assert!(options.check_content_length(&headers).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiveOptions {
    max_body_bytes: usize,
    max_events: usize,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_events: DEFAULT_MAX_EVENTS,
        }
    }
}

impl ReceiveOptions {
    /// Sets the largest body read, in bytes (at least 1).
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit.max(1);
        self
    }

    /// Sets the most events one delivery may carry (at least 1).
    pub fn with_max_events(mut self, limit: usize) -> Self {
        self.max_events = limit.max(1);
        self
    }

    /// The largest body read, in bytes: a server reading a request stops there (and answers
    /// 413).
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The most events one delivery may carry.
    pub fn max_events(&self) -> usize {
        self.max_events
    }

    /// Refuses a request whose `Content-Length` is over the body limit, before its body is
    /// read. A request without the header passes: its body must still be read with the
    /// limit ([`ReceiveOptions::max_body_bytes`]).
    pub fn check_content_length(&self, headers: &http::HeaderMap) -> Result<(), ReceiveError> {
        let Some(value) = headers.get(http::header::CONTENT_LENGTH) else {
            return Ok(());
        };
        let size = value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or_else(|| ReceiveError::header("content-length", "is not a number"))?;
        self.check_size(size)
    }

    pub(crate) fn check_size(&self, size: u64) -> Result<(), ReceiveError> {
        if size > self.max_body_bytes as u64 {
            Err(ReceiveError::BodyTooLarge {
                size,
                limit: self.max_body_bytes,
            })
        } else {
            Ok(())
        }
    }

    pub(crate) fn check_count(&self, count: usize) -> Result<(), ReceiveError> {
        if count > self.max_events {
            Err(ReceiveError::body(format!(
                "holds {count} events, over the limit of {}",
                self.max_events
            )))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_checked_before_reading() {
        let options = ReceiveOptions::default().with_max_body_bytes(10);
        let mut headers = http::HeaderMap::new();
        assert!(options.check_content_length(&headers).is_ok());
        headers.insert(http::header::CONTENT_LENGTH, "10".parse().unwrap());
        assert!(options.check_content_length(&headers).is_ok());
        headers.insert(http::header::CONTENT_LENGTH, "11".parse().unwrap());
        assert_eq!(
            options.check_content_length(&headers),
            Err(ReceiveError::BodyTooLarge {
                size: 11,
                limit: 10
            })
        );
        headers.insert(http::header::CONTENT_LENGTH, "lots".parse().unwrap());
        let error = options.check_content_length(&headers).unwrap_err();
        assert_eq!(
            error.to_string(),
            "header `content-length`: is not a number"
        );
    }

    #[test]
    fn limits_are_at_least_one() {
        let options = ReceiveOptions::default()
            .with_max_body_bytes(0)
            .with_max_events(0);
        assert_eq!((options.max_body_bytes(), options.max_events()), (1, 1));
        assert!(options.check_count(2).is_err());
    }
}
