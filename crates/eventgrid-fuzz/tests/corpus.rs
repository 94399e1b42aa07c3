//! Replays every committed corpus file (`fuzz/corpus/TARGET/*`) through its target, so each
//! input the fuzzer found interesting (and each crash it found, once fixed) stays checked on
//! stable, without a fuzzer. The targets are `eventgrid_fuzz::TARGETS`, the one list; the
//! first test checks that `fuzz/` agrees with it.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn names_in(dir: &Path, strip: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").file_name())
        .filter_map(|name| Some(name.to_str()?.strip_suffix(strip)?.to_owned()))
        .collect()
}

#[test]
fn every_target_has_a_binary_and_a_corpus_and_nothing_else_does() {
    let targets: BTreeSet<String> = eventgrid_fuzz::TARGETS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        names_in(&fuzz_dir().join("fuzz_targets"), ".rs"),
        targets,
        "fuzz/fuzz_targets/*.rs"
    );
    assert_eq!(
        names_in(&fuzz_dir().join("corpus"), ""),
        targets,
        "fuzz/corpus/*"
    );
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let binaries: BTreeSet<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            let line = section.lines().find(|line| line.starts_with("name = "))?;
            Some(
                line.trim_start_matches("name = ")
                    .trim_matches('"')
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(binaries, targets, "the [[bin]]s of fuzz/Cargo.toml");
    for (name, _) in eventgrid_fuzz::TARGETS {
        let call = format!("eventgrid_fuzz::{name}::run(data)");
        let binary = std::fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{name}.rs")))
            .expect("the target's binary");
        assert!(
            binary.contains(&call),
            "fuzz/fuzz_targets/{name}.rs calls {call}"
        );
    }
}

/// Every file of `fuzz/corpus/{name}` through the target; a failure names the file, so the
/// input can be replayed by `cargo fuzz run`.
fn replay(name: &str, run: fn(&[u8])) -> Result<usize, String> {
    let dir = fuzz_dir().join("corpus").join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|error| format!("{}: {error}", dir.display()))?
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{} has no corpus", dir.display()));
    }
    for file in &files {
        let input = std::fs::read(file).map_err(|error| format!("{}: {error}", file.display()))?;
        catch_unwind(AssertUnwindSafe(|| run(&input)))
            .map_err(|_| format!("{} panicked (its message is above)", file.display()))?;
    }
    Ok(files.len())
}

#[test]
fn every_committed_corpus_replays() {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let replays: Vec<_> = eventgrid_fuzz::TARGETS
            .iter()
            .map(|(name, run)| (name, scope.spawn(|| replay(name, *run))))
            .collect();
        replays
            .into_iter()
            .filter_map(|(name, replay)| {
                match replay.join().expect("replay threads catch panics") {
                    Ok(count) => {
                        eprintln!("{name}: {count} inputs");
                        None
                    }
                    Err(failure) => Some(format!("{name}: {failure}")),
                }
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
