//! The policy as a table: environment x URL -> decision.

use http::{Request, Uri};

use super::*;

/// What a row expects: direct, through the proxy at this authority, or an error containing
/// this text.
#[derive(Debug)]
enum Expect {
    Direct,
    Via(&'static str),
    Fails(&'static str),
}
use Expect::{Direct, Fails, Via};

fn config(env: &[(&str, &str)]) -> ProxyConfig {
    ProxyConfig::from_env(|name| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
}

fn check(env: &[(&str, &str)], url: &str, expect: &Expect) {
    let config = config(env);
    let uri: Uri = url.parse().unwrap();
    let got = config.route(&uri);
    let ok = match (&got, expect) {
        (Ok(Route::Direct), Direct) => true,
        (Ok(Route::Tunnel(proxy)), Via(authority)) => proxy.authority() == *authority,
        (Err(error), Fails(text)) => error.to_string().contains(text),
        _ => false,
    };
    assert!(ok, "env {env:?}, {url}: expected {expect:?}, got {got:?}");
}

const P: &str = "http://proxy:3128";

/// One row: the environment, the request URL, the decision.
type Row = (
    &'static [(&'static str, &'static str)],
    &'static str,
    Expect,
);

#[test]
fn environment_and_url_decide_the_route() {
    let rows: &[Row] = &[
        // Nothing set.
        (&[], "https://t.eventgrid.azure.net/api/events", Direct),
        // Per scheme.
        (
            &[("HTTPS_PROXY", P)],
            "https://t.example/",
            Via("proxy:3128"),
        ),
        (&[("HTTPS_PROXY", P)], "http://t.example/", Direct),
        (
            &[("https_proxy", P)],
            "https://t.example/",
            Via("proxy:3128"),
        ),
        (&[("HTTP_PROXY", P)], "http://t.example/", Via("proxy:3128")),
        (&[("HTTP_PROXY", P)], "https://t.example/", Direct),
        (&[("http_proxy", P)], "http://t.example/", Via("proxy:3128")),
        // Lower case wins.
        (
            &[
                ("HTTPS_PROXY", "http://upper:1"),
                ("https_proxy", "http://lower:2"),
            ],
            "https://t.example/",
            Via("lower:2"),
        ),
        (
            &[
                ("HTTP_PROXY", "http://upper:1"),
                ("http_proxy", "http://lower:2"),
            ],
            "http://t.example/",
            Via("lower:2"),
        ),
        // CGI: upper-case HTTP_PROXY may come from a request header; lower case still counts.
        (
            &[("HTTP_PROXY", P), ("REQUEST_METHOD", "GET")],
            "http://t.example/",
            Direct,
        ),
        (
            &[("http_proxy", P), ("REQUEST_METHOD", "GET")],
            "http://t.example/",
            Via("proxy:3128"),
        ),
        (
            &[
                ("HTTP_PROXY", P),
                ("ALL_PROXY", "http://all:9"),
                ("REQUEST_METHOD", "POST"),
            ],
            "http://t.example/",
            Via("all:9"),
        ),
        // ALL_PROXY when the scheme's own is unset; the scheme's own wins.
        (&[("ALL_PROXY", P)], "https://t.example/", Via("proxy:3128")),
        (&[("all_proxy", P)], "http://t.example/", Via("proxy:3128")),
        (
            &[("ALL_PROXY", "http://all:9"), ("HTTPS_PROXY", P)],
            "https://t.example/",
            Via("proxy:3128"),
        ),
        // Empty means unset.
        (
            &[("https_proxy", ""), ("HTTPS_PROXY", P)],
            "https://t.example/",
            Via("proxy:3128"),
        ),
        (&[("HTTPS_PROXY", "  ")], "https://t.example/", Direct),
        // URL forms: no scheme, no port (1080), IPv6, credentials.
        (
            &[("HTTPS_PROXY", "proxy:8080")],
            "https://t.example/",
            Via("proxy:8080"),
        ),
        (
            &[("HTTPS_PROXY", "http://proxy")],
            "https://t.example/",
            Via("proxy:1080"),
        ),
        (
            &[("HTTPS_PROXY", "HTTP://[fd00::1]:3128/")],
            "https://t.example/",
            Via("[fd00::1]:3128"),
        ),
        (
            &[("HTTPS_PROXY", "http://u:p@proxy:3128")],
            "https://t.example/",
            Via("proxy:3128"),
        ),
        // Loopback never goes through a proxy.
        (&[("ALL_PROXY", P)], "http://localhost:7070/t", Direct),
        (&[("ALL_PROXY", P)], "http://LOCALHOST:7070/t", Direct),
        (&[("ALL_PROXY", P)], "http://127.0.0.1:7070/t", Direct),
        (&[("ALL_PROXY", P)], "http://127.9.9.9/t", Direct),
        (&[("ALL_PROXY", P)], "https://[::1]:7070/t", Direct),
        (
            &[("ALL_PROXY", P)],
            "http://localhost.example/t",
            Via("proxy:3128"),
        ),
        // NO_PROXY: names and their subdomains, a leading dot, case, trailing dots.
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "example.com")],
            "https://example.com/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "example.com")],
            "https://a.b.example.com/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "example.com")],
            "https://notexample.com/",
            Via("proxy:3128"),
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", ".example.com")],
            "https://example.com/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", ".Example.COM")],
            "https://API.example.com./",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "a.example.com")],
            "https://example.com/",
            Via("proxy:3128"),
        ),
        // A list, with spaces; `*`; lower case wins; empty entries.
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "x.org , example.com,")],
            "https://example.com/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "*")],
            "https://anything.example/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "x.org,*")],
            "https://anything.example/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "*.example.com")],
            "https://api.example.com/",
            Via("proxy:3128"),
        ),
        (
            &[
                ("ALL_PROXY", P),
                ("no_proxy", "x.org"),
                ("NO_PROXY", "example.com"),
            ],
            "https://example.com/",
            Via("proxy:3128"),
        ),
        // Addresses and ranges.
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.1.2.3")],
            "http://10.1.2.3/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.1.2.3")],
            "http://10.1.2.4/",
            Via("proxy:3128"),
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.0.0.0/8")],
            "http://10.200.0.1/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.0.0.0/8")],
            "http://11.0.0.1/",
            Via("proxy:3128"),
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "192.168.0.0/16")],
            "http://192.168.44.1/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "0.0.0.0/0")],
            "http://8.8.8.8/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "fd00::/8")],
            "https://[fd12::1]/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "fd00::1")],
            "https://[fd00:0::1]/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "[fd00::1]")],
            "https://[fd00::1]/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "fd00::/8")],
            "https://[fe80::1]/",
            Via("proxy:3128"),
        ),
        // An address entry does not match a name, nor a bad range anything.
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.0.0.1")],
            "http://ten.example/",
            Via("proxy:3128"),
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.0.0.0/33")],
            "http://10.0.0.1/",
            Via("proxy:3128"),
        ),
        // Ports: an entry with a port matches that port only; default ports count.
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "example.com:8443")],
            "https://example.com:8443/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "example.com:8443")],
            "https://example.com/",
            Via("proxy:3128"),
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "example.com:443")],
            "https://example.com/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "10.0.0.1:80")],
            "http://10.0.0.1/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "[fd00::1]:8080")],
            "http://[fd00::1]:8080/",
            Direct,
        ),
        (
            &[("ALL_PROXY", P), ("NO_PROXY", "[fd00::1]:8080")],
            "http://[fd00::1]:8081/",
            Via("proxy:3128"),
        ),
        // Unsupported and unreadable proxies fail the requests that need them, naming the
        // variable; requests that do not need them are unaffected.
        (
            &[("ALL_PROXY", "socks5://s:1080")],
            "https://t.example/",
            Fails("ALL_PROXY is a socks5://"),
        ),
        (
            &[("HTTPS_PROXY", "socks5h://s")],
            "https://t.example/",
            Fails("only http:// proxies"),
        ),
        (
            &[("HTTPS_PROXY", "https://p:443")],
            "https://t.example/",
            Fails("HTTPS_PROXY is a https://"),
        ),
        (
            &[("HTTPS_PROXY", "socks5://s:1080")],
            "http://t.example/",
            Direct,
        ),
        (
            &[("ALL_PROXY", "socks5://s:1080")],
            "http://localhost/",
            Direct,
        ),
        (
            &[("ALL_PROXY", "socks5://s"), ("NO_PROXY", "t.example")],
            "https://t.example/",
            Direct,
        ),
        (
            &[("HTTPS_PROXY", "http://proxy:99999")],
            "https://t.example/",
            Fails("port"),
        ),
        (
            &[("HTTPS_PROXY", "http://:8080")],
            "https://t.example/",
            Fails("no host"),
        ),
        (
            &[("HTTPS_PROXY", "http://u:%FF@proxy")],
            "https://t.example/",
            Fails("UTF-8"),
        ),
        (
            &[("HTTPS_PROXY", "ht tp://proxy")],
            "https://t.example/",
            Fails("scheme"),
        ),
    ];
    for (env, url, expect) in rows {
        check(env, url, expect);
    }
}

#[test]
fn proxy_credentials_are_decoded_sent_to_the_proxy_only_and_never_shown() {
    let config = config(&[("HTTPS_PROXY", "http://us%65r:pa%3Ass%40word@proxy:3128")]);
    let uri: Uri = "https://t.example/api/events".parse().unwrap();
    let Ok(Route::Tunnel(proxy)) = config.route(&uri) else {
        panic!("proxied")
    };
    assert_eq!(proxy.username(), Some("user"));
    assert_eq!(proxy.password().unwrap().expose(), "pa:ss@word");
    // base64("user:pa:ss@word")
    let authorization = proxy.authorization().unwrap();
    assert_eq!(authorization, "Basic dXNlcjpwYTpzc0B3b3Jk");
    assert!(authorization.is_sensitive());
    let head = String::from_utf8(proxy.connect_request(&uri)).unwrap();
    assert_eq!(
        head,
        "CONNECT t.example:443 HTTP/1.1\r\nHost: t.example:443\r\n\
         Proxy-Authorization: Basic dXNlcjpwYTpzc0B3b3Jk\r\n\r\n"
    );
    for shown in [
        format!("{config:?}"),
        format!("{proxy:?}"),
        proxy.to_string(),
        format!("{:?}", ProxySetting::Explicit(config.clone())),
    ] {
        assert!(
            !shown.contains("pa:ss") && !shown.contains("pa%3Ass"),
            "{shown}"
        );
        assert!(shown.contains("proxy:3128"), "{shown}");
    }
    // Errors about unusable proxy URLs never repeat the value.
    for bad in [
        "socks5://user:hunter2@s:1080",
        "http://user:hunter2@proxy:0",
        "http://user:hunter2@",
    ] {
        let error = config_error(bad);
        assert!(
            !error.contains("hunter2") && !error.contains("user"),
            "{error}"
        );
    }
    // Without a user name there is no Proxy-Authorization.
    let plain = ProxyConfig::new("http://proxy:3128").unwrap();
    let Ok(Route::Tunnel(proxy)) = plain.route(&uri) else {
        panic!("proxied")
    };
    assert_eq!(proxy.authorization(), None);
    assert!(
        !String::from_utf8(proxy.connect_request(&uri))
            .unwrap()
            .contains("Authorization")
    );
}

fn config_error(url: &str) -> String {
    let error = ProxyConfig::new(url).unwrap_err().to_string();
    let from_env = config(&[("HTTPS_PROXY", url)])
        .route(&"https://t.example/".parse().unwrap())
        .unwrap_err()
        .to_string();
    format!("{error} / {from_env}")
}

#[test]
fn a_credential_to_a_plain_http_target_never_goes_through_a_proxy() {
    let config = ProxyConfig::new(P).unwrap();
    let request = |url: &str, header: Option<(&str, &str)>| {
        let mut builder = Request::post(url);
        if let Some((name, value)) = header {
            builder = builder.header(name, value);
        }
        builder.body(()).unwrap()
    };
    for header in [
        ("aeg-sas-key", "k"),
        ("aeg-sas-token", "t"),
        ("authorization", "Bearer t"),
    ] {
        let error = config
            .route_request(&request("http://emulator.lan:7070/t", Some(header)))
            .unwrap_err();
        assert!(
            matches!(error, ProxyError::CredentialThroughProxy { ref host, .. } if host == "emulator.lan"),
            "{error}"
        );
        assert!(!error.to_string().contains("Bearer"), "{error}");
        // Over https the tunnel carries TLS end to end; to loopback no proxy is used.
        assert!(matches!(
            config.route_request(&request("https://emulator.lan/t", Some(header))),
            Ok(Route::Tunnel(_))
        ));
        assert_eq!(
            config.route_request(&request("http://127.0.0.1:7070/t", Some(header))),
            Ok(Route::Direct)
        );
    }
    let key_in_query = request("http://emulator.lan/t?aeg-sas-key=k", None);
    assert!(config.route_request(&key_in_query).is_err());
    assert!(matches!(
        config.route_request(&request("http://emulator.lan/t", None)),
        Ok(Route::Tunnel(_))
    ));
    let bypassed = config.clone().with_no_proxy("emulator.lan");
    assert_eq!(
        bypassed.route_request(&request(
            "http://emulator.lan/t",
            Some(("aeg-sas-key", "k"))
        )),
        Ok(Route::Direct)
    );
}

#[test]
fn settings_resolve_to_the_environment_explicit_proxies_or_none() {
    let env = |name: &str| (name == "HTTPS_PROXY").then(|| P.to_owned());
    let uri: Uri = "https://t.example/".parse().unwrap();
    let from_env = ProxySetting::FromEnvironment.resolve(env);
    assert!(matches!(from_env.route(&uri), Ok(Route::Tunnel(_))));
    assert!(ProxySetting::Disabled.resolve(env).is_none());
    let explicit = ProxyConfig::none()
        .with_http_proxy("http://other:1")
        .unwrap();
    let resolved = ProxySetting::from(explicit.clone()).resolve(env);
    assert_eq!(resolved, explicit);
    assert_eq!(resolved.route(&uri), Ok(Route::Direct));
    // An explicit proxy URL is checked when it is given.
    assert!(matches!(
        ProxyConfig::new("socks5://s:1080"),
        Err(ProxyError::Unsupported { ref setting, .. }) if setting == "ClientOptions::proxy"
    ));
}

#[test]
fn tunnel_answers_open_refuse_or_are_unreadable() {
    let config = ProxyConfig::new(P).unwrap();
    let uri: Uri = "https://t.example:8443/".parse().unwrap();
    let Ok(Route::Tunnel(proxy)) = config.route(&uri) else {
        panic!("proxied")
    };
    let read = |answer: &[u8]| read_tunnel_answer(proxy, &uri, answer);
    assert_eq!(read(b"HTTP/1.1 200 Conn"), Ok(TunnelAnswer::Incomplete));
    assert_eq!(
        read(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        Ok(TunnelAnswer::Open)
    );
    assert_eq!(
        read(b"HTTP/1.0 200 OK\r\nVia: x\r\n\r\n"),
        Ok(TunnelAnswer::Open)
    );
    let refused = read(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").unwrap_err();
    assert_eq!(
        refused,
        ProxyError::TunnelRefused {
            proxy: "http://proxy:3128".to_owned(),
            target: "t.example:8443".to_owned(),
            status: 407
        }
    );
    assert!(
        refused
            .to_string()
            .contains("proxy authentication required")
    );
    let transport = refused.into_transport_error();
    assert_eq!(transport.kind(), crate::TransportErrorKind::InvalidRequest);
    let bad_gateway = read(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").unwrap_err();
    assert_eq!(
        bad_gateway.into_transport_error().kind(),
        crate::TransportErrorKind::Connect
    );
    assert!(matches!(
        read(b"SSH-2.0-OpenSSH\r\n\r\n"),
        Err(ProxyError::BadTunnelAnswer { .. })
    ));
    assert!(matches!(
        read(b"HTTP/1.1 200 OK\r\n\r\nextra"),
        Err(ProxyError::BadTunnelAnswer { .. })
    ));
    let endless = vec![b'a'; MAX_TUNNEL_ANSWER_BYTES];
    assert!(matches!(
        read(&endless),
        Err(ProxyError::BadTunnelAnswer { .. })
    ));
}
