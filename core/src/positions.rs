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

/// Decodes the positions of some postings only: `picks` are their indexes into `freqs`
/// (ascending), and each one's positions are appended to `out` in turn. The gaps of the
/// postings between are skipped by counting the bytes that end a variable-byte integer,
/// eight bytes at a time, never decoded: a phrase's conjunction leaves a few documents
/// of a frequent word's postings, whose positions would cost far more to decode whole.
pub fn decode_picked(data: &[u8], freqs: &[u32], picks: &[usize], out: &mut Vec<u32>) -> Decoded<()> {
    let total: u64 = freqs.iter().map(|&f| u64::from(f)).sum();
    if total > data.len() as u64 {
        return Err(Corrupt::new(format!("{total} positions cannot fit {} bytes", data.len())));
    }
    let (mut at, mut next) = (0usize, 0usize);
    for &pick in picks {
        let between = freqs.get(next..pick).ok_or_else(|| Corrupt::new("postings picked out of order"))?;
        at = skip_vints(data, at, between.iter().map(|&f| u64::from(f)).sum())?;
        let tf = freqs.get(pick).copied().unwrap_or(0);
        let mut cursor = Cursor::new(data.get(at..).unwrap_or_default());
        let mut position = 0u32;
        for _ in 0..tf {
            position = position.checked_add(cursor.vu32()?).ok_or_else(|| Corrupt::new("position overflows"))?;
            out.push(position);
        }
        at += cursor.position();
        next = pick + 1;
    }
    Ok(())
}

/// The offset past `count` variable-byte integers from `at` in `data`.
fn skip_vints(data: &[u8], mut at: usize, mut count: u64) -> Decoded<usize> {
    // At least 8 integers to pass: every byte ending one in the next 8 bytes is passed.
    while count >= 8 {
        let Some(chunk) = data.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) else { break };
        count -= u64::from((!u64::from_le_bytes(chunk) & 0x8080_8080_8080_8080).count_ones());
        at += 8;
    }
    while count > 0 {
        let byte = *data.get(at).ok_or_else(|| Corrupt::new("positions end early"))?;
        at += 1;
        count -= u64::from(byte < 0x80);
    }
    Ok(at)
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
    #[test]
    fn picked_postings_decode_as_the_whole_stream_does() {
        let docs: Vec<Vec<u32>> = (0..300u32).map(|d| (0..(1 + d % 9)).map(|i| d * 40 + i * (d % 300 + 1)).collect()).collect();
        let mut gaps = Vec::new();
        for doc in &docs {
            gaps_of_doc(doc, &mut gaps);
        }
        let mut out = Vec::new();
        encode(&gaps, &mut out);
        let freqs: Vec<u32> = docs.iter().map(|d| d.len() as u32).collect();
        for step in [1usize, 2, 7, 50, 299] {
            let picks: Vec<usize> = (0..docs.len()).step_by(step).collect();
            let mut decoded = Vec::new();
            decode_picked(&out, &freqs, &picks, &mut decoded).unwrap();
            let expected: Vec<u32> = picks.iter().flat_map(|&p| docs[p].clone()).collect();
            assert_eq!(decoded, expected, "step {step}");
        }
        assert!(decode_picked(&out[..out.len() - 1], &freqs, &[299], &mut Vec::new()).is_err());
        assert!(decode_picked(&out, &freqs, &[5, 3], &mut Vec::new()).is_err());
    }
}
