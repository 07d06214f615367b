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

/// Decodes the positions of some postings only, each given as (how many positions of
/// the term come before its own, its frequency), ascending, and appends each one's in
/// turn. The gaps of the postings between are skipped by counting the bytes that end a
/// variable-byte integer, eight bytes at a time, never decoded: a phrase's conjunction
/// leaves a few documents of a frequent word's postings, whose positions would cost far
/// more to decode whole.
pub fn decode_at(data: &[u8], picks: &[(u64, u32)], out: &mut Vec<u32>) -> Decoded<()> {
    let (mut at, mut read) = (0usize, 0u64);
    for &(before, tf) in picks {
        let between = before.checked_sub(read).ok_or_else(|| Corrupt::new("postings picked out of order"))?;
        at = skip_vints(data, at, between)?;
        let mut cursor = Cursor::new(data.get(at..).unwrap_or_default());
        let mut position = 0u32;
        for _ in 0..tf {
            position = position.checked_add(cursor.vu32()?).ok_or_else(|| Corrupt::new("position overflows"))?;
            out.push(position);
        }
        at += cursor.position();
        read = before + u64::from(tf);
    }
    Ok(())
}

/// The offset past `count` variable-byte integers from `at` in `data`.
fn skip_vints(data: &[u8], mut at: usize, mut count: u64) -> Decoded<usize> {
    // At least 32 integers to pass: every byte ending one in the next 32 bytes is passed
    // (four words a step: a frequent word's stream runs to a megabyte).
    const ENDS: u64 = 0x8080_8080_8080_8080;
    while count >= 32 {
        let Some(chunk) = data.get(at..at + 32) else { break };
        let ended: u32 = chunk
            .chunks_exact(8)
            .map(|word| (!u64::from_le_bytes(word.try_into().unwrap_or([0xff; 8])) & ENDS).count_ones())
            .sum();
        count -= u64::from(ended);
        at += 32;
    }
    // At least 8 integers to pass: every byte ending one in the next 8 bytes is passed.
    while count >= 8 {
        let Some(chunk) = data.get(at..at + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) else { break };
        count -= u64::from((!u64::from_le_bytes(chunk) & ENDS).count_ones());
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
        // Positions before each posting's, in the stream.
        let before: Vec<u64> = freqs.iter().scan(0u64, |sum, &f| Some(std::mem::replace(sum, *sum + u64::from(f)))).collect();
        for step in [1usize, 2, 7, 50, 299] {
            let picks: Vec<(u64, u32)> = (0..docs.len()).step_by(step).map(|p| (before[p], freqs[p])).collect();
            let mut decoded = Vec::new();
            decode_at(&out, &picks, &mut decoded).unwrap();
            let expected: Vec<u32> = (0..docs.len()).step_by(step).flat_map(|p| docs[p].clone()).collect();
            assert_eq!(decoded, expected, "step {step}");
        }
        assert!(decode_at(&out[..out.len() - 1], &[(before[299], freqs[299])], &mut Vec::new()).is_err());
        assert!(decode_at(&out, &[(before[5], freqs[5]), (before[3], freqs[3])], &mut Vec::new()).is_err());
        assert!(decode_at(&out, &[(u64::MAX - 3, 2)], &mut Vec::new()).is_err());
    }
}
