//! Namespace topics: publish by topic name as CloudEvents, receive with locks, settle each
//! event (acknowledge, release, reject), then let a processor run a handler.
//!
//! Run it with `cargo run -p eventgrid --example namespace_publish_receive`: it starts the
//! local emulator as the namespace (`https://<namespace>.<region>-1.eventgrid.azure.net` in
//! Azure).

use std::time::Duration;

use eventgrid::asynchronous::{Credential, EventGridClient};
use eventgrid::{
    CloudEvent, EventGridConfig, EventGridTopicConfig, HandlerError, KeyCredential, ProcessOptions,
    ReleaseDelay, Shutdown,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, NamespaceTopicSpec, SubscriptionSpec};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(
        EmulatorConfig::new()
            .namespace_topic(NamespaceTopicSpec::keyed("orders", "bnMta2V5"))
            .subscription("orders/billing".parse::<SubscriptionSpec>()?),
    )
    .await?;

    // The name the client knows the topic by, the namespace endpoint and the topic's name in
    // the namespace; `emit_event` makes CloudEvents from this source.
    let orders =
        EventGridTopicConfig::namespace("orders", emulator.namespace_endpoint(), "orders")?
            .with_source("/shop/checkout")
            .with_credential(KeyCredential::access_key("bnMta2V5"));
    let client = EventGridClient::new(EventGridConfig::new([orders])?, Credential::None)?;

    client
        .emit_event("orders", "order.placed", "orders/1", json!({"total": 30}))
        .await?;
    let more =
        (2..=4).map(|n| CloudEvent::new("/shop/checkout", "order.paid", json!({"order": n})));
    client
        .send("orders", more.collect::<Result<Vec<_>, _>>()?)
        .await?;

    let billing = client.receiver("orders", "billing")?;
    // Events that could not be read would be in `.malformed`, with the lock tokens to reject.
    let events = billing.receive(10, Duration::from_secs(10)).await?.events;
    for event in &events {
        println!(
            "{} {} (delivery {})",
            event.event.event_type(),
            event.event.id(),
            event.delivery_count
        );
    }
    let tokens: Vec<&str> = events.iter().map(|e| e.lock_token.as_str()).collect();
    // The service answers 200 even when tokens fail: `into_result` makes that an error.
    billing.acknowledge(&tokens[..2]).await?.into_result()?;
    billing.reject(&tokens[2..3]).await?.into_result()?;
    billing
        .release(&tokens[3..], ReleaseDelay::None)
        .await?
        .into_result()?;

    // The released event comes back; a processor handles it and stops when told.
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let handler = move |event: eventgrid::ReceivedEvent| {
        let stop = stop.clone();
        async move {
            let order: serde_json::Value = event.data_as().map_err(HandlerError::never)?;
            println!(
                "processed order {} (delivery {})",
                order["order"], event.delivery_count
            );
            stop.trigger();
            Ok(())
        }
    };
    let options = ProcessOptions::default().with_max_wait(Duration::from_secs(10));
    let report = billing
        .process(handler, options, &shutdown)
        .await
        .into_result()?;
    println!(
        "acknowledged {}, released {}, rejected {}",
        report.acknowledged, report.released, report.rejected
    );
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(
        (counts.available, counts.locked, counts.rejected),
        (0, 0, 1)
    );
    Ok(())
}
