//! [`HyperTransport`]: the built-in [`AsyncTransport`] on hyper, hyper-util's pooled client and
//! rustls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::Result;
use crate::proxy::{ProxyConnector, ProxyRoutes};
use crate::transport_error::{ConnectTimeout, body_error, request_error};
use bytes::Bytes;
use eventgrid_core::frontend::{AttemptLimit, attempt_limit};
use eventgrid_core::{AsyncTransport, ClientOptions, TransportError, TransportErrorKind};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

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
/// returned, never followed. (The client's engine refuses a credential over plain `http://` to
/// a remote host before any transport sees the request.)
///
/// Proxies follow [`ClientOptions::proxy`] (by default `HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY` and `NO_PROXY`, read when the transport is built) under the rules of
/// [`eventgrid_core::proxy`], the same as the blocking client's: requests go through an HTTP
/// CONNECT tunnel (https and plain http alike), `user:password@` in the proxy URL is sent as
/// `Proxy-Authorization` to the proxy only (never logged), loopback targets never use a proxy,
/// and no credential goes to a plain http target through one. A request that needs an
/// unsupported proxy (`socks5://`, `https://`) fails, naming the setting.
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
/// let transport = HyperTransport::builder(&ClientOptions::default().with_request_timeout(Duration::from_secs(5)))
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
        Self::builder(options).build()
    }

    /// A builder with `options`' time-outs, for extra CA certificates.
    pub fn builder(options: &ClientOptions) -> HyperTransportBuilder {
        HyperTransportBuilder {
            options: options.clone(),
            extra_ca_pem: Vec::new(),
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
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        self.within(request, self.request_timeout, "the request timeout")
            .await
    }

    /// Gives up at `deadline`, the attempt's deadline the engine decided: the request time-out
    /// (then timed as [`send`](AsyncTransport::send) does), what is left of the overall
    /// deadline, or a receive's long poll, which may outlast the request time-out.
    async fn send_before(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> Result<Response<Bytes>, TransportError> {
        let left = deadline.saturating_duration_since(Instant::now());
        match attempt_limit(left, self.request_timeout) {
            AttemptLimit::RequestTimeout => self.send(request).await,
            AttemptLimit::OverallDeadline => {
                self.within(request, left, "the overall deadline").await
            }
            AttemptLimit::LongPoll => self.within(request, left, "the long poll's deadline").await,
        }
    }
}

impl HyperTransport {
    async fn within(
        &self,
        request: Request<Bytes>,
        limit: Duration,
        what: &str,
    ) -> Result<Response<Bytes>, TransportError> {
        check_uri(request.uri())?;
        self.proxies.check(&request)?;
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no complete response within {what} of {limit:?}"),
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
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

/// Builds a [`HyperTransport`]; see [`HyperTransport::builder`].
#[derive(Debug)]
pub struct HyperTransportBuilder {
    options: ClientOptions,
    extra_ca_pem: Vec<Vec<u8>>,
}

impl HyperTransportBuilder {
    /// Also trusts the CA certificate(s) in `pem`, such as the emulator's
    /// (`EmulatorControl::ca_certificate_pem`). Malformed PEM is reported by
    /// [`build`](Self::build).
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_ca_pem.push(pem.as_ref().to_vec());
        self
    }

    /// The transport. Fails on invalid options (a zero time-out) or an unusable extra CA
    /// certificate.
    pub fn build(self) -> Result<HyperTransport> {
        self.options.validate()?;
        let extra_ca = eventgrid_tls::parse_all(&self.extra_ca_pem)?;
        let tls = eventgrid_tls::client_config(&extra_ca, &[])?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let proxies = Arc::new(ProxyRoutes::new(&self.options.proxy));
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(ProxyConnector::new(http, proxies.clone()));
        let connector = ConnectWithin {
            inner: https,
            timeout: self.options.connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Ok(HyperTransport {
            client,
            proxies,
            connect_timeout: self.options.connect_timeout,
            request_timeout: self.options.request_timeout,
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
