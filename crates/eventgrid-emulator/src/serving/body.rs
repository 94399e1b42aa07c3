//! Reading request bodies: bounded in size and time, into one contiguous buffer per body.
//!
//! Bodies are read into reusable buffers, and what a topic keeps of one is copied out of it
//! (each event's own bytes, not the whitespace and other events around them). A large body read
//! into freshly allocated memory costs a page fault per 4 KB page: the allocator hands such
//! blocks back to the kernel when they are freed, so every request would fault its buffer in
//! again (measured at about a third of the CPU for 265 KB bodies). A pooled buffer's pages stay
//! mapped.

use std::ops::Deref;
#[cfg(test)]
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use tokio::sync::{Semaphore, SemaphorePermit};

/// A body bigger than this is not even drained before answering; the connection closes.
const MAX_DRAINED_BYTES: u64 = 64 * 1024 * 1024;

/// A request body: hyper's, when served over a socket, or a whole one in memory (see
/// [`InProcessEmulator`](crate::serving::in_process::InProcessEmulator)).
pub(crate) trait RequestBody:
    Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + Unpin
{
}

impl<B> RequestBody for B where
    B: Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + Unpin
{
}

/// What reading a body gave.
pub(crate) enum ReadBody<'p> {
    /// The whole body, within the limit.
    Complete(PooledBuffer<'p>),
    /// Over the request limit; this many bytes were seen.
    TooLarge(u64),
    /// The body did not arrive within the time-out.
    TimedOut,
}

/// Reads the body up to `limit` bytes into a buffer from `pool` (once the pool's budget has
/// room for it: waiting for room counts in the time-out), copying each frame as it arrives so
/// that hyper can reuse its read buffer; beyond the limit, drains (so the client can read the
/// 413) without keeping anything. `Err` when the client went away mid-body.
pub(crate) async fn read_body<'p, B: RequestBody>(
    mut body: B,
    limit: usize,
    pool: &'p BodyPool,
    timeout: Duration,
) -> Result<ReadBody<'p>, B::Error> {
    let limit = limit as u64;
    let capacity = body
        .size_hint()
        .exact()
        .filter(|length| *length <= limit)
        .unwrap_or(0) as usize;
    let reserved = body
        .size_hint()
        .exact()
        .map_or(limit, |length| length.min(limit)) as usize;
    let reading = async {
        let mut kept = pool.take(capacity, reserved).await;
        let mut seen: u64 = 0;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            seen += data.len() as u64;
            if seen <= limit {
                kept.extend_from_slice(&data);
            } else if seen > MAX_DRAINED_BYTES {
                break;
            }
        }
        Ok::<_, B::Error>((kept, seen))
    };
    match tokio::time::timeout(timeout, reading).await {
        Err(_) => Ok(ReadBody::TimedOut),
        Ok(Err(error)) => Err(error),
        Ok(Ok((_, seen))) if seen > limit => Ok(ReadBody::TooLarge(seen)),
        Ok(Ok((kept, _))) => Ok(ReadBody::Complete(kept)),
    }
}

/// A small body (a form, a fault specification) read whole.
pub(crate) enum SmallBody {
    Complete(Bytes),
    /// Over the limit, or the client went away.
    TooLarge,
    TimedOut,
}

/// Reads a body of at most `limit` bytes within `timeout`.
pub(crate) async fn read_small_body<B: RequestBody>(
    body: B,
    limit: usize,
    timeout: Duration,
) -> SmallBody {
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => SmallBody::TimedOut,
        Ok(Err(_)) => SmallBody::TooLarge,
        Ok(Ok(collected)) => SmallBody::Complete(collected.to_bytes()),
    }
}

/// Reads and forgets the body of a request answered without it (refused, or a fault), up to
/// [`MAX_DRAINED_BYTES`] and `timeout`, so that the client, still sending, can read the answer
/// rather than a reset connection. A client that waits for `100 Continue` is answered at once
/// instead: it sends nothing more.
pub(crate) async fn discard_body<B: RequestBody>(
    mut body: B,
    expects_continue: bool,
    timeout: Duration,
) {
    if expects_continue {
        return;
    }
    let draining = async {
        let mut seen: u64 = 0;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len() as u64;
                if seen > MAX_DRAINED_BYTES {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(timeout, draining).await;
}

/// The budget of body memory is counted in units of this many bytes.
const BUDGET_UNIT: usize = 1024;

/// Buffers waiting for the next body, with a bound on the memory they hold, and a budget for
/// the bodies being read and checked at once.
#[derive(Debug)]
pub(crate) struct BodyPool {
    free: Mutex<Vec<Vec<u8>>>,
    max_pooled_bytes: usize,
    budget: Semaphore,
    budget_units: u32,
}

impl BodyPool {
    /// A pool that keeps at most `max_pooled_bytes` of spare capacity and lends buffers for at
    /// most `max_lent_bytes` of bodies at once.
    pub(crate) fn new(max_pooled_bytes: usize, max_lent_bytes: usize) -> Self {
        let budget_units = (max_lent_bytes / BUDGET_UNIT)
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize))
            as u32;
        Self {
            free: Mutex::new(Vec::new()),
            max_pooled_bytes,
            budget: Semaphore::new(budget_units as usize),
            budget_units,
        }
    }

    /// Waits until a body of up to `reserved` bytes fits in the budget, then lends an empty
    /// buffer with room for `capacity` bytes; the buffer and its share of the budget come back
    /// when it is dropped. A body larger than the whole budget waits for all of it.
    pub(crate) async fn take(&self, capacity: usize, reserved: usize) -> PooledBuffer<'_> {
        let units = reserved
            .div_ceil(BUDGET_UNIT)
            .clamp(1, self.budget_units as usize) as u32;
        let budget = self
            .budget
            .acquire_many(units)
            .await
            .expect("the budget is never closed");
        let reused = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut bytes = reused.unwrap_or_default();
        bytes.reserve(capacity);
        PooledBuffer {
            bytes,
            pool: self,
            _budget: budget,
        }
    }

    fn give_back(&self, mut bytes: Vec<u8>) {
        bytes.clear();
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pooled: usize = free.iter().map(Vec::capacity).sum();
        if pooled + bytes.capacity() <= self.max_pooled_bytes {
            free.push(bytes);
        }
    }
}

/// A body buffer on loan from a [`BodyPool`].
#[derive(Debug)]
pub(crate) struct PooledBuffer<'a> {
    bytes: Vec<u8>,
    pool: &'a BodyPool,
    _budget: SemaphorePermit<'a>,
}

impl PooledBuffer<'_> {
    pub(crate) fn extend_from_slice(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }
}

impl Deref for PooledBuffer<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for PooledBuffer<'_> {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn buffers_come_back_empty_with_their_capacity() {
        let pool = BodyPool::new(1 << 20, 1 << 20);
        let mut buffer = pool.take(1000, 1000).await;
        buffer.extend_from_slice(b"[1,2]");
        assert_eq!(&*buffer, b"[1,2]");
        drop(buffer);
        let again = pool.take(10, 10).await;
        assert!(again.is_empty());
        assert!(again.bytes.capacity() >= 1000);
    }

    #[tokio::test]
    async fn keeps_no_more_than_its_bound() {
        let pool = BodyPool::new(1500, 1 << 20);
        let first = pool.take(1000, 1000).await;
        let second = pool.take(1000, 1000).await;
        drop(first);
        drop(second);
        assert_eq!(pool.free.lock().unwrap().len(), 1);
    }

    /// Bodies being read wait for room in the budget: many connections sending large bodies
    /// at once cannot take more memory than it.
    #[tokio::test]
    async fn lends_no_more_than_its_budget() {
        let pool = Arc::new(BodyPool::new(0, 4 * BUDGET_UNIT));
        let first = pool.take(0, 3 * BUDGET_UNIT).await;
        let waiting = tokio::spawn({
            let pool = Arc::clone(&pool);
            async move { pool.take(0, 2 * BUDGET_UNIT).await.len() }
        });
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "lent beyond the budget");
        drop(first);
        assert_eq!(waiting.await.unwrap(), 0);
        let whole = pool.take(0, usize::MAX).await;
        drop(whole);
    }
}
