//! Reading a proxy URL, `[scheme://][user[:password]@]host[:port][/path]`, as curl reads it: no
//! scheme means `http`, no port means 1080. Errors never repeat the value (it may hold a
//! password).

use percent_encoding::percent_decode_str;

use super::{Proxy, ProxyError};
use crate::secret::Secret;

/// curl's default proxy port.
const DEFAULT_PORT: u16 = 1080;

/// The proxy `value` names; `setting` says where it came from, for errors.
pub(super) fn parse(value: &str, setting: &str) -> Result<Proxy, ProxyError> {
    let invalid = |reason: &str| ProxyError::InvalidUrl {
        setting: setting.to_owned(),
        reason: reason.to_owned(),
    };
    let value = value.trim();
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("http".to_owned(), value),
    };
    if scheme != "http" {
        let readable = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !readable {
            return Err(invalid("its scheme is not readable"));
        }
        return Err(ProxyError::Unsupported {
            setting: setting.to_owned(),
            scheme,
        });
    }
    // curl ignores a path; so does this.
    let authority = rest.find(['/', '?', '#']).map_or(rest, |end| &rest[..end]);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let (host, port) = split_host_port(host_port)
        .ok_or_else(|| invalid("its port is not a number from 1 to 65535"))?;
    if host.is_empty() {
        return Err(invalid("it names no host"));
    }
    // http's own parser decides what a valid host is (names, IPv4, bracketed IPv6).
    if format!("{host}:{port}")
        .parse::<http::uri::Authority>()
        .is_err()
        || host.contains(['@', ' '])
    {
        return Err(invalid("its host is not a valid name or address"));
    }
    let (username, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            let decode = |part: &str| {
                percent_decode_str(part)
                    .decode_utf8()
                    .map(|text| text.into_owned())
                    .map_err(|_| {
                        invalid("its user name or password is not UTF-8 once percent-decoded")
                    })
            };
            (
                Some(decode(user)?),
                password.map(decode).transpose()?.map(Secret::new),
            )
        }
    };
    Ok(Proxy {
        host: host.to_owned(),
        port,
        username,
        password,
    })
}

/// `host[:port]` or `[v6][:port]`; `None` for a port that is not 1 to 65535.
fn split_host_port(host_port: &str) -> Option<(&str, u16)> {
    let (host, port) = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        let (host, after) = host_port.split_at(end + 1);
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port = match port {
        Some(port) => port.parse::<u16>().ok().filter(|port| *port != 0)?,
        None => DEFAULT_PORT,
    };
    Some((host, port))
}
