//! Field norms: each document's length in indexed tokens for one text field, the `dl` of
//! BM25. Exact (not quantized as in Lucene), so scores are the same as before the format
//! change; bit-packed at the width of the field's longest document.
//!
//! ```text
//! width u8 | lengths of documents 0..doc_count packed at `width` bits
//! ```

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::bitpack;
use crate::error::{Corrupt, Decoded};

/// The section bytes for `lengths` (one per document).
pub fn encode(lengths: &[u32]) -> Vec<u8> {
    let width = bitpack::width(lengths.iter().copied().max().unwrap_or(0));
    let mut out = Vec::with_capacity(1 + bitpack::packed_len(lengths.len(), width));
    out.push(width);
    bitpack::pack(lengths, width, &mut out);
    out
}

/// The lengths of `doc_count` documents.
pub fn decode(data: &[u8], doc_count: u32) -> Decoded<Vec<u32>> {
    let (&width, packed) = data.split_first().ok_or_else(|| Corrupt::new("field norms are empty"))?;
    if packed.len() != bitpack::packed_len(doc_count as usize, width.min(32)) {
        return Err(Corrupt::new(format!("field norms of {} bytes for {doc_count} documents", packed.len())));
    }
    let mut out = Vec::new();
    bitpack::unpack(packed, width, doc_count as usize, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_round_trip_and_a_wrong_size_is_an_error() {
        for lengths in [vec![], vec![0, 0], vec![3, 0, 1000, 7], vec![u32::MAX, 1]] {
            let data = encode(&lengths);
            assert_eq!(decode(&data, lengths.len() as u32).unwrap(), lengths);
            assert!(decode(&data, lengths.len() as u32 + 1).is_err() || lengths.iter().all(|&l| l == 0));
        }
        assert!(decode(&[], 0).is_err());
        assert!(decode(&[40, 1, 2, 3, 4, 5], 1).is_err());
    }
}
