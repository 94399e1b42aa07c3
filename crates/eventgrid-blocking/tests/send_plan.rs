//! `send` checks every event first, then encodes each body on the thread that sends it: what
//! goes out, and what is reported when a body cannot be encoded as planned.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use eventgrid_blocking::{
    Error, EventGridClient, EventGridConfig, EventGridTopicConfig, Limits, Transport,
    TransportError, TypedEventGridEvent,
};
use http::{Request, Response};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Records the body of every request and answers 200.
#[derive(Clone, Default)]
struct Recording {
    bodies: Arc<Mutex<Vec<Vec<Value>>>>,
}

impl Transport for Recording {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let events = serde_json::from_slice(request.body()).expect("a JSON array");
        self.bodies.lock().unwrap().push(events);
        Ok(Response::new(Bytes::new()))
    }
}

fn client(transport: &Recording, events_per_request: usize) -> EventGridClient {
    let config = EventGridConfig::new([EventGridTopicConfig::new(
        "orders",
        "https://orders.westus2-1.eventgrid.azure.net",
    )
    .unwrap()])
    .unwrap();
    EventGridClient::builder(config)
        .limits(Limits::default().with_max_events_per_request(events_per_request))
        .max_concurrent_requests(4)
        .transport(transport.clone())
        .build()
        .unwrap()
}

#[derive(Serialize)]
struct Order {
    order_id: usize,
    note: String,
}

#[test]
fn typed_events_go_out_in_planned_batches_each_event_once() {
    let transport = Recording::default();
    let events = (0..1_003).map(|n| {
        TypedEventGridEvent::new(
            "order.placed",
            format!("orders/{n}"),
            Order {
                order_id: n,
                note: format!("line \"{n}\"\n"),
            },
        )
    });
    let summary = client(&transport, 100).send("orders", events).unwrap();
    assert_eq!((summary.events, summary.requests), (1_003, 11));
    let bodies = transport.bodies.lock().unwrap();
    let mut sizes: Vec<_> = bodies.iter().map(Vec::len).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [3, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
    let mut seen: Vec<_> = bodies
        .iter()
        .flatten()
        .map(|event| {
            let n = event["data"]["order_id"].as_u64().unwrap();
            assert_eq!(event["subject"], format!("orders/{n}"));
            assert_eq!(event["data"]["note"], format!("line \"{n}\"\n"));
            n
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..1_003).collect::<Vec<u64>>());
}

/// Data that serializes the same `stable_for` times, then one byte longer each time.
struct Growing {
    serialized: AtomicUsize,
    stable_for: usize,
}

impl Serialize for Growing {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let times = self.serialized.fetch_add(1, Ordering::Relaxed);
        let extra = (times + 1).saturating_sub(self.stable_for);
        serializer.serialize_str(&"x".repeat(1 + extra))
    }
}

#[test]
fn a_body_that_no_longer_matches_its_check_is_reported_and_the_rest_delivered() {
    let transport = Recording::default();
    let events = (0..30).map(|n| {
        // Event 15 (in the second batch) changes between the check and the encoding.
        let stable_for = if n == 15 { 1 } else { usize::MAX };
        TypedEventGridEvent::new(
            "t",
            "s",
            Growing {
                serialized: AtomicUsize::new(0),
                stable_for,
            },
        )
    });
    let error = client(&transport, 10).send("orders", events).unwrap_err();
    let Error::Delivery(failure) = error else {
        panic!("{error}")
    };
    assert_eq!(failure.delivered, [0..10, 20..30]);
    assert_eq!(failure.failed.len(), 1);
    assert_eq!(failure.failed[0].events, 10..20);
    assert!(
        matches!(&failure.failed[0].error, Error::InvalidEvent { index: 15, reason } if reason.contains("changed")),
        "{}",
        failure.failed[0].error
    );
    assert_eq!(transport.bodies.lock().unwrap().len(), 2);
}
