//! Namespace topics and subscriptions in [`EmulatorConfig`]: builder methods, checks, and their
//! configuration-file forms.

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::config::EmulatorConfig;
use crate::error::{Error, Result};
use crate::namespace::spec::{NamespaceTopicSpec, SubscriptionSpec};

impl EmulatorConfig {
    /// Adds a namespace topic, served at `/topics/{name}:publish`.
    pub fn namespace_topic(mut self, topic: NamespaceTopicSpec) -> Self {
        self.namespace_topics.push(topic);
        self
    }

    /// Adds a queue subscription to a namespace topic.
    pub fn subscription(mut self, subscription: SubscriptionSpec) -> Self {
        self.subscriptions.push(subscription);
        self
    }

    /// Checks namespace topics (names unique among all topics, recorded in `names`) and
    /// subscriptions (unique per topic, naming a namespace topic, values in range).
    pub(crate) fn validate_namespace<'a>(&'a self, names: &mut HashSet<&'a str>) -> Result<()> {
        for topic in &self.namespace_topics {
            if !names.insert(topic.name()) {
                return Err(Error::DuplicateTopic(topic.name().to_owned()));
            }
        }
        let mut subscriptions = HashSet::new();
        for subscription in &self.subscriptions {
            if !self
                .namespace_topics
                .iter()
                .any(|topic| topic.name() == subscription.topic())
            {
                return Err(Error::InvalidConfig(format!(
                    "subscription `{}/{}` names no namespace topic (add --namespace-topic {})",
                    subscription.topic(),
                    subscription.name(),
                    subscription.topic()
                )));
            }
            if !subscriptions.insert((subscription.topic(), subscription.name())) {
                return Err(Error::InvalidConfig(format!(
                    "subscription `{}/{}` is configured twice",
                    subscription.topic(),
                    subscription.name()
                )));
            }
            subscription.validate()?;
        }
        Ok(())
    }
}

/// A namespace topic in a file: the command line's `NAME[=KEY]` text.
pub(crate) struct FileNamespaceTopic(pub NamespaceTopicSpec);

impl<'de> Deserialize<'de> for FileNamespaceTopic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map(FileNamespaceTopic)
            .map_err(serde::de::Error::custom)
    }
}

/// A subscription in a file: `topic`, `name` and the settings the command line leaves to
/// their defaults. Durations in seconds or, for tests, milliseconds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSubscription {
    topic: String,
    name: String,
    lock_duration_secs: Option<u64>,
    lock_duration_ms: Option<u64>,
    max_delivery_count: Option<u32>,
    event_time_to_live_secs: Option<u64>,
    event_time_to_live_ms: Option<u64>,
    #[serde(default)]
    event_types: Vec<String>,
}

impl FileSubscription {
    pub(crate) fn into_spec(self) -> Result<SubscriptionSpec, String> {
        let mut spec =
            SubscriptionSpec::new(self.topic, self.name).map_err(|error| error.to_string())?;
        let either = |secs: Option<u64>, millis: Option<u64>, what: &str| match (secs, millis) {
            (Some(_), Some(_)) => Err(format!(
                "subscription `{}/{}`: give {what}_secs or {what}_ms, not both",
                spec.topic(),
                spec.name()
            )),
            (Some(secs), None) => Ok(Some(Duration::from_secs(secs))),
            (None, Some(millis)) => Ok(Some(Duration::from_millis(millis))),
            (None, None) => Ok(None),
        };
        let lock = either(
            self.lock_duration_secs,
            self.lock_duration_ms,
            "lock_duration",
        )?;
        let ttl = either(
            self.event_time_to_live_secs,
            self.event_time_to_live_ms,
            "event_time_to_live",
        )?;
        if let Some(lock) = lock {
            spec = spec.with_lock_duration(lock);
        }
        if let Some(ttl) = ttl {
            spec = spec.with_event_time_to_live(ttl);
        }
        if let Some(count) = self.max_delivery_count {
            spec = spec.with_max_delivery_count(count);
        }
        Ok(spec.with_event_types(self.event_types))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::file::parse;

    #[test]
    fn files_configure_namespace_topics_and_subscriptions() {
        let config = parse(
            r#"
namespace_topics = ["orders=a2V5", "audit"]
[[subscriptions]]
topic = "orders"
name = "billing"
lock_duration_ms = 500
max_delivery_count = 3
event_time_to_live_secs = 600
event_types = ["order.placed"]
"#,
            false,
        )
        .unwrap();
        assert_eq!(config.namespace_topics[0].key(), Some("a2V5"));
        let subscription = &config.subscriptions[0];
        assert_eq!(subscription.lock_duration().as_millis(), 500);
        assert_eq!(subscription.max_delivery_count(), 3);
        assert_eq!(subscription.event_types(), ["order.placed"]);
        let error = parse(
            "namespace_topics = [\"a\"]\n[[subscriptions]]\ntopic = \"b\"\nname = \"s\"\n",
            false,
        )
        .unwrap_err();
        assert!(error.contains("names no namespace topic"), "{error}");
        let error = parse("topics = [\"a\"]\nnamespace_topics = [\"a\"]\n", false).unwrap_err();
        assert!(error.contains("configured twice"), "{error}");
        let error = parse("namespace_topics = [\"a=\"]\n", false).unwrap_err();
        assert!(
            error.contains("line 1") && error.contains("key is empty"),
            "{error}"
        );
    }
}
