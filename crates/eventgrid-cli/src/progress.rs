//! What `publish --file` shows while it works (a progress bar, only on a terminal) and when it
//! is done (one summary line).

use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr when stderr is a terminal; invisible otherwise, so that logs and
/// pipes get only the summary.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `total_bytes` of input when the size is known, a spinner otherwise.
    pub fn new(total_bytes: Option<u64>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self {
                bar: ProgressBar::hidden(),
            };
        }
        let bar = match total_bytes {
            Some(total) => {
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(10))
                    .with_style(
                        ProgressStyle::with_template(
                            "{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed})",
                        )
                        .expect("a valid template")
                        .progress_chars("=> "),
                    )
            }
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10))
                .with_style(
                    ProgressStyle::with_template("{spinner} {bytes} read, {msg} ({elapsed})")
                        .expect("a valid template"),
                ),
        };
        bar.enable_steady_tick(Duration::from_millis(100));
        Self { bar }
    }

    /// Input consumed so far and events delivered so far.
    pub fn update(&self, bytes_read: u64, delivered: usize) {
        self.bar.set_position(bytes_read);
        self.bar
            .set_message(format!("{delivered} events delivered"));
    }

    /// Removes the bar, leaving the terminal to the summary.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The outcome of a `publish --file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Events the service accepted.
    pub delivered: usize,
    /// Events read but not delivered.
    pub failed: usize,
    /// Requests sent, retries included.
    pub requests: usize,
    /// Time from opening the file to the last answer.
    pub elapsed: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        write!(
            f,
            "{} events delivered, {} failed, {} requests, {seconds:.2} s",
            self.delivered, self.failed, self.requests
        )?;
        if seconds > 0.0 && self.delivered > 0 {
            write!(f, " ({:.0} events/s)", self.delivered as f64 / seconds)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_as_a_sentence() {
        let summary = Summary {
            delivered: 10_000,
            failed: 0,
            requests: 3,
            elapsed: Duration::from_millis(500),
        };
        assert_eq!(
            summary.to_string(),
            "10000 events delivered, 0 failed, 3 requests, 0.50 s (20000 events/s)"
        );
    }
}
