//! What the fuzz targets of the emulator's configuration check on every configuration they
//! get: its `Debug` output does not depend on its secrets, and a valid one runs.

use eventgrid_emulator::{EmulatorConfig, InProcessEmulator, NamespaceTopicSpec, TopicSpec};

/// What the topics' keys, the admin key and the Entra client secrets are replaced with.
const OTHER_SECRET: &str = "b3RoZXItc2VjcmV0";

/// Checks that `config`'s `Debug` output shows none of its secrets: it is the same with every
/// secret replaced (a comparison, so no text of the input can pass for a leak).
pub(crate) fn assert_debug_hides_secrets(config: &EmulatorConfig) {
    let mut other = config.clone();
    other.topics = config
        .topics
        .iter()
        .map(|topic| {
            TopicSpec::new(
                topic.name(),
                topic.schema(),
                topic.key().map(|_| OTHER_SECRET.to_owned()),
            )
            .expect("the same name, and a key that is not empty")
        })
        .collect();
    other.namespace_topics = config
        .namespace_topics
        .iter()
        .map(|topic| {
            NamespaceTopicSpec::new(topic.name(), topic.key().map(|_| OTHER_SECRET.to_owned()))
                .expect("the same name, and a key that is not empty")
        })
        .collect();
    other.admin_key = config.admin_key.as_ref().map(|_| OTHER_SECRET.to_owned());
    for client in &mut other.entra_clients {
        client.client_secret = OTHER_SECRET.to_owned();
    }
    assert_eq!(
        format!("{config:?}"),
        format!("{other:?}"),
        "a secret shows in the configuration's Debug output"
    );
}

/// Starts an in-process emulator with `config` (which validated), publishes one event to its
/// first topic and its first namespace topic (with their keys), and receives from the first
/// queue subscription: whatever the limits, retention, time-to-live and faults, each answers
/// with a status. Configurations with webhook subscriptions cannot start in process (push
/// delivery needs a served emulator) and are skipped, as are the files the configuration
/// names (a fuzzer must not read the machine's files).
pub(crate) fn run_in_process(mut config: EmulatorConfig) {
    config
        .validate()
        .expect("a configuration that parsed is valid");
    if !config.push.subscriptions.is_empty() {
        return;
    }
    config.tls_certificate_path = None;
    config.push.webhook_ca_certificate = None;
    let topic = config.topics.first().cloned();
    let namespace_topic = config.namespace_topics.first().cloned();
    let subscription = config.subscriptions.first().cloned();
    let emulator = match InProcessEmulator::new(config) {
        Ok(emulator) => emulator,
        Err(error) => panic!("a valid configuration does not start: {error}"),
    };
    let answers = |method: &[u8], path: String, headers: &[(&[u8], &[u8])], body: &[u8]| {
        if let Some(answer) = emulator.respond(method, path.as_bytes(), headers, body) {
            assert!((100..600).contains(&answer.status), "{}", answer.status);
        }
    };
    if let Some(topic) = topic {
        let mut headers: Vec<(&[u8], &[u8])> = vec![(b"content-type", b"application/json")];
        if let Some(key) = topic.key() {
            headers.push((b"aeg-sas-key", key.as_bytes()));
        }
        let body = br#"[{"id":"1","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z","dataVersion":"1","data":{}}]"#;
        answers(
            b"POST",
            format!("/{}/api/events?api-version=2018-01-01", topic.name()),
            &headers,
            body,
        );
    }
    let Some(namespace_topic) = namespace_topic else {
        return;
    };
    let authorization = namespace_topic
        .key()
        .map(|key| format!("SharedAccessKey {key}"));
    let mut headers: Vec<(&[u8], &[u8])> = vec![(b"content-type", b"application/cloudevents+json")];
    if let Some(authorization) = &authorization {
        headers.push((b"authorization", authorization.as_bytes()));
    }
    let version = eventgrid_emulator::NAMESPACE_API_VERSION;
    answers(
        b"POST",
        format!(
            "/topics/{}:publish?api-version={version}",
            namespace_topic.name()
        ),
        &headers,
        br#"{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{}}"#,
    );
    if let Some(subscription) = subscription {
        headers.remove(0);
        answers(
            b"POST",
            format!(
                "/topics/{}/eventsubscriptions/{}:receive?api-version={version}&maxEvents=1",
                subscription.topic(),
                subscription.name()
            ),
            &headers,
            b"",
        );
    }
}
