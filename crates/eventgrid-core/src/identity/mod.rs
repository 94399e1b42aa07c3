//! The default Microsoft Entra ID credential chain, the Rust counterpart of Python's
//! `DefaultAzureCredential()` (which the Rust `azure_identity` no longer offers). Enabled by
//! the `identity` feature; the clients give it their own HTTP client, so no second HTTP stack
//! is pulled in.

mod http;

use std::fmt;
use std::sync::{Arc, Mutex};

pub use self::http::{AsyncHttpClient, BlockingHttpClient};
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{
    AccessToken, Secret as AzureSecret, TokenCredential, TokenRequestOptions,
};
use azure_core::http::{ClientOptions, HttpClient, Transport};

use azure_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, DeveloperToolsCredential,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};

/// Builds the chain, in order: a client secret from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
/// `AZURE_CLIENT_SECRET`; workload identity; managed identity; the developer tools (Azure CLI,
/// Azure Developer CLI). `AZURE_AUTHORITY_HOST` selects another authority (a sovereign cloud,
/// or the emulator's token endpoint). The first source that yields a token is used from then on; if all
/// fail, the error reports each step's failure. `http_client` carries every identity request.
pub fn default_credential(http_client: Arc<dyn HttpClient>) -> Arc<dyn TokenCredential> {
    default_credential_with(http_client, |name| std::env::var(name).ok())
}

/// Like [`default_credential`], reading the client-secret step's variables and
/// `AZURE_AUTHORITY_HOST` through `lookup` (workload and managed identity read the process
/// environment themselves).
pub fn default_credential_with(
    http_client: Arc<dyn HttpClient>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Arc<dyn TokenCredential> {
    // azure_identity reads AZURE_AUTHORITY_HOST from the process environment only; pass it on
    // explicitly so `lookup` decides, as it does for every other variable.
    let cloud = lookup("AZURE_AUTHORITY_HOST").map(|authority_host| {
        let mut custom = CustomConfiguration::default();
        custom.authority_host = authority_host;
        Arc::new(CloudConfiguration::Custom(custom))
    });
    let client_options = || ClientOptions {
        transport: Some(Transport::new(http_client.clone())),
        cloud: cloud.clone(),
        ..Default::default()
    };
    let mut sources: Vec<Source> = Vec::new();
    let secret_vars = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"];
    let secret = match secret_vars.map(&lookup) {
        [Some(tenant), Some(client), Some(secret)] => ClientSecretCredential::new(
            &tenant,
            client,
            AzureSecret::new(secret),
            Some(ClientSecretCredentialOptions {
                client_options: client_options(),
            }),
        )
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|e| e.to_string()),
        vars => Err(format!(
            "{} not set",
            secret_vars
                .iter()
                .zip(vars)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    sources.push(Source::new("environment client secret", secret));
    let mut workload = WorkloadIdentityCredentialOptions::default();
    workload.credential_options.client_options = client_options();
    sources.push(Source::new(
        "workload identity",
        WorkloadIdentityCredential::new(Some(workload))
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| e.to_string()),
    ));
    sources.push(Source::new(
        "managed identity",
        ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            client_options: client_options(),
            ..Default::default()
        }))
        .map(|c| c as Arc<dyn TokenCredential>)
        .map_err(|e| e.to_string()),
    ));
    sources.push(Source::new(
        "developer tools",
        DeveloperToolsCredential::new(None)
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| e.to_string()),
    ));
    Arc::new(DefaultCredential {
        sources,
        chosen: Mutex::new(None),
    })
}

struct Source {
    name: &'static str,
    credential: Result<Arc<dyn TokenCredential>, String>,
}

impl Source {
    fn new(name: &'static str, credential: Result<Arc<dyn TokenCredential>, String>) -> Self {
        Self { name, credential }
    }
}

/// Tries each source in order and sticks with the first that works.
struct DefaultCredential {
    sources: Vec<Source>,
    chosen: Mutex<Option<usize>>,
}

impl fmt::Debug for DefaultCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.sources.iter().map(|s| s.name).collect();
        f.debug_struct("DefaultCredential")
            .field("sources", &names)
            .finish()
    }
}

#[async_trait::async_trait]
impl TokenCredential for DefaultCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let chosen = *self.chosen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = chosen
            && let Ok(credential) = &self.sources[index].credential
        {
            return credential.get_token(scopes, options).await;
        }
        let mut failures = Vec::new();
        for (index, source) in self.sources.iter().enumerate() {
            match &source.credential {
                Err(reason) => failures.push(format!("{}: {reason}", source.name)),
                Ok(credential) => match credential.get_token(scopes, options.clone()).await {
                    Ok(token) => {
                        *self.chosen.lock().unwrap_or_else(|e| e.into_inner()) = Some(index);
                        return Ok(token);
                    }
                    Err(e) => failures.push(format!("{}: {e}", source.name)),
                },
            }
        }
        Err(azure_core::Error::with_message(
            azure_core::error::ErrorKind::Credential,
            format!(
                "no credential in the default chain produced a token: {}",
                failures.join("; ")
            ),
        ))
    }
}
