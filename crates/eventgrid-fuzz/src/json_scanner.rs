//! The emulator's JSON scanners of publish bodies against `serde_json`: the same verdict on
//! every input.
//!
//! Input: the body.

use eventgrid_emulator::fuzzing::{scan_publish_body, scan_publish_body_fast};

/// Runs one input. Checks: the diagnosing scanner accepts a body exactly when `serde_json`
/// reads it as an array, with the same number of elements; the fast scanner, when it decides,
/// agrees.
pub fn run(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let ours = scan_publish_body(body);
    let serde = serde_json::from_str::<Vec<serde_json::Value>>(body);
    match (&ours, &serde) {
        (Ok(count), Ok(values)) => assert_eq!(*count, values.len(), "{body:?}"),
        (Err(_), Err(_)) => {}
        (ours, serde) => panic!(
            "the scanner says {ours:?}, serde_json says {:?}, for {body:?}",
            serde.as_ref().map(Vec::len).map_err(ToString::to_string)
        ),
    }
    if let Some(count) = scan_publish_body_fast(body) {
        assert_eq!(Ok(count), ours, "the fast scanner disagrees on {body:?}");
    }
}
