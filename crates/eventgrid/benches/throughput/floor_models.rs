//! Floors of the two clients' models, to tell their own cost from their model's: the same
//! prebuilt one-event body posted through hyper-util's pooled client shared by all tasks (what
//! the async client is built on), and through the least a blocking client can do (a thread per
//! connection writing the request and reading the answer on `std` sockets).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use eventgrid_core::API_VERSION;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinSet;

use crate::floor::FloorBody;
use crate::{Args, Outcome, join_all, shares};

/// `--concurrency` tasks sharing one hyper-util pooled client, each posting the one-event body
/// and awaiting the answer, as `emit_event` callers do.
pub(crate) async fn pooled_floor(args: &Args) -> Result<Outcome, String> {
    let body = FloorBody::single()?;
    let uri: http::Uri = format!("{}?api-version={API_VERSION}", args.endpoint)
        .parse()
        .map_err(|error| format!("--endpoint: {error}"))?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let key: Arc<str> = Arc::from(args.key.as_str());
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for (_, count) in shares(args.events, args.concurrency) {
        let (client, uri, key, body) = (client.clone(), uri.clone(), key.clone(), body.clone());
        tasks.spawn(async move {
            for _ in 0..count {
                let request = http::Request::post(uri.clone())
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/json; charset=utf-8",
                    )
                    .header("aeg-sas-key", &*key)
                    .body(Full::new(body.bytes.clone()))
                    .map_err(|error| error.to_string())?;
                let response = client
                    .request(request)
                    .await
                    .map_err(|error| error.to_string())?;
                let status = response.status();
                response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|error| error.to_string())?;
                if status != http::StatusCode::OK {
                    return Err(format!("the sink answered {status}"));
                }
            }
            Ok(count)
        });
    }
    let sent = join_all(tasks).await?;
    Ok(Outcome {
        events: sent,
        requests: sent,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `--concurrency` threads, each with one keep-alive connection, writing the request with
/// one `write` and reading the answer's head and `Content-Length` body: a blocking client
/// with nothing in it but the thread per request in flight.
pub(crate) fn blocking_floor(args: &Args) -> Result<Outcome, String> {
    let body = FloorBody::single()?;
    let uri: http::Uri = args
        .endpoint
        .parse()
        .map_err(|error| format!("--endpoint: {error}"))?;
    let authority = uri.authority().ok_or("--endpoint has no host")?.to_string();
    let mut request = format!(
        "POST {}?api-version={API_VERSION} HTTP/1.1\r\nhost: {authority}\r\n\
         content-type: application/json; charset=utf-8\r\naeg-sas-key: {}\r\n\
         content-length: {}\r\n\r\n",
        uri.path(),
        args.key,
        body.bytes.len()
    )
    .into_bytes();
    request.extend_from_slice(&body.bytes);
    let started = Instant::now();
    let (authority, request) = (authority.as_str(), request.as_slice());
    let sent = std::thread::scope(|scope| {
        let threads: Vec<_> = shares(args.events, args.concurrency)
            .map(|(_, count)| scope.spawn(move || post_all(authority, request, count)))
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .map_err(|_| "a floor thread panicked".to_owned())?
            })
            .sum::<Result<u64, String>>()
    })?;
    Ok(Outcome {
        events: sent,
        requests: sent,
        retries: 0,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn post_all(authority: &str, request: &[u8], count: u64) -> Result<u64, String> {
    let stream = TcpStream::connect(authority).map_err(|error| error.to_string())?;
    stream
        .set_nodelay(true)
        .map_err(|error| error.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|error| error.to_string())?);
    let mut writer = stream;
    let mut line = String::new();
    let mut answer = Vec::new();
    for _ in 0..count {
        writer
            .write_all(request)
            .map_err(|error| error.to_string())?;
        let (mut length, mut chunked) = (0, false);
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(|error| error.to_string())?;
        if !line.starts_with("HTTP/1.1 200") {
            return Err(format!("the sink answered {}", line.trim_end()));
        }
        loop {
            line.clear();
            reader
                .read_line(&mut line)
                .map_err(|error| error.to_string())?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().map_err(|_| "a bad content-length")?;
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.trim().eq_ignore_ascii_case("chunked");
                }
            }
        }
        if chunked {
            read_chunked(&mut reader, &mut line, &mut answer)?;
        } else {
            answer.resize(length, 0);
            reader
                .read_exact(&mut answer)
                .map_err(|error| error.to_string())?;
        }
    }
    Ok(count)
}

/// Reads a chunked body to its end (the sink's answers are small).
fn read_chunked(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    answer: &mut Vec<u8>,
) -> Result<(), String> {
    loop {
        line.clear();
        reader.read_line(line).map_err(|error| error.to_string())?;
        let size = usize::from_str_radix(line.trim_end(), 16).map_err(|_| "a bad chunk size")?;
        // The chunk and its CRLF; after the last (empty) chunk, the final CRLF.
        answer.resize(size + 2, 0);
        reader
            .read_exact(&mut answer[..])
            .map_err(|error| error.to_string())?;
        if size == 0 {
            return Ok(());
        }
    }
}
