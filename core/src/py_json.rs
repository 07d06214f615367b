//! The Python binding of [`crate::json`]: `parse_json` (an index file's JSON as Python
//! values, as `json.loads` gives them, with a manifest's checksum when asked) and
//! `dump_json` (an analyzer's spec as the text the core builds it from).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::json;

/// Registers the JSON functions on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(parse_json, module)?)?;
    module.add_function(wrap_pyfunction!(dump_json, module)?)
}

/// `data` parsed into dicts, lists, strings, ints, floats, bools and None, objects in the
/// order of the text, and with `checksum_without` the CRC-32 of the value's canonical form
/// without that top-level key (see [`json::canonical`]; None when not asked or not an
/// object): a manifest is parsed once for both. ValueError ("nests JSON more than N
/// deep", "is not valid JSON (...)") for anything else.
#[pyfunction]
#[pyo3(signature = (data, max_depth, checksum_without=None))]
fn parse_json<'py>(py: Python<'py>, data: &[u8], max_depth: usize, checksum_without: Option<&str>) -> PyResult<(Bound<'py, PyAny>, Option<u32>)> {
    let (value, checksum) = py
        .detach(|| {
            let value = json::parse(data, max_depth)?;
            let checksum = checksum_without.filter(|_| value.is_object()).map(|key| {
                let mut text = String::with_capacity(data.len());
                json::canonical(&value, Some(key), &mut text);
                crc32fast::hash(text.as_bytes())
            });
            Ok((value, checksum))
        })
        .map_err(|error: json::JsonError| PyValueError::new_err(error.to_string()))?;
    Ok((to_python(py, &value)?, checksum))
}

/// A parsed value as Python's: recursion is bounded by the depth `json::parse` checked.
fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Number(number) => {
            // The number's text, read as Python's json reads it: int() without a
            // fraction or exponent (of any size), float() otherwise.
            let text = number.as_str();
            if text.contains(['.', 'e', 'E']) {
                let parsed: f64 = text.parse().map_err(|_| PyValueError::new_err(format!("is not valid JSON (number {text})")))?;
                PyFloat::new(py, parsed).into_any()
            } else if let Ok(small) = text.parse::<i64>() {
                small.into_pyobject(py)?.into_any()
            } else {
                py.get_type::<PyInt>().call1((text,))?
            }
        }
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, to_python(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// `value` as compact JSON, keys sorted, non-ASCII characters as they are: what
/// `json.dumps(value, sort_keys=True, ensure_ascii=False)` gives up to spacing and the
/// digits of floats. TypeError for anything but dicts with string keys, lists, tuples,
/// strings, ints of 64 bits, finite floats, bools and None.
#[pyfunction]
fn dump_json(value: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(from_python(value, 0)?.to_string())
}

/// How deeply `dump_json` follows lists and dicts: a cycle is refused, not followed.
const MAX_DUMP_DEPTH: usize = 64;

fn from_python(value: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DUMP_DEPTH {
        return Err(PyValueError::new_err(format!("value nests more than {MAX_DUMP_DEPTH} deep (or refers to itself)")));
    }
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bools are ints.
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Value::String(text.to_str()?.to_owned()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(small) = value.extract::<i64>() {
            return Ok(Value::from(small));
        }
        let large: u64 = value.extract().map_err(|_| PyValueError::new_err(format!("{value} is outside 64 bits")))?;
        return Ok(Value::from(large));
    }
    if let Ok(float) = value.cast::<PyFloat>() {
        return Number::from_f64(float.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{} is not a finite number", float.value())));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let key: String = key.extract().map_err(|_| PyTypeError::new_err(format!("key {key} is not a string")))?;
            entries.push((key, from_python(&item, depth + 1)?));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        return Ok(Value::Object(entries.into_iter().collect::<Map<String, Value>>()));
    }
    // Lists and tuples by index: a generic iterator would import Python's operator module
    // (for its length hint) on the first call.
    if let Ok(list) = value.cast::<PyList>() {
        return list.iter().map(|item| from_python(&item, depth + 1)).collect::<PyResult<Vec<Value>>>().map(Value::Array);
    }
    if let Ok(tuple) = value.cast::<PyTuple>() {
        return tuple.iter().map(|item| from_python(&item, depth + 1)).collect::<PyResult<Vec<Value>>>().map(Value::Array);
    }
    Err(PyTypeError::new_err(format!("a {} is not a JSON value", value.get_type().name()?)))
}
