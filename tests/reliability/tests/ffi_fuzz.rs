//! Issue 7.3 (C API part): the C ABI entry points that take caller text, fed arbitrary bytes
//! (invalid UTF-8, huge, empty, NULL) through `dlopen` of the built `libsfcrm.so`
//! (`cargo build -p sfcrm-ffi`; scripts/test-reliability.sh builds it first). Every call must
//! return a defined result code (never `SFCRM_RESULT_PANIC`), a failed call must hand back an
//! error with a non-empty message, and every object is freed. A crash (SIGSEGV/abort) fails the
//! test binary. Inputs: `SFCRM_FFI_FUZZ_INPUTS` (default 3000) deterministic mutations.

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::PathBuf;
use std::ptr;

use libloading::{Library, Symbol};
use sfcrm_reliability::r#gen::{Rng, mutate};

type Res = u32;
const OK: Res = 0;
const PANIC: Res = 901;
const DEFINED: [Res; 30] = [
    0, 100, 101, 102, 103, 104, 105, 150, 151, 152, 153, 154, 155, 200, 201, 202, 203, 204, 300, 301, 302, 400, 401,
    500, 501, 502, 503, 900, 901, 999,
];

struct Api<'l> {
    config_new: Symbol<'l, unsafe extern "C" fn(*mut *mut c_void, *mut *mut c_void) -> Res>,
    config_set: Symbol<'l, unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut *mut c_void) -> Res>,
    setters: Vec<Symbol<'l, unsafe extern "C" fn(*mut c_void, *const c_char, *mut *mut c_void) -> Res>>,
    config_validate: Symbol<'l, unsafe extern "C" fn(*const c_void, *mut *mut c_void) -> Res>,
    config_free: Symbol<'l, unsafe extern "C" fn(*mut c_void)>,
    req_new: Symbol<'l, unsafe extern "C" fn(*const c_char, *mut *mut c_void, *mut *mut c_void) -> Res>,
    req_new_custom: Symbol<'l, unsafe extern "C" fn(*const c_char, *const c_char, *mut *mut c_void, *mut *mut c_void) -> Res>,
    req_set: Vec<Symbol<'l, unsafe extern "C" fn(*mut c_void, *const c_char, *mut *mut c_void) -> Res>>,
    req_free: Symbol<'l, unsafe extern "C" fn(*mut c_void)>,
    store_memory: Symbol<'l, unsafe extern "C" fn(*mut *mut c_void, *mut *mut c_void) -> Res>,
    store_sealed: Symbol<'l, unsafe extern "C" fn(*const c_void, *const c_char, *mut *mut c_void, *mut *mut c_void) -> Res>,
    store_free: Symbol<'l, unsafe extern "C" fn(*mut c_void)>,
    error_message: Symbol<'l, unsafe extern "C" fn(*const c_void) -> *const c_char>,
    error_free: Symbol<'l, unsafe extern "C" fn(*mut c_void)>,
    result_name: Symbol<'l, unsafe extern "C" fn(u32) -> *const c_char>,
}

fn lib_path() -> PathBuf {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    dir.join("debug/libsfcrm.so")
}

/// Checks one call: defined result, no panic, an error message on failure; frees the error.
unsafe fn check(api: &Api, what: &str, r: Res, err: *mut c_void, calls: &mut u64) {
    *calls += 1;
    assert!(DEFINED.contains(&r), "{what}: undefined result {r}");
    assert_ne!(r, PANIC, "{what}: a panic crossed into the C API");
    let name = unsafe { CStr::from_ptr((api.result_name)(r)) };
    assert_ne!(name.to_bytes(), b"unknown", "{what}: result {r} has no name");
    if r != OK {
        assert!(!err.is_null(), "{what}: result {r} without an error object");
        let msg = unsafe { CStr::from_ptr((api.error_message)(err)) };
        assert!(!msg.to_bytes().is_empty(), "{what}: empty error message");
    }
    if !err.is_null() {
        unsafe { (api.error_free)(err) };
    }
}

fn cstr(bytes: &[u8]) -> CString {
    CString::new(bytes.iter().copied().filter(|&b| b != 0).collect::<Vec<u8>>()).unwrap()
}

const NAMES: [&str; 14] = [
    "SALESFORCE_CLIENT_ID", "SALESFORCE_SECRET_ID", "SALESFORCE_REDIRECT_URL", "SALESFORCE_AUTH_SCOPES",
    "SALESFORCE_LOGIN_URL", "SALESFORCE_API_VERSION", "SFCRM_STATE_SECRET", "SFCRM_STATE_TTL_SECS",
    "SFCRM_FORWARD_ORIGINS", "SFCRM_INSTANCE_HOSTS", "SFCRM_CONNECT_TIMEOUT_MS", "SFCRM_REQUEST_TIMEOUT_MS",
    "SFCRM_MAX_RETRIES", "SFCRM_BATCH_SIZE",
];

unsafe fn one(api: &Api, data: &[u8], calls: &mut u64) {
    let parts: Vec<&[u8]> = data.split(|&b| b == 0xFF).collect();
    let part = |i: usize| cstr(parts.get(i).copied().unwrap_or(b""));
    let sel = data.first().copied().unwrap_or(0) as usize;
    unsafe {
        // Config: a named setting, every typed setter, validate.
        let mut cfg = ptr::null_mut();
        let mut err = ptr::null_mut();
        let r = (api.config_new)(&mut cfg, &mut err);
        check(api, "config_new", r, err, calls);
        let name = if sel.is_multiple_of(3) { part(0) } else { CString::new(NAMES[sel % NAMES.len()]).unwrap() };
        let mut err = ptr::null_mut();
        check(api, "config_set", (api.config_set)(cfg, name.as_ptr(), part(1).as_ptr(), &mut err), err, calls);
        for (i, set) in api.setters.iter().enumerate() {
            let mut err = ptr::null_mut();
            let v = part(2 + i % 3);
            check(api, "config_set_*", set(cfg, v.as_ptr(), &mut err), err, calls);
        }
        let mut err = ptr::null_mut();
        check(api, "config_validate", (api.config_validate)(cfg, &mut err), err, calls);
        (api.config_free)(cfg);
        // Export requests: built-in type, custom sObject + fields, since, resume_from.
        let mut req = ptr::null_mut();
        let mut err = ptr::null_mut();
        let ty = if sel.is_multiple_of(2) { part(0) } else { CString::new(["contacts", "deals", "notes"][sel % 3]).unwrap() };
        check(api, "export_request_new", (api.req_new)(ty.as_ptr(), &mut req, &mut err), err, calls);
        if !req.is_null() {
            for (i, set) in api.req_set.iter().enumerate() {
                let mut err = ptr::null_mut();
                check(api, "export_request_set_*", set(req, part(1 + i).as_ptr(), &mut err), err, calls);
            }
            (api.req_free)(req);
        }
        let mut req = ptr::null_mut();
        let mut err = ptr::null_mut();
        check(api, "export_request_new_custom", (api.req_new_custom)(part(1).as_ptr(), part(2).as_ptr(), &mut req, &mut err), err, calls);
        (api.req_free)(req);
        // Sealed store keyring.
        let mut mem = ptr::null_mut();
        let mut err = ptr::null_mut();
        check(api, "store_new_memory", (api.store_memory)(&mut mem, &mut err), err, calls);
        let mut sealed = ptr::null_mut();
        let mut err = ptr::null_mut();
        check(api, "store_new_sealed", (api.store_sealed)(mem, part(3).as_ptr(), &mut sealed, &mut err), err, calls);
        (api.store_free)(sealed);
        (api.store_free)(mem);
        // NULL arguments.
        let mut err = ptr::null_mut();
        let r = (api.req_new)(ptr::null(), &mut req, &mut err);
        assert_eq!(r, 150, "NULL export type");
        check(api, "export_request_new(NULL)", r, err, calls);
        let mut err = ptr::null_mut();
        check(api, "config_validate(NULL)", (api.config_validate)(ptr::null(), &mut err), err, calls);
    }
}

#[test]
fn ffi_entry_points_fed_arbitrary_bytes() {
    let path = lib_path();
    if !path.exists() {
        println!("ffi fuzz: SKIPPED ({} not built; scripts/test-reliability.sh builds it)", path.display());
        return;
    }
    let lib = unsafe { Library::new(&path) }.expect("dlopen libsfcrm.so");
    let sym = |n: &str| n.as_bytes().to_vec();
    let api = unsafe {
        Api {
            config_new: lib.get(&sym("sfcrm_config_new")).unwrap(),
            config_set: lib.get(&sym("sfcrm_config_set")).unwrap(),
            setters: [
                "sfcrm_config_set_client_id", "sfcrm_config_set_client_secret", "sfcrm_config_set_redirect_uri",
                "sfcrm_config_set_login_url", "sfcrm_config_set_scopes", "sfcrm_config_set_api_version",
                "sfcrm_config_set_state_secret", "sfcrm_config_set_forward_origins",
            ]
            .iter()
            .map(|n| lib.get(&sym(n)).unwrap())
            .collect(),
            config_validate: lib.get(&sym("sfcrm_config_validate")).unwrap(),
            config_free: lib.get(&sym("sfcrm_config_free")).unwrap(),
            req_new: lib.get(&sym("sfcrm_export_request_new")).unwrap(),
            req_new_custom: lib.get(&sym("sfcrm_export_request_new_custom")).unwrap(),
            req_set: ["sfcrm_export_request_set_since", "sfcrm_export_request_set_resume_from"]
                .iter()
                .map(|n| lib.get(&sym(n)).unwrap())
                .collect(),
            req_free: lib.get(&sym("sfcrm_export_request_free")).unwrap(),
            store_memory: lib.get(&sym("sfcrm_store_new_memory")).unwrap(),
            store_sealed: lib.get(&sym("sfcrm_store_new_sealed")).unwrap(),
            store_free: lib.get(&sym("sfcrm_store_free")).unwrap(),
            error_message: lib.get(&sym("sfcrm_error_message")).unwrap(),
            error_free: lib.get(&sym("sfcrm_error_free")).unwrap(),
            result_name: lib.get(&sym("sfcrm_result_name")).unwrap(),
        }
    };
    let n: usize = std::env::var("SFCRM_FFI_FUZZ_INPUTS").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let seeds: Vec<Vec<u8>> = vec![
        b"\x01https://login.salesforce.com\xffcontacts\xff2024-01-01T00:00:00Z\xffk1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_vec(),
        b"\x00SFCRM_BATCH_SIZE\xff99999999999999999999\xffContact\xffName,Account.Name".to_vec(),
        b"\x02\xc3\x28\xff\xed\xa0\x80\xffns__X__c\xffId,,Name\xff*".to_vec(),
        b"\x04SFCRM_INSTANCE_HOSTS\xff*.,loopback,[::1]\xffeyJ2IjoxfQ\xffk1:,k1:".to_vec(),
    ];
    let mut rng = Rng::new(0xFF1);
    let mut calls = 0u64;
    let mut inputs = 0u64;
    for i in 0..n + seeds.len() {
        let mut data = seeds[i % seeds.len()].clone();
        if i >= seeds.len() {
            mutate(&mut rng, &mut data);
            if rng.below(50) == 0 {
                data.extend(std::iter::repeat_n(b'A', 70_000));
            }
        }
        unsafe { one(&api, &data, &mut calls) };
        inputs += 1;
    }
    println!("ffi fuzz: {inputs} inputs, {calls} C API calls, no panic, no crash, every failure typed with a message");
}
