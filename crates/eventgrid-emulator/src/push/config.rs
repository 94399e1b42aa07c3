//! Push delivery's part of [`EmulatorConfig`]: the subscriptions from start-up, the time scale of
//! the retry schedule, the delivery time-out, the extra CA for https subscribers, and the
//! per-topic ports of AzureEventGridSimulator's settings.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::registry::{DEFAULT_QUEUE_CAPACITY, DEFAULT_QUEUE_CAPACITY_BYTES};
use super::simulator_settings;
use super::subscription::WebhookSubscription;
use crate::config::EmulatorConfig;
use crate::config::topic::TopicSpec;
use crate::error::{Error, Result};

/// The largest [`PushConfig::retry_time_scale`]: a day's time-to-live becomes about three years.
const MAX_RETRY_TIME_SCALE: f64 = 1000.0;

/// How the emulator pushes events to webhooks. See `docs/emulator.md`, "Push delivery".
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PushConfig {
    /// Event subscriptions created at start-up.
    pub subscriptions: Vec<WebhookSubscription>,
    /// Multiplies every time of the service's delivery rules: the retry schedule (10 s, 30 s,
    /// 1 min, ...), the per-status minimum waits, the event time-to-live and the handshake's
    /// waits (5 s between attempts, 10 min for a GET of the validation URL). Default 1.0; tests
    /// use 0.001 so that a 10 s retry comes after 10 ms.
    pub retry_time_scale: f64,
    /// How long a subscriber has to answer one request (default: the service's 30 s). Not
    /// scaled.
    pub delivery_timeout: Duration,
    /// A PEM file of CA certificates trusted for https subscribers besides the public roots.
    pub webhook_ca_certificate: Option<PathBuf>,
    /// Events each subscription holds at most (queued, in delivery or waiting for a retry);
    /// beyond, new events are dropped for it and counted, so a slow subscriber never slows
    /// publishing (default 10,000).
    pub queue_capacity: usize,
    /// Bytes of published event text each subscription holds at most, the same way (default
    /// 64 MiB).
    pub queue_capacity_bytes: usize,
    /// Topics also served on a port of their own at `/api/events`, as AzureEventGridSimulator
    /// serves them.
    pub topic_ports: BTreeMap<String, u16>,
    /// The folder under which the control API's subscriptions may write dead letters (their
    /// `deadLetterFolder` is taken relative to it; `..` and absolute paths outside it are
    /// refused); default: the working directory at start. Folders from the configuration, the
    /// command line and Rust are the operator's and go where they say.
    pub dead_letter_root: Option<PathBuf>,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            subscriptions: Vec::new(),
            retry_time_scale: 1.0,
            delivery_timeout: Duration::from_secs(30),
            webhook_ca_certificate: None,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            queue_capacity_bytes: DEFAULT_QUEUE_CAPACITY_BYTES,
            topic_ports: BTreeMap::new(),
            dead_letter_root: None,
        }
    }
}

impl PushConfig {
    /// Checks subscriptions against `topics`, and the settings' ranges.
    pub(crate) fn validate(&self, topics: &[TopicSpec]) -> Result<()> {
        // Above the maximum, the scaled waits (12 h, a day's time-to-live) would overflow the
        // clock when added to an `Instant`.
        if !(self.retry_time_scale > 0.0 && self.retry_time_scale <= MAX_RETRY_TIME_SCALE) {
            return Err(Error::InvalidSubscription {
                subscription: "*".to_owned(),
                reason: format!(
                    "the retry time scale must be a positive number at most {MAX_RETRY_TIME_SCALE}, not {}",
                    self.retry_time_scale
                ),
            });
        }
        if self.delivery_timeout.is_zero() {
            return Err(Error::InvalidSubscription {
                subscription: "*".to_owned(),
                reason: "the delivery time-out must be more than zero".to_owned(),
            });
        }
        if let Some(root) = &self.dead_letter_root
            && root
                .components()
                .any(|component| component == std::path::Component::ParentDir)
        {
            return Err(Error::InvalidConfig(format!(
                "the dead-letter root {} contains `..`; give it without",
                root.display()
            )));
        }
        let mut seen = HashSet::new();
        for spec in &self.subscriptions {
            let invalid = |reason: String| Error::InvalidSubscription {
                subscription: format!("{}/{}", spec.topic(), spec.name()),
                reason,
            };
            let topic = topics
                .iter()
                .find(|topic| topic.name() == spec.topic())
                .ok_or_else(|| invalid(format!("topic `{}` is not configured", spec.topic())))?;
            spec.validate().map_err(invalid)?;
            spec.resolve_schema(topic.schema()).map_err(invalid)?;
            if !seen.insert((spec.topic(), spec.name().to_ascii_lowercase())) {
                return Err(invalid("the name is used twice on the topic".to_owned()));
            }
        }
        let mut ports = HashSet::new();
        for (topic, port) in &self.topic_ports {
            if !topics.iter().any(|spec| spec.name() == topic) {
                return Err(Error::UnknownTopic(topic.clone()));
            }
            if *port != 0 && !ports.insert(*port) {
                return Err(Error::InvalidTopic {
                    topic: topic.clone(),
                    reason: format!("port {port} is given to two topics"),
                });
            }
        }
        Ok(())
    }

    /// Gives the subscriptions from `--webhook TOPIC=URL` that kept the default name distinct
    /// names per topic: `webhook`, `webhook-2`, ...
    pub(crate) fn name_unnamed_webhooks(&mut self) {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for spec in &mut self.subscriptions {
            if spec.name() != super::subscription::DEFAULT_NAME {
                continue;
            }
            let count = counts.entry(spec.topic().to_owned()).or_default();
            *count += 1;
            if *count > 1 {
                let name = format!("{}-{count}", super::subscription::DEFAULT_NAME);
                *spec = spec.clone().renamed(name);
            }
        }
    }
}

impl EmulatorConfig {
    /// Adds an event subscription created at start-up.
    pub fn webhook(mut self, spec: WebhookSubscription) -> Self {
        self.push.subscriptions.push(spec);
        self
    }

    /// Multiplies the times of the delivery rules (see [`PushConfig::retry_time_scale`]).
    pub fn retry_time_scale(mut self, factor: f64) -> Self {
        self.push.retry_time_scale = factor;
        self
    }

    /// Sets how long a subscriber has to answer one request.
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.push.delivery_timeout = timeout;
        self
    }

    /// Trusts the CA certificates of the PEM file `path` for https subscribers.
    pub fn webhook_ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.push.webhook_ca_certificate = Some(path.into());
        self
    }

    /// Confines the dead-letter folders of subscriptions created through the control API to
    /// `root` (see [`PushConfig::dead_letter_root`]).
    pub fn dead_letter_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.push.dead_letter_root = Some(root.into());
        self
    }

    /// Also serves `topic` on `port` at `/api/events` (0 picks a free port).
    pub fn topic_port(mut self, topic: impl Into<String>, port: u16) -> Self {
        self.push.topic_ports.insert(topic.into(), port);
        self
    }

    /// Reads AzureEventGridSimulator's settings file (`appsettings.json`): its topics (each on
    /// its own port, with its key) and http subscribers (filters, retry policy, dead-letter
    /// folder, `disableValidation`) are added to this configuration. Serve it with TLS for the
    /// simulator's `https://localhost:PORT/api/events` URLs. Service Bus and Storage Queue
    /// subscribers are reported on standard error and skipped.
    pub fn simulator_settings(self, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file_error = |message: String| Error::ConfigFile {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|error| file_error(error.to_string()))?;
        let (config, warnings) = self.simulator_settings_text(&text).map_err(file_error)?;
        for warning in &warnings {
            eprintln!("warning: {}: {warning}", path.display());
        }
        Ok(config)
    }

    /// [`simulator_settings`](Self::simulator_settings) of the file's text; also returns the
    /// warnings about the parts that are skipped.
    pub(crate) fn simulator_settings_text(
        mut self,
        text: &str,
    ) -> std::result::Result<(Self, Vec<String>), String> {
        let settings = simulator_settings::parse(text)?;
        for topic in settings.topics {
            self.push
                .topic_ports
                .insert(topic.spec.name().to_owned(), topic.port);
            self.topics.push(topic.spec);
        }
        self.push.subscriptions.extend(settings.subscriptions);
        Ok((self, settings.warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_must_name_configured_topics_and_possible_schemas() {
        let config = EmulatorConfig::new()
            .topic(TopicSpec::open("orders"))
            .webhook("other=http://127.0.0.1:9/".parse().unwrap());
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("topic `other` is not configured"), "{error}");
        let config = EmulatorConfig::new()
            .topic(TopicSpec::open("ce").with_schema(crate::Schema::CloudEvents))
            .webhook(
                "ce=http://127.0.0.1:9/"
                    .parse::<WebhookSubscription>()
                    .unwrap()
                    .delivery_schema(crate::Schema::EventGrid),
            );
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("cannot deliver")
        );
        for factor in [0.0, f64::NAN, 1e300] {
            let error = EmulatorConfig::new()
                .retry_time_scale(factor)
                .validate()
                .unwrap_err()
                .to_string();
            assert!(error.contains("positive number at most 1000"), "{error}");
        }
    }

    #[test]
    fn unnamed_webhooks_get_distinct_names() {
        let mut push = PushConfig::default();
        for spec in [
            "a=http://x/",
            "a=http://y/",
            "b=http://z/",
            "a/named=http://w/",
        ] {
            push.subscriptions.push(spec.parse().unwrap());
        }
        push.name_unnamed_webhooks();
        let names: Vec<_> = push
            .subscriptions
            .iter()
            .map(|s| (s.topic(), s.name()))
            .collect();
        assert_eq!(
            names,
            [
                ("a", "webhook"),
                ("a", "webhook-2"),
                ("b", "webhook"),
                ("a", "named")
            ]
        );
        let config = EmulatorConfig::new()
            .topic(TopicSpec::open("a"))
            .webhook("a=http://x/".parse().unwrap())
            .webhook("a=http://y/".parse().unwrap());
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("used twice")
        );
    }

    #[test]
    fn simulator_settings_become_topics_ports_and_subscriptions() {
        let path = std::env::temp_dir().join(format!("simulator-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(
            &path,
            r#"{"topics":[{"name":"t1","port":60101,"key":"k","subscribers":{"http":[
                {"name":"sub","endpoint":"http://127.0.0.1:9/","disableValidation":true}]}}]}"#,
        )
        .unwrap();
        let config = EmulatorConfig::new().simulator_settings(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(config.topics[0].name(), "t1");
        assert_eq!(config.push.topic_ports["t1"], 60101);
        assert_eq!(config.push.subscriptions[0].name(), "sub");
        config.validate().unwrap();
        let missing = EmulatorConfig::new().simulator_settings("/nonexistent/appsettings.json");
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/appsettings.json")
        );
    }

    #[test]
    fn the_documented_configuration_file_parses() {
        let docs = include_str!("../../../../docs/emulator.md");
        let start = docs
            .find("retry_time_scale = 1.0")
            .expect("the documented file");
        let end = start + docs[start..].find("```").expect("its end");
        let text = format!("topics = [\"orders\"]\n{}", &docs[start..end]);
        let config =
            crate::config::file::parse(&text, false).unwrap_or_else(|error| panic!("{error}"));
        let spec = &config.push.subscriptions[0];
        assert_eq!((spec.topic(), spec.name()), ("orders", "billing"));
        assert_eq!(spec.event_filter.advanced_filters.len(), 2);
        assert_eq!(spec.retry_policy.max_delivery_attempts, 5);
        assert_eq!(spec.batching.max_events_per_batch, 10);
        assert_eq!(config.push.delivery_timeout, Duration::from_secs(30));
    }
}
