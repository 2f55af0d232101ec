//! Calling into the host: the C callback structs and the only place their function pointers are
//! called. Everything that interprets what a callback returned is safe code elsewhere (`store.rs`,
//! `export.rs`, `export_request.rs`).
//!
//! Threads: the SDK calls these callbacks on its runtime threads (named `sfcrm-worker`), possibly
//! several at once, never on the thread that made the `sfcrm_*` call. `user_data` must be usable
//! from any thread.

use std::ffi::{CString, c_char, c_void};
use std::sync::{Arc, Mutex};

use sfcrm_core::ConnectionKey;

use crate::ptr::{self, Handle, UserData};

/// Status returned by token store callbacks (as a `uint32_t`). Any other value is treated as a
/// store error.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sfcrm_store_status {
    /// load: found (the document was set with `sfcrm_store_reply_set_document`);
    /// save: written; remove: a document existed and was removed.
    Ok = 0,
    /// load: no document for this key; remove: there was none.
    NotFound = 1,
    /// save: the stored version is not the expected one (or a document exists when
    /// `has_expected_version` is false); nothing was written.
    Conflict = 2,
    /// The store failed; give a reason with `sfcrm_store_reply_set_error`.
    Error = 3,
}

/// A token store implemented by the host. Passed by pointer to `sfcrm_store_new_callbacks`, which
/// copies it.
///
/// Every callback receives `user_data` first and an `sfcrm_store_reply *` last, through which it
/// hands back a document (`sfcrm_store_reply_set_document`, copied) or an error message
/// (`sfcrm_store_reply_set_error`). The reply is valid only during the callback. Each callback
/// returns an `sfcrm_store_status` value.
///
/// The document is the core's connection document as JSON (schema 1; see ffi/README.md, "Token store
/// document"): store it as an opaque string keyed by (`account_id`, `owner`) and return it
/// unchanged. `version` increases by one on every save; `save` must be a compare-and-swap: write only
/// when the stored version equals `expected_version` (or, when `has_expected_version` is false, only
/// when no document exists), atomically with respect to every other save/remove on the same key in
/// every process sharing the store.
///
/// Threads: called on SDK runtime threads (`sfcrm-worker`), possibly concurrently. A callback must
/// not call blocking `sfcrm_*` functions (they return `SFCRM_RESULT_REENTRANT`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct sfcrm_store_callbacks {
    /// Passed first to every callback; owned by the store once `sfcrm_store_new_callbacks` succeeds.
    pub user_data: *mut c_void,
    /// Required. Look up the document for (`account_id`, `owner`). Return `SFCRM_STORE_STATUS_OK`
    /// after setting the document, `SFCRM_STORE_STATUS_NOT_FOUND`, or `SFCRM_STORE_STATUS_ERROR`.
    pub load: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            account_id: *const c_char,
            owner: *const c_char,
            reply: *mut sfcrm_store_reply,
        ) -> u32,
    >,
    /// Required. Compare-and-swap write of `document_json` (`document_len` bytes, also
    /// NUL-terminated; its `"version"` is `new_version`). Return `SFCRM_STORE_STATUS_OK`,
    /// `SFCRM_STORE_STATUS_CONFLICT` or `SFCRM_STORE_STATUS_ERROR`.
    pub save: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            account_id: *const c_char,
            owner: *const c_char,
            document_json: *const c_char,
            document_len: usize,
            new_version: u64,
            has_expected_version: bool,
            expected_version: u64,
            reply: *mut sfcrm_store_reply,
        ) -> u32,
    >,
    /// Required. Delete the document (named `remove` because `delete` is a C++ keyword). Return
    /// `SFCRM_STORE_STATUS_OK` (removed), `SFCRM_STORE_STATUS_NOT_FOUND` or `SFCRM_STORE_STATUS_ERROR`.
    pub remove: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            account_id: *const c_char,
            owner: *const c_char,
            reply: *mut sfcrm_store_reply,
        ) -> u32,
    >,
    /// Optional finalizer: called exactly once with `user_data` when the library drops the store
    /// (after `sfcrm_store_free` and after every client using the store is freed), on whichever
    /// thread drops it last.
    pub free_user_data: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

/// What a store callback handed back, valid only during the callback.
pub struct sfcrm_store_reply {
    _private: [u8; 0],
}

/// The data behind an `sfcrm_store_reply *`.
#[derive(Default)]
pub(crate) struct ReplyData {
    pub(crate) document: Option<Vec<u8>>,
    pub(crate) error: Option<String>,
}

impl Handle for sfcrm_store_reply {
    type Inner = Mutex<ReplyData>;
    const C_NAME: &'static str = "sfcrm_store_reply";
}

type LoadFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut sfcrm_store_reply) -> u32;
type SaveFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *const c_char,
    usize,
    u64,
    bool,
    u64,
    *mut sfcrm_store_reply,
) -> u32;
type FreeFn = unsafe extern "C" fn(*mut c_void);

/// A validated copy of the host's callbacks; calls `free_user_data` when dropped.
pub(crate) struct HostStore {
    user_data: UserData,
    load: LoadFn,
    save: SaveFn,
    remove: LoadFn,
    free_user_data: Option<FreeFn>,
}

impl HostStore {
    /// Copies the struct; `None` names the first missing required callback.
    pub(crate) fn from_callbacks(cb: &sfcrm_store_callbacks) -> Result<Self, &'static str> {
        Ok(HostStore {
            user_data: UserData(cb.user_data),
            load: cb.load.ok_or("load")?,
            save: cb.save.ok_or("save")?,
            remove: cb.remove.ok_or("remove")?,
            free_user_data: cb.free_user_data,
        })
    }

    fn with_reply(f: impl FnOnce(*mut sfcrm_store_reply) -> u32) -> (u32, ReplyData) {
        let reply = ptr::new_handle::<sfcrm_store_reply>(Mutex::new(ReplyData::default()));
        let status = f(reply);
        let data = match ptr::handle(reply as *const sfcrm_store_reply, "reply") {
            Ok(m) => std::mem::take(&mut *m.lock().unwrap_or_else(|e| e.into_inner())),
            Err(_) => ReplyData::default(),
        };
        ptr::free_handle(reply);
        (status, data)
    }

    pub(crate) fn call_load(&self, account_id: &CString, owner: &CString) -> (u32, ReplyData) {
        Self::with_reply(|reply| {
            // SAFETY: the host promised (sfcrm_store_new_callbacks) that `load` is a valid function of
            // this signature, callable from any thread with this user_data; the strings outlive the
            // call.
            unsafe { (self.load)(self.user_data.0, account_id.as_ptr(), owner.as_ptr(), reply) }
        })
    }

    pub(crate) fn call_save(
        &self,
        account_id: &CString,
        owner: &CString,
        document: &CString,
        new_version: u64,
        expected_version: Option<u64>,
    ) -> (u32, ReplyData) {
        Self::with_reply(|reply| {
            // SAFETY: as in call_load; `document` is NUL-terminated and its length excludes the NUL.
            unsafe {
                (self.save)(
                    self.user_data.0,
                    account_id.as_ptr(),
                    owner.as_ptr(),
                    document.as_ptr(),
                    document.as_bytes().len(),
                    new_version,
                    expected_version.is_some(),
                    expected_version.unwrap_or(0),
                    reply,
                )
            }
        })
    }

    pub(crate) fn call_remove(&self, account_id: &CString, owner: &CString) -> (u32, ReplyData) {
        Self::with_reply(|reply| {
            // SAFETY: as in call_load.
            unsafe { (self.remove)(self.user_data.0, account_id.as_ptr(), owner.as_ptr(), reply) }
        })
    }
}

impl Drop for HostStore {
    fn drop(&mut self) {
        if let Some(f) = self.free_user_data {
            // SAFETY: called exactly once, when the last reference to the store goes away.
            unsafe { f(self.user_data.0) }
        }
    }
}

/// Key parts as C strings (a NUL inside is impossible for keys that came from C strings).
pub(crate) fn key_cstrings(key: &ConnectionKey) -> (CString, CString) {
    (
        ptr::cstring_lossy(&key.account_id),
        ptr::cstring_lossy(&key.owner),
    )
}

/// Keeps a `HostStore` alive across threads.
pub(crate) type SharedHostStore = Arc<HostStore>;

/// Write callback of `sfcrm_client_export_to_callback`: receives the next `len` bytes of output
/// (CSV / NDJSON / JSON text, UTF-8) and returns 0 on success; any other value stops the export
/// with `SFCRM_RESULT_IO`. Called on an `sfcrm-worker` thread while the export call blocks.
pub type sfcrm_write_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const u8, len: usize) -> i32>;

/// Progress callback: called after each batch with the records and batches delivered so far and
/// the expected total (`UINT64_MAX` while unknown). Called on an `sfcrm-worker` thread.
pub type sfcrm_progress_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, records: u64, batches: u64, total_size: u64),
>;

/// A host write callback as `std::io::Write`. After the callback has failed once it is not
/// called again (a later flush, e.g. while the export unwinds, fails without calling it).
pub(crate) struct HostWriter {
    pub(crate) write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> i32,
    pub(crate) user_data: UserData,
    pub(crate) failed: bool,
}

impl std::io::Write for HostWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.failed {
            return Err(std::io::Error::other("the write callback failed earlier"));
        }
        // SAFETY: the host promised a valid write function for the duration of the export call;
        // `buf` is valid for `len` bytes during the call.
        let rc = unsafe { (self.write)(self.user_data.0, buf.as_ptr(), buf.len()) };
        if rc == 0 {
            Ok(buf.len())
        } else {
            self.failed = true;
            Err(std::io::Error::other(format!(
                "the write callback returned {rc}"
            )))
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A host progress callback.
#[derive(Clone, Copy)]
pub(crate) struct HostProgress {
    pub(crate) progress: unsafe extern "C" fn(*mut c_void, u64, u64, u64),
    pub(crate) user_data: UserData,
}

impl HostProgress {
    pub(crate) fn call(&self, records: u64, batches: u64, total_size: Option<u64>) {
        // SAFETY: the host promised a valid progress function, callable from SDK threads, for as
        // long as the export request that holds it is used.
        unsafe {
            (self.progress)(
                self.user_data.0,
                records,
                batches,
                total_size.unwrap_or(u64::MAX),
            )
        }
    }
}
