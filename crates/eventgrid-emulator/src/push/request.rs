//! The requests Event Grid sends a webhook: notifications with the `aeg-*` headers and the
//! content type of the delivery schema, and the Event Grid schema validation event.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderName, Method, Request, Uri};
use serde_json::{Map, Value, json};

use crate::config::topic::Schema;
use crate::inspection::delivery::topic_resource_id;

pub(crate) const EVENT_TYPE: HeaderName = HeaderName::from_static("aeg-event-type");
pub(crate) const SUBSCRIPTION_NAME: HeaderName = HeaderName::from_static("aeg-subscription-name");
pub(crate) const DELIVERY_COUNT: HeaderName = HeaderName::from_static("aeg-delivery-count");
pub(crate) const DATA_VERSION: HeaderName = HeaderName::from_static("aeg-data-version");
pub(crate) const METADATA_VERSION: HeaderName = HeaderName::from_static("aeg-metadata-version");
pub(crate) const OUTPUT_EVENT_ID: HeaderName = HeaderName::from_static("aeg-output-event-id");

const JSON: &str = "application/json; charset=utf-8";
const CLOUD_EVENT: &str = "application/cloudevents+json; charset=utf-8";
const CLOUD_EVENTS_BATCH: &str = "application/cloudevents-batch+json; charset=utf-8";

/// One event of a topic of schema `topic_schema` as the topic's subscribers see it (and filters
/// judge it): Event Grid schema events carry the topic's resource id and `metadataVersion`.
pub(crate) fn stamped_event(topic_schema: Schema, topic: &str, text: &[u8]) -> Option<Value> {
    let mut event: Value = serde_json::from_slice(text).ok()?;
    if topic_schema == Schema::EventGrid {
        let members = event.as_object_mut()?;
        members
            .entry("topic")
            .or_insert_with(|| Value::String(topic_resource_id(topic)));
        members
            .entry("metadataVersion")
            .or_insert_with(|| Value::String("1".to_owned()));
    }
    Some(event)
}

/// A stamped event in `delivery_schema`: converted to CloudEvents from the Event Grid schema,
/// `eventType` becomes `type`, `eventTime` `time` and the topic `source`; otherwise as it is.
pub(crate) fn in_delivery_schema(
    topic_schema: Schema,
    delivery_schema: Schema,
    event: Value,
) -> Value {
    match (topic_schema, delivery_schema, event) {
        (Schema::EventGrid, Schema::CloudEvents, Value::Object(mut members)) => {
            Value::Object(to_cloud_event(&mut members))
        }
        (_, _, event) => event,
    }
}

#[cfg(test)]
fn delivered_event(
    topic_schema: Schema,
    delivery_schema: Schema,
    topic: &str,
    text: &[u8],
) -> Option<Value> {
    let event = stamped_event(topic_schema, topic, text)?;
    Some(in_delivery_schema(topic_schema, delivery_schema, event))
}

fn to_cloud_event(event: &mut Map<String, Value>) -> Map<String, Value> {
    let mut cloud_event = Map::new();
    cloud_event.insert("specversion".to_owned(), json!("1.0"));
    for (from, to) in [
        ("id", "id"),
        ("topic", "source"),
        ("subject", "subject"),
        ("eventType", "type"),
        ("eventTime", "time"),
    ] {
        if let Some(value) = event.remove(from) {
            cloud_event.insert(to.to_owned(), value);
        }
    }
    if let Some(data) = event.remove("data") {
        cloud_event.insert("datacontenttype".to_owned(), json!("application/json"));
        cloud_event.insert("data".to_owned(), data);
    }
    cloud_event
}

/// What one notification carries besides its events.
pub(crate) struct Notification<'a> {
    pub endpoint: &'a Uri,
    pub subscription: &'a str,
    pub schema: Schema,
    /// More than one event per batch allowed: CloudEvents go as a batch even when one is sent.
    pub batching: bool,
    /// Attempts made before this one.
    pub delivery_count: u32,
}

impl Notification<'_> {
    /// The POST for `events` (at least one).
    pub(crate) fn request(&self, events: &[Value]) -> Request<Bytes> {
        let (content_type, body) = match self.schema {
            Schema::CloudEvents if !self.batching && events.len() == 1 => {
                (CLOUD_EVENT, serde_json::to_vec(&events[0]))
            }
            Schema::CloudEvents => (CLOUD_EVENTS_BATCH, serde_json::to_vec(events)),
            _ => (JSON, serde_json::to_vec(events)),
        };
        let body = body.expect("JSON values serialize");
        let mut request = base_request(self.endpoint, Method::POST, self.subscription, body);
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(EVENT_TYPE, HeaderValue::from_static("Notification"));
        headers.insert(DELIVERY_COUNT, HeaderValue::from(self.delivery_count));
        if self.schema == Schema::EventGrid
            && let Some(version) = events[0].get("dataVersion").and_then(Value::as_str)
            && let Ok(version) = HeaderValue::from_str(version)
        {
            headers.insert(DATA_VERSION, version);
        }
        let id_field = events[0].get("id").and_then(Value::as_str);
        if let Some(id) = id_field.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.insert(OUTPUT_EVENT_ID, id);
        }
        request
    }
}

/// The `Microsoft.EventGrid.SubscriptionValidationEvent` POST, as the service sends it when a
/// subscription is created.
pub(crate) fn validation_request(
    endpoint: &Uri,
    subscription: &str,
    topic: &str,
    code: &str,
    validation_url: &str,
    now: &str,
) -> Request<Bytes> {
    let event = json!([{
        "id": uuid::Uuid::new_v4().to_string(),
        "topic": topic_resource_id(topic),
        "subject": "",
        "data": {"validationCode": code, "validationUrl": validation_url},
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": now,
        "metadataVersion": "1",
        "dataVersion": "1",
    }]);
    let body = serde_json::to_vec(&event).expect("JSON values serialize");
    let mut request = base_request(endpoint, Method::POST, subscription, body);
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    headers.insert(
        EVENT_TYPE,
        HeaderValue::from_static("SubscriptionValidation"),
    );
    headers.insert(DELIVERY_COUNT, HeaderValue::from_static("0"));
    headers.insert(DATA_VERSION, HeaderValue::from_static("1"));
    request
}

/// The `Microsoft.EventGrid.SubscriptionDeletedEvent` a validated endpoint gets when its
/// subscription is deleted (`aeg-event-type: SubscriptionDeletion`), in the delivery schema.
pub(crate) fn deletion_request(
    endpoint: &Uri,
    subscription: &str,
    topic: &str,
    schema: Schema,
    now: &str,
) -> Request<Bytes> {
    let source = topic_resource_id(topic);
    let data = json!({
        "eventSubscriptionId": format!("{source}/providers/Microsoft.EventGrid/eventSubscriptions/{subscription}")
    });
    let id = uuid::Uuid::new_v4().to_string();
    let event_type = "Microsoft.EventGrid.SubscriptionDeletedEvent";
    let (content_type, body) = if schema == Schema::CloudEvents {
        let event = json!({"specversion": "1.0", "id": id, "source": source, "type": event_type,
            "time": now, "datacontenttype": "application/json", "data": data});
        (CLOUD_EVENT, event)
    } else {
        let event = json!([{"id": id, "topic": source, "subject": "", "eventType": event_type,
            "eventTime": now, "data": data, "dataVersion": "1", "metadataVersion": "1"}]);
        (JSON, event)
    };
    let body = serde_json::to_vec(&body).expect("JSON values serialize");
    let mut request = base_request(endpoint, Method::POST, subscription, body);
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(EVENT_TYPE, HeaderValue::from_static("SubscriptionDeletion"));
    headers.insert(DELIVERY_COUNT, HeaderValue::from_static("0"));
    request
}

/// The CloudEvents abuse-protection `OPTIONS` request, with a callback the endpoint may GET
/// later instead of granting at once.
pub(crate) fn abuse_protection_request(endpoint: &Uri, callback: &str) -> Request<Bytes> {
    let mut request = base_request(endpoint, Method::OPTIONS, "", Vec::new());
    let headers = request.headers_mut();
    headers.insert(
        HeaderName::from_static("webhook-request-origin"),
        HeaderValue::from_static(super::handshake::REQUEST_ORIGIN),
    );
    if let Ok(callback) = HeaderValue::from_str(callback) {
        headers.insert(
            HeaderName::from_static("webhook-request-callback"),
            callback,
        );
    }
    request
}

fn base_request(
    endpoint: &Uri,
    method: Method,
    subscription: &str,
    body: Vec<u8>,
) -> Request<Bytes> {
    let mut request = Request::new(Bytes::from(body));
    *request.method_mut() = method;
    *request.uri_mut() = endpoint.clone();
    let headers = request.headers_mut();
    if !subscription.is_empty()
        && let Ok(name) = HeaderValue::from_str(&subscription.to_ascii_uppercase())
    {
        headers.insert(SUBSCRIPTION_NAME, name);
        headers.insert(METADATA_VERSION, HeaderValue::from_static("1"));
    }
    headers.insert(
        http::header::USER_AGENT,
        HeaderValue::from_static(concat!("eventgrid-emulator/", env!("CARGO_PKG_VERSION"))),
    );
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'r>(request: &'r Request<Bytes>, name: &str) -> Option<&'r str> {
        request
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap())
    }

    fn event_grid_event(id: &str) -> Value {
        delivered_event(
            Schema::EventGrid,
            Schema::EventGrid,
            "orders",
            format!(r#"{{"id":"{id}","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z","dataVersion":"2.0","data":{{"n":1}}}}"#).as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn event_grid_notifications_are_arrays_with_every_header() {
        let endpoint: Uri = "http://127.0.0.1:9/hook".parse().unwrap();
        let notification = Notification {
            endpoint: &endpoint,
            subscription: "audit-1",
            schema: Schema::EventGrid,
            batching: false,
            delivery_count: 2,
        };
        let request = notification.request(&[event_grid_event("a")]);
        assert_eq!(request.method(), Method::POST);
        assert_eq!(
            header(&request, "content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(header(&request, "aeg-event-type"), Some("Notification"));
        assert_eq!(header(&request, "aeg-subscription-name"), Some("AUDIT-1"));
        assert_eq!(header(&request, "aeg-delivery-count"), Some("2"));
        assert_eq!(header(&request, "aeg-metadata-version"), Some("1"));
        assert_eq!(header(&request, "aeg-data-version"), Some("2.0"));
        assert_eq!(header(&request, "aeg-output-event-id"), Some("a"));
        let body: Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body[0]["metadataVersion"], "1");
        assert!(
            body[0]["topic"]
                .as_str()
                .unwrap()
                .ends_with("/topics/orders")
        );
    }

    #[test]
    fn cloud_events_go_single_or_as_a_batch() {
        let endpoint: Uri = "http://127.0.0.1:9/".parse().unwrap();
        let event = delivered_event(
            Schema::CloudEvents,
            Schema::CloudEvents,
            "ce",
            br#"{"id":"1","type":"t"}"#,
        )
        .unwrap();
        let mut notification = Notification {
            endpoint: &endpoint,
            subscription: "sub",
            schema: Schema::CloudEvents,
            batching: false,
            delivery_count: 0,
        };
        let single = notification.request(std::slice::from_ref(&event));
        assert_eq!(
            header(&single, "content-type"),
            Some("application/cloudevents+json; charset=utf-8")
        );
        assert_eq!(header(&single, "aeg-data-version"), None);
        notification.batching = true;
        let batch = notification.request(&[event.clone(), event]);
        assert_eq!(
            header(&batch, "content-type"),
            Some("application/cloudevents-batch+json; charset=utf-8")
        );
    }

    #[test]
    fn event_grid_events_convert_to_cloud_events() {
        let converted = delivered_event(
            Schema::EventGrid,
            Schema::CloudEvents,
            "orders",
            br#"{"id":"1","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z","dataVersion":"1","data":{"n":1}}"#,
        )
        .unwrap();
        assert_eq!(converted["specversion"], "1.0");
        assert_eq!(
            (converted["type"].as_str(), converted["subject"].as_str()),
            (Some("t"), Some("s"))
        );
        assert_eq!(converted["time"], "2024-01-01T00:00:00Z");
        assert!(
            converted["source"]
                .as_str()
                .unwrap()
                .ends_with("/topics/orders")
        );
        assert_eq!(converted["data"]["n"], 1);
        assert!(converted.get("eventType").is_none());
    }

    #[test]
    fn the_deletion_event_follows_the_delivery_schema() {
        let endpoint: Uri = "https://example.com/hook".parse().unwrap();
        let now = "2024-01-01T00:00:00Z";
        let event_grid = deletion_request(&endpoint, "sub", "orders", Schema::EventGrid, now);
        assert_eq!(
            header(&event_grid, "aeg-event-type"),
            Some("SubscriptionDeletion")
        );
        let body: Value = serde_json::from_slice(event_grid.body()).unwrap();
        assert_eq!(
            body[0]["eventType"],
            "Microsoft.EventGrid.SubscriptionDeletedEvent"
        );
        assert!(
            body[0]["data"]["eventSubscriptionId"]
                .as_str()
                .unwrap()
                .ends_with("/eventSubscriptions/sub")
        );
        let cloud = deletion_request(&endpoint, "sub", "orders", Schema::CloudEvents, now);
        assert_eq!(
            header(&cloud, "content-type"),
            Some("application/cloudevents+json; charset=utf-8")
        );
        let body: Value = serde_json::from_slice(cloud.body()).unwrap();
        assert_eq!(body["type"], "Microsoft.EventGrid.SubscriptionDeletedEvent");
    }

    #[test]
    fn the_validation_event_has_the_services_shape() {
        let endpoint: Uri = "https://example.com/hook".parse().unwrap();
        let request = validation_request(
            &endpoint,
            "sub",
            "orders",
            "CODE",
            "http://v/",
            "2024-01-01T00:00:00Z",
        );
        assert_eq!(
            header(&request, "aeg-event-type"),
            Some("SubscriptionValidation")
        );
        let body: Value = serde_json::from_slice(request.body()).unwrap();
        let event = &body[0];
        assert_eq!(
            event["eventType"],
            "Microsoft.EventGrid.SubscriptionValidationEvent"
        );
        assert_eq!(event["subject"], "");
        assert_eq!(
            (
                event["dataVersion"].as_str(),
                event["metadataVersion"].as_str()
            ),
            (Some("1"), Some("1"))
        );
        assert_eq!(event["data"]["validationCode"], "CODE");
        assert_eq!(event["data"]["validationUrl"], "http://v/");
    }
}
