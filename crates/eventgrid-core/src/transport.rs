//! The seams the clients plug their HTTP stacks into, and users can plug theirs into.

use std::future::Future;
use std::io;
use std::time::Instant;

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

    /// Like [`send`](Self::send), giving up at `deadline` (the operation's overall deadline)
    /// with [`TransportErrorKind::Timeout`] if it can. The clients call this one; the default
    /// ignores the deadline, which the engine then applies once the attempt returns.
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

    /// Like [`send`](Self::send), giving up at `deadline` (the operation's overall deadline)
    /// with [`TransportErrorKind::Timeout`]. The clients call this one; the default ignores
    /// the deadline (the async client then cuts the attempt itself).
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

#[cfg(test)]
mod tests {
    use super::*;

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
