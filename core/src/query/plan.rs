//! The plan: what Python hands the core to run, and its checks.
//!
//! Python builds it as nested tuples (one per node, its kind first), which
//! `py_query.rs` reads into [`Node`]s:
//!
//! ```text
//! ("term", [(field, weight, avgdl), ...], text, boost, df, N)   BM25F over the fields;
//!                                                                df < 0: the core counts it
//! ("bool", [must], [should], [must_not], [filter], min_should)  Lucene's boolean query
//! ("all", score)                                                 every live document
//! ("const", node, score)                                         node's matches, one score
//! ("boost", node, factor)                                        node's scores times factor
//! ("docs", [(doc ids u32 bytes, scores f64 bytes) per segment]) matches computed in Python
//! ("range", field, low, high)                                    int64 (or boolean) column
//!                                                                values in low..=high
//! ("frange", field, low|None, high|None, incl_low, incl_high)     float64 column values
//! ("terms", field, low|None, high|None, incl_low, incl_high)      docs holding a term of the
//!                                                                field in the range (UTF-8 bytes)
//! ("phrase", field, [(word, offset), ...], slop, factor, avgdl)  the phrase's matches, scored
//!                                                                factor * saturate(freq / norm)
//! ("none",)                                                      nothing
//! ```
//!
//! A node the core does not run reaches it as "docs": Python computes its matches and
//! passes arrays, so every query runs through one executor.
//! The checks here are those of a hand-made plan: a plan from searchlib's own compiler
//! always passes them.

use crate::error::Error;

/// Deepest plan the core runs (each level is a stack frame while it builds iterators).
pub const MAX_DEPTH: usize = 256;

/// One field of a BM25F term.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafField {
    pub name: String,
    pub weight: f64,
    /// The field's average length over the collection (avgdl).
    pub average: f64,
}

/// A term searched in one or more fields, scored by BM25F.
#[derive(Debug, Clone, PartialEq)]
pub struct TermLeaf {
    pub fields: Vec<LeafField>,
    pub term: String,
    pub boost: f64,
    /// Live documents holding the term in any of the fields, over the collection; None:
    /// the core counts it over the segments it is given.
    pub df: Option<u64>,
    /// N: live documents with any of the fields, over the collection.
    pub n: f64,
}

/// Lucene's boolean query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoolNode {
    pub must: Vec<Node>,
    pub should: Vec<Node>,
    pub must_not: Vec<Node>,
    pub filter: Vec<Node>,
    pub min_should: usize,
}

/// A plan node (see the module's table).
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Term(TermLeaf),
    Bool(BoolNode),
    MatchAll { score: f64 },
    Constant { node: Box<Node>, score: f64 },
    Boost { node: Box<Node>, factor: f64 },
    /// Per segment, matching live doc ids (ascending) and their scores.
    Precomputed(Vec<(Vec<u32>, Vec<f64>)>),
    /// Documents whose int64 column value lies in `low..=high`.
    IntRange { field: String, low: i64, high: i64 },
    /// Documents whose float64 column value lies between the bounds (None: open).
    FloatRange { field: String, low: Option<(f64, bool)>, high: Option<(f64, bool)> },
    /// Documents holding a term of `field` between the bounds (bytes, inclusive; None: open).
    TermRange { field: String, low: Option<(Vec<u8>, bool)>, high: Option<(Vec<u8>, bool)> },
    /// A phrase of `field` (its words with their offsets in the query, and slop), each
    /// match scoring `factor * saturate(frequency / norm)`: `factor` is the boost times
    /// the summed idfs of its words, the norm the field's length norm at `average`.
    Phrase { field: String, words: Vec<(String, u32)>, slop: u64, factor: f64, average: f64 },
    Empty,
}

impl Node {
    /// Checks the plan against `segments` segments of `doc_counts` documents.
    pub fn validate(&self, doc_counts: &[u32]) -> Result<(), Error> {
        self.check(doc_counts, 0)
    }

    fn check(&self, doc_counts: &[u32], depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::Invalid(format!("the query plan nests deeper than {MAX_DEPTH} levels")));
        }
        match self {
            Node::Term(leaf) => {
                if leaf.fields.is_empty() {
                    return Err(Error::Invalid(format!("the term {:?} names no field", leaf.term)));
                }
                for (i, field) in leaf.fields.iter().enumerate() {
                    if leaf.fields[..i].iter().any(|f| f.name == field.name) {
                        return Err(Error::Invalid(format!("the term {:?} names {:?} twice", leaf.term, field.name)));
                    }
                }
                Ok(())
            }
            Node::Bool(node) => {
                for child in node.must.iter().chain(&node.should).chain(&node.must_not).chain(&node.filter) {
                    child.check(doc_counts, depth + 1)?;
                }
                Ok(())
            }
            Node::Constant { node, .. } | Node::Boost { node, .. } => node.check(doc_counts, depth + 1),
            Node::Precomputed(parts) => {
                if parts.len() != doc_counts.len() {
                    return Err(Error::Invalid(format!(
                        "precomputed matches for {} segments, the search has {}",
                        parts.len(),
                        doc_counts.len()
                    )));
                }
                for ((docs, scores), &count) in parts.iter().zip(doc_counts) {
                    if docs.len() != scores.len() {
                        return Err(Error::Invalid("precomputed matches need one score per doc".into()));
                    }
                    if docs.windows(2).any(|w| w.first() >= w.get(1)) || docs.last().is_some_and(|&d| d >= count) {
                        return Err(Error::Invalid("precomputed doc ids must ascend within their segment".into()));
                    }
                }
                Ok(())
            }
            Node::Phrase { words, .. } if words.is_empty() => Err(Error::Invalid("a phrase names no word".into())),
            Node::MatchAll { .. }
            | Node::IntRange { .. }
            | Node::FloatRange { .. }
            | Node::TermRange { .. }
            | Node::Phrase { .. }
            | Node::Empty => Ok(()),
        }
    }

    /// Calls `visit` on every term leaf of the plan, in order (to resolve their
    /// document frequencies).
    pub fn for_each_leaf(&mut self, visit: &mut impl FnMut(&mut TermLeaf) -> Result<(), Error>) -> Result<(), Error> {
        match self {
            Node::Term(leaf) => visit(leaf),
            Node::Bool(node) => {
                for child in node.must.iter_mut().chain(&mut node.should).chain(&mut node.must_not).chain(&mut node.filter) {
                    child.for_each_leaf(visit)?;
                }
                Ok(())
            }
            Node::Constant { node, .. } | Node::Boost { node, .. } => node.for_each_leaf(visit),
            _ => Ok(()),
        }
    }
}
