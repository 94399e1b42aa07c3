//! Everything the emulator is started with.

pub(crate) mod file;
pub(crate) mod topic;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::topic::TopicSpec;
use crate::error::{Error, Result};
use crate::faults::FaultSpec;
use crate::namespace::spec::{NamespaceTopicSpec, SubscriptionSpec};

/// The service limits of a basic topic, answered with `413 Payload Too Large` when exceeded.
///
/// The defaults are the values measured against Azure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest event, in bytes of its JSON text (default 1,049,600).
    pub max_event_bytes: usize,
    /// Largest request body, in bytes (default 1,536,000).
    pub max_request_bytes: usize,
    /// Most events in one request (default 5,000).
    pub max_events_per_request: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_event_bytes: 1_049_600,
            max_request_bytes: 1_536_000,
            max_events_per_request: 5_000,
        }
    }
}

/// A client the fake Microsoft Entra token endpoint knows: its id and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct EntraClient {
    /// The application (client) id.
    pub client_id: String,
    /// The client secret (never shown by `Debug`).
    pub client_secret: String,
}

impl fmt::Debug for EntraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// How to start an emulator. Fields are public to read and set; the methods of the same names
/// set them in a chain.
///
/// ```
/// use eventgrid_emulator::{EmulatorConfig, FaultRule, Limits, Schema, TopicSpec};
///
/// let config = EmulatorConfig::new()
///     .topic(TopicSpec::open("orders"))
///     .topic(TopicSpec::keyed("audit", "a2V5").with_schema(Schema::CloudEvents))
///     .retain(100)
///     .limits(Limits { max_events_per_request: 10, ..Limits::default() })
///     .fault("orders", FaultRule::status(503).next(2));
/// assert_eq!(config.port, 0);
/// assert_eq!(config.topics.len(), 2);
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Address to listen on (default `127.0.0.1`).
    pub host: String,
    /// Port to listen on; 0 (the default) picks a free one.
    pub port: u16,
    /// The topics, each answering at `/{name}/api/events`.
    pub topics: Vec<TopicSpec>,
    /// Serve HTTPS with a generated certificate (default off).
    pub tls: bool,
    /// Where to write the generated CA certificate (PEM) when `tls` is on; default: a file in the
    /// system's temporary directory, removed at shutdown.
    pub tls_certificate_path: Option<PathBuf>,
    /// How many of the newest events (and request records) each topic keeps for inspection;
    /// older ones are only counted. 0 keeps none, which makes the emulator a pure sink
    /// (default 10,000).
    pub retain: usize,
    /// How many bytes of event text each topic keeps at most, whatever `retain` allows; the
    /// oldest events beyond it are evicted (default 64 MiB, [`DEFAULT_RETAIN_BYTES`]).
    pub retain_bytes: usize,
    /// Size and count limits.
    pub limits: Limits,
    /// Fault rules active from start-up, per topic name.
    pub faults: BTreeMap<String, FaultSpec>,
    /// Clients the token endpoint accepts; when empty (the default) it accepts any client id
    /// with a non-empty secret, which only a loopback address allows.
    pub entra_clients: Vec<EntraClient>,
    /// The key the emulator's own API (`/_emulator/*`, but for `/_emulator/health`) requires, as
    /// `Authorization: Bearer KEY`; without one (the default) that API is open, which only a
    /// loopback address allows. Never shown by `Debug`.
    pub admin_key: Option<String>,
    /// Connections served at once; further ones wait to be accepted (default 256).
    pub max_connections: usize,
    /// How long a request body may take to arrive once its headers have; a slower one is
    /// answered `408 Request Timeout` (default 30 s; more than zero, at most a day).
    pub body_read_timeout: Duration,
    /// How long a connection may go without a request in progress before it is closed
    /// (default 30 s, at most a day; HTTP/1.1 connections are closed by hyper's header read
    /// time-out, of 30 s).
    pub idle_timeout: Duration,
    /// Namespace topics, each answering at `/topics/{name}:publish` (the emulator's root URL
    /// being the namespace endpoint).
    pub namespace_topics: Vec<NamespaceTopicSpec>,
    /// Queue subscriptions of the namespace topics (pull delivery).
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Push delivery: event subscriptions and how they are delivered to.
    pub push: crate::push::PushConfig,
}

/// The longest [`EmulatorConfig::body_read_timeout`] and [`EmulatorConfig::idle_timeout`]: a
/// day.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The default of [`EmulatorConfig::retain_bytes`]: 64 MiB of event text per topic.
pub const DEFAULT_RETAIN_BYTES: usize = 64 * 1024 * 1024;

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("topics", &self.topics)
            .field("tls", &self.tls)
            .field("tls_certificate_path", &self.tls_certificate_path)
            .field("retain", &self.retain)
            .field("retain_bytes", &self.retain_bytes)
            .field("limits", &self.limits)
            .field("faults", &self.faults)
            .field("entra_clients", &self.entra_clients)
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<redacted>"))
            .field("max_connections", &self.max_connections)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("namespace_topics", &self.namespace_topics)
            .field("subscriptions", &self.subscriptions)
            .field("push", &self.push)
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 0,
            topics: Vec::new(),
            tls: false,
            tls_certificate_path: None,
            retain: 10_000,
            retain_bytes: DEFAULT_RETAIN_BYTES,
            limits: Limits::default(),
            faults: BTreeMap::new(),
            entra_clients: Vec::new(),
            admin_key: None,
            max_connections: 256,
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
            namespace_topics: Vec::new(),
            subscriptions: Vec::new(),
            push: crate::push::PushConfig::default(),
        }
    }
}

impl EmulatorConfig {
    /// Loopback, a free port, no topics, plain HTTP, 10,000 events kept per topic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a TOML file, or a JSON file when its name ends in `.json`; see `docs/emulator.md`.
    /// Errors name the file and the line.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        crate::config::file::load(path.as_ref())
    }

    /// Sets the address to listen on.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets the port (0 picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Adds a topic.
    pub fn topic(mut self, topic: TopicSpec) -> Self {
        self.topics.push(topic);
        self
    }

    /// Adds topics.
    pub fn topics(mut self, topics: impl IntoIterator<Item = TopicSpec>) -> Self {
        self.topics.extend(topics);
        self
    }

    /// Serves HTTPS (and the token endpoint over HTTPS) when `on`.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Writes the CA certificate to `path` instead of a temporary file (implies nothing about
    /// `tls`, which must be on for a certificate to exist).
    pub fn tls_certificate_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls_certificate_path = Some(path.into());
        self
    }

    /// Keeps the newest `events` events per topic (0: keep none, count only).
    pub fn retain(mut self, events: usize) -> Self {
        self.retain = events;
        self
    }

    /// Keeps at most `bytes` of event text per topic (on top of [`retain`](Self::retain)).
    pub fn retain_bytes(mut self, bytes: usize) -> Self {
        self.retain_bytes = bytes;
        self
    }

    /// Requires `key` (as `Authorization: Bearer KEY`) on the emulator's own API; required on a
    /// non-loopback address.
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.admin_key = Some(key.into());
        self
    }

    /// Serves at most `connections` connections at once (at least 1).
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// Answers `408` to a request whose body takes longer than `timeout` to arrive.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Closes a connection that has had no request in progress for `timeout`.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the service limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the fault rules of `topic` from start-up (replacing earlier ones for that topic).
    pub fn fault(mut self, topic: impl Into<String>, faults: impl Into<FaultSpec>) -> Self {
        self.faults.insert(topic.into(), faults.into());
        self
    }

    /// Makes the token endpoint accept `client_id` with `client_secret` (and, once any client is
    /// configured, only configured clients).
    pub fn entra_client(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.entra_clients.push(EntraClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        });
        self
    }

    /// Checks what can be checked before start-up: unique topic names, faults naming configured
    /// topics, valid fault rules, at least one connection, time-outs of more than zero and at
    /// most a day, an admin key that is not empty.
    pub fn validate(&self) -> Result<()> {
        if self.max_connections == 0 {
            return Err(Error::InvalidConfig(
                "max_connections must be at least 1".to_owned(),
            ));
        }
        for (name, timeout) in [
            ("body_read_timeout", self.body_read_timeout),
            ("idle_timeout", self.idle_timeout),
        ] {
            // hyper adds the idle time-out to an `Instant` for HTTP/2 pings, which panics past
            // the clock's range; a day is longer than any test waits.
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(Error::InvalidConfig(format!(
                    "{name} is {timeout:?}; it must be more than zero and at most {} s",
                    MAX_TIMEOUT.as_secs()
                )));
            }
        }
        if self.admin_key.as_deref() == Some("") {
            return Err(Error::InvalidConfig("the admin key is empty".to_owned()));
        }
        let mut seen = std::collections::HashSet::new();
        for topic in &self.topics {
            if !seen.insert(topic.name()) {
                return Err(Error::DuplicateTopic(topic.name().to_owned()));
            }
        }
        self.validate_namespace(&mut seen)?;
        for (topic, spec) in &self.faults {
            if !seen.contains(topic.as_str()) {
                return Err(Error::UnknownTopic(topic.clone()));
            }
            spec.validate()?;
        }
        self.push.validate(&self.topics)
    }
}

impl EmulatorConfig {
    /// What a non-loopback address requires and this configuration lacks, as the flags that
    /// add it: anyone who reaches the port could otherwise read, delete and break every topic
    /// through `/_emulator/*`, and get a token every keyed topic accepts.
    pub(crate) fn missing_for_network(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.admin_key.is_none() {
            missing.push("--admin-key KEY (EmulatorConfig::admin_key) to guard /_emulator/*");
        }
        if self.entra_clients.is_empty() {
            missing.push(
                "--entra-client ID=SECRET (EmulatorConfig::entra_client) so that the token \
                 endpoint gives tokens only to those clients",
            );
        }
        missing
    }
}
