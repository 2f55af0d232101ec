//! cargo-fuzz target `bulk_csv`: the body lives in tests/reliability/src/fuzz_targets.rs (shared with the
//! stable replay test).
#![no_main]

#[path = "../../../tests/reliability/src/fuzz_targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::bulk_csv(data));
