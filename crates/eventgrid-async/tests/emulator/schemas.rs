//! Each event schema, and domain events, as the service receives them.

use eventgrid_async::{
    CloudEvent, Credential, CustomEvent, Error, EventGridClient, EventGridEvent, Schema,
};
use eventgrid_emulator::{EmulatorConfig, TopicSpec};
use serde_json::json;
use time::macros::datetime;

use crate::{config, start};

#[tokio::test]
async fn event_grid_events_arrive_with_every_field() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("users"))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("users", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    client
        .emit_event(
            "users",
            "user.created",
            "users/123",
            json!({"user_id": 123}),
        )
        .await
        .unwrap();
    let event = EventGridEvent::new("user.updated", "users/123", json!({"name": "Ada"}))
        .unwrap()
        .with_id("fixed-id")
        .with_data_version("2.0")
        .with_event_time(datetime!(2024-05-01 12:00:00 UTC));
    client.publish_event("users", event).await.unwrap();

    let events = emulator.events("users");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["eventType"], "user.created");
    assert_eq!(events[0]["subject"], "users/123");
    assert_eq!(events[0]["dataVersion"], "v1");
    assert_eq!(events[0]["data"], json!({"user_id": 123}));
    assert_eq!(events[1]["id"], "fixed-id");
    assert_eq!(events[1]["dataVersion"], "2.0");
    assert_eq!(events[1]["eventTime"], "2024-05-01T12:00:00Z");
    let request = &emulator.requests("users")[0];
    assert_eq!(
        request.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("eventgrid-rs/")
    );
}

#[tokio::test]
async fn domain_events_carry_their_domain_topic() {
    // The emulator has no domains; a topic stands in for the domain endpoint, which receives
    // each event's `topic` as sent.
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("shop-domain"))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("shop-domain", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    let events = ["orders", "payments"].map(|domain_topic| {
        EventGridEvent::new("shop.event", "shop/1", json!({}))
            .unwrap()
            .with_topic(domain_topic)
    });
    client.send("shop-domain", events).await.unwrap();
    let received: Vec<_> = emulator
        .events("shop-domain")
        .iter()
        .map(|e| e["topic"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(received, ["orders", "payments"]);
}

#[tokio::test]
async fn cloud_events_go_to_a_cloud_events_topic() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("audit").with_schema(eventgrid_emulator::Schema::CloudEvents)),
    )
    .await;
    let client = EventGridClient::new(
        config(&emulator, &[("audit", Schema::CloudEvents)]),
        Credential::None,
    )
    .unwrap();
    let event = CloudEvent::new("/orders", "order.audited", json!({"order": 7}))
        .unwrap()
        .with_subject("orders/7")
        .with_extension("correlationid", "c-1");
    let summary = client.send("audit", [event]).await.unwrap();
    assert_eq!((summary.events, summary.requests), (1, 1));
    let received = &emulator.events("audit")[0];
    assert_eq!(received["specversion"], "1.0");
    assert_eq!(received["source"], "/orders");
    assert_eq!(received["type"], "order.audited");
    assert_eq!(received["correlationid"], "c-1");
    assert_eq!(received["data"], json!({"order": 7}));
    assert_eq!(
        emulator.requests("audit")[0].header("content-type"),
        Some("application/cloudevents-batch+json; charset=utf-8")
    );
}

#[tokio::test]
async fn custom_events_go_to_a_custom_topic_as_given() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("metrics").with_schema(eventgrid_emulator::Schema::Custom)),
    )
    .await;
    let client = EventGridClient::new(
        config(&emulator, &[("metrics", Schema::Custom)]),
        Credential::None,
    )
    .unwrap();
    let events = (0..3).map(|n| CustomEvent::new(json!({"reading": n, "unit": "C"})).unwrap());
    client.send("metrics", events).await.unwrap();
    let received = emulator.events("metrics");
    assert_eq!(received.len(), 3);
    assert_eq!(received[2], json!({"reading": 2, "unit": "C"}));
}

#[tokio::test]
async fn events_of_another_schema_are_refused_before_sending() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("audit").with_schema(eventgrid_emulator::Schema::CloudEvents)),
    )
    .await;
    let client = EventGridClient::new(
        config(&emulator, &[("audit", Schema::CloudEvents)]),
        Credential::None,
    )
    .unwrap();
    let error = client.emit_event("audit", "t", "s", 1).await.unwrap_err();
    assert!(matches!(error, Error::SchemaMismatch { .. }), "{error}");
    assert_eq!(emulator.counters("audit").requests, 0);
}
