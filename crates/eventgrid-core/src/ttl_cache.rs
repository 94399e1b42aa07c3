//! A small map whose entries expire, with the time handed in: the [`AddressCache`] keeps a
//! host's looked-up addresses in one, so that a lookup happens only when no fresh answer is
//! cached.
//!
//! [`AddressCache`]: crate::frontend::AddressCache

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Values by key, each fresh for `ttl` after it was stored. Stale entries are dropped whenever
/// a value is stored, so a cache that meets many keys over its life stays small.
pub struct TtlCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (V, Instant)>>,
}

impl<V: Clone> TtlCache<V> {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value of `key`, if it was stored less than `ttl` before `now`.
    pub fn fresh(&self, key: &str, now: Instant) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (value, expires) = entries.get(key)?;
        (now < *expires).then(|| value.clone())
    }

    /// Stores `value` for `key` at `now`.
    pub fn store(&self, key: String, value: V, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, (_, expires)| now < *expires);
        let expires = now.checked_add(self.ttl).unwrap_or(now);
        entries.insert(key, (value, expires));
    }

    /// Forgets `key`.
    pub fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.remove(key);
    }
}

impl<V> fmt::Debug for TtlCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("TtlCache")
            .field("ttl", &self.ttl)
            .field("entries", &entries.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = TtlCache::new(Duration::from_secs(30));
        let t0 = Instant::now();
        cache.store("a:443".to_owned(), 1, t0);
        assert_eq!(cache.fresh("a:443", t0 + Duration::from_secs(29)), Some(1));
        assert_eq!(cache.fresh("a:443", t0 + Duration::from_secs(30)), None);
        cache.forget("a:443");
        assert_eq!(cache.fresh("a:443", t0), None);
        cache.store("b:443".to_owned(), 2, t0);
        cache.store("c:443".to_owned(), 3, t0 + Duration::from_secs(31));
        assert_eq!(format!("{cache:?}"), "TtlCache { ttl: 30s, entries: 1 }");
    }
}
