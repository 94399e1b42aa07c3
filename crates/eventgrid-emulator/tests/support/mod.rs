//! Shared helpers of the emulator's integration tests: an HTTP(S) client and sample events.
#![allow(dead_code)] // each test file uses its own part

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use bytes::Bytes;
use eventgrid_emulator::{Emulator, EmulatorConfig, RunningEmulator};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {}", self.body))
    }

    /// `error.message` of a service error body.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `error.code` of a service error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// An HTTP/1.1 client for http URLs, and https URLs signed by the CA it was given.
#[derive(Clone)]
pub struct Client {
    inner: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    /// Trusts no certificate: for plain http.
    pub fn new() -> Self {
        Self::with_roots(rustls::RootCertStore::empty())
    }

    /// Trusts the CA certificate `ca_pem`.
    pub fn trusting(ca_pem: &str) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots
                .add(certificate.expect("PEM certificate"))
                .expect("CA certificate");
        }
        Self::with_roots(roots)
    }

    fn with_roots(roots: rustls::RootCertStore) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            inner: HyperClient::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Sends a request; `Err` when no answer came (refused, reset, dropped, TLS failure).
    pub async fn try_send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).expect("valid request");
        let response = self
            .inner
            .request(request)
            .await
            .map_err(|error| format!("{error:?}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
        })
    }

    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        self.try_send(method, url, headers, body)
            .await
            .unwrap_or_else(|error| panic!("{method} {url}: {error}"))
    }

    pub async fn get(&self, url: &str) -> Reply {
        self.send("GET", url, &[], Bytes::new()).await
    }

    /// POSTs `body` as `application/json` with extra `headers`.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send("POST", url, &all, body).await
    }
}

/// The topic's publish URL with the api-version.
pub fn publish_url(emulator: &RunningEmulator, topic: &str) -> String {
    format!("{}?api-version=2018-01-01", emulator.topic_endpoint(topic))
}

pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// A valid EventGridEvent.
pub fn event(id: usize) -> Value {
    serde_json::json!({
        "id": id.to_string(),
        "subject": format!("orders/{id}"),
        "eventType": "order.placed",
        "eventTime": "2024-05-01T12:00:00.123456Z",
        "dataVersion": "1.0",
        "data": {"order": id},
    })
}

/// A JSON array of `count` valid EventGridEvents.
pub fn events_body(count: usize) -> String {
    Value::Array((0..count).map(event).collect()).to_string()
}

/// A valid CloudEvent.
pub fn cloud_event(id: usize) -> Value {
    serde_json::json!({
        "id": id.to_string(),
        "source": "/orders",
        "type": "order.placed",
        "specversion": "1.0",
        "time": "2024-05-01T12:00:00Z",
        "data": {"order": id},
    })
}

/// Writes raw bytes to `address` and reads until the server closes; the bytes answered, or the
/// error that ended the read.
pub fn raw_exchange(address: SocketAddr, request: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut stream = TcpStream::connect(address)?;
    stream.write_all(request)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer)
}
