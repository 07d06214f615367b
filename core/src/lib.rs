//! `searchlib._core`: the compiled core of searchlib, bound to Python with PyO3.
//!
//! This file only registers what Python sees; each concern lives in its own module.
//! Every function takes and returns batches, and releases the GIL while it works, so a
//! Python loop never crosses the boundary per word.

use pyo3::prelude::*;

pub mod analysis;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    analysis::python::register(module)?;
    Ok(())
}
