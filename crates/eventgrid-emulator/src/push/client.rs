//! The HTTP client deliveries go through: hyper-util's pooled client over rustls (ring), trusting
//! the webpki roots plus the CA certificates given with `--webhook-ca`, and a time-out per
//! exchange (the service's 30 seconds by default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::retry::AttemptResult;

/// Answers are read up to this much (a validation answer is a few bytes); the rest is ignored.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What one exchange with a subscriber gave.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub result: AttemptResult,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub latency: Duration,
}

/// Sends deliveries and handshakes.
#[derive(Clone)]
pub(crate) struct DeliveryClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for DeliveryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl DeliveryClient {
    /// A client trusting the webpki roots and the certificates of `extra_ca_pem`, giving up on
    /// an exchange after `timeout`.
    pub(crate) fn new(extra_ca_pem: Option<&[u8]>, timeout: Duration) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_ca_pem {
            let certificates = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| format!("webhook CA certificate: not valid PEM ({error})"))?;
            if certificates.is_empty() {
                return Err("webhook CA certificate: the PEM holds no CERTIFICATE block".to_owned());
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|error| {
                    format!("webhook CA certificate cannot be trusted: {error}")
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("TLS configuration: {error}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let inner = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Self { inner, timeout })
    }

    /// Sends `request` and reads the answer, all within the time-out.
    pub(crate) async fn exchange(&self, request: Request<Bytes>) -> Exchange {
        let started = Instant::now();
        let request = request.map(Full::new);
        let exchange = async {
            let response = self.inner.request(request).await.map_err(describe)?;
            Ok::<_, String>(read_answer(response).await)
        };
        let (result, headers, body) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok((status, headers, body))) => (AttemptResult::Status(status), headers, body),
            Ok(Err(reason)) => (
                AttemptResult::Failed(reason),
                HeaderMap::new(),
                Bytes::new(),
            ),
            Err(_) => (AttemptResult::TimedOut, HeaderMap::new(), Bytes::new()),
        };
        Exchange {
            result,
            headers,
            body,
            latency: started.elapsed(),
        }
    }
}

/// An answer's status, headers and body, the body read up to [`MAX_ANSWER_BYTES`]: one cut
/// short or too long still carries its status (and no body).
pub(crate) async fn read_answer<B>(response: http::Response<B>) -> (u16, HeaderMap, Bytes)
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    let body = match Limited::new(body, MAX_ANSWER_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    (status, parts.headers, body)
}

/// The innermost cause of a client error: "Connection refused (os error 111)" says more than
/// "client error (Connect)".
fn describe(error: hyper_util::client::legacy::Error) -> String {
    let mut source: &dyn std::error::Error = &error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let innermost = source.to_string();
    if error.is_connect() {
        format!("could not connect: {innermost}")
    } else {
        innermost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_extra_ca_is_refused_with_the_cause() {
        let error =
            DeliveryClient::new(Some(b"not a certificate"), Duration::from_secs(1)).unwrap_err();
        assert!(error.contains("no CERTIFICATE block"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_failure_not_a_status() {
        // Port 1 is closed here, and no test's listener is given it.
        let address = "127.0.0.1:1";
        let client = DeliveryClient::new(None, Duration::from_secs(5)).unwrap();
        let request = Request::post(format!("http://{address}/"))
            .body(Bytes::new())
            .unwrap();
        let exchange = client.exchange(request).await;
        let AttemptResult::Failed(reason) = exchange.result else {
            panic!("expected a failure, got {:?}", exchange.result);
        };
        assert!(reason.contains("could not connect"), "{reason}");
    }
}
