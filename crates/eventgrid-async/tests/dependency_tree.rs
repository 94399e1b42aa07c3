//! The crate's dependency tree has one HTTP stack and one TLS stack: no reqwest, no OpenSSL,
//! no native-tls, and ring as the only crypto provider of rustls.

use std::collections::BTreeMap;
use std::process::Command;

/// `cargo tree -p eventgrid-async -e normal`, as crate name to enabled features.
fn normal_dependencies() -> BTreeMap<String, String> {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "eventgrid-async",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}|{f}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (package, features) = line.split_once('|')?;
            let name = package.split_whitespace().next()?;
            Some((name.to_owned(), features.trim().to_owned()))
        })
        .collect()
}

#[test]
fn one_http_stack_and_one_tls_provider() {
    let tree = normal_dependencies();
    assert!(
        tree.contains_key("hyper") && tree.contains_key("eventgrid-core"),
        "{tree:?}"
    );
    for banned in [
        "reqwest",
        "openssl",
        "openssl-sys",
        "native-tls",
        "tokio-native-tls",
        "aws-lc-rs",
        "aws-lc-sys",
        "aws-lc-fips-sys",
    ] {
        assert!(
            !tree.contains_key(banned),
            "`{banned}` is in the dependency tree"
        );
    }
    assert!(tree.contains_key("ring"), "ring is the crypto provider");
    for tls_crate in ["rustls", "hyper-rustls"] {
        let features = &tree[tls_crate];
        assert!(features.contains("ring"), "{tls_crate}: {features}");
        assert!(
            !features.contains("aws"),
            "{tls_crate} enables aws-lc: {features}"
        );
    }
}
