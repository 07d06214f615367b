//! The Python binding of analysis: `searchlib._core.CoreAnalyzer` and `stem_words`.
//!
//! Every method takes or returns whole texts or batches and releases the GIL while the
//! core works; nothing crosses the boundary per token.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::{spec, stem, Analyzer, DEFAULT_CACHE_WORDS};

/// A built-in analyzer chain run by the core (`CoreAnalyzer(spec_json)`); ValueError when
/// the spec is not built into the core. Threads may share one: calls take turns (the
/// term cache is the analyzer's own).
#[pyclass(module = "searchlib._core", name = "CoreAnalyzer")]
pub(crate) struct CoreAnalyzer {
    inner: Mutex<Analyzer>,
}

impl CoreAnalyzer {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Analyzer> {
        // A panic cannot leave the analyzer half-updated in a way that matters: the cache
        // holds whole entries only. So a poisoned lock is taken over.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type TokenLists = (Vec<String>, Vec<u32>, Vec<u32>, Vec<u32>);

#[pymethods]
impl CoreAnalyzer {
    /// `cache_words` bounds the term cache (default `DEFAULT_CACHE_WORDS`).
    #[new]
    #[pyo3(signature = (spec_json, cache_words=None))]
    fn new(spec_json: &str, cache_words: Option<usize>) -> PyResult<CoreAnalyzer> {
        let (tokenizer, filters) = spec::parse(spec_json).map_err(|e| PyValueError::new_err(e.0))?;
        let inner = Analyzer::new(tokenizer, filters, cache_words.unwrap_or(DEFAULT_CACHE_WORDS));
        Ok(CoreAnalyzer {
            inner: Mutex::new(inner),
        })
    }

    /// For each text, its terms and their positions (two lists).
    fn terms_batch(&self, py: Python<'_>, texts: Vec<Bound<'_, PyString>>) -> PyResult<Vec<(Vec<String>, Vec<u32>)>> {
        let texts = borrow_all(&texts)?;
        Ok(py.detach(|| {
            let mut inner = self.lock();
            texts
                .iter()
                .map(|text| {
                    let (mut terms, mut positions) = (Vec::new(), Vec::new());
                    inner.for_each_term(text, |term, position| {
                        terms.push(term.to_owned());
                        positions.push(position);
                    });
                    (terms, positions)
                })
                .collect()
        }))
    }

    /// For each text, how many terms it gives (a field's length): analysis alone, with no
    /// term crossing into Python.
    fn count_terms(&self, py: Python<'_>, texts: Vec<Bound<'_, PyString>>) -> PyResult<Vec<u32>> {
        let texts = borrow_all(&texts)?;
        Ok(py.detach(|| {
            let mut inner = self.lock();
            texts
                .iter()
                .map(|text| {
                    let mut count = 0u32;
                    inner.for_each_term(text, |_, _| count += 1);
                    count
                })
                .collect()
        }))
    }

    /// The term at each position of `text`, None where a token was dropped (the shape of
    /// Python's `Analyzer.terms`; only for chains without synonyms).
    fn terms(&self, py: Python<'_>, text: &str) -> Vec<Option<String>> {
        py.detach(|| self.lock().terms_per_position(text))
    }

    /// Terms, positions, and start and end offsets (Python string indices) of `text`.
    fn tokens(&self, py: Python<'_>, text: &str) -> TokenLists {
        py.detach(|| {
            let tokens = self.lock().tokens(text);
            let mut out: TokenLists = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for token in tokens {
                out.0.push(token.term);
                out.1.push(token.position);
                out.2.push(token.start);
                out.3.push(token.end);
            }
            out
        })
    }

    /// The term cache: (lookups, misses, words held).
    fn cache_stats(&self) -> (u64, u64, usize) {
        self.lock().cache_stats()
    }
}

/// The UTF-8 of each text, borrowed from the Python strings (which cache it; no copy for
/// ASCII ones). The strings stay alive, and immutable, while the GIL is released: the
/// caller holds them.
fn borrow_all<'a>(texts: &'a [Bound<'_, PyString>]) -> PyResult<Vec<&'a str>> {
    texts.iter().map(|text| text.to_str()).collect()
}

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

/// Adds the analysis classes, functions and constants to `searchlib._core`.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let languages: Vec<&str> = stem::LANGUAGES.iter().map(|(name, _)| *name).collect();
    module.add("STEMMER_LANGUAGES", languages)?;
    module.add("STEMMER_NAME", stem::NAME)?;
    module.add("STEMMER_VERSION", stem::VERSION)?;
    module.add("UNICODE_VERSION", super::unicode::unicode_version())?;
    module.add_function(wrap_pyfunction!(stem_words, module)?)?;
    module.add_class::<CoreAnalyzer>()?;
    Ok(())
}
