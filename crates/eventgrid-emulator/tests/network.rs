//! Running on a network: what a non-loopback address requires (an admin key, configured Entra
//! clients), and the bounds that keep a reachable emulator from being held up or filled up
//! (the body read before authentication, body-read and idle time-outs, a connection cap).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use eventgrid_emulator::{Emulator, EmulatorConfig, Error, TopicSpec};
use support::{Client, start};

const KEY: &str = "a2V5";
const ADMIN_KEY: &str = "admin-s3cret";

/// Long enough never to be reached by a passing test; a failing one waits this long.
const NEVER: Duration = Duration::from_secs(10);

fn keyed() -> EmulatorConfig {
    EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))
}

/// Connects with a read time-out of [`NEVER`].
fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(NEVER)).unwrap();
    stream
}

/// Reads until the end of the first answer's head.
fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[tokio::test]
async fn a_non_loopback_address_needs_an_admin_key_and_entra_clients() {
    let open = keyed().host("0.0.0.0");
    let error = Emulator::start(open.clone()).await.unwrap_err();
    assert!(matches!(error, Error::OpenOnNetwork { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("not a loopback address"), "{message}");
    assert!(message.contains("--admin-key"), "{message}");
    assert!(message.contains("--entra-client"), "{message}");

    let message = Emulator::start(open.clone().admin_key(ADMIN_KEY))
        .await
        .unwrap_err()
        .to_string();
    assert!(!message.contains("--admin-key"), "{message}");
    assert!(message.contains("--entra-client"), "{message}");

    let emulator = Emulator::start(
        open.admin_key(ADMIN_KEY)
            .entra_client("my-app", "app-secret"),
    )
    .await
    .unwrap();
    let client = Client::new();
    let base = emulator.base_url().to_owned();
    let topics = format!("{base}/_emulator/topics");
    assert_eq!(client.get(&topics).await.status, 401);
    let authorized = client
        .send(
            "GET",
            &topics,
            &[("authorization", "Bearer admin-s3cret")],
            "",
        )
        .await;
    assert_eq!(authorized.status, 200);
    assert_eq!(
        client.get(&format!("{base}/_emulator/health")).await.status,
        200
    );

    let form = "grant_type=client_credentials&client_id=anyone&client_secret=x\
                &scope=https%3A%2F%2Feventgrid.azure.net%2F.default";
    let token = client
        .send(
            "POST",
            &format!("{base}/tenant/oauth2/v2.0/token"),
            &[("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await;
    assert_eq!(token.status, 400, "only configured clients get tokens");
    emulator.shutdown().await;
}

#[test]
fn the_command_line_names_the_flags_a_network_address_needs() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eventgrid-emulator"))
        .args(["--host", "0.0.0.0", "--port", "0", "--topic", "orders"])
        .env_remove("EVENTGRID_EMULATOR_ADMIN_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--admin-key KEY"), "{stderr}");
    assert!(stderr.contains("--entra-client ID=SECRET"), "{stderr}");
}

#[tokio::test]
async fn an_admin_key_guards_the_emulator_api_on_loopback_too() {
    let emulator = start(keyed().admin_key(ADMIN_KEY)).await;
    let client = Client::new();
    let faults = format!("{}/_emulator/faults/orders", emulator.base_url());
    let rule = r#"{"rules":[{"status":503}]}"#;
    let refused = client.send("PUT", &faults, &[], rule).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    let wrong = client
        .send("PUT", &faults, &[("authorization", "Bearer guess")], rule)
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(emulator.faults("orders"), None);
    let admitted = client
        .send(
            "PUT",
            &faults,
            &[("authorization", "Bearer admin-s3cret")],
            rule,
        )
        .await;
    assert_eq!(admitted.status, 200);
    assert!(emulator.faults("orders").is_some());
}

/// The service answers 401 before reading a body: a client that waits for `100 Continue`
/// before sending its (large) body gets the 401 instead.
#[tokio::test]
async fn refusals_come_before_the_body_is_read() {
    let emulator = start(keyed()).await;
    let address = emulator.local_addr();
    let head = tokio::task::spawn_blocking(move || {
        let mut stream = connect(address);
        write!(
            stream,
            "POST /orders/api/events?api-version=2018-01-01 HTTP/1.1\r\nhost: {address}\r\n\
             content-type: application/json\r\ncontent-length: 1000000\r\n\
             expect: 100-continue\r\n\r\n"
        )
        .unwrap();
        read_head(&mut stream)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert_eq!(emulator.counters("orders").rejections.get(&401), Some(&1));
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408() {
    let emulator = start(keyed().body_read_timeout(Duration::from_millis(100))).await;
    let address = emulator.local_addr();
    let head = tokio::task::spawn_blocking(move || {
        let mut stream = connect(address);
        write!(
            stream,
            "POST /orders/api/events?api-version=2018-01-01 HTTP/1.1\r\nhost: {address}\r\n\
             aeg-sas-key: {KEY}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\
             \r\n[{{\"id\":"
        )
        .unwrap();
        read_head(&mut stream)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
}

#[tokio::test]
async fn idle_http1_connections_are_closed() {
    let emulator = start(keyed().idle_timeout(Duration::from_millis(100))).await;
    let address = emulator.local_addr();
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = connect(address);
        write!(
            stream,
            "GET /_emulator/health HTTP/1.1\r\nhost: {address}\r\n\r\n"
        )
        .unwrap();
        let head = read_head(&mut stream).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).map(|_| rest)
    })
    .await
    .unwrap();
    let rest = closed.expect("the server closes the idle connection");
    assert!(rest.starts_with(b"{\"status\":\"ok\"}"), "{rest:?}");
}

#[tokio::test]
async fn idle_http2_connections_are_closed() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    let emulator = start(keyed().tls(true).idle_timeout(Duration::from_millis(100))).await;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in
        CertificateDer::pem_slice_iter(emulator.ca_certificate_pem().unwrap().as_bytes())
    {
        roots.add(certificate.unwrap()).unwrap();
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let stream = tokio::net::TcpStream::connect(emulator.local_addr())
        .await
        .unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(ServerName::try_from("localhost").unwrap(), stream)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    let health = http::Request::get(format!("{}/_emulator/health", emulator.base_url()))
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    assert_eq!(sender.send_request(health).await.unwrap().status(), 200);
    let closed = tokio::time::timeout(NEVER, connection).await;
    assert!(closed.is_ok(), "the idle HTTP/2 connection stays open");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_room() {
    let emulator = start(keyed().max_connections(1)).await;
    let address = emulator.local_addr();
    let health = format!("GET /_emulator/health HTTP/1.1\r\nhost: {address}\r\n\r\n");
    let (waited, answered) = tokio::task::spawn_blocking(move || {
        let mut first = connect(address);
        first.write_all(health.as_bytes()).unwrap();
        let head = read_head(&mut first).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut second = connect(address);
        second.write_all(health.as_bytes()).unwrap();
        second
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let waited = read_head(&mut second);
        drop(first);
        second.set_read_timeout(Some(NEVER)).unwrap();
        (waited, read_head(&mut second))
    })
    .await
    .unwrap();
    let error = waited.expect_err("no answer while the first connection holds the only room");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{error}"
    );
    let head = answered.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}
