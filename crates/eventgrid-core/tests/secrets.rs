//! No credential shows up in the Debug or Display output of config, credentials, requests or
//! errors.

use std::time::Duration;

use eventgrid_core::{
    ClientOptions, Credential, Endpoint, EventGridConfig, EventGridEvent, EventGridTopicConfig,
    KeyCredential,
    frontend::{Action, ClientCore, Now},
    generate_sas,
};
use time::OffsetDateTime;

const KEY: &str = "c2VjcmV0LWtleS1ub2JvZHktc2hvdWxkLXNlZQ==";

fn assert_hidden(text: &str) {
    assert!(!text.contains(KEY), "key leaked: {text}");
    assert!(!text.contains("SIGNATURE"), "SAS leaked: {text}");
}

#[test]
fn config_core_and_requests_hide_credentials() {
    let config = EventGridConfig::new([
        EventGridTopicConfig::new("keyed", "https://k.westus2-1.eventgrid.azure.net")
            .unwrap()
            .with_credential(KeyCredential::access_key(KEY)),
        EventGridTopicConfig::new("sas", "https://s.westus2-1.eventgrid.azure.net")
            .unwrap()
            .with_credential(KeyCredential::sas_token("r=x&e=y&s=SIGNATURE")),
        EventGridTopicConfig::new("generated", "https://g.westus2-1.eventgrid.azure.net/?x=1")
            .unwrap()
            .with_credential(KeyCredential::sas_from_key(KEY, Duration::from_secs(600))),
    ])
    .unwrap();
    assert_hidden(&format!("{config:?}"));
    let credential = Credential::access_key(KEY);
    assert_hidden(&format!("{credential:?}"));

    let core = ClientCore::new(
        config,
        &Credential::access_key(KEY),
        ClientOptions::default(),
    )
    .unwrap();
    for name in ["keyed", "sas", "generated"] {
        let (topic, mut batches) = core
            .prepare(name, [EventGridEvent::without_data("t", "s")])
            .unwrap();
        let mut operation = core.publish(&topic, batches.remove(0), std::time::Instant::now());
        let Action::Send { request, .. } = operation.poll(Now::system()) else {
            panic!("a request expected")
        };
        assert_hidden(&format!("{request:?} {operation:?} {topic:?}"));
    }
    assert_hidden(&format!("{core:?}"));
}

#[test]
fn generated_tokens_and_errors_hide_credentials() {
    let endpoint = Endpoint::parse("https://t.westus2-1.eventgrid.azure.net").unwrap();
    let token = generate_sas(&endpoint, KEY, OffsetDateTime::now_utc()).unwrap();
    let text = format!("{token:?} {token}");
    assert!(!text.contains(token.expose()));

    let err =
        EventGridTopicConfig::new("q", "https://h/api/events?aeg-sas-token=SIGNATURE").unwrap_err();
    assert_hidden(&format!("{err:?} {err}"));

    let insecure =
        EventGridConfig::new([EventGridTopicConfig::new("t", "http://example.com").unwrap()])
            .unwrap();
    let err = ClientCore::new(
        insecure,
        &Credential::access_key(KEY),
        ClientOptions::default(),
    )
    .unwrap_err();
    assert_hidden(&format!("{err:?} {err}"));
}
