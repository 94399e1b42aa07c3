//! The conformance suite's machinery (`tests/tests/conformance/`): every front end behind one
//! [`Subject`] trait, an emulator per test ([`Lab`]), test credentials, and events to send.
//!
//! A scenario is a function of a [`Lab`]; [`run`] runs it against one [`Adapter`] with a
//! watchdog, so a call that hangs fails its test instead of the whole run.
//!
//! ```
//! use eventgrid_tests::conformance::{Adapter, GRID, Lab, grid_events, run};
//!
//! fn delivers(lab: &Lab) {
//!     let subject = lab.subject(lab.setup(&[GRID]));
//!     subject.send(GRID, grid_events("e", 2)).assert_delivered();
//!     assert_eq!(lab.ids(GRID), ["e-0", "e-1"]);
//! }
//! run(Adapter::BlockingClient, delivers);
//! ```

mod async_client;
mod async_publisher;
mod blocking_client;
mod blocking_publisher;
mod credentials;
mod entra;
mod subject;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use eventgrid::core::ClientOptions;
use eventgrid::{
    CloudEvent, Credential, CustomEvent, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    Result, RetryOptions,
};
use eventgrid_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, FaultSpec, NamespaceTopicSpec, RecordedRequest,
    SubscriptionCounts, SubscriptionSpec, TopicCounters, TopicSpec,
};
use serde_json::{Value, json};

pub use async_client::AsyncClient;
pub use async_publisher::AsyncPublisher;
pub use blocking_client::BlockingClient;
pub use blocking_publisher::BlockingPublisher;
pub use credentials::{Behaviour, TestCredential};
pub use entra::{ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET};
pub use subject::{Events, Handler, Outcome, Puller, Setup, Subject};

/// The access key of every keyed topic (base64, so SAS tokens can be signed with it).
pub const KEY: &str = "dGVzdC1rZXk=";
/// A keyed topic of Event Grid events.
pub const GRID: &str = "grid";
/// A keyed topic of CloudEvents.
pub const CLOUD: &str = "cloud";
/// A keyed topic of custom events.
pub const CUSTOM: &str = "custom";
/// An open topic (no credential) of Event Grid events.
pub const OPEN: &str = "open";
/// Keyed Event Grid topics the clients are not configured with at first (run-time topics), or
/// are sent to at the same time as [`GRID`].
pub const SPARE: [&str; 3] = ["spare-0", "spare-1", "spare-2"];

/// A keyed namespace topic (CloudEvents, pull delivery), configured under the same name.
pub const NAMESPACE: &str = "orders";
/// [`NAMESPACE`]'s subscriptions: each gets every event.
pub const SUBSCRIPTIONS: [&str; 2] = ["billing", "shipping"];

/// How long a scenario may take before its test fails as hung.
const WATCHDOG: Duration = Duration::from_secs(30);

/// The publishers' linger: long, so that batches close on their limits and on flushes only.
const PUBLISHER_LINGER: Duration = Duration::from_secs(30);

/// The front ends under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Adapter {
    /// `eventgrid-async`'s `EventGridClient`.
    AsyncClient,
    /// `eventgrid-blocking`'s `EventGridClient`.
    BlockingClient,
    /// `eventgrid-async`'s `BufferedPublisher`.
    AsyncPublisher,
    /// `eventgrid-blocking`'s `BufferedPublisher`.
    BlockingPublisher,
}

impl Adapter {
    /// Builds this front end from `setup`.
    pub fn build(self, setup: Setup) -> Result<Box<dyn Subject>> {
        Ok(match self {
            Adapter::AsyncClient => Box::new(AsyncClient::build(setup)?),
            Adapter::BlockingClient => Box::new(BlockingClient::build(setup)?),
            Adapter::AsyncPublisher => Box::new(AsyncPublisher::build(setup)?),
            Adapter::BlockingPublisher => Box::new(BlockingPublisher::build(setup)?),
        })
    }
}

/// Runs `scenario` against `adapter` in a [`Lab`] of its own, failing if it panics or has not
/// finished after 30 seconds.
pub fn run(adapter: Adapter, scenario: fn(&Lab)) {
    let (done, finished) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("{adapter:?}"))
        .spawn(move || {
            let _done = done;
            scenario(&Lab::start(adapter));
        })
        .expect("a scenario thread");
    match finished.recv_timeout(WATCHDOG) {
        Err(RecvTimeoutError::Timeout) => {
            panic!("the scenario did not finish within {WATCHDOG:?}: a call hung")
        }
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

/// One test's emulator, and the front end under test.
#[derive(Debug)]
pub struct Lab {
    adapter: Adapter,
    emulator: EmulatorHandle,
}

impl Lab {
    /// An emulator over plain http with the suite's topics ([`GRID`], [`CLOUD`], [`CUSTOM`],
    /// [`OPEN`], [`SPARE`]).
    pub fn start(adapter: Adapter) -> Self {
        Self::start_with(adapter, |config| config)
    }

    /// Like [`start`](Self::start), with the emulator's configuration changed by `change`
    /// (TLS, limits, Microsoft Entra clients).
    pub fn start_with(
        adapter: Adapter,
        change: impl FnOnce(EmulatorConfig) -> EmulatorConfig,
    ) -> Self {
        let mut config = EmulatorConfig::new()
            .topic(TopicSpec::keyed(GRID, KEY))
            .topic(
                TopicSpec::keyed(CLOUD, KEY).with_schema(eventgrid_emulator::Schema::CloudEvents),
            )
            .topic(TopicSpec::keyed(CUSTOM, KEY).with_schema(eventgrid_emulator::Schema::Custom))
            .topic(TopicSpec::open(OPEN));
        for spare in SPARE {
            config = config.topic(TopicSpec::keyed(spare, KEY));
        }
        config = config.namespace_topic(NamespaceTopicSpec::keyed(NAMESPACE, KEY));
        for subscription in SUBSCRIPTIONS {
            let spec = format!("{NAMESPACE}/{subscription}");
            config = config.subscription(spec.parse::<SubscriptionSpec>().expect("a subscription"));
        }
        let emulator = Emulator::start_in_background(change(config)).expect("the emulator starts");
        Self { adapter, emulator }
    }

    /// The front end under test.
    pub fn adapter(&self) -> Adapter {
        self.adapter
    }

    /// The emulator, for what the helpers here do not cover.
    pub fn emulator(&self) -> &EmulatorHandle {
        &self.emulator
    }

    /// The topic's configuration for a client, with the emulator's schema and no credential
    /// of its own ([`NAMESPACE`]: a namespace topic whose events come from `/conformance`).
    pub fn topic(&self, topic: &str) -> EventGridTopicConfig {
        if topic == NAMESPACE {
            return EventGridTopicConfig::namespace(
                topic,
                self.emulator.namespace_endpoint(),
                topic,
            )
            .expect("a valid namespace endpoint")
            .with_source("/conformance");
        }
        EventGridTopicConfig::new(topic, self.emulator.topic_endpoint(topic))
            .expect("a valid endpoint")
            .with_schema(self.schema(topic))
    }

    fn schema(&self, topic: &str) -> eventgrid::Schema {
        let name = match topic {
            CLOUD => "cloudevents",
            CUSTOM => "custom",
            _ => "eventgrid",
        };
        name.parse().expect("a schema name")
    }

    /// A setup with `topics`, the access key as the client's credential, and retries and
    /// time-outs short enough for tests.
    pub fn setup(&self, topics: &[&str]) -> Setup {
        Setup {
            config: EventGridConfig::new(topics.iter().map(|topic| self.topic(topic)))
                .expect("distinct topics"),
            credential: Credential::access_key(KEY),
            options: quick_options(),
            extra_ca_pem: self.emulator.ca_certificate_pem().map(str::to_owned),
            defaults: false,
        }
    }

    /// The front end under test built from `setup`; panics if that fails.
    #[track_caller]
    pub fn subject(&self, setup: Setup) -> Box<dyn Subject> {
        self.adapter
            .build(setup)
            .unwrap_or_else(|error| panic!("{:?} from the setup: {error}", self.adapter))
    }

    /// The ids of the events the topic received, in arrival order.
    pub fn ids(&self, topic: &str) -> Vec<String> {
        self.emulator
            .events(topic)
            .iter()
            .map(|event| event["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The ids the topic received, sorted.
    pub fn sorted_ids(&self, topic: &str) -> Vec<String> {
        let mut ids = self.ids(topic);
        ids.sort();
        ids
    }

    /// The events the topic received, in arrival order.
    pub fn events(&self, topic: &str) -> Vec<Value> {
        self.emulator.events(topic)
    }

    /// The topic's counters.
    pub fn counters(&self, topic: &str) -> TopicCounters {
        self.emulator.counters(topic)
    }

    /// The counts of a subscription of [`NAMESPACE`].
    pub fn subscription_counts(&self, subscription: &str) -> SubscriptionCounts {
        self.emulator.subscription_counts(NAMESPACE, subscription)
    }

    /// The requests the topic saw, oldest first.
    pub fn requests(&self, topic: &str) -> Vec<RecordedRequest> {
        self.emulator.requests(topic)
    }

    /// Replaces the topic's fault rules.
    pub fn fault(&self, topic: &str, faults: impl Into<FaultSpec>) {
        self.emulator
            .set_fault(topic, faults)
            .expect("valid fault rules");
    }

    /// Waits (up to ten seconds) until the topic has seen `requests` requests: for requests
    /// that a client gave up on but the emulator still answers.
    #[track_caller]
    pub fn await_requests(&self, topic: &str, requests: u64) {
        for _ in 0..1_000 {
            if self.counters(topic).requests >= requests {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "`{topic}` saw {:?}, expected {requests} requests",
            self.counters(topic)
        );
    }
}

/// Client options for tests: default limits, three retries starting at 10 ms and capped at
/// 50 ms within 5 s, 2 s to connect and 5 s per attempt.
// Field by field rather than a struct literal, which a `#[non_exhaustive]` options struct
// would not allow.
#[allow(clippy::field_reassign_with_default)]
pub fn quick_options() -> ClientOptions {
    let mut options = ClientOptions::default();
    options.retry = RetryOptions::default()
        .with_initial_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(50))
        .with_max_elapsed(Duration::from_secs(5));
    options.connect_timeout = Duration::from_secs(2);
    options.request_timeout = Duration::from_secs(5);
    options
}

/// `count` Event Grid events with ids `{prefix}-0`, `{prefix}-1`, ...
pub fn grid_events(prefix: &str, count: usize) -> Events {
    Events::Grid(
        (0..count)
            .map(|n| {
                EventGridEvent::new("order.placed", format!("orders/{n}"), json!({ "n": n }))
                    .expect("a valid event")
                    .with_id(format!("{prefix}-{n}"))
            })
            .collect(),
    )
}

/// `count` CloudEvents with ids `{prefix}-0`, `{prefix}-1`, ...
pub fn cloud_events(prefix: &str, count: usize) -> Events {
    Events::Cloud(
        (0..count)
            .map(|n| {
                CloudEvent::new("/orders", "order.placed", json!({ "n": n }))
                    .expect("a valid event")
                    .with_id(format!("{prefix}-{n}"))
            })
            .collect(),
    )
}

/// `count` custom events `{"id": "{prefix}-N", "n": N}`.
pub fn custom_events(prefix: &str, count: usize) -> Events {
    Events::Custom(
        (0..count)
            .map(|n| {
                CustomEvent::new(json!({ "id": format!("{prefix}-{n}"), "n": n })).expect("JSON")
            })
            .collect(),
    )
}

/// The ids `{prefix}-0` up to `{prefix}-{count - 1}`, sorted as text.
pub fn sorted_ids(prefix: &str, count: usize) -> Vec<String> {
    let mut ids: Vec<String> = (0..count).map(|n| format!("{prefix}-{n}")).collect();
    ids.sort();
    ids
}

/// Counts a publisher adapter's events: handed over, and answered.
#[derive(Debug, Default)]
struct Submitted {
    count: AtomicUsize,
    answered: Arc<AtomicUsize>,
}

impl Submitted {
    /// Whether `target` events are accepted (`pending` of them still waiting) or answered.
    fn reached(&self, target: usize, pending: usize) -> bool {
        pending + self.answered.load(Ordering::SeqCst) >= target
    }
}
