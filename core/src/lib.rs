//! `searchlib._core`: the compiled core of searchlib, bound to Python with PyO3.
//!
//! This file only registers what Python sees; each concern lives in its own module.
//! Every function takes and returns batches, and releases the GIL while it works, so a
//! Python loop never crosses the boundary per word.

use pyo3::prelude::*;

/// The inverter grows many small per-term buffers; mimalloc serves them faster than the
/// system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod analysis;
#[doc = include_str!("../FORMAT.md")]
pub mod format {}
pub mod bitpack;
pub mod columns;
pub mod cursor;
pub mod error;
pub mod facets;
pub mod fieldnorms;
pub mod file;
pub mod json;
pub mod lexicon;
pub mod highlight;
pub mod merge;
pub mod patterns;
pub mod positions;
pub mod postings;
pub mod py;
pub mod py_phrase;
pub mod py_plain;
pub mod py_facets;
pub mod query;
pub mod py_highlight;
pub mod py_json;
pub mod py_patterns;
pub mod py_query;
pub mod sections;
pub mod segment_reader;
pub mod segment_writer;
pub mod store;
pub mod termdict;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    analysis::python::register(module)?;
    py::register(module)?;
    Ok(())
}
