//! `send_stream`: long lazy sends delivered in bounded memory, and an invalid event found when
//! reached.

mod support;

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use eventgrid_blocking::{
    ClientOptions, Error, EventGridClient, EventGridEvent, Limits, SendSummary, Transport,
    TransportError, UreqTransport,
};
use eventgrid_emulator::{EmulatorConfig, EmulatorHandle, TopicSpec};
use support::{builder, start};

fn small_event(n: usize) -> EventGridEvent {
    EventGridEvent::new("reading", "sensors/1", n).unwrap()
}

fn counting_sink() -> EmulatorHandle {
    start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("readings"))
            .retain(0),
    )
}

fn client(emulator: &EmulatorHandle, per_request: usize, threads: usize) -> EventGridClient {
    builder(emulator, &["readings"])
        .limits(Limits::default().with_max_events_per_request(per_request))
        .max_concurrent_requests(threads)
        .build()
        .unwrap()
}

#[test]
fn two_hundred_thousand_lazy_events_are_delivered() {
    let emulator = counting_sink();
    let summary = client(&emulator, 5_000, 4)
        .send_stream("readings", (0..200_000).map(small_event))
        .unwrap();
    assert_eq!(summary, SendSummary::new(200_000, 40));
    assert_eq!(emulator.counters("readings").accepted_events, 200_000);
}

#[test]
fn an_invalid_event_stops_the_stream_where_it_is_found() {
    let emulator = counting_sink();
    let client = client(&emulator, 100, 2);
    let read = AtomicUsize::new(0);
    let events = (0..10_000).map(|n| {
        read.fetch_add(1, Ordering::SeqCst);
        let event_type = if n == 1_234 { "" } else { "reading" };
        EventGridEvent::new(event_type, "sensors/1", n).unwrap()
    });
    let Err(Error::Delivery(failure)) = client.send_stream("readings", events) else {
        panic!("expected a partial delivery")
    };
    assert_eq!(
        failure.delivered,
        [Range {
            start: 0,
            end: 1_200
        }]
    );
    assert_eq!(failure.failed.len(), 1);
    assert_eq!(failure.failed[0].events, 1_200..1_235);
    assert!(
        matches!(
            failure.failed[0].error,
            Error::InvalidEvent { index: 1_234, .. }
        ),
        "{}",
        failure.failed[0].error
    );
    assert_eq!(read.load(Ordering::SeqCst), 1_235, "nothing read after it");
    assert_eq!(emulator.counters("readings").accepted_events, 1_200);

    // Found before anything was sent, it is the event's own error, as from `send`.
    let big = [EventGridEvent::new("t", "s", "x".repeat(70_000)).unwrap()];
    let error = client.send_stream("readings", big).unwrap_err();
    assert!(
        matches!(error, Error::EventTooLarge { index: 0, .. }),
        "{error}"
    );
}

/// Sends with ureq and counts the events acknowledged (answered 200).
struct Acknowledging {
    inner: UreqTransport,
    acknowledged: AtomicUsize,
}

impl Transport for Acknowledging {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        let events = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(request.body())
            .expect("bodies are JSON arrays")
            .len();
        let response = self.inner.send(request)?;
        if response.status() == 200 {
            self.acknowledged.fetch_add(events, Ordering::SeqCst);
        }
        Ok(response)
    }
}

#[test]
fn events_are_read_only_as_requests_complete() {
    const PER_REQUEST: usize = 50;
    const THREADS: usize = 3;
    let emulator = counting_sink();
    let transport = Arc::new(Acknowledging {
        inner: UreqTransport::new(&ClientOptions::default()).unwrap(),
        acknowledged: AtomicUsize::new(0),
    });
    let client = builder(&emulator, &["readings"])
        .limits(Limits::default().with_max_events_per_request(PER_REQUEST))
        .max_concurrent_requests(THREADS)
        .transport(transport.clone())
        .build()
        .unwrap();
    let furthest_ahead = AtomicUsize::new(0);
    let events = (0..20_000).map(|n| {
        // Event n is being read: how far ahead of the acknowledged events is the reader?
        let ahead = n + 1 - transport.acknowledged.load(Ordering::SeqCst);
        furthest_ahead.fetch_max(ahead, Ordering::SeqCst);
        small_event(n)
    });
    let summary = client.send_stream("readings", events).unwrap();
    assert_eq!(summary.events, 20_000);
    assert_eq!(transport.acknowledged.load(Ordering::SeqCst), 20_000);
    assert_eq!(emulator.counters("readings").accepted_events, 20_000);
    // At most the workers' batches, the chunks being encoded (two a core), the one handed
    // over and the one being read are read but not yet acknowledged.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let ahead = furthest_ahead.load(Ordering::SeqCst);
    assert!(
        ahead <= (THREADS + 2 * cores + 2) * PER_REQUEST,
        "the reader got {ahead} events ahead"
    );
}

/// Answers 200, except that its third request panics (a bug in a user's transport).
struct PanicsOnce(AtomicUsize);

impl Transport for PanicsOnce {
    fn send(&self, _: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        if self.0.fetch_add(1, Ordering::SeqCst) == 2 {
            panic!("transport bug");
        }
        Ok(http::Response::new(Bytes::new()))
    }
}

#[test]
fn a_panicking_worker_settles_its_events_and_the_caller_returns() {
    let config =
        eventgrid_blocking::EventGridConfig::new([eventgrid_blocking::EventGridTopicConfig::new(
            "readings",
            "https://r.example.com",
        )
        .unwrap()])
        .unwrap();
    for threads in [1, 3] {
        let client = EventGridClient::builder(config.clone())
            .transport(PanicsOnce(AtomicUsize::new(0)))
            .limits(Limits::default().with_max_events_per_request(10))
            .max_concurrent_requests(threads)
            .build()
            .unwrap();
        let Err(Error::Delivery(failure)) =
            client.send_stream("readings", (0..100).map(small_event))
        else {
            panic!("expected a partial delivery")
        };
        assert_eq!(
            failure.delivered_count(),
            90,
            "{threads} threads: {failure}"
        );
        assert_eq!(failure.failed.len(), 1);
        assert_eq!(failure.failed[0].events.len(), 10);
        assert!(matches!(failure.failed[0].error, Error::Internal(_)));
    }
}

/// Data whose serialization panics for one event: the caller's own bug.
struct Panicky(usize);

impl serde::Serialize for Panicky {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        assert_ne!(self.0, 1_500, "the caller's Serialize panicked");
        serializer.serialize_u64(self.0 as u64)
    }
}

#[test]
fn a_panic_in_the_callers_serialize_reaches_the_caller() {
    // Encoded on an encoder thread, the panic is the caller's, as it would be on its own
    // thread: not an error that would hide the bug, and no thread is left waiting.
    let emulator = counting_sink();
    let client = client(&emulator, 100, 4);
    let events = (0..5_000)
        .map(|n| eventgrid_blocking::TypedEventGridEvent::new("reading", "sensors/1", Panicky(n)));
    let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.send_stream("readings", events)
    }));
    let panic = sent.expect_err("the panic comes back");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(
        message.contains("the caller's Serialize panicked"),
        "{message}"
    );
    assert!(emulator.counters("readings").accepted_events < 1_500);
    // The client still works.
    client
        .send_stream("readings", (0..10).map(small_event))
        .unwrap();
}
