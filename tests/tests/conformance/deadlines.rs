//! The overall deadline (`RetryOptions::max_elapsed`): no retry starts that would end past it,
//! and no attempt runs past it.

use std::time::Duration;

use eventgrid::TransportErrorKind;
use eventgrid_emulator::{FaultRule, FaultSpec};
use eventgrid_tests::conformance::{GRID, Lab, grid_events};

use crate::support::{Counts, assert_metrics, attempts, service_error, transport_kind};

pub fn deadline_stops_the_retries(lab: &Lab) {
    // Ten retries allowed, each 100 ms apart, within 350 ms: the deadline ends them first
    // (after four attempts, or fewer on a slow machine).
    lab.fault(GRID, FaultRule::status(503).retry_after_ms(100));
    let mut setup = lab.setup(&[GRID]);
    setup.options.retry = setup
        .options
        .retry
        .with_max_retries(10)
        .with_max_elapsed(Duration::from_millis(350));
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    let attempts = attempts(error);
    assert!((2..=5).contains(&attempts), "{error}");
    match transport_kind(error) {
        // The deadline came between attempts: the last answer is the service's.
        None => {
            assert_eq!(service_error(error).status, 503);
            assert_eq!(lab.counters(GRID).requests, u64::from(attempts));
            assert_metrics(
                &*subject,
                GRID,
                Counts {
                    failed: 2,
                    requests: u64::from(attempts),
                    retries: u64::from(attempts - 1),
                    ..Counts::default()
                },
            );
        }
        // On a loaded machine the deadline can fall inside the last attempt (or just before it
        // is sent): then that attempt ends as a time-out, which is the other correct outcome.
        Some(kind) => {
            assert_eq!(kind, TransportErrorKind::Timeout, "{error}");
            assert!(lab.counters(GRID).requests <= u64::from(attempts));
        }
    }
}

pub fn deadline_bounds_the_attempt_in_flight(lab: &Lab) {
    // The first answer would take 1.5 seconds, within `request_timeout` but far past the
    // 300 ms deadline: the attempt is cut at the deadline, as a time-out.
    lab.fault(
        GRID,
        FaultSpec::new()
            .rule(FaultRule::latency(Duration::from_millis(1_500)).next(1))
            .rule(FaultRule::drop_connection().next(1)),
    );
    let mut setup = lab.setup(&[GRID]);
    setup.options.request_timeout = Duration::from_secs(5);
    setup.options.retry = setup
        .options
        .retry
        .with_max_elapsed(Duration::from_millis(300));
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    assert_eq!(
        transport_kind(error),
        Some(TransportErrorKind::Timeout),
        "{error:?}"
    );
    assert!(lab.events(GRID).is_empty());
}
