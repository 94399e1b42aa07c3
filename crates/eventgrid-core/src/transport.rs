//! The seams the clients plug their HTTP stacks into, and users can plug theirs into.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};

use crate::error::{TransportError, TransportErrorKind};

/// A blocking HTTP transport: sends one request and returns the whole response, whatever its
/// status. Redirects must not be followed. Implemented by `eventgrid-blocking`'s
/// `UreqTransport`.
///
/// ```
/// use bytes::Bytes;
/// use eventgrid_core::{Transport, TransportError};
/// /// A transport that accepts everything, for tests.
/// struct AlwaysOk;
/// impl Transport for AlwaysOk {
///     fn send(&self, _request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
///         Ok(http::Response::new(Bytes::new()))
///     }
/// }
/// ```
pub trait Transport: Send + Sync {
    /// Sends `request`, returning the response (any status) or why none was received.
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError>;

    /// Like [`send`](Self::send), giving up at `deadline` (the attempt's deadline the engine
    /// decided: the request time-out, a long poll's wait, or what is left of the overall
    /// deadline; see [`attempt_limit`]) with [`TransportErrorKind::Timeout`] if it can. The
    /// clients call this one; the default ignores the deadline, which the engine then applies
    /// once the attempt returns.
    fn send_before(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> Result<Response<Bytes>, TransportError> {
        let _ = deadline;
        self.send(request)
    }
}

/// An async HTTP transport, the async twin of [`Transport`]. Implemented by
/// `eventgrid-async`'s `HyperTransport`.
pub trait AsyncTransport: Send + Sync {
    /// Sends `request`, returning the response (any status) or why none was received.
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, TransportError>> + Send;

    /// Like [`send`](Self::send), giving up at `deadline` (the attempt's deadline the engine
    /// decided; see [`attempt_limit`]) with [`TransportErrorKind::Timeout`]. The clients call
    /// this one; the default ignores the deadline (the async client then cuts the attempt
    /// itself).
    fn send_before(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> impl Future<Output = Result<Response<Bytes>, TransportError>> + Send {
        let _ = deadline;
        self.send(request)
    }
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        (**self).send(request)
    }

    fn send_before(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> Result<Response<Bytes>, TransportError> {
        (**self).send_before(request, deadline)
    }
}

impl<T: AsyncTransport + ?Sized> AsyncTransport for std::sync::Arc<T> {
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, TransportError>> + Send {
        (**self).send(request)
    }

    fn send_before(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> impl Future<Output = Result<Response<Bytes>, TransportError>> + Send {
        (**self).send_before(request, deadline)
    }
}

/// How far a deadline within this of the request time-out is taken for the request time-out
/// itself: the engine sets it when it hands out the attempt, the transport reads the clock a
/// little later.
pub const ATTEMPT_LIMIT_SLACK: Duration = Duration::from_millis(50);

/// Which limit an attempt's deadline is, seen by a transport whose own time-out is
/// `request_timeout`: the transport times the common case with its own timer and names the
/// limit that cut an attempt.
// Exhaustive: a deadline is the request time-out, shorter, or longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptLimit {
    /// The request time-out (within [`ATTEMPT_LIMIT_SLACK`]).
    RequestTimeout,
    /// Less: what is left of the operation's overall deadline.
    OverallDeadline,
    /// More: a receive's long poll, which the request time-out must not cut.
    LongPoll,
}

/// Which limit `left`, the time to an attempt's deadline, is for a transport whose time-out
/// is `request_timeout`.
pub fn attempt_limit(left: Duration, request_timeout: Duration) -> AttemptLimit {
    if left > request_timeout + ATTEMPT_LIMIT_SLACK {
        AttemptLimit::LongPoll
    } else if left + ATTEMPT_LIMIT_SLACK < request_timeout {
        AttemptLimit::OverallDeadline
    } else {
        AttemptLimit::RequestTimeout
    }
}

/// What a socket error means for a request, the same for every transport:
/// refused, unreachable or unavailable addresses are connect failures (nothing was sent);
/// a reset, abort, broken pipe, early end of stream or a socket no longer connected
/// (`NotConnected`) is a closed connection (the request may have arrived); `TimedOut` and
/// `WouldBlock` (a socket read time-out) are time-outs. A TLS error wrapped in an
/// `io::Error` is for the transport to recognise first (the core knows no TLS library).
pub fn io_error_kind(error: &io::Error) -> TransportErrorKind {
    use TransportErrorKind as Kind;
    match error.kind() {
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::AddrNotAvailable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable => Kind::Connect,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::NotConnected => Kind::ConnectionClosed,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Kind::Timeout,
        _ => Kind::Other,
    }
}

/// An error and its causes, outermost first. An `io::Error` wrapping another error reports
/// that error's *source* as its own, skipping the wrapped error itself (where TLS errors hide),
/// so the walk steps into wrapped errors explicitly.
pub fn error_chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    fn next<'a>(
        error: &&'a (dyn std::error::Error + 'static),
    ) -> Option<&'a (dyn std::error::Error + 'static)> {
        let error: &'a (dyn std::error::Error + 'static) = *error;
        match error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(wrapped) => Some(wrapped),
            None => error.source(),
        }
    }
    std::iter::successors(Some(error), next)
}

/// An error and its causes in one line, outermost first and without repeats, e.g.
/// `client error (Connect): tcp connect error: Connection refused (os error 111)`. Transport
/// errors carry no request headers, so no credential can appear.
pub fn describe_error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    for cause in error_chain(error) {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempts_deadline_is_named_by_the_limit_it_is() {
        let timeout = Duration::from_secs(30);
        let limit = |left| attempt_limit(left, timeout);
        assert_eq!(limit(timeout), AttemptLimit::RequestTimeout);
        assert_eq!(
            limit(timeout - Duration::from_millis(3)),
            AttemptLimit::RequestTimeout,
            "the clock read a little after the engine's"
        );
        assert_eq!(limit(Duration::from_secs(2)), AttemptLimit::OverallDeadline);
        assert_eq!(limit(Duration::from_secs(65)), AttemptLimit::LongPoll);
    }

    #[derive(Debug)]
    struct Wrapper(Box<dyn std::error::Error + Send + Sync>);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn descriptions_follow_the_chain_into_wrapped_errors_without_repeats() {
        let refused = Wrapper(Box::new(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "Connection refused",
        )));
        assert_eq!(
            describe_error_chain(&refused),
            "client error (Connect): Connection refused"
        );
        let wrapped = Wrapper(Box::new(io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad certificate",
        ))));
        // Steps into the io::Error's own wrapped error, not only its source.
        assert!(error_chain(&wrapped).count() > 2);
        assert_eq!(
            describe_error_chain(&wrapped),
            "client error (Connect): bad certificate"
        );
    }

    #[test]
    fn socket_errors_mean_the_same_in_every_transport() {
        let kind = |k: io::ErrorKind| io_error_kind(&io::Error::from(k));
        assert_eq!(
            kind(io::ErrorKind::ConnectionRefused),
            TransportErrorKind::Connect
        );
        assert_eq!(
            kind(io::ErrorKind::NotConnected),
            TransportErrorKind::ConnectionClosed
        );
        assert_eq!(
            kind(io::ErrorKind::ConnectionReset),
            TransportErrorKind::ConnectionClosed
        );
        assert_eq!(kind(io::ErrorKind::TimedOut), TransportErrorKind::Timeout);
        assert_eq!(kind(io::ErrorKind::Other), TransportErrorKind::Other);
    }
}
