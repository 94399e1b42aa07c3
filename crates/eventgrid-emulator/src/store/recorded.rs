//! What a request record keeps of a request: method, path and headers with secrets redacted.

use http::request::Parts;

use crate::store::RecordedRequest;

/// Replaces the value of an `aeg-sas-key` query parameter.
pub(crate) fn redact_query(path: &str) -> String {
    let Some((path, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("aeg-sas-key") => {
                format!("{name}=<redacted>")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// Headers recorded with their values: none of them carries a secret. Credential headers are
/// recorded as `<redacted>` (the `Authorization` scheme kept), and every other header (cookies,
/// proxy credentials, anything unknown) as `<redacted>` too: what is not known to be harmless
/// may be secret.
const SHOWN_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "expect",
    "host",
    "te",
    "traceparent",
    "tracestate",
    "transfer-encoding",
    "user-agent",
    "x-ms-client-request-id",
    "x-ms-return-client-request-id",
    "x-ms-useragent",
];

/// A record keeps this many headers at most, the first ones.
const MAX_HEADERS: usize = 32;

/// Longer header names, values and paths are cut to this many bytes (with `...` appended), so
/// that a record stays small whatever the request sent.
const MAX_TEXT_BYTES: usize = 256;

/// Longer paths are cut to this many bytes.
const MAX_PATH_BYTES: usize = 1024;

/// The record of a request, answered with `status` (none when the connection was dropped).
pub(crate) fn record(parts: &Parts, status: Option<u16>, events: usize) -> RecordedRequest {
    let headers = parts
        .headers
        .iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let name = name.as_str();
            let value = if SHOWN_HEADERS.contains(&name) {
                cut(value.to_str().unwrap_or("<binary>"), MAX_TEXT_BYTES)
            } else if name == "authorization" {
                match value.to_str().ok().and_then(|value| value.split_once(' ')) {
                    Some((scheme, _)) => format!("{} <redacted>", cut(scheme, 32)),
                    None => "<redacted>".to_owned(),
                }
            } else {
                "<redacted>".to_owned()
            };
            (cut(name, MAX_TEXT_BYTES), value)
        })
        .collect();
    let path = parts
        .uri
        .path_and_query()
        .map(|path| path.as_str())
        .unwrap_or("/");
    RecordedRequest {
        method: cut(parts.method.as_str(), 32),
        path: cut(&redact_query(path), MAX_PATH_BYTES),
        headers,
        status,
        events,
    }
}

/// `text`, or its first `max` bytes (at a character boundary) followed by `...`.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(request: http::request::Builder) -> RecordedRequest {
        let (parts, ()) = request.body(()).unwrap().into_parts();
        record(&parts, Some(401), 0)
    }

    #[test]
    fn shows_only_headers_known_to_be_harmless() {
        let record = recorded(
            http::Request::post("/t/api/events?api-version=2018-01-01&aeg-sas-key=c2VjcmV0")
                .header("content-type", "application/json")
                .header("user-agent", "tests/1")
                .header("authorization", "SharedAccessSignature r=x&s=secret")
                .header("aeg-sas-key", "c2VjcmV0")
                .header("proxy-authorization", "Basic c2VjcmV0")
                .header("cookie", "session=secret")
                .header("x-api-key", "secret"),
        );
        assert_eq!(record.header("content-type"), Some("application/json"));
        assert_eq!(record.header("user-agent"), Some("tests/1"));
        assert_eq!(
            record.header("authorization"),
            Some("SharedAccessSignature <redacted>")
        );
        for secret in ["aeg-sas-key", "proxy-authorization", "cookie", "x-api-key"] {
            assert_eq!(record.header(secret), Some("<redacted>"), "{secret}");
        }
        assert!(!format!("{record:?}").contains("secret"), "{record:?}");
        assert!(!format!("{record:?}").contains("c2VjcmV0"), "{record:?}");
    }

    #[test]
    fn stays_small_whatever_the_request_sent() {
        let mut request = http::Request::post(format!("/{}", "p".repeat(10_000)))
            .header("user-agent", "u".repeat(10_000));
        for index in 0..100 {
            request = request.header(format!("x-{index}-{}", "n".repeat(1000)), "v");
        }
        let record = recorded(request);
        assert_eq!(record.headers.len(), MAX_HEADERS);
        let size = record.path.len()
            + record
                .headers
                .iter()
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>();
        assert!(size < 12 * 1024, "{size} bytes");
        assert_eq!(cut("ab\u{e9}", 3), "ab...");
    }
}
