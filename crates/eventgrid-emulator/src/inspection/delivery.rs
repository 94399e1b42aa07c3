//! Events as Event Grid delivers them to subscribers: the service stamps Event Grid schema
//! events with the topic's resource id and `metadataVersion`, which consumers' parsers (the
//! JavaScript SDK's `EventGridDeserializer`, for one) require.

use serde_json::{Map, Value};

use crate::config::topic::Schema;

/// The Azure subscription of the emulator's resource ids.
const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
/// The resource group of the emulator's resource ids.
const RESOURCE_GROUP: &str = "eventgrid-emulator";

/// The resource id Event Grid would give topic `name`.
pub(crate) fn topic_resource_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.EventGrid/topics/{name}"
    )
}

/// One kept event (its JSON text), parsed.
///
/// Publishing keeps only what `serde_json` reads back, so this always parses; were it ever not
/// to, the text is shown as a string rather than failing the inspection.
pub(crate) fn parsed(event: &[u8]) -> Value {
    serde_json::from_slice(event)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(event).into_owned()))
}

/// One kept event (its JSON text) as a subscriber would receive it.
pub(crate) fn as_delivered(schema: Schema, topic: &str, event: &[u8]) -> Value {
    let mut value = parsed(event);
    if schema == Schema::EventGrid
        && let Some(members) = value.as_object_mut()
    {
        stamp(members, topic);
    }
    value
}

fn stamp(members: &mut Map<String, Value>, topic: &str) {
    members
        .entry("topic")
        .or_insert_with(|| Value::String(topic_resource_id(topic)));
    members
        .entry("metadataVersion")
        .or_insert_with(|| Value::String("1".to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_grid_events_get_topic_and_metadata_version() {
        let delivered = as_delivered(Schema::EventGrid, "orders", br#"{"id":"1"}"#);
        assert_eq!(
            delivered,
            json!({"id": "1", "metadataVersion": "1", "topic":
                "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/eventgrid-emulator/providers/Microsoft.EventGrid/topics/orders"})
        );
        let domain_event = as_delivered(Schema::EventGrid, "d", br#"{"id":"1","topic":"t1"}"#);
        assert_eq!(domain_event["topic"], "t1");
        let cloud_event = as_delivered(Schema::CloudEvents, "c", br#"{"id":"1"}"#);
        assert_eq!(cloud_event, json!({"id": "1"}));
    }
}
