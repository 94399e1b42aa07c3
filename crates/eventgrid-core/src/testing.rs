//! Test doubles shared by the core's unit tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use azure_core::credentials::{AccessToken as AzureToken, Secret, TokenRequestOptions};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::auth::EVENTGRID_SCOPE;
use crate::credential::{Credential, TokenCredential};

/// The wall-clock start of every virtual clock.
pub(crate) const T0: OffsetDateTime = datetime!(2030-01-01 00:00:00 UTC);

/// Answers `token-N`, valid for an hour from [`T0`], or fails; counts its calls.
#[derive(Debug, Default)]
pub(crate) struct CountingCredential {
    pub(crate) calls: AtomicUsize,
    pub(crate) fail: bool,
}

#[async_trait::async_trait]
impl TokenCredential for CountingCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AzureToken> {
        assert_eq!(scopes, [EVENTGRID_SCOPE]);
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                "tenant not found",
            ));
        }
        Ok(AzureToken::new(
            Secret::new(format!("token-{n}")),
            T0 + Duration::from_secs(3600),
        ))
    }
}

/// A token credential that never fails.
pub(crate) fn token_credential() -> Credential {
    Credential::token(Arc::new(CountingCredential::default()))
}
