//! The two ways Event Grid asks an endpoint whether it wants events, and the answers that
//! say yes.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::consumer::headers::DeliveryHeaders;

/// `WebHook-Request-Origin`: who asks to deliver (`eventgrid.azure.net`).
pub const WEBHOOK_REQUEST_ORIGIN: &str = "webhook-request-origin";
/// `WebHook-Request-Callback`: a URL to GET instead of answering at once.
pub const WEBHOOK_REQUEST_CALLBACK: &str = "webhook-request-callback";
/// `WebHook-Request-Rate`: the requests per minute the sender would like to send.
pub const WEBHOOK_REQUEST_RATE: &str = "webhook-request-rate";
/// `WebHook-Allowed-Origin`: the answer granting an origin.
pub const WEBHOOK_ALLOWED_ORIGIN: &str = "webhook-allowed-origin";
/// `WebHook-Allowed-Rate`: the answer granting a rate.
pub const WEBHOOK_ALLOWED_RATE: &str = "webhook-allowed-rate";

/// A request asking the endpoint to confirm that it wants events; answer it with
/// [`Handshake::response`] to say yes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handshake {
    /// Event Grid schema: a `Microsoft.EventGrid.SubscriptionValidationEvent`, sent when the
    /// subscription is created.
    SubscriptionValidation(SubscriptionValidation),
    /// CloudEvents schema: the `OPTIONS` abuse-protection request.
    AbuseProtection(AbuseProtection),
}

impl Handshake {
    /// The answer that completes the handshake.
    pub fn response(&self) -> Response<Bytes> {
        match self {
            Self::SubscriptionValidation(validation) => validation.response(),
            Self::AbuseProtection(request) => request.response(),
        }
    }
}

/// The Event Grid schema validation handshake.
///
/// The endpoint proves it wants events by echoing the code, in the answer to this request
/// (200, `{"validationResponse": code}`) or by a GET to [`SubscriptionValidation::url`]
/// within ten minutes.
///
/// ```
/// use eventgrid_core::consumer::{Handshake, Incoming, ReceiveOptions, receive};
/// let body = br#"[{"id":"2d1781af","topic":"/subscriptions/x","subject":"",
///   "data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
///           "validationUrl":"https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/sub/validate?id=1"},
///   "eventType":"Microsoft.EventGrid.SubscriptionValidationEvent",
///   "eventTime":"2018-01-25T22:12:19.4556811Z","metadataVersion":"1","dataVersion":"1"}]"#;
/// let request = http::Request::post("/")
///     .header("aeg-event-type", "SubscriptionValidation")
///     .header("content-type", "application/json")
///     .body(&body[..])?;
/// let Incoming::Handshake(handshake) = receive(&request, &ReceiveOptions::default())? else {
///     panic!("a handshake")
/// };
/// let answer = handshake.response();
/// assert_eq!(answer.status(), 200);
/// assert_eq!(answer.body().as_ref(),
///     br#"{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionValidation {
    pub(crate) code: String,
    pub(crate) url: Option<String>,
    pub(crate) event_id: String,
    pub(crate) topic: Option<String>,
    pub(crate) headers: DeliveryHeaders,
}

impl SubscriptionValidation {
    /// `data.validationCode`: the code to echo.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// `data.validationUrl`: the URL a GET to which also completes the handshake.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The validation event's id.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The topic the subscription is on (a resource path), when given.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// The `aeg-*` headers of the request.
    pub fn headers(&self) -> &DeliveryHeaders {
        &self.headers
    }

    /// The answer's body: `{"validationResponse":"<code>"}`.
    pub fn response_body(&self) -> String {
        serde_json::json!({ "validationResponse": self.code }).to_string()
    }

    /// 200 with [`SubscriptionValidation::response_body`] (the service does not accept 202).
    pub fn response(&self) -> Response<Bytes> {
        let mut response = Response::new(Bytes::from(self.response_body()));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The CloudEvents abuse-protection handshake: `OPTIONS` with `WebHook-Request-Origin`.
///
/// ```
/// use eventgrid_core::consumer::{Incoming, ReceiveOptions, receive};
/// let request = http::Request::options("/")
///     .header("WebHook-Request-Origin", "eventgrid.azure.net")
///     .header("WebHook-Request-Rate", "120")
///     .body(&b""[..])?;
/// let Incoming::Handshake(handshake) = receive(&request, &ReceiveOptions::default())? else {
///     panic!("a handshake")
/// };
/// let answer = handshake.response();
/// assert_eq!(answer.status(), 200);
/// assert_eq!(answer.headers()["WebHook-Allowed-Origin"], "eventgrid.azure.net");
/// assert_eq!(answer.headers()["WebHook-Allowed-Rate"], "120");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AbuseProtection {
    pub(crate) origin: HeaderValue,
    pub(crate) callback: Option<String>,
    pub(crate) requested_rate: Option<HeaderValue>,
}

impl AbuseProtection {
    /// `WebHook-Request-Origin`: who asks (`eventgrid.azure.net` for the service).
    pub fn origin(&self) -> &str {
        self.origin.to_str().unwrap_or_default()
    }

    /// `WebHook-Request-Callback`: a URL a GET to which also grants, when given.
    pub fn callback(&self) -> Option<&str> {
        self.callback.as_deref()
    }

    /// `WebHook-Request-Rate`: the requests per minute asked for, when given.
    pub fn requested_rate(&self) -> Option<&str> {
        self.requested_rate
            .as_ref()
            .and_then(|rate| rate.to_str().ok())
    }

    /// 200 granting the origin (`WebHook-Allowed-Origin`), the rate asked for when one was
    /// (`WebHook-Allowed-Rate`), and `Allow: POST, OPTIONS`.
    pub fn response(&self) -> Response<Bytes> {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(WEBHOOK_ALLOWED_ORIGIN, self.origin.clone());
        if let Some(rate) = &self.requested_rate {
            headers.insert(WEBHOOK_ALLOWED_RATE, rate.clone());
        }
        headers.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_answer_escapes_the_code() {
        let validation = SubscriptionValidation {
            code: "a\"b".into(),
            url: None,
            event_id: "1".into(),
            topic: None,
            headers: DeliveryHeaders::default(),
        };
        let answer = Handshake::SubscriptionValidation(validation).response();
        let body: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
        assert_eq!(body["validationResponse"], "a\"b");
        assert_eq!(answer.headers()["content-type"], "application/json");
    }

    #[test]
    fn abuse_protection_without_a_rate_grants_the_origin_only() {
        let request = AbuseProtection {
            origin: HeaderValue::from_static("eventgrid.azure.net"),
            callback: Some("https://example.invalid/cb".into()),
            requested_rate: None,
        };
        let answer = request.response();
        assert_eq!(
            answer.headers()[WEBHOOK_ALLOWED_ORIGIN],
            "eventgrid.azure.net"
        );
        assert!(answer.headers().get(WEBHOOK_ALLOWED_RATE).is_none());
        assert_eq!(answer.headers()["allow"], "POST, OPTIONS");
        assert_eq!(request.callback(), Some("https://example.invalid/cb"));
    }
}
