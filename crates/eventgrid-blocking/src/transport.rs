//! The ureq transport: sends one request on a pooled connection and reads the whole answer.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use eventgrid_core::frontend::{
    AddressCache, AttemptLimit, attempt_limit, describe_error_chain, is_loopback_host,
};
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
/// extra CA. `HTTPS_PROXY` (or `ALL_PROXY`, `HTTP_PROXY`) and `NO_PROXY` are honoured, except
/// that loopback targets never use a proxy: plain http may carry a credential only to them,
/// and that traffic must not leave the machine.
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
    agent: ureq::Agent,
    /// An agent without the proxy, for loopback targets; `None` when there is no proxy.
    loopback: Option<ureq::Agent>,
    request_timeout: Duration,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport").finish_non_exhaustive()
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
        let proxy = connect_proxy_from_env();
        let loopback = proxy.is_some().then(|| self.agent(tls.clone(), None));
        Ok(UreqTransport {
            agent: self.agent(tls, proxy),
            loopback,
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

/// The HTTP(S) CONNECT proxy named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY`, with
/// `NO_PROXY`'s exceptions. SOCKS proxies are not supported: like ureq without its SOCKS
/// feature, such a setting is reported and connections go direct.
fn connect_proxy_from_env() -> Option<ureq::Proxy> {
    ureq::Proxy::try_from_env().filter(|proxy| {
        let connect = matches!(
            proxy.protocol(),
            ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
        );
        if !connect {
            tracing::warn!(
                protocol = ?proxy.protocol(),
                "ignoring the proxy from the environment: only HTTP CONNECT proxies are supported"
            );
        }
        connect
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
        let request = self
            .agent_for(&parts.uri)
            .configure_request(Request::from_parts(parts, body.as_ref()))
            .timeout_global(Some(left))
            .build();
        self.exchange(request)
    }
}

impl UreqTransport {
    /// The agent for requests to `uri`: loopback targets bypass the proxy.
    fn agent_for(&self, uri: &http::Uri) -> &ureq::Agent {
        match &self.loopback {
            Some(direct) if uri.host().is_some_and(is_loopback_host) => direct,
            _ => &self.agent,
        }
    }

    fn exchange(&self, request: Request<&[u8]>) -> Result<Response<Bytes>, TransportError> {
        let response = self
            .agent_for(request.uri())
            .run(request)
            .map_err(transport_error)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(Response::from_parts(parts, Bytes::from(bytes)))
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
