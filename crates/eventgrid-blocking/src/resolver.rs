//! Name resolution for the ureq agent: IP literals answered at once, a host's addresses looked
//! up once and reused for a short while, and forgotten when connecting to them fails.
//!
//! ureq asks its resolver for the host's addresses on every request, before it looks in its
//! connection pool, so even a request on a pooled connection pays for a lookup. ureq's
//! `DefaultResolver` calls `getaddrinfo` each time, and on a new thread whenever a time-out
//! applies (this agent always has one): at thousands of requests a second, starting that thread
//! was most of a request's cost. Here a lookup happens only when the core's `AddressCache` has
//! no fresh answer.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

use eventgrid_core::frontend::AddressCache;
use http::Uri;
use ureq::config::Config;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{ConnectionDetails, Connector, NextTimeout, Transport};

use crate::tcp::WarmTcpConnector;

/// The most addresses ureq's connector is handed (its `ResolvedSocketAddrs` capacity).
const MAX_ADDRESSES: usize = 16;

/// `host:port` of `uri`, with the scheme's default port when it names none.
fn host_and_port(uri: &Uri) -> Option<String> {
    DefaultResolver::host_and_port(uri.scheme()?, uri.authority()?)
}

/// ureq's resolver for this crate's agent: the core's [`AddressCache`] decides when to look a
/// host up; this looks it up and keeps the addresses of the IP family the agent wants.
#[derive(Debug)]
pub(crate) struct CachingResolver {
    cache: Arc<AddressCache>,
}

impl CachingResolver {
    pub(crate) fn new(cache: Arc<AddressCache>) -> Self {
        Self { cache }
    }
}

impl Resolver for CachingResolver {
    /// At least one address of the wanted family, or `HostNotFound`.
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = host_and_port(uri)
            .ok_or_else(|| ureq::Error::BadUri(format!("no host and port in {uri}")))?;
        let addresses = self.cache.addresses(&host_port, Instant::now(), || {
            look_up(host_port.clone(), timeout)
        })?;
        let mut wanted = self.empty();
        let family = config.ip_family();
        for address in family
            .keep_wanted(addresses.iter().copied())
            .take(MAX_ADDRESSES)
        {
            wanted.push(address);
        }
        if wanted.is_empty() {
            Err(ureq::Error::HostNotFound)
        } else {
            Ok(wanted)
        }
    }
}

/// Looks `host_port` up within `timeout`. `getaddrinfo` cannot be cancelled, so with a
/// time-out it runs on a thread of its own that is left to finish when the time runs out.
fn look_up(host_port: String, timeout: NextTimeout) -> Result<Vec<SocketAddr>, ureq::Error> {
    if timeout.after.is_not_happening() {
        return Ok(host_port.to_socket_addrs()?.collect());
    }
    let (answer, answered) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("eventgrid-resolve".to_owned())
        .spawn(move || answer.send(host_port.to_socket_addrs()).ok())?;
    match answered.recv_timeout(*timeout.after) {
        Ok(addresses) => Ok(addresses?.collect()),
        Err(RecvTimeoutError::Timeout) => Err(ureq::Error::Timeout(timeout.reason)),
        // The lookup thread panicked: report the host as not found rather than panic here.
        Err(RecvTimeoutError::Disconnected) => Err(ureq::Error::HostNotFound),
    }
}

/// The TCP connector, forgetting the host's cached addresses when none of them accepts a
/// connection, so that the next attempt looks the host up again instead of retrying a stale
/// address until it expires.
#[derive(Debug)]
pub(crate) struct ForgetFailedAddresses {
    tcp: WarmTcpConnector,
    cache: Arc<AddressCache>,
}

impl ForgetFailedAddresses {
    pub(crate) fn new(cache: Arc<AddressCache>) -> Self {
        Self {
            tcp: WarmTcpConnector,
            cache,
        }
    }
}

impl<In: Transport> Connector<In> for ForgetFailedAddresses {
    type Out = <WarmTcpConnector as Connector<In>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.tcp.connect(details, chained).inspect_err(|_| {
            if let Some(host_port) = host_and_port(details.uri) {
                self.cache.forget(&host_port);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use ureq::Timeout;
    use ureq::unversioned::transport::time;

    fn resolve(resolver: &CachingResolver, uri: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let within = NextTimeout {
            after: time::Duration::Exact(Duration::from_secs(5)),
            reason: Timeout::Resolve,
            ..NextTimeout::default()
        };
        let addresses = resolver.resolve(&uri.parse().unwrap(), &Config::default(), within)?;
        Ok(addresses.to_vec())
    }

    #[test]
    fn urls_without_a_port_get_the_scheme_port() {
        let resolver = CachingResolver::new(Arc::default());
        let v4 = resolve(&resolver, "https://127.0.0.1/api/events").unwrap();
        assert_eq!(v4, ["127.0.0.1:443".parse::<SocketAddr>().unwrap()]);
        let v6 = resolve(&resolver, "http://[::1]:8080/api/events").unwrap();
        assert_eq!(v6, ["[::1]:8080".parse::<SocketAddr>().unwrap()]);
    }

    #[test]
    fn host_names_are_looked_up_and_unknown_ones_not_found() {
        let resolver = CachingResolver::new(Arc::default());
        let local = resolve(&resolver, "http://localhost:8080/").unwrap();
        assert!(!local.is_empty());
        assert!(
            local
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080)
        );
        assert!(resolve(&resolver, "http://eventgrid.invalid/").is_err());
    }
}
