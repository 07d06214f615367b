//! The Python binding of plain searches: `PlainSearch`, a searcher's default fields with
//! their analyzers and statistics, which runs the text of a search box from words to the
//! top k in one call (see `query/plain.rs`), the GIL released throughout.
//!
//! It remembers the document frequencies it counts, as the Python statistics do: a
//! snapshot never changes, and the next search with the same words need not count them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};

use crate::analysis::python::CoreAnalyzer;
use crate::error::Error;
use crate::py::to_py;
use crate::py_query::QuerySegment;
use crate::query::boolean::Segment;
use crate::segment_reader::SegmentReader;
use crate::query::plain::{joined_words, phrase_plan, plain_phrase, plain_words, plan, FieldGroup, PlainPlan};
use crate::query::plan::{LeafField, TermLeaf};
use crate::query::scorer::{Bm25, Variant};
use crate::query::topk::{self, collection_doc_freq, Outcome};

/// Document frequencies a plain search remembers before it starts over (the Python
/// statistics' bound).
const DF_MEMO_SIZE: usize = 100_000;

/// Registers the plain search class on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PlainSearch>()
}

/// A searcher's plain searches: its segments, its default fields grouped by query
/// analyzer (each group's analyzer, fields as (name, weight, avgdl, N of the field
/// alone), boost and N), the BM25 settings, the default operator and the parser's limits.
#[pyclass(module = "searchlib._core", frozen)]
pub struct PlainSearch {
    segments: Vec<Py<QuerySegment>>,
    analyzers: Vec<Py<CoreAnalyzer>>,
    groups: Vec<FieldGroup>,
    /// Per group, each field's N alone (a phrase's idf is its field's).
    field_docs: Vec<Vec<f64>>,
    bm25: Bm25,
    is_and: bool,
    max_depth: usize,
    max_clauses: usize,
    /// Per group, the dfs counted so far.
    dfs: Mutex<Vec<HashMap<String, u64>>>,
    /// Per group and field, the dfs a phrase's idf counted so far.
    field_dfs: Mutex<Vec<Vec<HashMap<String, u64>>>>,
}

type GroupSpec = (Py<CoreAnalyzer>, Vec<(String, f64, f64, f64)>, f64, f64);
type Found = (Vec<u32>, Vec<u32>, Vec<f64>, u64, bool, Vec<Py<PyAny>>);
/// Per default field, the terms its snippets mark.
type FieldTerms = Vec<(String, Vec<String>)>;

#[pymethods]
impl PlainSearch {
    #[new]
    #[pyo3(signature = (segments, groups, similarity, k1, b, is_and, max_depth, max_clauses))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        segments: Vec<Py<QuerySegment>>,
        groups: Vec<GroupSpec>,
        similarity: &str,
        k1: f64,
        b: f64,
        is_and: bool,
        max_depth: usize,
        max_clauses: usize,
    ) -> PyResult<PlainSearch> {
        let variant = Variant::parse(similarity).ok_or_else(|| PyValueError::new_err(format!("unknown BM25 variant {similarity:?}")))?;
        if groups.iter().any(|(_, fields, _, _)| fields.is_empty()) {
            return Err(PyValueError::new_err("each field group needs a field"));
        }
        let mut analyzers = Vec::with_capacity(groups.len());
        let mut field_docs = Vec::with_capacity(groups.len());
        let groups: Vec<FieldGroup> = groups
            .into_iter()
            .map(|(analyzer, fields, boost, n)| {
                analyzers.push(analyzer);
                field_docs.push(fields.iter().map(|field| field.3).collect());
                let fields = fields.into_iter().map(|(name, weight, average, _)| LeafField { name, weight, average }).collect();
                FieldGroup { fields, boost, n }
            })
            .collect();
        let dfs = Mutex::new(vec![HashMap::new(); groups.len()]);
        let field_dfs = Mutex::new(groups.iter().map(|group| vec![HashMap::new(); group.fields.len()]).collect());
        Ok(PlainSearch { segments, analyzers, groups, field_docs, bm25: Bm25 { variant, k1, b }, is_and, max_depth, max_clauses, dfs, field_dfs })
    }

    /// The `k` best matches of plain `text` (words, words joined by one operator, or one
    /// quoted phrase), best first:
    /// (segment numbers, doc ids, scores, total, whether the total is exact, ids); None when
    /// the text is not plain, or not taken exactly here (past the clause limit, a lone
    /// surrogate): the caller's query tree runs it instead.
    #[pyo3(signature = (text, k, exact_total=true))]
    fn search(&self, py: Python<'_>, text: &Bound<'_, PyString>, k: usize, exact_total: bool) -> PyResult<Option<Found>> {
        let Ok(text) = text.to_str() else { return Ok(None) };
        let borrowed = self.analyzers.iter().map(|a| a.bind(py).try_borrow()).collect::<Result<Vec<_>, _>>()?;
        let analyzers: Vec<&CoreAnalyzer> = borrowed.iter().map(|a| &**a).collect();
        let views: Vec<Segment<'_>> = self.segments.iter().map(|s| s.get().segment()).collect();
        let outcome = py.detach(|| self.run(text, &analyzers, &views, k, exact_total)).map_err(to_py)?;
        Ok(outcome.map(|found| {
            let segments = found.hits.iter().map(|h| h.segment).collect();
            let docs = found.hits.iter().map(|h| h.doc).collect();
            let scores = found.hits.iter().map(|h| h.score).collect();
            let ids = found.hits.iter().map(|h| hit_id(py, views.get(h.segment as usize).map(|v| v.reader), h.doc)).collect();
            (segments, docs, scores, found.total, found.exact, ids)
        }))
    }

    /// What plain `text` marks in snippets: per default field (in the order of the
    /// groups and their fields), the terms of its words in query order, as the query
    /// tree's highlighting targets would list them; None when the text is not plain or
    /// a word's terms are not one per position (the tree path's highlighting then
    /// applies). A search box's text needs no query tree to be highlighted.
    fn targets(&self, py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<Option<FieldTerms>> {
        let Ok(text) = text.to_str() else { return Ok(None) };
        let Some(words) = plain_words(text, !self.is_and, self.max_depth) else { return Ok(None) };
        let borrowed = self.analyzers.iter().map(|a| a.bind(py).try_borrow()).collect::<Result<Vec<_>, _>>()?;
        let mut per_group: Vec<Vec<String>> = vec![Vec::new(); self.groups.len()];
        for word in &words {
            for (group, analyzer) in borrowed.iter().enumerate() {
                let (mut last, mut one_per_position) = (None, true);
                analyzer.lock().for_each_term(word, |term, position| {
                    one_per_position &= last != Some(position);
                    last = Some(position);
                    per_group[group].push(term.to_owned());
                });
                if !one_per_position {
                    return Ok(None);
                }
            }
        }
        let mut targets = Vec::new();
        for (group, terms) in self.groups.iter().zip(per_group) {
            for field in &group.fields {
                targets.push((field.name.clone(), terms.clone()));
            }
        }
        Ok(Some(targets))
    }
}

impl PlainSearch {
    /// The plan of the quoted `phrase` (see `phrase_plan`): each field's phrase weighs
    /// its words by their idfs in that field alone, as the Python `Phrase` node does.
    fn phrase(&self, phrase: &str, analyzers: &[&CoreAnalyzer], views: &[Segment<'_>], memo: &[HashMap<String, u64>]) -> Result<Option<PlainPlan>, Error> {
        let mut field_dfs = self.field_dfs.lock().unwrap_or_else(PoisonError::into_inner);
        let terms = |group: usize| {
            // The first term at each position, as the parser's `_one_per_position`.
            let mut found: Vec<(String, u32)> = Vec::new();
            analyzers[group].lock().for_each_term(phrase, |term, position| {
                if found.last().map_or(true, |(_, last)| *last != position) {
                    found.push((term.to_owned(), position));
                }
            });
            found
        };
        let factor = |group: usize, at: usize, words: &[(String, u32)]| -> Result<f64, Error> {
            let field = &self.groups[group].fields[at];
            let n = self.field_docs[group][at];
            if field_dfs.iter().flatten().map(HashMap::len).sum::<usize>() + words.len() > DF_MEMO_SIZE {
                field_dfs.iter_mut().flatten().for_each(HashMap::clear);
            }
            let memo = &mut field_dfs[group][at];
            // Summed from 0 in the words' order, as Python's `sum` does.
            let mut idf = 0.0;
            for (term, _) in words {
                let df = match memo.get(term.as_str()) {
                    Some(&df) => df,
                    None => {
                        let df = collection_doc_freq(views, &[field.name.as_str()], term.as_bytes())?;
                        memo.insert(term.clone(), df);
                        df
                    }
                };
                idf += self.bm25.variant.idf(df as f64, n);
            }
            // The node's boost (the field's weight in its group, times the group's) times the idf.
            Ok(field.weight * self.groups[group].boost * idf)
        };
        phrase_plan(&self.groups, self.max_clauses, terms, |group, term| memo[group].get(term).copied(), factor)
    }

    fn run(&self, text: &str, analyzers: &[&CoreAnalyzer], views: &[Segment<'_>], k: usize, exact_total: bool) -> Result<Option<Outcome>, Error> {
        let mut memo = self.dfs.lock().unwrap_or_else(PoisonError::into_inner);
        // Plain words join by the default operator, words joined by one operator by that.
        let words = plain_words(text, !self.is_and, self.max_depth).map(|words| (words, self.is_and)).or_else(|| joined_words(text));
        let built = if let Some((words, is_and)) = words {
            let terms = |group: usize, word: &str| {
                let (mut found, mut last, mut one_per_position) = (Vec::new(), None, true);
                analyzers[group].lock().for_each_term(word, |term, position| {
                    one_per_position &= last != Some(position);
                    last = Some(position);
                    found.push(term.to_owned());
                });
                one_per_position.then_some(found)
            };
            plan(&words, &self.groups, is_and, self.is_and, self.max_clauses, terms, |group, term| memo[group].get(term).copied())
        } else if let Some(phrase) = plain_phrase(text) {
            self.phrase(phrase, analyzers, views, &memo)?
        } else {
            None
        };
        let Some(mut built) = built else { return Ok(None) };
        let mut uncounted = Vec::with_capacity(built.leaf_groups.len());
        built.plan.for_each_leaf(&mut |leaf: &mut TermLeaf| {
            if leaf.df.is_none() {
                uncounted.push(leaf.term.clone());
            }
            Ok(())
        })?;
        let outcome = topk::search(&mut built.plan, views, &self.bm25, k, exact_total)?;
        if memo.iter().map(HashMap::len).sum::<usize>() + uncounted.len() > DF_MEMO_SIZE {
            memo.iter_mut().for_each(HashMap::clear);
        }
        for ((group, term), &df) in built.leaf_groups.iter().zip(uncounted).zip(&outcome.counted_dfs) {
            memo[*group].insert(term, df);
        }
        Ok(Some(outcome))
    }
}

/// A hit's id as `Hit.id` reads it: its ID field's value, None when the document has
/// none, or False when it is not read here (a damaged id column, bytes that are not
/// UTF-8): the hit then reads it through its segment's stored fields, which say what is
/// wrong or decode what Python wrote. A page's ids come with its hits: every page shown
/// reads them, and one call is cheaper than one per hit.
fn hit_id(py: Python<'_>, reader: Option<&SegmentReader>, doc: u32) -> Py<PyAny> {
    let bytes = reader.and_then(|reader| reader.ids().ok()).and_then(|ids| ids.get(doc).ok());
    match bytes.map(std::str::from_utf8) {
        Some(Ok("")) => py.None(),
        Some(Ok(id)) => PyString::new(py, id).into_any().unbind(),
        _ => PyBool::new(py, false).to_owned().into_any().unbind(),
    }
}
