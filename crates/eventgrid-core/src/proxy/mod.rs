//! Proxy selection, the same for both clients and free of I/O: given the proxy settings (the
//! environment's variables are handed in, never read here) and a request, decide whether it
//! goes [`Direct`](Route::Direct) or through a [`Tunnel`](Route::Tunnel), or refuse it with a
//! [`ProxyError`] before any byte is sent.
//!
//! The rules, as curl documents them:
//!
//! - `https_proxy` / `HTTPS_PROXY` for https targets, `http_proxy` / `HTTP_PROXY` for plain
//!   http ones, `all_proxy` / `ALL_PROXY` for either when the scheme's own is unset; the
//!   lower-case name wins over the upper-case one, and an empty value counts as unset.
//!   Upper-case `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set: in a CGI program it
//!   comes from the client's `Proxy:` request header ("httpoxy").
//! - `no_proxy` / `NO_PROXY` names the hosts reached directly (see `no_proxy.rs`: names with
//!   their subdomains, `*`, IP addresses, CIDR ranges, ports).
//! - Loopback targets (`localhost`, `127.0.0.0/8`, `::1`) never use a proxy: they are the
//!   only plain-http targets a credential may go to, and that traffic must not leave the
//!   machine.
//! - A proxy URL is `[http://][user:password@]host[:port]`; the port defaults to 1080, as in
//!   curl. The user and password are percent-decoded, sent only as `Proxy-Authorization` to
//!   the proxy, and never shown by `Debug`, `Display` or an error.
//! - Only `http://` proxies are supported (HTTP CONNECT). A request that would need another
//!   kind (`socks5://`, `https://`) fails with [`ProxyError::Unsupported`], naming the
//!   setting; it is never sent directly instead.
//! - Both https and plain http targets go through a CONNECT tunnel (as curl's
//!   `--proxytunnel`), so the proxy relays bytes and never rewrites a request.
//! - A request carrying a credential (`aeg-sas-key`, `aeg-sas-token`, `Authorization`) to a
//!   plain http target is never sent through a proxy, tunnel or not: the proxy could read it.
//!   Over https the tunnel carries TLS end to end and the credential is safe.

mod error;
mod no_proxy;
mod setting;
#[cfg(test)]
mod tests;
mod tunnel;
mod url;

use std::fmt;

use base64::Engine;
use http::{HeaderValue, Request, Uri};

use crate::request::{ensure_credentials_protected, is_loopback_host};
use crate::secret::Secret;
pub use error::ProxyError;
use no_proxy::NoProxy;
pub use setting::{ENVIRONMENT_VARIABLES, ProxySetting};
pub use tunnel::{MAX_TUNNEL_ANSWER_BYTES, TunnelAnswer, read_tunnel_answer};

/// Where one request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route<'a> {
    /// Straight to the target.
    Direct,
    /// Through an HTTP CONNECT tunnel opened by this proxy.
    Tunnel(&'a Proxy),
}

/// The proxies in force for a transport: one for https targets, one for plain http targets,
/// and the `NO_PROXY` exceptions. Made from a [`ProxySetting`] with
/// [`ProxySetting::resolve`], or directly.
///
/// ```
/// use eventgrid_core::proxy::{ProxyConfig, Route};
/// let proxies = ProxyConfig::new("http://user:p%40ss@proxy.corp:3128")?
///     .with_no_proxy(".internal.corp, 10.0.0.0/8");
/// let uri = "https://t.westus2-1.eventgrid.azure.net/api/events".parse()?;
/// let Route::Tunnel(proxy) = proxies.route(&uri)? else { panic!("proxied") };
/// assert_eq!(proxy.authority(), "proxy.corp:3128");
/// assert_eq!(proxy.password().map(|p| p.expose()), Some("p@ss"));
/// assert!(!format!("{proxies:?}").contains("p@ss"));
/// for direct in ["https://api.internal.corp/", "http://10.1.2.3/", "http://localhost:7070/"] {
///     assert_eq!(proxies.route(&direct.parse()?)?, Route::Direct);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    https: Option<Slot>,
    http: Option<Slot>,
    no_proxy: NoProxy,
}

/// A scheme's proxy: usable, or refused (with the reason) for every request that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Usable(Proxy),
    Unusable(ProxyError),
}

/// The name under which an explicit proxy is reported.
const OPTION: &str = "ClientOptions::proxy";

impl ProxyConfig {
    /// No proxy: every request goes direct.
    pub fn none() -> Self {
        Self::default()
    }

    /// One proxy for https and plain http targets. Fails, naming the cause, when `url` is not
    /// an `http://` proxy URL.
    pub fn new(url: &str) -> Result<Self, ProxyError> {
        Self::none().with_https_proxy(url)?.with_http_proxy(url)
    }

    /// Uses `url` for https targets.
    pub fn with_https_proxy(mut self, url: &str) -> Result<Self, ProxyError> {
        self.https = Some(Slot::Usable(url::parse(url, OPTION)?));
        Ok(self)
    }

    /// Uses `url` for plain http targets.
    pub fn with_http_proxy(mut self, url: &str) -> Result<Self, ProxyError> {
        self.http = Some(Slot::Usable(url::parse(url, OPTION)?));
        Ok(self)
    }

    /// Reaches the hosts in `list` (`NO_PROXY` syntax) directly, in addition to loopback.
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = NoProxy::parse(list);
        self
    }

    /// The proxies the environment names; `lookup` answers a variable's value (a front end
    /// passes `|name| std::env::var(name).ok()`; [`ENVIRONMENT_VARIABLES`] lists those asked
    /// for). Never fails: a value that cannot be used fails each request that would need it.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let value = |name: &'static str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .map(|value| (name, value))
        };
        let slot = |(name, value): (&'static str, String)| match url::parse(&value, name) {
            Ok(proxy) => Slot::Usable(proxy),
            Err(error) => Slot::Unusable(error),
        };
        let all = || value("all_proxy").or_else(|| value("ALL_PROXY"));
        let https = value("https_proxy")
            .or_else(|| value("HTTPS_PROXY"))
            .or_else(all);
        let cgi = lookup("REQUEST_METHOD").is_some();
        let http = value("http_proxy")
            .or_else(|| if cgi { None } else { value("HTTP_PROXY") })
            .or_else(all);
        let no_proxy = value("no_proxy").or_else(|| value("NO_PROXY"));
        Self {
            https: https.map(slot),
            http: http.map(slot),
            no_proxy: no_proxy
                .map(|(_, list)| NoProxy::parse(&list))
                .unwrap_or_default(),
        }
    }

    /// Whether any request could use a proxy.
    pub fn is_none(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }

    /// The distinct usable proxies (at most two: https's and plain http's), for a transport
    /// that prepares a connection pool per proxy.
    pub fn proxies(&self) -> Vec<&Proxy> {
        let mut proxies: Vec<&Proxy> = Vec::new();
        for slot in [&self.https, &self.http].into_iter().flatten() {
            if let Slot::Usable(proxy) = slot
                && !proxies.contains(&proxy)
            {
                proxies.push(proxy);
            }
        }
        proxies
    }

    /// Where a request to `uri` goes. Fails when the proxy it needs cannot be used.
    pub fn route(&self, uri: &Uri) -> Result<Route<'_>, ProxyError> {
        let Some(host) = uri.host() else {
            return Ok(Route::Direct);
        };
        let (slot, default_port) = match uri.scheme_str() {
            Some("https") => (&self.https, 443),
            Some("http") => (&self.http, 80),
            _ => return Ok(Route::Direct),
        };
        let Some(slot) = slot else {
            return Ok(Route::Direct);
        };
        let port = uri.port_u16().unwrap_or(default_port);
        if is_loopback_host(host) || self.no_proxy.matches(host, port) {
            return Ok(Route::Direct);
        }
        match slot {
            Slot::Usable(proxy) => Ok(Route::Tunnel(proxy)),
            Slot::Unusable(error) => Err(error.clone()),
        }
    }

    /// Where `request` goes, refusing a credential bound for a plain http target through a
    /// proxy ([`ProxyError::CredentialThroughProxy`]).
    pub fn route_request<B>(&self, request: &Request<B>) -> Result<Route<'_>, ProxyError> {
        let route = self.route(request.uri())?;
        if let Route::Tunnel(proxy) = route
            && ensure_credentials_protected(request).is_err()
        {
            return Err(ProxyError::CredentialThroughProxy {
                host: request.uri().host().unwrap_or_default().to_owned(),
                proxy: proxy.to_string(),
            });
        }
        Ok(route)
    }
}

/// An HTTP proxy: where it is and the credentials it wants. `Debug` and `Display` show
/// `http://host:port` only.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<Secret>,
}

impl Proxy {
    /// The proxy's host as in a URL (an IPv6 address in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, to connect to.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The user name from the proxy URL, decoded.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password from the proxy URL, decoded.
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }

    /// The `Proxy-Authorization` value (`Basic`), marked sensitive; `None` without a user.
    pub fn authorization(&self) -> Option<HeaderValue> {
        let user = self.username.as_deref()?;
        let password = self.password.as_ref().map(Secret::expose).unwrap_or("");
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = if self.username.is_some() {
            " (with credentials)"
        } else {
            ""
        };
        write!(f, "Proxy({self}{credentials})")
    }
}
