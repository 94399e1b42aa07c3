//! The buffered publisher's contract: each caller gets its own event's outcome (under injected
//! faults too), invalid events are refused alone, back-pressure at the pending limit, flush
//! and close deliver everything, linger and size triggers, many tasks at once. (A drop without
//! close is tested in `buffered_drop.rs`, which installs the global `tracing` subscriber.)

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use eventgrid_async::{
    AsyncTransport, BufferedOptions, BufferedPublisher, CloudEvent, Error, EventGridClient,
    EventGridEvent, HyperTransport, Schema, TransportError,
};
use eventgrid_emulator::{EmulatorConfig, FaultRule, FaultSpec, RunningEmulator, TopicSpec};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::{config, distinct, quick_retries, received_ids, start};

/// Longer than any test: batches then close only when full, flushed, closed or dropped.
const NEVER: Duration = Duration::from_secs(3_600);

fn event(n: usize) -> EventGridEvent {
    EventGridEvent::new("item.made", format!("items/{n}"), json!({"n": n}))
        .unwrap()
        .with_id(format!("id-{n}"))
}

async fn open_topic() -> RunningEmulator {
    start(EmulatorConfig::new().topic(TopicSpec::open("items"))).await
}

fn client(emulator: &RunningEmulator) -> EventGridClient {
    EventGridClient::builder(config(emulator, &[("items", Schema::EventGrid)]))
        .retry(quick_retries(10))
        .build()
        .unwrap()
}

/// Publishes event `n` from its own task.
fn spawn_publish(publisher: &BufferedPublisher, n: usize) -> JoinHandle<Result<(), Error>> {
    let publisher = publisher.clone();
    tokio::spawn(async move { publisher.publish("items", event(n)).await })
}

/// Waits (yielding) until `ready` holds; a bug that never makes it hold fails the test rather
/// than hanging it.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let waiting = async {
        while !ready() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .unwrap_or_else(|_| panic!("never: {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_caller_gets_its_own_batchs_outcome_under_faults() {
    // A quarter of the requests are refused for good (400), another quarter only for now (503).
    let faults = FaultSpec::new()
        .seed(11)
        .rule(FaultRule::status(400).fraction(0.25))
        .rule(FaultRule::status(503).fraction(0.25));
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .fault("items", faults),
    )
    .await;
    let client = client(&emulator);
    let options = BufferedOptions::default()
        .with_max_events_per_batch(20)
        .with_max_concurrent_requests(4);
    let publisher = client.buffered(options).unwrap();
    let tasks: Vec<_> = (0..1_000).map(|n| spawn_publish(&publisher, n)).collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    publisher.close().await;

    let received = received_ids(&emulator, "items");
    assert_eq!(distinct(&received).len(), received.len(), "no duplicates");
    let received = distinct(&received);
    let mut failed = 0;
    for (n, outcome) in outcomes.iter().enumerate() {
        let delivered = received.contains(format!("id-{n}").as_str());
        match outcome {
            Ok(()) => assert!(delivered, "event {n} reported delivered but not received"),
            Err(error) => {
                assert!(
                    !delivered,
                    "event {n} reported failed but received: {error}"
                );
                assert_eq!(error.status(), Some(400), "event {n}: {error}");
                assert!(matches!(error, Error::Service(_)), "{error:?}");
                failed += 1;
            }
        }
    }
    let statuses: Vec<_> = emulator
        .requests("items")
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(statuses.contains(&Some(400)) && statuses.contains(&Some(503)));
    assert!(failed > 0 && !received.is_empty(), "{failed} failed");
    assert_eq!(received.len() + failed, 1_000);
    let metrics = client.metrics()["items"];
    assert_eq!(metrics.events_failed, failed as u64);
    assert_eq!(metrics.events_published, received.len() as u64);
    assert!(metrics.retries > 0, "503s were retried");
    assert_eq!(publisher.pending_events(), 0);
}

#[tokio::test]
async fn transient_unavailability_is_retried_for_the_whole_batch() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .fault("items", FaultRule::status(503).next(2)),
    )
    .await;
    let client = client(&emulator);
    let publisher = client
        .buffered(BufferedOptions::default().with_max_events_per_batch(50))
        .unwrap();
    let tasks: Vec<_> = (0..50).map(|n| spawn_publish(&publisher, n)).collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    publisher.close().await;
    let statuses: Vec<_> = emulator
        .requests("items")
        .iter()
        .map(|r| (r.status, r.events))
        .collect();
    assert_eq!(statuses, [(Some(503), 0), (Some(503), 0), (Some(200), 50)]);
    assert_eq!(distinct(&received_ids(&emulator, "items")).len(), 50);
}

#[tokio::test]
async fn bad_events_are_refused_alone_at_publish_time() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .topic(TopicSpec::open("cloud").with_schema(eventgrid_emulator::Schema::CloudEvents)),
    )
    .await;
    let client = EventGridClient::new(
        config(
            &emulator,
            &[("items", Schema::EventGrid), ("cloud", Schema::CloudEvents)],
        ),
        eventgrid_async::Credential::None,
    )
    .unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(NEVER))
        .unwrap();
    let good: Vec<_> = (0..3).map(|n| spawn_publish(&publisher, n)).collect();
    until("3 events accepted", || publisher.pending_events() == 3).await;

    let empty_type = publisher.emit_event("items", "", "items/x", 1).await;
    assert!(
        matches!(&empty_type, Err(Error::InvalidEvent { index: 0, reason }) if reason.contains("eventType")),
        "{empty_type:?}"
    );
    let too_big = publisher
        .emit_event("items", "big", "items/y", "x".repeat(70_000))
        .await;
    assert!(
        matches!(
            too_big,
            Err(Error::EventTooLarge {
                index: 0,
                limit: 65_536,
                ..
            })
        ),
        "{too_big:?}"
    );
    let unknown = publisher.emit_event("itms", "t", "s", 1).await;
    assert!(
        matches!(unknown, Err(Error::UnknownTopic { .. })),
        "{unknown:?}"
    );
    let schema = publisher
        .publish("items", CloudEvent::without_data("/src", "t"))
        .await;
    assert!(
        matches!(schema, Err(Error::SchemaMismatch { .. })),
        "{schema:?}"
    );
    let unserializable = std::collections::HashMap::from([((1, 2), 3)]);
    let refused = publisher
        .emit_event("items", "t", "s", unserializable)
        .await;
    assert!(
        matches!(&refused, Err(Error::InvalidEvent { index: 0, reason }) if reason.starts_with("could not serialize")),
        "{refused:?}"
    );
    assert_eq!(publisher.pending_events(), 3, "refusals take no room");

    // Each topic has its own batches; close sends them all.
    let cloud = {
        let publisher = publisher.clone();
        tokio::spawn(async move {
            publisher
                .publish("cloud", CloudEvent::without_data("/src", "t"))
                .await
        })
    };
    until("4 events accepted", || publisher.pending_events() == 4).await;
    publisher.close().await;
    for task in good {
        task.await.unwrap().unwrap();
    }
    cloud.await.unwrap().unwrap();
    assert_eq!(emulator.counters("items").accepted_events, 3);
    assert_eq!(emulator.counters("items").requests, 1);
    assert_eq!(emulator.counters("cloud").accepted_events, 1);
}

#[tokio::test]
async fn topics_added_and_removed_at_run_time_are_followed() {
    let emulator = open_topic().await;
    let client = EventGridClient::new(
        eventgrid_async::EventGridConfig::default(),
        eventgrid_async::Credential::None,
    )
    .unwrap();
    let publisher = client.buffered(BufferedOptions::default()).unwrap();
    let unknown = publisher.publish("items", event(0)).await;
    assert!(
        matches!(unknown, Err(Error::UnknownTopic { .. })),
        "{unknown:?}"
    );

    let items =
        eventgrid_async::EventGridTopicConfig::new("items", emulator.topic_endpoint("items"));
    client.add_topic(items.unwrap()).unwrap();
    publisher.publish("items", event(1)).await.unwrap();
    client.remove_topic("items").unwrap();
    let removed = publisher.publish("items", event(2)).await;
    assert!(
        matches!(removed, Err(Error::UnknownTopic { .. })),
        "{removed:?}"
    );
    publisher.close().await;
    assert_eq!(received_ids(&emulator, "items"), ["id-1"]);
}

/// Forwards to the emulator once let through; counts the events that arrived meanwhile.
struct Gate {
    inner: HyperTransport,
    open: Semaphore,
    arrived: AtomicUsize,
}

impl AsyncTransport for Gate {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let count = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(request.body())
            .expect("bodies are JSON arrays")
            .len();
        self.arrived.fetch_add(count, Ordering::SeqCst);
        let _through = self.open.acquire().await.expect("never closed");
        self.inner.send(request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishers_wait_at_the_pending_limit_and_nothing_is_lost() {
    let emulator = open_topic().await;
    let gate = Arc::new(Gate {
        inner: HyperTransport::builder(&eventgrid_async::ClientOptions::default())
            .build()
            .unwrap(),
        open: Semaphore::new(0),
        arrived: AtomicUsize::new(0),
    });
    let client = EventGridClient::builder(config(&emulator, &[("items", Schema::EventGrid)]))
        .transport(gate.clone())
        .build()
        .unwrap();
    // However the linger time splits them, every accepted event's request reaches the gate.
    let options = BufferedOptions::default()
        .with_max_pending_events(50)
        .with_max_events_per_batch(10)
        .with_max_concurrent_requests(50)
        .with_linger(Duration::from_millis(1));
    let publisher = client.buffered(options).unwrap();
    let tasks: Vec<_> = (0..200).map(|n| spawn_publish(&publisher, n)).collect();

    // Nothing is acknowledged while the gate is shut: 50 events are accepted, in requests
    // waiting at the gate, and the other 150 publishers wait for room.
    until("50 events at the gate", || {
        gate.arrived.load(Ordering::SeqCst) == 50
    })
    .await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(gate.arrived.load(Ordering::SeqCst), 50);
    assert_eq!(publisher.pending_events(), 50);
    assert!(tasks.iter().all(|task| !task.is_finished()));

    gate.open.add_permits(1_000);
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    publisher.close().await;
    let received = received_ids(&emulator, "items");
    assert_eq!(received.len(), 200);
    assert_eq!(distinct(&received).len(), 200);
    assert_eq!(gate.arrived.load(Ordering::SeqCst), 200);
}

#[tokio::test]
async fn flush_and_close_deliver_everything_accepted_so_far() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .topic(TopicSpec::open("other")),
    )
    .await;
    let client = EventGridClient::new(
        config(
            &emulator,
            &[("items", Schema::EventGrid), ("other", Schema::EventGrid)],
        ),
        eventgrid_async::Credential::None,
    )
    .unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(NEVER))
        .unwrap();
    let mut tasks: Vec<_> = (0..30).map(|n| spawn_publish(&publisher, n)).collect();
    let other = publisher.clone();
    tasks.push(tokio::spawn(async move {
        other.emit_event("other", "t", "s", 1).await
    }));
    until("31 events accepted", || publisher.pending_events() == 31).await;
    assert_eq!(emulator.counters("items").requests, 0, "nothing sent yet");

    publisher.flush().await;
    assert_eq!(emulator.counters("items").accepted_events, 30);
    assert_eq!(emulator.counters("other").accepted_events, 1);
    assert_eq!(publisher.pending_events(), 0);
    for task in tasks.drain(..) {
        task.await.unwrap().unwrap();
    }

    // Flushing leaves the publisher open; closing sends the rest and refuses more.
    let tasks: Vec<_> = (30..40).map(|n| spawn_publish(&publisher, n)).collect();
    until("10 more accepted", || publisher.pending_events() == 10).await;
    publisher.close().await;
    assert_eq!(emulator.counters("items").accepted_events, 40);
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let late = publisher.publish("items", event(99)).await;
    assert!(matches!(late, Err(Error::Closed)), "{late:?}");
    let from_a_clone = publisher.clone().emit_event("other", "t", "s", 2).await;
    assert!(matches!(from_a_clone, Err(Error::Closed)));
    publisher.close().await;
    assert_eq!(distinct(&received_ids(&emulator, "items")).len(), 40);
}

#[tokio::test]
async fn a_lone_event_is_sent_after_the_linger_time() {
    let emulator = open_topic().await;
    let client = client(&emulator);
    let linger = Duration::from_millis(100);
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(linger))
        .unwrap();
    let started = Instant::now();
    // Neither full nor flushed: only the linger time sends it.
    tokio::time::timeout(
        Duration::from_secs(30),
        publisher.publish("items", event(1)),
    )
    .await
    .expect("sent after the linger time")
    .unwrap();
    assert!(started.elapsed() >= linger, "{:?}", started.elapsed());
    let requests = emulator.requests("items");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].events, 1);
    publisher.close().await;
}

#[tokio::test]
async fn a_full_batch_is_sent_at_once() {
    let emulator = open_topic().await;
    let client = client(&emulator);
    let options = BufferedOptions::default()
        .with_linger(NEVER)
        .with_max_events_per_batch(10);
    let publisher = client.buffered(options).unwrap();
    let tasks: Vec<_> = (0..25).map(|n| spawn_publish(&publisher, n)).collect();
    until("two full batches sent", || {
        emulator.counters("items").accepted_events == 20
    })
    .await;
    until("the rest accepted", || publisher.pending_events() == 5).await;
    let sizes: Vec<_> = emulator
        .requests("items")
        .iter()
        .map(|r| r.events)
        .collect();
    assert_eq!(sizes, [10, 10]);
    publisher.close().await;
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let sizes: Vec<_> = emulator
        .requests("items")
        .iter()
        .map(|r| r.events)
        .collect();
    assert_eq!(sizes, [10, 10, 5]);
}

#[tokio::test]
async fn a_batch_closes_when_the_next_event_would_overflow_its_body() {
    let emulator = open_topic().await;
    let client = client(&emulator);
    let options = BufferedOptions::default()
        .with_linger(NEVER)
        .with_max_bytes_per_batch(70_000);
    let publisher = client.buffered(options).unwrap();
    // Three events of about 20 KB fit in 70,000 bytes; the fourth starts the next batch.
    let mut tasks = Vec::new();
    for n in 0..4 {
        let publisher_ = publisher.clone();
        tasks.push(tokio::spawn(async move {
            let event = EventGridEvent::new("big", format!("b/{n}"), "x".repeat(20_000))
                .unwrap()
                .with_id(format!("id-{n}"));
            publisher_.publish("items", event).await
        }));
        if n < 3 {
            // The fourth closes the first batch, which may be acknowledged (pending back to 1)
            // before a poll would see 4 pending: the next wait covers it.
            until("accepted in order", || publisher.pending_events() == n + 1).await;
        }
    }
    until("the first three sent", || {
        emulator.counters("items").accepted_events == 3
    })
    .await;
    for task in tasks.drain(..3) {
        task.await.unwrap().unwrap();
    }
    assert_eq!(publisher.pending_events(), 1);
    publisher.close().await;
    tasks.pop().unwrap().await.unwrap().unwrap();
    let sizes: Vec<_> = emulator
        .requests("items")
        .iter()
        .map(|r| r.events)
        .collect();
    assert_eq!(sizes, [3, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_publishers_share_a_few_requests() {
    let emulator = open_topic().await;
    let client = client(&emulator);
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(Duration::from_millis(100)))
        .unwrap();
    let tasks: Vec<_> = (0..10_000).map(|n| spawn_publish(&publisher, n)).collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    publisher.close().await;
    let received = received_ids(&emulator, "items");
    assert_eq!(received.len(), 10_000);
    let expected: HashSet<String> = (0..10_000).map(|n| format!("id-{n}")).collect();
    assert_eq!(
        distinct(&received),
        expected.iter().map(String::as_str).collect()
    );
    let requests = client.metrics()["items"].requests;
    assert!(requests <= 100, "{requests} requests for 10,000 events");
}

/// Panics on the first request it is given (a custom transport's bug), then forwards.
struct PanicsOnce {
    inner: HyperTransport,
    panicked: std::sync::atomic::AtomicBool,
}

impl AsyncTransport for PanicsOnce {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        if !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("a bug in a custom transport");
        }
        self.inner.send(request).await
    }
}

#[tokio::test]
async fn a_send_that_panics_settles_its_events_and_gives_their_room_back() {
    let emulator = open_topic().await;
    let transport = PanicsOnce {
        inner: HyperTransport::builder(&eventgrid_async::ClientOptions::default())
            .build()
            .unwrap(),
        panicked: Default::default(),
    };
    let client = EventGridClient::builder(config(&emulator, &[("items", Schema::EventGrid)]))
        .transport(transport)
        .build()
        .unwrap();
    // Room for one event: a send that kept its room would stop every later publish.
    let options = BufferedOptions::default()
        .with_max_pending_events(1)
        .with_linger(Duration::from_millis(1));
    let publisher = client.buffered(options).unwrap();
    let first = tokio::time::timeout(
        Duration::from_secs(30),
        publisher.publish("items", event(0)),
    )
    .await
    .expect("an outcome, not a hang");
    let error = first.unwrap_err().to_string();
    assert!(error.contains("panicked"), "{error}");
    assert!(!error.contains("runtime"), "{error}");
    assert_eq!(publisher.pending_events(), 0);

    let second = tokio::time::timeout(
        Duration::from_secs(30),
        publisher.publish("items", event(1)),
    )
    .await
    .expect("the panicked send gave its room back");
    second.unwrap();
    publisher.close().await;
    assert_eq!(received_ids(&emulator, "items"), ["id-1"]);
}

/// Never answers the first request (it hangs until its task is dropped), then forwards.
struct HangsOnce {
    inner: HyperTransport,
    hung: std::sync::atomic::AtomicBool,
}

impl AsyncTransport for HangsOnce {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        if !self.hung.swap(true, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.send(request).await
    }
}

#[test]
fn a_send_cancelled_with_its_runtime_settles_its_events_and_gives_their_room_back() {
    let runtime = |threads| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .unwrap()
    };
    // The publishers and the emulator live on one runtime; the first batch is sent from
    // another, which then shuts down with that send in flight.
    let callers = runtime(2);
    let emulator = callers.block_on(open_topic());
    let transport = Arc::new(HangsOnce {
        inner: HyperTransport::builder(&eventgrid_async::ClientOptions::default())
            .build()
            .unwrap(),
        hung: Default::default(),
    });
    let client = EventGridClient::builder(config(&emulator, &[("items", Schema::EventGrid)]))
        .transport(transport.clone())
        .build()
        .unwrap();
    let options = BufferedOptions::default()
        .with_max_pending_events(1)
        .with_linger(NEVER);
    let publisher = client.buffered(options).unwrap();
    let first = {
        let _runtime = callers.enter();
        spawn_publish(&publisher, 0)
    };
    callers.block_on(until("the first event accepted", || {
        publisher.pending_events() == 1
    }));

    let senders = runtime(1);
    senders.spawn({
        let publisher = publisher.clone();
        async move { publisher.flush().await }
    });
    callers.block_on(until("the send at the transport", || {
        transport.hung.load(Ordering::SeqCst)
    }));
    senders.shutdown_timeout(Duration::from_secs(5));

    callers.block_on(async {
        let outcome = tokio::time::timeout(Duration::from_secs(30), first)
            .await
            .expect("an outcome, not a hang")
            .unwrap();
        let error = outcome.unwrap_err().to_string();
        assert!(error.contains("cancelled"), "{error}");
        assert_eq!(publisher.pending_events(), 0, "its room was given back");
        let second = spawn_publish(&publisher, 1);
        until("the second accepted", || publisher.pending_events() == 1).await;
        publisher.flush().await;
        tokio::time::timeout(Duration::from_secs(30), second)
            .await
            .expect("room for the next event")
            .unwrap()
            .unwrap();
    });
    assert_eq!(received_ids(&emulator, "items"), ["id-1"]);
}
