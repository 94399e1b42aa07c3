//! HTTPS with the generated certificate, and a real `azure_identity::ClientSecretCredential`
//! getting a token from the emulator's Entra endpoint and publishing with it.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use eventgrid_emulator::{Emulator, EmulatorConfig, TopicSpec};
use support::{Client, events_body};

const KEY: &str = "a2V5";

fn tls_config() -> EmulatorConfig {
    EmulatorConfig::new()
        .topic(TopicSpec::keyed("orders", KEY))
        .tls(true)
}

#[tokio::test]
async fn https_with_the_generated_certificate() {
    let emulator = Emulator::start(tls_config()).await.unwrap();
    assert!(emulator.base_url().starts_with("https://127.0.0.1:"));
    let pem = emulator.ca_certificate_pem().unwrap().to_owned();
    let path = emulator.ca_certificate_path().unwrap().to_owned();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);

    let url = format!(
        "{}?api-version=2018-01-01",
        emulator.topic_endpoint("orders")
    );
    let trusting = Client::trusting(&pem);
    let reply = trusting
        .post_json(&url, &[("aeg-sas-key", KEY)], events_body(1))
        .await;
    assert_eq!(reply.status, 200);
    let by_name = url.replace("127.0.0.1", "localhost");
    assert_eq!(
        trusting
            .post_json(&by_name, &[("aeg-sas-key", KEY)], events_body(1))
            .await
            .status,
        200
    );

    let error = Client::new()
        .try_send("POST", &url, &[], events_body(1))
        .await
        .unwrap_err();
    assert!(error.contains("UnknownIssuer"), "{error}");

    emulator.shutdown().await;
    assert!(
        !path.exists(),
        "the temporary certificate is removed at shutdown"
    );
}

/// Clients that offer HTTP/2 by ALPN (as `eventgrid-async`'s does) get it; an error answer
/// and a published batch look as they do over HTTP/1.1.
#[tokio::test]
async fn https_speaks_http2_to_clients_that_offer_it() {
    use http_body_util::{BodyExt, Full};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let emulator = Emulator::start(tls_config()).await.unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for certificate in
        CertificateDer::pem_slice_iter(emulator.ca_certificate_pem().unwrap().as_bytes())
    {
        roots.add(certificate.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_all_versions()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Full<bytes::Bytes>>(connector);
    let url = format!(
        "{}?api-version=2018-01-01",
        emulator.topic_endpoint("orders")
    );
    let post = |key: &str| {
        http::Request::post(&url)
            .header("aeg-sas-key", key)
            .header("content-type", "application/json")
            .body(Full::new(bytes::Bytes::from(events_body(3))))
            .unwrap()
    };

    let accepted = client.request(post(KEY)).await.unwrap();
    assert_eq!(accepted.version(), http::Version::HTTP_2);
    assert_eq!(accepted.status(), 200);
    assert_eq!(emulator.events("orders").len(), 3);

    let refused = client.request(post("d3Jvbmc=")).await.unwrap();
    assert_eq!(refused.version(), http::Version::HTTP_2);
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("x-ms-request-id"));
    let body = refused.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "Unauthorized");
}

#[tokio::test]
async fn the_certificate_goes_where_it_is_asked_to() {
    let path = std::env::temp_dir().join(format!("emulator-ca-test-{}.pem", std::process::id()));
    let emulator = Emulator::start(tls_config().tls_certificate_path(&path))
        .await
        .unwrap();
    assert_eq!(emulator.ca_certificate_path(), Some(path.as_path()));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    emulator.shutdown().await;
    assert!(
        path.exists(),
        "a certificate at a chosen path stays for the user"
    );
    std::fs::remove_file(&path).unwrap();
}

/// The `azure_core` transport of this test: the hyper client, trusting the emulator's CA.
struct HyperTransport(Client);

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HyperTransport")
    }
}

impl HttpClient for HyperTransport {
    fn execute_request<'life0, 'life1, 'async_trait>(
        &'life0 self,
        request: &'life1 Request,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AsyncRawResponse>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let headers: Vec<(String, String)> = request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_str().to_owned()))
                .collect();
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let body = bytes::Bytes::from(request.body());
            let reply = self
                .0
                .try_send(
                    request.method().as_str(),
                    request.url().as_str(),
                    &headers,
                    body,
                )
                .await
                .map_err(|error| {
                    azure_core::Error::with_message(azure_core::error::ErrorKind::Io, error)
                })?;
            let mut response_headers = azure_core::http::headers::Headers::new();
            for (name, value) in &reply.headers {
                response_headers.insert(
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or("").to_owned(),
                );
            }
            Ok(AsyncRawResponse::from_bytes(
                reply.status.into(),
                response_headers,
                reply.body.into_bytes(),
            ))
        })
    }
}

fn credential(
    emulator: &eventgrid_emulator::RunningEmulator,
    secret: &str,
) -> Arc<ClientSecretCredential> {
    let mut cloud = azure_core::cloud::CustomConfiguration::default();
    cloud.authority_host = emulator.authority_host().to_owned();
    let transport = HyperTransport(Client::trusting(emulator.ca_certificate_pem().unwrap()));
    let options = ClientSecretCredentialOptions {
        client_options: ClientOptions {
            transport: Some(Transport::new(Arc::new(transport))),
            cloud: Some(Arc::new(cloud.into())),
            ..Default::default()
        },
    };
    ClientSecretCredential::new(
        "my-tenant",
        "my-app".to_owned(),
        Secret::new(secret.to_owned()),
        Some(options),
    )
    .unwrap()
}

#[tokio::test]
async fn azure_identity_client_secret_credential_gets_a_token_that_publishes() {
    let emulator = Emulator::start(tls_config().entra_client("my-app", "right secret"))
        .await
        .unwrap();
    let token = credential(&emulator, "right secret")
        .get_token(&["https://eventgrid.azure.net/.default"], None)
        .await
        .unwrap();
    assert!(token.expires_on > time::OffsetDateTime::now_utc() + time::Duration::minutes(50));
    let bearer = format!("Bearer {}", token.token.secret());
    let url = format!(
        "{}?api-version=2018-01-01",
        emulator.topic_endpoint("orders")
    );
    let client = Client::trusting(emulator.ca_certificate_pem().unwrap());
    let reply = client
        .post_json(&url, &[("authorization", &bearer)], events_body(1))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        emulator.requests("orders")[0].header("authorization"),
        Some("Bearer <redacted>")
    );

    let refused = credential(&emulator, "wrong secret")
        .get_token(&["https://eventgrid.azure.net/.default"], None)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("AADSTS7000215"), "{refused}");
}

/// The certificate written by default goes into a fresh private directory: a file or link
/// planted at a guessable path (another user's, on a shared machine) is neither followed nor
/// trusted.
#[cfg(unix)]
#[tokio::test]
async fn the_default_certificate_is_written_privately() {
    use std::os::unix::fs::PermissionsExt;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let temp = std::env::temp_dir();
    let pid = std::process::id();
    let victim = temp.join(format!("emulator-victim-{pid}.txt"));
    std::fs::write(&victim, "untouched").unwrap();
    let guessable = temp.join(format!("eventgrid-emulator-{pid}-{port}-ca.pem"));
    let _ = std::fs::remove_file(&guessable);
    std::os::unix::fs::symlink(&victim, &guessable).unwrap();

    let emulator = Emulator::start(tls_config().port(port)).await.unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let path = emulator.ca_certificate_path().unwrap().to_owned();
    assert_ne!(path, guessable);
    let directory = path.parent().unwrap().to_owned();
    let mode = std::fs::metadata(&directory).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{}", directory.display());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        emulator.ca_certificate_pem().unwrap()
    );
    emulator.shutdown().await;
    assert!(!directory.exists(), "the private directory is removed");
    std::fs::remove_file(&guessable).unwrap();
    std::fs::remove_file(&victim).unwrap();
}
