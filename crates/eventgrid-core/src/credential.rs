//! The credential a client publishes with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use azure_core::credentials::TokenCredential;

use crate::auth::{AccessToken, KeyCredential};
use crate::secret::Secret;

/// How a client authenticates: a key or SAS credential, a Microsoft Entra ID token
/// credential (any `azure_identity` credential, or the `identity` feature's `default_credential`),
/// or nothing (open emulator topics, or topics that carry their own credential).
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// No client-wide credential.
    None,
    /// An access key or SAS credential.
    Key(KeyCredential),
    /// A Microsoft Entra ID token credential; tokens are requested for
    /// [`EVENTGRID_SCOPE`](crate::EVENTGRID_SCOPE), cached, and refreshed five minutes before
    /// they expire.
    Token(Arc<dyn TokenCredential>),
}

impl Credential {
    /// The topic's access key, sent as `aeg-sas-key`.
    pub fn access_key(key: impl Into<Secret>) -> Self {
        Credential::Key(KeyCredential::access_key(key))
    }

    /// A SAS token, sent as `aeg-sas-token`.
    pub fn sas_token(token: impl Into<Secret>) -> Self {
        Credential::Key(KeyCredential::sas_token(token))
    }

    /// SAS tokens generated from `key`, each valid for `validity` and renewed before expiry.
    pub fn sas_from_key(key: impl Into<Secret>, validity: Duration) -> Self {
        Credential::Key(KeyCredential::sas_from_key(key, validity))
    }

    /// A Microsoft Entra ID token credential.
    pub fn token(credential: Arc<dyn TokenCredential>) -> Self {
        Credential::Token(credential)
    }

    /// The token credential, if this is one.
    pub fn token_credential(&self) -> Option<&Arc<dyn TokenCredential>> {
        match self {
            Credential::Token(credential) => Some(credential),
            _ => None,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::None => f.write_str("Credential::None"),
            Credential::Key(key) => f.debug_tuple("Credential::Key").field(key).finish(),
            Credential::Token(_) => f.write_str("Credential::Token(..)"),
        }
    }
}

impl From<KeyCredential> for Credential {
    fn from(key: KeyCredential) -> Self {
        Credential::Key(key)
    }
}

impl From<Arc<dyn TokenCredential>> for Credential {
    fn from(credential: Arc<dyn TokenCredential>) -> Self {
        Credential::Token(credential)
    }
}

impl From<azure_core::credentials::AccessToken> for AccessToken {
    fn from(token: azure_core::credentials::AccessToken) -> Self {
        AccessToken {
            token: Secret::new(token.token.secret()),
            expires_at: token.expires_on,
        }
    }
}
