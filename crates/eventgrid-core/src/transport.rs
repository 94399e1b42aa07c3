//! The seams the clients plug their HTTP stacks into, and users can plug theirs into.

use std::future::Future;

use bytes::Bytes;
use http::{Request, Response};

use crate::error::TransportError;

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
}

/// An async HTTP transport, the async twin of [`Transport`]. Implemented by
/// `eventgrid-async`'s `HyperTransport`.
pub trait AsyncTransport: Send + Sync {
    /// Sends `request`, returning the response (any status) or why none was received.
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, TransportError>> + Send;
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

impl<T: AsyncTransport + ?Sized> AsyncTransport for std::sync::Arc<T> {
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> impl Future<Output = Result<Response<Bytes>, TransportError>> + Send {
        (**self).send(request)
    }
}
