//! The host-lookup policy of a front end that resolves names itself: IP literals answered at
//! once, a host's looked-up addresses reused for [`ADDRESS_TTL`], forgotten when connecting to
//! them fails, and failed or empty lookups never kept. The lookup itself (`getaddrinfo`, its
//! time-out, the thread it runs on) is the front end's.
//!
//! The blocking front end needs this because ureq asks its resolver for the host's addresses
//! on every request, before it looks in its connection pool: without a cache even a request on
//! a pooled connection would pay for a lookup.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ttl_cache::TtlCache;

/// How long a host's looked-up addresses are reused: the JVM's default for successful
/// lookups. Only new connections use them; pooled ones keep the address they connected to.
pub const ADDRESS_TTL: Duration = Duration::from_secs(30);

/// Looked-up addresses by `host:port`, shared by a front end's resolver and its connector.
#[derive(Debug)]
pub struct AddressCache {
    hosts: TtlCache<Arc<[SocketAddr]>>,
}

impl Default for AddressCache {
    fn default() -> Self {
        Self {
            hosts: TtlCache::new(ADDRESS_TTL),
        }
    }
}

impl AddressCache {
    /// The addresses of `host_port` (`host:port`, an IPv6 literal in brackets): a literal's own,
    /// a fresh cached answer, or else what `look_up` finds, kept from `now` for
    /// [`ADDRESS_TTL`]. The cache is not locked during the lookup; a failed or empty lookup is
    /// not kept, so the next request looks the host up again.
    pub fn addresses<E>(
        &self,
        host_port: &str,
        now: Instant,
        look_up: impl FnOnce() -> Result<Vec<SocketAddr>, E>,
    ) -> Result<Arc<[SocketAddr]>, E> {
        if let Ok(literal) = host_port.parse::<SocketAddr>() {
            return Ok(Arc::new([literal]));
        }
        if let Some(addresses) = self.hosts.fresh(host_port, now) {
            return Ok(addresses);
        }
        let addresses: Arc<[SocketAddr]> = look_up()?.into();
        tracing::debug!(host = %host_port, addresses = ?&addresses[..], "host looked up");
        if !addresses.is_empty() {
            self.hosts
                .store(host_port.to_owned(), addresses.clone(), now);
        }
        Ok(addresses)
    }

    /// Forgets `host_port`'s addresses: connecting to them failed, so the next attempt looks
    /// the host up again instead of retrying a stale address until it expires.
    pub fn forget(&self, host_port: &str) {
        self.hosts.forget(host_port);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    /// A lookup answering `answer` and counting its calls.
    fn lookup<'a>(
        calls: &'a Cell<usize>,
        answer: &'a [&str],
    ) -> impl FnOnce() -> Result<Vec<SocketAddr>, String> + 'a {
        move || {
            calls.set(calls.get() + 1);
            Ok(answer.iter().map(|a| addr(a)).collect())
        }
    }

    #[test]
    fn ip_literals_are_answered_without_a_lookup_and_not_kept() {
        let cache = AddressCache::default();
        let calls = Cell::new(0);
        let now = Instant::now();
        let v4 = cache.addresses("127.0.0.1:443", now, lookup(&calls, &[]));
        assert_eq!(v4.unwrap().to_vec(), [addr("127.0.0.1:443")]);
        let v6 = cache.addresses("[::1]:8080", now, lookup(&calls, &[]));
        assert_eq!(v6.unwrap().to_vec(), [addr("[::1]:8080")]);
        assert_eq!(calls.get(), 0);
        assert!(format!("{cache:?}").contains("entries: 0"));
    }

    #[test]
    fn a_host_is_looked_up_once_until_its_answer_expires_or_is_forgotten() {
        let cache = AddressCache::default();
        let calls = Cell::new(0);
        let t0 = Instant::now();
        let first = cache.addresses("example.test:443", t0, lookup(&calls, &["10.0.0.1:443"]));
        assert_eq!(first.unwrap().to_vec(), [addr("10.0.0.1:443")]);
        let later = t0 + ADDRESS_TTL - Duration::from_millis(1);
        let cached = cache.addresses("example.test:443", later, lookup(&calls, &["10.0.0.2:443"]));
        assert_eq!(
            (cached.unwrap().to_vec(), calls.get()),
            (vec![addr("10.0.0.1:443")], 1)
        );

        let expired = cache.addresses(
            "example.test:443",
            t0 + ADDRESS_TTL,
            lookup(&calls, &["10.0.0.2:443"]),
        );
        assert_eq!(
            (expired.unwrap().to_vec(), calls.get()),
            (vec![addr("10.0.0.2:443")], 2)
        );

        cache.forget("example.test:443");
        let again = cache.addresses(
            "example.test:443",
            t0 + ADDRESS_TTL,
            lookup(&calls, &["10.0.0.3:443"]),
        );
        assert_eq!(
            (again.unwrap().to_vec(), calls.get()),
            (vec![addr("10.0.0.3:443")], 3)
        );
    }

    #[test]
    fn failed_and_empty_lookups_are_not_kept() {
        let cache = AddressCache::default();
        let now = Instant::now();
        let failed = cache.addresses("gone.test:80", now, || Err("no such host"));
        assert_eq!(failed.unwrap_err(), "no such host");
        let calls = Cell::new(0);
        let empty = cache.addresses("gone.test:80", now, lookup(&calls, &[]));
        assert!(empty.unwrap().is_empty());
        let found = cache.addresses("gone.test:80", now, lookup(&calls, &["10.0.0.4:80"]));
        assert_eq!(
            (found.unwrap().to_vec(), calls.get()),
            (vec![addr("10.0.0.4:80")], 2)
        );
    }
}
