//! Why a document scores what it does: the parts of a term leaf's BM25F score, computed
//! by the functions that score it ([`crate::query::scorer`]), so that an explanation
//! always adds up to the score a search gave.

use crate::error::Error;
use crate::query::boolean::Segment;
use crate::query::plan::TermLeaf;
use crate::query::scorer::Bm25;

/// One field's share of a term's x.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPart {
    pub field: String,
    pub weight: f64,
    pub tf: u32,
    /// The document's length in the field (0 for a field without lengths).
    pub length: u32,
    pub average: f64,
    /// `1 - b + b * dl / avgdl`, or 1 for a field without lengths.
    pub norm: f64,
    pub keeps_lengths: bool,
    /// `weight * tf / norm`.
    pub value: f64,
}

/// A term leaf's score in one document, part by part.
#[derive(Debug, Clone, PartialEq)]
pub struct TermExplanation {
    pub score: f64,
    pub boost: f64,
    pub idf: f64,
    pub df: u64,
    pub n: f64,
    /// The sum of the fields' parts.
    pub x: f64,
    pub saturated: f64,
    pub fields: Vec<FieldPart>,
}

/// The parts of `leaf`'s score in `doc` (None when no field of the doc holds the term).
/// The leaf's df must be resolved.
pub fn explain_term(segment: &Segment<'_>, leaf: &TermLeaf, bm25: &Bm25, doc: u32) -> Result<Option<TermExplanation>, Error> {
    if !segment.is_live(doc) {
        return Ok(None);
    }
    let mut fields = Vec::new();
    let mut x = 0.0;
    for field in &leaf.fields {
        let Some(info) = segment.term_info(&field.name, leaf.term.as_bytes())? else { continue };
        let mut cursor = segment.cursor(&field.name, &info)?;
        if cursor.advance(doc) != doc {
            if let Some(error) = cursor.error() {
                return Err(segment.damage(error.clone()));
            }
            continue;
        }
        let tf = cursor.freq();
        let keeps_lengths = segment.reader.field(&field.name).is_some_and(|f| f.norms);
        let (length, norm) = if keeps_lengths {
            let lengths = segment.reader.norms(&field.name)?.unwrap_or_default();
            let length = lengths.get(doc as usize).copied().unwrap_or(0);
            (length, bm25.length_norm(f64::from(length), field.average))
        } else {
            (0, 1.0)
        };
        // As the scorer computes it: the weight times tf times the inverse norm.
        let value = field.weight * f64::from(tf) * (1.0 / norm);
        x += value;
        fields.push(FieldPart {
            field: field.name.clone(),
            weight: field.weight,
            tf,
            length,
            average: field.average,
            norm,
            keeps_lengths,
            value,
        });
    }
    if fields.is_empty() {
        return Ok(None);
    }
    let df = leaf.df.unwrap_or(0);
    let idf = bm25.variant.idf(df as f64, leaf.n);
    let saturated = bm25.variant.saturate(x, bm25.k1);
    let score = leaf.boost * idf * saturated;
    Ok(Some(TermExplanation { score, boost: leaf.boost, idf, df, n: leaf.n, x, saturated, fields }))
}
