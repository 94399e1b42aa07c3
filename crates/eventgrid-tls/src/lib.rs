//! The TLS client configuration both `eventgrid` front ends use: rustls with the ring
//! provider, trusting the webpki roots, the platform's roots and any extra CA (the emulator's,
//! or a private one).
//!
//! A crate of its own because both front ends need the same trust and `eventgrid-core` must
//! stay free of any TLS library (it performs no I/O); the front ends differ only in how they
//! plug the configuration into their HTTP stack.
//!
//! ```
//! let config = eventgrid_tls::client_config(&[], &[b"h2", b"http/1.1"])?;
//! assert_eq!(config.alpn_protocols.len(), 2);
//! # Ok::<(), eventgrid_core::Error>(())
//! ```

#![deny(missing_docs)]

use std::io;
use std::sync::{Arc, OnceLock};

use eventgrid_core::frontend::io_error_kind;
use eventgrid_core::{Error, Result, TransportErrorKind};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

pub use rustls;

/// The roots every client trusts, loaded once per process: reading the platform's store
/// touches the file system, which a client made per test or per tenant should not repeat.
pub fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::debug!(%error, "skipping unreadable platform root certificates");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "platform root certificates loaded");
        roots
    })
}

/// What a socket error means for a request, as the core classifies it
/// ([`io_error_kind`]), except that a rustls error carried inside is a TLS failure.
pub fn classify_io(error: &io::Error) -> TransportErrorKind {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        TransportErrorKind::Tls
    } else {
        io_error_kind(error)
    }
}

/// Parses the certificates of a PEM document; an error names what is wrong with it.
pub fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidOption(format!("extra CA certificate: not valid PEM ({e})")))?;
    if certificates.is_empty() {
        return Err(Error::InvalidOption(
            "extra CA certificate: the PEM holds no CERTIFICATE block".to_owned(),
        ));
    }
    Ok(certificates)
}

/// The certificates of every PEM document in `pems`.
pub fn parse_all(pems: &[Vec<u8>]) -> Result<Vec<CertificateDer<'static>>> {
    let mut all = Vec::new();
    for pem in pems {
        all.extend(parse_pem_certificates(pem)?);
    }
    Ok(all)
}

/// The client configuration: the ring provider, safe protocol versions, the base roots plus
/// `extra_ca` (DER certificates), offering `alpn` (empty: left to the connector).
pub fn client_config(extra_ca: &[CertificateDer<'static>], alpn: &[&[u8]]) -> Result<ClientConfig> {
    let mut roots = base_roots().clone();
    for certificate in extra_ca {
        roots.add(certificate.clone()).map_err(|e| {
            Error::InvalidOption(format!("extra CA certificate cannot be trusted: {e}"))
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidOption(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_inside_io_errors_are_tls_failures() {
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(classify_io(&tls), TransportErrorKind::Tls);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify_io(&reset), TransportErrorKind::ConnectionClosed);
    }

    #[test]
    fn pem_without_certificates_is_refused_by_name() {
        let err = parse_pem_certificates(b"not a certificate").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid option: extra CA certificate: the PEM holds no CERTIFICATE block"
        );
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = parse_pem_certificates(broken).unwrap_err();
        assert!(err.to_string().contains("not valid PEM"), "{err}");
    }

    #[test]
    fn uses_ring_and_trusts_the_webpki_roots() {
        let config = client_config(&[], &[b"http/1.1"]).unwrap();
        let suites = |p: &rustls::crypto::CryptoProvider| {
            p.cipher_suites
                .iter()
                .map(|s| s.suite())
                .collect::<Vec<_>>()
        };
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(suites(config.crypto_provider()), suites(&ring));
        assert!(base_roots().len() >= webpki_roots::TLS_SERVER_ROOTS.len());
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn extra_ca_pem_is_parsed_and_accepted() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        let two = format!("{}{}", ca.pem(), ca.pem());
        let parsed = parse_all(&[two.into_bytes()]).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].as_ref(), ca.der().as_ref());
        assert!(
            client_config(&parsed, &[])
                .unwrap()
                .alpn_protocols
                .is_empty()
        );
    }
}
