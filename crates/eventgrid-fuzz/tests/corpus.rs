//! Replays every committed corpus file (`fuzz/corpus/TARGET/*`) through its target, so each
//! input the fuzzer found interesting (and each crash it found, once fixed) stays checked on
//! stable, without a fuzzer.

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn replay(name: &str) {
    let run = eventgrid_fuzz::target(name).expect("a known target");
    let dir = corpus_root().join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no corpus", dir.display());
    for file in files {
        let input = std::fs::read(&file).expect("a corpus file");
        // A panic names the file, so the input can be replayed by `cargo fuzz run`.
        eprintln!("{}", file.display());
        run(&input);
    }
}

#[test]
fn every_target_has_a_corpus_directory() {
    for (name, _) in eventgrid_fuzz::TARGETS {
        assert!(
            corpus_root().join(name).is_dir(),
            "fuzz/corpus/{name} is missing"
        );
    }
}

#[test]
fn client_response() {
    replay("client_response");
}

#[test]
fn emulator_request() {
    replay("emulator_request");
}

#[test]
fn env_config() {
    replay("env_config");
}

#[test]
fn json_scanner() {
    replay("json_scanner");
}

#[test]
fn jsonl_line() {
    replay("jsonl_line");
}

#[test]
fn jwt_token() {
    replay("jwt_token");
}

#[test]
fn sas_token() {
    replay("sas_token");
}

#[test]
fn subscriber_input() {
    replay("subscriber_input");
}
