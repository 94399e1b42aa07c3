//! Retry decisions as pure logic: the caller hands in each result and the time, and is told
//! whether it is done, should wait and try again, or has failed.
//!
//! Delivery is at least once: an attempt that timed out or lost its connection may have
//! reached the service, and its retry then delivers the same events again, with the same ids
//! (every attempt sends the same body), so subscribers can drop the duplicate.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;

use crate::error::{Error, TransportError};
use crate::response::parse_service_error;

/// How failed requests are retried. Defaults: 3 retries, 500 ms first delay doubling each
/// time with jitter, each computed delay at most 30 s, and everything (token requests,
/// attempts, waits) within 60 s of the start.
///
/// A `Retry-After` (or `retry-after-ms`) answer is honoured as the service gave it, even
/// beyond `max_delay`: retrying sooner would only be throttled again. A hint that would end
/// past the overall deadline fails the operation at once with [`Error::RetriesExhausted`]
/// instead of waiting for nothing.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_core::RetryOptions;
/// let options = RetryOptions::default().with_max_retries(5).with_initial_delay(Duration::from_millis(100));
/// assert_eq!(options.max_retries, 5);
/// assert_eq!(RetryOptions::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryOptions {
    /// Retries after the first attempt. Default 3.
    pub max_retries: u32,
    /// Delay before the first retry; doubles for each one after. Default 500 ms.
    pub initial_delay: Duration,
    /// Longest computed backoff delay (a service's `Retry-After` is not capped). Default 30 s.
    pub max_delay: Duration,
    /// The overall deadline, from the start of the operation: token requests and the attempt
    /// in flight count, an attempt is cut at the deadline, and no retry is started whose
    /// wait would pass it. Default 60 s.
    pub max_elapsed: Duration,
}

impl Default for RetryOptions {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryOptions {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the first delay.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the longest delay.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the overall deadline.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }
}

/// Statuses worth retrying: 408, 429, 500, 502, 503, 504.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What to do after an attempt.
#[derive(Debug)]
pub enum Decision {
    /// The service accepted the request.
    Done {
        /// The status (2xx).
        status: u16,
        /// `x-ms-request-id`, if sent.
        request_id: Option<String>,
    },
    /// Wait `delay`, then send the same request again.
    Retry {
        /// How long to wait.
        delay: Duration,
        /// Why the attempt failed.
        error: Error,
    },
    /// Give up with `error`.
    Fail(Error),
}

/// A small seedable random source for backoff jitter (SplitMix64): the same seed gives the
/// same delays, so retry timing is deterministic under test.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// A source starting from `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    /// A source seeded from the process's random hasher keys.
    pub fn random() -> Self {
        Self(RandomState::new().hash_one(Instant::now()))
    }

    /// The next value in `[0, 1]`.
    pub fn next_fraction(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        z as f64 / u64::MAX as f64
    }
}

/// The retry state of one request across its attempts.
#[derive(Debug)]
pub struct RetryState {
    options: RetryOptions,
    attempts: u32,
    started: Instant,
    jitter: Jitter,
}

impl RetryState {
    /// A request about to make its first attempt at `now`, with random jitter.
    pub fn new(options: RetryOptions, now: Instant) -> Self {
        Self::with_jitter(options, now, Jitter::random())
    }

    /// Like [`new`](Self::new), with backoff jitter drawn from `jitter`.
    pub fn with_jitter(options: RetryOptions, now: Instant, jitter: Jitter) -> Self {
        Self {
            options,
            attempts: 0,
            started: now,
            jitter,
        }
    }

    /// When the operation started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The overall deadline: the start plus `max_elapsed` (far in the future when that
    /// overflows).
    pub fn deadline(&self) -> Instant {
        self.started
            .checked_add(self.options.max_elapsed)
            .unwrap_or_else(|| self.started + Duration::from_secs(100 * 365 * 24 * 3600))
    }

    /// Attempts decided on so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Decides on an attempt's result, received at `now`.
    pub fn decide(
        &mut self,
        result: Result<Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Decision {
        let error = match result {
            Ok(response) if response.status().is_success() => {
                self.attempts += 1;
                return Decision::Done {
                    status: response.status().as_u16(),
                    request_id: response
                        .headers()
                        .get("x-ms-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                };
            }
            Ok(response) => Error::Service(parse_service_error(
                response.status().as_u16(),
                response.headers(),
                response.body(),
            )),
            Err(transport) => Error::Transport(transport),
        };
        self.decide_error(error, now)
    }

    /// Counts an attempt the service accepted (its response is read by the caller).
    pub fn count_success(&mut self) {
        self.attempts += 1;
    }

    /// Decides on an attempt that failed before a response (for example, no token could be
    /// obtained).
    pub fn decide_error(&mut self, error: Error, now: Instant) -> Decision {
        self.attempts += 1;
        if !error.is_retryable() {
            return Decision::Fail(error);
        }
        let elapsed = now.saturating_duration_since(self.started);
        let attempts = self.attempts;
        let exhausted = |error| Error::RetriesExhausted {
            attempts,
            elapsed,
            last: Box::new(error),
        };
        if self.attempts > self.options.max_retries {
            return Decision::Fail(exhausted(error));
        }
        let hinted = match &error {
            Error::Service(e) => e.retry_after,
            _ => None,
        };
        let delay = hinted.unwrap_or_else(|| self.backoff());
        if elapsed.saturating_add(delay) > self.options.max_elapsed {
            return Decision::Fail(exhausted(error));
        }
        Decision::Retry { delay, error }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half random, so retries of
    /// many clients spread out but never collapse to zero.
    fn backoff(&mut self) -> Duration {
        let exponent = self.attempts.saturating_sub(1).min(20);
        let step = self
            .options
            .initial_delay
            .saturating_mul(1 << exponent)
            .min(self.options.max_delay);
        let random = self.jitter.next_fraction();
        step / 2 + step.mul_f64(random / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::error::TransportErrorKind;

    fn response(status: u16, headers: &[(&str, &str)]) -> Result<Response<Bytes>, TransportError> {
        let mut builder = Response::builder().status(StatusCode::from_u16(status).unwrap());
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        Ok(builder.body(Bytes::new()).unwrap())
    }

    #[test]
    fn never_retries_client_errors() {
        for status in [400, 401, 403, 404, 413] {
            let mut state = RetryState::new(RetryOptions::default(), Instant::now());
            match state.decide(response(status, &[]), Instant::now()) {
                Decision::Fail(e) => assert_eq!(e.status(), Some(status)),
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn retries_service_trouble_with_growing_jittered_delays() {
        let options = RetryOptions::default();
        let t0 = Instant::now();
        let mut state = RetryState::new(options, t0);
        let mut delays = Vec::new();
        for status in [503, 500, 429] {
            match state.decide(response(status, &[]), t0) {
                Decision::Retry { delay, .. } => delays.push(delay),
                other => panic!("{other:?}"),
            }
        }
        assert!(delays[0] >= Duration::from_millis(250) && delays[0] <= Duration::from_millis(500));
        assert!(delays[1] >= Duration::from_millis(500) && delays[1] <= Duration::from_secs(1));
        assert!(delays[2] >= Duration::from_secs(1) && delays[2] <= Duration::from_secs(2));
        match state.decide(response(503, &[]), t0) {
            Decision::Fail(Error::RetriesExhausted {
                attempts: 4, last, ..
            }) => {
                assert_eq!(last.status(), Some(503))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn honours_retry_after() {
        let mut state = RetryState::new(RetryOptions::default(), Instant::now());
        match state.decide(response(429, &[("retry-after", "7")]), Instant::now()) {
            Decision::Retry { delay, .. } => assert_eq!(delay, Duration::from_secs(7)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retries_connection_failures_but_not_tls() {
        let t0 = Instant::now();
        let mut state = RetryState::new(RetryOptions::default(), t0);
        let dropped = TransportError::new(TransportErrorKind::ConnectionClosed, "reset");
        assert!(matches!(
            state.decide(Err(dropped), t0),
            Decision::Retry { .. }
        ));
        let tls = TransportError::new(TransportErrorKind::Tls, "unknown issuer");
        assert!(matches!(
            state.decide(Err(tls), t0),
            Decision::Fail(Error::Transport(_))
        ));
    }

    #[test]
    fn stops_at_the_overall_deadline() {
        let options = RetryOptions::default().with_max_elapsed(Duration::from_secs(5));
        let t0 = Instant::now();
        let mut state = RetryState::new(options, t0);
        let later = t0 + Duration::from_secs(4);
        assert!(matches!(
            state.decide(response(503, &[("retry-after", "2")]), later),
            Decision::Fail(Error::RetriesExhausted { .. })
        ));
    }

    #[test]
    fn success_reports_request_id() {
        let mut state = RetryState::new(RetryOptions::default(), Instant::now());
        match state.decide(response(200, &[("x-ms-request-id", "abc")]), Instant::now()) {
            Decision::Done {
                status: 200,
                request_id,
            } => assert_eq!(request_id.as_deref(), Some("abc")),
            other => panic!("{other:?}"),
        }
    }
}
