//! Reading JSON Lines one line at a time, counting lines, so a file of any size is read in
//! constant memory and every complaint can name its line. A line is one event, so no line may
//! be longer than the per-event limit: reading stops there instead of buffering the rest.

use std::io::{self, BufRead, Read};

/// The lines of a JSON Lines stream; blank lines are skipped (but counted).
#[derive(Debug)]
pub struct JsonLines<R> {
    reader: R,
    /// The longest line accepted, line break excluded.
    max_line_bytes: usize,
    line_number: usize,
    bytes_read: u64,
    buffer: Vec<u8>,
    /// The last line returned, in the buffer's memory (taken back by the next call).
    line: String,
    /// Non-blank lines returned so far.
    returned: usize,
    /// Where blank lines shift the line numbers: (index of the first non-blank line after
    /// them, blank lines before it in all). One entry per run of blank lines.
    shifts: Vec<(usize, usize)>,
}

/// A line that could not be read, with its number.
#[derive(Debug)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What went wrong.
    pub reason: String,
}

impl<R: BufRead> JsonLines<R> {
    /// Lines of `reader`, none longer than `max_line_bytes` (line break excluded).
    pub fn new(reader: R, max_line_bytes: usize) -> Self {
        Self {
            reader,
            max_line_bytes,
            line_number: 0,
            bytes_read: 0,
            buffer: Vec::with_capacity(4096),
            line: String::new(),
            returned: 0,
            shifts: Vec::new(),
        }
    }

    /// The next non-blank line (without its line break) and its 1-based number, or `None` at
    /// the end. The text borrows an internal buffer that the next call reuses.
    pub fn next_line(&mut self) -> Result<Option<(usize, &str)>, LineError> {
        self.buffer = std::mem::take(&mut self.line).into_bytes();
        let trimmed = loop {
            self.buffer.clear();
            // Room for the longest line, its `\r\n`, and one byte more to tell it is longer.
            let room = u64::try_from(self.max_line_bytes).map_or(u64::MAX, |max| max + 3);
            let read = (&mut self.reader)
                .take(room)
                .read_until(b'\n', &mut self.buffer)
                .map_err(|error| self.error_here(&error))?;
            if read == 0 {
                return Ok(None);
            }
            self.line_number += 1;
            self.bytes_read += read as u64;
            if line_length(&self.buffer) > self.max_line_bytes {
                return Err(LineError {
                    line: self.line_number,
                    reason: format!(
                        "the line is longer than the per-event limit of {} bytes (--max-event-bytes)",
                        self.max_line_bytes
                    ),
                });
            }
            // Checked as UTF-8 once: the buffer becomes the line's `String` and back.
            match String::from_utf8(std::mem::take(&mut self.buffer)) {
                Ok(text) if text.trim().is_empty() => self.buffer = text.into_bytes(),
                Ok(text) => {
                    let start = text.len() - text.trim_start().len();
                    let end = start + text.trim().len();
                    self.line = text;
                    break start..end;
                }
                Err(error) => {
                    let valid_up_to = error.utf8_error().valid_up_to();
                    self.buffer = error.into_bytes();
                    return Err(LineError {
                        line: self.line_number,
                        reason: format!("not UTF-8 (byte {})", valid_up_to + 1),
                    });
                }
            }
        };
        let blank_so_far = self.line_number - self.returned - 1;
        if blank_so_far != self.shifts.last().map_or(0, |&(_, blank)| blank) {
            self.shifts.push((self.returned, blank_so_far));
        }
        self.returned += 1;
        Ok(Some((self.line_number, &self.line[trimmed])))
    }

    /// The line number of the `index`-th non-blank line returned (0-based).
    pub fn line_of(&self, index: usize) -> usize {
        let shifts_before = self.shifts.partition_point(|&(first, _)| first <= index);
        let blank = match shifts_before {
            0 => 0,
            n => self.shifts[n - 1].1,
        };
        index + 1 + blank
    }

    /// Bytes consumed so far, line breaks included.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    fn error_here(&self, error: &io::Error) -> LineError {
        LineError {
            line: self.line_number + 1,
            reason: format!("could not read: {error}"),
        }
    }
}

/// The length of a line read with its break, without the break.
fn line_length(line: &[u8]) -> usize {
    let without_break = line.strip_suffix(b"\n").unwrap_or(line);
    without_break
        .strip_suffix(b"\r")
        .unwrap_or(without_break)
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Vec<Result<(usize, String), String>> {
        let mut lines = JsonLines::new(text, 64);
        let mut out = Vec::new();
        loop {
            match lines.next_line() {
                Ok(Some((n, line))) => out.push(Ok((n, line.to_owned()))),
                Ok(None) => break,
                Err(error) => {
                    out.push(Err(format!("{}: {}", error.line, error.reason)));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn numbers_lines_and_skips_blank_ones() {
        let lines = all(b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}");
        assert_eq!(
            lines,
            [
                Ok((1, "{\"a\":1}".to_owned())),
                Ok((4, "{\"b\":2}".to_owned())),
                Ok((5, "{\"c\":3}".to_owned())),
            ]
        );
    }

    #[test]
    fn maps_non_blank_lines_back_to_their_numbers() {
        let mut lines = JsonLines::new(&b"a\n\nb\nc\n\n\n\nd\n"[..], 64);
        while lines.next_line().unwrap().is_some() {}
        let numbers: Vec<usize> = (0..4).map(|index| lines.line_of(index)).collect();
        assert_eq!(numbers, [1, 3, 4, 8]);
    }

    #[test]
    fn counts_bytes_consumed() {
        let mut lines = JsonLines::new(&b"ab\ncd\n"[..], 64);
        lines.next_line().unwrap();
        assert_eq!(lines.bytes_read(), 3);
        lines.next_line().unwrap();
        assert!(lines.next_line().unwrap().is_none());
        assert_eq!(lines.bytes_read(), 6);
    }

    #[test]
    fn names_the_line_that_is_not_utf8() {
        let lines = all(b"{}\n{\"a\":\"\xff\"}\n");
        assert_eq!(lines[1], Err("2: not UTF-8 (byte 7)".to_owned()));
    }

    #[test]
    fn a_line_over_the_limit_is_named_and_not_read_whole() {
        let mut lines = JsonLines::new(&b"12345\r\n\n1234567890\n"[..], 6);
        assert_eq!(lines.next_line().unwrap(), Some((1, "12345")));
        let error = lines.next_line().unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error.reason.contains("limit of 6 bytes"),
            "{}",
            error.reason
        );
        // Endless input without a line break: only the limit's worth is buffered.
        let mut endless = JsonLines::new(io::BufReader::new(io::repeat(b' ')), 1000);
        assert_eq!(endless.next_line().unwrap_err().line, 1);
        assert!(
            endless.buffer.capacity() < 8192,
            "{}",
            endless.buffer.capacity()
        );
    }

    #[test]
    fn a_line_at_the_limit_is_read() {
        let mut lines = JsonLines::new(&b"123456\r\n123456"[..], 6);
        assert_eq!(lines.next_line().unwrap(), Some((1, "123456")));
        assert_eq!(lines.next_line().unwrap(), Some((2, "123456")));
        assert_eq!(lines.next_line().unwrap(), None);
    }
}
