//! Each credential a user can configure: what the service sees, and that the events arrive.

use std::time::Duration;

use eventgrid::{Credential, KeyCredential, generate_sas};
use eventgrid_tests::conformance::{
    Behaviour, GRID, KEY, Lab, OPEN, TestCredential, grid_events, sorted_ids,
};

use crate::support::{Counts, assert_metrics, service_error};

/// The credential headers of the topic's requests, by name, one list per request.
fn auth_headers(lab: &Lab, topic: &str) -> Vec<Vec<(String, String)>> {
    lab.requests(topic)
        .iter()
        .map(|request| {
            ["aeg-sas-key", "aeg-sas-token", "authorization"]
                .into_iter()
                .filter_map(|name| {
                    request
                        .header(name)
                        .map(|v| (name.to_owned(), v.to_owned()))
                })
                .collect()
        })
        .collect()
}

fn header(name: &str, value: &str) -> Vec<(String, String)> {
    vec![(name.to_owned(), value.to_owned())]
}

/// Sends two events to `topic` with `credential` and checks they arrived in one request.
fn delivered_with(lab: &Lab, topic: &str, credential: Credential) {
    let mut setup = lab.setup(&[topic]);
    setup.credential = credential;
    let subject = lab.subject(setup);
    subject.send(topic, grid_events("e", 2)).assert_delivered();
    assert_eq!(lab.sorted_ids(topic), sorted_ids("e", 2));
    assert_eq!(lab.counters(topic).accepted_requests, 1);
    assert_metrics(
        &*subject,
        topic,
        Counts {
            published: 2,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn no_credential_on_an_open_topic(lab: &Lab) {
    delivered_with(lab, OPEN, Credential::None);
    assert_eq!(auth_headers(lab, OPEN), [Vec::new()]);
}

pub fn access_key(lab: &Lab) {
    delivered_with(lab, GRID, Credential::access_key(KEY));
    assert_eq!(
        auth_headers(lab, GRID),
        [header("aeg-sas-key", "<redacted>")]
    );
}

pub fn sas_token_generated_from_the_key(lab: &Lab) {
    delivered_with(
        lab,
        GRID,
        Credential::sas_from_key(KEY, Duration::from_secs(3_600)),
    );
    // The key itself never leaves the client.
    assert_eq!(
        auth_headers(lab, GRID),
        [header("aeg-sas-token", "<redacted>")]
    );
}

pub fn sas_token_given(lab: &Lab) {
    let topic = lab.topic(GRID);
    let expires = time::OffsetDateTime::now_utc() + Duration::from_secs(600);
    let token = generate_sas(topic.endpoint(), KEY, expires).expect("a SAS token");
    delivered_with(lab, GRID, Credential::sas_token(token.expose()));
    assert_eq!(
        auth_headers(lab, GRID),
        [header("aeg-sas-token", "<redacted>")]
    );
}

pub fn topic_credential_overrides_the_client_credential(lab: &Lab) {
    let mut setup = lab.setup(&[]);
    setup
        .config
        .insert(
            lab.topic(GRID)
                .with_credential(KeyCredential::access_key(KEY)),
        )
        .expect("a new topic");
    setup.credential = Credential::access_key("d3Jvbmc=");
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("e", 1)).assert_delivered();
    assert_eq!(lab.ids(GRID), ["e-0"]);
}

pub fn bearer_token_from_a_token_credential(lab: &Lab) {
    let credential = TestCredential::new(Behaviour::Issue {
        token: lab.emulator().bearer_token(),
        lifetime: Duration::from_secs(3_600),
        delay: Duration::ZERO,
    });
    let mut setup = lab.setup(&[GRID]);
    setup.credential = Credential::token(credential.clone());
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("a", 1)).assert_delivered();
    subject.send(GRID, grid_events("b", 1)).assert_delivered();
    assert_eq!(lab.ids(GRID), ["a-0", "b-0"]);
    assert_eq!(
        credential.calls(),
        1,
        "the token is cached for the second send"
    );
    let bearer = header("authorization", "Bearer <redacted>");
    assert_eq!(auth_headers(lab, GRID), [bearer.clone(), bearer]);
}

pub fn bearer_token_refreshed_when_about_to_expire(lab: &Lab) {
    // Issued with less than the refresh margin (five minutes) left: used for half its life,
    // then asked for again.
    let credential = TestCredential::new(Behaviour::Issue {
        token: lab.emulator().bearer_token(),
        lifetime: Duration::from_secs(1),
        delay: Duration::ZERO,
    });
    let mut setup = lab.setup(&[GRID]);
    setup.credential = Credential::token(credential.clone());
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("a", 1)).assert_delivered();
    std::thread::sleep(Duration::from_millis(600));
    subject.send(GRID, grid_events("b", 1)).assert_delivered();
    assert_eq!(credential.calls(), 2);
    assert_eq!(lab.ids(GRID), ["a-0", "b-0"]);
}

pub fn bearer_token_from_the_emulator_token_endpoint(lab: &Lab) {
    let lab = Lab::start_tls(lab.adapter());
    let mut setup = lab.setup(&[GRID]);
    assert!(
        setup
            .config
            .topic(GRID)
            .unwrap()
            .endpoint()
            .to_string()
            .starts_with("https://")
    );
    setup.credential = Credential::token(lab.entra_credential());
    let subject = lab.subject(setup);
    subject.send(GRID, grid_events("e", 3)).assert_delivered();
    assert_eq!(lab.sorted_ids(GRID), sorted_ids("e", 3));
    assert_eq!(
        auth_headers(&lab, GRID),
        [header("authorization", "Bearer <redacted>")]
    );
}

/// Sends with `credential` to the keyed topic and checks the one 401.
fn refused_once_with_401(lab: &Lab, credential: Credential) {
    let mut setup = lab.setup(&[GRID]);
    setup.credential = credential;
    let subject = lab.subject(setup);
    let outcome = subject.send(GRID, grid_events("e", 2));
    let error = outcome.error();
    let service = service_error(error);
    assert_eq!(service.status, 401, "{error}");
    assert_eq!(service.code.as_deref(), Some("Unauthorized"), "{error}");
    assert!(
        matches!(error, eventgrid::Error::Service(_)),
        "not retried: {error:?}"
    );
    assert!(!error.to_string().contains("d3Jvbmc="), "{error}");
    assert_eq!(lab.counters(GRID).requests, 1);
    assert!(lab.events(GRID).is_empty());
    assert_metrics(
        &*subject,
        GRID,
        Counts {
            failed: 2,
            requests: 1,
            ..Counts::default()
        },
    );
}

pub fn wrong_key_is_refused_once(lab: &Lab) {
    refused_once_with_401(lab, Credential::access_key("d3Jvbmc="));
}

pub fn missing_credential_is_refused_once(lab: &Lab) {
    refused_once_with_401(lab, Credential::None);
}

pub fn expired_sas_token_is_refused_once(lab: &Lab) {
    let topic = lab.topic(GRID);
    let expired = time::OffsetDateTime::now_utc() - Duration::from_secs(60);
    let token = generate_sas(topic.endpoint(), KEY, expired).expect("a SAS token");
    refused_once_with_401(lab, Credential::sas_token(token.expose()));
}
