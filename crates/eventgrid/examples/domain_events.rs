//! Domain event publishing: each domain event type knows its topic, event type, subject and
//! schema version; one generic function publishes any of them.
//!
//! `cargo run -p eventgrid --example domain_events`

mod support;

use eventgrid::{EventGridClient, EventGridEvent, Result};
use serde::Serialize;
use support::Playground;

/// What the domain model says happened. Publishing is the same for every kind.
trait DomainEvent: Serialize {
    /// The topic events of this kind go to.
    const TOPIC: &'static str;
    /// Bumped when the data's shape changes, so subscribers can tell versions apart.
    const VERSION: &'static str;
    /// The event type, such as `customer.registered`.
    fn event_type(&self) -> &'static str;
    /// The aggregate the event is about, such as `customers/17`.
    fn subject(&self) -> String;
}

#[derive(Debug, Serialize)]
struct CustomerRegistered {
    customer_id: u64,
    plan: &'static str,
}

impl DomainEvent for CustomerRegistered {
    const TOPIC: &'static str = "user-events";
    const VERSION: &'static str = "1.0";
    fn event_type(&self) -> &'static str {
        "customer.registered"
    }
    fn subject(&self) -> String {
        format!("customers/{}", self.customer_id)
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum OrderLifecycle {
    Placed { order_id: u64, total_cents: u64 },
    Cancelled { order_id: u64, reason: String },
}

impl DomainEvent for OrderLifecycle {
    const TOPIC: &'static str = "order-events";
    const VERSION: &'static str = "2.0";
    fn event_type(&self) -> &'static str {
        match self {
            OrderLifecycle::Placed { .. } => "order.placed",
            OrderLifecycle::Cancelled { .. } => "order.cancelled",
        }
    }
    fn subject(&self) -> String {
        match self {
            OrderLifecycle::Placed { order_id, .. }
            | OrderLifecycle::Cancelled { order_id, .. } => {
                format!("orders/{order_id}")
            }
        }
    }
}

async fn publish<E: DomainEvent>(client: &EventGridClient, event: &E) -> Result<()> {
    let grid_event = EventGridEvent::new(event.event_type(), event.subject(), event)?
        .with_data_version(E::VERSION);
    client.async_publish_event(E::TOPIC, grid_event).await
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events", "order-events"]);
    let client =
        EventGridClient::with_async_credential(playground.config(), playground.credential())?;

    publish(
        &client,
        &CustomerRegistered {
            customer_id: 17,
            plan: "pro",
        },
    )
    .await?;
    publish(
        &client,
        &OrderLifecycle::Placed {
            order_id: 9,
            total_cents: 1_250,
        },
    )
    .await?;
    let cancelled = OrderLifecycle::Cancelled {
        order_id: 9,
        reason: "customer request".to_owned(),
    };
    publish(&client, &cancelled).await?;

    let users = playground.expect_received("user-events", 1);
    let orders = playground.expect_received("order-events", 2);
    if !orders.is_empty() {
        support::check(users[0]["subject"] == "customers/17", "customer subject");
        support::check(
            orders[1]["eventType"] == "order.cancelled"
                && orders[1]["data"]["status"] == "cancelled"
                && orders[1]["dataVersion"] == "2.0",
            "the cancellation arrived with its version",
        );
    }
    Ok(())
}
