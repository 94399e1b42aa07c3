//! [`TestProxy`]: a small HTTP proxy on loopback for the proxy scenarios. It opens CONNECT
//! tunnels and forwards absolute-form requests, records every request it is asked for, and
//! answers 407 to one without the `Proxy-Authorization` it expects.
//!
//! It stands for a real proxy in one respect: it resolves the names it is given itself, and
//! maps every name to 127.0.0.1, where the test's emulator listens. So a client can be sent
//! to `eventgrid.test`, a name that is not loopback (the policy proxies it) and that only the
//! proxy can reach; a client that went around the proxy would fail to resolve it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The proxy's user name in [`TestProxy::url`].
pub const PROXY_USER: &str = "proxy-user";
/// The proxy's password, decoded; in the URL it is percent-encoded.
pub const PROXY_PASSWORD: &str = "pr0xy:s3cret@1";
const PROXY_PASSWORD_IN_URL: &str = "pr0xy%3As3cret%401";
/// `Basic base64("proxy-user:pr0xy:s3cret@1")`.
const EXPECTED_AUTHORIZATION: &str = "Basic cHJveHktdXNlcjpwcjB4eTpzM2NyZXRAMQ==";
/// The longest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;

/// One request the proxy was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// `CONNECT`, or the method of a forwarded request.
    pub method: String,
    /// The request target: `host:port` for CONNECT, the absolute URL otherwise.
    pub target: String,
    /// Whether it came with the expected `Proxy-Authorization`.
    pub authorized: bool,
}

/// A proxy on 127.0.0.1; it runs until the process ends.
#[derive(Debug)]
pub struct TestProxy {
    port: u16,
    seen: Arc<Mutex<Vec<ProxyRequest>>>,
}

impl TestProxy {
    /// Starts the proxy on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let recorded = recorded.clone();
                std::thread::spawn(move || serve(client, &recorded));
            }
        });
        Self { port, seen }
    }

    /// `http://proxy-user:PASSWORD@127.0.0.1:PORT`, the password percent-encoded.
    pub fn url(&self) -> String {
        format!(
            "http://{PROXY_USER}:{PROXY_PASSWORD_IN_URL}@127.0.0.1:{}",
            self.port
        )
    }

    /// The same URL with a wrong password.
    pub fn url_with_wrong_password(&self) -> String {
        format!("http://{PROXY_USER}:wrong@127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`, as errors name the proxy.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request the proxy was asked for, oldest first.
    pub fn seen(&self) -> Vec<ProxyRequest> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

fn serve(client: TcpStream, seen: &Mutex<Vec<ProxyRequest>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(reader) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader.take(MAX_HEAD as u64));
    let mut head = Vec::new();
    loop {
        let before = head.len();
        if reader.read_until(b'\n', &mut head).unwrap_or(0) == 0 {
            return;
        }
        if head[before..] == *b"\r\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let authorized = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("proxy-authorization")
                && value.trim() == EXPECTED_AUTHORIZATION
        })
    });
    seen.lock().expect("not poisoned").push(ProxyRequest {
        method: method.clone(),
        target: target.clone(),
        authorized,
    });
    let mut client = client;
    if !authorized {
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\n\r\n",
        );
        return;
    }
    let authority = if method == "CONNECT" {
        Some(target.as_str())
    } else {
        target
            .strip_prefix("http://")
            .map(|rest| rest.split('/').next().unwrap_or(rest))
    };
    let Some(port) = authority
        .and_then(|authority| authority.rsplit_once(':'))
        .and_then(|(_, port)| port.parse::<u16>().ok())
    else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if method == "CONNECT" {
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .is_err()
        {
            return;
        }
    } else if upstream.write_all(&head).is_err() {
        return;
    }
    // Bytes read past the head (a forwarded request's body) follow it.
    if upstream.write_all(reader.buffer()).is_err() {
        return;
    }
    relay(reader.into_inner().into_inner(), client, upstream);
}

/// Copies bytes both ways until either side closes.
fn relay(mut client_read: TcpStream, mut client_write: TcpStream, upstream: TcpStream) {
    let _ = client_read.set_read_timeout(None);
    let Ok(mut upstream_read) = upstream.try_clone() else {
        return;
    };
    let mut upstream_write = upstream;
    let upward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = upward.join();
}
