//! `send_stream`: long lazy sends delivered in bounded memory, an invalid event found when
//! reached, and failed requests reported as by `send`.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use eventgrid_async::{
    AsyncTransport, Credential, Error, EventGridClient, EventGridEvent, HyperTransport, Limits,
    RetryOptions, Schema, SendSummary, TransportError,
};
use eventgrid_emulator::{EmulatorConfig, FaultRule, RunningEmulator, TopicSpec};

use crate::{config, start};

fn small_event(n: usize) -> EventGridEvent {
    EventGridEvent::new("reading", "sensors/1", n)
        .unwrap()
        .with_id(n.to_string())
}

async fn counting_sink() -> RunningEmulator {
    start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("readings"))
            .retain(0),
    )
    .await
}

fn client(emulator: &RunningEmulator, per_request: usize, in_flight: usize) -> EventGridClient {
    EventGridClient::builder(config(emulator, &[("readings", Schema::EventGrid)]))
        .limits(Limits::default().with_max_events_per_request(per_request))
        .max_concurrent_requests(in_flight)
        .retry(RetryOptions::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_lazy_events_are_delivered() {
    let emulator = counting_sink().await;
    let client = client(&emulator, 5_000, 4);
    let summary = client
        .send_stream("readings", (0..200_000).map(small_event))
        .await
        .unwrap();
    assert_eq!(summary, SendSummary::new(200_000, 40));
    let counters = emulator.counters("readings");
    assert_eq!(
        (counters.accepted_events, counters.accepted_requests),
        (200_000, 40)
    );
}

#[tokio::test]
async fn an_invalid_event_stops_the_stream_where_it_is_found() {
    let emulator = counting_sink().await;
    let client = client(&emulator, 100, 2);
    let read = AtomicUsize::new(0);
    let events = (0..10_000).map(|n| {
        read.fetch_add(1, Ordering::SeqCst);
        let event_type = if n == 1_234 { "" } else { "reading" };
        EventGridEvent::new(event_type, "sensors/1", n).unwrap()
    });
    let Err(Error::Delivery(failure)) = client.send_stream("readings", events).await else {
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
        matches!(&failure.failed[0].error, Error::InvalidEvent { index: 1_234, reason } if reason.contains("eventType")),
        "{}",
        failure.failed[0].error
    );
    assert_eq!(read.load(Ordering::SeqCst), 1_235, "nothing read after it");
    assert_eq!(emulator.counters("readings").accepted_events, 1_200);

    // Found before anything was sent, it is the event's own error, as from `send`.
    let first =
        (0..10).map(|n| EventGridEvent::new(if n == 3 { "" } else { "t" }, "s", n).unwrap());
    let error = client.send_stream("readings", first).await.unwrap_err();
    assert!(
        matches!(error, Error::InvalidEvent { index: 3, .. }),
        "{error}"
    );
    let big = [EventGridEvent::new("t", "s", "x".repeat(70_000)).unwrap()];
    let error = client.send_stream("readings", big).await.unwrap_err();
    assert!(
        matches!(error, Error::EventTooLarge { index: 0, .. }),
        "{error}"
    );
    assert_eq!(emulator.counters("readings").accepted_events, 1_200);
}

#[tokio::test]
async fn a_failed_request_is_reported_and_the_others_still_sent() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("readings"))
            .fault("readings", FaultRule::status(400).next(1)),
    )
    .await;
    let client = client(&emulator, 100, 1);
    let Err(Error::Delivery(failure)) = client
        .send_stream("readings", (0..550).map(small_event))
        .await
    else {
        panic!("expected a partial delivery")
    };
    assert_eq!(
        failure.delivered,
        [Range {
            start: 100,
            end: 550
        }]
    );
    assert_eq!(failure.failed[0].events, 0..100);
    assert_eq!(failure.failed[0].error.status(), Some(400));
    assert_eq!(emulator.counters("readings").accepted_events, 450);
    let unknown = client.send_stream("nope", (0..3).map(small_event)).await;
    assert!(matches!(unknown, Err(Error::UnknownTopic { .. })));
}

/// Sends through hyper and counts the events acknowledged (answered 200).
struct Acknowledging {
    inner: HyperTransport,
    acknowledged: AtomicUsize,
}

impl AsyncTransport for Acknowledging {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let events = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(request.body())
            .expect("bodies are JSON arrays")
            .len();
        let response = self.inner.send(request).await?;
        if response.status() == 200 {
            self.acknowledged.fetch_add(events, Ordering::SeqCst);
        }
        Ok(response)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_read_only_as_requests_complete() {
    const PER_REQUEST: usize = 50;
    const IN_FLIGHT: usize = 3;
    let emulator = counting_sink().await;
    let transport = Arc::new(Acknowledging {
        inner: HyperTransport::builder(&eventgrid_async::ClientOptions::default())
            .build()
            .unwrap(),
        acknowledged: AtomicUsize::new(0),
    });
    let client = EventGridClient::builder(config(&emulator, &[("readings", Schema::EventGrid)]))
        .credential(Credential::None)
        .limits(Limits::default().with_max_events_per_request(PER_REQUEST))
        .max_concurrent_requests(IN_FLIGHT)
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
    let summary = client.send_stream("readings", events).await.unwrap();
    assert_eq!(summary.events, 20_000);
    assert_eq!(transport.acknowledged.load(Ordering::SeqCst), 20_000);
    assert_eq!(emulator.counters("readings").accepted_events, 20_000);
    // At most the requests in flight, the chunks being encoded (two a core), the one being
    // handed over and the one being read are read but not yet acknowledged.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let ahead = furthest_ahead.load(Ordering::SeqCst);
    assert!(
        ahead <= (IN_FLIGHT + 2 * cores + 2) * PER_REQUEST,
        "the reader got {ahead} events ahead"
    );
}

/// Data whose serialization panics for one event: the caller's own bug.
struct Panicky(usize);

impl serde::Serialize for Panicky {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        assert_ne!(self.0, 1_500, "the caller's Serialize panicked");
        serializer.serialize_u64(self.0 as u64)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_callers_serialize_reaches_the_caller() {
    // Encoded on a blocking task, the panic is the caller's, as it would be on its own task:
    // not an error that would hide the bug.
    let emulator = counting_sink().await;
    let client = client(&emulator, 100, 4);
    let events = (0..5_000)
        .map(|n| eventgrid_async::TypedEventGridEvent::new("reading", "sensors/1", Panicky(n)));
    let sending = client.clone();
    let sent = tokio::spawn(async move { sending.send_stream("readings", events).await }).await;
    let panic = sent.expect_err("the panic comes back").into_panic();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(
        message.contains("the caller's Serialize panicked"),
        "{message}"
    );
    assert!(emulator.counters("readings").accepted_events < 1_500);
    client
        .send_stream("readings", (0..10).map(small_event))
        .await
        .unwrap();
}
