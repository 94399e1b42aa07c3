//! [`Receiver`]: pull delivery from a namespace topic's subscription, each call one operation
//! of the core's engine.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eventgrid_core::frontend::{HeldLocks, SettlementBatcher, Subscription};
use eventgrid_core::{
    HandlerError, ProcessOptions, ProcessReport, ReceivedBatch, ReceivedEvent, ReleaseDelay,
    Result, SettlementKind, SettlementResult, Shutdown, Verdict,
};
use futures::FutureExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

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
    pub async fn receive(&self, max_events: usize, max_wait: Duration) -> Result<ReceivedBatch> {
        let core = self.client.core();
        let operation = core.receive(&self.subscription, max_events, max_wait, Instant::now())?;
        self.client.run(operation).await
    }

    /// Acknowledges events: they are done and deleted.
    pub async fn acknowledge(&self, lock_tokens: &[impl AsRef<str>]) -> Result<SettlementResult> {
        self.settle(SettlementKind::Acknowledge, lock_tokens).await
    }

    /// Releases events: they can be received again after `delay`, their delivery count raised.
    pub async fn release(
        &self,
        lock_tokens: &[impl AsRef<str>],
        delay: ReleaseDelay,
    ) -> Result<SettlementResult> {
        self.settle(SettlementKind::Release(delay), lock_tokens)
            .await
    }

    /// Rejects events: dead-lettered (when the subscription has a dead-letter destination),
    /// never delivered again.
    pub async fn reject(&self, lock_tokens: &[impl AsRef<str>]) -> Result<SettlementResult> {
        self.settle(SettlementKind::Reject, lock_tokens).await
    }

    /// Renews the locks of events still being worked on, by the subscription's lock duration.
    pub async fn renew_locks(&self, lock_tokens: &[impl AsRef<str>]) -> Result<SettlementResult> {
        self.settle(SettlementKind::RenewLocks, lock_tokens).await
    }

    async fn settle(
        &self,
        kind: SettlementKind,
        lock_tokens: &[impl AsRef<str>],
    ) -> Result<SettlementResult> {
        let core = self.client.core();
        let operation = core.settle(&self.subscription, kind, lock_tokens, Instant::now())?;
        self.client.run(operation).await
    }

    /// Processes events until `shutdown` is triggered or a receive fails: receives when half
    /// the room (`max_concurrency + prefetch`) is free, runs up to `options.max_concurrency`
    /// handlers on tasks (prefetched events wait, in order), renews the locks of events held,
    /// settles finished events together by verdict (within `options.settle_linger`; every
    /// failed token is in the report's errors), acknowledges on `Ok`, releases on
    /// [`HandlerError::Retry`] (with the options' delay; a panic counts as one) and rejects on
    /// [`HandlerError::Never`], past the delivery count limit, or when the event could not be
    /// read (reported in [`ProcessReport::malformed_events`]). On shutdown the receive under
    /// way is dropped at once (events the service locked for it come back when their locks
    /// expire), the events already received (prefetched ones too) are handled and every
    /// finished event is settled before the report is returned.
    pub async fn process<H, F>(
        &self,
        handler: H,
        options: ProcessOptions,
        shutdown: &Shutdown,
    ) -> ProcessReport
    where
        H: Fn(ReceivedEvent) -> F + Send + Sync + 'static,
        F: Future<Output = std::result::Result<(), HandlerError>> + Send + 'static,
    {
        let mut report = ProcessReport::default();
        if let Err(error) = options.validate() {
            report.stopped_by = Some(error);
            return report;
        }
        let (handler, options) = (Arc::new(handler), Arc::new(options));
        let held = Arc::new(HeldLocks::default());
        let renewer = tokio::spawn({
            let (receiver, held) = (self.clone(), held.clone());
            let every = options.lock_renewal_interval;
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    let tokens = held.snapshot();
                    if !tokens.is_empty() {
                        // A lock that could not be renewed shows when its event is settled.
                        let _renewed = receiver.renew_locks(&tokens).await;
                    }
                }
            }
        });
        // Bounded: a slow settlement holds handlers' tasks, and so the receives, back.
        let (finished, settled) = mpsc::channel(options.max_concurrency + options.prefetch);
        let settler = tokio::spawn(self.clone().settle_batched(
            settled,
            held.clone(),
            options.settle_linger,
        ));
        // Prefetched events' tasks wait here (in order: the semaphore is fair) for a handler.
        let handlers = Arc::new(Semaphore::new(options.max_concurrency));
        let mut tasks = JoinSet::new();
        while !shutdown.is_triggered() {
            while let Some(done) = tasks.try_join_next() {
                report.merge(done.unwrap_or_else(panicked));
            }
            let count = options.receive_count(tasks.len());
            if count == 0 {
                if let Some(done) = tasks.join_next().await {
                    report.merge(done.unwrap_or_else(panicked));
                }
                continue;
            }
            let (events, rejects) = tokio::select! {
                biased; // Events already received are handled, even when shutdown came too.
                received = self.receive(count, options.max_wait) => match received {
                    Ok(batch) => report.sort_out(batch),
                    Err(error) => {
                        report.stopped_by = Some(error);
                        break;
                    }
                },
                () = shutdown.triggered() => break,
            };
            if !rejects.is_empty() {
                report.record(Verdict::Reject, self.reject(&rejects).await);
            }
            held.hold(&events);
            for event in events {
                let (handler, options, held) = (handler.clone(), options.clone(), held.clone());
                let (handlers, finished) = (handlers.clone(), finished.clone());
                tasks.spawn(async move {
                    let mut report = ProcessReport::default();
                    let (token, count) = (event.lock_token.clone(), event.delivery_count);
                    let verdict = match options.before_handling(&event) {
                        Some(verdict) => verdict,
                        None => {
                            let _slot = handlers.acquire().await;
                            let ran = AssertUnwindSafe(handler(event)).catch_unwind().await;
                            report.handler_panics += u64::from(ran.is_err());
                            let outcome = ran.unwrap_or_else(|_| Err(HandlerError::retry("panic")));
                            options.after_handling(count, &outcome)
                        }
                    };
                    held.release(&token);
                    // The settler outlives every sender.
                    let _sent = finished.send((verdict, token)).await;
                    report
                });
            }
        }
        while let Some(done) = tasks.join_next().await {
            report.merge(done.unwrap_or_else(panicked));
        }
        drop(finished);
        report.merge(settler.await.unwrap_or_else(panicked));
        renewer.abort();
        report
    }

    /// Settles finished events' tokens as the core's batcher groups them, until every sender
    /// is gone; then settles what is left.
    async fn settle_batched(
        self,
        mut finished: mpsc::Receiver<(Verdict, String)>,
        held: Arc<HeldLocks>,
        linger: Duration,
    ) -> ProcessReport {
        let (mut report, mut batcher) = (ProcessReport::default(), SettlementBatcher::new(linger));
        loop {
            let next = match batcher.deadline() {
                Some(at) => tokio::time::timeout_at(at.into(), finished.recv()).await,
                None => Ok(finished.recv().await),
            };
            let now = Instant::now();
            let batches = match next {
                Ok(Some(first)) => {
                    let rest = std::iter::from_fn(|| finished.try_recv().ok());
                    batcher.add_ready(std::iter::once(first).chain(rest), now, held.is_empty())
                }
                Ok(None) => batcher.drain(),
                Err(_elapsed) => batcher.due(now),
            };
            for batch in batches {
                let settled = self
                    .settle(batch.verdict.settlement(), &batch.lock_tokens)
                    .await;
                report.record(batch.verdict, settled);
            }
            if batcher.is_empty() && finished.is_closed() && finished.is_empty() {
                return report;
            }
        }
    }
}

/// A task that panicked outside the handler (which is caught): counted, not lost silently.
fn panicked(_: tokio::task::JoinError) -> ProcessReport {
    ProcessReport::handler_panicked()
}
