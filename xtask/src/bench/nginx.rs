//! nginx as a sink that reads each body and answers 200, keeping nothing: the fastest HTTP/1.1
//! peer there is, so what a client reaches against it is the client's own speed. The
//! configuration is `xtask/bench/nginx.conf`; each sink gets its own prefix directory.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::tools;
use crate::util::root;

/// The echo module (Debian's `libnginx-mod-http-echo`) that lets nginx read a whole body before
/// answering.
pub(crate) const ECHO_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

/// A running nginx; stopped (and waited for) on drop.
#[derive(Debug)]
pub(crate) struct Nginx {
    child: Child,
    port: u16,
    prefix: PathBuf,
}

impl Nginx {
    /// Starts nginx with `workers` worker processes (a number or `auto`) on a free loopback
    /// port, its files under `prefix`, and returns once it accepts connections.
    pub(crate) fn start(prefix: &Path, workers: &str) -> Result<Self> {
        let binary = tools::find("nginx").context("nginx is not installed")?;
        if !Path::new(ECHO_MODULE).exists() {
            bail!("nginx's echo module is not installed ({ECHO_MODULE}: libnginx-mod-http-echo)");
        }
        let port = free_port()?;
        std::fs::create_dir_all(prefix)
            .with_context(|| format!("creating {}", prefix.display()))?;
        let template_path = root().join("xtask/bench/nginx.conf");
        let template = std::fs::read_to_string(&template_path)
            .with_context(|| format!("reading {}", template_path.display()))?;
        let config = template
            .replace("{prefix}", &prefix.display().to_string())
            .replace("{port}", &port.to_string())
            .replace("{workers}", workers)
            .replace("{echo_module}", ECHO_MODULE);
        let config_path = prefix.join("nginx.conf");
        std::fs::write(&config_path, config)
            .with_context(|| format!("writing {}", config_path.display()))?;
        let child = Command::new(binary)
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(&config_path)
            .arg("-e")
            .arg(prefix.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let mut nginx = Nginx {
            child,
            port,
            prefix: prefix.to_owned(),
        };
        nginx.wait_until_listening()?;
        Ok(nginx)
    }

    /// The master process's id (the workers are its children).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn wait_until_listening(&mut self) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Some(status) = self.child.try_wait()? {
                let log =
                    std::fs::read_to_string(self.prefix.join("error.log")).unwrap_or_default();
                bail!("nginx exited at start-up ({status}):\n{log}");
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("nginx did not listen on port {} within 10 s", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // QUIT: finish the requests in hand, then exit (the master stops its workers).
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub(crate) fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}
