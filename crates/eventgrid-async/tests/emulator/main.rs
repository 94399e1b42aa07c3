//! Integration tests of `eventgrid-async` against the in-process emulator (one test binary, so
//! the 2-core CI links it once).

mod batching;
mod body_limit;
mod buffered;
mod client;
mod credentials;
mod proxy;
mod retries;
mod schemas;
mod soak;
mod stream;
mod transport;

use std::collections::HashSet;
use std::time::Duration;

use eventgrid_async::{EventGridConfig, EventGridTopicConfig, RetryOptions, Schema};
use eventgrid_emulator::{Emulator, EmulatorConfig, RunningEmulator};

/// The key of keyed emulator topics ("key", base64), usable for SAS signing too.
pub const KEY: &str = "a2V5";

pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// Client configuration naming each emulator topic with the given schema.
pub fn config(emulator: &RunningEmulator, topics: &[(&str, Schema)]) -> EventGridConfig {
    EventGridConfig::new(topics.iter().map(|(name, schema)| {
        EventGridTopicConfig::new(*name, emulator.topic_endpoint(name))
            .expect("emulator endpoint is valid")
            .with_schema(*schema)
    }))
    .expect("distinct topic names")
}

/// Retries quick enough for tests: `retries` attempts after the first, 1 to 20 ms apart.
pub fn quick_retries(retries: u32) -> RetryOptions {
    RetryOptions::default()
        .with_max_retries(retries)
        .with_initial_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(20))
        .with_max_elapsed(Duration::from_secs(60))
}

/// The ids of the events the topic received.
pub fn received_ids(emulator: &RunningEmulator, topic: &str) -> Vec<String> {
    emulator
        .events(topic)
        .iter()
        .map(|event| event["id"].as_str().expect("event has an id").to_owned())
        .collect()
}

pub fn distinct(ids: &[String]) -> HashSet<&str> {
    ids.iter().map(String::as_str).collect()
}
