//! The bearer tokens of the fake Microsoft Entra endpoint: JWTs signed HS256 with a secret the
//! emulator generates at start-up, so it can verify exactly the tokens it issued.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The audience of Event Grid tokens (scope `https://eventgrid.azure.net/.default`).
pub(crate) const EVENT_GRID_AUDIENCE: &str = "https://eventgrid.azure.net";

/// Lifetime of issued tokens, as Entra answers in `expires_in`.
pub(crate) const TOKEN_LIFETIME_SECONDS: i64 = 3599;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    aud: String,
    iss: String,
    sub: String,
    appid: String,
    tid: String,
    iat: i64,
    nbf: i64,
    exp: i64,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenError {
    Malformed,
    BadSignature,
    WrongAudience(String),
    Expired,
    NotYetValid,
}

impl TokenError {
    pub(crate) fn message(&self) -> String {
        match self {
            TokenError::Malformed => "The bearer token is not a JWT.".to_owned(),
            TokenError::BadSignature => {
                "The bearer token's signature is invalid: it was not issued by this emulator's token endpoint."
                    .to_owned()
            }
            TokenError::WrongAudience(audience) => format!(
                "The bearer token's audience is '{audience}'; Event Grid requires '{EVENT_GRID_AUDIENCE}' \
                 (request the scope '{EVENT_GRID_AUDIENCE}/.default')."
            ),
            TokenError::Expired => "The bearer token has expired.".to_owned(),
            TokenError::NotYetValid => "The bearer token is not valid yet.".to_owned(),
        }
    }
}

/// Issues and verifies the emulator's tokens.
pub(crate) struct TokenAuthority {
    key: hmac::Key,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthority").finish_non_exhaustive()
    }
}

impl TokenAuthority {
    /// A new authority with a random 256-bit secret.
    pub(crate) fn generate() -> Self {
        let mut secret = [0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .expect("the system random generator works");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        }
    }

    /// An authority with a known secret (the fuzz targets sign their own tokens with it).
    pub(crate) fn with_secret(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A token for `audience`, issued by `issuer` for client `client_id` in `tenant`.
    pub(crate) fn issue(
        &self,
        audience: &str,
        issuer: &str,
        tenant: &str,
        client_id: &str,
        now: OffsetDateTime,
    ) -> String {
        let now = now.unix_timestamp();
        let claims = Claims {
            aud: audience.to_owned(),
            iss: issuer.to_owned(),
            sub: client_id.to_owned(),
            appid: client_id.to_owned(),
            tid: tenant.to_owned(),
            iat: now,
            nbf: now - 300,
            exp: now + TOKEN_LIFETIME_SECONDS,
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signed = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, signed.as_bytes()).as_ref());
        format!("{signed}.{signature}")
    }

    /// Verifies signature, audience and validity period.
    pub(crate) fn verify(&self, token: &str, now: OffsetDateTime) -> Result<(), TokenError> {
        let token = token.trim();
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = signed.split_once('.').ok_or(TokenError::Malformed)?;
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Malformed)?;
        let header: serde_json::Value =
            serde_json::from_slice(&header).map_err(|_| TokenError::Malformed)?;
        if header.get("alg").and_then(|alg| alg.as_str()) != Some("HS256") {
            return Err(TokenError::BadSignature);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        hmac::verify(&self.key, signed.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.aud.trim_end_matches('/') != EVENT_GRID_AUDIENCE {
            return Err(TokenError::WrongAudience(claims.aud));
        }
        let now = now.unix_timestamp();
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn verifies_only_its_own_current_event_grid_tokens() {
        let authority = TokenAuthority::generate();
        let now = OffsetDateTime::now_utc();
        let token = authority.issue(EVENT_GRID_AUDIENCE, "iss", "tenant", "app", now);
        assert_eq!(authority.verify(&token, now), Ok(()));
        assert_eq!(
            authority.verify(&token, now + Duration::hours(2)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            TokenAuthority::generate().verify(&token, now),
            Err(TokenError::BadSignature)
        );
        let other = authority.issue("https://management.azure.com", "iss", "t", "app", now);
        assert_eq!(
            authority.verify(&other, now),
            Err(TokenError::WrongAudience(
                "https://management.azure.com".to_owned()
            ))
        );
        assert_eq!(
            authority.verify("not a token", now),
            Err(TokenError::Malformed)
        );
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(authority.verify(&forged, now).is_err());
    }
}
