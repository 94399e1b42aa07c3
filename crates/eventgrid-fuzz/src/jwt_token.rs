//! Bearer tokens, as the emulator reads them from `Authorization: Bearer`.
//!
//! Input: one byte of choices, then text. Choice 0: the text is the token. Choice 1: the text
//! up to its last `.` is signed with the authority's secret first. Choice 2: the text is the
//! claims (JSON), put in a signed HS256 token, so the fuzzer reaches the claim checks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use eventgrid_emulator::fuzzing::verify_jwt;
use ring::hmac;
use time::OffsetDateTime;

use crate::bytes_reader::Bytes;

const SECRET: &[u8] = b"fuzz-authority-secret";

/// Runs one input. Checks: only a token signed with the secret is accepted, and then its
/// claims say Event Grid, and now is within its validity.
pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let choice = input.byte() % 3;
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    let token = match choice {
        0 => text.to_owned(),
        1 => signed(text.rsplit_once('.').map_or(text, |(signed, _)| signed)),
        _ => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            signed(&format!("{header}.{}", URL_SAFE_NO_PAD.encode(text)))
        }
    };
    let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).expect("a valid time");
    if verify_jwt(SECRET, &token, now).is_ok() {
        let (head, _) = token.trim().rsplit_once('.').expect("three parts");
        assert_eq!(
            signed(head),
            token.trim(),
            "a token signed otherwise was accepted"
        );
        let payload = token.trim().split('.').nth(1).expect("a payload");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
                .expect("JSON claims");
        let aud = claims["aud"].as_str().expect("an audience");
        assert_eq!(
            aud.trim_end_matches('/'),
            eventgrid_emulator::EVENT_GRID_AUDIENCE
        );
        let now = now.unix_timestamp();
        assert!(
            claims["exp"].as_i64().expect("exp") > now,
            "expired, accepted"
        );
        assert!(
            claims["nbf"].as_i64().expect("nbf") <= now,
            "not yet valid, accepted"
        );
    }
}

/// `text` with an HS256 signature made with [`SECRET`].
fn signed(text: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let signature = URL_SAFE_NO_PAD.encode(hmac::sign(&key, text.trim().as_bytes()).as_ref());
    format!("{}.{signature}", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_event_grid_token_is_accepted() {
        let claims = r#"{"aud":"https://eventgrid.azure.net","iss":"i","sub":"s","appid":"s","tid":"t","iat":1899999999,"nbf":1899999000,"exp":1900003000}"#;
        let mut input = vec![2];
        input.extend_from_slice(claims.as_bytes());
        run(&input);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let token = signed(&format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims)));
        let now = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        assert_eq!(verify_jwt(SECRET, &token, now), Ok(()));
    }
}
