//! Turning hyper, rustls and socket errors into the core's [`TransportErrorKind`]s, which decide
//! whether a request is retried.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use eventgrid_core::frontend::{describe_error_chain as describe, error_chain as chain};
use eventgrid_core::proxy::ProxyError;
use eventgrid_core::{TransportError, TransportErrorKind};

/// The connect time-out (TCP and TLS together) passed.
#[derive(Debug)]
pub(crate) struct ConnectTimeout(pub(crate) Duration);

impl fmt::Display for ConnectTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no connection within the connect timeout of {:?}",
            self.0
        )
    }
}

impl StdError for ConnectTimeout {}

/// The error of a request that got no response head.
/// A proxy's refusal reads as the core words it, the same in both clients.
pub(crate) fn request_error(error: &hyper_util::client::legacy::Error) -> TransportError {
    if let Some(proxy) = chain(error).find_map(|cause| cause.downcast_ref::<ProxyError>()) {
        return proxy.clone().into_transport_error();
    }
    TransportError::new(kind_of(error, error.is_connect()), describe(error))
}

/// The error of a response whose body could not be read to the end.
pub(crate) fn body_error(error: &hyper::Error) -> TransportError {
    TransportError::new(kind_of(error, false), describe(error))
}

/// Classifies by the most specific cause found along the source chain; `connecting` says the
/// failure happened before the connection was usable.
fn kind_of(error: &(dyn StdError + 'static), connecting: bool) -> TransportErrorKind {
    let mut closed = false;
    let mut user = false;
    for cause in chain(error) {
        if cause.is::<ConnectTimeout>() || cause.is::<tokio::time::error::Elapsed>() {
            return TransportErrorKind::Timeout;
        }
        if cause.is::<rustls::Error>() {
            return TransportErrorKind::Tls;
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match eventgrid_tls::classify_io(io) {
                TransportErrorKind::Timeout => return TransportErrorKind::Timeout,
                TransportErrorKind::Tls => return TransportErrorKind::Tls,
                TransportErrorKind::ConnectionClosed => closed = true,
                _ => {}
            }
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_timeout() {
                return TransportErrorKind::Timeout;
            }
            closed |= hyper.is_incomplete_message()
                || hyper.is_canceled()
                || hyper.is_closed()
                || hyper.is_body_write_aborted();
            user |= hyper.is_user();
        }
    }
    if connecting {
        TransportErrorKind::Connect
    } else if closed {
        TransportErrorKind::ConnectionClosed
    } else if user {
        TransportErrorKind::InvalidRequest
    } else {
        TransportErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(Box<dyn StdError + Send + Sync>);
    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn causes_are_classified_by_their_most_specific_kind() {
        // hyper-rustls wraps tokio-rustls's io::Error in another io::Error.
        let tls = Wrapper(Box::new(io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ))));
        assert_eq!(kind_of(&tls, true), TransportErrorKind::Tls);
        assert_eq!(
            describe(&tls),
            "client error (Connect): invalid peer certificate: UnknownIssuer"
        );
        let timeout = Wrapper(Box::new(ConnectTimeout(Duration::from_secs(1))));
        assert_eq!(kind_of(&timeout, true), TransportErrorKind::Timeout);
        let refused = Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert_eq!(kind_of(&refused, true), TransportErrorKind::Connect);
        let reset = Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionReset)));
        assert_eq!(kind_of(&reset, false), TransportErrorKind::ConnectionClosed);
        let other = Wrapper(Box::new(io::Error::other("odd")));
        assert_eq!(kind_of(&other, false), TransportErrorKind::Other);
    }
}
