//! Every event subscription of a running emulator, by topic: created (each with its worker task)
//! from the configuration or at run time, removed at run time, and offered each accepted event.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use bytes::Bytes;
use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use super::client::DeliveryClient;
use super::config::PushConfig;
use super::dead_letter::DeadLetter;
use super::log::{DeliveryAttempt, DeliveryLog};
use super::state::{Queued, Subscription, SubscriptionInfo, SubscriptionState};
use super::subscription::WebhookSubscription;
use super::worker;
use crate::config::topic::Schema;

/// Events one subscription holds at most (queued, in delivery, waiting for a retry); beyond,
/// new events are dropped for it and counted.
pub(crate) const DEFAULT_QUEUE_CAPACITY: usize = 10_000;
/// Bytes of event text one subscription holds at most, the same way.
pub(crate) const DEFAULT_QUEUE_CAPACITY_BYTES: usize = 64 * 1024 * 1024;

/// Most event subscriptions one topic may have (the service's limit), which also bounds the
/// tasks and queues the control API can create.
pub(crate) const MAX_SUBSCRIPTIONS_PER_TOPIC: usize = 500;

/// What every worker shares.
#[derive(Debug)]
pub(crate) struct PushContext {
    pub client: DeliveryClient,
    pub time_scale: f64,
    pub log: DeliveryLog,
}

struct Entry {
    subscription: Arc<Subscription>,
    task: AbortHandle,
}

/// The subscriptions of one emulator.
pub(crate) struct PushRegistry {
    context: Arc<PushContext>,
    queue_capacity: usize,
    queue_capacity_bytes: usize,
    /// `scheme://host:port` for validation URLs.
    base_url: String,
    /// Where the control API's dead-letter folders must lie (absolute).
    dead_letter_root: PathBuf,
    /// `None` for an in-process emulator, which has no subscriptions.
    runtime: Option<Handle>,
    by_topic: RwLock<HashMap<String, Vec<Entry>>>,
    /// Whether any subscription exists: publishing checks this first.
    any: AtomicBool,
}

impl std::fmt::Debug for PushRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushRegistry")
            .field("subscriptions", &self.list().len())
            .finish_non_exhaustive()
    }
}

impl Drop for PushRegistry {
    fn drop(&mut self) {
        self.stop_all();
    }
}

impl PushRegistry {
    /// A registry whose workers run on the current tokio runtime (if any), keeping up to
    /// `retain` attempts (at most 1,000) and dead letters (of `retain_bytes` together). `config`
    /// has been validated.
    pub(crate) fn new(
        config: &PushConfig,
        retain: usize,
        retain_bytes: usize,
        base_url: String,
    ) -> Result<Self, String> {
        let extra_ca = match &config.webhook_ca_certificate {
            Some(path) => Some(std::fs::read(path).map_err(|error| {
                format!(
                    "cannot read the webhook CA certificate {}: {error}",
                    path.display()
                )
            })?),
            None => None,
        };
        let client = DeliveryClient::new(extra_ca.as_deref(), config.delivery_timeout)?;
        let dead_letter_root = match &config.dead_letter_root {
            Some(root) => std::path::absolute(root),
            None => std::env::current_dir(),
        }
        .map_err(|error| format!("cannot resolve the dead-letter root: {error}"))?;
        Ok(Self {
            context: Arc::new(PushContext {
                client,
                time_scale: config.retry_time_scale,
                log: DeliveryLog::new(retain, retain_bytes),
            }),
            queue_capacity: config.queue_capacity.max(1),
            queue_capacity_bytes: config.queue_capacity_bytes,
            base_url,
            dead_letter_root,
            runtime: Handle::try_current().ok(),
            by_topic: RwLock::new(HashMap::new()),
            any: AtomicBool::new(false),
        })
    }

    /// The folder the control API's dead-letter folders must lie under (absolute).
    pub(crate) fn dead_letter_root(&self) -> &Path {
        &self.dead_letter_root
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Vec<Entry>>> {
        self.by_topic
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, Vec<Entry>>> {
        self.by_topic
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates the subscription on a topic of schema `topic_schema` and starts its handshake
    /// (or deliveries, when validation is off). Fails for a name already taken on the topic or
    /// an impossible schema.
    pub(crate) fn add(
        &self,
        spec: WebhookSubscription,
        topic_schema: Schema,
    ) -> Result<SubscriptionInfo, String> {
        spec.validate()?;
        let delivery_schema = spec.resolve_schema(topic_schema)?;
        let mut by_topic = self.write();
        let entries = by_topic.entry(spec.topic().to_owned()).or_default();
        if entries.iter().any(|entry| {
            entry
                .subscription
                .spec
                .name()
                .eq_ignore_ascii_case(spec.name())
        }) {
            return Err(format!(
                "topic `{}` already has a subscription named `{}`",
                spec.topic(),
                spec.name()
            ));
        }
        if entries.len() >= MAX_SUBSCRIPTIONS_PER_TOPIC {
            return Err(format!(
                "topic `{}` already has {MAX_SUBSCRIPTIONS_PER_TOPIC} subscriptions, the most a topic may have",
                spec.topic()
            ));
        }
        let (subscription, queue) = Subscription::new(
            spec,
            topic_schema,
            delivery_schema,
            &self.base_url,
            self.queue_capacity,
            self.queue_capacity_bytes,
        );
        let subscription = Arc::new(subscription);
        let runtime = self
            .runtime
            .as_ref()
            .ok_or("push delivery needs an emulator started on a tokio runtime")?;
        let task = runtime
            .spawn(worker::run(
                Arc::clone(&subscription),
                Arc::clone(&self.context),
                queue,
            ))
            .abort_handle();
        let info = subscription.info();
        entries.push(Entry { subscription, task });
        self.any.store(true, Ordering::Release);
        Ok(info)
    }

    /// Removes the subscription and stops its worker (events it held are forgotten); with
    /// `notify`, a validated endpoint is sent the `SubscriptionDeletion` event, as the service
    /// does when a subscription is deleted (not when it is replaced). `false` when there is no
    /// such subscription.
    pub(crate) fn remove(&self, topic: &str, name: &str, notify: bool) -> bool {
        let mut by_topic = self.write();
        let Some(entries) = by_topic.get_mut(topic) else {
            return false;
        };
        let Some(index) = entries
            .iter()
            .position(|entry| entry.subscription.spec.name().eq_ignore_ascii_case(name))
        else {
            return false;
        };
        let removed = entries.remove(index);
        removed.task.abort();
        let any = by_topic.values().any(|entries| !entries.is_empty());
        self.any.store(any, Ordering::Release);
        if notify
            && removed.subscription.state() == SubscriptionState::Active
            && let Some(runtime) = &self.runtime
        {
            runtime.spawn(worker::announce_deletion(
                removed.subscription,
                Arc::clone(&self.context),
            ));
        }
        true
    }

    /// Stops every worker (at shutdown).
    pub(crate) fn stop_all(&self) {
        let mut by_topic = self.write();
        for entry in by_topic.values().flatten() {
            entry.task.abort();
        }
        by_topic.clear();
        self.any.store(false, Ordering::Release);
    }

    /// Whether the topic has subscriptions (so publishing keeps the events' texts).
    pub(crate) fn has_subscriptions(&self, topic: &str) -> bool {
        self.any.load(Ordering::Acquire)
            && self
                .read()
                .get(topic)
                .is_some_and(|entries| !entries.is_empty())
    }

    /// Offers accepted events to the topic's subscriptions; never waits.
    pub(crate) fn publish(&self, topic: &str, events: impl Iterator<Item = Bytes>) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let by_topic = self.read();
        let Some(entries) = by_topic.get(topic).filter(|entries| !entries.is_empty()) else {
            return;
        };
        let (published_at, publish_time) = (Instant::now(), OffsetDateTime::now_utc());
        for text in events {
            for entry in entries {
                entry.subscription.offer(Queued {
                    text: text.clone(),
                    published_at,
                    publish_time,
                });
            }
        }
    }

    /// Every subscription, by topic then creation order.
    pub(crate) fn list(&self) -> Vec<SubscriptionInfo> {
        let by_topic = self.read();
        let mut topics: Vec<&String> = by_topic.keys().collect();
        topics.sort();
        topics
            .into_iter()
            .flat_map(|topic| {
                by_topic[topic]
                    .iter()
                    .map(|entry| entry.subscription.info())
            })
            .collect()
    }

    pub(crate) fn get(&self, topic: &str, name: &str) -> Option<SubscriptionInfo> {
        self.read().get(topic)?.iter().find_map(|entry| {
            let spec = &entry.subscription.spec;
            spec.name()
                .eq_ignore_ascii_case(name)
                .then(|| entry.subscription.info())
        })
    }

    /// A GET of a validation URL: `id` is the subscription's validation code.
    pub(crate) fn visit_validation_url(
        &self,
        name: &str,
        id: &str,
    ) -> Result<SubscriptionInfo, String> {
        let by_topic = self.read();
        let subscription = by_topic
            .values()
            .flatten()
            .map(|entry| &entry.subscription)
            .find(|subscription| {
                subscription.spec.name().eq_ignore_ascii_case(name)
                    && subscription.validation_code.eq_ignore_ascii_case(id)
            })
            .ok_or_else(|| {
                format!("no subscription `{name}` is waiting for validation code `{id}`")
            })?;
        subscription.visit_validation_url()?;
        Ok(subscription.info())
    }

    /// Delivery attempts, oldest first, of one topic and subscription when given.
    pub(crate) fn attempts(
        &self,
        topic: Option<&str>,
        subscription: Option<&str>,
    ) -> Vec<DeliveryAttempt> {
        self.context.log.attempts.list(|attempt| {
            topic.is_none_or(|topic| attempt.topic == topic)
                && subscription.is_none_or(|name| attempt.subscription.eq_ignore_ascii_case(name))
        })
    }

    /// Dead letters, oldest first, of one topic and subscription when given.
    pub(crate) fn dead_letters(
        &self,
        topic: Option<&str>,
        subscription: Option<&str>,
    ) -> Vec<DeadLetter> {
        self.context.log.dead_letters.list(|dead_letter| {
            topic.is_none_or(|topic| dead_letter.topic == topic)
                && subscription
                    .is_none_or(|name| dead_letter.subscription.eq_ignore_ascii_case(name))
        })
    }

    /// Forgets the attempts and dead letters listed so far.
    pub(crate) fn clear_log(&self) {
        self.context.log.attempts.clear();
        self.context.log.dead_letters.clear();
    }
}
