//! Metrics: what a user reads from `metrics()` matches what the service saw.

use eventgrid_emulator::FaultRule;
use eventgrid_tests::conformance::{GRID, Lab, grid_events};

use crate::support::{Counts, assert_metrics};

pub fn metrics_count_requests_bytes_and_latency(lab: &Lab) {
    let mut setup = lab.setup(&[GRID]);
    setup.options.limits = setup.options.limits.with_max_events_per_request(3);
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("e", 5)).assert_delivered();
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 5,
            requests: 2,
            ..Counts::default()
        },
    );
    let sent: u64 = lab
        .requests(GRID)
        .iter()
        .map(|request| {
            request
                .header("content-length")
                .and_then(|length| length.parse::<u64>().ok())
                .expect("a content-length")
        })
        .sum();
    let metrics = subject.metrics(GRID);
    assert_eq!(metrics.bytes_sent, sent, "{metrics:?}");
    assert!(metrics.latency.max >= metrics.latency.mean, "{metrics:?}");
}

pub fn metrics_count_retries_and_failures(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    lab.fault(GRID, FaultRule::status(503).next(1));
    subject.send(GRID, grid_events("a", 2)).assert_delivered();
    lab.fault(GRID, FaultRule::status(400).next(1));
    let outcome = subject.send(GRID, grid_events("b", 3));
    assert_eq!(outcome.error().status(), Some(400));
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 2,
            failed: 3,
            requests: 3,
            retries: 1,
        },
    );
}

pub fn metrics_survive_removing_and_adding_the_topic(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    subject.send(GRID, grid_events("a", 1)).assert_delivered();
    subject.remove_topic(GRID).expect("a configured topic");
    subject.add_topic(lab.topic(GRID)).expect("a free name");
    subject.send(GRID, grid_events("b", 2)).assert_delivered();
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 3,
            requests: 2,
            ..Counts::default()
        },
    );
}
