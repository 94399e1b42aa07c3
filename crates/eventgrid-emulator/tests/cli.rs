//! The `eventgrid-emulator` binary: its start-up lines, start-up errors and graceful shutdown.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

fn emulator(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eventgrid-emulator"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Kills the child if a test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_line(reader: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A blocking POST without a client library: status line of the answer.
fn post(address: &str, path: &str, body: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn prints_where_it_listens_serves_and_stops_on_sigterm() {
    let mut child = Running(
        emulator(&[
            "--port",
            "0",
            "--topic",
            "orders",
            "--topic",
            "audit:cloudevents=a2V5",
        ])
        .spawn()
        .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let first = read_line(&mut stdout);
    let address = first
        .strip_prefix("listening on http://127.0.0.1:")
        .map(|port| format!("127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("first line: {first}"));
    assert_eq!(
        read_line(&mut stdout),
        format!(
            "topic orders (eventgrid, open): http://{address}/orders/api/events?api-version=2018-01-01"
        )
    );
    assert_eq!(
        read_line(&mut stdout),
        format!(
            "topic audit (cloudevents, key): http://{address}/audit/api/events?api-version=2018-01-01"
        )
    );
    let event = r#"[{"id":"1","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z"}]"#;
    assert_eq!(
        post(&address, "/orders/api/events?api-version=2018-01-01", event),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        post(&address, "/audit/api/events?api-version=2018-01-01", "[]"),
        "HTTP/1.1 401 Unauthorized"
    );

    signal(&child.0, "TERM");
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[test]
fn ctrl_c_stops_it_too_and_tls_names_the_certificate() {
    let mut child = Running(
        emulator(&["--port", "0", "--tls", "--topic", "t"])
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    assert!(read_line(&mut stdout).starts_with("listening on https://127.0.0.1:"));
    read_line(&mut stdout);
    let certificate = read_line(&mut stdout);
    let path = certificate
        .strip_prefix("ca certificate: ")
        .unwrap()
        .to_owned();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    signal(&child.0, "INT");
    assert!(child.0.wait().unwrap().success());
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = emulator(&["--port", &port, "--topic", "t"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("address already in use"),
        "{stderr}"
    );
}

#[test]
fn a_bad_config_file_names_its_line() {
    let path =
        std::env::temp_dir().join(format!("emulator-bad-config-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "port = 0\n\n[[topics]]\nname = \"orders\"\nschema = \"xml\"\n",
    )
    .unwrap();
    let output = emulator(&["--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("invalid configuration file {}", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("line 5"), "{stderr}");
    assert!(stderr.contains("unknown variant `xml`"), "{stderr}");

    let output = emulator(&["--topic", "orders", "--fault", "orders:status=503,drop"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--fault `orders:status=503,drop`"));
}

#[test]
fn a_config_file_configures_topics_and_faults() {
    let path = std::env::temp_dir().join(format!("emulator-config-{}.json", std::process::id()));
    let config =
        r#"{"port": 0, "topics": [{"name": "orders", "faults": [{"status": 503, "next": 1}]}]}"#;
    std::fs::write(&path, config).unwrap();
    let mut child = Running(
        emulator(&["--config", path.to_str().unwrap()])
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let first = read_line(&mut stdout);
    std::fs::remove_file(&path).unwrap();
    let address = first
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    let path = "/orders/api/events?api-version=2018-01-01";
    assert_eq!(
        post(&address, path, "[]"),
        "HTTP/1.1 503 Service Unavailable"
    );
    assert_eq!(post(&address, path, "[]"), "HTTP/1.1 200 OK");
    signal(&child.0, "TERM");
    assert!(child.0.wait().unwrap().success());
}
