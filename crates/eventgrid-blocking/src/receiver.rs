//! [`Receiver`]: pull delivery from a namespace topic's subscription, each call one operation
//! of the core's engine.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver as Channel, RecvTimeoutError, channel, sync_channel};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use eventgrid_core::frontend::{HeldLocks, SettlementBatcher, Subscription};
use eventgrid_core::{
    HandlerError, ProcessOptions, ProcessReport, ReceivedBatch, ReceivedEvent, ReleaseDelay,
    Result, SettlementKind, SettlementResult, Shutdown, Verdict,
};

use crate::EventGridClient;

/// Receives and settles events of one subscription of a namespace topic; cheap to clone. Each
/// settlement's [`SettlementResult`] says which tokens failed (the service answers 200 anyway).
#[derive(Debug, Clone)]
pub struct Receiver {
    client: EventGridClient,
    subscription: Subscription,
}

impl Receiver {
    pub(crate) fn new(client: EventGridClient, subscription: Subscription) -> Self {
        Self {
            client,
            subscription,
        }
    }

    /// Receives up to `max_events` (1 to 100) events, waiting up to `max_wait` (10 to 120
    /// whole seconds, however short the request time-out) for the first: answered at once
    /// when events are there, and empty when none came. Each event is locked until settled or
    /// until the subscription's lock duration passes; events that could not be read are in
    /// [`ReceivedBatch::malformed`], with the lock tokens to reject them.
    pub fn receive(&self, max_events: usize, max_wait: Duration) -> Result<ReceivedBatch> {
        let core = self.client.core();
        let operation = core.receive(&self.subscription, max_events, max_wait, Instant::now())?;
        self.client.inner.run(operation)
    }

    /// Acknowledges events: they are done and deleted.
    pub fn acknowledge(&self, lock_tokens: &[impl AsRef<str>]) -> Result<SettlementResult> {
        self.settle(SettlementKind::Acknowledge, lock_tokens)
    }

    /// Releases events: they can be received again after `delay`, their delivery count raised.
    pub fn release(
        &self,
        lock_tokens: &[impl AsRef<str>],
        delay: ReleaseDelay,
    ) -> Result<SettlementResult> {
        self.settle(SettlementKind::Release(delay), lock_tokens)
    }

    /// Rejects events: dead-lettered (when the subscription has a dead-letter destination),
    /// never delivered again.
    pub fn reject(&self, lock_tokens: &[impl AsRef<str>]) -> Result<SettlementResult> {
        self.settle(SettlementKind::Reject, lock_tokens)
    }

    /// Renews the locks of events still being worked on, by the subscription's lock duration.
    pub fn renew_locks(&self, lock_tokens: &[impl AsRef<str>]) -> Result<SettlementResult> {
        self.settle(SettlementKind::RenewLocks, lock_tokens)
    }

    fn settle(
        &self,
        kind: SettlementKind,
        lock_tokens: &[impl AsRef<str>],
    ) -> Result<SettlementResult> {
        let core = self.client.core();
        let operation = core.settle(&self.subscription, kind, lock_tokens, Instant::now())?;
        self.client.inner.run(operation)
    }

    /// Processes events until `shutdown` is triggered or a receive fails: receives when half
    /// the room (`max_concurrency + prefetch`) is free, runs up to `options.max_concurrency`
    /// handlers on threads (prefetched events wait, in order), renews the locks of events held
    /// (on a thread of its own), settles finished events together by verdict (on a thread of
    /// its own, within `options.settle_linger`; every failed token is in the report's errors),
    /// acknowledges on `Ok`, releases on
    /// [`HandlerError::Retry`] (with the options' delay; a panic counts as one) and rejects on
    /// [`HandlerError::Never`], past the delivery count limit, or when the event could not be
    /// read (reported in [`ProcessReport::malformed_events`]). Each receive waits
    /// [`ProcessOptions::blocking_wait`] (at most 10 s), so shutdown is noticed within about
    /// 10 s; then the events already received (prefetched ones and those of the last receive
    /// too) are handled and settled before the report is returned.
    pub fn process<H>(
        &self,
        handler: H,
        options: ProcessOptions,
        shutdown: &Shutdown,
    ) -> ProcessReport
    where
        H: Fn(ReceivedEvent) -> std::result::Result<(), HandlerError> + Sync,
    {
        let mut report = ProcessReport::default();
        if let Err(error) = options.validate() {
            report.stopped_by = Some(error);
            return report;
        }
        let (held, total) = (HeldLocks::default(), Mutex::new(ProcessReport::default()));
        let room = options.max_concurrency + options.prefetch;
        // Events held (handled or waiting for a worker), and the signal that one was let go.
        let (holding, let_go) = (Mutex::new(0_usize), Condvar::new());
        // The renewer runs until every worker has dropped its end of this channel.
        let (workers_alive, renewer_stop) = channel::<()>();
        // Bounded: a slow settlement holds workers, and so the receives, back.
        let (finished, settled) = sync_channel::<(Verdict, String)>(room);
        let (held, options, handler) = (&held, &options, &handler);
        let (total, holding, let_go) = (&total, &holding, &let_go);
        // Prefetched events wait in the queue, in order, for a free worker.
        let (work, queue) = sync_channel::<ReceivedEvent>(options.prefetch);
        let queue = &Mutex::new(queue);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                while let Err(RecvTimeoutError::Timeout) =
                    renewer_stop.recv_timeout(options.lock_renewal_interval)
                {
                    let tokens = held.snapshot();
                    if !tokens.is_empty() {
                        // A lock that could not be renewed shows when its event is settled.
                        let _renewed = self.renew_locks(&tokens);
                    }
                }
            });
            scope.spawn(move || {
                let report = self.settle_batched(&settled, held, options.settle_linger);
                lock(total).merge(report);
            });
            for _ in 0..options.max_concurrency {
                let (alive, finished) = (workers_alive.clone(), finished.clone());
                scope.spawn(move || {
                    let mut report = ProcessReport::default();
                    loop {
                        let next = lock(queue).recv();
                        let Ok(event) = next else { break };
                        let (token, count) = (event.lock_token.clone(), event.delivery_count);
                        let verdict = options.before_handling(&event).unwrap_or_else(|| {
                            let ran = catch_unwind(AssertUnwindSafe(|| handler(event)));
                            report.handler_panics += u64::from(ran.is_err());
                            let outcome = ran.unwrap_or_else(|_| Err(HandlerError::retry("panic")));
                            options.after_handling(count, &outcome)
                        });
                        held.release(&token);
                        // The settler outlives every worker.
                        let _sent = finished.send((verdict, token));
                        *lock(holding) -= 1;
                        let_go.notify_one();
                    }
                    lock(total).merge(report);
                    drop((alive, finished));
                });
            }
            drop(finished);
            while !shutdown.is_triggered() {
                let guard = lock(holding);
                let (guard, _) = let_go
                    .wait_timeout_while(guard, SHUTDOWN_POLL, |held| {
                        options.receive_count(*held) == 0
                    })
                    .unwrap_or_else(PoisonError::into_inner);
                let count = options.receive_count(*guard);
                drop(guard);
                if count == 0 {
                    continue; // Shutdown is checked again.
                }
                let (events, rejects) = match self.receive(count, options.blocking_wait()) {
                    Ok(batch) => report.sort_out(batch),
                    Err(error) => {
                        report.stopped_by = Some(error);
                        break;
                    }
                };
                if !rejects.is_empty() {
                    report.record(Verdict::Reject, self.reject(&rejects));
                }
                held.hold(&events);
                *lock(holding) += events.len();
                for event in events {
                    if work.send(event).is_err() {
                        break;
                    }
                }
            }
            // The workers end when the queue is closed and empty; then the renewer and the
            // settler.
            drop((work, workers_alive));
        });
        report.merge(std::mem::take(&mut *lock(total)));
        report
    }

    /// Settles finished events' tokens as the core's batcher groups them, until every worker
    /// is gone; then settles what is left.
    fn settle_batched(
        &self,
        finished: &Channel<(Verdict, String)>,
        held: &HeldLocks,
        linger: Duration,
    ) -> ProcessReport {
        let (mut report, mut batcher) = (ProcessReport::default(), SettlementBatcher::new(linger));
        loop {
            let next = match batcher.deadline() {
                Some(at) => finished.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => finished.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let now = Instant::now();
            let (batches, done) = match next {
                Ok(first) => {
                    let rest = std::iter::from_fn(|| finished.try_recv().ok());
                    let ready = std::iter::once(first).chain(rest);
                    (batcher.add_ready(ready, now, held.is_empty()), false)
                }
                Err(RecvTimeoutError::Timeout) => (batcher.due(now), false),
                Err(RecvTimeoutError::Disconnected) => (batcher.drain(), true),
            };
            for batch in batches {
                let settled = self.settle(batch.verdict.settlement(), &batch.lock_tokens);
                report.record(batch.verdict, settled);
            }
            if done {
                return report;
            }
        }
    }
}

/// How often a processor waiting for handlers to free up looks at its shutdown signal.
const SHUTDOWN_POLL: Duration = Duration::from_millis(100);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
