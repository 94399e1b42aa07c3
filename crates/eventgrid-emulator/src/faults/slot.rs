//! [`FaultSlot`]: a topic's fault rules, cheap to consult when there are none. Basic topics and
//! namespace topics hold one each.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::faults::FaultSpec;
use crate::faults::state::{FaultDecision, FaultState};

/// The fault rules of one topic and their random draws.
#[derive(Debug, Default)]
pub(crate) struct FaultSlot {
    /// Whether any rule is set: read without the lock on every request.
    armed: AtomicBool,
    state: Mutex<Option<FaultState>>,
}

impl FaultSlot {
    /// Replaces the rules (`None`, or a spec without rules, removes them).
    pub(crate) fn set(&self, spec: Option<FaultSpec>) {
        let state = spec
            .filter(|spec| !spec.rules().is_empty())
            .map(FaultState::new);
        let mut slot = self.lock();
        self.armed.store(state.is_some(), Ordering::Release);
        *slot = state;
    }

    /// The rules in force.
    pub(crate) fn spec(&self) -> Option<FaultSpec> {
        self.lock().as_ref().map(|state| state.spec().clone())
    }

    /// The faults for the next request (none, cheaply, when no rule is set).
    pub(crate) fn decide(&self) -> FaultDecision {
        if !self.armed.load(Ordering::Acquire) {
            return FaultDecision::default();
        }
        self.lock()
            .as_mut()
            .map(FaultState::decide)
            .unwrap_or_default()
    }

    fn lock(&self) -> MutexGuard<'_, Option<FaultState>> {
        // The rules stay consistent even if a thread panicked while holding the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A topic with fault rules: basic topics and namespace topics, so that one HTTP resource
/// (`/_emulator/faults/..`, `/_emulator/namespace/faults/..`) serves both.
pub(crate) trait HasFaults {
    fn fault_slot(&self) -> &FaultSlot;
}
