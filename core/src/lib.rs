//! # sfcrm-core
//!
//! Connects a user's Salesforce org over OAuth 2.0 (web server flow with PKCE) and exports its CRM
//! data (contacts, opportunities, notes, any sObject). This crate is the core that the C ABI
//! (`ffi/`), the Python module and the Node.js addon wrap.
//!
//! Module map (one concern each):
//! - [`config`]: [`Config`] and its environment loader (the seed's `SALESFORCE_*` names plus `SFCRM_*`).
//! - [`error`]: the single [`Error`] type with an [`ErrorKind`], HTTP status, Salesforce `errorCode`.
//! - [`store`]: the pluggable [`TokenStore`] (compare-and-swap on a version), in-memory and file stores,
//!   and sealing of token fields with XChaCha20-Poly1305.
//! - `oauth` (internal): authorize URL, signed state (HS256), PKCE S256, token/refresh/revoke requests.
//! - [`usage`]: `Sforce-Limit-Info` ([`ApiUsage`]) and the request counters ([`ApiCallCounts`]).
//! - `http` (internal): the transport: retries with backoff, error-body parsing, response reading.
//! - [`protocol`]: the few OAuth and transport steps that are useful on their own (state
//!   verification, token grants, error-body parsing), for hosts and tests.
//! - [`describe`]: describeGlobal and sObject describe results ([`describe::SObjectDescribe`], …).
//! - [`client`]: [`Client`]: login, callback, disconnect, refresh coordination, authenticated API calls.
//! - [`soql`]: identifier validation and literal escaping; the only way SOQL text is built.
//! - [`paginator`]: the seed's pagination object, bit-for-bit for valid inputs.
//! - [`export`]: `export_page` (the seed's JSON body), streaming exports with checkpoints, CSV/NDJSON writers.

#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod describe;
pub mod error;
pub mod export;
pub(crate) mod http;
pub(crate) mod oauth;
pub mod paginator;
pub mod protocol;
pub mod query;
pub mod secret;
pub mod soql;
pub mod store;
pub mod usage;

pub use client::{
    CallbackOutcome, CallbackParams, CallbackRedirect, Client, ConnectionInfo, Disconnected, LoginRedirect,
};
pub use query::{QueryOptions, QueryPage, RawRecord, Record};
pub use config::{Config, ConfigBuilder, ForwardOrigins, RetryPolicy};
pub use usage::{ApiCallCounts, ApiUsage, PerAppUsage};
pub use error::{Error, ErrorKind, Result};
pub use secret::Secret;
pub use store::{
    ConnectionDocument, ConnectionKey, FileStore, MemoryStore, SaveOutcome, SealedStore, SealingKeyring, TokenStore,
};

/// The crate version, as in `Cargo.toml` (the C ABI and the bindings report the same string).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
