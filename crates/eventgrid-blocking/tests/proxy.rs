//! `HTTPS_PROXY` and `NO_PROXY` from the environment. The environment of this process cannot be
//! changed safely, so the publishing half runs as a child process with its own environment.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use eventgrid_blocking::{EventGridClient, EventGridConfig, EventGridTopicConfig};
use eventgrid_emulator::{EmulatorConfig, TopicSpec};
use support::start;

const ENDPOINT_VAR: &str = "EVENTGRID_BLOCKING_TEST_ENDPOINT";
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

/// A minimal HTTP CONNECT proxy on loopback that records the targets it tunnels to.
struct ConnectProxy {
    url: String,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let recorded = targets.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let recorded = recorded.clone();
                std::thread::spawn(move || tunnel(client, &recorded));
            }
        });
        Self { url, targets }
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

fn tunnel(mut client: TcpStream, recorded: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    assert_eq!(parts.next(), Some("CONNECT"), "{line}");
    let target = parts.next().unwrap().to_owned();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header == "\r\n" || header.is_empty() {
            break;
        }
    }
    recorded.lock().unwrap().push(target.clone());
    let upstream = TcpStream::connect(&target).unwrap();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
    let mut down_write = client;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut up_write));
    let _ = std::io::copy(&mut up_read, &mut down_write);
}

/// Runs `publishes_one_event_child` in a child process with `vars` as its proxy settings.
fn publish_in_child(endpoint: &str, vars: &[(&str, &str)]) {
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
    child.env(ENDPOINT_VAR, endpoint).envs(vars.iter().copied());
    let output = child.output().unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn https_proxy_is_used_unless_no_proxy_names_the_host() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders")));
    let endpoint = emulator.topic_endpoint("orders");
    let proxy = ConnectProxy::start();

    publish_in_child(&endpoint, &[("HTTPS_PROXY", &proxy.url)]);
    assert_eq!(proxy.targets(), [emulator.local_addr().to_string()]);
    assert_eq!(emulator.counters("orders").accepted_events, 1);

    publish_in_child(
        &endpoint,
        &[
            ("HTTPS_PROXY", &proxy.url),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
    );
    assert_eq!(proxy.targets().len(), 1, "NO_PROXY bypasses the proxy");
    assert_eq!(emulator.counters("orders").accepted_events, 2);
}

#[test]
#[ignore = "run in a child process by https_proxy_is_used_unless_no_proxy_names_the_host"]
fn publishes_one_event_child() {
    let endpoint = std::env::var(ENDPOINT_VAR).expect("started by the parent test");
    let config =
        EventGridConfig::new([EventGridTopicConfig::new("orders", endpoint).unwrap()]).unwrap();
    let client = EventGridClient::builder(config).build().unwrap();
    client
        .emit_event("orders", "t", "s", serde_json::json!(1))
        .unwrap();
}
