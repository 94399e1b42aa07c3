//! Async publishing: single events, events with their own data version and event time, and
//! many events at once from concurrent tasks.
//!
//! `cargo run -p eventgrid --example async_publishing`

mod support;

use eventgrid::{EventGridClient, EventGridEvent};
use serde_json::json;
use support::Playground;
use time::macros::datetime;
use tokio::task::JoinSet;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events"]);
    let client =
        EventGridClient::with_async_credential(playground.config(), playground.credential())?;

    // A single event: new id, the current time, data version "v1".
    client
        .async_emit_event(
            "user-events",
            "user.login",
            "users/123",
            json!({"user_id": 123, "ip": "203.0.113.7"}),
        )
        .await?;

    // An event with its own data version and event time.
    let event = EventGridEvent::new(
        "user.profile_updated",
        "users/123",
        json!({"user_id": 123, "fields": ["email"]}),
    )?
    .with_data_version("2.0")
    .with_event_time(datetime!(2024-01-01 12:00:00 UTC));
    client.async_publish_event("user-events", event).await?;

    // Concurrent publishing: the client is cheap to clone and shares one connection pool.
    let mut tasks = JoinSet::new();
    for user_id in 1..=10 {
        let client = client.clone();
        tasks.spawn(async move {
            client
                .async_emit_event(
                    "user-events",
                    "user.created",
                    format!("users/{user_id}"),
                    json!({"user_id": user_id}),
                )
                .await
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }

    let events = playground.expect_received("user-events", 12);
    if !events.is_empty() {
        let versioned = events
            .iter()
            .find(|e| e["eventType"] == "user.profile_updated");
        support::check(
            versioned.is_some_and(|e| {
                e["dataVersion"] == "2.0" && e["eventTime"] == "2024-01-01T12:00:00Z"
            }),
            "the event with its own data version and time arrived as sent",
        );
    }
    Ok(())
}
