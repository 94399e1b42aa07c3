//! The state shared by every connection of one running emulator.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use crate::auth::admin::AdminKey;
use crate::auth::jwt::TokenAuthority;
use crate::config::{EmulatorConfig, EntraClient, Limits};
use crate::error::{Error, Result};
use crate::namespace::NamespaceState;
use crate::push::registry::PushRegistry;
use crate::serving::body::BodyPool;
use crate::store::TopicState;

/// Everything a request handler needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub topics: HashMap<String, Arc<TopicState>>,
    /// Topic names in configuration order, for listings and messages.
    pub topic_order: Vec<String>,
    pub limits: Limits,
    /// `http` or `https`.
    pub scheme: &'static str,
    pub tokens: TokenAuthority,
    pub entra_clients: Vec<EntraClient>,
    /// Guards `/_emulator/*`.
    pub admin_key: AdminKey,
    /// How long a request body may take to arrive.
    pub body_read_timeout: Duration,
    /// `ip:port` of the listener, for requests without a `Host` header.
    pub fallback_host: String,
    /// `scheme://ip:port`, without a trailing slash.
    pub base_url: String,
    /// Buffers for request bodies, and the budget of the bodies being read and checked.
    pub body_pool: BodyPool,
    /// Serving [`InProcessEmulator`](crate::serving::in_process::InProcessEmulator) calls:
    /// latency faults are decided and counted but not waited for.
    pub in_process: bool,
    /// Namespace topics and their subscriptions.
    pub namespace: NamespaceState,
    /// Event subscriptions, their workers and their delivery log.
    pub push: PushRegistry,
    /// Topics also served on ports of their own (AzureEventGridSimulator's layout), once bound.
    pub topic_addresses: BTreeMap<String, SocketAddr>,
}

/// Spare body buffers kept for reuse: enough for dozens of connections sending large bodies.
const MAX_POOLED_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Bodies being read and checked at once take at most this much memory (about 170 bodies of
/// the largest size); further ones wait for room.
const MAX_LENT_BODY_BYTES: usize = 256 * 1024 * 1024;

impl Shared {
    pub(crate) fn new(config: &EmulatorConfig, fallback_host: String) -> Result<Self> {
        config.validate()?;
        let topics: HashMap<String, Arc<TopicState>> = config
            .topics
            .iter()
            .map(|spec| {
                let state = TopicState::new(spec.clone(), config.retain, config.retain_bytes);
                (spec.name().to_owned(), Arc::new(state))
            })
            .collect();
        let namespace = NamespaceState::new(config);
        for (topic, faults) in &config.faults {
            match topics.get(topic) {
                Some(state) => state.set_faults(Some(faults.clone())),
                None => namespace.topic(topic)?.set_faults(Some(faults.clone())),
            }
        }
        let base_url = format!(
            "{}://{fallback_host}",
            if config.tls { "https" } else { "http" }
        );
        let push = PushRegistry::new(
            &config.push,
            config.retain,
            config.retain_bytes,
            base_url.clone(),
        )
        .map_err(|reason| Error::InvalidSubscription {
            subscription: "*".to_owned(),
            reason,
        })?;
        for spec in &config.push.subscriptions {
            let schema = topics[spec.topic()].spec.schema();
            let name = format!("{}/{}", spec.topic(), spec.name());
            push.add(spec.clone(), schema).map(drop).map_err(|reason| {
                Error::InvalidSubscription {
                    subscription: name,
                    reason,
                }
            })?;
        }
        Ok(Self {
            topics,
            topic_order: config
                .topics
                .iter()
                .map(|spec| spec.name().to_owned())
                .collect(),
            limits: config.limits,
            scheme: if config.tls { "https" } else { "http" },
            tokens: TokenAuthority::generate(),
            entra_clients: config.entra_clients.clone(),
            admin_key: AdminKey::new(config.admin_key.clone()),
            body_read_timeout: config.body_read_timeout,
            base_url,
            fallback_host,
            body_pool: BodyPool::new(MAX_POOLED_BODY_BYTES, MAX_LENT_BODY_BYTES),
            in_process: false,
            namespace,
            push,
            topic_addresses: BTreeMap::new(),
        })
    }

    pub(crate) fn topic(&self, name: &str) -> Result<&Arc<TopicState>> {
        self.topics
            .get(name)
            .ok_or_else(|| Error::UnknownTopic(name.to_owned()))
    }

    /// `; configured topics: a, b` for not-found messages.
    pub(crate) fn topic_hint(&self) -> String {
        if self.topic_order.is_empty() {
            " The emulator has no topics configured.".to_owned()
        } else {
            format!(" Configured topics: {}.", self.topic_order.join(", "))
        }
    }
}
