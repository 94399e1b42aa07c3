//! Proxies: both clients choose them by the core's one policy (`eventgrid_core::proxy`), go
//! through a CONNECT tunnel with the proxy's credentials, honour `NO_PROXY`, keep loopback off
//! every proxy, and refuse the same things with the same words.
//!
//! The proxy is the harness's [`TestProxy`] on loopback, given as an explicit proxy option
//! (the process's environment is not touched). The clients are sent to `eventgrid.test`, a
//! name that is not loopback, so the policy proxies it, and that only the proxy resolves (to
//! the emulator): a client that went around the proxy could not reach it.

use eventgrid::asynchronous::HyperTransport;
use eventgrid::blocking::UreqTransport;
use eventgrid::core::bytes::Bytes;
use eventgrid::core::http::Request;
use eventgrid::core::proxy::{ProxyConfig, ProxySetting};
use eventgrid::core::{AsyncTransport, Transport, TransportError};
use eventgrid::{Credential, EventGridConfig, EventGridTopicConfig};
use eventgrid_tests::conformance::{
    GRID, Lab, OPEN, Subject, grid_events, quick_options, sorted_ids,
};
use eventgrid_tests::key_echo::KeyEcho;
use eventgrid_tests::test_proxy::{PROXY_PASSWORD, PROXY_USER, ProxyRequest, TestProxy};

/// The name only the test proxy resolves.
const REMOTE: &str = "eventgrid.test";

/// A client topic named `name` for the emulator's open topic, reached at `host`.
fn open_topic_at(lab: &Lab, name: &str, host: &str) -> EventGridTopicConfig {
    let endpoint = lab
        .emulator()
        .topic_endpoint(OPEN)
        .replace("127.0.0.1", host);
    EventGridTopicConfig::new(name, endpoint).expect("a valid endpoint")
}

/// The front end under test with `topics`, no credential, and `proxies`.
fn subject_via(
    lab: &Lab,
    proxies: ProxyConfig,
    topics: Vec<EventGridTopicConfig>,
) -> Box<dyn Subject> {
    let mut setup = lab.setup(&[]);
    setup.config = EventGridConfig::new(topics).expect("distinct topics");
    setup.credential = Credential::None;
    setup.options.proxy = ProxySetting::Explicit(proxies);
    lab.subject(setup)
}

fn tunnel_to(lab: &Lab) -> ProxyRequest {
    ProxyRequest {
        method: "CONNECT".to_owned(),
        target: format!("{REMOTE}:{}", lab.emulator().local_addr().port()),
        authorized: true,
    }
}

pub fn requests_go_through_a_connect_tunnel(lab: &Lab) {
    let proxy = TestProxy::start();
    let proxies = ProxyConfig::new(&proxy.url()).unwrap();
    let subject = subject_via(lab, proxies, vec![open_topic_at(lab, OPEN, REMOTE)]);
    subject.send(OPEN, grid_events("p", 3)).assert_delivered();
    subject.send(OPEN, grid_events("q", 1)).assert_delivered();
    let mut expected = sorted_ids("p", 3);
    expected.push("q-0".to_owned());
    assert_eq!(lab.sorted_ids(OPEN), expected);
    // Only tunnels, each to the target with the proxy's credentials (decoded from the URL);
    // kept-alive connections may carry several requests.
    let seen = proxy.seen();
    assert!(!seen.is_empty() && seen.len() <= 4, "{seen:?}");
    assert!(
        seen.iter().all(|request| *request == tunnel_to(lab)),
        "{seen:?}"
    );
}

pub fn no_proxy_hosts_go_direct(lab: &Lab) {
    let proxy = TestProxy::start();
    // 0.0.0.0 is not loopback, yet on Linux connecting to it reaches this machine's servers.
    let proxies = ProxyConfig::new(&proxy.url())
        .unwrap()
        .with_no_proxy("example.com, 0.0.0.0/8");
    let subject = subject_via(
        lab,
        proxies,
        vec![
            open_topic_at(lab, "direct", "0.0.0.0"),
            open_topic_at(lab, "proxied", REMOTE),
        ],
    );
    subject
        .send("direct", grid_events("d", 2))
        .assert_delivered();
    assert_eq!(proxy.seen(), [], "NO_PROXY's range bypasses the proxy");
    subject
        .send("proxied", grid_events("p", 1))
        .assert_delivered();
    assert_eq!(
        proxy.seen(),
        [tunnel_to(lab)],
        "a host not listed still uses it"
    );
    let mut expected = sorted_ids("d", 2);
    expected.push("p-0".to_owned());
    assert_eq!(lab.sorted_ids(OPEN), expected);
}

pub fn loopback_never_goes_through_a_proxy(lab: &Lab) {
    let proxy = TestProxy::start();
    // A keyed topic over plain http: the key may go to loopback only, and never via a proxy.
    let mut setup = lab.setup(&[GRID]);
    let localhost = EventGridTopicConfig::new(
        "by-name",
        lab.emulator()
            .topic_endpoint(GRID)
            .replace("127.0.0.1", "localhost"),
    )
    .unwrap();
    setup.config = EventGridConfig::new([lab.topic(GRID), localhost]).unwrap();
    setup.options.proxy = ProxySetting::Explicit(ProxyConfig::new(&proxy.url()).unwrap());
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("a", 2)).assert_delivered();
    subject
        .send("by-name", grid_events("b", 1))
        .assert_delivered();
    assert_eq!(lab.sorted_ids(GRID), ["a-0", "a-1", "b-0"]);
    assert_eq!(proxy.seen(), [], "the key never reached the proxy");
}

pub fn unsupported_proxy_is_refused_alike(lab: &Lab) {
    // As the environment would give it; an explicit socks URL is refused when it is given.
    let from_env = ProxyConfig::from_env(|name| {
        (name == "ALL_PROXY").then(|| "socks5://someone:hunter2@127.0.0.1:1080".to_owned())
    });
    let subject = subject_via(
        lab,
        from_env,
        vec![
            open_topic_at(lab, OPEN, REMOTE),
            open_topic_at(lab, "local", "127.0.0.1"),
        ],
    );
    let outcome = subject.send(OPEN, grid_events("s", 2));
    let error = outcome.error().to_string();
    assert_eq!(
        error,
        "invalid request: the proxy in ALL_PROXY is a socks5:// proxy, and only http:// \
         proxies (HTTP CONNECT) are supported: use an http:// proxy, or name the host in \
         NO_PROXY"
    );
    assert_eq!(
        lab.counters(OPEN).requests,
        0,
        "nothing was sent, not even direct"
    );
    // Loopback needs no proxy, so it is not refused.
    subject
        .send("local", grid_events("l", 1))
        .assert_delivered();
    assert_eq!(lab.ids(OPEN), ["l-0"]);
    assert!(matches!(
        ProxyConfig::new("socks5://127.0.0.1:1080"),
        Err(eventgrid::core::proxy::ProxyError::Unsupported { .. })
    ));
}

pub fn proxy_refusing_the_credentials_is_reported_alike(lab: &Lab) {
    let proxy = TestProxy::start();
    let proxies = ProxyConfig::new(&proxy.url_with_wrong_password()).unwrap();
    let subject = subject_via(lab, proxies, vec![open_topic_at(lab, OPEN, REMOTE)]);
    let outcome = subject.send(OPEN, grid_events("w", 1));
    let error = outcome.error().to_string();
    assert_eq!(
        error,
        format!(
            "invalid request: the proxy {} refused a tunnel to {REMOTE}:{} with status 407 \
             (proxy authentication required: check the user and password in the proxy URL)",
            proxy.address(),
            lab.emulator().local_addr().port()
        )
    );
    assert!(!error.contains("wrong") && !error.contains(PROXY_USER));
    assert!(!error.contains(PROXY_PASSWORD));
    // Wrong credentials do not become right: not retried.
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(!seen[0].authorized);
    assert_eq!(lab.counters(OPEN).requests, 0);
}

/// The request sent through each transport on its own, and what each answered.
fn both_transports(
    options: &eventgrid::core::ClientOptions,
    key: Option<&str>,
) -> [TransportError; 2] {
    let request = || {
        let mut request = Request::post("http://eventgrid.test:9/t/api/events");
        if let Some(key) = key {
            request = request.header("aeg-sas-key", key);
        }
        request.body(Bytes::from_static(b"[]")).unwrap()
    };
    let blocking = UreqTransport::new(options)
        .unwrap()
        .send(request())
        .expect_err("the blocking transport refuses");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let asynchronous = runtime
        .block_on(async { HyperTransport::new(options).unwrap().send(request()).await })
        .expect_err("the async transport refuses");
    [blocking, asynchronous]
}

/// The transports on their own, without the engine (which refuses a credential over plain
/// http to anything but loopback first), hold the same line and say so in the same words.
#[test]
fn transports_refuse_a_credential_through_a_proxy_alike() {
    let proxy = TestProxy::start();
    let options = quick_options().with_proxy(ProxyConfig::new(&proxy.url()).unwrap());
    let [blocking, asynchronous] = both_transports(&options, Some("k3y"));
    assert_eq!(blocking, asynchronous);
    assert_eq!(
        blocking.to_string(),
        format!(
            "invalid request: refusing to send a credential over plain http to `eventgrid.test` \
             through the proxy {}: use https, or name the host in NO_PROXY",
            proxy.address()
        )
    );
    assert_eq!(proxy.seen(), [], "nothing reached the proxy");

    // Without a credential both go through the tunnel; the proxy cannot reach port 9, and
    // its refusal reads the same (a failed connection, retried by a client).
    let [blocking, asynchronous] = both_transports(&options, None);
    assert_eq!(blocking, asynchronous);
    assert_eq!(
        blocking.to_string(),
        format!(
            "connection failed: the proxy {} refused a tunnel to eventgrid.test:9 with status 502",
            proxy.address()
        )
    );
    assert_eq!(proxy.seen().len(), 2);
}

/// https through the tunnel: both transports verify the target's certificate (TLS end to end
/// inside the tunnel), and the key reaches the far end while the proxy sees only CONNECT.
#[test]
fn https_goes_through_the_tunnel_with_tls_end_to_end() {
    let proxy = TestProxy::start();
    let server = KeyEcho::start();
    let options = quick_options().with_proxy(ProxyConfig::new(&proxy.url()).unwrap());
    let request = || {
        Request::post(server.url())
            .header("aeg-sas-key", "k3y")
            .body(Bytes::from_static(b"[]"))
            .unwrap()
    };
    let blocking = UreqTransport::builder(&options)
        .extra_ca_pem(server.ca_pem())
        .build()
        .unwrap()
        .send(request())
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let asynchronous = runtime
        .block_on(async {
            let transport = HyperTransport::builder(&options)
                .extra_ca_pem(server.ca_pem())
                .build()?;
            transport.send(request()).await.map_err(Into::into)
        })
        .map_err(|error: eventgrid::Error| error.to_string())
        .unwrap();
    for response in [blocking, asynchronous] {
        assert_eq!(response.status(), 200);
        assert_eq!(response.body().as_ref(), b"k3y");
    }
    let tunnel = ProxyRequest {
        method: "CONNECT".to_owned(),
        target: server.authority(),
        authorized: true,
    };
    assert_eq!(proxy.seen(), [tunnel.clone(), tunnel]);
}
