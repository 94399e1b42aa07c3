//! An `azure_core` HTTP client on this crate's ureq agent, so `azure_identity` credentials
//! reach Microsoft Entra ID through the same TLS stack, roots and proxy settings as the
//! publishing requests, and without reqwest or tokio.

use std::fmt;

use azure_core::error::ErrorKind;
use azure_core::http::headers::Headers;
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request};

use crate::transport::{UreqTransport, transport_error};

/// An [`azure_core::http::HttpClient`] sending on a [`UreqTransport`]'s connection pool.
///
/// Give it to `azure_identity` credentials through `azure_core::http::ClientOptions`:
///
/// ```
/// use std::sync::Arc;
/// use azure_core::http::{ClientOptions, Transport};
/// use eventgrid_blocking::{UreqHttpClient, UreqTransport};
///
/// let transport = UreqTransport::new(&Default::default())?;
/// let options = ClientOptions {
///     transport: Some(Transport::new(Arc::new(UreqHttpClient::new(&transport)))),
///     ..Default::default()
/// };
/// # let _ = options;
/// # Ok::<(), eventgrid_blocking::Error>(())
/// ```
///
/// Its requests block the thread that polls them: drive them with a blocking executor (as this
/// crate's client does), not on an async runtime's worker threads.
#[derive(Clone)]
pub struct UreqHttpClient {
    agent: ureq::Agent,
}

impl UreqHttpClient {
    /// A client sharing `transport`'s connections, roots and time-outs.
    pub fn new(transport: &UreqTransport) -> Self {
        Self {
            agent: transport.agent().clone(),
        }
    }
}

impl fmt::Debug for UreqHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqHttpClient").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl HttpClient for UreqHttpClient {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let Body::Bytes(body) = request.body() else {
            return Err(azure_core::Error::with_message(
                ErrorKind::Other,
                "UreqHttpClient sends in-memory bodies only, not streams",
            ));
        };
        let mut builder = http::Request::builder()
            .method(request.method().as_str())
            .uri(request.url().as_str());
        for (name, value) in request.headers().iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let outgoing = builder.body(body.as_ref()).map_err(|e| {
            azure_core::Error::with_message(ErrorKind::DataConversion, e.to_string())
        })?;
        let response = self.agent.run(outgoing).map_err(io_error)?;
        let (parts, mut body) = response.into_parts();
        let mut headers = Headers::new();
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                headers.insert(name.as_str().to_owned(), value.to_owned());
            }
        }
        let bytes = body.read_to_vec().map_err(io_error)?;
        Ok(AsyncRawResponse::from_bytes(
            parts.status.as_u16().into(),
            headers,
            bytes,
        ))
    }
}

/// Transport failures are `Io` errors, which `azure_core`'s retry policy retries.
fn io_error(error: ureq::Error) -> azure_core::Error {
    azure_core::Error::with_message(ErrorKind::Io, transport_error(error).to_string())
}
