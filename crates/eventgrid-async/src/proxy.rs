//! Proxies for the built-in transport, chosen by the core's policy
//! ([`eventgrid_core::proxy`], the same for the blocking client): requests go direct or
//! through an HTTP CONNECT tunnel (https and plain http targets alike), loopback targets never
//! use a proxy, and a credential bound for a plain http target never goes through one.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use eventgrid_core::TransportError;
use eventgrid_core::proxy::{
    MAX_TUNNEL_ANSWER_BYTES, Proxy, ProxyConfig, ProxyError, ProxySetting, Route, TunnelAnswer,
    read_tunnel_answer,
};
use http::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The proxies in force for one transport, resolved once when it is built.
pub(crate) struct ProxyRoutes {
    config: ProxyConfig,
}

impl ProxyRoutes {
    /// The proxies `setting` names, reading this process's environment if it says so.
    pub(crate) fn new(setting: &ProxySetting) -> Self {
        Self {
            config: setting.resolve(|name| std::env::var(name).ok()),
        }
    }

    /// Refuses, before anything is sent, a request the policy will not route: one that needs
    /// an unusable proxy, or carries a credential to a plain http target through a proxy.
    pub(crate) fn check(&self, request: &Request<Bytes>) -> Result<(), TransportError> {
        self.config
            .route_request(request)
            .map(drop)
            .map_err(ProxyError::into_transport_error)
    }
}

/// Shows the proxies without their credentials.
impl fmt::Debug for ProxyRoutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

/// Opens TCP connections for the client: directly, or through a CONNECT tunnel that the TLS
/// layer above then uses as if it led straight to the target.
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
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.direct, cx).map_err(Into::into)
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        let mut direct = self.direct.clone();
        let proxy = match self.routes.config.route(&target) {
            Ok(Route::Tunnel(proxy)) => proxy.clone(),
            Ok(_) => return Box::pin(async move { Ok(direct.call(target).await?) }),
            Err(refused) => return Box::pin(async move { Err(refused.into()) }),
        };
        Box::pin(async move {
            let proxy_uri: Uri = format!("http://{}", proxy.authority()).parse()?;
            let stream = direct.call(proxy_uri).await?.into_inner();
            Ok(TokioIo::new(open_tunnel(stream, &proxy, &target).await?))
        })
    }
}

/// Asks `proxy` on `stream` for a tunnel to `target` and reads its answer (at most
/// [`MAX_TUNNEL_ANSWER_BYTES`]); the connect time-out bounds the whole exchange.
async fn open_tunnel(
    mut stream: TcpStream,
    proxy: &Proxy,
    target: &Uri,
) -> Result<TcpStream, BoxError> {
    stream.write_all(&proxy.connect_request(target)).await?;
    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        let room = MAX_TUNNEL_ANSWER_BYTES.saturating_sub(answer.len()).max(1);
        let wanted = room.min(chunk.len());
        let read = stream.read(&mut chunk[..wanted]).await?;
        if read == 0 {
            return Err(ProxyError::BadTunnelAnswer {
                proxy: proxy.to_string(),
                reason: "it closed the connection before answering".to_owned(),
            }
            .into());
        }
        answer.extend_from_slice(&chunk[..read]);
        if read_tunnel_answer(proxy, target, &answer)? == TunnelAnswer::Open {
            return Ok(stream);
        }
    }
}
