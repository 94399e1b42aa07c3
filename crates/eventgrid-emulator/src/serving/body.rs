//! Reading request bodies: bounded, into one contiguous buffer per body.
//!
//! Bodies that are validated and then forgotten go into reusable buffers.
//! A large body read into freshly allocated memory costs a page fault per 4 KB page: the
//! allocator hands such blocks back to the kernel when they are freed, so every request would
//! fault its buffer in again (measured at about a third of the CPU for 265 KB bodies). Bodies
//! that are not kept (a topic with `--retain 0`, or a request that fails) are read into a buffer
//! from this pool instead, whose pages stay mapped.

use std::ops::Deref;
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

/// A body bigger than this is not even drained before answering 413; the connection closes.
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

/// What reading the body gave.
pub(crate) enum ReadBody<'p> {
    Complete(BodyBytes<'p>),
    /// Over the request limit; this many bytes were seen.
    TooLarge(u64),
}

/// A whole request body in one contiguous buffer.
pub(crate) enum BodyBytes<'p> {
    /// Kept by a topic that retains events: they are stored as slices of it.
    Kept(Bytes),
    /// Only validated; its memory serves a later request.
    Pooled(PooledBuffer<'p>),
}

impl Deref for BodyBytes<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BodyBytes::Kept(bytes) => bytes,
            BodyBytes::Pooled(buffer) => buffer,
        }
    }
}

/// A body being read into [`BodyBytes`].
pub(crate) enum BodyWriter<'p> {
    Kept(BytesMut),
    Pooled(PooledBuffer<'p>),
}

impl<'p> BodyWriter<'p> {
    fn extend_from_slice(&mut self, data: &[u8]) {
        match self {
            BodyWriter::Kept(bytes) => bytes.extend_from_slice(data),
            BodyWriter::Pooled(buffer) => buffer.extend_from_slice(data),
        }
    }

    fn finish(self) -> BodyBytes<'p> {
        match self {
            BodyWriter::Kept(bytes) => BodyBytes::Kept(bytes.freeze()),
            BodyWriter::Pooled(buffer) => BodyBytes::Pooled(buffer),
        }
    }
}

/// Reads the body up to `limit` bytes into one buffer (from `pool` when given), copying each
/// frame as it arrives so that hyper can reuse its read buffer; beyond the limit, drains (so the
/// client can read the 413) without keeping anything.
pub(crate) async fn read_body<'p, B: RequestBody>(
    mut body: B,
    limit: usize,
    pool: Option<&'p BodyPool>,
) -> Result<ReadBody<'p>, B::Error> {
    let limit = limit as u64;
    let capacity = body
        .size_hint()
        .exact()
        .filter(|length| *length <= limit)
        .unwrap_or(0) as usize;
    let mut kept = match pool {
        Some(pool) => BodyWriter::Pooled(pool.take(capacity)),
        None => BodyWriter::Kept(BytesMut::with_capacity(capacity)),
    };
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
    if seen > limit {
        Ok(ReadBody::TooLarge(seen))
    } else {
        Ok(ReadBody::Complete(kept.finish()))
    }
}

/// Buffers waiting for the next body, with a bound on the memory they hold.
#[derive(Debug)]
pub(crate) struct BodyPool {
    free: Mutex<Vec<Vec<u8>>>,
    max_pooled_bytes: usize,
}

impl BodyPool {
    /// A pool that keeps at most `max_pooled_bytes` of spare capacity.
    pub(crate) fn new(max_pooled_bytes: usize) -> Self {
        Self {
            free: Mutex::new(Vec::new()),
            max_pooled_bytes,
        }
    }

    /// An empty buffer with room for `capacity` bytes, returned to the pool when dropped.
    pub(crate) fn take(&self, capacity: usize) -> PooledBuffer<'_> {
        let reused = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut bytes = reused.unwrap_or_default();
        bytes.reserve(capacity);
        PooledBuffer { bytes, pool: self }
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

    #[test]
    fn buffers_come_back_empty_with_their_capacity() {
        let pool = BodyPool::new(1 << 20);
        let mut buffer = pool.take(1000);
        buffer.extend_from_slice(b"[1,2]");
        assert_eq!(&*buffer, b"[1,2]");
        drop(buffer);
        let again = pool.take(10);
        assert!(again.is_empty());
        assert!(again.bytes.capacity() >= 1000);
    }

    #[test]
    fn keeps_no_more_than_its_bound() {
        let pool = BodyPool::new(1500);
        let first = pool.take(1000);
        let second = pool.take(1000);
        drop(first);
        drop(second);
        assert_eq!(pool.free.lock().unwrap().len(), 1);
    }
}
