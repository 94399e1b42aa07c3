//! SAS tokens and their expiry, as the emulator reads them from `aeg-sas-token` and
//! `Authorization: SharedAccessSignature`.
//!
//! Input: one byte of choices, then the token. When the choice says so, the token is signed
//! with the topic's key first (replacing any `&s=`), so the fuzzer reaches the checks behind
//! the signature: the resource and the expiry.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use eventgrid_emulator::fuzzing::{parse_sas_expiry, verify_sas};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use ring::hmac;
use time::OffsetDateTime;

use crate::bytes_reader::Bytes;

/// The topic's key, raw and base64.
const KEY: &[u8] = b"fuzz-topic-key";
const KEY_BASE64: &str = "ZnV6ei10b3BpYy1rZXk=";
const ENDPOINT: &str = "http://127.0.0.1:7070/orders/api/events";

/// Runs one input. Checks: a token is accepted only when signed with the key, and then its
/// expiry is after now; expiry parsing never panics.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let sign = input.byte() % 2 == 1;
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    let _ = parse_sas_expiry(text);
    let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).expect("a valid time");
    let token = if sign { signed(text) } else { text.to_owned() };
    let verdict = verify_sas(&token, KEY_BASE64, ENDPOINT, now);
    if verdict.is_ok() {
        assert!(sign, "an unsigned token was accepted: {token:?}");
        let expiry = token
            .trim()
            .split('&')
            .find_map(|pair| pair.strip_prefix("e="))
            .expect("an accepted token has an expiry");
        let decoded = percent_encoding::percent_decode_str(&expiry.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        let expiry = parse_sas_expiry(&decoded).expect("an accepted expiry parses");
        assert!(expiry > now, "an expired token was accepted");
    }
}

/// `text` up to its last `&s=` (all of it when there is none), signed with [`KEY`].
fn signed(text: &str) -> String {
    let text = text.trim();
    let signed_text = text.rfind("&s=").map_or(text, |at| &text[..at]);
    let key = hmac::Key::new(hmac::HMAC_SHA256, KEY);
    let signature = STANDARD.encode(hmac::sign(&key, signed_text.as_bytes()).as_ref());
    format!(
        "{signed_text}&s={}",
        utf8_percent_encode(&signature, NON_ALPHANUMERIC)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_constants_agree() {
        assert_eq!(STANDARD.encode(KEY), KEY_BASE64);
    }

    #[test]
    fn a_signed_current_token_for_the_topic_is_accepted() {
        let resource = utf8_percent_encode(ENDPOINT, NON_ALPHANUMERIC).to_string();
        let token = signed(&format!("r={resource}&e=2031-01-01T00:00:00Z"));
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        assert_eq!(verify_sas(&token, KEY_BASE64, ENDPOINT, now), Ok(()));
        let mut input = vec![1];
        input.extend_from_slice(format!("r={resource}&e=2031-01-01T00:00:00Z").as_bytes());
        run(&input);
    }
}
