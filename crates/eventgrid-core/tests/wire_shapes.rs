//! The events we write have the field names and shapes the official SDKs put on the wire
//! (requests recorded from azure-eventgrid 4.22.1) and the REST specification's examples.

use std::path::PathBuf;

use eventgrid_core::frontend::{Action, ClientCore, EncodedBatch, Now, Topic};
use eventgrid_core::{
    ClientOptions, CloudEvent, Credential, CustomEvent, EventGridConfig, EventGridEvent,
    EventGridTopicConfig, KeyCredential, Schema,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Times compare as instants: the SDKs write `.000Z`, we write the shortest RFC 3339 form.
fn normalize_times(mut value: Value) -> Value {
    for key in ["eventTime", "time"] {
        if let Some(Value::String(text)) = value.get(key) {
            let at = OffsetDateTime::parse(text, &Rfc3339).unwrap();
            value[key] = Value::String(at.unix_timestamp_nanos().to_string());
        }
    }
    value
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(event: &Value) -> Value {
    let parsed: T = serde_json::from_value(event.clone()).unwrap();
    serde_json::to_value(&parsed).unwrap()
}

fn captures_with(content_type: &str) -> Vec<Value> {
    let captures = fixture("sdk-wire-captures.json");
    captures["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["headers"]["Content-Type"] == content_type)
        .cloned()
        .collect()
}

#[test]
fn eventgrid_events_match_the_python_sdk_captures() {
    let requests = captures_with("application/json; charset=utf-8");
    let mut checked = 0;
    for request in requests {
        let body: Vec<Value> = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        for event in body.iter().filter(|e| e.get("eventType").is_some()) {
            let ours = round_trip::<EventGridEvent>(event);
            assert_eq!(
                normalize_times(ours),
                normalize_times(event.clone()),
                "{event}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} events checked");
}

#[test]
fn cloud_events_match_the_python_sdk_captures() {
    let requests = captures_with("application/cloudevents-batch+json; charset=utf-8");
    assert!(!requests.is_empty());
    for request in requests {
        let body: Vec<Value> = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        for event in &body {
            let ours = round_trip::<CloudEvent>(event);
            assert_eq!(
                normalize_times(ours),
                normalize_times(event.clone()),
                "{event}"
            );
        }
    }
}

#[test]
fn our_cloud_event_writes_binary_data_like_the_sdk() {
    let event = CloudEvent::binary(
        "/bin",
        "blob.bytes",
        b"\x00\x01binary".to_vec(),
        "application/octet-stream",
    )
    .with_id("44444444-4444-4444-4444-444444444444")
    .with_time(time::macros::datetime!(2023-01-01 12:00:00 UTC));
    let ours = serde_json::to_value(&event).unwrap();
    assert_eq!(ours["data_base64"], "AAFiaW5hcnk=");
    assert_eq!(ours["specversion"], "1.0");
}

#[test]
fn spec_examples_parse_and_round_trip() {
    let eventgrid = fixture("spec-examples/PublishEventsToEventGridTopic.json");
    for event in eventgrid["parameters"]["events"].as_array().unwrap() {
        assert_eq!(
            normalize_times(round_trip::<EventGridEvent>(event)),
            normalize_times(event.clone())
        );
    }
    let cloud = fixture("spec-examples/PublishEventsToEventGridTopicAsCloudEvents.json");
    for event in cloud["parameters"]["events"].as_array().unwrap() {
        assert_eq!(
            normalize_times(round_trip::<CloudEvent>(event)),
            normalize_times(event.clone())
        );
    }
    let custom = fixture("spec-examples/PublishEventsToEventGridTopicAsCustomSchemaEvents.json");
    for event in custom["parameters"]["events"].as_array().unwrap() {
        assert_eq!(&round_trip::<CustomEvent>(event), event);
    }
}

#[test]
fn requests_carry_the_sdk_path_and_headers() {
    let config = EventGridConfig::new([
        EventGridTopicConfig::new(
            "eg",
            "https://mytopic.westus2-1.eventgrid.azure.net/api/events",
        )
        .unwrap(),
        EventGridTopicConfig::new("ce", "https://mytopic.westus2-1.eventgrid.azure.net")
            .unwrap()
            .with_schema(Schema::CloudEvents)
            .with_credential(KeyCredential::sas_token("r=x&e=y&s=z")),
    ])
    .unwrap();
    let core = ClientCore::new(
        config,
        &Credential::access_key("S2V5S2V5S2V5"),
        ClientOptions::default(),
    )
    .unwrap();
    let captures = fixture("sdk-wire-captures.json");
    let [eg_capture, ce_capture] = [0, 1].map(|i| captures["requests"][i].clone());

    let event =
        EventGridEvent::new("user.updated", "users/1", serde_json::json!({"user_id": 1})).unwrap();
    let (topic, mut batches) = core.prepare("eg", [event]).unwrap();
    let request = first_request(&core, &topic, batches.remove(0));
    let path = request.uri().path_and_query().unwrap().as_str();
    assert_eq!(path, eg_capture["path"]);
    assert_eq!(
        request.headers()["content-type"],
        eg_capture["headers"]["Content-Type"].as_str().unwrap()
    );
    assert_eq!(
        request.headers()["aeg-sas-key"],
        eg_capture["headers"]["aeg-sas-key"].as_str().unwrap()
    );

    let (topic, mut batches) = core
        .prepare("ce", [CloudEvent::without_data("/s", "t")])
        .unwrap();
    let request = first_request(&core, &topic, batches.remove(0));
    assert_eq!(
        request.uri().path_and_query().unwrap().as_str(),
        ce_capture["path"]
    );
    assert_eq!(
        request.headers()["content-type"],
        ce_capture["headers"]["Content-Type"].as_str().unwrap()
    );
    assert_eq!(
        request.headers()["aeg-sas-token"],
        ce_capture["headers"]["aeg-sas-token"].as_str().unwrap()
    );
}

/// The request the engine sends first for `batch`.
fn first_request(
    core: &ClientCore,
    topic: &std::sync::Arc<Topic>,
    batch: EncodedBatch,
) -> http::Request<bytes::Bytes> {
    let mut operation = core.publish(topic, batch, std::time::Instant::now());
    match operation.poll(Now::system()) {
        Action::Send { request, .. } => request,
        other => panic!("{other:?}"),
    }
}
