//! `sfcrm-reliability`: the reliability and security suite of sfcrm (issue 7).
//!
//! The library holds what the test files share:
//! - [`env`]: a [`sfcrm_core::Config`] for the org emulator, the real login → authorize → callback
//!   flow, and a connected client.
//! - [`stores`]: [`stores::SqliteStore`] (a `TokenStore` on a SQLite file, compare-and-swap as
//!   `UPDATE … WHERE version = ?`, safe across OS processes) and [`stores::FaultyStore`] (a
//!   decorator that makes the next N store calls fail or conflict).
//! - [`hostile`]: a small axum server that behaves like a broken or malicious Salesforce.
//! - [`fuzz_targets`]: the fuzz target bodies, shared by `core/fuzz` (cargo-fuzz, nightly) and the
//!   stable replay test (`tests/fuzz_replay.rs`).
//! - [`gen`]: a deterministic input generator (dictionary + mutations) for the stable replay.
//! - [`rss`]: peak resident memory of this process, from `/proc/self/status`.

#![warn(missing_docs)]

pub mod env;
pub mod fuzz_targets;
pub mod r#gen;
pub mod hostile;
pub mod rss;
pub mod stores;

/// [`record_id`] of a streamed record (decoded first; panics on an undecodable record).
pub fn raw_record_id(record: &sfcrm_core::export::RawRecord) -> String {
    record_id(&record.to_record().expect("a streamed record decodes"))
}

/// The Id of a record: its `Id` field, else the last segment of `attributes.url` (the seed's
/// field lists do not select `Id`). Empty when neither is present.
pub fn record_id(record: &sfcrm_core::export::Record) -> String {
    if let Some(id) = record.get("Id").and_then(|v| v.as_str()) {
        return id.to_owned();
    }
    record
        .get("attributes")
        .and_then(|a| a.get("url"))
        .and_then(|u| u.as_str())
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}
