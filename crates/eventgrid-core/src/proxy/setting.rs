//! [`ProxySetting`]: the proxy option of [`ClientOptions`](crate::ClientOptions).

use super::ProxyConfig;

/// The environment variables [`ProxyConfig::from_env`] asks for.
pub const ENVIRONMENT_VARIABLES: [&str; 9] = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

/// Where a client's transport takes its proxies from ([`ClientOptions::proxy`]); both
/// clients read it the same way, when their transport is built.
///
/// ```
/// use eventgrid_core::ClientOptions;
/// use eventgrid_core::proxy::{ProxyConfig, ProxySetting};
/// assert_eq!(ClientOptions::default().proxy, ProxySetting::FromEnvironment);
/// let options = ClientOptions::default()
///     .with_proxy(ProxySetting::Explicit(ProxyConfig::new("http://proxy.corp:3128")?));
/// assert!(format!("{options:?}").contains("proxy.corp:3128"));
/// # Ok::<(), eventgrid_core::proxy::ProxyError>(())
/// ```
///
/// [`ClientOptions::proxy`]: crate::ClientOptions::proxy
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxySetting {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case), read when the
    /// transport is built (the default).
    #[default]
    FromEnvironment,
    /// These proxies; the environment is not read.
    Explicit(ProxyConfig),
    /// No proxy: every request goes direct, whatever the environment says.
    Disabled,
}

impl ProxySetting {
    /// The proxies in force; `lookup` answers an environment variable's value and is asked
    /// only for [`FromEnvironment`](Self::FromEnvironment).
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> ProxyConfig {
        match self {
            ProxySetting::FromEnvironment => ProxyConfig::from_env(lookup),
            ProxySetting::Explicit(config) => config.clone(),
            ProxySetting::Disabled => ProxyConfig::none(),
        }
    }
}

impl From<ProxyConfig> for ProxySetting {
    fn from(config: ProxyConfig) -> Self {
        ProxySetting::Explicit(config)
    }
}
