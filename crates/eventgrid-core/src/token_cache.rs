//! The rules of the Microsoft Entra ID token cache, for every front end: a token is reused
//! until shortly before it expires; when it must be replaced, one caller fetches and everyone
//! else waits for that fetch (single flight); a failed fetch is the answer of every caller that
//! waited for it; the credential call has a time-out.
//!
//! The cache never calls the credential itself. [`TokenCache::step`] says what the caller does:
//! use a header, [fetch](TokenFetch) (run the credential's future, within
//! [`TokenFetch::timeout`], then report with [`TokenFetch::finish`]) or
//! [wait](TokenWait) (a runtime-agnostic future, woken when the fetch ends). A fetch that is
//! dropped unfinished (its task cancelled, its thread panicked) fails its waiters instead of
//! leaving them waiting (the engine then has them fetch again: the credential did not fail).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use azure_core::credentials::AccessToken as AzureToken;
use time::OffsetDateTime;

use crate::auth::{AccessToken, AuthHeader, EVENTGRID_SCOPE};
use crate::credential::TokenCredential;
use crate::error::{CredentialError, Error, Result};

/// What the credential's future yields.
pub type TokenResult = azure_core::Result<AzureToken>;

/// The credential's future, owning what it needs.
pub type TokenFuture = Pin<Box<dyn Future<Output = TokenResult> + Send + 'static>>;

/// A token credential with its cached token, shared by every clone of a client.
pub struct TokenCache {
    credential: Arc<dyn TokenCredential>,
    timeout: Duration,
    /// The header to send and when to replace it: read by every request, so apart from the
    /// fetch bookkeeping and under a read-write lock.
    current: RwLock<Option<(AuthHeader, OffsetDateTime)>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped when a fetch starts; a fetch or wait belongs to one generation.
    generation: u64,
    /// Whether the fetch of `generation` is still under way.
    fetching: bool,
    /// How the last finished fetch ended, with its generation.
    outcome: Option<(u64, Result<AuthHeader>)>,
    waiters: Vec<Waker>,
}

/// What a caller needing a bearer header does next.
#[derive(Debug)]
#[must_use]
pub enum TokenStep {
    /// Send this header.
    Ready(AuthHeader),
    /// Call the credential (no one else is) and report back.
    Fetch(TokenFetch),
    /// Another caller is fetching: await its outcome.
    Wait(TokenWait),
}

impl TokenCache {
    /// A cache of `credential`'s tokens; each credential call is given `timeout`.
    pub fn new(credential: Arc<dyn TokenCredential>, timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            credential,
            timeout,
            current: RwLock::new(None),
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What to do for a request sent at `now`.
    pub fn step(self: &Arc<Self>, now: OffsetDateTime) -> TokenStep {
        if let Some(header) = self.fresh(now) {
            return TokenStep::Ready(header);
        }
        let mut state = self.lock();
        // A fetch may have ended between the look and the lock.
        if let Some(header) = self.fresh(now) {
            return TokenStep::Ready(header);
        }
        if state.fetching {
            return TokenStep::Wait(TokenWait {
                cache: self.clone(),
                generation: state.generation,
            });
        }
        state.generation += 1;
        state.fetching = true;
        TokenStep::Fetch(TokenFetch {
            cache: Some(self.clone()),
            generation: state.generation,
        })
    }

    fn fresh(&self, now: OffsetDateTime) -> Option<AuthHeader> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|(_, refresh_at)| now < *refresh_at)
            .map(|(header, _)| header.clone())
    }

    fn settle(&self, generation: u64, outcome: Result<AuthHeader>, refresh_at: OffsetDateTime) {
        let waiters = {
            let mut state = self.lock();
            if let Ok(header) = &outcome {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) =
                    Some((header.clone(), refresh_at));
            }
            state.fetching = false;
            state.outcome = Some((generation, outcome));
            std::mem::take(&mut state.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        let refresh_at = current.as_ref().map(|(_, at)| *at);
        f.debug_struct("TokenCache")
            .field("timeout", &self.timeout)
            .field("refresh_at", &refresh_at)
            .finish_non_exhaustive()
    }
}

/// The one fetch under way: run [`future`](Self::future) for at most
/// [`timeout`](Self::timeout), then [`finish`](Self::finish).
#[must_use = "a fetch that is dropped fails everyone waiting for it"]
pub struct TokenFetch {
    cache: Option<Arc<TokenCache>>,
    generation: u64,
}

impl TokenFetch {
    /// The credential call for the Event Grid scope.
    pub fn future(&self) -> TokenFuture {
        let credential = self.cache().credential.clone();
        Box::pin(async move { credential.get_token(&[EVENTGRID_SCOPE], None).await })
    }

    /// How long the credential call may take, at `now`, for an operation that must end by
    /// `deadline`: the token time-out or what is left before the deadline.
    pub fn timeout(&self, now: Instant, deadline: Instant) -> Duration {
        self.cache()
            .timeout
            .min(deadline.saturating_duration_since(now))
    }

    fn cache(&self) -> &Arc<TokenCache> {
        self.cache.as_ref().expect("present until finished")
    }

    /// Reports the credential's answer (`None`: no answer within the time-out), received at
    /// `now`, and returns the header or the failure every waiter also gets.
    pub fn finish(
        mut self,
        answer: Option<TokenResult>,
        now: OffsetDateTime,
    ) -> Result<AuthHeader> {
        let cache = self.cache.take().expect("finished once");
        let token = match answer {
            Some(Ok(token)) => Ok(AccessToken::from(token)),
            Some(Err(error)) => Err(Error::Credential(
                CredentialError::new(format!("could not get a Microsoft Entra ID token: {error}"))
                    .with_source(error),
            )),
            None => Err(Error::Credential(CredentialError::new(format!(
                "no Microsoft Entra ID token within the token time-out of {:?}",
                cache.timeout
            )))),
        };
        let (outcome, refresh_at) = match token {
            Ok(token) => {
                tracing::debug!(expires_at = %token.expires_at, "eventgrid bearer token refreshed");
                (AuthHeader::bearer(&token.token), token.refresh_at(now))
            }
            Err(error) => (Err(error), now),
        };
        cache.settle(self.generation, outcome.clone(), refresh_at);
        outcome
    }
}

impl Drop for TokenFetch {
    fn drop(&mut self) {
        if let Some(cache) = self.cache.take() {
            let mut abandoned = CredentialError::new(
                "the Microsoft Entra ID token request was abandoned (its task or thread ended)",
            );
            abandoned.abandoned = true;
            let abandoned = Error::Credential(abandoned);
            cache.settle(self.generation, Err(abandoned), OffsetDateTime::UNIX_EPOCH);
        }
    }
}

impl fmt::Debug for TokenFetch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFetch")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Waits for the fetch under way and yields its outcome. Needs no particular runtime: block
/// on it or await it.
#[must_use = "futures do nothing unless polled"]
pub struct TokenWait {
    cache: Arc<TokenCache>,
    generation: u64,
}

impl Future for TokenWait {
    type Output = Result<AuthHeader>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.cache.lock();
        match &state.outcome {
            Some((generation, outcome)) if *generation >= self.generation => {
                Poll::Ready(outcome.clone())
            }
            _ => {
                state.waiters.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl fmt::Debug for TokenWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenWait")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use futures::FutureExt;

    use super::*;
    use crate::testing::{CountingCredential as Counting, T0};

    fn bearer(header: &AuthHeader) -> String {
        header.header().unwrap().1.to_str().unwrap().to_owned()
    }

    fn fetch(step: TokenStep) -> TokenFetch {
        match step {
            TokenStep::Fetch(fetch) => fetch,
            other => panic!("{other:?}"),
        }
    }

    fn wait(step: TokenStep) -> TokenWait {
        match step {
            TokenStep::Wait(wait) => wait,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_fetch_serves_every_waiter_and_later_callers() {
        let credential = Arc::new(Counting::default());
        let cache = TokenCache::new(credential.clone(), Duration::from_secs(5));
        let fetching = fetch(cache.step(T0));
        let mut waiters: Vec<_> = (0..10).map(|_| wait(cache.step(T0))).collect();
        assert!(waiters.iter_mut().all(|w| w.now_or_never().is_none()));
        let answer = fetching.future().now_or_never().unwrap();
        let header = fetching.finish(Some(answer), T0).unwrap();
        assert_eq!(bearer(&header), "Bearer token-0");
        for waiter in waiters {
            assert_eq!(
                bearer(&waiter.now_or_never().unwrap().unwrap()),
                "Bearer token-0"
            );
        }
        let TokenStep::Ready(cached) = cache.step(T0 + Duration::from_secs(54 * 60)) else {
            panic!("fresh token not reused")
        };
        assert_eq!(bearer(&cached), "Bearer token-0");
        assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
        // Five minutes before expiry it is replaced.
        let _ = fetch(cache.step(T0 + Duration::from_secs(55 * 60)));
    }

    #[test]
    fn a_failure_is_shared_with_every_waiter_then_the_next_caller_fetches_again() {
        let credential = Arc::new(Counting {
            fail: true,
            ..Counting::default()
        });
        let cache = TokenCache::new(credential.clone(), Duration::from_secs(5));
        let fetching = fetch(cache.step(T0));
        let waiters: Vec<_> = (0..3).map(|_| wait(cache.step(T0))).collect();
        let answer = fetching.future().now_or_never().unwrap();
        let error = fetching.finish(Some(answer), T0).unwrap_err();
        assert!(error.to_string().contains("tenant not found"), "{error}");
        for waiter in waiters {
            let shared = waiter.now_or_never().unwrap().unwrap_err();
            assert_eq!(shared.to_string(), error.to_string());
        }
        assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
        let _ = fetch(cache.step(T0));
    }

    #[test]
    fn a_timed_out_or_abandoned_fetch_fails_its_waiters() {
        let cache = TokenCache::new(Arc::new(Counting::default()), Duration::from_secs(5));
        let fetching = fetch(cache.step(T0));
        let start = Instant::now();
        assert_eq!(
            fetching.timeout(start, start + Duration::from_secs(60)),
            Duration::from_secs(5)
        );
        assert_eq!(
            fetching.timeout(start, start + Duration::from_secs(2)),
            Duration::from_secs(2),
            "the operation's deadline bounds the credential call"
        );
        let waiter = wait(cache.step(T0));
        let error = fetching.finish(None, T0).unwrap_err();
        assert!(
            error.to_string().contains("token time-out of 5s"),
            "{error}"
        );
        assert!(waiter.now_or_never().unwrap().is_err());

        let abandoned = fetch(cache.step(T0));
        let waiter = wait(cache.step(T0));
        drop(abandoned);
        let error = waiter.now_or_never().unwrap().unwrap_err();
        assert!(error.to_string().contains("abandoned"), "{error}");
    }

    #[test]
    fn debug_shows_no_token() {
        let cache = TokenCache::new(Arc::new(Counting::default()), Duration::from_secs(5));
        let fetching = fetch(cache.step(T0));
        let answer = fetching.future().now_or_never().unwrap();
        fetching.finish(Some(answer), T0).unwrap();
        assert!(!format!("{cache:?}").contains("token-0"));
    }
}
