//! Batch publishing: many events in as few requests as the limits allow, sent concurrently,
//! all validated before the first byte goes out.
//!
//! `cargo run -p eventgrid --example batch_publishing`

mod support;

use eventgrid::asynchronous::EventGridClient;
use eventgrid::{Error, EventGridEvent, Limits};
use serde_json::json;
use support::Playground;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["order-events"]);
    let client = EventGridClient::builder(playground.config())
        .credential(playground.credential())
        // Small requests, to show the splitting; the default is up to 5,000 events or 1 MiB.
        .limits(Limits::default().with_max_events_per_request(100))
        .max_concurrent_requests(4)
        .build()?;

    let events = (1..=250)
        .map(|n| {
            EventGridEvent::new(
                "order.imported",
                format!("orders/{n}"),
                json!({"order_id": n, "batch": "2024-01"}),
            )
        })
        .collect::<eventgrid::Result<Vec<_>>>()?;
    let summary = client.send("order-events", events).await?;
    println!(
        "delivered {} events in {} requests",
        summary.events, summary.requests
    );
    support::check(
        summary.events == 250 && summary.requests == 3,
        "250 events in 3 requests",
    );

    // One bad event stops the whole batch before anything is sent, naming its index.
    let too_big = "x".repeat(70 * 1024);
    let batch = vec![
        EventGridEvent::new("order.imported", "orders/251", json!({"order_id": 251}))?,
        EventGridEvent::new("order.imported", "orders/252", json!({"notes": too_big}))?,
    ];
    match client.send("order-events", batch).await {
        Err(Error::EventTooLarge { index, size, limit }) => {
            println!("refused: event {index} is {size} bytes, over {limit}; nothing was sent");
            support::check(index == 1, "the oversized event is named by its index");
        }
        other => support::fail(&format!("expected EventTooLarge, got {other:?}")),
    }

    playground.expect_received("order-events", 250);
    Ok(())
}
