//! Writing a caller's `Serialize` data as compact JSON, byte for byte what `serde_json` writes,
//! but escaping strings a word at a time: a run of eight bytes that needs no escape (no `"`,
//! `\` or control character, the common case) is checked in a few operations and copied with
//! the rest of its run at once, where `serde_json` looks up every byte in a table.
//!
//! Strings are all this writer does itself. Numbers are written by `serde_json` (so they are
//! the same digits), and anything `serde_json` treats specially (its `RawValue`, numbers of
//! arbitrary precision) makes the whole value go through `serde_json::to_writer` instead.

use serde::Serialize;
use serde::ser::{self, Error as _, Impossible};

type Result<T, E = serde_json::Error> = std::result::Result<T, E>;

/// The names `serde_json` gives the structs it writes verbatim (`RawValue`, and `Number` with
/// its `arbitrary_precision` feature).
const VERBATIM_STRUCTS: [&str; 2] = [
    "$serde_json::private::RawValue",
    "$serde_json::private::Number",
];
/// The error that sends a value back to `serde_json` (it never leaves this module).
const LEAVE_TO_SERDE_JSON: &str = "eventgrid: a value serde_json writes verbatim";

/// Appends `value` as compact JSON to `out`: the bytes `serde_json::to_writer` would append.
/// On error `out` may hold part of the value.
pub(crate) fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    let mark = out.len();
    match value.serialize(JsonWriter { out: &mut *out }) {
        Err(error) if error.to_string() == LEAVE_TO_SERDE_JSON => {
            out.truncate(mark);
            serde_json::to_writer(out, value)
        }
        written => written,
    }
}

/// Bytes with any of these set somewhere in a word of bytes...
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
/// ...after subtracting one from each byte, where `!word` also has it: a zero byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// Whether any of the eight bytes in `word` needs an escape in a JSON string: a control
/// character (below 0x20), `"` or `\`. Exact for the word as a whole (the classic "has a byte
/// less than n / has a zero byte" tests); bytes of 0x80 and above never need one.
fn needs_escape(word: u64) -> bool {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let has_quote = quote.wrapping_sub(ONES) & !quote;
    let has_backslash = backslash.wrapping_sub(ONES) & !backslash;
    (below_space | has_quote | has_backslash) & HIGH_BITS != 0
}

/// The escape `serde_json` writes for `byte`, if it needs one.
fn escape_of(byte: u8) -> Option<&'static [u8]> {
    const CONTROL: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006",
        b"\\u0007", b"\\b", b"\\t", b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f",
        b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013", b"\\u0014", b"\\u0015", b"\\u0016",
        b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c", b"\\u001d",
        b"\\u001e", b"\\u001f",
    ];
    match byte {
        b'"' => Some(b"\\\""),
        b'\\' => Some(b"\\\\"),
        0..=0x1f => CONTROL.get(usize::from(byte)).copied(),
        _ => None,
    }
}

/// Appends `text` as a quoted JSON string, escaped exactly as `serde_json` escapes it.
pub(crate) fn write_escaped_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // The start of the run of bytes not yet copied, all needing no escape.
    let mut run = 0;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in words.by_ref() {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        if needs_escape(word) {
            for (offset, &byte) in chunk.iter().enumerate() {
                if let Some(escape) = escape_of(byte) {
                    out.extend_from_slice(&bytes[run..at + offset]);
                    out.extend_from_slice(escape);
                    run = at + offset + 1;
                }
            }
        }
        at += 8;
    }
    for (offset, &byte) in words.remainder().iter().enumerate() {
        if let Some(escape) = escape_of(byte) {
            out.extend_from_slice(&bytes[run..at + offset]);
            out.extend_from_slice(escape);
            run = at + offset + 1;
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Appends a scalar as `serde_json` writes it (numbers: the same digits).
fn write_scalar<T: Serialize>(out: &mut Vec<u8>, value: T) -> Result<()> {
    serde_json::to_writer(out, &value)
}

/// The serializer: compact JSON into `out`.
struct JsonWriter<'o> {
    out: &'o mut Vec<u8>,
}

/// An array or object being written: whether an element was written yet, and, for enum
/// variants written as `{"Variant":...}`, the closing brace still owed.
struct Compound<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
    closing: &'static [u8],
}

impl<'o> Compound<'o> {
    fn open(out: &'o mut Vec<u8>, opening: &[u8], closing: &'static [u8]) -> Self {
        out.extend_from_slice(opening);
        Self {
            out,
            first: true,
            closing,
        }
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.separate();
        value.serialize(JsonWriter {
            out: &mut *self.out,
        })
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<()> {
        self.separate();
        write_escaped_str(self.out, key);
        self.out.push(b':');
        value.serialize(JsonWriter {
            out: &mut *self.out,
        })
    }

    fn close(self) -> Result<()> {
        self.out.extend_from_slice(self.closing);
        Ok(())
    }
}

/// Opens `{"variant":` before a variant's content.
fn open_variant(out: &mut Vec<u8>, variant: &str) {
    out.push(b'{');
    write_escaped_str(out, variant);
    out.push(b':');
}

impl<'o> ser::Serializer for JsonWriter<'o> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'o>;
    type SerializeTuple = Compound<'o>;
    type SerializeTupleStruct = Compound<'o>;
    type SerializeTupleVariant = Compound<'o>;
    type SerializeMap = Compound<'o>;
    type SerializeStruct = Compound<'o>;
    type SerializeStructVariant = Compound<'o>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        write_scalar(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<()> {
        write_escaped_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        write_escaped_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let mut array = Compound::open(self.out, b"[", b"]");
        for byte in v {
            array.element(byte)?;
        }
        array.close()
    }
    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        open_variant(self.out, variant);
        value.serialize(JsonWriter {
            out: &mut *self.out,
        })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'o>> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'o>> {
        open_variant(self.out, variant);
        Ok(Compound::open(self.out, b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'o>> {
        Ok(Compound::open(self.out, b"{", b"}"))
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'o>> {
        if VERBATIM_STRUCTS.contains(&name) {
            return Err(serde_json::Error::custom(LEAVE_TO_SERDE_JSON));
        }
        Ok(Compound::open(self.out, b"{", b"}"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'o>> {
        open_variant(self.out, variant);
        Ok(Compound::open(self.out, b"{", b"}}"))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.separate();
        key.serialize(MapKey {
            out: &mut *self.out,
        })
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.out.push(b':');
        value.serialize(JsonWriter {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }
    fn end(self) -> Result<()> {
        self.close()
    }
}

/// A map key, written as `serde_json` writes keys: strings as strings, numbers and booleans
/// quoted, anything else refused.
struct MapKey<'o> {
    out: &'o mut Vec<u8>,
}

impl MapKey<'_> {
    fn quoted<T: Serialize>(self, value: T) -> Result<()> {
        self.out.push(b'"');
        write_scalar(self.out, value)?;
        self.out.push(b'"');
        Ok(())
    }
}

fn key_must_be_a_string() -> serde_json::Error {
    serde_json::Error::custom("key must be a string")
}

fn float_key_must_be_finite() -> serde_json::Error {
    serde_json::Error::custom("float key must be finite (got NaN or +/-inf)")
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Impossible<(), serde_json::Error>;
    type SerializeStruct = Impossible<(), serde_json::Error>;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_str(self, v: &str) -> Result<()> {
        write_escaped_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_bool(self, v: bool) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.quoted(v)
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        if !v.is_finite() {
            return Err(float_key_must_be_finite());
        }
        self.quoted(v)
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        if !v.is_finite() {
            return Err(float_key_must_be_finite());
        }
        self.quoted(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
#[path = "json_writer_tests.rs"]
mod tests;
