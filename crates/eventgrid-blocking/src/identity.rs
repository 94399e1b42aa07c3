//! The default Microsoft Entra ID credential chain, on this crate's HTTP stack.

use std::sync::Arc;

use eventgrid_core::{ClientOptions, TokenCredential};

use crate::azure_http::UreqHttpClient;
use crate::transport::UreqTransport;

/// The Rust counterpart of Python's `DefaultAzureCredential()`: a client secret from
/// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`, then workload identity, then
/// managed identity, then the developer tools (Azure CLI, Azure Developer CLI). The first that
/// yields a token is used from then on; if none does, the error reports each step's failure.
///
/// Identity requests go through a [`UreqHttpClient`] with the default time-outs and roots, so
/// no other HTTP stack, TLS library or async runtime is involved.
///
/// ```no_run
/// use eventgrid_blocking::{EventGridClient, EventGridConfig, default_credential};
///
/// let client = EventGridClient::new(EventGridConfig::from_env()?, default_credential())?;
/// client.emit_event("user-events", "user.created", "users/123", serde_json::json!({"user_id": 123}))?;
/// # Ok::<(), eventgrid_blocking::Error>(())
/// ```
pub fn default_credential() -> Arc<dyn TokenCredential> {
    let transport = UreqTransport::new(&ClientOptions::default())
        .expect("the default transport needs no input that could be invalid");
    default_credential_on(&transport)
}

/// Like [`default_credential`], sending identity requests through `transport` (to share its
/// connections, or trust its extra CA).
pub fn default_credential_on(transport: &UreqTransport) -> Arc<dyn TokenCredential> {
    eventgrid_core::identity::default_credential(Arc::new(UreqHttpClient::new(transport)))
}
