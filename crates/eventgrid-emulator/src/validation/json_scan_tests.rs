//! The scanner held to `serde_json`: the same verdict, and the same elements and members, on
//! hand-picked cases and on every corruption of sample bodies.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::*;

/// An element as the scan reports it: kind, text, whether escaped, and (for objects) each
/// member's name text, whether escaped, value kind, value text, whether escaped.
type Seen = Vec<(Kind, String, bool, Vec<(String, bool, Kind, String, bool)>)>;

fn seen(body: &str) -> Option<Seen> {
    let mut found = Seen::new();
    let count = scan_array(body, |_, value: RawJson<'_>, members: &[Member<'_>]| {
        let members = members
            .iter()
            .map(|member| {
                (
                    member.name.text.to_owned(),
                    member.name.escaped,
                    member.value.kind,
                    member.value.text.to_owned(),
                    member.value.escaped,
                )
            })
            .collect();
        found.push((value.kind, value.text.to_owned(), value.escaped, members));
    })?;
    assert_eq!(count, found.len());
    Some(found)
}

/// An object's members in order, as `serde_json` finds them: decoded name, raw value.
struct Members(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, &RawValue>()? {
                    members.push((name, value.get().to_owned()));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

/// The scan accepts `body` exactly when `serde_json` reads it back as values, and then
/// reports the elements and members `serde_json` finds, byte for byte.
fn agrees(body: &str) -> bool {
    let ours = seen(body);
    let serde = serde_json::from_str::<Vec<serde_json::Value>>(body).is_ok();
    assert_eq!(ours.is_some(), serde, "{body:?}");
    let Some(ours) = ours else {
        return false;
    };
    let elements: Vec<&RawValue> = serde_json::from_str(body).unwrap();
    assert_eq!(ours.len(), elements.len(), "{body:?}");
    for ((kind, text, _, members), element) in ours.iter().zip(elements) {
        assert_eq!(text, element.get(), "{body:?}");
        if *kind == Kind::Object {
            let Members(expected) = serde_json::from_str(element.get()).unwrap();
            let names: Vec<(String, String)> = members
                .iter()
                .map(|(name, _, _, value, _)| (serde_json::from_str(name).unwrap(), value.clone()))
                .collect();
            assert_eq!(names, expected, "{body:?}");
        }
    }
    true
}

const SAMPLE: &str = " [ {\"id\" : \"a\\\"b\", \"n\":-0.5e+3,\"t\":true,\"f\":false,\"z\":null,\
    \"d\":{\"x\":[1,{\"y\":\"\\ud83d\\ude00\"},[]],\"e\":{}} } ,\n 2.5E-3,\"s\\u00e9\",[ ],{}\t]\r\n";

#[test]
fn reports_what_serde_json_finds() {
    assert!(agrees(SAMPLE));
    let found = seen(SAMPLE).expect("valid");
    assert_eq!(found.len(), 5);
    assert_eq!(found[0].3.len(), 6);
    assert!(found[0].3[0].4, "escaped value");
    assert_eq!((found[1].0, found[1].1.as_str()), (Kind::Number, "2.5E-3"));
    assert_eq!(seen("[]"), Some(vec![]));
}

#[test]
fn agrees_with_serde_json_on_what_is_valid() {
    for case in [
        "[]",
        "[1]",
        "[{}]",
        "[{\"a\":1}]",
        "[-0.5E+10]",
        "[\"\\ud83d\\ude00\"]",
        "[\"é✓\"]",
        "[1,]",
        "[,1]",
        "[{\"a\"}]",
        "[{\"a\":1,}]",
        "[{1:2}]",
        "[01]",
        "[1.]",
        "[1e]",
        "[-]",
        "[\"\\x\"]",
        "[\"\\ud800\"]",
        "[\"\\udc00\"]",
        "[\"\\ud800\\u0041\"]",
        "[\"a\tb\"]",
        "[tru]",
        "[nul",
        "[1] x",
        "[\"abc",
        "[{\"a\":1",
        "[[[]]]",
        "[1 2]",
        "[\"\\u12G4\"]",
        "[true,false,null]",
        "[{\"a\":1,\"a\":2}]",
    ] {
        agrees(case);
    }
}

/// What `serde_json` cannot read back into a value is refused, however valid its syntax:
/// numbers beyond `f64` and nesting of 128 levels.
#[test]
fn refuses_what_serde_json_cannot_read_back() {
    for number in [
        "1e400",
        "-1e400",
        "1.8e308",
        "1E+309",
        "0.0000001e316",
        "1e99999999999999999999",
    ] {
        assert!(!agrees(&format!("[{number}]")), "{number}");
        assert!(!agrees(&format!("[{{\"a\":{number}}}]")), "{number}");
        assert!(
            !agrees(&format!("[{{\"a\":[{{\"b\":{number}}}]}}]")),
            "{number}"
        );
    }
    for number in [
        "1e-400",
        "1.7e308",
        "0e99999999999999999999",
        "-0.0e-0",
        "12.5e3",
    ] {
        assert!(agrees(&format!("[{number}]")), "{number}");
    }
    let long = |digits: usize| format!("[1{}]", "0".repeat(digits - 1));
    assert!(agrees(&long(300)));
    assert!(agrees(&long(309)));
    assert!(!agrees(&long(310)));
    assert!(!agrees(&long(400)));

    let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    assert!(agrees(&nested(127)));
    assert!(!agrees(&nested(128)));
    let objects = |levels: usize| {
        format!(
            "[{}1{}]",
            "{\"a\":".repeat(levels - 1),
            "}".repeat(levels - 1)
        )
    };
    assert!(agrees(&objects(127)));
    assert!(!agrees(&objects(128)));
}

#[test]
fn long_strings_with_specials_anywhere() {
    for at in 0..20 {
        let mut text = "abcdefghijklmnopqrst".to_owned();
        text.insert_str(at, "\\\"");
        assert!(agrees(&format!("[\"{text}\"]")));
        assert!(!agrees(&format!(
            "[\"{}\u{1}{}\"]",
            &text[..at],
            &text[at..]
        )));
    }
}

#[test]
fn agrees_on_every_corruption_of_a_sample() {
    let replacements = [
        "", " ", "\"", "\\", ",", ":", "[", "]", "{", "}", "0", "-", ".", "e", "x", "\u{1}", "u",
        "\\u", "é",
    ];
    for at in 0..=SAMPLE.len() {
        if !SAMPLE.is_char_boundary(at) {
            continue;
        }
        let _ = agrees(&SAMPLE[..at]);
        let rest = SAMPLE[at..].chars().next().map_or(0, char::len_utf8);
        for replacement in replacements {
            agrees(&format!(
                "{}{replacement}{}",
                &SAMPLE[..at],
                &SAMPLE[at + rest..]
            ));
            agrees(&format!("{}{replacement}{}", &SAMPLE[..at], &SAMPLE[at..]));
        }
    }
}

/// Random edits of event-like bodies, from a fixed seed: strings that cross word
/// boundaries, escapes, numbers and the body's last seven bytes get every treatment.
#[test]
fn agrees_on_random_edits_of_event_bodies() {
    let seeds = [
        SAMPLE.to_owned(),
        r#"[{"id":"00000001-0000-4000-8000-000000000000","subject":"orders/1","eventType":"order.placed","eventTime":"2024-05-01T12:00:00.123456Z","data":{"total":12.5,"items":[{"sku":"A1","qty":2}]}}]"#.to_owned(),
        "[\"a\\\"bcdefgh\\\\ijklmnop\\u00e9qrstuvw\\/xyz\",{\"k\":[true,false,null,-1.5e-7,0]}]".to_owned(),
        "[\n\t{ \"x\" : \"é✓\" }\r\n]".to_owned(),
    ];
    let alphabet = [
        "\"", "\\", "{", "}", "[", "]", ":", ",", " ", "\n", "\t", "0", "1", "-", "+", ".", "e",
        "E", "a", "t", "u", "n", "\u{1}", "\u{1f}", "é", "\\u", "d83d", "dc00",
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    let mut valid = 0;
    for _ in 0..20_000 {
        let mut body = seeds[random(seeds.len())].clone();
        for _ in 0..1 + random(3) {
            let mut at = random(body.len() + 1);
            while !body.is_char_boundary(at) {
                at -= 1;
            }
            let next = body[at..].chars().next().map_or(0, char::len_utf8);
            match random(3) {
                0 => body.insert_str(at, alphabet[random(alphabet.len())]),
                1 => body.replace_range(at..at + next, alphabet[random(alphabet.len())]),
                _ => body.replace_range(at..at + next, ""),
            }
        }
        valid += usize::from(agrees(&body));
    }
    assert!((1_000..19_000).contains(&valid), "{valid} of 20,000 valid");
}

#[test]
fn refuses_what_serde_json_refuses() {
    for case in [
        "[1,]",
        "[,1]",
        "[{\"a\"}]",
        "[{\"a\":1,}]",
        "[{1:2}]",
        "[01]",
        "[1.]",
        "[1e]",
        "[-]",
        "[\"\\x\"]",
        "[\"\\ud800\"]",
        "[\"\\ud800\\u0041\"]",
        "[\"\\udc00\"]",
        "[\"a\tb\"]",
        "[tru]",
        "[nul",
        "[1] x",
        "[\"abc",
        "[{\"a\":1",
        "[1 2]",
        "[\"\\u12G4\"]",
        "{}",
        "",
        "[",
        "[{\"a\":1}}",
        "[[1]]]",
    ] {
        assert!(scan_array(case, |_, _, _| {}).is_none(), "{case}");
        assert!(serde_json::from_str::<Vec<serde_json::Value>>(case).is_err());
    }
}
