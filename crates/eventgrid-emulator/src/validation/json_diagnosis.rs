//! A single-pass JSON validator for publish bodies. It checks the whole body against RFC 8259
//! (as strictly as `serde_json`), finds each element of the top-level array, and collects the
//! members of each element that is an object, as raw text, without building any value tree.
//! Strings, which are most of an event's bytes, are skipped eight bytes at a time.

use crate::validation::json_scan::{Kind, Member, RawJson};

/// Nesting deeper than this is refused, as `serde_json` does.
const MAX_DEPTH: usize = 128;

/// Why a body is not valid JSON, in `serde_json`'s words, and where: kept small (and cheap to
/// return) until it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    message: &'static str,
    /// Bytes consumed when the error was found.
    end: usize,
}

impl SyntaxError {
    /// `message at line L column C`, counting like `serde_json`.
    pub fn describe(&self, body: &str) -> String {
        let consumed = &body.as_bytes()[..self.end.min(body.len())];
        let line = 1 + consumed.iter().filter(|byte| **byte == b'\n').count();
        let column = consumed.len()
            - consumed
                .iter()
                .rposition(|byte| *byte == b'\n')
                .map_or(0, |at| at + 1);
        format!("{} at line {line} column {column}", self.message)
    }
}

/// Scans `body`, which must be a JSON array, calling `element` with each element's index, raw
/// value and (for objects) members. Returns the number of elements.
pub(crate) fn scan_array<'a>(
    body: &'a str,
    mut element: impl FnMut(usize, RawJson<'a>, &[Member<'a>]),
) -> Result<usize, SyntaxError> {
    let mut scanner = Scanner {
        text: body,
        bytes: body.as_bytes(),
        position: 0,
        depth: 0,
    };
    scanner.skip_whitespace();
    scanner.expect(b'[', "expected `[`")?;
    scanner.skip_whitespace();
    let mut members = Vec::new();
    let mut count = 0;
    if scanner.peek() == Some(b']') {
        scanner.position += 1;
    } else {
        loop {
            members.clear();
            let value = if scanner.peek() == Some(b'{') {
                let start = scanner.position;
                scanner.object(Some(&mut members))?;
                RawJson {
                    kind: Kind::Object,
                    text: &scanner.text[start..scanner.position],
                    escaped: false,
                }
            } else {
                scanner.value()?
            };
            element(count, value, &members);
            count += 1;
            scanner.skip_whitespace();
            match scanner.next_byte() {
                Some(b',') => scanner.after_comma(b']')?,
                Some(b']') => break,
                Some(_) => return Err(scanner.error("expected `,` or `]`")),
                None => return Err(scanner.error("EOF while parsing a list")),
            }
        }
    }
    scanner.skip_whitespace();
    if scanner.position < scanner.bytes.len() {
        return Err(scanner.error_at("trailing characters", scanner.position + 1));
    }
    Ok(count)
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    depth: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    #[inline]
    fn next_byte(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.position += 1;
        Some(byte)
    }

    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.position += 1;
        }
    }

    /// Whitespace after a comma, which must not close the list.
    #[inline]
    fn after_comma(&mut self, close: u8) -> Result<(), SyntaxError> {
        self.skip_whitespace();
        if self.peek() == Some(close) {
            return Err(self.error_at("trailing comma", self.position + 1));
        }
        Ok(())
    }

    #[inline]
    fn expect(&mut self, wanted: u8, message: &'static str) -> Result<(), SyntaxError> {
        match self.next_byte() {
            Some(byte) if byte == wanted => Ok(()),
            Some(_) => Err(self.error(message)),
            None => Err(self.error("EOF while parsing a value")),
        }
    }

    fn value(&mut self) -> Result<RawJson<'a>, SyntaxError> {
        let start = self.position;
        let (kind, escaped) = self.skip_value()?;
        Ok(RawJson {
            kind,
            text: &self.text[start..self.position],
            escaped,
        })
    }

    /// Skips one value; returns its kind and, for strings, whether it has escapes.
    fn skip_value(&mut self) -> Result<(Kind, bool), SyntaxError> {
        Ok(match self.peek() {
            Some(b'"') => (Kind::String, self.string()?),
            Some(b'{') => {
                self.object(None)?;
                (Kind::Object, false)
            }
            Some(b'[') => {
                self.array()?;
                (Kind::Array, false)
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                (Kind::Number, false)
            }
            Some(b't') => {
                self.literal("true")?;
                (Kind::Bool, false)
            }
            Some(b'f') => {
                self.literal("false")?;
                (Kind::Bool, false)
            }
            Some(b'n') => {
                self.literal("null")?;
                (Kind::Null, false)
            }
            Some(_) => return Err(self.error_at("expected value", self.position + 1)),
            None => return Err(self.error("EOF while parsing a value")),
        })
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        Ok(())
    }

    /// An object; its members go to `members` when given (only for events themselves).
    fn object(&mut self, mut members: Option<&mut Vec<Member<'a>>>) -> Result<(), SyntaxError> {
        self.enter()?;
        self.position += 1;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.position += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(match self.peek() {
                        None => self.error("EOF while parsing an object"),
                        Some(_) => self.error_at("key must be a string", self.position + 1),
                    });
                }
                let name_start = self.position;
                let name_escaped = self.string()?;
                let name_end = self.position;
                self.skip_whitespace();
                self.expect(b':', "expected `:`")?;
                self.skip_whitespace();
                match members.as_deref_mut() {
                    Some(members) => {
                        let name = RawJson {
                            kind: Kind::String,
                            text: &self.text[name_start..name_end],
                            escaped: name_escaped,
                        };
                        let value = self.value()?;
                        members.push(Member { name, value });
                    }
                    None => {
                        self.skip_value()?;
                    }
                }
                self.skip_whitespace();
                match self.next_byte() {
                    Some(b',') => self.after_comma(b'}')?,
                    Some(b'}') => break,
                    Some(_) => return Err(self.error("expected `,` or `}`")),
                    None => return Err(self.error("EOF while parsing an object")),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn array(&mut self) -> Result<(), SyntaxError> {
        self.enter()?;
        self.position += 1;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.position += 1;
        } else {
            loop {
                self.skip_value()?;
                self.skip_whitespace();
                match self.next_byte() {
                    Some(b',') => self.after_comma(b']')?,
                    Some(b']') => break,
                    Some(_) => return Err(self.error("expected `,` or `]`")),
                    None => return Err(self.error("EOF while parsing a list")),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// A string starting at the current `"`; returns whether it has escapes.
    fn string(&mut self) -> Result<bool, SyntaxError> {
        self.position += 1;
        let mut escaped = false;
        loop {
            self.skip_plain_string_bytes();
            match self.next_byte() {
                Some(b'"') => return Ok(escaped),
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                Some(_) => {
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    /// Skips bytes that are neither `"`, `\` nor control characters, eight at a time: each
    /// mask marks the bytes of a word that are one of those (the lowest mark is always exact),
    /// so the first special byte is found without a byte loop.
    #[inline]
    fn skip_plain_string_bytes(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = self.bytes.get(self.position..self.position + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let quotes = word ^ (ONES * u64::from(b'"'));
            let backslashes = word ^ (ONES * u64::from(b'\\'));
            let special = (quotes.wrapping_sub(ONES) & !quotes
                | backslashes.wrapping_sub(ONES) & !backslashes
                | word.wrapping_sub(ONES * 0x20) & !word)
                & HIGHS;
            if special != 0 {
                self.position += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.position += 8;
        }
        while let Some(byte) = self.peek() {
            if byte == b'"' || byte == b'\\' || byte < 0x20 {
                return;
            }
            self.position += 1;
        }
    }

    /// An escape after its backslash.
    fn escape(&mut self) -> Result<(), SyntaxError> {
        match self.next_byte() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(()),
            Some(b'u') => {
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.position..self.position + 2) != Some(b"\\u") {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        self.position += 2;
                        if !(0xDC00..=0xDFFF).contains(&self.hex4()?) {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        Ok(())
                    }
                    0xDC00..=0xDFFF => Err(self.error("unexpected end of hex escape")),
                    _ => Ok(()),
                }
            }
            Some(_) => Err(self.error("invalid escape")),
            None => Err(self.error("EOF while parsing a string")),
        }
    }

    fn hex4(&mut self) -> Result<u16, SyntaxError> {
        let mut unit = 0u16;
        for _ in 0..4 {
            let digit = match self.next_byte() {
                Some(byte @ b'0'..=b'9') => byte - b'0',
                Some(byte @ b'a'..=b'f') => byte - b'a' + 10,
                Some(byte @ b'A'..=b'F') => byte - b'A' + 10,
                Some(_) => return Err(self.error("invalid escape")),
                None => return Err(self.error("EOF while parsing a string")),
            };
            unit = unit * 16 + u16::from(digit);
        }
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let start = self.position;
        while let Some(b'0'..=b'9') = self.peek() {
            self.position += 1;
        }
        self.position - start
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        match self.peek() {
            Some(b'0') => self.position += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error_at("invalid number", self.position + 1)),
        }
        if self.peek() == Some(b'.') {
            self.position += 1;
            if self.digits() == 0 {
                return Err(self.error_at("invalid number", self.position + 1));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.position += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.position += 1;
            }
            if self.digits() == 0 {
                return Err(self.error_at("invalid number", self.position + 1));
            }
        }
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Result<(), SyntaxError> {
        for expected in word.bytes() {
            match self.next_byte() {
                Some(byte) if byte == expected => {}
                Some(_) => return Err(self.error("expected ident")),
                None => return Err(self.error("EOF while parsing a value")),
            }
        }
        Ok(())
    }

    /// An error at the byte just consumed.
    fn error(&self, message: &'static str) -> SyntaxError {
        self.error_at(message, self.position)
    }

    /// An error after `end` bytes.
    fn error_at(&self, message: &'static str, end: usize) -> SyntaxError {
        SyntaxError { message, end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An element as the tests see it: kind, text, and members as (name, value text).
    type Element = (Kind, String, Vec<(String, String)>);

    fn elements(body: &str) -> Result<Vec<Element>, SyntaxError> {
        let mut found = Vec::new();
        scan_array(body, |_, value, members| {
            let members = members
                .iter()
                .map(|member| {
                    (
                        member.name.string().unwrap().into_owned(),
                        member.value.text.to_owned(),
                    )
                })
                .collect();
            found.push((value.kind, value.text.to_owned(), members));
        })?;
        Ok(found)
    }

    #[test]
    fn finds_elements_and_top_level_members() {
        let body =
            " [ {\"a\" : [1, {\"b\": null}], \"c\\u0041\": \"x\\\"y\"} , 2.5e-3,\"s\",true ]\n";
        let found = elements(body).unwrap();
        assert_eq!(found.len(), 4);
        assert_eq!(found[0].0, Kind::Object);
        assert_eq!(
            found[0].1,
            "{\"a\" : [1, {\"b\": null}], \"c\\u0041\": \"x\\\"y\"}"
        );
        assert_eq!(
            found[0].2,
            vec![
                ("a".to_owned(), "[1, {\"b\": null}]".to_owned()),
                ("cA".to_owned(), "\"x\\\"y\"".to_owned())
            ]
        );
        assert_eq!((found[1].0, found[1].1.as_str()), (Kind::Number, "2.5e-3"));
        assert_eq!((found[3].0, found[3].1.as_str()), (Kind::Bool, "true"));
        assert!(elements("[]").unwrap().is_empty());
    }

    #[test]
    fn agrees_with_serde_json_on_what_is_valid() {
        let cases = [
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
        ];
        for case in cases {
            let ours = elements(case).is_ok();
            let serde = serde_json::from_str::<Vec<serde_json::Value>>(case).is_ok();
            assert_eq!(ours, serde, "{case}");
        }
        let deep = format!("[{}{}]", "[".repeat(200), "]".repeat(200));
        assert!(
            elements(&deep)
                .unwrap_err()
                .describe(&deep)
                .starts_with("recursion limit exceeded")
        );
    }

    #[test]
    fn errors_name_the_place_like_serde_json() {
        for case in [
            "[{\"id\": ",
            "[\n  {\"id\": 1 \"x\"}]",
            "[1,]",
            "[tru]",
            "[\"a\\q\"]",
            "[1] x",
            "[{1:2}]",
            "[-a]",
        ] {
            let ours = elements(case).unwrap_err().describe(case);
            let serde = serde_json::from_str::<Vec<serde_json::Value>>(case)
                .unwrap_err()
                .to_string();
            assert_eq!(ours, serde, "{case}");
        }
    }

    #[test]
    fn long_strings_with_specials_anywhere() {
        for at in 0..20 {
            let mut text = "abcdefghijklmnopqrst".to_owned();
            text.insert_str(at, "\\\"");
            let body = format!("[\"{text}\"]");
            let found = elements(&body).unwrap();
            assert_eq!(found[0].1, format!("\"{text}\""));
            let broken = format!("[\"{}\u{1}{}\"]", &text[..at], &text[at..]);
            assert!(elements(&broken).is_err(), "{broken:?}");
        }
    }
}
