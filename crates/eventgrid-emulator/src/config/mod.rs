//! Everything the emulator is started with.

pub(crate) mod file;
pub(crate) mod topic;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::topic::TopicSpec;
use crate::error::{Error, Result};
use crate::faults::FaultSpec;

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
#[derive(Debug, Clone, PartialEq)]
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
    /// Size and count limits.
    pub limits: Limits,
    /// Fault rules active from start-up, per topic name.
    pub faults: BTreeMap<String, FaultSpec>,
    /// Clients the token endpoint accepts; when empty (the default) it accepts any client id
    /// with a non-empty secret.
    pub entra_clients: Vec<EntraClient>,
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
            limits: Limits::default(),
            faults: BTreeMap::new(),
            entra_clients: Vec::new(),
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
    /// topics, valid fault rules.
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for topic in &self.topics {
            if !seen.insert(topic.name()) {
                return Err(Error::DuplicateTopic(topic.name().to_owned()));
            }
        }
        for (topic, spec) in &self.faults {
            if !seen.contains(topic.as_str()) {
                return Err(Error::UnknownTopic(topic.clone()));
            }
            spec.validate()?;
        }
        Ok(())
    }
}
