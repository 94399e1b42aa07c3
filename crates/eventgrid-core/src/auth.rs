//! Credentials and the headers they become, as pure logic: callers hand in the time.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use http::HeaderValue;
use time::OffsetDateTime;

use crate::endpoint::Endpoint;
use crate::error::{CredentialError, Error, Result};
use crate::sas::generate_sas;
use crate::secret::Secret;

/// The OAuth scope of Event Grid tokens from Microsoft Entra ID.
pub const EVENTGRID_SCOPE: &str = "https://eventgrid.azure.net/.default";

/// How long before a token's expiry it is refreshed.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A credential made of a key or a token string (no identity service involved).
///
/// The clients accept these as well as Microsoft Entra ID token credentials; a topic may carry
/// one of its own that overrides the client's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyCredential {
    /// The topic's access key, sent as `aeg-sas-key`.
    AccessKey(Secret),
    /// A SAS token (`r=...&e=...&s=...`), sent as `aeg-sas-token`.
    SasToken(Secret),
    /// SAS tokens generated from the access key, each valid for `validity` and renewed before
    /// they lapse; the key itself is never sent.
    SasFromKey {
        /// The access key that signs the tokens.
        key: Secret,
        /// How long each generated token is valid.
        validity: Duration,
    },
}

impl KeyCredential {
    /// An access key credential.
    pub fn access_key(key: impl Into<Secret>) -> Self {
        KeyCredential::AccessKey(key.into())
    }

    /// A SAS token credential.
    pub fn sas_token(token: impl Into<Secret>) -> Self {
        KeyCredential::SasToken(token.into())
    }

    /// SAS tokens generated from `key`, each valid for `validity`.
    pub fn sas_from_key(key: impl Into<Secret>, validity: Duration) -> Self {
        KeyCredential::SasFromKey {
            key: key.into(),
            validity,
        }
    }
}

/// The authentication header of one request. Its `Debug` shows the kind, never the value.
#[derive(Clone)]
pub enum AuthHeader {
    /// No authentication (an open emulator topic).
    None,
    /// `aeg-sas-key: <key>`.
    AccessKey(HeaderValue),
    /// `aeg-sas-token: <token>`.
    SasToken(HeaderValue),
    /// `Authorization: Bearer <token>`.
    Bearer(HeaderValue),
}

impl AuthHeader {
    /// The header for an access key.
    pub fn access_key(key: &Secret) -> Result<Self> {
        Ok(AuthHeader::AccessKey(sensitive(key.expose())?))
    }

    /// The header for a SAS token.
    pub fn sas_token(token: &Secret) -> Result<Self> {
        Ok(AuthHeader::SasToken(sensitive(token.expose())?))
    }

    /// The header for a bearer token.
    pub fn bearer(token: &Secret) -> Result<Self> {
        Ok(AuthHeader::Bearer(sensitive(&format!(
            "Bearer {}",
            token.expose()
        ))?))
    }

    /// The header's name and value, or `None` for [`AuthHeader::None`].
    pub fn header(&self) -> Option<(&'static str, &HeaderValue)> {
        match self {
            AuthHeader::None => None,
            AuthHeader::AccessKey(v) => Some(("aeg-sas-key", v)),
            AuthHeader::SasToken(v) => Some(("aeg-sas-token", v)),
            AuthHeader::Bearer(v) => Some(("authorization", v)),
        }
    }
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthHeader::None => "AuthHeader::None",
            AuthHeader::AccessKey(_) => "AuthHeader::AccessKey(***)",
            AuthHeader::SasToken(_) => "AuthHeader::SasToken(***)",
            AuthHeader::Bearer(_) => "AuthHeader::Bearer(***)",
        })
    }
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::Credential(CredentialError::new(
            "credential contains characters not allowed in a header",
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Turns a [`KeyCredential`] into headers for one endpoint, caching generated SAS tokens
/// until shortly before they lapse.
#[derive(Debug)]
pub struct KeyAuthorizer {
    credential: KeyCredential,
    endpoint: Endpoint,
    cached: Mutex<Option<(AuthHeader, OffsetDateTime)>>,
}

impl KeyAuthorizer {
    /// An authorizer of `credential` for requests to `endpoint`.
    pub fn new(credential: KeyCredential, endpoint: Endpoint) -> Self {
        Self {
            credential,
            endpoint,
            cached: Mutex::new(None),
        }
    }

    /// The header to send at time `now`.
    pub fn header(&self, now: OffsetDateTime) -> Result<AuthHeader> {
        match &self.credential {
            KeyCredential::AccessKey(key) => AuthHeader::access_key(key),
            KeyCredential::SasToken(token) => AuthHeader::sas_token(token),
            KeyCredential::SasFromKey { key, validity } => {
                let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((header, expires)) = cached.as_ref()
                    && later(now, renewal_margin(*validity)).is_some_and(|t| t < *expires)
                {
                    return Ok(header.clone());
                }
                let expires = later(now, *validity).ok_or_else(|| {
                    Error::Credential(CredentialError::new(format!(
                        "a SAS token valid for {validity:?} from {now} would expire after \
                         year 9999; use a shorter validity"
                    )))
                })?;
                let token = generate_sas(&self.endpoint, key.expose(), expires)?;
                let header = AuthHeader::sas_token(&token)?;
                *cached = Some((header.clone(), expires));
                Ok(header)
            }
        }
    }
}

/// `at + by`, or `None` past the last representable instant.
fn later(at: OffsetDateTime, by: Duration) -> Option<OffsetDateTime> {
    at.checked_add(time::Duration::try_from(by).ok()?)
}

/// Renew generated tokens 5 minutes before expiry, or half-way for short-lived ones.
fn renewal_margin(validity: Duration) -> Duration {
    TOKEN_REFRESH_MARGIN.min(validity / 2)
}

/// A bearer token and when it expires.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
}

impl AccessToken {
    /// Whether the token may still be used at `now`: it is refreshed
    /// [`TOKEN_REFRESH_MARGIN`] before it expires.
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        now + TOKEN_REFRESH_MARGIN < self.expires_at
    }

    /// When a token received at `now` should be replaced: [`TOKEN_REFRESH_MARGIN`] before it
    /// expires, or half-way through its remaining life if it was issued with less than that
    /// left (so a short-lived token is still reused rather than fetched for every request).
    pub fn refresh_at(&self, now: OffsetDateTime) -> OffsetDateTime {
        if self.is_fresh(now) {
            self.expires_at - TOKEN_REFRESH_MARGIN
        } else {
            now + (self.expires_at - now) / 2
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn generated_sas_is_reused_then_renewed() {
        let endpoint = Endpoint::parse("https://t.westus2-1.eventgrid.azure.net").unwrap();
        let auth = KeyAuthorizer::new(
            KeyCredential::sas_from_key("a2V5", Duration::from_secs(3600)),
            endpoint,
        );
        let t0 = datetime!(2030-01-01 00:00:00 UTC);
        let value = |h: AuthHeader| match h {
            AuthHeader::SasToken(v) => v.to_str().unwrap().to_owned(),
            other => panic!("{other:?}"),
        };
        let first = value(auth.header(t0).unwrap());
        let later = value(auth.header(t0 + Duration::from_secs(3000)).unwrap());
        assert_eq!(first, later);
        let renewed = value(auth.header(t0 + Duration::from_secs(3301)).unwrap());
        assert_ne!(first, renewed);
        assert!(
            first.contains("&e=2030-01-01%2001%3A00%3A00%2B00%3A00&"),
            "{first}"
        );
    }

    #[test]
    fn sas_validity_past_year_9999_is_a_credential_error_not_a_panic() {
        let endpoint = Endpoint::parse("https://t.westus2-1.eventgrid.azure.net").unwrap();
        let now = datetime!(2030-01-01 00:00:00 UTC);
        for validity in [
            Duration::MAX,
            Duration::from_secs(400 * 365 * 24 * 3600 * 25),
        ] {
            let auth = KeyAuthorizer::new(
                KeyCredential::sas_from_key("a2V5", validity),
                endpoint.clone(),
            );
            let err = auth.header(now).unwrap_err();
            assert!(
                matches!(&err, Error::Credential(_))
                    && err.to_string().contains("shorter validity"),
                "{err}"
            );
        }
        let auth = KeyAuthorizer::new(
            KeyCredential::sas_from_key("a2V5", Duration::from_secs(3600)),
            endpoint,
        );
        let last_day = datetime!(9999-12-31 23:30:00 UTC);
        assert!(auth.header(last_day).is_err());
        assert!(auth.header(now).is_ok());
    }

    #[test]
    fn token_refreshes_five_minutes_before_expiry() {
        let token = AccessToken {
            token: Secret::new("t"),
            expires_at: datetime!(2030-01-01 01:00:00 UTC),
        };
        assert!(token.is_fresh(datetime!(2030-01-01 00:54:59 UTC)));
        assert!(!token.is_fresh(datetime!(2030-01-01 00:55:00 UTC)));
    }

    #[test]
    fn short_lived_tokens_are_reused_for_half_their_life() {
        let now = datetime!(2030-01-01 00:00:00 UTC);
        let long = AccessToken {
            token: Secret::new("t"),
            expires_at: datetime!(2030-01-01 01:00:00 UTC),
        };
        assert_eq!(long.refresh_at(now), datetime!(2030-01-01 00:55:00 UTC));
        let short = AccessToken {
            token: Secret::new("t"),
            expires_at: datetime!(2030-01-01 00:02:00 UTC),
        };
        assert_eq!(short.refresh_at(now), datetime!(2030-01-01 00:01:00 UTC));
    }

    #[test]
    fn debug_hides_every_credential() {
        let key = KeyCredential::access_key("KEY-VALUE-123");
        let sas = KeyCredential::sas_token("r=x&e=y&s=SIG-VALUE");
        let header = AuthHeader::bearer(&Secret::new("BEARER-VALUE")).unwrap();
        let text = format!("{key:?} {sas:?} {header:?}");
        for secret in ["KEY-VALUE-123", "SIG-VALUE", "BEARER-VALUE"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
