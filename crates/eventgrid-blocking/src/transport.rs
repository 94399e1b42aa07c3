//! The ureq transport: sends one request on a pooled connection and reads the whole answer.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use eventgrid_core::frontend::{AddressCache, AttemptLimit, attempt_limit, describe_error_chain};
use eventgrid_core::proxy::{Proxy, ProxyConfig, ProxyError, Route};
use eventgrid_core::{ClientOptions, Result, Transport, TransportError, TransportErrorKind};
use http::{Request, Response};
use ureq::unversioned::transport::{ConnectProxyConnector, Connector};

use crate::resolver::{CachingResolver, ForgetFailedAddresses};
use crate::tls::RustlsConnector;

/// The largest response body read; Event Grid and Entra answers are a few KiB at most.
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Idle connections kept per host at least. Single emits come from however many threads the
/// application runs, not from `max_concurrent_requests`; a connection returned to a full pool
/// is closed, and the next request then pays a new TCP (and TLS) handshake. Idle connections
/// cost little: ureq drops those unused for 15 s.
const MIN_IDLE_CONNECTIONS_PER_HOST: usize = 32;

/// A blocking HTTP transport on a ureq agent: pooled keep-alive connections (at least 32 idle
/// per host, so that many threads emitting at once each keep theirs), host addresses looked up
/// once and reused for 30 s (sooner again if connecting to them fails), the connect and
/// per-attempt time-outs of [`ClientOptions`], no redirects, every status returned as a
/// response, and rustls (ring) trusting the webpki roots, the platform's roots and an optional
/// extra CA.
///
/// Proxies follow [`ClientOptions::proxy`] (by default `HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY` and `NO_PROXY`, read when the transport is built) under the rules of
/// [`eventgrid_core::proxy`], the same as the async client's: requests go through an HTTP
/// CONNECT tunnel (https and plain http alike), `user:password@` in the proxy URL is sent as
/// `Proxy-Authorization` to the proxy only (never logged), loopback targets never use a proxy,
/// and no credential goes to a plain http target through one. A request that needs an
/// unsupported proxy (`socks5://`, `https://`) fails, naming the setting.
///
/// (The client's engine refuses a credential over plain `http://` to a remote host before any
/// transport sees the request.) Cloning is cheap and shares the connection pool.
///
/// ```
/// use eventgrid_blocking::{ClientOptions, UreqTransport};
/// let transport = UreqTransport::new(&ClientOptions::default())?;
/// # let _ = transport;
/// # Ok::<(), eventgrid_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    /// The agent for requests that go direct.
    agent: ureq::Agent,
    /// The proxy policy's settings, resolved when the transport was built.
    proxies: Arc<ProxyConfig>,
    /// An agent per proxy in `proxies`, configured with it (ureq opens the CONNECT tunnel).
    tunnelled: Vec<(Proxy, ureq::Agent)>,
    request_timeout: Duration,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

impl UreqTransport {
    /// A transport with `options`' time-outs and pool size, trusting the default roots.
    pub fn new(options: &ClientOptions) -> Result<Self> {
        Self::builder(options).build()
    }

    /// A builder, for an extra CA certificate.
    pub fn builder(options: &ClientOptions) -> UreqTransportBuilder {
        UreqTransportBuilder {
            options: options.clone(),
            extra_ca_pem: Vec::new(),
        }
    }
}

/// Builds a [`UreqTransport`].
#[derive(Debug, Clone)]
pub struct UreqTransportBuilder {
    options: ClientOptions,
    extra_ca_pem: Vec<Vec<u8>>,
}

impl UreqTransportBuilder {
    /// Also trusts the CA certificate(s) in this PEM data, such as the emulator's
    /// (`EmulatorControl::ca_certificate_pem`). May be called more than once.
    pub fn extra_ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_ca_pem.push(pem.as_ref().to_vec());
        self
    }

    /// The transport. Fails when an extra CA certificate is not valid PEM.
    pub fn build(self) -> Result<UreqTransport> {
        let extra_ca = eventgrid_tls::parse_all(&self.extra_ca_pem)?;
        let tls = Arc::new(eventgrid_tls::client_config(&extra_ca, &[b"http/1.1"])?);
        let proxies = self.options.proxy.resolve(|name| std::env::var(name).ok());
        let mut tunnelled = Vec::new();
        for proxy in proxies.proxies() {
            let agent = self.agent(tls.clone(), Some(ureq_proxy(proxy)?));
            tunnelled.push((proxy.clone(), agent));
        }
        Ok(UreqTransport {
            agent: self.agent(tls, None),
            proxies: Arc::new(proxies),
            tunnelled,
            request_timeout: self.options.request_timeout,
        })
    }

    fn agent(&self, tls: Arc<rustls::ClientConfig>, proxy: Option<ureq::Proxy>) -> ureq::Agent {
        let idle_per_host = self
            .options
            .max_concurrent_requests
            .max(MIN_IDLE_CONNECTIONS_PER_HOST);
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // A name lookup, when one is needed, gets the connect time-out too, not the whole
            // request's.
            .timeout_resolve(Some(self.options.connect_timeout))
            .timeout_connect(Some(self.options.connect_timeout))
            .timeout_global(Some(self.options.request_timeout))
            // Event Grid topics plus Entra ID: a few hosts per client.
            .max_idle_connections(idle_per_host * 4)
            .max_idle_connections_per_host(idle_per_host)
            .proxy(proxy)
            .build();
        let addresses = Arc::new(AddressCache::default());
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(ForgetFailedAddresses::new(addresses.clone()))
                .chain(RustlsConnector::new(tls));
        ureq::Agent::with_parts(config, connector, CachingResolver::new(addresses))
    }
}

/// ureq's configuration for `proxy`: an HTTP CONNECT proxy with its credentials. ureq does
/// not look at the target: the core's policy chose this proxy for it.
fn ureq_proxy(proxy: &Proxy) -> Result<ureq::Proxy> {
    let mut builder = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
        .host(proxy.host())
        .port(proxy.port());
    if let Some(user) = proxy.username() {
        builder = builder.username(user);
    }
    if let Some(password) = proxy.password() {
        builder = builder.password(password.expose());
    }
    builder.build().map_err(|_| {
        eventgrid_core::Error::InvalidOption(format!("the proxy {proxy} cannot be configured"))
    })
}

impl Transport for UreqTransport {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let (parts, body) = request.into_parts();
        self.exchange(Request::from_parts(parts, body.as_ref()))
    }

    /// Gives up at `deadline`, the attempt's deadline the engine decided: the request time-out
    /// (the agent's own), what is left of the overall deadline, or a receive's long poll,
    /// which may outlast the request time-out.
    fn send_before(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
    ) -> Result<Response<Bytes>, TransportError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if attempt_limit(left, self.request_timeout) == AttemptLimit::RequestTimeout {
            return self.send(request);
        }
        // Rarely taken (near the overall deadline, or a long poll): a request-level
        // configuration copies the agent's.
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, body.as_ref());
        let route = self.route(&request)?;
        let request = self
            .agent_for(route)?
            .configure_request(request)
            .timeout_global(Some(left))
            .build();
        self.exchange_on(route, request)
    }
}

impl UreqTransport {
    /// Where the core's policy sends `request`, or why it will not.
    fn route<B>(&self, request: &Request<B>) -> Result<Route<'_>, TransportError> {
        self.proxies
            .route_request(request)
            .map_err(ProxyError::into_transport_error)
    }

    /// The agent for `route`: the direct one, or the one configured with its proxy. Every
    /// proxy the policy can choose got an agent when the transport was built; should one be
    /// missing, the request fails rather than going direct.
    fn agent_for(&self, route: Route<'_>) -> Result<&ureq::Agent, TransportError> {
        match route {
            Route::Tunnel(proxy) => self
                .tunnelled
                .iter()
                .find(|(configured, _)| configured == proxy)
                .map(|(_, agent)| agent)
                .ok_or_else(|| {
                    TransportError::new(
                        TransportErrorKind::Other,
                        format!("no connection pool was prepared for the proxy {proxy}"),
                    )
                }),
            _ => Ok(&self.agent),
        }
    }

    fn exchange(&self, request: Request<&[u8]>) -> Result<Response<Bytes>, TransportError> {
        let route = self.route(&request)?;
        self.exchange_on(route, request)
    }

    fn exchange_on(
        &self,
        route: Route<'_>,
        request: Request<&[u8]>,
    ) -> Result<Response<Bytes>, TransportError> {
        let target = request.uri().clone();
        let response =
            self.agent_for(route)?
                .run(request)
                .map_err(|error| match (route, error) {
                    (Route::Tunnel(proxy), ureq::Error::ConnectProxyFailed(reason)) => {
                        tunnel_refusal(proxy, &target, &reason).into_transport_error()
                    }
                    (_, error) => transport_error(error),
                })?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(Response::from_parts(parts, Bytes::from(bytes)))
    }
}

/// The core's words for ureq's failure to open a tunnel, so both clients report a proxy's
/// refusal alike. ureq says `proxy server responded 407/Proxy Authentication Required`, or
/// that the proxy did not answer.
fn tunnel_refusal(proxy: &Proxy, target: &http::Uri, reason: &str) -> ProxyError {
    let status = reason
        .strip_prefix("proxy server responded ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(status) => ProxyError::TunnelRefused {
            proxy: proxy.to_string(),
            target: Proxy::tunnel_target(target),
            status,
        },
        None => ProxyError::BadTunnelAnswer {
            proxy: proxy.to_string(),
            reason: "it closed the connection before answering".to_owned(),
        },
    }
}

/// Classifies a ureq failure. Messages come from ureq and the OS: they never contain
/// request headers, so never a credential.
pub(crate) fn transport_error(error: ureq::Error) -> TransportError {
    use TransportErrorKind as Kind;
    let kind = match &error {
        ureq::Error::Timeout(_) => Kind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => Kind::Connect,
        ureq::Error::Io(io) => eventgrid_tls::classify_io(io),
        ureq::Error::Protocol(_) | ureq::Error::BodyStalled => Kind::ConnectionClosed,
        ureq::Error::Tls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::TlsRequired => Kind::Tls,
        ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::InvalidProxyUrl => Kind::InvalidRequest,
        _ => Kind::Other,
    };
    TransportError::new(kind, describe_error_chain(&error)).with_source(error)
}
