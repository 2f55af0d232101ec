//! The tokio runtime shared by every client of this process, and the one way Python threads wait
//! for it.
//!
//! Threading model:
//! - Core futures run on the runtime's worker threads (`sfcrm-worker`), never on a Python thread.
//! - A Python thread that calls a blocking method spawns the work as a task and waits for its result
//!   on a channel **with the GIL released** (`py.detach`), in slices of [`SLICE`]; between slices
//!   it re-takes the GIL for `py.check_signals()`, so Ctrl-C raises `KeyboardInterrupt` within
//!   about [`SLICE`] (well under a second).
//! - Python callbacks (token store methods) never run on a worker thread: [`call_python`] moves
//!   them to tokio's blocking pool (`spawn_blocking`) and takes the GIL there only for the call,
//!   so a slow or GIL-starved callback cannot stall the workers other requests need.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;
use sfcrm_core::Error;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// How long a waiting Python thread stays detached before it checks for signals again.
pub const SLICE: Duration = Duration::from_millis(50);

/// The process-wide runtime (created on first use; two worker threads are plenty for I/O-bound
/// work and the machine this targets is small; callbacks use the blocking pool).
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sfcrm-worker")
            .enable_all()
            .build()
            .expect("failed to start the sfcrm tokio runtime")
    })
}

/// How long an interrupted single call may still run (GIL released) before `KeyboardInterrupt` is
/// raised; it keeps running in the background afterwards.
pub const DETACH_GRACE: Duration = Duration::from_millis(300);

/// Runs `fut` on the runtime and waits for its output with the GIL released.
///
/// Raises the pending signal's exception (usually `KeyboardInterrupt`) within about [`SLICE`]
/// after it arrives (plus up to [`DETACH_GRACE`] for the operation to finish); the operation then
/// runs to completion in the background, so its store writes are never cut half-way by the
/// interrupt itself.
pub fn wait<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    // Give the operation a moment to finish (e.g. a refresh persisting its new tokens), so a script
    // that exits on Ctrl-C rarely abandons it half-way; the lease protocol covers the rest (a lease
    // left behind expires after `refresh_lease_ttl`).
    wait_hooked(py, fut, |_| Ok(()), |_handle| Some(DETACH_GRACE))
}

/// [`wait`] with hooks: `tick` runs with the GIL between slices (e.g. to call a Python progress
/// callback; an error from it ends the wait and is returned after `on_stop`), `on_stop` runs when
/// the wait ends early (signal or tick error) with the task's handle; when it returns a grace
/// period, the task is given that long (GIL released) to wind down, e.g. to remove a temporary
/// file, so that a process exiting on the `KeyboardInterrupt` does not cut its cleanup short.
pub fn wait_hooked<F, T>(
    py: Python<'_>,
    fut: F,
    mut tick: impl FnMut(Python<'_>) -> PyResult<()>,
    on_stop: impl FnOnce(&JoinHandle<()>) -> Option<Duration>,
) -> PyResult<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel::<T>(1);
    let handle: JoinHandle<()> = runtime().spawn(async move {
        let out = fut.await;
        let _ = tx.send(out);
    });
    let mut rx = rx;
    loop {
        // The receiver moves in and out of the GIL-free closure (it is Send but not Sync).
        let (got, back) = py.detach(move || {
            let got = rx.recv_timeout(SLICE);
            (got, rx)
        });
        rx = back;
        match got {
            Ok(v) => return Ok(v),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "sfcrm: the background task ended without a result (it panicked)",
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals().and_then(|_| tick(py)) {
                    if let Some(grace) = on_stop(&handle) {
                        let _ = py.detach(move || rx.recv_timeout(grace).map(|_| ()));
                    }
                    return Err(e);
                }
            }
        }
    }
}

/// Runs a Python callback `f` from core code: on tokio's blocking pool with the GIL taken for the
/// call only (inline when no runtime is current). A task that cannot complete (the runtime shutting
/// down) is a `Store` error: the only callbacks are token store methods.
pub async fn call_python<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce(Python<'_>) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(move || Python::attach(f))
            .await
            .map_err(|e| Error::store(format!("the Python token store call did not complete: {e}")))?,
        Err(_) => Python::attach(f),
    }
}
