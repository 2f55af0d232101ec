//! The panic boundary: every exported function body runs inside [`ffi_boundary!`] (value-returning
//! functions) or [`ffi_result!`] (functions returning `sfcrm_result` with a trailing
//! `sfcrm_error **`). `tests::every_export_has_a_panic_boundary` checks that no export is missing one.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{FfiError, report, sfcrm_error};
use crate::result::sfcrm_result;

/// The value an export returns when its body panicked.
pub(crate) trait PanicValue {
    fn panic_value() -> Self;
}
impl PanicValue for () {
    fn panic_value() {}
}
impl PanicValue for bool {
    fn panic_value() -> Self {
        false
    }
}
impl PanicValue for u16 {
    fn panic_value() -> Self {
        0
    }
}
impl PanicValue for u32 {
    fn panic_value() -> Self {
        sfcrm_result::Panic as u32
    }
}
impl PanicValue for sfcrm_result {
    fn panic_value() -> Self {
        sfcrm_result::Panic
    }
}
impl<T> PanicValue for *const T {
    fn panic_value() -> Self {
        std::ptr::null()
    }
}
impl<T> PanicValue for *mut T {
    fn panic_value() -> Self {
        std::ptr::null_mut()
    }
}
pub(crate) fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Runs `f`; a panic becomes `R::panic_value()`.
pub(crate) fn guard<R: PanicValue>(f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| R::panic_value())
}

/// Runs `f`; an error is reported through `err_out` and becomes its code; a panic becomes
/// `SFCRM_RESULT_PANIC` with an error object naming the panic.
pub(crate) fn guard_result(
    err_out: *mut *mut sfcrm_error,
    f: impl FnOnce() -> Result<(), FfiError>,
) -> sfcrm_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => sfcrm_result::Ok,
        Ok(Err(e)) => report(e, err_out),
        Err(p) => {
            let msg = format!(
                "internal error (panic caught at the C boundary): {}",
                panic_message(&*p)
            );
            // Reporting allocates; never let a second panic escape to C.
            catch_unwind(AssertUnwindSafe(|| {
                report(FfiError::new(sfcrm_result::Panic, msg), err_out)
            }))
            .unwrap_or(sfcrm_result::Panic)
        }
    }
}

/// Body of an export that returns a plain value: `ffi_boundary! { ... }`.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        $crate::panic::guard(move || { $($body)* })
    };
}

/// Body of an export that returns `sfcrm_result`: `ffi_result!(error, { ...; Ok(()) })`.
macro_rules! ffi_result {
    ($err:expr, $body:block) => {
        $crate::panic::guard_result(
            $err,
            move || -> ::std::result::Result<(), $crate::error::FfiError> { $body },
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::sfcrm_error_code;

    #[test]
    fn a_panic_becomes_the_panic_code_and_an_error_object() {
        let mut err: *mut sfcrm_error = std::ptr::null_mut();
        let rc = guard_result(&mut err, || panic!("boom"));
        assert_eq!(rc, sfcrm_result::Panic);
        assert!(!err.is_null());
        assert_eq!(sfcrm_error_code(err), sfcrm_result::Panic as u32);
        crate::error::sfcrm_error_free(err);
    }

    #[test]
    fn a_panic_in_a_value_export_returns_its_panic_value() {
        let p: *const u8 = guard(|| -> *const u8 { panic!("boom") });
        assert!(p.is_null());
        assert!(!guard(|| -> bool { panic!("boom") }));
        assert_eq!(
            guard(|| -> u32 { panic!("boom") }),
            sfcrm_result::Panic as u32
        );
    }

    #[test]
    fn errors_are_written_only_on_failure() {
        let sentinel: *mut sfcrm_error = std::ptr::dangling_mut();
        let mut err = sentinel;
        assert_eq!(guard_result(&mut err, || Ok(())), sfcrm_result::Ok);
        assert_eq!(err, sentinel);
        // a NULL error out-parameter is fine
        let rc = guard_result(std::ptr::null_mut(), || Err(FfiError::null("x")));
        assert_eq!(rc, sfcrm_result::NullPointer);
    }
}
