//! Configuration from environment variables.

use crate::auth::KeyCredential;
use crate::config::{EventGridConfig, EventGridTopicConfig, Schema};
use crate::error::{Error, Result};

/// The variable listing the topic names, comma-separated.
pub const TOPICS_VAR: &str = "EVENTGRID_TOPICS";

impl EventGridConfig {
    /// Reads the topics from the process environment:
    ///
    /// - `EVENTGRID_TOPICS=user-events,order-events` lists the topic names;
    /// - `EVENTGRID_<NAME>_ENDPOINT` (required), and optionally `EVENTGRID_<NAME>_KEY`,
    ///   `EVENTGRID_<NAME>_SAS` and `EVENTGRID_<NAME>_SCHEMA` (`eventgrid`, `cloudevents`,
    ///   `custom`), where `<NAME>` is the topic name upper-cased with `-` and `.` written as `_`
    ///   (`EVENTGRID_USER_EVENTS_ENDPOINT`). The seed library's form that keeps the `-`
    ///   (`EVENTGRID_USER-EVENTS_ENDPOINT`) is accepted too;
    /// - for a namespace topic, `EVENTGRID_<NAME>_NAMESPACE_TOPIC` names the topic in the
    ///   namespace whose endpoint `EVENTGRID_<NAME>_ENDPOINT` is, and optionally
    ///   `EVENTGRID_<NAME>_SOURCE` the `source` of the CloudEvents `emit_event` makes.
    ///
    /// A listed topic without an endpoint is an error naming the missing variable.
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests, or
    /// another source of settings).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use eventgrid_core::EventGridConfig;
    /// let vars = HashMap::from([
    ///     ("EVENTGRID_TOPICS", "user-events"),
    ///     ("EVENTGRID_USER_EVENTS_ENDPOINT", "https://user-events.westus2-1.eventgrid.azure.net"),
    /// ]);
    /// let config = EventGridConfig::from_env_with(|k| vars.get(k).map(|v| v.to_string()))?;
    /// assert_eq!(config.topic_names(), ["user-events"]);
    /// # Ok::<(), eventgrid_core::Error>(())
    /// ```
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let list = lookup(TOPICS_VAR)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::MissingEnvVar {
                variable: TOPICS_VAR.to_owned(),
                purpose: "comma-separated topic names".to_owned(),
            })?;
        let mut config = EventGridConfig::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            config.insert(topic_from_env(name, &lookup)?)?;
        }
        Ok(config)
    }
}

/// The canonical variable name for `topic`'s `suffix`: `EVENTGRID_USER_EVENTS_ENDPOINT`.
pub fn topic_var(topic: &str, suffix: &str) -> String {
    let name: String = topic
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("EVENTGRID_{name}_{suffix}")
}

fn seed_var(topic: &str, suffix: &str) -> String {
    format!("EVENTGRID_{}_{suffix}", topic.to_ascii_uppercase())
}

/// The value and the name it was found under, trying the canonical name first.
fn read(
    topic: &str,
    suffix: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Option<(String, String)> {
    [topic_var(topic, suffix), seed_var(topic, suffix)]
        .into_iter()
        .find_map(|var| lookup(&var).filter(|v| !v.is_empty()).map(|v| (var, v)))
}

fn topic_from_env(
    name: &str,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<EventGridTopicConfig> {
    let (_, endpoint) = read(name, "ENDPOINT", lookup).ok_or_else(|| Error::MissingEnvVar {
        variable: topic_var(name, "ENDPOINT"),
        purpose: format!("endpoint of topic `{name}` listed in {TOPICS_VAR}"),
    })?;
    let mut topic = match read(name, "NAMESPACE_TOPIC", lookup) {
        Some((_, namespace_topic)) => {
            let topic = EventGridTopicConfig::namespace(name, endpoint, namespace_topic)?;
            match read(name, "SOURCE", lookup) {
                Some((_, source)) => topic.with_source(source),
                None => topic,
            }
        }
        None => EventGridTopicConfig::new(name, endpoint)?,
    };
    if let Some((var, schema)) = read(name, "SCHEMA", lookup) {
        let schema: Schema = schema.parse().map_err(|reason| Error::InvalidEnvVar {
            variable: var,
            reason,
        })?;
        topic = topic.with_schema(schema);
    }
    match (read(name, "KEY", lookup), read(name, "SAS", lookup)) {
        (Some((key_var, _)), Some((sas_var, _))) => {
            return Err(Error::InvalidEnvVar {
                variable: sas_var,
                reason: format!("set either {key_var} or this, not both"),
            });
        }
        (Some((_, key)), None) => topic = topic.with_credential(KeyCredential::access_key(key)),
        (None, Some((_, sas))) => topic = topic.with_credential(KeyCredential::sas_token(sas)),
        (None, None) => {}
    }
    Ok(topic)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<EventGridConfig> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EventGridConfig::from_env_with(|k| vars.get(k).cloned())
    }

    #[test]
    fn reads_topics_with_schema_and_key() {
        let config = config(&[
            ("EVENTGRID_TOPICS", "user-events, order.events"),
            (
                "EVENTGRID_USER_EVENTS_ENDPOINT",
                "https://u.westus2-1.eventgrid.azure.net",
            ),
            ("EVENTGRID_USER_EVENTS_KEY", "a2V5"),
            (
                "EVENTGRID_ORDER_EVENTS_ENDPOINT",
                "https://o.westus2-1.eventgrid.azure.net",
            ),
            ("EVENTGRID_ORDER_EVENTS_SCHEMA", "cloudevents"),
        ])
        .unwrap();
        assert_eq!(config.topic_names(), ["order.events", "user-events"]);
        assert_eq!(
            config.topic("order.events").unwrap().schema(),
            Schema::CloudEvents
        );
        assert!(matches!(
            config.topic("user-events").unwrap().credential(),
            Some(KeyCredential::AccessKey(_))
        ));
    }

    #[test]
    fn accepts_the_seed_form_keeping_the_dash() {
        let config = config(&[
            ("EVENTGRID_TOPICS", "user-events"),
            (
                "EVENTGRID_USER-EVENTS_ENDPOINT",
                "https://u.westus2-1.eventgrid.azure.net",
            ),
        ])
        .unwrap();
        assert_eq!(config.topic_names(), ["user-events"]);
    }

    #[test]
    fn missing_endpoint_names_the_variable() {
        let err = config(&[("EVENTGRID_TOPICS", "user-events")]).unwrap_err();
        assert!(
            matches!(&err, Error::MissingEnvVar { variable, .. } if variable == "EVENTGRID_USER_EVENTS_ENDPOINT"),
            "{err}"
        );
        assert!(err.to_string().contains("EVENTGRID_USER_EVENTS_ENDPOINT"));
    }

    #[test]
    fn missing_topic_list_names_the_variable() {
        let err = config(&[]).unwrap_err();
        assert!(err.to_string().contains("EVENTGRID_TOPICS"), "{err}");
    }

    #[test]
    fn bad_schema_names_the_variable() {
        let err = config(&[
            ("EVENTGRID_TOPICS", "t"),
            ("EVENTGRID_T_ENDPOINT", "https://t.example.com"),
            ("EVENTGRID_T_SCHEMA", "xml"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("EVENTGRID_T_SCHEMA"), "{err}");
    }

    #[test]
    fn reads_a_namespace_topic() {
        let config = config(&[
            ("EVENTGRID_TOPICS", "orders"),
            (
                "EVENTGRID_ORDERS_ENDPOINT",
                "https://ns.westus-1.eventgrid.azure.net",
            ),
            ("EVENTGRID_ORDERS_NAMESPACE_TOPIC", "orders-v2"),
            ("EVENTGRID_ORDERS_SOURCE", "/shop"),
            ("EVENTGRID_ORDERS_KEY", "k"),
        ])
        .unwrap();
        let topic = config.topic("orders").unwrap();
        assert_eq!(topic.namespace_topic(), Some("orders-v2"));
        assert_eq!(topic.source(), "/shop");
        assert_eq!(
            topic.endpoint().publish_uri().to_string(),
            "https://ns.westus-1.eventgrid.azure.net/topics/orders-v2:publish?api-version=2024-06-01"
        );
    }

    #[test]
    fn key_and_sas_together_are_refused() {
        let err = config(&[
            ("EVENTGRID_TOPICS", "t"),
            ("EVENTGRID_T_ENDPOINT", "https://t.example.com"),
            ("EVENTGRID_T_KEY", "k"),
            ("EVENTGRID_T_SAS", "s"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("EVENTGRID_T_SAS"), "{err}");
        assert!(!err.to_string().contains("=k"));
    }
}
