//! Event enrichment with correlation ids: every event a request causes carries the request's
//! correlation id and the publishing service's name, without each call site adding them.
//!
//! `cargo run -p eventgrid --example event_enrichment`

mod support;

use eventgrid::{EventGridClient, Result};
use serde::Serialize;
use serde_json::json;
use support::Playground;
use time::OffsetDateTime;
use uuid::Uuid;

/// The data of every enriched event: the payload plus where it came from.
#[derive(Debug, Serialize)]
struct Enriched<'a, T: Serialize> {
    #[serde(flatten)]
    payload: T,
    correlation_id: &'a str,
    source_service: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    published_at: OffsetDateTime,
}

/// A publisher for one unit of work (an HTTP request, a job): it stamps each event.
#[derive(Debug)]
struct CorrelatedPublisher<'a> {
    client: &'a EventGridClient,
    correlation_id: String,
    service: &'a str,
}

impl<'a> CorrelatedPublisher<'a> {
    fn new(client: &'a EventGridClient, service: &'a str, correlation_id: Option<String>) -> Self {
        // Reuse the caller's id (from an `x-correlation-id` header, say) or start a new one.
        let correlation_id = correlation_id.unwrap_or_else(|| Uuid::new_v4().to_string());
        Self {
            client,
            correlation_id,
            service,
        }
    }

    async fn emit(
        &self,
        topic: &str,
        event_type: &str,
        subject: &str,
        payload: impl Serialize,
    ) -> Result<()> {
        let data = Enriched {
            payload,
            correlation_id: &self.correlation_id,
            source_service: self.service,
            published_at: OffsetDateTime::now_utc(),
        };
        self.client
            .async_emit_event(topic, event_type, subject, data)
            .await
    }
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events", "order-events"]);
    let client =
        EventGridClient::with_async_credential(playground.config(), playground.credential())?;

    // One checkout request causes two events on two topics, tied by one correlation id.
    let checkout = CorrelatedPublisher::new(&client, "checkout-api", Some("req-7f3a".to_owned()));
    checkout
        .emit(
            "order-events",
            "order.placed",
            "orders/31",
            json!({"order_id": 31}),
        )
        .await?;
    checkout
        .emit(
            "user-events",
            "user.points_awarded",
            "users/5",
            json!({"points": 10}),
        )
        .await?;

    // Another unit of work, with a fresh id.
    let nightly = CorrelatedPublisher::new(&client, "nightly-job", None);
    nightly
        .emit(
            "user-events",
            "user.reminded",
            "users/6",
            json!({"channel": "email"}),
        )
        .await?;

    let orders = playground.expect_received("order-events", 1);
    let users = playground.expect_received("user-events", 2);
    if !orders.is_empty() {
        support::check(
            orders[0]["data"]["correlation_id"] == "req-7f3a"
                && users[0]["data"]["correlation_id"] == "req-7f3a"
                && orders[0]["data"]["order_id"] == 31,
            "both checkout events carry the request's correlation id next to their payload",
        );
        support::check(
            users[1]["data"]["correlation_id"] == nightly.correlation_id.as_str()
                && users[1]["data"]["source_service"] == "nightly-job",
            "the job's event carries its own id",
        );
    }
    Ok(())
}
