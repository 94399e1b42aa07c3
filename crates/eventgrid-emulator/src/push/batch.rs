//! Batching of deliveries: up to `maxEventsPerBatch` events and, where possible, no more than
//! `preferredBatchSizeInKilobytes`; an event larger than that still goes, alone.

use serde::{Deserialize, Serialize};

/// How many events one delivery request may carry.
///
/// ```
/// use eventgrid_emulator::BatchPolicy;
///
/// let policy = BatchPolicy::new(10, 64).unwrap();
/// assert_eq!(policy.max_events_per_batch, 10);
/// assert_eq!(BatchPolicy::default().max_events_per_batch, 1);
/// assert!(BatchPolicy::new(5001, 64).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BatchPolicy {
    /// Most events per request: 1 to 5,000 (default 1, as the service's).
    pub max_events_per_batch: usize,
    /// Preferred largest request, in kilobytes (1,024 bytes): 1 to 1,024 (default 64).
    pub preferred_batch_size_in_kilobytes: usize,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        Self {
            max_events_per_batch: 1,
            preferred_batch_size_in_kilobytes: 64,
        }
    }
}

impl BatchPolicy {
    /// A policy within the service's bounds, or the reason it is not.
    pub fn new(
        max_events_per_batch: usize,
        preferred_batch_size_in_kilobytes: usize,
    ) -> Result<Self, String> {
        let policy = Self {
            max_events_per_batch,
            preferred_batch_size_in_kilobytes,
        };
        policy.validate()?;
        Ok(policy)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(1..=5000).contains(&self.max_events_per_batch) {
            return Err(format!(
                "maxEventsPerBatch is {}; it must be 1 to 5000",
                self.max_events_per_batch
            ));
        }
        if !(1..=1024).contains(&self.preferred_batch_size_in_kilobytes) {
            return Err(format!(
                "preferredBatchSizeInKilobytes is {}; it must be 1 to 1024",
                self.preferred_batch_size_in_kilobytes
            ));
        }
        Ok(())
    }

    /// How many of the events whose encoded sizes `sizes` yields (in queue order) go in the
    /// next batch: at least one when there is one.
    pub(crate) fn take(&self, sizes: impl IntoIterator<Item = usize>) -> usize {
        let budget = self.preferred_batch_size_in_kilobytes * 1024;
        // The enclosing `[` `]` and the commas between events count too.
        let mut used = 2;
        let mut count = 0;
        for size in sizes.into_iter().take(self.max_events_per_batch) {
            let with_separator = size + usize::from(count > 0);
            if count > 0 && used + with_separator > budget {
                break;
            }
            used += with_separator;
            count += 1;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_limit_applies() {
        let policy = BatchPolicy::new(3, 1024).unwrap();
        assert_eq!(policy.take([10; 10]), 3);
        assert_eq!(policy.take([10; 2]), 2);
        assert_eq!(policy.take([]), 0);
        assert_eq!(BatchPolicy::default().take([10; 10]), 1);
    }

    #[test]
    fn the_preferred_size_closes_a_batch_but_a_large_event_goes_alone() {
        let policy = BatchPolicy::new(100, 1).unwrap();
        // 2 + 400 + 401 = 803; a third would make 1,204 > 1,024.
        assert_eq!(policy.take([400, 400, 400]), 2);
        assert_eq!(policy.take([5000, 10]), 1, "an oversized event goes alone");
        assert_eq!(policy.take([10, 5000]), 1, "and does not join a batch");
    }

    #[test]
    fn bounds_are_the_services() {
        assert!(BatchPolicy::new(0, 64).unwrap_err().contains("1 to 5000"));
        assert!(BatchPolicy::new(1, 0).unwrap_err().contains("1 to 1024"));
        assert!(BatchPolicy::new(1, 1025).is_err());
        assert!(BatchPolicy::new(5000, 1024).is_ok());
    }
}
