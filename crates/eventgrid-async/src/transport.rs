//! [`HyperTransport`]: the built-in [`AsyncTransport`] on hyper, hyper-util's pooled client and
//! rustls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use eventgrid_core::{
    AsyncTransport, ClientOptions, TransportError, TransportErrorKind, ensure_credentials_protected,
};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;

use crate::Result;
use crate::proxy::{ProxyConnector, ProxyRoutes};
use crate::tls::{client_config, parse_pem_certificates};
use crate::transport_error::{ConnectTimeout, body_error, request_error};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Connector = ConnectWithin<HttpsConnector<ProxyConnector>>;

/// The largest response body read; Event Grid and Entra answers are a few KiB at most, and a
/// larger (or endless) one is cut off here rather than held in memory.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The HTTP transport of [`EventGridClient`](crate::EventGridClient): hyper 1 with a pool of
/// keep-alive connections, HTTP/2 where the server offers it through ALPN, and rustls (ring)
/// trusting the webpki roots, the platform's roots and an optional extra CA.
///
/// Each attempt gets the request time-out for the whole exchange, connecting included;
/// connecting (TCP and TLS) gets the connect time-out. Response bodies are read to the end, so
/// connections go back to the pool, up to 4 MiB: a longer one fails the attempt. Redirects are
/// returned, never followed. A credential is never sent over plain `http://` except to
/// loopback.
///
/// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case) are read when the
/// transport is built, as curl reads them: https targets go through an HTTP CONNECT tunnel,
/// plain http requests are forwarded, and `user:password@` in the proxy URL is sent as
/// `Proxy-Authorization` (never logged). Loopback targets never use a proxy. Only `http://`
/// proxies are supported: a request that would need another kind fails, naming it.
///
/// Clones share the connection pool.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_async::{AsyncTransport, ClientOptions, HyperTransport};
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = eventgrid_emulator::Emulator::start(
///     eventgrid_emulator::EmulatorConfig::new().topic(eventgrid_emulator::TopicSpec::open("orders")),
/// ).await?;
/// let transport = HyperTransport::builder()
///     .request_timeout(Duration::from_secs(5))
///     .build()?;
/// let request = http::Request::post(format!("{}?api-version=2018-01-01", emulator.topic_endpoint("orders")))
///     .header("content-type", "application/json")
///     .body(bytes::Bytes::from_static(b"[]"))?;
/// let response = transport.send(request).await?;
/// assert_eq!(response.status(), 200);
/// // The same transport from a client's options:
/// let _default = HyperTransport::new(&ClientOptions::default())?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<Connector, Full<Bytes>>,
    proxies: Arc<ProxyRoutes>,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl HyperTransport {
    /// A transport with `options`' connect and request time-outs, trusting the webpki and
    /// platform roots.
    pub fn new(options: &ClientOptions) -> Result<Self> {
        Self::builder()
            .connect_timeout(options.connect_timeout)
            .request_timeout(options.request_timeout)
            .build()
    }

    /// A builder, starting from the defaults of [`ClientOptions`] (10 s to connect, 30 s per
    /// request).
    pub fn builder() -> HyperTransportBuilder {
        let defaults = ClientOptions::default();
        HyperTransportBuilder {
            connect_timeout: defaults.connect_timeout,
            request_timeout: defaults.request_timeout,
            extra_ca: Ok(Vec::new()),
        }
    }

    /// The time allowed to open a connection (TCP and TLS).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The time allowed for one exchange, from sending to the end of the response body.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    async fn exchange(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let response = self
            .client
            .request(request.map(Full::new))
            .await
            .map_err(|e| request_error(&e))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => body_error(&e),
                Err(e) if e.is::<LengthLimitError>() => TransportError::new(
                    TransportErrorKind::Other,
                    format!(
                        "the response body is larger than the limit of {} MiB; the rest was \
                         not read",
                        MAX_RESPONSE_BYTES / (1024 * 1024)
                    ),
                ),
                Err(e) => TransportError::new(TransportErrorKind::Other, e.to_string()),
            })?
            .to_bytes();
        Ok(Response::from_parts(parts, body))
    }
}

impl AsyncTransport for HyperTransport {
    async fn send(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        ensure_credentials_protected(&request)
            .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest, e.to_string()))?;
        check_uri(request.uri())?;
        self.proxies.prepare(&mut request)?;
        match tokio::time::timeout(self.request_timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!(
                    "no complete response within the request timeout of {:?}",
                    self.request_timeout
                ),
            )),
        }
    }
}

fn check_uri(uri: &Uri) -> Result<(), TransportError> {
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if scheme_ok && uri.host().is_some_and(|h| !h.is_empty()) {
        Ok(())
    } else {
        Err(TransportError::new(
            TransportErrorKind::InvalidRequest,
            "the request URL must be absolute, with an http or https scheme and a host",
        ))
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`HyperTransport`]; see [`HyperTransport::builder`].
#[derive(Debug)]
pub struct HyperTransportBuilder {
    connect_timeout: Duration,
    request_timeout: Duration,
    extra_ca: Result<Vec<CertificateDer<'static>>>,
}

impl HyperTransportBuilder {
    /// Sets the time allowed to open a connection, TCP and TLS together.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed for one exchange, from sending to the end of the response body.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Also trusts the CA certificate(s) in `pem`, such as the emulator's
    /// (`EmulatorControl::ca_certificate_pem`). Malformed PEM is reported by
    /// [`build`](Self::build).
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        let parsed = parse_pem_certificates(pem.as_ref());
        self.extra_ca = match (self.extra_ca, parsed) {
            (Ok(mut all), Ok(more)) => {
                all.extend(more);
                Ok(all)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        self
    }

    /// The transport. Fails on a zero time-out or an unusable extra CA certificate.
    pub fn build(self) -> Result<HyperTransport> {
        for (name, value) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if value.is_zero() {
                return Err(crate::Error::InvalidOption(format!(
                    "{name} must be more than zero"
                )));
            }
        }
        let tls = client_config(&self.extra_ca?)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let proxies = Arc::new(ProxyRoutes::from_env());
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(ProxyConnector::new(http, proxies.clone()));
        let connector = ConnectWithin {
            inner: https,
            timeout: self.connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(HyperTransport {
            client,
            proxies,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
        })
    }
}

/// A connector that gives up when connecting (TCP and TLS) takes longer than `timeout`.
#[derive(Clone)]
struct ConnectWithin<C> {
    inner: C,
    timeout: Duration,
}

impl<C> tower_service::Service<Uri> for ConnectWithin<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let timeout = self.timeout;
        let connecting = self.inner.call(uri);
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimeout(timeout)) as BoxError),
            }
        })
    }
}
