//! Responses in the service's shape: error bodies `{"error":{"code","message","details"}}`,
//! empty 200s, and the headers every answer carries.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{HeaderName, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use crate::faults::RetryAfter;

/// The body type of every response.
pub(crate) type Body = Full<Bytes>;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const SUPPORTED_VERSIONS: HeaderName = HeaderName::from_static("api-supported-versions");
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");
const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// An error answer as the Event Grid service gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServiceError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub detail_code: Option<&'static str>,
    pub retry_after: Option<RetryAfter>,
    pub www_authenticate: bool,
}

impl ServiceError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail_code: None,
            retry_after: None,
            www_authenticate: false,
        }
    }

    /// 400 for a body that is not valid input.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::BAD_REQUEST, "BadRequest", message);
        error.detail_code = Some("InputJsonInvalid");
        error
    }

    /// 400 for anything else wrong with the request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    /// 401 for a bearer token, with `WWW-Authenticate: Bearer`.
    pub fn unauthorized_bearer(message: impl Into<String>) -> Self {
        let mut error = Self::unauthorized(message);
        error.www_authenticate = true;
        error
    }

    /// 404 with the service's wording.
    pub fn not_found(uri: &str, hint: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No HTTP resource was found that matches the request URI '{uri}'.{hint}"),
        )
    }

    /// 405.
    pub fn method_not_allowed(method: &http::Method) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
        )
    }

    /// 408 for a body that is too slow to arrive.
    pub fn request_timeout(message: impl Into<String>) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, "RequestTimeout", message)
    }

    /// 413 for a limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            message,
        )
    }

    /// An answer chosen by a fault rule.
    pub fn injected(status: u16, retry_after: Option<RetryAfter>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut error = Self::new(
            status,
            status_code_name(status),
            format!(
                "Injected by the emulator's fault rules: {} {}.",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ),
        );
        error.retry_after = retry_after;
        error
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Body> {
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            details: Vec<Detail<'a>>,
        }
        #[derive(Serialize)]
        struct Outer<'a> {
            error: Inner<'a>,
        }
        let details = self
            .detail_code
            .map(|code| Detail {
                code,
                message: &self.message,
            })
            .into_iter()
            .collect();
        let body = Outer {
            error: Inner {
                code: self.code,
                message: &self.message,
                details,
            },
        };
        let body = serde_json::to_vec(&body).expect("error bodies serialize");
        let mut response = json_response(self.status, body);
        let headers = response.headers_mut();
        match self.retry_after {
            Some(RetryAfter::Seconds(seconds)) => {
                headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
            }
            Some(RetryAfter::Milliseconds(millis)) => {
                headers.insert(RETRY_AFTER_MS, HeaderValue::from(millis));
            }
            None => {}
        }
        if self.www_authenticate {
            headers.insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

fn status_code_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => "Conflict",
        413 => "RequestEntityTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "InjectedFault",
    }
}

/// A fresh request id, as the service sends in `x-ms-request-id`.
fn request_id() -> HeaderValue {
    let mut buffer = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(text).expect("a uuid is a valid header value")
}

/// A response with a JSON body and a request id.
pub(crate) fn json_response(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, JSON);
    headers.insert(REQUEST_ID, request_id());
    response
}

/// A response without a body and with a request id (the service's 200 for a publish).
pub(crate) fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response.headers_mut().insert(REQUEST_ID, request_id());
    response
}

/// Adds `api-supported-versions`, as the service does on its topic endpoints.
pub(crate) fn with_supported_versions(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        SUPPORTED_VERSIONS,
        HeaderValue::from_static(crate::serving::publish::API_VERSION),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_text(response: Response<Body>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn error_bodies_have_the_service_shape() {
        let response = ServiceError::invalid_input("Bad \"thing\".").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().contains_key("x-ms-request-id"));
        let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "BadRequest", "message": "Bad \"thing\".",
                "details": [{"code": "InputJsonInvalid", "message": "Bad \"thing\"."}]}})
        );
    }

    #[tokio::test]
    async fn injected_answers_carry_their_retry_hint() {
        let response =
            ServiceError::injected(429, Some(RetryAfter::Milliseconds(50))).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after-ms"], "50");
        let response = ServiceError::injected(503, Some(RetryAfter::Seconds(2))).into_response();
        assert_eq!(response.headers()["retry-after"], "2");
        assert!(body_text(response).await.contains("\"ServiceUnavailable\""));
    }
}
