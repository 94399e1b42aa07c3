//! Microsoft Entra ID on this crate's HTTP stack: the default credential chain, and the
//! `azure_core` HTTP client that `azure_identity` credentials send through.

use std::sync::Arc;

use eventgrid_core::ClientOptions;
use eventgrid_core::identity::BlockingHttpClient;

use crate::transport::UreqTransport;
use crate::{Credential, Result};

/// An `azure_core` HTTP client on a [`UreqTransport`], so `azure_identity` credentials reach
/// Microsoft Entra ID through the same ureq agent, TLS roots and proxy settings as the
/// publishing requests, without reqwest or tokio. Make one with
/// `UreqHttpClient::new(transport.clone())`.
pub type UreqHttpClient = BlockingHttpClient<UreqTransport>;

/// The Rust counterpart of Python's `DefaultAzureCredential()`: a client secret from
/// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`, then workload identity, then
/// managed identity, then the developer tools (Azure CLI, Azure Developer CLI). The first that
/// yields a token is used from then on; if none does, the error reports each step's failure.
///
/// ```no_run
/// use eventgrid_blocking::{EventGridClient, EventGridConfig, default_credential};
///
/// let client = EventGridClient::new(EventGridConfig::from_env()?, default_credential()?)?;
/// client.emit_event("user-events", "user.created", "users/123", serde_json::json!({"user_id": 123}))?;
/// # Ok::<(), eventgrid_blocking::Error>(())
/// ```
pub fn default_credential() -> Result<Credential> {
    Ok(default_credential_on(&UreqTransport::new(
        &ClientOptions::default(),
    )?))
}

/// Like [`default_credential`], trusting the extra CA certificate `pem` too (for the
/// emulator's TLS mode).
pub fn default_credential_with_ca(pem: impl AsRef<[u8]>) -> Result<Credential> {
    let transport = UreqTransport::builder(&ClientOptions::default())
        .extra_ca_pem(pem)
        .build()?;
    Ok(default_credential_on(&transport))
}

/// Like [`default_credential`], sending identity requests through `transport` (to share its
/// connections, proxy settings or extra CA).
pub fn default_credential_on(transport: &UreqTransport) -> Credential {
    let http = UreqHttpClient::new(transport.clone());
    Credential::token(eventgrid_core::identity::default_credential(Arc::new(http)))
}
