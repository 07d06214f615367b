//! Ranges as doc sets: typed column values between bounds, and the documents holding a
//! term of a field between two terms (compared as UTF-8 bytes). Each match scores the
//! node's constant (the plan wraps a range in "const").

use crate::columns::ColumnKind;
use crate::error::{Error, InFile};
use crate::query::boolean::Segment;
use crate::query::term::PostingsCursor;
use crate::termdict::TermInfo;

/// Documents whose int64 (or boolean, as 0/1) column value lies in `low..=high`.
pub fn int_range(segment: &Segment<'_>, field: &str, low: i64, high: i64) -> Result<Vec<u32>, Error> {
    let Some((kind, present, values)) = segment.reader.column(field)? else { return Ok(Vec::new()) };
    let mut docs = Vec::new();
    match kind {
        ColumnKind::Int => {
            for (doc, (bytes, &has)) in values.chunks_exact(8).zip(&present).enumerate() {
                let mut word = [0u8; 8];
                word.copy_from_slice(bytes);
                let value = i64::from_le_bytes(word);
                if has != 0 && low <= value && value <= high {
                    docs.push(doc as u32);
                }
            }
        }
        ColumnKind::Bool => {
            for (doc, (&value, &has)) in values.iter().zip(&present).enumerate() {
                if has != 0 && low <= i64::from(value) && i64::from(value) <= high {
                    docs.push(doc as u32);
                }
            }
        }
        ColumnKind::Float => return Err(Error::Invalid(format!("the column {field:?} holds floats, not integers"))),
    }
    Ok(docs)
}

/// Documents whose float64 column value lies between the bounds ((value, inclusive);
/// None: open).
pub fn float_range(segment: &Segment<'_>, field: &str, low: Option<(f64, bool)>, high: Option<(f64, bool)>) -> Result<Vec<u32>, Error> {
    let Some((kind, present, values)) = segment.reader.column(field)? else { return Ok(Vec::new()) };
    if kind != ColumnKind::Float {
        return Err(Error::Invalid(format!("the column {field:?} does not hold floats")));
    }
    let above = |v: f64| match low {
        None => true,
        Some((bound, true)) => v >= bound,
        Some((bound, false)) => v > bound,
    };
    let below = |v: f64| match high {
        None => true,
        Some((bound, true)) => v <= bound,
        Some((bound, false)) => v < bound,
    };
    let mut docs = Vec::new();
    for (doc, (bytes, &has)) in values.chunks_exact(8).zip(&present).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        let value = f64::from_le_bytes(word);
        if has != 0 && above(value) && below(value) {
            docs.push(doc as u32);
        }
    }
    Ok(docs)
}

/// Bounds of a term range: (bytes, inclusive), None for an open end.
pub type TermBound = Option<(Vec<u8>, bool)>;

/// Documents holding a term of `field` between the bounds ((bytes, inclusive); None:
/// open), each once, ascending.
pub fn term_range(
    segment: &Segment<'_>,
    field: &str,
    low: Option<&(Vec<u8>, bool)>,
    high: Option<&(Vec<u8>, bool)>,
) -> Result<Vec<u32>, Error> {
    let mut seen = vec![0u64; (segment.reader.doc_count as usize).div_ceil(64)];
    mark_range(segment, field, low, high, &mut seen)?;
    Ok(members(&seen))
}

/// Documents holding a term of any of the ranges (field, low, high), as a bitset (bit
/// `doc % 64` of word `doc / 64`): a pattern's terms matched as a set (each range one
/// term), their postings read for doc ids only.
pub fn term_ranges(segment: &Segment<'_>, ranges: &[(&str, &TermBound, &TermBound)]) -> Result<Vec<u64>, Error> {
    let mut seen = vec![0u64; (segment.reader.doc_count as usize).div_ceil(64)];
    // Ranges of one term (a pattern's), by field, are found together (see `mark_terms`).
    let mut singles: Vec<(&str, &[u8])> = Vec::new();
    for &(field, low, high) in ranges {
        match (low, high) {
            (Some((first, true)), Some((last, true))) if first == last => singles.push((field, first.as_slice())),
            _ => mark_range(segment, field, low.as_ref(), high.as_ref(), &mut seen)?,
        }
    }
    singles.sort(); // stable: a plan lists a pattern's terms in order already, one pass finds that
    singles.dedup();
    for group in singles.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(field, _)) = group.first() else { continue };
        let terms: Vec<&[u8]> = group.iter().map(|&(_, term)| term).collect();
        mark_terms(segment, field, &terms, &mut seen)?;
    }
    Ok(seen)
}

/// Terms up to which [`mark_terms`] looks each term up, through the segment's term cache:
/// a walk costs two bisections of the dictionary's index and a block decoded for every
/// 32 terms, where a remembered look-up costs a hash (walking made a prefix of one word
/// in two fields of 14 segments cost 1.4 M instructions more).
const LOOKED_UP_TERMS: usize = 4;

/// Sets the bit of every document holding one of `terms` (sorted, distinct) in `field`.
///
/// A prefix's or wildcard's terms lie together in the dictionary: one scan from the
/// first to the last ([`TermDict::scan_sorted`]) reads each block once, where a look-up
/// each (1,024 terms, in every segment, each query) would search the index and scan a
/// block per term and fill the segment's term cache with words no other query asks
/// for. Terms spread wide (a fuzzy word's) are looked up one by one.
fn mark_terms(segment: &Segment<'_>, field: &str, terms: &[&[u8]], seen: &mut [u64]) -> Result<(), Error> {
    if terms.is_empty() {
        return Ok(());
    }
    let mut marker = Marker::new(segment, field)?;
    let mut infos = Vec::with_capacity(terms.len());
    let scanned = terms.len() > LOOKED_UP_TERMS && {
        let reader = segment.reader;
        let Some(dict) = reader.dict(field)? else { return Ok(()) };
        let scanned = dict.scan_sorted(terms, |_, info| infos.push(info));
        scanned.in_file(reader.terms.path()).map_err(|e| reader.name_field(e, field))?
    };
    if !scanned {
        for term in terms {
            infos.extend(segment.term_info(field, term)?);
        }
    }
    for info in &infos {
        marker.mark(info, seen)?;
    }
    Ok(())
}

/// Sets the bit of every document holding a term of `field` between the bounds.
fn mark_range(
    segment: &Segment<'_>,
    field: &str,
    low: Option<&(Vec<u8>, bool)>,
    high: Option<&(Vec<u8>, bool)>,
    seen: &mut [u64],
) -> Result<(), Error> {
    let mut marker = Marker::new(segment, field)?;
    if let (Some((first, true)), Some((last, true))) = (low, high) {
        if first == last {
            // One term (a pattern's): looked up as a term leaf is, through the segment's cache.
            if let Some(info) = segment.term_info(field, first)? {
                marker.mark(&info, seen)?;
            }
            return Ok(());
        }
    }
    let reader = segment.reader;
    let Some(dict) = reader.dict(field)? else { return Ok(()) };
    let named = |e| reader.name_field(e, field);
    let start = match low {
        None => 0,
        Some((key, inclusive)) => dict.bound(key, !inclusive).in_file(reader.terms.path()).map_err(named)?,
    };
    let end = match high {
        None => dict.len(),
        Some((key, inclusive)) => dict.bound(key, *inclusive).in_file(reader.terms.path()).map_err(named)?,
    };
    if end <= start {
        return Ok(());
    }
    let mut infos = Vec::with_capacity(end.saturating_sub(start).min(1 << 16) as usize);
    dict.scan(start, end, |_, _, info| infos.push(info)).in_file(reader.terms.path()).map_err(named)?;
    for info in &infos {
        marker.mark(info, seen)?;
    }
    Ok(())
}

/// Reads terms' postings of one field, one after another, for doc ids only, through
/// one cursor whose buffers every term reuses (a pattern reads thousands of short ones).
struct Marker<'s, 'a> {
    segment: &'s Segment<'a>,
    field: &'s str,
    cursor: PostingsCursor<'s>,
}

impl<'s, 'a> Marker<'s, 'a> {
    fn new(segment: &'s Segment<'a>, field: &'s str) -> Result<Marker<'s, 'a>, Error> {
        let cursor = PostingsCursor::new(&[], 0, segment.reader.doc_count).in_file(segment.reader.postings.path())?;
        Ok(Marker { segment, field, cursor })
    }

    /// Sets the bit of every document in a term's postings (the cursor decodes a
    /// block's frequencies when asked, never here).
    fn mark(&mut self, info: &TermInfo, seen: &mut [u64]) -> Result<(), Error> {
        self.segment.reopen(&mut self.cursor, self.field, info)?;
        let cursor = &mut self.cursor;
        cursor.drain_docs(|docs| {
            for &doc in docs {
                if let Some(word) = seen.get_mut(doc as usize / 64) {
                    *word |= 1u64 << (doc % 64);
                }
            }
        });
        match cursor.error() {
            Some(error) => Err(self.segment.damage(error.clone())),
            None => Ok(()),
        }
    }
}

/// The documents of a bitset, ascending.
fn members(seen: &[u64]) -> Vec<u32> {
    let mut docs = Vec::new();
    for (at, &word) in seen.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            docs.push((at * 64 + bits.trailing_zeros() as usize) as u32);
            bits &= bits - 1;
        }
    }
    docs
}
