//! [`HyperHttpClient`]: `azure_core`'s HTTP client seam on this crate's hyper transport, so
//! `azure_identity` credentials talk to Microsoft Entra ID through the same HTTP stack and TLS
//! provider as the publishing client (no reqwest, no second TLS library).

use std::sync::Arc;

use azure_core::error::ErrorKind;
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request, StatusCode};
use eventgrid_core::{AsyncTransport, ClientOptions, TransportError};

use crate::{Credential, HyperTransport, Result};

/// An [`azure_core::http::HttpClient`] sending through a [`HyperTransport`]. Give it to
/// `azure_identity` credentials through `ClientOptions::transport`:
///
/// ```
/// use std::sync::Arc;
/// use azure_core::http::{ClientOptions, Transport};
/// use eventgrid_async::{HyperHttpClient, HyperTransport};
/// let http = HyperHttpClient::new(HyperTransport::builder().build()?);
/// let options = ClientOptions { transport: Some(Transport::new(Arc::new(http))), ..Default::default() };
/// # let _ = options;
/// # Ok::<(), eventgrid_async::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HyperHttpClient {
    transport: HyperTransport,
}

impl HyperHttpClient {
    /// A client sending through `transport` (clones share its connection pool).
    pub fn new(transport: HyperTransport) -> Self {
        Self { transport }
    }

    /// A client on a new transport with the default time-outs, trusting the webpki and
    /// platform roots.
    pub fn with_defaults() -> Result<Self> {
        Ok(Self::new(HyperTransport::new(&ClientOptions::default())?))
    }
}

#[async_trait::async_trait]
impl HttpClient for HyperHttpClient {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let body = match request.body() {
            Body::Bytes(bytes) => bytes.clone(),
            Body::SeekableStream(_) => {
                return Err(azure_core::Error::with_message(
                    ErrorKind::Io,
                    "HyperHttpClient sends byte bodies only, not streams",
                ));
            }
        };
        let mut builder = http::Request::builder()
            .method(request.method().as_str())
            .uri(request.url().as_str());
        for (name, value) in request.headers().iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let outgoing = builder.body(body).map_err(|e| {
            azure_core::Error::with_message(ErrorKind::Io, format!("invalid request: {e}"))
        })?;
        let response = self.transport.send(outgoing).await.map_err(io_error)?;
        let mut headers = Headers::new();
        for (name, value) in response.headers() {
            if let Ok(value) = value.to_str() {
                headers.insert(
                    HeaderName::from(name.as_str().to_owned()),
                    HeaderValue::from(value.to_owned()),
                );
            }
        }
        Ok(AsyncRawResponse::from_bytes(
            StatusCode::from(response.status().as_u16()),
            headers,
            response.into_body(),
        ))
    }
}

/// `ErrorKind::Io` lets azure_core's retry policy retry dropped connections and time-outs.
fn io_error(error: TransportError) -> azure_core::Error {
    azure_core::Error::new(ErrorKind::Io, error)
}

/// The default Microsoft Entra ID credential chain (the counterpart of Python's
/// `DefaultAzureCredential()`): a client secret from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
/// `AZURE_CLIENT_SECRET`; workload identity; managed identity; then the Azure CLI and Azure
/// Developer CLI. The first that yields a token is kept; if none does, the error lists each
/// one's failure. Identity requests go through a [`HyperHttpClient`].
///
/// ```no_run
/// use eventgrid_async::{EventGridClient, EventGridConfig, default_credential};
/// # async fn run() -> Result<(), eventgrid_async::Error> {
/// let client = EventGridClient::new(EventGridConfig::from_env()?, default_credential()?)?;
/// client.emit_event("user-events", "user.created", "users/123", serde_json::json!({"id": 123})).await?;
/// # Ok(()) }
/// ```
pub fn default_credential() -> Result<Credential> {
    Ok(chain(HyperHttpClient::with_defaults()?))
}

/// Like [`default_credential`], also trusting the CA certificate(s) in `pem` for identity
/// requests (a private authority host, or the emulator's token endpoint with
/// `AZURE_AUTHORITY_HOST`).
pub fn default_credential_with_ca(pem: impl AsRef<[u8]>) -> Result<Credential> {
    let transport = HyperTransport::builder().extra_ca_pem(pem).build()?;
    Ok(chain(HyperHttpClient::new(transport)))
}

fn chain(http: HyperHttpClient) -> Credential {
    Credential::token(eventgrid_core::identity::default_credential(Arc::new(http)))
}
