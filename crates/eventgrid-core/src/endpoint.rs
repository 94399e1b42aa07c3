//! Topic endpoints: parsing, normalizing and the publish URL.

use std::fmt;

use http::Uri;

/// The only API version basic topics and domains speak.
pub const API_VERSION: &str = "2018-01-01";

const EVENTS_PATH: &str = "/api/events";

/// A topic's endpoint, normalized to the publish URL
/// `{scheme}://{host}{path}/api/events?api-version=2018-01-01`.
///
/// Accepted with or without the `/api/events` path and with or without a query string; an
/// `api-version` already in the query is kept, never doubled.
///
/// ```
/// use eventgrid_core::Endpoint;
/// let a = Endpoint::parse("https://t.westus2-1.eventgrid.azure.net").unwrap();
/// let b = Endpoint::parse("https://t.westus2-1.eventgrid.azure.net/api/events?api-version=2018-01-01").unwrap();
/// assert_eq!(a.publish_uri(), b.publish_uri());
/// assert_eq!(a.publish_uri().to_string(),
///     "https://t.westus2-1.eventgrid.azure.net/api/events?api-version=2018-01-01");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    publish_uri: Uri,
    resource: String,
    https: bool,
    host: String,
}

impl Endpoint {
    /// Parses and normalizes an endpoint. The error text says what is wrong (without echoing
    /// query values, which might hold a key).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("endpoint is empty".to_owned());
        }
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("endpoint is not a valid URL ({e})"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            Some(other) => {
                return Err(format!(
                    "endpoint scheme must be http or https, not `{other}`"
                ));
            }
            None => return Err("endpoint must start with https:// (or http://)".to_owned()),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| "endpoint has no host".to_owned())?;
        if authority.host().is_empty() {
            return Err("endpoint has no host".to_owned());
        }
        if authority.as_str().contains('@') {
            return Err("endpoint must not contain user info".to_owned());
        }
        let path = uri.path().trim_end_matches('/');
        let path = if path.ends_with(EVENTS_PATH) {
            path.to_owned()
        } else {
            format!("{path}{EVENTS_PATH}")
        };
        if uri.query().is_some_and(|q| {
            q.split('&').any(|p| {
                let name = p.split('=').next().unwrap_or_default();
                name.eq_ignore_ascii_case("aeg-sas-key")
                    || name.eq_ignore_ascii_case("aeg-sas-token")
            })
        }) {
            return Err(
                "endpoint carries a credential in its query string: give it as the topic's credential instead, so it is never logged"
                    .to_owned(),
            );
        }
        let query = match uri.query() {
            Some(q) if q.split('&').any(|p| p.starts_with("api-version=")) => q.to_owned(),
            Some(q) if !q.is_empty() => format!("{q}&api-version={API_VERSION}"),
            _ => format!("api-version={API_VERSION}"),
        };
        let scheme = if https { "https" } else { "http" };
        let resource = format!("{scheme}://{authority}{path}");
        let publish_uri: Uri = format!("{resource}?{query}")
            .parse()
            .map_err(|e| format!("endpoint is not a valid URL ({e})"))?;
        Ok(Self {
            publish_uri,
            resource,
            https,
            host: authority.host().to_owned(),
        })
    }

    /// The URL events are POSTed to, with `api-version`.
    pub fn publish_uri(&self) -> &Uri {
        &self.publish_uri
    }

    /// The endpoint without query, as SAS tokens name it: `https://host/api/events`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the endpoint uses TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`): the only hosts a
    /// credential may be sent to over plain http.
    pub fn is_loopback(&self) -> bool {
        crate::request::is_loopback_host(&self.host)
    }

    /// Whether a credential may be sent to this endpoint: over https, or to loopback (the
    /// rule [`frontend::ensure_credentials_protected`](crate::frontend::ensure_credentials_protected)
    /// holds every request to).
    pub fn allows_credentials(&self) -> bool {
        crate::request::refuse_plain_http(&self.publish_uri).is_ok()
    }
}

/// Shows the URL without its query, which could carry a key.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({:?})", self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_path_and_api_version() {
        let e = Endpoint::parse("https://t.eastus-1.eventgrid.azure.net/").unwrap();
        assert_eq!(
            e.publish_uri().to_string(),
            "https://t.eastus-1.eventgrid.azure.net/api/events?api-version=2018-01-01"
        );
        assert_eq!(
            e.resource(),
            "https://t.eastus-1.eventgrid.azure.net/api/events"
        );
    }

    #[test]
    fn keeps_existing_api_version_and_other_query() {
        let e = Endpoint::parse("https://h/api/events?api-version=2018-01-01").unwrap();
        assert_eq!(e.publish_uri().query(), Some("api-version=2018-01-01"));
        let e = Endpoint::parse("https://h/api/events?foo=bar").unwrap();
        assert_eq!(
            e.publish_uri().query(),
            Some("foo=bar&api-version=2018-01-01")
        );
    }

    #[test]
    fn emulator_style_path_prefix() {
        let e = Endpoint::parse("http://127.0.0.1:8080/user-events").unwrap();
        assert_eq!(
            e.publish_uri().to_string(),
            "http://127.0.0.1:8080/user-events/api/events?api-version=2018-01-01"
        );
        assert!(e.is_loopback());
        assert!(e.allows_credentials());
    }

    #[test]
    fn rejects_bad_endpoints() {
        for bad in [
            "",
            "not a url",
            "ftp://h/api/events",
            "h.example.com",
            "https://",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn plain_http_to_remote_host_refuses_credentials() {
        let e = Endpoint::parse("http://example.com").unwrap();
        assert!(!e.allows_credentials());
        assert!(
            Endpoint::parse("http://[::1]:80")
                .unwrap()
                .allows_credentials()
        );
        assert!(
            Endpoint::parse("http://localhost:1")
                .unwrap()
                .allows_credentials()
        );
    }

    #[test]
    fn display_hides_query() {
        let e = Endpoint::parse("https://h/api/events?sig=SECRET").unwrap();
        assert!(!format!("{e} {e:?}").contains("SECRET"));
    }

    #[test]
    fn credentials_in_the_query_are_refused() {
        let err = Endpoint::parse("https://h/api/events?aeg-sas-key=SECRET").unwrap_err();
        assert!(err.contains("credential in its query string") && !err.contains("SECRET"));
    }
}
