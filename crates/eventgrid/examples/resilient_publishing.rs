//! Resilient publishing: the built-in retries ride out a busy service; when they run out, the
//! error says so and the application keeps the event to send later.
//!
//! `cargo run -p eventgrid --example resilient_publishing`

mod support;

use std::time::Duration;

use eventgrid::{Error, EventGridClient, EventGridEvent, RetryOptions};
use serde_json::json;
use support::Playground;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["order-events"]);
    // Throttling (429), service trouble (500, 502, 503, 504), time-outs and dropped
    // connections are retried with exponential backoff and jitter, honouring Retry-After;
    // bad requests (400, 401, 403, 404, 413) are not. Every attempt sends the same event ids.
    let client = EventGridClient::builder(playground.config())
        .async_credential(playground.credential())
        .retry(
            RetryOptions::default()
                .with_max_retries(2)
                .with_initial_delay(Duration::from_millis(50))
                .with_max_elapsed(Duration::from_secs(10)),
        )
        .build()?;
    let inner = client
        .async_client()
        .expect("built with an async credential");

    // The service is busy for two requests: the third attempt gets through.
    let busy = playground.make_busy("order-events", 2);
    client
        .async_emit_event(
            "order-events",
            "order.placed",
            "orders/1",
            json!({"order_id": 1}),
        )
        .await?;
    let retries = inner.metrics()["order-events"].retries;
    println!("delivered after {retries} retries");
    support::check(
        !busy || retries == 2,
        "two retries rode out the busy service",
    );

    // Busy for longer than the retries last: the error names the attempts and the last answer.
    if playground.make_busy("order-events", 3) {
        let event = EventGridEvent::new("order.placed", "orders/2", json!({"order_id": 2}))?;
        let mut outbox = Vec::new();
        match client
            .async_publish_event("order-events", event.clone())
            .await
        {
            Err(error @ Error::RetriesExhausted { .. }) => {
                println!("kept for later: {error}");
                support::check(error.status() == Some(503), "the last answer was 503");
                outbox.push(event);
            }
            other => support::fail(&format!("expected the retries to run out, got {other:?}")),
        }
        // Later, the service has recovered: send what was kept, with the same event id.
        for event in outbox {
            client.async_publish_event("order-events", event).await?;
        }
        let events = playground.expect_received("order-events", 2);
        support::check(events[1]["subject"] == "orders/2", "the kept event arrived");
    } else {
        playground.expect_received("order-events", 1);
    }
    Ok(())
}
