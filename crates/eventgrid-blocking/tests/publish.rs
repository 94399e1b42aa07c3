//! Publishing to the in-process emulator: each credential kind, each schema, domains, batching,
//! validation before sending, topics at run time, metrics, and many threads on one client.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::Secret as AzureSecret;
use azure_core::http::{ClientOptions as AzureClientOptions, Transport as AzureTransport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use eventgrid_blocking::{
    ClientOptions, CloudEvent, Credential, CustomEvent, Error, EventGridClient, EventGridConfig,
    EventGridEvent, EventGridTopicConfig, Schema, TransportErrorKind, UreqHttpClient,
    UreqTransport,
};
use eventgrid_emulator::{EmulatorConfig, EmulatorHandle, Schema as EmulatorSchema, TopicSpec};
use serde_json::json;
use support::{KEY, builder, config, events, received_ids, start};

fn keyed() -> EmulatorHandle {
    start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY)))
}

#[test]
fn access_key_is_sent_as_aeg_sas_key() {
    let emulator = keyed();
    let client =
        EventGridClient::new(config(&emulator, &["orders"]), Credential::access_key(KEY)).unwrap();
    client
        .emit_event("orders", "order.placed", "orders/1", json!({"total": 3}))
        .unwrap();
    let event = &emulator.events("orders")[0];
    assert_eq!(
        (
            &event["eventType"],
            &event["subject"],
            &event["dataVersion"]
        ),
        (&json!("order.placed"), &json!("orders/1"), &json!("v1"))
    );
    assert_eq!(event["data"]["total"], 3);
    let request = &emulator.requests("orders")[0];
    assert_eq!(request.header("aeg-sas-key"), Some("<redacted>"));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("eventgrid-rs/")
    );
}

#[test]
fn sas_tokens_given_or_generated_are_accepted() {
    let emulator = keyed();
    let endpoint = EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders")).unwrap();
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let token = eventgrid_core::generate_sas(endpoint.endpoint(), KEY, expiry).unwrap();
    let given = EventGridClient::new(
        config(&emulator, &["orders"]),
        Credential::sas_token(token.expose()),
    )
    .unwrap();
    given
        .emit_event("orders", "t", "s/given", json!(1))
        .unwrap();
    let generated = EventGridClient::new(
        config(&emulator, &["orders"]),
        Credential::sas_from_key(KEY, Duration::from_secs(600)),
    )
    .unwrap();
    generated
        .emit_event("orders", "t", "s/generated", json!(2))
        .unwrap();
    let requests = emulator.requests("orders");
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.status, Some(200));
        assert_eq!(request.header("aeg-sas-token"), Some("<redacted>"));
        assert_eq!(request.header("aeg-sas-key"), None);
    }
}

#[test]
fn a_wrong_key_is_refused_once_with_the_service_message() {
    let emulator = keyed();
    let client = builder(&emulator, &["orders"])
        .credential(Credential::access_key("d3Jvbmc="))
        .build()
        .unwrap();
    let err = client.emit_event("orders", "t", "s", json!(1)).unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("Unauthorized"), "{err}");
    assert!(!err.to_string().contains("d3Jvbmc="), "{err}");
    assert_eq!(emulator.counters("orders").requests, 1);
}

/// A real `azure_identity` credential, getting its token from the emulator's Entra endpoint
/// over HTTPS through this crate's ureq agent.
fn client_secret_credential(
    emulator: &EmulatorHandle,
    secret: &str,
) -> Arc<ClientSecretCredential> {
    let pem = emulator.ca_certificate_pem().unwrap();
    let transport = UreqTransport::builder(&ClientOptions::default())
        .extra_ca_pem(pem)
        .build()
        .unwrap();
    let mut cloud = azure_core::cloud::CustomConfiguration::default();
    cloud.authority_host = emulator.authority_host().to_owned();
    let options = ClientSecretCredentialOptions {
        client_options: AzureClientOptions {
            transport: Some(AzureTransport::new(Arc::new(UreqHttpClient::new(
                transport,
            )))),
            cloud: Some(Arc::new(cloud.into())),
            ..Default::default()
        },
    };
    ClientSecretCredential::new(
        "my-tenant",
        "my-app".to_owned(),
        AzureSecret::new(secret.to_owned()),
        Some(options),
    )
    .unwrap()
}

fn tls_emulator() -> EmulatorHandle {
    start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .tls(true)
            .entra_client("my-app", "right secret"),
    )
}

#[test]
fn bearer_tokens_from_a_client_secret_credential_over_tls() {
    let emulator = tls_emulator();
    let client = builder(&emulator, &["orders"])
        .credential(Credential::token(client_secret_credential(
            &emulator,
            "right secret",
        )))
        .extra_ca_pem(emulator.ca_certificate_pem().unwrap())
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for thread in 0..4 {
            let client = &client;
            s.spawn(move || {
                for n in 0..5 {
                    client
                        .emit_event("orders", "t", format!("s/{thread}/{n}"), json!(n))
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(emulator.counters("orders").accepted_events, 20);
    assert!(
        emulator
            .requests("orders")
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer <redacted>"))
    );

    let refused = builder(&emulator, &["orders"])
        .credential(Credential::token(client_secret_credential(
            &emulator,
            "wrong secret",
        )))
        .extra_ca_pem(emulator.ca_certificate_pem().unwrap())
        .build()
        .unwrap();
    let err = refused
        .emit_event("orders", "t", "s", json!(1))
        .unwrap_err();
    assert!(matches!(err, Error::Credential(_)), "{err}");
    assert!(err.to_string().contains("AADSTS7000215"), "{err}");
    assert!(!err.to_string().contains("wrong secret"), "{err}");
    assert_eq!(
        emulator.counters("orders").requests,
        20,
        "nothing sent without a token"
    );
}

#[test]
fn an_untrusted_certificate_fails_without_retrying() {
    let emulator = tls_emulator();
    let client = builder(&emulator, &["orders"])
        .credential(Credential::access_key(KEY))
        .build()
        .unwrap();
    let err = client.emit_event("orders", "t", "s", json!(1)).unwrap_err();
    match &err {
        Error::Transport(e) => assert_eq!(e.kind(), TransportErrorKind::Tls, "{err}"),
        other => panic!("expected a TLS error, got {other}"),
    }
    assert_eq!(client.metrics()["orders"].requests, 1);
    assert_eq!(emulator.counters("orders").requests, 0);
}

#[test]
fn each_schema_with_its_content_type() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("grid"))
            .topic(TopicSpec::open("cloud").with_schema(EmulatorSchema::CloudEvents))
            .topic(TopicSpec::open("custom").with_schema(EmulatorSchema::Custom)),
    );
    let topic = |name: &str, schema| {
        EventGridTopicConfig::new(name, emulator.topic_endpoint(name))
            .unwrap()
            .with_schema(schema)
    };
    let client = EventGridClient::builder(
        EventGridConfig::new([
            topic("grid", Schema::EventGrid),
            topic("cloud", Schema::CloudEvents),
            topic("custom", Schema::Custom),
        ])
        .unwrap(),
    )
    .build()
    .unwrap();
    client.send("grid", events(2)).unwrap();
    let cloud = CloudEvent::new("/users/service", "user.created", json!({"user_id": 3}))
        .unwrap()
        .with_subject("users/3")
        .with_extension("correlationid", "req-123");
    let binary = CloudEvent::binary(
        "/bin",
        "blob.bytes",
        b"\x00\x01binary".to_vec(),
        "application/octet-stream",
    );
    client.send("cloud", [cloud, binary]).unwrap();
    let custom = CustomEvent::new(json!({"customField": "x", "anything": [1, 2]})).unwrap();
    client.send("custom", [custom]).unwrap();

    let content_type = |name: &str| {
        emulator.requests(name)[0]
            .header("content-type")
            .unwrap()
            .to_owned()
    };
    assert_eq!(content_type("grid"), "application/json; charset=utf-8");
    assert_eq!(
        content_type("cloud"),
        "application/cloudevents-batch+json; charset=utf-8"
    );
    assert_eq!(content_type("custom"), "application/json; charset=utf-8");
    let cloud = emulator.events("cloud");
    assert_eq!(cloud[0]["correlationid"], "req-123");
    assert_eq!(cloud[0]["specversion"], "1.0");
    assert_eq!(cloud[1]["data_base64"], "AAFiaW5hcnk=");
    assert_eq!(emulator.events("custom")[0]["anything"], json!([1, 2]));

    let err = client.send("cloud", events(1)).unwrap_err();
    assert!(matches!(err, Error::SchemaMismatch { .. }), "{err}");
    assert_eq!(emulator.counters("cloud").requests, 1);
}

#[test]
fn domain_events_carry_their_domain_topic() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("domain")));
    let client = builder(&emulator, &["domain"]).build().unwrap();
    for tenant in ["tenant-a", "tenant-b"] {
        let event = EventGridEvent::new("user.created", "users/1", json!({}))
            .unwrap()
            .with_topic(tenant)
            .with_id(format!("id-{tenant}"))
            .with_data_version("2.0");
        client.publish_event("domain", event).unwrap();
    }
    let events = emulator.events("domain");
    assert_eq!(events[0]["topic"], "tenant-a");
    assert_eq!(events[1]["topic"], "tenant-b");
    assert_eq!(events[1]["id"], "id-tenant-b");
    assert_eq!(events[1]["dataVersion"], "2.0");
}

#[test]
fn an_unknown_topic_names_the_configured_ones() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders")));
    let client = builder(&emulator, &["orders"]).build().unwrap();
    let err = client.emit_event("ordres", "t", "s", json!(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown topic `ordres`; configured topics: orders"
    );
    assert_eq!(emulator.counters("orders").requests, 0);
}

#[test]
fn an_oversized_event_fails_the_send_before_anything_is_sent() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders")));
    let client = builder(&emulator, &["orders"]).build().unwrap();
    let mut batch = events(10);
    batch.insert(
        7,
        EventGridEvent::new("t", "s", json!({"blob": "x".repeat(70_000)})).unwrap(),
    );
    let err = client.send("orders", batch).unwrap_err();
    assert!(
        matches!(
            err,
            Error::EventTooLarge {
                index: 7,
                limit: 65_536,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(emulator.counters("orders").requests, 0);
}

#[test]
fn large_sends_are_split_within_the_limits() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::open("orders")));
    let client = builder(&emulator, &["orders"]).build().unwrap();
    // About 20 KB each: some 52 fit in one 1 MiB body, so 300 take 6 requests.
    let batch: Vec<EventGridEvent> = (0..300)
        .map(|n| {
            EventGridEvent::new("t", format!("s/{n}"), json!({"pad": "x".repeat(20_000)})).unwrap()
        })
        .collect();
    let ids: HashSet<String> = batch.iter().map(|e| e.id().to_owned()).collect();
    let summary = client.send("orders", batch).unwrap();
    assert_eq!(summary.events, 300);
    assert_eq!(summary.requests, 6);
    let counters = emulator.counters("orders");
    assert_eq!(
        (counters.accepted_requests, counters.accepted_events),
        (6, 300)
    );
    assert_eq!(received_ids(&emulator, "orders"), ids);
    let metrics = client.metrics()["orders"];
    assert_eq!((metrics.requests, metrics.events_published), (6, 300));
    assert!(metrics.bytes_sent > 300 * 20_000);
}

#[test]
fn topics_are_added_and_removed_at_run_time() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::open("orders"))
            .topic(TopicSpec::keyed("audit", KEY)),
    );
    let client = builder(&emulator, &["orders"]).build().unwrap();
    let shared = client.clone();
    let audit = EventGridTopicConfig::new("audit", emulator.topic_endpoint("audit"))
        .unwrap()
        .with_credential(eventgrid_blocking::KeyCredential::access_key(KEY));
    shared.add_topic(audit.clone()).unwrap();
    assert_eq!(client.topics(), ["audit", "orders"]);
    client.emit_event("audit", "t", "s", json!(1)).unwrap();
    assert_eq!(emulator.counters("audit").accepted_events, 1);
    assert!(client.add_topic(audit).is_err());
    let removed = client.remove_topic("audit").unwrap();
    assert_eq!(removed.name(), "audit");
    let err = shared.emit_event("audit", "t", "s", json!(1)).unwrap_err();
    assert!(matches!(err, Error::UnknownTopic { .. }), "{err}");
}

#[test]
fn metrics_count_events_requests_retries_and_failures() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY)));
    let client = builder(&emulator, &["orders"])
        .credential(Credential::access_key(KEY))
        .build()
        .unwrap();
    emulator
        .set_fault("orders", eventgrid_emulator::FaultRule::status(503).next(1))
        .unwrap();
    client.send("orders", events(3)).unwrap();
    emulator
        .set_fault("orders", eventgrid_emulator::FaultRule::status(400).next(1))
        .unwrap();
    client.send("orders", events(2)).unwrap_err();
    let metrics = client.metrics()["orders"];
    assert_eq!(metrics.events_published, 3);
    assert_eq!(metrics.events_failed, 2);
    assert_eq!(metrics.requests, 3);
    assert_eq!(metrics.retries, 1);
    assert_eq!(metrics.latency.count, 3);
    assert!(metrics.latency.max >= metrics.latency.mean);
}

#[test]
fn many_threads_share_one_client() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY)));
    let client = builder(&emulator, &["orders"])
        .credential(Credential::sas_from_key(KEY, Duration::from_secs(3600)))
        .build()
        .unwrap();
    let threads = 16;
    let per_thread = 40;
    std::thread::scope(|s| {
        for thread in 0..threads {
            let client = client.clone();
            s.spawn(move || {
                for n in 0..per_thread {
                    client
                        .emit_event("orders", "t", format!("s/{thread}/{n}"), json!(n))
                        .unwrap();
                }
            });
        }
    });
    let subjects: HashSet<String> = emulator
        .events("orders")
        .iter()
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), threads * per_thread);
    assert_eq!(
        client.metrics()["orders"].events_published,
        (threads * per_thread) as u64
    );
}

#[test]
fn credentials_are_never_sent_over_plain_http_to_a_remote_host() {
    let remote = EventGridConfig::new([EventGridTopicConfig::new(
        "orders",
        "http://orders.example.com/api/events",
    )
    .unwrap()])
    .unwrap();
    let err = EventGridClient::new(remote, Credential::access_key(KEY)).unwrap_err();
    assert!(
        err.to_string()
            .contains("refusing to send a credential over plain http"),
        "{err}"
    );
}
