//! Configuration files (TOML, or JSON by extension): the command line's options and more.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::config::topic::{Schema, TopicSpec};
use crate::config::{EmulatorConfig, EntraClient, Limits};
use crate::error::{Error, Result};
use crate::faults::{FaultRule, FaultSpec};
use crate::namespace::config::{FileNamespaceTopic, FileSubscription};
use crate::push::document::SubscriptionDocument;

/// A file's settings (no `Debug`: it holds secrets).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<bool>,
    tls_certificate: Option<PathBuf>,
    retain: Option<usize>,
    retain_bytes: Option<usize>,
    admin_key: Option<String>,
    max_connections: Option<usize>,
    body_read_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    limits: Option<Limits>,
    #[serde(default)]
    topics: Vec<FileTopic>,
    #[serde(default)]
    entra_clients: BTreeMap<String, String>,
    #[serde(default)]
    namespace_topics: Vec<FileNamespaceTopic>,
    #[serde(default)]
    subscriptions: Vec<FileSubscription>,
    #[serde(default)]
    webhooks: Vec<SubscriptionDocument>,
    retry_time_scale: Option<f64>,
    delivery_timeout_secs: Option<f64>,
    webhook_ca_certificate: Option<PathBuf>,
    dead_letter_root: Option<PathBuf>,
}

/// A topic in a file: either the command line's `NAME[:SCHEMA][=KEY]` text or a table.
#[derive(Debug)]
struct FileTopic {
    spec: TopicSpec,
    faults: Option<FaultSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicTable {
    name: String,
    #[serde(default)]
    schema: Schema,
    key: Option<String>,
    #[serde(default)]
    faults: Vec<FaultRule>,
    #[serde(default)]
    fault_seed: u64,
}

impl<'de> Deserialize<'de> for FileTopic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FileTopicVisitor)
    }
}

struct FileTopicVisitor;

impl<'de> Visitor<'de> for FileTopicVisitor {
    type Value = FileTopic;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a topic: \"NAME[:SCHEMA][=KEY]\" or a table with `name`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<FileTopic, E> {
        let spec = text.parse::<TopicSpec>().map_err(E::custom)?;
        Ok(FileTopic { spec, faults: None })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FileTopic, A::Error> {
        let table = TopicTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let spec =
            TopicSpec::new(table.name, table.schema, table.key).map_err(de::Error::custom)?;
        let faults = (!table.faults.is_empty()).then(|| {
            table
                .faults
                .into_iter()
                .fold(FaultSpec::new().seed(table.fault_seed), FaultSpec::rule)
        });
        if let Some(faults) = &faults {
            faults.validate().map_err(de::Error::custom)?;
        }
        Ok(FileTopic { spec, faults })
    }
}

pub(crate) fn load(path: &Path) -> Result<EmulatorConfig> {
    let text = std::fs::read_to_string(path).map_err(|error| Error::ConfigFile {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let is_json = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
    parse(&text, is_json).map_err(|message| Error::ConfigFile {
        path: path.to_owned(),
        message,
    })
}

/// Parses a file's text; the error message names the line.
pub(crate) fn parse(text: &str, is_json: bool) -> Result<EmulatorConfig, String> {
    let file: FileConfig = if is_json {
        serde_json::from_str(text).map_err(|error| error.to_string())?
    } else {
        toml::from_str(text).map_err(|error| error.to_string().trim_end().to_owned())?
    };
    let mut config = EmulatorConfig::new();
    if let Some(host) = file.host {
        config.host = host;
    }
    if let Some(port) = file.port {
        config.port = port;
    }
    if let Some(tls) = file.tls {
        config.tls = tls;
    }
    config.tls_certificate_path = file.tls_certificate;
    if let Some(retain) = file.retain {
        config.retain = retain;
    }
    if let Some(bytes) = file.retain_bytes {
        config.retain_bytes = bytes;
    }
    config.admin_key = file.admin_key;
    if let Some(connections) = file.max_connections {
        config.max_connections = connections;
    }
    if let Some(seconds) = file.body_read_timeout_secs {
        config.body_read_timeout = Duration::from_secs(seconds);
    }
    if let Some(seconds) = file.idle_timeout_secs {
        config.idle_timeout = Duration::from_secs(seconds);
    }
    if let Some(limits) = file.limits {
        config.limits = limits;
    }
    for topic in file.topics {
        if let Some(faults) = topic.faults {
            config.faults.insert(topic.spec.name().to_owned(), faults);
        }
        config.topics.push(topic.spec);
    }
    config.entra_clients = file
        .entra_clients
        .into_iter()
        .map(|(client_id, client_secret)| EntraClient {
            client_id,
            client_secret,
        })
        .collect();
    config.namespace_topics = file
        .namespace_topics
        .into_iter()
        .map(|topic| topic.0)
        .collect();
    for subscription in file.subscriptions {
        config.subscriptions.push(subscription.into_spec()?);
    }
    for (index, document) in file.webhooks.into_iter().enumerate() {
        let spec = document
            .into_spec(None, None)
            .map_err(|reason| format!("webhooks[{index}]: {reason}"))?;
        config.push.subscriptions.push(spec);
    }
    if let Some(scale) = file.retry_time_scale {
        config.push.retry_time_scale = scale;
    }
    if let Some(seconds) = file.delivery_timeout_secs {
        config.push.delivery_timeout = std::time::Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("delivery_timeout_secs {seconds} is not a duration"))?;
    }
    config.push.webhook_ca_certificate = file.webhook_ca_certificate;
    config.push.dead_letter_root = file.dead_letter_root;
    config.validate().map_err(|error| error.to_string())?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultRule;

    #[test]
    fn toml_says_what_the_command_line_says_and_more() {
        let config = parse(
            r#"
port = 9000
retain = 5
retain_bytes = 1000
admin_key = "admin"
max_connections = 8
body_read_timeout_secs = 7
idle_timeout_secs = 9
topics = ["plain", { name = "ce", schema = "cloudevents", key = "a2V5",
           faults = [{ status = 503, next = 2 }], fault_seed = 3 }]
[limits]
max_events_per_request = 10
[entra_clients]
app = "secret"
"#,
            false,
        )
        .unwrap();
        assert_eq!(config.port, 9000);
        assert_eq!(config.retain, 5);
        assert_eq!(config.retain_bytes, 1000);
        assert_eq!(config.admin_key.as_deref(), Some("admin"));
        assert_eq!(config.max_connections, 8);
        assert_eq!(config.body_read_timeout, Duration::from_secs(7));
        assert_eq!(config.idle_timeout, Duration::from_secs(9));
        assert_eq!(config.limits.max_events_per_request, 10);
        assert_eq!(
            config.limits.max_event_bytes,
            Limits::default().max_event_bytes
        );
        assert_eq!(config.topics[0], TopicSpec::open("plain"));
        assert_eq!(config.topics[1].schema(), Schema::CloudEvents);
        assert_eq!(
            config.faults["ce"],
            FaultSpec::new()
                .seed(3)
                .rule(FaultRule::status(503).next(2))
        );
        assert_eq!(config.entra_clients[0].client_id, "app");
    }

    #[test]
    fn json_works_too() {
        let config = parse(
            r#"{"topics": [{"name": "t", "key": "k"}], "tls": true}"#,
            true,
        )
        .unwrap();
        assert!(config.tls);
        assert_eq!(config.topics[0].key(), Some("k"));
    }

    #[test]
    fn errors_name_the_line() {
        let error = parse(
            "port = 1\n\n[[topics]]\nname = \"x\"\nschema = \"xml\"\n",
            false,
        )
        .unwrap_err();
        assert!(error.contains("line 5"), "{error}");
        let error = parse("port = 1\nportt = 2\n", false).unwrap_err();
        assert!(
            error.contains("line 2") && error.contains("portt"),
            "{error}"
        );
        let error = parse("{\n\"port\": \"x\"\n}", true).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        let error = parse("topics = [\"a\", \"a\"]", false).unwrap_err();
        assert!(error.contains("`a` is configured twice"), "{error}");
    }

    #[test]
    fn time_outs_are_more_than_zero_and_at_most_a_day() {
        // Found by the emulator_config fuzz target's seeds: hyper adds the idle time-out to an
        // `Instant` for HTTP/2 pings, which panicked the connection's task.
        for line in [
            "idle_timeout_secs = 18446744073709551615",
            "body_read_timeout_secs = 86401",
            "idle_timeout_secs = 0",
        ] {
            let error = parse(line, false).unwrap_err();
            assert!(error.contains("at most 86400 s"), "{line}: {error}");
        }
        let config = parse("idle_timeout_secs = 86400", false).unwrap();
        assert_eq!(config.idle_timeout, Duration::from_secs(86_400));
    }
}
