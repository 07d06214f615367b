//! Positions: where a term occurs in each document of its postings.
//!
//! A term's positions are one stream, posting after posting: per posting `tf` variable-byte
//! gaps from the previous position in the same document (the first from 0). Positions
//! within a document ascend; tokens stacked at one position (synonyms) give a gap of 0.
//! The in-memory buffer of the segment writer holds exactly this encoding, so writing a
//! segment copies it. Fields that keep no positions (ID and KEYWORD fields, whose every
//! position is 0) store none.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::cursor::{put_vint, Cursor};
use crate::error::{Corrupt, Decoded};

/// Appends one document's positions (ascending).
pub fn encode_doc(positions: &[u32], out: &mut Vec<u8>) {
    let mut previous = 0;
    for &position in positions {
        put_vint(out, u64::from(position - previous));
        previous = position;
    }
}

/// Decodes the positions of postings with frequencies `freqs`, appending to `out`.
pub fn decode(data: &[u8], freqs: &[u32], out: &mut Vec<u32>) -> Decoded<()> {
    let total: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
    if total > data.len() as u64 {
        return Err(Corrupt::new(format!("{total} positions cannot fit {} bytes", data.len())));
    }
    out.reserve(total as usize);
    let mut cursor = Cursor::new(data);
    for &tf in freqs {
        let mut position = 0u32;
        for _ in 0..tf {
            position = position.checked_add(cursor.vu32()?).ok_or_else(|| Corrupt::new("position overflows"))?;
            out.push(position);
        }
    }
    if !cursor.is_empty() {
        return Err(Corrupt::new("positions have trailing bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_damage_is_an_error() {
        let docs: Vec<Vec<u32>> = vec![vec![0], vec![3, 3, 9, 400], vec![70000]];
        let mut out = Vec::new();
        for doc in &docs {
            encode_doc(doc, &mut out);
        }
        let freqs: Vec<u32> = docs.iter().map(|d| d.len() as u32).collect();
        let mut decoded = Vec::new();
        decode(&out, &freqs, &mut decoded).unwrap();
        assert_eq!(decoded, docs.concat());
        for len in 0..out.len() {
            assert!(decode(&out[..len], &freqs, &mut Vec::new()).is_err());
        }
        assert!(decode(&out, &[u32::MAX, u32::MAX], &mut Vec::new()).is_err());
        let mut long = out.clone();
        long.push(0);
        assert!(decode(&long, &freqs, &mut Vec::new()).is_err());
    }
}
