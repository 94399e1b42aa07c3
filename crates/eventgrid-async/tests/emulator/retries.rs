//! What is retried (503, 429 with its hint, dropped connections, time-outs) and what is not
//! (400, 401, 413), with the same event ids on every attempt.

use std::time::{Duration, Instant};

use eventgrid_async::{
    Credential, Error, EventGridClient, EventGridEvent, RetryOptions, Schema, TransportErrorKind,
};
use eventgrid_emulator::{EmulatorConfig, FaultRule, FaultSpec, TopicSpec};
use serde_json::json;

use crate::{KEY, config, quick_retries, received_ids, start};

async fn client_for(
    emulator: &eventgrid_emulator::RunningEmulator,
    retry: RetryOptions,
) -> EventGridClient {
    EventGridClient::builder(config(emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key(KEY))
        .retry(retry)
        .build()
        .unwrap()
}

fn keyed() -> EmulatorConfig {
    EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))
}

#[tokio::test]
async fn service_unavailable_is_retried_with_the_same_event_id() {
    let emulator = start(keyed().fault("orders", FaultRule::status(503).next(2))).await;
    let client = client_for(&emulator, quick_retries(3)).await;
    let event = EventGridEvent::new("order.placed", "orders/1", json!({}))
        .unwrap()
        .with_id("once");
    client.publish_event("orders", event).await.unwrap();

    let statuses: Vec<_> = emulator
        .requests("orders")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
    assert_eq!(received_ids(&emulator, "orders"), ["once"]);
    let metrics = client.metrics()["orders"];
    assert_eq!(
        (metrics.requests, metrics.retries, metrics.events_published),
        (3, 2, 1)
    );
}

#[tokio::test]
async fn too_many_requests_waits_as_long_as_retry_after_says() {
    let emulator =
        start(keyed().fault("orders", FaultRule::status(429).retry_after_ms(300).next(1))).await;
    // The backoff alone would wait about 1 ms; only the hint makes it 300 ms.
    let client = client_for(&emulator, quick_retries(2)).await;
    let started = Instant::now();
    client.emit_event("orders", "t", "s", 1).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let statuses: Vec<_> = emulator
        .requests("orders")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
}

#[tokio::test]
async fn retries_end_with_the_last_error_when_exhausted() {
    let emulator = start(keyed().fault("orders", FaultRule::status(503))).await;
    let client = client_for(&emulator, quick_retries(2)).await;
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    match &error {
        Error::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert_eq!(last.status(), Some(503));
        }
        other => panic!("{other}"),
    }
    assert_eq!(emulator.counters("orders").requests, 3);
    assert_eq!(client.metrics()["orders"].events_failed, 1);
}

#[tokio::test]
async fn bad_request_is_not_retried() {
    // The client thinks the topic takes EventGridEvents; the service's topic takes CloudEvents
    // and answers 400.
    let emulator = start(EmulatorConfig::new().topic(
        TopicSpec::keyed("orders", KEY).with_schema(eventgrid_emulator::Schema::CloudEvents),
    ))
    .await;
    let client = client_for(&emulator, quick_retries(3)).await;
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(matches!(error, Error::Service(_)));
    assert_eq!(emulator.counters("orders").requests, 1);
    assert_eq!(client.metrics()["orders"].retries, 0);
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let emulator = start(keyed()).await;
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key("b3RoZXI="))
        .retry(quick_retries(3))
        .build()
        .unwrap();
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert_eq!(emulator.counters("orders").requests, 1);
}

#[tokio::test]
async fn payload_too_large_is_not_retried() {
    // The service's request limit is below the client's: the service answers 413.
    let emulator = start(keyed().limits(eventgrid_emulator::Limits {
        max_request_bytes: 2_000,
        ..eventgrid_emulator::Limits::default()
    }))
    .await;
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key(KEY))
        .retry(quick_retries(3))
        .build()
        .unwrap();
    let error = client
        .emit_event("orders", "t", "s", "x".repeat(5_000))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(413), "{error}");
    assert_eq!(emulator.counters("orders").requests, 1);
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let emulator = start(keyed().fault("orders", FaultRule::drop_connection().next(2))).await;
    let client = client_for(&emulator, quick_retries(3)).await;
    let event = EventGridEvent::new("t", "s", 1)
        .unwrap()
        .with_id("survivor");
    client.publish_event("orders", event).await.unwrap();
    let counters = emulator.counters("orders");
    assert_eq!(
        (counters.dropped_connections, counters.accepted_events),
        (2, 1)
    );
    assert_eq!(received_ids(&emulator, "orders"), ["survivor"]);
}

#[tokio::test]
async fn dropped_connection_without_retries_is_connection_closed() {
    let emulator = start(keyed().fault("orders", FaultRule::drop_connection().next(1))).await;
    let client = client_for(&emulator, RetryOptions::none()).await;
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    let Error::RetriesExhausted { last, .. } = &error else {
        panic!("{error}")
    };
    let Error::Transport(transport) = last.as_ref() else {
        panic!("{error}")
    };
    assert_eq!(
        transport.kind(),
        TransportErrorKind::ConnectionClosed,
        "{error}"
    );
}

#[tokio::test]
async fn slow_answers_time_out_per_attempt() {
    let emulator = start(keyed().fault("orders", FaultRule::latency(Duration::from_secs(2)))).await;
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key(KEY))
        .retry(RetryOptions::none())
        .request_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    let Error::RetriesExhausted { last, .. } = &error else {
        panic!("{error}")
    };
    let Error::Transport(transport) = last.as_ref() else {
        panic!("{error}")
    };
    assert_eq!(transport.kind(), TransportErrorKind::Timeout);
    assert!(
        error.to_string().contains("request timeout of 150ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried_with_the_same_body() {
    let slow_once = FaultSpec::new().rule(FaultRule::latency(Duration::from_millis(1_000)).next(1));
    let emulator = start(keyed().fault("orders", slow_once)).await;
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::access_key(KEY))
        .retry(quick_retries(5))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let event = EventGridEvent::new("t", "s", 1).unwrap().with_id("same-id");
    client.publish_event("orders", event).await.unwrap();
    let metrics = client.metrics()["orders"];
    assert!(metrics.retries >= 1, "{metrics:?}");
    assert_eq!(metrics.events_published, 1);
    // The slow attempt may still land after the client gave up on it: then the service holds
    // the event twice, under the one id subscribers deduplicate on.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let ids = received_ids(&emulator, "orders");
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id == "same-id"),
        "{ids:?}"
    );
}
