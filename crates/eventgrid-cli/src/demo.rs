//! `eventgrid demo`: the emulator in-process, the seed library's flows with both clients, a
//! table of what arrived, and a subscriber receiving one topic's events by push delivery. No Azure account, nothing beyond loopback.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use eventgrid::{
    Credential, EventGridClient, EventGridConfig, EventGridTopicConfig, Limits, TopicMetrics,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, EmulatorHandle, TopicSpec};
use serde_json::Value;

use crate::demo_flows::{FLOWS, ORDER_EVENTS, USER_EVENTS};
use crate::demo_subscriber::DemoSubscriber;
use crate::error::CliError;
use crate::table::Table;

/// The demo topics' access key ("demo-key", base64).
const DEMO_KEY: &str = "ZGVtby1rZXk=";
/// Small requests, so that the batch shows splitting and concurrency.
const DEMO_EVENTS_PER_REQUEST: usize = 25;

/// Runs the demo, printing as it goes; fails if the emulator did not receive every event.
pub fn run() -> Result<(), CliError> {
    let started = Instant::now();
    let topics = [USER_EVENTS, ORDER_EVENTS];
    let emulator = Emulator::start_in_background(
        EmulatorConfig::new().topics(topics.map(|name| TopicSpec::keyed(name, DEMO_KEY))),
    )
    .map_err(|error| CliError::failure(format!("could not start the emulator: {error}")))?;
    println!(
        "Event Grid emulator running in-process at {} with topics {}.",
        emulator.base_url(),
        topics.join(", ")
    );

    let config = EventGridConfig::new(
        topics
            .iter()
            .map(|name| EventGridTopicConfig::new(*name, emulator.topic_endpoint(name)))
            .collect::<eventgrid::Result<Vec<_>>>()?,
    )?;
    let client = EventGridClient::builder(config)
        .async_credential(Credential::access_key(DEMO_KEY))
        .sync_credential(Credential::access_key(DEMO_KEY))
        .limits(Limits::default().with_max_events_per_request(DEMO_EVENTS_PER_REQUEST))
        .build()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::failure(format!("could not start a tokio runtime: {error}")))?;
    let subscriber = DemoSubscriber::start(&runtime, &emulator, ORDER_EVENTS)?;

    println!("\nPublishing with the unified client (async and blocking):\n");
    let mut flows = Table::new(&["flow", "events"]).right_align(1);
    let mut published = 0;
    for flow in FLOWS {
        let events = (flow.run)(&client, &runtime)
            .map_err(|error| CliError::failure(format!("{}: {error}", flow.name)))?;
        published += events;
        flows.row(vec![flow.name.to_owned(), events.to_string()]);
    }
    print!("{}", flows.render(2));

    println!("\nWhat the emulator received:");
    let mut received = 0;
    for topic in topics {
        received += print_topic(&emulator, topic);
    }
    subscriber.report(&emulator, emulator.counters(ORDER_EVENTS).accepted_events)?;

    let totals = |metrics: Option<BTreeMap<String, TopicMetrics>>| {
        metrics
            .unwrap_or_default()
            .values()
            .fold((0, 0), |(events, requests), m| {
                (events + m.events_published, requests + m.requests)
            })
    };
    let (async_events, async_requests) = totals(client.async_client().map(|c| c.metrics()));
    let (sync_events, sync_requests) = totals(client.sync_client().map(|c| c.metrics()));
    println!(
        "\nClient metrics: async client {async_events} events in {async_requests} requests; \
         blocking client {sync_events} events in {sync_requests} requests."
    );
    if received != published {
        return Err(CliError::failure(format!(
            "the emulator received {received} events but {published} were published"
        )));
    }
    println!(
        "All {published} events arrived, in {:.2} s. Nothing left this machine.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints one topic's events grouped by event type; returns how many it received.
fn print_topic(emulator: &EmulatorHandle, topic: &str) -> usize {
    let events = emulator.events(topic);
    let counters = emulator.counters(topic);
    println!(
        "\n  {topic}: {} events in {} requests",
        counters.accepted_events, counters.accepted_requests
    );
    let mut types: Vec<&str> = Vec::new();
    for event in &events {
        let kind = event["eventType"].as_str().unwrap_or("?");
        if !types.contains(&kind) {
            types.push(kind);
        }
    }
    let mut table =
        Table::new(&["event type", "count", "version", "subjects", "data (first)"]).right_align(1);
    for kind in types {
        let group: Vec<&Value> = events
            .iter()
            .filter(|event| event["eventType"] == kind)
            .collect();
        let text = |event: &Value, field: &str| event[field].as_str().unwrap_or("-").to_owned();
        let versions: BTreeSet<String> = group.iter().map(|e| text(e, "dataVersion")).collect();
        let first_subject = text(group[0], "subject");
        let last_subject = text(group[group.len() - 1], "subject");
        let subjects = if first_subject == last_subject {
            first_subject
        } else {
            format!("{first_subject} .. {last_subject}")
        };
        table.row(vec![
            kind.to_owned(),
            group.len().to_string(),
            versions.into_iter().collect::<Vec<_>>().join(", "),
            subjects,
            group[0]["data"].to_string(),
        ]);
    }
    print!("{}", table.render(4));
    events.len()
}
