//! Each request is traced (topic, events, attempts, status, duration) and no credential shows
//! in any field. A test binary of its own: it installs the process-wide subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventgrid_async::{
    Credential, EventGridClient, EventGridConfig, EventGridTopicConfig, RetryOptions,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, FaultRule, TopicSpec};

const KEY: &str = "a2V5";

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_traced_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("eventgrid_core=debug,eventgrid_async=debug")
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The only test of this binary, so the global subscriber sees every callsite (a
    // thread-local one races other tests' threads for tracing's callsite interest cache).
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let emulator = Emulator::start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .fault("orders", FaultRule::status(503).next(1)),
    )
    .await
    .unwrap();
    let topic = EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders")).unwrap();
    let client = EventGridClient::builder(EventGridConfig::new([topic]).unwrap())
        .credential(Credential::access_key(KEY))
        .retry(
            RetryOptions::default()
                .with_max_retries(2)
                .with_initial_delay(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    client
        .emit_event("orders", "order.placed", "orders/1", 1)
        .await
        .unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("eventgrid.publish"), "{text}");
    assert!(
        text.contains("topic=\"orders\"") || text.contains("topic=orders"),
        "{text}"
    );
    assert!(text.contains("events=1"), "{text}");
    assert!(text.contains("attempts=2"), "{text}");
    assert!(text.contains("status=200"), "{text}");
    assert!(text.contains("duration_ms="), "{text}");
    assert!(
        text.contains("status=503"),
        "the failed attempt is logged: {text}"
    );
    assert!(
        !text.contains(KEY),
        "a secret leaked into the trace: {text}"
    );
}
