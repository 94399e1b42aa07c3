//! The written form of an event subscription, for configuration files (`[[subscriptions]]`) and
//! the control API (`PUT /_emulator/webhooks/{topic}/{name}`). Names follow the service
//! (`maxEventsPerBatch`) or snake case (`max_events_per_batch`), as the file prefers.

use std::path::PathBuf;

use serde::Deserialize;

use super::batch::BatchPolicy;
use super::filter::EventFilter;
use super::retry::RetryPolicy;
use super::subscription::{DEFAULT_NAME, WebhookSubscription};
use crate::config::topic::Schema;

/// One subscription as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SubscriptionDocument {
    name: Option<String>,
    topic: Option<String>,
    endpoint: String,
    #[serde(alias = "delivery_schema")]
    delivery_schema: Option<String>,
    #[serde(default)]
    filter: EventFilter,
    #[serde(alias = "max_events_per_batch")]
    max_events_per_batch: Option<usize>,
    #[serde(alias = "preferred_batch_size_in_kilobytes")]
    preferred_batch_size_in_kilobytes: Option<usize>,
    #[serde(alias = "retry_policy")]
    retry_policy: Option<RetryPolicy>,
    #[serde(alias = "dead_letter_folder")]
    dead_letter_folder: Option<PathBuf>,
    validate: Option<bool>,
}

impl SubscriptionDocument {
    /// The specification; `topic` and `name` (from the control API's path) take precedence
    /// over the document's.
    pub(crate) fn into_spec(
        self,
        topic: Option<&str>,
        name: Option<&str>,
    ) -> Result<WebhookSubscription, String> {
        let topic = topic
            .map(str::to_owned)
            .or(self.topic)
            .ok_or("the subscription names no `topic`")?;
        let name = name
            .map(str::to_owned)
            .or(self.name)
            .unwrap_or_else(|| DEFAULT_NAME.to_owned());
        let mut spec = WebhookSubscription::new(topic, name, &self.endpoint)?;
        if let Some(schema) = self.delivery_schema {
            spec = spec.delivery_schema(schema.parse::<Schema>()?);
        }
        let defaults = BatchPolicy::default();
        spec = spec
            .filter(self.filter)
            .batching(BatchPolicy::new(
                self.max_events_per_batch
                    .unwrap_or(defaults.max_events_per_batch),
                self.preferred_batch_size_in_kilobytes
                    .unwrap_or(defaults.preferred_batch_size_in_kilobytes),
            )?)
            .retry(self.retry_policy.unwrap_or_default())
            .validation(self.validate.unwrap_or(true));
        if let Some(folder) = self.dead_letter_folder {
            spec = spec.dead_letter_folder(folder);
        }
        spec.validate()?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_spellings_both_work() {
        let toml_form: SubscriptionDocument = toml::from_str(
            r#"
topic = "orders"
name = "audit"
endpoint = "http://127.0.0.1:9/hook"
delivery_schema = "cloudevents"
max_events_per_batch = 10
validate = false
dead_letter_folder = "dead"
[retry_policy]
max_delivery_attempts = 3
event_time_to_live_in_minutes = 5
[filter]
included_event_types = ["order.placed"]
advanced_filters = [{ operatorType = "NumberGreaterThan", key = "data.total", value = 10 }]
"#,
        )
        .unwrap();
        let spec = toml_form.into_spec(None, None).unwrap();
        assert_eq!((spec.topic(), spec.name()), ("orders", "audit"));
        assert_eq!(spec.chosen_delivery_schema(), Some(Schema::CloudEvents));
        assert_eq!(spec.batching.max_events_per_batch, 10);
        assert_eq!(spec.retry_policy, RetryPolicy::new(3, 5).unwrap());
        assert!(!spec.validate);
        assert_eq!(spec.event_filter.advanced_filters.len(), 1);

        let json_form: SubscriptionDocument = serde_json::from_str(
            r#"{"endpoint": "https://example.com/", "maxEventsPerBatch": 5,
                "preferredBatchSizeInKilobytes": 128,
                "retryPolicy": {"maxDeliveryAttempts": 2, "eventTimeToLiveInMinutes": 1},
                "filter": {"subjectBeginsWith": "a"}}"#,
        )
        .unwrap();
        let spec = json_form.into_spec(Some("t"), Some("from-path")).unwrap();
        assert_eq!((spec.topic(), spec.name()), ("t", "from-path"));
        assert_eq!(spec.batching, BatchPolicy::new(5, 128).unwrap());
        assert!(spec.validate);
    }

    #[test]
    fn bad_documents_say_why() {
        let document = |json: &str| serde_json::from_str::<SubscriptionDocument>(json);
        assert!(
            document(r#"{"endpoint": "http://x/", "colour": 1}"#)
                .unwrap_err()
                .to_string()
                .contains("colour")
        );
        let spec = |json: &str| document(json).unwrap().into_spec(None, None).unwrap_err();
        assert!(spec(r#"{"endpoint": "http://x/"}"#).contains("no `topic`"));
        assert!(
            spec(r#"{"topic": "t", "endpoint": "http://x/", "maxEventsPerBatch": 0}"#)
                .contains("1 to 5000")
        );
        assert!(
            spec(r#"{"topic": "t", "endpoint": "http://x/", "deliverySchema": "xml"}"#)
                .contains("unknown schema")
        );
    }
}
