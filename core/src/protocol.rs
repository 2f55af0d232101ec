//! The protocol steps the [`crate::Client`] is built from, each usable on its own.
//!
//! Applications do not need this module: [`crate::Client`] runs these steps in the right order,
//! with the refresh coordination, the store and the instance allow-list around them. It is public
//! for hosts and tests that need one step alone: verifying a callback's `state` before routing it,
//! a second process posting a refresh grant with its own [`Transport`], or fuzzing the error-body
//! parser.
//!
//! - The OAuth `state`: a JWT signed with HS256 only ([`sign_state`], [`verify_state`],
//!   [`StateClaims`]), and the PKCE code_verifier derived from it ([`pkce_verifier`])
//!   [salesforce-api.md §1].
//! - The token endpoint: [`exchange_code`] and [`refresh_grant`], each one POST (never retried once
//!   sent), answering a [`TokenResponse`] [salesforce-api.md §2].
//! - Error bodies: [`parse_error_body`] reads every shape Salesforce or a proxy sends (REST array,
//!   OAuth object, HTML page, empty, text); [`api_error`] maps an API response to the typed
//!   [`crate::Error`] the client returns [salesforce-api.md §5].
//! - [`MAX_RESPONSE_BYTES`]: the largest API response body read; a longer one is refused.

pub use crate::http::{MAX_RESPONSE_BYTES, ParsedErrorBody, Transport, api_error, parse_error_body};
pub use crate::oauth::{
    INVALID_STATE, STATE_LEEWAY_SECS, StateClaims, TokenResponse, exchange_code, pkce_verifier, refresh_grant,
    sign_state, verify_state,
};
