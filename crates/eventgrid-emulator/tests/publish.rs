//! Publishing as the service answers it: accepted bodies, validation, limits, api-version,
//! unknown paths, inspection and bounded retention.

mod support;

use eventgrid_emulator::{EmulatorConfig, Limits, Schema, TopicSpec};
use serde_json::{Value, json};
use support::{Client, cloud_event, event, events_body, publish_url, start};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn three_schemas() -> EmulatorConfig {
    EmulatorConfig::new()
        .topic(TopicSpec::open("eg"))
        .topic(TopicSpec::open("ce").with_schema(Schema::CloudEvents))
        .topic(TopicSpec::open("custom").with_schema(Schema::Custom))
}

const CE_BATCH: &str = "application/cloudevents-batch+json; charset=utf-8";

#[tokio::test]
async fn spec_examples_and_recorded_sdk_requests_are_accepted_and_kept_as_sent() {
    let emulator = start(three_schemas()).await;
    let client = Client::new();
    let cases = [
        (
            "eg",
            "PublishEventsToEventGridTopic.json",
            "application/json",
        ),
        (
            "ce",
            "PublishEventsToEventGridTopicAsCloudEvents.json",
            CE_BATCH,
        ),
        (
            "custom",
            "PublishEventsToEventGridTopicAsCustomSchemaEvents.json",
            "application/json",
        ),
    ];
    for (topic, file, content_type) in cases {
        let events = fixture(file)["parameters"]["events"].clone();
        let reply = client
            .send(
                "POST",
                &publish_url(&emulator, topic),
                &[("content-type", content_type)],
                events.to_string(),
            )
            .await;
        assert_eq!((reply.status, reply.body.as_str()), (200, ""), "{file}");
        assert!(
            reply
                .header("x-ms-request-id")
                .is_some_and(|id| id.len() == 36)
        );
        assert_eq!(reply.header("api-supported-versions"), Some("2018-01-01"));
        assert_eq!(Value::Array(emulator.events(topic)), events, "{file}");
    }

    let recording =
        &fixture("js_recording_publish_eventgrid_schema_single_event.json")["Entries"][0];
    let body = recording["RequestBody"].as_str().unwrap();
    let reply = client
        .post_json(&publish_url(&emulator, "eg"), &[], body.to_owned())
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        emulator.event_texts("eg").last().unwrap(),
        &body[1..body.len() - 1]
    );

    // Bodies recorded from azure-eventgrid 4.22.1, byte for byte, with their content types.
    for captured in fixture("sdk-wire-captures.json")["requests"]
        .as_array()
        .unwrap()
    {
        let body = captured["body"].as_str().unwrap().to_owned();
        let content_type = captured["headers"]["Content-Type"].as_str().unwrap();
        let topic = if content_type.contains("cloudevents") {
            "ce"
        } else if body.contains("customField") {
            "custom"
        } else {
            "eg"
        };
        let reply = client
            .send(
                "POST",
                &publish_url(&emulator, topic),
                &[("content-type", content_type)],
                body.clone(),
            )
            .await;
        assert_eq!(reply.status, 200, "{}: {}", captured["what"], reply.body);
    }
    assert_eq!(emulator.counters("ce").accepted_events, 3);
}

#[tokio::test]
async fn bodies_that_are_not_arrays_of_valid_events_get_400_with_the_reason() {
    let emulator = start(three_schemas()).await;
    let client = Client::new();
    let eg = publish_url(&emulator, "eg");

    let reply = client.post_json(&eg, &[], event(1).to_string()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!({"error": {"code": "BadRequest",
            "message": "The request body must be a JSON array of events, even for a single event.",
            "details": [{"code": "InputJsonInvalid",
                "message": "The request body must be a JSON array of events, even for a single event."}]}})
    );
    assert!(reply.header("x-ms-request-id").is_some());

    let reply = client.post_json(&eg, &[], "[{\"id\": ").await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .message()
            .starts_with("The request body is not valid JSON: EOF while parsing"),
        "{}",
        reply.message()
    );

    let mut missing_time = event(1);
    missing_time.as_object_mut().unwrap().remove("eventTime");
    let reply = client
        .post_json(&eg, &[], json!([event(0), missing_time]).to_string())
        .await;
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (400, "Required property 'eventTime' was not set (event 1).")
    );

    let mut bad_time = event(0);
    bad_time["eventTime"] = json!("2024-13-01T00:00:00Z");
    let reply = client
        .post_json(&eg, &[], json!([bad_time]).to_string())
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .message()
            .contains("'eventTime' of event 0 is not an RFC 3339 date-time")
    );

    let mut numeric_subject = event(0);
    numeric_subject["subject"] = json!(7);
    let reply = client
        .post_json(&eg, &[], json!([numeric_subject]).to_string())
        .await;
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (400, "Property 'subject' of event 0 must be a string.")
    );

    let reply = client
        .post_json(&publish_url(&emulator, "custom"), &[], "[1, 2]")
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.message().contains("'CustomEventSchema' schema"),
        "{}",
        reply.message()
    );

    assert_eq!(emulator.counters("eg").rejections.get(&400), Some(&5));
    assert!(emulator.events("eg").is_empty());
}

#[tokio::test]
async fn each_topic_enforces_its_schema_and_content_type() {
    let emulator = start(three_schemas()).await;
    let client = Client::new();
    let ce = publish_url(&emulator, "ce");
    let ce_body = json!([cloud_event(1)]).to_string();

    let reply = client.post_json(&ce, &[], ce_body.clone()).await;
    assert_eq!(reply.status, 400);
    assert!(reply.message().contains(
        "'application/cloudevents-batch+json'; the request's Content-Type is 'application/json'"
    ));

    let reply = client
        .send("POST", &ce, &[("content-type", CE_BATCH)], events_body(1))
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.message().starts_with(
        "This resource is configured to receive event in 'CloudEventSchemaV1_0' schema."
    ));

    let reply = client
        .send(
            "POST",
            &publish_url(&emulator, "eg"),
            &[("content-type", CE_BATCH)],
            ce_body.clone(),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.message().contains("'EventGridEvent' schema"));

    let reply = client
        .post_json(&publish_url(&emulator, "eg"), &[], ce_body)
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.message().starts_with("This resource is configured to receive event in 'EventGridEvent' schema. The JSON received does not conform to the expected schema"));

    let reply = client
        .send(
            "POST",
            &publish_url(&emulator, "eg"),
            &[("content-type", "text/plain")],
            events_body(1),
        )
        .await;
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (
            400,
            "The Content-Type 'text/plain' is not supported; send 'application/json'."
        )
    );
}

#[tokio::test]
async fn limits_are_answered_with_413() {
    let limits = Limits {
        max_event_bytes: 300,
        max_request_bytes: 2_000,
        max_events_per_request: 5,
    };
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("t"))
            .limits(limits),
    )
    .await;
    let client = Client::new();
    let url = publish_url(&emulator, "t");

    let reply = client.post_json(&url, &[], events_body(6)).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.code(), "RequestEntityTooLarge");
    assert_eq!(
        reply.message(),
        "The request has 6 events; the limit is 5 events per request."
    );

    let mut big = event(1);
    big["data"] = json!("x".repeat(300));
    let reply = client
        .post_json(&url, &[], json!([event(0), big]).to_string())
        .await;
    assert_eq!(reply.status, 413);
    assert!(
        reply.message().starts_with("Event 1 is 4"),
        "{}",
        reply.message()
    );
    assert!(
        reply
            .message()
            .ends_with("the limit is 300 bytes per event.")
    );

    let reply = client
        .post_json(&url, &[], format!("[{}]", " ".repeat(3_000)))
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.message(),
        "The request body is 3002 bytes or more; the limit is 2000 bytes per request."
    );
    assert_eq!(emulator.counters("t").rejections.get(&413), Some(&3));
}

#[tokio::test]
async fn the_default_request_limit_is_the_services() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("t"))).await;
    let client = Client::new();
    let url = publish_url(&emulator, "t");
    let padding = |total: usize| format!("[{}{}]", " ".repeat(total - 2 - 2), "  ");
    let reply = client.post_json(&url, &[], padding(1_536_000)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = client.post_json(&url, &[], padding(1_536_001)).await;
    assert_eq!(reply.status, 413);
    let mut event = event(0);
    event["data"] = json!("x".repeat(1_049_600));
    let reply = client
        .post_json(&url, &[], json!([event]).to_string())
        .await;
    assert_eq!(reply.status, 413);
    assert!(
        reply
            .message()
            .contains("the limit is 1049600 bytes per event")
    );
}

#[tokio::test]
async fn api_version_is_required_and_unknown_paths_are_404() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders"))).await;
    let client = Client::new();
    let endpoint = emulator.topic_endpoint("orders");

    let reply = client.post_json(&endpoint, &[], events_body(1)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.message(),
        "The api-version query parameter (?api-version=) is required for all requests."
    );
    let reply = client
        .post_json(
            &format!("{endpoint}?api-version=2024-06-01"),
            &[],
            events_body(1),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .message()
            .contains("does not support the API version '2024-06-01'")
    );

    let base = emulator.base_url();
    let reply = client
        .post_json(
            &format!("{base}/api/event?api-version=2018-01-01"),
            &[],
            events_body(1),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), "NotFound");
    assert!(reply.message().starts_with(&format!(
        "No HTTP resource was found that matches the request URI '{base}/api/event?api-version=2018-01-01'."
    )));
    let reply = client
        .post_json(
            &format!("{base}/other/api/events?api-version=2018-01-01"),
            &[],
            events_body(1),
        )
        .await;
    assert_eq!(reply.status, 404);
    assert!(
        reply
            .message()
            .ends_with("Topic 'other' is not configured. Configured topics: orders.")
    );

    let reply = client.get(&publish_url(&emulator, "orders")).await;
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (
            405,
            "The requested resource does not support http method 'GET'."
        )
    );
}

#[tokio::test]
async fn the_inspection_api_lists_clears_and_counts() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders"))).await;
    let client = Client::new();
    let url = publish_url(&emulator, "orders");
    client
        .post_json(
            &url,
            &[("x-ms-client-request-id", "one"), ("x-trace", "two")],
            events_body(2),
        )
        .await;
    client.post_json(&url, &[], "[]").await;
    client.post_json(&url, &[], "{}").await;
    let api = format!("{}/_emulator/topics/orders", emulator.base_url());

    let events = client.get(&format!("{api}/events")).await;
    assert_eq!(events.status, 200);
    assert_eq!(events.json(), json!([event(0), event(1)]));

    let delivered = client
        .get(&format!("{api}/events?delivered=true"))
        .await
        .json();
    let resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/eventgrid-emulator/providers/Microsoft.EventGrid/topics/orders";
    assert_eq!(delivered[1]["topic"], resource_id);
    assert_eq!(delivered[1]["metadataVersion"], "1");
    assert_eq!(delivered[1]["subject"], "orders/1");
    assert_eq!(Value::Array(emulator.delivered_events("orders")), delivered);

    let counters = client.get(&format!("{api}/counters")).await.json();
    assert_eq!(
        counters,
        json!({"requests": 3, "accepted_requests": 2, "accepted_events": 2, "retained_events": 2,
               "evicted_events": 0, "dropped_connections": 0, "rejections": {"400": 1}})
    );

    let requests = client.get(&format!("{api}/requests")).await.json();
    assert_eq!(
        requests[0]["path"],
        "/orders/api/events?api-version=2018-01-01"
    );
    assert_eq!(requests[0]["events"], 2);
    assert_eq!(requests[2]["status"], 400);
    // Headers known to be harmless are shown; any other may be secret.
    let headers = requests[0]["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-ms-client-request-id", "one"])));
    assert!(headers.contains(&json!(["x-trace", "<redacted>"])));

    let topics = client
        .get(&format!("{}/_emulator/topics", emulator.base_url()))
        .await
        .json();
    assert_eq!(topics[0]["name"], "orders");
    assert_eq!(topics[0]["endpoint"], emulator.topic_endpoint("orders"));
    assert_eq!(topics[0]["counters"]["accepted_events"], 2);

    let cleared = client
        .send("DELETE", &format!("{api}/events"), &[], "")
        .await;
    assert_eq!(cleared.status, 204);
    assert_eq!(client.get(&format!("{api}/events")).await.body, "[]");
    assert_eq!(emulator.counters("orders").requests, 0);

    let unknown = client
        .get(&format!(
            "{}/_emulator/topics/nope/events",
            emulator.base_url()
        ))
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.message().contains("Topic 'nope' is not configured"));
    let health = client
        .get(&format!("{}/_emulator/health", emulator.base_url()))
        .await;
    assert_eq!(health.json(), json!({"status": "ok"}));
}

#[tokio::test]
async fn retention_keeps_the_newest_events_and_counts_the_rest() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("kept"))
            .topic(TopicSpec::open("sink"))
            .retain(3),
    )
    .await;
    let client = Client::new();
    client
        .post_json(&publish_url(&emulator, "kept"), &[], events_body(4))
        .await;
    client
        .post_json(
            &publish_url(&emulator, "kept"),
            &[],
            json!([event(4)]).to_string(),
        )
        .await;
    assert_eq!(emulator.events("kept"), vec![event(2), event(3), event(4)]);
    let counters = emulator.counters("kept");
    assert_eq!(
        (
            counters.accepted_events,
            counters.retained_events,
            counters.evicted_events
        ),
        (5, 3, 2)
    );
    assert_eq!(emulator.requests("kept").len(), 2);

    let sink = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("sink"))
            .retain(0),
    )
    .await;
    let reply = client
        .post_json(&publish_url(&sink, "sink"), &[], events_body(10))
        .await;
    assert_eq!(reply.status, 200);
    assert!(sink.events("sink").is_empty() && sink.requests("sink").is_empty());
    assert_eq!(sink.counters("sink").accepted_events, 10);
}

/// A topic that keeps nothing reads bodies into reused buffers: each answer is still about
/// the body just sent, word for word what a topic that keeps events answers.
#[tokio::test]
async fn topics_that_keep_nothing_judge_each_body_alone() {
    let keeping = start(EmulatorConfig::new().topic(TopicSpec::open("t"))).await;
    let sink = start(EmulatorConfig::new().topic(TopicSpec::open("t")).retain(0)).await;
    let client = Client::new();
    let bodies = [
        events_body(300),
        r#"[{"id":"1"}]"#.to_owned(),
        events_body(2),
        "[1,".to_owned(),
        events_body(40),
        "[]".to_owned(),
        json!([{"id": "1", "subject": "s", "eventType": "t", "eventTime": "soon"}]).to_string(),
    ];
    for body in bodies {
        let kept = client
            .post_json(&publish_url(&keeping, "t"), &[], body.clone())
            .await;
        let sunk = client
            .post_json(&publish_url(&sink, "t"), &[], body.clone())
            .await;
        assert_eq!(sunk.status, kept.status, "{body}");
        if kept.status != 200 {
            assert_eq!(sunk.message(), kept.message(), "{body}");
        }
    }
    assert_eq!(sink.counters("t").accepted_events, 342);
    assert_eq!(keeping.counters("t").accepted_events, 342);
    assert!(sink.events("t").is_empty());
}

#[test]
fn a_background_emulator_serves_blocking_code_and_stops_when_dropped() {
    let handle = eventgrid_emulator::Emulator::start_in_background(
        EmulatorConfig::new().topic(TopicSpec::open("orders")),
    )
    .unwrap();
    let address = handle.local_addr();
    let body = events_body(2);
    let request = format!(
        "POST /orders/api/events?api-version=2018-01-01 HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = support::raw_exchange(address, request.as_bytes()).unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200 OK"));
    let control = handle.control().clone();
    assert_eq!(control.events("orders"), vec![event(0), event(1)]);
    drop(handle);
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "the port is closed after drop"
    );
}

/// What `serde_json` cannot read back (numbers beyond `f64`, nesting of 128) is refused when
/// published, with the service's error, and never reaches the inspection API.
#[tokio::test]
async fn json_that_cannot_be_read_back_is_refused_at_publish_time() {
    let emulator = start(three_schemas()).await;
    let client = Client::new();
    let deep = format!("{}1{}", "{\"a\":".repeat(127), "}".repeat(127));
    for body in [
        r#"[{"id":"1","n":1e400}]"#.to_owned(),
        format!(r#"[{{"id":"1","n":1{}}}]"#, "0".repeat(400)),
        format!("[{deep}]"),
    ] {
        let reply = client
            .post_json(&publish_url(&emulator, "custom"), &[], body)
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.code(), "BadRequest");
        assert!(reply.message().contains("not valid JSON"), "{}", reply.body);
    }
    let accepted = client
        .post_json(
            &publish_url(&emulator, "custom"),
            &[],
            r#"[{"id":"2","n":1e-400,"m":1.5e300}]"#.to_owned(),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(emulator.events("custom").len(), 1);
    assert_eq!(emulator.events("custom")[0]["id"], "2");
    let listed = client
        .get(&format!(
            "{}/_emulator/topics/custom/events?delivered=true",
            emulator.base_url()
        ))
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()[0]["id"], "2");
}
