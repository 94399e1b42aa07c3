//! Partial failure: when one request of several fails, the user learns exactly which events
//! were delivered, and they are the ones the service has.

use eventgrid::{CustomEvent, Error};
use eventgrid_tests::conformance::{Events, GRID, Lab, Outcome};
use serde_json::json;

use crate::support::{Counts, assert_metrics};

pub fn partial_failure_names_the_delivered_events(lab: &Lab) {
    // Sent as custom events to a topic of Event Grid events: the service refuses the request
    // holding event 3, which is not a valid Event Grid event, and takes the others.
    let mut setup = lab.setup(&[]);
    setup
        .config
        .insert(lab.topic(GRID).with_schema(eventgrid::Schema::Custom))
        .unwrap();
    setup.options.limits = setup.options.limits.with_max_events_per_request(2);
    let subject = lab.subject(setup);
    let events = (0..6)
        .map(|n| {
            let id = format!("p-{n}");
            let event = if n == 3 {
                json!({"id": id, "n": n})
            } else {
                json!({
                    "id": id, "subject": format!("orders/{n}"), "eventType": "order.placed",
                    "eventTime": "2024-05-01T12:00:00Z", "dataVersion": "1.0", "data": {"n": n}
                })
            };
            CustomEvent::new(event).unwrap()
        })
        .collect();
    let outcome = subject.send(GRID, Events::Custom(events));

    assert_eq!(outcome.delivered(6), [0, 1, 4, 5], "{outcome:?}");
    for refused in [2, 3] {
        let error = outcome.error_of(refused).expect("refused");
        assert_eq!(error.status(), Some(400), "{error}");
    }
    if let Outcome::Call(Err(Error::Delivery(failure))) = &outcome {
        assert_eq!(failure.delivered, [0..2, 4..6]);
        assert_eq!(failure.failed.len(), 1);
        assert_eq!(failure.failed[0].events, 2..4);
        assert_eq!((failure.delivered_count(), failure.failed_count()), (4, 2));
    } else {
        assert!(
            subject.coalesces(),
            "a client reports Error::Delivery: {outcome:?}"
        );
    }
    assert_eq!(lab.sorted_ids(GRID), ["p-0", "p-1", "p-4", "p-5"]);
    assert_eq!(lab.counters(GRID).requests, 3);
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 4,
            failed: 2,
            requests: 3,
            ..Counts::default()
        },
    );
}
