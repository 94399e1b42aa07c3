//! The engine on a virtual clock: no sockets, no sleeping, every instant chosen by the test.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::FutureExt;

use super::*;
use crate::testing::{CountingCredential, T0};
use crate::{
    ClientOptions, Credential, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    TransportErrorKind,
    frontend::{ClientCore, Publish},
};

fn core(credential: Credential, options: ClientOptions) -> ClientCore {
    let config = EventGridConfig::new([EventGridTopicConfig::new(
        "orders",
        "https://orders.westus2-1.eventgrid.azure.net",
    )
    .unwrap()])
    .unwrap();
    ClientCore::new(config, &credential, options).unwrap()
}

fn start(core: &ClientCore, now: Now) -> Operation<Publish> {
    let event = EventGridEvent::new("order.placed", "orders/1", 1).unwrap();
    let (topic, mut batches) = core.prepare("orders", [event]).unwrap();
    core.publish(&topic, batches.remove(0), now.instant)
}

fn clock() -> Now {
    Now {
        instant: Instant::now(),
        utc: T0,
    }
}

fn status(code: u16, headers: &[(&str, &str)]) -> Response<Bytes> {
    let mut builder = Response::builder().status(code);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Bytes::new()).unwrap()
}

fn send<T: fmt::Debug>(action: Action<T>) -> (Request<Bytes>, Instant) {
    match action {
        Action::Send { request, deadline } => (request, deadline),
        other => panic!("expected Send, got {other:?}"),
    }
}

fn sleep<T: fmt::Debug>(action: Action<T>) -> Instant {
    match action {
        Action::Sleep(until) => until,
        other => panic!("expected Sleep, got {other:?}"),
    }
}

fn done<T: fmt::Debug>(action: Action<T>) -> Result<T> {
    match action {
        Action::Done(result) => result,
        other => panic!("expected Done, got {other:?}"),
    }
}

fn seeded(seed: u64) -> ClientOptions {
    ClientOptions::default().with_jitter_seed(seed)
}

/// Runs an operation against 503s until it sleeps `retries` times; returns the delays.
fn delays(options: ClientOptions, retries: usize) -> Vec<Duration> {
    let core = core(Credential::access_key("a2V5"), options);
    let mut now = clock();
    let mut op = start(&core, now);
    let mut delays = Vec::new();
    for _ in 0..retries {
        send(op.poll(now));
        op.on_response(status(503, &[]), now.instant);
        let until = sleep(op.poll(now));
        delays.push(until - now.instant);
        now = now.advance(until - now.instant);
    }
    delays
}

#[test]
fn backoff_doubles_with_jitter_and_the_same_seed_gives_the_same_delays() {
    let first = delays(seeded(7), 3);
    assert_eq!(first, delays(seeded(7), 3), "deterministic under a seed");
    assert_ne!(first, delays(seeded(8), 3), "another seed, other delays");
    let ms = |d: &Duration| d.as_millis();
    assert!((250..=500).contains(&ms(&first[0])), "{first:?}");
    assert!((500..=1000).contains(&ms(&first[1])), "{first:?}");
    assert!((1000..=2000).contains(&ms(&first[2])), "{first:?}");
}

#[test]
fn retries_end_after_max_retries_with_the_last_error() {
    let core = core(Credential::access_key("a2V5"), seeded(1));
    let mut now = clock();
    let mut op = start(&core, now);
    for _ in 0..3 {
        send(op.poll(now));
        op.on_response(status(503, &[]), now.instant);
        let until = sleep(op.poll(now));
        assert_eq!(sleep(op.poll(now)), until, "polled early: still asleep");
        now = now.advance(until - now.instant);
    }
    send(op.poll(now));
    op.on_response(status(503, &[]), now.instant);
    match done(op.poll(now)) {
        Err(Error::RetriesExhausted {
            attempts: 4, last, ..
        }) => {
            assert_eq!(last.status(), Some(503));
        }
        other => panic!("{other:?}"),
    }
    let m = core.metrics()["orders"];
    assert_eq!((m.requests, m.retries, m.events_failed), (4, 3, 1));
}

#[test]
fn retry_after_is_honoured_beyond_max_delay_but_not_past_the_deadline() {
    let options = seeded(1).with_retry(
        RetryOptions::default()
            .with_max_delay(Duration::from_secs(1))
            .with_max_elapsed(Duration::from_secs(10)),
    );
    let core = core(Credential::access_key("a2V5"), options);
    let now = clock();
    let mut op = start(&core, now);
    send(op.poll(now));
    op.on_response(status(429, &[("retry-after", "5")]), now.instant);
    assert_eq!(sleep(op.poll(now)), now.instant + Duration::from_secs(5));
    let later = now.advance(Duration::from_secs(5));
    send(op.poll(later));
    op.on_response(status(429, &[("retry-after", "6")]), later.instant);
    assert!(
        matches!(
            done(op.poll(later)),
            Err(Error::RetriesExhausted { attempts: 2, .. })
        ),
        "a wait ending past the deadline fails at once"
    );
}

#[test]
fn retry_after_too_large_for_any_clock_fails_without_panicking() {
    for (name, value) in [
        ("retry-after", "18446744073709551615"),
        ("retry-after-ms", "1e308"),
    ] {
        let options = seeded(1).with_retry(RetryOptions::default().with_max_elapsed(Duration::MAX));
        let core = core(Credential::access_key("a2V5"), options);
        let now = clock();
        let mut op = start(&core, now);
        send(op.poll(now));
        op.on_response(status(503, &[(name, value)]), now.instant);
        let error = done(op.poll(now)).unwrap_err();
        assert_eq!(error.status(), Some(503), "{name}: {error}");
    }
}

#[test]
fn each_attempt_is_cut_at_the_request_timeout_from_its_own_start() {
    let options = seeded(1)
        .with_request_timeout(Duration::from_secs(3))
        .with_retry(RetryOptions::default().with_max_elapsed(Duration::from_secs(60)));
    let core = core(Credential::access_key("a2V5"), options);
    let now = clock();
    let mut op = start(&core, now);
    let (_, first) = send(op.poll(now));
    assert_eq!(first, now.instant + Duration::from_secs(3));
    let later = now.advance(Duration::from_secs(3));
    op.on_transport_error(
        TransportError::new(TransportErrorKind::Timeout, "cut at the request time-out"),
        later.instant,
    );
    let retry_at = sleep(op.poll(later));
    let at = Now {
        instant: retry_at,
        utc: later.utc,
    };
    let (_, second) = send(op.poll(at));
    assert_eq!(
        second,
        retry_at + Duration::from_secs(3),
        "its own, not the first's"
    );
}

#[test]
fn every_attempt_is_cut_at_the_overall_deadline() {
    let options = seeded(1).with_retry(
        RetryOptions::default()
            .with_initial_delay(Duration::from_secs(2))
            .with_max_elapsed(Duration::from_secs(5)),
    );
    let core = core(Credential::access_key("a2V5"), options);
    let now = clock();
    let mut op = start(&core, now);
    let (_, deadline) = send(op.poll(now));
    assert_eq!(deadline, now.instant + Duration::from_secs(5));
    // The attempt ran to the deadline and was cut there: no time is left for a retry.
    let cut = now.advance(Duration::from_secs(5));
    op.on_transport_error(
        TransportError::new(TransportErrorKind::Timeout, "cut at the deadline"),
        cut.instant,
    );
    match done(op.poll(cut)) {
        Err(Error::RetriesExhausted {
            attempts: 1,
            elapsed,
            ..
        }) => {
            assert_eq!(elapsed, Duration::from_secs(5));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn success_records_metrics_and_ends_the_operation() {
    let core = core(Credential::access_key("a2V5"), seeded(1));
    let now = clock();
    let mut op = start(&core, now);
    let (request, _) = send(op.poll(now));
    assert_eq!(request.headers()["aeg-sas-key"], "a2V5");
    let later = now.advance(Duration::from_millis(20));
    op.on_response(status(200, &[]), later.instant);
    done(op.poll(later)).unwrap();
    let m = core.metrics()["orders"];
    assert_eq!((m.events_published, m.requests, m.retries), (1, 1, 0));
    assert_eq!(m.latency.max, Duration::from_millis(20));
    assert!(matches!(done(op.poll(later)), Err(Error::Internal(_))));
}

#[test]
fn bad_requests_are_not_retried() {
    let core = core(Credential::access_key("a2V5"), seeded(1));
    let now = clock();
    let mut op = start(&core, now);
    send(op.poll(now));
    op.on_response(status(401, &[]), now.instant);
    assert_eq!(done(op.poll(now)).unwrap_err().status(), Some(401));
}

#[test]
fn operations_needing_a_token_share_one_fetch_and_send_it() {
    let credential = Arc::new(CountingCredential::default());
    let core = core(Credential::token(credential.clone()), seeded(1));
    let now = clock();
    let mut first = start(&core, now);
    let mut second = start(&core, now);
    let Action::NeedToken(TokenNeed::Fetch(fetch)) = first.poll(now) else {
        panic!("the first operation fetches")
    };
    let Action::NeedToken(TokenNeed::Wait(wait)) = second.poll(now) else {
        panic!("the second waits for the same fetch")
    };
    let answer = fetch.future().now_or_never().unwrap();
    first.on_token(fetch.finish(Some(answer), now.utc), now);
    second.on_token(wait.now_or_never().unwrap(), now);
    for op in [&mut first, &mut second] {
        let (request, _) = send(op.poll(now));
        assert_eq!(request.headers()["authorization"], "Bearer token-0");
    }
    // A third operation finds the token cached and sends at once.
    let mut third = start(&core, now);
    send(third.poll(now));
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_token_time_out_fails_the_operations_waiting_for_it() {
    let core = core(
        Credential::token(Arc::new(CountingCredential::default())),
        seeded(1),
    );
    let now = clock();
    let mut first = start(&core, now);
    let mut second = start(&core, now);
    let Action::NeedToken(TokenNeed::Fetch(fetch)) = first.poll(now) else {
        panic!()
    };
    let Action::NeedToken(TokenNeed::Wait(wait)) = second.poll(now) else {
        panic!()
    };
    assert_eq!(
        fetch.timeout(now.instant, now.instant + Duration::from_secs(60)),
        Duration::from_secs(30)
    );
    let late = now.advance(Duration::from_secs(30));
    first.on_token(fetch.finish(None, late.utc), late);
    second.on_token(wait.now_or_never().unwrap(), late);
    for op in [&mut first, &mut second] {
        let error = done(op.poll(late)).unwrap_err();
        assert!(
            error.to_string().contains("token time-out of 30s"),
            "{error}"
        );
    }
    assert_eq!(core.metrics()["orders"].events_failed, 2);
}

#[test]
fn a_token_failure_is_never_retried_and_sends_nothing() {
    let credential = Arc::new(CountingCredential {
        fail: true,
        ..CountingCredential::default()
    });
    let core = core(Credential::token(credential), seeded(1));
    let now = clock();
    let mut op = start(&core, now);
    let Action::NeedToken(TokenNeed::Fetch(fetch)) = op.poll(now) else {
        panic!()
    };
    let answer = fetch.future().now_or_never().unwrap();
    op.on_token(fetch.finish(Some(answer), now.utc), now);
    assert!(matches!(done(op.poll(now)), Err(Error::Credential(_))));
    assert_eq!(core.metrics()["orders"].requests, 0);
}

#[test]
fn a_waiter_whose_fetch_was_abandoned_fetches_itself() {
    let credential = Arc::new(CountingCredential::default());
    let core = core(Credential::token(credential.clone()), seeded(1));
    let now = clock();
    let mut first = start(&core, now);
    let mut second = start(&core, now);
    let Action::NeedToken(TokenNeed::Fetch(fetch)) = first.poll(now) else {
        panic!()
    };
    let Action::NeedToken(TokenNeed::Wait(wait)) = second.poll(now) else {
        panic!()
    };
    drop(fetch); // the first operation's task was cancelled mid-fetch
    second.on_token(wait.now_or_never().unwrap(), now);
    let Action::NeedToken(TokenNeed::Fetch(fetch)) = second.poll(now) else {
        panic!("the waiter takes the fetch over")
    };
    let answer = fetch.future().now_or_never().unwrap();
    second.on_token(fetch.finish(Some(answer), now.utc), now);
    let (request, _) = send(second.poll(now));
    assert_eq!(request.headers()["authorization"], "Bearer token-0");
}

#[test]
fn a_token_arriving_after_the_deadline_sends_nothing() {
    let options =
        seeded(1).with_retry(RetryOptions::default().with_max_elapsed(Duration::from_secs(5)));
    let core = core(
        Credential::token(Arc::new(CountingCredential::default())),
        options,
    );
    let now = clock();
    let mut op = start(&core, now);
    let Action::NeedToken(TokenNeed::Fetch(fetch)) = op.poll(now) else {
        panic!()
    };
    let late = now.advance(Duration::from_secs(6));
    let answer = fetch.future().now_or_never().unwrap();
    op.on_token(fetch.finish(Some(answer), late.utc), late);
    match done(op.poll(late)) {
        Err(Error::RetriesExhausted { last, .. }) => {
            assert!(last.to_string().contains("overall deadline"), "{last}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(core.metrics()["orders"].requests, 0);
}
