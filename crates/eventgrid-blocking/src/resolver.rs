//! Name resolution for the ureq agent: IP literals answered at once, a host's addresses looked
//! up once and reused for a short while, and forgotten when connecting to them fails.
//!
//! ureq asks its resolver for the host's addresses on every request, before it looks in its
//! connection pool, so even a request on a pooled connection pays for a lookup. ureq's
//! `DefaultResolver` calls `getaddrinfo` each time, and on a new thread whenever a time-out
//! applies (this agent always has one): at thousands of requests a second, starting that thread
//! was most of a request's cost. Here a lookup happens only when no fresh answer is cached.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use eventgrid_core::frontend::TtlCache;
use http::Uri;
use ureq::config::Config;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, NextTimeout, TcpConnector, Transport,
};

/// How long a host's looked-up addresses are reused: the JVM's default for successful
/// lookups. Only new connections use them; pooled ones keep the address they connected to.
pub(crate) const ADDRESS_TTL: Duration = Duration::from_secs(30);

/// The most addresses ureq's connector is handed (its `ResolvedSocketAddrs` capacity).
const MAX_ADDRESSES: usize = 16;

/// Looked-up addresses by `host:port`, shared by the resolver and the TCP connector.
pub(crate) type AddressCache = Arc<TtlCache<ResolvedSocketAddrs>>;

/// `host:port` of `uri`, with the scheme's default port when it names none.
fn host_and_port(uri: &Uri) -> Option<String> {
    DefaultResolver::host_and_port(uri.scheme()?, uri.authority()?)
}

/// ureq's resolver for this crate's agent.
#[derive(Debug)]
pub(crate) struct CachingResolver {
    cache: AddressCache,
}

impl CachingResolver {
    pub(crate) fn new(cache: AddressCache) -> Self {
        Self { cache }
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = host_and_port(uri)
            .ok_or_else(|| ureq::Error::BadUri(format!("no host and port in {uri}")))?;
        if let Ok(literal) = host_port.parse::<SocketAddr>() {
            return self.wanted(config, [literal].into_iter());
        }
        let now = Instant::now();
        if let Some(addresses) = self.cache.fresh(&host_port, now) {
            return Ok(addresses);
        }
        let addresses = self.wanted(config, look_up(host_port.clone(), timeout)?)?;
        tracing::debug!(host = %host_port, addresses = ?&addresses[..], "host looked up");
        self.cache.store(host_port, addresses.clone(), now);
        Ok(addresses)
    }
}

impl CachingResolver {
    /// The addresses of the IP family the agent wants; at least one, or `HostNotFound`.
    fn wanted(
        &self,
        config: &Config,
        addresses: impl Iterator<Item = SocketAddr>,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut wanted = self.empty();
        for address in config
            .ip_family()
            .keep_wanted(addresses)
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
fn look_up(
    host_port: String,
    timeout: NextTimeout,
) -> Result<std::vec::IntoIter<SocketAddr>, ureq::Error> {
    if timeout.after.is_not_happening() {
        return Ok(host_port.to_socket_addrs()?);
    }
    let (answer, answered) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("eventgrid-resolve".to_owned())
        .spawn(move || answer.send(host_port.to_socket_addrs()).ok())?;
    match answered.recv_timeout(*timeout.after) {
        Ok(addresses) => Ok(addresses?),
        Err(RecvTimeoutError::Timeout) => Err(ureq::Error::Timeout(timeout.reason)),
        // The lookup thread panicked: report the host as not found rather than panic here.
        Err(RecvTimeoutError::Disconnected) => Err(ureq::Error::HostNotFound),
    }
}

/// ureq's TCP connector, forgetting the host's cached addresses when none of them accepts a
/// connection, so that the next attempt looks the host up again instead of retrying a stale
/// address until it expires.
#[derive(Debug)]
pub(crate) struct ForgetFailedAddresses {
    tcp: TcpConnector,
    cache: AddressCache,
}

impl ForgetFailedAddresses {
    pub(crate) fn new(cache: AddressCache) -> Self {
        Self {
            tcp: TcpConnector::default(),
            cache,
        }
    }
}

impl<In: Transport> Connector<In> for ForgetFailedAddresses {
    type Out = <TcpConnector as Connector<In>>::Out;

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
    use ureq::Timeout;
    use ureq::unversioned::transport::time;

    fn within(limit: Duration) -> NextTimeout {
        NextTimeout {
            after: time::Duration::Exact(limit),
            reason: Timeout::Resolve,
            ..NextTimeout::default()
        }
    }

    fn resolve(resolver: &CachingResolver, uri: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = uri.parse().unwrap();
        let addresses =
            resolver.resolve(&uri, &Config::default(), within(Duration::from_secs(5)))?;
        Ok(addresses.to_vec())
    }

    #[test]
    fn ip_literals_are_answered_with_the_scheme_port() {
        let resolver = CachingResolver::new(Arc::new(TtlCache::new(ADDRESS_TTL)));
        let v4 = resolve(&resolver, "https://127.0.0.1/api/events").unwrap();
        assert_eq!(v4, ["127.0.0.1:443".parse::<SocketAddr>().unwrap()]);
        let v6 = resolve(&resolver, "http://[::1]:8080/api/events").unwrap();
        assert_eq!(v6, ["[::1]:8080".parse::<SocketAddr>().unwrap()]);
        assert!(format!("{:?}", resolver.cache).contains("entries: 0"));
    }

    #[test]
    fn host_names_are_cached_until_they_expire_or_fail() {
        let cache: AddressCache = Arc::new(TtlCache::new(ADDRESS_TTL));
        let resolver = CachingResolver::new(cache.clone());
        let first = resolve(&resolver, "http://localhost:8080/").unwrap();
        assert!(
            first
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080)
        );
        // A planted answer proves the second call is served from the cache.
        let planted: SocketAddr = "127.0.0.9:8080".parse().unwrap();
        let mut addresses = resolver.empty();
        addresses.push(planted);
        cache.store(
            "localhost:8080".to_owned(),
            addresses.clone(),
            Instant::now(),
        );
        assert_eq!(
            resolve(&resolver, "http://localhost:8080/").unwrap(),
            [planted]
        );

        cache.forget("localhost:8080");
        assert_eq!(resolve(&resolver, "http://localhost:8080/").unwrap(), first);

        let expired = Instant::now() - ADDRESS_TTL;
        cache.store("localhost:8080".to_owned(), addresses, expired);
        assert_eq!(resolve(&resolver, "http://localhost:8080/").unwrap(), first);
    }

    #[test]
    fn unknown_hosts_are_not_found_and_not_cached() {
        let resolver = CachingResolver::new(Arc::new(TtlCache::new(ADDRESS_TTL)));
        assert!(resolve(&resolver, "http://eventgrid.invalid/").is_err());
        assert!(format!("{:?}", resolver.cache).contains("entries: 0"));
    }
}
