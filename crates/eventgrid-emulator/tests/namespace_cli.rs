//! `--namespace-topic` and `--subscription`: the banner names the namespace endpoint and each
//! subscription, and what it names answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

#[test]
fn the_banner_names_the_namespace_endpoint_and_each_subscription() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventgrid-emulator"))
        .args([
            "--port",
            "0",
            "--namespace-topic",
            "orders=a2V5",
            "--namespace-topic",
            "audit",
            "--subscription",
            "orders/billing",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_owned());
    }
    let base = lines[0].strip_prefix("listening on ").unwrap().to_owned();
    let version = "api-version=2024-06-01";
    assert_eq!(
        lines[1..],
        [
            format!("namespace endpoint: {base}"),
            format!("namespace topic orders (key): {base}/topics/orders:publish?{version}"),
            format!("namespace topic audit (open): {base}/topics/audit:publish?{version}"),
            format!(
                "subscription orders/billing: \
                 {base}/topics/orders/eventsubscriptions/billing:receive?{version}"
            ),
        ]
    );
    // The named receive answers (401: the topic is keyed and no key was sent).
    let address = base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /topics/orders/eventsubscriptions/billing:receive?{version} HTTP/1.1\r\n\
         host: {address}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_subscription_of_an_unknown_topic_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_eventgrid-emulator"))
        .args(["--port", "0", "--subscription", "orders/billing"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("names no namespace topic"), "{stderr}");
}
