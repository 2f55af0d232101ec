//! The one place where raw pointers from C are turned into Rust values (and back).
//!
//! - Handles: every opaque handle given to C (`sfcrm_client *`, `sfcrm_error *`, ...) is an
//!   `Arc` kept in a process-wide registry keyed by its address and checked against its type. An
//!   API function never dereferences a handle pointer: it looks the address up and gets a clone of
//!   the `Arc`. A freed, foreign or wrongly-typed pointer is therefore reported as
//!   `SFCRM_RESULT_INVALID_HANDLE` instead of being undefined behaviour, a double free is a no-op,
//!   and a handle freed on one thread while another thread is inside a call stays alive until that
//!   call returns.
//! - Owned strings: every `char *` handed to C is recorded, so `sfcrm_string_free` frees only
//!   pointers this library returned (anything else is ignored).
//! - Borrowed arguments: NUL-terminated UTF-8 strings (validated), byte buffers, out-parameters
//!   (checked for NULL before any work is done, written only on success) and caller buffers with a
//!   length query.
//!
//! Every `unsafe` dereference of a C pointer in this crate is in this file (host callbacks are
//! called from `host.rs`; `tests::unsafe_is_confined` checks both).

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::FfiError;
use crate::result::sfcrm_result;

/// An opaque C type backed by a Rust value kept in the registry.
pub(crate) trait Handle: 'static {
    /// The Rust value behind the handle.
    type Inner: Send + Sync + 'static;
    /// The C type name, for error messages.
    const C_NAME: &'static str;
}

struct Entry {
    type_id: TypeId,
    value: Arc<dyn Any + Send + Sync>,
}

// BTreeMap::new is const and a new BTreeMap owns no heap memory. A map emptied by `remove` keeps
// its root node, so the maps are replaced by new ones when they become empty: nothing is left
// allocated (not even "still reachable" under Valgrind) once the host has freed every handle.
static HANDLES: Mutex<BTreeMap<usize, Entry>> = Mutex::new(BTreeMap::new());
/// Strings handed to C: NUL-terminated bytes, keyed by the address C holds.
static STRINGS: Mutex<BTreeMap<usize, Box<[u8]>>> = Mutex::new(BTreeMap::new());

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    // A panic never happens while these locks are held (only map operations run under them), but a
    // poisoned lock must not turn every later call into a panic either.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers `inner` and returns the pointer C will hold.
pub(crate) fn new_handle<H: Handle>(inner: H::Inner) -> *mut H {
    let arc: Arc<H::Inner> = Arc::new(inner);
    let addr = Arc::as_ptr(&arc) as usize;
    lock(&HANDLES).insert(
        addr,
        Entry {
            type_id: TypeId::of::<H::Inner>(),
            value: arc,
        },
    );
    addr as *mut H
}

/// The live value behind `p`: `NullPointer` for NULL, `InvalidHandle` for anything that is not a
/// live handle of type `H`.
pub(crate) fn handle<H: Handle>(p: *const H, arg: &'static str) -> Result<Arc<H::Inner>, FfiError> {
    if p.is_null() {
        return Err(FfiError::null(arg));
    }
    let found = {
        let map = lock(&HANDLES);
        map.get(&(p as usize))
            .filter(|e| e.type_id == TypeId::of::<H::Inner>())
            .map(|e| e.value.clone())
    };
    found
        .and_then(|v| v.downcast::<H::Inner>().ok())
        .ok_or_else(|| {
            FfiError::new(
                sfcrm_result::InvalidHandle,
                format!(
                    "`{arg}` is not a live {} (freed, foreign or of another type)",
                    H::C_NAME
                ),
            )
        })
}

/// Removes the handle; its value is dropped when the last in-flight call using it returns (here,
/// outside the registry lock, when there is none). NULL, foreign and already-freed pointers are
/// ignored. Returns whether a handle was freed.
pub(crate) fn free_handle<H: Handle>(p: *mut H) -> bool {
    if p.is_null() {
        return false;
    }
    let removed = {
        let mut map = lock(&HANDLES);
        let removed = match map.get(&(p as usize)) {
            Some(e) if e.type_id == TypeId::of::<H::Inner>() => map.remove(&(p as usize)),
            _ => None,
        };
        if map.is_empty() {
            *map = BTreeMap::new();
        }
        removed
    };
    // Dropping may run arbitrary code (a runtime shutdown, the host's free_user_data): never under
    // the lock.
    removed.is_some()
}

/// A C string made from Rust text; interior NUL bytes (which C cannot represent) become U+FFFD.
pub(crate) fn cstring_lossy(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default(),
    }
}

/// Hands an owned string to C (freed with `sfcrm_string_free`). Returns the pointer and the length
/// in bytes (without the NUL).
pub(crate) fn give_string(s: &str) -> (*mut c_char, usize) {
    register(cstring_lossy(s).into_bytes_with_nul().into_boxed_slice())
}

/// Hands owned UTF-8 bytes that contain no NUL byte (such as validated JSON text, where raw control
/// characters are not allowed) to C without copying them or scanning them again: the NUL is
/// appended in place, so there is no reallocation when `bytes` has spare capacity for exactly one
/// more byte. Freed with `sfcrm_string_free`. Returns the pointer and the length in bytes (without
/// the NUL). The no-NUL precondition is asserted in debug builds; were it broken, C would still get
/// the full length in the length out-parameter (no memory safety depends on it).
pub(crate) fn give_bytes(mut bytes: Vec<u8>) -> (*mut c_char, usize) {
    debug_assert!(!bytes.contains(&0), "give_bytes: interior NUL");
    bytes.push(0);
    register(bytes.into_boxed_slice())
}

fn register(mut with_nul: Box<[u8]>) -> (*mut c_char, usize) {
    let len = with_nul.len() - 1;
    let p = with_nul.as_mut_ptr() as *mut c_char;
    lock(&STRINGS).insert(p as usize, with_nul);
    (p, len)
}

/// Frees a string returned by [`give_string`] or [`give_bytes`]; anything else (NULL, foreign, freed) is ignored.
pub(crate) fn free_string(p: *mut c_char) -> bool {
    if p.is_null() {
        return false;
    }
    let removed = {
        let mut map = lock(&STRINGS);
        let removed = map.remove(&(p as usize));
        if map.is_empty() {
            *map = BTreeMap::new();
        }
        removed
    };
    removed.is_some()
}

/// A required NUL-terminated UTF-8 string argument.
pub(crate) fn str_arg(p: *const c_char, arg: &'static str) -> Result<String, FfiError> {
    opt_str_arg(p, arg)?.ok_or_else(|| FfiError::null(arg))
}

/// An optional NUL-terminated UTF-8 string argument (NULL = `None`).
pub(crate) fn opt_str_arg(p: *const c_char, arg: &'static str) -> Result<Option<String>, FfiError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the contract (ffi/README.md) requires string arguments to be NUL-terminated and valid
    // for reads for the duration of the call.
    let c = unsafe { CStr::from_ptr(p) };
    match c.to_str() {
        Ok(s) => Ok(Some(s.to_owned())),
        Err(e) => Err(FfiError::new(
            sfcrm_result::InvalidUtf8,
            format!(
                "`{arg}` is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )),
    }
}

/// The bytes of a NUL-terminated string, without UTF-8 validation (NULL gives an empty vector).
pub(crate) fn c_str_bytes(p: *const c_char) -> Vec<u8> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: the contract requires string arguments to be NUL-terminated and readable.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// A byte buffer argument (`data`, `len`); NULL is allowed only when `len` is 0.
pub(crate) fn bytes_arg(p: *const u8, len: usize, arg: &'static str) -> Result<Vec<u8>, FfiError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(FfiError::null(arg));
    }
    // SAFETY: the contract requires `p` to be valid for reads of `len` bytes during the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) }.to_vec())
}

/// A copy of a required struct argument.
pub(crate) fn struct_arg<T: Copy>(p: *const T, arg: &'static str) -> Result<T, FfiError> {
    if p.is_null() {
        return Err(FfiError::null(arg));
    }
    // SAFETY: non-NULL; the contract requires a valid, initialised struct of this type for the call.
    Ok(unsafe { p.read() })
}

/// A required out-parameter, checked for NULL before any work is done.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Writes the value (call only once the operation has succeeded).
    pub(crate) fn write(self, v: T) {
        // SAFETY: checked non-NULL in `out`; the contract requires out-parameters to be valid for
        // writes. `write` does not read or drop the previous (possibly uninitialised) value.
        unsafe { self.0.write(v) }
    }
}

/// A caller-owned struct to update in place (NULL = `None`).
pub(crate) fn opt_mut<'a, T>(p: *mut T) -> Option<&'a mut T> {
    // SAFETY: non-NULL checked by as_mut; the contract requires a valid, initialised struct that
    // no other thread touches during the call.
    unsafe { p.as_mut() }
}

/// A required out-parameter.
pub(crate) fn out<T>(p: *mut T, arg: &'static str) -> Result<Out<T>, FfiError> {
    if p.is_null() {
        Err(FfiError::null(arg))
    } else {
        Ok(Out(p))
    }
}

/// An optional out-parameter (NULL = the caller does not want this value).
pub(crate) fn opt_out<T>(p: *mut T) -> Option<Out<T>> {
    if p.is_null() { None } else { Some(Out(p)) }
}

/// Writes `s` and a NUL into the caller's buffer (`buf`, `cap` bytes) and its length (bytes,
/// without the NUL) into `*len_out`. When `cap < len + 1` nothing is written to `buf`, `*len_out`
/// still receives the length, and the result is `BufferTooSmall`. `buf` may be NULL when `cap` is 0
/// (a pure length query).
pub(crate) fn copy_to_buffer(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> Result<(), FfiError> {
    let len_out = out(len_out, "len_out")?;
    if buf.is_null() && cap != 0 {
        return Err(FfiError::null("buf"));
    }
    let bytes = s.as_bytes();
    len_out.write(bytes.len());
    if cap < bytes.len() + 1 {
        return Err(FfiError::new(
            sfcrm_result::BufferTooSmall,
            format!(
                "the buffer holds {cap} bytes; {} are needed (length + NUL)",
                bytes.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` is non-NULL and valid for `cap >= len + 1` bytes (contract); the source is a
    // Rust slice, so the ranges cannot overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf as *mut u8, bytes.len());
        *buf.add(bytes.len()) = 0;
    }
    Ok(())
}

/// Host user data carried across threads (`void *user_data` of a callback struct).
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut std::ffi::c_void);

// SAFETY: the contract (ffi/README.md, "Callbacks") requires the host's callbacks and user_data to
// be usable from any thread, because the SDK calls them from its runtime threads.
unsafe impl Send for UserData {}
// SAFETY: as above; the library never dereferences user_data itself.
unsafe impl Sync for UserData {}

#[cfg(test)]
mod tests {
    use super::*;

    struct A {
        _p: [u8; 0],
    }
    struct B {
        _p: [u8; 0],
    }
    impl Handle for A {
        type Inner = String;
        const C_NAME: &'static str = "A";
    }
    impl Handle for B {
        type Inner = u64;
        const C_NAME: &'static str = "B";
    }

    #[test]
    fn handles_are_typed_and_dead_after_free() {
        let a = new_handle::<A>("x".to_owned());
        assert_eq!(*handle(a as *const A, "a").unwrap(), "x");
        // the same address as another type: refused without reading it
        let as_b = a as *const B;
        assert_eq!(
            handle(as_b, "b").unwrap_err().result,
            sfcrm_result::InvalidHandle
        );
        assert!(!free_handle(as_b as *mut B));
        // an Arc obtained before free keeps the value alive
        let held = handle(a as *const A, "a").unwrap();
        assert!(free_handle(a));
        assert_eq!(*held, "x");
        assert_eq!(
            handle(a as *const A, "a").unwrap_err().result,
            sfcrm_result::InvalidHandle
        );
        assert!(!free_handle(a));
        assert_eq!(
            handle(std::ptr::null::<A>(), "a").unwrap_err().result,
            sfcrm_result::NullPointer
        );
    }

    #[test]
    fn strings_are_freed_once_and_foreign_pointers_ignored() {
        let (p, len) = give_string("héllo\0x");
        assert_eq!(len, "héllo\u{FFFD}x".len());
        let mut v = Vec::with_capacity(6);
        v.extend_from_slice(b"[1,2]");
        let before = v.as_ptr();
        let (q, qlen) = give_bytes(v);
        assert_eq!(
            (q as *const u8, qlen),
            (before, 5),
            "no copy when there is room for the NUL"
        );
        // SAFETY: `q` points at `qlen` bytes plus the NUL, alive until `free_string(q)`.
        let text = unsafe { CStr::from_ptr(q) };
        assert_eq!(text.to_bytes(), b"[1,2]");
        assert!(free_string(q));
        let (q, qlen) = give_bytes(Vec::new());
        assert_eq!(qlen, 0);
        assert!(free_string(q));
        let mut local = *b"abc\0";
        assert!(!free_string(local.as_mut_ptr() as *mut c_char));
        assert!(free_string(p));
        assert!(!free_string(p));
    }

    #[test]
    fn caller_buffers_report_the_needed_length() {
        let mut len = 0usize;
        let e = copy_to_buffer("abcd", std::ptr::null_mut(), 0, &mut len).unwrap_err();
        assert_eq!((e.result, len), (sfcrm_result::BufferTooSmall, 4));
        let mut buf = [0x55 as c_char; 4];
        assert!(copy_to_buffer("abcd", buf.as_mut_ptr(), 4, &mut len).is_err());
        assert_eq!(buf[0], 0x55, "untouched when too small");
        let mut buf = [0 as c_char; 5];
        copy_to_buffer("abcd", buf.as_mut_ptr(), 5, &mut len).unwrap();
        assert_eq!(
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
            "abcd"
        );
    }
}
