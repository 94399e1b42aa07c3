//! Bearer tokens from a Microsoft Entra ID credential: cached, refreshed before they expire, and
//! fetched once for all the requests that need a new one at the same moment.

use std::fmt;
use std::sync::{Arc, RwLock};

use eventgrid_core::{AccessToken, AuthHeader, EVENTGRID_SCOPE, Error, Result, TokenCredential};
use time::OffsetDateTime;

/// The bearer header to send, and when to fetch a new token instead.
#[derive(Clone)]
struct Cached {
    header: AuthHeader,
    refresh_at: OffsetDateTime,
}

/// A token cache for one credential, shared by every clone of a client.
pub(crate) struct TokenCache {
    credential: Arc<dyn TokenCredential>,
    current: RwLock<Option<Cached>>,
    /// Held while fetching, so requests that find the token stale wait for the one refresh.
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenCache {
    pub(crate) fn new(credential: Arc<dyn TokenCredential>) -> Self {
        Self {
            credential,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The `Authorization: Bearer` header for a request sent now.
    pub(crate) async fn header(&self) -> Result<AuthHeader> {
        if let Some(header) = self.cached(OffsetDateTime::now_utc()) {
            return Ok(header);
        }
        let _refreshing = self.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed already.
        let now = OffsetDateTime::now_utc();
        if let Some(header) = self.cached(now) {
            return Ok(header);
        }
        let token: AccessToken = self
            .credential
            .get_token(&[EVENTGRID_SCOPE], None)
            .await
            .map_err(|e| {
                Error::Credential(format!("could not get a Microsoft Entra ID token: {e}"))
            })?
            .into();
        let header = AuthHeader::bearer(&token.token)?;
        let refresh_at = token.refresh_at(now);
        tracing::debug!(expires_at = %token.expires_at, "eventgrid bearer token refreshed");
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            header: header.clone(),
            refresh_at,
        });
        Ok(header)
    }

    fn cached(&self, now: OffsetDateTime) -> Option<AuthHeader> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|cached| now < cached.refresh_at)
            .map(|cached| cached.header.clone())
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refresh_at = self
            .current
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.refresh_at));
        f.debug_struct("TokenCache")
            .field("refresh_at", &refresh_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use azure_core::credentials::{AccessToken as AzureToken, Secret, TokenRequestOptions};

    use super::*;

    /// Issues `token-N` tokens living `lifetime`, slowly, counting the calls.
    #[derive(Debug)]
    struct CountingCredential {
        calls: AtomicUsize,
        lifetime: Duration,
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
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(AzureToken::new(
                Secret::new(format!("token-{n}")),
                OffsetDateTime::now_utc() + self.lifetime,
            ))
        }
    }

    fn bearer(header: &AuthHeader) -> String {
        let (name, value) = header.header().unwrap();
        assert_eq!(name, "authorization");
        value.to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_refresh() {
        let credential = Arc::new(CountingCredential {
            calls: AtomicUsize::new(0),
            lifetime: Duration::from_secs(3600),
        });
        let cache = Arc::new(TokenCache::new(credential.clone()));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.header().await.map(|h| bearer(&h)) })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), "Bearer token-0");
        }
        assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
        assert_eq!(bearer(&cache.header().await.unwrap()), "Bearer token-0");
        assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn tokens_inside_the_refresh_margin_are_replaced() {
        // Six minutes of life: fresh for one more minute, then half of what is left.
        let credential = Arc::new(CountingCredential {
            calls: AtomicUsize::new(0),
            lifetime: Duration::from_secs(6 * 60),
        });
        let cache = TokenCache::new(credential.clone());
        cache.header().await.unwrap();
        let refresh_at = cache.current.read().unwrap().as_ref().unwrap().refresh_at;
        let left = refresh_at - OffsetDateTime::now_utc();
        assert!(left > time::Duration::seconds(50) && left <= time::Duration::seconds(60));
        assert!(cache.cached(refresh_at).is_none());
        assert!(
            cache
                .cached(refresh_at - time::Duration::seconds(1))
                .is_some()
        );

        let short = Arc::new(CountingCredential {
            calls: AtomicUsize::new(0),
            lifetime: Duration::from_secs(60),
        });
        let cache = TokenCache::new(short.clone());
        cache.header().await.unwrap();
        cache.header().await.unwrap();
        assert_eq!(
            short.calls.load(Ordering::SeqCst),
            1,
            "short tokens are reused for half their life"
        );
    }

    #[test]
    fn debug_shows_no_token() {
        let credential = Arc::new(CountingCredential {
            calls: AtomicUsize::new(0),
            lifetime: Duration::from_secs(3600),
        });
        let cache = TokenCache::new(credential);
        *cache.current.write().unwrap() = Some(Cached {
            header: AuthHeader::bearer(&eventgrid_core::Secret::new("SECRET-TOKEN")).unwrap(),
            refresh_at: OffsetDateTime::now_utc(),
        });
        assert!(!format!("{cache:?}").contains("SECRET-TOKEN"));
    }
}
