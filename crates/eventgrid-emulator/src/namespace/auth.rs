//! Authentication of namespace requests: `Authorization: SharedAccessKey KEY` or a bearer token
//! from the emulator's Entra endpoint. SAS tokens are refused, as the service refuses them.

use http::request::Parts;
use time::OffsetDateTime;

use crate::auth::same_secret;
use crate::namespace::error::NamespaceError;
use crate::namespace::topic::NamespaceTopic;
use crate::store::shared::Shared;

const MISSING: &str = "The request must carry 'Authorization: SharedAccessKey <key>' or \
                       'Authorization: Bearer <token>'.";
const SAS_REFUSED: &str = "SAS tokens are not accepted by namespace topics; use \
                           'Authorization: SharedAccessKey <key>' or a bearer token.";

/// Checks the request's credential against the topic; open topics accept any request.
pub(crate) fn authorize(
    shared: &Shared,
    topic: &NamespaceTopic,
    parts: &Parts,
) -> Result<(), NamespaceError> {
    let Some(key) = topic.spec.key() else {
        return Ok(());
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    if header("aeg-sas-token").is_some() {
        return Err(NamespaceError::unauthorized(SAS_REFUSED));
    }
    let Some(authorization) = header("authorization").map(str::trim) else {
        return Err(NamespaceError::unauthorized(
            if header("aeg-sas-key").is_some() {
                "The aeg-sas-key header is for basic topics; namespace topics take the key as \
             'Authorization: SharedAccessKey <key>'."
            } else {
                MISSING
            },
        ));
    };
    let (scheme, value) = authorization.split_once(' ').unwrap_or((authorization, ""));
    if scheme.eq_ignore_ascii_case("SharedAccessKey") {
        if same_secret(value.trim().as_bytes(), key.as_bytes()) {
            Ok(())
        } else {
            Err(NamespaceError::unauthorized(format!(
                "The request authorization key is not authorized for namespace topic '{}'.",
                topic.spec.name()
            )))
        }
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        shared
            .tokens
            .verify(value.trim(), OffsetDateTime::now_utc())
            .map_err(|error| {
                let mut refusal = NamespaceError::unauthorized(error.message());
                refusal.www_authenticate = true;
                refusal
            })
    } else if scheme.eq_ignore_ascii_case("SharedAccessSignature") {
        Err(NamespaceError::unauthorized(SAS_REFUSED))
    } else {
        Err(NamespaceError::unauthorized(format!(
            "The Authorization scheme '{scheme}' is not supported; {MISSING}"
        )))
    }
}
