//! [`Receiver`]: pull delivery from a namespace topic's subscription, each call one operation
//! of the core's engine.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{RecvTimeoutError, channel, sync_channel};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use eventgrid_core::frontend::{HeldLocks, Subscription};
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

    /// Processes events until `shutdown` is triggered or a receive fails: receives as
    /// handlers free up, runs up to `options.max_concurrency` handlers on threads, renews the
    /// locks of events held (on a thread of its own), acknowledges on `Ok`, releases on
    /// [`HandlerError::Retry`] (with the options' delay; a panic counts as one) and rejects on
    /// [`HandlerError::Never`], past the delivery count limit, or when the event could not be
    /// read (reported in [`ProcessReport::malformed_events`]). Each receive waits
    /// [`ProcessOptions::blocking_wait`] (at most 10 s), so shutdown is noticed within about
    /// 10 s; then the running handlers finish and their events (those of the last receive
    /// too) are settled before the report is returned.
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
        let busy = Mutex::new(0_usize);
        // The renewer runs until every worker has dropped its end of this channel.
        let (workers_alive, renewer_stop) = channel::<()>();
        let (held, options, handler) = (&held, &options, &handler);
        let (total, busy) = (&total, &busy);
        let (work, queue) = sync_channel::<ReceivedEvent>(0);
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
            for _ in 0..options.max_concurrency {
                let alive = workers_alive.clone();
                scope.spawn(move || {
                    let mut report = ProcessReport::default();
                    loop {
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(event) = next else { break };
                        let (token, count) = (event.lock_token.clone(), event.delivery_count);
                        let verdict = options.before_handling(&event).unwrap_or_else(|| {
                            let ran = catch_unwind(AssertUnwindSafe(|| handler(event)));
                            report.handler_panics += u64::from(ran.is_err());
                            let outcome = ran.unwrap_or_else(|_| Err(HandlerError::retry("panic")));
                            options.after_handling(count, &outcome)
                        });
                        held.release(&token);
                        report.record(verdict, self.settle(verdict.settlement(), &[token]));
                        *busy.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
                    }
                    total
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .merge(report);
                    drop(alive);
                });
            }
            while !shutdown.is_triggered() {
                let free =
                    options.receive_count(*busy.lock().unwrap_or_else(PoisonError::into_inner));
                // All handlers busy: ask for one event, handed over when a worker is free.
                let (events, rejects) = match self.receive(free.max(1), options.blocking_wait()) {
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
                *busy.lock().unwrap_or_else(PoisonError::into_inner) += events.len();
                for event in events {
                    if work.send(event).is_err() {
                        break;
                    }
                }
            }
            // The workers end when the queue is closed and empty; then the renewer.
            drop((work, workers_alive));
        });
        report.merge(std::mem::take(
            &mut *total.lock().unwrap_or_else(PoisonError::into_inner),
        ));
        report
    }
}
