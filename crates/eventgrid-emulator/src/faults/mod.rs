//! Fault injection rules: what a topic does wrong, and to which requests.

pub(crate) mod slot;
pub(crate) mod state;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A set of fault rules for one topic, with the seed of its random draws.
///
/// Rules combine. For each request, after the body has been read:
/// 1. every [`FaultEffect::Latency`] rule that applies adds its delay;
/// 2. the first *outcome* rule (a status or a dropped connection) limited to the next N requests
///    that still has requests left answers;
/// 3. otherwise one random number in `[0, 1)` is drawn and the fractional outcome rules share
///    that interval in order (so 20% 503 plus 5% 429 gives 503 to 20% and 429 to another 5%);
///    a rule with [`FaultScope::Always`] counts as the fraction 1.
///
/// The same seed and the same sequence of requests give the same faults.
///
/// ```
/// use std::time::Duration;
/// use eventgrid_emulator::{FaultRule, FaultSpec};
///
/// let soak = FaultSpec::new()
///     .seed(7)
///     .rule(FaultRule::status(503).fraction(0.20))
///     .rule(FaultRule::status(429).retry_after_secs(1).fraction(0.05))
///     .rule(FaultRule::drop_connection().fraction(0.05))
///     .rule(FaultRule::latency(Duration::from_millis(5)));
/// assert_eq!(soak.rules().len(), 4);
///
/// // The same rule as the command line and the HTTP API write it.
/// let rule: FaultRule = "status=429,retry-after=1,fraction=0.05".parse().unwrap();
/// assert_eq!(rule, FaultRule::status(429).retry_after_secs(1).fraction(0.05));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    rules: Vec<FaultRule>,
}

impl FaultSpec {
    /// No rules, seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same rules with another seed for the random draws (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same rules plus `rule`.
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// The seed of the random draws.
    pub fn seed_value(&self) -> u64 {
        self.seed
    }

    /// Checks statuses and fractions: statuses 200 to 599, fractions in `[0, 1]`, and the
    /// fractional outcome rules adding up to at most 1.
    pub fn validate(&self) -> Result<(), Error> {
        let mut outcome_share = 0.0;
        for rule in &self.rules {
            if let FaultEffect::Status { status, .. } = rule.effect
                && !(200..=599).contains(&status)
            {
                return Err(Error::InvalidFault(format!(
                    "status {status} is not between 200 and 599"
                )));
            }
            match rule.scope {
                FaultScope::Fraction(share) if !(0.0..=1.0).contains(&share) => {
                    return Err(Error::InvalidFault(format!(
                        "fraction {share} is not between 0 and 1"
                    )));
                }
                FaultScope::Fraction(share) if rule.effect.is_outcome() => outcome_share += share,
                FaultScope::Always if rule.effect.is_outcome() => outcome_share += 1.0,
                _ => {}
            }
        }
        if outcome_share > 1.0 + 1e-9 {
            return Err(Error::InvalidFault(format!(
                "the fractions of the status and drop rules add up to {outcome_share}, more than 1"
            )));
        }
        Ok(())
    }
}

impl From<FaultRule> for FaultSpec {
    fn from(rule: FaultRule) -> Self {
        FaultSpec::new().rule(rule)
    }
}

/// What a fault rule does to a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultEffect {
    /// Answer with this status (and the service's error body) instead of processing the request.
    Status {
        /// The HTTP status, 200 to 599.
        status: u16,
        /// The retry hint to send with it, if any.
        retry_after: Option<RetryAfter>,
    },
    /// Wait this long before processing (or faulting) the request.
    Latency(Duration),
    /// Read the request, then close the connection without answering.
    DropConnection,
}

impl FaultEffect {
    /// Whether the effect replaces the answer (status or drop) rather than delaying it.
    fn is_outcome(&self) -> bool {
        !matches!(self, FaultEffect::Latency(_))
    }
}

/// The retry hint sent with an injected status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: N` (whole seconds).
    Seconds(u64),
    /// `retry-after-ms: N`, which the Azure SDKs honour too, for tests that need short delays.
    Milliseconds(u64),
}

/// Which requests a fault rule applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultScope {
    /// Every request (the default).
    Always,
    /// The next N requests, then never again.
    Next(u64),
    /// Each request with this probability (0 to 1), drawn from the seeded generator.
    Fraction(f64),
}

/// One fault rule: an effect and the requests it applies to. See [`FaultSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RuleFields", into = "RuleFields")]
pub struct FaultRule {
    /// What the rule does.
    pub effect: FaultEffect,
    /// Which requests it does it to.
    pub scope: FaultScope,
}

impl FaultRule {
    /// Answer with `status` (applies to every request until scoped with `next` or `fraction`).
    pub fn status(status: u16) -> Self {
        Self::always(FaultEffect::Status {
            status,
            retry_after: None,
        })
    }

    /// Delay requests by `delay`.
    pub fn latency(delay: Duration) -> Self {
        Self::always(FaultEffect::Latency(delay))
    }

    /// Close the connection without an answer after reading the request.
    pub fn drop_connection() -> Self {
        Self::always(FaultEffect::DropConnection)
    }

    /// Send `Retry-After: seconds` with the status (no effect on other rules).
    pub fn retry_after_secs(self, seconds: u64) -> Self {
        self.with_retry_after(RetryAfter::Seconds(seconds))
    }

    /// Send `retry-after-ms: milliseconds` with the status (no effect on other rules).
    pub fn retry_after_ms(self, milliseconds: u64) -> Self {
        self.with_retry_after(RetryAfter::Milliseconds(milliseconds))
    }

    /// Apply to the next `count` requests only.
    pub fn next(mut self, count: u64) -> Self {
        self.scope = FaultScope::Next(count);
        self
    }

    /// Apply to each request with probability `share` (0 to 1).
    pub fn fraction(mut self, share: f64) -> Self {
        self.scope = FaultScope::Fraction(share);
        self
    }

    fn always(effect: FaultEffect) -> Self {
        Self {
            effect,
            scope: FaultScope::Always,
        }
    }

    fn with_retry_after(mut self, hint: RetryAfter) -> Self {
        if let FaultEffect::Status { retry_after, .. } = &mut self.effect {
            *retry_after = Some(hint);
        }
        self
    }
}

/// The flat form of a rule used by configuration files and the HTTP API, e.g.
/// `{"status": 429, "retry_after": 1, "fraction": 0.05}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "retry-after"
    )]
    retry_after: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        alias = "retry-after-ms"
    )]
    retry_after_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "latency-ms")]
    latency_ms: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "is_false",
        alias = "drop",
        alias = "drop-connection"
    )]
    drop_connection: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fraction: Option<f64>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl TryFrom<RuleFields> for FaultRule {
    type Error = Error;

    fn try_from(fields: RuleFields) -> Result<Self, Error> {
        let effects = usize::from(fields.status.is_some())
            + usize::from(fields.latency_ms.is_some())
            + usize::from(fields.drop_connection);
        if effects != 1 {
            return Err(Error::InvalidFault(
                "a rule has exactly one of `status`, `latency_ms` and `drop_connection`".to_owned(),
            ));
        }
        if fields.status.is_none()
            && (fields.retry_after.is_some() || fields.retry_after_ms.is_some())
        {
            return Err(Error::InvalidFault(
                "`retry_after` and `retry_after_ms` go with `status`".to_owned(),
            ));
        }
        let retry_after = match (fields.retry_after, fields.retry_after_ms) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidFault(
                    "give `retry_after` (seconds) or `retry_after_ms`, not both".to_owned(),
                ));
            }
            (Some(seconds), None) => Some(RetryAfter::Seconds(seconds)),
            (None, Some(millis)) => Some(RetryAfter::Milliseconds(millis)),
            (None, None) => None,
        };
        let effect = match (fields.status, fields.latency_ms) {
            (Some(status), _) => FaultEffect::Status {
                status,
                retry_after,
            },
            (None, Some(millis)) => FaultEffect::Latency(Duration::from_millis(millis)),
            (None, None) => FaultEffect::DropConnection,
        };
        let scope = match (fields.next, fields.fraction) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidFault(
                    "give `next` or `fraction`, not both".to_owned(),
                ));
            }
            (Some(count), None) => FaultScope::Next(count),
            (None, Some(share)) => FaultScope::Fraction(share),
            (None, None) => FaultScope::Always,
        };
        let rule = FaultRule { effect, scope };
        FaultSpec::from(rule).validate()?;
        Ok(rule)
    }
}

impl From<FaultRule> for RuleFields {
    fn from(rule: FaultRule) -> Self {
        let mut fields = RuleFields::default();
        match rule.effect {
            FaultEffect::Status {
                status,
                retry_after,
            } => {
                fields.status = Some(status);
                match retry_after {
                    Some(RetryAfter::Seconds(seconds)) => fields.retry_after = Some(seconds),
                    Some(RetryAfter::Milliseconds(millis)) => fields.retry_after_ms = Some(millis),
                    None => {}
                }
            }
            FaultEffect::Latency(delay) => {
                fields.latency_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
            }
            FaultEffect::DropConnection => fields.drop_connection = true,
        }
        match rule.scope {
            FaultScope::Always => {}
            FaultScope::Next(count) => fields.next = Some(count),
            FaultScope::Fraction(share) => fields.fraction = Some(share),
        }
        fields
    }
}

/// Parses the command-line form: comma-separated `key=value` items with the keys of the JSON
/// form (`-` or `_`), e.g. `status=503,next=3`, `status=429,retry-after-ms=50,fraction=0.1`,
/// `drop,fraction=0.05` or `latency-ms=200`.
impl FromStr for FaultRule {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let mut fields = RuleFields::default();
        for item in text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let (key, value) = item.split_once('=').unwrap_or((item, ""));
            let key = key.trim().replace('-', "_");
            let number = || {
                value.trim().parse::<u64>().map_err(|_| {
                    Error::InvalidFault(format!("`{key}` needs a whole number, not `{value}`"))
                })
            };
            match key.as_str() {
                "status" => {
                    let status = number()?;
                    let status = u16::try_from(status)
                        .map_err(|_| Error::InvalidFault(format!("status {status} is too big")))?;
                    fields.status = Some(status);
                }
                "retry_after" => fields.retry_after = Some(number()?),
                "retry_after_ms" => fields.retry_after_ms = Some(number()?),
                "latency_ms" => fields.latency_ms = Some(number()?),
                "drop" | "drop_connection" => fields.drop_connection = true,
                "next" => fields.next = Some(number()?),
                "fraction" => {
                    let share = value.trim().parse::<f64>().map_err(|_| {
                        Error::InvalidFault(format!("`fraction` needs a number, not `{value}`"))
                    })?;
                    fields.fraction = Some(share);
                }
                _ => {
                    return Err(Error::InvalidFault(format!(
                        "unknown item `{key}` (expected status, retry-after, retry-after-ms, \
                         latency-ms, drop, next or fraction)"
                    )));
                }
            }
        }
        FaultRule::try_from(fields)
    }
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = RuleFields::from(*self);
        let mut items = Vec::new();
        if let Some(status) = fields.status {
            items.push(format!("status={status}"));
        }
        if let Some(seconds) = fields.retry_after {
            items.push(format!("retry-after={seconds}"));
        }
        if let Some(millis) = fields.retry_after_ms {
            items.push(format!("retry-after-ms={millis}"));
        }
        if let Some(millis) = fields.latency_ms {
            items.push(format!("latency-ms={millis}"));
        }
        if fields.drop_connection {
            items.push("drop".to_owned());
        }
        if let Some(count) = fields.next {
            items.push(format!("next={count}"));
        }
        if let Some(share) = fields.fraction {
            items.push(format!("fraction={share}"));
        }
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_json_and_builder_forms_agree() {
        let cases = [
            ("status=503,next=3", FaultRule::status(503).next(3)),
            (
                "status=429,retry-after-ms=50,fraction=0.5",
                FaultRule::status(429).retry_after_ms(50).fraction(0.5),
            ),
            (
                "drop,fraction=0.05",
                FaultRule::drop_connection().fraction(0.05),
            ),
            (
                "latency-ms=200",
                FaultRule::latency(Duration::from_millis(200)),
            ),
        ];
        for (text, rule) in cases {
            assert_eq!(text.parse::<FaultRule>().unwrap(), rule, "{text}");
            assert_eq!(rule.to_string().parse::<FaultRule>().unwrap(), rule);
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(
                serde_json::from_str::<FaultRule>(&json).unwrap(),
                rule,
                "{json}"
            );
        }
    }

    #[test]
    fn rejects_contradictions() {
        for bad in [
            "status=503,drop",
            "next=3",
            "latency-ms=5,retry-after=1",
            "status=503,next=1,fraction=0.5",
            "status=503,fraction=1.5",
            "status=99",
            "status=503,retry-after=1,retry-after-ms=5",
            "colour=blue",
        ] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad} was accepted");
        }
        let too_much = FaultSpec::new()
            .rule(FaultRule::status(503).fraction(0.7))
            .rule(FaultRule::drop_connection().fraction(0.4));
        assert!(
            too_much
                .validate()
                .unwrap_err()
                .to_string()
                .contains("add up to")
        );
    }
}
