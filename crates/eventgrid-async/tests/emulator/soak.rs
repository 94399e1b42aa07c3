//! The fault soak: 20,000 events through `send` and 20,000 through concurrent `emit_event`
//! while the service fails 20% of requests with 503, 5% with 429 and a retry hint, and drops 5%
//! of connections. Every event must arrive, and every outcome must be reported.

use std::sync::Arc;
use std::time::Duration;

use eventgrid_async::{
    Credential, EventGridClient, EventGridEvent, Limits, RetryOptions, Schema, SendSummary,
};
use eventgrid_emulator::{EmulatorConfig, FaultRule, FaultSpec, RunningEmulator, TopicSpec};
use serde_json::json;

use crate::{KEY, config, distinct, start};

const EVENTS: usize = 20_000;

fn faults(seed: u64) -> FaultSpec {
    FaultSpec::new()
        .seed(seed)
        .rule(FaultRule::status(503).fraction(0.20))
        .rule(FaultRule::status(429).retry_after_ms(2).fraction(0.05))
        .rule(FaultRule::drop_connection().fraction(0.05))
}

/// Enough retries that a request failing 30% of the time practically always gets through
/// (0.3^40), with delays of a few milliseconds.
fn generous() -> RetryOptions {
    RetryOptions::default()
        .with_max_retries(40)
        .with_initial_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(10))
        .with_max_elapsed(Duration::from_secs(120))
}

async fn soak_emulator() -> RunningEmulator {
    start(
        EmulatorConfig::new()
            .retain(EVENTS)
            .topic(TopicSpec::keyed("soak-send", KEY))
            .topic(TopicSpec::keyed("soak-emit", KEY))
            .fault("soak-send", faults(1))
            .fault("soak-emit", faults(2)),
    )
    .await
}

/// Every event arrived exactly once, the faults really happened, and the client's metrics
/// agree with what the service saw.
fn check_topic(
    emulator: &RunningEmulator,
    client: &EventGridClient,
    topic: &str,
    field: &str,
    sent: &[String],
) {
    let received: Vec<String> = emulator
        .events(topic)
        .iter()
        .map(|event| event[field].as_str().unwrap().to_owned())
        .collect();
    let received_set = distinct(&received);
    let missing = sent
        .iter()
        .filter(|id| !received_set.contains(id.as_str()))
        .count();
    assert_eq!(missing, 0, "{topic}: {missing} events never arrived");
    assert_eq!(received.len(), sent.len(), "{topic}: duplicates arrived");

    let service = emulator.counters(topic);
    assert!(
        service.rejections.get(&503).copied().unwrap_or(0) > 0,
        "{service:?}"
    );
    assert!(
        service.rejections.get(&429).copied().unwrap_or(0) > 0,
        "{service:?}"
    );
    assert!(service.dropped_connections > 0, "{service:?}");

    let metrics = client.metrics()[topic];
    assert_eq!(metrics.events_published, sent.len() as u64);
    assert_eq!(metrics.events_failed, 0);
    assert_eq!(
        metrics.requests, service.requests,
        "every attempt reached the service"
    );
    assert_eq!(
        metrics.retries,
        service.requests - service.accepted_requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_survives_the_fault_soak() {
    let emulator = soak_emulator().await;
    let client = EventGridClient::builder(config(
        &emulator,
        &[
            ("soak-send", Schema::EventGrid),
            ("soak-emit", Schema::EventGrid),
        ],
    ))
    .credential(Credential::access_key(KEY))
    .retry(generous())
    .limits(Limits::default().with_max_events_per_request(100))
    .max_concurrent_requests(16)
    .build()
    .unwrap();

    // Through `send`: 200 requests of 100 events.
    let events: Vec<EventGridEvent> = (0..EVENTS)
        .map(|n| EventGridEvent::new("soak.sent", format!("soak/{n}"), json!({"n": n})).unwrap())
        .collect();
    let sent: Vec<String> = events.iter().map(|e| e.id().to_owned()).collect();
    let summary = client.send("soak-send", events).await.unwrap();
    assert_eq!(summary, SendSummary::new(EVENTS, EVENTS / 100));
    check_topic(&emulator, &client, "soak-send", "id", &sent);

    // Through 64 tasks each emitting its share one event at a time; subjects tell them apart.
    let tasks = 64;
    let subjects: Arc<Vec<String>> = Arc::new((0..EVENTS).map(|n| format!("emit/{n}")).collect());
    let workers: Vec<_> = (0..tasks)
        .map(|task| {
            let client = client.clone();
            let subjects = subjects.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for subject in subjects.iter().skip(task).step_by(tasks) {
                    let emitted = client
                        .emit_event("soak-emit", "soak.emitted", subject, json!({"task": task}))
                        .await;
                    outcomes.push(emitted);
                }
                outcomes
            })
        })
        .collect();
    let mut reported = 0;
    for worker in workers {
        for outcome in worker.await.unwrap() {
            outcome.unwrap();
            reported += 1;
        }
    }
    assert_eq!(reported, EVENTS, "every emit reported its outcome");
    check_topic(&emulator, &client, "soak-emit", "subject", &subjects);
}
