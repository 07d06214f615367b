//! `searchlib._core`: the compiled core of searchlib, bound to Python with PyO3.
//!
//! This file only registers what Python sees; each concern lives in its own module.
//! Every function takes and returns batches, and releases the GIL while it works, so a
//! Python loop never crosses the boundary per word.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pub mod analysis;
use analysis::stem;

/// Stem each of `words` with the Snowball stemmer of `language` (the GIL is released).
#[pyfunction]
fn stem_words(py: Python<'_>, language: &str, words: Vec<String>) -> PyResult<Vec<String>> {
    let stemmer = stem::stemmer(language).ok_or_else(|| {
        let known: Vec<&str> = stem::LANGUAGES.iter().map(|(name, _)| *name).collect();
        PyValueError::new_err(format!(
            "no compiled Snowball stemmer for {language:?}; the languages are {}",
            known.join(", ")
        ))
    })?;
    Ok(py.detach(|| stem::stem_all(&stemmer, &words)))
}

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let languages: Vec<&str> = stem::LANGUAGES.iter().map(|(name, _)| *name).collect();
    module.add("STEMMER_LANGUAGES", languages)?;
    module.add_function(wrap_pyfunction!(stem_words, module)?)?;
    Ok(())
}
