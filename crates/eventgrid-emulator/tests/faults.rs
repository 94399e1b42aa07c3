//! Fault injection: statuses with retry hints for the next N requests or a seeded fraction,
//! latency, dropped connections, rules combined, over Rust and over HTTP.

mod support;

use std::time::{Duration, Instant};

use eventgrid_emulator::{EmulatorConfig, FaultRule, FaultSpec, TopicSpec};
use serde_json::json;
use support::{Client, events_body, publish_url, raw_exchange, start};

fn orders() -> EmulatorConfig {
    EmulatorConfig::new().topic(TopicSpec::open("orders"))
}

#[tokio::test]
async fn the_next_requests_get_the_chosen_status_and_retry_hint() {
    let emulator =
        start(orders().fault("orders", FaultRule::status(503).retry_after_secs(1).next(2))).await;
    let client = Client::new();
    let url = publish_url(&emulator, "orders");
    for _ in 0..2 {
        let reply = client.post_json(&url, &[], events_body(1)).await;
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(reply.code(), "ServiceUnavailable");
        assert!(reply.header("x-ms-request-id").is_some());
    }
    assert_eq!(
        client.post_json(&url, &[], events_body(1)).await.status,
        200
    );
    // Injected answers come before validation: the events of faulted requests are not kept.
    assert_eq!(emulator.events("orders").len(), 1);
    assert_eq!(emulator.counters("orders").rejections.get(&503), Some(&2));

    emulator
        .set_fault("orders", FaultRule::status(429).retry_after_ms(50).next(1))
        .unwrap();
    let reply = client.post_json(&url, &[], events_body(1)).await;
    assert_eq!(
        (reply.status, reply.header("retry-after-ms")),
        (429, Some("50"))
    );
    assert_eq!(reply.header("retry-after"), None);
    assert_eq!(
        client.post_json(&url, &[], events_body(1)).await.status,
        200
    );
}

#[tokio::test]
async fn fractions_follow_the_seed() {
    let emulator = start(orders()).await;
    let client = Client::new();
    let url = publish_url(&emulator, "orders");
    let spec = FaultSpec::new()
        .seed(11)
        .rule(FaultRule::status(500).fraction(0.5));
    let mut runs = Vec::new();
    for _ in 0..2 {
        emulator.set_fault("orders", spec.clone()).unwrap();
        let mut statuses = Vec::new();
        for _ in 0..100 {
            statuses.push(client.post_json(&url, &[], "[]").await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "the same seed gives the same faults");
    let failures = runs[0].iter().filter(|status| **status == 500).count();
    assert!((30..=70).contains(&failures), "{failures} of 100");
    assert!(runs[0].iter().all(|status| [200, 500].contains(status)));
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let emulator = start(orders().fault(
        "orders",
        FaultRule::latency(Duration::from_millis(150)).next(1),
    ))
    .await;
    let client = Client::new();
    let url = publish_url(&emulator, "orders");
    let started = Instant::now();
    assert_eq!(
        client.post_json(&url, &[], events_body(1)).await.status,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(emulator.events("orders").len(), 1);
}

#[tokio::test]
async fn dropped_connections_get_no_answer_at_all() {
    let emulator = start(orders().fault("orders", FaultRule::drop_connection().next(1))).await;
    let body = events_body(1);
    let request = format!(
        "POST /orders/api/events?api-version=2018-01-01 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let address = emulator.local_addr();
    let answer = tokio::task::spawn_blocking(move || raw_exchange(address, request.as_bytes()))
        .await
        .unwrap();
    match answer {
        Ok(bytes) => assert!(
            bytes.is_empty(),
            "got {:?}",
            String::from_utf8_lossy(&bytes)
        ),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
    }
    let client = Client::new();
    let reply = client
        .post_json(&publish_url(&emulator, "orders"), &[], events_body(1))
        .await;
    assert_eq!(reply.status, 200);
    let counters = emulator.counters("orders");
    assert_eq!((counters.requests, counters.dropped_connections), (2, 1));
    assert_eq!(emulator.requests("orders")[0].status, None);
}

#[tokio::test]
async fn rules_combine_on_one_topic() {
    let soak = FaultSpec::new()
        .seed(2024)
        .rule(FaultRule::status(503).fraction(0.20))
        .rule(FaultRule::status(429).retry_after_ms(1).fraction(0.05))
        .rule(FaultRule::drop_connection().fraction(0.05))
        .rule(FaultRule::latency(Duration::from_millis(1)).fraction(0.1));
    let emulator = start(orders().fault("orders", soak)).await;
    let client = Client::new();
    let url = publish_url(&emulator, "orders");
    let (mut ok, mut unavailable, mut throttled, mut dropped) = (0, 0, 0, 0);
    for _ in 0..400 {
        match client
            .try_send("POST", &url, &[("content-type", "application/json")], "[]")
            .await
        {
            Ok(reply) if reply.status == 200 => ok += 1,
            Ok(reply) if reply.status == 503 => unavailable += 1,
            Ok(reply) if reply.status == 429 => {
                assert_eq!(reply.header("retry-after-ms"), Some("1"));
                throttled += 1;
            }
            Ok(reply) => panic!("unexpected {}", reply.status),
            Err(_) => dropped += 1,
        }
    }
    assert!((50..=110).contains(&unavailable), "{unavailable}");
    assert!((8..=35).contains(&throttled), "{throttled}");
    assert!((8..=35).contains(&dropped), "{dropped}");
    assert_eq!(ok + unavailable + throttled + dropped, 400);
    let counters = emulator.counters("orders");
    assert_eq!(counters.dropped_connections, dropped);
    assert_eq!(counters.rejections.get(&503), Some(&unavailable));
    assert_eq!(counters.accepted_requests, ok);
}

#[tokio::test]
async fn faults_are_managed_over_http() {
    let emulator = start(orders()).await;
    let client = Client::new();
    let faults = format!("{}/_emulator/faults/orders", emulator.base_url());
    let spec = json!({"seed": 3, "rules": [{"status": 500, "next": 1}, {"latency_ms": 1}]});
    let reply = client
        .send(
            "PUT",
            &faults,
            &[("content-type", "application/json")],
            spec.to_string(),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), spec);
    assert_eq!(client.get(&faults).await.json(), spec);
    assert_eq!(
        client
            .get(&format!("{}/_emulator/faults", emulator.base_url()))
            .await
            .json(),
        json!({"orders": spec})
    );

    let url = publish_url(&emulator, "orders");
    assert_eq!(client.post_json(&url, &[], "[]").await.status, 500);
    assert_eq!(client.post_json(&url, &[], "[]").await.status, 200);

    assert_eq!(client.send("DELETE", &faults, &[], "").await.status, 204);
    assert_eq!(emulator.faults("orders"), None);

    let reply = client
        .send(
            "PUT",
            &faults,
            &[],
            r#"{"rules": [{"status": 503, "drop_connection": true}]}"#,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .message()
            .contains("exactly one of `status`, `latency_ms` and `drop_connection`"),
        "{}",
        reply.message()
    );
    let reply = client
        .send(
            "PUT",
            &faults,
            &[],
            r#"{"rules": [{"status": 503, "fraction": 0.8}, {"status": 500, "fraction": 0.8}]}"#,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("add up to 1.6"),
        "{}",
        reply.message()
    );
    let reply = client
        .send(
            "PUT",
            &format!("{}/_emulator/faults/nope", emulator.base_url()),
            &[],
            "{}",
        )
        .await;
    assert_eq!(reply.status, 404);

    emulator
        .set_fault("orders", FaultRule::status(502))
        .unwrap();
    assert_eq!(
        client
            .send(
                "DELETE",
                &format!("{}/_emulator/faults", emulator.base_url()),
                &[],
                ""
            )
            .await
            .status,
        204
    );
    assert_eq!(client.post_json(&url, &[], "[]").await.status, 200);
    assert!(emulator.set_fault("nope", FaultRule::status(500)).is_err());
}
