//! [`EmulatorControl`]: URLs, inspection and fault injection of a running emulator, from Rust.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::jwt::EVENT_GRID_AUDIENCE;
use crate::error::Result;
use crate::faults::FaultSpec;
use crate::store::shared::Shared;
use crate::store::{RecordedRequest, TopicCounters, TopicState};

/// URLs, inspection and fault injection of a running emulator. Cheap to clone; every method is
/// synchronous and safe to call from async code.
///
/// Methods taking a topic name panic when the emulator has no such topic: that is a mistake in
/// the calling test, not a condition to handle.
#[derive(Clone)]
pub struct EmulatorControl {
    pub(crate) shared: Arc<Shared>,
    pub(crate) local_addr: SocketAddr,
    pub(crate) ca_pem: Option<Arc<str>>,
    pub(crate) ca_path: Option<PathBuf>,
}

impl fmt::Debug for EmulatorControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorControl")
            .field("base_url", &self.shared.base_url)
            .field("topics", &self.shared.topic_order)
            .finish_non_exhaustive()
    }
}

impl EmulatorControl {
    /// `http://127.0.0.1:PORT` (or `https://` with TLS), without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The address the emulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The topic's endpoint, `{base_url}/{topic}/api/events` (clients add `?api-version=`).
    pub fn topic_endpoint(&self, topic: &str) -> String {
        format!("{}/{topic}/api/events", self.shared.base_url)
    }

    /// The configured topic names, in configuration order.
    pub fn topic_names(&self) -> Vec<String> {
        self.shared.topic_order.clone()
    }

    /// The CA certificate (PEM) that clients must trust, when serving HTTPS.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The file holding [`ca_certificate_pem`](Self::ca_certificate_pem), when serving HTTPS.
    pub fn ca_certificate_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// The authority host to give Microsoft Entra credentials (for `azure_identity`, the
    /// `authority_host` of a custom cloud configuration): the same as
    /// [`base_url`](Self::base_url). Credentials demand HTTPS, so start with TLS.
    pub fn authority_host(&self) -> &str {
        &self.shared.base_url
    }

    /// The client-credentials token endpoint for `tenant`: `{base_url}/{tenant}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.shared.base_url)
    }

    /// A bearer token for Event Grid, valid for an hour, as the token endpoint would issue it.
    pub fn bearer_token(&self) -> String {
        let issuer = format!("{}/emulator/v2.0", self.shared.base_url);
        self.shared.tokens.issue(
            EVENT_GRID_AUDIENCE,
            &issuer,
            "emulator",
            "eventgrid-emulator",
            OffsetDateTime::now_utc(),
        )
    }

    /// The events the topic kept, oldest first, parsed.
    pub fn events(&self, topic: &str) -> Vec<serde_json::Value> {
        self.topic(topic)
            .events()
            .iter()
            .map(|event| crate::inspection::delivery::parsed(event))
            .collect()
    }

    /// The events the topic kept, oldest first, as Event Grid would deliver them to a
    /// subscriber: Event Grid schema events get the topic's resource id in `topic` (unless they
    /// name one) and `metadataVersion: "1"`.
    pub fn delivered_events(&self, topic: &str) -> Vec<serde_json::Value> {
        let state = self.topic(topic);
        state
            .events()
            .iter()
            .map(|event| {
                crate::inspection::delivery::as_delivered(state.spec.schema(), topic, event)
            })
            .collect()
    }

    /// The events the topic kept, oldest first, byte for byte as received.
    pub fn event_texts(&self, topic: &str) -> Vec<String> {
        self.topic(topic)
            .events()
            .iter()
            .map(|event| String::from_utf8_lossy(event).into_owned())
            .collect()
    }

    /// The newest requests to the topic (method, path, redacted headers, status, event count).
    pub fn requests(&self, topic: &str) -> Vec<RecordedRequest> {
        self.topic(topic).records()
    }

    /// The topic's counters.
    pub fn counters(&self, topic: &str) -> TopicCounters {
        self.topic(topic).counters()
    }

    /// Forgets the topic's events and request records and zeroes its counters (its fault rules
    /// stay).
    pub fn clear(&self, topic: &str) {
        self.topic(topic).clear();
    }

    /// Replaces the topic's fault rules. Fails for an unknown topic or invalid rules.
    pub fn set_fault(&self, topic: &str, faults: impl Into<FaultSpec>) -> Result<()> {
        let faults = faults.into();
        faults.validate()?;
        self.shared.topic(topic)?.set_faults(Some(faults));
        Ok(())
    }

    /// The topic's fault rules, if any.
    pub fn faults(&self, topic: &str) -> Option<FaultSpec> {
        self.topic(topic).faults()
    }

    /// Removes the topic's fault rules.
    pub fn clear_faults(&self, topic: &str) {
        self.topic(topic).set_faults(None);
    }

    /// Removes every topic's fault rules (namespace topics' too).
    pub fn clear_all_faults(&self) {
        self.shared
            .topics
            .values()
            .for_each(|topic| topic.set_faults(None));
        self.shared
            .namespace
            .topics
            .values()
            .for_each(|topic| topic.set_faults(None));
    }

    fn topic(&self, name: &str) -> &TopicState {
        match self.shared.topics.get(name) {
            Some(topic) => topic,
            None => panic!("unknown topic `{name}`;{}", self.shared.topic_hint()),
        }
    }
}
