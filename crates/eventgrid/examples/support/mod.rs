//! What every example shares: where its topics are, and a check that its events arrived.
//!
//! - With `EVENTGRID_TOPICS` unset, an emulator starts in-process with the example's topics,
//!   each protected by [`EXAMPLE_KEY`]: nothing to install, no Azure account.
//! - With `EVENTGRID_TOPICS` set, the topics come from the environment
//!   ([`EventGridConfig::from_env`]): real Azure topics, or an emulator started elsewhere
//!   (`eventgrid emulator --topic user-events=KEY`). When `EVENTGRID_EMULATOR_URL` names that
//!   emulator, the example reads the events back through its inspection API
//!   (`/_emulator/topics/{topic}/...`), as `cargo xtask itest` does.
//!
//! An example whose events did not arrive exits with status 1.
#![allow(dead_code)] // each example uses part of this

use std::collections::BTreeMap;
use std::time::Duration;

use eventgrid::core::bytes::Bytes;
use eventgrid::core::http::{Method, Request};
use eventgrid::core::{ClientOptions, Transport};
use eventgrid::{Credential, EventGridConfig, EventGridTopicConfig};
use eventgrid_blocking::UreqTransport;
use eventgrid_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultRule, TopicSpec};
use serde_json::Value;

/// The access key of the in-process emulator's topics ("example-key", base64).
pub const EXAMPLE_KEY: &str = "ZXhhbXBsZS1rZXk=";

/// The variable naming an external emulator's base URL, for reading events back.
pub const EMULATOR_URL_VAR: &str = "EVENTGRID_EMULATOR_URL";

/// The example's topics and a way to see what they received.
pub struct Playground {
    config: EventGridConfig,
    credential: Credential,
    inspector: Inspector,
    /// Events each topic had accepted before the example ran.
    baseline: BTreeMap<String, u64>,
}

enum Inspector {
    InProcess(EmulatorHandle),
    Remote {
        base_url: String,
        http: UreqTransport,
    },
    /// Real Azure topics: nothing to inspect.
    Blind,
}

impl Playground {
    /// Topics from the environment when `EVENTGRID_TOPICS` is set, else an in-process emulator
    /// with `topics`.
    pub fn start(topics: &[&str]) -> Self {
        match std::env::var(eventgrid::core::TOPICS_VAR) {
            Ok(_) => Self::from_env(topics),
            Err(_) => Self::in_process(topics),
        }
    }

    fn in_process(topics: &[&str]) -> Self {
        let emulator = Emulator::start_in_background(
            EmulatorConfig::new().topics(
                topics
                    .iter()
                    .map(|name| TopicSpec::keyed(*name, EXAMPLE_KEY)),
            ),
        )
        .unwrap_or_else(|error| fail(&format!("could not start the emulator: {error}")));
        let config = EventGridConfig::new(topics.iter().map(|name| {
            EventGridTopicConfig::new(*name, emulator.topic_endpoint(name))
                .expect("the emulator's endpoints are valid")
        }))
        .expect("topic names are distinct");
        println!("(emulator running in-process at {})", emulator.base_url());
        Self {
            config,
            credential: Credential::access_key(EXAMPLE_KEY),
            inspector: Inspector::InProcess(emulator),
            baseline: BTreeMap::new(),
        }
    }

    fn from_env(topics: &[&str]) -> Self {
        let config = EventGridConfig::from_env()
            .unwrap_or_else(|error| fail(&format!("configuration: {error}")));
        for topic in topics {
            if config.topic(topic).is_err() {
                fail(&format!(
                    "this example needs topic `{topic}` in EVENTGRID_TOPICS"
                ));
            }
        }
        // Topics with their own key or SAS token need no client credential; the others get
        // the default Microsoft Entra ID chain.
        let credential = if config.topics().all(|topic| topic.credential().is_some()) {
            Credential::None
        } else {
            eventgrid::asynchronous::default_credential()
                .unwrap_or_else(|error| fail(&format!("credential: {error}")))
        };
        let inspector = match std::env::var(EMULATOR_URL_VAR) {
            Ok(base_url) => Inspector::Remote {
                base_url: base_url.trim_end_matches('/').to_owned(),
                http: UreqTransport::new(&ClientOptions::default())
                    .expect("default options are valid"),
            },
            Err(_) => Inspector::Blind,
        };
        let mut playground = Self {
            config,
            credential,
            inspector,
            baseline: BTreeMap::new(),
        };
        for topic in topics {
            if let Some(accepted) = playground.accepted(topic) {
                playground.baseline.insert((*topic).to_owned(), accepted);
            }
        }
        playground
    }

    /// The topics' configuration.
    pub fn config(&self) -> EventGridConfig {
        self.config.clone()
    }

    /// The client credential: the emulator's key, or what the environment calls for.
    pub fn credential(&self) -> Credential {
        self.credential.clone()
    }

    /// The configuration of one topic.
    pub fn topic(&self, name: &str) -> EventGridTopicConfig {
        self.config
            .topic(name)
            .expect("the example's topic")
            .clone()
    }

    /// Makes the topic's next `count` requests fail with 503 Service Unavailable, as the
    /// service does when it is busy. Returns false for real Azure topics.
    pub fn make_busy(&self, topic: &str, count: u64) -> bool {
        let rule = FaultRule::status(503).next(count);
        match &self.inspector {
            Inspector::InProcess(emulator) => emulator
                .set_fault(topic, rule)
                .map(|()| true)
                .unwrap_or_else(|error| fail(&format!("fault rule: {error}"))),
            Inspector::Remote { base_url, http } => {
                let spec = eventgrid_emulator::FaultSpec::from(rule);
                let body = serde_json::to_vec(&spec).expect("fault rules serialize");
                let request = Request::builder()
                    .method(Method::PUT)
                    .uri(format!("{base_url}/_emulator/faults/{topic}"))
                    .header("content-type", "application/json")
                    .body(Bytes::from(body))
                    .expect("a valid request");
                match http.send(request) {
                    Ok(response) if response.status().is_success() => true,
                    Ok(response) => fail(&format!("fault API answered {}", response.status())),
                    Err(error) => fail(&format!("fault API: {error}")),
                }
            }
            Inspector::Blind => false,
        }
    }

    /// The events `topic` received since the example started, oldest first; `None` for real
    /// Azure topics.
    pub fn received(&self, topic: &str) -> Option<Vec<Value>> {
        let accepted = self.accepted(topic)?;
        let new = accepted - self.baseline.get(topic).copied().unwrap_or(0);
        let events = match &self.inspector {
            Inspector::InProcess(emulator) => emulator.events(topic),
            Inspector::Remote { .. } => {
                match self.get_json(&format!("/_emulator/topics/{topic}/events"))? {
                    Value::Array(events) => events,
                    other => fail(&format!("unexpected inspection answer: {other}")),
                }
            }
            Inspector::Blind => return None,
        };
        let new = usize::try_from(new)
            .expect("small counts")
            .min(events.len());
        Some(events[events.len() - new..].to_vec())
    }

    /// Checks that `topic` received `expected` events since the example started, printing
    /// them; exits with status 1 if not. For real Azure topics, says that it cannot look.
    pub fn expect_received(&self, topic: &str, expected: usize) -> Vec<Value> {
        let Some(events) = self.received(topic) else {
            println!("{topic}: sent {expected} events (a real topic cannot be inspected)");
            return Vec::new();
        };
        if events.len() != expected {
            fail(&format!(
                "{topic} received {} events, expected {expected}",
                events.len()
            ));
        }
        println!("{topic} received {expected} events:");
        const SHOWN: usize = 5;
        for event in events.iter().take(SHOWN) {
            let kind = event["eventType"].as_str().or(event["type"].as_str());
            println!(
                "  {:<22} {:<28} {}",
                kind.unwrap_or("?"),
                event["subject"].as_str().unwrap_or("-"),
                event["data"]
            );
        }
        if events.len() > SHOWN {
            println!("  ... and {} more", events.len() - SHOWN);
        }
        events
    }

    fn accepted(&self, topic: &str) -> Option<u64> {
        match &self.inspector {
            Inspector::InProcess(emulator) => Some(emulator.counters(topic).accepted_events),
            Inspector::Remote { .. } => self
                .get_json(&format!("/_emulator/topics/{topic}/counters"))?["accepted_events"]
                .as_u64(),
            Inspector::Blind => None,
        }
    }

    fn get_json(&self, path: &str) -> Option<Value> {
        let Inspector::Remote { base_url, http } = &self.inspector else {
            return None;
        };
        let request = Request::get(format!("{base_url}{path}"))
            .body(Bytes::new())
            .expect("a valid request");
        let response = http
            .send(request)
            .unwrap_or_else(|error| fail(&format!("inspection API at {base_url}: {error}")));
        if !response.status().is_success() {
            fail(&format!("inspection API {path}: {}", response.status()));
        }
        Some(serde_json::from_slice(response.body()).expect("the inspection API answers JSON"))
    }
}

/// Prints `message` and exits with status 1.
pub fn fail(message: &str) -> ! {
    eprintln!("example failed: {message}");
    std::process::exit(1)
}

/// Checks `condition`, failing the example with `message` if it does not hold.
pub fn check(condition: bool, message: &str) {
    if !condition {
        fail(message);
    }
}

/// Fast retries for examples that show them (the defaults wait longer, as production should).
pub fn quick_retries() -> eventgrid::RetryOptions {
    eventgrid::RetryOptions::default().with_initial_delay(Duration::from_millis(50))
}
