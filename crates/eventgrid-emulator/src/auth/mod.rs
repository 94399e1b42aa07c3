//! Authentication of publish requests as the service does it: access key, SAS token or bearer
//! token, each failure answered with the service's status and message.

pub(crate) mod admin;
pub(crate) mod jwt;
pub(crate) mod sas;
pub(crate) mod sas_expiry;
pub(crate) mod token_endpoint;

use http::HeaderMap;
use http::request::Parts;
use percent_encoding::percent_decode_str;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::sas::{SasError, verify_sas};
use crate::serving::response::ServiceError;
use crate::store::TopicState;
use crate::store::shared::Shared;

const MISSING: &str = "Request must contain one of the following authorization signature: aeg-sas-token, aeg-sas-key.";
const MALFORMED_SAS: &str = "Invalid key in aeg-sas-token. Valid format :r=UrlEncodedResource&e=UrlEncodedUtcExpiration&s=UrlEncodedSignature.";

/// The kinds of credential a request can carry.
enum Credential<'a> {
    Key(String),
    Sas(&'a str),
    Bearer(&'a str),
    OtherScheme(&'a str),
}

/// Checks the request's credential against the topic; open topics accept any request.
pub(crate) fn authorize(
    shared: &Shared,
    topic: &TopicState,
    parts: &Parts,
) -> Result<(), ServiceError> {
    let Some(key) = topic.spec.key() else {
        return Ok(());
    };
    let host = host_of(&parts.headers, shared);
    let Some(credential) = credential(parts) else {
        return Err(ServiceError::unauthorized(MISSING));
    };
    let now = OffsetDateTime::now_utc();
    match credential {
        Credential::Key(given) => {
            if same_secret(given.as_bytes(), key.as_bytes()) {
                Ok(())
            } else {
                Err(ServiceError::unauthorized(format!(
                    "The request authorization key is not authorized for {host}/{}.",
                    topic.spec.name()
                )))
            }
        }
        Credential::Sas(token) => {
            let endpoint = format!(
                "{}://{host}/{}/api/events",
                shared.scheme,
                topic.spec.name()
            );
            verify_sas(token, key, &endpoint, now).map_err(|error| sas_refusal(error, &endpoint))
        }
        Credential::Bearer(token) => shared
            .tokens
            .verify(token, now)
            .map_err(|error| ServiceError::unauthorized_bearer(error.message())),
        Credential::OtherScheme(scheme) => Err(ServiceError::unauthorized(format!(
            "The Authorization scheme '{scheme}' is not supported; use Bearer or \
             SharedAccessSignature, or the aeg-sas-key or aeg-sas-token header."
        ))),
    }
}

fn credential(parts: &Parts) -> Option<Credential<'_>> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    if let Some(key) = header("aeg-sas-key") {
        return Some(Credential::Key(key.trim().to_owned()));
    }
    if let Some(key) = query_key(parts.uri.query().unwrap_or("")) {
        return Some(Credential::Key(key));
    }
    if let Some(token) = header("aeg-sas-token") {
        return Some(Credential::Sas(token));
    }
    let authorization = header("authorization")?.trim();
    let (scheme, value) = authorization.split_once(' ').unwrap_or((authorization, ""));
    Some(if scheme.eq_ignore_ascii_case("SharedAccessSignature") {
        Credential::Sas(value)
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        Credential::Bearer(value)
    } else {
        Credential::OtherScheme(scheme)
    })
}

/// The `aeg-sas-key` query parameter, decoded.
fn query_key(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let value = pair.strip_prefix("aeg-sas-key=")?;
        let value = value.replace('+', " ");
        Some(
            percent_decode_str(&value)
                .decode_utf8_lossy()
                .trim()
                .to_owned(),
        )
    })
}

fn sas_refusal(error: SasError, endpoint: &str) -> ServiceError {
    match error {
        SasError::Malformed => ServiceError::bad_request(MALFORMED_SAS),
        SasError::WrongResource(resource) => ServiceError::unauthorized(format!(
            "The SAS token is for the resource '{resource}', not for this topic ('{endpoint}')."
        )),
        SasError::Expired(at) => ServiceError::unauthorized(format!(
            "The SAS token has expired (it expired at {}).",
            at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
        )),
        SasError::BadSignature => ServiceError::unauthorized(
            "The SAS token's signature is not valid for this topic's key.",
        ),
    }
}

/// The host the client addressed (the `Host` header), for messages and SAS resources.
pub(crate) fn host_of(headers: &HeaderMap, shared: &Shared) -> String {
    headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| shared.fallback_host.clone())
}

/// Compares secrets in time independent of where they differ: HMAC both under one key and let
/// `ring` compare the tags in constant time.
pub(crate) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        b"eventgrid-emulator secret comparison",
    );
    ring::hmac::verify(&key, given, ring::hmac::sign(&key, expected).as_ref()).is_ok()
}
