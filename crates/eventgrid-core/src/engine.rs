//! The operation engine: one state machine drives any request-response operation (a publish
//! today; receive, acknowledge and the like tomorrow) from its start to its outcome, with no
//! I/O. It is handed the time and told what happened; it answers with the next [`Action`].
//!
//! ```text
//!            ┌────────────── on_token ◄── NeedToken ◄──┐
//!            ▼                                         │
//!  new ─► poll ──► Send(request) ──► on_response / on_transport_error
//!            ▲                                         │
//!            └──────────── Sleep(until) ◄── retry ◄────┤
//!                                                      └──► Done(result)
//! ```
//!
//! The engine chooses the auth header (a key, a generated SAS, or a bearer token from the
//! [`TokenCache`](crate::TokenCache)), refuses a credential over plain http to a remote host,
//! counts attempts, keeps the overall deadline (token requests and the attempt in flight
//! count) and each attempt's own (the request time-out, or a long poll's wait plus a margin,
//! never past the overall one), decides retries with seedable jitter, records metrics and carries the tracing span.
//! What an operation sends and how it reads a success is its [`Exchange`].

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use time::OffsetDateTime;
use tracing::Span;

use crate::auth::{AuthHeader, KeyAuthorizer};
use crate::error::{Error, Result, TransportError, TransportErrorKind};
use crate::request::ensure_credentials_protected;
use crate::retry::{Decision, Jitter, RetryOptions, RetryState};
use crate::token_cache::{TokenCache, TokenFetch, TokenStep, TokenWait};

/// The time, as the engine is handed it: a monotonic instant for durations and deadlines, and
/// the wall clock for credentials (SAS expiry, token freshness).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time.
    pub instant: Instant,
    /// Wall-clock time.
    pub utc: OffsetDateTime,
}

impl Now {
    /// The system's clocks.
    pub fn system() -> Self {
        Self {
            instant: Instant::now(),
            utc: OffsetDateTime::now_utc(),
        }
    }

    /// `duration` later on both clocks (a virtual clock for tests).
    pub fn advance(self, duration: Duration) -> Self {
        Self {
            instant: self.instant + duration,
            utc: self.utc + duration,
        }
    }
}

/// How the requests of an operation are authenticated.
#[derive(Debug)]
#[non_exhaustive]
pub enum Authorizer {
    /// No credential (open emulator topics).
    None,
    /// A key or SAS credential.
    Key(Box<KeyAuthorizer>),
    /// Bearer tokens from a Microsoft Entra ID credential's cache.
    Token(std::sync::Arc<TokenCache>),
}

/// The part of an operation that differs between operations: what to send and what a
/// success means. Everything else (auth, retries, deadline, metrics, tracing) is the
/// [`Operation`]'s.
pub trait Exchange {
    /// What a successful operation yields.
    type Output;

    /// How requests are authenticated.
    fn authorizer(&self) -> &Authorizer;

    /// The request of one attempt, carrying `auth`. Every attempt sends the same content.
    fn request(&self, auth: &AuthHeader) -> Request<Bytes>;

    /// Reads a successful (2xx) response.
    fn accept(&mut self, response: Response<Bytes>) -> Result<Self::Output>;

    /// Makes a failure more telling before it is returned (a 404 that means the endpoint is
    /// of the other kind, say). Unchanged by default.
    fn explain(&self, error: Error) -> Error {
        error
    }

    /// The span the operation runs in, with `attempts`, `status` and `duration_ms` fields
    /// left empty for the engine to record.
    fn span(&self) -> Span;

    /// One attempt of `bytes` ended after `latency` (whatever its outcome).
    fn on_attempt(&self, latency: Duration);

    /// A retry was decided.
    fn on_retry(&self);

    /// The operation ended, delivered (`true`) or failed.
    fn on_outcome(&self, delivered: bool);
}

/// What the front end does next for an [`Operation`]. Deliberately exhaustive: a front end
/// must execute every action, so a new one is a change every front end has to make.
#[derive(Debug)]
pub enum Action<T> {
    /// Get a bearer token: run the fetch or await the one under way, then report with
    /// [`Operation::on_token`].
    NeedToken(TokenNeed),
    /// Send this request, giving up at `deadline`, then report with
    /// [`Operation::on_response`] or [`Operation::on_transport_error`].
    Send {
        /// The request.
        request: Request<Bytes>,
        /// This attempt's deadline, decided by the core: the attempt's time limit (the
        /// client's request time-out; a receive's `max_wait` plus
        /// [`RECEIVE_ANSWER_MARGIN`](crate::RECEIVE_ANSWER_MARGIN)) from now, and never past
        /// the operation's overall deadline. An attempt still running then is cut.
        deadline: Instant,
    },
    /// Sleep until this instant, then poll again.
    Sleep(Instant),
    /// The operation is over.
    Done(Result<T>),
}

/// How a front end gets the token an operation needs.
#[derive(Debug)]
pub enum TokenNeed {
    /// No one else is fetching: call the credential ([`TokenFetch::future`] within
    /// [`TokenFetch::timeout`]) and report with [`TokenFetch::finish`].
    Fetch(TokenFetch),
    /// Another operation is fetching: await its outcome.
    Wait(TokenWait),
}

#[derive(Debug)]
enum State {
    Ready,
    AwaitingToken,
    InFlight(Instant),
    Sleeping(Instant),
    Finished,
}

/// One operation across its attempts. Drive it with [`poll`](Self::poll) and the `on_*`
/// reports until it yields [`Action::Done`].
pub struct Operation<X: Exchange> {
    exchange: X,
    retry: RetryState,
    state: State,
    token: Option<AuthHeader>,
    outcome: Option<Result<X::Output>>,
    span: Span,
    attempt_limit: Option<Duration>,
}

impl<X: Exchange> Operation<X> {
    /// Starts `exchange` at `now` under `retry`, with backoff jitter from `jitter`.
    pub fn new(exchange: X, retry: RetryOptions, jitter: Jitter, now: Instant) -> Self {
        Self {
            span: exchange.span(),
            exchange,
            retry: RetryState::with_jitter(retry, now, jitter),
            state: State::Ready,
            token: None,
            outcome: None,
            attempt_limit: None,
        }
    }

    /// Limits each attempt to `limit` from when it is sent (still within the overall
    /// deadline). Without a limit an attempt may run to the overall deadline.
    pub fn with_attempt_limit(mut self, limit: Duration) -> Self {
        self.attempt_limit = Some(limit);
        self
    }

    /// The span to run the operation in.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The overall deadline: token requests and attempts end by then.
    pub fn deadline(&self) -> Instant {
        self.retry.deadline()
    }

    /// The exchange.
    pub fn exchange(&self) -> &X {
        &self.exchange
    }

    /// What to do next, at `now`.
    pub fn poll(&mut self, now: Now) -> Action<X::Output> {
        match self.state {
            State::Finished => Action::Done(self.outcome.take().unwrap_or_else(|| {
                Err(Error::Internal(
                    "operation polled after it ended".to_owned(),
                ))
            })),
            State::Sleeping(until) if now.instant < until => Action::Sleep(until),
            State::Ready | State::Sleeping(_) => self.attempt(now),
            State::AwaitingToken | State::InFlight(_) => Action::Done(Err(Error::Internal(
                "operation polled before its token or response was reported".to_owned(),
            ))),
        }
    }

    fn attempt(&mut self, now: Now) -> Action<X::Output> {
        let auth = match self.exchange.authorizer() {
            Authorizer::None => Ok(AuthHeader::None),
            Authorizer::Key(key) => key.header(now.utc),
            Authorizer::Token(cache) => match self.token.take() {
                Some(header) => Ok(header),
                None => match cache.step(now.utc) {
                    TokenStep::Ready(header) => Ok(header),
                    TokenStep::Fetch(fetch) => {
                        self.state = State::AwaitingToken;
                        return Action::NeedToken(TokenNeed::Fetch(fetch));
                    }
                    TokenStep::Wait(wait) => {
                        self.state = State::AwaitingToken;
                        return Action::NeedToken(TokenNeed::Wait(wait));
                    }
                },
            },
        };
        let deadline = self.retry.deadline();
        let request = auth.and_then(|auth| {
            if now.instant >= deadline {
                // A token that came too late, say: nothing is sent past the deadline.
                return Err(Error::Transport(TransportError::new(
                    TransportErrorKind::Timeout,
                    "the overall deadline passed before the request could be sent",
                )));
            }
            let request = self.exchange.request(&auth);
            ensure_credentials_protected(&request).map(|()| request)
        });
        match request {
            Ok(request) => {
                self.state = State::InFlight(now.instant);
                let deadline = self
                    .attempt_limit
                    .and_then(|limit| now.instant.checked_add(limit))
                    .map_or(deadline, |own| own.min(deadline));
                Action::Send { request, deadline }
            }
            Err(error) => {
                let decision = self.retry.decide_error(error, now.instant);
                self.settle(decision, now.instant);
                match self.state {
                    State::Sleeping(until) => Action::Sleep(until),
                    _ => self.poll(now),
                }
            }
        }
    }

    /// Reports the token step's outcome, at `now`.
    pub fn on_token(&mut self, header: Result<AuthHeader>, now: Now) {
        match header {
            Ok(header) => {
                self.token = Some(header);
                self.state = State::Ready;
            }
            // The fetch this operation waited for was dropped unfinished: fetch again.
            Err(Error::Credential(error)) if error.abandoned => self.state = State::Ready,
            Err(error) => {
                let decision = self.retry.decide_error(error, now.instant);
                self.settle(decision, now.instant);
            }
        }
    }

    /// Reports the response of the attempt in flight, received at `now`.
    pub fn on_response(&mut self, response: Response<Bytes>, now: Instant) {
        self.attempted(now, Some(response.status().as_u16()));
        let decision = if response.status().is_success() {
            self.retry.count_success();
            match self.exchange.accept(response) {
                Ok(output) => return self.finish(Ok(output), now),
                Err(error) => Decision::Fail(error),
            }
        } else {
            self.retry.decide(Ok(response), now)
        };
        self.settle(decision, now);
    }

    /// Reports that the attempt in flight got no response, at `now`.
    pub fn on_transport_error(&mut self, error: TransportError, now: Instant) {
        self.attempted(now, None);
        let decision = self.retry.decide(Err(error), now);
        self.settle(decision, now);
    }

    fn attempted(&mut self, now: Instant, status: Option<u16>) {
        let sent_at = match self.state {
            State::InFlight(sent_at) => sent_at,
            _ => now,
        };
        let latency = now.saturating_duration_since(sent_at);
        self.exchange.on_attempt(latency);
        if let Some(status) = status {
            self.span.record("status", status);
        }
        tracing::debug!(
            parent: &self.span,
            attempt = self.retry.attempts() + 1,
            status,
            duration_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            "eventgrid request"
        );
    }

    fn settle(&mut self, decision: Decision, now: Instant) {
        match decision {
            // `decide` is only handed failures: a 2xx goes through `Exchange::accept`.
            Decision::Done { .. } => self.finish(
                Err(Error::Internal(
                    "a success was decided without its response".to_owned(),
                )),
                now,
            ),
            Decision::Retry { delay, error } => match now.checked_add(delay) {
                Some(until) => {
                    self.exchange.on_retry();
                    tracing::debug!(parent: &self.span, delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), %error, "eventgrid retry");
                    self.state = State::Sleeping(until);
                }
                None => self.finish(Err(error), now),
            },
            Decision::Fail(error) => self.finish(Err(error), now),
        }
    }

    fn finish(&mut self, outcome: Result<X::Output>, now: Instant) {
        let outcome = outcome.map_err(|error| self.exchange.explain(error));
        self.exchange.on_outcome(outcome.is_ok());
        let elapsed = now.saturating_duration_since(self.retry.started());
        self.span.record("attempts", self.retry.attempts());
        self.span.record(
            "duration_ms",
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        );
        if let Err(error) = &outcome {
            tracing::warn!(parent: &self.span, %error, "eventgrid operation failed");
        }
        self.state = State::Finished;
        self.outcome = Some(outcome);
    }
}

impl<X: Exchange + fmt::Debug> fmt::Debug for Operation<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("exchange", &self.exchange)
            .field("attempts", &self.retry.attempts())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
