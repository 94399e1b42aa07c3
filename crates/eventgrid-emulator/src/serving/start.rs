//! Starting an emulator inside a tokio runtime, and stopping it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::EmulatorConfig;
use crate::error::{Error, Result};
use crate::inspection::control::EmulatorControl;
use crate::serving::connection::Connections;
use crate::serving::server::serve;
use crate::serving::tls::{self, RemoveOnDrop};
use crate::store::shared::Shared;

/// Starts emulators. See [`Emulator::start`] (async) and
/// [`Emulator::start_in_background`](crate::Emulator::start_in_background) (blocking code).
#[derive(Debug)]
pub struct Emulator {
    _private: (),
}

impl Emulator {
    /// Starts an emulator on the current tokio runtime and returns once it is listening.
    ///
    /// Fails when the configuration is invalid, the address cannot be bound (for example: the
    /// port is in use) or the TLS certificate cannot be written.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator> {
        config.validate()?;
        let address = match config.host.parse::<Ipv6Addr>() {
            Ok(_) => format!("[{}]:{}", config.host, config.port),
            Err(_) => format!("{}:{}", config.host, config.port),
        };
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .await
            .map_err(|source| Error::Bind {
                address: address.clone(),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Bind {
            address: address.clone(),
            source,
        })?;
        if !local_addr.ip().is_loopback() {
            let missing = config.missing_for_network();
            if !missing.is_empty() {
                return Err(Error::OpenOnNetwork { address, missing });
            }
        }
        let url_ip = match local_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let authority = SocketAddr::new(url_ip, local_addr.port()).to_string();
        let mut topic_listeners = Vec::new();
        for (topic, port) in &config.push.topic_ports {
            let listener = TcpListener::bind((config.host.as_str(), *port))
                .await
                .map_err(|source| Error::Bind {
                    address: format!("{}:{port} (topic {topic})", config.host),
                    source,
                })?;
            let bound = listener.local_addr().map_err(|source| Error::Bind {
                address: format!("{}:{port}", config.host),
                source,
            })?;
            topic_listeners.push((
                topic.clone(),
                SocketAddr::new(url_ip, bound.port()),
                listener,
            ));
        }
        let mut shared = Shared::new(&config, authority)?;
        shared.topic_addresses = topic_listeners
            .iter()
            .map(|(topic, address, _)| (topic.clone(), *address))
            .collect();
        let shared = Arc::new(shared);

        let (mut acceptor, mut ca_pem, mut ca_path, mut cleanup) = (None, None, None, None);
        if config.tls {
            let mut names = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ];
            for name in [config.host.clone(), url_ip.to_string()] {
                let unspecified = name.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified());
                if !unspecified && !names.contains(&name) {
                    names.push(name);
                }
            }
            let material = tls::generate(&names)?;
            let path = match &config.tls_certificate_path {
                Some(path) => {
                    tls::write_certificate(path, &material.ca_pem)?;
                    path.clone()
                }
                None => {
                    let (directory, path) = tls::write_certificate_privately(&material.ca_pem)?;
                    cleanup = Some(directory);
                    path
                }
            };
            acceptor = Some(TlsAcceptor::from(material.server_config));
            ca_pem = Some(Arc::from(material.ca_pem));
            ca_path = Some(path);
        }

        let (stop, stopped) = watch::channel(false);
        let connections = Connections::new(config.max_connections, config.idle_timeout);
        for (topic, _, listener) in topic_listeners {
            tokio::spawn(serve(
                listener,
                acceptor.clone(),
                Arc::clone(&shared),
                Connections::new(config.max_connections, config.idle_timeout),
                stopped.clone(),
                RemoveOnDrop(None),
                Some(Arc::from(topic)),
            ));
        }
        let mut stopping = stopped.clone();
        let push_shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _ = stopping.wait_for(|stop| *stop).await;
            push_shared.push.stop_all();
        });
        let task = tokio::spawn(serve(
            listener,
            acceptor,
            Arc::clone(&shared),
            connections,
            stopped,
            RemoveOnDrop(cleanup),
            None,
        ));
        Ok(RunningEmulator {
            control: EmulatorControl {
                shared,
                local_addr,
                ca_pem,
                ca_path,
            },
            stop,
            task: Some(task),
        })
    }
}

/// An emulator serving on the tokio runtime it was started on. Dropping it stops it (without
/// waiting); [`shutdown`](RunningEmulator::shutdown) stops it gracefully.
///
/// It dereferences to [`EmulatorControl`] for URLs, inspection and fault injection.
pub struct RunningEmulator {
    control: EmulatorControl,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The controls, to clone and hand to other tasks.
    pub fn control(&self) -> &EmulatorControl {
        &self.control
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 seconds), and
    /// returns when the server has stopped.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Deref for RunningEmulator {
    type Target = EmulatorControl;

    fn deref(&self) -> &EmulatorControl {
        &self.control
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}
