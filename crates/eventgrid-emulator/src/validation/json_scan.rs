//! The one JSON scanner of publish bodies: a single pass that checks the whole body, finds each
//! element of the top-level array, and collects the members of each element that is an object,
//! as raw text, without building any value tree. It accepts exactly what `serde_json` reads
//! back into a `Value` (so kept events can always be inspected), and says nothing about why it
//! refuses: the caller asks `serde_json` for that, on the rare refused body.
//!
//! The speed comes from keeping the position in a register (functions take and return it
//! rather than updating a struct), from skipping string contents eight bytes at a time, and
//! from recursing only into nested containers.

use std::borrow::Cow;

/// Containers nested deeper than this inside an element are refused: with the top-level array,
/// 128 levels, which `serde_json` refuses ("recursion limit exceeded").
const MAX_DEPTH: u32 = 126;

/// Numbers whose integer part has more digits than this may be out of `f64`'s range.
const SAFE_INTEGER_DIGITS: usize = 300;

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
/// not valid JSON (or not what `serde_json` can read back).
pub(crate) fn scan_array<'a>(
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

/// A number starting at its first character; returns where it ends. Numbers beyond `f64`'s
/// range (`1e400`) are refused, as `serde_json` refuses them: those with an exponent or a long
/// integer part are handed to it to decide.
#[inline(always)]
fn number(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    if bytes[at] == b'-' {
        at += 1;
    }
    let integer = at;
    match *bytes.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits(bytes, at + 1),
        _ => return None,
    }
    let long = at - integer > SAFE_INTEGER_DIGITS;
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
        return in_range(bytes, start, at).then_some(at);
    }
    if long && !in_range(bytes, start, at) {
        return None;
    }
    Some(at)
}

/// Whether `serde_json` reads the number at `start..end` (checked by the caller) as a value.
#[cold]
fn in_range(bytes: &[u8], start: usize, end: usize) -> bool {
    std::str::from_utf8(&bytes[start..end])
        .is_ok_and(|text| serde_json::from_str::<serde_json::Value>(text).is_ok())
}

fn literal(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    (bytes.get(at..at + word.len())? == word).then_some(at + word.len())
}

#[cfg(test)]
#[path = "json_scan_tests.rs"]
mod tests;
