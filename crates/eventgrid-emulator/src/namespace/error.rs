//! Error answers of namespace operations: `{"error":{"code","message"}}` with the code repeated
//! in an `x-ms-error-code` header, as the service answers them.

use http::header::{HeaderValue, RETRY_AFTER};
use http::{HeaderName, Response, StatusCode};

use crate::faults::RetryAfter;
use crate::serving::response::{Body, ServiceError, json_response};

const ERROR_CODE: HeaderName = HeaderName::from_static("x-ms-error-code");
const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");

/// An error answer of a namespace operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NamespaceError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<RetryAfter>,
    pub www_authenticate: bool,
}

impl NamespaceError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            www_authenticate: false,
        }
    }

    /// 400 `BadRequest`: the body or a header is not what the operation takes.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 `ArgumentInvalid`: a query parameter is out of range (as for `maxWaitTime`).
    pub fn argument_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ArgumentInvalid", message)
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    /// 403 `QuotaExceeded`: a subscription holds as many events as the emulator keeps.
    pub fn quota_exceeded(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "QuotaExceeded", message)
    }

    /// 404 `NotFound` with the service's wording.
    pub fn not_found(uri: &str, hint: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No HTTP resource was found that matches the request URI '{uri}'.{hint}"),
        )
    }

    /// The answer of a basic-topic check (size, time-out, method, validation), in this shape.
    pub fn from_service(error: ServiceError) -> Self {
        Self {
            status: error.status,
            code: error.code,
            message: error.message,
            retry_after: error.retry_after,
            www_authenticate: error.www_authenticate,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut response = json_response(self.status, body.to_string());
        let headers = response.headers_mut();
        headers.insert(ERROR_CODE, HeaderValue::from_static(self.code));
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

impl From<ServiceError> for NamespaceError {
    fn from(error: ServiceError) -> Self {
        Self::from_service(error)
    }
}
