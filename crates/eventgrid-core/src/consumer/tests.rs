//! Deliveries in the shapes the service sends them (tests/fixtures/push), end to end through
//! `receive`.

use http::{Method, Request};
use serde_json::json;

use super::system::SystemEvent;
use super::*;
use crate::cloud_event::CloudEventData;

const VALIDATION: &str = include_str!("../../../../tests/fixtures/push/eventgrid-validation.json");
const NOTIFICATION: &str =
    include_str!("../../../../tests/fixtures/push/eventgrid-notification.json");
const DELETED: &str =
    include_str!("../../../../tests/fixtures/push/eventgrid-subscription-deleted.json");
const CLOUD_SINGLE: &str =
    include_str!("../../../../tests/fixtures/push/cloudevents-blob-created.json");
const CLOUD_BATCH: &str = include_str!("../../../../tests/fixtures/push/cloudevents-batch.json");

fn post(content_type: &str, body: &str) -> Request<Vec<u8>> {
    Request::post("/api/updates")
        .header("content-type", content_type)
        .header("aeg-event-type", "Notification")
        .header("aeg-subscription-name", "ORDERS-SUB")
        .header("aeg-delivery-count", "0")
        .header("aeg-metadata-version", "1")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn read(request: &Request<Vec<u8>>) -> Result<Incoming, ReceiveError> {
    receive(request, &ReceiveOptions::default())
}

fn delivery(request: &Request<Vec<u8>>) -> PushDelivery {
    match read(request) {
        Ok(Incoming::Delivery(delivery)) => delivery,
        other => panic!("expected a delivery, got {other:?}"),
    }
}

#[test]
fn the_event_grid_validation_event_is_a_handshake_with_its_answer() {
    let mut request = post("application/json; charset=utf-8", VALIDATION);
    request
        .headers_mut()
        .insert("aeg-event-type", "SubscriptionValidation".parse().unwrap());
    let Ok(Incoming::Handshake(Handshake::SubscriptionValidation(validation))) = read(&request)
    else {
        panic!("a validation handshake")
    };
    assert_eq!(validation.code(), "512d38b6-c7b8-40c8-89fe-f46f9e9622b6");
    assert!(
        validation
            .url()
            .unwrap()
            .starts_with("https://rp-eastus2.eventgrid.azure.net:553/")
    );
    assert_eq!(
        validation.event_id(),
        "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66"
    );
    assert_eq!(
        validation.headers().event_type(),
        Some(&AegEventType::SubscriptionValidation)
    );
    let answer = validation.response();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(answer.body()).unwrap(),
        json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})
    );
}

#[test]
fn a_validation_event_without_a_code_is_refused_by_field() {
    let body = VALIDATION.replace("\"validationCode\"", "\"code\"");
    let error = read(&post("application/json", &body)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "event 0: `data.validationCode` is missing or empty"
    );
    let mut request = post("application/json", NOTIFICATION);
    request
        .headers_mut()
        .insert("aeg-event-type", "SubscriptionValidation".parse().unwrap());
    assert!(
        read(&request)
            .unwrap_err()
            .to_string()
            .contains("as aeg-event-type")
    );
}

#[test]
fn the_cloudevents_options_handshake_grants_the_origin() {
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/updates")
        .header("WebHook-Request-Origin", "eventgrid.azure.net")
        .header(
            "WebHook-Request-Callback",
            "https://rp.eventgrid.azure.net/validate?id=1",
        )
        .body(Vec::new())
        .unwrap();
    let Ok(Incoming::Handshake(Handshake::AbuseProtection(asked))) = read(&request) else {
        panic!("an abuse-protection handshake")
    };
    assert_eq!(asked.origin(), "eventgrid.azure.net");
    assert_eq!(
        asked.callback(),
        Some("https://rp.eventgrid.azure.net/validate?id=1")
    );
    assert_eq!(asked.requested_rate(), None);
    let answer = asked.response();
    assert_eq!(
        answer.headers()[WEBHOOK_ALLOWED_ORIGIN],
        "eventgrid.azure.net"
    );

    let without_origin = Request::builder()
        .method(Method::OPTIONS)
        .body(Vec::new())
        .unwrap();
    let error = read(&without_origin).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("header `webhook-request-origin`: is missing")
    );
    let mut bad_rate = request.clone();
    bad_rate
        .headers_mut()
        .insert("WebHook-Request-Rate", "fast".parse().unwrap());
    assert!(
        read(&bad_rate)
            .unwrap_err()
            .to_string()
            .contains("webhook-request-rate")
    );
}

#[test]
fn event_grid_schema_notifications_are_read_with_their_headers() {
    let delivery = delivery(&post("application/json; charset=utf-8", NOTIFICATION));
    assert_eq!(delivery.mode(), ContentMode::JsonArray);
    assert_eq!(delivery.headers().subscription_name(), Some("ORDERS-SUB"));
    assert_eq!(delivery.headers().delivery_count(), Some(0));
    let ReceivedEvents::EventGrid(events) = delivery.events() else {
        panic!("Event Grid schema")
    };
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].data_version(), "");
    let SystemEvent::StorageBlobCreated(blob) = SystemEvent::parse(&events[0]).unwrap() else {
        panic!("a blob created event")
    };
    assert_eq!(blob.api.as_deref(), Some("PutBlockList"));
    assert_eq!(blob.content_length, Some(524_288));
    assert_eq!(
        blob.storage_diagnostics.unwrap()["batchId"],
        "b68529f3-68cd-4744-baa4-3c0498ec19f0"
    );

    #[derive(serde::Deserialize)]
    struct Order {
        order_id: u64,
        total: f64,
    }
    let order: Order = events[1].data_as().unwrap();
    assert_eq!((order.order_id, order.total), (42, 99.5));
    assert_eq!(
        SystemEvent::parse(&events[1]).unwrap(),
        SystemEvent::Other("order.placed".into())
    );
    assert!(events[1].topic().unwrap().ends_with("/topics/orders"));
}

#[test]
fn the_subscription_deleted_event_is_typed() {
    let mut request = post("application/json", DELETED);
    request
        .headers_mut()
        .insert("aeg-event-type", "SubscriptionDeletion".parse().unwrap());
    let delivery = delivery(&request);
    assert_eq!(
        delivery.headers().event_type(),
        Some(&AegEventType::SubscriptionDeletion)
    );
    let event = delivery.events().iter().next().unwrap();
    let SystemEvent::SubscriptionDeleted(data) = SystemEvent::parse(event).unwrap() else {
        panic!("a subscription deleted event")
    };
    assert!(
        data.event_subscription_id
            .unwrap()
            .ends_with("/eventSubscriptions/orders-sub")
    );
}

#[test]
fn a_structured_cloudevent_is_read() {
    let delivery = delivery(&post(
        "application/cloudevents+json; charset=utf-8",
        CLOUD_SINGLE,
    ));
    assert_eq!(delivery.mode(), ContentMode::CloudEventsStructured);
    let ReceivedEvents::CloudEvents(events) = delivery.events() else {
        panic!("CloudEvents")
    };
    let event = &events[0];
    assert_eq!(event.id(), "beb21a5e-401e-002b-3749-928517060431");
    assert_eq!(event.time().unwrap().nanosecond(), 424_822_100);
    let SystemEvent::StorageBlobCreated(blob) = SystemEvent::parse(event).unwrap() else {
        panic!("a blob created event")
    };
    assert_eq!(blob.access_tier.as_deref(), Some("Hot"));
    assert_eq!(blob.content_length, Some(17_555));
}

#[test]
fn a_cloudevents_batch_types_each_system_event() {
    let delivery = delivery(&post(
        "application/cloudevents-batch+json; charset=utf-8",
        CLOUD_BATCH,
    ));
    assert_eq!(delivery.mode(), ContentMode::CloudEventsBatch);
    let parsed: Vec<SystemEvent> = delivery
        .events()
        .iter()
        .map(|event| SystemEvent::parse(event).unwrap())
        .collect();
    let [
        SystemEvent::ResourceWriteSuccess(write),
        SystemEvent::KeyVaultSecretNearExpiry(secret),
        SystemEvent::ServiceBusActiveMessagesAvailableWithNoListeners(bus),
        SystemEvent::ContainerRegistryImagePushed(image),
    ] = parsed.as_slice()
    else {
        panic!("unexpected events: {parsed:?}")
    };
    assert_eq!(
        write.operation_name.as_deref(),
        Some("Microsoft.Storage/storageAccounts/write")
    );
    assert_eq!(
        write.authorization.as_ref().unwrap().evidence["role"],
        "Subscription Admin"
    );
    assert_eq!(write.claims["ver"], "1.0");
    assert_eq!(secret.object_name.as_deref(), Some("newsecret"));
    assert_eq!(secret.expires().unwrap().unix_timestamp(), 1_559_082_102);
    assert_eq!(bus.queue_name, None);
    assert_eq!(bus.entity_type.as_deref(), Some("subscriber"));
    let target = image.target.as_ref().unwrap();
    assert_eq!(
        (target.repository.as_deref(), target.tag.as_deref()),
        (Some("samples/nginx"), Some("latest"))
    );
    assert_eq!(
        image.connected_registry.as_ref().unwrap().name.as_deref(),
        Some("edge1")
    );
    assert_eq!(image.timestamp.unwrap().year(), 2021);
}

#[test]
fn cloudevents_in_plain_json_are_told_apart_by_specversion() {
    let delivery = delivery(&post("application/json", CLOUD_BATCH));
    assert!(matches!(delivery.events(), ReceivedEvents::CloudEvents(events) if events.len() == 4));
    let single = delivery_of("application/json", CLOUD_SINGLE);
    assert!(matches!(single.events(), ReceivedEvents::CloudEvents(events) if events.len() == 1));
}

fn delivery_of(content_type: &str, body: &str) -> PushDelivery {
    delivery(&post(content_type, body))
}

#[test]
fn a_binary_mode_cloudevent_is_read() {
    let request = Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", "A234-1234-1234")
        .header("ce-source", "/orders")
        .header("ce-type", "order.placed")
        .header("ce-correlationid", "req-1")
        .header("content-type", "application/json")
        .body(br#"{"order_id": 7, "total": 1.5}"#.to_vec())
        .unwrap();
    let delivery = delivery(&request);
    assert_eq!(delivery.mode(), ContentMode::CloudEventsBinary);
    let ReceivedEvents::CloudEvents(events) = delivery.into_events() else {
        panic!("CloudEvents")
    };
    assert_eq!(events[0].extensions()["correlationid"], "req-1");
    assert_eq!(
        events[0].data_as::<serde_json::Value>().unwrap()["order_id"],
        7
    );
    assert!(matches!(events[0].data(), CloudEventData::Json(_)));
}

#[test]
fn errors_name_the_event_and_the_field() {
    let mut events: serde_json::Value = serde_json::from_str(CLOUD_BATCH).unwrap();
    events[2].as_object_mut().unwrap().remove("id");
    let error = read(&post(
        "application/cloudevents-batch+json",
        &events.to_string(),
    ))
    .unwrap_err();
    assert_eq!(error.to_string(), "event 2: `id` is missing");
    assert_eq!(error.status(), 400);

    let mut events: serde_json::Value = serde_json::from_str(NOTIFICATION).unwrap();
    events[1]["eventTime"] = json!("tomorrow");
    let error = read(&post("application/json", &events.to_string())).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("event 1: `eventTime` is not an RFC 3339"),
        "{error}"
    );

    // A CloudEvents array with an Event Grid event in it.
    let mixed = format!(
        "[{CLOUD_SINGLE}, {}]",
        &NOTIFICATION.trim()[1..NOTIFICATION.trim().len() - 1]
    );
    let error = read(&post("application/json", &mixed)).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("event 1: `specversion` is missing"),
        "{error}"
    );
}

#[test]
fn malformed_bodies_and_requests_are_refused_with_their_status() {
    let cases: [(Request<Vec<u8>>, u16, &str); 6] = [
        (post("application/json", "[{"), 400, "the body is not JSON"),
        (
            post("application/json", "{\"id\": 1}"),
            400,
            "the body is one JSON object without `specversion`",
        ),
        (
            post("application/json", "\"text\""),
            400,
            "the body is not a JSON array of events",
        ),
        (
            post("application/cloudevents+json", "[]"),
            400,
            "the body is not a JSON object",
        ),
        (
            post("text/plain", "hello"),
            415,
            "content type `text/plain` is not a delivery",
        ),
        (
            Request::get("/").body(Vec::new()).unwrap(),
            405,
            "method GET is not a delivery",
        ),
    ];
    for (request, status, message) in cases {
        let error = read(&request).unwrap_err();
        assert_eq!(error.status(), status, "{error}");
        assert!(error.to_string().starts_with(message), "{error}");
    }
}

#[test]
fn limits_bound_what_is_read() {
    let request = post("application/json", NOTIFICATION);
    let small = ReceiveOptions::default().with_max_body_bytes(100);
    let error = receive(&request, &small).unwrap_err();
    assert_eq!(error.status(), 413);
    let one = ReceiveOptions::default().with_max_events(1);
    let error = receive(&request, &one).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the body holds 2 events, over the limit of 1"
    );
    assert!(receive(&post("application/json", "[]"), &one).is_ok());
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "[",
        "[[[[[[[[[[",
        "[1, 2]",
        "[null]",
        "[{\"specversion\": 1}]",
        "\u{0}",
        "[{\"id\":\"1\",\"subject\":\"s\",\"eventType\":\"Microsoft.EventGrid.SubscriptionValidationEvent\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"dataVersion\":\"1\",\"data\":7}]",
    ];
    let deep = "[".repeat(10_000);
    for body in inputs.iter().copied().chain([deep.as_str()]) {
        for content_type in [
            "application/json",
            "application/cloudevents+json",
            "application/cloudevents-batch+json",
        ] {
            assert!(
                read(&post(content_type, body)).is_err(),
                "{content_type} {body:?}"
            );
        }
    }
}

#[test]
fn custom_schema_events_are_delivered_as_they_were_published() {
    let body = r#"[{"orderId": 42, "kind": "placed"}, {"orderId": 43, "kind": "paid"}]"#;
    let delivery = delivery(&post("application/json", body));
    let ReceivedEvents::Custom(events) = delivery.events() else {
        panic!("custom schema events")
    };
    assert_eq!(events.len(), 2);
    let second = delivery.events().iter().nth(1).unwrap();
    assert_eq!(
        second.data_as::<serde_json::Value>().unwrap()["kind"],
        "paid"
    );
    assert_eq!((second.event_type(), second.subject()), ("", None));
    assert_eq!(
        SystemEvent::parse(second).unwrap(),
        SystemEvent::Other(String::new())
    );
    let error = read(&post("application/json", r#"[{"orderId": 1}, 2]"#)).unwrap_err();
    assert_eq!(error.to_string(), "event 1: is not a JSON object");
}

#[test]
fn mutated_deliveries_never_panic() {
    // Every truncation of every fixture, and each byte replaced by a few troublesome ones:
    // whatever comes back, it comes back.
    let fixtures = [
        ("application/json", VALIDATION),
        ("application/json", NOTIFICATION),
        ("application/json", DELETED),
        ("application/cloudevents+json", CLOUD_SINGLE),
        ("application/cloudevents-batch+json", CLOUD_BATCH),
    ];
    let options = ReceiveOptions::default();
    for (content_type, text) in fixtures {
        let bytes = text.as_bytes();
        let read = |body: &[u8]| {
            let _ = receive_parts(
                &Method::POST,
                post(content_type, "").headers(),
                body,
                &options,
            );
        };
        for cut in 0..bytes.len() {
            read(&bytes[..cut]);
        }
        for position in (0..bytes.len()).step_by(7) {
            for replacement in [b'"', b'{', b']', b'\\', 0xff, b'9'] {
                let mut mutated = bytes.to_vec();
                mutated[position] = replacement;
                read(&mutated);
            }
        }
    }
}
