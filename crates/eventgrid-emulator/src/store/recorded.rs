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

/// The record of a request, answered with `status` (none when the connection was dropped).
pub(crate) fn record(parts: &Parts, status: Option<u16>, events: usize) -> RecordedRequest {
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or("<binary>");
            let value = match name.as_str() {
                "aeg-sas-key" | "aeg-sas-token" => "<redacted>".to_owned(),
                "authorization" => match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} <redacted>"),
                    None => "<redacted>".to_owned(),
                },
                _ => value.to_owned(),
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    RecordedRequest {
        method: parts.method.to_string(),
        path: redact_query(
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
        ),
        headers,
        status,
        events,
    }
}
