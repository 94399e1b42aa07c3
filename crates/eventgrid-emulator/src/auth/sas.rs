//! Shared access signature tokens: `r=<resource>&e=<expiry>&s=<signature>`, verified the way the
//! service does, by HMAC-SHA256 over the exact text before `&s=`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use ring::hmac;
use time::OffsetDateTime;

use crate::auth::sas_expiry::parse_expiry;

/// Why a SAS token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SasError {
    /// Not `r=...&e=...&s=...`.
    Malformed,
    /// Valid, but for another resource (the decoded resource is kept for the message).
    WrongResource(String),
    /// Expired at this time.
    Expired(OffsetDateTime),
    /// The signature was not made with the topic's key.
    BadSignature,
}

/// Verifies `token` for the topic at `endpoint` (`scheme://host/topic/api/events`) with the
/// base64 access `key`, at time `now`.
pub(crate) fn verify_sas(
    token: &str,
    key: &str,
    endpoint: &str,
    now: OffsetDateTime,
) -> Result<(), SasError> {
    let token = token.trim();
    let signature_start = token.rfind("&s=").ok_or(SasError::Malformed)?;
    let signed_text = &token[..signature_start];
    let signature = decode_component(&token[signature_start + 3..]).ok_or(SasError::Malformed)?;
    let mut resource = None;
    let mut expiry = None;
    for pair in signed_text.split('&') {
        match pair.split_once('=') {
            Some(("r", value)) => resource = decode_component(value),
            Some(("e", value)) => expiry = decode_component(value),
            _ => return Err(SasError::Malformed),
        }
    }
    let (Some(resource), Some(expiry)) = (resource, expiry) else {
        return Err(SasError::Malformed);
    };
    let expiry = parse_expiry(&expiry).ok_or(SasError::Malformed)?;
    let signature = STANDARD
        .decode(signature.as_bytes())
        .map_err(|_| SasError::Malformed)?;
    // A key that is not base64 signs nothing: no token can match it.
    let key = STANDARD
        .decode(key.as_bytes())
        .map_err(|_| SasError::BadSignature)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    hmac::verify(&key, signed_text.as_bytes(), &signature).map_err(|_| SasError::BadSignature)?;
    if !resource_matches(&resource, endpoint) {
        return Err(SasError::WrongResource(resource));
    }
    if expiry <= now {
        return Err(SasError::Expired(expiry));
    }
    Ok(())
}

/// Percent-decodes a token component; `+` means a space, as in .NET's `UrlEncode`.
fn decode_component(text: &str) -> Option<String> {
    let text = text.replace('+', " ");
    percent_decode_str(&text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// Whether a token's decoded resource names the topic at `endpoint`: the same scheme, host
/// (loopback names are one host) and path, with or without `/api/events` and whatever the query
/// (`?apiVersion=` in Python and JavaScript, `?api-version=` in .NET).
pub(crate) fn resource_matches(resource: &str, endpoint: &str) -> bool {
    let base = |url: &str| -> Option<(String, String)> {
        let url = url.split(['?', '#']).next().unwrap_or("");
        let (scheme, rest) = url.split_once("://")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let path = path.trim_end_matches('/');
        let path = path
            .strip_suffix("api/events")
            .unwrap_or(path)
            .trim_end_matches('/');
        Some((
            format!(
                "{}://{}",
                scheme.to_ascii_lowercase(),
                canonical_authority(authority)
            ),
            path.to_owned(),
        ))
    };
    matches!((base(resource), base(endpoint)), (Some(a), Some(b)) if a == b)
}

fn canonical_authority(authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host.to_owned(), format!(":{port}")),
        _ => (authority.clone(), String::new()),
    };
    match host.as_str() {
        "localhost" | "127.0.0.1" | "[::1]" => format!("loopback{port}"),
        _ => format!("{host}{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const TOPIC: &str = "https://mytopic.westus2-1.eventgrid.azure.net/api/events";
    const PYTHON: &str = "r=https%3A%2F%2Fmytopic.westus2-1.eventgrid.azure.net%2Fapi%2Fevents%3FapiVersion%3D2018-01-01&e=2030-01-01%2000%3A00%3A00%2B00%3A00&s=IZQVNHxNHwuGVeDBRC0YycbjXPh%2FdqBRxsOEftEMPvc%3D";
    const JAVASCRIPT: &str = "r=https%3A%2F%2Fmytopic.westus2-1.eventgrid.azure.net%2Fapi%2Fevents%3FapiVersion%3D2018-01-01&e=1%2F1%2F2030%2012%3A00%3A00%20AM&s=gt9H3wm490yfcYEGvcYpBVFKA7Q1PSZJ%2F2VXEU3EFcE%3D";
    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

    #[test]
    fn official_sdk_tokens_verify() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/sas-vectors.json")).unwrap();
        let vectors = vectors["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 2);
        for vector in vectors {
            let token = vector["token"].as_str().unwrap();
            let key = vector["key"].as_str().unwrap();
            let endpoint = vector["endpoint"].as_str().unwrap();
            assert_eq!(
                verify_sas(token, key, endpoint, NOW),
                Ok(()),
                "{}",
                vector["sdk"]
            );
        }
        assert_eq!(verify_sas(PYTHON, "a2V5", TOPIC, NOW), Ok(()));
        assert_eq!(verify_sas(JAVASCRIPT, "a2V5", TOPIC, NOW), Ok(()));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            verify_sas(PYTHON, "b3RoZXI=", TOPIC, NOW),
            Err(SasError::BadSignature)
        );
        assert_eq!(
            verify_sas(PYTHON, "a2V5", TOPIC, datetime!(2030-01-01 00:00:00 UTC)),
            Err(SasError::Expired(datetime!(2030-01-01 00:00:00 UTC)))
        );
        assert!(matches!(
            verify_sas(
                PYTHON,
                "a2V5",
                "https://other.westus2-1.eventgrid.azure.net/api/events",
                NOW
            ),
            Err(SasError::WrongResource(_))
        ));
        for malformed in ["", "r=a&e=b", "x=1&s=abc", "r=a&s=abc"] {
            assert_eq!(
                verify_sas(malformed, "a2V5", TOPIC, NOW),
                Err(SasError::Malformed),
                "{malformed}"
            );
        }
        let tampered = PYTHON.replace("2030", "2031");
        assert_eq!(
            verify_sas(&tampered, "a2V5", TOPIC, NOW),
            Err(SasError::BadSignature)
        );
    }

    #[test]
    fn resources_match_in_every_spelling() {
        let endpoint = "http://127.0.0.1:8080/orders/api/events";
        for resource in [
            "http://127.0.0.1:8080/orders/api/events?apiVersion=2018-01-01",
            "http://127.0.0.1:8080/orders/api/events?api-version=2018-01-01",
            "http://localhost:8080/orders/api/events?api-version=2018-01-01?apiVersion=2018-01-01",
            "HTTP://LOCALHOST:8080/orders",
            "http://127.0.0.1:8080/orders/",
        ] {
            assert!(resource_matches(resource, endpoint), "{resource}");
        }
        for resource in [
            "https://127.0.0.1:8080/orders/api/events",
            "http://127.0.0.1:8081/orders/api/events",
            "http://127.0.0.1:8080/audit/api/events",
            "http://127.0.0.1:8080/Orders/api/events",
        ] {
            assert!(!resource_matches(resource, endpoint), "{resource}");
        }
    }
}
