//! The blocking buffered publisher's contract, the async one's on threads: each caller gets its
//! own event's outcome (under injected faults too), invalid events are refused alone,
//! back-pressure blocks callers at the pending limit, flush and close deliver everything, linger
//! and size triggers, many threads at once, a panicking send settles its events, and dropping
//! every clone without `close` loses nothing.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use eventgrid_blocking::{
    BufferedOptions, BufferedPublisher, ClientOptions, CloudEvent, Credential, Error,
    EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig, Schema, Transport,
    TransportError, UreqTransport,
};
use eventgrid_emulator::{EmulatorConfig, EmulatorHandle, FaultRule, FaultSpec, TopicSpec};
use http::{Request, Response};
use serde_json::json;
use support::{builder, config, received_ids, start};

/// Longer than any test: batches then close only when full, flushed or closed.
const NEVER: Duration = Duration::from_secs(3_600);

fn event(n: usize) -> EventGridEvent {
    EventGridEvent::new("item.made", format!("items/{n}"), json!({"n": n}))
        .unwrap()
        .with_id(format!("id-{n}"))
}

fn open_topic() -> EmulatorHandle {
    start(EmulatorConfig::new().topic(TopicSpec::open("items")))
}

/// Publishes event `n` from a thread of its own.
fn spawn_publish(publisher: &BufferedPublisher, n: usize) -> JoinHandle<Result<(), Error>> {
    let publisher = publisher.clone();
    thread::spawn(move || publisher.publish("items", event(n)))
}

/// Waits until `ready` holds; a bug that never makes it hold fails the test rather than
/// hanging it.
fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(30), "never: {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `publish` on a thread and fails the test if it does not return within 30 s.
fn within_30s<T: Send + 'static>(publish: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    thread::spawn(move || done.send(publish()));
    result
        .recv_timeout(Duration::from_secs(30))
        .expect("an outcome, not a hang")
}

fn sizes(emulator: &EmulatorHandle) -> Vec<usize> {
    emulator
        .requests("items")
        .iter()
        .map(|r| r.events)
        .collect()
}

#[test]
fn each_caller_gets_its_own_batchs_outcome_under_faults() {
    // A quarter of the requests are refused for good (400), another quarter only for now (503).
    let faults = FaultSpec::new()
        .seed(11)
        .rule(FaultRule::status(400).fraction(0.25))
        .rule(FaultRule::status(503).fraction(0.25));
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .fault("items", faults),
    );
    let client = builder(&emulator, &["items"]).build().unwrap();
    let options = BufferedOptions::default()
        .with_max_events_per_batch(20)
        .with_max_concurrent_requests(4);
    let publisher = client.buffered(options).unwrap();
    // 100 threads publish 5 events each, one after another.
    let outcomes: Vec<(usize, Result<(), Error>)> = thread::scope(|scope| {
        let threads: Vec<_> = (0..100)
            .map(|t| {
                let publisher = &publisher;
                scope.spawn(move || {
                    let ns = (0..5).map(|k| t * 5 + k);
                    ns.map(|n| (n, publisher.publish("items", event(n))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect()
    });
    publisher.close();

    let received = received_ids(&emulator, "items");
    assert_eq!(
        received.len(),
        emulator.events("items").len(),
        "no duplicates"
    );
    let mut failed = 0;
    for (n, outcome) in &outcomes {
        let delivered = received.contains(&format!("id-{n}"));
        match outcome {
            Ok(()) => assert!(delivered, "event {n} reported delivered but not received"),
            Err(error) => {
                assert!(
                    !delivered,
                    "event {n} reported failed but received: {error}"
                );
                assert_eq!(error.status(), Some(400), "event {n}: {error}");
                failed += 1;
            }
        }
    }
    assert!(failed > 0 && !received.is_empty(), "{failed} failed");
    assert_eq!(received.len() + failed, 500);
    let metrics = client.metrics()["items"];
    assert_eq!(metrics.events_failed, failed as u64);
    assert_eq!(metrics.events_published, received.len() as u64);
    assert!(metrics.retries > 0, "503s were retried");
    assert_eq!(publisher.pending_events(), 0);
}

#[test]
fn transient_unavailability_is_retried_for_the_whole_batch() {
    let emulator = open_topic();
    emulator
        .set_fault("items", FaultRule::status(503).next(2))
        .unwrap();
    let client = builder(&emulator, &["items"]).build().unwrap();
    let options = BufferedOptions::default()
        .with_max_events_per_batch(30)
        .with_linger(NEVER);
    let publisher = client.buffered(options).unwrap();
    let threads: Vec<_> = (0..30).map(|n| spawn_publish(&publisher, n)).collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    let statuses: Vec<_> = emulator
        .requests("items")
        .iter()
        .map(|r| (r.status, r.events))
        .collect();
    assert_eq!(statuses, [(Some(503), 0), (Some(503), 0), (Some(200), 30)]);
    assert_eq!(received_ids(&emulator, "items").len(), 30);
}

#[test]
fn bad_events_are_refused_alone_at_publish_time() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .topic(TopicSpec::open("cloud").with_schema(eventgrid_emulator::Schema::CloudEvents)),
    );
    let config = EventGridConfig::new([
        EventGridTopicConfig::new("items", emulator.topic_endpoint("items")).unwrap(),
        EventGridTopicConfig::new("cloud", emulator.topic_endpoint("cloud"))
            .unwrap()
            .with_schema(Schema::CloudEvents),
    ])
    .unwrap();
    let client = EventGridClient::new(config, Credential::None).unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(NEVER))
        .unwrap();
    let good: Vec<_> = (0..3).map(|n| spawn_publish(&publisher, n)).collect();
    until("3 events accepted", || publisher.pending_events() == 3);

    let empty_type = publisher.emit_event("items", "", "items/x", 1);
    assert!(
        matches!(&empty_type, Err(Error::InvalidEvent { index: 0, reason }) if reason.contains("eventType")),
        "{empty_type:?}"
    );
    let too_big = publisher.emit_event("items", "big", "items/y", "x".repeat(70_000));
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
    let unknown = publisher.emit_event("itms", "t", "s", 1);
    assert!(
        matches!(unknown, Err(Error::UnknownTopic { .. })),
        "{unknown:?}"
    );
    let schema = publisher.publish("items", CloudEvent::without_data("/src", "t"));
    assert!(
        matches!(schema, Err(Error::SchemaMismatch { .. })),
        "{schema:?}"
    );
    let unserializable = std::collections::HashMap::from([((1, 2), 3)]);
    let refused = publisher.emit_event("items", "t", "s", unserializable);
    assert!(
        matches!(&refused, Err(Error::InvalidEvent { index: 0, reason }) if reason.starts_with("could not serialize")),
        "{refused:?}"
    );
    assert_eq!(publisher.pending_events(), 3, "refusals take no room");

    // Each topic has its own batches; close sends them all.
    let cloud = {
        let publisher = publisher.clone();
        thread::spawn(move || publisher.publish("cloud", CloudEvent::without_data("/src", "t")))
    };
    until("4 events accepted", || publisher.pending_events() == 4);
    publisher.close();
    for thread in good {
        thread.join().unwrap().unwrap();
    }
    cloud.join().unwrap().unwrap();
    assert_eq!(emulator.counters("items").accepted_events, 3);
    assert_eq!(emulator.counters("items").requests, 1);
    assert_eq!(emulator.counters("cloud").accepted_events, 1);
}

#[test]
fn topics_added_and_removed_at_run_time_are_followed() {
    let emulator = open_topic();
    let client = EventGridClient::new(EventGridConfig::default(), Credential::None).unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(Duration::from_millis(1)))
        .unwrap();
    let unknown = publisher.publish("items", event(0));
    assert!(
        matches!(unknown, Err(Error::UnknownTopic { .. })),
        "{unknown:?}"
    );

    let items = EventGridTopicConfig::new("items", emulator.topic_endpoint("items")).unwrap();
    client.add_topic(items).unwrap();
    publisher.publish("items", event(1)).unwrap();
    client.remove_topic("items").unwrap();
    let removed = publisher.publish("items", event(2));
    assert!(
        matches!(removed, Err(Error::UnknownTopic { .. })),
        "{removed:?}"
    );
    publisher.close();
    assert_eq!(
        received_ids(&emulator, "items"),
        HashSet::from(["id-1".to_owned()])
    );
}

/// Forwards to the emulator once let through; counts the events that arrived meanwhile.
struct Gate {
    inner: UreqTransport,
    open: Mutex<bool>,
    opened: Condvar,
    arrived: AtomicUsize,
}

impl Transport for Gate {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let count = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(request.body())
            .expect("bodies are JSON arrays")
            .len();
        self.arrived.fetch_add(count, Ordering::SeqCst);
        let open = self.open.lock().unwrap();
        drop(self.opened.wait_while(open, |open| !*open).unwrap());
        self.inner.send(request)
    }
}

#[test]
fn callers_block_at_the_pending_limit_and_nothing_is_lost() {
    let emulator = open_topic();
    let gate = Arc::new(Gate {
        inner: UreqTransport::new(&ClientOptions::default()).unwrap(),
        open: Mutex::new(false),
        opened: Condvar::new(),
        arrived: AtomicUsize::new(0),
    });
    let client = EventGridClient::builder(config(&emulator, &["items"]))
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
    let threads: Vec<_> = (0..200).map(|n| spawn_publish(&publisher, n)).collect();

    // Nothing is acknowledged while the gate is shut: 50 events are accepted, in requests
    // waiting at the gate, and the other 150 callers block for room.
    until("50 events at the gate", || {
        gate.arrived.load(Ordering::SeqCst) == 50
    });
    thread::sleep(Duration::from_millis(50));
    assert_eq!(gate.arrived.load(Ordering::SeqCst), 50);
    assert_eq!(publisher.pending_events(), 50);
    assert!(threads.iter().all(|thread| !thread.is_finished()));

    *gate.open.lock().unwrap() = true;
    gate.opened.notify_all();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    publisher.close();
    assert_eq!(received_ids(&emulator, "items").len(), 200);
    assert_eq!(emulator.events("items").len(), 200);
    assert_eq!(gate.arrived.load(Ordering::SeqCst), 200);
}

#[test]
fn flush_and_close_deliver_everything_accepted_so_far() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("items"))
            .topic(TopicSpec::open("other")),
    );
    let client =
        EventGridClient::new(config(&emulator, &["items", "other"]), Credential::None).unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(NEVER))
        .unwrap();
    let mut threads: Vec<_> = (0..30).map(|n| spawn_publish(&publisher, n)).collect();
    let other = publisher.clone();
    threads.push(thread::spawn(move || {
        other.emit_event("other", "t", "s", 1)
    }));
    until("31 events accepted", || publisher.pending_events() == 31);
    assert_eq!(emulator.counters("items").requests, 0, "nothing sent yet");

    publisher.flush();
    assert_eq!(emulator.counters("items").accepted_events, 30);
    assert_eq!(emulator.counters("other").accepted_events, 1);
    assert_eq!(publisher.pending_events(), 0);
    for thread in threads.drain(..) {
        thread.join().unwrap().unwrap();
    }

    // Flushing leaves the publisher open; closing sends the rest and refuses more.
    let threads: Vec<_> = (30..40).map(|n| spawn_publish(&publisher, n)).collect();
    until("10 more accepted", || publisher.pending_events() == 10);
    publisher.close();
    assert_eq!(emulator.counters("items").accepted_events, 40);
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    let late = publisher.publish("items", event(99));
    assert!(matches!(late, Err(Error::Closed)), "{late:?}");
    let from_a_clone = publisher.clone().emit_event("other", "t", "s", 2);
    assert!(matches!(from_a_clone, Err(Error::Closed)));
    publisher.close();
    assert_eq!(received_ids(&emulator, "items").len(), 40);
}

#[test]
fn a_lone_event_is_sent_after_the_linger_time() {
    let emulator = open_topic();
    let client = builder(&emulator, &["items"]).build().unwrap();
    let linger = Duration::from_millis(100);
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(linger))
        .unwrap();
    let started = Instant::now();
    // Neither full nor flushed: only the linger time sends it.
    let sender = publisher.clone();
    within_30s(move || sender.publish("items", event(1))).unwrap();
    assert!(started.elapsed() >= linger, "{:?}", started.elapsed());
    assert_eq!(sizes(&emulator), [1]);
    publisher.close();
}

#[test]
fn a_full_batch_is_sent_at_once() {
    let emulator = open_topic();
    let client = builder(&emulator, &["items"]).build().unwrap();
    let options = BufferedOptions::default()
        .with_linger(NEVER)
        .with_max_events_per_batch(10);
    let publisher = client.buffered(options).unwrap();
    let threads: Vec<_> = (0..25).map(|n| spawn_publish(&publisher, n)).collect();
    until("two full batches sent", || {
        emulator.counters("items").accepted_events == 20
    });
    until("the rest accepted", || publisher.pending_events() == 5);
    assert_eq!(sizes(&emulator), [10, 10]);
    publisher.close();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(sizes(&emulator), [10, 10, 5]);
}

#[test]
fn a_batch_closes_when_the_next_event_would_overflow_its_body() {
    let emulator = open_topic();
    let client = builder(&emulator, &["items"]).build().unwrap();
    let options = BufferedOptions::default()
        .with_linger(NEVER)
        .with_max_bytes_per_batch(70_000);
    let publisher = client.buffered(options).unwrap();
    // Three events of about 20 KB fit in 70,000 bytes; the fourth starts the next batch.
    let mut threads = Vec::new();
    for n in 0..4 {
        let publisher_ = publisher.clone();
        threads.push(thread::spawn(move || {
            let event = EventGridEvent::new("big", format!("b/{n}"), "x".repeat(20_000))
                .unwrap()
                .with_id(format!("id-{n}"));
            publisher_.publish("items", event)
        }));
        if n < 3 {
            until("accepted in order", || publisher.pending_events() == n + 1);
        }
    }
    until("the first three sent", || {
        emulator.counters("items").accepted_events == 3
    });
    for thread in threads.drain(..3) {
        thread.join().unwrap().unwrap();
    }
    until("the first batch finished", || {
        publisher.pending_events() == 1
    });
    publisher.close();
    threads.pop().unwrap().join().unwrap().unwrap();
    assert_eq!(sizes(&emulator), [3, 1]);
}

#[test]
fn five_hundred_threads_share_a_few_requests() {
    let emulator = open_topic();
    let client = builder(&emulator, &["items"]).build().unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(Duration::from_millis(100)))
        .unwrap();
    let threads: Vec<_> = (0..500).map(|n| spawn_publish(&publisher, n)).collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    publisher.close();
    let expected: HashSet<String> = (0..500).map(|n| format!("id-{n}")).collect();
    assert_eq!(received_ids(&emulator, "items"), expected);
    assert_eq!(emulator.events("items").len(), 500);
    let requests = client.metrics()["items"].requests;
    assert!(requests <= 50, "{requests} requests for 500 events");
}

/// Panics on the first request it is given (a custom transport's bug), then forwards.
struct PanicsOnce {
    inner: UreqTransport,
    panicked: AtomicBool,
}

impl Transport for PanicsOnce {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        if !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("a bug in a custom transport");
        }
        self.inner.send(request)
    }
}

#[test]
fn a_send_that_panics_settles_its_events_and_gives_their_room_back() {
    let emulator = open_topic();
    let transport = PanicsOnce {
        inner: UreqTransport::new(&ClientOptions::default()).unwrap(),
        panicked: AtomicBool::new(false),
    };
    let client = EventGridClient::builder(config(&emulator, &["items"]))
        .transport(transport)
        .build()
        .unwrap();
    // Room for one event: a send that kept its room would block every later publish.
    let options = BufferedOptions::default()
        .with_max_pending_events(1)
        .with_linger(Duration::from_millis(1));
    let publisher = client.buffered(options).unwrap();
    let first = publisher.clone();
    let error = within_30s(move || first.publish("items", event(0)))
        .unwrap_err()
        .to_string();
    assert!(error.contains("panicked"), "{error}");
    let second = publisher.clone();
    within_30s(move || second.publish("items", event(1))).expect("the room was given back");
    publisher.close();
    assert_eq!(publisher.pending_events(), 0);
    assert_eq!(
        received_ids(&emulator, "items"),
        HashSet::from(["id-1".to_owned()])
    );
}

#[test]
fn dropping_every_clone_without_close_still_delivers() {
    let emulator = open_topic();
    let client = builder(&emulator, &["items"]).build().unwrap();
    let publisher = client
        .buffered(BufferedOptions::default().with_linger(Duration::from_millis(20)))
        .unwrap();
    // Each thread owns a clone; the original goes at once, the clones with their threads.
    let threads: Vec<_> = (0..20).map(|n| spawn_publish(&publisher, n)).collect();
    drop(publisher);
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(received_ids(&emulator, "items").len(), 20);
    until("the client counted them", || {
        client.metrics()["items"].events_published == 20
    });
}
