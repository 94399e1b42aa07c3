//! Topic configuration, with the seed library's names.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::auth::KeyCredential;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};

/// The event schema a topic accepts; chosen when the topic is created in Azure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Schema {
    /// The Event Grid event schema ([`EventGridEvent`](crate::EventGridEvent)). The default.
    #[default]
    EventGrid,
    /// CloudEvents 1.0, structured JSON ([`CloudEvent`](crate::CloudEvent)).
    CloudEvents,
    /// Custom input schema: any JSON object ([`CustomEvent`](crate::CustomEvent)).
    Custom,
}

impl Schema {
    /// The `Content-Type` of a request carrying events of this schema.
    pub fn content_type(self) -> &'static str {
        match self {
            Schema::EventGrid | Schema::Custom => "application/json; charset=utf-8",
            Schema::CloudEvents => "application/cloudevents-batch+json; charset=utf-8",
        }
    }

    /// The short name used in configuration: `eventgrid`, `cloudevents` or `custom`.
    pub fn as_str(self) -> &'static str {
        match self {
            Schema::EventGrid => "eventgrid",
            Schema::CloudEvents => "cloudevents",
            Schema::Custom => "custom",
        }
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schema::EventGrid => "EventGridEvent",
            Schema::CloudEvents => "CloudEvents 1.0",
            Schema::Custom => "custom-schema",
        })
    }
}

impl FromStr for Schema {
    type Err = String;

    /// Accepts the short names and Azure's own names (`EventGridSchema`,
    /// `CloudEventSchemaV1_0`, `CustomEventSchema`), ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "eventgrid" | "eventgridschema" | "eventgridevent" => Ok(Schema::EventGrid),
            "cloudevents" | "cloudevent" | "cloudeventschemav1_0" => Ok(Schema::CloudEvents),
            "custom" | "customeventschema" | "customschema" => Ok(Schema::Custom),
            _ => Err(format!(
                "unknown schema `{s}`; expected eventgrid, cloudevents or custom"
            )),
        }
    }
}

/// One named topic: where it is, what it accepts, and optionally its own credential.
///
/// ```
/// use eventgrid_core::{EventGridTopicConfig, Schema};
/// let topic = EventGridTopicConfig::new("user-events", "https://user-events.westus2-1.eventgrid.azure.net/api/events")?
///     .with_schema(Schema::CloudEvents);
/// assert_eq!(topic.name(), "user-events");
/// # Ok::<(), eventgrid_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGridTopicConfig {
    name: String,
    endpoint: Endpoint,
    schema: Schema,
    credential: Option<KeyCredential>,
    channel_name: Option<String>,
}

impl EventGridTopicConfig {
    /// A topic named `name` at `endpoint` (with or without `/api/events`, with or without a
    /// query string), accepting EventGridEvents. Empty names and malformed or non-http(s)
    /// endpoints are refused with an error naming the topic.
    pub fn new(name: impl Into<String>, endpoint: impl AsRef<str>) -> Result<Self> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(Error::InvalidTopic {
                topic: name,
                reason: "topic name is empty".to_owned(),
            });
        }
        let endpoint =
            Endpoint::parse(endpoint.as_ref()).map_err(|reason| Error::InvalidTopic {
                topic: name.clone(),
                reason,
            })?;
        Ok(Self {
            name,
            endpoint,
            schema: Schema::EventGrid,
            credential: None,
            channel_name: None,
        })
    }

    /// Sets the schema the topic accepts.
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    /// Gives the topic its own credential, used instead of the client's.
    pub fn with_credential(mut self, credential: KeyCredential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Sets the `aeg-channel-name` header sent with every request (partner topics).
    pub fn with_channel_name(mut self, channel: impl Into<String>) -> Self {
        self.channel_name = Some(channel.into());
        self
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The topic's endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The schema the topic accepts.
    pub fn schema(&self) -> Schema {
        self.schema
    }

    /// The topic's own credential, if it has one.
    pub fn credential(&self) -> Option<&KeyCredential> {
        self.credential.as_ref()
    }

    /// The partner channel name, if set.
    pub fn channel_name(&self) -> Option<&str> {
        self.channel_name.as_deref()
    }
}

/// A set of named topics, configured once and looked up by name.
///
/// ```
/// use eventgrid_core::{EventGridConfig, EventGridTopicConfig, Error};
/// let config = EventGridConfig::new([
///     EventGridTopicConfig::new("user-events", "https://user-events.westus2-1.eventgrid.azure.net")?,
///     EventGridTopicConfig::new("order-events", "https://order-events.westus2-1.eventgrid.azure.net")?,
/// ])?;
/// assert!(config.topic("user-events").is_ok());
/// assert!(matches!(config.topic("nope"), Err(Error::UnknownTopic { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventGridConfig {
    topics: BTreeMap<String, EventGridTopicConfig>,
}

impl EventGridConfig {
    /// A configuration of `topics`; duplicate names are refused with an error naming the topic.
    pub fn new(topics: impl IntoIterator<Item = EventGridTopicConfig>) -> Result<Self> {
        let mut config = Self::default();
        for topic in topics {
            config.insert(topic)?;
        }
        Ok(config)
    }

    /// Adds a topic; a name already configured is refused.
    pub fn insert(&mut self, topic: EventGridTopicConfig) -> Result<()> {
        if self.topics.contains_key(topic.name()) {
            return Err(Error::InvalidTopic {
                topic: topic.name,
                reason: "duplicate topic name".to_owned(),
            });
        }
        self.topics.insert(topic.name.clone(), topic);
        Ok(())
    }

    /// Removes a topic by name, returning it.
    pub fn remove(&mut self, name: &str) -> Option<EventGridTopicConfig> {
        self.topics.remove(name)
    }

    /// The topic named `name`, or [`Error::UnknownTopic`] listing the configured names.
    pub fn topic(&self, name: &str) -> Result<&EventGridTopicConfig> {
        self.topics.get(name).ok_or_else(|| Error::UnknownTopic {
            name: name.to_owned(),
            configured: self.topic_names(),
        })
    }

    /// The configured topic names, sorted.
    pub fn topic_names(&self) -> Vec<String> {
        self.topics.keys().cloned().collect()
    }

    /// All configured topics, sorted by name.
    pub fn topics(&self) -> impl Iterator<Item = &EventGridTopicConfig> {
        self.topics.values()
    }

    /// Whether no topic is configured.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str) -> EventGridTopicConfig {
        EventGridTopicConfig::new(name, "https://x.westus2-1.eventgrid.azure.net").unwrap()
    }

    #[test]
    fn unknown_topic_lists_configured_names() {
        let config = EventGridConfig::new([topic("b"), topic("a")]).unwrap();
        let err = config.topic("c").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown topic `c`; configured topics: a, b"
        );
    }

    #[test]
    fn duplicate_topic_is_refused_by_name() {
        let err = EventGridConfig::new([topic("a"), topic("a")]).unwrap_err();
        assert_eq!(err.to_string(), "topic `a`: duplicate topic name");
    }

    #[test]
    fn empty_name_and_bad_endpoint_are_refused() {
        let err = EventGridTopicConfig::new(" ", "https://h").unwrap_err();
        assert!(err.to_string().contains("topic name is empty"));
        let err = EventGridTopicConfig::new("orders", "ftp://h").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("topic `orders`: endpoint scheme"),
            "{err}"
        );
        let err = EventGridTopicConfig::new("orders", "nonsense").unwrap_err();
        assert!(err.to_string().starts_with("topic `orders`:"), "{err}");
    }

    #[test]
    fn schema_names_parse() {
        assert_eq!(
            "CloudEventSchemaV1_0".parse::<Schema>(),
            Ok(Schema::CloudEvents)
        );
        assert_eq!("custom".parse::<Schema>(), Ok(Schema::Custom));
        assert_eq!("EventGrid".parse::<Schema>(), Ok(Schema::EventGrid));
        assert!("xml".parse::<Schema>().is_err());
    }
}
