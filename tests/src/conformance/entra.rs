//! A real `azure_identity` credential against the emulator's Microsoft Entra token endpoint,
//! sending its requests through the HTTP stack of the front end under test.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::{ClientOptions as AzureClientOptions, HttpClient, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use eventgrid::core::ClientOptions;
use eventgrid::{Result, TokenCredential};

use super::{Adapter, Lab};

/// The client id the TLS lab's token endpoint knows.
pub const ENTRA_CLIENT_ID: &str = "conformance-app";
/// Its secret.
pub const ENTRA_CLIENT_SECRET: &str = "conformance-secret";

impl Adapter {
    /// The `azure_core` HTTP client of this front end's stack (hyper for async front ends,
    /// ureq for blocking ones), trusting `ca_pem`.
    pub fn identity_http(self, ca_pem: &str) -> Result<Arc<dyn HttpClient>> {
        Ok(match self {
            Adapter::AsyncClient | Adapter::AsyncPublisher => {
                let transport =
                    eventgrid::asynchronous::HyperTransport::builder(&ClientOptions::default())
                        .extra_ca_pem(ca_pem)
                        .build()?;
                Arc::new(eventgrid::asynchronous::HyperHttpClient::new(transport))
            }
            Adapter::BlockingClient | Adapter::BlockingPublisher => {
                let transport =
                    eventgrid::blocking::UreqTransport::builder(&ClientOptions::default())
                        .extra_ca_pem(ca_pem)
                        .build()?;
                Arc::new(eventgrid::blocking::UreqHttpClient::new(transport))
            }
        })
    }
}

impl Lab {
    /// A lab serving HTTPS whose token endpoint knows [`ENTRA_CLIENT_ID`].
    pub fn start_tls(adapter: Adapter) -> Self {
        Self::start_with(adapter, |config| {
            config
                .tls(true)
                .entra_client(ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET)
        })
    }

    /// A client-secret credential for [`ENTRA_CLIENT_ID`] asking this lab's token endpoint
    /// (which needs [`start_tls`](Self::start_tls): identity credentials demand HTTPS).
    pub fn entra_credential(&self) -> Arc<dyn TokenCredential> {
        let ca_pem = self
            .emulator()
            .ca_certificate_pem()
            .expect("a lab started with TLS");
        let http = self
            .adapter()
            .identity_http(ca_pem)
            .expect("an identity HTTP client");
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self.emulator().authority_host().to_owned();
        ClientSecretCredential::new(
            "conformance-tenant",
            ENTRA_CLIENT_ID.to_owned(),
            ENTRA_CLIENT_SECRET.to_owned().into(),
            Some(ClientSecretCredentialOptions {
                client_options: AzureClientOptions {
                    cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
                    transport: Some(Transport::new(http)),
                    ..Default::default()
                },
            }),
        )
        .expect("a client-secret credential")
    }
}
