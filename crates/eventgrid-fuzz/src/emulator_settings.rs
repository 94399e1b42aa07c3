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

/// Starts an in-process emulator with `config` (which validated) and publishes one event to
/// its first topic: whatever the limits, retention and faults, it answers with a status.
/// Configurations with webhook subscriptions cannot start in process (push delivery needs a
/// served emulator) and are skipped, as are the files the configuration names (a fuzzer must
/// not read the machine's files).
pub(crate) fn run_in_process(mut config: EmulatorConfig) {
    config
        .validate()
        .expect("a configuration that parsed is valid");
    if !config.push.subscriptions.is_empty() {
        return;
    }
    config.tls_certificate_path = None;
    config.push.webhook_ca_certificate = None;
    let first = config.topics.first().map(|topic| topic.name().to_owned());
    let emulator = match InProcessEmulator::new(config) {
        Ok(emulator) => emulator,
        Err(error) => panic!("a valid configuration does not start: {error}"),
    };
    if let Some(topic) = first {
        let path = format!("/{topic}/api/events?api-version=2018-01-01");
        let body = br#"[{"id":"1","subject":"s","eventType":"t","eventTime":"2024-01-01T00:00:00Z","dataVersion":"1","data":{}}]"#;
        if let Some(answer) = emulator.respond(b"POST", path.as_bytes(), &[], body) {
            assert!((100..600).contains(&answer.status), "{}", answer.status);
        }
    }
}
