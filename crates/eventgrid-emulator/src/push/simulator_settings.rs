//! AzureEventGridSimulator's settings file (`appsettings.json`): topics with their own ports and
//! keys, and http subscribers with filters, retry policy and dead-letter folder. Both the 4.x
//! shape (`subscribers: {http: [...], serviceBus: [...], storageQueue: [...]}`) and the older
//! flat `subscribers: [...]` are read; property names in any case of their first letter, as
//! .NET's configuration binder reads them.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::filter::EventFilter;
use super::retry::RetryPolicy;
use super::subscription::WebhookSubscription;
use crate::config::topic::{Schema, TopicSpec};

/// A topic of the settings file, served on its own port.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimulatorTopic {
    pub spec: TopicSpec,
    pub port: u16,
}

/// What a settings file describes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimulatorSettings {
    pub topics: Vec<SimulatorTopic>,
    pub subscriptions: Vec<WebhookSubscription>,
    /// Parts the emulator does not serve (Service Bus and Storage Queue subscribers), said once.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    topics: Vec<Topic>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Topic {
    name: String,
    port: u16,
    key: Option<String>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    subscribers: Subscribers,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Subscribers {
    #[default]
    None,
    Flat(Vec<Http>),
    ByKind {
        #[serde(default)]
        http: Vec<Http>,
        #[serde(default, rename = "serviceBus")]
        service_bus: Vec<Value>,
        #[serde(default, rename = "storageQueue")]
        storage_queue: Vec<Value>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Http {
    name: String,
    endpoint: String,
    #[serde(default)]
    disable_validation: bool,
    #[serde(default)]
    disabled: bool,
    delivery_schema: Option<String>,
    filter: Option<EventFilter>,
    retry_policy: Option<Retry>,
    dead_letter: Option<DeadLetter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Retry {
    #[serde(default = "yes")]
    enabled: bool,
    max_delivery_attempts: Option<u32>,
    event_time_to_live_in_minutes: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetter {
    #[serde(default = "yes")]
    enabled: bool,
    folder_path: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

/// Parses the text of a settings file; errors name the topic or subscriber at fault.
pub(crate) fn parse(text: &str) -> Result<SimulatorSettings, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let file: File =
        serde_json::from_value(camel_case_keys(value)).map_err(|error| error.to_string())?;
    let mut settings = SimulatorSettings {
        topics: Vec::new(),
        subscriptions: Vec::new(),
        warnings: Vec::new(),
    };
    for topic in file.topics.into_iter().filter(|topic| !topic.disabled) {
        if let Some(other) = settings
            .topics
            .iter()
            .find(|other| other.port == topic.port)
        {
            return Err(format!(
                "topics `{}` and `{}` both use port {}",
                other.spec.name(),
                topic.name,
                topic.port
            ));
        }
        let spec = TopicSpec::new(
            topic.name.clone(),
            Schema::EventGrid,
            topic.key.filter(|key| !key.is_empty()),
        )
        .map_err(|error| error.to_string())?;
        let http = match topic.subscribers {
            Subscribers::None => Vec::new(),
            Subscribers::Flat(http) => http,
            Subscribers::ByKind {
                http,
                service_bus,
                storage_queue,
            } => {
                for (kind, count) in [
                    ("Service Bus", service_bus.len()),
                    ("Storage Queue", storage_queue.len()),
                ] {
                    if count > 0 {
                        settings.warnings.push(format!(
                            "topic `{}`: {count} {kind} subscriber(s) ignored; the emulator delivers to http subscribers only",
                            topic.name
                        ));
                    }
                }
                http
            }
        };
        for subscriber in http.into_iter().filter(|subscriber| !subscriber.disabled) {
            let name = subscriber.name.clone();
            let subscription = subscription(&topic.name, subscriber).map_err(|reason| {
                format!("topic `{}`, subscriber `{name}`: {reason}", topic.name)
            })?;
            settings.subscriptions.push(subscription);
        }
        settings.topics.push(SimulatorTopic {
            spec,
            port: topic.port,
        });
    }
    Ok(settings)
}

fn subscription(topic: &str, http: Http) -> Result<WebhookSubscription, String> {
    let mut spec = WebhookSubscription::new(topic, http.name, &http.endpoint)?
        .validation(!http.disable_validation);
    match http
        .delivery_schema
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("eventgridschema") => {}
        Some("cloudeventv1_0" | "cloudeventschemav1_0") => {
            spec = spec.delivery_schema(Schema::CloudEvents)
        }
        Some(_) => {
            return Err(format!(
                "deliverySchema `{}`: expected EventGridSchema or CloudEventV1_0",
                http.delivery_schema.unwrap_or_default()
            ));
        }
    }
    if let Some(filter) = http.filter {
        spec = spec.filter(filter);
    }
    if let Some(retry) = http.retry_policy {
        let defaults = RetryPolicy::default();
        let attempts = if retry.enabled {
            retry
                .max_delivery_attempts
                .unwrap_or(defaults.max_delivery_attempts)
        } else {
            1
        };
        let minutes = retry
            .event_time_to_live_in_minutes
            .unwrap_or(defaults.event_time_to_live_in_minutes);
        spec = spec.retry(RetryPolicy::new(attempts, minutes)?);
    }
    if let Some(DeadLetter {
        enabled: true,
        folder_path,
    }) = http.dead_letter
    {
        let folder = folder_path.ok_or("deadLetter is enabled without a folderPath")?;
        spec = spec.dead_letter_folder(folder);
    }
    spec.validate()?;
    Ok(spec)
}

/// `Topics` → `topics`, recursively: .NET binds property names ignoring case.
fn camel_case_keys(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(name, value)| {
                    let mut characters = name.chars();
                    let name = match characters.next() {
                        Some(first) => first.to_ascii_lowercase().to_string() + characters.as_str(),
                        None => name,
                    };
                    (name, camel_case_keys(value))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(values) => Value::Array(values.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::advanced_filter::FilterOperator;

    const SETTINGS: &str = r#"{
      "Logging": {"LogLevel": {"Default": "Information"}},
      "topics": [
        {
          "name": "MyAwesomeTopic", "port": 60101, "key": "TheLocal+DevelopmentKey=",
          "subscribers": {
            "http": [
              {
                "name": "LocalAzureFunctionSubscription",
                "endpoint": "http://localhost:7071/runtime/webhooks/EventGrid?functionName=PersistEventToDb",
                "disableValidation": true,
                "deliverySchema": "CloudEventV1_0",
                "filter": {
                  "includedEventTypes": ["some.special.event.type"],
                  "subjectBeginsWith": "MySubject",
                  "isSubjectCaseSensitive": false,
                  "advancedFilters": [{"operatorType": "NumberGreaterThan", "key": "Data.Key1", "value": 5}]
                },
                "retryPolicy": {"enabled": true, "maxDeliveryAttempts": 5, "eventTimeToLiveInMinutes": 60},
                "deadLetter": {"enabled": true, "folderPath": "./dead-letters"}
              }
            ],
            "serviceBus": [{"name": "sb", "namespace": "n", "topic": "t"}]
          }
        },
        {"Name": "OtherTopic", "Port": 60102, "Subscribers": [{"Name": "flat-one", "Endpoint": "https://localhost:5001/"}]},
        {"name": "Off", "port": 60103, "disabled": true}
      ]
    }"#;

    #[test]
    fn reads_topics_ports_keys_and_http_subscribers() {
        let settings = parse(SETTINGS).unwrap();
        let topics: Vec<_> = settings
            .topics
            .iter()
            .map(|t| (t.spec.name(), t.port))
            .collect();
        assert_eq!(topics, [("MyAwesomeTopic", 60101), ("OtherTopic", 60102)]);
        assert_eq!(
            settings.topics[0].spec.key(),
            Some("TheLocal+DevelopmentKey=")
        );
        assert_eq!(settings.topics[1].spec.key(), None);
        let first = &settings.subscriptions[0];
        assert_eq!(
            (first.topic(), first.name()),
            ("MyAwesomeTopic", "LocalAzureFunctionSubscription")
        );
        assert!(!first.validate);
        assert_eq!(first.chosen_delivery_schema(), Some(Schema::CloudEvents));
        assert_eq!(
            first.event_filter.included_event_types,
            ["some.special.event.type"]
        );
        assert_eq!(
            first.event_filter.advanced_filters[0].operator(),
            FilterOperator::NumberGreaterThan
        );
        assert_eq!(first.event_filter.advanced_filters[0].key(), "Data.Key1");
        assert_eq!(first.retry_policy, RetryPolicy::new(5, 60).unwrap());
        assert_eq!(
            first.dead_letter_folder,
            Some(PathBuf::from("./dead-letters"))
        );
        assert_eq!(
            first.endpoint().query(),
            Some("functionName=PersistEventToDb")
        );
        let flat = &settings.subscriptions[1];
        assert_eq!(
            (flat.topic(), flat.name(), flat.validate),
            ("OtherTopic", "flat-one", true)
        );
        assert_eq!(settings.warnings.len(), 1);
        assert!(
            settings.warnings[0].contains("Service Bus"),
            "{:?}",
            settings.warnings
        );
    }

    #[test]
    fn disabled_retries_mean_one_attempt() {
        let settings = parse(
            r#"{"topics":[{"name":"t1","port":1,"subscribers":{"http":[
            {"name":"abc","endpoint":"http://x/","retryPolicy":{"enabled":false}}]}}]}"#,
        )
        .unwrap();
        assert_eq!(
            settings.subscriptions[0].retry_policy.max_delivery_attempts,
            1
        );
    }

    #[test]
    fn errors_name_the_part_at_fault() {
        let error =
            parse(r#"{"topics":[{"name":"a","port":1},{"name":"b","port":1}]}"#).unwrap_err();
        assert!(error.contains("both use port 1"), "{error}");
        let error = parse(
            r#"{"topics":[{"name":"t1","port":1,"subscribers":{"http":[
            {"name":"abc","endpoint":"http://x/","retryPolicy":{"maxDeliveryAttempts":99}}]}}]}"#,
        )
        .unwrap_err();
        assert!(
            error.contains("subscriber `abc`") && error.contains("1 to 30"),
            "{error}"
        );
        let error = parse(
            r#"{"topics":[{"name":"t1","port":1,"subscribers":{"http":[
            {"name":"abc","endpoint":"http://x/","deliverySchema":"Xml"}]}}]}"#,
        )
        .unwrap_err();
        assert!(error.contains("deliverySchema"), "{error}");
        let error = parse(
            r#"{"topics":[{"name":"t1","port":1,"subscribers":{"http":[
            {"name":"abc","endpoint":"http://x/","deadLetter":{"enabled":true}}]}}]}"#,
        )
        .unwrap_err();
        assert!(error.contains("folderPath"), "{error}");
        assert!(parse("{").is_err());
    }
}
