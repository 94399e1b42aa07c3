//! The two endpoint validation handshakes, judged from the endpoint's answer: the Event Grid
//! schema's `SubscriptionValidationEvent` (answered with `validationResponse`, or later by a GET
//! of `validationUrl`) and the CloudEvents abuse-protection `OPTIONS` (answered with
//! `WebHook-Allowed-Origin`, or later by a GET of the `WebHook-Request-Callback`).

use http::HeaderMap;
use serde_json::Value;

/// The origin Event Grid announces in `WebHook-Request-Origin`.
pub(crate) const REQUEST_ORIGIN: &str = "eventgrid.azure.net";

/// What an endpoint's answer to a handshake means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HandshakeAnswer {
    /// Validated now.
    Granted,
    /// Accepted the request without granting: the endpoint may still GET the validation URL.
    Pending,
    /// Refused, for the reason given.
    Refused(String),
}

/// Judges the answer to the `SubscriptionValidationEvent`: only a 200 counts (202 does not);
/// with `{"validationResponse": code}` the subscription is validated, otherwise it waits for a
/// GET of its validation URL.
pub(crate) fn judge_validation_answer(status: u16, body: &[u8], code: &str) -> HandshakeAnswer {
    if status != 200 {
        return HandshakeAnswer::Refused(format!(
            "the endpoint answered the validation event with {status}; only 200 validates"
        ));
    }
    let response = serde_json::from_slice::<Value>(body).ok();
    let answered = response
        .as_ref()
        .and_then(|value| value.get("validationResponse"))
        .and_then(Value::as_str);
    match answered {
        Some(answer) if answer.eq_ignore_ascii_case(code) => HandshakeAnswer::Granted,
        Some(_) => HandshakeAnswer::Refused(
            "the endpoint answered a validationResponse that is not the validationCode".to_owned(),
        ),
        None => HandshakeAnswer::Pending,
    }
}

/// Judges the answer to the abuse-protection `OPTIONS`: 200 with `WebHook-Allowed-Origin`
/// naming Event Grid (or `*`) grants; 200 without it waits for the callback; anything else
/// refuses.
pub(crate) fn judge_options_answer(status: u16, headers: &HeaderMap) -> HandshakeAnswer {
    if status != 200 {
        return HandshakeAnswer::Refused(format!(
            "the endpoint answered the OPTIONS abuse-protection request with {status}; only 200 grants"
        ));
    }
    let allowed = headers
        .get_all("webhook-allowed-origin")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    if allowed.is_empty() {
        return HandshakeAnswer::Pending;
    }
    if allowed
        .iter()
        .any(|origin| *origin == "*" || origin.eq_ignore_ascii_case(REQUEST_ORIGIN))
    {
        HandshakeAnswer::Granted
    } else {
        HandshakeAnswer::Refused(format!(
            "the endpoint allowed the origin `{}`, not {REQUEST_ORIGIN}",
            allowed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_validation_event_needs_200_and_the_code() {
        let code = "A1B2";
        assert_eq!(
            judge_validation_answer(200, br#"{"validationResponse":"A1B2"}"#, code),
            HandshakeAnswer::Granted
        );
        assert_eq!(
            judge_validation_answer(200, b"", code),
            HandshakeAnswer::Pending
        );
        assert_eq!(
            judge_validation_answer(200, b"{}", code),
            HandshakeAnswer::Pending
        );
        let HandshakeAnswer::Refused(reason) =
            judge_validation_answer(202, br#"{"validationResponse":"A1B2"}"#, code)
        else {
            panic!("202 must refuse");
        };
        assert!(reason.contains("202"), "{reason}");
        assert!(matches!(
            judge_validation_answer(200, br#"{"validationResponse":"other"}"#, code),
            HandshakeAnswer::Refused(_)
        ));
    }

    #[test]
    fn the_options_handshake_needs_the_allowed_origin() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            judge_options_answer(200, &headers),
            HandshakeAnswer::Pending
        );
        headers.insert(
            "webhook-allowed-origin",
            HeaderValue::from_static("eventgrid.azure.net"),
        );
        assert_eq!(
            judge_options_answer(200, &headers),
            HandshakeAnswer::Granted
        );
        assert!(matches!(
            judge_options_answer(405, &headers),
            HandshakeAnswer::Refused(_)
        ));
        headers.insert("webhook-allowed-origin", HeaderValue::from_static("*"));
        assert_eq!(
            judge_options_answer(200, &headers),
            HandshakeAnswer::Granted
        );
        headers.insert(
            "webhook-allowed-origin",
            HeaderValue::from_static("example.com"),
        );
        let HandshakeAnswer::Refused(reason) = judge_options_answer(200, &headers) else {
            panic!("a foreign origin must refuse");
        };
        assert!(reason.contains("example.com"), "{reason}");
    }
}
