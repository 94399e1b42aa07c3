//! [`KeyEcho`]: an https server on loopback whose certificate names `eventgrid.test`, so a
//! client reaches it only through [`TestProxy`](crate::test_proxy::TestProxy) (which resolves
//! that name) and still verifies TLS end to end. It answers every request `200` with the
//! `aeg-sas-key` it received as the body: what the far end of a tunnel saw of the credential.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// The name in the server's certificate.
pub const KEY_ECHO_HOST: &str = "eventgrid.test";

/// The server; it runs until the process ends.
#[derive(Debug)]
pub struct KeyEcho {
    port: u16,
    ca_pem: String,
}

impl KeyEcho {
    /// Starts the server with a certificate from a CA of its own.
    pub fn start() -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("a key");
        let mut ca_params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("a CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = rcgen::CertificateParams::new(vec![KEY_ECHO_HOST.to_owned()])
            .expect("server parameters")
            .signed_by(&key, &issuer)
            .expect("a server certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("a server configuration");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || serve(tcp, config));
            }
        });
        Self {
            port,
            ca_pem: ca_cert.pem(),
        }
    }

    /// `https://eventgrid.test:PORT/api/events`.
    pub fn url(&self) -> String {
        format!("https://{KEY_ECHO_HOST}:{}/api/events", self.port)
    }

    /// `eventgrid.test:PORT`, a tunnel's target.
    pub fn authority(&self) -> String {
        format!("{KEY_ECHO_HOST}:{}", self.port)
    }

    /// The CA certificate to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

fn serve(tcp: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, tcp));
    // Keep-alive: answer requests until the client closes.
    loop {
        let (mut key, mut length) = (String::new(), 0usize);
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if !std::mem::take(&mut first)
                && let Some((name, value)) = line.split_once(':')
            {
                let value = value.trim();
                if name.eq_ignore_ascii_case("aeg-sas-key") {
                    key = value.to_owned();
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{key}",
            key.len()
        );
        let stream = reader.get_mut();
        if stream.write_all(answer.as_bytes()).is_err() || stream.flush().is_err() {
            return;
        }
    }
}
