//! An `eventgrid-emulator` process, for every command that needs one running (`itest`,
//! `interop`, `bench`, `bench-emulator`): started with the caller's arguments, its start-up
//! banner read (the `listening on` URL and the CA certificate's path), the rest of its output
//! drained so it never blocks on a full pipe, and stopped with SIGTERM, then, if it has not
//! exited by a deadline, killed.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::util::wait_with_deadline;

/// How long the emulator may take to print its banner once started.
const BANNER_DEADLINE: Duration = Duration::from_secs(30);
/// How long the emulator may take to exit after SIGTERM before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// A running emulator; stopped on drop if [`stop`](Self::stop) was not called.
#[derive(Debug)]
pub(crate) struct EmulatorProcess {
    child: Child,
    base_url: String,
    ca_certificate: Option<PathBuf>,
    stopped: bool,
}

impl EmulatorProcess {
    /// Starts `binary` with `args` (its own stdout piped, stderr inherited) and returns once its
    /// banner, which ends with the `inspect:` line, has been read.
    pub(crate) fn start<I, S>(binary: &Path, args: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (banner_lines, banner) = mpsc::channel();
        // Reads the whole output for the emulator's life: the banner goes to the channel, the
        // rest is dropped once nobody listens.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = banner_lines.send(line);
            }
        });
        let mut process = EmulatorProcess {
            child,
            base_url: String::new(),
            ca_certificate: None,
            stopped: false,
        };
        loop {
            let line = match banner.recv_timeout(BANNER_DEADLINE) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "{} printed no complete banner within {BANNER_DEADLINE:?}",
                    binary.display()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = process.child.wait()?;
                    process.stopped = true;
                    bail!("{} exited before listening ({status})", binary.display())
                }
            };
            let line = line.trim_end();
            if let Some(url) = line.strip_prefix("listening on ") {
                process.base_url = url.to_owned();
            } else if let Some(path) = line.strip_prefix("ca certificate: ") {
                process.ca_certificate = Some(PathBuf::from(path));
            } else if line.starts_with("inspect: ") {
                break;
            }
        }
        if process.base_url.is_empty() {
            bail!("{} did not print `listening on URL`", binary.display());
        }
        eprintln!("emulator listening on {}", process.base_url);
        Ok(process)
    }

    /// `http://HOST:PORT` (or `https://`) as the banner gave it.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The publish endpoint of `topic`.
    pub(crate) fn topic_endpoint(&self, topic: &str) -> String {
        format!("{}/{topic}/api/events", self.base_url)
    }

    /// The CA certificate file clients must trust, when the emulator serves https.
    pub(crate) fn ca_certificate(&self) -> Option<&Path> {
        self.ca_certificate.as_deref()
    }

    /// The process id, to measure its CPU time.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The body of `GET path` on a plain-http emulator (its inspection API), read to the end.
    pub(crate) fn get(&self, path: &str) -> Result<String> {
        let Some(authority) = self.base_url.strip_prefix("http://") else {
            bail!("the inspection API is read over plain http only");
        };
        let mut stream = TcpStream::connect(authority)
            .with_context(|| format!("connecting to the emulator at {authority}"))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        match response.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_owned()),
            _ => bail!(
                "GET {path}: {}",
                response.lines().next().unwrap_or_default()
            ),
        }
    }

    /// Sends SIGTERM and waits for the emulator to exit; kills it if it has not within 10 s.
    pub(crate) fn stop(&mut self) -> Result<ExitStatus> {
        self.stopped = true;
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if signalled && let Ok(status) = wait_with_deadline(&mut self.child, STOP_DEADLINE) {
            return Ok(status);
        }
        eprintln!(
            "emulator at {}: no exit {STOP_DEADLINE:?} after SIGTERM; killing it",
            self.base_url
        );
        self.child.kill()?;
        Ok(self.child.wait()?)
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.stop();
        }
    }
}
