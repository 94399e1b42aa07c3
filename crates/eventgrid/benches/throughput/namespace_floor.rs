//! The pull-delivery floor: plain hyper posting `:receive` and `:acknowledge` with prebuilt
//! requests, one loop per connection, no client in between. The lock tokens are cut out of
//! each answer by looking for `"lockToken":"`, so the floor parses no JSON and builds no
//! event: what is left is what the emulator and the loopback cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::task::JoinSet;

use crate::namespace::RECEIVE_BATCH;
use crate::{Args, Outcome, join_all};

/// The namespace data-plane version the clients send.
const API_VERSION: &str = "2024-06-01";
/// What an acknowledgement's answer holds when no token failed.
const FULL_SUCCESS: &[u8] = b"\"failedLockTokens\":[]";
const TOKEN_FIELD: &str = "\"lockToken\":\"";

/// What every connection of the floor shares.
struct Target {
    receive: http::Uri,
    acknowledge: http::Uri,
    authority: String,
    authorization: http::HeaderValue,
    wanted: u64,
    consumed: AtomicU64,
}

/// `--concurrency` connections, each receiving up to 100 events and acknowledging their
/// tokens, until `--events` have been consumed.
pub(crate) async fn namespace_floor(args: &Args) -> Result<Outcome, String> {
    let base = args.endpoint.trim_end_matches('/');
    if !base.starts_with("http://") {
        return Err("the floor posts over plain http to the loopback emulator".to_owned());
    }
    let subscription = format!(
        "{base}/topics/{}/eventsubscriptions/{}",
        args.topic, args.subscription
    );
    let parse = |uri: String| {
        uri.parse::<http::Uri>()
            .map_err(|error| format!("--endpoint: {error}"))
    };
    let receive = parse(format!(
        "{subscription}:receive?api-version={API_VERSION}&maxEvents={RECEIVE_BATCH}&maxWaitTime=10"
    ))?;
    let acknowledge = parse(format!(
        "{subscription}:acknowledge?api-version={API_VERSION}"
    ))?;
    let authority = receive
        .authority()
        .ok_or("--endpoint has no host")?
        .to_string();
    let authorization = http::HeaderValue::try_from(format!("SharedAccessKey {}", args.key))
        .map_err(|error| format!("--key: {error}"))?;
    let target = Arc::new(Target {
        receive,
        acknowledge,
        authority,
        authorization,
        wanted: args.events,
        consumed: AtomicU64::new(0),
    });
    let started = Instant::now();
    let mut connections = JoinSet::new();
    for _ in 0..args.concurrency {
        let target = target.clone();
        connections.spawn(async move { floor_connection(&target).await });
    }
    let requests = join_all(connections).await?;
    Ok(Outcome {
        events: target.consumed.load(Ordering::Relaxed),
        requests,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One connection's loop; returns the requests it made.
async fn floor_connection(target: &Target) -> Result<u64, String> {
    let stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|error| format!("connect {}: {error}", target.authority))?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(connection);
    let mut requests = 0;
    while target.consumed.load(Ordering::Relaxed) < target.wanted {
        let answer = post(&mut sender, target, &target.receive, Bytes::new()).await?;
        let (body, tokens) = acknowledge_body(&answer)?;
        if tokens == 0 {
            return Err("a receive got nothing: the subscription was not filled".to_owned());
        }
        let settled = post(&mut sender, target, &target.acknowledge, body).await?;
        if !settled
            .windows(FULL_SUCCESS.len())
            .any(|window| window == FULL_SUCCESS)
        {
            return Err(format!(
                "acknowledge failed: {}",
                String::from_utf8_lossy(&settled)
            ));
        }
        requests += 2;
        target.consumed.fetch_add(tokens, Ordering::Relaxed);
    }
    Ok(requests)
}

/// One POST on the connection; the answer's body, which must come with 200.
async fn post(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    target: &Target,
    uri: &http::Uri,
    body: Bytes,
) -> Result<Bytes, String> {
    let request = http::Request::post(uri.clone())
        .header(http::header::HOST, target.authority.as_str())
        .header(http::header::AUTHORIZATION, target.authorization.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
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
            "the emulator answered {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    Ok(answer)
}

/// `{"lockTokens":[...]}` with every token of a receive answer, and how many there are.
fn acknowledge_body(answer: &[u8]) -> Result<(Bytes, u64), String> {
    let answer = std::str::from_utf8(answer).map_err(|error| format!("receive answer: {error}"))?;
    let mut body = Vec::with_capacity(64 * RECEIVE_BATCH);
    body.extend_from_slice(b"{\"lockTokens\":[");
    let mut tokens = 0;
    for (at, field) in answer.match_indices(TOKEN_FIELD) {
        let token = &answer[at + field.len()..];
        let token = &token[..token.find('"').unwrap_or(0)];
        if tokens > 0 {
            body.push(b',');
        }
        body.push(b'"');
        body.extend_from_slice(token.as_bytes());
        body.push(b'"');
        tokens += 1;
    }
    body.extend_from_slice(b"]}");
    Ok((Bytes::from(body), tokens))
}
