//! Namespace topics through both clients against the emulator in-process: every scenario runs
//! once with the async client and once with the blocking one, through the same calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eventgrid::asynchronous as nonblocking;
use eventgrid::{
    CloudEvent, Credential, Error, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    HandlerError, KeyCredential, ProcessOptions, ProcessReport, ReceivedEvent, ReleaseDelay,
    Result, SettlementResult, Shutdown,
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

enum Receiver<'a> {
    Async(&'a tokio::runtime::Runtime, nonblocking::Receiver),
    Blocking(eventgrid::blocking::Receiver),
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

    fn send(&self, topic: &str, events: Vec<CloudEvent>) -> Result<usize> {
        match self {
            Client::Async(rt, c) => rt.block_on(c.send(topic, events)).map(|s| s.events),
            Client::Blocking(c) => c.send_stream(topic, events).map(|s| s.events),
        }
    }

    fn receiver(&self, subscription: &str) -> Result<Receiver<'_>> {
        Ok(match self {
            Client::Async(rt, c) => Receiver::Async(rt, c.receiver("orders", subscription)?),
            Client::Blocking(c) => Receiver::Blocking(c.receiver("orders", subscription)?),
        })
    }
}

/// The processor scenario's handler: `ok` succeeds, `never` can never succeed, `flaky` fails
/// on its first delivery; after `calls` handler runs it asks the loop to stop.
fn judge(
    event: &ReceivedEvent,
    seen: &AtomicUsize,
    calls: usize,
    shutdown: &Shutdown,
) -> std::result::Result<(), HandlerError> {
    if seen.fetch_add(1, Ordering::SeqCst) + 1 == calls {
        shutdown.trigger();
    }
    match (event.event.event_type(), event.delivery_count) {
        ("never", _) => Err(HandlerError::never("malformed")),
        ("flaky", 1) => Err(HandlerError::retry("not yet")),
        _ => Ok(()),
    }
}

impl Receiver<'_> {
    fn process(&self, calls: usize) -> ProcessReport {
        let shutdown = Shutdown::new();
        let options = ProcessOptions::default()
            .with_max_concurrency(3)
            .with_max_wait(WAIT);
        let seen = Arc::new(AtomicUsize::new(0));
        match self {
            Receiver::Async(rt, r) => {
                let stop = shutdown.clone();
                let handler = move |event: ReceivedEvent| {
                    let (seen, stop) = (seen.clone(), stop.clone());
                    async move { judge(&event, &seen, calls, &stop) }
                };
                rt.block_on(r.process(handler, options, &shutdown))
            }
            Receiver::Blocking(r) => r.process(
                |event| judge(&event, &seen, calls, &shutdown),
                options,
                &shutdown,
            ),
        }
    }

    fn receive(&self, max_events: usize, max_wait: Duration) -> Result<Vec<ReceivedEvent>> {
        match self {
            Receiver::Async(rt, r) => rt.block_on(r.receive(max_events, max_wait)),
            Receiver::Blocking(r) => r.receive(max_events, max_wait),
        }
    }

    fn settle(&self, how: &str, tokens: &[String]) -> Result<SettlementResult> {
        match (self, how) {
            (Receiver::Async(rt, r), "acknowledge") => rt.block_on(r.acknowledge(tokens)),
            (Receiver::Async(rt, r), "release") => {
                rt.block_on(r.release(tokens, ReleaseDelay::None))
            }
            (Receiver::Async(rt, r), "reject") => rt.block_on(r.reject(tokens)),
            (Receiver::Async(rt, r), _) => rt.block_on(r.renew_locks(tokens)),
            (Receiver::Blocking(r), "acknowledge") => r.acknowledge(tokens),
            (Receiver::Blocking(r), "release") => r.release(tokens, ReleaseDelay::None),
            (Receiver::Blocking(r), "reject") => r.reject(tokens),
            (Receiver::Blocking(r), _) => r.renew_locks(tokens),
        }
    }
}

fn tokens(events: &[ReceivedEvent]) -> Vec<String> {
    events.iter().map(|e| e.lock_token.clone()).collect()
}

#[test]
fn publish_receive_and_every_settlement() {
    let emulator = emulator();
    for client in both(&emulator) {
        let side = client.name();
        client
            .emit("orders", "order.placed", json!({"total": 30}))
            .unwrap();
        let batch = (0..3)
            .map(|n| CloudEvent::new("/shop", "order.paid", json!({"n": n})).unwrap())
            .collect();
        assert_eq!(client.send("orders", batch).unwrap(), 3, "{side}");

        let billing = client.receiver("billing").unwrap();
        let received = billing.receive(10, WAIT).unwrap();
        assert_eq!(received.len(), 4, "{side}");
        let first = &received[0];
        assert_eq!(
            (first.event.source(), first.event.event_type()),
            ("/shop", "order.placed")
        );
        assert_eq!(first.event.subject(), Some("orders/1"));
        assert_eq!(first.delivery_count, 1);
        let order: std::collections::HashMap<String, u32> = first.data_as().unwrap();
        assert_eq!(order["total"], 30);
        assert!(matches!(first.data_as::<String>(), Err(Error::Data { .. })));

        // Renew all, acknowledge one, reject one, release two: the released ones come back
        // with their delivery count raised; nothing else does.
        let all = tokens(&received);
        let renewed = billing.settle("renewLock", &all).unwrap();
        assert_eq!(renewed.succeeded.len(), 4, "{side}: {renewed:?}");
        billing
            .settle("acknowledge", &all[..1])
            .unwrap()
            .into_result()
            .unwrap();
        billing
            .settle("reject", &all[1..2])
            .unwrap()
            .into_result()
            .unwrap();
        billing
            .settle("release", &all[2..])
            .unwrap()
            .into_result()
            .unwrap();
        let again = billing.receive(10, WAIT).unwrap();
        assert_eq!(again.len(), 2, "{side}");
        assert!(again.iter().all(|e| e.delivery_count == 2), "{side}");
        billing
            .settle("acknowledge", &tokens(&again))
            .unwrap()
            .into_result()
            .unwrap();
        let counts = emulator.subscription_counts("orders", "billing");
        assert_eq!((counts.available, counts.locked), (0, 0), "{side}");

        // The other subscription got every event too.
        let shipping = client.receiver("shipping").unwrap();
        let events = shipping.receive(100, WAIT).unwrap();
        assert_eq!(events.len(), 4, "{side}");
        shipping
            .settle("acknowledge", &tokens(&events))
            .unwrap()
            .into_result()
            .unwrap();
    }
}

#[test]
fn a_stale_lock_token_is_reported_failed_and_into_result_makes_it_an_error() {
    let emulator = emulator();
    for client in both(&emulator) {
        let side = client.name();
        client.emit("orders", "order.placed", json!(1)).unwrap();
        let billing = client.receiver("billing").unwrap();
        let received = billing.receive(1, WAIT).unwrap();
        let token = tokens(&received);
        billing
            .settle("acknowledge", &token)
            .unwrap()
            .into_result()
            .unwrap();
        let stale = billing
            .settle("acknowledge", &[token[0].clone(), "not-a-token".to_owned()])
            .unwrap();
        assert!(stale.succeeded.is_empty(), "{side}");
        assert_eq!(stale.failed.len(), 2, "{side}");
        assert_eq!(stale.failed[0].lock_token, token[0]);
        assert!(!stale.failed[0].code.is_empty());
        let err = stale.into_result().unwrap_err();
        assert!(matches!(err, Error::Settlement(_)), "{side}: {err}");
        assert!(
            err.to_string().contains("2 of 2 lock tokens failed"),
            "{err}"
        );
        // Drain the other subscription for the next client.
        let shipping = client.receiver("shipping").unwrap();
        let left = shipping.receive(10, WAIT).unwrap();
        shipping
            .settle("acknowledge", &tokens(&left))
            .unwrap()
            .into_result()
            .unwrap();
    }
}

#[test]
fn refusals_happen_before_anything_is_sent() {
    let emulator = emulator();
    for client in both(&emulator) {
        let side = client.name();
        let err = client
            .publish_event("orders", EventGridEvent::without_data("t", "s"))
            .unwrap_err();
        assert!(
            matches!(err, Error::NotForNamespace { .. }),
            "{side}: {err}"
        );
        let billing = client.receiver("billing").unwrap();
        for (events, wait) in [(0, WAIT), (101, WAIT), (1, Duration::from_secs(9))] {
            let err = billing.receive(events, wait).unwrap_err();
            assert!(
                matches!(err, Error::InvalidArgument { .. }),
                "{side}: {err}"
            );
        }
        let err = billing.settle("acknowledge", &[]).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { .. }),
            "{side}: {err}"
        );
        let err = client.receiver("nope/x").err().unwrap();
        assert!(
            matches!(err, Error::InvalidArgument { .. }),
            "{side}: {err}"
        );
    }
    assert_eq!(
        emulator.subscription_counts("orders", "billing").delivered,
        0
    );
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
fn a_waiting_receive_is_answered_when_an_event_arrives() {
    let emulator = emulator();
    for client in both(&emulator) {
        let side = client.name();
        let billing = client.receiver("billing").unwrap();
        let received = std::thread::scope(|scope| {
            scope.spawn(|| {
                // Publish once the receive is (very probably) waiting; the receive returns the
                // event either way, or nothing after 20 s if long polling were broken.
                std::thread::sleep(Duration::from_millis(300));
                let publisher =
                    eventgrid::blocking::EventGridClient::new(config(&emulator), Credential::None)
                        .unwrap();
                publisher.emit_event("orders", "late", "s", 1).unwrap();
            });
            billing.receive(1, Duration::from_secs(20)).unwrap()
        });
        assert_eq!(received.len(), 1, "{side}");
        assert_eq!(received[0].event.event_type(), "late");
        billing
            .settle("acknowledge", &tokens(&received))
            .unwrap()
            .into_result()
            .unwrap();
        let shipping = client.receiver("shipping").unwrap();
        let left = shipping.receive(10, WAIT).unwrap();
        let _ = shipping.settle("acknowledge", &tokens(&left)).unwrap();
    }
}

#[test]
fn the_processor_acknowledges_releases_and_rejects_by_the_handlers_word() {
    let emulator = emulator();
    for client in both(&emulator) {
        let side = client.name();
        let events = ["ok", "never", "flaky", "ok"]
            .into_iter()
            .map(|kind| CloudEvent::new("/shop", kind, json!({})).unwrap())
            .collect();
        client.send("orders", events).unwrap();
        let billing = client.receiver("billing").unwrap();
        let before = emulator.subscription_counts("orders", "billing");
        // Five handler runs: the flaky event twice.
        let report = billing.process(5).into_result().unwrap();
        assert_eq!(
            (report.acknowledged, report.released, report.rejected),
            (3, 1, 1),
            "{side}"
        );
        assert_eq!((report.settlement_failures, report.handler_panics), (0, 0));
        let after = emulator.subscription_counts("orders", "billing");
        assert_eq!((after.available, after.locked), (0, 0), "{side}");
        assert_eq!(after.acknowledged - before.acknowledged, 3, "{side}");
        assert_eq!(after.rejected - before.rejected, 1, "{side}");
        let shipping = client.receiver("shipping").unwrap();
        let left = shipping.receive(10, WAIT).unwrap();
        let _ = shipping.settle("acknowledge", &tokens(&left)).unwrap();
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
        let first = &first[0].event;
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
