//! # sfcrm-ffi: the C ABI of the sfcrm SDK
//!
//! Builds `libsfcrm.so` and `libsfcrm.a`; the header `include/sfcrm.h` is generated from this
//! crate's doc comments by cbindgen 0.29.4. The contract (names, ownership, errors, threads, ABI
//! stability) is written down in `ffi/README.md` and enforced here:
//! - [`ptr`] is the only module that turns C pointers into Rust values (handles live in a registry,
//!   so a stale handle is an error code, not undefined behaviour);
//! - [`panic`] provides the panic boundary that wraps every exported function;
//! - [`result`] is the one result enum (values = the core's `ErrorKind::code()` plus C-only codes);
//! - [`error`] owns the mapping of core errors to `sfcrm_error`;
//! - [`host`] is the only module that calls host callbacks.
//!
//! This is glue only: every Salesforce behaviour lives in `sfcrm-core`.

#![warn(missing_docs)]

#![allow(non_camel_case_types)]

#[macro_use]
mod panic;
pub mod bulk;
pub mod client;
pub mod config;
pub mod describe;
pub mod error;
pub mod export;
pub mod export_cursor;
pub mod export_request;
mod host;
mod ptr;
pub mod query_request;
pub mod result;
mod runtime;
pub mod store;

use std::ffi::c_char;

/// Major version of this library (the `version` in Cargo.toml).
pub const SFCRM_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const SFCRM_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const SFCRM_VERSION_PATCH: u32 = 0;
/// `MAJOR * 10000 + MINOR * 100 + PATCH`, for `#if SFCRM_VERSION_NUMBER >= ...` checks.
pub const SFCRM_VERSION_NUMBER: u32 =
    SFCRM_VERSION_MAJOR * 10000 + SFCRM_VERSION_MINOR * 100 + SFCRM_VERSION_PATCH;

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "version component is not a number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

// The header macros above are literals (cbindgen copies literals only); the build fails when they
// drift from Cargo.toml.
const _: () = assert!(
    SFCRM_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")),
    "bump SFCRM_VERSION_MAJOR"
);
const _: () = assert!(
    SFCRM_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")),
    "bump SFCRM_VERSION_MINOR"
);
const _: () = assert!(
    SFCRM_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")),
    "bump SFCRM_VERSION_PATCH"
);

/// The library's version, `"MAJOR.MINOR.PATCH"` as in Cargo.toml (equal to the header macros when the
/// header and the library match). Static string: never NULL, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_version() -> *const c_char {
    ffi_boundary! { concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char }
}

/// Frees a string (or NDJSON / JSON byte buffer) that this library returned as an owned `char *`.
/// NULL, a pointer this library did not return, and an already-freed pointer are ignored.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_string_free(s: *mut c_char) {
    ffi_boundary! { ptr::free_string(s); }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn sources() -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "rs") {
                out.push((
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
        out
    }

    #[test]
    fn every_export_has_a_panic_boundary() {
        let mut exports = 0;
        for (name, src) in sources() {
            let mut rest = src.as_str();
            while let Some(i) = rest.find("extern \"C\" fn sfcrm_") {
                let after = &rest[i..];
                let body = &after[after.find('{').unwrap() + 1..];
                let first = body.trim_start();
                let fn_name: String = after["extern \"C\" fn ".len()..]
                    .chars()
                    .take_while(|c| *c != '(')
                    .collect();
                assert!(
                    first.starts_with("ffi_boundary!") || first.starts_with("ffi_result!"),
                    "{name}: {fn_name} does not start with a panic boundary"
                );
                exports += 1;
                rest = &after[1..];
            }
        }
        assert!(exports > 20, "found only {exports} exports");
    }

    #[test]
    fn unsafe_is_confined_to_ptr_and_host() {
        for (name, src) in sources() {
            if name == "ptr.rs" || name == "host.rs" {
                continue;
            }
            for needle in [
                concat!("unsafe", " {"),
                concat!("unsafe", " impl"),
                concat!("unsafe", " fn"),
                concat!("unsafe", " extern"),
            ] {
                assert!(
                    !src.contains(needle),
                    "{name} contains `{needle}`; move it to ptr.rs or host.rs"
                );
            }
        }
    }

    #[test]
    fn version_matches_core() {
        assert_eq!(env!("CARGO_PKG_VERSION"), sfcrm_core::VERSION);
        assert_eq!(
            format!(
                "{}.{}.{}",
                super::SFCRM_VERSION_MAJOR,
                super::SFCRM_VERSION_MINOR,
                super::SFCRM_VERSION_PATCH
            ),
            env!("CARGO_PKG_VERSION")
        );
    }
}
