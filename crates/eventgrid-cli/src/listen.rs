//! `eventgrid listen`: a local webhook that answers both handshakes and prints each delivery
//! as it arrives, so that the emulator (or Event Grid through a tunnel) can be watched
//! delivering.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use eventgrid::consumer::{
    DEFAULT_MAX_BODY_BYTES, Handshake, Incoming, PushDelivery, ReceiveError, ReceiveOptions,
    receive_parts,
};
use eventgrid::core::bytes::Bytes;
use eventgrid::core::http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::CliError;
use crate::listen_print::{Format, Printer};

/// At most this many connections are served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 256;

/// How long Ctrl-C waits for requests in flight before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A connection that sends nothing for this long is closed (a half-open client holds no
/// connection slot for ever).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// `eventgrid listen`: where to listen and how to print.
#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// The port to listen on (0 picks a free one; the address is printed on standard error)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on (0.0.0.0 for every interface)
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The largest request body accepted, in bytes; larger ones are answered 413
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// How to print: text on a terminal and JSON Lines when piped (auto), or either always
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
}

/// What the webhook has seen, for the closing line.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) deliveries: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) handshakes: AtomicU64,
    pub(crate) refused: AtomicU64,
}

/// What a webhook does with what it reads (after answering is decided, before the answer is
/// sent): `eventgrid listen` prints, the demo counts.
pub(crate) trait Observer: Send + Sync + 'static {
    /// A handshake arrived at `path`; it is answered yes.
    fn handshake(&self, path: &str, handshake: &Handshake);
    /// A delivery arrived at `path`; it is answered 200.
    fn delivery(&self, path: &str, delivery: &PushDelivery);
}

impl Observer for Printer {
    fn handshake(&self, path: &str, handshake: &Handshake) {
        Printer::handshake(self, path, handshake);
    }

    fn delivery(&self, path: &str, delivery: &PushDelivery) {
        Printer::delivery(self, path, delivery);
    }
}

struct State<O> {
    options: ReceiveOptions,
    observer: O,
    counters: Arc<Counters>,
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub fn run(args: &ListenArgs) -> Result<(), CliError> {
    if args.max_body_bytes == 0 {
        return Err(CliError::usage("--max-body-bytes must be at least 1"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::failure(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: &ListenArgs) -> Result<(), CliError> {
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|error| {
            CliError::failure(format!(
                "cannot listen on {}:{}: {error}",
                args.host, args.port
            ))
        })?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::failure(format!("cannot read the bound address: {error}")))?;
    let stop = stop_signal();
    eprintln!(
        "eventgrid listen: webhook at {} (answers both handshakes; Ctrl-C to stop)",
        url(address)
    );
    let options = ReceiveOptions::default().with_max_body_bytes(args.max_body_bytes);
    let counters = Arc::new(Counters::default());
    serve_webhook(
        listener,
        options,
        Printer::new(args.format),
        Arc::clone(&counters),
        stop,
    )
    .await;
    eprintln!(
        "eventgrid listen: stopped after {} deliveries ({} events), {} handshakes, {} refused requests",
        counters.deliveries.load(Ordering::Relaxed),
        counters.events.load(Ordering::Relaxed),
        counters.handshakes.load(Ordering::Relaxed),
        counters.refused.load(Ordering::Relaxed),
    );
    Ok(())
}

/// Serves a webhook on `listener` until `stop` resolves, then lets requests in flight finish
/// (for at most [`SHUTDOWN_GRACE`]).
pub(crate) async fn serve_webhook(
    listener: TcpListener,
    options: ReceiveOptions,
    observer: impl Observer,
    counters: Arc<Counters>,
    stop: impl std::future::Future<Output = ()>,
) {
    let state = Arc::new(State {
        options,
        observer,
        counters,
    });
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    eprintln!("eventgrid listen: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let state = Arc::clone(&state);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(answer(&state, request).await) }
            });
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            // A connection ending in error is the client's business.
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// Reads one request (bounded), hands it to the core, tells the observer, and answers.
async fn answer<O: Observer>(state: &State<O>, request: Request<Body>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let refused = |error: ReceiveError| {
        state.counters.refused.fetch_add(1, Ordering::Relaxed);
        eprintln!("eventgrid listen: refused {} {path}: {error}", parts.method);
        let mut response = Response::new(Full::new(Bytes::from(format!("{error}\n"))));
        *response.status_mut() = error.status();
        if error.status() == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        }
        response
    };
    if let Err(error) = state.options.check_content_length(&parts.headers) {
        return refused(error);
    }
    let limit = state.options.max_body_bytes();
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            // No Content-Length (chunked): the size is only known to be over the limit.
            return refused(ReceiveError::BodyTooLarge {
                size: limit as u64 + 1,
                limit,
            });
        }
        // The client went away mid-body: there is no one to answer.
        Err(_) => return empty(StatusCode::BAD_REQUEST),
    };
    match receive_parts(&parts.method, &parts.headers, &body, &state.options) {
        Ok(Incoming::Handshake(handshake)) => {
            state.counters.handshakes.fetch_add(1, Ordering::Relaxed);
            state.observer.handshake(&path, &handshake);
            handshake.response().map(Full::new)
        }
        Ok(Incoming::Delivery(delivery)) => {
            state.counters.deliveries.fetch_add(1, Ordering::Relaxed);
            let count = delivery.events().len() as u64;
            state.counters.events.fetch_add(count, Ordering::Relaxed);
            state.observer.delivery(&path, &delivery);
            empty(StatusCode::OK)
        }
        Ok(_) => empty(StatusCode::BAD_REQUEST),
        Err(error) => refused(error),
    }
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn url(address: SocketAddr) -> String {
    format!("http://{address}/")
}

/// Ctrl-C, or SIGTERM on Unix, registered when made: a signal that arrives after the
/// address is printed (as a script reading it would send one) stops the webhook gracefully
/// instead of killing it.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        async move {
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = interrupted => {}
                _ = terminated => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_shows_how_to_reach_the_webhook() {
        assert_eq!(
            url("127.0.0.1:8080".parse().unwrap()),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(url("[::1]:9".parse().unwrap()), "http://[::1]:9/");
    }
}
