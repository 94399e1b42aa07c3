//! Shared by the integration tests: an emulator on its own runtime, and clients for it.

#![allow(dead_code)]

use std::collections::HashSet;
use std::time::Duration;

use eventgrid_blocking::{
    EventGridClient, EventGridClientBuilder, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    RetryOptions,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// An access key, base64 so SAS tokens can be signed with it.
pub const KEY: &str = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=";

pub fn start(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start_in_background(config).expect("the emulator starts")
}

/// The client configuration for `topics` of `emulator`, with their emulator endpoints.
pub fn config(emulator: &EmulatorHandle, topics: &[&str]) -> EventGridConfig {
    EventGridConfig::new(
        topics
            .iter()
            .map(|name| EventGridTopicConfig::new(*name, emulator.topic_endpoint(name)).unwrap()),
    )
    .unwrap()
}

/// Retries that wait milliseconds, not seconds, so tests stay quick.
pub fn quick_retries() -> RetryOptions {
    RetryOptions::default()
        .with_initial_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(50))
}

/// A builder for `topics` of `emulator` with quick retries.
pub fn builder(emulator: &EmulatorHandle, topics: &[&str]) -> EventGridClientBuilder {
    EventGridClient::builder(config(emulator, topics)).retry(quick_retries())
}

pub fn events(count: usize) -> Vec<EventGridEvent> {
    (0..count)
        .map(|n| {
            EventGridEvent::new(
                "test.event",
                format!("items/{n}"),
                serde_json::json!({"n": n}),
            )
            .unwrap()
        })
        .collect()
}

/// The ids of the events the emulator kept for `topic`.
pub fn received_ids(emulator: &EmulatorHandle, topic: &str) -> HashSet<String> {
    emulator
        .events(topic)
        .iter()
        .map(|e| e["id"].as_str().expect("events have ids").to_owned())
        .collect()
}
