//! Shared access signatures: tokens a topic accepts in place of its access key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;

use crate::endpoint::{API_VERSION, Endpoint};
use crate::error::{CredentialError, Error, Result};
use crate::secret::Secret;

/// What Python's `urllib.parse.quote(text, safe="~()*!.'")` leaves alone, so that tokens are
/// byte-for-byte those of the official Python SDK.
const SAS_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'!')
    .remove(b'\'');

/// Generates a SAS token for `endpoint`, signed with the topic's access `key` (base64, as the
/// portal shows it), valid until `expires_at`. An expiry with no UTC equivalent (after year
/// 9999 once its offset is removed) is refused with [`Error::InvalidOption`].
///
/// The token is the one the official Python SDK's `generate_sas` makes:
/// `r=<resource>&e=<expiry>&s=<signature>`, the signature an HMAC-SHA256 keyed with the
/// decoded key over `r=...&e=...`. Send it with
/// [`KeyCredential::sas_token`](crate::KeyCredential::sas_token).
///
/// ```
/// use eventgrid_core::{generate_sas, Endpoint};
/// let endpoint = Endpoint::parse("https://mytopic.westus2-1.eventgrid.azure.net/api/events").unwrap();
/// let expires = time::macros::datetime!(2030-01-01 00:00:00 UTC);
/// let token = generate_sas(&endpoint, "a2V5", expires)?;
/// assert!(token.expose().ends_with("&s=IZQVNHxNHwuGVeDBRC0YycbjXPh%2FdqBRxsOEftEMPvc%3D"));
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
pub fn generate_sas(endpoint: &Endpoint, key: &str, expires_at: OffsetDateTime) -> Result<Secret> {
    let key = STANDARD.decode(key.trim()).map_err(|_| {
        Error::Credential(CredentialError::new("the access key is not valid base64"))
    })?;
    let resource = format!("{}?apiVersion={API_VERSION}", endpoint.resource());
    let expiry = python_datetime_str(expires_at)?;
    let signed = format!(
        "r={}&e={}",
        utf8_percent_encode(&resource, SAS_ENCODE),
        utf8_percent_encode(&expiry, SAS_ENCODE)
    );
    let hmac_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signature = STANDARD.encode(ring::hmac::sign(&hmac_key, signed.as_bytes()).as_ref());
    Ok(Secret::new(format!(
        "{signed}&s={}",
        utf8_percent_encode(&signature, SAS_ENCODE)
    )))
}

/// `str(datetime)` of an aware UTC datetime, whole seconds: `2030-01-01 00:00:00+00:00`.
fn python_datetime_str(at: OffsetDateTime) -> Result<String> {
    let at = at.checked_to_offset(time::UtcOffset::UTC).ok_or_else(|| {
        Error::InvalidOption(format!(
            "SAS expiry {at} has no UTC equivalent (years are limited to -9999..=9999)"
        ))
    })?;
    Ok(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}+00:00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_python_sdk_vector() {
        let vectors: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/reference/sas-vectors.json"
        ))
        .unwrap();
        let python = &vectors["vectors"][0];
        assert!(python["sdk"].as_str().unwrap().contains("Python"));
        let endpoint = Endpoint::parse(python["endpoint"].as_str().unwrap()).unwrap();
        let expires = OffsetDateTime::parse(
            python["expires"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let token = generate_sas(&endpoint, python["key"].as_str().unwrap(), expires).unwrap();
        assert_eq!(token.expose(), python["token"].as_str().unwrap());
    }

    #[test]
    fn endpoint_without_path_signs_the_same_resource() {
        let a = Endpoint::parse("https://mytopic.westus2-1.eventgrid.azure.net").unwrap();
        let b =
            Endpoint::parse("https://mytopic.westus2-1.eventgrid.azure.net/api/events").unwrap();
        let at = time::macros::datetime!(2030-01-01 00:00:00 UTC);
        assert_eq!(
            generate_sas(&a, "a2V5", at).unwrap(),
            generate_sas(&b, "a2V5", at).unwrap()
        );
    }

    #[test]
    fn expiry_without_a_utc_equivalent_is_refused_not_a_panic() {
        let endpoint = Endpoint::parse("https://h").unwrap();
        let at = time::macros::datetime!(9999-12-31 23:30:00 -01:00);
        let err = generate_sas(&endpoint, "a2V5", at).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidOption(m) if m.contains("no UTC equivalent")),
            "{err}"
        );
    }

    #[test]
    fn key_that_is_not_base64_is_refused_without_echoing_it() {
        let endpoint = Endpoint::parse("https://h").unwrap();
        let err = generate_sas(&endpoint, "not base64!!", OffsetDateTime::UNIX_EPOCH).unwrap_err();
        assert!(!err.to_string().contains("not base64!!"));
    }
}
