//! Failures, as the emulator injects them: what is retried (503, 429 with its retry hint,
//! dropped connections, time-outs, refused connections), what is not (400, 401, 413), partial
//! failures, and a soak of 20,000 events under mixed faults.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use eventgrid_blocking::{
    Credential, Error, EventGridClient, EventGridConfig, EventGridTopicConfig, Limits,
    RetryOptions, Schema, TransportErrorKind,
};
use eventgrid_emulator::{
    EmulatorConfig, FaultRule, FaultSpec, Limits as ServiceLimits, TopicSpec,
};
use serde_json::json;
use support::{KEY, builder, events, quick_retries, received_ids, start};

fn orders() -> eventgrid_emulator::EmulatorHandle {
    start(EmulatorConfig::new().topic(TopicSpec::open("orders")))
}

#[test]
fn service_trouble_is_retried_with_the_same_events() {
    let emulator = orders();
    emulator
        .set_fault("orders", FaultRule::status(503).next(2))
        .unwrap();
    let client = builder(&emulator, &["orders"]).build().unwrap();
    let batch = events(3);
    let ids: HashSet<String> = batch.iter().map(|e| e.id().to_owned()).collect();
    client.send("orders", batch).unwrap();
    let statuses: Vec<Option<u16>> = emulator
        .requests("orders")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
    assert_eq!(received_ids(&emulator, "orders"), ids);
    assert_eq!(client.metrics()["orders"].retries, 2);
}

#[test]
fn persistent_trouble_gives_up_after_the_retries() {
    let emulator = orders();
    emulator
        .set_fault("orders", FaultRule::status(503))
        .unwrap();
    let client = builder(&emulator, &["orders"])
        .retry(quick_retries().with_max_retries(2))
        .build()
        .unwrap();
    let err = client.emit_event("orders", "t", "s", json!(1)).unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(err.status(), Some(503));
    assert!(err.request_id().is_some(), "{err}");
    assert_eq!(emulator.counters("orders").requests, 3);
}

/// Retries whose own back-off (15 s or more) would pass the 2 s deadline: only a retry hint
/// from the service can make them happen in time.
fn hint_only_retries() -> RetryOptions {
    RetryOptions::default()
        .with_initial_delay(Duration::from_secs(30))
        .with_max_elapsed(Duration::from_secs(2))
}

#[test]
fn throttling_waits_as_long_as_the_service_asks() {
    let emulator = orders();
    let client = builder(&emulator, &["orders"])
        .retry(hint_only_retries())
        .build()
        .unwrap();
    emulator
        .set_fault("orders", FaultRule::status(429).retry_after_ms(20).next(1))
        .unwrap();
    client.emit_event("orders", "t", "s/ms", json!(1)).unwrap();
    emulator
        .set_fault("orders", FaultRule::status(429).retry_after_secs(1).next(1))
        .unwrap();
    client
        .emit_event("orders", "t", "s/secs", json!(2))
        .unwrap();
    let counters = emulator.counters("orders");
    assert_eq!(counters.accepted_events, 2);
    assert_eq!(counters.rejections.get(&429), Some(&2));

    emulator
        .set_fault("orders", FaultRule::status(429).next(1))
        .unwrap();
    let err = client
        .emit_event("orders", "t", "s/none", json!(3))
        .unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 1, .. }),
        "{err}"
    );
    assert_eq!(err.status(), Some(429));
}

#[test]
fn bad_requests_are_not_retried() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("orders"))
            .topic(TopicSpec::keyed("keyed", KEY))
            .limits(ServiceLimits {
                max_event_bytes: 1_000,
                ..ServiceLimits::default()
            }),
    );
    let topic =
        |name: &str| EventGridTopicConfig::new(name, emulator.topic_endpoint(name)).unwrap();
    let client = EventGridClient::builder(
        EventGridConfig::new([
            topic("orders"),
            topic("keyed")
                .with_credential(eventgrid_blocking::KeyCredential::access_key("d3Jvbmc=")),
            EventGridTopicConfig::new("as-cloud", emulator.topic_endpoint("orders"))
                .unwrap()
                .with_schema(Schema::CloudEvents),
        ])
        .unwrap(),
    )
    .retry(quick_retries())
    .build()
    .unwrap();

    let wrong_schema = client
        .send(
            "as-cloud",
            [eventgrid_blocking::CloudEvent::new("/s", "t", 1).unwrap()],
        )
        .unwrap_err();
    assert_eq!(wrong_schema.status(), Some(400), "{wrong_schema}");
    let unauthorized = client.emit_event("keyed", "t", "s", json!(1)).unwrap_err();
    assert_eq!(unauthorized.status(), Some(401), "{unauthorized}");
    let too_large = client
        .emit_event("orders", "t", "s", json!({"pad": "x".repeat(2_000)}))
        .unwrap_err();
    assert_eq!(too_large.status(), Some(413), "{too_large}");
    for error in [&wrong_schema, &unauthorized, &too_large] {
        assert!(matches!(error, Error::Service(_)), "{error}");
    }
    assert_eq!(emulator.counters("orders").requests, 2);
    assert_eq!(emulator.counters("keyed").requests, 1);
    assert_eq!(client.metrics().values().map(|m| m.retries).sum::<u64>(), 0);
}

#[test]
fn dropped_connections_are_retried() {
    let emulator = orders();
    emulator
        .set_fault("orders", FaultRule::drop_connection().next(2))
        .unwrap();
    let client = builder(&emulator, &["orders"]).build().unwrap();
    client.emit_event("orders", "t", "s", json!(1)).unwrap();
    let counters = emulator.counters("orders");
    assert_eq!(
        (counters.dropped_connections, counters.accepted_events),
        (2, 1)
    );
    assert_eq!(client.metrics()["orders"].retries, 2);

    emulator
        .set_fault("orders", FaultRule::drop_connection())
        .unwrap();
    let unretried = builder(&emulator, &["orders"])
        .retry(RetryOptions::none())
        .build()
        .unwrap();
    let err = unretried
        .emit_event("orders", "t", "s", json!(1))
        .unwrap_err();
    let Error::RetriesExhausted {
        attempts: 1, last, ..
    } = &err
    else {
        panic!("expected retries exhausted, got {err}")
    };
    assert!(
        matches!(last.as_ref(), Error::Transport(e) if e.kind() == TransportErrorKind::ConnectionClosed),
        "{last}"
    );
}

#[test]
fn time_outs_are_retried_then_reported() {
    let emulator = orders();
    let client = builder(&emulator, &["orders"])
        .request_timeout(Duration::from_millis(150))
        .retry(quick_retries().with_max_retries(1))
        .build()
        .unwrap();
    emulator
        .set_fault(
            "orders",
            FaultRule::latency(Duration::from_millis(600)).next(1),
        )
        .unwrap();
    let event = eventgrid_blocking::EventGridEvent::new("t", "s", 1).unwrap();
    let id = event.id().to_owned();
    client.publish_event("orders", event).unwrap();
    assert!(received_ids(&emulator, "orders").contains(&id));
    assert_eq!(client.metrics()["orders"].retries, 1);

    emulator
        .set_fault("orders", FaultRule::latency(Duration::from_millis(600)))
        .unwrap();
    let err = client.emit_event("orders", "t", "s", json!(1)).unwrap_err();
    let Error::RetriesExhausted {
        attempts: 2, last, ..
    } = &err
    else {
        panic!("expected retries exhausted, got {err}")
    };
    let Error::Transport(last) = last.as_ref() else {
        panic!("expected a transport error, got {last}")
    };
    assert_eq!(last.kind(), TransportErrorKind::Timeout, "{last}");
    emulator.clear_faults("orders");
}

#[test]
fn refused_connections_are_retried_then_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = EventGridConfig::new([EventGridTopicConfig::new(
        "orders",
        format!("http://127.0.0.1:{port}/orders/api/events"),
    )
    .unwrap()])
    .unwrap();
    let client = EventGridClient::builder(config)
        .credential(Credential::access_key(KEY))
        .retry(quick_retries().with_max_retries(1))
        .build()
        .unwrap();
    let err = client.emit_event("orders", "t", "s", json!(1)).unwrap_err();
    let Error::RetriesExhausted {
        attempts: 2, last, ..
    } = &err
    else {
        panic!("expected retries exhausted, got {err}")
    };
    assert!(
        matches!(last.as_ref(), Error::Transport(e) if e.kind() == TransportErrorKind::Connect),
        "{last}"
    );
    assert!(!err.to_string().contains(KEY));
}

#[test]
fn a_failure_part_way_names_what_was_delivered() {
    let emulator = orders();
    emulator
        .set_fault("orders", FaultRule::status(400).next(1))
        .unwrap();
    let client = builder(&emulator, &["orders"])
        .limits(Limits::default().with_max_events_per_request(10))
        .max_concurrent_requests(1)
        .build()
        .unwrap();
    let batch = events(30);
    let delivered: HashSet<String> = batch[10..].iter().map(|e| e.id().to_owned()).collect();
    let Err(Error::Delivery(failure)) = client.send("orders", batch) else {
        panic!("expected a partial delivery failure")
    };
    assert_eq!(failure.delivered, vec![(10..30)]);
    assert_eq!(failure.failed[0].events, 0..10);
    assert_eq!(failure.failed[0].error.status(), Some(400));
    assert_eq!(received_ids(&emulator, "orders"), delivered);
}

/// 20,000 events through `send`, then 20,000 through `publish_event` from 16 threads, while the
/// emulator answers 20% of requests 503, 5% 429 with a short retry hint, and drops 5% of
/// connections. Every event arrives; every call reports success.
#[test]
fn soak_under_mixed_faults_delivers_every_event() {
    let faults = FaultSpec::new()
        .seed(7)
        .rule(FaultRule::status(503).fraction(0.20))
        .rule(FaultRule::status(429).retry_after_ms(5).fraction(0.05))
        .rule(FaultRule::drop_connection().fraction(0.05));
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .retain(50_000)
            .fault("orders", faults),
    );
    // 30% of attempts fail: 12 retries leave about one chance in two million that an event
    // runs out of attempts.
    let client = builder(&emulator, &["orders"])
        .credential(Credential::access_key(KEY))
        .retry(quick_retries().with_max_retries(12))
        .limits(Limits::default().with_max_events_per_request(50))
        .build()
        .unwrap();

    let batch = events(20_000);
    let mut expected: HashSet<String> = batch.iter().map(|e| e.id().to_owned()).collect();
    let summary = client.send("orders", batch).unwrap();
    assert_eq!((summary.events, summary.requests), (20_000, 400));

    let threads = 16;
    let emitted: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let client = client.clone();
                s.spawn(move || {
                    events(20_000 / threads)
                        .into_iter()
                        .map(|event| {
                            let id = event.id().to_owned();
                            client
                                .publish_event("orders", event)
                                .unwrap_or_else(|e| panic!("thread {thread}: {e}"));
                            id
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    expected.extend(emitted.into_iter().flatten());
    assert_eq!(expected.len(), 40_000);

    let received = received_ids(&emulator, "orders");
    let missing = expected.difference(&received).count();
    assert_eq!(missing, 0, "{missing} of 40,000 events never arrived");
    let counters = emulator.counters("orders");
    assert!(counters.dropped_connections > 0 && counters.rejections[&503] > 0);
    let metrics = client.metrics()["orders"];
    assert_eq!(
        (metrics.events_published, metrics.events_failed),
        (40_000, 0)
    );
    assert!(metrics.retries >= counters.dropped_connections + counters.rejections[&503]);
}
