//! The seed library's flows, as `eventgrid demo` runs them: each publishes with the unified
//! client and says how many events it sent.

use eventgrid::{EventGridClient, EventGridEvent, Result};
use serde::Serialize;
use serde_json::json;
use time::macros::datetime;
use tokio::runtime::Runtime;

/// Where the demo's events go: the seed documentation's two topics.
pub const USER_EVENTS: &str = "user-events";
/// See [`USER_EVENTS`].
pub const ORDER_EVENTS: &str = "order-events";

/// Events in the concurrent batch.
pub const BATCH_EVENTS: usize = 100;

/// One flow: what it shows and how it runs.
pub struct Flow {
    /// What the flow shows.
    pub name: &'static str,
    /// Publishes and returns the number of events sent.
    pub run: fn(&EventGridClient, &Runtime) -> Result<usize>,
}

/// Every flow, in the order the demo runs them.
pub const FLOWS: &[Flow] = &[
    Flow {
        name: "async: single events (async_emit_event)",
        run: single_async_events,
    },
    Flow {
        name: "async: data version and event time",
        run: versioned_event,
    },
    Flow {
        name: "sync: blocking client (sync_emit_event)",
        run: sync_events,
    },
    Flow {
        name: "async: concurrent batch (send)",
        run: concurrent_batch,
    },
    Flow {
        name: "domain events",
        run: domain_events,
    },
    Flow {
        name: "enrichment with correlation ids",
        run: enriched_events,
    },
];

fn single_async_events(client: &EventGridClient, runtime: &Runtime) -> Result<usize> {
    runtime.block_on(async {
        client
            .async_emit_event(
                USER_EVENTS,
                "user.created",
                "users/123",
                json!({"user_id": 123, "email": "user@example.com"}),
            )
            .await?;
        client
            .async_emit_event(
                USER_EVENTS,
                "user.login",
                "users/123",
                json!({"user_id": 123}),
            )
            .await?;
        client
            .async_emit_event(
                ORDER_EVENTS,
                "order.placed",
                "orders/456",
                json!({"order_id": 456, "total": 99.5}),
            )
            .await?;
        Ok(3)
    })
}

fn versioned_event(client: &EventGridClient, runtime: &Runtime) -> Result<usize> {
    let event = EventGridEvent::new(
        "user.profile_updated",
        "users/123",
        json!({"user_id": 123, "fields": ["email"]}),
    )?
    .with_data_version("2.0")
    .with_event_time(datetime!(2024-01-01 12:00:00 UTC));
    runtime.block_on(client.async_publish_event(USER_EVENTS, event))?;
    Ok(1)
}

/// Runs on the calling thread, outside the runtime: the blocking client needs none.
fn sync_events(client: &EventGridClient, _runtime: &Runtime) -> Result<usize> {
    client.sync_emit_event(
        ORDER_EVENTS,
        "order.shipped",
        "orders/456",
        json!({"order_id": 456, "carrier": "DHL"}),
    )?;
    client.sync_emit_event(
        USER_EVENTS,
        "user.logout",
        "users/123",
        json!({"user_id": 123}),
    )?;
    Ok(2)
}

fn concurrent_batch(client: &EventGridClient, runtime: &Runtime) -> Result<usize> {
    let events = (1..=BATCH_EVENTS)
        .map(|n| {
            EventGridEvent::new(
                "order.imported",
                format!("orders/{}", 1000 + n),
                json!({"order_id": 1000 + n, "batch": "2024-01"}),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let summary = runtime.block_on(client.async_send(ORDER_EVENTS, events))?;
    Ok(summary.events)
}

/// A domain event knows its topic, type, subject and schema version.
#[derive(Serialize)]
#[serde(untagged)]
enum DomainEvent {
    CustomerRegistered {
        customer_id: u64,
        plan: &'static str,
    },
    OrderCancelled {
        order_id: u64,
        reason: &'static str,
    },
}

impl DomainEvent {
    fn publish_to(&self) -> (&'static str, &'static str, String, &'static str) {
        match self {
            DomainEvent::CustomerRegistered { customer_id, .. } => (
                USER_EVENTS,
                "customer.registered",
                format!("customers/{customer_id}"),
                "1.0",
            ),
            DomainEvent::OrderCancelled { order_id, .. } => (
                ORDER_EVENTS,
                "order.cancelled",
                format!("orders/{order_id}"),
                "2.0",
            ),
        }
    }
}

fn domain_events(client: &EventGridClient, runtime: &Runtime) -> Result<usize> {
    let events = [
        DomainEvent::CustomerRegistered {
            customer_id: 17,
            plan: "pro",
        },
        DomainEvent::OrderCancelled {
            order_id: 456,
            reason: "customer request",
        },
    ];
    runtime.block_on(async {
        for event in &events {
            let (topic, event_type, subject, version) = event.publish_to();
            let event = EventGridEvent::new(event_type, subject, event)?.with_data_version(version);
            client.async_publish_event(topic, event).await?;
        }
        Ok(events.len())
    })
}

fn enriched_events(client: &EventGridClient, runtime: &Runtime) -> Result<usize> {
    let correlation_id = "req-7f3a";
    let enrich = |mut data: serde_json::Value| {
        data["correlation_id"] = json!(correlation_id);
        data["source_service"] = json!("checkout-api");
        data
    };
    runtime.block_on(async {
        client
            .async_emit_event(
                ORDER_EVENTS,
                "order.paid",
                "orders/789",
                enrich(json!({"order_id": 789})),
            )
            .await?;
        client
            .async_emit_event(
                USER_EVENTS,
                "user.points_awarded",
                "users/123",
                enrich(json!({"points": 10})),
            )
            .await?;
        Ok(2)
    })
}
