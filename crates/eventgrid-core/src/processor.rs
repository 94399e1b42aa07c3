//! The decisions of a receiver's processing loop (`Receiver::process` in both clients): how many
//! events to ask for, what to do with an event once its handler has run, which locks to
//! renew, and the report of the whole run. The front ends only run handlers and wait.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::namespace::MAX_WAIT_SECONDS_RANGE;
use crate::receive::{MalformedEvent, ReceivedBatch, ReceivedEvent};
use crate::settlement::{ReleaseDelay, SettlementKind, SettlementResult};

/// How many settlement and handler errors a [`ProcessReport`] keeps (all are counted and
/// logged).
pub const REPORT_ERRORS_KEPT: usize = 100;

/// Why a handler did not process an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerError {
    /// It may succeed later: the event is released (with the options' delay) until its
    /// delivery count reaches the limit, then rejected.
    Retry(String),
    /// It can never succeed: the event is rejected at once.
    Never(String),
}

impl HandlerError {
    /// A failure worth retrying later.
    pub fn retry(reason: impl fmt::Display) -> Self {
        HandlerError::Retry(reason.to_string())
    }

    /// A failure that will never succeed (malformed event, say).
    pub fn never(reason: impl fmt::Display) -> Self {
        HandlerError::Never(reason.to_string())
    }
}

/// What the processor does with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The handler succeeded: acknowledge.
    Acknowledge,
    /// The handler failed and may succeed later: release after the delay.
    Release(ReleaseDelay),
    /// The handler said never, or the delivery count passed the limit: reject.
    Reject,
}

impl Verdict {
    /// The settlement that carries the verdict out.
    pub fn settlement(self) -> SettlementKind {
        match self {
            Verdict::Acknowledge => SettlementKind::Acknowledge,
            Verdict::Release(delay) => SettlementKind::Release(delay),
            Verdict::Reject => SettlementKind::Reject,
        }
    }
}

/// How a receiver processes events.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessOptions {
    /// Handlers running at once, 1 to 100. Default 8.
    pub max_concurrency: usize,
    /// How long each receive waits for events (10 to 120 whole seconds; the request time-out
    /// does not cut it). Default 20 s. The async processor drops a receive under way when
    /// shutdown is triggered; the blocking one cannot cut its receive, so it waits at most
    /// the service's minimum (10 s, see [`blocking_wait`](Self::blocking_wait)) per receive.
    pub max_wait: Duration,
    /// How often the locks of events being handled are renewed. Default 20 s (a third of the
    /// service's default 60 s lock).
    pub lock_renewal_interval: Duration,
    /// The release delay after the n-th failed delivery (the last one repeats). Default: at
    /// once, 10 s, 1 min, 10 min.
    pub release_delays: Vec<ReleaseDelay>,
    /// The delivery count at which a failed event is rejected instead of released; an event
    /// received with a higher count is rejected without running the handler. Default 10.
    pub max_delivery_count: u32,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            max_wait: Duration::from_secs(20),
            lock_renewal_interval: Duration::from_secs(20),
            release_delays: vec![
                ReleaseDelay::None,
                ReleaseDelay::TenSeconds,
                ReleaseDelay::OneMinute,
                ReleaseDelay::TenMinutes,
            ],
            max_delivery_count: 10,
        }
    }
}

impl ProcessOptions {
    /// Sets the number of handlers running at once.
    pub fn with_max_concurrency(mut self, handlers: usize) -> Self {
        self.max_concurrency = handlers;
        self
    }

    /// Sets how long each receive waits.
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Sets how often locks are renewed.
    pub fn with_lock_renewal_interval(mut self, interval: Duration) -> Self {
        self.lock_renewal_interval = interval;
        self
    }

    /// Sets the release delays by failed delivery.
    pub fn with_release_delays(mut self, delays: impl IntoIterator<Item = ReleaseDelay>) -> Self {
        self.release_delays = delays.into_iter().collect();
        self
    }

    /// Sets the delivery count at which failed events are rejected.
    pub fn with_max_delivery_count(mut self, count: u32) -> Self {
        self.max_delivery_count = count;
        self
    }

    /// Refuses options the loop cannot run with (the receive checks `max_wait`).
    pub fn validate(&self) -> Result<()> {
        let invalid = |argument, reason: &str| {
            Err(Error::InvalidArgument {
                argument,
                reason: reason.to_owned(),
            })
        };
        if !(1..=100).contains(&self.max_concurrency) {
            return invalid("max_concurrency", "must be 1 to 100");
        }
        if self.lock_renewal_interval < Duration::from_secs(1) {
            return invalid("lock_renewal_interval", "must be at least 1 s");
        }
        if self.max_delivery_count == 0 {
            return invalid("max_delivery_count", "must be at least 1");
        }
        Ok(())
    }

    /// How long each receive of a processor that cannot cut a receive under way (the blocking
    /// one) waits: `max_wait`, but no more than the service's minimum of 10 s, so that
    /// shutdown is noticed within about 10 s (plus the answer's travel) whatever `max_wait` is.
    /// An idle subscription costs one receive request per 10 s then.
    pub fn blocking_wait(&self) -> Duration {
        self.max_wait
            .min(Duration::from_secs(*MAX_WAIT_SECONDS_RANGE.start()))
    }

    /// How many events to ask for while `busy` are being handled (0 when none is free).
    pub fn receive_count(&self, busy: usize) -> usize {
        self.max_concurrency.saturating_sub(busy).min(100)
    }

    /// The verdict on an event before its handler runs: reject one delivered too often.
    pub fn before_handling(&self, event: &ReceivedEvent) -> Option<Verdict> {
        (event.delivery_count > self.max_delivery_count).then_some(Verdict::Reject)
    }

    /// The verdict on an event delivered `delivery_count` times whose handler answered
    /// `outcome`.
    pub fn after_handling(
        &self,
        delivery_count: u32,
        outcome: &std::result::Result<(), HandlerError>,
    ) -> Verdict {
        match outcome {
            Ok(()) => Verdict::Acknowledge,
            Err(HandlerError::Never(_)) => Verdict::Reject,
            Err(HandlerError::Retry(_)) if delivery_count >= self.max_delivery_count => {
                Verdict::Reject
            }
            Err(HandlerError::Retry(_)) => {
                let index = usize::try_from(delivery_count.saturating_sub(1)).unwrap_or(usize::MAX);
                let delay = self
                    .release_delays
                    .get(index)
                    .or(self.release_delays.last())
                    .copied()
                    .unwrap_or_default();
                Verdict::Release(delay)
            }
        }
    }
}

/// Asks a processing loop to stop: it receives no more (the async loop drops a receive under
/// way), lets running handlers finish, settles their events and returns its report. Cheap to
/// clone.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<ShutdownState>);

#[derive(Debug, Default)]
struct ShutdownState {
    triggered: AtomicBool,
    // The tasks awaiting `triggered()`, each once (a task that awaits it again replaces
    // nothing: `Waker::will_wake` keeps one entry per task).
    waiting: Mutex<Vec<Waker>>,
}

impl Shutdown {
    /// A signal not yet given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the signal, waking every task awaiting [`triggered`](Self::triggered).
    pub fn trigger(&self) {
        self.0.triggered.store(true, Ordering::SeqCst);
        let waiting =
            std::mem::take(&mut *self.0.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Whether the signal was given.
    pub fn is_triggered(&self) -> bool {
        self.0.triggered.load(Ordering::SeqCst)
    }

    /// Completes when the signal is given (at once if it was). Runtime-agnostic.
    pub fn triggered(&self) -> Triggered<'_> {
        Triggered(self)
    }
}

/// The future of [`Shutdown::triggered`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Triggered<'a>(&'a Shutdown);

impl Future for Triggered<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let state = &self.0.0;
        if state.triggered.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        let mut waiting = state.waiting.lock().unwrap_or_else(|e| e.into_inner());
        // Checked again under the lock: `trigger` takes the list after setting the flag.
        if state.triggered.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// The lock tokens of the events a loop holds (received and not yet settled): the ones to renew.
#[derive(Debug, Default)]
pub struct HeldLocks(Mutex<BTreeSet<String>>);

impl HeldLocks {
    /// Holds `events`' locks.
    pub fn hold(&self, events: &[ReceivedEvent]) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.extend(events.iter().map(|e| e.lock_token.clone()));
    }

    /// Lets go of one lock (its event is being settled).
    pub fn release(&self, lock_token: &str) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.remove(lock_token);
    }

    /// The locks held now.
    pub fn snapshot(&self) -> Vec<String> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().cloned().collect()
    }
}

/// What a processing loop did. `#[must_use]`: settlement failures are counted here (and
/// logged), never dropped; [`into_result`](Self::into_result) turns any into an error.
#[derive(Debug, Default)]
#[must_use = "settlement failures are reported here: check them or call `into_result`"]
#[non_exhaustive]
pub struct ProcessReport {
    /// Events acknowledged.
    pub acknowledged: u64,
    /// Events released.
    pub released: u64,
    /// Events rejected.
    pub rejected: u64,
    /// Settlements that failed (the request, or the service for the token).
    pub settlement_failures: u64,
    /// Handlers that panicked (treated as a failure worth retrying).
    pub handler_panics: u64,
    /// Events received that could not be read (rejected without running the handler).
    pub malformed: u64,
    /// The first [`REPORT_ERRORS_KEPT`] of those.
    pub malformed_events: Vec<MalformedEvent>,
    /// The first [`REPORT_ERRORS_KEPT`] settlement errors.
    pub errors: Vec<Error>,
    /// The receive error that stopped the loop, if one did.
    pub stopped_by: Option<Error>,
}

impl ProcessReport {
    /// The report of one handler that panicked where it could not be caught, so its event
    /// was not settled (it comes back when its lock expires).
    pub fn handler_panicked() -> Self {
        Self {
            handler_panics: 1,
            ..Self::default()
        }
    }

    /// Records the settlement of a `verdict` (one event's, or the malformed events').
    pub fn record(&mut self, verdict: Verdict, settled: Result<SettlementResult>) {
        if let Ok(result) = &settled {
            let count = result.succeeded.len() as u64;
            match verdict {
                Verdict::Acknowledge => self.acknowledged += count,
                Verdict::Release(_) => self.released += count,
                Verdict::Reject => self.rejected += count,
            }
        }
        if let Err(error) = settled.and_then(SettlementResult::into_result) {
            tracing::warn!(%error, "eventgrid processor: settlement failed");
            self.settlement_failures += 1;
            if self.errors.len() < REPORT_ERRORS_KEPT {
                self.errors.push(error);
            }
        }
    }

    /// Takes the malformed events out of `batch`, counting and keeping them, and returns the
    /// events to handle and the lock tokens to reject (empty when there is nothing to reject).
    pub fn sort_out(&mut self, batch: ReceivedBatch) -> (Vec<ReceivedEvent>, Vec<String>) {
        let rejects = batch.malformed_lock_tokens();
        self.malformed += batch.malformed.len() as u64;
        let room = REPORT_ERRORS_KEPT.saturating_sub(self.malformed_events.len());
        self.malformed_events
            .extend(batch.malformed.into_iter().take(room));
        (batch.events, rejects)
    }

    /// Adds another report's counts (from a worker) to this one.
    pub fn merge(&mut self, other: ProcessReport) {
        self.acknowledged += other.acknowledged;
        self.released += other.released;
        self.rejected += other.rejected;
        self.settlement_failures += other.settlement_failures;
        self.handler_panics += other.handler_panics;
        self.malformed += other.malformed;
        let room = REPORT_ERRORS_KEPT.saturating_sub(self.malformed_events.len());
        self.malformed_events
            .extend(other.malformed_events.into_iter().take(room));
        let room = REPORT_ERRORS_KEPT.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
        self.stopped_by = self.stopped_by.take().or(other.stopped_by);
    }

    /// Ok when the loop stopped on request and every settlement succeeded; otherwise the
    /// error that stopped it, or the first settlement error. Malformed events that were
    /// rejected are not errors here (they are in [`malformed_events`](Self::malformed_events)).
    pub fn into_result(mut self) -> Result<Self> {
        if let Some(error) = self.stopped_by.take() {
            return Err(error);
        }
        match self.errors.first() {
            Some(error) => Err(error.clone()),
            None => Ok(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_handler_and_the_delivery_count() {
        let options = ProcessOptions::default().with_max_delivery_count(3);
        assert_eq!(options.after_handling(1, &Ok(())), Verdict::Acknowledge);
        let retry = Err(HandlerError::retry("busy"));
        assert_eq!(
            options.after_handling(1, &retry),
            Verdict::Release(ReleaseDelay::None)
        );
        assert_eq!(
            options.after_handling(2, &retry),
            Verdict::Release(ReleaseDelay::TenSeconds)
        );
        assert_eq!(options.after_handling(3, &retry), Verdict::Reject);
        assert_eq!(
            options.after_handling(1, &Err(HandlerError::never("bad"))),
            Verdict::Reject
        );
        let long = ProcessOptions::default();
        assert_eq!(
            long.after_handling(9, &retry),
            Verdict::Release(ReleaseDelay::TenMinutes)
        );
    }

    #[test]
    fn options_are_checked_and_receives_ask_for_free_slots_only() {
        assert!(ProcessOptions::default().validate().is_ok());
        assert!(
            ProcessOptions::default()
                .with_max_concurrency(0)
                .validate()
                .is_err()
        );
        assert!(
            ProcessOptions::default()
                .with_max_concurrency(101)
                .validate()
                .is_err()
        );
        let options = ProcessOptions::default().with_max_concurrency(4);
        assert_eq!(options.receive_count(1), 3);
        assert_eq!(options.receive_count(4), 0);
    }

    #[test]
    fn shutdown_wakes_the_tasks_awaiting_it_once_each() {
        use std::sync::atomic::AtomicUsize;
        use std::task::Wake;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let shutdown = Shutdown::new();
        // Awaited again and again by one task (a loop's `select!`): one waker kept.
        for _ in 0..3 {
            let mut triggered = std::pin::pin!(shutdown.triggered());
            assert!(triggered.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(shutdown.0.waiting.lock().unwrap().len(), 1);
        shutdown.clone().trigger();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(shutdown.is_triggered());
        let mut triggered = std::pin::pin!(shutdown.triggered());
        assert!(triggered.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn malformed_events_are_counted_kept_and_their_tokens_given_to_reject() {
        let bad = |index, token: Option<&str>| MalformedEvent {
            index,
            lock_token: token.map(str::to_owned),
            delivery_count: None,
            reason: "not a CloudEvent".to_owned(),
        };
        let batch = ReceivedBatch {
            events: Vec::new(),
            malformed: vec![bad(0, Some("t0")), bad(1, None)],
        };
        let mut report = ProcessReport::default();
        let (events, rejects) = report.sort_out(batch);
        assert!(events.is_empty());
        assert_eq!(rejects, ["t0"]);
        assert_eq!((report.malformed, report.malformed_events.len()), (2, 2));
        let rejected = SettlementResult {
            kind: SettlementKind::Reject,
            succeeded: rejects,
            failed: Vec::new(),
        };
        report.record(Verdict::Reject, Ok(rejected));
        assert_eq!(report.rejected, 1);
        let mut total = ProcessReport::default();
        total.merge(report);
        assert_eq!((total.malformed, total.rejected), (2, 1));
        assert!(
            total.into_result().is_ok(),
            "rejected malformed events are no error"
        );
    }

    #[test]
    fn a_blocking_loop_waits_no_longer_than_the_services_minimum() {
        let options = ProcessOptions::default().with_max_wait(Duration::from_secs(60));
        assert_eq!(options.blocking_wait(), Duration::from_secs(10));
        let options = options.with_max_wait(Duration::from_secs(10));
        assert_eq!(options.blocking_wait(), Duration::from_secs(10));
    }
}
