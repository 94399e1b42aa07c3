//! The generated certificates for `--tls`: a CA that clients trust (written to a PEM file) and a
//! server certificate it signs for the loopback names and the configured host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{Error, Result};

/// The TLS material of one running emulator.
#[derive(Debug)]
pub(crate) struct TlsMaterial {
    pub ca_pem: String,
    pub server_config: Arc<ServerConfig>,
}

fn tls_error(error: impl std::fmt::Display) -> Error {
    Error::Tls(error.to_string())
}

/// Generates a CA and a server certificate valid for `names` (DNS names or IP addresses).
pub(crate) fn generate(names: &[String]) -> Result<TlsMaterial> {
    let ca_key = KeyPair::generate().map_err(tls_error)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "eventgrid-emulator local CA");
    ca_name.push(DnType::OrganizationName, "eventgrid-emulator");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(tls_error)?;
    let mut server_params = CertificateParams::new(names.to_vec()).map_err(tls_error)?;
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "eventgrid-emulator");
    server_params.distinguished_name = server_name;
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(tls_error)?;

    let chain = vec![
        CertificateDer::from(server_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_error)?;
    // HTTP/2 where the client offers it (as the service does), else HTTP/1.1.
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(server_config),
    })
}

/// Where the CA certificate goes when the configuration names no path.
pub(crate) fn default_certificate_path(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!(
        "eventgrid-emulator-{}-{port}-ca.pem",
        std::process::id()
    ))
}

/// Writes the CA certificate where clients can read it.
pub(crate) fn write_certificate(path: &Path, pem: &str) -> Result<()> {
    std::fs::write(path, pem)
        .map_err(|error| Error::Tls(format!("cannot write {}: {error}", path.display())))
}

/// Removes a temporary certificate file when the emulator stops.
#[derive(Debug)]
pub(crate) struct RemoveOnDrop(pub Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}
