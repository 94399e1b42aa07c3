//! Building publish requests, transport-agnostic.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, Request, Uri};

use crate::auth::AuthHeader;
use crate::config::Schema;
use crate::error::{Error, Result};

/// This library's user agent: `eventgrid-rs/<version>`.
pub const USER_AGENT_BASE: &str = concat!("eventgrid-rs/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` header value, with an optional application suffix
/// (`eventgrid-rs/0.1.0 my-app/2.0`).
pub fn user_agent(suffix: Option<&str>) -> Result<HeaderValue> {
    let text = match suffix {
        Some(suffix) if !suffix.trim().is_empty() => format!("{USER_AGENT_BASE} {}", suffix.trim()),
        _ => USER_AGENT_BASE.to_owned(),
    };
    HeaderValue::from_str(&text).map_err(|_| {
        Error::InvalidOption(format!(
            "user agent suffix {suffix:?} is not a valid header value"
        ))
    })
}

/// The parts of a publish request that are the same for every request to one topic.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    /// The publish URL, with `api-version`.
    pub uri: Uri,
    /// The schema, which decides the content type.
    pub schema: Schema,
    /// `aeg-channel-name`, for partner topics.
    pub channel_name: Option<HeaderValue>,
    /// `User-Agent`.
    pub user_agent: HeaderValue,
}

impl RequestTemplate {
    /// The POST of `body` with `auth`.
    pub fn build(&self, body: Bytes, auth: &AuthHeader) -> Request<Bytes> {
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(self.schema.content_type()),
        );
        headers.insert(USER_AGENT, self.user_agent.clone());
        if let Some(channel) = &self.channel_name {
            headers.insert("aeg-channel-name", channel.clone());
        }
        if let Some((name, value)) = auth.header() {
            headers.insert(name, value.clone());
        }
        request
    }
}

/// Refuses a request that carries a credential over plain http to a host other than loopback,
/// with [`Error::InsecureTransport`]. The engine holds every request to this before any
/// transport (built-in or custom) sees it; a topic is held to the same rule when configured.
pub fn ensure_credentials_protected<B>(request: &Request<B>) -> Result<()> {
    if request.uri().scheme_str() == Some("https") {
        return Ok(());
    }
    let carries_credential = ["aeg-sas-key", "aeg-sas-token", "authorization"]
        .iter()
        .any(|name| request.headers().contains_key(*name))
        || request.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|p| p.starts_with("aeg-sas-key=") || p.starts_with("aeg-sas-token="))
        });
    if carries_credential {
        refuse_plain_http(request.uri())
    } else {
        Ok(())
    }
}

/// Whether `host` (as in a URL: a name, an IPv4 address or a bracketed IPv6 address) is this
/// machine: `localhost`, `127.0.0.0/8` or `::1`. Plain http may carry a credential only there,
/// and the built-in transports never send such traffic through a proxy.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The rule itself: a credential may go to `uri` over https, or over http to loopback only.
pub(crate) fn refuse_plain_http(uri: &Uri) -> Result<()> {
    let host = uri.host().unwrap_or_default();
    if uri.scheme_str() == Some("https") || is_loopback_host(host) {
        Ok(())
    } else {
        Err(Error::InsecureTransport {
            host: host.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn template(uri: &str, schema: Schema) -> RequestTemplate {
        RequestTemplate {
            uri: uri.parse().unwrap(),
            schema,
            channel_name: Some(HeaderValue::from_static("my-channel")),
            user_agent: user_agent(Some("app/1")).unwrap(),
        }
    }

    #[test]
    fn headers_per_schema_and_credential() {
        let t = template(
            "https://h/api/events?api-version=2018-01-01",
            Schema::CloudEvents,
        );
        let auth = AuthHeader::sas_token(&Secret::new("r=x&e=y&s=z")).unwrap();
        let request = t.build(Bytes::from_static(b"[]"), &auth);
        assert_eq!(request.method(), Method::POST);
        let h = request.headers();
        assert_eq!(
            h["content-type"],
            "application/cloudevents-batch+json; charset=utf-8"
        );
        assert_eq!(h["aeg-sas-token"], "r=x&e=y&s=z");
        assert_eq!(h["aeg-channel-name"], "my-channel");
        assert!(
            h["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("eventgrid-rs/")
        );
        assert!(h["user-agent"].to_str().unwrap().ends_with(" app/1"));
        let t = template(
            "https://h/api/events?api-version=2018-01-01",
            Schema::EventGrid,
        );
        let auth = AuthHeader::bearer(&Secret::new("tok")).unwrap();
        let request = t.build(Bytes::new(), &auth);
        assert_eq!(
            request.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        assert_eq!(request.headers()["authorization"], "Bearer tok");
    }

    #[test]
    fn credentials_over_plain_http_only_to_loopback() {
        let auth = AuthHeader::access_key(&Secret::new("k")).unwrap();
        let remote =
            template("http://example.com/api/events", Schema::EventGrid).build(Bytes::new(), &auth);
        let err = ensure_credentials_protected(&remote).unwrap_err();
        assert!(err.to_string().contains("example.com"));
        assert!(!err.to_string().contains('k') || !err.to_string().contains(": k"));
        let local =
            template("http://127.0.0.1:9/api/events", Schema::EventGrid).build(Bytes::new(), &auth);
        assert!(ensure_credentials_protected(&local).is_ok());
        let open = template("http://example.com/api/events", Schema::EventGrid)
            .build(Bytes::new(), &AuthHeader::None);
        assert!(ensure_credentials_protected(&open).is_ok());
        let query: Request<()> = Request::post("http://example.com/api/events?aeg-sas-key=k")
            .body(())
            .unwrap();
        assert!(ensure_credentials_protected(&query).is_err());
    }
}
