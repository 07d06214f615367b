//! The Python binding of analysis: `searchlib._core.CoreAnalyzer` and `stem_words`.
//!
//! Every method takes or returns whole texts or batches and releases the GIL while the
//! core works; nothing crosses the boundary per token.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::{stem, Analyzer};

/// A built-in analyzer chain run by the core (`CoreAnalyzer(spec_json)`); ValueError when
/// the spec is not built into the core.
#[pyclass(module = "searchlib._core", name = "CoreAnalyzer")]
struct CoreAnalyzer {
    inner: Analyzer,
}

type TokenLists = (Vec<String>, Vec<u32>, Vec<u32>, Vec<u32>);

#[pymethods]
impl CoreAnalyzer {
    #[new]
    fn new(spec_json: &str) -> PyResult<CoreAnalyzer> {
        Analyzer::from_spec(spec_json).map(|inner| CoreAnalyzer { inner }).map_err(|e| PyValueError::new_err(e.0))
    }

    /// For each text, its terms and their positions (two lists).
    fn terms_batch(&mut self, py: Python<'_>, texts: Vec<String>) -> Vec<(Vec<String>, Vec<u32>)> {
        let inner = &mut self.inner;
        py.detach(|| {
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
        })
    }

    /// The term at each position of `text`, None where a token was dropped (the shape of
    /// Python's `Analyzer.terms`; only for chains without synonyms).
    fn terms(&mut self, py: Python<'_>, text: &str) -> Vec<Option<String>> {
        let inner = &mut self.inner;
        py.detach(|| {
            let mut out: Vec<Option<String>> = Vec::new();
            inner.for_each_term(text, |term, position| {
                out.resize(position as usize, None);
                out.push(Some(term.to_owned()));
            });
            out
        })
    }

    /// Terms, positions, and start and end offsets (Python string indices) of `text`.
    fn tokens(&mut self, py: Python<'_>, text: &str) -> TokenLists {
        let inner = &mut self.inner;
        py.detach(|| {
            let tokens = inner.tokens(text);
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

    /// Total bytes of UTF-8 analyzed per call is the caller's business; this reports the
    /// term cache: (lookups, misses, words held).
    fn cache_stats(&self) -> (u64, u64, usize) {
        self.inner.cache_stats()
    }
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
