//! A `BufferedPublisher` dropped without `close` says so in the log, and the events it had
//! accepted are still delivered. A test binary of its own: it installs the process-wide
//! `tracing` subscriber (a thread-local one races other tests for tracing's callsite cache).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventgrid_async::{
    BufferedOptions, Credential, EventGridClient, EventGridConfig, EventGridEvent,
    EventGridTopicConfig,
};
use eventgrid_emulator::{Emulator, EmulatorConfig, TopicSpec};

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

/// Waits until `ready` holds; a bug that never makes it hold fails the test.
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
async fn dropping_without_close_is_logged_and_still_delivers() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("eventgrid_async=warn")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let emulator = Emulator::start(EmulatorConfig::new().topic(TopicSpec::open("items")))
        .await
        .unwrap();
    let topic = EventGridTopicConfig::new("items", emulator.topic_endpoint("items")).unwrap();
    let client =
        EventGridClient::new(EventGridConfig::new([topic]).unwrap(), Credential::None).unwrap();
    // Only the drop sends these events: no batch fills up and the linger time never ends.
    let options = BufferedOptions::default().with_linger(Duration::from_secs(3_600));
    let publisher = client.buffered(options).unwrap();
    let tasks: Vec<_> = (0..5)
        .map(|n| {
            let publisher = publisher.clone();
            tokio::spawn(async move {
                let event = EventGridEvent::new("item.made", format!("items/{n}"), n).unwrap();
                publisher.publish("items", event).await
            })
        })
        .collect();
    until("5 events accepted", || publisher.pending_events() == 5).await;
    // The publishers stop waiting (their clones go with them); then the last clone goes.
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        assert!(task.await.unwrap_err().is_cancelled());
    }
    drop(publisher);

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("WARN") && text.contains("dropped without close()"),
        "{text}"
    );
    assert!(text.contains("pending_events=5"), "{text}");
    until("the accepted events delivered", || {
        emulator.counters("items").accepted_events == 5
    })
    .await;
    // The client counts them when it has read the answer, a moment after the emulator did.
    until("the client counted them delivered", || {
        client.metrics()["items"].events_published == 5
    })
    .await;
    assert_eq!(client.metrics()["items"].events_failed, 0);
}
