//! The client over a scripted transport: what it sends, how it splits, retries and reports,
//! without a server.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bytes::Bytes;
use eventgrid_blocking::{
    Credential, Error, EventGridClient, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    Limits, RetryOptions, Transport, TransportError, TransportErrorKind,
};
use http::{Request, Response};
use serde_json::Value;

type Answer = Box<dyn Fn(&Request<Bytes>) -> Result<Response<Bytes>, TransportError> + Send + Sync>;

/// Records every request and answers with `answer`.
#[derive(Clone)]
struct Scripted {
    sent: Arc<Mutex<Vec<Request<Bytes>>>>,
    answer: Arc<Answer>,
}

impl Scripted {
    fn new(
        answer: impl Fn(&Request<Bytes>) -> Result<Response<Bytes>, TransportError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            sent: Arc::default(),
            answer: Arc::new(Box::new(answer)),
        }
    }

    fn ok() -> Self {
        Self::new(|_| Ok(status(200)))
    }

    fn sent(&self) -> Vec<Request<Bytes>> {
        self.sent.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, TransportError> {
        let answer = (self.answer)(&request);
        self.sent.lock().unwrap().push(request);
        answer
    }
}

fn status(code: u16) -> Response<Bytes> {
    Response::builder().status(code).body(Bytes::new()).unwrap()
}

fn config() -> EventGridConfig {
    EventGridConfig::new([EventGridTopicConfig::new(
        "user-events",
        "https://user-events.westus2-1.eventgrid.azure.net",
    )
    .unwrap()])
    .unwrap()
}

fn fast_retries() -> RetryOptions {
    RetryOptions::default().with_initial_delay(Duration::from_millis(1))
}

fn body_events(request: &Request<Bytes>) -> Vec<Value> {
    serde_json::from_slice(request.body()).unwrap()
}

fn events(count: usize) -> Vec<EventGridEvent> {
    (0..count)
        .map(|n| EventGridEvent::new("t", format!("s/{n}"), n).unwrap())
        .collect()
}

#[test]
fn emit_event_sends_the_seed_request() {
    let transport = Scripted::ok();
    let client = EventGridClient::builder(config())
        .credential(Credential::access_key("S2V5"))
        .user_agent_suffix("tests/1")
        .transport(transport.clone())
        .build()
        .unwrap();
    client
        .emit_event(
            "user-events",
            "user.created",
            "users/123",
            serde_json::json!({"user_id": 123}),
        )
        .unwrap();
    let sent = transport.sent();
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.uri(),
        "https://user-events.westus2-1.eventgrid.azure.net/api/events?api-version=2018-01-01"
    );
    assert_eq!(request.headers()["aeg-sas-key"], "S2V5");
    assert!(
        request.headers()["user-agent"]
            .to_str()
            .unwrap()
            .ends_with(" tests/1")
    );
    let events = body_events(request);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["eventType"], "user.created");
    assert_eq!(events[0]["subject"], "users/123");
    assert_eq!(events[0]["dataVersion"], "v1");
    assert_eq!(events[0]["data"]["user_id"], 123);
}

#[test]
fn invalid_event_fails_the_send_before_anything_is_sent() {
    let transport = Scripted::ok();
    let client = EventGridClient::builder(config())
        .transport(transport.clone())
        .build()
        .unwrap();
    let mut batch = events(3);
    batch.push(EventGridEvent::without_data("t", " "));
    let err = client.send("user-events", batch).unwrap_err();
    assert_eq!(err.to_string(), "event 3: `subject` is empty");
    assert!(transport.sent().is_empty());
}

#[test]
fn batches_are_delivered_concurrently_up_to_the_limit() {
    /// Holds each request until `want` are in flight at once (or a generous deadline passes),
    /// remembering the most seen together.
    struct Gate {
        in_flight: Mutex<(usize, usize)>,
        changed: Condvar,
    }
    let want = 4;
    let gate = Arc::new(Gate {
        in_flight: Mutex::new((0, 0)),
        changed: Condvar::new(),
    });
    let transport = Scripted::new({
        let gate = gate.clone();
        move |_| {
            let mut state = gate.in_flight.lock().unwrap();
            state.0 += 1;
            state.1 = state.1.max(state.0);
            gate.changed.notify_all();
            let (mut state, _) = gate
                .changed
                .wait_timeout_while(state, Duration::from_secs(10), |s| s.1 < want)
                .unwrap();
            state.0 -= 1;
            Ok(status(200))
        }
    });
    let client = EventGridClient::builder(config())
        .limits(Limits::default().with_max_events_per_request(10))
        .max_concurrent_requests(want)
        .transport(transport.clone())
        .build()
        .unwrap();
    let summary = client.send("user-events", events(95)).unwrap();
    assert_eq!((summary.events, summary.requests), (95, 10));
    assert_eq!(gate.in_flight.lock().unwrap().1, want);
    let mut ids: Vec<String> = transport
        .sent()
        .iter()
        .flat_map(body_events)
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_by_key(|s| s[2..].parse::<usize>().unwrap());
    let expected: Vec<String> = (0..95).map(|n| format!("s/{n}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn partial_failure_names_delivered_and_failed_events() {
    // The batch holding subject s/25 is refused; the others go through.
    let transport = Scripted::new(|request| {
        let refused = body_events(request).iter().any(|e| e["subject"] == "s/25");
        Ok(status(if refused { 400 } else { 200 }))
    });
    let client = EventGridClient::builder(config())
        .limits(Limits::default().with_max_events_per_request(10))
        .transport(transport.clone())
        .build()
        .unwrap();
    let Err(Error::Delivery(failure)) = client.send("user-events", events(40)) else {
        panic!("expected a partial delivery failure")
    };
    assert_eq!(failure.delivered, [0..20, 30..40]);
    assert_eq!(failure.failed.len(), 1);
    assert_eq!(failure.failed[0].events, 20..30);
    assert_eq!(failure.failed[0].error.status(), Some(400));
    let metrics = client.metrics()["user-events"];
    assert_eq!((metrics.events_published, metrics.events_failed), (30, 10));
}

#[test]
fn retries_resend_the_same_body_then_give_up() {
    let transport = Scripted::new(|_| {
        Err(TransportError::new(
            TransportErrorKind::ConnectionClosed,
            "reset by peer",
        ))
    });
    let client = EventGridClient::builder(config())
        .retry(fast_retries().with_max_retries(2))
        .transport(transport.clone())
        .build()
        .unwrap();
    let err = client
        .emit_event("user-events", "t", "s", serde_json::json!(1))
        .unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err}"
    );
    let sent = transport.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|r| r.body() == sent[0].body()));
}

#[test]
fn sas_tokens_are_generated_and_the_key_never_sent() {
    let transport = Scripted::ok();
    let client = EventGridClient::builder(config())
        .credential(Credential::sas_from_key(
            "S2V5S2V5",
            Duration::from_secs(3600),
        ))
        .transport(transport.clone())
        .build()
        .unwrap();
    client
        .emit_event("user-events", "t", "s", serde_json::json!(1))
        .unwrap();
    let request = &transport.sent()[0];
    let token = request.headers()["aeg-sas-token"].to_str().unwrap();
    assert!(token.starts_with("r=https%3A%2F%2Fuser-events."), "{token}");
    assert!(request.headers().get("aeg-sas-key").is_none());
    assert!(!format!("{client:?}").contains("S2V5S2V5"));
}

#[test]
fn extra_ca_with_a_custom_transport_is_refused() {
    let err = EventGridClient::builder(config())
        .transport(Scripted::ok())
        .extra_ca_pem("-----BEGIN CERTIFICATE-----")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("extra_ca_pem"), "{err}");
}

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn each_request_is_traced_without_its_credential() {
    let answers = Arc::new(Mutex::new(vec![200, 503]));
    let transport = Scripted::new(move |_| Ok(status(answers.lock().unwrap().pop().unwrap())));
    let client = EventGridClient::builder(config())
        .credential(Credential::access_key("SECRET-KEY-VALUE"))
        .retry(fast_retries())
        .transport(transport)
        .build()
        .unwrap();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        client
            .emit_event("user-events", "t", "s", serde_json::json!(1))
            .unwrap();
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("eventgrid.publish"), "{log}");
    assert!(log.contains("topic=\"user-events\""), "{log}");
    assert!(log.contains("attempts=2"), "{log}");
    assert!(log.contains("status=200"), "{log}");
    assert!(log.contains("eventgrid retry"), "{log}");
    assert!(!log.contains("SECRET-KEY-VALUE"), "{log}");
}
