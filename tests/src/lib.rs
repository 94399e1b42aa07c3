//! Shared helpers for the cross-crate integration tests: the emulator they run against.
//!
//! `cargo xtask itest` starts the `eventgrid-emulator` binary as a separate process with
//! `tests/emulator.toml` and sets [`EMULATOR_URL_VAR`] to its address; the tests then publish
//! to it and read back through its HTTP inspection API. Without the variable (a plain
//! `cargo test --workspace`), each test binary starts the same configuration in-process.
//!
//! ```
//! use eventgrid_tests::sandbox;
//! let sandbox = sandbox();
//! sandbox.reset("async-open");
//! assert!(sandbox.endpoint("async-open").ends_with("/async-open/api/events"));
//! assert_eq!(sandbox.counters("async-open").accepted_events, 0);
//! ```

#![deny(missing_docs)]

pub mod conformance;
pub mod key_echo;
pub mod test_proxy;

use std::path::Path;
use std::sync::LazyLock;

use eventgrid::blocking::UreqTransport;
use eventgrid::core::bytes::Bytes;
use eventgrid::core::http::{Method, Request};
use eventgrid::core::{ClientOptions, Transport};
use eventgrid::{EventGridConfig, EventGridTopicConfig, KeyCredential};
use eventgrid_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, FaultRule, FaultSpec, RecordedRequest, TopicCounters,
    TopicSpec,
};
use serde_json::Value;

/// The variable naming an emulator started elsewhere, such as `http://127.0.0.1:40123`.
pub const EMULATOR_URL_VAR: &str = "EVENTGRID_EMULATOR_URL";

/// The emulator configuration the suite expects (`tests/emulator.toml`).
pub fn emulator_config() -> EmulatorConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("emulator.toml");
    EmulatorConfig::from_file(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .port(0)
}

/// The emulator of this test binary, started on first use.
pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: LazyLock<Sandbox> = LazyLock::new(Sandbox::start);
    &SANDBOX
}

/// An emulator with the suite's topics: external (from [`EMULATOR_URL_VAR`]) or in-process.
#[derive(Debug)]
pub struct Sandbox {
    base_url: String,
    topics: Vec<TopicSpec>,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    InProcess(EmulatorHandle),
    External(UreqTransport),
}

impl Sandbox {
    fn start() -> Self {
        let config = emulator_config();
        let topics = config.topics.clone();
        match std::env::var(EMULATOR_URL_VAR) {
            Ok(url) => Self {
                base_url: url.trim_end_matches('/').to_owned(),
                topics,
                backend: Backend::External(
                    UreqTransport::new(&ClientOptions::default()).expect("default options"),
                ),
            },
            Err(_) => {
                let emulator = Emulator::start_in_background(config).expect("the emulator starts");
                Self {
                    base_url: emulator.base_url().to_owned(),
                    topics,
                    backend: Backend::InProcess(emulator),
                }
            }
        }
    }

    /// Whether the emulator is a separate process (`cargo xtask itest`).
    pub fn is_external(&self) -> bool {
        matches!(self.backend, Backend::External(_))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The topic's endpoint.
    pub fn endpoint(&self, topic: &str) -> String {
        self.spec(topic);
        format!("{}/{topic}/api/events", self.base_url)
    }

    /// The topic's access key, for keyed topics.
    pub fn key(&self, topic: &str) -> Option<&str> {
        self.spec(topic).key()
    }

    /// The topic's configuration for a client, with its key when it has one.
    pub fn topic_config(&self, topic: &str) -> EventGridTopicConfig {
        let spec = self.spec(topic);
        let schema = spec
            .schema()
            .as_str()
            .parse()
            .expect("the same schema names");
        let config = EventGridTopicConfig::new(topic, self.endpoint(topic))
            .expect("a valid endpoint")
            .with_schema(schema);
        match spec.key() {
            Some(key) => config.with_credential(KeyCredential::access_key(key)),
            None => config,
        }
    }

    /// A client configuration of `topics`, each with its key.
    pub fn config(&self, topics: &[&str]) -> EventGridConfig {
        EventGridConfig::new(topics.iter().map(|topic| self.topic_config(topic)))
            .expect("distinct topics")
    }

    /// Forgets the topic's events, requests, counters and fault rules.
    pub fn reset(&self, topic: &str) {
        match &self.backend {
            Backend::InProcess(emulator) => {
                emulator.clear(topic);
                emulator.clear_faults(topic);
            }
            Backend::External(_) => {
                self.call(
                    Method::DELETE,
                    &format!("/_emulator/topics/{topic}/events"),
                    None,
                );
                self.call(Method::DELETE, &format!("/_emulator/faults/{topic}"), None);
            }
        }
    }

    /// The topic's events, oldest first.
    pub fn events(&self, topic: &str) -> Vec<Value> {
        match &self.backend {
            Backend::InProcess(emulator) => emulator.events(topic),
            Backend::External(_) => {
                let body = self.call(
                    Method::GET,
                    &format!("/_emulator/topics/{topic}/events"),
                    None,
                );
                serde_json::from_slice(&body).expect("an array of events")
            }
        }
    }

    /// The newest requests to the topic, oldest first, credentials redacted.
    pub fn requests(&self, topic: &str) -> Vec<RecordedRequest> {
        match &self.backend {
            Backend::InProcess(emulator) => emulator.requests(topic),
            Backend::External(_) => {
                let body = self.call(
                    Method::GET,
                    &format!("/_emulator/topics/{topic}/requests"),
                    None,
                );
                serde_json::from_slice(&body).expect("request records")
            }
        }
    }

    /// The topic's counters.
    pub fn counters(&self, topic: &str) -> TopicCounters {
        match &self.backend {
            Backend::InProcess(emulator) => emulator.counters(topic),
            Backend::External(_) => {
                let body = self.call(
                    Method::GET,
                    &format!("/_emulator/topics/{topic}/counters"),
                    None,
                );
                serde_json::from_slice(&body).expect("counters")
            }
        }
    }

    /// Replaces the topic's fault rules with `rule`.
    pub fn set_fault(&self, topic: &str, rule: FaultRule) {
        match &self.backend {
            Backend::InProcess(emulator) => emulator.set_fault(topic, rule).expect("a valid rule"),
            Backend::External(_) => {
                let spec = serde_json::to_vec(&FaultSpec::from(rule)).expect("rules serialize");
                self.call(
                    Method::PUT,
                    &format!("/_emulator/faults/{topic}"),
                    Some(spec),
                );
            }
        }
    }

    fn spec(&self, topic: &str) -> &TopicSpec {
        self.topics
            .iter()
            .find(|spec| spec.name() == topic)
            .unwrap_or_else(|| panic!("topic `{topic}` is not in tests/emulator.toml"))
    }

    fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Bytes {
        let Backend::External(http) = &self.backend else {
            unreachable!("only the external emulator is called over HTTP")
        };
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_url));
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Bytes::from(body.unwrap_or_default()))
            .expect("a valid request");
        let response = http
            .send(request)
            .unwrap_or_else(|error| panic!("emulator at {}: {error}", self.base_url));
        assert!(
            response.status().is_success(),
            "{path}: {} {}",
            response.status(),
            String::from_utf8_lossy(response.body())
        );
        response.into_body()
    }
}
