//! Each schema, and domains: the same events arrive, as the schema's JSON and content type.

use eventgrid::EventGridEvent;
use eventgrid_tests::conformance::{
    CLOUD, CUSTOM, Events, GRID, Lab, cloud_events, custom_events, sorted_ids,
};
use serde_json::json;
use time::macros::datetime;

use crate::support::{Counts, assert_metrics};

/// Sends `events` to `topic` and checks they arrived in one request of `content_type`.
fn arrives(lab: &Lab, topic: &str, events: Events, content_type: &str) {
    let subject = lab.subject(lab.setup(&[topic]));
    let count = events.len();
    let ids = events.ids();
    subject.send(topic, events).assert_delivered();
    let mut expected = ids;
    expected.sort();
    assert_eq!(lab.sorted_ids(topic), expected);
    let requests = lab.requests(topic);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, Some(200));
    assert_eq!(requests[0].events, count);
    assert_eq!(requests[0].header("content-type"), Some(content_type));
    assert!(
        requests[0].path.ends_with("?api-version=2018-01-01"),
        "{}",
        requests[0].path
    );
    assert_metrics(
        &*subject,
        topic,
        Counts {
            published: count as u64,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn event_grid_schema(lab: &Lab) {
    let event = EventGridEvent::new(
        "user.updated",
        "users/1",
        json!({"name": "Ada", "note": "é ✓"}),
    )
    .unwrap()
    .with_id("fixed")
    .with_data_version("2.0")
    .with_event_time(datetime!(2024-02-29 23:59:59.5 UTC));
    arrives(
        lab,
        GRID,
        Events::Grid(vec![event]),
        "application/json; charset=utf-8",
    );
    assert_eq!(
        lab.events(GRID)[0],
        json!({
            "id": "fixed", "subject": "users/1", "eventType": "user.updated",
            "eventTime": "2024-02-29T23:59:59.5Z", "dataVersion": "2.0",
            "data": {"name": "Ada", "note": "é ✓"}
        })
    );
}

pub fn cloudevents_schema(lab: &Lab) {
    arrives(
        lab,
        CLOUD,
        cloud_events("c", 3),
        "application/cloudevents-batch+json; charset=utf-8",
    );
    let event = &lab.events(CLOUD)[0];
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["source"], "/orders");
    assert_eq!(event["type"], "order.placed");
}

pub fn custom_schema(lab: &Lab) {
    arrives(
        lab,
        CUSTOM,
        custom_events("u", 3),
        "application/json; charset=utf-8",
    );
    assert_eq!(lab.events(CUSTOM)[0], json!({"id": "u-0", "n": 0}));
}

pub fn domain_events(lab: &Lab) {
    // A domain takes events for its topics at one endpoint, each naming its topic.
    let events: Vec<EventGridEvent> = ["eu", "us", "eu"]
        .iter()
        .enumerate()
        .map(|(n, region)| {
            EventGridEvent::new("order.placed", format!("orders/{n}"), n)
                .unwrap()
                .with_id(format!("d-{n}"))
                .with_topic(format!("orders-{region}"))
        })
        .collect();
    arrives(
        lab,
        GRID,
        Events::Grid(events),
        "application/json; charset=utf-8",
    );
    let mut topics: Vec<String> = lab
        .events(GRID)
        .iter()
        .map(|event| event["topic"].as_str().unwrap_or_default().to_owned())
        .collect();
    topics.sort();
    assert_eq!(topics, ["orders-eu", "orders-eu", "orders-us"]);
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("d", 3));
}

pub fn emit_event_fills_in_id_time_and_version(lab: &Lab) {
    let subject = lab.subject(lab.setup(&[GRID]));
    subject
        .emit(GRID, "user.created", "users/1", json!({"user_id": 1}))
        .expect("delivered");
    let events = lab.events(GRID);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["eventType"], "user.created");
    assert_eq!(event["subject"], "users/1");
    assert_eq!(event["data"], json!({"user_id": 1}));
    assert_eq!(event["dataVersion"], "v1");
    let id = event["id"].as_str().expect("an id");
    assert_eq!((id.len(), id.matches('-').count()), (36, 4), "a UUID: {id}");
    let time = event["eventTime"].as_str().expect("an event time");
    time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|error| panic!("{time}: {error}"));
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            published: 1,
            requests: 1,
            ..Counts::default()
        },
    );
}
