//! Splitting into requests: by event count and by body size, for `send` (and publishers) and
//! for `send_stream`, which reads its events lazily.

use eventgrid::{Error, EventGridEvent};
use eventgrid_tests::conformance::{Events, GRID, Lab, Outcome, grid_events, sorted_ids};
use serde_json::json;

use crate::support::{Counts, assert_metrics};

/// The number of events in each request the topic saw, smallest first.
fn request_sizes(lab: &Lab) -> Vec<usize> {
    let mut sizes: Vec<usize> = lab.requests(GRID).iter().map(|r| r.events).collect();
    sizes.sort_unstable();
    sizes
}

/// Ten events, four per request.
fn split_by_count(
    lab: &Lab,
    send: fn(&dyn eventgrid_tests::conformance::Subject, Events) -> Outcome,
) {
    let mut setup = lab.setup(&[GRID]);
    setup.options.limits = setup.options.limits.with_max_events_per_request(4);
    let subject = lab.subject(setup);
    let outcome = send(&*subject, grid_events("e", 10));
    outcome.assert_delivered();
    if let Some(summary) = outcome.summary() {
        assert_eq!((summary.events, summary.requests), (10, 3), "{summary:?}");
    }
    assert_eq!(request_sizes(lab), [2, 4, 4]);
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 10));
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 10,
            requests: 3,
            ..Counts::default()
        },
    );
}

pub fn send_splits_by_event_count(lab: &Lab) {
    split_by_count(lab, |subject, events| subject.send(GRID, events));
}

pub fn send_stream_splits_like_send(lab: &Lab) {
    split_by_count(lab, |subject, events| {
        subject.send_stream(GRID, events).expect("a client")
    });
}

pub fn send_splits_by_body_size(lab: &Lab) {
    // Events of about 750 bytes, bodies of at most 2,500: three events per request.
    let mut setup = lab.setup(&[GRID]);
    setup.options.limits = setup
        .options
        .limits
        .with_max_event_bytes(1_000)
        .with_max_request_bytes(2_500);
    let subject = lab.subject(setup);
    let Events::Grid(events) = grid_events("e", 7) else {
        unreachable!()
    };
    let events = events
        .into_iter()
        .enumerate()
        .map(|(n, event)| {
            EventGridEvent::new(
                "order.placed",
                format!("orders/{n}"),
                json!({"pad": "x".repeat(600)}),
            )
            .unwrap()
            .with_id(event.id())
        })
        .collect();
    subject.send(GRID, Events::Grid(events)).assert_delivered();
    assert_eq!(request_sizes(lab), [1, 3, 3]);
    for request in lab.requests(GRID) {
        let length: usize = request.header("content-length").unwrap().parse().unwrap();
        assert!(length <= 2_500, "a body of {length} bytes");
    }
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 7));
}

pub fn send_stream_stops_at_an_invalid_event(lab: &Lab) {
    // Event 9 of ten is too large, found only when reached: the two full requests before it
    // are delivered, and its own (events 8 and 9) is not sent.
    let mut setup = lab.setup(&[GRID]);
    setup.options.limits = setup.options.limits.with_max_events_per_request(4);
    let subject = lab.subject(setup);
    let Events::Grid(mut events) = grid_events("e", 10) else {
        unreachable!()
    };
    events[9] = EventGridEvent::new("t", "s", json!({"blob": "x".repeat(70_000)}))
        .unwrap()
        .with_id("e-9");
    let outcome = subject
        .send_stream(GRID, Events::Grid(events))
        .expect("a client");
    let Outcome::Call(Err(Error::Delivery(failure))) = &outcome else {
        panic!("expected a partial delivery, got {outcome:?}");
    };
    assert_eq!(failure.topic, GRID);
    assert_eq!(failure.delivered, vec![0..8_usize]);
    assert_eq!(failure.failed.len(), 1, "{failure}");
    assert_eq!(failure.failed[0].events, 8..10);
    assert!(
        matches!(
            failure.failed[0].error,
            Error::EventTooLarge { index: 9, .. }
        ),
        "{failure}"
    );
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 8));
    assert_eq!(request_sizes(lab), [4, 4]);
    assert_eq!(subject.metrics(GRID).events_published, 8);
}

pub fn send_stream_names_the_events_read_past_a_refused_one(lab: &Lab) {
    // Event 13 is too large, but not the first of its request's events, so only the encoder
    // finds it, after the reader has gone on (chunks are encoded on other cores). Nothing from
    // its request on goes out, and every event read is either delivered or named failed.
    let mut setup = lab.setup(&[GRID]);
    setup.options.limits = setup.options.limits.with_max_events_per_request(4);
    let subject = lab.subject(setup);
    let Events::Grid(mut events) = grid_events("e", 40) else {
        unreachable!()
    };
    events[13] = EventGridEvent::new("t", "s", json!({"blob": "x".repeat(70_000)}))
        .unwrap()
        .with_id("e-13");
    let outcome = subject
        .send_stream(GRID, Events::Grid(events))
        .expect("a client");
    let Outcome::Call(Err(Error::Delivery(failure))) = &outcome else {
        panic!("expected a partial delivery, got {outcome:?}");
    };
    assert_eq!(failure.delivered, vec![0..12_usize]);
    assert_eq!(failure.failed.len(), 1, "{failure}");
    let failed = &failure.failed[0];
    assert_eq!(failed.events.start, 12);
    assert!((14..=40).contains(&failed.events.end), "{failure}");
    assert!(
        matches!(failed.error, Error::EventTooLarge { index: 13, .. }),
        "{failure}"
    );
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 12));
    assert_eq!(request_sizes(lab), [4, 4, 4]);
    assert_eq!(subject.metrics(GRID).events_published, 12);
}

/// An event whose JSON is exactly `size` bytes, with id `id`.
fn event_of_size(id: &str, size: usize) -> EventGridEvent {
    let padded = |pad: usize| {
        EventGridEvent::new(
            "order.placed",
            "orders/1",
            json!({ "pad": "x".repeat(pad) }),
        )
        .unwrap()
        .with_id(id)
        .with_event_time(time::macros::datetime!(2024-05-01 12:00:00.5 UTC))
    };
    let mut json = Vec::new();
    eventgrid::Event::write_json(&padded(0), &mut json).unwrap();
    let event = padded(size - json.len());
    json.clear();
    eventgrid::Event::write_json(&event, &mut json).unwrap();
    assert_eq!(json.len(), size);
    event
}

pub fn event_at_the_size_limit_is_sent(lab: &Lab) {
    // 65,536 bytes is the default limit: an event of exactly that size goes, one byte more
    // does not.
    let subject = lab.subject(lab.setup(&[GRID]));
    let at_limit = event_of_size("at-limit", 65_536);
    subject
        .send(GRID, Events::Grid(vec![at_limit]))
        .assert_delivered();
    assert_eq!(lab.ids(GRID), ["at-limit"]);
    let over = event_of_size("over", 65_537);
    let outcome = subject.send(GRID, Events::Grid(vec![over]));
    match outcome.error() {
        Error::EventTooLarge { size, limit, .. } => assert_eq!((*size, *limit), (65_537, 65_536)),
        other => panic!("expected EventTooLarge, got: {other:?}"),
    }
    assert_eq!(lab.counters(GRID).requests, 1);
}
