//! What the figures came from: processor, core count, toolchain, and how busy the machine was.

use std::process::Command;

/// The machine and toolchain a run measured on.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub rustc: String,
    pub kernel: String,
    pub nginx: Option<String>,
    pub wrk: Option<String>,
}

impl Machine {
    pub(crate) fn describe() -> Self {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |cores| cores.get()),
            cpu: cpu_model(),
            rustc: first_line(Command::new("rustc").arg("--version"))
                .unwrap_or_else(|| "unknown".to_owned()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|text| text.trim().to_owned())
                .unwrap_or_else(|_| "unknown".to_owned()),
            // nginx prints its version on stderr, wrk its own on stdout (and exits non-zero).
            nginx: crate::bench::tools::find("nginx").and_then(|path| {
                let output = Command::new(path).arg("-v").output().ok()?;
                let text = String::from_utf8_lossy(&output.stderr);
                Some(text.trim().trim_start_matches("nginx version: ").to_owned())
            }),
            wrk: crate::bench::tools::find("wrk").and_then(|path| {
                let output = Command::new(path).arg("-v").output().ok()?;
                let text = String::from_utf8_lossy(&output.stdout);
                text.lines().next().map(|line| {
                    line.split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
            }),
        }
    }

    /// One line for the top of the table.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} cores, {}, {}, Linux {}",
            self.cores, self.cpu, self.rustc, self.kernel
        )
    }
}

/// `/proc/loadavg`'s three load averages, e.g. `0.52 0.61 0.70`.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The one-minute load average, to warn about a busy machine.
pub(crate) fn load_one_minute() -> f64 {
    load_average()
        .split_whitespace()
        .next()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown processor".to_owned())
}

fn first_line(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .map(str::to_owned)
}
