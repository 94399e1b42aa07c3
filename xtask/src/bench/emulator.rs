//! `eventgrid-emulator` as a sink: one keyed topic, `--retain 0` (it validates and counts every
//! event and keeps none, so memory stays flat however long the run).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running emulator process; stopped with SIGTERM (and waited for) on drop.
#[derive(Debug)]
pub(crate) struct EmulatorSink {
    child: Child,
    base_url: String,
    /// Kept open so the emulator never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl EmulatorSink {
    /// Starts `binary` serving topic `topic`, keyed with `key`, on a free port.
    pub(crate) fn start(binary: &Path, topic: &str, key: &str) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(["--port", "0", "--retain", "0", "--topic"])
            .arg(format!("{topic}={key}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        let mut base_url = None;
        // The banner ends with the `inspect:` line.
        while stdout.read_line(&mut line)? > 0 {
            let text = line.trim_end();
            if let Some(url) = text.strip_prefix("listening on ") {
                base_url = Some(url.to_owned());
            } else if text.starts_with("inspect: ") {
                break;
            }
            line.clear();
        }
        let Some(base_url) = base_url else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} did not print `listening on URL`", binary.display());
        };
        Ok(EmulatorSink {
            child,
            base_url,
            _stdout: stdout,
        })
    }

    /// The publish endpoint of `topic`.
    pub(crate) fn topic_endpoint(&self, topic: &str) -> String {
        format!("{}/{topic}/api/events", self.base_url)
    }

    /// The counters of `topic` (`accepted_events` and the rest) in the inspection API.
    pub(crate) fn counters_url(&self, topic: &str) -> String {
        format!("{}/_emulator/topics/{topic}/counters", self.base_url)
    }
}

impl Drop for EmulatorSink {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
