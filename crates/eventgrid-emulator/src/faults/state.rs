//! The live state of a topic's fault rules: what is left of "next N" rules, and the seeded
//! generator for fractional rules.

use std::time::Duration;

use crate::faults::{FaultEffect, FaultScope, FaultSpec, RetryAfter};

/// What the faults decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct FaultDecision {
    /// Added latency.
    pub delay: Duration,
    /// The injected outcome, if any; `None` lets the request through.
    pub outcome: Option<FaultOutcome>,
}

/// An injected answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum FaultOutcome {
    Status {
        status: u16,
        retry_after: Option<RetryAfter>,
    },
    DropConnection,
}

/// A topic's fault rules with their remaining counts and random generator.
#[derive(Debug)]
pub(crate) struct FaultState {
    spec: FaultSpec,
    remaining: Vec<u64>,
    random: SplitMix64,
}

impl FaultState {
    pub(crate) fn new(spec: FaultSpec) -> Self {
        let remaining = spec
            .rules()
            .iter()
            .map(|rule| match rule.scope {
                FaultScope::Next(count) => count,
                _ => 0,
            })
            .collect();
        let random = SplitMix64(spec.seed_value());
        Self {
            spec,
            remaining,
            random,
        }
    }

    /// The rules as configured (remaining counts are not reflected).
    pub(crate) fn spec(&self) -> &FaultSpec {
        &self.spec
    }

    /// Decides the faults for one request, advancing counts and the generator.
    pub(crate) fn decide(&mut self) -> FaultDecision {
        let mut decision = FaultDecision::default();
        for (index, rule) in self.spec.rules().iter().enumerate() {
            if let FaultEffect::Latency(delay) = rule.effect {
                let applies = match rule.scope {
                    FaultScope::Always => true,
                    FaultScope::Next(_) => take_one(&mut self.remaining[index]),
                    FaultScope::Fraction(share) => self.random.next_unit() < share,
                };
                if applies {
                    decision.delay = decision.delay.saturating_add(delay);
                }
            }
        }
        for (index, rule) in self.spec.rules().iter().enumerate() {
            if matches!(rule.scope, FaultScope::Next(_))
                && !matches!(rule.effect, FaultEffect::Latency(_))
                && take_one(&mut self.remaining[index])
            {
                decision.outcome = outcome_of(rule.effect);
                return decision;
            }
        }
        let has_shared_rules = self.spec.rules().iter().any(|rule| {
            !matches!(rule.effect, FaultEffect::Latency(_))
                && !matches!(rule.scope, FaultScope::Next(_))
        });
        if !has_shared_rules {
            return decision;
        }
        let draw = self.random.next_unit();
        let mut upper = 0.0;
        for rule in self.spec.rules() {
            let share = match rule.scope {
                FaultScope::Always => 1.0,
                FaultScope::Fraction(share) => share,
                FaultScope::Next(_) => continue,
            };
            if matches!(rule.effect, FaultEffect::Latency(_)) {
                continue;
            }
            upper += share;
            if draw < upper {
                decision.outcome = outcome_of(rule.effect);
                break;
            }
        }
        decision
    }
}

fn take_one(remaining: &mut u64) -> bool {
    if *remaining > 0 {
        *remaining -= 1;
        true
    } else {
        false
    }
}

fn outcome_of(effect: FaultEffect) -> Option<FaultOutcome> {
    match effect {
        FaultEffect::Status {
            status,
            retry_after,
        } => Some(FaultOutcome::Status {
            status,
            retry_after,
        }),
        FaultEffect::DropConnection => Some(FaultOutcome::DropConnection),
        FaultEffect::Latency(_) => None,
    }
}

/// SplitMix64: tiny, fast, and good enough to spread faults; chosen so that a seed fully
/// determines the sequence on every platform.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)` with 53 random bits.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultRule;

    fn outcomes(spec: FaultSpec, requests: usize) -> Vec<Option<FaultOutcome>> {
        let mut state = FaultState::new(spec);
        (0..requests).map(|_| state.decide().outcome).collect()
    }

    #[test]
    fn next_rules_run_out_in_order() {
        let spec = FaultSpec::new()
            .rule(FaultRule::status(500).next(1))
            .rule(FaultRule::status(503).next(2));
        let status = |status| {
            Some(FaultOutcome::Status {
                status,
                retry_after: None,
            })
        };
        assert_eq!(
            outcomes(spec, 4),
            vec![status(500), status(503), status(503), None]
        );
    }

    #[test]
    fn fractions_share_one_draw_and_repeat_with_the_seed() {
        let spec = FaultSpec::new()
            .seed(42)
            .rule(FaultRule::status(503).fraction(0.2))
            .rule(FaultRule::status(429).fraction(0.05))
            .rule(FaultRule::drop_connection().fraction(0.05));
        let first = outcomes(spec.clone(), 10_000);
        assert_eq!(first, outcomes(spec, 10_000));
        let count = |wanted: &dyn Fn(&FaultOutcome) -> bool| {
            first
                .iter()
                .flatten()
                .filter(|outcome| wanted(outcome))
                .count()
        };
        let unavailable = count(&|o| matches!(o, FaultOutcome::Status { status: 503, .. }));
        let throttled = count(&|o| matches!(o, FaultOutcome::Status { status: 429, .. }));
        let dropped = count(&|o| matches!(o, FaultOutcome::DropConnection));
        assert!((1800..2200).contains(&unavailable), "{unavailable}");
        assert!((400..600).contains(&throttled), "{throttled}");
        assert!((400..600).contains(&dropped), "{dropped}");
    }

    #[test]
    fn the_longest_latencies_add_up_without_overflowing() {
        let longest = FaultRule::latency(Duration::from_millis(u64::MAX));
        let spec = (0..1001).fold(FaultSpec::new(), |spec, _| spec.rule(longest));
        assert_eq!(FaultState::new(spec).decide().delay, Duration::MAX);
    }

    #[test]
    fn latency_adds_up_without_replacing_the_answer() {
        let spec = FaultSpec::new()
            .rule(FaultRule::latency(Duration::from_millis(5)))
            .rule(FaultRule::latency(Duration::from_millis(7)).next(1));
        let mut state = FaultState::new(spec);
        assert_eq!(
            state.decide(),
            FaultDecision {
                delay: Duration::from_millis(12),
                outcome: None
            }
        );
        assert_eq!(
            state.decide(),
            FaultDecision {
                delay: Duration::from_millis(5),
                outcome: None
            }
        );
    }
}
