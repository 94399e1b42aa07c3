//! Proxies from the environment: CONNECT tunnels for https and plain http, proxy
//! credentials, `NO_PROXY`, and loopback kept off every proxy. The environment of this process
//! cannot be changed safely, so the requests are sent by a child process with its own.
//!
//! The test proxy stands for a real one: it resolves `eventgrid.test` (a name that is not
//! loopback, so the client must use the proxy) to 127.0.0.1, where the test servers listen.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use eventgrid_async::{AsyncTransport, ClientOptions, HyperTransport};
use eventgrid_emulator::{EmulatorConfig, TopicSpec};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{KEY, start};

const CALLS_VAR: &str = "EVENTGRID_PROXY_TEST_CALLS";
const CA_VAR: &str = "EVENTGRID_PROXY_TEST_CA";
const PROXY_VARS: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];
/// The proxy's user and password; the password needs percent-encoding in a URL.
const PROXY_USER: &str = "proxy-user";
const PROXY_PASSWORD: &str = "pr0xy:secret@1";
const PROXY_PASSWORD_IN_URL: &str = "pr0xy%3Asecret%401";

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    target: String,
    authorization: Option<String>,
}

/// A minimal proxy on loopback: CONNECT tunnels and forwarded plain http requests, each
/// recorded; it answers 407 to requests without the expected `Proxy-Authorization`.
struct TestProxy {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, recorded.clone()));
            }
        });
        Self { port, seen }
    }

    /// The proxy's URL with its credentials.
    fn url(&self) -> String {
        format!(
            "http://{PROXY_USER}:{PROXY_PASSWORD_IN_URL}@127.0.0.1:{}",
            self.port
        )
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// `Basic base64("proxy-user:pr0xy:secret@1")`: the password decoded from the URL.
fn expected_authorization() -> String {
    "Basic cHJveHktdXNlcjpwcjB4eTpzZWNyZXRAMQ==".to_owned()
}

async fn relay(mut client: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if client.read_exact(&mut byte).await.is_err() || head.len() > 16 * 1024 {
            return;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let authorization = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    let authorized = authorization.as_deref() == Some(expected_authorization().as_str());
    seen.lock().unwrap().push(Seen {
        method: method.clone(),
        target: target.clone(),
        authorization,
    });
    if !authorized {
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let authority = if method == "CONNECT" {
        target.clone()
    } else {
        let uri: http::Uri = target.parse().unwrap();
        uri.authority().unwrap().to_string()
    };
    let port = authority.rsplit_once(':').unwrap().1;
    let mut upstream = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .unwrap();
    } else {
        upstream.write_all(&head).await.unwrap();
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// An https server for `eventgrid.test` that answers each request with its `aeg-sas-key`
/// header, and the PEM of the CA that signed its certificate.
async fn https_server() -> (u16, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["eventgrid.test".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(|request: http::Request<hyper::body::Incoming>| {
                        let key = request
                            .headers()
                            .get("aeg-sas-key")
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default();
                        async move {
                            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(key))))
                        }
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (port, ca_cert.pem())
}

/// Sends `calls` (`URL` or `URL KEY`, one a line) from a child process with `vars` as its
/// whole proxy environment; the outcome of each call (`200 body` or `error Kind: message`)
/// and the transport's `Debug`, as the child printed them.
async fn send_in_child(calls: &[String], ca_pem: &str, vars: &[(&str, &str)]) -> String {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "proxy::sends_requests_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for var in PROXY_VARS {
        child.env_remove(var);
    }
    child
        .env(CALLS_VAR, calls.join("\n"))
        .env(CA_VAR, ca_pem)
        .envs(vars.iter().copied());
    let output = tokio::task::spawn_blocking(move || child.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Run by [`send_in_child`] in a child process.
#[tokio::test]
#[ignore = "run by the proxy tests in a child process"]
async fn sends_requests_child() {
    let calls = std::env::var(CALLS_VAR).expect("started by a proxy test");
    let options = ClientOptions::default().with_connect_timeout(std::time::Duration::from_secs(5));
    let mut builder = HyperTransport::builder(&options);
    let ca = std::env::var(CA_VAR).unwrap();
    if !ca.is_empty() {
        builder = builder.extra_ca_pem(ca);
    }
    let transport = builder.build().unwrap();
    println!("DEBUG {transport:?}");
    for call in calls.lines() {
        let (url, key) = call.split_once(' ').unwrap_or((call, ""));
        let mut request = http::Request::post(url).header("content-type", "application/json");
        if !key.is_empty() {
            request = request.header("aeg-sas-key", key);
        }
        match transport
            .send(request.body(Bytes::from_static(b"[]")).unwrap())
            .await
        {
            Ok(response) => println!(
                "OUTCOME {} {}",
                response.status().as_u16(),
                String::from_utf8_lossy(response.body())
            ),
            Err(error) => println!("OUTCOME error {:?}: {error}", error.kind()),
        }
    }
}

fn outcomes(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("OUTCOME "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_a_connect_tunnel_with_the_proxy_credentials() {
    let proxy = TestProxy::start().await;
    let (port, ca) = https_server().await;
    let stdout = send_in_child(
        &[format!("https://eventgrid.test:{port}/api/events {KEY}")],
        &ca,
        &[
            ("HTTPS_PROXY", &proxy.url()),
            // The plain-http proxy must not be used for https.
            ("HTTP_PROXY", "http://127.0.0.1:9"),
        ],
    )
    .await;
    assert_eq!(outcomes(&stdout), [format!("200 {KEY}")], "{stdout}");
    assert_eq!(
        proxy.seen(),
        [Seen {
            method: "CONNECT".to_owned(),
            target: format!("eventgrid.test:{port}"),
            authorization: Some(expected_authorization()),
        }]
    );
    assert!(!stdout.contains(PROXY_PASSWORD_IN_URL), "{stdout}");
    assert!(
        !stdout.contains(PROXY_USER),
        "Debug hides the proxy: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_tunnelled_through_http_proxy_and_all_proxy() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders"))).await;
    let port = emulator.local_addr().port();
    let url = format!("http://eventgrid.test:{port}/orders/api/events?api-version=2018-01-01");
    let proxy = TestProxy::start().await;
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let stdout = send_in_child(
            std::slice::from_ref(&url),
            "",
            &[(var, &proxy.url()), ("HTTPS_PROXY", "http://127.0.0.1:9")],
        )
        .await;
        assert_eq!(outcomes(&stdout), ["200 "], "{var}: {stdout}");
    }
    let seen = proxy.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for request in seen {
        // A tunnel for plain http too (the core's policy, the same in the blocking client).
        assert_eq!(request.method, "CONNECT");
        assert_eq!(request.target, format!("eventgrid.test:{port}"));
        assert_eq!(request.authorization, Some(expected_authorization()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_never_goes_through_a_proxy() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))).await;
    let port = emulator.local_addr().port();
    let proxy = TestProxy::start().await;
    let calls: Vec<String> = ["127.0.0.1", "localhost", "127.0.0.2"]
        .iter()
        .map(|host| format!("http://{host}:{port}/orders/api/events?api-version=2018-01-01 {KEY}"))
        .collect();
    let url = proxy.url();
    let stdout = send_in_child(
        &calls,
        "",
        &[
            ("HTTPS_PROXY", &url),
            ("HTTP_PROXY", &url),
            ("ALL_PROXY", &url),
        ],
    )
    .await;
    let outcomes = outcomes(&stdout);
    assert!(outcomes[..2].iter().all(|o| *o == "200 "), "{stdout}");
    assert!(
        outcomes[2] == "200 " || outcomes[2].starts_with("error Connect"),
        "127.0.0.2 is loopback but may not reach a server bound to 127.0.0.1: {stdout}"
    );
    assert_eq!(proxy.seen(), [], "the credential never reached the proxy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_in_either_case_connects_directly() {
    // 0.0.0.0 is not loopback, yet on Linux connecting to it reaches this machine's servers.
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders"))).await;
    let port = emulator.local_addr().port();
    let url = format!("http://0.0.0.0:{port}/orders/api/events?api-version=2018-01-01");
    let proxy = TestProxy::start().await;
    for no_proxy in ["NO_PROXY", "no_proxy"] {
        let stdout = send_in_child(
            std::slice::from_ref(&url),
            "",
            &[
                ("HTTP_PROXY", &proxy.url()),
                (no_proxy, "example.com, 0.0.0.0"),
            ],
        )
        .await;
        assert_eq!(outcomes(&stdout), ["200 "], "{no_proxy}: {stdout}");
    }
    assert_eq!(proxy.seen(), []);
    let stdout = send_in_child(&[url], "", &[("HTTP_PROXY", &proxy.url())]).await;
    assert_eq!(outcomes(&stdout), ["200 "], "{stdout}");
    assert_eq!(proxy.seen().len(), 1, "without NO_PROXY the proxy is used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_proxy_credentials_and_unsupported_proxies_are_named() {
    let proxy = TestProxy::start().await;
    let (port, ca) = https_server().await;
    let wrong = format!(
        "http://{PROXY_USER}:wrong-{PROXY_PASSWORD_IN_URL}@127.0.0.1:{}",
        proxy.port
    );
    let calls = [format!("https://eventgrid.test:{port}/api/events {KEY}")];
    let stdout = send_in_child(&calls, &ca, &[("HTTPS_PROXY", &wrong)]).await;
    let outcomes_407 = outcomes(&stdout);
    assert_eq!(outcomes_407.len(), 1, "{stdout}");
    assert!(
        // Not retried: wrong credentials do not become right.
        outcomes_407[0].starts_with("error InvalidRequest")
            && outcomes_407[0].contains("with status 407 (proxy authentication required"),
        "{stdout}"
    );
    assert!(!stdout.contains(PROXY_PASSWORD), "{stdout}");
    assert!(!stdout.contains(PROXY_PASSWORD_IN_URL), "{stdout}");

    let stdout = send_in_child(&calls, &ca, &[("ALL_PROXY", "socks5://127.0.0.1:9")]).await;
    let socks = outcomes(&stdout);
    assert!(
        socks[0].starts_with("error InvalidRequest")
            && socks[0].contains("the proxy in ALL_PROXY is a socks5:// proxy"),
        "{stdout}"
    );
}
