//! Positions: where a term occurs in each document of its postings.
//!
//! A term's positions are one stream of gaps, posting after posting: per posting `tf`
//! gaps from the previous position in the same document (the first from 0). Positions
//! within a document ascend; tokens stacked at one position (synonyms) give a gap of 0.
//! Each gap is a variable-byte integer: measured on enwiki-sample, bit-packing them in
//! blocks of 128 took 4% more, since each document's first position (its gap from 0) is
//! large and sets a block's width while most gaps are small. Fields that keep no positions (ID and KEYWORD fields, whose every position is 0)
//! store none.

use crate::cursor::{put_vint, Cursor};
use crate::error::{Corrupt, Decoded};

/// Appends one document's position gaps (its positions ascending) to `gaps`.
pub fn gaps_of_doc(positions: &[u32], gaps: &mut Vec<u32>) {
    let mut previous = 0;
    for &position in positions {
        gaps.push(position.saturating_sub(previous));
        previous = position;
    }
}

/// Appends the encoding of a term's position gaps (all its postings').
pub fn encode(gaps: &[u32], out: &mut Vec<u8>) {
    for &gap in gaps {
        put_vint(out, u64::from(gap));
    }
}

/// Decodes the positions of postings with frequencies `freqs`, appending to `out`.
pub fn decode(data: &[u8], freqs: &[u32], out: &mut Vec<u32>) -> Decoded<()> {
    let total: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
    // A gap takes at least a byte.
    if total > data.len() as u64 {
        return Err(Corrupt::new(format!("{total} positions cannot fit {} bytes", data.len())));
    }
    let total = total as usize;
    let start = out.len();
    out.reserve(total);
    let mut cursor = Cursor::new(data);
    for _ in 0..total {
        out.push(cursor.vu32()?);
    }
    if !cursor.is_empty() {
        return Err(Corrupt::new("positions have trailing bytes"));
    }
    // Gaps to positions, each posting's from 0.
    let mut gaps = out.get_mut(start..).unwrap_or_default().iter_mut();
    for &tf in freqs {
        let mut position = 0u32;
        for gap in gaps.by_ref().take(tf as usize) {
            position = position.checked_add(*gap).ok_or_else(|| Corrupt::new("position overflows"))?;
            *gap = position;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_damage_is_an_error() {
        let mut docs: Vec<Vec<u32>> = vec![vec![0], vec![3, 3, 9, 400], vec![70000]];
        for d in 0..100u32 {
            docs.push((0..(1 + d % 7)).map(|i| d * 3 + i * (d % 5 + 1)).collect());
        }
        let mut gaps = Vec::new();
        for doc in &docs {
            gaps_of_doc(doc, &mut gaps);
        }
        assert!(gaps.len() > 256);
        let mut out = Vec::new();
        encode(&gaps, &mut out);
        let freqs: Vec<u32> = docs.iter().map(|d| d.len() as u32).collect();
        let mut decoded = Vec::new();
        decode(&out, &freqs, &mut decoded).unwrap();
        assert_eq!(decoded, docs.concat());
        for len in 0..out.len() {
            assert!(decode(&out[..len], &freqs, &mut Vec::new()).is_err());
        }
        for at in 0..out.len() {
            let mut bad = out.clone();
            bad[at] ^= 0x81;
            let _ = decode(&bad, &freqs, &mut Vec::new());
        }
        assert!(decode(&out, &[u32::MAX, u32::MAX], &mut Vec::new()).is_err());
        let mut long = out.clone();
        long.push(0);
        assert!(decode(&long, &freqs, &mut Vec::new()).is_err());
    }
}
