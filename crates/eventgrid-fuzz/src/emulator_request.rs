//! The emulator's whole request path, in process: raw method, path, headers and body through
//! routing, authentication, validation, faults, the store and the inspection API, to the answer;
//! basic topics of each schema, and an open namespace topic `queue` with the subscription `sub`.
//!
//! Input: one byte of choices, then up to four requests separated by `\n--\n`, each a request
//! line `METHOD PATH`, header lines `name: value`, an empty line and the body. When the choice
//! says so, each request also carries the keyed topic's key, so the fuzzer reaches validation.

use eventgrid_emulator::{
    EmulatorConfig, InProcessEmulator, InProcessResponse, NamespaceTopicSpec, TopicSpec,
};

use crate::bytes_reader::{Bytes, split_at};

/// The keyed topic's access key (base64), distinctive enough to look for in answers.
const KEY: &str = "ZnV6ei1lbXVsYXRvci10b3BpYy1rZXk=";
const MAX_REQUESTS: usize = 4;

/// Runs one input against a new emulator. Checks: nothing panics; every answer is a valid
/// status, and an error answer's JSON body is the service's error shape; no answer shows the
/// key (unless the request itself has it other than in its key header); after an accepted publish, the inspection API reads every kept event back.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let with_key = input.byte() % 2 == 1;
    let emulator = InProcessEmulator::new(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .topic(TopicSpec::open("open"))
            .topic("cloud:cloudevents".parse().expect("a valid topic spec"))
            .topic("custom:custom".parse().expect("a valid topic spec"))
            .namespace_topic(NamespaceTopicSpec::open("queue"))
            .subscription("queue/sub".parse().expect("a valid subscription spec")),
    )
    .expect("the emulator's configuration is valid");

    let mut rest = input.rest();
    // An answer may echo what the request says (a 404 names its path); the key must not show
    // when only its header carried it.
    let key_in_input = contains(rest, KEY.as_bytes());
    for _ in 0..MAX_REQUESTS {
        if rest.is_empty() {
            break;
        }
        let (request, after) = split_at(rest, b"\n--\n");
        rest = after;
        let (head, body) = split_at(request, b"\n\n");
        let mut lines = head.split(|byte| *byte == b'\n');
        let request_line = lines.next().unwrap_or_default();
        let (method, path) = split_at(request_line, b" ");
        let mut headers: Vec<(&[u8], &[u8])> = lines
            .map(|line| {
                let (name, value) = split_at(line, b":");
                (name, value.trim_ascii())
            })
            .collect();
        if with_key {
            headers.push((b"aeg-sas-key", KEY.as_bytes()));
        }
        let Some(answer) = emulator.respond(method, path, &headers, body) else {
            continue;
        };
        check(&answer, !key_in_input, is_token_endpoint(path));
        if answer.status == 200 && method == b"POST" {
            read_back(&emulator);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Whether `path` may be the fake Microsoft Entra token endpoint's (`/{tenant}/oauth2/v2.0/token`),
/// whose errors have OAuth's shape, as Entra's do (a path the router does not take for it gets
/// the service's 404).
fn is_token_endpoint(path: &[u8]) -> bool {
    let path = split_at(path, b"?").0;
    path.ends_with(b"/oauth2/v2.0/token")
}

fn check(answer: &InProcessResponse, key_hidden: bool, token_endpoint: bool) {
    assert!(
        (100..600).contains(&answer.status),
        "status {}",
        answer.status
    );
    if key_hidden {
        assert!(
            !contains(&answer.body, KEY.as_bytes()),
            "an answer shows the key"
        );
        for (name, value) in &answer.headers {
            assert!(
                !contains(value, KEY.as_bytes()),
                "header {name} shows the key"
            );
        }
    }
    let is_json = answer
        .headers
        .iter()
        .any(|(name, value)| name == "content-type" && value.starts_with(b"application/json"));
    if answer.status >= 400 && is_json && !answer.body.is_empty() {
        let body: serde_json::Value =
            serde_json::from_slice(&answer.body).expect("an error answer's body is JSON");
        let service_shape =
            body["error"]["code"].is_string() && body["error"]["message"].is_string();
        let oauth_shape = body["error"].is_string() && body["error_description"].is_string();
        assert!(
            service_shape || (token_endpoint && oauth_shape),
            "not the service's error shape (nor, from the token endpoint, OAuth's): {body}"
        );
    }
}

/// Every topic's kept events, through the inspection API: always readable JSON.
fn read_back(emulator: &InProcessEmulator) {
    for topic in ["orders", "open", "cloud", "custom"] {
        let path = format!("/_emulator/topics/{topic}/events");
        let answer = emulator
            .respond(b"GET", path.as_bytes(), &[], b"")
            .expect("the inspection API answers");
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        serde_json::from_slice::<serde_json::Value>(&answer.body)
            .expect("kept events read back as JSON");
    }
}
