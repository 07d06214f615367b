//! Postings: a term's doc ids and term frequencies, block-compressed.
//!
//! ```text
//! skip table   per full block of 128: last doc u32 | end of the block's bytes u32 |
//!              max tf u32 | min field length u32                      (16 bytes each)
//! blocks       per full block: doc width u8 | tf width u8 |
//!              128 doc gaps packed | 128 (tf - 1) packed
//! tail         per remaining posting: vint(gap << 1 | tf == 1), then vint(tf) if tf != 1
//! ```
//!
//! A gap is `doc - (previous doc + 1)` (the first doc itself), so doc ids are strictly
//! ascending by construction. The postings' count is the term's doc_freq, kept in the term
//! dictionary with the byte length. The skip table lets a query jump to the block holding
//! a doc id, and its block maxima bound any BM25 variant over the block: BM25 grows with tf
//! and falls with field length, so a score computed from (max tf, min length) is at least
//! every score in the block. Terms in fewer than 128 documents (most terms) carry no table.

// Decoders read untrusted bytes: every access is checked (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::bitpack::{self, BLOCK};
use crate::cursor::{put_vint, Cursor};
use crate::error::{Corrupt, Decoded};

/// Bytes of one skip entry.
pub const SKIP_ENTRY: usize = 16;

/// One full block's skip entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skip {
    pub last_doc: u32,
    /// Where the block's bytes end, counted from the first block's start.
    pub end: u32,
    pub max_tf: u32,
    /// The smallest field length among the block's documents (0 for fields without norms).
    pub min_norm: u32,
}

/// Appends the postings `docs` (strictly ascending) with `freqs` (each at least 1).
/// `norms` are the field's lengths by doc id, for the block maxima (None: no norms).
#[allow(clippy::indexing_slicing)] // an encoder indexes its own arrays, of lengths it set
pub fn encode(docs: &[u32], freqs: &[u32], norms: Option<&[u32]>, out: &mut Vec<u8>) {
    debug_assert_eq!(docs.len(), freqs.len());
    let full = docs.len() / BLOCK;
    let table_at = out.len();
    out.resize(table_at + full * SKIP_ENTRY, 0);
    let blocks_at = out.len();
    let mut base = 0u32; // previous doc + 1
    let mut gaps = [0u32; BLOCK];
    let mut tfs = [0u32; BLOCK];
    for block in 0..full {
        let range = block * BLOCK..(block + 1) * BLOCK;
        let (block_docs, block_freqs) = (&docs[range.clone()], &freqs[range]);
        let mut max_gap = 0;
        let mut max_tf = 0;
        let mut min_norm = u32::MAX;
        for (i, (&doc, &tf)) in block_docs.iter().zip(block_freqs).enumerate() {
            gaps[i] = doc - base;
            base = doc + 1;
            tfs[i] = tf - 1;
            max_gap = max_gap.max(gaps[i]);
            max_tf = max_tf.max(tf);
            let norm = norms.and_then(|n| n.get(doc as usize)).copied().unwrap_or(0);
            min_norm = min_norm.min(norm);
        }
        let (doc_width, tf_width) = (bitpack::width(max_gap), bitpack::width(max_tf - 1));
        out.push(doc_width);
        out.push(tf_width);
        bitpack::pack(&gaps, doc_width, out);
        bitpack::pack(&tfs, tf_width, out);
        let skip = Skip {
            last_doc: block_docs[BLOCK - 1],
            end: (out.len() - blocks_at) as u32,
            max_tf,
            min_norm,
        };
        let entry = &mut out[table_at + block * SKIP_ENTRY..table_at + (block + 1) * SKIP_ENTRY];
        entry[0..4].copy_from_slice(&skip.last_doc.to_le_bytes());
        entry[4..8].copy_from_slice(&skip.end.to_le_bytes());
        entry[8..12].copy_from_slice(&skip.max_tf.to_le_bytes());
        entry[12..16].copy_from_slice(&skip.min_norm.to_le_bytes());
    }
    for (&doc, &tf) in docs[full * BLOCK..].iter().zip(&freqs[full * BLOCK..]) {
        let gap = u64::from(doc - base);
        base = doc + 1;
        if tf == 1 {
            put_vint(out, gap << 1 | 1);
        } else {
            put_vint(out, gap << 1);
            put_vint(out, u64::from(tf));
        }
    }
}

/// The skip entries of a term's postings (empty for fewer than 128 postings).
pub fn skips(data: &[u8], count: u32) -> Decoded<Vec<Skip>> {
    let full = count as usize / BLOCK;
    let mut cursor = Cursor::new(data);
    let mut skips = Vec::with_capacity(full.min(data.len() / SKIP_ENTRY));
    for _ in 0..full {
        skips.push(Skip { last_doc: cursor.u32()?, end: cursor.u32()?, max_tf: cursor.u32()?, min_norm: cursor.u32()? });
    }
    Ok(skips)
}

/// Decodes `count` postings, appending to `docs` and `freqs`; every doc id is checked to be
/// below `doc_count` and every skip entry against its block.
pub fn decode(data: &[u8], count: u32, doc_count: u32, docs: &mut Vec<u32>, freqs: &mut Vec<u32>) -> Decoded<()> {
    if count > doc_count {
        return Err(Corrupt::new(format!("{count} postings in a segment of {doc_count} documents")));
    }
    let count = count as usize;
    let full = count / BLOCK;
    let skips = skips(data, count as u32)?;
    let blocks = data.get(full * SKIP_ENTRY..).ok_or_else(|| Corrupt::new("postings are truncated"))?;
    let mut cursor = Cursor::new(blocks);
    docs.reserve(count);
    freqs.reserve(count);
    let mut base = 0u64;
    let mut tfs = Vec::with_capacity(BLOCK);
    for skip in &skips {
        let doc_width = cursor.u8()?;
        let tf_width = cursor.u8()?;
        let rest = blocks.get(cursor.position()..).unwrap_or_default();
        let used = bitpack::unpack_ids(rest, doc_width, base, docs)?;
        cursor.take(used)?;
        // Ids only grow (a gap is at least 0), so the last is the largest: one check for
        // the block.
        let last = u64::from(docs.last().copied().unwrap_or(0));
        if last >= u64::from(doc_count) {
            return Err(Corrupt::new(format!("doc id {last} out of range")));
        }
        base = last + 1;
        tfs.clear();
        let rest = blocks.get(cursor.position()..).unwrap_or_default();
        let used = bitpack::unpack_block(rest, tf_width, &mut tfs)?;
        cursor.take(used)?;
        // A block stores tf - 1; only a 32-bit width can hold u32::MAX, whose tf overflows.
        if tf_width == 32 && tfs.contains(&u32::MAX) {
            return Err(Corrupt::new("term frequency overflows"));
        }
        freqs.extend(tfs.iter().map(|&tf| tf.wrapping_add(1)));
        if docs.last().copied() != Some(skip.last_doc) || cursor.position() != skip.end as usize {
            return Err(Corrupt::new("a skip entry disagrees with its block"));
        }
    }
    for _ in full * BLOCK..count {
        let value = cursor.vint()?;
        let tf = if value & 1 == 1 { 1 } else { cursor.vu32()? };
        let id = base.checked_add(value >> 1).ok_or_else(|| Corrupt::new("doc gap overflows"))?;
        if id >= u64::from(doc_count) || tf == 0 {
            return Err(Corrupt::new(format!("posting (doc {id}, tf {tf}) out of range")));
        }
        docs.push(id as u32);
        freqs.push(tf);
        base = id + 1;
    }
    if !cursor.is_empty() {
        return Err(Corrupt::new("postings have trailing bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(count: usize, seed: u32) -> (Vec<u32>, Vec<u32>) {
        let mut docs = Vec::new();
        let mut freqs = Vec::new();
        let mut doc = seed % 3;
        for i in 0..count as u32 {
            docs.push(doc);
            freqs.push(1 + (i.wrapping_mul(2654435761) >> 28) * (i % 3));
            doc += 1 + (i.wrapping_mul(40503) >> 13) % 50;
        }
        (docs, freqs)
    }

    #[test]
    fn postings_round_trip_with_block_maxima() {
        for count in [0, 1, 2, 127, 128, 129, 256, 1000] {
            let (docs, freqs) = sample(count, count as u32);
            let norms: Vec<u32> = (0..100_000).map(|d| 5 + d % 17).collect();
            let mut out = Vec::new();
            encode(&docs, &freqs, Some(&norms), &mut out);
            let (mut d, mut f) = (Vec::new(), Vec::new());
            decode(&out, count as u32, 100_000, &mut d, &mut f).unwrap();
            assert_eq!((d, f), (docs.clone(), freqs.clone()));
            let skips = skips(&out, count as u32).unwrap();
            assert_eq!(skips.len(), count / BLOCK);
            for (b, skip) in skips.iter().enumerate() {
                let range = b * BLOCK..(b + 1) * BLOCK;
                assert_eq!(skip.last_doc, docs[range.end - 1]);
                assert_eq!(skip.max_tf, *freqs[range.clone()].iter().max().unwrap());
                assert_eq!(skip.min_norm, docs[range].iter().map(|&d| norms[d as usize]).min().unwrap());
            }
        }
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let (docs, freqs) = sample(300, 1);
        let mut out = Vec::new();
        encode(&docs, &freqs, None, &mut out);
        let last = *docs.last().unwrap();
        for at in 0..out.len() {
            for flip in [1u8, 0x80, 0xff] {
                let mut bad = out.clone();
                bad[at] ^= flip;
                let (mut d, mut f) = (Vec::new(), Vec::new());
                let _ = decode(&bad, 300, last + 1, &mut d, &mut f);
            }
        }
        for len in 0..out.len() {
            let (mut d, mut f) = (Vec::new(), Vec::new());
            assert!(decode(&out[..len], 300, last + 1, &mut d, &mut f).is_err());
        }
        assert!(decode(&out, 300, last, &mut Vec::new(), &mut Vec::new()).is_err());
        assert!(decode(&out, u32::MAX, u32::MAX - 1, &mut Vec::new(), &mut Vec::new()).is_err());
    }
}
