//! Basic setup: configure named topics once, make a client, publish by topic name.
//!
//! Run it with `cargo run -p eventgrid --example basic_setup`: it starts the local emulator
//! unless `EVENTGRID_TOPICS` points it at real topics (see `support/mod.rs`).

mod support;

use eventgrid::{EventGridClient, EventGridConfig, EventGridTopicConfig};
use serde_json::json;
use support::Playground;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events", "order-events"]);

    // The seed's EventGridConfig of EventGridTopicConfigs, one per topic. By hand:
    //   EventGridTopicConfig::new("user-events",
    //       "https://user-events.westus2-1.eventgrid.azure.net/api/events")?
    // Here the playground gives the emulator's endpoints (or the environment's topics).
    let user_events: EventGridTopicConfig = playground.topic("user-events");
    let order_events: EventGridTopicConfig = playground.topic("order-events");
    println!("user-events at {}", user_events.endpoint());
    let config = EventGridConfig::new([user_events, order_events])?;

    // One client for every topic. With Azure, the credential is usually
    // `eventgrid::asynchronous::default_credential()?` (Microsoft Entra ID).
    let client = EventGridClient::with_async_credential(config, playground.credential())?;
    println!("configured topics: {:?}", client.topics());

    client
        .async_emit_event(
            "user-events",
            "user.created",
            "users/123",
            json!({"user_id": 123, "email": "user@example.com"}),
        )
        .await?;
    client
        .async_emit_event(
            "order-events",
            "order.placed",
            "orders/456",
            json!({"order_id": 456, "total": 99.5}),
        )
        .await?;

    let users = playground.expect_received("user-events", 1);
    let orders = playground.expect_received("order-events", 1);
    if let (Some(user), Some(order)) = (users.first(), orders.first()) {
        support::check(user["data"]["user_id"] == 123, "user event data");
        support::check(order["eventType"] == "order.placed", "order event type");
    }
    Ok(())
}
