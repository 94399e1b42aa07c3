//! Microsoft Entra ID token credentials for the suite: one that issues a given token, one that
//! fails, one that never answers; each counts its calls. They wait without a runtime of their
//! own, so the blocking client (which drives the credential's future on its thread) and the
//! async one see them alike.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error as AzureError, ErrorKind};
use time::OffsetDateTime;

/// What a test credential does when asked for a token.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Issues `token`, valid for `lifetime`, after `delay`.
    Issue {
        /// The bearer token.
        token: String,
        /// How long it is valid from issue.
        lifetime: Duration,
        /// How long the identity service takes to answer.
        delay: Duration,
    },
    /// Fails with [`TestCredential::FAILURE`] after `delay`.
    Fail {
        /// How long the identity service takes to fail.
        delay: Duration,
    },
    /// Never answers.
    Hang,
}

/// A token credential behaving as told, counting the calls it gets.
#[derive(Debug)]
pub struct TestCredential {
    behaviour: Behaviour,
    calls: AtomicUsize,
}

impl TestCredential {
    /// The message of a [`Behaviour::Fail`] credential's error.
    pub const FAILURE: &'static str = "the test identity service is down";

    /// A credential behaving as `behaviour`.
    pub fn new(behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            behaviour,
            calls: AtomicUsize::new(0),
        })
    }

    /// How many tokens were asked for.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl TokenCredential for TestCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.behaviour {
            Behaviour::Issue {
                token,
                lifetime,
                delay,
            } => {
                Sleep::new(*delay).await;
                Ok(AccessToken::new(
                    token.clone(),
                    OffsetDateTime::now_utc() + *lifetime,
                ))
            }
            Behaviour::Fail { delay } => {
                Sleep::new(*delay).await;
                Err(AzureError::with_message(
                    ErrorKind::Credential,
                    Self::FAILURE,
                ))
            }
            Behaviour::Hang => std::future::pending().await,
        }
    }
}

/// A delay that needs no runtime: a thread sleeps and wakes the future.
#[derive(Debug)]
struct Sleep {
    duration: Duration,
    started: bool,
    state: Arc<Mutex<SleepState>>,
}

#[derive(Debug, Default)]
struct SleepState {
    done: bool,
    waker: Option<Waker>,
}

impl Sleep {
    fn new(duration: Duration) -> Self {
        Self {
            duration,
            started: false,
            state: Arc::default(),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.duration.is_zero() {
            return Poll::Ready(());
        }
        {
            let mut state = this.state.lock().expect("not poisoned");
            if state.done {
                return Poll::Ready(());
            }
            state.waker = Some(cx.waker().clone());
        }
        if !this.started {
            this.started = true;
            let (state, duration) = (this.state.clone(), this.duration);
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                let mut state = state.lock().expect("not poisoned");
                state.done = true;
                if let Some(waker) = state.waker.take() {
                    waker.wake();
                }
            });
        }
        Poll::Pending
    }
}
