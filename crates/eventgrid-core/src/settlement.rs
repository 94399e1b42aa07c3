//! Settling received namespace events: acknowledge, release, reject and renew their locks (the
//! [`Settle`] exchange), and the per-token outcome the service answers with.
//!
//! The service answers 200 even when every token failed, so a [`SettlementResult`] is
//! `#[must_use]` and [`SettlementResult::into_result`] turns any failure into an error.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, Uri};
use serde::Deserialize;
use tracing::Span;
use tracing::field::Empty;

use crate::auth::AuthHeader;
use crate::engine::{Authorizer, Exchange};
use crate::error::{Error, Result};
use crate::namespace::Subscription;

/// How long a released event waits before it can be received again: the values the service
/// accepts (`releaseDelayInSeconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ReleaseDelay {
    /// Available again at once (the default).
    #[default]
    None,
    /// 10 seconds.
    TenSeconds,
    /// 1 minute.
    OneMinute,
    /// 10 minutes.
    TenMinutes,
    /// 1 hour.
    OneHour,
}

impl ReleaseDelay {
    /// The delay in whole seconds, as sent: 0, 10, 60, 600 or 3600.
    pub fn seconds(self) -> u32 {
        match self {
            ReleaseDelay::None => 0,
            ReleaseDelay::TenSeconds => 10,
            ReleaseDelay::OneMinute => 60,
            ReleaseDelay::TenMinutes => 600,
            ReleaseDelay::OneHour => 3600,
        }
    }

    /// The delay as a duration.
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.seconds().into())
    }
}

/// Which settlement an operation performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettlementKind {
    /// `:acknowledge`: the events are done and deleted.
    Acknowledge,
    /// `:release`: the events become available again, after the delay.
    Release(ReleaseDelay),
    /// `:reject`: the events are dead-lettered (or dropped) and never come back.
    Reject,
    /// `:renewLock`: the locks are extended by the subscription's lock duration.
    RenewLocks,
}

impl SettlementKind {
    /// The operation's name in the path (`acknowledge`, `release`, `reject`, `renewLock`).
    pub fn operation(self) -> &'static str {
        match self {
            SettlementKind::Acknowledge => "acknowledge",
            SettlementKind::Release(_) => "release",
            SettlementKind::Reject => "reject",
            SettlementKind::RenewLocks => "renewLock",
        }
    }
}

impl fmt::Display for SettlementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.operation())
    }
}

/// One lock token the service could not settle, with its reason (`TokenLost` for a token
/// that expired or was already settled).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedLockToken {
    /// The token.
    pub lock_token: String,
    /// The service's error code.
    pub code: String,
    /// The service's message.
    pub message: String,
}

/// Which lock tokens a settlement settled and which it did not. The service answers 200 even
/// when every token failed: check [`failed`](Self::failed) or call
/// [`into_result`](Self::into_result).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the service answers 200 even when tokens failed: check `failed` or call `into_result`"]
#[non_exhaustive]
pub struct SettlementResult {
    /// The settlement performed.
    pub kind: SettlementKind,
    /// The tokens settled.
    pub succeeded: Vec<String>,
    /// The tokens not settled, each with the service's reason.
    pub failed: Vec<FailedLockToken>,
}

impl SettlementResult {
    /// Whether every token was settled.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }

    /// The settled tokens, or [`Error::Settlement`] naming each failed token and its reason.
    pub fn into_result(self) -> Result<Vec<String>> {
        if self.failed.is_empty() {
            Ok(self.succeeded)
        } else {
            Err(Error::Settlement(Box::new(SettlementFailure {
                kind: self.kind,
                succeeded: self.succeeded,
                failed: self.failed,
            })))
        }
    }
}

/// The error of a settlement in which some tokens failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettlementFailure {
    /// The settlement performed.
    pub kind: SettlementKind,
    /// The tokens settled.
    pub succeeded: Vec<String>,
    /// The tokens not settled, each with the service's reason.
    pub failed: Vec<FailedLockToken>,
}

impl fmt::Display for SettlementFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} of {} lock tokens failed",
            self.kind,
            self.failed.len(),
            self.failed.len() + self.succeeded.len()
        )?;
        if let Some(first) = self.failed.first() {
            write!(f, " (first: {}: {})", first.code, first.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for SettlementFailure {}

/// One settlement of some lock tokens of a subscription.
#[derive(Debug)]
pub struct Settle {
    subscription: Subscription,
    kind: SettlementKind,
    uri: Uri,
    body: Bytes,
}

impl Settle {
    /// Settling `lock_tokens` of `subscription` as `kind`. An empty list is refused.
    pub fn new(
        subscription: Subscription,
        kind: SettlementKind,
        lock_tokens: &[impl AsRef<str>],
    ) -> Result<Self> {
        if lock_tokens.is_empty() {
            return Err(Error::InvalidArgument {
                argument: "lock_tokens",
                reason: format!("{kind} needs at least one lock token"),
            });
        }
        let tokens: Vec<&str> = lock_tokens.iter().map(AsRef::as_ref).collect();
        let body = serde_json::to_vec(&serde_json::json!({ "lockTokens": tokens }))
            .map_err(Error::from)?;
        let delay = match kind {
            SettlementKind::Release(delay) => format!("&releaseDelayInSeconds={}", delay.seconds()),
            _ => String::new(),
        };
        Ok(Self {
            uri: subscription.uri(kind.operation(), &delay)?,
            subscription,
            kind,
            body: Bytes::from(body),
        })
    }
}

impl Exchange for Settle {
    type Output = SettlementResult;

    fn authorizer(&self) -> &Authorizer {
        self.subscription.topic().authorizer()
    }

    fn request(&self, auth: &AuthHeader) -> Request<Bytes> {
        self.subscription.post(
            self.uri.clone(),
            Some("application/json"),
            self.body.clone(),
            auth,
        )
    }

    fn accept(&mut self, response: Response<Bytes>) -> Result<SettlementResult> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            #[serde(default)]
            succeeded_lock_tokens: Vec<String>,
            #[serde(default)]
            failed_lock_tokens: Vec<Failed>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Failed {
            lock_token: String,
            error: Option<Reason>,
        }
        #[derive(Deserialize)]
        struct Reason {
            code: Option<String>,
            message: Option<String>,
        }
        let answer: Answer = serde_json::from_slice(response.body())
            .map_err(|e| crate::namespace::unreadable(self.kind.operation(), &e))?;
        self.subscription.topic().counters().record_settled(
            self.kind,
            answer.succeeded_lock_tokens.len(),
            answer.failed_lock_tokens.len(),
        );
        Ok(SettlementResult {
            kind: self.kind,
            succeeded: answer.succeeded_lock_tokens,
            failed: answer
                .failed_lock_tokens
                .into_iter()
                .map(|f| {
                    let reason = f.error.unwrap_or(Reason {
                        code: None,
                        message: None,
                    });
                    FailedLockToken {
                        lock_token: f.lock_token,
                        code: reason.code.unwrap_or_else(|| "Unknown".to_owned()),
                        message: reason.message.unwrap_or_default(),
                    }
                })
                .collect(),
        })
    }

    fn explain(&self, error: Error) -> Error {
        self.subscription.explain(error)
    }

    fn span(&self) -> Span {
        tracing::info_span!(
            "eventgrid.settle",
            topic = self.subscription.topic().name(),
            subscription = self.subscription.name(),
            operation = self.kind.operation(),
            attempts = Empty,
            status = Empty,
            duration_ms = Empty,
        )
    }

    fn on_attempt(&self, _latency: Duration) {
        self.subscription
            .topic()
            .counters()
            .record_pull_attempt(false);
    }

    fn on_retry(&self) {
        self.subscription.topic().counters().record_pull_retry();
    }

    fn on_outcome(&self, delivered: bool) {
        if !delivered {
            self.subscription.topic().counters().record_pull_failure();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_result_turns_any_failed_token_into_an_error() {
        let result = SettlementResult {
            kind: SettlementKind::Acknowledge,
            succeeded: vec!["a".to_owned()],
            failed: vec![FailedLockToken {
                lock_token: "b".to_owned(),
                code: "TokenLost".to_owned(),
                message: "Token has expired.".to_owned(),
            }],
        };
        assert!(!result.is_success());
        let err = result.into_result().unwrap_err();
        assert_eq!(
            err.to_string(),
            "acknowledge: 1 of 2 lock tokens failed (first: TokenLost: Token has expired.)"
        );
        let ok = SettlementResult {
            kind: SettlementKind::Reject,
            succeeded: vec!["a".to_owned()],
            failed: Vec::new(),
        };
        assert_eq!(ok.into_result().unwrap(), ["a"]);
    }

    #[test]
    fn release_delays_are_the_services_values() {
        let all = [
            ReleaseDelay::None,
            ReleaseDelay::TenSeconds,
            ReleaseDelay::OneMinute,
            ReleaseDelay::TenMinutes,
            ReleaseDelay::OneHour,
        ];
        let seconds: Vec<u32> = all.iter().map(|d| d.seconds()).collect();
        assert_eq!(seconds, [0, 10, 60, 600, 3600]);
    }
}
