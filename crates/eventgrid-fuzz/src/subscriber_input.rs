//! What a subscriber receives, as the core reads it (`eventgrid_core::consumer`): a push
//! delivery or handshake (`eventgrid listen`, the webhook example) and a namespace topic's
//! `:receive` answer (the receivers).
//!
//! Input: one byte of choices, then sections split at `\n\n`. Choice bit 0: a namespace receive
//! answer (the rest is its body). Otherwise bit 1 picks OPTIONS or POST, the first section is
//! header lines (`name: value`) and the second the body.

use eventgrid_core::consumer::{Incoming, ReceiveOptions, parse_namespace_receive, receive_parts};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::bytes_reader::{Bytes, split_at};

/// The limits the target reads under: small, so the fuzzer meets them.
const MAX_EVENTS: usize = 8;
const MAX_BODY_BYTES: usize = 4096;

/// Runs one input. Checks: never more events than the limit, and a refusal always answers a
/// client error status.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let choice = input.byte();
    let options = ReceiveOptions::default()
        .with_max_events(MAX_EVENTS)
        .with_max_body_bytes(MAX_BODY_BYTES);
    let rest = input.rest();
    if choice & 1 == 1 {
        if let Ok(batch) = parse_namespace_receive(rest, &options) {
            let count = batch.events.len() + batch.malformed.len();
            assert!(count <= MAX_EVENTS, "more events than the limit");
        }
        return;
    }
    let method = if choice & 2 == 2 {
        Method::OPTIONS
    } else {
        Method::POST
    };
    let (head, body) = split_at(rest, b"\n\n");
    let mut headers = HeaderMap::new();
    for line in head.split(|&byte| byte == b'\n') {
        let (name, value) = split_at(line, b":");
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(value.trim_ascii()),
        ) {
            headers.append(name, value);
        }
    }
    match receive_parts(&method, &headers, body, &options) {
        Ok(Incoming::Delivery(delivery)) => {
            assert!(
                delivery.events().len() <= MAX_EVENTS,
                "more events than the limit"
            );
        }
        Ok(_) => {}
        Err(error) => assert!(
            error.status().is_client_error(),
            "a refusal answered {}",
            error.status()
        ),
    }
}
