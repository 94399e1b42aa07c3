//! The parsers that read what a network peer sends, reachable from outside the crate for the
//! fuzz targets (`crates/eventgrid-fuzz`). Hidden from the documentation: not part of the
//! emulator's API, and free to change with the parsers.

use time::OffsetDateTime;

use crate::auth::jwt::TokenAuthority;

/// Whether `token` is a valid SAS token for the topic at `endpoint` with the base64 access
/// `key` at `now` (`verify_sas`), and why not when it is not.
pub fn verify_sas(
    token: &str,
    key: &str,
    endpoint: &str,
    now: OffsetDateTime,
) -> Result<(), String> {
    crate::auth::sas::verify_sas(token, key, endpoint, now).map_err(|error| format!("{error:?}"))
}

/// A SAS expiry (`e=`, already percent-decoded) in any form the SDKs write.
pub fn parse_sas_expiry(text: &str) -> Option<OffsetDateTime> {
    crate::auth::sas_expiry::parse_expiry(text)
}

/// Verifies a bearer token with an authority whose HS256 secret is `secret` (so a fuzzer can
/// sign its own tokens and reach the claims), and why not when it is refused.
pub fn verify_jwt(secret: &[u8], token: &str, now: OffsetDateTime) -> Result<(), String> {
    TokenAuthority::with_secret(secret)
        .verify(token, now)
        .map_err(|error| error.message())
}

/// The publish-body scanner's verdict: the element count, or `None` when the body is refused.
pub fn scan_publish_body(body: &str) -> Option<usize> {
    crate::validation::json_scan::scan_array(body, |_, _, _| {})
}
