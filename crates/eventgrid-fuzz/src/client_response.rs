//! The client's handling of an answer: status, headers and body to a retry decision, as
//! `RetryState::decide` makes it for both clients.
//!
//! Input: two bytes of status, one byte choosing the number of earlier failed attempts, then
//! header lines (`name: value`), an empty line, and the body.

use std::time::{Duration, Instant};

use bytes::Bytes as Body;
use eventgrid_core::frontend::{
    Decision, RetryState, is_retryable_status, parse_service_error, retry_after,
};
use eventgrid_core::{Error, RetryOptions};
use http::{HeaderName, HeaderValue, Response};

use crate::bytes_reader::{Bytes, split_at};

/// Runs one input. Checks: a 2xx is done with its status; any other answer is retried only
/// when its status is retryable, and never past the retry budget; messages render.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let status = 100 + input.u16() % 900;
    let earlier_attempts = input.byte() % 4;
    let (head, body) = split_at(input.rest(), b"\n\n");
    let mut response = Response::new(Body::copy_from_slice(body));
    *response.status_mut() = http::StatusCode::from_u16(status).expect("100..=999 is a status");
    for line in head.split(|byte| *byte == b'\n') {
        let (name, value) = split_at(line, b":");
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(value.trim_ascii()),
        ) else {
            continue;
        };
        response.headers_mut().append(name, value);
    }

    let headers = response.headers().clone();
    let _ = retry_after(&headers);
    let parsed = parse_service_error(status, &headers, body);
    let _ = parsed.to_string();

    let options = RetryOptions::default();
    let now = Instant::now();
    let mut state = RetryState::new(options, now);
    for _ in 0..earlier_attempts {
        let _ = state.decide_error(Error::Service(parsed.clone()), now);
    }
    let later = now + Duration::from_secs(1);
    match state.decide(Ok(response), later) {
        Decision::Done { status: done, .. } => {
            assert!((200..300).contains(&status), "{status} taken as success");
            assert_eq!(done, status);
        }
        Decision::Retry { delay, error } => {
            assert!(is_retryable_status(status), "{status} retried");
            assert!(
                state.attempts() <= options.max_retries,
                "retried past max_retries"
            );
            assert!(
                Duration::from_secs(1) + delay <= options.max_elapsed,
                "a retry of {delay:?} ends after max_elapsed"
            );
            let _ = error.to_string();
        }
        Decision::Fail(error) => {
            assert!(!(200..300).contains(&status), "{status} failed");
            let _ = error.to_string();
        }
    }
}
