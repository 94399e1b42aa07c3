//! The built-in transport on the wire: TLS trust, connection errors and time-outs, HTTP/2
//! through ALPN, connection reuse, no redirects, no credentials over plain http, and the
//! default credential chain.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use eventgrid_async::{
    AsyncTransport, Credential, Error, EventGridClient, HyperTransport, Schema, TransportErrorKind,
};
use eventgrid_emulator::{EmulatorConfig, TopicSpec};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::net::TcpListener;

use crate::{KEY, config, start};

fn post(url: &str) -> http::Request<Bytes> {
    http::Request::post(url)
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"[]"))
        .unwrap()
}

/// A CA and a server configuration for 127.0.0.1 signed by it, offering `alpn`.
fn tls_server(alpn: &[&[u8]]) -> (String, tokio_rustls::TlsAcceptor) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    (
        ca_cert.pem(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

/// A server answering each request with its HTTP version, `/redirect` with a 307, and
/// counting connections and requests.
struct VersionServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

async fn version_server(tls: Option<tokio_rustls::TlsAcceptor>) -> VersionServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (accepted, served) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            accepted.fetch_add(1, Ordering::SeqCst);
            let served = served.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        served.fetch_add(1, Ordering::SeqCst);
                        let response = if request.uri().path().starts_with("/redirect") {
                            http::Response::builder()
                                .status(307)
                                .header("location", "/elsewhere")
                                .body(Full::new(Bytes::new()))
                                .unwrap()
                        } else {
                            http::Response::new(Full::new(Bytes::from(format!(
                                "{:?}",
                                request.version()
                            ))))
                        };
                        async move { Ok::<_, Infallible>(response) }
                    },
                );
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = match tls {
                    Some(tls) => match tls.accept(tcp).await {
                        Ok(stream) => {
                            builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await
                        }
                        Err(_) => Ok(()),
                    },
                    None => builder.serve_connection(TokioIo::new(tcp), service).await,
                };
            });
        }
    });
    VersionServer {
        addr,
        connections,
        requests,
    }
}

#[tokio::test]
async fn http2_is_negotiated_through_alpn_on_one_connection() {
    let (ca, acceptor) = tls_server(&[b"h2", b"http/1.1"]);
    let server = version_server(Some(acceptor)).await;
    let transport = HyperTransport::builder(&eventgrid_async::ClientOptions::default())
        .extra_ca_pem(&ca)
        .build()
        .unwrap();
    for _ in 0..10 {
        let response = transport
            .send(post(&format!("https://{}/", server.addr)))
            .await
            .unwrap();
        assert_eq!(response.body().as_ref(), b"HTTP/2.0");
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn http1_servers_get_http1_and_kept_alive_connections() {
    let (ca, acceptor) = tls_server(&[b"http/1.1"]);
    let tls = version_server(Some(acceptor)).await;
    let plain = version_server(None).await;
    let transport = HyperTransport::builder(&eventgrid_async::ClientOptions::default())
        .extra_ca_pem(&ca)
        .build()
        .unwrap();
    for _ in 0..10 {
        let response = transport
            .send(post(&format!("https://{}/", tls.addr)))
            .await
            .unwrap();
        assert_eq!(response.body().as_ref(), b"HTTP/1.1");
        let response = transport
            .send(post(&format!("http://{}/", plain.addr)))
            .await
            .unwrap();
        assert_eq!(response.body().as_ref(), b"HTTP/1.1");
    }
    assert_eq!(tls.connections.load(Ordering::SeqCst), 1);
    assert_eq!(plain.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_returned_not_followed() {
    let server = version_server(None).await;
    let transport = HyperTransport::builder(&eventgrid_async::ClientOptions::default())
        .build()
        .unwrap();
    let response = transport
        .send(post(&format!("http://{}/redirect", server.addr)))
        .await
        .unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);

    // Through the client, a redirect is an error answer, not retried.
    let config =
        eventgrid_async::EventGridConfig::new([eventgrid_async::EventGridTopicConfig::new(
            "moved",
            format!("http://{}/redirect", server.addr),
        )
        .unwrap()])
        .unwrap();
    let client = EventGridClient::builder(config)
        .retry(crate::quick_retries(3))
        .build()
        .unwrap();
    let error = client.emit_event("moved", "t", "s", 1).await.unwrap_err();
    assert_eq!(error.status(), Some(307), "{error}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn untrusted_certificates_fail_as_tls_errors_without_retry() {
    let emulator = start(
        EmulatorConfig::new()
            .tls(true)
            .topic(TopicSpec::keyed("orders", KEY)),
    )
    .await;
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key(KEY))
        .retry(crate::quick_retries(3))
        .build()
        .unwrap();
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("{error}")
    };
    assert_eq!(transport.kind(), TransportErrorKind::Tls, "{error}");
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");
    assert_eq!(emulator.counters("orders").requests, 0);
    assert_eq!(client.metrics()["orders"].retries, 0);

    let trusting = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key(KEY))
        .extra_ca_pem(emulator.ca_certificate_pem().unwrap())
        .build()
        .unwrap();
    trusting.emit_event("orders", "t", "s", 1).await.unwrap();
    assert_eq!(emulator.counters("orders").accepted_events, 1);
}

#[tokio::test]
async fn refused_connections_are_connect_errors() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let transport = HyperTransport::builder(&eventgrid_async::ClientOptions::default())
        .build()
        .unwrap();
    let error = transport
        .send(post(&format!("http://127.0.0.1:{port}/api/events")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_stalled_tls_handshake_hits_the_connect_timeout() {
    // Accepts TCP connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let transport = HyperTransport::builder(
        &eventgrid_async::ClientOptions::default()
            .with_connect_timeout(Duration::from_millis(200))
            .with_request_timeout(Duration::from_secs(20)),
    )
    .build()
    .unwrap();
    let error = transport
        .send(post(&format!("https://{addr}/")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(
        error.message().contains("connect timeout of 200ms"),
        "{error}"
    );
    held.abort();
}

/// Counts what reaches it; answers 200.
struct Counting(Arc<AtomicUsize>);

impl AsyncTransport for Counting {
    async fn send(
        &self,
        _: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, eventgrid_async::TransportError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(http::Response::new(Bytes::new()))
    }
}

#[tokio::test]
async fn credentials_never_go_over_plain_http_to_remote_hosts() {
    let seen = Arc::new(AtomicUsize::new(0));
    let remote = || {
        eventgrid_async::EventGridTopicConfig::new("t", "http://eventgrid.example.com/api/events")
            .unwrap()
    };
    for credential in [
        Credential::access_key("SECRET"),
        Credential::sas_token("r=x&e=y&s=SECRET"),
    ] {
        let error =
            EventGridClient::builder(eventgrid_async::EventGridConfig::new([remote()]).unwrap())
                .credential(credential)
                .transport(Counting(seen.clone()))
                .build()
                .unwrap_err();
        assert!(
            matches!(&error, Error::InsecureTransport { host } if host == "eventgrid.example.com"),
            "{error}"
        );
        assert!(!error.to_string().contains("SECRET"));
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn relative_urls_are_invalid_requests() {
    let transport = HyperTransport::builder(&eventgrid_async::ClientOptions::default())
        .build()
        .unwrap();
    let error = transport.send(post("/api/events")).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::InvalidRequest);
    assert!(!error.is_retryable());
}

/// Runs in a child process started by [`default_credential_reads_the_environment`], with the
/// `AZURE_*` variables pointing at the parent's emulator.
#[tokio::test]
#[ignore = "run by default_credential_reads_the_environment in a child process"]
async fn default_credential_child() {
    let endpoint = std::env::var("EVENTGRID_TEST_ENDPOINT")
        .expect("started by default_credential_reads_the_environment");
    let ca = std::fs::read(std::env::var("EVENTGRID_TEST_CA").unwrap()).unwrap();
    let credential = eventgrid_async::default_credential_with_ca(&ca).unwrap();
    let config =
        eventgrid_async::EventGridConfig::new([eventgrid_async::EventGridTopicConfig::new(
            "orders", endpoint,
        )
        .unwrap()])
        .unwrap();
    let client = EventGridClient::builder(config)
        .credential(credential)
        .extra_ca_pem(&ca)
        .build()
        .unwrap();
    client
        .emit_event("orders", "from.child", "child/1", 1)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_credential_reads_the_environment() {
    let emulator = start(
        EmulatorConfig::new()
            .tls(true)
            .topic(TopicSpec::keyed("orders", KEY))
            .entra_client("env-app", "env-secret"),
    )
    .await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "transport::default_credential_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env("AZURE_TENANT_ID", "env-tenant")
        .env("AZURE_CLIENT_ID", "env-app")
        .env("AZURE_CLIENT_SECRET", "env-secret")
        .env("AZURE_AUTHORITY_HOST", emulator.authority_host())
        // Should the chain ever get past the client secret, managed identity must stay on
        // loopback rather than reach for the instance metadata service.
        .env("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token")
        .env("IDENTITY_HEADER", "unused")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("MSI_ENDPOINT")
        .env("EVENTGRID_TEST_ENDPOINT", emulator.topic_endpoint("orders"))
        .env("EVENTGRID_TEST_CA", emulator.ca_certificate_path().unwrap());
    let output = tokio::task::spawn_blocking(move || child.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test: {stdout}"
    );
    let events = emulator.events("orders");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["eventType"], "from.child");
    assert_eq!(
        emulator.requests("orders")[0].header("authorization"),
        Some("Bearer <redacted>")
    );
}
