//! Push delivery from the command line: `--webhook`, `--skip-validation`, `--retry-time-scale`
//! and `--simulator-settings`, as a user runs the binary.

mod support;
mod webhook;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;
use support::{Client, event};
use webhook::{Answer, Webhook};

/// Kills the child if a test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and returns it with its start-up lines (up to `inspect:`).
fn start(args: &[&str]) -> (Running, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventgrid-emulator"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("the emulator stopped: {lines:?}");
        }
        let line = line.trim_end().to_owned();
        let done = line.starts_with("inspect: ");
        lines.push(line);
        if done {
            break;
        }
    }
    // Keep reading so the emulator never writes to a closed pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    (Running(child), lines)
}

fn after<'l>(lines: &'l [String], prefix: &str) -> &'l str {
    lines
        .iter()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in {lines:?}"))
}

#[tokio::test]
async fn webhooks_from_the_command_line_receive_what_is_published() {
    let webhook = Webhook::start(|_, _| Answer::status(200)).await;
    let other = Webhook::start(|_, _| Answer::status(200)).await;
    let (_emulator, lines) = start(&[
        "--port",
        "0",
        "--topic",
        "orders",
        "--webhook",
        &format!("orders={}", webhook.url),
        "--webhook",
        &format!("orders={}", other.url),
        "--skip-validation",
        "--retry-time-scale",
        "0.001",
    ]);
    let base = after(&lines, "listening on ");
    let subscriptions: Vec<&String> = lines.iter().filter(|l| l.starts_with("webhook ")).collect();
    assert_eq!(subscriptions.len(), 2, "{lines:?}");
    assert!(
        subscriptions[0].starts_with("webhook orders/webhook -> http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(
        subscriptions[0].ends_with("/hook (active)"),
        "the query stays hidden: {lines:?}"
    );
    assert!(
        subscriptions[1].starts_with("webhook orders/webhook-2 -> "),
        "{lines:?}"
    );
    let reply = Client::new()
        .post_json(
            &format!("{base}/orders/api/events?api-version=2018-01-01"),
            &[],
            json!([event(1)]).to_string(),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(webhook.wait_for_events(1).await[0]["id"], "1");
    assert_eq!(other.wait_for_events(1).await[0]["id"], "1");
    assert!(
        webhook.received().iter().all(|r| r.is_notification()),
        "validation skipped"
    );
}

#[tokio::test]
async fn the_simulator_settings_file_is_served_from_the_command_line() {
    let webhook = Webhook::accepting().await;
    let settings = json!({"topics": [{"name": "SimTopic", "port": 0, "key": "k3y",
        "subscribers": {"http": [{"name": "SimSubscriber", "endpoint": webhook.url}]}}]});
    let path = std::env::temp_dir().join(format!("appsettings-cli-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, settings.to_string()).unwrap();
    let (_emulator, lines) = start(&[
        "--port",
        "0",
        "--simulator-settings",
        path.to_str().unwrap(),
    ]);
    std::fs::remove_file(&path).unwrap();
    let endpoint = after(&lines, "topic SimTopic also at: ");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("webhook SimTopic/SimSubscriber -> ")),
        "{lines:?}"
    );
    webhook
        .wait_until("the validation handshake", |r| {
            r.iter()
                .any(|r| r.header("aeg-event-type") == Some("SubscriptionValidation"))
        })
        .await;
    // The handshake's answer is processed after the request; publishing may come first, and the
    // event then waits for the validation.
    let reply = Client::new()
        .post_json(
            endpoint,
            &[("aeg-sas-key", "k3y")],
            json!([event(5)]).to_string(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(webhook.wait_for_events(1).await[0]["id"], "5");
}

#[test]
fn bad_webhook_options_are_usage_errors() {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_eventgrid-emulator"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["--topic", "orders", "--webhook", "nope=http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("topic `nope` is not configured"),
        "{stderr}"
    );
    let (code, stderr) = run(&[
        "--topic",
        "orders",
        "--webhook",
        "orders=ftp://x/?key=secret",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("http:// or https://") && !stderr.contains("secret"),
        "{stderr}"
    );
    let (code, stderr) = run(&["--topic", "orders", "--retry-time-scale=0"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("positive"), "{stderr}");
}
