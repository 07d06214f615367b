//! The Python binding of query execution: `QuerySegment` (a segment as searches see it:
//! its reader, its deletions, its cached length norms), and one call per search that
//! runs a plan (see `query/plan.rs` for its tuples) with the GIL released.
//!
//! Results come back as little-endian arrays (bytes Python wraps with numpy), never a
//! Python object per posting or per match.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::error::Error;
use crate::py::{to_py, SegmentReader};
use crate::query::boolean::Segment;
use crate::query::explain::{explain_term, TermExplanation};
use crate::query::plan::{BoolNode, LeafField, Node, TermLeaf};
use crate::query::scorer::{Bm25, NormCache, Variant};
use crate::query::term::TermCache;
use crate::query::topk::{self, ScratchPool};

/// Registers the query classes and functions on the extension module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<QuerySegment>()?;
    module.add_function(wrap_pyfunction!(search, module)?)?;
    module.add_function(wrap_pyfunction!(matches, module)?)?;
    module.add_function(wrap_pyfunction!(doc_freqs, module)?)?;
    module.add_function(wrap_pyfunction!(explain, module)?)?;
    module.add_function(wrap_pyfunction!(bm25_idf, module)?)?;
    module.add_function(wrap_pyfunction!(bm25_idf_sum, module)?)?;
    module.add_function(wrap_pyfunction!(bm25_saturate, module)?)?;
    Ok(())
}

/// A segment as a search sees it: its reader, which documents are live (fixed for a
/// snapshot), and the inverse length norms its searches computed, kept for the next.
#[pyclass(module = "searchlib._core", frozen)]
pub struct QuerySegment {
    reader: Py<SegmentReader>,
    live: Option<Vec<bool>>,
    norms: NormCache,
    terms: TermCache,
    scratch: ScratchPool,
}

#[pymethods]
impl QuerySegment {
    /// `live`: a byte per document (0 deleted), or None when every document is live.
    #[new]
    #[pyo3(signature = (reader, live=None))]
    fn new(reader: Py<SegmentReader>, live: Option<&[u8]>) -> PyResult<QuerySegment> {
        let doc_count = reader.get().inner.doc_count as usize;
        if live.is_some_and(|l| l.len() != doc_count) {
            return Err(PyValueError::new_err(format!("a live mask for {doc_count} documents is needed")));
        }
        Ok(QuerySegment { reader, live: live.map(|l| l.iter().map(|&b| b != 0).collect()), norms: NormCache::default(), terms: TermCache::default(), scratch: ScratchPool::default() })
    }
}

impl QuerySegment {
    pub(crate) fn segment(&self) -> Segment<'_> {
        Segment { reader: &self.reader.get().inner, live: self.live.as_deref(), norms: &self.norms, terms: &self.terms, scratch: &self.scratch }
    }
}

fn bm25(similarity: &str, k1: f64, b: f64) -> PyResult<Bm25> {
    let variant = Variant::parse(similarity).ok_or_else(|| PyValueError::new_err(format!("unknown BM25 variant {similarity:?}")))?;
    Ok(Bm25 { variant, k1, b })
}

fn u32s(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect()
}

fn plan_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(format!("bad query plan: {}", message.into()))
}

fn bound_f64(value: &Bound<'_, PyAny>, inclusive: bool) -> PyResult<Option<(f64, bool)>> {
    if value.is_none() {
        Ok(None)
    } else {
        Ok(Some((value.extract()?, inclusive)))
    }
}

fn bound_bytes(value: &Bound<'_, PyAny>, inclusive: bool) -> PyResult<Option<(Vec<u8>, bool)>> {
    if value.is_none() {
        Ok(None)
    } else {
        Ok(Some((value.extract()?, inclusive)))
    }
}

fn nodes(list: &Bound<'_, PyAny>, depth: usize) -> PyResult<Vec<Node>> {
    let list = list.cast::<PyList>().map_err(|_| plan_error("clauses must be a list"))?;
    list.iter().map(|item| node(&item, depth + 1)).collect()
}

/// Reads one plan node (see `query/plan.rs`).
fn node(value: &Bound<'_, PyAny>, depth: usize) -> PyResult<Node> {
    if depth > crate::query::plan::MAX_DEPTH {
        return Err(plan_error(format!("it nests deeper than {} levels", crate::query::plan::MAX_DEPTH)));
    }
    let tuple = value.cast::<PyTuple>().map_err(|_| plan_error("a node must be a tuple"))?;
    let kind_item = tuple.get_item(0).map_err(|_| plan_error("a node is empty"))?;
    let kind = kind_item.cast::<PyString>().map_err(|_| plan_error("a node's kind must be a string"))?;
    let item = |i: usize| tuple.get_item(i).map_err(|_| plan_error(format!("a {kind} node is short")));
    Ok(match kind.to_str()? {
        "term" => {
            let fields: Vec<(String, f64, f64)> = item(1)?.extract()?;
            let df: i64 = item(4)?.extract()?;
            Node::Term(TermLeaf {
                fields: fields.into_iter().map(|(name, weight, average)| LeafField { name, weight, average }).collect(),
                term: item(2)?.extract()?,
                boost: item(3)?.extract()?,
                df: u64::try_from(df).ok(),
                n: item(5)?.extract()?,
            })
        }
        "bool" => Node::Bool(BoolNode {
            must: nodes(&item(1)?, depth)?,
            should: nodes(&item(2)?, depth)?,
            must_not: nodes(&item(3)?, depth)?,
            filter: nodes(&item(4)?, depth)?,
            min_should: item(5)?.extract()?,
        }),
        "all" => Node::MatchAll { score: item(1)?.extract()? },
        "const" => Node::Constant { node: Box::new(node(&item(1)?, depth + 1)?), score: item(2)?.extract()? },
        "boost" => Node::Boost { node: Box::new(node(&item(1)?, depth + 1)?), factor: item(2)?.extract()? },
        "docs" => {
            let parts = item(1)?;
            let parts = parts.cast::<PyList>().map_err(|_| plan_error("docs need a list"))?;
            let mut out = Vec::with_capacity(parts.len());
            for part in parts.iter() {
                let (docs, scores): (Bound<'_, PyBytes>, Bound<'_, PyBytes>) = part.extract()?;
                out.push((u32s(docs.as_bytes()), f64s(scores.as_bytes())));
            }
            Node::Precomputed(out)
        }
        "range" => Node::IntRange { field: item(1)?.extract()?, low: item(2)?.extract()?, high: item(3)?.extract()? },
        "frange" => Node::FloatRange {
            field: item(1)?.extract()?,
            low: bound_f64(&item(2)?, item(4)?.extract()?)?,
            high: bound_f64(&item(3)?, item(5)?.extract()?)?,
        },
        "terms" => Node::TermRange {
            field: item(1)?.extract()?,
            low: bound_bytes(&item(2)?, item(4)?.extract()?)?,
            high: bound_bytes(&item(3)?, item(5)?.extract()?)?,
        },
        "phrase" => Node::Phrase {
            field: item(1)?.extract()?,
            words: item(2)?.extract()?,
            slop: item(3)?.extract()?,
            factor: item(4)?.extract()?,
            average: item(5)?.extract()?,
        },
        "none" => Node::Empty,
        other => return Err(plan_error(format!("unknown node kind {other:?}"))),
    })
}

fn u32_bytes<'py>(py: Python<'py>, values: &[u32]) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    PyBytes::new(py, &bytes)
}

fn f64_bytes<'py>(py: Python<'py>, values: &[f64]) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    PyBytes::new(py, &bytes)
}

/// Reads and checks a plan for these segments, and resolves the document frequencies it
/// leaves to the core.
fn prepared(plan: &Bound<'_, PyAny>, segments: &[Segment<'_>]) -> Result<Node, PyErr> {
    let plan = node(plan, 0)?;
    let doc_counts: Vec<u32> = segments.iter().map(|s| s.reader.doc_count).collect();
    plan.validate(&doc_counts).map_err(to_py)?;
    Ok(plan)
}

/// Runs a plan over the segments: (segment numbers uint32, doc ids uint32, scores float64,
/// total, whether the total is exact, the dfs counted for the term leaves whose df the
/// plan left to the core, in plan order), the `k` best first.
#[pyfunction]
#[pyo3(signature = (segments, plan, similarity, k1, b, k, exact_total=true))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn search<'py>(
    py: Python<'py>,
    segments: Vec<Bound<'py, QuerySegment>>,
    plan: &Bound<'py, PyAny>,
    similarity: &str,
    k1: f64,
    b: f64,
    k: usize,
    exact_total: bool,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>, Bound<'py, PyBytes>, u64, bool, Vec<u64>)> {
    let bm25 = bm25(similarity, k1, b)?;
    let views: Vec<Segment<'_>> = segments.iter().map(|s| s.get().segment()).collect();
    let mut plan = prepared(plan, &views)?;
    let outcome = py.detach(|| topk::search(&mut plan, &views, &bm25, k, exact_total)).map_err(to_py)?;
    let segment_ids: Vec<u32> = outcome.hits.iter().map(|h| h.segment).collect();
    let docs: Vec<u32> = outcome.hits.iter().map(|h| h.doc).collect();
    let scores: Vec<f64> = outcome.hits.iter().map(|h| h.score).collect();
    Ok((u32_bytes(py, &segment_ids), u32_bytes(py, &docs), f64_bytes(py, &scores), outcome.total, outcome.exact, outcome.counted_dfs))
}

/// Every live match of a plan in each segment: [(doc ids uint32, scores float64)].
#[pyfunction]
fn matches<'py>(
    py: Python<'py>,
    segments: Vec<Bound<'py, QuerySegment>>,
    plan: &Bound<'py, PyAny>,
    similarity: &str,
    k1: f64,
    b: f64,
) -> PyResult<Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
    let bm25 = bm25(similarity, k1, b)?;
    let views: Vec<Segment<'_>> = segments.iter().map(|s| s.get().segment()).collect();
    let mut plan = prepared(plan, &views)?;
    let found = py
        .detach(|| -> Result<_, Error> {
            topk::resolve_doc_freqs(&mut plan, &views)?;
            topk::all_matches(&plan, &views, &bm25)
        })
        .map_err(to_py)?;
    Ok(found.iter().map(|(docs, scores)| (u32_bytes(py, docs), f64_bytes(py, scores))).collect())
}

/// Live documents holding each term in any of its fields, over the segments:
/// `terms` is [(fields, term)].
#[pyfunction]
fn doc_freqs(py: Python<'_>, segments: Vec<Bound<'_, QuerySegment>>, terms: Vec<(Vec<String>, String)>) -> PyResult<Vec<u64>> {
    let views: Vec<Segment<'_>> = segments.iter().map(|s| s.get().segment()).collect();
    py.detach(|| {
        terms
            .iter()
            .map(|(fields, term)| {
                let names: Vec<&str> = fields.iter().map(String::as_str).collect();
                topk::collection_doc_freq(&views, &names, term.as_bytes())
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(to_py)
}

/// The parts of a term leaf's score in document `doc` of `segment` (segments: all of the
/// search's, for a df the plan leaves to the core): None when the doc lacks the term;
/// else (score, boost, idf, df, N, x, saturated, [(field, weight, tf, dl, avgdl, norm,
/// keeps lengths, part)]).
#[pyfunction]
#[pyo3(signature = (segments, segment, leaf, similarity, k1, b, doc))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn explain(
    py: Python<'_>,
    segments: Vec<Bound<'_, QuerySegment>>,
    segment: usize,
    leaf: &Bound<'_, PyAny>,
    similarity: &str,
    k1: f64,
    b: f64,
    doc: u32,
) -> PyResult<Option<(f64, f64, f64, u64, f64, f64, f64, Vec<(String, f64, u32, u32, f64, f64, bool, f64)>)>> {
    let bm25 = bm25(similarity, k1, b)?;
    let views: Vec<Segment<'_>> = segments.iter().map(|s| s.get().segment()).collect();
    let mut plan = prepared(leaf, &views)?;
    let target = views.get(segment).ok_or_else(|| PyValueError::new_err(format!("no segment {segment}")))?;
    let found = py
        .detach(|| -> Result<Option<TermExplanation>, Error> {
            topk::resolve_doc_freqs(&mut plan, &views)?;
            match &plan {
                Node::Term(leaf) => explain_term(target, leaf, &bm25, doc),
                _ => Err(Error::Invalid("only a term leaf is explained part by part".into())),
            }
        })
        .map_err(to_py)?;
    Ok(found.map(|e| {
        let fields = e.fields.into_iter().map(|f| (f.field, f.weight, f.tf, f.length, f.average, f.norm, f.keeps_lengths, f.value)).collect();
        (e.score, e.boost, e.idf, e.df, e.n, e.x, e.saturated, fields)
    }))
}

/// The variant's idf of each (df, N) pair (float64 bytes each, as long as each other):
/// the core's formula, for what Python still scores itself.
#[pyfunction]
fn bm25_idf<'py>(py: Python<'py>, similarity: &str, dfs: &[u8], ns: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let variant = bm25(similarity, 0.0, 0.0)?.variant;
    if dfs.len() != ns.len() {
        return Err(PyValueError::new_err("one N per df is needed"));
    }
    let idfs: Vec<f64> = f64s(dfs).into_iter().zip(f64s(ns)).map(|(df, n)| variant.idf(df, n)).collect();
    Ok(f64_bytes(py, &idfs))
}

/// The sum of the variant's idf of each df with `n` documents, added in order from 0 as
/// Python's `sum` adds: a phrase's idf, one call per phrase rather than an array's worth
/// of numpy per word.
#[pyfunction]
fn bm25_idf_sum(similarity: &str, dfs: Vec<f64>, n: f64) -> PyResult<f64> {
    let variant = bm25(similarity, 0.0, 0.0)?.variant;
    Ok(dfs.into_iter().fold(0.0, |sum, df| sum + variant.idf(df, n)))
}

/// The variant's saturation of each x (float64 bytes in and out).
#[pyfunction]
fn bm25_saturate<'py>(py: Python<'py>, similarity: &str, xs: &[u8], k1: f64) -> PyResult<Bound<'py, PyBytes>> {
    let variant = bm25(similarity, k1, 0.0)?.variant;
    let values: Vec<f64> = f64s(xs).into_iter().map(|x| variant.saturate(x, k1)).collect();
    Ok(f64_bytes(py, &values))
}
