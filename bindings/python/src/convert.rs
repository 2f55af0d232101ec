//! JSON values (core records, seed bodies, store documents) to Python objects and back.
//!
//! Salesforce record JSON keeps every digit in the core (serde_json `arbitrary_precision`): a
//! number's exact text is available here. Default mode: integers become `int` (exact at any size),
//! other numbers `float`. Lossless mode: every JSON number becomes `decimal.Decimal` built from
//! the exact text Salesforce sent (e.g. an 18-digit `Amount` of `123456789012345678.25`).
//! Objects keep Salesforce's key order (`dict` insertion order).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyList, PyString};
use serde_json::Value;

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `decimal.Decimal` when `lossless`, imported once per interpreter (shared by [`ToPy`] and the
/// raw-record decoder).
pub fn decimal_class(py: Python<'_>, lossless: bool) -> PyResult<Option<Bound<'_, PyAny>>> {
    if !lossless {
        return Ok(None);
    }
    let d = DECIMAL.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("decimal")?.getattr("Decimal")?.unbind())
    })?;
    Ok(Some(d.bind(py).clone()))
}

static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Converts JSON to Python; see the module docs for numbers.
pub struct ToPy<'py> {
    py: Python<'py>,
    lossless: bool,
    decimal: Option<Bound<'py, PyAny>>,
}

impl<'py> ToPy<'py> {
    /// A converter; `lossless` selects `decimal.Decimal` for every number.
    pub fn new(py: Python<'py>, lossless: bool) -> PyResult<Self> {
        let decimal = decimal_class(py, lossless)?;
        Ok(ToPy { py, lossless, decimal })
    }

    /// Converts one value.
    pub fn value(&self, v: &Value) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match v {
            Value::Null => py.None().into_bound(py),
            Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
            Value::Number(n) => self.number(n)?,
            Value::String(s) => PyString::new(py, s).into_any(),
            Value::Array(items) => {
                let list = PyList::empty(py);
                for item in items {
                    list.append(self.value(item)?)?;
                }
                list.into_any()
            }
            Value::Object(map) => self.object(map)?.into_any(),
        })
    }

    /// Converts a JSON object (a record) to a `dict`.
    pub fn object(&self, map: &serde_json::Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(self.py);
        for (k, v) in map {
            dict.set_item(PyString::new(self.py, k), self.value(v)?)?;
        }
        Ok(dict)
    }

    fn number(&self, n: &serde_json::Number) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let text = n.as_str();
        if self.lossless {
            let d = self.decimal.as_ref().expect("decimal loaded in lossless mode");
            return d.call1((text,));
        }
        let is_integer = !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
        if is_integer {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(i.into_pyobject(py)?.into_any());
            }
            // Wider than 64 bits: Python's int is exact at any size.
            return py.get_type::<pyo3::types::PyInt>().call1((text,));
        }
        let f: f64 = text
            .parse()
            .map_err(|_| pyo3::exceptions::PyValueError::new_err(format!("not a JSON number: {text:?}")))?;
        Ok(PyFloat::new(py, f).into_any())
    }
}

/// Serializes a Python object (dict/list/str/number/None, `Decimal` as its exact text) to JSON text
/// with `json.dumps`.
pub fn dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let f = JSON_DUMPS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("dumps")?.unbind())
    })?;
    f.bind(py).call1((obj,))?.extract()
}

/// Parses JSON text (with exact numbers) and converts it.
pub fn loads<'py>(py: Python<'py>, text: &str, lossless: bool) -> PyResult<Bound<'py, PyAny>> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("invalid JSON: {e}")))?;
    ToPy::new(py, lossless)?.value(&v)
}
