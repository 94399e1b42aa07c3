//! Monitoring and observability: per-topic metrics from the client, and `tracing` spans and
//! events for every request (topic, event count, attempts, status, duration).
//!
//! `RUST_LOG=eventgrid_core=debug cargo run -p eventgrid --example monitoring` shows each
//! attempt as well.

mod support;

use eventgrid::asynchronous::EventGridClient;
use eventgrid::{EventGridTopicConfig, KeyCredential, TopicMetrics};
use serde_json::json;
use support::Playground;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let playground = Playground::start(&["user-events"]);
    let client = EventGridClient::builder(playground.config())
        .credential(playground.credential())
        .retry(support::quick_retries())
        .build()?;

    // A topic configured with the wrong key: its failures show in its metrics (and as a
    // `warn` event in the logs).
    let endpoint = playground.topic("user-events").endpoint().to_string();
    client.add_topic(
        EventGridTopicConfig::new("misconfigured", endpoint)?
            .with_credential(KeyCredential::access_key("d3Jvbmcta2V5")),
    )?;

    for n in 1..=5 {
        client
            .emit_event(
                "user-events",
                "user.seen",
                format!("users/{n}"),
                json!({"n": n}),
            )
            .await?;
    }
    let busy = playground.make_busy("user-events", 1);
    client
        .emit_event("user-events", "user.seen", "users/6", json!({"n": 6}))
        .await?;
    let refused = client
        .emit_event("misconfigured", "user.seen", "users/7", json!({"n": 7}))
        .await;
    if let Err(error) = &refused {
        println!("misconfigured topic: {error}");
    }

    let metrics = client.metrics();
    println!(
        "{:<14} {:>9} {:>6} {:>8} {:>7} {:>8} {:>10} {:>9}",
        "topic", "published", "failed", "requests", "retries", "bytes", "mean", "max"
    );
    for (topic, m) in &metrics {
        println!(
            "{:<14} {:>9} {:>6} {:>8} {:>7} {:>8} {:>10.2?} {:>9.2?}",
            topic,
            m.events_published,
            m.events_failed,
            m.requests,
            m.retries,
            m.bytes_sent,
            m.latency.mean,
            m.latency.max
        );
    }

    let users: &TopicMetrics = &metrics["user-events"];
    support::check(users.events_published == 6, "six events published");
    support::check(
        !busy || users.retries == 1,
        "one retry after the busy answer",
    );
    let misconfigured = &metrics["misconfigured"];
    support::check(
        refused.is_err() && misconfigured.events_failed == 1,
        "the wrong key's failure is counted",
    );
    playground.expect_received("user-events", 6);
    Ok(())
}
