//! TLS for the ureq agent: one rustls `ClientConfig` with the ring provider, trusting the
//! webpki roots, the platform's roots and any extra CA, plugged into ureq as a connector.
//!
//! ureq's own rustls connector builds its `ClientConfig` from a `TlsConfig`, which can hold
//! either the webpki roots or a certificate list but not both plus the platform's; so this
//! crate wraps connections itself, with the config it built.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use eventgrid_core::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// The webpki roots plus the platform's, loaded once per process.
fn base_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let native = rustls_native_certs::load_native_certs();
        if !native.errors.is_empty() {
            tracing::debug!(
                errors = native.errors.len(),
                "some platform roots could not be read"
            );
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "platform roots loaded");
        roots
    })
}

/// Parses every certificate of a PEM bundle; a bundle without one is an error.
pub(crate) fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidOption(format!("extra CA certificate: invalid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(Error::InvalidOption(
            "extra CA certificate: no CERTIFICATE block in the PEM data".to_owned(),
        ));
    }
    Ok(certificates)
}

/// The client configuration: ring, TLS 1.2 and 1.3, HTTP/1.1 by ALPN, verification always on.
pub(crate) fn client_config(extra_roots: &[CertificateDer<'static>]) -> Result<Arc<ClientConfig>> {
    let mut roots = base_roots().clone();
    for certificate in extra_roots {
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
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Wraps the chained connection in TLS when the URL is `https`.
#[derive(Debug)]
pub(crate) struct RustlsConnector {
    config: Arc<ClientConfig>,
}

impl RustlsConnector {
    pub(crate) fn new(config: Arc<ClientConfig>) -> Self {
        Self { config }
    }
}

impl<In: Transport> Connector<In> for RustlsConnector {
    type Out = Either<In, RustlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(bare.to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
        let mut connection = ClientConnection::new(self.config.clone(), name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(details.timeout);
        connection.complete_io(&mut socket)?;
        Ok(Some(Either::B(RustlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned::new(connection, socket),
        })))
    }
}

/// A TLS connection as ureq's connection pool holds it.
pub(crate) struct RustlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for RustlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustlsTransport").finish_non_exhaustive()
    }
}

impl Transport for RustlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_ring_and_trusts_webpki_roots() {
        let config = client_config(&[]).unwrap();
        let ring = rustls::crypto::ring::default_provider();
        let suites = |p: &rustls::crypto::CryptoProvider| {
            p.cipher_suites
                .iter()
                .map(|s| s.suite())
                .collect::<Vec<_>>()
        };
        assert_eq!(suites(config.crypto_provider()), suites(&ring));
        assert!(base_roots().len() >= webpki_roots::TLS_SERVER_ROOTS.len());
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }

    #[test]
    fn bad_pem_is_refused_with_a_reason() {
        let err = parse_pem_certificates(b"not a certificate").unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
    }
}
