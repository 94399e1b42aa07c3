//! The admin key that guards the emulator's own API (`/_emulator/*`) when one is configured.

use std::fmt;

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::auth::same_secret;
use crate::serving::response::ServiceError;

/// The configured admin key, if any (never shown by `Debug`).
pub(crate) struct AdminKey(Option<String>);

impl fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "AdminKey(<redacted>)"
        } else {
            "AdminKey(none)"
        })
    }
}

impl AdminKey {
    pub(crate) fn new(key: Option<String>) -> Self {
        Self(key)
    }

    /// Admits a request to the emulator's API: any request when no key is configured, else
    /// one with `Authorization: Bearer KEY`.
    pub(crate) fn admit(&self, headers: &HeaderMap) -> Result<(), ServiceError> {
        let Some(key) = &self.0 else {
            return Ok(());
        };
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match given {
            Some(token) if same_secret(token.as_bytes(), key.as_bytes()) => Ok(()),
            Some(_) => Err(ServiceError::unauthorized_bearer(
                "The emulator's admin key in the Authorization header is not the configured one.",
            )),
            None => Err(ServiceError::unauthorized_bearer(
                "The emulator's API requires its admin key: send 'Authorization: Bearer KEY' \
                 with the key given by --admin-key.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn admits_everyone_without_a_key_and_only_its_holder_with_one() {
        assert!(AdminKey::new(None).admit(&headers(None)).is_ok());
        let key = AdminKey::new(Some("s3cret".to_owned()));
        assert!(key.admit(&headers(Some("Bearer s3cret"))).is_ok());
        assert!(key.admit(&headers(Some("bearer  s3cret"))).is_ok());
        for refused in [
            None,
            Some("Bearer wrong"),
            Some("Basic s3cret"),
            Some("s3cret"),
        ] {
            let error = key.admit(&headers(refused)).unwrap_err();
            assert_eq!(error.status, 401, "{refused:?}");
        }
        assert!(!format!("{key:?}").contains("s3cret"));
    }
}
