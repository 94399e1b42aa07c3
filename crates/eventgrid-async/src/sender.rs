//! The transport a client sends through: the built-in [`HyperTransport`], called directly, or
//! any other [`AsyncTransport`] behind a boxed future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use eventgrid_core::{AsyncTransport, TransportError, TransportErrorKind};
use http::{Request, Response};

use crate::HyperTransport;

type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Bytes>, TransportError>> + Send + 'a>>;

/// An [`AsyncTransport`] usable as a trait object.
pub(crate) trait DynTransport: Send + Sync {
    fn send_boxed(&self, request: Request<Bytes>, deadline: Instant) -> SendFuture<'_>;
}

impl<T: AsyncTransport> DynTransport for T {
    fn send_boxed(&self, request: Request<Bytes>, deadline: Instant) -> SendFuture<'_> {
        Box::pin(self.send_before(request, deadline))
    }
}

/// The client's transport. The built-in one is matched, not boxed, so the common path
/// allocates no future per request.
// One per client, inside its `Arc`: boxing the big variant would only add an indirection.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Sender {
    Hyper(HyperTransport),
    Custom(Arc<dyn DynTransport>),
}

impl Sender {
    /// Sends `request`; an attempt still running at `deadline` (the attempt's) is cut.
    pub(crate) async fn send(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> Result<Response<Bytes>, TransportError> {
        match self {
            Sender::Hyper(transport) => transport.send_before(request, deadline).await,
            Sender::Custom(transport) => {
                let sending = transport.send_boxed(request, deadline);
                tokio::time::timeout_at(deadline.into(), sending)
                    .await
                    .unwrap_or_else(|_| {
                        Err(TransportError::new(
                            TransportErrorKind::Timeout,
                            "no complete response before the attempt's deadline",
                        ))
                    })
            }
        }
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sender::Hyper(transport) => transport.fmt(f),
            Sender::Custom(_) => f.write_str("CustomTransport"),
        }
    }
}
