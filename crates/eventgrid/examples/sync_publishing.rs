//! Sync publishing: the same client from blocking code (scripts, worker threads, web
//! frameworks without async), no async runtime involved.
//!
//! `cargo run -p eventgrid --features blocking --example sync_publishing`

mod support;

use eventgrid::{EventGridClient, EventGridEvent};
use serde_json::json;
use support::Playground;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["order-events"]);

    // The seed's `EventGridClient(config, credential=...)`; with Azure, the credential is
    // usually `eventgrid::blocking::default_credential()?` (Microsoft Entra ID).
    let client =
        EventGridClient::with_sync_credential(playground.config(), playground.credential())?;

    client.sync_emit_event(
        "order-events",
        "order.placed",
        "orders/456",
        json!({"order_id": 456, "items": 3, "total": 99.5}),
    )?;

    let shipped = EventGridEvent::new("order.shipped", "orders/456", json!({"carrier": "DHL"}))?
        .with_data_version("1.1");
    client.sync_publish_event("order-events", shipped)?;

    // Threads share one client.
    let outcomes: Vec<eventgrid::Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..=4)
            .map(|order_id| {
                let client = &client;
                scope.spawn(move || {
                    client.sync_emit_event(
                        "order-events",
                        "order.paid",
                        format!("orders/{order_id}"),
                        json!({"order_id": order_id}),
                    )
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("the worker finished"))
            .collect()
    });
    for outcome in outcomes {
        outcome?;
    }

    let metrics = &client
        .sync_client()
        .expect("built with a sync credential")
        .metrics()["order-events"];
    println!(
        "published {} events in {} requests",
        metrics.events_published, metrics.requests
    );
    support::check(metrics.events_published == 6, "six events published");
    playground.expect_received("order-events", 6);
    Ok(())
}
