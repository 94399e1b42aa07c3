//! Why a push delivery, or an event's data, could not be read.

use std::fmt;

/// Why a request a subscriber received is not a delivery it can read.
///
/// Every variant names its cause: the header, the limit that was crossed, or the event's
/// index in the body and the field at fault. [`ReceiveError::status`] is the status a webhook
/// should answer with (Event Grid neither retries nor redelivers a 400 or a 413: it
/// dead-letters the events, so a malformed delivery is not sent again and again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The body is larger than the limit in force.
    #[error("the body is {size} bytes, over the limit of {limit} bytes")]
    BodyTooLarge {
        /// The body's size in bytes (from `Content-Length` when refused before reading).
        size: u64,
        /// The limit in force.
        limit: usize,
    },

    /// The request's method is neither `POST` (deliveries) nor `OPTIONS` (the CloudEvents
    /// handshake).
    #[error("method {method} is not a delivery: Event Grid sends POST, and OPTIONS to validate")]
    UnsupportedMethod {
        /// The method that was used.
        method: String,
    },

    /// The `Content-Type` is not one Event Grid delivers with.
    #[error(
        "content type `{content_type}` is not a delivery: expected application/json, \
         application/cloudevents+json, application/cloudevents-batch+json, or ce-* headers"
    )]
    UnsupportedContentType {
        /// The content type as received.
        content_type: String,
    },

    /// A header is missing, or its value cannot be used.
    #[error("header `{name}`: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The body is not what its content type says: not JSON, or not an array where one is
    /// due, or more events than the limit.
    #[error("the body {reason}")]
    MalformedBody {
        /// What is wrong with it.
        reason: String,
    },

    /// One event of the body is invalid.
    #[error("{}", describe_event(*.index, .field.as_deref(), .reason))]
    InvalidEvent {
        /// The event's position in the body (0-based; 0 for a single event).
        index: usize,
        /// The field at fault, when one is (`eventTime`, `data.validationCode`, ...).
        field: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
}

impl ReceiveError {
    /// The HTTP status a webhook answers this error with: 413 for a body over the limit, 415
    /// for an unknown content type, 405 for another method, and 400 for the rest.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::BodyTooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedContentType { .. } => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnsupportedMethod { .. } => http::StatusCode::METHOD_NOT_ALLOWED,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }

    pub(crate) fn event(index: usize, field: Option<&str>, reason: impl Into<String>) -> Self {
        Self::InvalidEvent {
            index,
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }

    pub(crate) fn header(name: &str, reason: impl Into<String>) -> Self {
        Self::InvalidHeader {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn body(reason: impl Into<String>) -> Self {
        Self::MalformedBody {
            reason: reason.into(),
        }
    }
}

fn describe_event(index: usize, field: Option<&str>, reason: &str) -> String {
    match field {
        Some(field) => format!("event {index}: `{field}` {reason}"),
        None => format!("event {index}: {reason}"),
    }
}

/// Why an event's data could not be read as the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The event carries no data.
    #[error("event `{event_type}` carries no data")]
    Missing {
        /// The event's type.
        event_type: String,
    },

    /// The data does not have the shape of the type asked for.
    #[error("the data of event `{event_type}` is not a {target}: {reason}")]
    Invalid {
        /// The event's type.
        event_type: String,
        /// The Rust type asked for.
        target: &'static str,
        /// What serde found wrong, with the line and column in the data.
        reason: String,
    },
}

/// A field's kind, as error messages name it.
pub(crate) struct Kind<'a>(pub &'a serde_json::Value);

impl fmt::Display for Kind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_errors_name_the_index_and_the_field() {
        let error = ReceiveError::event(3, Some("eventTime"), "is not RFC 3339");
        assert_eq!(error.to_string(), "event 3: `eventTime` is not RFC 3339");
        let error = ReceiveError::event(0, None, "is not a JSON object");
        assert_eq!(error.to_string(), "event 0: is not a JSON object");
        assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn statuses_follow_the_cause() {
        let too_large = ReceiveError::BodyTooLarge { size: 9, limit: 1 };
        assert_eq!(too_large.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            too_large.to_string(),
            "the body is 9 bytes, over the limit of 1 bytes"
        );
        let content_type = ReceiveError::UnsupportedContentType {
            content_type: "text/plain".into(),
        };
        assert_eq!(
            content_type.status(),
            http::StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
