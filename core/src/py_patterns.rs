//! The Python binding of pattern expansion and spelling candidates: a compiled
//! [`Pattern`] expands over one segment's field at a time, bounded, with the GIL released;
//! terms and document frequencies come back as one batch per segment.

use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Error;
use crate::patterns::{self, Bounds, Compiled, CpuDeadline, PatternError, PatternSpec};
use crate::py::{to_py, u32_bytes, SegmentReader};

/// Registers the pattern classes and functions on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Pattern>()?;
    module.add_function(wrap_pyfunction!(near_words, module)?)?;
    module.add_function(wrap_pyfunction!(prepare_fuzzy, module)?)?;
    Ok(())
}

/// A pattern the automata cannot run, as Python's ValueError: the caller words it as a
/// query error naming the pattern.
fn pattern_error(error: PatternError) -> PyErr {
    PyValueError::new_err(error.0)
}

/// A bound of `seconds` of this thread's CPU time from now, past each walk's first
/// `untimed_visits` entries (None: no bound; a negative or NaN bound has already ended).
fn deadline(seconds: Option<f64>, untimed_visits: u32) -> Option<CpuDeadline> {
    seconds.map(|s| CpuDeadline::after(Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO), untimed_visits))
}

/// A term or word read from `reader`'s field as a string: terms are UTF-8 in this format,
/// so one that is not is damage in the segment's terms file (where dictionaries and
/// lexicons live), reported as such rather than as a bad argument.
fn utf8(reader: &crate::segment_reader::SegmentReader, field: &str, bytes: Vec<u8>) -> PyResult<String> {
    String::from_utf8(bytes)
        .map_err(|_| to_py(reader.name_field(Error::corrupt(reader.terms.path(), "a term is not UTF-8"), field)))
}

/// A prefix, wildcard, regular expression or fuzzy word, compiled once and expanded over
/// each segment's field.
///
/// `kind` is "prefix", "wildcard", "regex" or "fuzzy"; `text` the prefix, pattern or
/// word; `max_edits` and `prefix_length` are a fuzzy word's. A regular expression is in
/// the query language's dialect; one the automata cannot run raises ValueError saying why.
#[pyclass(module = "searchlib._core", frozen)]
pub struct Pattern {
    compiled: Mutex<Compiled>,
}

#[pymethods]
impl Pattern {
    #[new]
    #[pyo3(signature = (kind, text, max_edits = 0, prefix_length = 0))]
    fn new(py: Python<'_>, kind: &str, text: String, max_edits: u8, prefix_length: usize) -> PyResult<Pattern> {
        let spec = match kind {
            "prefix" => PatternSpec::Prefix(text),
            "wildcard" => PatternSpec::Wildcard(text),
            "regex" => PatternSpec::Regex(text),
            "fuzzy" => PatternSpec::Fuzzy { text, max_edits, prefix_length },
            other => return Err(PyValueError::new_err(format!("unknown pattern kind {other:?}"))),
        };
        let compiled = py.detach(|| Compiled::new(&spec)).map_err(pattern_error)?;
        Ok(Pattern { compiled: Mutex::new(compiled) })
    }

    /// The terms of `field` that the pattern picks in `readers` (one search's segments),
    /// as one batch: (every term some segment picked, ascending; their doc_freqs as
    /// uint32 bytes, one row per segment, 0 where a segment does not count the term; how
    /// many terms the segments matched before `keep` cut each to its most frequent,
    /// added up; whether some segment was cut; whether the walks ended before `seconds`
    /// of CPU time ran out, which each may only past its first `untimed_visits` entries).
    /// With `surface`, a field that keeps a lexicon is matched by its written words,
    /// giving their terms (see `patterns::expand_across`).
    #[pyo3(signature = (readers, field, *, surface = false, keep = None, seconds = None, untimed_visits = 0))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn expand<'py>(
        &self,
        py: Python<'py>,
        readers: Vec<PyRef<'py, SegmentReader>>,
        field: &str,
        surface: bool,
        keep: Option<usize>,
        seconds: Option<f64>,
        untimed_visits: u32,
    ) -> PyResult<(Vec<String>, Bound<'py, PyBytes>, usize, bool, bool)> {
        let bounds = Bounds { deadline: deadline(seconds, untimed_visits), keep };
        let inners: Vec<&crate::segment_reader::SegmentReader> = readers.iter().map(|reader| &reader.inner).collect();
        let across = py
            .detach(|| {
                let mut compiled = self.compiled.lock().map_err(|_| None)?;
                patterns::expand_across(&inners, field, &mut compiled, surface, bounds).map_err(Some)
            })
            .map_err(|error| error.map_or_else(|| PyRuntimeError::new_err("a pattern is poisoned"), to_py))?;
        Ok((across.terms, u32_bytes(py, &across.doc_freqs)?, across.matched, across.cut, across.complete))
    }
}

/// Makes the Levenshtein builder for `max_edits` now if this process has not yet (a few
/// tens of milliseconds, once): a caller that bounds its search's time calls this before
/// starting the clock, so that a process's first correction is not cut by the builder.
#[pyfunction]
fn prepare_fuzzy(py: Python<'_>, max_edits: u8) {
    py.detach(|| patterns::fuzzy::prepare(max_edits));
}

/// The words of `field` in `reader` within `max_edits` of `word` (the written words of a
/// field that keeps a lexicon, else its terms), for spelling suggestions: (words,
/// distances, their terms' doc_freqs, whether the walk ended before `seconds` ran out,
/// which it may only past its first `untimed_visits` entries in each dictionary).
#[pyfunction]
#[pyo3(signature = (reader, field, word, max_edits, seconds = None, untimed_visits = 0))]
#[allow(clippy::type_complexity)]
fn near_words(
    py: Python<'_>,
    reader: PyRef<'_, SegmentReader>,
    field: &str,
    word: &str,
    max_edits: u8,
    seconds: Option<f64>,
    untimed_visits: u32,
) -> PyResult<(Vec<String>, Vec<u8>, Vec<u32>, bool)> {
    let inner = &reader.inner;
    py.detach(|| patterns::fuzzy::prepare(max_edits)); // once per process, outside the bound
    let until = deadline(seconds, untimed_visits);
    let (found, complete) = py
        .detach(|| patterns::near_words(inner, field, word, max_edits, until))
        .map_err(to_py)?
        .map_err(pattern_error)?;
    let mut words = Vec::with_capacity(found.len());
    let mut distances = Vec::with_capacity(found.len());
    let mut doc_freqs = Vec::with_capacity(found.len());
    for (key, distance, doc_freq) in found {
        words.push(utf8(inner, field, key)?);
        distances.push(distance);
        doc_freqs.push(doc_freq);
    }
    Ok((words, distances, doc_freqs, complete))
}
