//! Bearer tokens from a Microsoft Entra ID credential, without an async runtime: the
//! credential's future is driven on the calling thread, and the token is cached until five
//! minutes before it expires.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use eventgrid_core::{AccessToken, AuthHeader, EVENTGRID_SCOPE, Error, Result, TokenCredential};
use time::OffsetDateTime;

/// A token credential with its cached token. Refreshing holds the lock, so threads that need a
/// token at the same time wait for one refresh instead of each asking the identity service.
pub(crate) struct TokenCache {
    credential: Arc<dyn TokenCredential>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The header to send and when to replace it.
    token: Option<(OffsetDateTime, AuthHeader)>,
    /// The last refresh that failed: when it ended and why. Threads that were already waiting
    /// for it share its failure rather than asking again one after another.
    failure: Option<(Instant, String)>,
}

impl TokenCache {
    pub(crate) fn new(credential: Arc<dyn TokenCredential>) -> Self {
        Self {
            credential,
            state: Mutex::new(State::default()),
        }
    }

    /// The `Authorization` header for a request sent at `now`.
    pub(crate) fn header(&self, now: OffsetDateTime) -> Result<AuthHeader> {
        let arrived = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((refresh_at, header)) = &state.token
            && now < *refresh_at
        {
            return Ok(header.clone());
        }
        if let Some((failed_at, reason)) = &state.failure
            && *failed_at >= arrived
        {
            return Err(Error::Credential(reason.clone()));
        }
        let fetched =
            futures::executor::block_on(self.credential.get_token(&[EVENTGRID_SCOPE], None));
        match fetched {
            Ok(token) => {
                let token = AccessToken::from(token);
                let header = AuthHeader::bearer(&token.token)?;
                state.token = Some((token.refresh_at(now), header.clone()));
                state.failure = None;
                Ok(header)
            }
            Err(error) => {
                let reason = format!("could not get a Microsoft Entra ID token: {error}");
                state.failure = Some((Instant::now(), reason.clone()));
                Err(Error::Credential(reason))
            }
        }
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use azure_core::credentials::{
        AccessToken as AzureToken, Secret as AzureSecret, TokenRequestOptions,
    };

    use super::*;

    /// Counts requests, answers tokens valid for `lifetime`, and is slow so callers overlap.
    #[derive(Debug)]
    struct CountingCredential {
        calls: AtomicUsize,
        lifetime: time::Duration,
        fail: bool,
    }

    #[async_trait::async_trait]
    impl TokenCredential for CountingCredential {
        async fn get_token(
            &self,
            scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AzureToken> {
            assert_eq!(scopes, [EVENTGRID_SCOPE]);
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
            if self.fail {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Credential,
                    "tenant not found",
                ));
            }
            Ok(AzureToken::new(
                AzureSecret::new(format!("token-{n}")),
                OffsetDateTime::now_utc() + self.lifetime,
            ))
        }
    }

    fn cache(lifetime_minutes: i64, fail: bool) -> (Arc<CountingCredential>, TokenCache) {
        let credential = Arc::new(CountingCredential {
            calls: AtomicUsize::new(0),
            lifetime: time::Duration::minutes(lifetime_minutes),
            fail,
        });
        let cache = TokenCache::new(credential.clone());
        (credential, cache)
    }

    fn bearer(header: AuthHeader) -> String {
        match header {
            AuthHeader::Bearer(value) => value.to_str().unwrap().to_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn concurrent_callers_share_one_refresh() {
        let (credential, cache) = cache(60, false);
        let now = OffsetDateTime::now_utc();
        let headers: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| bearer(cache.header(now).unwrap())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
        assert!(headers.iter().all(|h| h == "Bearer token-0"));
    }

    #[test]
    fn refreshes_five_minutes_before_expiry() {
        let (credential, cache) = cache(60, false);
        let now = OffsetDateTime::now_utc();
        assert_eq!(bearer(cache.header(now).unwrap()), "Bearer token-0");
        let still_fresh = now + time::Duration::minutes(54);
        assert_eq!(bearer(cache.header(still_fresh).unwrap()), "Bearer token-0");
        let near_expiry = now + time::Duration::minutes(56);
        assert_eq!(bearer(cache.header(near_expiry).unwrap()), "Bearer token-1");
        assert_eq!(credential.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn waiting_callers_share_a_failure_and_later_calls_retry() {
        let (credential, cache) = cache(60, true);
        let now = OffsetDateTime::now_utc();
        let start = std::sync::Barrier::new(4);
        let errors: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        cache.header(now).unwrap_err().to_string()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            errors.iter().all(|e| e.contains("tenant not found")),
            "{errors:?}"
        );
        let shared = credential.calls.load(Ordering::SeqCst);
        assert!(shared < 4, "{shared} refreshes for 4 overlapping callers");
        assert!(cache.header(now).is_err());
        assert_eq!(credential.calls.load(Ordering::SeqCst), shared + 1);
    }
}
