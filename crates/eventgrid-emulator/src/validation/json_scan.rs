//! The quick way through a publish body: the same walk as [`json_diagnosis`](crate::validation::json_diagnosis),
//! finding each element of the top-level array and the members of each element that is an
//! object, but written for speed and without diagnostics. It accepts exactly what that scanner
//! accepts; on anything else (or anything unusual, such as nesting deeper than 64) it gives up
//! and the caller runs that scanner, which says what is wrong and where.
//!
//! The speed comes from keeping the position in a register (functions take and return it
//! rather than updating a struct), from skipping string contents eight bytes at a time, and
//! from recursing only into nested containers.

use std::borrow::Cow;

/// Nesting deeper than this is left to the diagnosing scanner (which allows 128).
const MAX_DEPTH: u32 = 64;

/// What kind of JSON value a [`RawJson`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// One JSON value as it appears in the body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawJson<'a> {
    pub kind: Kind,
    /// The value's text (strings with their quotes).
    pub text: &'a str,
    /// For strings: whether the text has escapes, so decoding needs work.
    pub escaped: bool,
}

impl<'a> RawJson<'a> {
    /// The decoded content of a string value; `None` for other kinds.
    pub fn string(&self) -> Option<Cow<'a, str>> {
        if self.kind != Kind::String {
            return None;
        }
        if !self.escaped {
            return Some(Cow::Borrowed(&self.text[1..self.text.len() - 1]));
        }
        // Escapes were validated by the scan, so decoding cannot fail.
        serde_json::from_str::<String>(self.text)
            .ok()
            .map(Cow::Owned)
    }
}

/// A member of an event object: its name (a string value) and its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member<'a> {
    pub name: RawJson<'a>,
    pub value: RawJson<'a>,
}

impl Member<'_> {
    /// Whether the member's decoded name is `name`.
    pub fn is(&self, name: &str) -> bool {
        if self.name.escaped {
            self.name.string().is_some_and(|decoded| decoded == name)
        } else {
            &self.name.text[1..self.name.text.len() - 1] == name
        }
    }
}

/// Scans `body`, which must be a JSON array, calling `element` with each element's index, raw
/// value and (for objects) members; returns the number of elements, or `None` when the body is
/// not valid JSON or the scan gave up.
pub(crate) fn scan_array_fast<'a>(
    body: &'a str,
    mut element: impl FnMut(usize, RawJson<'a>, &[Member<'a>]),
) -> Option<usize> {
    let bytes = body.as_bytes();
    let raw = |kind, start, end, escaped| raw(body, kind, start, end, escaped);
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    at = skip_whitespace(bytes, at + 1);
    let mut members = Vec::new();
    let mut count = 0;
    if bytes.get(at) == Some(&b']') {
        at += 1;
    } else {
        loop {
            let start = at;
            if bytes.get(at) == Some(&b'{') {
                members.clear();
                at = skip_whitespace(bytes, at + 1);
                if *bytes.get(at)? == b'}' {
                    at += 1;
                } else {
                    loop {
                        if *bytes.get(at)? != b'"' {
                            return None;
                        }
                        let (name_end, name_escaped) = string(bytes, at + 1)?;
                        let name = raw(Kind::String, at, name_end, name_escaped);
                        at = skip_whitespace(bytes, name_end);
                        if *bytes.get(at)? != b':' {
                            return None;
                        }
                        at = skip_whitespace(bytes, at + 1);
                        let value_start = at;
                        let (kind, value_end, escaped) = value(bytes, at, 1)?;
                        let value = raw(kind, value_start, value_end, escaped);
                        members.push(Member { name, value });
                        at = skip_whitespace(bytes, value_end);
                        match *bytes.get(at)? {
                            b',' => at = skip_whitespace(bytes, at + 1),
                            b'}' => {
                                at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                element(count, raw(Kind::Object, start, at, false), &members);
            } else {
                let (kind, end, escaped) = value(bytes, at, 0)?;
                at = end;
                element(count, raw(kind, start, end, escaped), &[]);
            }
            count += 1;
            at = skip_whitespace(bytes, at);
            match *bytes.get(at)? {
                b',' => at = skip_whitespace(bytes, at + 1),
                b']' => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_whitespace(bytes, at) == bytes.len()).then_some(count)
}

/// The value of kind `kind` at `start..end` (ASCII boundaries, always).
#[inline(always)]
fn raw(body: &str, kind: Kind, start: usize, end: usize, escaped: bool) -> RawJson<'_> {
    RawJson {
        kind,
        // Splitting checks the boundaries inline, where indexing calls out of line.
        text: body.split_at(end).0.split_at(start).1,
        escaped,
    }
}

#[inline(always)]
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(at) {
        at += 1;
    }
    at
}

/// One value starting at `at` (not whitespace), inside `depth` containers: its kind, where it
/// ends, and for strings whether it has escapes.
#[inline(always)]
fn value(bytes: &[u8], at: usize, depth: u32) -> Option<(Kind, usize, bool)> {
    Some(match *bytes.get(at)? {
        b'"' => {
            let (end, escaped) = string(bytes, at + 1)?;
            (Kind::String, end, escaped)
        }
        b'{' => (Kind::Object, object(bytes, at + 1, depth + 1)?, false),
        b'[' => (Kind::Array, array(bytes, at + 1, depth + 1)?, false),
        b'-' | b'0'..=b'9' => (Kind::Number, number(bytes, at)?, false),
        b't' => (Kind::Bool, literal(bytes, at, b"true")?, false),
        b'f' => (Kind::Bool, literal(bytes, at, b"false")?, false),
        b'n' => (Kind::Null, literal(bytes, at, b"null")?, false),
        _ => return None,
    })
}

/// An object's members after its `{`; returns where it ends.
fn object(bytes: &[u8], at: usize, depth: u32) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut at = skip_whitespace(bytes, at);
    if *bytes.get(at)? == b'}' {
        return Some(at + 1);
    }
    loop {
        if *bytes.get(at)? != b'"' {
            return None;
        }
        at = skip_whitespace(bytes, string(bytes, at + 1)?.0);
        if *bytes.get(at)? != b':' {
            return None;
        }
        at = skip_whitespace(bytes, at + 1);
        at = skip_whitespace(bytes, value(bytes, at, depth)?.1);
        match *bytes.get(at)? {
            b',' => at = skip_whitespace(bytes, at + 1),
            b'}' => return Some(at + 1),
            _ => return None,
        }
    }
}

/// An array's elements after its `[`; returns where it ends.
fn array(bytes: &[u8], at: usize, depth: u32) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut at = skip_whitespace(bytes, at);
    if *bytes.get(at)? == b']' {
        return Some(at + 1);
    }
    loop {
        at = skip_whitespace(bytes, value(bytes, at, depth)?.1);
        match *bytes.get(at)? {
            b',' => at = skip_whitespace(bytes, at + 1),
            b']' => return Some(at + 1),
            _ => return None,
        }
    }
}

/// A string's content after its opening quote: where the string ends (after the closing
/// quote) and whether it has escapes.
///
/// Eight bytes at a time, each word gets a mask of the bytes that are `"`, `\` or control
/// characters. A mask can mark false positives, but only above a true one (a borrow runs
/// upwards), so its lowest mark is exact; and since the quote mask is part of it, whether that
/// lowest mark is a quote is exact too, which settles the common case without reading the byte
/// again.
#[inline(always)]
fn string(bytes: &[u8], mut at: usize) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut escaped = false;
    loop {
        if let Some(chunk) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let quotes = word ^ (ONES * u64::from(b'"'));
            let quotes = quotes.wrapping_sub(ONES) & !quotes & HIGHS;
            let backslashes = word ^ (ONES * u64::from(b'\\'));
            let special = (quotes
                | backslashes.wrapping_sub(ONES) & !backslashes
                | word.wrapping_sub(ONES * 0x20) & !word)
                & HIGHS;
            if special == 0 {
                at += 8;
                continue;
            }
            at += (special.trailing_zeros() / 8) as usize;
            if special & special.wrapping_neg() & quotes != 0 {
                return Some((at + 1, escaped));
            }
        }
        // A backslash or control character, or a byte of the body's last seven.
        match *bytes.get(at)? {
            b'"' => return Some((at + 1, escaped)),
            b'\\' => {
                escaped = true;
                at = escape(bytes, at + 1)?;
            }
            byte if byte < 0x20 => return None,
            _ => at += 1,
        }
    }
}

/// An escape after its backslash; returns where it ends.
fn escape(bytes: &[u8], at: usize) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(at + 1),
        b'u' => match hex4(bytes, at + 1)? {
            0xD800..=0xDBFF => {
                if bytes.get(at + 5..at + 7)? != b"\\u" {
                    return None;
                }
                (0xDC00..=0xDFFF)
                    .contains(&hex4(bytes, at + 7)?)
                    .then_some(at + 11)
            }
            0xDC00..=0xDFFF => None,
            _ => Some(at + 5),
        },
        _ => None,
    }
}

fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let mut unit = 0u16;
    for &byte in bytes.get(at..at + 4)? {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' => byte - b'a' + 10,
            b'A'..=b'F' => byte - b'A' + 10,
            _ => return None,
        };
        unit = unit * 16 + u16::from(digit);
    }
    Some(unit)
}

#[inline(always)]
fn digits(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(at) {
        at += 1;
    }
    at
}

/// A number starting at its first character; returns where it ends.
#[inline(always)]
fn number(bytes: &[u8], mut at: usize) -> Option<usize> {
    if bytes[at] == b'-' {
        at += 1;
    }
    match *bytes.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits(bytes, at + 1),
        _ => return None,
    }
    if bytes.get(at) == Some(&b'.') {
        let fraction = at + 1;
        at = digits(bytes, fraction);
        if at == fraction {
            return None;
        }
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        let exponent = at;
        at = digits(bytes, exponent);
        if at == exponent {
            return None;
        }
    }
    Some(at)
}

fn literal(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    (bytes.get(at..at + word.len())? == word).then_some(at + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::json_diagnosis::scan_array;

    /// Everything either scanner reports: elements (kind, text, escaped) with their members.
    type Seen = Vec<(Kind, String, bool, Vec<(String, bool, Kind, String, bool)>)>;

    fn seen(body: &str, fast: bool) -> Option<Seen> {
        let mut found = Seen::new();
        let mut record = |_, value: RawJson<'_>, members: &[Member<'_>]| {
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
        };
        let count = if fast {
            scan_array_fast(body, &mut record)?
        } else {
            scan_array(body, &mut record).ok()?
        };
        assert_eq!(count, found.len());
        Some(found)
    }

    /// The fast scan accepts what the diagnosing scan accepts (at these shallow depths), and
    /// reports the same.
    fn agrees(body: &str) -> bool {
        let fast = seen(body, true);
        assert_eq!(fast, seen(body, false), "{body:?}");
        fast.is_some()
    }

    const SAMPLE: &str = " [ {\"id\" : \"a\\\"b\", \"n\":-0.5e+3,\"t\":true,\"f\":false,\"z\":null,\
        \"d\":{\"x\":[1,{\"y\":\"\\ud83d\\ude00\"},[]],\"e\":{}} } ,\n 2.5E-3,\"s\\u00e9\",[ ],{}\t]\r\n";

    #[test]
    fn reports_what_the_diagnosing_scan_reports() {
        let fast = seen(SAMPLE, true).expect("valid");
        assert_eq!(Some(fast.clone()), seen(SAMPLE, false));
        assert_eq!(fast.len(), 5);
        assert_eq!(fast[0].3.len(), 6);
        assert!(fast[0].3[0].4, "escaped value");
        assert_eq!(seen("[]", true), Some(vec![]));
    }

    #[test]
    fn agrees_on_every_corruption_of_a_sample() {
        let replacements = [
            "", " ", "\"", "\\", ",", ":", "[", "]", "{", "}", "0", "-", ".", "e", "x", "\u{1}",
            "u", "\\u", "é",
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
            "\"", "\\", "{", "}", "[", "]", ":", ",", " ", "\n", "\t", "0", "1", "-", "+", ".",
            "e", "E", "a", "t", "u", "n", "\u{1}", "\u{1f}", "é", "\\u", "d83d", "dc00",
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
            assert!(scan_array_fast(case, |_, _, _| {}).is_none(), "{case}");
            assert!(serde_json::from_str::<Vec<serde_json::Value>>(case).is_err());
        }
    }

    #[test]
    fn leaves_deep_nesting_to_the_diagnosing_scan() {
        let nested = |depth: usize| format!("[{}{}]", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(scan_array_fast(&nested(64), |_, _, _| {}), Some(1));
        assert_eq!(scan_array_fast(&nested(65), |_, _, _| {}), None);
        assert!(scan_array(&nested(65), |_, _, _| {}).is_ok());
    }
}
