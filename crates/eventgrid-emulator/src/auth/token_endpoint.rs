//! A fake Microsoft Entra token endpoint for the client-credentials flow:
//! `POST /{tenant}/oauth2/v2.0/token`, answered the way `login.microsoftonline.com` answers, so
//! `azure_identity`'s `ClientSecretCredential` (and the Python and JavaScript credentials) can be
//! pointed at the emulator with a custom authority host.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::jwt::TOKEN_LIFETIME_SECONDS;
use crate::auth::same_secret;
use crate::serving::response::{Body, ServiceError, json_response};
use crate::store::shared::Shared;

/// Answers a token request for `tenant` with the form `body`.
pub(crate) fn token(
    shared: &Shared,
    tenant: &str,
    method: &Method,
    body: &Bytes,
    base_url: &str,
) -> Response<Body> {
    if method != Method::POST {
        return ServiceError::method_not_allowed(method).into_response();
    }
    let form = parse_form(body);
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    };
    for required in ["grant_type", "client_id", "scope"] {
        if field(required).is_none() {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{required}'."),
            );
        }
    }
    if field("grant_type") != Some("client_credentials") {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type; the emulator supports client_credentials.",
        );
    }
    let client_id = field("client_id").unwrap_or_default();
    let Some(secret) = field("client_secret") else {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        );
    };
    if !shared.entra_clients.is_empty() {
        let Some(client) = shared
            .entra_clients
            .iter()
            .find(|client| client.client_id == client_id)
        else {
            return entra_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
                ),
            );
        };
        if !same_secret(secret.as_bytes(), client.client_secret.as_bytes()) {
            return entra_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
    }
    let scopes = field("scope").unwrap_or_default();
    let Some(audience) = scopes
        .split_whitespace()
        .find_map(|scope| scope.strip_suffix("/.default"))
    else {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scopes} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    };
    let issuer = format!("{base_url}/{tenant}/v2.0");
    let access_token = shared.tokens.issue(
        audience,
        &issuer,
        tenant,
        client_id,
        OffsetDateTime::now_utc(),
    );
    let body = json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "ext_expires_in": TOKEN_LIFETIME_SECONDS,
        "access_token": access_token,
    });
    json_response(StatusCode::OK, body.to_string())
}

fn entra_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response<Body> {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let timestamp = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description} Trace ID: {trace_id} Timestamp: {timestamp}"),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": uuid::Uuid::new_v4().to_string(),
    });
    json_response(status, body.to_string())
}

/// `application/x-www-form-urlencoded` pairs, decoded.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |text: &str| {
        percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode() {
        assert_eq!(
            parse_form(b"scope=https%3A%2F%2Feventgrid.azure.net%2F.default&a=b+c&empty="),
            vec![
                (
                    "scope".to_owned(),
                    "https://eventgrid.azure.net/.default".to_owned()
                ),
                ("a".to_owned(), "b c".to_owned()),
                ("empty".to_owned(), String::new()),
            ]
        );
    }
}
