//! `Clone` for [`Error`], so that one failure can be handed to every caller it concerns (the
//! async client's buffered publisher gives each event of a failed batch its own copy).
//!
//! Every variant is copied field for field, so a copy matches, displays and answers
//! [`Error::status`], [`Error::is_retryable`] and [`Error::request_id`] exactly as the
//! original. The one field that is not `Clone` itself, the `serde_json::Error` of
//! [`Error::Serialize`], is rebuilt from its message: serialization errors carry no line or
//! column, so the copy displays the same, though its `classify()` is always `Data`. (Such
//! errors arise when an event is made, never when a batch is sent, so the buffered publisher
//! never copies one.)

use crate::error::{DeliveryFailure, Error, FailedEvents};

impl Clone for Error {
    fn clone(&self) -> Self {
        match self {
            Error::UnknownTopic { name, configured } => Error::UnknownTopic {
                name: name.clone(),
                configured: configured.clone(),
            },
            Error::InvalidTopic { topic, reason } => Error::InvalidTopic {
                topic: topic.clone(),
                reason: reason.clone(),
            },
            Error::MissingEnvVar { variable, purpose } => Error::MissingEnvVar {
                variable: variable.clone(),
                purpose: purpose.clone(),
            },
            Error::InvalidEnvVar { variable, reason } => Error::InvalidEnvVar {
                variable: variable.clone(),
                reason: reason.clone(),
            },
            Error::InvalidOption(reason) => Error::InvalidOption(reason.clone()),
            Error::Internal(reason) => Error::Internal(reason.clone()),
            Error::InvalidEvent { index, reason } => Error::InvalidEvent {
                index: *index,
                reason: reason.clone(),
            },
            Error::EventTooLarge { index, size, limit } => Error::EventTooLarge {
                index: *index,
                size: *size,
                limit: *limit,
            },
            Error::SchemaMismatch {
                topic,
                expected,
                given,
            } => Error::SchemaMismatch {
                topic: topic.clone(),
                expected: *expected,
                given: *given,
            },
            Error::Serialize(error) => {
                Error::Serialize(<serde_json::Error as serde::ser::Error>::custom(error))
            }
            Error::Credential(reason) => Error::Credential(reason.clone()),
            Error::InsecureTransport { host } => Error::InsecureTransport { host: host.clone() },
            Error::Service(error) => Error::Service(error.clone()),
            Error::Transport(error) => Error::Transport(error.clone()),
            Error::RetriesExhausted {
                attempts,
                elapsed,
                last,
            } => Error::RetriesExhausted {
                attempts: *attempts,
                elapsed: *elapsed,
                last: last.clone(),
            },
            Error::Delivery(failure) => Error::Delivery(failure.clone()),
            Error::Closed => Error::Closed,
        }
    }
}

impl Clone for DeliveryFailure {
    fn clone(&self) -> Self {
        DeliveryFailure {
            topic: self.topic.clone(),
            delivered: self.delivered.clone(),
            failed: self.failed.clone(),
        }
    }
}

impl Clone for FailedEvents {
    fn clone(&self) -> Self {
        FailedEvents {
            events: self.events.clone(),
            error: self.error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{ServiceError, TransportError, TransportErrorKind};

    fn service(status: u16) -> Error {
        Error::Service(ServiceError {
            status,
            code: Some("BadRequest".to_owned()),
            message: "bad".to_owned(),
            details: Vec::new(),
            request_id: Some("req-1".to_owned()),
            retry_after: None,
        })
    }

    #[test]
    fn copies_answer_like_the_original() {
        let originals = [
            service(400),
            Error::RetriesExhausted {
                attempts: 4,
                elapsed: Duration::from_millis(30),
                last: Box::new(service(503)),
            },
            Error::Transport(TransportError::new(TransportErrorKind::Timeout, "slow")),
            Error::Delivery(Box::new(DeliveryFailure {
                topic: "t".to_owned(),
                delivered: vec![0..3, 4..5],
                failed: vec![FailedEvents {
                    events: 3..4,
                    error: service(413),
                }],
            })),
            Error::Closed,
        ];
        for original in &originals {
            let copy = original.clone();
            assert_eq!(copy.to_string(), original.to_string());
            assert_eq!(copy.status(), original.status());
            assert_eq!(copy.is_retryable(), original.is_retryable());
            assert_eq!(copy.request_id(), original.request_id());
        }
    }

    #[test]
    fn serialize_errors_keep_their_message() {
        let error = serde_json::to_vec(&std::collections::HashMap::from([((1, 2), 3)]))
            .expect_err("tuple keys cannot be JSON object keys");
        let original = Error::Serialize(error);
        let copy = original.clone();
        assert_eq!(copy.to_string(), original.to_string());
        let (Error::Serialize(a), Error::Serialize(b)) = (&original, &copy) else {
            panic!("the copy changed variant: {copy:?}")
        };
        assert_eq!((a.line(), a.column()), (b.line(), b.column()));
    }
}
