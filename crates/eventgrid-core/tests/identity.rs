//! The default credential chain, driven through a fake transport: no network, no runtime.
#![cfg(feature = "identity")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use eventgrid_core::identity::{BlockingHttpClient, default_credential_with};
use eventgrid_core::{EVENTGRID_SCOPE, Transport, TransportError};

/// Answers token requests like Microsoft Entra ID and records the URLs asked for.
#[derive(Default)]
struct FakeEntra {
    urls: Mutex<Vec<String>>,
    fail: bool,
}

impl Transport for FakeEntra {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        self.urls.lock().unwrap().push(request.uri().to_string());
        if self.fail {
            // A definite "no" (not retried by azure_core), as from an instance without a
            // managed identity.
            let mut response =
                http::Response::new(Bytes::from_static(br#"{"error":"invalid_request"}"#));
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
            return Ok(response);
        }
        let body = String::from_utf8_lossy(request.body());
        assert!(body.contains("grant_type=client_credentials"), "{body}");
        assert!(
            body.contains("scope=https%3A%2F%2Feventgrid.azure.net%2F.default"),
            "{body}"
        );
        Ok(http::Response::new(Bytes::from_static(
            br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"fake-token"}"#,
        )))
    }
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

#[test]
fn client_secret_from_the_environment_comes_first_and_uses_the_authority_host() {
    let entra = Arc::new(FakeEntra::default());
    let credential = default_credential_with(
        Arc::new(BlockingHttpClient(entra.clone())),
        env(&[
            ("AZURE_TENANT_ID", "tenant-1"),
            ("AZURE_CLIENT_ID", "client-1"),
            ("AZURE_CLIENT_SECRET", "secret-1"),
            ("AZURE_AUTHORITY_HOST", "https://login.emulator.test"),
        ]),
    );
    let token =
        futures::executor::block_on(credential.get_token(&[EVENTGRID_SCOPE], None)).unwrap();
    assert_eq!(token.token.secret(), "fake-token");
    let urls = entra.urls.lock().unwrap().clone();
    assert_eq!(
        urls,
        ["https://login.emulator.test/tenant-1/oauth2/v2.0/token"]
    );
    assert!(!format!("{credential:?}").contains("secret-1"));
}

#[test]
fn when_every_source_fails_each_step_is_reported() {
    let entra = Arc::new(FakeEntra {
        fail: true,
        ..Default::default()
    });
    let credential = default_credential_with(
        Arc::new(BlockingHttpClient(entra)),
        env(&[("AZURE_CLIENT_ID", "client-1")]),
    );
    let err =
        futures::executor::block_on(credential.get_token(&[EVENTGRID_SCOPE], None)).unwrap_err();
    let text = err.to_string();
    for step in [
        "environment client secret: AZURE_TENANT_ID, AZURE_CLIENT_SECRET not set",
        "workload identity:",
        "managed identity:",
        "developer tools:",
    ] {
        assert!(text.contains(step), "missing {step:?} in {text}");
    }
}
