//! The HTTP CONNECT handshake without I/O: the request head a transport writes to the proxy,
//! and the reading of the proxy's answer.

use http::Uri;

use super::{Proxy, ProxyError};

/// The longest answer head to CONNECT read before giving up on the proxy.
pub const MAX_TUNNEL_ANSWER_BYTES: usize = 16 * 1024;

/// How far the proxy's answer to CONNECT has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TunnelAnswer {
    /// The head is not complete yet: read more.
    Incomplete,
    /// The tunnel is open; the stream now leads to the target.
    Open,
}

impl Proxy {
    /// `host:port` of a tunnel to `target` (the scheme's default port when it names none).
    pub fn tunnel_target(target: &Uri) -> String {
        let port = target.port_u16().unwrap_or(match target.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        format!("{}:{port}", target.host().unwrap_or_default())
    }

    /// The CONNECT request head asking this proxy for a tunnel to `target`, with the
    /// proxy's credentials when the URL had some. It holds the password: write it to the
    /// proxy and nowhere else.
    pub fn connect_request(&self, target: &Uri) -> Vec<u8> {
        let target = Self::tunnel_target(target);
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
        if let Some(authorization) = self.authorization() {
            head.extend_from_slice(b"Proxy-Authorization: ");
            head.extend_from_slice(authorization.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        head
    }
}

/// Reads the proxy's answer to CONNECT, `received` being every byte read so far. A 2xx
/// status opens the tunnel; any other is [`ProxyError::TunnelRefused`]. Bytes after the head
/// (the target cannot have spoken yet), a head over [`MAX_TUNNEL_ANSWER_BYTES`] or one that
/// is not HTTP are [`ProxyError::BadTunnelAnswer`].
pub fn read_tunnel_answer(
    proxy: &Proxy,
    target: &Uri,
    received: &[u8],
) -> Result<TunnelAnswer, ProxyError> {
    let bad = |reason: &str| ProxyError::BadTunnelAnswer {
        proxy: proxy.to_string(),
        reason: reason.to_owned(),
    };
    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if received.len() >= MAX_TUNNEL_ANSWER_BYTES {
            Err(bad("its head is longer than 16 KiB"))
        } else {
            Ok(TunnelAnswer::Incomplete)
        };
    };
    let status_line = received[..end]
        .split(|b| *b == b'\n')
        .next()
        .unwrap_or_default();
    let mut words = status_line.split(|b| *b == b' ');
    let version = words.next().unwrap_or_default();
    let status = words
        .next()
        .and_then(|code| std::str::from_utf8(code).ok())
        .filter(|code| code.len() == 3)
        .and_then(|code| code.parse::<u16>().ok());
    let (true, Some(status)) = (version.starts_with(b"HTTP/1."), status) else {
        return Err(bad("it is not an HTTP/1 status line"));
    };
    if !(200..300).contains(&status) {
        return Err(ProxyError::TunnelRefused {
            proxy: proxy.to_string(),
            target: Proxy::tunnel_target(target),
            status,
        });
    }
    if received.len() > end + 4 {
        return Err(bad("it sent data before the target could have"));
    }
    Ok(TunnelAnswer::Open)
}
