//! Environment-based configuration: topics, endpoints and keys from variables, as the seed
//! library read them, so one build runs against the emulator, staging and production.
//!
//! ```sh
//! export EVENTGRID_TOPICS=user-events,order-events
//! export EVENTGRID_USER_EVENTS_ENDPOINT=https://user-events.westus2-1.eventgrid.azure.net/api/events
//! export EVENTGRID_ORDER_EVENTS_ENDPOINT=https://order-events.westus2-1.eventgrid.azure.net/api/events
//! # Optional, per topic: _KEY (access key), _SAS (SAS token), _SCHEMA (eventgrid, cloudevents, custom).
//! # Topics without a key use Microsoft Entra ID (the default credential chain).
//! cargo run -p eventgrid --example env_config
//! ```
//!
//! With `EVENTGRID_TOPICS` unset, the example starts the emulator and reads the same
//! variables from a map instead of the process environment.

mod support;

use std::collections::HashMap;

use eventgrid::core::{TOPICS_VAR, topic_var};
use eventgrid::{Credential, EventGridClient, EventGridConfig};
use serde_json::json;
use support::{EXAMPLE_KEY, Playground};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let playground = Playground::start(&["user-events", "order-events"]);

    let config = if std::env::var(TOPICS_VAR).is_ok() {
        EventGridConfig::from_env()?
    } else {
        // The variables a deployment would set, pointing at the in-process emulator.
        let mut vars =
            HashMap::from([(TOPICS_VAR.to_owned(), "user-events,order-events".to_owned())]);
        for topic in ["user-events", "order-events"] {
            let endpoint = playground.topic(topic).endpoint().to_string();
            vars.insert(topic_var(topic, "ENDPOINT"), endpoint);
            vars.insert(topic_var(topic, "KEY"), EXAMPLE_KEY.to_owned());
        }
        let mut names: Vec<_> = vars.keys().collect();
        names.sort();
        for name in names {
            let shown = if name.ends_with("_KEY") {
                "<key>"
            } else {
                vars[name].as_str()
            };
            println!("{name}={shown}");
        }
        EventGridConfig::from_env_with(|name| vars.get(name).cloned())?
    };

    // Each topic brought its own key, so the client needs no credential of its own
    // (`playground.credential()` falls back to Microsoft Entra ID for topics without one).
    let credential = if config.topics().all(|topic| topic.credential().is_some()) {
        Credential::None
    } else {
        playground.credential()
    };
    let client = EventGridClient::with_async_credential(config, credential)?;

    // A variable that is missing is named in the error.
    let missing = EventGridConfig::from_env_with(|name| {
        (name == TOPICS_VAR).then(|| "audit-events".to_owned())
    });
    match missing {
        Err(error) => {
            println!("as expected: {error}");
            support::check(
                error
                    .to_string()
                    .contains("EVENTGRID_AUDIT_EVENTS_ENDPOINT"),
                "the error names the missing variable",
            );
        }
        Ok(_) => support::fail("a topic without an endpoint was accepted"),
    }

    for topic in client.topics() {
        client
            .async_emit_event(
                &topic,
                "config.checked",
                "deployments/1",
                json!({"topic": topic}),
            )
            .await?;
    }
    playground.expect_received("user-events", 1);
    playground.expect_received("order-events", 1);
    Ok(())
}
