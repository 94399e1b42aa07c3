//! Microsoft Entra ID on this crate's HTTP stack: the `azure_core` HTTP client that
//! `azure_identity` credentials send through, and the default credential chain.

use std::sync::Arc;

use eventgrid_core::ClientOptions;
use eventgrid_core::identity::AsyncHttpClient;

use crate::{Credential, HyperTransport, Result};

/// An [`azure_core::http::HttpClient`] sending through a [`HyperTransport`], so
/// `azure_identity` credentials talk to Microsoft Entra ID through the same HTTP stack and TLS
/// provider as the publishing client (no reqwest, no second TLS library). Give it to
/// `azure_identity` credentials through `ClientOptions::transport`:
///
/// ```
/// use std::sync::Arc;
/// use azure_core::http::{ClientOptions, Transport};
/// use eventgrid_async::{HyperHttpClient, HyperTransport};
/// let http = HyperHttpClient::new(HyperTransport::new(&eventgrid_async::ClientOptions::default())?);
/// let options = ClientOptions { transport: Some(Transport::new(Arc::new(http))), ..Default::default() };
/// # let _ = options;
/// # Ok::<(), eventgrid_async::Error>(())
/// ```
pub type HyperHttpClient = AsyncHttpClient<HyperTransport>;

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
    Ok(default_credential_on(&HyperTransport::new(
        &ClientOptions::default(),
    )?))
}

/// Like [`default_credential`], also trusting the CA certificate(s) in `pem` for identity
/// requests (a private authority host, or the emulator's token endpoint with
/// `AZURE_AUTHORITY_HOST`).
pub fn default_credential_with_ca(pem: impl AsRef<[u8]>) -> Result<Credential> {
    let transport = HyperTransport::builder(&ClientOptions::default())
        .extra_ca_pem(pem)
        .build()?;
    Ok(default_credential_on(&transport))
}

/// Like [`default_credential`], sending identity requests through `transport` (to share its
/// connection pool or extra CA).
pub fn default_credential_on(transport: &HyperTransport) -> Credential {
    let http = HyperHttpClient::new(transport.clone());
    Credential::token(eventgrid_core::identity::default_credential(Arc::new(http)))
}
