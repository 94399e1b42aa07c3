//! Differential tests: the writer's output against `serde_json::to_vec` of the same values,
//! strings generated to hit every escape at every position of a word.

use std::collections::{BTreeMap, HashMap};

use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::{write_escaped_str, write_json};

/// A small deterministic generator (the tests must be reproducible without a dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A string mixing plain ASCII runs with every kind of character JSON treats apart.
    fn string(&mut self) -> String {
        const SPECIAL: [char; 14] = [
            '"', '\\', '\n', '\r', '\t', '\u{8}', '\u{c}', '\0', '\u{1f}', '\u{7f}', '/', 'é', '€',
            '𝄞',
        ];
        let len = self.below(40) as usize;
        (0..len)
            .map(|_| match self.below(10) {
                0..=5 => char::from(b'a' + self.below(26) as u8),
                6 => char::from(self.below(0x20) as u8),
                7 => SPECIAL[self.below(SPECIAL.len() as u64) as usize],
                8 => char::from_u32(0x80 + self.below(0x2000) as u32).unwrap_or('x'),
                _ => char::from(0x20 + self.below(0x60) as u8),
            })
            .collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        let kind = if depth == 0 {
            self.below(5)
        } else {
            self.below(7)
        };
        match kind {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => match self.below(3) {
                0 => Value::from(self.next() as i64 - (1 << 30)),
                1 => Value::from(u64::MAX - self.below(1000)),
                _ => Value::from(self.next() as f64 / 7.0 - 1e6),
            },
            3 | 4 => Value::String(self.string()),
            5 => Value::Array((0..self.below(5)).map(|_| self.value(depth - 1)).collect()),
            _ => Value::Object(
                (0..self.below(5))
                    .map(|_| (self.string(), self.value(depth - 1)))
                    .collect(),
            ),
        }
    }
}

fn ours<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = b"prefix".to_vec();
    write_json(&mut out, value).unwrap();
    out.split_off(6)
}

#[test]
fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
    let mut random = Lcg(7);
    for _ in 0..20_000 {
        let text = random.string();
        let mut out = Vec::new();
        write_escaped_str(&mut out, &text);
        assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
    }
    // Every byte value below 0x80 alone, and at each position of a 17-byte string.
    for byte in 0..0x80u8 {
        for at in 0..17 {
            let mut text = "x".repeat(17);
            text.replace_range(at..=at, char::from(byte).encode_utf8(&mut [0; 4]));
            let mut out = Vec::new();
            write_escaped_str(&mut out, &text);
            assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
        }
    }
}

#[test]
fn arbitrary_json_values_are_written_byte_for_byte() {
    let mut random = Lcg(11);
    for _ in 0..3_000 {
        let value = random.value(4);
        assert_eq!(ours(&value), serde_json::to_vec(&value).unwrap(), "{value}");
    }
}

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(u8),
    Tuple(i32, String),
    Struct { side: f32, label: Option<String> },
}

#[derive(Serialize)]
struct Wrapper(Vec<Shape>);

#[derive(Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    North,
}

struct Bytes(&'static [u8]);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct Everything {
    shapes: Wrapper,
    empty: Vec<u8>,
    tuple: (char, bool, (), Option<u8>),
    bytes: Bytes,
    floats: [f64; 4],
    int_keys: BTreeMap<i64, &'static str>,
    bool_keys: BTreeMap<bool, u8>,
    char_keys: BTreeMap<char, u8>,
    variant_keys: BTreeMap<Key, u8>,
    big: (i128, u128),
}

#[test]
fn every_serde_shape_is_written_byte_for_byte() {
    let everything = Everything {
        shapes: Wrapper(vec![
            Shape::Unit,
            Shape::Newtype(7),
            Shape::Tuple(-3, "t\"ab".to_owned()),
            Shape::Struct {
                side: 1.5,
                label: None,
            },
        ]),
        empty: Vec::new(),
        tuple: ('"', true, (), Some(1)),
        bytes: Bytes(b"\x00\xff"),
        floats: [0.1, -0.0, f64::NAN, 1e300],
        int_keys: BTreeMap::from([(-1, "a"), (2, "b")]),
        bool_keys: BTreeMap::from([(true, 1)]),
        char_keys: BTreeMap::from([('\n', 1)]),
        variant_keys: BTreeMap::from([(Key::North, 1)]),
        big: (i128::MIN, u128::MAX),
    };
    assert_eq!(
        String::from_utf8(ours(&everything)).unwrap(),
        serde_json::to_string(&everything).unwrap()
    );
}

#[test]
fn raw_values_inside_the_data_are_written_verbatim() {
    #[derive(Serialize)]
    struct WithRaw {
        name: &'static str,
        raw: Box<RawValue>,
    }
    let value = WithRaw {
        name: "a\tb",
        raw: RawValue::from_string(r#"{ "kept" : [1, 2] }"#.to_owned()).unwrap(),
    };
    assert_eq!(ours(&value), serde_json::to_vec(&value).unwrap());
    assert!(
        String::from_utf8(ours(&value))
            .unwrap()
            .contains(r#"{ "kept" : [1, 2] }"#)
    );
}

#[test]
fn values_serde_json_refuses_are_refused() {
    let vec_keys = HashMap::from([(vec![1], 2)]);
    assert!(serde_json::to_vec(&vec_keys).is_err());
    let error = write_json(&mut Vec::new(), &vec_keys).unwrap_err();
    assert_eq!(error.to_string(), "key must be a string");
    let nan_keys = BTreeMap::from([(ordered(f64::NAN), 1)]);
    assert!(serde_json::to_vec(&nan_keys).is_err());
    assert!(write_json(&mut Vec::new(), &nan_keys).is_err());
}

/// An `f64` map key (serde has no `Ord` for floats).
#[derive(Serialize, PartialEq)]
#[serde(transparent)]
struct OrderedFloat(f64);

impl Eq for OrderedFloat {}

impl PartialOrd for OrderedFloat {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedFloat {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

fn ordered(value: f64) -> OrderedFloat {
    OrderedFloat(value)
}
