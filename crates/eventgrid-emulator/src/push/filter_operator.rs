//! The 19 operators of advanced filters, named as the service names them in `operatorType`.

use std::fmt;
use std::str::FromStr;

/// The operator of an [`AdvancedFilter`](crate::AdvancedFilter), named as in the service's `operatorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterOperator {
    /// The number equals one of `values`.
    NumberIn,
    /// The number equals none of `values` (a missing key matches).
    NumberNotIn,
    /// The number is less than `value`.
    NumberLessThan,
    /// The number is greater than `value`.
    NumberGreaterThan,
    /// The number is less than or equal to `value`.
    NumberLessThanOrEquals,
    /// The number is greater than or equal to `value`.
    NumberGreaterThanOrEquals,
    /// The number lies in one of the `[low, high]` pairs of `values` (bounds included).
    NumberInRange,
    /// The number lies in none of the `[low, high]` pairs of `values`.
    NumberNotInRange,
    /// The boolean equals `value`.
    BoolEquals,
    /// The string contains one of `values`.
    StringContains,
    /// The string contains none of `values`.
    StringNotContains,
    /// The string begins with one of `values`.
    StringBeginsWith,
    /// The string begins with none of `values`.
    StringNotBeginsWith,
    /// The string ends with one of `values`.
    StringEndsWith,
    /// The string ends with none of `values`.
    StringNotEndsWith,
    /// The string equals one of `values`.
    StringIn,
    /// The string equals none of `values` (a missing key matches).
    StringNotIn,
    /// The key is missing or null.
    IsNullOrUndefined,
    /// The key is present and not null.
    IsNotNull,
}

impl FilterOperator {
    /// Every operator, in the service's documentation order.
    pub const ALL: [FilterOperator; 19] = [
        Self::NumberIn,
        Self::NumberNotIn,
        Self::NumberLessThan,
        Self::NumberGreaterThan,
        Self::NumberLessThanOrEquals,
        Self::NumberGreaterThanOrEquals,
        Self::NumberInRange,
        Self::NumberNotInRange,
        Self::BoolEquals,
        Self::StringContains,
        Self::StringNotContains,
        Self::StringBeginsWith,
        Self::StringNotBeginsWith,
        Self::StringEndsWith,
        Self::StringNotEndsWith,
        Self::StringIn,
        Self::StringNotIn,
        Self::IsNullOrUndefined,
        Self::IsNotNull,
    ];

    /// The name used in `operatorType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NumberIn => "NumberIn",
            Self::NumberNotIn => "NumberNotIn",
            Self::NumberLessThan => "NumberLessThan",
            Self::NumberGreaterThan => "NumberGreaterThan",
            Self::NumberLessThanOrEquals => "NumberLessThanOrEquals",
            Self::NumberGreaterThanOrEquals => "NumberGreaterThanOrEquals",
            Self::NumberInRange => "NumberInRange",
            Self::NumberNotInRange => "NumberNotInRange",
            Self::BoolEquals => "BoolEquals",
            Self::StringContains => "StringContains",
            Self::StringNotContains => "StringNotContains",
            Self::StringBeginsWith => "StringBeginsWith",
            Self::StringNotBeginsWith => "StringNotBeginsWith",
            Self::StringEndsWith => "StringEndsWith",
            Self::StringNotEndsWith => "StringNotEndsWith",
            Self::StringIn => "StringIn",
            Self::StringNotIn => "StringNotIn",
            Self::IsNullOrUndefined => "IsNullOrUndefined",
            Self::IsNotNull => "IsNotNull",
        }
    }
}

impl fmt::Display for FilterOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FilterOperator {
    type Err = String;

    /// Case-insensitive, as the service reads `operatorType`.
    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|operator| operator.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown advanced filter operator `{text}`"))
    }
}
