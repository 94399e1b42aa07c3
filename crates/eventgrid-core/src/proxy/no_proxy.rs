//! `NO_PROXY`: the hosts that are reached directly although a proxy is configured, read as
//! curl reads it (`CURLOPT_NOPROXY`), plus ports.
//!
//! A comma-separated list; spaces around entries are ignored. `*` alone matches every host.
//! A name matches itself and every name below it: `example.com` (or `.example.com`, the
//! leading dot changes nothing) matches `example.com` and `api.example.com`, never
//! `notexample.com`. An IP address matches that address, and `ADDRESS/BITS` every address in
//! the range (curl 7.86's CIDR notation); addresses are compared as addresses, so `::1` and
//! `0:0::1` are the same. An entry may end in `:PORT` (`[IPv6]:PORT` for IPv6), and then
//! matches only requests to that port, as Go's and Python's proxy settings read it; curl
//! ignores ports.

use std::net::IpAddr;

/// Parsed `NO_PROXY` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    everything: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// A lower-case name without leading or trailing dots: itself and its subdomains.
    Domain(String),
    /// An address and how many leading bits of it must match.
    Range(IpAddr, u8),
}

impl NoProxy {
    /// Reads a `NO_PROXY` value. Entries that cannot match anything (such as `10.0.0.0/40`
    /// or an empty entry) are skipped, as curl skips them.
    pub(crate) fn parse(list: &str) -> Self {
        let mut no_proxy = Self::default();
        for raw in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if raw == "*" {
                no_proxy.everything = true;
            } else if let Some(entry) = Entry::parse(raw) {
                no_proxy.entries.push(entry);
            }
        }
        no_proxy
    }

    /// Whether a request to `host` (as in a URL: name, IPv4, or bracketed IPv6) on `port`
    /// goes direct.
    pub(crate) fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let address = bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
        let name = bare.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| {
            entry.port.is_none_or(|p| p == port)
                && match (&entry.host, address) {
                    (HostPattern::Range(network, bits), Some(ip)) => in_range(ip, *network, *bits),
                    (HostPattern::Domain(domain), None) => {
                        name == *domain
                            || name
                                .strip_suffix(domain.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

impl Entry {
    fn parse(raw: &str) -> Option<Self> {
        let (host, port) = split_port(raw)?;
        let host = match host.split_once('/') {
            Some((address, bits)) => {
                let address = address.parse::<IpAddr>().ok()?.to_canonical();
                let bits: u8 = bits.parse().ok()?;
                (bits <= max_bits(address)).then_some(HostPattern::Range(address, bits))?
            }
            None => match host.parse::<IpAddr>() {
                Ok(address) => {
                    let address = address.to_canonical();
                    HostPattern::Range(address, max_bits(address))
                }
                Err(_) => {
                    let domain = host.trim_start_matches('.').trim_end_matches('.');
                    if domain.is_empty() {
                        return None;
                    }
                    HostPattern::Domain(domain.to_ascii_lowercase())
                }
            },
        };
        Some(Self { host, port })
    }
}

/// Splits `host:port`, `[v6]:port`, `[v6]`, a bare IPv6 address (several colons, no port) or a
/// name into the host and the port, if any. `None` for an unreadable port (the entry is then
/// skipped: a range is written `::1/64`, not `[::1]/64`).
fn split_port(raw: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        if after.is_empty() {
            return Some((host, None));
        }
        let port = after.strip_prefix(':')?.parse().ok()?;
        return Some((host, Some(port)));
    }
    match raw.rsplit_once(':') {
        // One colon: a port. More: an IPv6 address (with or without /bits) and no port.
        Some((host, port)) if !host.contains(':') => Some((host, Some(port.parse().ok()?))),
        _ => Some((raw, None)),
    }
}

fn max_bits(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn in_range(ip: IpAddr, network: IpAddr, bits: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}
