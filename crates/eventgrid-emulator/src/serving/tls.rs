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

/// Writes the CA certificate where clients can read it, at the path the configuration names.
pub(crate) fn write_certificate(path: &Path, pem: &str) -> Result<()> {
    std::fs::write(path, pem)
        .map_err(|error| Error::Tls(format!("cannot write {}: {error}", path.display())))
}

/// Writes the CA certificate when the configuration names no path: into a new directory of the
/// system's temporary directory, with a random name and (on Unix) only its owner allowed in,
/// created exclusively, so that nobody can swap the file (or a link in its place) for another.
/// Returns the directory (to remove at shutdown) and the file.
pub(crate) fn write_certificate_privately(pem: &str) -> Result<(PathBuf, PathBuf)> {
    let mut random = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| Error::Tls("no randomness for the certificate directory".to_owned()))?;
    let name: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    let directory = std::env::temp_dir().join(format!("eventgrid-emulator-{name}"));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&directory)
        .map_err(|error| Error::Tls(format!("cannot create {}: {error}", directory.display())))?;
    let path = directory.join("ca.pem");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, pem.as_bytes()));
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&directory);
        return Err(Error::Tls(format!(
            "cannot write {}: {error}",
            path.display()
        )));
    }
    Ok((directory, path))
}

/// Removes the private certificate directory when the emulator stops.
#[derive(Debug)]
pub(crate) struct RemoveOnDrop(pub Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(directory) = &self.0 {
            let _ = std::fs::remove_dir_all(directory);
        }
    }
}
