//! An event publisher service: the application talks about users and orders; the service
//! knows topics, event types, subjects and data versions.
//!
//! `cargo run -p eventgrid --example event_publisher_service`

mod support;

use eventgrid::{EventGridClient, EventGridEvent, Result};
use serde::Serialize;
use support::Playground;

#[derive(Debug, Serialize)]
struct User {
    id: u64,
    email: String,
}

#[derive(Debug, Serialize)]
struct Order {
    id: u64,
    user_id: u64,
    total_cents: u64,
}

/// The one place that knows how the application's facts become events.
#[derive(Debug, Clone)]
struct EventPublisher {
    client: EventGridClient,
}

impl EventPublisher {
    const USERS: &'static str = "user-events";
    const ORDERS: &'static str = "order-events";

    fn new(client: EventGridClient) -> Self {
        Self { client }
    }

    async fn user_created(&self, user: &User) -> Result<()> {
        self.client
            .async_emit_event(
                Self::USERS,
                "user.created",
                format!("users/{}", user.id),
                user,
            )
            .await
    }

    async fn user_deleted(&self, user_id: u64) -> Result<()> {
        let data = serde_json::json!({"user_id": user_id});
        self.client
            .async_emit_event(
                Self::USERS,
                "user.deleted",
                format!("users/{user_id}"),
                data,
            )
            .await
    }

    async fn order_placed(&self, order: &Order) -> Result<()> {
        let event = EventGridEvent::new("order.placed", format!("orders/{}", order.id), order)?
            .with_data_version("2.0");
        self.client.async_publish_event(Self::ORDERS, event).await
    }
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events", "order-events"]);
    let client =
        EventGridClient::with_async_credential(playground.config(), playground.credential())?;
    let publisher = EventPublisher::new(client);

    let user = User {
        id: 42,
        email: "ada@example.com".to_owned(),
    };
    publisher.user_created(&user).await?;
    publisher
        .order_placed(&Order {
            id: 7,
            user_id: user.id,
            total_cents: 4_200,
        })
        .await?;
    publisher.user_deleted(user.id).await?;

    let users = playground.expect_received("user-events", 2);
    let orders = playground.expect_received("order-events", 1);
    if !users.is_empty() {
        support::check(users[0]["data"]["email"] == "ada@example.com", "user data");
        support::check(orders[0]["dataVersion"] == "2.0", "order data version");
    }
    Ok(())
}
