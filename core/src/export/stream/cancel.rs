//! [`CancelHandle`]: stops a stream from any thread.

use std::sync::Arc;

use tokio::sync::watch;

/// Cancels a stream from any thread: [`CancelHandle::cancel`]. The stream's prefetch task stops at
/// once and [`super::ExportStream::next_batch`] returns `Cancelled`.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        CancelHandle::new()
    }
}

impl CancelHandle {
    /// A new handle, not cancelled; give it to [`crate::export::ExportRequest::cancel_with`].
    pub fn new() -> Self {
        CancelHandle { tx: Arc::new(watch::channel(false).0) }
    }
    /// Requests cancellation (idempotent; no runtime needed).
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }
    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }
    pub(super) fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
    pub(super) async fn cancelled(mut rx: watch::Receiver<bool>) {
        // Err = every sender dropped: nobody can observe the stream any more; stop too.
        let _ = rx.wait_for(|c| *c).await;
    }
}
