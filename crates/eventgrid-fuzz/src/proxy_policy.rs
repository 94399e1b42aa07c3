//! The proxy policy (`eventgrid_core::proxy`): proxy variables from the environment, a request
//! URL routed through them, and the proxy's answer to CONNECT.
//!
//! Input: `NAME=VALUE` lines (the environment) and, after a NUL byte, the request URL and,
//! after a second NUL byte, the bytes the proxy answers.

use std::collections::HashMap;

use eventgrid_core::proxy::{ProxyConfig, Route, read_tunnel_answer};
use http::Uri;

use crate::bytes_reader::split_at;

/// Runs one input. Checks: routing, the CONNECT request and the reading of the answer never
/// panic; a CONNECT request is one complete head; a proxy's password (when it has one long
/// enough not to appear by chance) is in no error, `Debug` or `Display` text.
pub fn run(data: &[u8]) {
    let (environment, rest) = split_at(data, b"\0");
    let (url, answer) = split_at(rest, b"\0");
    let vars: HashMap<String, String> = String::from_utf8_lossy(environment)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    for value in vars.values() {
        if let Err(error) = ProxyConfig::new(value) {
            let _ = error.to_string();
        }
    }
    let config = ProxyConfig::from_env(|name| vars.get(name).cloned());
    let shown = format!("{config:?}");
    let target = std::str::from_utf8(url)
        .ok()
        .and_then(|url| url.parse::<Uri>().ok())
        .unwrap_or_else(|| {
            Uri::from_static("https://topic.westus2-1.eventgrid.azure.net/api/events")
        });
    let route = config.route(&target);
    let error_text = route.as_ref().err().map(ToString::to_string);
    for proxy in config.proxies() {
        let Some(password) = proxy.password().map(|secret| secret.expose().to_owned()) else {
            continue;
        };
        if password.len() >= 8 && !proxy.host().contains(&password) {
            let proxy_text = format!("{proxy} {proxy:?}");
            for text in [&shown, &proxy_text].into_iter().chain(error_text.as_ref()) {
                assert!(!text.contains(&password), "a proxy password shown: {text}");
            }
        }
    }
    if let Ok(Route::Tunnel(proxy)) = route {
        let head = proxy.connect_request(&target);
        assert!(head.starts_with(b"CONNECT ") && head.ends_with(b"\r\n\r\n"));
        let _ = read_tunnel_answer(proxy, &target, answer);
    }
}
