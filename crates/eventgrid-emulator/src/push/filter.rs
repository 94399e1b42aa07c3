//! An event subscription's filter: included event types, subject prefix and suffix, and
//! advanced filters whose keys name envelope fields or dotted paths into `data`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::advanced_filter::AdvancedFilter;
use crate::config::topic::Schema;

/// Most advanced filters one subscription may have (the service's limit).
pub const MAX_ADVANCED_FILTERS: usize = 25;

/// Which events of a topic an event subscription receives. Every part that is set must pass.
///
/// Written in configuration files as the service writes it:
///
/// ```
/// use eventgrid_emulator::EventFilter;
///
/// let filter: EventFilter = serde_json::from_value(serde_json::json!({
///     "includedEventTypes": ["order.placed"],
///     "subjectBeginsWith": "orders/",
///     "advancedFilters": [{"operatorType": "NumberGreaterThan", "key": "data.total", "value": 100}]
/// })).unwrap();
/// assert_eq!(filter.advanced_filters.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EventFilter {
    /// Event types delivered (`eventType`, or CloudEvents `type`), compared ignoring case;
    /// empty delivers every type.
    #[serde(alias = "included_event_types")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub included_event_types: Vec<String>,
    /// The subject must begin with this.
    #[serde(alias = "subject_begins_with")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_begins_with: Option<String>,
    /// The subject must end with this.
    #[serde(alias = "subject_ends_with")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_ends_with: Option<String>,
    /// Compare the subject's prefix and suffix with case (default: ignoring case, as the
    /// service does).
    #[serde(alias = "is_subject_case_sensitive")]
    pub is_subject_case_sensitive: bool,
    /// Advanced filters, all of which must pass.
    #[serde(alias = "advanced_filters")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advanced_filters: Vec<AdvancedFilter>,
    /// Let advanced filters look into arrays (`enableAdvancedFilteringOnArrays`).
    #[serde(alias = "enable_advanced_filtering_on_arrays")]
    pub enable_advanced_filtering_on_arrays: bool,
}

impl EventFilter {
    /// A filter that passes every event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also requires the event type to be one of `types`.
    pub fn event_types(mut self, types: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.included_event_types
            .extend(types.into_iter().map(Into::into));
        self
    }

    /// Requires the subject to begin with `prefix`.
    pub fn subject_begins_with(mut self, prefix: impl Into<String>) -> Self {
        self.subject_begins_with = Some(prefix.into());
        self
    }

    /// Requires the subject to end with `suffix`.
    pub fn subject_ends_with(mut self, suffix: impl Into<String>) -> Self {
        self.subject_ends_with = Some(suffix.into());
        self
    }

    /// Adds an advanced filter.
    pub fn advanced(mut self, filter: AdvancedFilter) -> Self {
        self.advanced_filters.push(filter);
        self
    }

    /// Checks the service's limits.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.advanced_filters.len() > MAX_ADVANCED_FILTERS {
            return Err(format!(
                "{} advanced filters; at most {MAX_ADVANCED_FILTERS} are allowed",
                self.advanced_filters.len()
            ));
        }
        Ok(())
    }

    /// Whether `event` (as delivered: Event Grid schema events carry `topic`) passes.
    pub(crate) fn matches(&self, schema: Schema, event: &Value) -> bool {
        if !self.included_event_types.is_empty() {
            let type_field = if schema == Schema::CloudEvents {
                "type"
            } else {
                "eventType"
            };
            let Some(event_type) = event.get(type_field).and_then(Value::as_str) else {
                return false;
            };
            if !self
                .included_event_types
                .iter()
                .any(|included| included.eq_ignore_ascii_case(event_type))
            {
                return false;
            }
        }
        if self.subject_begins_with.is_some() || self.subject_ends_with.is_some() {
            let subject = event.get("subject").and_then(Value::as_str).unwrap_or("");
            let fold = |text: &str| {
                if self.is_subject_case_sensitive {
                    text.to_owned()
                } else {
                    text.to_lowercase()
                }
            };
            let subject = fold(subject);
            if let Some(prefix) = &self.subject_begins_with
                && !subject.starts_with(&fold(prefix))
            {
                return false;
            }
            if let Some(suffix) = &self.subject_ends_with
                && !subject.ends_with(&fold(suffix))
            {
                return false;
            }
        }
        self.advanced_filters.iter().all(|filter| {
            filter.matches(
                lookup(event, filter.key()),
                self.enable_advanced_filtering_on_arrays,
            )
        })
    }
}

/// The value an advanced filter's key names: a top-level field (`Subject`, `EventType`, `ID`,
/// CloudEvents attributes and extensions), matched ignoring case as the service's envelope keys
/// are, or a dotted path (`data.order.total`) whose segments below the top level are exact.
fn lookup<'e>(event: &'e Value, key: &str) -> Option<&'e Value> {
    let mut segments = key.split('.');
    let first = segments.next()?;
    let members = event.as_object()?;
    let mut value = members.get(first).or_else(|| {
        members
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(first))
            .map(|(_, value)| value)
    })?;
    for segment in segments {
        value = match value {
            Value::Object(members) => members.get(segment)?,
            Value::Array(elements) => elements.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "id": "1", "topic": "/subscriptions/x/topics/orders", "subject": "Orders/EU/42.json",
            "eventType": "Order.Placed", "dataVersion": "2.0",
            "data": {"total": 120, "customer": {"tier": "Gold"}, "tags": ["new", "vip"]}
        })
    }

    fn filter(json: Value) -> EventFilter {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn included_event_types_ignore_case() {
        let types = EventFilter::new().event_types(["order.placed", "order.paid"]);
        assert!(types.matches(Schema::EventGrid, &event()));
        let other = EventFilter::new().event_types(["order.shipped"]);
        assert!(!other.matches(Schema::EventGrid, &event()));
        let cloud_event = json!({"type": "order.placed", "id": "1"});
        assert!(types.matches(Schema::CloudEvents, &cloud_event));
        assert!(!types.matches(Schema::EventGrid, &cloud_event));
    }

    #[test]
    fn subject_prefix_and_suffix_ignore_case_unless_asked() {
        let loose = EventFilter::new()
            .subject_begins_with("orders/eu/")
            .subject_ends_with(".JSON");
        assert!(loose.matches(Schema::EventGrid, &event()));
        let mut strict = loose.clone();
        strict.is_subject_case_sensitive = true;
        assert!(!strict.matches(Schema::EventGrid, &event()));
        let exact =
            filter(json!({"subjectBeginsWith": "Orders/EU", "isSubjectCaseSensitive": true}));
        assert!(exact.matches(Schema::EventGrid, &event()));
        assert!(
            !EventFilter::new()
                .subject_ends_with(".xml")
                .matches(Schema::EventGrid, &event())
        );
    }

    #[test]
    fn advanced_filter_keys_reach_envelope_and_data() {
        let cases = [
            (
                json!({"operatorType": "StringIn", "key": "EventType", "values": ["order.placed"]}),
                true,
            ),
            (
                json!({"operatorType": "StringBeginsWith", "key": "Topic", "values": ["/subscriptions/"]}),
                true,
            ),
            (
                json!({"operatorType": "StringIn", "key": "ID", "values": ["1"]}),
                true,
            ),
            (
                json!({"operatorType": "StringIn", "key": "DataVersion", "values": ["2.0"]}),
                true,
            ),
            (
                json!({"operatorType": "NumberGreaterThan", "key": "data.total", "value": 100}),
                true,
            ),
            (
                json!({"operatorType": "StringIn", "key": "data.customer.tier", "values": ["gold"]}),
                true,
            ),
            (
                json!({"operatorType": "StringIn", "key": "data.Customer.tier", "values": ["gold"]}),
                false,
            ),
            (
                json!({"operatorType": "IsNullOrUndefined", "key": "data.customer.region"}),
                true,
            ),
            (
                json!({"operatorType": "StringIn", "key": "data.tags.1", "values": ["vip"]}),
                true,
            ),
        ];
        for (advanced, expected) in cases {
            let subscription = filter(json!({"advancedFilters": [advanced.clone()]}));
            assert_eq!(
                subscription.matches(Schema::EventGrid, &event()),
                expected,
                "{advanced}"
            );
        }
    }

    #[test]
    fn advanced_filters_are_anded_and_arrays_need_the_flag() {
        let both = filter(json!({"advancedFilters": [
            {"operatorType": "NumberGreaterThan", "key": "data.total", "value": 100},
            {"operatorType": "StringIn", "key": "data.tags", "values": ["vip"]}
        ]}));
        assert!(!both.matches(Schema::EventGrid, &event()));
        let mut with_arrays = both.clone();
        with_arrays.enable_advanced_filtering_on_arrays = true;
        assert!(with_arrays.matches(Schema::EventGrid, &event()));
    }

    #[test]
    fn cloud_events_keys_are_attribute_and_extension_names() {
        let cloud_event = json!({"id": "1", "source": "/orders", "type": "t", "specversion": "1.0",
            "tenant": "contoso", "data": {"n": 1}});
        let subscription = filter(json!({"advancedFilters": [
            {"operatorType": "StringIn", "key": "source", "values": ["/ORDERS"]},
            {"operatorType": "StringIn", "key": "tenant", "values": ["contoso"]},
            {"operatorType": "StringIn", "key": "specversion", "values": ["1.0"]},
            {"operatorType": "NumberIn", "key": "data.n", "values": [1]}
        ]}));
        assert!(subscription.matches(Schema::CloudEvents, &cloud_event));
    }

    #[test]
    fn at_most_25_advanced_filters() {
        let one = json!({"operatorType": "IsNotNull", "key": "id"});
        let many = filter(json!({"advancedFilters": vec![one; 26]}));
        assert!(many.validate().unwrap_err().contains("at most 25"));
        assert!(EventFilter::new().validate().is_ok());
    }
}
