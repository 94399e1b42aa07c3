//! The one error type shared by the core and both clients.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Schema;

/// Everything that can go wrong when configuring a client or publishing events.
///
/// Every variant names its cause: the topic, the environment variable, the event's index in
/// the batch, or the limit that was crossed; an underlying error (serialization, the identity
/// service, the transport) stays reachable through [`source`](std::error::Error::source). No
/// variant ever contains a credential. `Clone` (causes are shared), so one failure can be
/// handed to every caller it concerns.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The topic name is not configured.
    #[error("unknown topic `{name}`; configured topics: {}", list_or_none(.configured))]
    UnknownTopic {
        /// The name that was asked for.
        name: String,
        /// The names that are configured, sorted.
        configured: Vec<String>,
    },

    /// A topic's configuration is invalid (empty or duplicate name, bad endpoint, ...).
    #[error("topic `{topic}`: {reason}")]
    InvalidTopic {
        /// The topic's name as given.
        topic: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A required environment variable is not set.
    #[error("environment variable `{variable}` is not set ({purpose})")]
    MissingEnvVar {
        /// The variable's name.
        variable: String,
        /// What it is needed for.
        purpose: String,
    },

    /// An environment variable holds a value that cannot be used.
    #[error("environment variable `{variable}`: {reason}")]
    InvalidEnvVar {
        /// The variable's name.
        variable: String,
        /// What is wrong with its value.
        reason: String,
    },

    /// Client options or limits are inconsistent.
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// An event is invalid; nothing of its batch was sent.
    #[error("event {index}: {reason}")]
    InvalidEvent {
        /// The event's position in the batch (0-based).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// An event is larger than the per-event limit; nothing of its batch was sent.
    #[error("event {index} is {size} bytes, over the per-event limit of {limit} bytes")]
    EventTooLarge {
        /// The event's position in the batch (0-based).
        index: usize,
        /// Its serialized size in bytes.
        size: usize,
        /// The limit in force.
        limit: usize,
    },

    /// The events are of a schema the topic does not accept.
    #[error("topic `{topic}` accepts {expected} events, not {given}")]
    SchemaMismatch {
        /// The topic's name.
        topic: String,
        /// The schema the topic is configured with.
        expected: Schema,
        /// The schema of the events given.
        given: Schema,
    },

    /// Event data could not be serialized to JSON.
    #[error("could not serialize event data: {0}")]
    Serialize(#[source] Arc<serde_json::Error>),

    /// A credential could not be used or obtained.
    #[error("credential: {0}")]
    Credential(#[source] CredentialError),

    /// A credential would have been sent over plain `http://` to a host other than loopback.
    #[error(
        "refusing to send a credential over plain http to `{host}`: use https (plain http is allowed for loopback only)"
    )]
    InsecureTransport {
        /// The host that was refused.
        host: String,
    },

    /// The service answered with an error status.
    #[error(transparent)]
    Service(#[from] ServiceError),

    /// The request could not be sent or its answer not read.
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// Retries ran out; `last` is the last attempt's error.
    #[error("gave up after {attempts} attempts over {elapsed:?}: {last}")]
    RetriesExhausted {
        /// How many attempts were made.
        attempts: u32,
        /// Time from the first attempt to giving up.
        elapsed: Duration,
        /// The last attempt's error.
        last: Box<Error>,
    },

    /// Some events of a send were delivered and some were not.
    #[error(transparent)]
    Delivery(Box<DeliveryFailure>),

    /// A bug: an internal rule was broken (a worker or a custom transport panicked, an
    /// operation was driven out of order). The events concerned were not delivered or their
    /// outcome is unknown.
    #[error("internal error: {0}")]
    Internal(String),

    /// The buffered publisher was closed: it accepts no more events (those accepted before
    /// were delivered or failed, each with its own outcome).
    #[error("the buffered publisher is closed and accepts no more events")]
    Closed,
}

impl Error {
    /// The HTTP status the service answered with, if this error came from the service.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Service(e) => Some(e.status),
            Error::RetriesExhausted { last, .. } => last.status(),
            Error::Delivery(d) => d.failed.first().and_then(|f| f.error.status()),
            _ => None,
        }
    }

    /// Whether trying the same request again could succeed (throttling, service trouble,
    /// connection failures, time-outs). Bad input and auth failures are never retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => crate::retry::is_retryable_status(e.status),
            Error::Transport(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// The service's request id (`x-ms-request-id`) when the service answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Service(e) => e.request_id.as_deref(),
            Error::RetriesExhausted { last, .. } => last.request_id(),
            _ => None,
        }
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::Serialize(Arc::new(error))
    }
}

/// Why a credential could not be used or obtained, with the identity service's error as its
/// source when there was one.
#[derive(Debug, Clone)]
pub struct CredentialError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    /// The fetch was dropped unfinished: the credential itself did not fail, so a caller that
    /// waited for it fetches again rather than fail.
    pub(crate) abandoned: bool,
}

impl CredentialError {
    /// A failure described by `message` (which must not contain a credential).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
            abandoned: false,
        }
    }

    /// The same, caused by `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CredentialError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<CredentialError> for Error {
    fn from(error: CredentialError) -> Self {
        Error::Credential(error)
    }
}

/// An error answer from Event Grid: status plus the parsed `{"error":{...}}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// HTTP status code.
    pub status: u16,
    /// The error code from the body (`BadRequest`, `Unauthorized`, ...), when there was one.
    pub code: Option<String>,
    /// The message from the body, or the body text, or the status reason.
    pub message: String,
    /// Nested details from the body.
    pub details: Vec<ErrorDetail>,
    /// The `x-ms-request-id` header, for support requests.
    pub request_id: Option<String>,
    /// How long the service asked the client to wait, when it said so.
    pub retry_after: Option<Duration>,
}

/// One entry of an error body's `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// Detail code, such as `InputJsonInvalid`.
    pub code: Option<String>,
    /// Detail message.
    pub message: String,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service answered {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        write!(f, ": {}", self.message)?;
        for detail in &self.details {
            match &detail.code {
                Some(code) => write!(f, "; {code}: {}", detail.message)?,
                None => write!(f, "; {}", detail.message)?,
            }
        }
        if let Some(id) = &self.request_id {
            write!(f, " (x-ms-request-id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// Why a request could not be sent or its answer not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, unreachable).
    Connect,
    /// The connect or request time-out passed.
    Timeout,
    /// The connection closed before a full response arrived.
    ConnectionClosed,
    /// TLS failed (certificate not trusted, handshake).
    Tls,
    /// The request was malformed for the transport (bad URL, header).
    InvalidRequest,
    /// Anything else.
    Other,
}

/// A failure below HTTP: the request may or may not have reached the service.
#[derive(Debug, Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl PartialEq for TransportError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for TransportError {}

impl TransportError {
    /// A transport error of `kind`; `message` must not contain credentials.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same, caused by `source` (the HTTP stack's own error; it must not carry request
    /// headers).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The human-readable description.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Connection failures and time-outs are worth another attempt; TLS and request
    /// errors are not.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect
                | TransportErrorKind::Timeout
                | TransportErrorKind::ConnectionClosed
                | TransportErrorKind::Other
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::ConnectionClosed => "connection closed",
            TransportErrorKind::Tls => "TLS error",
            TransportErrorKind::InvalidRequest => "invalid request",
            TransportErrorKind::Other => "transport error",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Which events of a send were delivered and which were not, with each failure's cause.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeliveryFailure {
    /// The topic the events were sent to.
    pub topic: String,
    /// Index ranges (into the events given to `send`) that the service accepted.
    pub delivered: Vec<Range<usize>>,
    /// Index ranges that were not delivered, each with its error.
    pub failed: Vec<FailedEvents>,
}

/// A range of events that was not delivered, and why.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FailedEvents {
    /// Index range into the events given to `send`.
    pub events: Range<usize>,
    /// Why they were not delivered.
    pub error: Error,
}

impl DeliveryFailure {
    /// Number of events delivered.
    pub fn delivered_count(&self) -> usize {
        self.delivered.iter().map(|r| r.len()).sum()
    }

    /// Number of events not delivered.
    pub fn failed_count(&self) -> usize {
        self.failed.iter().map(|f| f.events.len()).sum()
    }

    /// Whether the event at `index` was delivered.
    pub fn is_delivered(&self, index: usize) -> bool {
        self.delivered.iter().any(|r| r.contains(&index))
    }
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "topic `{}`: {} events not delivered, {} delivered",
            self.topic,
            self.failed_count(),
            self.delivered_count()
        )?;
        for failed in &self.failed {
            write!(
                f,
                "; events {}..{}: {}",
                failed.events.start, failed.events.end, failed.error
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for DeliveryFailure {}

/// Shorthand for results with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn clones_keep_their_causes() {
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        let error = Error::from(json);
        let copy = error.clone();
        assert_eq!(copy.to_string(), error.to_string());
        let cause = copy.source().unwrap();
        assert!(cause.is::<Arc<serde_json::Error>>(), "{cause:?}");

        let io = std::io::Error::other("tenant not found");
        let error = Error::Credential(CredentialError::new("no token").with_source(io));
        let copy = error.clone();
        let cause = copy.source().unwrap().source().unwrap();
        assert_eq!(cause.to_string(), "tenant not found");

        let refused = TransportError::new(TransportErrorKind::Connect, "refused")
            .with_source(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let error = Error::RetriesExhausted {
            attempts: 2,
            elapsed: Duration::from_secs(1),
            last: Box::new(Error::Transport(refused)),
        };
        let copy = error.clone();
        let Error::RetriesExhausted { last, .. } = &copy else {
            panic!()
        };
        assert!(last.source().unwrap().is::<std::io::Error>());
        assert_eq!(copy.to_string(), error.to_string());
    }
}
