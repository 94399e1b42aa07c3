//! Advanced filters: `{operatorType, key, value | values}` and their 19 operators, evaluated with
//! the service's semantics (strings compared case-insensitively, values of one filter ORed, a
//! missing key failing every operator but `NumberNotIn`, `StringNotIn` and
//! `IsNullOrUndefined`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::filter_operator::FilterOperator;

/// Most values one advanced filter may list (the service's limit).
pub const MAX_FILTER_VALUES: usize = 25;
/// Longest string value of an advanced filter, in characters (the service's limit).
pub const MAX_FILTER_STRING_CHARS: usize = 512;

/// What an operator compares with.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    None,
    Number(f64),
    Numbers(Vec<f64>),
    Ranges(Vec<(f64, f64)>),
    Bool(bool),
    /// Lowercased once, since every string comparison ignores case.
    Strings(Vec<String>),
}

/// One advanced filter of an event subscription, written as the service writes it:
///
/// ```
/// use eventgrid_emulator::{AdvancedFilter, FilterOperator};
///
/// let filter: AdvancedFilter = serde_json::from_value(serde_json::json!(
///     {"operatorType": "NumberInRange", "key": "data.total", "values": [[10, 20]]}
/// )).unwrap();
/// assert_eq!(filter.operator(), FilterOperator::NumberInRange);
/// assert_eq!(filter.key(), "data.total");
/// assert!(serde_json::from_value::<AdvancedFilter>(serde_json::json!(
///     {"operatorType": "NumberIn", "key": "data.total", "values": ["ten"]}
/// )).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireFilter", into = "WireFilter")]
pub struct AdvancedFilter {
    operator: FilterOperator,
    key: String,
    operand: Operand,
    /// The values as given (for serialization and error messages).
    given: Value,
}

/// The JSON shape: `operatorType`, `key`, and `value` or `values` by operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFilter {
    operator_type: String,
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<Value>,
}

impl TryFrom<WireFilter> for AdvancedFilter {
    type Error = String;

    fn try_from(wire: WireFilter) -> Result<Self, String> {
        let operator: FilterOperator = wire.operator_type.parse()?;
        AdvancedFilter::new(operator, wire.key, wire.value.or(wire.values))
    }
}

impl From<AdvancedFilter> for WireFilter {
    fn from(filter: AdvancedFilter) -> Self {
        let given = (!filter.given.is_null()).then_some(filter.given);
        let single = matches!(filter.operand, Operand::Number(_) | Operand::Bool(_));
        WireFilter {
            operator_type: filter.operator.as_str().to_owned(),
            key: filter.key,
            value: if single { given.clone() } else { None },
            values: if single { None } else { given },
        }
    }
}

impl AdvancedFilter {
    /// A filter from its parts; `operand` is the JSON of `value` (a number for the four
    /// comparisons, a boolean for `BoolEquals`) or `values` (an array of numbers, strings or
    /// `[low, high]` pairs), and `None` for `IsNullOrUndefined` and `IsNotNull`.
    ///
    /// Fails, naming the cause, on an empty key, a value of the wrong type, more than
    /// [`MAX_FILTER_VALUES`] values or a string longer than [`MAX_FILTER_STRING_CHARS`].
    pub fn new(
        operator: FilterOperator,
        key: impl Into<String>,
        operand: Option<Value>,
    ) -> Result<Self, String> {
        use FilterOperator::*;
        let key = key.into();
        let context = |reason: String| format!("advanced filter {operator} on `{key}`: {reason}");
        if key.trim().is_empty() {
            return Err(format!("advanced filter {operator}: the key is empty"));
        }
        if key.chars().count() > MAX_FILTER_STRING_CHARS {
            return Err(context(format!(
                "the key is longer than {MAX_FILTER_STRING_CHARS} characters"
            )));
        }
        let given = operand.clone().unwrap_or(Value::Null);
        let operand = match operator {
            IsNullOrUndefined | IsNotNull => Operand::None,
            NumberLessThan
            | NumberGreaterThan
            | NumberLessThanOrEquals
            | NumberGreaterThanOrEquals => Operand::Number(
                single(operand)
                    .as_ref()
                    .and_then(Value::as_f64)
                    .ok_or_else(|| context("`value` must be a number".to_owned()))?,
            ),
            BoolEquals => Operand::Bool(
                single(operand)
                    .as_ref()
                    .and_then(Value::as_bool)
                    .ok_or_else(|| context("`value` must be true or false".to_owned()))?,
            ),
            NumberIn | NumberNotIn => Operand::Numbers(
                list(operand)
                    .map_err(context)?
                    .iter()
                    .map(|value| {
                        value
                            .as_f64()
                            .ok_or_else(|| context(format!("{value} is not a number")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            NumberInRange | NumberNotInRange => Operand::Ranges(
                list(operand)
                    .map_err(context)?
                    .iter()
                    .map(|pair| {
                        range(pair).ok_or_else(|| {
                            context(format!(
                                "{pair} is not a [low, high] pair of numbers with low <= high"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            StringContains | StringNotContains | StringBeginsWith | StringNotBeginsWith
            | StringEndsWith | StringNotEndsWith | StringIn | StringNotIn => Operand::Strings(
                list(operand)
                    .map_err(context)?
                    .iter()
                    .map(|value| match value.as_str() {
                        Some(text) if text.chars().count() > MAX_FILTER_STRING_CHARS => {
                            Err(context(format!(
                                "a value is longer than {MAX_FILTER_STRING_CHARS} characters"
                            )))
                        }
                        Some(text) => Ok(text.to_lowercase()),
                        None => Err(context(format!("{value} is not a string"))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Self {
            operator,
            key,
            operand,
            given,
        })
    }

    /// The operator.
    pub fn operator(&self) -> FilterOperator {
        self.operator
    }

    /// The key: an envelope field (`Subject`, `type`, ...) or a dotted path into `data`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the value found at the key (`None` when the key is missing) passes. With
    /// `arrays` (`enableAdvancedFilteringOnArrays`), an array value passes when its elements
    /// do, as the service evaluates arrays; without, an array is never a match for a positive
    /// operator.
    pub(crate) fn matches(&self, found: Option<&Value>, arrays: bool) -> bool {
        use FilterOperator::*;
        let found = found.filter(|value| !value.is_null());
        let Some(found) = found else {
            return matches!(self.operator, NumberNotIn | StringNotIn | IsNullOrUndefined);
        };
        let candidates: &[Value] = match found {
            Value::Array(elements) if arrays => elements,
            other => std::slice::from_ref(other),
        };
        let numbers = || candidates.iter().filter_map(Value::as_f64);
        let strings = || candidates.iter().filter_map(comparable_text);
        match (&self.operator, &self.operand) {
            (IsNullOrUndefined, _) => false,
            (IsNotNull, _) => true,
            (NumberIn, Operand::Numbers(values)) => numbers().any(|n| values.contains(&n)),
            (NumberNotIn, Operand::Numbers(values)) => !numbers().any(|n| values.contains(&n)),
            (NumberLessThan, Operand::Number(value)) => numbers().any(|n| n < *value),
            (NumberGreaterThan, Operand::Number(value)) => numbers().any(|n| n > *value),
            (NumberLessThanOrEquals, Operand::Number(value)) => numbers().any(|n| n <= *value),
            (NumberGreaterThanOrEquals, Operand::Number(value)) => numbers().any(|n| n >= *value),
            (NumberInRange, Operand::Ranges(ranges)) => numbers().any(|n| in_any(ranges, n)),
            (NumberNotInRange, Operand::Ranges(ranges)) => !numbers().any(|n| in_any(ranges, n)),
            (BoolEquals, Operand::Bool(value)) => candidates
                .iter()
                .any(|candidate| candidate.as_bool() == Some(*value)),
            (StringContains, Operand::Strings(values)) => {
                any_pair(strings(), values, |s, v| s.contains(v))
            }
            (StringNotContains, Operand::Strings(values)) => {
                !any_pair(strings(), values, |s, v| s.contains(v))
            }
            (StringBeginsWith, Operand::Strings(values)) => {
                any_pair(strings(), values, |s, v| s.starts_with(v))
            }
            (StringNotBeginsWith, Operand::Strings(values)) => {
                !any_pair(strings(), values, |s, v| s.starts_with(v))
            }
            (StringEndsWith, Operand::Strings(values)) => {
                any_pair(strings(), values, |s, v| s.ends_with(v))
            }
            (StringNotEndsWith, Operand::Strings(values)) => {
                !any_pair(strings(), values, |s, v| s.ends_with(v))
            }
            (StringIn, Operand::Strings(values)) => any_pair(strings(), values, |s, v| s == v),
            (StringNotIn, Operand::Strings(values)) => !any_pair(strings(), values, |s, v| s == v),
            // `new` pairs every operator with its operand.
            _ => false,
        }
    }
}

/// `value` given alone, or as an array of one (some tools write `values: [5]`).
fn single(operand: Option<Value>) -> Option<Value> {
    match operand {
        Some(Value::Array(mut values)) if values.len() == 1 => values.pop(),
        other => other,
    }
}

/// The `values` array, within the service's limit.
fn list(operand: Option<Value>) -> Result<Vec<Value>, String> {
    match operand {
        Some(Value::Array(values)) if values.is_empty() => Err("`values` is empty".to_owned()),
        Some(Value::Array(values)) if values.len() > MAX_FILTER_VALUES => Err(format!(
            "{} values; at most {MAX_FILTER_VALUES} are allowed",
            values.len()
        )),
        Some(Value::Array(values)) => Ok(values),
        Some(other) => Err(format!("`values` must be an array, not {other}")),
        None => Err("`values` is missing".to_owned()),
    }
}

fn range(pair: &Value) -> Option<(f64, f64)> {
    match pair.as_array()?.as_slice() {
        [low, high] => {
            let (low, high) = (low.as_f64()?, high.as_f64()?);
            (low <= high).then_some((low, high))
        }
        _ => None,
    }
}

fn in_any(ranges: &[(f64, f64)], number: f64) -> bool {
    ranges
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&number))
}

/// The lowercased text string operators compare: strings, and numbers and booleans as written.
fn comparable_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.to_lowercase()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn any_pair(
    mut texts: impl Iterator<Item = String>,
    values: &[String],
    test: impl Fn(&str, &str) -> bool,
) -> bool {
    texts.any(|text| values.iter().any(|value| test(&text, value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(operator: &str, operand: Value) -> AdvancedFilter {
        let mut wire = json!({"operatorType": operator, "key": "data.k"});
        if !operand.is_null() {
            let field = if operand.is_array() {
                "values"
            } else {
                "value"
            };
            wire[field] = operand;
        }
        serde_json::from_value(wire).unwrap_or_else(|error| panic!("{operator}: {error}"))
    }

    /// Whether `filter` passes each of `values` (Some) and a missing key (None).
    fn passes(filter: &AdvancedFilter, value: Option<Value>) -> bool {
        filter.matches(value.as_ref(), false)
    }

    #[test]
    fn number_in_and_not_in() {
        let number_in = filter("NumberIn", json!([1, 2.5]));
        assert!(passes(&number_in, Some(json!(2.5))));
        assert!(passes(&number_in, Some(json!(1.0))));
        assert!(!passes(&number_in, Some(json!(3))));
        assert!(!passes(&number_in, Some(json!("1"))));
        assert!(!passes(&number_in, None));
        let not_in = filter("NumberNotIn", json!([1, 2]));
        assert!(passes(&not_in, Some(json!(3))));
        assert!(!passes(&not_in, Some(json!(2))));
        assert!(passes(&not_in, None), "a missing key matches NumberNotIn");
    }

    #[test]
    fn number_comparisons() {
        let cases = [
            ("NumberLessThan", [true, false, false]),
            ("NumberGreaterThan", [false, false, true]),
            ("NumberLessThanOrEquals", [true, true, false]),
            ("NumberGreaterThanOrEquals", [false, true, true]),
        ];
        for (operator, expected) in cases {
            let compare = filter(operator, json!(10));
            let got = [9, 10, 11].map(|n| passes(&compare, Some(json!(n))));
            assert_eq!(got, expected, "{operator}");
            assert!(!passes(&compare, None), "{operator} on a missing key");
            assert!(
                !passes(&compare, Some(json!("9"))),
                "{operator} on a string"
            );
        }
    }

    #[test]
    fn number_ranges_include_their_bounds() {
        let in_range = filter("NumberInRange", json!([[1, 3], [10, 20]]));
        for (value, expected) in [(1, true), (3, true), (5, false), (20, true), (21, false)] {
            assert_eq!(passes(&in_range, Some(json!(value))), expected, "{value}");
        }
        assert!(!passes(&in_range, None));
        let not_in_range = filter("NumberNotInRange", json!([[1, 3]]));
        assert!(passes(&not_in_range, Some(json!(4))));
        assert!(!passes(&not_in_range, Some(json!(2))));
        assert!(!passes(&not_in_range, None));
    }

    #[test]
    fn bool_equals() {
        let bool_equals = filter("BoolEquals", json!(true));
        assert!(passes(&bool_equals, Some(json!(true))));
        assert!(!passes(&bool_equals, Some(json!(false))));
        assert!(!passes(&bool_equals, Some(json!("true"))));
        assert!(!passes(&bool_equals, None));
    }

    #[test]
    fn string_operators_ignore_case() {
        let cases = [
            ("StringContains", "XBLUEX", true, "red"),
            ("StringBeginsWith", "Blue sky", true, "sky blue"),
            ("StringEndsWith", "deep BLUE", true, "blue moon"),
            ("StringIn", "Blue", true, "blues"),
        ];
        for (operator, hit, _, miss) in cases {
            let positive = filter(operator, json!(["blue", "green"]));
            assert!(passes(&positive, Some(json!(hit))), "{operator} {hit}");
            assert!(!passes(&positive, Some(json!(miss))), "{operator} {miss}");
            assert!(!passes(&positive, None), "{operator} on a missing key");
            let negative = filter(&operator.replace("String", "StringNot"), json!(["blue"]));
            assert!(!passes(&negative, Some(json!(hit))), "not {operator} {hit}");
            assert!(
                passes(&negative, Some(json!(miss))),
                "not {operator} {miss}"
            );
        }
    }

    #[test]
    fn a_missing_key_matches_only_the_not_in_operators_and_is_null() {
        assert!(passes(&filter("StringNotIn", json!(["a"])), None));
        for operator in [
            "StringNotContains",
            "StringNotBeginsWith",
            "StringNotEndsWith",
        ] {
            assert!(!passes(&filter(operator, json!(["a"])), None), "{operator}");
        }
        let is_null = filter("IsNullOrUndefined", Value::Null);
        assert!(passes(&is_null, None));
        assert!(passes(&is_null, Some(Value::Null)));
        assert!(!passes(&is_null, Some(json!(0))));
        let not_null = filter("IsNotNull", Value::Null);
        assert!(!passes(&not_null, None));
        assert!(!passes(&not_null, Some(Value::Null)));
        assert!(passes(&not_null, Some(json!(""))));
    }

    #[test]
    fn numbers_and_booleans_compare_as_text_for_string_operators() {
        assert!(passes(&filter("StringIn", json!(["42"])), Some(json!(42))));
        assert!(passes(
            &filter("StringIn", json!(["TRUE"])),
            Some(json!(true))
        ));
    }

    #[test]
    fn arrays_are_searched_only_when_enabled() {
        let tags = Some(json!(["red", "Blue"]));
        let string_in = filter("StringIn", json!(["blue"]));
        assert!(string_in.matches(tags.as_ref(), true));
        assert!(!string_in.matches(tags.as_ref(), false));
        let not_in = filter("StringNotIn", json!(["blue"]));
        assert!(!not_in.matches(tags.as_ref(), true), "one element is blue");
        let numbers = Some(json!([1, 50]));
        assert!(filter("NumberGreaterThan", json!(10)).matches(numbers.as_ref(), true));
        assert!(!filter("NumberGreaterThan", json!(100)).matches(numbers.as_ref(), true));
        assert!(filter("BoolEquals", json!(false)).matches(Some(&json!([true, false])), true));
    }

    #[test]
    fn every_operator_parses_case_insensitively_and_round_trips() {
        for operator in FilterOperator::ALL {
            let name = operator.as_str().to_ascii_lowercase();
            assert_eq!(name.parse::<FilterOperator>(), Ok(operator));
        }
        let original =
            json!({"operatorType": "NumberInRange", "key": "data.k", "values": [[1.0, 2.0]]});
        let filter: AdvancedFilter = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(serde_json::to_value(&filter).unwrap(), original);
        let single = json!({"operatorType": "BoolEquals", "key": "data.k", "value": true});
        let filter: AdvancedFilter = serde_json::from_value(single.clone()).unwrap();
        assert_eq!(serde_json::to_value(&filter).unwrap(), single);
    }

    #[test]
    fn limits_and_types_are_checked_with_the_cause() {
        let error = |wire: Value| {
            serde_json::from_value::<AdvancedFilter>(wire)
                .unwrap_err()
                .to_string()
        };
        let too_many: Vec<u32> = (0..26).collect();
        assert!(
            error(json!({"operatorType": "NumberIn", "key": "k", "values": too_many}))
                .contains("at most 25")
        );
        let long = "x".repeat(513);
        assert!(
            error(json!({"operatorType": "StringIn", "key": "k", "values": [long]}))
                .contains("longer than 512")
        );
        assert!(
            error(json!({"operatorType": "NumberLessThan", "key": "k", "value": "a"}))
                .contains("must be a number")
        );
        assert!(
            error(json!({"operatorType": "NumberInRange", "key": "k", "values": [[3, 1]]}))
                .contains("low <= high")
        );
        assert!(
            error(json!({"operatorType": "StringIn", "key": " ", "values": ["a"]}))
                .contains("key is empty")
        );
        assert!(
            error(json!({"operatorType": "StringLike", "key": "k", "values": ["a"]}))
                .contains("unknown advanced filter operator")
        );
        assert!(
            error(json!({"operatorType": "StringIn", "key": "k"})).contains("`values` is missing")
        );
    }
}
