//! Validation before sending, splitting into requests, and partial failures.

use std::ops::Range;

use eventgrid_async::{
    Credential, Error, EventGridClient, EventGridEvent, Limits, RetryOptions, Schema, SendSummary,
};
use eventgrid_emulator::{EmulatorConfig, FaultRule, TopicSpec};
use serde_json::json;

use crate::{config, received_ids, start};

fn events(count: usize) -> Vec<EventGridEvent> {
    (0..count)
        .map(|n| {
            EventGridEvent::new("item.made", format!("items/{n}"), json!({"n": n}))
                .unwrap()
                .with_id(format!("id-{n}"))
        })
        .collect()
}

#[tokio::test]
async fn oversized_event_sends_nothing_and_names_its_index() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("items"))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("items", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    let mut batch = events(3);
    batch[1] = EventGridEvent::new("big", "items/1", "x".repeat(70_000)).unwrap();
    let error = client.send("items", batch).await.unwrap_err();
    match error {
        Error::EventTooLarge { index, limit, size } => {
            assert_eq!((index, limit), (1, 65_536));
            assert!(size > 70_000);
        }
        other => panic!("{other}"),
    }
    let error = client
        .emit_event("items", "big", "items/9", "x".repeat(70_000))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::EventTooLarge { index: 0, .. }),
        "{error}"
    );
    assert_eq!(emulator.counters("items").requests, 0, "nothing was sent");
    assert_eq!(client.metrics()["items"].requests, 0);
}

#[tokio::test]
async fn invalid_event_is_named_by_index_before_sending() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("items"))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("items", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    let mut batch = events(4);
    batch[2] = EventGridEvent::without_data("", "items/2");
    let error = client.send("items", batch).await.unwrap_err();
    assert!(
        matches!(error, Error::InvalidEvent { index: 2, .. }),
        "{error}"
    );
    assert_eq!(emulator.counters("items").requests, 0);
}

#[tokio::test]
async fn unknown_topic_lists_the_configured_ones() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("items"))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("items", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    let error = client.emit_event("itms", "t", "s", 1).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown topic `itms`; configured topics: items"
    );
    let error = client.send("itms", events(2)).await.unwrap_err();
    assert!(matches!(error, Error::UnknownTopic { .. }));
    assert_eq!(emulator.counters("items").requests, 0);
}

#[tokio::test]
async fn large_sends_are_split_by_count_and_by_size() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("items"))).await;
    let client = EventGridClient::builder(config(&emulator, &[("items", Schema::EventGrid)]))
        .limits(Limits::default().with_max_events_per_request(10))
        .build()
        .unwrap();
    let summary = client.send("items", events(25)).await.unwrap();
    assert_eq!(summary, SendSummary::new(25, 3));
    let mut sizes: Vec<usize> = emulator
        .requests("items")
        .iter()
        .map(|r| r.events)
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [5, 10, 10]);
    let mut ids = received_ids(&emulator, "items");
    ids.sort_by_key(|id| id[3..].parse::<usize>().unwrap());
    assert_eq!(ids, (0..25).map(|n| format!("id-{n}")).collect::<Vec<_>>());

    emulator.clear("items");
    let by_size = EventGridClient::builder(config(&emulator, &[("items", Schema::EventGrid)]))
        .limits(
            Limits::default()
                .with_max_event_bytes(20_000)
                .with_max_request_bytes(50_000),
        )
        .build()
        .unwrap();
    let big: Vec<_> = (0..5)
        .map(|n| EventGridEvent::new("big", format!("b/{n}"), "x".repeat(15_000)).unwrap())
        .collect();
    let summary = by_size.send("items", big).await.unwrap();
    assert_eq!(
        summary,
        SendSummary::new(5, 2),
        "3 events fit in 50,000 bytes"
    );
    assert_eq!(emulator.counters("items").accepted_events, 5);
}

#[tokio::test]
async fn partial_failure_names_delivered_and_failed_events() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .fault("items", FaultRule::status(400).next(1)),
    )
    .await;
    let client = EventGridClient::builder(config(&emulator, &[("items", Schema::EventGrid)]))
        .limits(Limits::default().with_max_events_per_request(10))
        .max_concurrent_requests(1)
        .retry(RetryOptions::none())
        .build()
        .unwrap();
    let Error::Delivery(failure) = client.send("items", events(25)).await.unwrap_err() else {
        panic!("expected a delivery failure")
    };
    assert_eq!(failure.topic, "items");
    assert_eq!(failure.delivered, vec![Range { start: 10, end: 25 }]);
    assert_eq!(failure.failed.len(), 1);
    assert_eq!(failure.failed[0].events, 0..10);
    assert_eq!(failure.failed[0].error.status(), Some(400));
    assert!(!failure.is_delivered(3) && failure.is_delivered(12));
    assert_eq!(emulator.counters("items").accepted_events, 15);
    let metrics = client.metrics()["items"];
    assert_eq!((metrics.events_published, metrics.events_failed), (15, 10));
}

#[tokio::test]
async fn empty_send_sends_nothing() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("items"))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("items", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    let summary = client
        .send("items", Vec::<EventGridEvent>::new())
        .await
        .unwrap();
    assert_eq!(summary, SendSummary::default());
    assert_eq!(emulator.counters("items").requests, 0);
}
