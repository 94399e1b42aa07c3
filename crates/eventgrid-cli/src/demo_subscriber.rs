//! The demo's subscriber: the webhook of `eventgrid listen`, in-process, subscribed to a topic
//! of the emulator, counting what the emulator pushes to it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventgrid::consumer::system::names;
use eventgrid::consumer::{Handshake, PushDelivery, ReceiveOptions};
use eventgrid_emulator::{BatchPolicy, EmulatorHandle, SubscriptionState, WebhookSubscription};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::error::CliError;
use crate::listen::{Counters, Observer, serve_webhook};
use crate::table::Table;

/// The subscription's name on the emulator.
const SUBSCRIPTION: &str = "demo-subscriber";

/// How long the demo waits for the handshake and for the last delivery: a bound on a
/// loopback exchange that takes milliseconds, so that a broken one fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

/// What arrived, by event type in order of arrival: the count and the first subject.
#[derive(Debug, Default)]
struct Seen {
    by_type: Vec<(String, usize, String)>,
    validation_code: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Collector(Arc<Mutex<Seen>>);

impl Observer for Collector {
    fn handshake(&self, _path: &str, handshake: &Handshake) {
        if let Handshake::SubscriptionValidation(validation) = handshake {
            self.0.lock().expect("not poisoned").validation_code =
                Some(validation.code().to_owned());
        }
    }

    fn delivery(&self, _path: &str, delivery: &PushDelivery) {
        let mut seen = self.0.lock().expect("not poisoned");
        for event in delivery.events().iter() {
            match seen
                .by_type
                .iter_mut()
                .find(|(kind, ..)| kind == event.event_type())
            {
                Some((_, count, _)) => *count += 1,
                None => seen.by_type.push((
                    event.event_type().to_owned(),
                    1,
                    event.subject().unwrap_or("-").to_owned(),
                )),
            }
        }
    }
}

/// A webhook subscribed to one topic of the emulator.
pub(crate) struct DemoSubscriber {
    topic: &'static str,
    seen: Collector,
    counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
}

impl DemoSubscriber {
    /// Starts the webhook on a free loopback port and subscribes it to `topic`, with batches
    /// of up to 25 events; returns once the emulator's validation handshake has been answered.
    pub(crate) fn start(
        runtime: &Runtime,
        emulator: &EmulatorHandle,
        topic: &'static str,
    ) -> Result<Self, CliError> {
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .and_then(|listener| Ok((listener.local_addr()?, listener)))
            .map_err(|error| CliError::failure(format!("could not start the subscriber: {error}")));
        let (address, listener) = listener?;
        let seen = Collector::default();
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = oneshot::channel::<()>();
        runtime.spawn(serve_webhook(
            listener,
            ReceiveOptions::default(),
            seen.clone(),
            Arc::clone(&counters),
            async {
                let _ = stopped.await;
            },
        ));
        let spec = WebhookSubscription::new(topic, SUBSCRIPTION, &format!("http://{address}/"))
            .and_then(|spec| Ok(spec.batching(BatchPolicy::new(25, 64)?)))
            .map_err(CliError::failure)?;
        emulator
            .control()
            .add_webhook(spec)
            .map_err(|error| CliError::failure(format!("could not subscribe: {error}")))?;
        let subscriber = Self {
            topic,
            seen,
            counters,
            stop: Some(stop),
        };
        subscriber.wait(emulator, "the validation handshake", |_| {
            emulator
                .control()
                .webhook_subscription(topic, SUBSCRIPTION)
                .is_some_and(|info| info.state == SubscriptionState::Active)
        })?;
        let code = subscriber
            .seen
            .0
            .lock()
            .expect("not poisoned")
            .validation_code
            .clone();
        println!(
            "Subscriber at http://{address}/ (the webhook of `eventgrid listen`) subscribed to \
             {topic}; it answered the validation handshake (code {}).",
            code.unwrap_or_default()
        );
        Ok(subscriber)
    }

    /// Waits until the subscriber has received `expected` events, then prints what it got.
    pub(crate) fn report(&self, emulator: &EmulatorHandle, expected: u64) -> Result<(), CliError> {
        self.wait(emulator, "the deliveries", |subscriber| {
            subscriber.counters.events.load(Ordering::Relaxed) >= expected
        })?;
        let seen = self.seen.0.lock().expect("not poisoned");
        println!(
            "\nWhat the subscriber received from {}: {} events in {} deliveries",
            self.topic,
            self.counters.events.load(Ordering::Relaxed),
            self.counters.deliveries.load(Ordering::Relaxed),
        );
        let mut table = Table::new(&["event type", "count", "subject (first)"]).right_align(1);
        for (kind, count, subject) in &seen.by_type {
            let kind = if names::is_system_event(kind) {
                format!("{kind} (system event)")
            } else {
                kind.clone()
            };
            table.row(vec![kind, count.to_string(), subject.clone()]);
        }
        print!("{}", table.render(4));
        Ok(())
    }

    fn wait(
        &self,
        emulator: &EmulatorHandle,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) -> Result<(), CliError> {
        let deadline = Instant::now() + PATIENCE;
        while !done(self) {
            if Instant::now() > deadline {
                let state = emulator
                    .control()
                    .webhook_subscription(self.topic, SUBSCRIPTION)
                    .map(|info| {
                        format!(
                            "{} {}",
                            info.state.as_str(),
                            info.reason.unwrap_or_default()
                        )
                    })
                    .unwrap_or_else(|| "gone".to_owned());
                return Err(CliError::failure(format!(
                    "the subscriber did not get {what} within {} s (subscription {state})",
                    PATIENCE.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for DemoSubscriber {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
