//! Refusals before anything is sent: the error names the cause, and the service sees nothing.

use eventgrid::{Error, EventGridConfig, EventGridEvent, EventGridTopicConfig, Schema};
use eventgrid_tests::conformance::{Events, GRID, Lab, cloud_events, grid_events};
use serde_json::json;

use crate::support::{Counts, assert_metrics, assert_nothing_sent};

/// Three events, the middle one being `odd`.
fn with_middle(odd: EventGridEvent) -> Events {
    let Events::Grid(mut events) = grid_events("e", 3) else {
        unreachable!()
    };
    events[1] = odd.with_id("e-1");
    Events::Grid(events)
}

/// Checks the refusal of event 1 of three: a client refuses the whole send, naming index 1,
/// and sends nothing; a publisher refuses that event alone (its index is 0, as a single
/// publish) and delivers the other two.
fn middle_event_refused(lab: &Lab, events: Events, check: fn(&Error, usize)) {
    let subject = lab.subject(lab.setup(&[GRID]));
    let outcome = subject.send(GRID, events);
    if subject.coalesces() {
        check(outcome.error_of(1).expect("event 1 is refused"), 0);
        assert_eq!(outcome.delivered(3), [0, 2]);
        assert_eq!(lab.sorted_ids(GRID), ["e-0", "e-2"]);
        assert_eq!(lab.counters(GRID).requests, 1);
        assert_metrics(
            &*subject,
            GRID,
            Counts {
                published: 2,
                requests: 1,
                ..Counts::default()
            },
        );
    } else {
        check(outcome.error(), 1);
        assert_nothing_sent(lab, GRID);
        assert_metrics(&*subject, GRID, Counts::default());
    }
}

pub fn oversize_event(lab: &Lab) {
    let big = EventGridEvent::new("t", "s", json!({ "blob": "x".repeat(70_000) })).unwrap();
    middle_event_refused(lab, with_middle(big), |error, index| match error {
        Error::EventTooLarge {
            index: refused,
            size,
            limit,
        } => {
            assert_eq!(*refused, index, "{error}");
            assert_eq!(*limit, 65_536, "{error}");
            assert!(*size > 70_000, "{error}");
        }
        other => panic!("expected EventTooLarge, got: {other:?}"),
    });
}

pub fn invalid_event(lab: &Lab) {
    let nameless = EventGridEvent::new("", "orders/1", 1).unwrap();
    middle_event_refused(lab, with_middle(nameless), |error, index| match error {
        Error::InvalidEvent {
            index: refused,
            reason,
        } => {
            assert_eq!(*refused, index, "{error}");
            assert!(reason.contains("eventType"), "{error}");
        }
        other => panic!("expected InvalidEvent, got: {other:?}"),
    });
}

pub fn too_many_events_per_request(lab: &Lab) {
    // More events per request than the service takes is refused when the client is made.
    let mut setup = lab.setup(&[GRID]);
    setup.options.limits = setup.options.limits.with_max_events_per_request(5_001);
    match lab.adapter().build(setup) {
        Ok(_) => panic!("5,001 events per request must be refused"),
        Err(Error::InvalidOption(reason)) => {
            assert!(reason.contains("max_events_per_request"), "{reason}");
            assert!(
                reason.contains("5001") || reason.contains("5,001"),
                "{reason}"
            );
        }
        Err(other) => panic!("expected InvalidOption, got: {other:?}"),
    }
    assert_nothing_sent(lab, GRID);
}

pub fn schema_mismatch(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    let outcome = subject.send(GRID, cloud_events("c", 2));
    match outcome.error() {
        Error::SchemaMismatch {
            topic,
            expected,
            given,
        } => {
            assert_eq!(topic, GRID);
            assert_eq!(*expected, Schema::EventGrid);
            assert_eq!(*given, Schema::CloudEvents);
        }
        other => panic!("expected SchemaMismatch, got: {other:?}"),
    }
    assert_nothing_sent(lab, GRID);
    assert_metrics(&*subject, GRID, Counts::default());
}

pub fn unknown_topic(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    let outcome = subject.send("nowhere", grid_events("e", 2));
    match outcome.error() {
        Error::UnknownTopic { name, configured } => {
            assert_eq!(name, "nowhere");
            assert_eq!(configured, &[GRID.to_owned()]);
        }
        other => panic!("expected UnknownTopic, got: {other:?}"),
    }
    assert_nothing_sent(lab, GRID);
}

pub fn credential_over_plain_http_to_another_host(lab: &Lab) {
    // Refused when the topic is configured, before any request: at build and at run time.
    let remote = || {
        EventGridTopicConfig::new("remote", "http://eventgrid.example.invalid/api/events").unwrap()
    };
    let check = |error: &Error| match error {
        Error::InsecureTransport { host } => assert_eq!(host, "eventgrid.example.invalid"),
        Error::InvalidTopic { topic, reason } => {
            assert_eq!(topic, "remote");
            assert!(
                reason.contains("plain http") && reason.contains("`eventgrid.example.invalid`"),
                "{reason}"
            );
        }
        other => panic!("expected the insecure endpoint to be refused, got: {other:?}"),
    };
    let mut setup = lab.setup(&[]);
    setup.config = EventGridConfig::new([remote()]).unwrap();
    match lab.adapter().build(setup) {
        Ok(_) => panic!("a credential for a plain http endpoint must be refused"),
        Err(error) => check(&error),
    }
    let subject = lab.subject(lab.setup(&[GRID]));
    check(
        &subject
            .add_topic(remote())
            .expect_err("refused at run time too"),
    );
    assert_eq!(subject.topics(), [GRID]);
}

pub fn nothing_to_send(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    let outcome = subject.send(GRID, Events::Grid(Vec::new()));
    outcome.assert_delivered();
    if let Some(summary) = outcome.summary() {
        assert_eq!((summary.events, summary.requests), (0, 0));
    }
    assert_nothing_sent(lab, GRID);
    assert_metrics(&*subject, GRID, Counts::default());
}
