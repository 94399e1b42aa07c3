//! `cargo xtask fuzz [--seconds N] [--cmin] [TARGET]`: runs the cargo-fuzz targets of `fuzz/`
//! one after another, each for N seconds (default 600), growing `fuzz/corpus/TARGET`, and
//! prints per target the seconds run, the executions and the crashes found (libFuzzer's own
//! figures, from its log in `fuzz/target/logs/`).
//!
//! Needs `cargo install cargo-fuzz` and a nightly toolchain (`rustup toolchain install
//! nightly`); without one it sets `RUSTC_BOOTSTRAP=1` on the stable compiler. The committed
//! corpora are replayed on stable by `cargo test -p eventgrid-fuzz`, which CI runs.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
cargo xtask fuzz [--seconds N] [--cmin] [TARGET]

  --seconds N  how long to fuzz each target (default 600)
  --cmin       afterwards, minimize each target's corpus (cargo fuzz cmin)
  TARGET       one target (default: all of them, one after another)
";

struct Options {
    seconds: u64,
    cmin: bool,
    targets: Vec<String>,
}

/// libFuzzer's figures for one run.
struct Outcome {
    target: String,
    seconds: Option<u64>,
    executions: Option<u64>,
    crashes: Vec<PathBuf>,
}

pub fn run(args: &[String]) -> Result<()> {
    let root = workspace_root();
    let known = targets(&root)?;
    let Some(options) = parse(args, &known)? else {
        print!("{USAGE}");
        return Ok(());
    };
    let mut outcomes = Vec::new();
    for target in &options.targets {
        outcomes.push(fuzz_one(&root, target, options.seconds)?);
        if options.cmin {
            minimize(&root, target)?;
        }
    }
    println!(
        "\n{:<18} {:>8} {:>14}  crashes",
        "target", "seconds", "executions"
    );
    for outcome in &outcomes {
        let number = |value: Option<u64>| value.map_or("?".to_owned(), |v| v.to_string());
        println!(
            "{:<18} {:>8} {:>14}  {}",
            outcome.target,
            number(outcome.seconds),
            number(outcome.executions),
            outcome.crashes.len()
        );
        for crash in &outcome.crashes {
            println!("    {}", crash.display());
        }
    }
    if outcomes.iter().any(|outcome| !outcome.crashes.is_empty()) {
        bail!("crashes found: replay one with `cargo +nightly fuzz run TARGET FILE`");
    }
    Ok(())
}

/// The targets: one binary per `fuzz/fuzz_targets/NAME.rs`, each calling
/// `eventgrid_fuzz::NAME::run` (the crate's `TARGETS` is the list; its corpus test checks that
/// `fuzz/` agrees), sorted.
fn targets(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("fuzz/fuzz_targets");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name();
        if let Some(target) = name.to_str().and_then(|name| name.strip_suffix(".rs")) {
            names.push(target.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn parse(args: &[String], known: &[String]) -> Result<Option<Options>> {
    let mut options = Options {
        seconds: 600,
        cmin: false,
        targets: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--seconds" => {
                let value = args.next().context("--seconds needs a number")?;
                options.seconds = value
                    .parse()
                    .with_context(|| format!("--seconds {value}: not a number of seconds"))?;
            }
            "--cmin" => options.cmin = true,
            target if known.iter().any(|name| name == target) => {
                options.targets.push(target.to_owned())
            }
            other => bail!(
                "unknown argument `{other}` (targets: {})\n\n{USAGE}",
                known.join(", ")
            ),
        }
    }
    if options.targets.is_empty() {
        options.targets = known.to_vec();
    }
    Ok(Some(options))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// `cargo fuzz` on a nightly toolchain: `+nightly` when rustup has one, else the current
/// compiler with its unstable features unlocked.
fn cargo_fuzz(root: &Path) -> Command {
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    let mut command = Command::new("cargo");
    // Not the variables `cargo xtask` was started with: build scripts watch some of them, and
    // a change rebuilds every instrumented dependency.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let from_cargo = (name.starts_with("CARGO") && name != "CARGO_HOME")
            || name.starts_with("RUSTUP_TOOLCHAIN")
            || name.starts_with("RUSTC")
            || name == "OUT_DIR";
        if from_cargo {
            command.env_remove(name.as_ref());
        }
    }
    if has_nightly {
        command.arg("+nightly");
    } else {
        command.env("RUSTC_BOOTSTRAP", "1");
    }
    command.arg("fuzz").current_dir(root);
    command
}

fn fuzz_one(root: &Path, target: &str, seconds: u64) -> Result<Outcome> {
    let logs = root.join("fuzz/target/logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let log_path = logs.join(format!("{target}.log"));
    let log =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let corpus = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let artifacts = root.join("fuzz/artifacts").join(target);
    std::fs::create_dir_all(&artifacts)?;
    let before = crash_files(&artifacts)?;

    let mut command = cargo_fuzz(root);
    command
        .args(["run", target])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        // A crash is reported and fuzzing goes on, so one run finds more than one.
        .arg("-fork=1")
        .arg("-ignore_crashes=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .stdout(log.try_clone()?)
        .stderr(log);
    eprintln!(
        "fuzzing {target} for {seconds} s (log: {})",
        log_path.display()
    );
    let status = command
        .status()
        .context("could not start cargo fuzz (cargo install cargo-fuzz)")?;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let crashes: Vec<PathBuf> = crash_files(&artifacts)?
        .into_iter()
        .filter(|file| !before.contains(file))
        .collect();
    if !status.success() && crashes.is_empty() && !text.contains("Done ") {
        bail!(
            "cargo fuzz run {target} failed with {status}; see {}",
            log_path.display()
        );
    }
    let (seconds, executions) = figures(&text);
    Ok(Outcome {
        target: target.to_owned(),
        seconds,
        executions,
        crashes,
    })
}

/// Seconds and executions from libFuzzer's log: `Done N runs in S second(s)` for a plain run;
/// in fork mode, the last `#N ... exec/s` status line and its `time: S s`.
fn figures(log: &str) -> (Option<u64>, Option<u64>) {
    for line in log.lines().rev() {
        if let Some(rest) = line.strip_prefix("Done ") {
            let mut words = rest.split_whitespace();
            let runs = words.next().and_then(|w| w.parse().ok());
            let seconds = words.nth(2).and_then(|w| w.parse().ok());
            return (seconds, runs);
        }
        if let Some(rest) = line.strip_prefix('#')
            && line.contains("exec/s")
        {
            let runs = rest
                .split_whitespace()
                .next()
                .and_then(|w| w.trim_end_matches(':').parse().ok());
            let seconds = line
                .split_once("time: ")
                .and_then(|(_, after)| after.split_whitespace().next())
                .and_then(|w| w.trim_end_matches('s').parse().ok());
            return (seconds, runs);
        }
    }
    (None, None)
}

fn crash_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if ["crash-", "oom-", "timeout-", "leak-"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            files.push(path);
        }
    }
    Ok(files)
}

fn minimize(root: &Path, target: &str) -> Result<()> {
    let mut command = cargo_fuzz(root);
    command
        .args(["cmin", target])
        .arg(root.join("fuzz/corpus").join(target));
    eprintln!("minimizing the corpus of {target}");
    let status = command
        .status()
        .context("could not start cargo fuzz cmin")?;
    if !status.success() {
        bail!("cargo fuzz cmin {target} failed with {status}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_figures() {
        let plain = "#1024\tpulse  cov: 10 ft: 12 corp: 3/20b exec/s: 512 rss: 40Mb\nDone 123456 runs in 601 second(s)\n";
        assert_eq!(figures(plain), (Some(601), Some(123_456)));
        let fork = "#88000: cov: 900 ft: 2000 corp: 300 exec/s: 140 oom/timeout/crash: 0/0/1 time: 612s job: 40 dft_time: 0\n";
        assert_eq!(figures(fork), (Some(612), Some(88_000)));
        assert_eq!(figures("nothing"), (None, None));
    }

    #[test]
    fn parses_arguments() {
        let known = targets(&workspace_root()).unwrap();
        assert!(known.contains(&"jwt_token".to_owned()), "{known:?}");
        let args = ["--seconds", "5", "jwt_token"].map(str::to_owned);
        let options = parse(&args, &known).unwrap().unwrap();
        assert_eq!(
            (options.seconds, options.targets),
            (5, vec!["jwt_token".to_owned()])
        );
        assert_eq!(parse(&[], &known).unwrap().unwrap().targets, known);
        assert!(parse(&["nope".to_owned()], &known).is_err());
    }
}
