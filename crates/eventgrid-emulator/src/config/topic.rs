//! Topic specifications: a name, the one event schema the topic accepts, and its access key.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The event schema a topic accepts, chosen when the topic is created (as in Azure).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// The Event Grid event schema (`eventType`, `subject`, `eventTime`, ...). The default.
    #[default]
    EventGrid,
    /// CloudEvents 1.0 in structured JSON mode, sent as `application/cloudevents-batch+json`.
    CloudEvents,
    /// Any JSON object per event (Azure maps such events with an input mapping).
    Custom,
}

impl Schema {
    /// The name used on the command line and in configuration files.
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
        f.write_str(self.as_str())
    }
}

impl FromStr for Schema {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "eventgrid" | "eventgridevent" | "eventgridschema" => Ok(Schema::EventGrid),
            "cloudevents" | "cloudevent" | "cloudeventschemav1_0" => Ok(Schema::CloudEvents),
            "custom" | "customevent" | "customeventschema" => Ok(Schema::Custom),
            _ => Err(format!(
                "unknown schema `{text}` (expected eventgrid, cloudevents or custom)"
            )),
        }
    }
}

/// One topic of the emulator.
///
/// A topic without a key is *open*: it accepts requests without any credential. A topic with a
/// key demands a credential, as Azure does: the key itself (`aeg-sas-key`), a SAS token signed
/// with it, or a bearer token issued by the emulator's Entra endpoint.
///
/// ```
/// use eventgrid_emulator::{Schema, TopicSpec};
///
/// let open = TopicSpec::open("orders");
/// let keyed: TopicSpec = "audit:cloudevents=a2V5".parse().unwrap();
/// assert_eq!(keyed.name(), "audit");
/// assert_eq!(keyed.schema(), Schema::CloudEvents);
/// assert_eq!(keyed.key(), Some("a2V5"));
/// assert!(open.key().is_none());
/// // The key never shows in Debug output.
/// assert!(!format!("{keyed:?}").contains("a2V5"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TopicSpec {
    name: String,
    schema: Schema,
    key: Option<String>,
}

impl TopicSpec {
    /// An open topic (no authentication) with the Event Grid schema.
    ///
    /// # Panics
    /// If `name` is not a valid topic name (see [`TopicSpec::new`] for the fallible form).
    pub fn open(name: impl Into<String>) -> Self {
        Self::new(name, Schema::EventGrid, None).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A topic with the Event Grid schema that demands a credential for `key`.
    ///
    /// # Panics
    /// If `name` is not a valid topic name or `key` is empty.
    pub fn keyed(name: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(name, Schema::EventGrid, Some(key.into()))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// A topic with every part given.
    ///
    /// Names are 1 to 64 ASCII letters, digits, `-`, `_` or `.`, not starting with `_` or `.`
    /// (paths under `/_emulator/` belong to the emulator). Keys must not be empty. Keys are
    /// usually base64 (Azure's are 44 characters); SAS tokens are signed with the base64-decoded
    /// key, so SAS authentication needs a base64 key, while `aeg-sas-key` compares the text.
    pub fn new(
        name: impl Into<String>,
        schema: Schema,
        key: Option<String>,
    ) -> Result<Self, Error> {
        let name = name.into();
        check_name(&name)?;
        if key.as_deref() == Some("") {
            return Err(Error::InvalidTopic {
                topic: name,
                reason: "the key is empty".to_owned(),
            });
        }
        Ok(Self { name, schema, key })
    }

    /// The same topic with another schema.
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    /// The same topic demanding a credential for `key`.
    ///
    /// # Panics
    /// If `key` is empty.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        assert!(!key.is_empty(), "topic `{}`: the key is empty", self.name);
        self.key = Some(key);
        self
    }

    /// The topic's name: the first path segment of its endpoint.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema the topic accepts.
    pub fn schema(&self) -> Schema {
        self.schema
    }

    /// The access key, or `None` for an open topic.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

impl fmt::Debug for TopicSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicSpec")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Parses `NAME[:SCHEMA][=KEY]`, as on the command line (`--topic orders:cloudevents=a2V5`).
impl FromStr for TopicSpec {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (head, key) = match spec.split_once('=') {
            Some((head, key)) => (head, Some(key.to_owned())),
            None => (spec, None),
        };
        let (name, schema) = match head.split_once(':') {
            Some((name, schema)) => {
                let schema = schema.parse().map_err(|reason| Error::InvalidTopic {
                    topic: name.to_owned(),
                    reason,
                })?;
                (name, schema)
            }
            None => (head, Schema::EventGrid),
        };
        Self::new(name, schema, key)
    }
}

pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    let invalid = |reason: &str| {
        Err(Error::InvalidTopic {
            topic: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.is_empty() || name.len() > 64 {
        return invalid("a topic name has 1 to 64 characters");
    }
    if name.starts_with('_') || name.starts_with('.') {
        return invalid("a topic name must not start with `_` or `.`");
    }
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
    {
        return invalid("a topic name has only ASCII letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_of_spec() {
        let plain: TopicSpec = "orders".parse().unwrap();
        assert_eq!(
            (plain.name(), plain.schema(), plain.key()),
            ("orders", Schema::EventGrid, None)
        );
        let schema: TopicSpec = "ce:cloudevents".parse().unwrap();
        assert_eq!(schema.schema(), Schema::CloudEvents);
        let keyed: TopicSpec = "t=a2V5".parse().unwrap();
        assert_eq!(
            (keyed.schema(), keyed.key()),
            (Schema::EventGrid, Some("a2V5"))
        );
        let all: TopicSpec = "c:custom=k=".parse().unwrap();
        assert_eq!((all.schema(), all.key()), (Schema::Custom, Some("k=")));
    }

    #[test]
    fn rejects_bad_specs_without_echoing_the_key() {
        let error = "orders:xml=secret"
            .parse::<TopicSpec>()
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown schema `xml`"), "{error}");
        assert!(!error.contains("secret"));
        let error = "_emulator".parse::<TopicSpec>().unwrap_err().to_string();
        assert!(error.contains("must not start"), "{error}");
        let error = "a/b".parse::<TopicSpec>().unwrap_err().to_string();
        assert!(error.contains("only ASCII"), "{error}");
        let error = "t=".parse::<TopicSpec>().unwrap_err().to_string();
        assert!(error.contains("key is empty"), "{error}");
    }
}
