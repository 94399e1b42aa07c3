//! Proxies from the environment: `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, and loopback kept off every
//! proxy. The environment of this process cannot be changed safely, so the publishing half runs
//! as a child process with its own environment.
//!
//! The test proxy stands for a real one: it resolves `eventgrid.test` (a name that is not
//! loopback, so the client must use the proxy) to 127.0.0.1, where the emulator listens.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use eventgrid_blocking::{EventGridClient, EventGridConfig, EventGridTopicConfig, KeyCredential};
use eventgrid_emulator::{EmulatorConfig, TopicSpec};
use support::{KEY, start};

const ENDPOINT_VAR: &str = "EVENTGRID_BLOCKING_TEST_ENDPOINT";
const KEY_VAR: &str = "EVENTGRID_BLOCKING_TEST_KEY";
const PROXY_VARS: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The tunnels a proxy opened: each target with the `Proxy-Authorization` it came with.
type Tunnels = Mutex<Vec<(String, Option<String>)>>;

/// A minimal HTTP CONNECT proxy on loopback that records the targets it tunnels to and the
/// `Proxy-Authorization` it was given.
struct ConnectProxy {
    url: String,
    seen: Arc<Tunnels>,
}

impl ConnectProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://proxy-user:pr0xy%3Apass@{}",
            listener.local_addr().unwrap()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let recorded = recorded.clone();
                std::thread::spawn(move || tunnel(client, &recorded));
            }
        });
        Self { url, seen }
    }

    fn targets(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(target, _)| target.clone())
            .collect()
    }
}

fn tunnel(client: TcpStream, recorded: &Tunnels) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    assert_eq!(parts.next(), Some("CONNECT"), "{line}");
    let target = parts.next().unwrap().to_owned();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("proxy-authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    recorded
        .lock()
        .unwrap()
        .push((target.clone(), authorization));
    let port = target.rsplit_once(':').unwrap().1;
    let upstream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let mut client = client;
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let mut down_write = client;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut up_write));
    let _ = std::io::copy(&mut up_read, &mut down_write);
}

/// Runs `publishes_one_event_child` in a child process that publishes to `endpoint` with
/// `key` (if any), and `vars` as its proxy settings.
fn publish_in_child(endpoint: &str, key: Option<&str>, vars: &[(&str, &str)]) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([
        "--exact",
        "publishes_one_event_child",
        "--ignored",
        "--nocapture",
    ]);
    for var in PROXY_VARS {
        child.env_remove(var);
    }
    child
        .env(ENDPOINT_VAR, endpoint)
        .env(KEY_VAR, key.unwrap_or_default())
        .envs(vars.iter().copied());
    let output = child.output().unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn other_hosts_go_through_the_proxy_unless_no_proxy_names_them() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders")));
    let port = emulator.local_addr().port();
    let proxy = ConnectProxy::start();

    let remote = format!("http://eventgrid.test:{port}/orders/api/events");
    // A plain http target takes HTTP_PROXY (HTTPS_PROXY is for https targets, as in curl).
    publish_in_child(&remote, None, &[("HTTP_PROXY", &proxy.url)]);
    assert_eq!(
        *proxy.seen.lock().unwrap(),
        [(
            format!("eventgrid.test:{port}"),
            // base64("proxy-user:pr0xy:pass")
            Some("Basic cHJveHktdXNlcjpwcjB4eTpwYXNz".to_owned())
        )]
    );
    assert_eq!(emulator.counters("orders").accepted_events, 1);

    // 0.0.0.0 is not loopback, yet on Linux connecting to it reaches this machine's servers.
    let unspecified = format!("http://0.0.0.0:{port}/orders/api/events");
    publish_in_child(
        &unspecified,
        None,
        &[
            ("HTTP_PROXY", &proxy.url),
            ("NO_PROXY", "example.com,0.0.0.0"),
        ],
    );
    assert_eq!(proxy.targets().len(), 1, "NO_PROXY bypasses the proxy");
    assert_eq!(emulator.counters("orders").accepted_events, 2);
}

#[test]
fn loopback_never_goes_through_the_proxy() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY)));
    let port = emulator.local_addr().port();
    let proxy = ConnectProxy::start();
    for host in ["127.0.0.1", "localhost"] {
        publish_in_child(
            &format!("http://{host}:{port}/orders/api/events"),
            Some(KEY),
            &[
                ("HTTPS_PROXY", &proxy.url),
                ("ALL_PROXY", &proxy.url),
                ("HTTP_PROXY", &proxy.url),
            ],
        );
    }
    assert_eq!(
        proxy.targets(),
        Vec::<String>::new(),
        "the key never reached the proxy"
    );
    assert_eq!(emulator.counters("orders").accepted_events, 2);
}

#[test]
#[ignore = "run in a child process by the proxy tests"]
fn publishes_one_event_child() {
    let endpoint = std::env::var(ENDPOINT_VAR).expect("started by the parent test");
    let mut topic = EventGridTopicConfig::new("orders", endpoint).unwrap();
    let key = std::env::var(KEY_VAR).unwrap_or_default();
    if !key.is_empty() {
        topic = topic.with_credential(KeyCredential::access_key(key));
    }
    let config = EventGridConfig::new([topic]).unwrap();
    let client = EventGridClient::builder(config).build().unwrap();
    client
        .emit_event("orders", "t", "s", serde_json::json!(1))
        .unwrap();
}
