//! Proxies from the environment for the built-in transport, as curl reads them:
//! `HTTPS_PROXY` for https targets, `HTTP_PROXY` for plain http ones, `ALL_PROXY` for both,
//! `NO_PROXY` for exceptions (either case of each name; ignored altogether in a CGI process).
//! https targets go through an HTTP CONNECT tunnel, so the proxy sees only the host and port;
//! plain http requests are forwarded in absolute form. Loopback targets never use a proxy:
//! they are the only plain-http targets a credential may go to, and the traffic never
//! leaves the machine.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use eventgrid_core::frontend::{ensure_credentials_protected, is_loopback_host};
use eventgrid_core::{TransportError, TransportErrorKind};
use http::header::PROXY_AUTHORIZATION;
use http::{Request, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which requests go through which proxy, read from the environment once per transport.
pub(crate) struct ProxyRoutes {
    matcher: Matcher,
}

impl ProxyRoutes {
    /// The routes the environment asks for.
    pub(crate) fn from_env() -> Self {
        Self {
            matcher: Matcher::from_env(),
        }
    }

    /// The proxy for requests to `uri`, or `None` to connect directly.
    fn intercept(&self, uri: &Uri) -> Option<Intercept> {
        match uri.host() {
            Some(host) if !is_loopback_host(host) => self.matcher.intercept(uri),
            _ => None,
        }
    }

    /// Readies `request` for its route before anything is sent: a plain http request to be
    /// forwarded gets the proxy's credentials (and is refused if it carries an Event Grid
    /// credential), and a proxy this transport cannot speak to (SOCKS, or TLS to the proxy
    /// itself) is refused by name.
    pub(crate) fn prepare(&self, request: &mut Request<Bytes>) -> Result<(), TransportError> {
        let Some(proxy) = self.intercept(request.uri()) else {
            return Ok(());
        };
        if proxy.uri().scheme_str() != Some("http") {
            return Err(TransportError::new(
                TransportErrorKind::InvalidRequest,
                format!(
                    "the proxy for {} from the environment is {}, and only http:// (HTTP \
                     CONNECT) proxies are supported; name the host in NO_PROXY or use an \
                     http:// proxy",
                    request.uri().host().unwrap_or_default(),
                    proxy.uri()
                ),
            ));
        }
        if request.uri().scheme_str() != Some("http") {
            return Ok(());
        }
        // The engine refuses this before any transport sees it; a transport used on its own
        // must not hand a credential to a proxy in clear text either.
        ensure_credentials_protected(request)
            .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest, e.to_string()))?;
        if let Some(credentials) = proxy.basic_auth() {
            request
                .headers_mut()
                .insert(PROXY_AUTHORIZATION, credentials.clone());
        }
        Ok(())
    }
}

/// Never shows the proxies: their addresses may say more about a network than logs should.
impl fmt::Debug for ProxyRoutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRoutes").finish_non_exhaustive()
    }
}

/// Opens TCP connections for the client: directly, through a CONNECT tunnel (https
/// targets), or to the proxy that forwards plain http requests.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    direct: HttpConnector,
    routes: Arc<ProxyRoutes>,
}

impl ProxyConnector {
    pub(crate) fn new(direct: HttpConnector, routes: Arc<ProxyRoutes>) -> Self {
        Self { direct, routes }
    }
}

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = ProxiedStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxiedStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.direct, cx).map_err(Into::into)
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        let mut direct = self.direct.clone();
        let Some(proxy) = self.routes.intercept(&target) else {
            return Box::pin(async move {
                let stream = direct.call(target).await?;
                Ok(ProxiedStream::new(stream, false))
            });
        };
        if target.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(proxy.uri().clone(), direct);
            if let Some(credentials) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(credentials.clone());
            }
            let tunnelling = tunnel.call(target);
            Box::pin(async move { Ok(ProxiedStream::new(tunnelling.await?, false)) })
        } else {
            Box::pin(async move {
                let stream = direct.call(proxy.uri().clone()).await?;
                Ok(ProxiedStream::new(stream, true))
            })
        }
    }
}

/// A TCP connection that may lead to a proxy; `forwarding` tells hyper to write request
/// targets in absolute form, as a forwarding proxy needs them.
pub(crate) struct ProxiedStream {
    inner: TokioIo<TcpStream>,
    forwarding: bool,
}

impl ProxiedStream {
    fn new(inner: TokioIo<TcpStream>, forwarding: bool) -> Self {
        Self { inner, forwarding }
    }
}

impl Connection for ProxiedStream {
    fn connected(&self) -> Connected {
        self.inner.connected().proxy(self.forwarding)
    }
}

impl Read for ProxiedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl Write for ProxiedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}
