//! Namespace topics: publishing from every front end, and pull delivery (receive, the
//! settlements, the processor) through both clients' `Receiver`s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eventgrid::{
    CloudEvent, Error, EventGridEvent, HandlerError, ProcessOptions, ReleaseDelay, SettlementKind,
    Shutdown,
};
use eventgrid_emulator::FaultRule;
use eventgrid_tests::conformance::{
    Events, Handler, Lab, NAMESPACE, Puller, SUBSCRIPTIONS, Subject, cloud_events,
};
use serde_json::json;

/// A receive's wait in these scenarios: the service's minimum.
const WAIT: Duration = Duration::from_secs(10);

fn subject(lab: &Lab) -> Box<dyn Subject> {
    lab.subject(lab.setup(&[NAMESPACE]))
}

#[track_caller]
fn receiver(subject: &dyn Subject, subscription: &str) -> Box<dyn Puller> {
    subject
        .receiver(NAMESPACE, subscription)
        .expect("a client has receivers")
        .expect("a namespace subscription")
}

fn tokens(events: &[eventgrid::ReceivedEvent]) -> Vec<String> {
    events.iter().map(|e| e.lock_token.clone()).collect()
}

#[track_caller]
fn settle_all(receiver: &dyn Puller, kind: SettlementKind, tokens: &[String]) {
    let settled = receiver.settle(kind, tokens).expect("an answer");
    settled.into_result().expect("every token settled");
}

/// Every front end publishes CloudEvents to a namespace topic (emit_event's from the
/// configured source), every subscription gets each, and Event Grid events are refused.
pub fn publishing_reaches_every_subscription(lab: &Lab) {
    let subject = subject(lab);
    subject
        .emit(NAMESPACE, "order.placed", "orders/1", json!({"total": 30}))
        .expect("emitted");
    subject
        .send(NAMESPACE, cloud_events("c", 3))
        .assert_delivered();
    let grid = Events::Grid(vec![EventGridEvent::without_data("t", "s")]);
    let refused = subject.send(NAMESPACE, grid);
    assert!(
        matches!(refused.error(), Error::NotForNamespace { .. }),
        "{:?}",
        refused.error()
    );
    for subscription in SUBSCRIPTIONS {
        let counts = lab.subscription_counts(subscription);
        assert_eq!(counts.enqueued, 4, "{subscription}: {counts:?}");
    }
}

/// Receive, renew, acknowledge, reject and release: released events come back with their
/// delivery count raised, nothing else does.
pub fn receive_and_every_settlement(lab: &Lab) {
    let subject = subject(lab);
    subject
        .emit(NAMESPACE, "order.placed", "orders/1", json!({"total": 30}))
        .expect("emitted");
    subject
        .send(NAMESPACE, cloud_events("c", 3))
        .assert_delivered();
    let billing = receiver(&*subject, "billing");
    let batch = billing.receive(10, WAIT).expect("received");
    assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
    let received = batch.events;
    assert_eq!(received.len(), 4);
    let first = &received[0];
    assert_eq!(
        (first.event.source(), first.event.event_type()),
        ("/conformance", "order.placed")
    );
    assert_eq!(
        (first.event.subject(), first.delivery_count),
        (Some("orders/1"), 1)
    );
    let order: serde_json::Value = first.data_as().expect("JSON data");
    assert_eq!(order["total"], 30);
    assert!(matches!(first.data_as::<String>(), Err(Error::Data { .. })));

    let all = tokens(&received);
    let renewed = billing
        .settle(SettlementKind::RenewLocks, &all)
        .expect("an answer");
    assert_eq!(renewed.succeeded.len(), 4, "{renewed:?}");
    settle_all(&*billing, SettlementKind::Acknowledge, &all[..1]);
    settle_all(&*billing, SettlementKind::Reject, &all[1..2]);
    let release = SettlementKind::Release(ReleaseDelay::None);
    settle_all(&*billing, release, &all[2..]);
    let again = billing.receive(10, WAIT).expect("received").events;
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|e| e.delivery_count == 2), "{again:?}");
    settle_all(&*billing, SettlementKind::Acknowledge, &tokens(&again));
    let counts = lab.subscription_counts("billing");
    assert_eq!((counts.available, counts.locked), (0, 0), "{counts:?}");
    assert_eq!((counts.acknowledged, counts.rejected), (3, 1), "{counts:?}");

    // The other subscription got every event too.
    let shipping = receiver(&*subject, "shipping");
    assert_eq!(
        shipping.receive(100, WAIT).expect("received").events.len(),
        4
    );
}

/// The service answers 200 when tokens fail: the result says which, and `into_result` makes
/// it an error.
pub fn stale_lock_tokens_are_reported_failed(lab: &Lab) {
    let subject = subject(lab);
    subject
        .emit(NAMESPACE, "order.placed", "orders/1", json!(1))
        .expect("emitted");
    let billing = receiver(&*subject, "billing");
    let token = tokens(&billing.receive(1, WAIT).expect("received").events);
    settle_all(&*billing, SettlementKind::Acknowledge, &token);
    let stale = billing
        .settle(
            SettlementKind::Acknowledge,
            &[token[0].clone(), "not-a-token".to_owned()],
        )
        .expect("an answer");
    assert!(stale.succeeded.is_empty(), "{stale:?}");
    assert_eq!(stale.failed.len(), 2, "{stale:?}");
    assert_eq!(stale.failed[0].lock_token, token[0]);
    assert!(!stale.failed[0].code.is_empty());
    let error = stale.into_result().unwrap_err();
    assert!(matches!(error, Error::Settlement(_)), "{error}");
    assert!(
        error.to_string().contains("2 of 2 lock tokens failed"),
        "{error}"
    );
    let metrics = subject.metrics(NAMESPACE).pull;
    assert_eq!(
        (metrics.acknowledged, metrics.token_failures),
        (1, 2),
        "{metrics:?}"
    );
}

/// Arguments outside the service's ranges, an empty token list and a subscription name that
/// cannot be one are refused with typed errors before anything is sent.
pub fn receive_arguments_are_refused_before_sending(lab: &Lab) {
    let subject = subject(lab);
    let billing = receiver(&*subject, "billing");
    for (events, wait) in [
        (0, WAIT),
        (101, WAIT),
        (1, Duration::from_secs(9)),
        (1, Duration::from_secs(121)),
        (1, Duration::from_millis(10_500)),
    ] {
        let error = billing.receive(events, wait).unwrap_err();
        assert!(
            matches!(error, Error::InvalidArgument { .. }),
            "{events} events in {wait:?}: {error}"
        );
    }
    let error = billing
        .settle(SettlementKind::Acknowledge, &[])
        .unwrap_err();
    assert!(matches!(error, Error::InvalidArgument { .. }), "{error}");
    let error = subject
        .receiver(NAMESPACE, "no/such")
        .expect("a client")
        .err();
    assert!(
        matches!(error, Some(Error::InvalidArgument { .. })),
        "{error:?}"
    );
    assert_eq!(lab.subscription_counts("billing").delivered, 0);
    assert_eq!(subject.metrics(NAMESPACE).pull.receive_requests, 0);
}

/// A receive waits as long as asked, past the client's request time-out (5 s here), and is
/// answered as soon as an event arrives.
pub fn a_long_poll_outlasts_the_request_timeout(lab: &Lab) {
    let subject = subject(lab);
    let timeout = subject.options().request_timeout;
    let billing = receiver(&*subject, "billing");
    let late = Duration::from_secs(6);
    assert!(late > timeout && WAIT > late);
    let received = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(late);
            subject
                .emit(NAMESPACE, "late", "orders/1", json!(1))
                .expect("emitted");
        });
        billing
            .receive(1, WAIT)
            .expect("answered before the wait ends")
    });
    assert_eq!(received.events.len(), 1, "{received:?}");
    assert_eq!(received.events[0].event.event_type(), "late");
    let metrics = subject.metrics(NAMESPACE).pull;
    assert_eq!(
        (metrics.receive_requests, metrics.retries),
        (1, 0),
        "one attempt, not cut: {metrics:?}"
    );
}

/// The processor acknowledges on success, releases a failure worth retrying (which comes
/// back) and rejects what can never succeed; the report and the metrics agree.
pub fn the_processor_settles_by_the_handlers_word(lab: &Lab) {
    let subject = subject(lab);
    let events = ["ok", "never", "flaky", "ok"]
        .into_iter()
        .map(|kind| CloudEvent::new("/shop", kind, json!({})).expect("an event"))
        .collect();
    subject
        .send(NAMESPACE, Events::Cloud(events))
        .assert_delivered();
    let billing = receiver(&*subject, "billing");
    let shutdown = Shutdown::new();
    let (seen, stop) = (Arc::new(AtomicUsize::new(0)), shutdown.clone());
    // Five handler runs (the flaky event twice), then stop.
    let handler: Handler = Arc::new(move |event| {
        if seen.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
            stop.trigger();
        }
        match (event.event.event_type(), event.delivery_count) {
            ("never", _) => Err(HandlerError::never("malformed order")),
            ("flaky", 1) => Err(HandlerError::retry("not yet")),
            _ => Ok(()),
        }
    });
    let options = ProcessOptions::default()
        .with_max_concurrency(3)
        .with_max_wait(WAIT);
    let report = billing
        .process(handler, options, &shutdown)
        .into_result()
        .expect("no settlement failed");
    assert_eq!(
        (report.acknowledged, report.released, report.rejected),
        (3, 1, 1),
        "{report:?}"
    );
    assert_eq!((report.settlement_failures, report.handler_panics), (0, 0));
    let counts = lab.subscription_counts("billing");
    assert_eq!((counts.available, counts.locked), (0, 0), "{counts:?}");
    assert_eq!((counts.acknowledged, counts.rejected), (3, 1), "{counts:?}");
    let metrics = subject.metrics(NAMESPACE).pull;
    assert_eq!(
        (metrics.events_received, metrics.acknowledged),
        (5, 3),
        "{metrics:?}"
    );
    assert_eq!((metrics.released, metrics.rejected), (1, 1), "{metrics:?}");
}

/// Shutdown stops a processor waiting on an empty subscription without waiting out its long
/// poll (60 s here, past the suite's 30 s watchdog): the async processor drops the receive,
/// the blocking one polls at most 10 s.
pub fn shutdown_stops_a_waiting_processor(lab: &Lab) {
    let subject = subject(lab);
    let billing = receiver(&*subject, "billing");
    let shutdown = Shutdown::new();
    let handler: Handler = Arc::new(|_| Ok(()));
    let options = ProcessOptions::default().with_max_wait(Duration::from_secs(60));
    let report = std::thread::scope(|scope| {
        let stop = shutdown.clone();
        scope.spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.trigger();
        });
        billing.process(handler, options, &shutdown)
    });
    let report = report.into_result().expect("stopped on request");
    assert_eq!(report.acknowledged, 0, "{report:?}");
}

/// Receives and settlements are counted in the topic's metrics, apart from publishing.
pub fn metrics_count_receives_and_settlements(lab: &Lab) {
    let subject = subject(lab);
    subject
        .send(NAMESPACE, cloud_events("m", 3))
        .assert_delivered();
    let published = subject.metrics(NAMESPACE);
    assert_eq!((published.events_published, published.requests), (3, 1));
    let billing = receiver(&*subject, "billing");
    let all = tokens(&billing.receive(3, WAIT).expect("received").events);
    settle_all(&*billing, SettlementKind::RenewLocks, &all);
    settle_all(&*billing, SettlementKind::Acknowledge, &all[..1]);
    settle_all(
        &*billing,
        SettlementKind::Release(ReleaseDelay::None),
        &all[1..2],
    );
    settle_all(&*billing, SettlementKind::Reject, &all[2..]);
    let metrics = subject.metrics(NAMESPACE);
    assert_eq!(metrics.requests, 1, "publishing only: {metrics:?}");
    let pull = metrics.pull;
    assert_eq!((pull.receive_requests, pull.settle_requests), (1, 4));
    assert_eq!((pull.events_received, pull.malformed_received), (3, 0));
    assert_eq!(
        (
            pull.renewed,
            pull.acknowledged,
            pull.released,
            pull.rejected
        ),
        (3, 1, 1, 1),
        "{pull:?}"
    );
    assert_eq!(
        (pull.token_failures, pull.retries, pull.failed_operations),
        (0, 0, 0)
    );
}

/// A receive and a settlement answered 503 once are retried (and counted as retries); a
/// settlement refused with 400 is an error and counted as a failed operation.
pub fn pull_retries_and_failures_are_counted(lab: &Lab) {
    let subject = subject(lab);
    subject
        .send(NAMESPACE, cloud_events("r", 1))
        .assert_delivered();
    let billing = receiver(&*subject, "billing");
    let fault = |rule| {
        lab.emulator()
            .set_namespace_fault(NAMESPACE, rule)
            .expect("valid fault rules");
    };
    fault(FaultRule::status(503).next(1));
    let all = tokens(
        &billing
            .receive(1, WAIT)
            .expect("received after a retry")
            .events,
    );
    fault(FaultRule::status(503).next(1));
    settle_all(&*billing, SettlementKind::RenewLocks, &all);
    fault(FaultRule::status(400).next(1));
    let error = billing
        .settle(SettlementKind::Acknowledge, &all)
        .unwrap_err();
    assert_eq!(error.status(), Some(400), "{error}");
    settle_all(&*billing, SettlementKind::Acknowledge, &all);
    let pull = subject.metrics(NAMESPACE).pull;
    assert_eq!(
        (pull.receive_requests, pull.settle_requests, pull.retries),
        (2, 4, 2),
        "{pull:?}"
    );
    assert_eq!(
        (pull.renewed, pull.acknowledged, pull.failed_operations),
        (1, 1, 1),
        "{pull:?}"
    );
}
