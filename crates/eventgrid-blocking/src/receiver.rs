//! [`Receiver`]: pull delivery from a namespace topic's subscription, each call one operation
//! of the core's engine.

use std::time::{Duration, Instant};

use eventgrid_core::frontend::Subscription;
use eventgrid_core::{ReceivedEvent, ReleaseDelay, Result, SettlementKind, SettlementResult};

use crate::EventGridClient;

/// Receives events from one subscription of a namespace topic and settles them. Made by
/// [`EventGridClient::receiver`]; cheap to clone.
///
/// Every settlement answers which lock tokens succeeded and which failed (the service answers
/// 200 either way): the [`SettlementResult`] must be used, and
/// [`into_result`](SettlementResult::into_result) turns any failed token into an error.
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
    /// whole seconds, within the client's request time-out) for the first: answered at once
    /// when events are there, and empty when none came. Each event is locked until settled or
    /// until the subscription's lock duration passes.
    pub fn receive(&self, max_events: usize, max_wait: Duration) -> Result<Vec<ReceivedEvent>> {
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
}
