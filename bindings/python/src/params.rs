//! Bind values from Python: a `params` mapping becomes the core's [`Params`] (issue 11 item 2), so
//! `client.query(..., "SELECT Id FROM Contact WHERE Name = :name", {"name": "O'Brien"})` never
//! builds SOQL text in Python. The placeholder rules, escaping and the "missing or unused name"
//! check live in the core (`sfcrm_core::soql::bind`); this file only maps Python types:
//!
//! | Python | SOQL literal (core [`BindValue`]) |
//! |---|---|
//! | `None` | `null` |
//! | `bool` | `true` / `false` (checked before `int`: a bool is an int in Python) |
//! | `int` | integer (`-5`); beyond 64 bits, the same digits as a decimal |
//! | other objects with `__index__` (`numpy.int64`) | as the `int` it returns |
//! | `float` | the shortest decimal that reads back as the same float (`0.1`); NaN/inf refused |
//! | `decimal.Decimal` | its exact digits, without exponent (`Decimal("1E+3")` → `1000`); NaN/inf refused |
//! | `str` | a quoted string, escaped with backslashes [salesforce-api.md §8] |
//! | `datetime.datetime` (aware) | UTC datetime, unquoted (`2024-01-31T10:00:00Z`, ms kept) |
//! | `datetime.datetime` (naive) | refused: the offset is unknown; add `tzinfo=datetime.timezone.utc` |
//! | `datetime.date` | date, unquoted (`2024-01-31`) |
//! | `list` / `tuple` | `('a', 'b')` for `IN` / `NOT IN` / `INCLUDES` (not empty, not nested) |
//! | `set` / `frozenset` | the same, items ordered by their SOQL literal (so the bound text, and a checkpoint's hash of it, is the same in every process whatever `PYTHONHASHSEED` is) |
//!
//! Anything else (bytes, dicts, custom objects) is `InvalidArgumentError` naming the parameter and
//! its type, before any request.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};
use sfcrm_core::soql::{BindValue, Params, SoqlDate, SoqlDateTime};
use sfcrm_core::Error;

use crate::error::{IntoPyResult, to_py};

fn bad(name: &str, what: impl std::fmt::Display) -> PyErr {
    to_py(Error::invalid_argument(format!("bind value {name:?}: {what}")))
}

/// The core [`Params`] from a Python mapping (`None` = no parameters). Keys must be `str`
/// (names `[A-Za-z_][A-Za-z0-9_]*`, checked by the core); values as in the module table.
pub fn from_py(params: Option<&Bound<'_, PyAny>>) -> PyResult<Params> {
    let mut out = Params::new();
    let Some(obj) = params else { return Ok(out) };
    if obj.is_none() {
        return Ok(out);
    }
    // Any mapping (dict, MappingProxy, a user Mapping) through its items().
    let items = if let Ok(d) = obj.cast::<PyDict>() {
        d.items().into_any()
    } else if obj.hasattr("items")? && !obj.is_instance_of::<PyString>() {
        obj.call_method0("items")?
    } else {
        return Err(to_py(Error::invalid_argument(format!(
            "params must be a mapping of name to value (a dict), not {}",
            type_name(obj)
        ))));
    };
    for item in items.try_iter()? {
        let item = item?;
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let Ok(name) = k.cast::<PyString>() else {
            return Err(to_py(Error::invalid_argument(format!(
                "params keys must be str (the placeholder name without ':'), not {}",
                type_name(&k)
            ))));
        };
        let name = name.to_str()?;
        let value = value(name, &v, true)?;
        out.insert(name, value).py_err()?;
    }
    Ok(out)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().qualname().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

/// One Python value as a [`BindValue`]; `top` is false inside a list (no nested lists).
fn value(name: &str, v: &Bound<'_, PyAny>, top: bool) -> PyResult<BindValue> {
    if v.is_none() {
        return Ok(BindValue::Null);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(BindValue::Bool(b.is_true()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(BindValue::String(s.to_str()?.to_owned()));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(match v.extract::<i64>() {
            Ok(i) => BindValue::Integer(i),
            // Beyond 64 bits: the exact digits, as a decimal literal (SOQL numbers are untyped text).
            Err(_) => BindValue::decimal(&v.str()?.to_string()).map_err(|e| bad(name, e.message()))?,
        });
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return BindValue::from_f64(f.value()).map_err(|e| bad(name, e.message()));
    }
    let py = v.py();
    // Integer-like objects that are not `int` (numpy.int64, a pandas column's values): their
    // `__index__` is an exact int. numpy.bool_ has none and is refused below.
    if v.hasattr("__index__")? && !v.is_instance_of::<PyFloat>() {
        let as_int = py.import("operator")?.call_method1("index", (v,))?;
        return value(name, &as_int, top);
    }
    let decimal_type = py.import("decimal")?.getattr("Decimal")?;
    if v.is_instance(&decimal_type)? {
        if !v.call_method0("is_finite")?.is_truthy()? {
            return Err(bad(name, format!("{} cannot be a SOQL number: pass a finite value", v.str()?)));
        }
        // format(d, "f"): the exact digits without an exponent (Decimal("1E+3") → "1000").
        let text: String = py.import("builtins")?.getattr("format")?.call1((v, "f"))?.extract()?;
        return BindValue::decimal(&text).map_err(|e| bad(name, e.message()));
    }
    let datetime = py.import("datetime")?;
    // datetime.datetime before datetime.date: a datetime is a date in Python.
    if v.is_instance(&datetime.getattr("datetime")?)? {
        if v.call_method0("utcoffset")?.is_none() {
            return Err(bad(
                name,
                "a naive datetime has no UTC offset, so the instant it means is unknown: \
                 add tzinfo (for example value.replace(tzinfo=datetime.timezone.utc)) or use an aware datetime",
            ));
        }
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        let text: String = v.call_method1("astimezone", (utc,))?.call_method0("isoformat")?.extract()?;
        return SoqlDateTime::parse(&text).map(BindValue::DateTime).map_err(|e| bad(name, e.message()));
    }
    if v.is_instance(&datetime.getattr("date")?)? {
        let text: String = v.call_method0("isoformat")?.extract()?;
        return SoqlDate::parse(&text).map(BindValue::Date).map_err(|e| bad(name, e.message()));
    }
    let is_seq = v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>();
    let is_set = v.is_instance_of::<PySet>() || v.is_instance_of::<PyFrozenSet>();
    if is_seq || is_set {
        if !top {
            return Err(bad(name, "a list inside a list cannot be bound: flatten it"));
        }
        let mut items = Vec::new();
        for item in v.try_iter()? {
            items.push(value(name, &item?, false)?);
        }
        if items.is_empty() {
            return Err(bad(name, "empty list: SOQL's IN needs at least one value (skip the condition when there is nothing to match)"));
        }
        if is_set {
            // A set's order differs between processes (hash randomization): order the items by
            // their literal so the bound SOQL, and a checkpoint's hash of it, are stable.
            let mut keyed = items
                .into_iter()
                .map(|i| i.to_soql().map(|k| (k, i)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(name, e.message()))?;
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            items = keyed.into_iter().map(|(_, i)| i).collect();
        }
        return Ok(BindValue::List(items));
    }
    Err(bad(
        name,
        format!(
            "a {} cannot be bound; pass None, bool, int, float, decimal.Decimal, str, datetime.date, \
             an aware datetime.datetime, or a list/tuple/set of those",
            type_name(v)
        ),
    ))
}

/// `sfcrm.bind_soql(soql, params)`: the SOQL text with every `:name` placeholder replaced by its
/// value's literal, exactly as `query` would send it (no request). For logging and tests; raises
/// `InvalidArgumentError` for a missing or unused name or a value that cannot be bound.
#[pyfunction]
#[pyo3(signature = (soql, params=None))]
pub fn bind_soql(soql: &str, params: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    let params = from_py(params)?;
    sfcrm_core::soql::bind(soql, &params).py_err()
}

/// The `since=` argument: a timezone-aware `datetime.datetime` (converted to ISO 8601 with its
/// offset; microseconds are cut to milliseconds by the core) or a string (RFC 3339 or
/// Salesforce's form). A naive datetime, a `date` or anything else is `InvalidArgumentError`.
pub fn since_arg(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Some(s.to_string()));
    }
    if v.is_instance_of::<pyo3::types::PyDateTime>() {
        if v.call_method0("utcoffset")?.is_none() {
            return Err(to_py(Error::invalid_argument(
                "since must be a timezone-aware datetime (e.g. datetime(2024, 1, 1, tzinfo=timezone.utc)): \
                 a naive one could be any time zone",
            )));
        }
        return Ok(Some(v.call_method0("isoformat")?.extract::<String>()?));
    }
    Err(to_py(Error::invalid_argument(format!(
        "since must be a timezone-aware datetime or a string, not {}",
        v.get_type().name()?
    ))))
}
