//! `eventgrid publish`, `sas` and `demo` against the emulator, through the real binary.

mod support;

use std::io::{Read, Write};

use support::{KEY, TempFile, emulator, eventgrid, orders_env, run, stderr, stdout};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The topic's events as the emulator's HTTP inspection API returns them.
fn inspect_events(base_url: &str, topic: &str) -> serde_json::Value {
    let authority = base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET /_emulator/topics/{topic}/events HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

#[test]
fn publishes_one_event_from_flags_and_the_emulator_has_it() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        &endpoint,
        "--key",
        KEY,
        "--type",
        "order.placed",
        "--subject",
        "orders/1",
        "--data",
        r#"{"total": 3}"#,
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let id = printed
        .strip_prefix("published event ")
        .and_then(|rest| rest.strip_suffix(" to orders\n"))
        .unwrap_or_else(|| panic!("unexpected output: {printed}"));

    let events = inspect_events(emulator.base_url(), "orders");
    assert_eq!(events.as_array().unwrap().len(), 1);
    let event = &events[0];
    assert_eq!(event["id"], id);
    assert_eq!(event["eventType"], "order.placed");
    assert_eq!(event["subject"], "orders/1");
    assert_eq!(event["data"]["total"], 3);
    assert_eq!(event["dataVersion"], "v1");
}

#[test]
fn publishes_every_field_to_a_topic_from_the_environment() {
    let emulator = emulator();
    let data = TempFile::new("data.json", r#"{"order_id": 7, "lines": [1, 2]}"#);
    let data_arg = format!("@{}", data.arg());
    let mut command = eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--type",
        "order.shipped",
        "--subject",
        "orders/7",
        "--data",
        &data_arg,
        "--data-version",
        "2.0",
        "--event-time",
        "2024-01-31T12:00:00+02:00",
        "--id",
        "evt-7",
    ]);
    orders_env(&mut command, &emulator);
    let output = run(&mut command);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "published event evt-7 to orders\n");

    let event = &emulator.events("orders")[0];
    assert_eq!(event["id"], "evt-7");
    assert_eq!(event["dataVersion"], "2.0");
    assert_eq!(event["eventTime"], "2024-01-31T10:00:00Z");
    assert_eq!(event["data"]["lines"][1], 2);
    let request = &emulator.requests("orders")[0];
    let user_agent = request
        .headers
        .iter()
        .find(|(name, _)| name == "user-agent")
        .map(|(_, value)| value.as_str());
    assert!(
        user_agent.is_some_and(|agent| agent.contains("eventgrid-cli/")),
        "{user_agent:?}"
    );
}

#[test]
fn publishes_to_open_and_cloudevents_topics() {
    let emulator = emulator();
    let open = emulator.topic_endpoint("open");
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "open",
        "--endpoint",
        &open,
        "--type",
        "t",
        "--subject",
        "s",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.events("open").len(), 1);

    let cloud = emulator.topic_endpoint("cloud");
    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "cloud",
        "--endpoint",
        &cloud,
        "--schema",
        "cloudevents",
        "--type",
        "order.placed",
        "--source",
        "/orders",
        "--subject",
        "orders/9",
        "--data",
        "[1,2]",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let event = &emulator.events("cloud")[0];
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["source"], "/orders");
    assert_eq!(event["type"], "order.placed");
    assert_eq!(event["data"], serde_json::json!([1, 2]));
}

fn sas_token(endpoint: &str, key: &str, expires: OffsetDateTime) -> String {
    let expires = expires.format(&Rfc3339).unwrap();
    let output = run(&mut eventgrid(&[
        "sas",
        "--endpoint",
        endpoint,
        "--key",
        key,
        "--expires",
        &expires,
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output);
    assert_eq!(token.lines().count(), 1);
    token.trim_end().to_owned()
}

#[test]
fn sas_tokens_it_prints_are_accepted_by_the_emulator() {
    let emulator = emulator();
    let endpoint = emulator.topic_endpoint("orders");
    let token = sas_token(
        &endpoint,
        KEY,
        OffsetDateTime::now_utc() + Duration::hours(1),
    );
    assert!(
        token.starts_with("r=") && token.contains("&e=") && token.contains("&s="),
        "{token}"
    );

    let output = run(&mut eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        &endpoint,
        "--sas",
        &token,
        "--type",
        "order.placed",
        "--subject",
        "orders/1",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.events("orders")[0]["subject"], "orders/1");
    let request = &emulator.requests("orders")[0];
    assert!(
        request
            .headers
            .iter()
            .any(|(name, _)| name == "aeg-sas-token")
    );

    // Signed with another key, or expired: the emulator refuses it.
    for token in [
        sas_token(
            &endpoint,
            "b3RoZXIta2V5",
            OffsetDateTime::now_utc() + Duration::hours(1),
        ),
        sas_token(
            &endpoint,
            KEY,
            OffsetDateTime::now_utc() - Duration::hours(1),
        ),
    ] {
        let output = run(&mut eventgrid(&[
            "publish",
            "--topic",
            "orders",
            "--endpoint",
            &endpoint,
            "--sas",
            &token,
            "--type",
            "order.placed",
            "--subject",
            "orders/2",
        ]));
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).starts_with("error: service answered 401"),
            "{}",
            stderr(&output)
        );
    }
    assert_eq!(emulator.events("orders").len(), 1);
}

#[test]
fn demo_publishes_with_both_clients_and_prints_what_arrived() {
    let output = run(&mut eventgrid(&["demo"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "user-events: 6 events",
        "order-events: 104 events",
        "order.imported     100",
        "sync: blocking client (sync_emit_event)",
        "blocking client 2 events",
        "All 110 events arrived",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn sas_prints_the_token_the_python_sdk_makes() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/reference/sas-vectors.json"
    );
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let python = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|vector| vector["sdk"].as_str().unwrap().contains("Python"))
        .expect("a Python vector");
    let output = run(&mut eventgrid(&[
        "sas",
        "--endpoint",
        python["endpoint"].as_str().unwrap(),
        "--key",
        python["key"].as_str().unwrap(),
        "--expires",
        python["expires"].as_str().unwrap(),
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim_end(),
        python["token"].as_str().unwrap()
    );
}

#[test]
fn entra_tokens_come_from_the_default_chain() {
    // HTTPS, as credentials demand, and the emulator's fake Microsoft Entra token endpoint as
    // the authority: the chain's first step (a client secret from the environment) gets a
    // token for Event Grid, and the keyed topic accepts it.
    let emulator = eventgrid_emulator::Emulator::start_in_background(
        eventgrid_emulator::EmulatorConfig::new()
            .tls(true)
            .topic(eventgrid_emulator::TopicSpec::keyed("orders", KEY)),
    )
    .unwrap();
    let ca = emulator
        .ca_certificate_path()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let endpoint = emulator.topic_endpoint("orders");
    assert!(endpoint.starts_with("https://"));
    let output = run(eventgrid(&[
        "publish",
        "--topic",
        "orders",
        "--endpoint",
        &endpoint,
        "--entra",
        "--ca-certificate",
        &ca,
        "--type",
        "user.login",
        "--subject",
        "users/1",
    ])
    .env("AZURE_TENANT_ID", "contoso")
    .env("AZURE_CLIENT_ID", "eventgrid-cli-test")
    .env("AZURE_CLIENT_SECRET", "not-a-real-secret")
    .env("AZURE_AUTHORITY_HOST", emulator.authority_host()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(emulator.events("orders")[0]["subject"], "users/1");
    let request = &emulator.requests("orders")[0];
    assert_eq!(request.header("authorization"), Some("Bearer <redacted>"));
    assert!(request.header("aeg-sas-key").is_none());
}
