//! Settlement batching for a processing loop: the lock tokens of finished events are grouped by
//! verdict (acknowledge; release with its delay; reject) and settled together, so a busy loop
//! costs one settlement request per group instead of one per event. The batcher does no I/O
//! and is handed the time; the front ends send what it hands back and wait until its deadline.

use std::time::{Duration, Instant};

use crate::namespace::MAX_EVENTS_RANGE;
use crate::processor::Verdict;

/// The most lock tokens the processor puts in one settlement request: as many as one receive
/// can return, which the service accepts in one settlement.
pub const SETTLE_MAX_LOCK_TOKENS: usize = *MAX_EVENTS_RANGE.end();

/// Lock tokens to settle together with one verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettleBatch {
    /// The verdict carried out on every token.
    pub verdict: Verdict,
    /// The tokens, at most [`SETTLE_MAX_LOCK_TOKENS`].
    pub lock_tokens: Vec<String>,
}

#[derive(Debug)]
struct Group {
    verdict: Verdict,
    lock_tokens: Vec<String>,
    // When the group's first token came: the group is due `linger` after it.
    since: Instant,
}

/// Groups finished events' lock tokens by verdict until a group is full
/// ([`SETTLE_MAX_LOCK_TOKENS`]), its first token has waited `linger`, the loop goes idle
/// ([`drain`](Self::drain)) or shuts down (the same). Holds at most the tokens of the events
/// a loop holds, so its memory is bounded by the loop's.
#[derive(Debug)]
pub struct SettlementBatcher {
    linger: Duration,
    groups: Vec<Group>,
}

impl SettlementBatcher {
    /// A batcher whose groups wait at most `linger` for more tokens.
    pub fn new(linger: Duration) -> Self {
        Self {
            linger,
            groups: Vec::new(),
        }
    }

    /// Adds a finished event's token at `now`; returns its group when that is now full.
    pub fn add(
        &mut self,
        verdict: Verdict,
        lock_token: String,
        now: Instant,
    ) -> Option<SettleBatch> {
        let index = match self.groups.iter().position(|g| g.verdict == verdict) {
            Some(index) => index,
            None => {
                self.groups.push(Group {
                    verdict,
                    lock_tokens: Vec::new(),
                    since: now,
                });
                self.groups.len() - 1
            }
        };
        self.groups[index].lock_tokens.push(lock_token);
        (self.groups[index].lock_tokens.len() >= SETTLE_MAX_LOCK_TOKENS)
            .then(|| into_batch(self.groups.remove(index)))
    }

    /// Adds every finished event that is `ready` at `now`, and returns the groups to send: the
    /// ones that filled up, and all of them when no handler is running (`idle`: nothing more
    /// will come soon, so waiting out the linger would only hold the locks).
    pub fn add_ready(
        &mut self,
        ready: impl IntoIterator<Item = (Verdict, String)>,
        now: Instant,
        idle: bool,
    ) -> Vec<SettleBatch> {
        let mut full: Vec<SettleBatch> = ready
            .into_iter()
            .filter_map(|(verdict, token)| self.add(verdict, token, now))
            .collect();
        if idle {
            full.extend(self.drain());
        }
        full
    }

    /// The groups whose first token has waited `linger` by `now`.
    pub fn due(&mut self, now: Instant) -> Vec<SettleBatch> {
        let linger = self.linger;
        let (due, waiting) = std::mem::take(&mut self.groups)
            .into_iter()
            .partition(|g| now.saturating_duration_since(g.since) >= linger);
        self.groups = waiting;
        due.into_iter().map(into_batch).collect()
    }

    /// Every group, due or not (the loop is idle or shutting down).
    pub fn drain(&mut self) -> Vec<SettleBatch> {
        self.groups.drain(..).map(into_batch).collect()
    }

    /// When the next group falls due; `None` when nothing waits.
    pub fn deadline(&self) -> Option<Instant> {
        self.groups.iter().map(|g| g.since + self.linger).min()
    }

    /// Whether no token waits.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

fn into_batch(group: Group) -> SettleBatch {
    SettleBatch {
        verdict: group.verdict,
        lock_tokens: group.lock_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::ReleaseDelay;

    const LINGER: Duration = Duration::from_millis(20);

    fn token(n: usize) -> String {
        format!("t{n}")
    }

    #[test]
    fn tokens_wait_grouped_by_verdict_until_the_linger_passes() {
        let start = Instant::now();
        let mut batcher = SettlementBatcher::new(LINGER);
        assert_eq!(batcher.deadline(), None);
        assert!(batcher.add(Verdict::Acknowledge, token(0), start).is_none());
        let later = start + Duration::from_millis(5);
        assert!(batcher.add(Verdict::Reject, token(1), later).is_none());
        assert!(batcher.add(Verdict::Acknowledge, token(2), later).is_none());
        assert_eq!(batcher.deadline(), Some(start + LINGER));
        assert!(batcher.due(start + Duration::from_millis(19)).is_empty());
        let due = batcher.due(start + LINGER);
        assert_eq!(
            due,
            [SettleBatch {
                verdict: Verdict::Acknowledge,
                lock_tokens: vec![token(0), token(2)],
            }]
        );
        assert_eq!(batcher.deadline(), Some(later + LINGER));
        let rest = batcher.due(later + LINGER);
        assert_eq!(rest[0].verdict, Verdict::Reject);
        assert!(batcher.is_empty());
    }

    #[test]
    fn ready_tokens_linger_while_handlers_run_and_go_at_once_when_none_does() {
        let now = Instant::now();
        let mut batcher = SettlementBatcher::new(LINGER);
        let busy = batcher.add_ready([(Verdict::Acknowledge, token(0))], now, false);
        assert!(busy.is_empty());
        assert_eq!(batcher.deadline(), Some(now + LINGER));
        let idle = batcher.add_ready([(Verdict::Acknowledge, token(1))], now, true);
        assert_eq!(idle.len(), 1);
        assert_eq!(idle[0].lock_tokens, [token(0), token(1)]);
        assert!(batcher.is_empty());
    }

    #[test]
    fn releases_with_different_delays_are_settled_apart() {
        let now = Instant::now();
        let mut batcher = SettlementBatcher::new(LINGER);
        let soon = Verdict::Release(ReleaseDelay::None);
        let later = Verdict::Release(ReleaseDelay::TenSeconds);
        let _ = batcher.add(soon, token(0), now);
        let _ = batcher.add(later, token(1), now);
        let _ = batcher.add(soon, token(2), now);
        let drained = batcher.drain();
        assert_eq!(drained.len(), 2);
        assert_eq!(
            (drained[0].verdict, drained[0].lock_tokens.len()),
            (soon, 2)
        );
        assert_eq!(
            (drained[1].verdict, drained[1].lock_tokens.len()),
            (later, 1)
        );
        assert!(batcher.is_empty() && batcher.drain().is_empty());
    }

    #[test]
    fn a_full_group_is_handed_back_at_once_and_the_next_starts_anew() {
        let start = Instant::now();
        let mut batcher = SettlementBatcher::new(LINGER);
        for n in 0..SETTLE_MAX_LOCK_TOKENS - 1 {
            assert!(batcher.add(Verdict::Acknowledge, token(n), start).is_none());
        }
        let last = start + Duration::from_millis(1);
        let full = batcher
            .add(Verdict::Acknowledge, token(999), last)
            .expect("full");
        assert_eq!(full.lock_tokens.len(), SETTLE_MAX_LOCK_TOKENS);
        assert_eq!(full.lock_tokens.last().map(String::as_str), Some("t999"));
        assert!(batcher.is_empty());
        let next = start + Duration::from_millis(10);
        let _ = batcher.add(Verdict::Acknowledge, token(0), next);
        assert_eq!(
            batcher.deadline(),
            Some(next + LINGER),
            "timed from its own first"
        );
    }
}
