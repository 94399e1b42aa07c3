//! The accept loop: HTTP/1.1, or over TLS HTTP/2 when the client chooses it by ALPN, with a
//! cap on connections, an idle time-out and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio_rustls::TlsAcceptor;

use crate::serving::connection::{Activity, Connections, drive};
use crate::serving::router::{route, to_topic_endpoint};
use crate::serving::tls::RemoveOnDrop;
use crate::store::shared::Shared;

/// How long shutdown waits for requests in flight before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// hyper's read buffer grows to this (its default is about 400 KB). Buffers from 128 KB up are
/// mapped afresh by the allocator each time, so large bodies read through them page-faulted:
/// with validation taken out, 265 KB bodies went from about 7,000 to 11,000 requests per
/// second with this bound. Headers must fit in it too.
const MAX_READ_BUFFER_BYTES: usize = 64 * 1024;

/// How long a TLS handshake may take before the connection is closed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` turns true, then lets requests in flight finish. With
/// `dedicated_topic`, `/api/events` is that topic's endpoint (a port of its own, as
/// AzureEventGridSimulator serves topics).
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    connections: Connections,
    mut shutdown: watch::Receiver<bool>,
    certificate_file: RemoveOnDrop,
    dedicated_topic: Option<Arc<str>>,
) {
    loop {
        let stop_requested = async { shutdown.wait_for(|stop| *stop).await.map(|_| ()) };
        let (stream, room) = tokio::select! {
            accepted = accept(&listener, &connections) => accepted,
            _ = stop_requested => break,
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        let dedicated_topic = dedicated_topic.clone();
        let idle_timeout = connections.idle_timeout;
        tokio::spawn(async move {
            let _room = room;
            let activity = Arc::new(Activity::default());
            let service = service_fn({
                let activity = Arc::clone(&activity);
                move |request| {
                    let shared = Arc::clone(&shared);
                    let request = match &dedicated_topic {
                        Some(topic) => to_topic_endpoint(request, topic),
                        None => request,
                    };
                    let in_progress = activity.begin();
                    async move {
                        let answer = route(shared, request).await;
                        drop(in_progress);
                        answer
                    }
                }
            });
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new());
            builder.max_buf_size(MAX_READ_BUFFER_BYTES);
            match tls {
                None => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    drive(connection, &activity, idle_timeout, shutdown).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                        let mut builder = http2::Builder::new(TokioExecutor::new());
                        builder.timer(TokioTimer::new());
                        // Pings find peers that went away without closing.
                        builder.keep_alive_interval(Some(idle_timeout));
                        builder.keep_alive_timeout(idle_timeout);
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        drive(connection, &activity, idle_timeout, shutdown).await;
                    } else {
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        drive(connection, &activity, idle_timeout, shutdown).await;
                    }
                }
            }
        });
    }
    drop(listener);
    connections.drained(SHUTDOWN_GRACE).await;
    drop(certificate_file);
}

/// The next connection, once there is room for it.
async fn accept(
    listener: &TcpListener,
    connections: &Connections,
) -> (tokio::net::TcpStream, OwnedSemaphorePermit) {
    let room = connections.room().await;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return (stream, room),
            Err(error) => {
                // Out of file descriptors and the like: pause rather than spin.
                tracing::warn!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
