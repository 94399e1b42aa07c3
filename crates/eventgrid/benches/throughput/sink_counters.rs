//! The emulator's count of the events a scenario moved (accepted by a basic topic, or
//! acknowledged in a namespace subscription), read before and after it so that no figure rests
//! on the client's word alone.

use std::io::{Read, Write};

/// [`counted_events`] once it has stopped changing: requests a previous process (wrk, say) left
/// in flight may still be counted just after it exited.
pub(crate) fn settled_events(url: &str) -> Result<u64, String> {
    let mut last = counted_events(url)?;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = counted_events(url)?;
        if now == last {
            return Ok(now);
        }
        last = now;
    }
    Err("the sink's event count kept changing before the run".to_owned())
}

/// `accepted_events` from a basic topic's counters (`GET /_emulator/topics/{topic}/counters`)
/// or `counts.acknowledged` from a namespace subscription's
/// (`GET /_emulator/namespace/topics/{topic}/subscriptions/{subscription}`), read over a plain
/// blocking socket so it needs no runtime.
pub(crate) fn counted_events(url: &str) -> Result<u64, String> {
    let pointer = if url.contains("/_emulator/namespace/") {
        "/counts/acknowledged"
    } else {
        "/accepted_events"
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or("--counters must be an http:// URL")?;
    let (authority, path) = rest.split_once('/').ok_or("--counters has no path")?;
    let mut stream = std::net::TcpStream::connect(authority)
        .map_err(|error| format!("counters at {authority}: {error}"))?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| error.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|error| error.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or("counters: no HTTP header")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "counters: {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    let counters: serde_json::Value =
        serde_json::from_str(body).map_err(|error| format!("counters: {error}"))?;
    counters
        .pointer(pointer)
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| format!("counters without {pointer}: {body}"))
}
