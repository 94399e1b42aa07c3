//! `UreqTransport` on its own, against a scripted HTTP/1.1 server on loopback: connection
//! reuse, redirects not followed, error answers returned whole, refusals before sending.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use bytes::Bytes;
use eventgrid_blocking::{ClientOptions, Transport, TransportErrorKind, UreqTransport};
use http::Request;

/// A keep-alive HTTP/1.1 server answering every request with `answer`, counting connections
/// and requests. A batched server holds each request until a batch of that many has arrived,
/// then answers them all: so many requests are in flight at once, on as many connections.
struct Server {
    base: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(answer: &'static str) -> Self {
        Self::batched(answer, 1)
    }

    fn batched(answer: &'static str, batch: usize) -> Self {
        let batch = Arc::new(Barrier::new(batch));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (counted, served) = (connections.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                let (served, batch) = (served.clone(), batch.clone());
                std::thread::spawn(move || serve(stream, answer, &served, &batch));
            }
        });
        Self {
            base,
            connections,
            requests,
        }
    }
}

fn serve(stream: TcpStream, answer: &str, served: &AtomicUsize, batch: &Barrier) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut content_length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        served.fetch_add(1, Ordering::SeqCst);
        batch.wait();
        writer.write_all(answer.as_bytes()).unwrap();
    }
}

fn post(uri: &str, body: &'static [u8]) -> Request<Bytes> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Bytes::from_static(body))
        .unwrap()
}

#[test]
fn connections_are_reused() {
    let server = Server::start("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    let transport = UreqTransport::new(&ClientOptions::default()).unwrap();
    for _ in 0..20 {
        let response = transport
            .send(post(&format!("{}/api/events", server.base), b"[]"))
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 20);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn threads_sharing_a_transport_keep_their_pooled_connections() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 5;
    let server = Server::batched("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", THREADS);
    // Threads emitting one event each are not bounded by `max_concurrent_requests` (that
    // bounds one `send`): each should still keep its connection.
    let options = ClientOptions::default().with_max_concurrent_requests(2);
    let transport = UreqTransport::new(&options).unwrap();
    let uri = format!("{}/api/events", server.base);
    let all_idle = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ROUNDS {
                    let response = transport.send(post(&uri, b"[]")).unwrap();
                    assert_eq!(response.status(), 200);
                    // Every connection is back in the pool before the next round takes one.
                    all_idle.wait();
                }
            });
        }
    });
    assert_eq!(server.requests.load(Ordering::SeqCst), THREADS * ROUNDS);
    assert_eq!(server.connections.load(Ordering::SeqCst), THREADS);
}

#[test]
fn host_names_resolve_and_reuse_the_connection() {
    let server = Server::start("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    let uri = server.base.replace("127.0.0.1", "localhost") + "/api/events";
    let transport = UreqTransport::new(&ClientOptions::default()).unwrap();
    for _ in 0..5 {
        let response = transport.send(post(&uri, b"[]")).unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 5);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn redirects_are_returned_not_followed() {
    let target = Server::start("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    let answer: &'static str = Box::leak(
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}/api/events\r\ncontent-length: 0\r\n\r\n",
            target.base
        )
        .into_boxed_str(),
    );
    let redirecting = Server::start(answer);
    let transport = UreqTransport::new(&ClientOptions::default()).unwrap();
    let request = Request::post(format!("{}/api/events", redirecting.base))
        .header("aeg-sas-key", "a2V5")
        .body(Bytes::from_static(b"[]"))
        .unwrap();
    let response = transport.send(request).unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(target.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn error_answers_come_back_whole() {
    let server = Server::start(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nx-ms-request-id: r-1\r\n\
         content-length: 64\r\n\r\n{\"error\":{\"code\":\"BadRequest\",\"message\":\"one event is invalid\"}}",
    );
    let transport = UreqTransport::new(&ClientOptions::default()).unwrap();
    let response = transport
        .send(post(&format!("{}/api/events", server.base), b"[{}]"))
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-ms-request-id"], "r-1");
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"]["message"], "one event is invalid");
}

#[test]
fn a_slow_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}/api/events", listener.local_addr().unwrap());
    // Accepts and reads, never answers.
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().flatten().take(1).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(held);
    });
    let options = ClientOptions::default().with_request_timeout(Duration::from_millis(200));
    let error = UreqTransport::new(&options)
        .unwrap()
        .send(post(&uri, b"[]"))
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
}

/// Counts what reaches it; answers 200.
struct Counting(Arc<AtomicUsize>);

impl Transport for Counting {
    fn send(
        &self,
        _: Request<Bytes>,
    ) -> Result<http::Response<Bytes>, eventgrid_blocking::TransportError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(http::Response::new(Bytes::new()))
    }
}

#[test]
fn credentials_for_remote_plain_http_are_refused_before_any_transport() {
    use eventgrid_blocking::{
        Credential, Error, EventGridClient, EventGridConfig, EventGridTopicConfig, KeyCredential,
    };
    let seen = Arc::new(AtomicUsize::new(0));
    let remote = || EventGridTopicConfig::new("t", "http://eventgrid.invalid/api/events").unwrap();
    let error = EventGridClient::builder(EventGridConfig::new([remote()]).unwrap())
        .credential(Credential::access_key("SECRET-KEY"))
        .transport(Counting(seen.clone()))
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::InsecureTransport { host } if host == "eventgrid.invalid"),
        "{error}"
    );
    assert!(!error.to_string().contains("SECRET-KEY"));
    // The same refusal for a topic added later with its own key.
    let client = EventGridClient::builder(EventGridConfig::default())
        .transport(Counting(seen.clone()))
        .build()
        .unwrap();
    let keyed = remote().with_credential(KeyCredential::access_key("SECRET-KEY"));
    assert!(matches!(
        client.add_topic(keyed),
        Err(Error::InsecureTransport { .. })
    ));
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[test]
fn an_extra_ca_must_be_pem() {
    let error = UreqTransport::builder(&ClientOptions::default())
        .extra_ca_pem("not a certificate")
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("extra CA certificate"),
        "{error}"
    );
}
