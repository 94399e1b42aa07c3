//! The service's retry schedule and its rules per answer: which statuses succeed, which are
//! never retried (the events are dead-lettered at once), how long each other failure waits at
//! least, and when the policy's attempt and time-to-live limits dead-letter.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How many times and for how long a subscription's events are retried.
///
/// ```
/// use eventgrid_emulator::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!((policy.max_delivery_attempts, policy.event_time_to_live_in_minutes), (30, 1440));
/// assert!(RetryPolicy::new(31, 60).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per event, the first included: 1 to 30 (default 30).
    #[serde(alias = "max_delivery_attempts")]
    pub max_delivery_attempts: u32,
    /// Minutes after publishing after which an event is no longer retried: 1 to 1,440
    /// (default 1,440, a day).
    #[serde(alias = "event_time_to_live_in_minutes")]
    pub event_time_to_live_in_minutes: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_delivery_attempts: 30,
            event_time_to_live_in_minutes: 1440,
        }
    }
}

impl RetryPolicy {
    /// A policy within the service's bounds, or the reason it is not.
    pub fn new(
        max_delivery_attempts: u32,
        event_time_to_live_in_minutes: u32,
    ) -> Result<Self, String> {
        let policy = Self {
            max_delivery_attempts,
            event_time_to_live_in_minutes,
        };
        policy.validate()?;
        Ok(policy)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(1..=30).contains(&self.max_delivery_attempts) {
            return Err(format!(
                "maxDeliveryAttempts is {}; it must be 1 to 30",
                self.max_delivery_attempts
            ));
        }
        if !(1..=1440).contains(&self.event_time_to_live_in_minutes) {
            return Err(format!(
                "eventTimeToLiveInMinutes is {}; it must be 1 to 1440",
                self.event_time_to_live_in_minutes
            ));
        }
        Ok(())
    }

    /// The time-to-live, before scaling.
    pub(crate) fn time_to_live(&self) -> Duration {
        Duration::from_secs(u64::from(self.event_time_to_live_in_minutes) * 60)
    }
}

/// The wait before retry number `n` (1 = the wait after the first attempt): 10 s, 30 s, 1 min,
/// 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then every 12 h.
pub(crate) fn scheduled_wait(failed_attempts: u32) -> Duration {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    let seconds = match failed_attempts {
        0 | 1 => 10,
        2 => 30,
        3 => MINUTE,
        4 => 5 * MINUTE,
        5 => 10 * MINUTE,
        6 => 30 * MINUTE,
        7 => HOUR,
        8 => 3 * HOUR,
        9 => 6 * HOUR,
        _ => 12 * HOUR,
    };
    Duration::from_secs(seconds)
}

/// What one delivery attempt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttemptResult {
    /// The subscriber answered with this status.
    Status(u16),
    /// No answer within the time-out.
    TimedOut,
    /// No answer at all: refused, reset, TLS failure, bad address. The text says which.
    Failed(String),
}

impl AttemptResult {
    /// 200 to 204, and nothing else, is success.
    pub(crate) fn succeeded(&self) -> bool {
        matches!(self, AttemptResult::Status(200..=204))
    }

    /// The service's `lastDeliveryOutcome` word for it.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            AttemptResult::Status(status) => match status {
                200..=204 => "Succeeded",
                400 => "BadRequest",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "NotFound",
                408 => "TimedOut",
                409 => "Conflict",
                410 => "Gone",
                413 => "RequestEntityTooLarge",
                429 => "TooManyRequests",
                500 => "InternalServerError",
                501 => "NotImplemented",
                502 => "BadGateway",
                503 => "ServiceUnavailable",
                504 => "GatewayTimeout",
                _ => "GenericError",
            },
            AttemptResult::TimedOut => "TimedOut",
            AttemptResult::Failed(_) => "GenericError",
        }
    }

    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            AttemptResult::Status(status) => Some(*status),
            _ => None,
        }
    }
}

/// What happens to a batch after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NextStep {
    /// Delivered; done.
    Done,
    /// Try again after this (already scaled) wait.
    RetryAfter(Duration),
    /// Give up: dead-letter with this `deadLetterReason`.
    DeadLetter(&'static str),
}

/// Decides after attempt number `attempts` (1-based) of a batch whose oldest event was published
/// `age` ago. Waits and the time-to-live are multiplied by `time_scale`.
pub(crate) fn next_step(
    result: &AttemptResult,
    attempts: u32,
    age: Duration,
    policy: &RetryPolicy,
    time_scale: f64,
) -> NextStep {
    if result.succeeded() {
        return NextStep::Done;
    }
    let minimum = match result {
        AttemptResult::Status(400) => {
            return NextStep::DeadLetter("UndeliverableDueToHttpBadRequest");
        }
        AttemptResult::Status(401) => {
            return NextStep::DeadLetter("UndeliverableDueToHttpUnauthorized");
        }
        AttemptResult::Status(403) => {
            return NextStep::DeadLetter("UndeliverableDueToHttpForbidden");
        }
        AttemptResult::Status(413) => {
            return NextStep::DeadLetter("UndeliverableDueToHttpRequestEntityTooLarge");
        }
        AttemptResult::Status(408) => Duration::from_secs(120),
        AttemptResult::Status(503) => Duration::from_secs(30),
        _ => Duration::from_secs(10),
    };
    if attempts >= policy.max_delivery_attempts {
        return NextStep::DeadLetter("MaxDeliveryAttemptsExceeded");
    }
    let wait = scale(scheduled_wait(attempts).max(minimum), time_scale);
    if age + wait > scale(policy.time_to_live(), time_scale) {
        return NextStep::DeadLetter("TimeToLiveExceeded");
    }
    NextStep::RetryAfter(wait)
}

/// `duration × factor`, for shrinking the service's times in tests.
pub(crate) fn scale(duration: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: f64 = 1.0;

    fn step(result: AttemptResult, attempts: u32) -> NextStep {
        next_step(
            &result,
            attempts,
            Duration::ZERO,
            &RetryPolicy::default(),
            ONE,
        )
    }

    #[test]
    fn only_200_to_204_succeed() {
        for status in [200, 201, 202, 203, 204] {
            assert_eq!(
                step(AttemptResult::Status(status), 1),
                NextStep::Done,
                "{status}"
            );
        }
        for status in [205, 302, 500] {
            assert!(
                matches!(
                    step(AttemptResult::Status(status), 1),
                    NextStep::RetryAfter(_)
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn the_schedule_is_the_services() {
        let minutes: Vec<u64> = (1..=12).map(|n| scheduled_wait(n).as_secs()).collect();
        assert_eq!(
            minutes,
            [
                10, 30, 60, 300, 600, 1800, 3600, 10800, 21600, 43200, 43200, 43200
            ]
        );
        assert_eq!(
            step(AttemptResult::Status(500), 1),
            NextStep::RetryAfter(Duration::from_secs(10))
        );
        assert_eq!(
            step(AttemptResult::TimedOut, 3),
            NextStep::RetryAfter(Duration::from_secs(60))
        );
    }

    #[test]
    fn never_retried_statuses_dead_letter_at_once() {
        for (status, reason) in [
            (400, "UndeliverableDueToHttpBadRequest"),
            (401, "UndeliverableDueToHttpUnauthorized"),
            (403, "UndeliverableDueToHttpForbidden"),
            (413, "UndeliverableDueToHttpRequestEntityTooLarge"),
        ] {
            assert_eq!(
                step(AttemptResult::Status(status), 1),
                NextStep::DeadLetter(reason)
            );
        }
    }

    #[test]
    fn some_statuses_wait_longer() {
        assert_eq!(
            step(AttemptResult::Status(408), 1),
            NextStep::RetryAfter(Duration::from_secs(120))
        );
        assert_eq!(
            step(AttemptResult::Status(503), 1),
            NextStep::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(
            step(AttemptResult::Status(503), 3),
            NextStep::RetryAfter(Duration::from_secs(60))
        );
        assert_eq!(
            step(AttemptResult::Failed("refused".into()), 1),
            NextStep::RetryAfter(Duration::from_secs(10))
        );
    }

    #[test]
    fn attempts_and_time_to_live_dead_letter_whichever_comes_first() {
        let policy = RetryPolicy::new(3, 1).unwrap();
        let failed = AttemptResult::Status(500);
        assert_eq!(
            next_step(&failed, 3, Duration::ZERO, &policy, ONE),
            NextStep::DeadLetter("MaxDeliveryAttemptsExceeded")
        );
        assert_eq!(
            next_step(&failed, 2, Duration::from_secs(31), &policy, ONE),
            NextStep::DeadLetter("TimeToLiveExceeded"),
            "the 30 s wait would end past the minute"
        );
        assert_eq!(
            next_step(&failed, 2, Duration::from_secs(29), &policy, ONE),
            NextStep::RetryAfter(Duration::from_secs(30))
        );
    }

    #[test]
    fn the_time_scale_shrinks_waits_and_time_to_live_alike() {
        let policy = RetryPolicy::new(30, 1).unwrap();
        let failed = AttemptResult::Status(500);
        assert_eq!(
            next_step(&failed, 1, Duration::ZERO, &policy, 0.001),
            NextStep::RetryAfter(Duration::from_millis(10))
        );
        assert_eq!(
            next_step(&failed, 2, Duration::from_millis(40), &policy, 0.001),
            NextStep::DeadLetter("TimeToLiveExceeded")
        );
    }

    #[test]
    fn policy_bounds_and_outcome_words() {
        assert!(RetryPolicy::new(0, 10).unwrap_err().contains("1 to 30"));
        assert!(RetryPolicy::new(1, 1441).unwrap_err().contains("1 to 1440"));
        assert_eq!(AttemptResult::Status(404).outcome(), "NotFound");
        assert_eq!(AttemptResult::TimedOut.outcome(), "TimedOut");
        assert_eq!(AttemptResult::Failed("x".into()).outcome(), "GenericError");
    }
}
