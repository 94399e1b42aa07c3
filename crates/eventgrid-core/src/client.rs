//! The state both clients share: the topics (changeable at run time), credentials, options and
//! metrics. The clients wrap a [`ClientCore`] and add only sending and sleeping.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use http::HeaderValue;

use crate::auth::KeyAuthorizer;
use crate::auth::KeyCredential;
use crate::batch::{BatchStream, EncodedBatch, encode_all};
use crate::cloud_event::CloudEvent;
use crate::config::Schema;
use crate::config::{EventGridConfig, EventGridTopicConfig};
use crate::credential::Credential;
use crate::delivery::Publish;
use crate::engine::{Authorizer, Exchange, Operation};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::event_chunks::EventChunks;
use crate::event_ref::EventGridEventRef;
use crate::limits::{Limits, NAMESPACE_MAX_EVENTS_PER_REQUEST, NAMESPACE_MAX_REQUEST_BYTES};
use crate::metrics::{MetricsRegistry, TopicCounters, TopicMetrics};
use crate::options::ClientOptions;
use crate::request::{RequestTemplate, refuse_plain_http, user_agent};
use crate::retry::{Jitter, RetryOptions};
use crate::send_plan::SendPlan;
use crate::token_cache::TokenCache;

/// One configured topic, ready to publish to.
#[derive(Debug)]
pub struct Topic {
    config: EventGridTopicConfig,
    template: RequestTemplate,
    authorizer: Authorizer,
    counters: Arc<TopicCounters>,
    limits: Limits,
}

impl Topic {
    /// The topic's name.
    pub fn name(&self) -> &str {
        self.config.name()
    }

    /// The topic's configuration.
    pub fn config(&self) -> &EventGridTopicConfig {
        &self.config
    }

    /// The topic's metric counters.
    pub fn counters(&self) -> &TopicCounters {
        &self.counters
    }

    /// How the topic's requests are authenticated.
    pub fn authorizer(&self) -> &Authorizer {
        &self.authorizer
    }

    /// The batch limits of the topic's requests: the client's, within a namespace's when it
    /// is a namespace topic.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Refuses events of another schema than the topic's.
    pub fn check_schema<E: Event>(&self) -> Result<()> {
        self.check_schema_of(E::SCHEMA)
    }

    /// Refuses events of `given` schema unless it is the topic's (a namespace topic names
    /// itself as such in the error).
    pub fn check_schema_of(&self, given: Schema) -> Result<()> {
        if given == self.config.schema() {
            Ok(())
        } else if self.config.is_namespace() {
            Err(Error::NotForNamespace {
                topic: self.name().to_owned(),
                what: format!("{given} events (CloudEvents only)"),
            })
        } else {
            Err(Error::SchemaMismatch {
                topic: self.name().to_owned(),
                expected: self.config.schema(),
                given,
            })
        }
    }

    /// The request template (URL, content type, fixed headers).
    pub fn template(&self) -> &RequestTemplate {
        &self.template
    }
}

/// Everything a client knows except how to send bytes.
///
/// ```
/// use eventgrid_core::{ClientOptions, Credential, EventGridConfig, EventGridEvent, EventGridTopicConfig};
/// use eventgrid_core::frontend::{ClientCore};
/// let config = EventGridConfig::new([EventGridTopicConfig::new("user-events", "http://127.0.0.1:9/user-events")?])?;
/// let core = ClientCore::new(config, &Credential::None, ClientOptions::default())?;
/// let event = EventGridEvent::new("user.created", "users/1", serde_json::json!({"id": 1}))?;
/// let (topic, batches) = core.prepare("user-events", [event])?;
/// assert_eq!(topic.name(), "user-events");
/// assert_eq!(batches.len(), 1);
/// assert!(core.prepare("nope", Vec::<EventGridEvent>::new()).is_err());
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug)]
pub struct ClientCore {
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    credential: Credential,
    tokens: Option<Arc<TokenCache>>,
    options: ClientOptions,
    user_agent: HeaderValue,
    metrics: MetricsRegistry,
    jitter: AtomicU64,
    /// Set once a namespace topic is added, never cleared: while unset, no topic needs the
    /// namespace's CloudEvents, which single emits can know without the topics' lock.
    namespace_topics: AtomicBool,
}

impl ClientCore {
    /// A core for `config`'s topics, with the client-wide `credential` and `options`. Invalid
    /// options, a bad user agent suffix, or a credential that would cross plain http to a
    /// remote host are refused here.
    pub fn new(
        config: EventGridConfig,
        credential: &Credential,
        options: ClientOptions,
    ) -> Result<Self> {
        options.validate()?;
        let tokens = credential
            .token_credential()
            .map(|credential| TokenCache::new(credential.clone(), options.token_timeout));
        let core = Self {
            topics: RwLock::new(HashMap::new()),
            credential: credential.clone(),
            tokens,
            user_agent: user_agent(options.user_agent_suffix.as_deref())?,
            jitter: AtomicU64::new(
                options
                    .jitter_seed
                    .unwrap_or_else(|| Jitter::random().next_fraction().to_bits()),
            ),
            options,
            metrics: MetricsRegistry::default(),
            namespace_topics: AtomicBool::new(false),
        };
        for topic in config.topics() {
            core.add_topic(topic.clone())?;
        }
        Ok(core)
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Adds a topic at run time; a name already present is refused.
    pub fn add_topic(&self, config: EventGridTopicConfig) -> Result<()> {
        let topic = Arc::new(self.make_topic(config)?);
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        if topics.contains_key(topic.name()) {
            return Err(Error::InvalidTopic {
                topic: topic.name().to_owned(),
                reason: "duplicate topic name".to_owned(),
            });
        }
        if topic.config.is_namespace() {
            self.namespace_topics.store(true, Ordering::Release);
        }
        topics.insert(topic.name().to_owned(), topic);
        Ok(())
    }

    /// Removes a topic at run time, returning its configuration. Sends already under way
    /// finish; later ones get [`Error::UnknownTopic`].
    pub fn remove_topic(&self, name: &str) -> Result<EventGridTopicConfig> {
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        match topics.remove(name) {
            Some(topic) => Ok(topic.config.clone()),
            None => Err(unknown(name, &topics)),
        }
    }

    /// The configured topic names, sorted.
    pub fn topics(&self) -> Vec<String> {
        let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
        sorted_names(&topics)
    }

    /// The topic named `name`, or [`Error::UnknownTopic`] listing the configured names.
    pub fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        let topics = self.topics.read().unwrap_or_else(|e| e.into_inner());
        topics
            .get(name)
            .cloned()
            .ok_or_else(|| unknown(name, &topics))
    }

    /// The operation publishing `batch` to `topic`, starting at `now`.
    pub fn publish(
        &self,
        topic: &Arc<Topic>,
        batch: EncodedBatch,
        now: Instant,
    ) -> Operation<Publish> {
        self.operation(Publish::new(topic.clone(), batch), self.options.retry, now)
    }

    /// The operation running `exchange` under `retry`, starting at `now`.
    pub(crate) fn operation<X: Exchange>(
        &self,
        exchange: X,
        retry: RetryOptions,
        now: Instant,
    ) -> Operation<X> {
        // Each operation gets its own jitter stream, derived from the client's seed.
        let seed = self
            .jitter
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        Operation::new(exchange, retry, Jitter::seeded(seed), now)
            .with_attempt_limit(self.options.request_timeout)
    }

    /// Per-topic metrics since the client was made.
    pub fn metrics(&self) -> BTreeMap<String, TopicMetrics> {
        self.metrics.snapshot()
    }

    /// The seed library's `emit_event`: one event of `event_type` about `subject` carrying
    /// `data`, encoded for the topic named `topic`. An EventGridEvent for a basic topic; for a
    /// namespace topic, a CloudEvent from the topic's configured `source`.
    pub fn prepare_emit(
        &self,
        topic: &str,
        event_type: String,
        subject: String,
        data: impl serde::Serialize,
    ) -> Result<(Arc<Topic>, Vec<EncodedBatch>)> {
        match self.namespace_event(topic, &event_type, &subject, &data)? {
            Some(event) => self.prepare(topic, [event]),
            // Borrowed: the data is serialized once, straight into the body.
            None => self.prepare(
                topic,
                [EventGridEventRef::new(&event_type, &subject, &data)],
            ),
        }
    }

    /// Whether a namespace topic was ever added to this client: when not, no topic needs
    /// [`namespace_event`](Self::namespace_event)'s CloudEvent, and a single emit can skip the
    /// topics' lock (a buffered publisher finds the topic once per batch).
    pub fn may_have_namespace_topics(&self) -> bool {
        self.namespace_topics.load(Ordering::Acquire)
    }

    /// The CloudEvent `emit_event` publishes to `topic` when it is a namespace topic (from the
    /// topic's configured `source`); `None` for a basic topic.
    pub fn namespace_event(
        &self,
        topic: &str,
        event_type: &str,
        subject: &str,
        data: &impl serde::Serialize,
    ) -> Result<Option<CloudEvent>> {
        let found = self.topic(topic)?;
        if !found.config.is_namespace() {
            return Ok(None);
        }
        let event = CloudEvent::new(found.config.source(), event_type, data)?;
        Ok(Some(event.with_subject(subject)))
    }

    /// Looks up the topic, checks the events' schema, then validates and encodes all events
    /// into request bodies. Any problem is an error before anything is sent.
    pub fn prepare<E: Event>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<(Arc<Topic>, Vec<EncodedBatch>)> {
        let topic = self.topic(topic)?;
        topic.check_schema::<E>()?;
        let batches = encode_all(events, topic.limits)?;
        Ok((topic, batches))
    }

    /// Looks up the topic, checks the events' schema, then checks and measures every event
    /// and plans the batches without keeping any body (see [`SendPlan`]): `send`'s promise
    /// that nothing is sent when any event is invalid, with each body encoded only as it goes
    /// out.
    pub fn plan<E: Event>(
        &self,
        topic: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<(Arc<Topic>, SendPlan<E>)> {
        let topic = self.topic(topic)?;
        topic.check_schema::<E>()?;
        let plan = SendPlan::new(events, topic.limits)?;
        Ok((topic, plan))
    }

    /// Looks up the topic and checks the schema, returning a [`BatchStream`] that encodes the
    /// events lazily as batches are pulled: for sends of any length in bounded memory. Unlike
    /// [`prepare`](Self::prepare), an invalid event is found only when reached, after the
    /// batches before it may have been sent.
    pub fn stream<E: Event, I: IntoIterator<Item = E>>(
        &self,
        topic: &str,
        events: I,
    ) -> Result<(Arc<Topic>, BatchStream<I::IntoIter>)> {
        let topic = self.topic(topic)?;
        topic.check_schema::<E>()?;
        let limits = topic.limits;
        Ok((topic, BatchStream::new(events, limits)))
    }

    /// Looks up the topic and checks the schema, returning the events as [`EventChunks`]: read
    /// and checked on the caller's thread or task, each chunk to be encoded wherever the front
    /// end likes (a `send_stream` on every core). See [`stream`](Self::stream) for the order
    /// in which errors are found.
    pub fn chunks<E: Event, I: IntoIterator<Item = E>>(
        &self,
        topic: &str,
        events: I,
    ) -> Result<(Arc<Topic>, EventChunks<I::IntoIter>)> {
        let topic = self.topic(topic)?;
        topic.check_schema::<E>()?;
        let limits = topic.limits;
        Ok((topic, EventChunks::new(events, limits)))
    }

    fn make_topic(&self, config: EventGridTopicConfig) -> Result<Topic> {
        let key = config.credential().cloned().or(match &self.credential {
            Credential::Key(key) => Some(key.clone()),
            _ => None,
        });
        let mut limits = self.options.limits;
        if config.is_namespace() {
            refuse_for_namespace(&config, key.as_ref())?;
            limits = limits.within(Limits {
                max_event_bytes: NAMESPACE_MAX_REQUEST_BYTES,
                max_request_bytes: NAMESPACE_MAX_REQUEST_BYTES,
                max_events_per_request: NAMESPACE_MAX_EVENTS_PER_REQUEST,
            });
        }
        let authorizer = match (key, &self.tokens) {
            (Some(key), _) if config.is_namespace() => Authorizer::Key(Box::new(
                KeyAuthorizer::for_namespace(key, config.endpoint().clone()),
            )),
            (Some(key), _) => {
                Authorizer::Key(Box::new(KeyAuthorizer::new(key, config.endpoint().clone())))
            }
            (None, Some(tokens)) => Authorizer::Token(tokens.clone()),
            (None, None) => Authorizer::None,
        };
        if !matches!(authorizer, Authorizer::None) {
            // The same rule every request is held to, refused here once for the topic.
            refuse_plain_http(config.endpoint().publish_uri())?;
        }
        let channel_name = config
            .channel_name()
            .map(|c| {
                HeaderValue::from_str(c).map_err(|_| Error::InvalidTopic {
                    topic: config.name().to_owned(),
                    reason: "channel name is not a valid header value".to_owned(),
                })
            })
            .transpose()?;
        Ok(Topic {
            template: RequestTemplate {
                uri: config.endpoint().publish_uri().clone(),
                schema: config.schema(),
                channel_name,
                user_agent: self.user_agent.clone(),
            },
            authorizer,
            counters: self.metrics.counters(config.name()),
            limits,
            config,
        })
    }
}

/// What a namespace topic's configuration may not hold: events other than CloudEvents, a
/// partner channel, a SAS credential (the service refuses them all).
fn refuse_for_namespace(config: &EventGridTopicConfig, key: Option<&KeyCredential>) -> Result<()> {
    let refuse = |what: &str| {
        Err(Error::NotForNamespace {
            topic: config.name().to_owned(),
            what: what.to_owned(),
        })
    };
    if config.schema() != Schema::CloudEvents {
        return refuse(&format!("{} events (CloudEvents only)", config.schema()));
    }
    if config.channel_name().is_some() {
        return refuse("a partner channel name");
    }
    match key {
        Some(KeyCredential::SasToken(_) | KeyCredential::SasFromKey { .. }) => {
            refuse("SAS tokens (use an access key or a Microsoft Entra ID credential)")
        }
        _ => Ok(()),
    }
}

fn sorted_names(topics: &HashMap<String, Arc<Topic>>) -> Vec<String> {
    let mut names: Vec<String> = topics.keys().cloned().collect();
    names.sort();
    names
}

fn unknown(name: &str, topics: &HashMap<String, Arc<Topic>>) -> Error {
    Error::UnknownTopic {
        name: name.to_owned(),
        configured: sorted_names(topics),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CloudEvent, EventGridEvent, KeyCredential, Schema};

    fn core(auth: Credential) -> ClientCore {
        let config = EventGridConfig::new([
            EventGridTopicConfig::new("a", "https://a.westus2-1.eventgrid.azure.net").unwrap(),
            EventGridTopicConfig::new("ce", "http://localhost:1/ce")
                .unwrap()
                .with_schema(Schema::CloudEvents),
        ])
        .unwrap();
        ClientCore::new(config, &auth, ClientOptions::default()).unwrap()
    }

    #[test]
    fn topics_can_be_added_and_removed_at_run_time() {
        let core = core(Credential::None);
        core.add_topic(EventGridTopicConfig::new("b", "https://b.example.com").unwrap())
            .unwrap();
        assert_eq!(core.topics(), ["a", "b", "ce"]);
        assert!(
            core.add_topic(EventGridTopicConfig::new("b", "https://x").unwrap())
                .is_err()
        );
        core.remove_topic("a").unwrap();
        let err = core.topic("a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown topic `a`; configured topics: b, ce"
        );
        assert!(matches!(
            core.remove_topic("a"),
            Err(Error::UnknownTopic { .. })
        ));
    }

    #[test]
    fn single_emits_know_when_no_topic_is_a_namespace_topic() {
        let core = core(Credential::None);
        assert!(!core.may_have_namespace_topics());
        assert!(core.namespace_event("a", "t", "s", &1).unwrap().is_none());
        let namespace =
            EventGridTopicConfig::namespace("ns", "https://ns.westus-1.eventgrid.azure.net", "o")
                .unwrap();
        core.add_topic(namespace).unwrap();
        assert!(core.may_have_namespace_topics());
        assert!(core.namespace_event("ns", "t", "s", &1).unwrap().is_some());
        // Once seen, always asked: the topic may come back under the same name.
        core.remove_topic("ns").unwrap();
        assert!(core.may_have_namespace_topics());
    }

    #[test]
    fn schema_mismatch_is_refused_before_sending() {
        let core = core(Credential::None);
        let err = core
            .prepare("ce", [EventGridEvent::without_data("t", "s")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "topic `ce` accepts CloudEvents 1.0 events, not EventGridEvent"
        );
        assert!(
            core.prepare("ce", [CloudEvent::without_data("/s", "t")])
                .is_ok()
        );
    }

    #[test]
    fn credentials_never_configured_for_remote_plain_http() {
        let config =
            EventGridConfig::new([
                EventGridTopicConfig::new("remote", "http://example.com").unwrap()
            ])
            .unwrap();
        for credential in [
            Credential::access_key("k"),
            crate::testing::token_credential(),
        ] {
            let err =
                ClientCore::new(config.clone(), &credential, ClientOptions::default()).unwrap_err();
            assert!(matches!(err, Error::InsecureTransport { .. }), "{err}");
        }
        assert!(ClientCore::new(config, &Credential::None, ClientOptions::default()).is_ok());
    }

    #[test]
    fn topic_credential_overrides_client_credential() {
        let core = core(crate::testing::token_credential());
        core.add_topic(
            EventGridTopicConfig::new("keyed", "https://k.example.com")
                .unwrap()
                .with_credential(KeyCredential::access_key("k")),
        )
        .unwrap();
        assert!(matches!(
            core.topic("a").unwrap().authorizer(),
            Authorizer::Token(_)
        ));
        assert!(matches!(
            core.topic("keyed").unwrap().authorizer(),
            Authorizer::Key(_)
        ));
    }
}
