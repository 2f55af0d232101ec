//! The internal tokio runtime behind the blocking C calls.
//!
//! Each client handle owns one multi-thread runtime (2 worker threads, named `sfcrm-worker`). A
//! blocking call spawns the operation on the runtime and waits for it, so the core's futures and the
//! host's callbacks (token store, write, progress) always run on `sfcrm-worker` threads, never on the
//! calling thread. A blocking call made from one of those threads (e.g. from inside a callback) is
//! refused with `SFCRM_RESULT_REENTRANT` instead of deadlocking or panicking.

use std::future::Future;
use std::sync::Arc;

use crate::error::FfiError;
use crate::result::sfcrm_result;

/// Name of every thread the SDK runs host callbacks on.
pub(crate) const THREAD_NAME: &str = "sfcrm-worker";

/// A shared runtime (a client and its export cursors hold clones).
#[derive(Clone)]
pub(crate) struct Rt(Arc<Owned>);

/// The runtime itself. Dropping a runtime from inside a runtime thread panics in tokio, and
/// dropping it anywhere blocks until its threads stop; so when the last reference goes away on an
/// SDK thread (a host freeing a client from a callback), the drop moves to a fresh thread.
struct Owned(Option<tokio::runtime::Runtime>);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(rt));
            } else {
                drop(rt);
            }
        }
    }
}

impl std::ops::Deref for Owned {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("the runtime is present until drop")
    }
}

impl Rt {
    pub(crate) fn new() -> Result<Self, FfiError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(8)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()
            .map(|rt| Rt(Arc::new(Owned(Some(rt)))))
            .map_err(|e| {
                FfiError::new(
                    sfcrm_result::Internal,
                    format!("could not start the SDK's runtime: {e}"),
                )
            })
    }

    /// Runs `fut` on the runtime and waits for it on the calling thread.
    pub(crate) fn block_on<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, FfiError>> + Send + 'static,
    ) -> Result<T, FfiError> {
        check_not_reentrant()?;
        let task = self.0.spawn(fut);
        match self.0.block_on(task) {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(FfiError::new(
                sfcrm_result::Panic,
                format!(
                    "internal error (panic in the SDK runtime): {}",
                    crate::panic::panic_message(&*e.into_panic())
                ),
            )),
            Err(_) => Err(FfiError::new(
                sfcrm_result::Cancelled,
                "the operation was cancelled (runtime shutting down)",
            )),
        }
    }
}

/// Refuses a blocking call from inside an SDK runtime thread.
pub(crate) fn check_not_reentrant() -> Result<(), FfiError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(FfiError::new(
            sfcrm_result::Reentrant,
            "a blocking sfcrm call was made from an SDK runtime thread (inside a callback); call it from your own thread",
        ));
    }
    Ok(())
}
