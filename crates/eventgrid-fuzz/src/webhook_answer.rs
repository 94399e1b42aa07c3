//! A webhook's answer as push delivery reads it: the raw bytes off the connection through
//! hyper's HTTP/1 client, the status, the headers and at most 64 KiB of body, then judged by
//! the validation handshake, the abuse-protection handshake and the retry rules.
//!
//! Input: one byte (the attempt number, 1 to 30, the answer follows), then the answer's bytes.

use eventgrid_emulator::fuzzing::{MAX_WEBHOOK_ANSWER_BYTES, webhook_answer};

use crate::bytes_reader::Bytes;

/// The validation code the handshake expects in `validationResponse`.
pub const CODE: &str = "5B2C7E1A-0F7D-4C4B-9D3E-FUZZCODE0001";

/// Runs one input. Checks: the body read is bounded; only a 200 validates (and then only with
/// the code), only a 200 grants the abuse protection; 200 to 204 and nothing else is done; a
/// retry waits at least 10 s, and 400, 401, 403 and 413 are never retried.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let attempts = u32::from(input.byte() % 30) + 1;
    let raw = input.rest();
    let verdict = webhook_answer(raw, CODE, attempts);
    assert!(
        verdict.body.len() <= MAX_WEBHOOK_ANSWER_BYTES,
        "read {} bytes of body",
        verdict.body.len()
    );
    if let Some(status) = verdict.status {
        assert!((100..=999).contains(&status), "status {status}");
    }
    if verdict.validation == "granted" {
        assert_eq!(verdict.status, Some(200), "validated by a non-200");
        let body = String::from_utf8_lossy(&verdict.body).to_ascii_uppercase();
        assert!(body.contains(CODE), "validated without the code");
    }
    if verdict.abuse_protection == "granted" {
        assert_eq!(
            verdict.status,
            Some(200),
            "abuse protection granted by a non-200"
        );
    }
    let succeeded = verdict
        .status
        .is_some_and(|status| (200..=204).contains(&status));
    assert_eq!(verdict.next == "done", succeeded, "{verdict:?}");
    if verdict.next == "retry" {
        let wait = verdict.retry_wait.expect("a retry has a wait");
        assert!(wait.as_secs() >= 10, "{verdict:?}");
        assert!(
            !matches!(verdict.status, Some(400 | 401 | 403 | 413)),
            "a never-retried status is retried: {verdict:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(raw: &str) -> eventgrid_emulator::fuzzing::WebhookVerdict {
        webhook_answer(raw.as_bytes(), CODE, 1)
    }

    #[test]
    fn answers_are_read_and_judged_as_push_delivery_does() {
        let body = format!(r#"{{"validationResponse":"{}"}}"#, CODE.to_lowercase());
        let granted = answer(&format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ));
        assert_eq!(
            (granted.status, granted.validation, granted.next),
            (Some(200), "granted", "done")
        );
        let origin = answer(
            "HTTP/1.1 200 OK\r\nwebhook-allowed-origin: eventgrid.azure.net\r\ncontent-length: 0\r\n\r\n",
        );
        assert_eq!(
            (origin.validation, origin.abuse_protection),
            ("pending", "granted")
        );
        let busy = answer("HTTP/1.1 503 Busy\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n");
        assert_eq!((busy.next, busy.outcome), ("retry", "ServiceUnavailable"));
        let refused = answer("HTTP/1.1 400 No\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(refused.next, "dead-letter");
        let garbage = answer("hello");
        assert_eq!((garbage.status, garbage.next), (None, "retry"));
    }

    #[test]
    fn a_long_answer_keeps_its_status_and_no_body() {
        let long = format!(
            "HTTP/1.0 500 Oops\r\n\r\n{}",
            "x".repeat(MAX_WEBHOOK_ANSWER_BYTES + 1)
        );
        let verdict = answer(&long);
        assert_eq!((verdict.status, verdict.body.len()), (Some(500), 0));
        let within = format!("HTTP/1.0 500 Oops\r\n\r\n{}", "x".repeat(1000));
        assert_eq!(answer(&within).body.len(), 1000);
    }
}
