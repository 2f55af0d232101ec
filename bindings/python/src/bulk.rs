//! Bulk API 2.0 (issue 12): the `mode=` and `bulk=` arguments of `export`, `query` and their file
//! variants, read into the core's [`ExportMode`] and [`BulkOptions`] (the core runs the job,
//! falls back to REST and reports progress; nothing about Bulk is decided here)
//! [bulk-and-parallel.md §1].

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sfcrm_core::export::{BulkOptions, ExportMode};

use crate::error::to_py;

/// The keys `bulk=` accepts (see [`bulk_args`]).
const KEYS: &[&str] = &["max_records", "concurrency", "delete_job", "fallback_to_rest", "poll_timeout"];

fn invalid(message: String) -> PyErr {
    to_py(sfcrm_core::Error::invalid_argument(message))
}

/// `mode=` (`"rest"`, the default, or `"bulk"`) and `bulk=` (a dict, or None for the defaults):
/// - `max_records`: rows per result page (`maxRecords`; default 50,000),
/// - `concurrency`: result pages downloaded at once (default 4; memory holds up to this many),
/// - `delete_job`: delete the job after its last page (default True),
/// - `fallback_to_rest`: read with REST when Bulk refuses the query or the job fails (default
///   True; the reason is the iterator's `fallback_reason`); False makes that the error,
/// - `poll_timeout`: seconds to wait for the job (default None: as long as it runs).
///
/// `InvalidArgumentError` for another mode, an unknown key or a value of the wrong type; `bulk=`
/// with `mode="rest"` too (it would be ignored silently).
pub fn bulk_args(mode: &str, bulk: Option<&Bound<'_, PyAny>>) -> PyResult<(ExportMode, BulkOptions)> {
    let mode = match mode {
        "rest" => ExportMode::Rest,
        "bulk" => ExportMode::Bulk,
        other => return Err(invalid(format!("mode must be \"rest\" or \"bulk\", not {other:?}"))),
    };
    let mut o = BulkOptions::default();
    let Some(bulk) = bulk.filter(|b| !b.is_none()) else { return Ok((mode, o)) };
    if mode == ExportMode::Rest {
        return Err(invalid("bulk= options need mode=\"bulk\"".into()));
    }
    let dict = bulk.cast::<PyDict>().map_err(|_| invalid("bulk= must be a dict (see sfcrm.BulkOptions)".into()))?;
    for (k, v) in dict.iter() {
        let k: String = k.extract().map_err(|_| invalid("bulk= keys must be strings".into()))?;
        let bad = |what: &str| invalid(format!("bulk={{{k:?}: ...}} must be {what}"));
        match k.as_str() {
            "max_records" => o.max_records = v.extract().map_err(|_| bad("a positive int"))?,
            "concurrency" => o.concurrency = v.extract().map_err(|_| bad("a positive int"))?,
            "delete_job" => o.delete_job = v.extract().map_err(|_| bad("a bool"))?,
            "fallback_to_rest" => o.fallback_to_rest = v.extract().map_err(|_| bad("a bool"))?,
            "poll_timeout" => {
                o.poll_timeout = if v.is_none() {
                    None
                } else {
                    let s: f64 = v.extract().map_err(|_| bad("seconds (a number) or None"))?;
                    Some(Duration::try_from_secs_f64(s).map_err(|_| bad("seconds >= 0"))?)
                }
            }
            _ => return Err(invalid(format!("bulk= has no option {k:?}; the options are {}", KEYS.join(", ")))),
        }
    }
    Ok((mode, o))
}
