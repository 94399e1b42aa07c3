//! Failures below HTTP: dropped connections, time-outs, nothing listening.

use std::time::Duration;

use eventgrid::{Credential, EventGridConfig, EventGridTopicConfig, TransportErrorKind};
use eventgrid_emulator::{FaultRule, FaultSpec};
use eventgrid_tests::conformance::{GRID, Lab, grid_events, sorted_ids};

use crate::support::{Counts, assert_metrics, attempts, transport_kind};

pub fn dropped_connection_is_retried(lab: &Lab) {
    lab.fault(GRID, FaultRule::drop_connection().next(1));
    let subject = lab.subject(lab.setup(&[GRID]));
    subject.send(GRID, grid_events("e", 2)).assert_delivered();
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 2), "each event once");
    let counters = lab.counters(GRID);
    assert_eq!(
        (counters.requests, counters.dropped_connections),
        (2, 1),
        "{counters:?}"
    );
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 2,
            requests: 2,
            retries: 1,
            ..Counts::default()
        },
    );
}

pub fn dropped_connections_exhaust_the_retries(lab: &Lab) {
    lab.fault(GRID, FaultRule::drop_connection());
    let mut setup = lab.setup(&[GRID]);
    setup.options.retry = setup.options.retry.with_max_retries(1);
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    assert_eq!(attempts(error), 2, "{error}");
    assert_eq!(
        transport_kind(error),
        Some(TransportErrorKind::ConnectionClosed),
        "{error:?}"
    );
    assert_eq!(lab.counters(GRID).dropped_connections, 2);
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 2,
            requests: 2,
            retries: 1,
            ..Counts::default()
        },
    );
}

/// The first request is answered only after `request_timeout`, by dropping the connection
/// (so that it leaves no events behind).
fn first_request_too_slow(lab: &Lab) {
    lab.fault(
        GRID,
        FaultSpec::new()
            .rule(FaultRule::latency(Duration::from_millis(1_200)).next(1))
            .rule(FaultRule::drop_connection().next(1)),
    );
}

pub fn request_timeout_is_retried(lab: &Lab) {
    first_request_too_slow(lab);
    let mut setup = lab.setup(&[GRID]);
    setup.options.request_timeout = Duration::from_millis(400);
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("e", 2)).assert_delivered();
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 2));
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 2,
            requests: 2,
            retries: 1,
            ..Counts::default()
        },
    );
}

pub fn request_timeout_without_retries(lab: &Lab) {
    first_request_too_slow(lab);
    let mut setup = lab.setup(&[GRID]);
    setup.options.request_timeout = Duration::from_millis(400);
    setup.options.retry = setup.options.retry.with_max_retries(0);
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    assert_eq!(
        transport_kind(error),
        Some(TransportErrorKind::Timeout),
        "{error:?}"
    );
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

pub fn connection_refused(lab: &Lab) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let mut setup = lab.setup(&[]);
    setup.config = EventGridConfig::new([EventGridTopicConfig::new(
        "closed",
        format!("http://{closed}/api/events"),
    )
    .unwrap()])
    .unwrap();
    setup.credential = Credential::None;
    setup.options.retry = setup.options.retry.with_max_retries(1);
    let subject = lab.subject(setup);
    let outcome = subject.send("closed", grid_events("e", 2));
    let error = outcome.error();
    assert_eq!(attempts(error), 2, "{error}");
    assert_eq!(
        transport_kind(error),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    assert_metrics(
        &*subject,
        "closed",
        Counts {
            failed: 2,
            requests: 2,
            retries: 1,
            ..Counts::default()
        },
    );
}
