//! Ranges as doc sets: typed column values between bounds, and the documents holding a
//! term of a field between two terms (compared as UTF-8 bytes). Each match scores the
//! node's constant (the plan wraps a range in "const").

use crate::columns::ColumnKind;
use crate::error::{Error, InFile};
use crate::query::boolean::Segment;

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

/// Documents holding a term of `field` between the bounds ((bytes, inclusive); None:
/// open), each once, ascending.
pub fn term_range(
    segment: &Segment<'_>,
    field: &str,
    low: Option<&(Vec<u8>, bool)>,
    high: Option<&(Vec<u8>, bool)>,
) -> Result<Vec<u32>, Error> {
    let reader = segment.reader;
    let Some(dict) = reader.dict(field)? else { return Ok(Vec::new()) };
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
        return Ok(Vec::new());
    }
    let mut seen = vec![false; reader.doc_count as usize];
    let (mut docs, mut freqs) = (Vec::new(), Vec::new());
    for (_, info) in dict.range(start, end).in_file(reader.terms.path()).map_err(named)? {
        docs.clear();
        freqs.clear();
        reader.postings(field, &info, &mut docs, &mut freqs)?;
        for &doc in &docs {
            if let Some(slot) = seen.get_mut(doc as usize) {
                *slot = true;
            }
        }
    }
    Ok(seen.iter().enumerate().filter(|(_, &s)| s).map(|(doc, _)| doc as u32).collect())
}
