//! Authentication as the service does it: access keys, SAS tokens in the forms of the Python,
//! JavaScript and .NET SDKs, bearer tokens from the emulator's Entra endpoint; every refusal with
//! its status and message.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eventgrid_emulator::{EmulatorConfig, RunningEmulator, TopicSpec};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ring::hmac;
use serde_json::json;
use support::{Client, Reply, events_body, publish_url, start};

const KEY: &str = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=";

/// What Python's `quote(..., safe="~()*!.'")` and JavaScript's `encodeURIComponent` leave alone.
const SDK_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'!')
    .remove(b'\'');

fn sign(signed: &str, key: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &STANDARD.decode(key).unwrap());
    STANDARD.encode(hmac::sign(&key, signed.as_bytes()).as_ref())
}

/// A token as the Python and JavaScript SDKs build it.
fn sdk_token(resource: &str, expiry: &str, key: &str) -> String {
    let signed = format!(
        "r={}&e={}",
        utf8_percent_encode(resource, SDK_SAFE),
        utf8_percent_encode(expiry, SDK_SAFE)
    );
    let signature = sign(&signed, key);
    format!("{signed}&s={}", utf8_percent_encode(&signature, SDK_SAFE))
}

/// A token as the .NET SDK builds it: `HttpUtility.UrlEncode`, lowercase escapes, `+` for space.
fn dotnet_token(resource: &str, expiry: &str, key: &str) -> String {
    let encode = |text: &str| {
        let mut encoded = String::new();
        for byte in text.bytes() {
            match byte {
                b' ' => encoded.push('+'),
                b'a'..=b'z'
                | b'A'..=b'Z'
                | b'0'..=b'9'
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'*'
                | b'('
                | b')' => encoded.push(byte as char),
                _ => encoded.push_str(&format!("%{byte:02x}")),
            }
        }
        encoded
    };
    let signed = format!("r={}&e={}", encode(resource), encode(expiry));
    let signature = sign(&signed, key);
    format!("{signed}&s={}", encode(&signature))
}

async fn keyed() -> RunningEmulator {
    start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .topic(TopicSpec::open("open")),
    )
    .await
}

async fn publish(emulator: &RunningEmulator, headers: &[(&str, &str)]) -> Reply {
    Client::new()
        .post_json(&publish_url(emulator, "orders"), headers, events_body(1))
        .await
}

#[tokio::test]
async fn access_keys_in_header_or_query() {
    let emulator = keyed().await;
    assert_eq!(
        publish(&emulator, &[("aeg-sas-key", KEY)]).await.status,
        200
    );
    let encoded_key = utf8_percent_encode(KEY, NON_ALPHANUMERIC).to_string();
    let url = format!(
        "{}&aeg-sas-key={encoded_key}",
        publish_url(&emulator, "orders")
    );
    assert_eq!(
        Client::new()
            .post_json(&url, &[], events_body(1))
            .await
            .status,
        200
    );

    let reply = publish(&emulator, &[]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.json(),
        json!({"error": {"code": "Unauthorized", "details": [], "message":
            "Request must contain one of the following authorization signature: aeg-sas-token, aeg-sas-key."}})
    );
    let reply = publish(&emulator, &[("aeg-sas-key", "d3Jvbmc=")]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.message(),
        format!(
            "The request authorization key is not authorized for {}/orders.",
            emulator.local_addr()
        )
    );
    // Open topics need nothing; the records never show the key.
    let reply = Client::new()
        .post_json(&publish_url(&emulator, "open"), &[], events_body(1))
        .await;
    assert_eq!(reply.status, 200);
    let records = emulator.requests("orders");
    assert_eq!(records[0].header("aeg-sas-key"), Some("<redacted>"));
    assert!(records[1].path.ends_with("aeg-sas-key=<redacted>"));
    assert_eq!(emulator.counters("orders").rejections.get(&401), Some(&2));
}

#[tokio::test]
async fn sas_tokens_of_every_sdk_are_accepted_in_both_headers() {
    let emulator = keyed().await;
    let endpoint = emulator.topic_endpoint("orders");
    let tokens = [
        sdk_token(
            &format!("{endpoint}?apiVersion=2018-01-01"),
            "2099-01-01 00:00:00+00:00",
            KEY,
        ),
        sdk_token(
            &format!("{endpoint}?apiVersion=2018-01-01"),
            "1/1/2099 12:00:00 AM",
            KEY,
        ),
        dotnet_token(
            &format!("{endpoint}?api-version=2018-01-01"),
            "1/1/2099 12:00:00 AM +00:00",
            KEY,
        ),
        sdk_token(
            &endpoint.replace("127.0.0.1", "localhost"),
            "2099-01-01T00:00:00Z",
            KEY,
        ),
    ];
    for token in &tokens {
        let reply = publish(&emulator, &[("aeg-sas-token", token)]).await;
        assert_eq!(reply.status, 200, "{token}: {}", reply.body);
        let authorization = format!("SharedAccessSignature {token}");
        let reply = publish(&emulator, &[("authorization", &authorization)]).await;
        assert_eq!(reply.status, 200, "{token}: {}", reply.body);
    }
    assert_eq!(
        emulator.requests("orders")[1].header("authorization"),
        Some("SharedAccessSignature <redacted>")
    );
}

#[tokio::test]
async fn sas_refusals_say_why() {
    let emulator = keyed().await;
    let endpoint = emulator.topic_endpoint("orders");
    let resource = format!("{endpoint}?apiVersion=2018-01-01");

    let expired = sdk_token(&resource, "2020-01-01 00:00:00+00:00", KEY);
    let reply = publish(&emulator, &[("aeg-sas-token", &expired)]).await;
    assert_eq!((reply.status, reply.code().as_str()), (401, "Unauthorized"));
    assert_eq!(
        reply.message(),
        "The SAS token has expired (it expired at 2020-01-01T00:00:00Z)."
    );

    let other_topic = sdk_token(
        &resource.replace("/orders/", "/open/"),
        "2099-01-01 00:00:00+00:00",
        KEY,
    );
    let reply = publish(&emulator, &[("aeg-sas-token", &other_topic)]).await;
    assert_eq!(reply.status, 401);
    assert!(reply.message().starts_with(&format!(
        "The SAS token is for the resource '{}/open/api/events?apiVersion=2018-01-01', not for this topic",
        emulator.base_url()
    )));

    let other_key = sdk_token(&resource, "2099-01-01 00:00:00+00:00", "b3RoZXIga2V5");
    let reply = publish(&emulator, &[("aeg-sas-token", &other_key)]).await;
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (
            401,
            "The SAS token's signature is not valid for this topic's key."
        )
    );

    let reply = publish(&emulator, &[("aeg-sas-token", "r=x&e=y")]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.message(),
        "Invalid key in aeg-sas-token. Valid format :r=UrlEncodedResource&e=UrlEncodedUtcExpiration&s=UrlEncodedSignature."
    );
}

async fn token_request(emulator: &RunningEmulator, form: &str) -> Reply {
    Client::new()
        .send(
            "POST",
            &emulator.token_endpoint("my-tenant"),
            &[("content-type", "application/x-www-form-urlencoded")],
            form.to_owned(),
        )
        .await
}

const EVENT_GRID_SCOPE: &str = "scope=https%3A%2F%2Feventgrid.azure.net%2F.default";

#[tokio::test]
async fn bearer_tokens_from_the_token_endpoint_are_verified() {
    let emulator = keyed().await;
    let form = format!(
        "client_id=app&client_secret=s3cret&grant_type=client_credentials&{EVENT_GRID_SCOPE}"
    );
    let reply = token_request(&emulator, &form).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_i64()),
        (Some("Bearer"), Some(3599))
    );
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
    assert_eq!(claims["aud"], "https://eventgrid.azure.net");
    assert_eq!(
        claims["iss"],
        format!("{}/my-tenant/v2.0", emulator.base_url())
    );

    let bearer = format!("Bearer {token}");
    assert_eq!(
        publish(&emulator, &[("authorization", &bearer)])
            .await
            .status,
        200
    );
    let own = format!("Bearer {}", emulator.bearer_token());
    assert_eq!(
        publish(&emulator, &[("authorization", &own)]).await.status,
        200
    );

    let form = "client_id=app&client_secret=s&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default";
    let management = token_request(&emulator, form).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = publish(
        &emulator,
        &[("authorization", &format!("Bearer {management}"))],
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert!(
        reply
            .message()
            .starts_with("The bearer token's audience is 'https://management.azure.com'")
    );

    let mut forged = token.to_owned();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let reply = publish(&emulator, &[("authorization", &format!("Bearer {forged}"))]).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply.message().contains("signature is invalid"),
        "{}",
        reply.message()
    );

    let reply = publish(&emulator, &[("authorization", "Basic dXNlcjpwYXNz")]).await;
    assert_eq!(reply.status, 401);
    assert!(
        reply
            .message()
            .starts_with("The Authorization scheme 'Basic' is not supported")
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_like_entra() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .entra_client("app", "right"),
    )
    .await;
    let entra_error = |reply: &Reply| {
        let body = reply.json();
        (
            reply.status,
            body["error"].as_str().unwrap().to_owned(),
            body["error_codes"][0].as_u64().unwrap(),
        )
    };
    let wrong_secret = format!(
        "client_id=app&client_secret=wrong&grant_type=client_credentials&{EVENT_GRID_SCOPE}"
    );
    let reply = token_request(&emulator, &wrong_secret).await;
    assert_eq!(
        entra_error(&reply),
        (401, "invalid_client".to_owned(), 7000215)
    );
    assert!(
        reply.json()["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: Invalid client secret provided.")
    );

    let unknown = format!(
        "client_id=nobody&client_secret=x&grant_type=client_credentials&{EVENT_GRID_SCOPE}"
    );
    assert_eq!(
        entra_error(&token_request(&emulator, &unknown).await),
        (400, "unauthorized_client".to_owned(), 700016)
    );
    let no_scope = "client_id=app&client_secret=right&grant_type=client_credentials";
    assert_eq!(
        entra_error(&token_request(&emulator, no_scope).await),
        (400, "invalid_request".to_owned(), 900144)
    );
    let bad_scope =
        "client_id=app&client_secret=right&grant_type=client_credentials&scope=eventgrid";
    assert_eq!(
        entra_error(&token_request(&emulator, bad_scope).await),
        (400, "invalid_scope".to_owned(), 1002012)
    );
    let password =
        format!("client_id=app&client_secret=right&grant_type=password&{EVENT_GRID_SCOPE}");
    assert_eq!(
        entra_error(&token_request(&emulator, &password).await),
        (400, "unsupported_grant_type".to_owned(), 70003)
    );
    let right = format!(
        "client_id=app&client_secret=right&grant_type=client_credentials&{EVENT_GRID_SCOPE}"
    );
    assert_eq!(token_request(&emulator, &right).await.status, 200);
}
