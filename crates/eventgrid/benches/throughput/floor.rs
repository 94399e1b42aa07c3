//! The wire floor: prebuilt bodies posted with plain hyper, one request in flight per
//! connection, no client in between.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use eventgrid_core::frontend::encode_all;
use eventgrid_core::{API_VERSION, Limits};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::task::JoinSet;

use crate::{Args, Outcome, event, join_all, shares};

/// A prebuilt request body for the floor, with the number of events it carries.
#[derive(Clone)]
pub(crate) struct FloorBody {
    pub(crate) bytes: Bytes,
    pub(crate) events: u64,
}

impl FloorBody {
    /// One event, as `emit_event` sends it.
    pub(crate) fn single() -> Result<Self, String> {
        Self::first_batch(1)
    }

    /// The first request body `send` would make from the benchmark events with the default
    /// limits (so the floor carries the same bytes per request as the client).
    pub(crate) fn batch() -> Result<Self, String> {
        Self::first_batch(Limits::default().max_events_per_request as u64)
    }

    fn first_batch(events: u64) -> Result<Self, String> {
        let limits = Limits::default().with_max_events_per_request(events as usize);
        let batches =
            encode_all((0..events).map(event), limits).map_err(|error| error.to_string())?;
        let batch = batches.into_iter().next().ok_or("no events to encode")?;
        Ok(FloorBody {
            events: batch.len() as u64,
            bytes: batch.body,
        })
    }
}

/// The wire floor: `--concurrency` connections, each posting the prebuilt body with plain hyper
/// and awaiting the answer, until `--events` events have gone.
pub(crate) async fn floor(args: &Args, body: FloorBody) -> Result<Outcome, String> {
    let uri: http::Uri = format!("{}?api-version={API_VERSION}", args.endpoint)
        .parse()
        .map_err(|error| format!("--endpoint: {error}"))?;
    let authority = uri.authority().ok_or("--endpoint has no host")?.to_string();
    if uri.scheme_str() != Some("http") {
        return Err("the floor posts over plain http to the loopback sink".to_owned());
    }
    let requests = args.events.div_ceil(body.events);
    let key: Arc<str> = Arc::from(args.key.as_str());
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (_, count) in shares(requests, args.concurrency) {
        let (uri, authority, key, body) =
            (uri.clone(), authority.clone(), key.clone(), body.clone());
        tasks.spawn(async move { floor_connection(uri, authority, key, body.bytes, count).await });
    }
    let sent = join_all(tasks).await?;
    Ok(Outcome {
        events: sent * body.events,
        requests: sent,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub(crate) async fn floor_connection(
    uri: http::Uri,
    authority: String,
    key: Arc<str>,
    body: Bytes,
    count: u64,
) -> Result<u64, String> {
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|error| format!("connect {authority}: {error}"))?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(connection);
    for _ in 0..count {
        let request = http::Request::post(uri.clone())
            .header(http::header::HOST, authority.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header("aeg-sas-key", &*key)
            .body(Full::new(body.clone()))
            .map_err(|error| error.to_string())?;
        sender.ready().await.map_err(|error| error.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let answer = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        if status != http::StatusCode::OK {
            return Err(format!(
                "the sink answered {status}: {}",
                String::from_utf8_lossy(&answer)
            ));
        }
    }
    Ok(count)
}
