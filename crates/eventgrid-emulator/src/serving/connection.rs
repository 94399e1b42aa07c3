//! The connections being served: at most so many at once, each closed once idle, all closed
//! gracefully at shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::watch;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The room for connections, and how long one may stay idle.
#[derive(Debug)]
pub(crate) struct Connections {
    permits: Arc<Semaphore>,
    max: u32,
    pub idle_timeout: Duration,
}

impl Connections {
    /// Room for `max` connections (at least one), each closed after `idle_timeout` without a
    /// request in progress.
    pub(crate) fn new(max: usize, idle_timeout: Duration) -> Self {
        let max = max.clamp(1, u32::MAX as usize).min(Semaphore::MAX_PERMITS) as u32;
        Self {
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
            idle_timeout,
        }
    }

    /// Waits until there is room for one more connection; the room is given back when the
    /// permit is dropped. Further clients wait in the listener's backlog meanwhile.
    pub(crate) async fn room(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Waits until every connection has ended, or `grace` has passed.
    pub(crate) async fn drained(&self, grace: Duration) {
        let _ = tokio::time::timeout(grace, self.permits.acquire_many(self.max)).await;
    }
}

/// Requests in progress on one connection, to tell when it is idle.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    in_progress: AtomicUsize,
    changed: Notify,
}

/// One request in progress; dropping it ends it.
#[derive(Debug)]
pub(crate) struct InProgress(Arc<Activity>);

impl Activity {
    pub(crate) fn begin(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        InProgress(Arc::clone(self))
    }

    /// Resolves once no request has been in progress for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before looking, so that a change in between is not missed.
            changed.as_mut().enable();
            if self.in_progress.load(Ordering::SeqCst) == 0 {
                if tokio::time::timeout(timeout, changed).await.is_err() {
                    return;
                }
            } else {
                changed.await;
            }
        }
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// How long a connection asked to close may take to finish its requests (and, for HTTP/2, to
/// have its peer acknowledge the close) before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves `connection` until it ends, asking it to close gracefully (finishing the requests
/// in progress) once it has been idle for `idle_timeout` or when `shutdown` turns true.
pub(crate) async fn drive<C: GracefulConnection>(
    connection: C,
    activity: &Activity,
    idle_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        // A connection ending in error is the client's business or a dropped-connection fault;
        // neither is news.
        _ = connection.as_mut() => return,
        () = activity.idle_for(idle_timeout) => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(CLOSE_GRACE, connection).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_means_no_request_in_progress_for_the_whole_time_out() {
        let activity = Arc::new(Activity::default());
        let request = activity.begin();
        let waiting = tokio::time::timeout(
            Duration::from_millis(50),
            activity.idle_for(Duration::from_millis(1)),
        );
        assert!(
            waiting.await.is_err(),
            "busy while a request is in progress"
        );
        drop(request);
        tokio::time::timeout(
            Duration::from_secs(10),
            activity.idle_for(Duration::from_millis(1)),
        )
        .await
        .expect("idle once the request ended");
    }
}
