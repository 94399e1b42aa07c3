//! The service's error statuses: 408, 429, 500 and 503 retried (after the service's hint when
//! it gives one), 400, 401, 403, 404 and 413 answered at once.

use std::time::Duration;

use eventgrid::Error;
use eventgrid_emulator::{FaultRule, Limits};
use eventgrid_tests::conformance::{GRID, Lab, grid_events, sorted_ids};

use crate::support::{Counts, assert_metrics, attempts, service_error};

/// The code the emulator (like the service) names `status` with.
fn code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        413 => "RequestEntityTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        503 => "ServiceUnavailable",
        _ => unreachable!("no other status here"),
    }
}

/// The first two attempts answered `status` (with `retry-after-ms: hint_ms` when given): the
/// third delivers, each event once.
fn retried(lab: &Lab, status: u16, hint_ms: Option<u64>) {
    let rule = FaultRule::status(status).next(2);
    lab.fault(
        GRID,
        match hint_ms {
            Some(ms) => rule.retry_after_ms(ms),
            None => rule,
        },
    );
    let subject = lab.subject(lab.setup(&[GRID]));
    subject.send(GRID, grid_events("e", 2)).assert_delivered();
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 2), "each event once");
    let counters = lab.counters(GRID);
    assert_eq!(counters.requests, 3, "{counters:?}");
    assert_eq!(counters.rejections.get(&status), Some(&2), "{counters:?}");
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 2,
            requests: 3,
            retries: 2,
            ..Counts::default()
        },
    );
}

pub fn retried_408(lab: &Lab) {
    retried(lab, 408, None);
}

pub fn retried_408_after_retry_after_ms(lab: &Lab) {
    retried(lab, 408, Some(20));
}

pub fn retried_429(lab: &Lab) {
    retried(lab, 429, None);
}

pub fn retried_429_after_retry_after_ms(lab: &Lab) {
    retried(lab, 429, Some(20));
}

pub fn retried_500(lab: &Lab) {
    retried(lab, 500, None);
}

pub fn retried_500_after_retry_after_ms(lab: &Lab) {
    retried(lab, 500, Some(20));
}

pub fn retried_503(lab: &Lab) {
    retried(lab, 503, None);
}

pub fn retried_503_after_retry_after_ms(lab: &Lab) {
    retried(lab, 503, Some(20));
}

pub fn retry_after_seconds_beyond_the_deadline(lab: &Lab) {
    // `Retry-After: 5` with one second left: the client gives up at once instead of waiting
    // past its deadline (or retrying early, against the service's wish).
    lab.fault(GRID, FaultRule::status(429).retry_after_secs(5).next(1));
    let mut setup = lab.setup(&[GRID]);
    setup.options.retry = setup.options.retry.with_max_elapsed(Duration::from_secs(1));
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    assert_eq!(attempts(error), 1, "{error}");
    let service = service_error(error);
    assert_eq!(service.status, 429);
    assert_eq!(service.retry_after, Some(Duration::from_secs(5)));
    assert_eq!(lab.counters(GRID).requests, 1);
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 2,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn retries_exhausted(lab: &Lab) {
    lab.fault(GRID, FaultRule::status(500));
    let mut setup = lab.setup(&[GRID]);
    setup.options.retry = setup.options.retry.with_max_retries(2);
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    assert_eq!(attempts(error), 3, "{error}");
    assert_eq!(error.status(), Some(500));
    assert_eq!(service_error(error).code.as_deref(), Some(code(500)));
    assert!(error.request_id().is_some(), "{error}");
    assert_eq!(lab.counters(GRID).requests, 3);
    assert!(lab.events(GRID).is_empty());
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 2,
            requests: 3,
            retries: 2,
            ..Counts::default()
        },
    );
}

/// Every attempt answered `status`: one request, and the service's error as it was sent.
fn not_retried(lab: &Lab, status: u16) {
    lab.fault(GRID, FaultRule::status(status));
    let subject = lab.subject(lab.setup(&[GRID]));
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    let Error::Service(service) = error else {
        panic!("expected the service's error, not retried: {error:?}");
    };
    assert_eq!(service.status, status);
    assert_eq!(service.code.as_deref(), Some(code(status)));
    assert!(service.message.contains("Injected"), "{error}");
    assert!(service.request_id.is_some(), "{error}");
    assert!(!error.is_retryable());
    let display = error.to_string();
    assert!(
        display.contains(&status.to_string()) && display.contains(code(status)),
        "{display}"
    );
    assert_eq!(lab.counters(GRID).requests, 1);
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 2,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn not_retried_400(lab: &Lab) {
    not_retried(lab, 400);
}

pub fn not_retried_401(lab: &Lab) {
    not_retried(lab, 401);
}

pub fn not_retried_403(lab: &Lab) {
    not_retried(lab, 403);
}

pub fn not_retried_404(lab: &Lab) {
    not_retried(lab, 404);
}

pub fn not_retried_413(lab: &Lab) {
    not_retried(lab, 413);
}

pub fn unknown_topic_path_is_404(lab: &Lab) {
    // Configured with the endpoint of a topic the service does not have.
    let mut setup = lab.setup(&[]);
    setup.config.insert(lab.topic("missing")).unwrap();
    let subject = lab.subject(setup);
    let outcome = subject.send("missing", grid_events("e", 1));
    let error = outcome.error();
    assert!(matches!(error, Error::Service(_)), "not retried: {error:?}");
    assert_eq!(error.status(), Some(404));
    assert_metrics(
        &*subject,
        "missing",
        Counts {
            failed: 1,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn request_over_the_service_limit_is_413(lab: &Lab) {
    // A service with a lower limit than the client's: refused as a whole, not retried.
    let lab = Lab::start_with(lab.adapter(), |config| {
        config.limits(Limits {
            max_events_per_request: 2,
            ..Limits::default()
        })
    });
    let subject = lab.subject(lab.setup(&[GRID]));
    let outcome = subject.send(GRID, grid_events("e", 3));
    let error = outcome.error();
    let Error::Service(service) = error else {
        panic!("expected the service's error, not retried: {error:?}");
    };
    assert_eq!(service.status, 413);
    assert_eq!(service.code.as_deref(), Some(code(413)));
    assert!(service.message.contains("3 events"), "{error}");
    assert_eq!(lab.counters(GRID).requests, 1);
    assert!(lab.events(GRID).is_empty());
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 3,
            requests: 1,
            ..Counts::default()
        },
    );
}
