//! The Python binding of highlighting: `searchlib._core.HighlightTargets`.
//!
//! One object per query and field holds what to mark; one call per hit and field returns
//! that text's fragments whole (offsets, matches, terms), with the GIL released while the
//! text is analyzed again and the windows are chosen. No call crosses per token: a chain
//! that runs in Python hands over its wanted tokens as four parallel lists. `best_field`
//! highlights every stored text field of a hit in one call and keeps the best; `render`
//! formats fragments; `best_snippets` does both for every hit of a page in one call; `phrase_occurrences` is the phrase rule the marks follow, for
//! Python's highlighting API.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::analysis::python::CoreAnalyzer;
use crate::highlight::marks::{Found, QueryWord, Targets};
use crate::highlight::phrase::{occurrences, Phrase};
use crate::highlight::render::{self as formats, Shown, Style};
use crate::highlight::{Highlight, Highlighter, Options, Rank, Source};

/// Registers the highlighting class on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(phrase_occurrences, module)?)?;
    module.add_function(wrap_pyfunction!(best_field, module)?)?;
    module.add_function(wrap_pyfunction!(best_snippets, module)?)?;
    module.add_function(wrap_pyfunction!(render, module)?)?;
    module.add_class::<HighlightTargets>()
}

/// One fragment as Python receives it: start, end, matches as (start, end) pairs, the
/// distinct terms shown (indices into the targets' terms), and its affinity with the query.
type FragmentTuple = (usize, usize, Vec<(u32, u32)>, Vec<u32>, u32);
/// A text's fragments: (is_opening, is_truncated, fragments).
type HighlightTuple = (bool, bool, Vec<FragmentTuple>);

fn to_tuple(highlight: Highlight) -> HighlightTuple {
    let fragments = highlight
        .fragments
        .into_iter()
        .map(|f| (f.start, f.end, f.matches, f.terms, f.affinity))
        .collect();
    (highlight.is_opening, highlight.is_truncated, fragments)
}

/// What a query marks in one field (`HighlightTargets(terms, anywhere, phrases, words)`):
/// `terms`, the wanted terms; `anywhere[i]`, whether `terms[i]` is marked wherever it
/// occurs; `phrases`, (term index per slot, offset per slot, slop); `words`, the query's
/// words in order as (term index, position in the query, surface form as typed or None).
#[pyclass(module = "searchlib._core", frozen)]
struct HighlightTargets {
    inner: Highlighter,
}

/// A Python chain's wanted tokens: term indices, positions, starts and ends.
type TokenLists = (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>);

/// `tokens` as `Found` entries, refused when the lists differ in length, a span lies
/// outside `text` or positions go backwards.
fn checked_tokens(text: &str, tokens: Option<TokenLists>) -> PyResult<Vec<Found>> {
    let Some((terms, positions, starts, ends)) = tokens else { return Ok(Vec::new()) };
    let n = terms.len();
    if positions.len() != n || starts.len() != n || ends.len() != n {
        return Err(PyValueError::new_err("terms, positions, starts and ends must have one entry per token"));
    }
    let length = text.chars().count() as u64;
    let found: Vec<Found> =
        (0..n).map(|i| Found { term: terms[i], position: positions[i], start: starts[i], end: ends[i] }).collect();
    if found.iter().any(|f| f.start > f.end || u64::from(f.end) > length) || found.windows(2).any(|w| w[1].position < w[0].position) {
        return Err(PyValueError::new_err("a token's span lies outside the text, or positions go backwards"));
    }
    Ok(found)
}

/// Runs `work` with the core's analyzer (locked) when there is one, else with `found`.
fn with_source<R>(analyzer: Option<&CoreAnalyzer>, found: &[Found], work: impl FnOnce(Source<'_>) -> R) -> R {
    match analyzer {
        Some(analyzer) => work(Source::Core(&mut analyzer.lock())),
        None => work(Source::Tokens(found)),
    }
}

/// Each occurrence of a phrase (a term index and an offset per slot, and a slop) among
/// `positions` (per term), as the position of each slot: the rule and matcher the
/// highlighter marks phrases with (`highlight::phrase`).
#[pyfunction]
fn phrase_occurrences(slots: Vec<usize>, offsets: Vec<u32>, slop: u32, mut positions: Vec<Vec<u32>>) -> PyResult<Vec<Vec<u32>>> {
    if slots.len() != offsets.len() || slots.iter().any(|&t| t >= positions.len()) {
        return Err(PyValueError::new_err("a phrase needs one offset per slot, and positions for each of its terms"));
    }
    for list in &mut positions {
        list.sort_unstable();
        list.dedup();
    }
    Ok(occurrences(&Phrase { slots: slots.into_iter().zip(offsets).collect(), slop }, &positions))
}

#[pymethods]
impl HighlightTargets {
    #[new]
    fn new(
        terms: Vec<String>,
        anywhere: Vec<bool>,
        phrases: Vec<(Vec<usize>, Vec<u32>, u32)>,
        words: Vec<(usize, u32, Option<String>)>,
    ) -> PyResult<HighlightTargets> {
        let count = terms.len();
        if anywhere.len() != count {
            return Err(PyValueError::new_err("one `anywhere` flag per term is needed"));
        }
        let mut built = Vec::with_capacity(phrases.len());
        for (slots, offsets, slop) in phrases {
            if slots.len() != offsets.len() || slots.iter().any(|&t| t >= count) {
                return Err(PyValueError::new_err("a phrase needs one offset per slot, and terms among `terms`"));
            }
            built.push(Phrase { slots: slots.into_iter().zip(offsets).collect(), slop });
        }
        if words.iter().any(|(t, _, _)| *t >= count) {
            return Err(PyValueError::new_err("a query word names a term not among `terms`"));
        }
        let words = words.into_iter().map(|(term, position, typed)| QueryWord { term, position, typed }).collect();
        let targets = Targets { terms, anywhere, phrases: built, words };
        Ok(HighlightTargets { inner: Highlighter::new(targets) })
    }

    /// Up to `count` fragments of `text`, whose wanted tokens the core's `analyzer` finds,
    /// or `tokens` gives: (term indices, positions ascending, starts, ends) from a chain
    /// that runs in Python.
    #[pyo3(signature = (text, count, width, max_chars, analyzer=None, tokens=None))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments
    fn fragments(
        &self,
        py: Python<'_>,
        text: &Bound<'_, PyString>,
        count: usize,
        width: usize,
        max_chars: usize,
        analyzer: Option<PyRef<'_, CoreAnalyzer>>,
        tokens: Option<TokenLists>,
    ) -> PyResult<HighlightTuple> {
        if count < 1 || width < 1 {
            return Err(PyValueError::new_err(format!("count and width must be at least 1, got {count} and {width}")));
        }
        let options = Options { count, width, max_chars };
        let text = text.to_str()?;
        let found = checked_tokens(text, tokens)?;
        let analyzer = analyzer.as_deref();
        Ok(py.detach(|| to_tuple(with_source(analyzer, &found, |source| self.inner.highlight(source, text, options)))))
    }

    /// The marks of `text`'s first `max_chars` characters, found as by `fragments`:
    /// (start, end, term index) each, sorted by start.
    #[pyo3(signature = (text, max_chars, analyzer=None, tokens=None))]
    fn marks(
        &self,
        py: Python<'_>,
        text: &Bound<'_, PyString>,
        max_chars: usize,
        analyzer: Option<PyRef<'_, CoreAnalyzer>>,
        tokens: Option<TokenLists>,
    ) -> PyResult<Vec<(u32, u32, u32)>> {
        let text = text.to_str()?;
        let found = checked_tokens(text, tokens)?;
        let analyzer = analyzer.as_deref();
        let marks = py.detach(|| with_source(analyzer, &found, |source| self.inner.marks(source, text, max_chars)));
        Ok(marks.into_iter().map(|m| (m.start, m.end, m.term)).collect())
    }

    /// The wanted terms, in the order the fragments' term indices refer to.
    #[getter]
    fn terms(&self) -> Vec<String> {
        self.inner.targets.terms.clone()
    }
}

/// One field of a hit: its targets, the core's analyzer (or None), a Python chain's
/// wanted tokens (or None), and its text.
type FieldRequest<'py> =
    (PyRef<'py, HighlightTargets>, Option<PyRef<'py, CoreAnalyzer>>, Option<TokenLists>, Bound<'py, PyString>);

/// Highlights each of a hit's `fields` and returns the one whose fragments rank best
/// (`Highlight::rank`; the first of equals) with its index, or None for no field. One call
/// per hit, with the GIL released for all of its fields.
#[pyfunction]
fn best_field(
    py: Python<'_>,
    fields: Vec<FieldRequest<'_>>,
    count: usize,
    width: usize,
    max_chars: usize,
) -> PyResult<Option<(usize, HighlightTuple)>> {
    let options = checked_options(count, width, max_chars)?;
    let work = field_work(&fields)?;
    Ok(py.detach(|| best_of(&work, options).map(|(index, highlight)| (index, to_tuple(highlight)))))
}

/// The best field of each hit of a page (`hits`, each as `best_field` takes it) formatted
/// in `style` as `render` does, or None for a hit without a field: what `best_field` and
/// `render` give one hit at a time, in one call per page, with no fragment crossing to
/// Python (snippets are the common use of highlighting, and a page's calls cost more in
/// Python than the highlighting itself).
#[pyfunction]
#[pyo3(signature = (hits, count, width, max_chars, style, before="[", after="]"))]
#[allow(clippy::too_many_arguments)] // Python's keyword arguments
fn best_snippets(
    py: Python<'_>,
    hits: Vec<Vec<FieldRequest<'_>>>,
    count: usize,
    width: usize,
    max_chars: usize,
    style: &str,
    before: &str,
    after: &str,
) -> PyResult<Vec<Option<String>>> {
    let options = checked_options(count, width, max_chars)?;
    let style = parse_style(style, before, after)?;
    let work = hits.iter().map(|fields| field_work(fields)).collect::<PyResult<Vec<_>>>()?;
    Ok(py.detach(|| {
        work.iter()
            .map(|fields| {
                best_of(fields, options).map(|(index, highlight)| {
                    let text = fields[index].3;
                    let shown: Vec<Shown<'_>> = highlight
                        .fragments
                        .iter()
                        .map(|f| Shown { text, start: f.start, end: f.end, matches: &f.matches })
                        .collect();
                    formats::render(&shown, style)
                })
            })
            .collect()
    }))
}

/// `Options`, refused unless `count` and `width` are at least 1.
fn checked_options(count: usize, width: usize, max_chars: usize) -> PyResult<Options> {
    if count < 1 || width < 1 {
        return Err(PyValueError::new_err(format!("count and width must be at least 1, got {count} and {width}")));
    }
    Ok(Options { count, width, max_chars })
}

/// One field of a hit ready for the core: targets, analyzer, a Python chain's checked
/// tokens, text.
type FieldWork<'a> = (&'a Highlighter, Option<&'a CoreAnalyzer>, Vec<Found>, &'a str);

/// The requests of one hit's fields as the core reads them (with the GIL held).
fn field_work<'a>(fields: &'a [FieldRequest<'_>]) -> PyResult<Vec<FieldWork<'a>>> {
    let mut work = Vec::with_capacity(fields.len());
    for (targets, analyzer, tokens, text) in fields {
        let text = text.to_str()?;
        let found = checked_tokens(text, tokens.clone())?;
        work.push((&targets.inner, analyzer.as_deref(), found, text));
    }
    Ok(work)
}

/// The field of `work` whose fragments rank best (the first of equals), with its index.
fn best_of(work: &[FieldWork<'_>], options: Options) -> Option<(usize, Highlight)> {
    let mut best: Option<(usize, Rank, Highlight)> = None;
    for (index, (inner, analyzer, found, text)) in work.iter().enumerate() {
        let highlight = with_source(*analyzer, found, |source| inner.highlight(source, text, options));
        let rank = highlight.rank();
        if !matches!(&best, Some((_, best_rank, _)) if rank <= *best_rank) {
            best = Some((index, rank, highlight));
        }
    }
    best.map(|(index, _, highlight)| (index, highlight))
}

/// A style by its Python name.
fn parse_style<'a>(style: &str, before: &'a str, after: &'a str) -> PyResult<Style<'a>> {
    match style {
        "plain" => Ok(Style::Plain { before, after }),
        "ansi" => Ok(Style::Ansi),
        "html" => Ok(Style::Html),
        other => Err(PyValueError::new_err(format!("unknown snippet format {other:?}"))),
    }
}

/// A fragment to format as Python hands it over: text, start, end, matches.
type ShownTuple<'py> = (Bound<'py, PyString>, usize, usize, Vec<(u32, u32)>);

/// Fragments, each (text, start, end, matches), as one string: `style` is "plain" (each
/// match between `before` and `after`), "ansi" or "html" (see `highlight::render`).
#[pyfunction]
#[pyo3(signature = (fragments, style, before="[", after="]"))]
fn render(
    py: Python<'_>,
    fragments: Vec<ShownTuple<'_>>,
    style: &str,
    before: &str,
    after: &str,
) -> PyResult<String> {
    let style = parse_style(style, before, after)?;
    let mut shown = Vec::with_capacity(fragments.len());
    for (text, start, end, matches) in &fragments {
        shown.push(Shown { text: text.to_str()?, start: *start, end: *end, matches });
    }
    Ok(py.detach(|| formats::render(&shown, style)))
}
