//! Each credential kind against a keyed topic, including Microsoft Entra ID tokens from the
//! emulator's token endpoint through a real `azure_identity` credential over TLS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, TokenRequestOptions};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use eventgrid_async::{
    Credential, EventGridClient, EventGridTopicConfig, HyperHttpClient, HyperTransport,
    KeyCredential, Schema, TokenCredential,
};
use eventgrid_emulator::{EmulatorConfig, TopicSpec};
use serde_json::json;

use crate::{KEY, config, start};

async fn publish_with(credential: Credential) -> (eventgrid_async::Result<()>, Vec<String>) {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))).await;
    let client = EventGridClient::new(
        config(&emulator, &[("orders", Schema::EventGrid)]),
        credential,
    )
    .unwrap();
    let result = client
        .emit_event("orders", "order.placed", "orders/1", json!({"total": 3}))
        .await;
    let auth_headers = emulator
        .requests("orders")
        .iter()
        .map(|r| {
            ["aeg-sas-key", "aeg-sas-token", "authorization"]
                .into_iter()
                .find(|name| r.header(name).is_some())
                .unwrap_or("none")
                .to_owned()
        })
        .collect();
    (result, auth_headers)
}

#[tokio::test]
async fn access_key_is_sent_as_aeg_sas_key() {
    let (result, headers) = publish_with(Credential::access_key(KEY)).await;
    result.unwrap();
    assert_eq!(headers, ["aeg-sas-key"]);
}

#[tokio::test]
async fn sas_token_signed_for_the_topic_is_accepted() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))).await;
    let topic = EventGridTopicConfig::new("orders", emulator.topic_endpoint("orders")).unwrap();
    let token = eventgrid_async::generate_sas(
        topic.endpoint(),
        KEY,
        time::OffsetDateTime::now_utc() + Duration::from_secs(600),
    )
    .unwrap();
    let client = EventGridClient::new(
        eventgrid_async::EventGridConfig::new([topic]).unwrap(),
        Credential::sas_token(token.expose()),
    )
    .unwrap();
    client
        .emit_event("orders", "order.placed", "orders/1", json!({}))
        .await
        .unwrap();
    assert_eq!(emulator.counters("orders").accepted_events, 1);
    assert!(
        emulator.requests("orders")[0]
            .header("aeg-sas-token")
            .is_some()
    );
}

#[tokio::test]
async fn sas_generated_from_key_never_sends_the_key() {
    let (result, headers) =
        publish_with(Credential::sas_from_key(KEY, Duration::from_secs(3600))).await;
    result.unwrap();
    assert_eq!(headers, ["aeg-sas-token"]);
}

#[tokio::test]
async fn wrong_key_is_refused_once_without_retry() {
    let (result, headers) = publish_with(Credential::access_key("d3Jvbmc=")).await;
    let error = result.unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert_eq!(headers.len(), 1, "401 is not retried");
    assert!(!error.to_string().contains("d3Jvbmc="));
}

#[tokio::test]
async fn topic_credential_overrides_the_client_credential() {
    let emulator = start(
        EmulatorConfig::new()
            .topic(TopicSpec::keyed("orders", KEY))
            .topic(TopicSpec::keyed("audit", "YXVkaXQ=")),
    )
    .await;
    let mut config = config(&emulator, &[("orders", Schema::EventGrid)]);
    config
        .insert(
            EventGridTopicConfig::new("audit", emulator.topic_endpoint("audit"))
                .unwrap()
                .with_credential(KeyCredential::access_key("YXVkaXQ=")),
        )
        .unwrap();
    let client = EventGridClient::new(config, Credential::access_key(KEY)).unwrap();
    client.emit_event("orders", "t", "s", 1).await.unwrap();
    client.emit_event("audit", "t", "s", 2).await.unwrap();
    assert_eq!(emulator.counters("orders").accepted_events, 1);
    assert_eq!(emulator.counters("audit").accepted_events, 1);
}

/// Counts the token requests reaching the wrapped credential.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn TokenCredential>,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenCredential for Counting {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get_token(scopes, options).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_from_azure_identity_over_tls_with_one_refresh() {
    let emulator = start(
        EmulatorConfig::new()
            .tls(true)
            .topic(TopicSpec::keyed("orders", KEY))
            .entra_client("app-id", "app-secret"),
    )
    .await;
    let ca = emulator.ca_certificate_pem().unwrap().to_owned();
    let identity_http = HyperHttpClient::new(
        HyperTransport::builder(&eventgrid_async::ClientOptions::default())
            .extra_ca_pem(&ca)
            .build()
            .unwrap(),
    );
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = emulator.authority_host().to_owned();
    let credential = ClientSecretCredential::new(
        "tenant-id",
        "app-id".to_owned(),
        "app-secret".to_owned().into(),
        Some(ClientSecretCredentialOptions {
            client_options: ClientOptions {
                cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
                transport: Some(Transport::new(Arc::new(identity_http))),
                ..Default::default()
            },
        }),
    )
    .unwrap();
    let counting = Arc::new(Counting {
        inner: credential,
        calls: AtomicUsize::new(0),
    });
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::token(counting.clone()))
        .extra_ca_pem(&ca)
        .build()
        .unwrap();
    assert!(emulator.topic_endpoint("orders").starts_with("https://"));

    let emits: Vec<_> = (0..32)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .emit_event("orders", "order.placed", format!("orders/{n}"), n)
                    .await
            })
        })
        .collect();
    for emit in emits {
        emit.await.unwrap().unwrap();
    }
    assert_eq!(emulator.counters("orders").accepted_events, 32);
    assert_eq!(
        counting.calls.load(Ordering::SeqCst),
        1,
        "32 concurrent requests share one token request"
    );
    let record = &emulator.requests("orders")[0];
    assert_eq!(record.header("authorization"), Some("Bearer <redacted>"));
}

#[tokio::test]
async fn unknown_entra_client_fails_with_a_credential_error() {
    let emulator = start(
        EmulatorConfig::new()
            .tls(true)
            .topic(TopicSpec::keyed("orders", KEY))
            .entra_client("app-id", "app-secret"),
    )
    .await;
    let ca = emulator.ca_certificate_pem().unwrap().to_owned();
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = emulator.authority_host().to_owned();
    let credential = ClientSecretCredential::new(
        "tenant-id",
        "app-id".to_owned(),
        "WRONG-SECRET".to_owned().into(),
        Some(ClientSecretCredentialOptions {
            client_options: ClientOptions {
                cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
                transport: Some(Transport::new(Arc::new(HyperHttpClient::new(
                    HyperTransport::builder(&eventgrid_async::ClientOptions::default())
                        .extra_ca_pem(&ca)
                        .build()
                        .unwrap(),
                )))),
                ..Default::default()
            },
        }),
    )
    .unwrap();
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::token(credential))
        .extra_ca_pem(&ca)
        .build()
        .unwrap();
    let error = client.emit_event("orders", "t", "s", 1).await.unwrap_err();
    assert!(
        matches!(error, eventgrid_async::Error::Credential(_)),
        "{error}"
    );
    assert!(!error.to_string().contains("WRONG-SECRET"), "{error}");
    assert_eq!(
        emulator.counters("orders").requests,
        0,
        "nothing sent without a token"
    );
}

/// A credential whose calls never finish.
#[derive(Debug, Default)]
struct Unanswered(AtomicUsize);

#[async_trait::async_trait]
impl TokenCredential for Unanswered {
    async fn get_token(
        &self,
        _: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.0.fetch_add(1, Ordering::SeqCst);
        futures::future::pending().await
    }
}

#[tokio::test]
async fn an_unanswered_credential_times_out_once_for_every_waiting_caller() {
    let emulator = start(EmulatorConfig::new().topic(TopicSpec::keyed("orders", KEY))).await;
    let credential = Arc::new(Unanswered::default());
    let client = EventGridClient::builder(config(&emulator, &[("orders", Schema::EventGrid)]))
        .credential(Credential::token(credential.clone()))
        .token_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let callers: Vec<_> = (0..4)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move { client.emit_event("orders", "t", format!("s/{n}"), n).await })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        assert!(
            error.to_string().contains("token time-out of 300ms"),
            "{error}"
        );
    }
    assert_eq!(credential.0.load(Ordering::SeqCst), 1, "one fetch for all");
    assert_eq!(emulator.counters("orders").requests, 0, "nothing sent");
}
