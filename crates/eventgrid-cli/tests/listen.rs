//! `eventgrid listen` as a process: it answers both handshakes, prints each delivery of each
//! kind, refuses what is not a delivery, and stops cleanly on Ctrl-C.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

const VALIDATION: &str = include_str!("../../../tests/fixtures/push/eventgrid-validation.json");
const NOTIFICATION: &str = include_str!("../../../tests/fixtures/push/eventgrid-notification.json");
const CLOUD_SINGLE: &str =
    include_str!("../../../tests/fixtures/push/cloudevents-blob-created.json");
const CLOUD_BATCH: &str = include_str!("../../../tests/fixtures/push/cloudevents-batch.json");

/// How long a test waits for a line it expects before failing (a bound, not a measurement).
const PATIENCE: Duration = Duration::from_secs(20);

/// A running `eventgrid listen`, stopped with Ctrl-C (SIGINT) when dropped.
struct Listener {
    child: Child,
    address: String,
    stdout: Receiver<String>,
    stderr: BufReader<ChildStderr>,
}

impl Listener {
    fn start(extra: &[&str]) -> Self {
        let mut args = vec!["listen", "--port", "0"];
        args.extend_from_slice(extra);
        let mut child = support::eventgrid(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("eventgrid listen starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut banner = String::new();
        stderr.read_line(&mut banner).unwrap();
        let address = banner
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {banner:?}"))
            .to_owned();
        let (lines, stdout) = channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            address,
            stdout,
            stderr,
        }
    }

    /// Sends one HTTP/1.1 request and returns the status, the headers (lower-case names) and
    /// the body.
    fn request(&self, method: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut request = format!(
            "{method} /api/updates HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.send(&request)
    }

    /// Sends `request` as it is and reads the answer.
    fn send(&self, request: &str) -> Answer {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    fn post(&self, content_type: &str, body: &str) -> Answer {
        self.request(
            "POST",
            &[
                ("Content-Type", content_type),
                ("aeg-event-type", "Notification"),
                ("aeg-subscription-name", "ORDERS-SUB"),
                ("aeg-delivery-count", "1"),
            ],
            body,
        )
    }

    fn next_line(&self) -> String {
        self.stdout
            .recv_timeout(PATIENCE)
            .expect("a line on standard output")
    }

    fn next_json(&self) -> Value {
        serde_json::from_str(&self.next_line()).expect("a JSON line")
    }

    /// Sends Ctrl-C and returns the exit status and the rest of standard error.
    fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let status = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        (exit, rest)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[test]
fn both_handshakes_are_answered_and_printed() {
    let listener = Listener::start(&["--format", "json"]);
    let answer = listener.request(
        "OPTIONS",
        &[
            ("WebHook-Request-Origin", "eventgrid.azure.net"),
            ("WebHook-Request-Rate", "120"),
        ],
        "",
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("webhook-allowed-origin"),
        Some("eventgrid.azure.net")
    );
    assert_eq!(answer.header("webhook-allowed-rate"), Some("120"));
    let line = listener.next_json();
    assert_eq!(
        (line["kind"].as_str(), line["handshake"].as_str()),
        (Some("handshake"), Some("AbuseProtection"))
    );

    let answer = listener.request(
        "POST",
        &[
            ("Content-Type", "application/json"),
            ("aeg-event-type", "SubscriptionValidation"),
        ],
        VALIDATION,
    );
    assert_eq!(answer.status, 200);
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        body["validationResponse"],
        "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    );
    let line = listener.next_json();
    assert_eq!(line["handshake"], "SubscriptionValidation");
    assert_eq!(
        line["validationCode"],
        "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    );
}

#[test]
fn each_kind_of_delivery_is_printed_as_json_lines() {
    let listener = Listener::start(&[]); // standard output is a pipe: JSON Lines

    assert_eq!(
        listener
            .post("application/json; charset=utf-8", NOTIFICATION)
            .status,
        200
    );
    let blob = listener.next_json();
    assert_eq!(blob["schema"], "Event Grid schema");
    assert_eq!(blob["subscription"], "ORDERS-SUB");
    assert_eq!(blob["deliveryCount"], 1);
    assert_eq!(blob["path"], "/api/updates");
    assert_eq!(blob["event"]["eventType"], "Microsoft.Storage.BlobCreated");
    assert_eq!(listener.next_json()["event"]["data"]["order_id"], 42);

    assert_eq!(
        listener
            .post("application/cloudevents+json; charset=utf-8", CLOUD_SINGLE)
            .status,
        200
    );
    let single = listener.next_json();
    assert_eq!(
        (single["schema"].as_str(), single["mode"].as_str()),
        (Some("CloudEvents"), Some("structured"))
    );
    assert_eq!(single["event"]["data"]["contentLength"], 17555);

    assert_eq!(
        listener
            .post(
                "application/cloudevents-batch+json; charset=utf-8",
                CLOUD_BATCH
            )
            .status,
        200
    );
    let types: Vec<String> = (0..4)
        .map(|_| {
            listener.next_json()["event"]["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "Microsoft.Resources.ResourceWriteSuccess",
            "Microsoft.KeyVault.SecretNearExpiry",
            "Microsoft.ServiceBus.ActiveMessagesAvailableWithNoListeners",
            "Microsoft.ContainerRegistry.ImagePushed",
        ]
    );

    let binary = listener.request(
        "POST",
        &[
            ("ce-specversion", "1.0"),
            ("ce-id", "b-1"),
            ("ce-source", "/orders"),
            ("ce-type", "order.shipped"),
            ("Content-Type", "application/json"),
        ],
        r#"{"order_id": 42}"#,
    );
    assert_eq!(binary.status, 200);
    let line = listener.next_json();
    assert_eq!(line["mode"], "binary");
    assert_eq!(line["event"]["id"], "b-1");
    assert_eq!(line["event"]["data"]["order_id"], 42);

    let (exit, stderr) = listener.interrupt();
    assert!(exit.success(), "{exit:?} {stderr}");
    assert!(
        stderr.contains("stopped after 4 deliveries (8 events), 0 handshakes, 0 refused requests"),
        "{stderr}"
    );
}

#[test]
fn what_is_not_a_delivery_is_refused_and_not_printed() {
    let listener = Listener::start(&["--max-body-bytes", "1500"]);
    let bad = listener.post(
        "application/json",
        r#"[{"eventType": "order.placed", "id": 1}]"#,
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.starts_with("event 0: `id` must be a string"),
        "{}",
        bad.body
    );
    let large = listener.post("application/cloudevents-batch+json", CLOUD_BATCH);
    assert_eq!(large.status, 413);
    // Without Content-Length the body is cut off at the limit while it is read.
    let chunk = "x".repeat(2_000);
    let chunked = listener.send(&format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    ));
    assert_eq!(chunked.status, 413);
    let get = listener.request("GET", &[], "");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST, OPTIONS"));
    let unknown = listener.post("text/plain", "hello");
    assert_eq!(unknown.status, 415);
    // Still serving after all that, and nothing was printed for the refusals.
    assert_eq!(
        listener
            .post("application/cloudevents+json", CLOUD_SINGLE)
            .status,
        200
    );
    assert_eq!(
        listener.next_json()["event"]["type"],
        "Microsoft.Storage.BlobCreated"
    );
    let (exit, stderr) = listener.interrupt();
    assert!(exit.success());
    assert!(
        stderr.contains("refused POST /api/updates: event 0: `id` must be a string"),
        "{stderr}"
    );
    assert!(stderr.contains("5 refused requests"), "{stderr}");
}

#[test]
fn text_output_is_readable() {
    let listener = Listener::start(&["--format", "text"]);
    assert_eq!(listener.post("application/json", NOTIFICATION).status, 200);
    let heading = listener.next_line();
    assert!(heading.contains("/api/updates  2 events (Event Grid schema, JSON array)  subscription ORDERS-SUB  delivery count 1"), "{heading}");
    let blob = listener.next_line();
    assert!(
        blob.starts_with("  Microsoft.Storage.BlobCreated  subject /blobServices/default/containers/test-container/blobs/new-file.txt  id 831e1650")
            && blob.ends_with("(system event)"),
        "{blob}"
    );
    assert!(
        listener
            .next_line()
            .starts_with("    data {\"api\":\"PutBlockList\"")
    );
    assert_eq!(
        listener.next_line(),
        "  order.placed  subject orders/42  id 7f3c52b1-93b0-4b8e-9d41-3f0f0f1d2a11"
    );
    assert_eq!(
        listener.next_line(),
        "    data {\"order_id\":42,\"total\":99.5}"
    );
}

#[test]
fn a_port_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = support::run(&mut support::eventgrid(&["listen", "--port", &port]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = support::stderr(&output);
    assert!(
        stderr.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}:")),
        "{stderr}"
    );
}

#[test]
fn custom_schema_events_are_printed_whole() {
    let listener = Listener::start(&["--format", "text"]);
    let body = r#"[{"orderId": 42, "kind": "placed"}]"#;
    assert_eq!(listener.post("application/json", body).status, 200);
    assert!(
        listener
            .next_line()
            .contains("1 event (custom schema, JSON array)")
    );
    assert_eq!(listener.next_line(), "  (custom schema event)");
    assert_eq!(
        listener.next_line(),
        r#"    data {"kind":"placed","orderId":42}"#
    );
}
