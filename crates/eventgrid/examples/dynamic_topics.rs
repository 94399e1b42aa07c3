//! Dynamic topic registration: topics added and removed while the client runs (a tenant
//! signs up, a feature flag turns on), seen by every clone of the client.
//!
//! `cargo run -p eventgrid --example dynamic_topics`

mod support;

use eventgrid::{Error, EventGridClient, EventGridConfig};
use serde_json::json;
use support::Playground;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events", "order-events"]);

    // Start with no topics at all.
    let client = EventGridClient::with_async_credential(
        EventGridConfig::default(),
        playground.credential(),
    )?;
    let worker = client.clone();
    println!("topics at start: {:?}", client.topics());

    client.add_topic(playground.topic("user-events"))?;
    worker
        .async_emit_event(
            "user-events",
            "tenant.onboarded",
            "tenants/acme",
            json!({"plan": "pro"}),
        )
        .await?;

    client.add_topic(playground.topic("order-events"))?;
    println!("topics now: {:?}", worker.topics());
    worker
        .async_emit_event(
            "order-events",
            "order.placed",
            "orders/1",
            json!({"tenant": "acme"}),
        )
        .await?;

    // Adding a name twice is refused; publishing to a removed topic names the topics left.
    let twice = client.add_topic(playground.topic("user-events"));
    support::check(
        matches!(twice, Err(Error::InvalidTopic { .. })),
        "duplicate refused",
    );
    client.remove_topic("order-events")?;
    match worker
        .async_emit_event("order-events", "order.placed", "orders/2", json!({}))
        .await
    {
        Err(error @ Error::UnknownTopic { .. }) => println!("after removal: {error}"),
        other => support::fail(&format!("expected UnknownTopic, got {other:?}")),
    }

    playground.expect_received("user-events", 1);
    playground.expect_received("order-events", 1);
    Ok(())
}
