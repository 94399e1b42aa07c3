//! Reading the service's answers: error bodies and retry hints.

use std::time::Duration;

use http::HeaderMap;
use serde::Deserialize;

use crate::error::{ErrorDetail, ServiceError};

/// Parses an error answer: the `{"error":{"code","message","details"}}` body when there is
/// one, the body text or the status reason otherwise, plus `x-ms-request-id` and retry hints.
pub fn parse_service_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    #[derive(Deserialize)]
    struct Envelope {
        error: Body,
    }
    #[derive(Deserialize)]
    struct Body {
        code: Option<String>,
        message: Option<String>,
        #[serde(default)]
        details: Vec<Detail>,
    }
    #[derive(Deserialize)]
    struct Detail {
        code: Option<String>,
        message: Option<String>,
    }

    let request_id = headers
        .get("x-ms-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retry_after = retry_after(headers);
    let reason = || {
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_owned()
    };
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { error }) => ServiceError {
            status,
            code: error.code,
            message: error.message.unwrap_or_else(reason),
            details: error
                .details
                .into_iter()
                .map(|d| ErrorDetail {
                    code: d.code,
                    message: d.message.unwrap_or_default(),
                })
                .collect(),
            request_id,
            retry_after,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            const MAX: usize = 512;
            let message = if text.is_empty() {
                reason()
            } else if text.len() > MAX {
                let cut = (0..=MAX)
                    .rev()
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(0);
                format!("{}...", &text[..cut])
            } else {
                text.to_owned()
            };
            ServiceError {
                status,
                code: None,
                message,
                details: Vec::new(),
                request_id,
                retry_after,
            }
        }
    }
}

/// The delay the service asked for: `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds) or
/// `Retry-After` (seconds), in that order. HTTP-date forms of `Retry-After` are ignored (the
/// core is not handed the wall clock here; the computed backoff applies instead). A value too
/// large for a [`Duration`] is [`Duration::MAX`]: the retry decision then sees that waiting
/// passes any deadline.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (!value.is_nan() && value >= 0.0).then_some(value)
    };
    let duration = |seconds: f64| Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    number("retry-after-ms")
        .or_else(|| number("x-ms-retry-after-ms"))
        .map(|ms| duration(ms / 1000.0))
        .or_else(|| number("retry-after").map(duration))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn parses_the_service_error_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ms-request-id", HeaderValue::from_static("req-1"));
        let body = br#"{"error":{"code":"BadRequest","message":"bad","details":[{"code":"InputJsonInvalid","message":"x"}]}}"#;
        let e = parse_service_error(400, &headers, body);
        assert_eq!(e.code.as_deref(), Some("BadRequest"));
        assert_eq!(e.message, "bad");
        assert_eq!(e.details[0].code.as_deref(), Some("InputJsonInvalid"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        assert_eq!(
            e.to_string(),
            "service answered 400 BadRequest: bad; InputJsonInvalid: x (x-ms-request-id req-1)"
        );
    }

    #[test]
    fn falls_back_to_text_or_reason() {
        let e = parse_service_error(503, &HeaderMap::new(), b"");
        assert_eq!(e.message, "Service Unavailable");
        let e = parse_service_error(502, &HeaderMap::new(), b"upstream broke");
        assert_eq!(e.message, "upstream broke");
    }

    #[test]
    fn retry_after_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("x-ms-retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn retry_after_too_large_for_a_duration_saturates() {
        for (name, value) in [
            ("retry-after", "18446744073709551615"),
            ("retry-after", "1e400"),
            ("retry-after", "inf"),
            ("retry-after-ms", "1e300"),
            ("x-ms-retry-after-ms", "18446744073709551615000"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            assert_eq!(retry_after(&h), Some(Duration::MAX), "{name}: {value}");
        }
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("NaN"));
        assert_eq!(retry_after(&h), None);
    }
}
