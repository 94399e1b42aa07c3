//! The shared client: topics at run time, metrics, many tasks at once, tracing, custom
//! transports.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventgrid_async::{
    AsyncTransport, Credential, Error, EventGridClient, EventGridConfig, EventGridTopicConfig,
    HyperTransport, Schema, TransportError,
};
use eventgrid_emulator::{EmulatorConfig, FaultRule, TopicSpec};
use serde_json::json;

use crate::{KEY, config, distinct, quick_retries, start};

#[tokio::test]
async fn topics_can_be_added_and_removed_while_running() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("users"))
            .topic(TopicSpec::open("orders")),
    )
    .await;
    let client = EventGridClient::new(
        config(&emulator, &[("users", Schema::EventGrid)]),
        Credential::None,
    )
    .unwrap();
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    assert!(matches!(error, Error::UnknownTopic { .. }));

    // Added through a clone, visible to every clone.
    let other = client.clone();
    other
        .add_topic(EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders")).unwrap())
        .unwrap();
    assert_eq!(client.topics(), ["orders", "users"]);
    client
        .emit_event("orders", "order.placed", "orders/1", 1)
        .await
        .unwrap();
    assert_eq!(emulator.counters("orders").accepted_events, 1);

    let duplicate = EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders")).unwrap();
    assert!(client.add_topic(duplicate).is_err());
    let removed = other.remove_topic("orders").unwrap();
    assert_eq!(removed.name(), "orders");
    assert_eq!(client.topics(), ["users"]);
    assert!(matches!(
        client.emit_event("orders", "t", "s", 1).await,
        Err(Error::UnknownTopic { .. })
    ));
}

#[tokio::test]
async fn metrics_count_events_requests_retries_bytes_and_latency() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .topic(TopicSpec::keyed("users", KEY))
            .fault("orders", FaultRule::status(503).next(1)),
    )
    .await;
    let client = EventGridClient::builder(config(
        &emulator,
        &[("orders", Schema::EventGrid), ("users", Schema::EventGrid)],
    ))
    .credential(Credential::access_key(KEY))
    .retry(quick_retries(2))
    .build()
    .unwrap();
    for n in 0..3 {
        client
            .emit_event("orders", "order.placed", "orders", n)
            .await
            .unwrap();
    }
    emulator.set_fault("users", FaultRule::status(400)).unwrap();
    client
        .emit_event("users", "user.created", "users", 1)
        .await
        .unwrap_err();

    let metrics = client.metrics();
    let orders = metrics["orders"];
    assert_eq!(orders.events_published, 3);
    assert_eq!(orders.events_failed, 0);
    assert_eq!(orders.requests, 4, "one 503 and three successes");
    assert_eq!(orders.retries, 1);
    assert_eq!(orders.latency.count, 4);
    assert!(orders.latency.max >= orders.latency.mean);
    assert!(orders.bytes_sent > 4 * 100, "{}", orders.bytes_sent);
    let users = metrics["users"];
    assert_eq!((users.events_published, users.events_failed), (0, 1));
    assert_eq!((users.requests, users.retries), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_emit_concurrently_through_one_client() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("orders", Schema::EventGrid)]),
        Credential::access_key(KEY),
    )
    .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                for n in 0..20 {
                    client
                        .emit_event("orders", "order.placed", format!("orders/{task}/{n}"), n)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let subjects: Vec<String> = emulator
        .events("orders")
        .iter()
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(distinct(&subjects).len(), 1000);
    assert_eq!(client.metrics()["orders"].events_published, 1000);
}

#[test]
fn debug_output_shows_no_secret() {
    let config = EventGridConfig::new([EventGridTopicConfig::new(
        "orders",
        "https://orders.westus2-1.eventgrid.azure.net",
    )
    .unwrap()])
    .unwrap();
    let builder = EventGridClient::builder(config).credential(Credential::access_key("SECRET-KEY"));
    assert!(!format!("{builder:?}").contains("SECRET-KEY"));
    let client = builder.build().unwrap();
    let text = format!("{client:?}");
    assert!(
        text.contains("orders") && !text.contains("SECRET-KEY"),
        "{text}"
    );
}

/// A transport that answers 200 itself after recording the request.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<http::Request<bytes::Bytes>>>>);

impl AsyncTransport for Recording {
    async fn send(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, TransportError> {
        self.0.lock().unwrap().push(request);
        Ok(http::Response::new(bytes::Bytes::new()))
    }
}

#[tokio::test]
async fn any_transport_can_be_plugged_in() {
    let recording = Recording::default();
    let config = EventGridConfig::new([EventGridTopicConfig::new(
        "orders",
        "https://orders.westus2-1.eventgrid.azure.net",
    )
    .unwrap()])
    .unwrap();
    let client = EventGridClient::builder(config.clone())
        .credential(Credential::access_key(KEY))
        .user_agent_suffix("billing/2.1")
        .transport(recording.clone())
        .build()
        .unwrap();
    client
        .emit_event("orders", "t", "s", json!({"a": 1}))
        .await
        .unwrap();
    let requests = recording.0.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].uri(),
        "https://orders.westus2-1.eventgrid.azure.net/api/events?api-version=2018-01-01"
    );
    assert_eq!(requests[0].headers()["aeg-sas-key"], KEY);
    assert!(
        requests[0].headers()["user-agent"]
            .to_str()
            .unwrap()
            .ends_with(" billing/2.1")
    );

    let both = EventGridClient::builder(config)
        .transport(recording.clone())
        .extra_ca_pem("-----BEGIN CERTIFICATE-----")
        .build()
        .unwrap_err();
    assert!(
        both.to_string()
            .contains("extra_ca_pem applies to the built-in transport")
    );
}

#[test]
fn invalid_options_are_refused_when_building() {
    let config = || {
        EventGridConfig::new([EventGridTopicConfig::new("t", "https://t.example.com").unwrap()])
            .unwrap()
    };
    let zero = EventGridClient::builder(config())
        .max_concurrent_requests(0)
        .build();
    assert!(
        zero.unwrap_err()
            .to_string()
            .contains("max_concurrent_requests")
    );
    let zero = EventGridClient::builder(config())
        .request_timeout(Duration::ZERO)
        .build();
    assert!(
        zero.unwrap_err()
            .to_string()
            .contains("request_timeout must be more than zero")
    );
    let pem = EventGridClient::builder(config())
        .extra_ca_pem("nonsense")
        .build();
    assert!(
        pem.unwrap_err()
            .to_string()
            .contains("extra CA certificate")
    );
    let remote_http =
        EventGridConfig::new([EventGridTopicConfig::new("t", "http://t.example.com").unwrap()])
            .unwrap();
    let error = EventGridClient::new(remote_http, Credential::access_key(KEY)).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("refusing to send a credential over plain http")
    );
    assert!(
        HyperTransport::builder(
            &eventgrid_async::ClientOptions::default().with_connect_timeout(Duration::ZERO)
        )
        .build()
        .is_err()
    );
}
