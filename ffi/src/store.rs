//! `sfcrm_store`: token stores for C hosts: the host's own callbacks (`sfcrm_store_new_callbacks`)
//! bridged to the core's `TokenStore` trait, and the core's built-in stores.
//!
//! What a callback returns is never trusted: an unknown status, `OK` without a document, bytes that
//! are not UTF-8, or JSON that is not a connection document of a supported schema become
//! `SFCRM_RESULT_STORE` errors naming the callback and the problem. A document for another key is
//! refused by the core's `ConnectionKey::check_owns`: the client applies it to every load, and
//! `sfcrm_store_load` does too.

use std::ffi::c_char;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sfcrm_core::{ConnectionDocument, ConnectionKey, Error, SaveOutcome, TokenStore};

use crate::client::key_arg;
use crate::error::{FfiError, sfcrm_error};
use crate::host::{
    self, HostStore, ReplyData, SharedHostStore, sfcrm_store_callbacks, sfcrm_store_reply,
    sfcrm_store_status,
};
use crate::ptr::{self, Handle};
use crate::result::sfcrm_result;

/// A token store: where the SDK keeps each connection's tokens (one document per (account_id,
/// owner)). Create one with `sfcrm_store_new_callbacks`, `sfcrm_store_new_memory` or
/// `sfcrm_store_new_file` (optionally wrapped by `sfcrm_store_new_sealed`), pass it to
/// `sfcrm_client_new` (which keeps its own reference), and free it with `sfcrm_store_free`.
///
/// Thread safety: a store may be shared by several clients and used from any thread.
pub struct sfcrm_store {
    _private: [u8; 0],
}

impl Handle for sfcrm_store {
    type Inner = Arc<dyn TokenStore>;
    const C_NAME: &'static str = "sfcrm_store";
}

/// The core's `TokenStore` over the host's callbacks.
struct CallbackStore {
    host: SharedHostStore,
}

fn status_name(s: u32) -> String {
    match s {
        0 => "SFCRM_STORE_STATUS_OK".into(),
        1 => "SFCRM_STORE_STATUS_NOT_FOUND".into(),
        2 => "SFCRM_STORE_STATUS_CONFLICT".into(),
        3 => "SFCRM_STORE_STATUS_ERROR".into(),
        n => format!("unknown status {n}"),
    }
}

fn host_failed(op: &str, reply: &ReplyData) -> Error {
    match &reply.error {
        Some(m) => Error::store(format!("the token store's {op} callback failed: {m}")),
        None => Error::store(format!(
            "the token store's {op} callback failed (no reason given)"
        )),
    }
}

fn unexpected(op: &str, status: u32) -> Error {
    Error::store(format!(
        "the token store's {op} callback returned {}, which {op} does not allow",
        status_name(status)
    ))
}

/// Runs a host callback off the async worker (on the runtime's blocking pool, threads also named
/// `sfcrm-worker`), or inline when no runtime is current.
async fn run_host<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::store(format!("a token store callback could not complete: {e}")))
    } else {
        Ok(f())
    }
}

/// Interprets a load reply.
pub(crate) fn interpret_load(
    status: u32,
    reply: ReplyData,
) -> Result<Option<ConnectionDocument>, Error> {
    if status == sfcrm_store_status::NotFound as u32 {
        return Ok(None);
    }
    if status == sfcrm_store_status::Error as u32 {
        return Err(host_failed("load", &reply));
    }
    if status != sfcrm_store_status::Ok as u32 {
        return Err(unexpected("load", status));
    }
    let bytes = reply.document.ok_or_else(|| {
        Error::store("the token store's load callback returned SFCRM_STORE_STATUS_OK without calling sfcrm_store_reply_set_document")
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::store(format!(
            "the token store's load callback returned a document that is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(Some(ConnectionDocument::from_json(&text)?))
}

/// Interprets a save reply.
pub(crate) fn interpret_save(status: u32, reply: ReplyData) -> Result<SaveOutcome, Error> {
    match status {
        s if s == sfcrm_store_status::Ok as u32 => Ok(SaveOutcome::Saved),
        s if s == sfcrm_store_status::Conflict as u32 => Ok(SaveOutcome::Conflict),
        s if s == sfcrm_store_status::Error as u32 => Err(host_failed("save", &reply)),
        s => Err(unexpected("save", s)),
    }
}

/// Interprets a remove reply.
pub(crate) fn interpret_remove(status: u32, reply: ReplyData) -> Result<bool, Error> {
    match status {
        s if s == sfcrm_store_status::Ok as u32 => Ok(true),
        s if s == sfcrm_store_status::NotFound as u32 => Ok(false),
        s if s == sfcrm_store_status::Error as u32 => Err(host_failed("remove", &reply)),
        s => Err(unexpected("remove", s)),
    }
}

impl TokenStore for CallbackStore {
    fn load<'a>(
        &'a self,
        key: &'a ConnectionKey,
    ) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        let host = self.host.clone();
        let key = key.clone();
        Box::pin(async move {
            let k = key.clone();
            let (status, reply) = run_host(move || {
                let (a, o) = host::key_cstrings(&k);
                host.call_load(&a, &o)
            })
            .await?;
            interpret_load(status, reply)
        })
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        let host = self.host.clone();
        let key = doc.key();
        let json = ptr::cstring_lossy(&doc.to_json());
        let new_version = doc.version;
        Box::pin(async move {
            let (status, reply) = run_host(move || {
                let (a, o) = host::key_cstrings(&key);
                host.call_save(&a, &o, &json, new_version, expected_version)
            })
            .await?;
            interpret_save(status, reply)
        })
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        let host = self.host.clone();
        let key = key.clone();
        Box::pin(async move {
            let (status, reply) = run_host(move || {
                let (a, o) = host::key_cstrings(&key);
                host.call_remove(&a, &o)
            })
            .await?;
            interpret_remove(status, reply)
        })
    }
}

/// Creates a store over the host's callbacks (the struct is copied).
///
/// On success `*out` receives the store and the store owns `callbacks->user_data`: it calls
/// `free_user_data` exactly once when the store is dropped. On failure (NULL argument, a required
/// callback missing) nothing is taken and `free_user_data` is not called.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_new_callbacks(
    callbacks: *const sfcrm_store_callbacks,
    out: *mut *mut sfcrm_store,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cb = ptr::struct_arg(callbacks, "callbacks")?;
        let out = ptr::out(out, "out")?;
        // On a missing callback no HostStore exists yet, so free_user_data is not run.
        let host = HostStore::from_callbacks(&cb).map_err(|missing| {
            FfiError::invalid_argument(format!("the `{missing}` callback is required"))
        })?;
        let store: Arc<dyn TokenStore> = Arc::new(CallbackStore {
            host: Arc::new(host),
        });
        out.write(ptr::new_handle::<sfcrm_store>(store));
        Ok(())
    })
}

/// Creates an in-memory store (one process; lost on exit). Mostly for tests and demos.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_new_memory(
    out: *mut *mut sfcrm_store,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let out = ptr::out(out, "out")?;
        let store: Arc<dyn TokenStore> = Arc::new(sfcrm_core::store::MemoryStore::new());
        out.write(ptr::new_handle::<sfcrm_store>(store));
        Ok(())
    })
}

/// Creates a file store: one JSON file per connection in `dir` (created with mode 0700; files 0600,
/// atomic replace, `flock` around the compare-and-swap, so several processes may share it).
/// `SFCRM_RESULT_STORE` when the directory cannot be created or is not a directory.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_new_file(
    dir: *const c_char,
    out: *mut *mut sfcrm_store,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let dir = ptr::str_arg(dir, "dir")?;
        let out = ptr::out(out, "out")?;
        if dir.is_empty() {
            return Err(FfiError::invalid_argument("`dir` must not be empty"));
        }
        let store: Arc<dyn TokenStore> = Arc::new(sfcrm_core::store::FileStore::new(dir)?);
        out.write(ptr::new_handle::<sfcrm_store>(store));
        Ok(())
    })
}

/// Wraps `inner` so that the token fields are encrypted (XChaCha20-Poly1305) before they reach it:
/// the host's database never holds plaintext tokens. `keyring` is `kid:base64key[,kid:base64key...]`
/// (32-byte keys; the first seals, the others only open, for rotation), the format of
/// `SFCRM_SEALING_KEYS`. `inner` stays usable and must still be freed. `SFCRM_RESULT_CONFIG` for a
/// malformed keyring (the message never contains key material).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_new_sealed(
    inner: *const sfcrm_store,
    keyring: *const c_char,
    out: *mut *mut sfcrm_store,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let inner = ptr::handle(inner, "inner")?;
        let keyring = ptr::str_arg(keyring, "keyring")?;
        let out = ptr::out(out, "out")?;
        let keyring = sfcrm_core::store::SealingKeyring::from_env_value(&keyring)?;
        let store: Arc<dyn TokenStore> = Arc::new(sfcrm_core::store::SealedStore::new(
            Arc::clone(&inner),
            keyring,
        ));
        out.write(ptr::new_handle::<sfcrm_store>(store));
        Ok(())
    })
}

/// Frees a store handle. Clients created with it keep their own reference, so the store (and a
/// callback store's `free_user_data`) goes away when the last of them is freed. NULL or an
/// already-freed store is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_free(store: *mut sfcrm_store) {
    ffi_boundary! { ptr::free_handle(store); }
}

/// Hands a document back from a `load` callback: `json` is `len` bytes of UTF-8 (no NUL needed),
/// copied. Calling it again replaces the document. Returns `SFCRM_RESULT_INVALID_HANDLE` when
/// `reply` is not the reply of a callback in progress. The bytes are validated after the callback
/// returns (invalid UTF-8 or JSON then fails the load with `SFCRM_RESULT_STORE`).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_reply_set_document(
    reply: *mut sfcrm_store_reply,
    json: *const c_char,
    len: usize,
) -> sfcrm_result {
    ffi_result!(std::ptr::null_mut(), {
        let r = ptr::handle(reply as *const sfcrm_store_reply, "reply")?;
        let bytes = ptr::bytes_arg(json as *const u8, len, "json")?;
        r.lock().unwrap_or_else(|e| e.into_inner()).document = Some(bytes);
        Ok(())
    })
}

/// Gives the reason a callback failed (NUL-terminated; invalid UTF-8 is replaced), copied into the
/// store error's message. Do not put secrets in it.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_reply_set_error(
    reply: *mut sfcrm_store_reply,
    message: *const c_char,
) -> sfcrm_result {
    ffi_result!(std::ptr::null_mut(), {
        let r = ptr::handle(reply as *const sfcrm_store_reply, "reply")?;
        let msg = match ptr::opt_str_arg(message, "message") {
            Ok(m) => m.ok_or_else(|| FfiError::null("message"))?,
            Err(_) => String::from_utf8_lossy(&ptr::c_str_bytes(message)).into_owned(),
        };
        r.lock().unwrap_or_else(|e| e.into_inner()).error = Some(msg);
        Ok(())
    })
}

/// Runs a store operation to completion on a short-lived runtime (the store functions below are
/// usable without a client), so that callbacks run on `sfcrm-worker` threads as with a client.
fn run_store_op<T: Send + 'static>(
    fut: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, FfiError> {
    // Checked before the runtime exists: a runtime must not be dropped on one of its own threads.
    crate::runtime::check_not_reentrant()?;
    crate::runtime::Rt::new()?.block_on(async move { Ok(fut.await?) })
}

/// Reads the stored connection document of (`account_id`, `owner`) directly from a store (for
/// inspection, migration and tests; clients do this themselves). On success `*found` says whether
/// one exists and `*document_json` receives it as owned JSON (free with `sfcrm_string_free`), or
/// NULL when none. The document contains the tokens: treat it as a secret.
///
/// Blocking. Callbacks of a callback store run on an `sfcrm-worker` thread. Errors: a failing or
/// misbehaving store callback gives `SFCRM_RESULT_STORE`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_load(
    store: *const sfcrm_store,
    account_id: *const c_char,
    owner: *const c_char,
    found: *mut bool,
    document_json: *mut *mut c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let store = ptr::handle(store, "store")?;
        let key = key_arg(account_id, owner)?;
        let (found, doc_out) = (
            ptr::out(found, "found")?,
            ptr::out(document_json, "document_json")?,
        );
        let s = Arc::clone(&store);
        let doc = run_store_op(async move {
            let doc = s.load(&key).await?;
            if let Some(d) = &doc {
                // The check every client load makes: never another connection's tokens.
                key.check_owns(d)?;
            }
            Ok(doc)
        })?;
        found.write(doc.is_some());
        doc_out.write(doc.map_or(std::ptr::null_mut(), |d| ptr::give_string(&d.to_json()).0));
        Ok(())
    })
}

/// Compare-and-swap write of a connection document (JSON, schema 1) directly into a store: written
/// only when the stored version is `expected_version` (`has_expected_version` true) or, when false,
/// only when no document exists. `*saved` is false on a version conflict (nothing written).
/// A `document_json` that is not a valid connection document is `SFCRM_RESULT_INVALID_ARGUMENT`.
/// Blocking, as `sfcrm_store_load`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_save(
    store: *const sfcrm_store,
    document_json: *const c_char,
    has_expected_version: bool,
    expected_version: u64,
    saved: *mut bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let store = ptr::handle(store, "store")?;
        let text = ptr::str_arg(document_json, "document_json")?;
        let saved = ptr::out(saved, "saved")?;
        let doc = ConnectionDocument::from_json(&text)
            .map_err(|e| FfiError::invalid_argument(format!("`document_json`: {}", e.message())))?;
        let expected = has_expected_version.then_some(expected_version);
        let s = Arc::clone(&store);
        let outcome = run_store_op(async move { s.save(&doc, expected).await })?;
        saved.write(outcome == SaveOutcome::Saved);
        Ok(())
    })
}

/// Deletes the stored document of (`account_id`, `owner`) directly from a store (no token
/// revocation: use `sfcrm_client_disconnect` for that). `*removed` says whether one existed.
/// Blocking, as `sfcrm_store_load`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_store_delete(
    store: *const sfcrm_store,
    account_id: *const c_char,
    owner: *const c_char,
    removed: *mut bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let store = ptr::handle(store, "store")?;
        let key = key_arg(account_id, owner)?;
        let removed = ptr::out(removed, "removed")?;
        let s = Arc::clone(&store);
        let r = run_store_op(async move { s.delete(&key).await })?;
        removed.write(r);
        Ok(())
    })
}
