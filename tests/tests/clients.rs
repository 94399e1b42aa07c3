//! Both clients against the emulator, with the same tests: every test here runs once with the
//! async client and once with the blocking one (`async_client::*`, `blocking_client::*`), each
//! on a topic of its own (`tests/emulator.toml`).

use std::time::Duration;

use eventgrid::core::generate_sas;
use eventgrid::{
    CloudEvent, Credential, CustomEvent, Endpoint, Error, Event, EventGridConfig, EventGridEvent,
    Limits, Result, RetryOptions, SendSummary, TopicMetrics,
};
use eventgrid_emulator::FaultRule;
use eventgrid_tests::sandbox;
use serde_json::{Value, json};
use time::macros::datetime;

/// What the tests need of a client, implemented by both.
trait Publisher: Sized {
    /// The prefix of this client's topics.
    const PREFIX: &'static str;
    fn build(config: EventGridConfig, credential: Credential, limits: Limits) -> Result<Self>;
    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()>;
    fn publish(&self, topic: &str, event: EventGridEvent) -> Result<()>;
    fn send<E: Event + Send + Sync + 'static>(
        &self,
        topic: &str,
        events: Vec<E>,
    ) -> Result<SendSummary>;
    fn add_topic(&self, topic: eventgrid::EventGridTopicConfig) -> Result<()>;
    fn remove_topic(&self, topic: &str) -> Result<()>;
    fn topics(&self) -> Vec<String>;
    fn metrics(&self, topic: &str) -> TopicMetrics;
}

fn quick_retries() -> RetryOptions {
    RetryOptions::default()
        .with_initial_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(100))
}

struct Async {
    client: eventgrid::asynchronous::EventGridClient,
    runtime: tokio::runtime::Runtime,
}

impl Publisher for Async {
    const PREFIX: &'static str = "async";
    fn build(config: EventGridConfig, credential: Credential, limits: Limits) -> Result<Self> {
        let client = eventgrid::asynchronous::EventGridClient::builder(config)
            .credential(credential)
            .limits(limits)
            .retry(quick_retries())
            .build()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        Ok(Self { client, runtime })
    }
    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()> {
        self.runtime
            .block_on(self.client.emit_event(topic, event_type, subject, data))
    }
    fn publish(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        self.runtime
            .block_on(self.client.publish_event(topic, event))
    }
    fn send<E: Event + Send + Sync + 'static>(
        &self,
        topic: &str,
        events: Vec<E>,
    ) -> Result<SendSummary> {
        self.runtime.block_on(self.client.send(topic, events))
    }
    fn add_topic(&self, topic: eventgrid::EventGridTopicConfig) -> Result<()> {
        self.client.add_topic(topic)
    }
    fn remove_topic(&self, topic: &str) -> Result<()> {
        self.client.remove_topic(topic).map(drop)
    }
    fn topics(&self) -> Vec<String> {
        self.client.topics()
    }
    fn metrics(&self, topic: &str) -> TopicMetrics {
        self.client.metrics()[topic]
    }
}

struct Blocking(eventgrid::blocking::EventGridClient);

impl Publisher for Blocking {
    const PREFIX: &'static str = "blocking";
    fn build(config: EventGridConfig, credential: Credential, limits: Limits) -> Result<Self> {
        eventgrid::blocking::EventGridClient::builder(config)
            .credential(credential)
            .limits(limits)
            .retry(quick_retries())
            .build()
            .map(Blocking)
    }
    fn emit(&self, topic: &str, event_type: &str, subject: &str, data: Value) -> Result<()> {
        self.0.emit_event(topic, event_type, subject, data)
    }
    fn publish(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        self.0.publish_event(topic, event)
    }
    fn send<E: Event + Send + Sync + 'static>(
        &self,
        topic: &str,
        events: Vec<E>,
    ) -> Result<SendSummary> {
        self.0.send(topic, events)
    }
    fn add_topic(&self, topic: eventgrid::EventGridTopicConfig) -> Result<()> {
        self.0.add_topic(topic)
    }
    fn remove_topic(&self, topic: &str) -> Result<()> {
        self.0.remove_topic(topic).map(drop)
    }
    fn topics(&self) -> Vec<String> {
        self.0.topics()
    }
    fn metrics(&self, topic: &str) -> TopicMetrics {
        self.0.metrics()[topic]
    }
}

/// This client's topic for `test`, emptied, and a client configured with it.
fn setup<P: Publisher>(test: &str) -> (String, P) {
    let topic = format!("{}-{test}", P::PREFIX);
    sandbox().reset(&topic);
    let client = P::build(
        sandbox().config(&[&topic]),
        Credential::None,
        Limits::default(),
    )
    .expect("a client");
    (topic, client)
}

fn single_events<P: Publisher>() {
    let (topic, client) = setup::<P>("single");
    client
        .emit(&topic, "user.created", "users/1", json!({"user_id": 1}))
        .unwrap();
    let event = EventGridEvent::new("user.updated", "users/1", json!({"name": "Ada"}))
        .unwrap()
        .with_id("fixed-id")
        .with_data_version("2.0")
        .with_event_time(datetime!(2024-02-29 23:59:59.5 UTC));
    client.publish(&topic, event).unwrap();

    let events = sandbox().events(&topic);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["eventType"], "user.created");
    assert_eq!(events[0]["dataVersion"], "v1");
    assert_eq!(events[0]["data"], json!({"user_id": 1}));
    assert_eq!(
        events[1],
        json!({
            "id": "fixed-id", "subject": "users/1", "eventType": "user.updated",
            "eventTime": "2024-02-29T23:59:59.5Z", "dataVersion": "2.0", "data": {"name": "Ada"}
        })
    );
    let counters = sandbox().counters(&topic);
    assert_eq!(
        (counters.accepted_requests, counters.accepted_events),
        (2, 2)
    );
    let metrics = client.metrics(&topic);
    assert_eq!((metrics.events_published, metrics.requests), (2, 2));
}

fn batches<P: Publisher>() {
    let topic = format!("{}-batch", P::PREFIX);
    sandbox().reset(&topic);
    let limits = Limits::default().with_max_events_per_request(500);
    let client = P::build(sandbox().config(&[&topic]), Credential::None, limits).unwrap();
    let events: Vec<EventGridEvent> = (0..1_200)
        .map(|n| EventGridEvent::new("order.imported", format!("orders/{n}"), n).unwrap())
        .collect();
    let summary = client.send(&topic, events).unwrap();
    assert_eq!((summary.events, summary.requests), (1_200, 3));
    let counters = sandbox().counters(&topic);
    assert_eq!(
        (counters.accepted_requests, counters.accepted_events),
        (3, 1_200)
    );
    let mut numbers: Vec<i64> = sandbox()
        .events(&topic)
        .iter()
        .map(|event| event["data"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..1_200).collect::<Vec<_>>());

    // One oversized event: refused by its index, and nothing of the batch is sent.
    sandbox().reset(&topic);
    let batch = vec![
        EventGridEvent::new("t", "s", "small").unwrap(),
        EventGridEvent::new("t", "s", "x".repeat(70_000)).unwrap(),
    ];
    let error = client.send(&topic, batch).unwrap_err();
    assert!(
        matches!(error, Error::EventTooLarge { index: 1, .. }),
        "{error}"
    );
    assert_eq!(sandbox().counters(&topic).requests, 0);
}

fn cloud_events<P: Publisher>() {
    let topic = format!("{}-cloud", P::PREFIX);
    sandbox().reset(&topic);
    let client = P::build(
        sandbox().config(&[&topic]),
        Credential::None,
        Limits::default(),
    )
    .unwrap();
    let event = CloudEvent::new("/orders", "order.placed", json!({"order_id": 5}))
        .unwrap()
        .with_subject("orders/5")
        .with_extension("correlationid", "req-1");
    client.send(&topic, vec![event]).unwrap();
    let received = &sandbox().events(&topic)[0];
    assert_eq!(received["specversion"], "1.0");
    assert_eq!(received["correlationid"], "req-1");
    assert_eq!(received["data"]["order_id"], 5);

    // Event Grid events do not fit a CloudEvents topic: refused before sending.
    let error = client.emit(&topic, "t", "s", json!({})).unwrap_err();
    assert!(matches!(error, Error::SchemaMismatch { .. }), "{error}");
    assert_eq!(sandbox().counters(&topic).requests, 1);
}

fn custom_events<P: Publisher>() {
    let topic = format!("{}-custom", P::PREFIX);
    sandbox().reset(&topic);
    let client = P::build(
        sandbox().config(&[&topic]),
        Credential::None,
        Limits::default(),
    )
    .unwrap();
    let events = vec![
        CustomEvent::new(json!({"kind": "audit", "seq": 1})).unwrap(),
        CustomEvent::new(json!({"kind": "audit", "seq": 2})).unwrap(),
    ];
    client.send(&topic, events).unwrap();
    let received = sandbox().events(&topic);
    assert_eq!(
        received,
        [
            json!({"kind": "audit", "seq": 1}),
            json!({"kind": "audit", "seq": 2})
        ]
    );
}

fn retries<P: Publisher>() {
    let topic = format!("{}-retry", P::PREFIX);
    sandbox().reset(&topic);
    let client = P::build(
        sandbox().config(&[&topic]),
        Credential::None,
        Limits::default(),
    )
    .unwrap();

    sandbox().set_fault(&topic, FaultRule::status(503).next(2));
    let event = EventGridEvent::new("t", "s", 1).unwrap().with_id("same-id");
    client.publish(&topic, event).unwrap();
    sandbox().set_fault(&topic, FaultRule::status(429).retry_after_ms(20).next(1));
    client.emit(&topic, "t", "s", json!(2)).unwrap();

    let counters = sandbox().counters(&topic);
    assert_eq!(counters.requests, 5, "3 attempts, then 2");
    assert_eq!(counters.accepted_events, 2);
    assert_eq!(counters.rejections.get(&503), Some(&2));
    assert_eq!(counters.rejections.get(&429), Some(&1));
    assert_eq!(sandbox().events(&topic)[0]["id"], "same-id");
    let metrics = client.metrics(&topic);
    assert_eq!(
        (metrics.events_published, metrics.retries, metrics.requests),
        (2, 3, 5)
    );

    // Busy for longer than the retries last: the error says so, and the status.
    sandbox().set_fault(&topic, FaultRule::status(503).next(10));
    let error = client.emit(&topic, "t", "s", json!(3)).unwrap_err();
    assert!(
        matches!(error, Error::RetriesExhausted { attempts: 4, .. }),
        "{error}"
    );
    assert_eq!(error.status(), Some(503));
}

fn refusals<P: Publisher>() {
    let topic = format!("{}-refused", P::PREFIX);
    sandbox().reset(&topic);
    let wrong_key = eventgrid::EventGridTopicConfig::new(&topic, sandbox().endpoint(&topic))
        .unwrap()
        .with_credential(eventgrid::KeyCredential::access_key("d3Jvbmcta2V5"));
    let client = P::build(
        EventGridConfig::new([wrong_key]).unwrap(),
        Credential::None,
        Limits::default(),
    )
    .unwrap();
    let error = client.emit(&topic, "t", "s", json!({})).unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert!(!error.is_retryable());
    assert!(error.request_id().is_some());
    assert!(!error.to_string().contains("d3Jvbmcta2V5"));
    assert_eq!(sandbox().counters(&topic).requests, 1, "401 is not retried");
    assert_eq!(client.metrics(&topic).events_failed, 1);

    let error = client.emit("nope", "t", "s", json!({})).unwrap_err();
    assert!(matches!(error, Error::UnknownTopic { .. }), "{error}");
}

fn sas_credentials<P: Publisher>() {
    let topic = format!("{}-sas", P::PREFIX);
    sandbox().reset(&topic);
    let key = sandbox().key(&topic).unwrap().to_owned();
    let bare = || {
        EventGridConfig::new([eventgrid::EventGridTopicConfig::new(
            &topic,
            sandbox().endpoint(&topic),
        )
        .unwrap()])
        .unwrap()
    };
    let generated = P::build(
        bare(),
        Credential::sas_from_key(key.as_str(), Duration::from_secs(600)),
        Limits::default(),
    )
    .unwrap();
    generated.emit(&topic, "t", "generated", json!({})).unwrap();

    let endpoint = Endpoint::parse(&sandbox().endpoint(&topic)).unwrap();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let token = generate_sas(&endpoint, &key, expires).unwrap();
    let given = P::build(bare(), Credential::sas_token(token), Limits::default()).unwrap();
    given.emit(&topic, "t", "given", json!({})).unwrap();

    let subjects: Vec<Value> = sandbox()
        .events(&topic)
        .iter()
        .map(|e| e["subject"].clone())
        .collect();
    assert_eq!(subjects, [json!("generated"), json!("given")]);
}

fn runtime_topics<P: Publisher>() {
    let topic = format!("{}-runtime", P::PREFIX);
    sandbox().reset(&topic);
    let client = P::build(
        EventGridConfig::default(),
        Credential::None,
        Limits::default(),
    )
    .unwrap();
    assert!(client.topics().is_empty());
    client.add_topic(sandbox().topic_config(&topic)).unwrap();
    assert_eq!(client.topics(), [topic.as_str()]);
    client.emit(&topic, "t", "s", json!({})).unwrap();
    assert!(client.add_topic(sandbox().topic_config(&topic)).is_err());
    client.remove_topic(&topic).unwrap();
    let error = client.emit(&topic, "t", "s", json!({})).unwrap_err();
    assert!(matches!(error, Error::UnknownTopic { .. }), "{error}");
    assert_eq!(sandbox().counters(&topic).accepted_events, 1);
}

fn open_topics<P: Publisher>() {
    let topic = format!("{}-open", P::PREFIX);
    sandbox().reset(&topic);
    let client = P::build(
        sandbox().config(&[&topic]),
        Credential::None,
        Limits::default(),
    )
    .unwrap();
    client.emit(&topic, "t", "s", json!({})).unwrap();
    assert_eq!(sandbox().counters(&topic).accepted_events, 1);
}

/// Runs each generic test with both clients.
macro_rules! with_both_clients {
    ($($test:ident),* $(,)?) => {
        mod async_client {
            $(#[test] fn $test() { super::$test::<super::Async>() })*
        }
        mod blocking_client {
            $(#[test] fn $test() { super::$test::<super::Blocking>() })*
        }
    };
}

with_both_clients!(
    single_events,
    batches,
    cloud_events,
    custom_events,
    retries,
    refusals,
    sas_credentials,
    runtime_topics,
    open_topics,
);
