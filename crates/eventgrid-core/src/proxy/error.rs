//! [`ProxyError`]: why a request was not sent through (or past) a proxy.

use crate::error::{TransportError, TransportErrorKind};

/// Why a request cannot go the way the proxy settings say, found before any byte of it is
/// sent (or, for [`TunnelRefused`](Self::TunnelRefused), when the proxy answers CONNECT).
/// Messages name the setting and the proxy's host, never its credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy the request needs is not an `http://` proxy.
    #[error(
        "the proxy in {setting} is a {scheme}:// proxy, and only http:// proxies (HTTP CONNECT) \
         are supported: use an http:// proxy, or name the host in NO_PROXY"
    )]
    Unsupported {
        /// The variable (`ALL_PROXY`, ...) or `ClientOptions::proxy`.
        setting: String,
        /// The proxy URL's scheme, such as `socks5`.
        scheme: String,
    },
    /// The proxy URL cannot be read.
    #[error("the proxy in {setting} is not a usable proxy URL: {reason}")]
    InvalidUrl {
        /// The variable (`HTTPS_PROXY`, ...) or `ClientOptions::proxy`.
        setting: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request carries a credential to a plain http target and would go through a proxy,
    /// which could read it.
    #[error(
        "refusing to send a credential over plain http to `{host}` through the proxy {proxy}: \
         use https, or name the host in NO_PROXY"
    )]
    CredentialThroughProxy {
        /// The target host.
        host: String,
        /// The proxy (`http://host:port`).
        proxy: String,
    },
    /// The proxy answered CONNECT with something other than a 2xx status.
    #[error("the proxy {proxy} refused a tunnel to {target} with status {status}{hint}",
        hint = if *status == 407 { " (proxy authentication required: check the user and password in the proxy URL)" } else { "" })]
    TunnelRefused {
        /// The proxy (`http://host:port`).
        proxy: String,
        /// The tunnel's target (`host:port`).
        target: String,
        /// The proxy's status code.
        status: u16,
    },
    /// The proxy's answer to CONNECT is not HTTP, or is too long.
    #[error("the proxy {proxy} gave an unreadable answer to CONNECT: {reason}")]
    BadTunnelAnswer {
        /// The proxy (`http://host:port`).
        proxy: String,
        /// What is wrong with the answer.
        reason: String,
    },
}

impl ProxyError {
    /// The transport error a front end reports: the settings' refusals and a 407 are not
    /// worth retrying ([`TransportErrorKind::InvalidRequest`]); another refusal or an
    /// unreadable answer is a failed connection ([`TransportErrorKind::Connect`], retried).
    pub fn into_transport_error(self) -> TransportError {
        let kind = match &self {
            ProxyError::TunnelRefused { status, .. } if *status != 407 => {
                TransportErrorKind::Connect
            }
            ProxyError::BadTunnelAnswer { .. } => TransportErrorKind::Connect,
            _ => TransportErrorKind::InvalidRequest,
        };
        TransportError::new(kind, self.to_string()).with_source(self)
    }
}

impl From<ProxyError> for TransportError {
    fn from(error: ProxyError) -> Self {
        error.into_transport_error()
    }
}
