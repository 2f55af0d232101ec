//! Bind values for Node: `params` of queries and filtered exports cross from `lib/soql.js` as JSON
//! text in the core's form (`Params::from_json_text`: an object of strings, numbers, booleans,
//! nulls, arrays and one-key typed objects such as `{"date": "2024-01-31"}`), the same form the C
//! ABI and the CLI take. What a value means and how it is written into SOQL is decided by the core
//! only (`sfcrm_core::soql::bind`); this file only hands the text over.

use napi::Env;
use napi_derive::napi;
use sfcrm_core::Error;
use sfcrm_core::soql::Params;

use crate::error::IntoJs;

/// The core's bind values from the JSON text `lib/soql.js` wrote (`None`: no values).
/// `InvalidArgument` (from the core) for a value or name it refuses.
pub fn params_from_json(json: Option<&str>) -> Result<Params, Error> {
    match json {
        None => Ok(Params::new()),
        Some(text) => Params::from_json_text(text),
    }
}

/// Checks bind values now, with the core's rules (`soql.date('2024-13-01')` fails where it is
/// written, not at the query): `json` is the core's JSON form of one or more values. Throws the
/// core's `InvalidArgument`.
#[napi]
pub fn check_params(env: Env, json: String) -> napi::Result<()> {
    Params::from_json_text(&json).js(&env).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_go_through_the_core() {
        assert!(params_from_json(None).unwrap().is_empty());
        assert!(!params_from_json(Some(r#"{"n": 1, "d": {"date": "2024-01-31"}}"#)).unwrap().is_empty());
        assert!(params_from_json(Some("[1]")).is_err());
    }
}
