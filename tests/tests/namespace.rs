//! Namespace topics through both clients against the emulator in-process, for what the
//! conformance suite (`tests/tests/conformance/namespace.rs`) does not cover: endpoints of the
//! other kind, SAS refusal, lock renewal against short locks, and the buffered publishers'
//! namespace limits.

use std::time::Duration;

use eventgrid::asynchronous as nonblocking;
use eventgrid::{
    CloudEvent, Credential, Error, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    KeyCredential, ProcessOptions, ReceivedEvent, Result, Shutdown,
};
use eventgrid_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, NamespaceTopicSpec, SubscriptionSpec, TopicSpec,
};
use serde_json::json;

const KEY: &str = "bnMta2V5";
const WAIT: Duration = Duration::from_secs(10);

fn emulator() -> EmulatorHandle {
    let subscription = |spec: &str| spec.parse::<SubscriptionSpec>().unwrap();
    Emulator::start_in_background(
        EmulatorConfig::new()
            .port(0)
            .topic(TopicSpec::open("basic"))
            .namespace_topic(NamespaceTopicSpec::keyed("orders", KEY))
            .subscription(subscription("orders/billing"))
            .subscription(subscription("orders/shipping")),
    )
    .expect("the emulator starts")
}

fn config(emulator: &EmulatorHandle) -> EventGridConfig {
    EventGridConfig::new([
        EventGridTopicConfig::namespace("orders", emulator.namespace_endpoint(), "orders")
            .unwrap()
            .with_source("/shop")
            .with_credential(KeyCredential::access_key(KEY)),
        // A basic topic's name used as a namespace topic, and the reverse: both 404.
        EventGridTopicConfig::namespace("misused-basic", emulator.namespace_endpoint(), "basic")
            .unwrap(),
        EventGridTopicConfig::new(
            "misused-namespace",
            format!("{}/orders", emulator.namespace_endpoint()),
        )
        .unwrap(),
    ])
    .unwrap()
}

/// One client of either kind, with the same calls.
enum Client {
    Async(tokio::runtime::Runtime, nonblocking::EventGridClient),
    Blocking(eventgrid::blocking::EventGridClient),
}

fn both(emulator: &EmulatorHandle) -> [Client; 2] {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime
        .block_on(async { nonblocking::EventGridClient::new(config(emulator), Credential::None) })
        .unwrap();
    [
        Client::Async(runtime, client),
        Client::Blocking(
            eventgrid::blocking::EventGridClient::new(config(emulator), Credential::None).unwrap(),
        ),
    ]
}

impl Client {
    fn name(&self) -> &'static str {
        match self {
            Client::Async(..) => "async",
            Client::Blocking(_) => "blocking",
        }
    }

    fn emit(&self, topic: &str, event_type: &str, data: serde_json::Value) -> Result<()> {
        match self {
            Client::Async(rt, c) => rt.block_on(c.emit_event(topic, event_type, "orders/1", data)),
            Client::Blocking(c) => c.emit_event(topic, event_type, "orders/1", data),
        }
    }

    fn publish_event(&self, topic: &str, event: EventGridEvent) -> Result<()> {
        match self {
            Client::Async(rt, c) => rt.block_on(c.publish_event(topic, event)),
            Client::Blocking(c) => c.publish_event(topic, event),
        }
    }
}

#[test]
fn sas_credentials_are_refused_for_a_namespace_topic() {
    let emulator = emulator();
    // SAS credentials for a namespace topic are refused when the client is made.
    let config = EventGridConfig::new([EventGridTopicConfig::namespace(
        "orders",
        emulator.namespace_endpoint(),
        "orders",
    )
    .unwrap()])
    .unwrap();
    let err =
        eventgrid::blocking::EventGridClient::new(config, Credential::sas_token("r=a&e=b&s=c"))
            .unwrap_err();
    assert!(matches!(err, Error::NotForNamespace { .. }), "{err}");
}

#[test]
fn a_404_from_an_endpoint_of_the_other_kind_says_so() {
    let emulator = emulator();
    for client in both(&emulator) {
        let side = client.name();
        let err = client.emit("misused-basic", "t", json!(1)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::WrongTopicKind {
                    status: Some(404),
                    ..
                }
            ),
            "{side}: {err}"
        );
        assert!(err.to_string().contains("basic topic's endpoint"), "{err}");
        let err = client
            .publish_event("misused-namespace", EventGridEvent::without_data("t", "s"))
            .unwrap_err();
        assert!(
            matches!(err, Error::Service(_)) && err.status() == Some(404),
            "{side}: {err}"
        );
        assert!(
            err.to_string().contains("EventGridTopicConfig::namespace"),
            "{err}"
        );
    }
}

#[test]
fn the_processor_renews_locks_while_a_handler_outlives_them() {
    let slow = "orders/slow".parse::<SubscriptionSpec>().unwrap();
    let emulator = Emulator::start_in_background(
        EmulatorConfig::new()
            .port(0)
            .namespace_topic(NamespaceTopicSpec::keyed("orders", KEY))
            .subscription(slow.with_lock_duration(Duration::from_secs(2))),
    )
    .unwrap();
    let options = || {
        ProcessOptions::default()
            .with_max_wait(WAIT)
            .with_lock_renewal_interval(Duration::from_secs(1))
    };
    // The handler takes longer than the 2 s lock: only renewal keeps its token valid, so
    // that acknowledging succeeds (an expired token fails with TokenLost).
    let handling = Duration::from_millis(3500);
    for client in both(&emulator) {
        let side = client.name();
        client.emit("orders", "slow", json!(1)).unwrap();
        let shutdown = Shutdown::new();
        let report = match &client {
            Client::Async(rt, c) => {
                let stop = shutdown.clone();
                let handler = move |_event: ReceivedEvent| {
                    let stop = stop.clone();
                    async move {
                        tokio::time::sleep(handling).await;
                        stop.trigger();
                        Ok(())
                    }
                };
                let receiver = c.receiver("orders", "slow").unwrap();
                rt.block_on(receiver.process(handler, options(), &shutdown))
            }
            Client::Blocking(c) => {
                let handler = |_event: ReceivedEvent| {
                    std::thread::sleep(handling);
                    shutdown.trigger();
                    Ok(())
                };
                let receiver = c.receiver("orders", "slow").unwrap();
                receiver.process(handler, options(), &shutdown)
            }
        };
        let report = report.into_result().unwrap();
        assert_eq!(
            (report.acknowledged, report.settlement_failures),
            (1, 0),
            "{side}"
        );
        let counts = emulator.subscription_counts("orders", "slow");
        assert_eq!((counts.available, counts.locked), (0, 0), "{side}");
    }
}

#[test]
fn the_buffered_publisher_publishes_to_a_namespace_topic_within_its_limits() {
    let emulator = emulator();
    let [Client::Async(rt, client), _] = both(&emulator) else {
        panic!("the async client comes first")
    };
    rt.block_on(async {
        // Batches of up to 5,000 events on a basic topic; a namespace takes at most 1,000.
        let options = nonblocking::BufferedOptions::default()
            .with_max_events_per_batch(5_000)
            .with_linger(Duration::from_millis(200));
        let publisher = client.buffered(options).unwrap();
        publisher
            .emit_event("orders", "order.placed", "orders/1", json!(1))
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..1_500 {
            let publisher = publisher.clone();
            let event = CloudEvent::new("/shop", "bulk", n).unwrap();
            tasks.spawn(async move { publisher.publish("orders", event).await });
        }
        while let Some(outcome) = tasks.join_next().await {
            outcome.unwrap().unwrap();
        }
        let err = publisher
            .publish("orders", EventGridEvent::without_data("t", "s"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotForNamespace { .. }), "{err}");
        let billing = client.receiver("orders", "billing").unwrap();
        let first = billing.receive(1, WAIT).await.unwrap();
        let first = &first.events[0].event;
        assert_eq!(
            (first.source(), first.event_type()),
            ("/shop", "order.placed")
        );
    });
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(counts.enqueued, 1_501);

    // The blocking publisher shares the core's coalescer (limits checked above); its
    // emit_event makes the namespace topic's CloudEvent too.
    let client = eventgrid::blocking::EventGridClient::new(config(&emulator), Credential::None);
    let options = eventgrid::blocking::BufferedOptions::default();
    let publisher = client.unwrap().buffered(options).unwrap();
    publisher
        .emit_event("orders", "order.placed", "orders/2", json!(2))
        .unwrap();
    let err = publisher
        .publish("orders", EventGridEvent::without_data("t", "s"))
        .unwrap_err();
    assert!(matches!(err, Error::NotForNamespace { .. }), "{err}");
    let counts = emulator.subscription_counts("orders", "billing");
    assert_eq!(counts.enqueued, 1_502);
}

/// Removes `source` from every event of type `corrupt` in `:receive` answers: an event the
/// client cannot read, as a faulty producer behind a lenient service would make.
fn corrupt(
    uri: &str,
    response: eventgrid::core::http::Response<eventgrid::core::bytes::Bytes>,
) -> eventgrid::core::http::Response<eventgrid::core::bytes::Bytes> {
    if !uri.contains(":receive") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let mut answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    for detail in answer["value"].as_array_mut().unwrap() {
        let event = detail["event"].as_object_mut().unwrap();
        if event["type"] == "corrupt" {
            event.remove("source");
        }
    }
    let body = serde_json::to_vec(&answer).unwrap().into();
    eventgrid::core::http::Response::from_parts(parts, body)
}

struct Corrupting<T>(T);

impl eventgrid::core::Transport for Corrupting<eventgrid::blocking::UreqTransport> {
    fn send(
        &self,
        request: eventgrid::core::http::Request<eventgrid::core::bytes::Bytes>,
    ) -> std::result::Result<
        eventgrid::core::http::Response<eventgrid::core::bytes::Bytes>,
        eventgrid::TransportError,
    > {
        let uri = request.uri().to_string();
        self.0.send(request).map(|response| corrupt(&uri, response))
    }
}

impl eventgrid::core::AsyncTransport for Corrupting<nonblocking::HyperTransport> {
    async fn send(
        &self,
        request: eventgrid::core::http::Request<eventgrid::core::bytes::Bytes>,
    ) -> std::result::Result<
        eventgrid::core::http::Response<eventgrid::core::bytes::Bytes>,
        eventgrid::TransportError,
    > {
        let uri = request.uri().to_string();
        let response = self.0.send(request).await;
        response.map(|response| corrupt(&uri, response))
    }
}

#[test]
fn the_processor_rejects_and_reports_an_event_it_cannot_read_and_handles_the_others() {
    let emulator = emulator();
    let options = eventgrid::core::ClientOptions::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let async_client = runtime.block_on(async {
        let transport = nonblocking::HyperTransport::new(&options).unwrap();
        nonblocking::EventGridClient::builder(config(&emulator))
            .transport(Corrupting(transport))
            .build()
            .unwrap()
    });
    let transport = eventgrid::blocking::UreqTransport::new(&options).unwrap();
    let blocking_client = eventgrid::blocking::EventGridClient::builder(config(&emulator))
        .transport(Corrupting(transport))
        .build()
        .unwrap();
    let process_options = || {
        ProcessOptions::default()
            .with_max_concurrency(4)
            .with_max_wait(WAIT)
    };
    for side in ["async", "blocking"] {
        let events: Vec<CloudEvent> = ["ok", "corrupt", "ok"]
            .into_iter()
            .map(|kind| CloudEvent::new("/shop", kind, json!({})).unwrap())
            .collect();
        let before = emulator.subscription_counts("orders", "billing");
        let shutdown = Shutdown::new();
        let handled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // Two handler runs (the readable events), then stop.
        let judge = {
            let (handled, shutdown) = (handled.clone(), shutdown.clone());
            move |event: &ReceivedEvent| {
                assert_eq!(event.event.event_type(), "ok");
                if handled.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                    shutdown.trigger();
                }
                Ok(())
            }
        };
        let report = if side == "async" {
            runtime.block_on(async {
                async_client.send("orders", events).await.unwrap();
                let receiver = async_client.receiver("orders", "billing").unwrap();
                let handler = move |event: ReceivedEvent| {
                    let outcome = judge(&event);
                    async move { outcome }
                };
                receiver
                    .process(handler, process_options(), &shutdown)
                    .await
            })
        } else {
            blocking_client.send("orders", events).unwrap();
            let receiver = blocking_client.receiver("orders", "billing").unwrap();
            receiver.process(|event| judge(&event), process_options(), &shutdown)
        };
        let report = report.into_result().unwrap();
        assert_eq!((report.acknowledged, report.rejected), (2, 1), "{side}");
        assert_eq!(report.malformed, 1, "{side}");
        let bad = &report.malformed_events[0];
        assert!(bad.reason.contains("source"), "{side}: {bad:?}");
        assert!(bad.lock_token.is_some(), "{side}");
        let after = emulator.subscription_counts("orders", "billing");
        assert_eq!(after.rejected - before.rejected, 1, "{side}");
        assert_eq!((after.available, after.locked), (0, 0), "{side}");
        let metrics = match side {
            "async" => async_client.metrics()["orders"].pull,
            _ => blocking_client.metrics()["orders"].pull,
        };
        assert_eq!(
            (metrics.events_received, metrics.malformed_received),
            (2, 1),
            "{side}: {metrics:?}"
        );
    }
}
