//! `azure_core`'s HTTP client seam on this family's transports, so `azure_identity`
//! credentials reach Microsoft Entra ID through the client's own HTTP stack and TLS provider
//! (no reqwest, no second TLS library, no async runtime for the blocking client).

use std::fmt;

use azure_core::error::ErrorKind;
use azure_core::http::headers::Headers;
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request};
use bytes::Bytes;

use crate::error::TransportError;
use crate::transport::{AsyncTransport, Transport};

/// An `azure_core` [`HttpClient`] on an [`AsyncTransport`] (the async client's hyper stack).
#[derive(Clone)]
pub struct AsyncHttpClient<T>(pub T);

/// An `azure_core` [`HttpClient`] on a blocking [`Transport`] (the blocking client's ureq
/// agent). The request runs on the thread that polls the future, which is what the blocking
/// client's executor does; don't use it inside an async runtime's worker threads.
#[derive(Clone)]
pub struct BlockingHttpClient<T>(pub T);

impl<T> AsyncHttpClient<T> {
    /// An `azure_core` HTTP client sending through `transport`.
    pub fn new(transport: T) -> Self {
        Self(transport)
    }
}

impl<T> BlockingHttpClient<T> {
    /// An `azure_core` HTTP client sending through `transport`.
    pub fn new(transport: T) -> Self {
        Self(transport)
    }
}

impl<T> fmt::Debug for AsyncHttpClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncHttpClient")
    }
}

impl<T> fmt::Debug for BlockingHttpClient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlockingHttpClient")
    }
}

#[async_trait::async_trait]
impl<T: AsyncTransport> HttpClient for AsyncHttpClient<T> {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let response = self.0.send(to_http(request)?).await.map_err(io_error)?;
        Ok(from_http(response))
    }
}

#[async_trait::async_trait]
impl<T: Transport> HttpClient for BlockingHttpClient<T> {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let response = self.0.send(to_http(request)?).map_err(io_error)?;
        Ok(from_http(response))
    }
}

fn to_http(request: &Request) -> azure_core::Result<http::Request<Bytes>> {
    let Body::Bytes(body) = request.body() else {
        return Err(azure_core::Error::with_message(
            ErrorKind::Io,
            "identity requests are sent with in-memory bodies only, not streams",
        ));
    };
    let mut builder = http::Request::builder()
        .method(request.method().as_str())
        .uri(request.url().as_str());
    for (name, value) in request.headers().iter() {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(body.clone()).map_err(|e| {
        azure_core::Error::with_message(ErrorKind::DataConversion, format!("invalid request: {e}"))
    })
}

fn from_http(response: http::Response<Bytes>) -> AsyncRawResponse {
    let (parts, body) = response.into_parts();
    let mut headers = Headers::new();
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            headers.insert(name.as_str().to_owned(), value.to_owned());
        }
    }
    AsyncRawResponse::from_bytes(parts.status.as_u16().into(), headers, body)
}

fn io_error(error: TransportError) -> azure_core::Error {
    azure_core::Error::new(ErrorKind::Io, error)
}
